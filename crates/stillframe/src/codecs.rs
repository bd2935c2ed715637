//! The one place that maps a track's codec to a decoder implementation.

use stillframe_core::{Codec, CodedFormat, Error, Limits, Result, TrackInfo, VideoDecoder};

/// A decoder for `track`, or [`Error::Unsupported`] naming why not.
pub(crate) fn create_decoder(track: &TrackInfo, limits: &Limits) -> Result<Box<dyn VideoDecoder>> {
    match &track.codec {
        Codec::H264 => Ok(Box::new(stillframe_h264::H264Decoder::new(track, limits)?)),
        // One frame of delay, so the frame of each packet comes out right after it.
        Codec::Av1 => Ok(Box::new(stillframe_av1::Av1Decoder::new(track, limits)?)),
        Codec::Other(name) => Err(Error::unsupported(format!("{name} video"))),
    }
}

/// What the codec configuration of `track` says, without decoding anything.
pub(crate) fn inspect(track: &TrackInfo, limits: &Limits) -> Result<CodedFormat> {
    match &track.codec {
        Codec::H264 => stillframe_h264::inspect(track, limits),
        Codec::Av1 => stillframe_av1::inspect(track, limits),
        Codec::Other(name) => Err(Error::unsupported(format!("{name} video"))),
    }
}
