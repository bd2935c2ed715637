//! [`HevcInspector`]: entry points and skippable packets of a HEVC track.

use stillframe_core::{Packet, PacketInspector, PacketKind, Result, TrackInfo};

use super::hvcc::parse_codec_config;
use super::nal::{NalHeader, NAL_SPS};
use super::sps::parse_sps;
use crate::framing::split_nal_units;

/// NAL length size assumed when there is no `hvcC` to state it.
const DEFAULT_NAL_LENGTH_SIZE: u8 = 4;

/// What one packet's NAL unit headers say about its picture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PictureKind {
    /// It holds at least one base-layer coded slice segment.
    pub has_picture: bool,
    /// Its base-layer slices are IRAP slices (BLA, IDR or CRA).
    pub irap: bool,
    /// Its base-layer slices are IDR slices.
    pub idr: bool,
    /// Its base-layer slices are BLA slices: its RASL pictures are never decodable.
    pub bla: bool,
    /// Its base-layer slices are RASL slices.
    pub rasl: bool,
    /// Its base-layer slices are RADL slices.
    pub radl: bool,
    /// Every base-layer slice is of a sub-layer non-reference type.
    pub sub_layer_non_reference: bool,
    /// The highest `TemporalId` among its base-layer slices.
    pub temporal_id: u8,
}

/// Classifies the NAL units of one access unit (header bytes included) by their
/// headers alone. Units of layers other than the base layer (SHVC, MV-HEVC, Dolby
/// Vision enhancement layers) are ignored.
pub fn classify_access_unit<'a>(units: impl IntoIterator<Item = &'a [u8]>) -> PictureKind {
    let mut kind = PictureKind {
        sub_layer_non_reference: true,
        ..PictureKind::default()
    };
    for header in units.into_iter().filter_map(NalHeader::parse) {
        if !header.is_vcl() || header.layer_id != 0 {
            continue;
        }
        kind.has_picture = true;
        kind.irap |= header.is_irap();
        kind.idr |= header.is_idr();
        kind.bla |= header.is_bla();
        kind.rasl |= header.is_rasl();
        kind.radl |= header.is_radl();
        kind.sub_layer_non_reference &= header.is_sub_layer_non_reference();
        kind.temporal_id = kind.temporal_id.max(header.temporal_id);
    }
    kind.sub_layer_non_reference &= kind.has_picture;
    kind
}

/// Reads HEVC packets as the track stores them: length-prefixed with the `hvcC`'s
/// length size, or Annex B.
///
/// A packet is a random access point when it holds a base-layer IRAP picture (BLA,
/// IDR, CRA; a CRA's RASL pictures are then not decodable, which the decoder
/// handles). It is discardable when its picture is a sub-layer non-reference
/// picture (`TRAIL_N`, `TSA_N`, `STSA_N`, `RADL_N`, `RASL_N`, reserved `*_N`) in the
/// highest temporal sub-layer, as ffmpeg decides: pictures of higher sub-layers may
/// refer to a sub-layer non-reference picture, so below the top one it is kept.
/// The top sub-layer is `sps_max_sub_layers_minus1` of the `hvcC`'s SPS (the
/// largest, if it has several), else its `numTemporalLayers`; without either,
/// nothing is discardable.
#[derive(Debug, Clone)]
pub struct HevcInspector {
    nal_length_size: u8,
    /// `TemporalId` of the highest sub-layer, if known.
    highest_temporal_id: Option<u8>,
}

impl HevcInspector {
    /// An inspector for `track`; fails with [`stillframe_core::Error::Malformed`]
    /// for a broken `hvcC`. Without one, lengths are taken as 4 bytes. An SPS in the
    /// `hvcC` that cannot be read is ignored here (the decoder reports it).
    pub fn new(track: &TrackInfo) -> Result<HevcInspector> {
        let Some(config) = parse_codec_config(&track.codec_config)? else {
            return Ok(HevcInspector {
                nal_length_size: DEFAULT_NAL_LENGTH_SIZE,
                highest_temporal_id: None,
            });
        };
        let from_sps = config
            .units_of_type(NAL_SPS)
            .filter_map(|unit| parse_sps(unit).ok())
            .map(|sps| sps.max_sub_layers - 1)
            .max();
        let from_record = config.num_temporal_layers.checked_sub(1);
        Ok(HevcInspector {
            nal_length_size: config.nal_length_size,
            highest_temporal_id: from_sps.or(from_record),
        })
    }

