//! Picture parameter sets (§ 7.3.2.2) and slice headers (§ 7.3.3), as far as
//! access-unit boundaries, field pairing, frame-number gaps and picture order
//! counts need them.

use stillframe_core::bits::{unescape_rbsp, BitReader, OutOfBits};
use stillframe_core::{Error, Result};

use super::nal::{nal_ref_idc, nal_type, NAL_IDR};
use super::sps::{PicOrderCnt, Sps};

/// The leading fields of a picture parameter set: which SPS it refers to and the
/// flags that shape the start of a slice header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PpsHead {
    /// `pic_parameter_set_id`, 0 to 255.
    pub id: u8,
    /// `seq_parameter_set_id`, 0 to 31.
    pub sps_id: u8,
    /// `entropy_coding_mode_flag` (CABAC).
    pub cabac: bool,
    /// `bottom_field_pic_order_in_frame_present_flag`.
    pub bottom_field_pic_order_in_frame_present: bool,
    /// `num_slice_groups_minus1 + 1` (more than 1 is FMO).
    pub slice_groups: u32,
    /// `num_ref_idx_l0_default_active_minus1 + 1`.
    pub num_ref_idx_l0_default_active: u32,
    /// `num_ref_idx_l1_default_active_minus1 + 1`.
    pub num_ref_idx_l1_default_active: u32,
    /// `weighted_pred_flag`.
    pub weighted_pred: bool,
    /// `weighted_bipred_idc`.
    pub weighted_bipred_idc: u8,
    /// `redundant_pic_cnt_present_flag`.
    pub redundant_pic_cnt_present: bool,
}

/// Parses the leading fields of a PPS NAL unit (header byte included).
///
/// Fails with [`Error::Malformed`] when the unit is cut short or an id is out of
/// range. Slice group maps (FMO) are skipped over, not read.
pub fn parse_pps_head(nal: &[u8]) -> Result<PpsHead> {
    let malformed = |message: &str| Error::malformed("H.264 PPS", message.to_owned());
    let rbsp = unescape_rbsp(nal.get(1..).unwrap_or_default());
    let r = &mut BitReader::new(&rbsp);
    let read = |r: &mut BitReader<'_>| -> std::result::Result<PpsHead, OutOfBits> {
        let id = r.ue()?;
        let sps_id = r.ue()?;
        let cabac = r.flag()?;
        let bottom_field_pic_order_in_frame_present = r.flag()?;
        let slice_groups = r.ue()?.saturating_add(1);
        if slice_groups > 8 {
            return Err(OutOfBits);
        }
        if slice_groups > 1 {
            skip_slice_group_map(r, slice_groups)?;
        }
        let num_ref_idx_l0_default_active = r.ue()?.saturating_add(1);
        let num_ref_idx_l1_default_active = r.ue()?.saturating_add(1);
        let weighted_pred = r.flag()?;
        let weighted_bipred_idc = r.u8(2)?;
        let _pic_init_qp = r.se()?;
        let _pic_init_qs = r.se()?;
        let _chroma_qp_index_offset = r.se()?;
        let _deblocking_filter_control_present = r.flag()?;
        let _constrained_intra_pred = r.flag()?;
        let redundant_pic_cnt_present = r.flag()?;
        Ok(PpsHead {
            id: u8::try_from(id).map_err(|_| OutOfBits)?,
            sps_id: u8::try_from(sps_id)
                .ok()
                .filter(|&id| id < 32)
                .ok_or(OutOfBits)?,
            cabac,
            bottom_field_pic_order_in_frame_present,
            slice_groups,
            num_ref_idx_l0_default_active,
            num_ref_idx_l1_default_active,
            weighted_pred,
            weighted_bipred_idc,
            redundant_pic_cnt_present,
        })
    };
    read(r).map_err(|_| malformed("cut short, or an id or count out of range"))
}

