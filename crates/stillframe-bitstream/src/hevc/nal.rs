//! HEVC NAL unit headers (H.265 § 7.3.1.2, § 7.4.2.2) and the unit types of Table 7-1.

/// `nal_unit_type` of a trailing picture that no picture of its sub-layer refers to.
pub const NAL_TRAIL_N: u8 = 0;
/// `nal_unit_type` of a trailing picture.
pub const NAL_TRAIL_R: u8 = 1;
/// `nal_unit_type` of a temporal sub-layer access picture, sub-layer non-reference.
pub const NAL_TSA_N: u8 = 2;
/// `nal_unit_type` of a random access decodable leading picture, sub-layer non-reference.
pub const NAL_RADL_N: u8 = 6;
/// `nal_unit_type` of a random access decodable leading picture.
pub const NAL_RADL_R: u8 = 7;
/// `nal_unit_type` of a random access skipped leading picture, sub-layer non-reference.
pub const NAL_RASL_N: u8 = 8;
/// `nal_unit_type` of a random access skipped leading picture.
pub const NAL_RASL_R: u8 = 9;
/// `nal_unit_type` of a broken link access picture that may have leading pictures.
pub const NAL_BLA_W_LP: u8 = 16;
/// `nal_unit_type` of a broken link access picture with RADL leading pictures only.
pub const NAL_BLA_W_RADL: u8 = 17;
/// `nal_unit_type` of a broken link access picture without leading pictures.
pub const NAL_BLA_N_LP: u8 = 18;
/// `nal_unit_type` of an IDR picture that may have RADL leading pictures.
pub const NAL_IDR_W_RADL: u8 = 19;
/// `nal_unit_type` of an IDR picture without leading pictures.
pub const NAL_IDR_N_LP: u8 = 20;
/// `nal_unit_type` of a clean random access picture (an open-GOP entry point).
pub const NAL_CRA: u8 = 21;
/// `nal_unit_type` of a video parameter set.
pub const NAL_VPS: u8 = 32;
/// `nal_unit_type` of a sequence parameter set.
pub const NAL_SPS: u8 = 33;
/// `nal_unit_type` of a picture parameter set.
pub const NAL_PPS: u8 = 34;
/// `nal_unit_type` of an access unit delimiter.
pub const NAL_AUD: u8 = 35;
/// `nal_unit_type` of an end of sequence unit: the next picture starts afresh.
pub const NAL_EOS: u8 = 36;
/// `nal_unit_type` of an end of bitstream unit.
pub const NAL_EOB: u8 = 37;
/// `nal_unit_type` of filler data.
pub const NAL_FD: u8 = 38;
/// `nal_unit_type` of a prefix SEI message.
pub const NAL_PREFIX_SEI: u8 = 39;
/// `nal_unit_type` of a suffix SEI message.
pub const NAL_SUFFIX_SEI: u8 = 40;

/// The two-byte NAL unit header (H.265 § 7.3.1.2).
///
/// ```
/// use stillframe_bitstream::hevc::{NalHeader, NAL_CRA};
///
/// let header = NalHeader::parse(&[0x2a, 0x01, 0xaf]).unwrap();
/// assert_eq!((header.nal_type, header.layer_id, header.temporal_id), (NAL_CRA, 0, 0));
/// assert!(header.is_irap() && !header.is_idr());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NalHeader {
    /// `nal_unit_type`, 0 to 63.
    pub nal_type: u8,
    /// `nuh_layer_id`: 0 for the base layer, above for SHVC/MV-HEVC layers.
    pub layer_id: u8,
    /// `TemporalId` (`nuh_temporal_id_plus1 − 1`), 0 to 6.
    pub temporal_id: u8,
}

impl NalHeader {
    /// Reads the header from the first two bytes of a NAL unit; `None` when there
    /// are fewer, `forbidden_zero_bit` is set, or `nuh_temporal_id_plus1` is 0
    /// (which § 7.4.2.2 forbids).
    pub fn parse(nal: &[u8]) -> Option<NalHeader> {
        let (&first, &second) = (nal.first()?, nal.get(1)?);
        if first & 0x80 != 0 || second & 0x07 == 0 {
            return None;
        }
        Some(NalHeader {
            nal_type: (first >> 1) & 0x3f,
            layer_id: ((first & 1) << 5) | (second >> 3),
            temporal_id: (second & 0x07) - 1,
        })
    }

