//! AV1 decoding for stillframe on [rav1d](https://github.com/memorysafety/rav1d),
//! the Rust port of dav1d (default), or on the system's libdav1d.
//!
//! [`Av1Decoder`] implements [`stillframe_core::VideoDecoder`] for one track of AV1
//! in MP4 (`av01`, configuration in `av1C`) or Matroska/WebM (`V_AV1`,
//! `CodecPrivate`). Samples are temporal units of OBUs in the low-overhead format
//! ([`split_obus`]). The crate reads the `av1C` ([`parse_av1c`]), sequence
//! headers ([`SequenceHeader`]) and the start of frame headers
//! ([`TemporalUnit`]) itself, to describe the pictures ([`inspect`]), check
//! [`stillframe_core::Limits`] before decoding, and find random access points
//! (shown key frames) and discardable temporal units.
//!
//! # Backends (Cargo features)
//! Exactly one is compiled; nothing above this crate can tell which.
//! - **`rav1d`** (default): pure Rust from crates.io, no system library; static
//!   builds (`-C target-feature=+crt-static`) need no shared library at all.
//! - **`asm`**: rav1d with its hand-written x86-64/AArch64 assembly, **6–10×
//!   faster** (about 0.95× libdav1d). It needs the [`nasm`](https://nasm.us)
//!   assembler when building (`apt-get install nasm`, `brew install nasm`), then
//!   `cargo build --features asm` (`stillframe` and `stillframe-cli` pass the
//!   feature through). A build without it prints a `cargo:warning`.
//! - **`dav1d`**: the system libdav1d (≥ 1.0, < 1.3, found with pkg-config;
//!   Debian 12 ships 1.0) through `dav1d-sys` 0.7 — the raw layer of the `dav1d`
//!   crate 0.9, driven by the same wrapper as rav1d. Build with
//!   `--no-default-features --features dav1d`. It cannot be combined with
//!   `rav1d`: rav1d exports dav1d's C symbols, and libdav1d's calls would bind to
//!   them silently, so enabling both is a compile error.
//!
//! # Debug builds: add this to your workspace's `Cargo.toml`
//! rav1d unoptimised is unusable: its debug assertions turn on runtime borrow
//! tracking, and one 720p key frame takes close to a minute. Optimise it even in
//! debug and test builds (the `test` profile inherits `dev`'s overrides):
//! ```toml
//! [profile.dev.package.rav1d]
//! opt-level = 3
//! debug-assertions = false
//! overflow-checks = false
//! ```
//!
//! # How the decoder is driven
//! dav1d's C API, through one safe wrapper for both backends: input is copied
//! into a dav1d buffer stamped with the packet's `pts`, which dav1d carries to the
//! picture it shows; a send answered with `EAGAIN` leaves the data with us, and it
//! is sent again after the ready pictures are taken; after any other failure the
//! data is still ours and is released; each picture is unref'd exactly once, after
//! its planes are copied into a [`stillframe_core::Frame`]. Settings follow
//! ffmpeg's libdav1d wrapper defaults (operating point 0, highest spatial layer
//! only, film grain applied), with one frame of delay for seeking and the thread
//! count from [`Av1Options`].
//!
//! # Known limits
//! - **Random access points are shown key frames only.** A hidden ("forward")
//!   key frame and the `show_existing_frame` unit that later shows it are not
//!   entry points on their own: the first may be followed by frames that refer to
//!   older ones, the second needs the first. Decoding such streams starts at the
//!   previous shown key frame.
//! - **rav1d always runs frame-threaded** (at least two threads and two frame
//!   contexts): with a single frame context, rav1d 1.1 aborts the process on a
//!   frame whose tile data fails to decode (its error path unwraps a header it
//!   has already released, inside an `extern "C"` function). With one frame of
//!   delay asked for, the decoder drains after every packet, so frames still
//!   come out right after their packet. libdav1d does not need this.
//! - **A decoder that reported a failure is replaced on reset, not flushed.**
//!   After a frame fails, a flushed frame-threaded context can later wait forever
//!   for a frame that never finishes (rav1d 1.1 and libdav1d alike), so
//!   [`VideoDecoder::reset`](stillframe_core::VideoDecoder::reset) closes it
//!   and opens a fresh one (0.7 ms here), on broken streams only.
//! - Large-scale tile decoding (tile list OBUs) is not supported by the decoders'
//!   frame API; such streams fail with a typed error.

#[cfg(all(feature = "rav1d", feature = "dav1d"))]
compile_error!(
    "stillframe-av1: the `rav1d` and `dav1d` features exclude each other (rav1d exports \
     dav1d's C symbols, so libdav1d would silently never be called). For libdav1d use \
     `--no-default-features --features dav1d`."
);
#[cfg(not(any(feature = "rav1d", feature = "dav1d")))]
compile_error!("stillframe-av1: enable one backend feature, `rav1d` (default) or `dav1d`.");

mod backend;
mod decoder;

pub use decoder::{inspect, Av1Decoder, Av1Options};
// The AV1 syntax lives in `stillframe-bitstream`, shared with the raw-stream demuxer.
pub use stillframe_bitstream::av1::{
    parse_av1c, split_obus, write_obu, Av1Config, Av1Inspector, FrameHeader, FrameType, Obu,
    OperatingPoint, SequenceHeader, TemporalUnit, OBU_FRAME, OBU_FRAME_HEADER, OBU_METADATA,
    OBU_PADDING, OBU_REDUNDANT_FRAME_HEADER, OBU_SEQUENCE_HEADER, OBU_TEMPORAL_DELIMITER,
    OBU_TILE_GROUP, OBU_TILE_LIST, SELECT,
};