    /// The classification of one packet's bytes; a packet whose framing cannot be
    /// read has no picture.
    pub fn classify(&self, data: &[u8]) -> PictureKind {
        match split_nal_units(data, self.nal_length_size) {
            Ok(units) => classify_access_unit(units),
            Err(_) => PictureKind::default(),
        }
    }
}

impl PacketInspector for HevcInspector {
    fn inspect(&self, packet: &Packet) -> PacketKind {
        let kind = self.classify(&packet.data);
        PacketKind {
            random_access: kind.has_picture && kind.irap,
            discardable: kind.sub_layer_non_reference
                && self.highest_temporal_id == Some(kind.temporal_id),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;
    use stillframe_core::{Codec, TrackKind};

    fn track(codec_config: Vec<u8>) -> TrackInfo {
        TrackInfo {
            index: 0,
            id: 1,
            kind: TrackKind::Video,
            codec: Codec::Hevc,
            timescale: NonZeroU32::new(90_000).unwrap(),
            duration: None,
            codec_config,
            extra_configs: Vec::new(),
            video: None,
        }
    }

    /// An hvcC with no arrays, `numTemporalLayers` and a length size of 4.
    fn record(temporal_layers: u8) -> Vec<u8> {
        let mut record = vec![1, 1, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93, 0xf0, 0, 0xfc];
        record.extend([0xfd, 0xf8, 0xf8, 0, 0, (temporal_layers << 3) | 3, 0]);
        record
    }

    /// A packet of length-prefixed units, each a two-byte header and one byte.
    fn packet(units: &[(u8, u8, u8)]) -> Packet {
        let mut data = Vec::new();
        for &(nal_type, layer_id, temporal_id) in units {
            data.extend([0, 0, 0, 3]);
            data.extend([
                (nal_type << 1) | (layer_id >> 5),
                ((layer_id & 0x1f) << 3) | (temporal_id + 1),
                0x80,
            ]);
        }
        Packet {
            data,
            sample: 0,
            pts: 0,
            dts: 0,
            sync: false,
            description: 0,
        }
    }

    fn kind(inspector: &HevcInspector, units: &[(u8, u8, u8)]) -> (bool, bool) {
        let kind = inspector.inspect(&packet(units));
        (kind.random_access, kind.discardable)
    }

    #[test]
    fn irap_pictures_are_entry_points() {
        let inspector = HevcInspector::new(&track(record(1))).unwrap();
        for nal_type in 16..=21 {
            assert_eq!(
                kind(&inspector, &[(33, 0, 0), (nal_type, 0, 0)]),
                (true, false)
            );
        }
        assert_eq!(kind(&inspector, &[(1, 0, 0)]), (false, false));
        // An enhancement-layer IRAP over a base-layer trailing picture, and
        // parameter sets alone, are not.
        assert_eq!(kind(&inspector, &[(1, 0, 0), (19, 1, 0)]), (false, false));
        assert_eq!(kind(&inspector, &[(32, 0, 0), (33, 0, 0)]), (false, false));
        // Unreadable framing.
        let broken = Packet {
            data: vec![0, 0, 0, 9, 0x26],
            ..packet(&[])
        };
        assert_eq!(inspector.inspect(&broken), PacketKind::default());
    }

    #[test]
    fn one_sub_layer_every_n_picture_is_discardable() {
        let inspector = HevcInspector::new(&track(record(1))).unwrap();
        for nal_type in [0, 2, 4, 6, 8, 10, 12, 14] {
            assert_eq!(kind(&inspector, &[(nal_type, 0, 0)]), (false, true));
        }
        for nal_type in [1, 3, 5, 7, 9] {
            assert_eq!(kind(&inspector, &[(nal_type, 0, 0)]), (false, false));
        }
    }

    #[test]
    fn with_sub_layers_only_the_top_one_is_discardable() {
        let inspector = HevcInspector::new(&track(record(3))).unwrap();
        assert_eq!(kind(&inspector, &[(0, 0, 0)]), (false, false));
        assert_eq!(kind(&inspector, &[(2, 0, 1)]), (false, false));
        assert_eq!(kind(&inspector, &[(2, 0, 2)]), (false, true));
        // Two slices, one of them a reference type.
        assert_eq!(kind(&inspector, &[(0, 0, 2), (1, 0, 2)]), (false, false));
    }

    #[test]
    fn without_a_record_nothing_is_discardable() {
        let inspector = HevcInspector::new(&track(Vec::new())).unwrap();
        assert_eq!(kind(&inspector, &[(0, 0, 0)]), (false, false));
        assert_eq!(kind(&inspector, &[(19, 0, 0)]), (true, false));
        assert!(HevcInspector::new(&track(vec![1, 2, 3])).is_err());
    }
}
