//! VP9 decoding for stillframe on [rusty_vp9](https://crates.io/crates/rusty_vp9),
//! a pure-Rust VP9 decoder (no C, no system library).
//!
//! [`Vp9Decoder`] implements [`stillframe_core::VideoDecoder`] for one track of
//! VP9 in MP4 (`vp09`, configuration in `vpcC`), Matroska/WebM (`V_VP9`) or IVF.
//! The VP9 syntax it reads itself — superframes, frame headers, `vpcC` and the
//! Matroska `CodecPrivate` — lives in [`stillframe_bitstream::vp9`] (re-exported
//! here), shared with demuxers and the packet inspector
//! ([`Vp9Inspector`]: random access points are chunks that start with a key frame
//! and show a frame; no VP9 chunk is reported discardable, see
//! [`Superframe::refreshes_no_slot`]).
//!
//! # How rusty_vp9 is driven
//! Every frame header is read and checked first (reference slots, sizes against
//! [`stillframe_core::Limits`], decoder memory by [`estimated_decoder_bytes`]);
//! then the whole chunk is pushed and rusty_vp9 asked for one frame per frame of
//! the chunk, each call inside `catch_unwind`. rusty_vp9 is bit-exact with libvpx
//! and ffmpeg on every fixture and corpus file tried (see the crate's tests), and
//! runs at about half of ffmpeg's single-thread speed.
//!
//! # Build profile: add this to your workspace's `Cargo.toml`
//! rusty_vp9 unoptimised decodes a few frames per second; with overflow checks on
//! (stillframe's release profile), it also spends time on checks its own builds do
//! not have:
//! ```toml
//! [profile.dev.package.rusty_vp9]
//! opt-level = 3
//! debug-assertions = false
//! overflow-checks = false
//! [profile.release.package.rusty_vp9]
//! overflow-checks = false
//! ```
//!
//! # Known limits
//! - At most one frame per packet: the last shown frame of a superframe, as libvpx
//!   outputs it. Superframes with several shown frames (spatial layers) show only
//!   the top one; ffmpeg would output each.
//! - 4:4:0 (profiles 1 and 3) has no [`stillframe_core::ChromaFormat`]: such
//!   streams are [`stillframe_core::Error::Unsupported`], as are frames above 2²⁶
//!   samples (rusty_vp9's own bound).
//! - rusty_vp9 reads the environment variables `VP9_DPROF` (a profile printed to
//!   stderr when a decoder is dropped) and `VP9_NO_PLANE_POOL`.

#![forbid(unsafe_code)]

mod backend;
mod decoder;
mod memory;
mod references;

pub use decoder::{inspect, Vp9Decoder};
pub use memory::estimated_decoder_bytes;
// The VP9 syntax lives in `stillframe-bitstream`, shared with demuxers.
pub use stillframe_bitstream::vp9::{
    coded_format, parse_codec_private, parse_vpcc, split_superframe, CodedFrame, ColorConfig,
    ColorSpace, FrameHeader, FrameSize, FrameType, ShowExistingFrame, Superframe, Vp9Config,
    Vp9Inspector, NUM_REF_FRAMES, REFS_PER_FRAME,
};
