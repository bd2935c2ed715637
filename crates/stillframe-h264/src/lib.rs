//! H.264 decoding for stillframe: [`H264Decoder`] implements
//! [`stillframe_core::VideoDecoder`] for one track, over one of two libraries.
//!
//! # Backends (Cargo features)
//! - **`rust_h264`** (default): [rust_h264](https://crates.io/crates/rust_h264),
//!   pure Rust with no dependencies — no C, no C++, so the whole binary can be
//!   linked statically (musl) or built for `wasm32-wasip1`. Bit-exact with ffmpeg
//!   on the 75 ITU-T conformance vectors we have and on every file it decodes:
//!   Baseline, Main, High, High 10, High 4:2:2 (8/10-bit), monochrome, field
//!   pictures and MBAFF, every level. It refuses 4:4:4 and lossless coding.
//! - **`openh264`**: Cisco's OpenH264 from its bundled C++ source, as stillframe
//!   used before: 8-bit 4:2:0 progressive only, not bit-exact with B-frames, and it
//!   links libstdc++. When enabled, it is used whatever else is.
//!
//! The adapter around either ([`H264Decoder`]) reads the `avcC` record and the
//! parameter sets itself ([`stillframe_bitstream::h264`]), checks every SPS against
//! [`stillframe_core::Limits`] before the library sees it ([`decoder_bytes`]),
//! carries each packet's `pts` through the library by token, drops the leading
//! pictures of an open-GOP entry, reports damaged pictures instead of returning
//! them as right, and turns a panic in the library into an error.
//!
//! # Known limits (rust_h264)
//! - An error inside a slice that is not the first of its picture is concealed by
//!   the library and cannot be seen from outside: such a picture comes out
//!   undamaged. Errors in a picture's first slice, lost references (`frame_num`
//!   gaps) and pictures that follow either before the next IDR are reported.
//! - Single-threaded: about 0.37× ffmpeg's speed at 1080p on one core. Run
//!   several decoders on several threads for throughput ([`H264Decoder`] is `Send`).

#![warn(missing_docs)]
#![cfg_attr(not(feature = "openh264"), forbid(unsafe_code))]

#[cfg(not(any(feature = "rust_h264", feature = "openh264")))]
compile_error!("stillframe-h264: enable a backend feature, `rust_h264` (default) or `openh264`.");

mod backend;
mod budget;
mod decoder;

pub use budget::decoder_bytes;

/// The library decoding the pictures in this build: `"rust_h264"` or `"OpenH264"`.
pub const BACKEND: &str = <backend::Selected as backend::Backend>::NAME;
pub use decoder::{check_supported, check_track, inspect, inspect_with_sample, H264Decoder};
// The H.264 syntax lives in `stillframe-bitstream`, shared with the raw-stream demuxer.
pub use stillframe_bitstream::framing::{split_annex_b, split_nal_units, write_annex_b};
pub use stillframe_bitstream::h264::{
    is_vcl, nal_ref_idc, nal_type, parse_avcc, parse_sps, AvcConfig, H264Inspector, PicOrderCnt,
    Sps, Vui, NAL_IDR, NAL_PARTITION_A, NAL_PPS, NAL_SLICE, NAL_SPS,
};