fn skip_slice_group_map(r: &mut BitReader<'_>, groups: u32) -> std::result::Result<(), OutOfBits> {
    match r.ue()? {
        0 => {
            for _ in 0..groups {
                r.ue()?; // run_length_minus1
            }
        }
        2 => {
            for _ in 1..groups {
                r.ue()?; // top_left
                r.ue()?; // bottom_right
            }
        }
        3..=5 => {
            r.flag()?; // slice_group_change_direction_flag
            r.ue()?; // slice_group_change_rate_minus1
        }
        6 => {
            let units = r.ue()?.saturating_add(1);
            // Ceil(Log2(num_slice_groups_minus1 + 1)) bits per map unit.
            let bits = u32::BITS - (groups - 1).leading_zeros();
            r.skip((units as usize).saturating_mul(bits as usize))?;
        }
        1 => {}
        _ => return Err(OutOfBits),
    }
    Ok(())
}

/// The start of a slice header (§ 7.3.3), through `redundant_pic_cnt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceHeaderStart {
    /// `nal_unit_type` 5: an IDR picture.
    pub idr: bool,
    /// `nal_ref_idc`.
    pub nal_ref_idc: u8,
    /// `first_mb_in_slice`.
    pub first_mb: u32,
    /// `slice_type` modulo 5: 0 P, 1 B, 2 I, 3 SP, 4 SI.
    pub slice_type: u8,
    /// `pic_parameter_set_id`.
    pub pps_id: u8,
    /// `frame_num`.
    pub frame_num: u32,
    /// `field_pic_flag`.
    pub field_pic: bool,
    /// `bottom_field_flag`.
    pub bottom_field: bool,
    /// `idr_pic_id` (0 for non-IDR slices).
    pub idr_pic_id: u32,
    /// `pic_order_cnt_lsb` (type 0).
    pub pic_order_cnt_lsb: u32,
    /// `delta_pic_order_cnt_bottom` (type 0).
    pub delta_pic_order_cnt_bottom: i32,
    /// `delta_pic_order_cnt[0]` and `[1]` (type 1).
    pub delta_pic_order_cnt: [i32; 2],
    /// `redundant_pic_cnt`: above 0 for a redundant coded picture.
    pub redundant_pic_cnt: u32,
}

/// Parses the start of the slice header of a coded slice NAL unit (types 1, 2
/// and 5, header byte included), with `lookup` giving the PPS and SPS its
/// `pic_parameter_set_id` names.
///
/// Fails with [`Error::Malformed`] when the unit is cut short, refers to a
/// parameter set `lookup` does not know, or has a field out of range.
pub fn parse_slice_header_start<'a>(
    nal: &[u8],
    lookup: impl FnOnce(u8) -> Option<(&'a PpsHead, &'a Sps)>,
) -> Result<SliceHeaderStart> {
    // The fields read here take well under 64 bytes.
    let rbsp = unescape_rbsp(nal.get(1..nal.len().min(64)).unwrap_or_default());
    let r = &mut BitReader::new(&rbsp);
    read_start(r, nal, lookup).map(|(header, _, _)| header)
}

