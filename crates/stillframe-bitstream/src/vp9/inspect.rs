//! [`Vp9Inspector`]: entry points and skippable packets of a VP9 track.

use stillframe_core::{Packet, PacketInspector, PacketKind, Result, TrackInfo};

/// Reads what a VP9 track's packets are (work in progress: answers "neither").
#[derive(Debug, Clone)]
pub struct Vp9Inspector {}

impl Vp9Inspector {
    /// An inspector for `track`.
    pub fn new(track: &TrackInfo) -> Result<Vp9Inspector> {
        let _ = track;
        Ok(Vp9Inspector {})
    }
}

impl PacketInspector for Vp9Inspector {
    fn inspect(&self, packet: &Packet) -> PacketKind {
        let _ = packet;
        PacketKind::default()
    }
}
