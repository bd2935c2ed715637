//! HEVC / H.265 decoding for stillframe on
//! [rusty_h265](https://crates.io/crates/rusty_h265), a pure-Rust decoder (no C, no
//! threads of its own).
//!
//! [`HevcDecoder`] implements [`stillframe_core::VideoDecoder`] for one HEVC track:
//! MP4 `hvc1`/`hev1` (and Dolby Vision `dvh1`/`dvhe`, whose base layer it decodes)
//! with the `hvcC` record, or Matroska `V_MPEGH/ISO/HEVC` with it in
//! `CodecPrivate`. [`inspect`] describes a track from its record without decoding.
//! The HEVC syntax (NAL headers, `hvcC`, parameter sets, slice headers, packet
//! inspection) lives in [`stillframe_bitstream::hevc`], shared with the raw-stream
//! demuxer and the planner.
//!
//! # Scope
//! rusty_h265 decodes the Main, Main 10 and Main Still Picture profiles — 4:2:0, 8
//! and 10 bit, every version 1 tool, up to level 6.2 — and is gated by its authors
//! on the JCT-VC conformance suite. Everything else (4:2:2, 4:4:4, monochrome,
//! 12 bit, the range extensions, screen content and multi-layer tools) is refused
//! with [`stillframe_core::Error::Unsupported`] naming the feature, before the
//! library sees it.
//!
//! # Debug builds: add this to your workspace's `Cargo.toml`
//! Unoptimised, rusty_h265 decodes a 320x240 picture in tens of milliseconds and a
//! 1080p one in seconds. Optimise it even in debug and test builds (the `test`
//! profile inherits `dev`'s overrides):
//! ```toml
//! [profile.dev.package.rusty_h265]
//! opt-level = 3
//! [profile.dev.package.rusty_h265-accel]
//! opt-level = 3
//! ```

#![forbid(unsafe_code)]

mod budget;
mod convert;
mod decoder;
mod support;

pub use budget::decoder_bytes;
pub use decoder::{inspect, HevcDecoder};