/// Reads § 7.3.3 up to `redundant_pic_cnt`, returning the PPS and SPS used.
fn read_start<'a>(
    r: &mut BitReader<'_>,
    nal: &[u8],
    lookup: impl FnOnce(u8) -> Option<(&'a PpsHead, &'a Sps)>,
) -> Result<(SliceHeaderStart, &'a PpsHead, &'a Sps)> {
    let first_mb = r.ue().map_err(cut)?;
    let slice_type = r.ue().map_err(cut)?;
    if slice_type > 9 {
        return Err(malformed(format!("slice_type {slice_type} is above 9")));
    }
    let pps_id = r
        .ue()
        .ok()
        .and_then(|id| u8::try_from(id).ok())
        .ok_or_else(|| malformed("pic_parameter_set_id out of range".to_owned()))?;
    let (pps, sps) =
        lookup(pps_id).ok_or_else(|| malformed(format!("no PPS {pps_id} (or its SPS) yet")))?;
    let idr = nal_type(nal) == Some(NAL_IDR);
    let mut header = SliceHeaderStart {
        idr,
        nal_ref_idc: nal_ref_idc(nal).unwrap_or(0),
        first_mb,
        slice_type: u8::try_from(slice_type % 5).unwrap_or(0),
        pps_id,
        frame_num: 0,
        field_pic: false,
        bottom_field: false,
        idr_pic_id: 0,
        pic_order_cnt_lsb: 0,
        delta_pic_order_cnt_bottom: 0,
        delta_pic_order_cnt: [0, 0],
        redundant_pic_cnt: 0,
    };
    let mut read = || -> std::result::Result<(), OutOfBits> {
        if sps.separate_colour_plane {
            r.skip(2)?; // colour_plane_id
        }
        header.frame_num = r.bits(u32::from(sps.log2_max_frame_num))?;
        if !sps.frame_mbs_only {
            header.field_pic = r.flag()?;
            if header.field_pic {
                header.bottom_field = r.flag()?;
            }
        }
        if idr {
            header.idr_pic_id = r.ue()?;
        }
        let bottom_present = pps.bottom_field_pic_order_in_frame_present && !header.field_pic;
        match &sps.pic_order_cnt {
            PicOrderCnt::Type0 {
                log2_max_pic_order_cnt_lsb,
            } => {
                header.pic_order_cnt_lsb = r.bits(u32::from(*log2_max_pic_order_cnt_lsb))?;
                if bottom_present {
                    header.delta_pic_order_cnt_bottom = r.se()?;
                }
            }
            PicOrderCnt::Type1 {
                delta_pic_order_always_zero: false,
                ..
            } => {
                header.delta_pic_order_cnt[0] = r.se()?;
                if bottom_present {
                    header.delta_pic_order_cnt[1] = r.se()?;
                }
            }
            _ => {}
        }
        if pps.redundant_pic_cnt_present {
            header.redundant_pic_cnt = r.ue()?;
        }
        Ok(())
    };
    read().map_err(cut)?;
    Ok((header, pps, sps))
}

fn malformed(message: String) -> Error {
    Error::malformed("H.264 slice header", message)
}

fn cut(_: OutOfBits) -> Error {
    malformed("cut short or out of range".to_owned())
}

/// Bytes of a slice NAL unit that always hold its header: the longest header
/// (32 reference indices per list, each reordered and weighted, and a long list
/// of memory management operations) takes under 3 KB.
pub const SLICE_HEADER_MAX_BYTES: usize = 4096;

/// A slice header (§ 7.3.3) through `dec_ref_pic_marking()`: what picture order
/// counts (§ 8.2.1) and the ends of output periods need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceHeader {
    /// The fields through `redundant_pic_cnt`.
    pub start: SliceHeaderStart,
    /// `num_ref_idx_l0_active_minus1 + 1` and `num_ref_idx_l1_active_minus1 + 1`,
    /// from the PPS defaults unless overridden (0 where a list is unused).
    pub num_ref_idx_active: [u32; 2],
    /// `no_output_of_prior_pics_flag` (IDR pictures).
    pub no_output_of_prior_pics: bool,
    /// `long_term_reference_flag` (IDR pictures).
    pub long_term_reference: bool,
    /// Some `memory_management_control_operation` is 5: every reference is
    /// dropped and picture order counts restart after this picture, as after an
    /// IDR (§ 8.2.1, § 8.2.5.4).
    pub memory_management_reset: bool,
}

/// Most reordering commands per list (`num_ref_idx_lX_active_minus1 + 1`
/// changes at most, plus the final `3`) and memory management operations a
/// valid header can hold; more is garbage.
const MAX_COMMANDS: usize = 100;

