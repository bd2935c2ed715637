//! H.264 decoding for stillframe on [OpenH264](https://github.com/cisco/openh264)
//! (through the `openh264` crate, built from its bundled C++ source).
//!
//! [`H264Decoder`] implements [`stillframe_core::VideoDecoder`] for one track. It
//! reads the `avcC` record ([`parse_avcc`]) and the sequence parameter sets with
//! its own parser ([`parse_sps`]), so that it can describe the pictures
//! ([`stillframe_core::CodedFormat`]) and refuse what OpenH264 cannot decode before
//! any decoding. Samples may hold length-prefixed NAL units (MP4, Matroska) or an
//! Annex B byte stream ([`split_nal_units`]); OpenH264 is fed Annex B.
//!
//! # Known limits
//! - **Only 8-bit 4:2:0 (and monochrome) progressive pictures.** High 10 and other
//!   bit depths above 8, 4:2:2 (High 4:2:2), 4:4:4 (High 4:4:4 Predictive, CAVLC
//!   4:4:4), interlaced coding (`frame_mbs_only_flag` 0: field pictures or MBAFF),
//!   lossless macroblocks, data partitioning, and monochrome with frame cropping
//!   give [`stillframe_core::Error::Unsupported`] naming the feature, from
//!   [`H264Decoder::new`] when the `avcC` holds the SPS, otherwise from the
//!   [`stillframe_core::VideoDecoder::send_packet`] that brings the SPS in-band.
//! - **Not bit-exact with B-frames.** Streams without B-frames decode bit-exactly
//!   (the same pictures as ffmpeg) as a rule. On High-profile streams with
//!   B-frames, OpenH264's output drifts slightly from the reference decoder
//!   (upstream [cisco/openh264#3269](https://github.com/cisco/openh264/issues/3269)):
//!   usually above 50 dB luma PSNR, but one x264 clip with weighted B-prediction
//!   went down to 40 dB. P-only streams that use long-term references with
//!   reference list modification drift too (27 dB on one phone clip).
//! - **No error concealment.** A lost reference or a corrupt slice is an
//!   [`stillframe_core::Error::Codec`] naming OpenH264's decoding state; OpenH264
//!   is also stricter than ffmpeg about some syntax (intra prediction modes that
//!   need unavailable neighbours, QP out of range), so a few streams ffmpeg
//!   decodes fail here.
//! - **Base layer only.** SVC and MVC extension units (NAL types 14, 15, 20, 21)
//!   are dropped before OpenH264 sees them, as ffmpeg ignores them: OpenH264
//!   fails on some SVC prefix units.
//! - **Decoding starts at an IDR.** OpenH264 outputs nothing for a stream
//!   started at a non-IDR I picture (an open-GOP recovery point), so only IDR
//!   access units are random access points.
//! - OpenH264's own multithreading deadlocks and is never enabled; run several
//!   decoders on several threads instead ([`H264Decoder`] is `Send`).
//!
//! # How OpenH264 is driven
//! OpenH264 outputs in presentation order, holding pictures back when B-frames
//! reorder them. Its safe API loses timestamps and its automatic flushing
//! mis-orders frames, so this crate uses the raw API: each access unit goes to
//! `DecodeFrameNoDelay` with a token as its timestamp, the token of each picture
//! that comes out is mapped back to its packet's `pts`, and
//! [`stillframe_core::VideoDecoder::finish`] flushes the pictures still held.

#![warn(missing_docs)]

mod avcc;
mod bitreader;
mod decoder;
mod nal;
mod sps;

pub use avcc::{parse_avcc, AvcConfig};
pub use decoder::{inspect, H264Decoder};
pub use nal::{
    is_vcl, nal_ref_idc, nal_type, split_annex_b, split_nal_units, write_annex_b, NAL_IDR,
    NAL_PARTITION_A, NAL_PPS, NAL_SLICE, NAL_SPS,
};
pub use sps::{parse_sps, PicOrderCnt, Sps, Vui};