    /// A coded slice segment: types 0 to 31 (reserved ones included).
    pub const fn is_vcl(&self) -> bool {
        self.nal_type < 32
    }

    /// An intra random access point picture: BLA, IDR, CRA and the reserved
    /// IRAP types 22 and 23 (§ 3.73).
    pub const fn is_irap(&self) -> bool {
        matches!(self.nal_type, 16..=23)
    }

    /// An IDR picture: decoding starts afresh and no leading picture is skipped.
    pub const fn is_idr(&self) -> bool {
        matches!(self.nal_type, NAL_IDR_W_RADL | NAL_IDR_N_LP)
    }

    /// A broken link access picture.
    pub const fn is_bla(&self) -> bool {
        matches!(self.nal_type, NAL_BLA_W_LP..=NAL_BLA_N_LP)
    }

    /// A clean random access picture.
    pub const fn is_cra(&self) -> bool {
        self.nal_type == NAL_CRA
    }

    /// A random access skipped leading picture: it refers to pictures before its
    /// IRAP, so it cannot be decoded when decoding starts at that IRAP.
    pub const fn is_rasl(&self) -> bool {
        matches!(self.nal_type, NAL_RASL_N | NAL_RASL_R)
    }

    /// A random access decodable leading picture.
    pub const fn is_radl(&self) -> bool {
        matches!(self.nal_type, NAL_RADL_N | NAL_RADL_R)
    }

    /// A sub-layer non-reference picture (§ 3.132): an even VCL type up to 14.
    /// No picture of the same sub-layer refers to it, though pictures of higher
    /// sub-layers may.
    pub const fn is_sub_layer_non_reference(&self) -> bool {
        self.nal_type <= 14 && self.nal_type.is_multiple_of(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(nal_type: u8, layer_id: u8, temporal_id: u8) -> [u8; 2] {
        [
            (nal_type << 1) | (layer_id >> 5),
            ((layer_id & 0x1f) << 3) | (temporal_id + 1),
        ]
    }

    #[test]
    fn header_fields_round_trip() {
        for (nal_type, layer_id, temporal_id) in [(0, 0, 0), (21, 0, 0), (1, 63, 6), (40, 1, 3)] {
            let parsed = NalHeader::parse(&header(nal_type, layer_id, temporal_id));
            assert_eq!(
                parsed,
                Some(NalHeader {
                    nal_type,
                    layer_id,
                    temporal_id
                })
            );
        }
    }

    #[test]
    fn invalid_headers() {
        assert_eq!(NalHeader::parse(&[]), None);
        assert_eq!(NalHeader::parse(&[0x40]), None);
        // forbidden_zero_bit, and nuh_temporal_id_plus1 of 0.
        assert_eq!(NalHeader::parse(&[0xc0, 0x01]), None);
        assert_eq!(NalHeader::parse(&[0x40, 0x00]), None);
    }

    #[test]
    fn picture_classes() {
        let class = |nal_type| NalHeader {
            nal_type,
            layer_id: 0,
            temporal_id: 0,
        };
        let irap: Vec<u8> = (0..64).filter(|&t| class(t).is_irap()).collect();
        assert_eq!(irap, (16..=23).collect::<Vec<_>>());
        let non_reference: Vec<u8> = (0..64)
            .filter(|&t| class(t).is_sub_layer_non_reference())
            .collect();
        assert_eq!(non_reference, [0, 2, 4, 6, 8, 10, 12, 14]);
        assert!(class(NAL_IDR_N_LP).is_idr() && class(NAL_BLA_N_LP).is_bla());
        assert!(class(NAL_RASL_R).is_rasl() && class(NAL_RADL_N).is_radl());
        assert!(class(31).is_vcl() && !class(NAL_VPS).is_vcl());
    }
}
