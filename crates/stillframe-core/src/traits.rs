//! The two seams of the stack: containers give samples, codecs turn them into frames.

use crate::{CodedFormat, ContainerKind, Frame, Packet, Result, SampleInfo, Time, TrackInfo};

/// A container reader: tracks, a per-track sample index, and sample bytes on demand.
///
/// # Call protocol
/// 1. The implementation is opened by its own constructor, which reads the headers
///    and builds each track's index (a file with nothing usable fails there).
/// 2. [`Demuxer::tracks`] and [`Demuxer::samples`] are then cheap lookups; a lazily
///    indexed track grows through [`Demuxer::index_until`].
/// 3. [`Demuxer::read_sample`] may be called for any sample, in any order, any
///    number of times. An error there (a sample cut off by truncation, an I/O
///    failure) concerns that sample only; later calls may succeed.
pub trait Demuxer: Send {
    /// The container format.
    fn container(&self) -> ContainerKind;

    /// The presentation duration of the whole file, if known.
    fn duration(&self) -> Option<Time>;

    /// Every track, in file order; `TrackInfo::index` is the position here.
    fn tracks(&self) -> &[TrackInfo];

    /// The sample index of track `track` in decode order, as far as it is built.
    ///
    /// Fails only for a track index out of range.
    fn samples(&self, track: usize) -> Result<&[SampleInfo]>;

    /// Extends the index of `track` so a request at `until` can be planned: the frame on
    /// screen at `until`, every sample from the random access point before it, and the
    /// first random access point after it when there is one. A container with a seek
    /// index (Matroska Cues) may read only that stretch, not everything before it, so a
    /// caller planning several times calls this for each. Pass
    /// [`Time::POSITIVE_INFINITY`] to index the whole track. Returns `true` once the
    /// whole track is indexed.
    ///
    /// Samples are appended in stretches that each begin at a random access point and
    /// run without gaps in decode order; indices already handed out never change.
    ///
    /// Demuxers that index everything when opened (MP4) keep this default. Those that
    /// index lazily (Matroska without Cues) read only as far as asked, keep what they
    /// read for later calls, and may grow the slice [`Demuxer::samples`] returns;
    /// samples already indexed never change.
    fn index_until(&mut self, track: usize, until: Time) -> Result<bool> {
        let _ = (track, until);
        Ok(true)
    }

    /// Reads the bytes of sample `sample` (decode-order index) of track `track`.
    fn read_sample(&mut self, track: usize, sample: u32) -> Result<Packet>;
}

/// A video decoder for one track.
///
/// # Call protocol
/// - The implementation is created from the track's [`crate::TrackInfo`]; creating it
///   validates the codec configuration and rejects unsupported streams with
///   [`crate::Error::Unsupported`] before any packet is sent.
/// - Packets go in decode order through [`VideoDecoder::send_packet`], starting at a
///   packet for which [`VideoDecoder::is_random_access_point`] is true. After each send,
///   call [`VideoDecoder::receive_frame`] until it returns `None`.
/// - Frames come out in presentation order, each carrying the `pts` of the packet
///   that produced it.
/// - [`VideoDecoder::finish`] says no more packets follow; the frames still held come
///   out of `receive_frame` afterwards.
/// - [`VideoDecoder::reset`] forgets every packet sent; the next one must again be a
///   random access point. After any error, `reset` before sending more.
pub trait VideoDecoder: Send {
    /// What the codec configuration says about the pictures.
    fn format(&self) -> &CodedFormat;

    /// True if decoding may start at this packet (an IDR picture for H.264).
    fn is_random_access_point(&self, packet: &Packet) -> bool;

    /// True if no other frame refers to this one, so it may be skipped when it is not
    /// wanted itself. Answering `false` is always safe.
    fn is_discardable(&self, packet: &Packet) -> bool {
        let _ = packet;
        false
    }

    /// Decodes one packet.
    fn send_packet(&mut self, packet: &Packet) -> Result<()>;

    /// The next frame in presentation order, if one is ready.
    fn receive_frame(&mut self) -> Result<Option<Frame>>;

    /// Signals the end of input so held frames come out.
    fn finish(&mut self) -> Result<()>;

    /// Forgets all input; the next packet must be a random access point.
    fn reset(&mut self) -> Result<()>;
}
