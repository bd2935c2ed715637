//! VP9 syntax (VP9 Bitstream & Decoding Process Specification v0.6): superframes
//! (Annex B), the start of the uncompressed frame header (§ 6.2), the MP4 `vpcC`
//! record and Matroska's `CodecPrivate` features, and packet inspection.
//!
//! A container sample (or IVF frame) of VP9 is a *chunk*: one frame, or a
//! superframe of several (typically a hidden alt-ref frame and a shown frame) with
//! an index at its end. [`split_superframe`] finds the frames, [`FrameHeader::parse`]
//! reads each one's header, and [`Superframe`] does both for a whole chunk.

mod config;
mod header;
mod inspect;
mod superframe;

pub use config::{parse_codec_private, parse_vpcc, Vp9Config};
pub use header::{
    coded_format, CodedFrame, ColorConfig, ColorSpace, FrameHeader, FrameSize, FrameType,
    ShowExistingFrame, NUM_REF_FRAMES, REFS_PER_FRAME,
};
pub use inspect::{Superframe, Vp9Inspector};
pub use superframe::split_superframe;
