//! The one place that maps a track's codec to a decoder implementation.

use std::sync::atomic::{AtomicUsize, Ordering};

use stillframe_core::{
    Codec, CodedFormat, Error, Frame, Limits, Packet, PacketInspector, Result, TrackInfo,
    VideoDecoder,
};

/// A decoder for `track`, or [`Error::Unsupported`] naming why not.
pub(crate) fn create_decoder(track: &TrackInfo, limits: &Limits) -> Result<Box<dyn VideoDecoder>> {
    let decoder: Box<dyn VideoDecoder> = match &track.codec {
        Codec::H264 => Box::new(stillframe_h264::H264Decoder::new(track, limits)?),
        // One frame of delay, so the frame of each packet comes out right after it.
        Codec::Av1 => Box::new(stillframe_av1::Av1Decoder::new(track, limits)?),
        #[cfg(feature = "hevc")]
        Codec::Hevc => Box::new(stillframe_hevc::HevcDecoder::new(track, limits)?),
        #[cfg(feature = "vp9")]
        Codec::Vp9 => Box::new(stillframe_vp9::Vp9Decoder::new(track, limits)?),
        other => return Err(Error::unsupported(format!("{} video", other.name()))),
    };
    Ok(Box::new(Counted::new(decoder)))
}

/// The packet inspector for `track`: where decoding may start, what may be skipped.
pub(crate) fn create_inspector(track: &TrackInfo) -> Result<Box<dyn PacketInspector>> {
    stillframe_bitstream::inspector_for(track)
}

/// What the codec configuration of `track` says, without decoding anything; where
/// the configuration holds no parameter sets, what `first` (its first packet) says.
pub(crate) fn inspect(
    track: &TrackInfo,
    limits: &Limits,
    first: Option<&Packet>,
) -> Result<CodedFormat> {
    match (&track.codec, first) {
        (Codec::H264, Some(first)) => {
            stillframe_h264::inspect_with_sample(track, &first.data, limits)
        }
        (Codec::H264, None) => stillframe_h264::inspect(track, limits),
        (Codec::Av1, _) => stillframe_av1::inspect(track, limits),
        #[cfg(feature = "hevc")]
        (Codec::Hevc, _) => stillframe_hevc::inspect(track, limits),
        #[cfg(feature = "vp9")]
        (Codec::Vp9, _) => stillframe_vp9::inspect(track, limits),
        (other, _) => Err(Error::unsupported(format!("{} video", other.name()))),
    }
}

/// Why `track` cannot be decoded here, if it cannot: its codec, or a profile or
/// feature the decoder refuses (`stillframe probe` says so per track).
pub(crate) fn unsupported(track: &TrackInfo, first: Option<&Packet>) -> Option<Error> {
    let checked = match &track.codec {
        Codec::H264 => stillframe_h264::check_track(track, first.map(|p| p.data.as_slice())),
        Codec::Av1 => Ok(()),
        // These adapters refuse an unsupported profile when they are made (from
        // the track's configuration alone, before any packet).
        #[cfg(feature = "hevc")]
        Codec::Hevc => stillframe_hevc::HevcDecoder::new(track, &Limits::default()).map(drop),
        #[cfg(feature = "vp9")]
        Codec::Vp9 => stillframe_vp9::Vp9Decoder::new(track, &Limits::default()).map(drop),
        other => Err(Error::unsupported(format!("{} video", other.name()))),
    };
    checked
        .err()
        .filter(|error| error.kind() == stillframe_core::ErrorKind::Unsupported)
}

static LIVE_DECODERS: AtomicUsize = AtomicUsize::new(0);

/// Decoders alive in this process: made by generators (one per generator, one per
/// batch worker) and not dropped yet.
///
/// Every decoder is dropped once the generators, batches, futures and streams that
/// use it are gone and their work has ended, so after those, this returns to what
/// it was before them; the concurrency tests check that no decoder leaks.
///
/// ```
/// assert_eq!(stillframe::live_decoders(), 0);
/// ```
pub fn live_decoders() -> usize {
    LIVE_DECODERS.load(Ordering::Acquire)
}

/// A decoder counted in [`live_decoders`] for as long as it lives.
struct Counted(Box<dyn VideoDecoder>);

impl Counted {
    fn new(decoder: Box<dyn VideoDecoder>) -> Counted {
        LIVE_DECODERS.fetch_add(1, Ordering::AcqRel);
        Counted(decoder)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        LIVE_DECODERS.fetch_sub(1, Ordering::AcqRel);
    }
}

impl VideoDecoder for Counted {
    fn format(&self) -> &CodedFormat {
        self.0.format()
    }

    fn send_packet(&mut self, packet: &Packet) -> Result<()> {
        self.0.send_packet(packet)
    }

    fn receive_frame(&mut self) -> Result<Option<Frame>> {
        self.0.receive_frame()
    }

    fn finish(&mut self) -> Result<()> {
        self.0.finish()
    }

    fn reset(&mut self) -> Result<()> {
        self.0.reset()
    }
}
