//! The leading fields of a picture parameter set (H.265 § 7.3.2.3.1): which SPS it
//! refers to and what shapes the start of a slice segment header.

use stillframe_core::bits::{unescape_rbsp, BitReader, OutOfBits};
use stillframe_core::{Error, Result};

use super::nal::{NalHeader, NAL_PPS};

/// The leading fields of a picture parameter set, through
/// `entropy_coding_sync_enabled_flag`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PpsHead {
    /// `pps_pic_parameter_set_id`, 0 to 63.
    pub id: u8,
    /// `pps_seq_parameter_set_id`, 0 to 15.
    pub sps_id: u8,
    /// `dependent_slice_segments_enabled_flag`.
    pub dependent_slice_segments_enabled: bool,
    /// `output_flag_present_flag`: slice headers carry `pic_output_flag`.
    pub output_flag_present: bool,
    /// `num_extra_slice_header_bits`.
    pub num_extra_slice_header_bits: u8,
    /// `sign_data_hiding_enabled_flag`.
    pub sign_data_hiding_enabled: bool,
    /// `cabac_init_present_flag`.
    pub cabac_init_present: bool,
    /// `num_ref_idx_l0_default_active_minus1 + 1`.
    pub num_ref_idx_l0_default_active: u8,
    /// `num_ref_idx_l1_default_active_minus1 + 1`.
    pub num_ref_idx_l1_default_active: u8,
    /// `26 + init_qp_minus26`.
    pub init_qp: i32,
    /// `constrained_intra_pred_flag`.
    pub constrained_intra_pred: bool,
    /// `transform_skip_enabled_flag`.
    pub transform_skip_enabled: bool,
    /// `cu_qp_delta_enabled_flag`.
    pub cu_qp_delta_enabled: bool,
    /// `pps_cb_qp_offset`, −12 to 12.
    pub cb_qp_offset: i8,
    /// `pps_cr_qp_offset`, −12 to 12.
    pub cr_qp_offset: i8,
    /// `pps_slice_chroma_qp_offsets_present_flag`.
    pub slice_chroma_qp_offsets_present: bool,
    /// `weighted_pred_flag`.
    pub weighted_pred: bool,
    /// `weighted_bipred_flag`.
    pub weighted_bipred: bool,
    /// `transquant_bypass_enabled_flag`.
    pub transquant_bypass_enabled: bool,
    /// `tiles_enabled_flag`.
    pub tiles_enabled: bool,
    /// `entropy_coding_sync_enabled_flag` (wavefront parallel processing).
    pub entropy_coding_sync_enabled: bool,
}

