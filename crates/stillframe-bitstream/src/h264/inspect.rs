//! [`H264Inspector`]: entry points and skippable access units of an H.264 track.

use stillframe_core::bits::{unescape_rbsp, BitReader};
use stillframe_core::{Packet, PacketInspector, PacketKind, Result, TrackInfo};

use super::nal::{is_vcl, nal_ref_idc, nal_type, NAL_IDR, NAL_SEI};
use super::parse_avcc;
use super::sei::{recovery_point, RecoveryPoint};
use crate::framing::split_nal_units;

/// NAL length size assumed when there is no `avcC` to state it.
const DEFAULT_NAL_LENGTH_SIZE: u8 = 4;

/// What one access unit's NAL units say about its picture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessUnitKind {
    /// It holds at least one coded slice.
    pub has_picture: bool,
    /// Its slices are IDR slices: decoding starts afresh here.
    pub idr: bool,
    /// Every slice is an I or SI slice.
    pub intra: bool,
    /// Some slice has a non-zero `nal_ref_idc`: other pictures may refer to it.
    pub reference: bool,
    /// The recovery point SEI it carries, if any.
    pub recovery: Option<RecoveryPoint>,
}

impl AccessUnitKind {
    /// Decoding may start here: an IDR, or an intra picture (an open-GOP entry,
    /// with or without a recovery point SEI). Leading pictures that follow an
    /// open-GOP entry and precede it in output order are not decodable from it;
    /// the decoder adapter drops them.
    pub fn is_random_access(&self) -> bool {
        self.has_picture && (self.idr || self.intra)
    }

    /// What ffmpeg calls a key frame in a raw stream: an IDR, or a picture with a
    /// recovery point SEI whose output is exact at once.
    pub fn is_key(&self) -> bool {
        self.has_picture
            && (self.idr
                || self
                    .recovery
                    .is_some_and(|point| point.recovery_frame_cnt == 0))
    }
}

/// Classifies the NAL units of one access unit (header bytes included).
pub fn classify_access_unit<'a>(units: impl IntoIterator<Item = &'a [u8]>) -> AccessUnitKind {
    let mut kind = AccessUnitKind {
        intra: true,
        ..AccessUnitKind::default()
    };
    for unit in units {
        if is_vcl(unit) {
            kind.has_picture = true;
            kind.idr |= nal_type(unit) == Some(NAL_IDR);
            kind.reference |= nal_ref_idc(unit).is_some_and(|idc| idc != 0);
            kind.intra &= is_intra_slice(unit);
        } else if nal_type(unit) == Some(NAL_SEI) && kind.recovery.is_none() {
            kind.recovery = recovery_point(unit);
        }
    }
    kind.intra &= kind.has_picture;
    kind
}

/// True for an I or SI slice (`slice_type` 2, 4, 7 or 9, § 7.4.3).
fn is_intra_slice(unit: &[u8]) -> bool {
    // first_mb_in_slice and slice_type sit in the first bytes; a few suffice.
    let head = unescape_rbsp(unit.get(1..unit.len().min(16)).unwrap_or_default());
    let mut r = BitReader::new(&head);
    let slice_type = r.ue().and_then(|_| r.ue());
    matches!(slice_type.map(|t| t % 5), Ok(2 | 4))
}

/// Reads H.264 access units as the track stores them: length-prefixed with the
/// `avcC`'s length size, or Annex B.
#[derive(Debug, Clone)]
pub struct H264Inspector {
    nal_length_size: u8,
}

impl H264Inspector {
    /// An inspector for `track`; fails with [`stillframe_core::Error::Malformed`]
    /// for a broken `avcC`. Without one, lengths are taken as 4 bytes.
    pub fn new(track: &TrackInfo) -> Result<H264Inspector> {
        let nal_length_size = if track.codec_config.is_empty() {
            DEFAULT_NAL_LENGTH_SIZE
        } else {
            parse_avcc(&track.codec_config)?.nal_length_size
        };
        Ok(H264Inspector { nal_length_size })
    }

    /// The same classification for one packet's bytes.
    pub fn classify(&self, data: &[u8]) -> AccessUnitKind {
        match split_nal_units(data, self.nal_length_size) {
            Ok(units) => classify_access_unit(units),
            Err(_) => AccessUnitKind::default(),
        }
    }
}

impl PacketInspector for H264Inspector {
    fn inspect(&self, packet: &Packet) -> PacketKind {
        let kind = self.classify(&packet.data);
        PacketKind {
            random_access: kind.is_random_access(),
            discardable: kind.has_picture && !kind.reference,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slice headers: first_mb 0 (1), slice_type as ue, then padding bits.
    const IDR_I: [u8; 3] = [0x65, 0b1000_1000, 0x80]; // slice_type 7 (ue 0001000)
    const P_REF: [u8; 3] = [0x41, 0b1001_1000, 0x80]; // slice_type 5 (ue 00110)
    const B_NONREF: [u8; 2] = [0x01, 0b1010_0000]; // slice_type 1 (ue 010)
    const I_NONIDR: [u8; 2] = [0x21, 0b1011_1000]; // slice_type 2 (ue 011)

    #[test]
    fn entry_points_and_reference_flags() {
        let idr = classify_access_unit([&IDR_I[..]]);
        assert!(idr.idr && idr.is_random_access() && idr.is_key() && idr.reference);
        let b = classify_access_unit([&B_NONREF[..]]);
        assert!(!b.is_random_access() && !b.reference && b.has_picture);
        let i = classify_access_unit([&I_NONIDR[..]]);
        assert!(i.intra && i.is_random_access() && !i.is_key());
        let p = classify_access_unit([&P_REF[..]]);
        assert!(!p.intra && p.reference);
        // A recovery point SEI makes an intra picture a key frame.
        let sei = [0x06, 0x06, 0x01, 0b1100_0100, 0x80];
        let open = classify_access_unit([&sei[..], &I_NONIDR[..]]);
        assert!(open.is_key() && open.is_random_access());
        // No slice, no picture.
        assert!(!classify_access_unit([&sei[..]]).is_random_access());
    }
}
