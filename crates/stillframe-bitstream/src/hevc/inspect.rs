//! [`HevcInspector`]: entry points and skippable packets of a HEVC track.

use stillframe_core::{Packet, PacketInspector, PacketKind, Result, TrackInfo};

/// Reads what a HEVC track's packets are (work in progress: answers "neither").
#[derive(Debug, Clone)]
pub struct HevcInspector {}

impl HevcInspector {
    /// An inspector for `track`.
    pub fn new(track: &TrackInfo) -> Result<HevcInspector> {
        let _ = track;
        Ok(HevcInspector {})
    }
}

impl PacketInspector for HevcInspector {
    fn inspect(&self, packet: &Packet) -> PacketKind {
        let _ = packet;
        PacketKind::default()
    }
}
