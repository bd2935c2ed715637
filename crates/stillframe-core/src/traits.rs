//! The two seams of the stack: containers give samples, codecs turn them into frames.

use crate::{
    CodedFormat, ContainerKind, Frame, FrameRate, Packet, Result, SampleInfo, Time, TrackInfo,
};

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

    /// Whether the samples of `track` indexed so far are all the track's samples up
    /// to the last of them, so a frame's place among them is its frame number. A
    /// container that reads only the stretches requests need (Matroska Cues) says
    /// `false` while a stretch before one it read is unread.
    fn indexed_without_gaps(&self, track: usize) -> bool {
        let _ = track;
        true
    }

    /// Reads the bytes of sample `sample` (decode-order index) of track `track`.
    fn read_sample(&mut self, track: usize, sample: u32) -> Result<Packet>;

    /// The nominal frame rate of `track` where the file states one by which its
    /// timestamps were made (raw streams, whose timestamps are frame numbers at a
    /// rate); `None` where timestamps are stored per sample.
    fn frame_rate(&self, track: usize) -> Option<FrameRate> {
        let _ = track;
        None
    }
}

/// What one packet's bitstream says, for planning: read by a
/// [`PacketInspector`] from a single parse of the packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PacketKind {
    /// Decoding may start at this packet (an H.264 IDR or recovery point, an HEVC
    /// IRAP picture, a VP9 or AV1 shown key frame with its sequence header).
    pub random_access: bool,
    /// No other frame refers to this one, so it may be skipped when it is not
    /// wanted itself. `false` is always safe.
    pub discardable: bool,
}

/// Reads what a track's packets are — entry points, frames nothing refers to —
/// without decoding them.
///
/// One inspector serves a track for its whole life and may be shared across
/// threads; it is made from the track's [`crate::TrackInfo`] by the codec's
/// syntax crate, independently of any decoder, so planning needs no decoder.
pub trait PacketInspector: Send + Sync {
    /// Classifies `packet` from one parse of its bytes. A packet the inspector
    /// cannot read is neither an entry point nor discardable.
    fn inspect(&self, packet: &Packet) -> PacketKind;
}

/// A video decoder for one track.
///
/// # Call protocol
/// - The implementation is created from the track's [`crate::TrackInfo`]; creating it
///   validates the codec configuration and rejects unsupported streams with
///   [`crate::Error::Unsupported`], and sizes above [`crate::Limits`] with
///   [`crate::Error::Limit`], before any packet is sent. Every parameter set that
///   arrives in-band is checked the same way before the codec sees it.
/// - Packets go in decode order through [`VideoDecoder::send_packet`], starting at a
///   packet its track's [`PacketInspector`] calls a random access point. After each
///   send, call [`VideoDecoder::receive_frame`] until it returns `None`.
/// - A frame comes out once its picture is final, each carrying the `pts` of the
///   packet that produced it. The order is the implementation's: callers match
///   frames to what they asked for by `pts`, never by position. A picture the
///   decoder knows to be wrong — a leading picture that refers to pictures before
///   the entry point, a picture whose slices failed or whose references were lost
///   — either never comes out or comes out with [`Frame::damage`] set.
/// - [`VideoDecoder::finish`] says no more packets follow; the frames still held come
///   out of `receive_frame` afterwards.
/// - [`VideoDecoder::reset`] forgets every packet sent; the next one must again be a
///   random access point. After any error, `reset` before sending more.
/// - Implementations never panic and never abort on bad input: a codec library
///   that panics is caught at the adapter and reported as [`crate::Error::Codec`].
pub trait VideoDecoder: Send {
    /// What the codec configuration says about the pictures.
    fn format(&self) -> &CodedFormat;

    /// Decodes one packet.
    fn send_packet(&mut self, packet: &Packet) -> Result<()>;

    /// The next finished frame, if one is ready.
    fn receive_frame(&mut self) -> Result<Option<Frame>>;

    /// Signals the end of input so held frames come out.
    fn finish(&mut self) -> Result<()>;

    /// Forgets all input; the next packet must be a random access point.
    fn reset(&mut self) -> Result<()>;
}
