//! [`Av1Inspector`]: entry points and skippable temporal units of an AV1 track.

use stillframe_core::{Packet, PacketInspector, PacketKind, Result, TrackInfo};

use super::{parse_av1c, SequenceHeader, TemporalUnit};

/// Reads AV1 temporal units with the track's `av1C` sequence header, or the one a
/// unit carries itself.
///
/// A unit is a random access point when its first frame is a shown key frame
/// ([`TemporalUnit::is_random_access_point`]), and discardable when none of its
/// frames refreshes a reference slot ([`TemporalUnit::is_discardable`]).
#[derive(Debug, Clone)]
pub struct Av1Inspector {
    sequence: Option<SequenceHeader>,
}

impl Av1Inspector {
    /// An inspector for `track`; fails with [`stillframe_core::Error::Malformed`]
    /// for a broken `av1C`. An empty configuration is allowed: units then need
    /// their own sequence header to be read.
    pub fn new(track: &TrackInfo) -> Result<Av1Inspector> {
        let sequence = if track.codec_config.is_empty() {
            None
        } else {
            parse_av1c(&track.codec_config)?.sequence_header()?
        };
        Ok(Av1Inspector { sequence })
    }
}

impl PacketInspector for Av1Inspector {
    fn inspect(&self, packet: &Packet) -> PacketKind {
        match TemporalUnit::parse(&packet.data, self.sequence.as_ref()) {
            Ok(unit) => PacketKind {
                random_access: unit.is_random_access_point(),
                discardable: unit.is_discardable(),
            },
            Err(_) => PacketKind::default(),
        }
    }
}