/// Parses a slice header of a coded slice NAL unit (types 1, 2 and 5, header
/// byte included) through `dec_ref_pic_marking()`, skipping
/// `ref_pic_list_modification()` and `pred_weight_table()` (§ 7.3.3.1,
/// § 7.3.3.2). [`SLICE_HEADER_MAX_BYTES`] of the unit are always enough.
///
/// Fails with [`Error::Malformed`] as [`parse_slice_header_start`] does, and
/// when a later field is cut short or out of range.
///
/// ```
/// use stillframe_bitstream::h264::{parse_pps_head, parse_slice_header, parse_sps};
/// let sps = parse_sps(&[0x67, 0x42, 0xc0, 0x0a, 0xda, 0x10, 0x99]).unwrap();
/// let pps = parse_pps_head(&[0x68, 0b1100_1110, 0b0011_1100, 0b1000_0000]).unwrap();
/// // IDR I slice: first_mb 0, slice_type 7, pps 0, frame_num 0000, idr_pic_id 1,
/// // no_output_of_prior_pics 0, long_term_reference 0.
/// let idr = [0x65, 0b1000_1000, 0b1000_0010, 0b0000_0000];
/// let header = parse_slice_header(&idr, |_| Some((&pps, &sps))).unwrap();
/// assert!(header.start.idr && !header.memory_management_reset);
/// ```
pub fn parse_slice_header<'a>(
    nal: &[u8],
    lookup: impl FnOnce(u8) -> Option<(&'a PpsHead, &'a Sps)>,
) -> Result<SliceHeader> {
    let rbsp = unescape_rbsp(
        nal.get(1..nal.len().min(SLICE_HEADER_MAX_BYTES))
            .unwrap_or_default(),
    );
    let r = &mut BitReader::new(&rbsp);
    let (start, pps, sps) = read_start(r, nal, lookup)?;
    read_rest(r, start, pps, sps).map_err(cut)
}

/// § 7.3.3 from after `redundant_pic_cnt` through `dec_ref_pic_marking()`.
fn read_rest(
    r: &mut BitReader<'_>,
    start: SliceHeaderStart,
    pps: &PpsHead,
    sps: &Sps,
) -> std::result::Result<SliceHeader, OutOfBits> {
    const P: u8 = 0;
    const B: u8 = 1;
    const SP: u8 = 3;
    let kind = start.slice_type;
    let mut active = [0, 0];
    if matches!(kind, P | SP | B) {
        if kind == B {
            r.skip(1)?; // direct_spatial_mv_pred_flag
        }
        active = [
            pps.num_ref_idx_l0_default_active,
            if kind == B {
                pps.num_ref_idx_l1_default_active
            } else {
                0
            },
        ];
        if r.flag()? {
            // num_ref_idx_active_override_flag
            active[0] = r.ue()?.saturating_add(1);
            if kind == B {
                active[1] = r.ue()?.saturating_add(1);
            }
        }
        // 32 for field pictures, 16 for frames (§ 7.4.3).
        if active.iter().any(|&count| count > 32) {
            return Err(OutOfBits);
        }
        // ref_pic_list_modification() (§ 7.3.3.1), for list 0 and, in B slices, list 1.
        for _ in 0..if kind == B { 2 } else { 1 } {
            if r.flag()? {
                skip_list_modification(r)?;
            }
        }
    }
    let weighted = (pps.weighted_pred && matches!(kind, P | SP))
        || (pps.weighted_bipred_idc == 1 && kind == B);
    if weighted {
        skip_pred_weight_table(r, sps, kind == B, active)?;
    }
    let mut header = SliceHeader {
        start,
        num_ref_idx_active: active,
        no_output_of_prior_pics: false,
        long_term_reference: false,
        memory_management_reset: false,
    };
    if start.nal_ref_idc != 0 {
        // dec_ref_pic_marking() (§ 7.3.3.3).
        if start.idr {
            header.no_output_of_prior_pics = r.flag()?;
            header.long_term_reference = r.flag()?;
        } else if r.flag()? {
            header.memory_management_reset = read_memory_management(r)?;
        }
    }
    Ok(header)
}

