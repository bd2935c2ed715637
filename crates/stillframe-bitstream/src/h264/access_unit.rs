//! Where access units begin in a stream of NAL units (H.264 § 7.4.1.2.3 and
//! § 7.4.1.2.4): what an Annex B reader needs to cut a byte stream into pictures.

use super::slice::SliceHeaderStart;

/// True for the NAL unit types that, after the last VCL NAL unit of a primary
/// coded picture, start a new access unit (§ 7.4.1.2.3): SEI (6), sequence and
/// picture parameter sets (7, 8), access unit delimiters (9), and types 14 to 18
/// (SVC prefix units, subset sequence parameter sets, reserved types).
///
/// ```
/// use stillframe_bitstream::h264::starts_access_unit;
/// assert!(starts_access_unit(9) && starts_access_unit(7) && starts_access_unit(14));
/// // End of sequence (10) and filler data (12) close the current one.
/// assert!(!starts_access_unit(10) && !starts_access_unit(12) && !starts_access_unit(1));
/// ```
pub fn starts_access_unit(nal_type: u8) -> bool {
    matches!(nal_type, 6..=9 | 14..=18)
}

/// True when the slice `current` is the first slice of a new primary coded
/// picture, `previous` being a slice of the primary coded picture before it
/// (§ 7.4.1.2.4): `frame_num`, `pic_parameter_set_id`, `field_pic_flag`,
/// `bottom_field_flag`, `pic_order_cnt_lsb`, `delta_pic_order_cnt_bottom`,
/// `delta_pic_order_cnt[0..2]`, IdrPicFlag or `idr_pic_id` differ, or
/// `nal_ref_idc` is zero in one and not the other. A redundant slice
/// (`redundant_pic_cnt` above 0) belongs to the primary picture before it.
///
/// Fields a slice does not carry are zero in [`SliceHeaderStart`], so comparing
/// them all compares what each `pic_order_cnt_type` codes.
pub fn first_slice_of_new_picture(previous: &SliceHeaderStart, current: &SliceHeaderStart) -> bool {
    if current.redundant_pic_cnt > 0 {
        return false;
    }
    previous.frame_num != current.frame_num
        || previous.pps_id != current.pps_id
        || previous.field_pic != current.field_pic
        || previous.bottom_field != current.bottom_field
        || (previous.nal_ref_idc == 0) != (current.nal_ref_idc == 0)
        || previous.pic_order_cnt_lsb != current.pic_order_cnt_lsb
        || previous.delta_pic_order_cnt_bottom != current.delta_pic_order_cnt_bottom
        || previous.delta_pic_order_cnt != current.delta_pic_order_cnt
        || previous.idr != current.idr
        || (previous.idr && current.idr && previous.idr_pic_id != current.idr_pic_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(frame_num: u32, lsb: u32) -> SliceHeaderStart {
        SliceHeaderStart {
            idr: false,
            nal_ref_idc: 2,
            first_mb: 0,
            slice_type: 0,
            pps_id: 0,
            frame_num,
            field_pic: false,
            bottom_field: false,
            idr_pic_id: 0,
            pic_order_cnt_lsb: lsb,
            delta_pic_order_cnt_bottom: 0,
            delta_pic_order_cnt: [0, 0],
            redundant_pic_cnt: 0,
        }
    }

    #[test]
    fn each_rule_of_7_4_1_2_4() {
        let first = slice(3, 6);
        let same = SliceHeaderStart {
            first_mb: 99,
            slice_type: 2,
            ..first
        };
        assert!(!first_slice_of_new_picture(&first, &same));
        assert!(first_slice_of_new_picture(&first, &slice(4, 6)));
        assert!(first_slice_of_new_picture(&first, &slice(3, 8)));
        let bottom = SliceHeaderStart {
            field_pic: true,
            bottom_field: true,
            ..first
        };
        let top = SliceHeaderStart {
            bottom_field: false,
            ..bottom
        };
        assert!(first_slice_of_new_picture(&top, &bottom));
        let non_reference = SliceHeaderStart {
            nal_ref_idc: 0,
            ..first
        };
        assert!(first_slice_of_new_picture(&first, &non_reference));
        let lower_idc = SliceHeaderStart {
            nal_ref_idc: 1,
            ..first
        };
        assert!(!first_slice_of_new_picture(&first, &lower_idc));
        let idr = SliceHeaderStart {
            idr: true,
            idr_pic_id: 1,
            ..first
        };
        let next_idr = SliceHeaderStart {
            idr_pic_id: 2,
            ..idr
        };
        assert!(first_slice_of_new_picture(&first, &idr));
        assert!(first_slice_of_new_picture(&idr, &next_idr));
        let redundant = SliceHeaderStart {
            redundant_pic_cnt: 1,
            frame_num: 9,
            ..first
        };
        assert!(!first_slice_of_new_picture(&first, &redundant));
    }
}
