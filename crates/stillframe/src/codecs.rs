//! The one place that maps a track's codec to a decoder implementation.

use stillframe_core::{Codec, CodedFormat, Error, Limits, Result, TrackInfo, VideoDecoder};

/// A decoder for `track`, or [`Error::Unsupported`] naming why not.
pub(crate) fn create_decoder(track: &TrackInfo, limits: &Limits) -> Result<Box<dyn VideoDecoder>> {
    match &track.codec {
        Codec::H264 => Ok(Box::new(stillframe_h264::H264Decoder::new(track, limits)?)),
        Codec::Av1 => Err(Error::unsupported("AV1 video (not yet supported)")),
        Codec::Other(name) => Err(Error::unsupported(format!("{name} video"))),
    }
}

/// What the codec configuration of `track` says, without decoding anything.
pub(crate) fn inspect(track: &TrackInfo, limits: &Limits) -> Result<CodedFormat> {
    match &track.codec {
        Codec::H264 => stillframe_h264::inspect(track, limits),
        Codec::Av1 => Err(Error::unsupported("AV1 video (not yet supported)")),
        Codec::Other(name) => Err(Error::unsupported(format!("{name} video"))),
    }
}