fn skip_list_modification(r: &mut BitReader<'_>) -> std::result::Result<(), OutOfBits> {
    for _ in 0..MAX_COMMANDS {
        match r.ue()? {
            // abs_diff_pic_num_minus1, long_term_pic_num
            0..=2 => {
                r.ue()?;
            }
            3 => return Ok(()),
            _ => return Err(OutOfBits),
        }
    }
    Err(OutOfBits)
}

/// `pred_weight_table()` (§ 7.3.3.2).
fn skip_pred_weight_table(
    r: &mut BitReader<'_>,
    sps: &Sps,
    bipredictive: bool,
    active: [u32; 2],
) -> std::result::Result<(), OutOfBits> {
    let chroma = !sps.separate_colour_plane && sps.chroma_format_idc != 0;
    r.ue()?; // luma_log2_weight_denom
    if chroma {
        r.ue()?; // chroma_log2_weight_denom
    }
    let lists = if bipredictive { 2 } else { 1 };
    for &count in active.iter().take(lists) {
        for _ in 0..count {
            if r.flag()? {
                r.se()?; // luma_weight
                r.se()?; // luma_offset
            }
            if chroma && r.flag()? {
                for _ in 0..4 {
                    r.se()?; // chroma_weight, chroma_offset for Cb and Cr
                }
            }
        }
    }
    Ok(())
}

/// The operations of `adaptive_ref_pic_marking_mode_flag` (§ 7.3.3.3); true if
/// one of them is 5.
fn read_memory_management(r: &mut BitReader<'_>) -> std::result::Result<bool, OutOfBits> {
    let mut reset = false;
    for _ in 0..MAX_COMMANDS {
        let operation = r.ue()?;
        match operation {
            0 => return Ok(reset),
            1..=6 => {}
            _ => return Err(OutOfBits),
        }
        if matches!(operation, 1 | 3) {
            r.ue()?; // difference_of_pic_nums_minus1
        }
        if operation == 2 {
            r.ue()?; // long_term_pic_num
        }
        if matches!(operation, 3 | 6) {
            r.ue()?; // long_term_frame_idx
        }
        if operation == 4 {
            r.ue()?; // max_long_term_frame_idx_plus1
        }
        reset |= operation == 5;
    }
    Err(OutOfBits)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::h264::parse_sps;

    /// 64x64 Constrained Baseline, POC type 2, log2_max_frame_num 4 (from the SPS doctest).
    const SPS: [u8; 7] = [0x67, 0x42, 0xc0, 0x0a, 0xda, 0x10, 0x99];

    #[test]
    fn pps_head_and_a_slice_header() {
        // PPS: id 0 (1), sps 0 (1), cabac 0, bottom 0, groups ue0 (1), l0 ue0 (1),
        // l1 ue0 (1), wp 0, bipred 00, qp se0 (1), qs se0 (1), cqp se0 (1), dbf 1,
        // cip 0, redundant 0, stop bit.
        let pps = [0x68, 0b1100_1110, 0b0011_1100, 0b1000_0000];
        let head = parse_pps_head(&pps).unwrap();
        assert_eq!((head.id, head.sps_id, head.slice_groups), (0, 0, 1));
        assert!(!head.redundant_pic_cnt_present && !head.cabac);
        let sps = parse_sps(&SPS).unwrap();
        // IDR slice: first_mb 0 (1), type 7 (0001000), pps 0 (1), frame_num 0000,
        // idr_pic_id 1 (010).
        let slice = [0x65, 0b1000_1000, 0b1000_0010, 0b1000_0000];
        let header = parse_slice_header_start(&slice, |id| (id == 0).then_some((&head, &sps)));
        let header = header.unwrap();
        assert!(header.idr && !header.field_pic);
        assert_eq!(
            (header.slice_type, header.frame_num, header.idr_pic_id),
            (2, 0, 1)
        );
        // An unknown PPS is an error.
        assert!(parse_slice_header_start(&slice, |_| None).is_err());
        assert!(parse_pps_head(&[0x68]).is_err());
    }
}
