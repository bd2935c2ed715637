//! Codec syntax for stillframe: what the bitstream of each codec says about its
//! pictures, read without decoding them.
//!
//! - [`framing`]: NAL units in a sample (length-prefixed or Annex B), for H.264 and HEVC;
//! - [`h264`]: NAL headers, `avcC`, parameter sets, slice headers, SEI recovery points;
//! - [`hevc`]: NAL headers, `hvcC`, parameter sets, slice segment headers;
//! - [`vp9`]: superframes, uncompressed frame headers, `vpcC`;
//! - [`av1`]: OBUs, `av1C`, sequence headers and the start of frame headers.
//!
//! Codec adapters use it to describe a stream and check it against
//! [`stillframe_core::Limits`] before a decoder sees it; demuxers of raw elementary
//! streams use it to find access units and timing; the generator uses the
//! [`PacketInspector`]s it makes ([`inspector_for`]) to find where decoding may start
//! and which frames nothing refers to. Nothing here decodes a picture or depends on
//! a codec library.

#![forbid(unsafe_code)]

pub mod av1;
pub mod framing;
pub mod h264;
pub mod hevc;
pub mod vp9;

use stillframe_core::{Codec, Error, PacketInspector, Result, TrackInfo};

/// The packet inspector for `track`'s codec.
///
/// Fails with [`Error::Unsupported`] for a codec without one and with
/// [`Error::Malformed`] when the track's configuration record cannot be read.
pub fn inspector_for(track: &TrackInfo) -> Result<Box<dyn PacketInspector>> {
    match &track.codec {
        Codec::H264 => Ok(Box::new(h264::H264Inspector::new(track)?)),
        Codec::Hevc => Ok(Box::new(hevc::HevcInspector::new(track)?)),
        Codec::Vp9 => Ok(Box::new(vp9::Vp9Inspector::new(track)?)),
        Codec::Av1 => Ok(Box::new(av1::Av1Inspector::new(track)?)),
        other => Err(Error::unsupported(format!("{} video", other.name()))),
    }
}