/// Parses the leading fields of a PPS NAL unit (two header bytes, type 34, then the
/// escaped payload).
///
/// Fails with [`Error::Malformed`] when the unit is cut short or a field is out of
/// range (§ 7.4.3.3).
///
/// ```
/// use stillframe_bitstream::hevc::parse_pps_head;
/// // x265's PPS.
/// let pps = parse_pps_head(&[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x22, 0x40]).unwrap();
/// assert_eq!((pps.id, pps.sps_id, pps.init_qp), (0, 0, 26));
/// assert!(pps.sign_data_hiding_enabled && !pps.output_flag_present);
/// ```
pub fn parse_pps_head(nal: &[u8]) -> Result<PpsHead> {
    const LOCATION: &str = "HEVC PPS";
    if NalHeader::parse(nal).map(|header| header.nal_type) != Some(NAL_PPS) {
        return Err(Error::malformed(LOCATION, "not a PPS NAL unit (type 34)"));
    }
    let rbsp = unescape_rbsp(nal.get(2..).unwrap_or_default());
    let r = &mut BitReader::new(&rbsp);
    let read = |r: &mut BitReader<'_>| -> std::result::Result<Option<PpsHead>, OutOfBits> {
        let id = r.ue()?;
        let sps_id = r.ue()?;
        let dependent_slice_segments_enabled = r.flag()?;
        let output_flag_present = r.flag()?;
        let num_extra_slice_header_bits = r.u8(3)?;
        let sign_data_hiding_enabled = r.flag()?;
        let cabac_init_present = r.flag()?;
        let l0 = r.ue()?;
        let l1 = r.ue()?;
        let init_qp = 26i64 + i64::from(r.se()?);
        let constrained_intra_pred = r.flag()?;
        let transform_skip_enabled = r.flag()?;
        let cu_qp_delta_enabled = r.flag()?;
        if cu_qp_delta_enabled {
            // diff_cu_qp_delta_depth
            r.ue()?;
        }
        let cb_qp_offset = r.se()?;
        let cr_qp_offset = r.se()?;
        let slice_chroma_qp_offsets_present = r.flag()?;
        let weighted_pred = r.flag()?;
        let weighted_bipred = r.flag()?;
        let transquant_bypass_enabled = r.flag()?;
        let tiles_enabled = r.flag()?;
        let entropy_coding_sync_enabled = r.flag()?;
        // Ranges of § 7.4.3.3.1; init_qp down to −QpBdOffsetY of 16 bits.
        let offset = |value: i32| i8::try_from(value).ok().filter(|v| (-12..=12).contains(v));
        let (Some(cb_qp_offset), Some(cr_qp_offset)) = (offset(cb_qp_offset), offset(cr_qp_offset))
        else {
            return Ok(None);
        };
        if id > 63 || sps_id > 15 || l0 > 14 || l1 > 14 || !(-48..=51).contains(&init_qp) {
            return Ok(None);
        }
        Ok(Some(PpsHead {
            id: u8::try_from(id).map_err(|_| OutOfBits)?,
            sps_id: u8::try_from(sps_id).map_err(|_| OutOfBits)?,
            dependent_slice_segments_enabled,
            output_flag_present,
            num_extra_slice_header_bits,
            sign_data_hiding_enabled,
            cabac_init_present,
            num_ref_idx_l0_default_active: u8::try_from(l0 + 1).map_err(|_| OutOfBits)?,
            num_ref_idx_l1_default_active: u8::try_from(l1 + 1).map_err(|_| OutOfBits)?,
            init_qp: i32::try_from(init_qp).map_err(|_| OutOfBits)?,
            constrained_intra_pred,
            transform_skip_enabled,
            cu_qp_delta_enabled,
            cb_qp_offset,
            cr_qp_offset,
            slice_chroma_qp_offsets_present,
            weighted_pred,
            weighted_bipred,
            transquant_bypass_enabled,
            tiles_enabled,
            entropy_coding_sync_enabled,
        }))
    };
    match read(r) {
        Ok(Some(pps)) => Ok(pps),
        Ok(None) => Err(Error::malformed(
            LOCATION,
            "an id, reference count, QP or QP offset is out of range",
        )),
        Err(OutOfBits) => Err(Error::malformed(LOCATION, "the PPS ends inside a field")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::hevc::testing::BitWriter;

    fn pps(id: u32, sps_id: u32, extra_bits: u64, cb_qp_offset: i32) -> Vec<u8> {
        let mut b = BitWriter::default();
        b.ue(id)
            .ue(sps_id)
            .flag(true)
            .flag(true)
            .put(extra_bits, 3)
            .flag(false)
            .flag(true);
        b.ue(2).ue(0).se(-4).flag(false).flag(true).flag(true).ue(1);
        b.se(cb_qp_offset)
            .se(-1)
            .flag(false)
            .flag(true)
            .flag(false)
            .flag(false);
        b.flag(false).flag(true);
        let mut nal = vec![0x44, 0x01];
        nal.extend(b.rbsp());
        nal
    }

    #[test]
    fn leading_fields() {
        let head = parse_pps_head(&pps(5, 3, 2, 2)).unwrap();
        assert_eq!(
            (head.id, head.sps_id, head.num_extra_slice_header_bits),
            (5, 3, 2)
        );
        assert!(head.dependent_slice_segments_enabled && head.output_flag_present);
        assert!(head.cabac_init_present && !head.sign_data_hiding_enabled);
        assert_eq!(
            (
                head.num_ref_idx_l0_default_active,
                head.num_ref_idx_l1_default_active
            ),
            (3, 1)
        );
        assert_eq!(
            (head.init_qp, head.cb_qp_offset, head.cr_qp_offset),
            (22, 2, -1)
        );
        assert!(head.weighted_pred && head.entropy_coding_sync_enabled && !head.tiles_enabled);
    }

    #[test]
    fn out_of_range_and_cut_short() {
        assert!(parse_pps_head(&pps(64, 0, 0, 0)).is_err());
        assert!(parse_pps_head(&pps(0, 16, 0, 0)).is_err());
        assert!(parse_pps_head(&pps(0, 0, 0, 13)).is_err());
        let whole = pps(1, 1, 0, 0);
        for cut in 0..whole.len() - 1 {
            assert!(parse_pps_head(&whole[..cut]).is_err(), "cut at {cut}");
        }
        assert!(parse_pps_head(&[0x42, 0x01, 0xff]).is_err());
    }
}
