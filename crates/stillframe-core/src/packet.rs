//! Samples as a container indexes them, and as a decoder receives them.

use std::fmt;

/// One sample of a track's index, in decode order.
///
/// Timestamps are in the track's timescale, on the presentation timeline: edit
/// lists are already applied, so `pts` is where the frame shows in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleInfo {
    /// Byte offset of the sample in the file.
    pub offset: u64,
    /// Size in bytes.
    pub size: u32,
    /// Decode timestamp.
    pub dts: i64,
    /// Presentation timestamp.
    pub pts: i64,
    /// How long it shows, in ticks.
    pub duration: u32,
    /// The container marks it as a sync sample (a place decoding may start).
    pub sync: bool,
    /// False when an edit list hides it: it is decoded as a reference but never shown.
    pub presented: bool,
    /// Which sample description (MP4 `stsd` entry, from 0) describes it; see
    /// [`crate::TrackInfo::config`]. 0 wherever a track has one description.
    pub description: u16,
}

/// A compressed sample with its bytes, ready for a decoder.
#[derive(Clone, PartialEq, Eq)]
pub struct Packet {
    /// The sample's bytes, as stored (length-prefixed NAL units for H.264 in MP4).
    pub data: Vec<u8>,
    /// Index of the sample in decode order within its track.
    pub sample: u32,
    /// Presentation timestamp, in the track's timescale.
    pub pts: i64,
    /// Decode timestamp, in the track's timescale.
    pub dts: i64,
    /// The container marks it as a sync sample.
    pub sync: bool,
    /// Which sample description (MP4 `stsd` entry, from 0) describes it; see
    /// [`crate::TrackInfo::config`]. Always 0 where a track has one description.
    pub description: u16,
}

impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Packet")
            .field("bytes", &self.data.len())
            .field("sample", &self.sample)
            .field("pts", &self.pts)
            .field("dts", &self.dts)
            .field("sync", &self.sync)
            .field("description", &self.description)
            .finish()
    }
}
