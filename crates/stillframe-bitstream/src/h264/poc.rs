//! Picture order counts (H.264 § 8.2.1): the order pictures are output in,
//! restarting at each IDR picture and after each memory management reset.

use super::slice::SliceHeader;
use super::sps::{PicOrderCnt, Sps};

/// The order counts of one picture (§ 8.2.1), after the reset of § 8.2.1 that
/// a `memory_management_control_operation` 5 applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureOrder {
    /// `TopFieldOrderCnt`; `None` for a bottom field.
    pub top: Option<i64>,
    /// `BottomFieldOrderCnt`; `None` for a top field.
    pub bottom: Option<i64>,
    /// A new output period starts here (an IDR picture or a memory management
    /// reset): every picture decoded before it is output before it, whatever
    /// their counts.
    pub new_period: bool,
}

impl PictureOrder {
    /// `PicOrderCnt()` of the picture (§ 8.2.1): the smaller count of a frame,
    /// the count of a field.
    pub fn pic_order_cnt(&self) -> i64 {
        match (self.top, self.bottom) {
            (Some(top), Some(bottom)) => top.min(bottom),
            (Some(count), None) | (None, Some(count)) => count,
            (None, None) => 0,
        }
    }
}

/// What § 8.2.1 carries from one picture to the next, in decoding order.
///
/// Feed every primary coded picture (the first slice of each, not redundant
/// ones) through [`PicOrderCounter::next`] in decoding order.
///
/// ```
/// use stillframe_bitstream::h264::{parse_pps_head, parse_slice_header, parse_sps, PicOrderCounter};
/// // POC type 2: output order is decoding order, counts 0, 2, 4, ...
/// let sps = parse_sps(&[0x67, 0x42, 0xc0, 0x0a, 0xda, 0x10, 0x99]).unwrap();
/// let pps = parse_pps_head(&[0x68, 0b1100_1110, 0b0011_1100, 0b1000_0000]).unwrap();
/// let idr = [0x65, 0b1000_1000, 0b1000_0010, 0b0000_0000];
/// let header = parse_slice_header(&idr, |_| Some((&pps, &sps))).unwrap();
/// let mut counter = PicOrderCounter::default();
/// let order = counter.next(&sps, &header);
/// assert!(order.new_period);
/// assert_eq!(order.pic_order_cnt(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PicOrderCounter {
    /// `PicOrderCntMsb` and `pic_order_cnt_lsb` of the previous reference
    /// picture (type 0), as § 8.2.1.1 adjusts them after a reset.
    prev_msb: i64,
    prev_lsb: i64,
    /// `FrameNumOffset` and `frame_num` of the previous picture (types 1 and 2),
    /// both 0 after a reset.
    prev_frame_num_offset: i64,
    prev_frame_num: i64,
}

impl PicOrderCounter {
    /// The order counts of the picture whose first slice has `header`, under
    /// its `sps`; updates what the next picture needs.
    pub fn next(&mut self, sps: &Sps, header: &SliceHeader) -> PictureOrder {
        let start = &header.start;
        let reference = start.nal_ref_idc != 0;
        let (mut top, mut bottom) = match &sps.pic_order_cnt {
            PicOrderCnt::Type0 {
                log2_max_pic_order_cnt_lsb,
            } => self.type0(header, *log2_max_pic_order_cnt_lsb),
            PicOrderCnt::Type1 {
                delta_pic_order_always_zero: _,
                offset_for_non_ref_pic,
                offset_for_top_to_bottom_field,
                offsets_for_ref_frame,
            } => {
                let offset = self.frame_num_offset(sps, header);
                let expected = expected_count(
                    offset.saturating_add(i64::from(start.frame_num)),
                    reference,
                    offsets_for_ref_frame,
                    i64::from(*offset_for_non_ref_pic),
                );
                let [delta0, delta1] = start.delta_pic_order_cnt.map(i64::from);
                let to_bottom = i64::from(*offset_for_top_to_bottom_field);
                let top = expected.saturating_add(delta0);
                if !start.field_pic {
                    (top, top.saturating_add(to_bottom).saturating_add(delta1))
                } else {
                    let bottom = expected.saturating_add(to_bottom).saturating_add(delta0);
                    (top, bottom)
                }
            }
            PicOrderCnt::Type2 => {
                let offset = self.frame_num_offset(sps, header);
                let doubled = offset
                    .saturating_add(i64::from(start.frame_num))
                    .saturating_mul(2);
                let count = match (start.idr, reference) {
                    (true, _) => 0,
                    (false, false) => doubled.saturating_sub(1),
                    (false, true) => doubled,
                };
                (count, count)
            }
        };
        let reset = header.memory_management_reset;
        if reset {
            // § 8.2.1: tempPicOrderCnt is subtracted from the picture's counts.
            let temp = match (start.field_pic, start.bottom_field) {
                (false, _) => top.min(bottom),
                (true, false) => top,
                (true, true) => bottom,
            };
            top = top.saturating_sub(temp);
            bottom = bottom.saturating_sub(temp);
            // The reset picture is treated as frame_num 0 from now on (§ 7.4.3).
            self.prev_frame_num_offset = 0;
            self.prev_frame_num = 0;
            if reference {
                self.prev_msb = 0;
                self.prev_lsb = if start.field_pic && start.bottom_field {
                    0
                } else {
                    top
                };
            }
        }
        let (top, bottom) = match (start.field_pic, start.bottom_field) {
            (false, _) => (Some(top), Some(bottom)),
            (true, false) => (Some(top), None),
            (true, true) => (None, Some(bottom)),
        };
        PictureOrder {
            top,
            bottom,
            new_period: start.idr || reset,
        }
    }

    /// § 8.2.1.1.
    fn type0(&mut self, header: &SliceHeader, log2_max_lsb: u8) -> (i64, i64) {
        let start = &header.start;
        if start.idr {
            self.prev_msb = 0;
            self.prev_lsb = 0;
        }
        let max_lsb = 1i64 << log2_max_lsb.min(32);
        let lsb = i64::from(start.pic_order_cnt_lsb);
        let msb = if lsb < self.prev_lsb && self.prev_lsb - lsb >= max_lsb / 2 {
            self.prev_msb.saturating_add(max_lsb)
        } else if lsb > self.prev_lsb && lsb - self.prev_lsb > max_lsb / 2 {
            self.prev_msb.saturating_sub(max_lsb)
        } else {
            self.prev_msb
        };
        if start.nal_ref_idc != 0 {
            // A reset overrides these in `next`.
            self.prev_msb = msb;
            self.prev_lsb = lsb;
        }
        let count = msb.saturating_add(lsb);
        if start.field_pic {
            (count, count)
        } else {
            let bottom = count.saturating_add(i64::from(start.delta_pic_order_cnt_bottom));
            (count, bottom)
        }
    }

    /// `FrameNumOffset` (§ 8.2.1.2, § 8.2.1.3), remembering this picture's.
    fn frame_num_offset(&mut self, sps: &Sps, header: &SliceHeader) -> i64 {
        let start = &header.start;
        let frame_num = i64::from(start.frame_num);
        let max_frame_num = 1i64 << sps.log2_max_frame_num.min(32);
        let offset = if start.idr {
            0
        } else if self.prev_frame_num > frame_num {
            self.prev_frame_num_offset.saturating_add(max_frame_num)
        } else {
            self.prev_frame_num_offset
        };
        self.prev_frame_num_offset = offset;
        self.prev_frame_num = frame_num;
        offset
    }
}

/// `expectedPicOrderCnt` of § 8.2.1.2 for `absFrameNum` before its adjustment
/// for non-reference pictures.
fn expected_count(
    frame_num_total: i64,
    reference: bool,
    offsets_for_ref_frame: &[i32],
    offset_for_non_ref_pic: i64,
) -> i64 {
    let cycle_length = i64::try_from(offsets_for_ref_frame.len()).unwrap_or(i64::MAX);
    let mut absolute = if cycle_length != 0 {
        frame_num_total
    } else {
        0
    };
    if !reference && absolute > 0 {
        absolute -= 1;
    }
    let mut expected = 0i64;
    if absolute > 0 && cycle_length > 0 {
        let per_cycle: i64 = offsets_for_ref_frame.iter().map(|&o| i64::from(o)).sum();
        let cycles = (absolute - 1) / cycle_length;
        let in_cycle = usize::try_from((absolute - 1) % cycle_length).unwrap_or(0);
        expected = cycles.saturating_mul(per_cycle);
        for &offset in offsets_for_ref_frame.iter().take(in_cycle + 1) {
            expected = expected.saturating_add(i64::from(offset));
        }
    }
    if !reference {
        expected = expected.saturating_add(offset_for_non_ref_pic);
    }
    expected
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::h264::SliceHeaderStart;

    fn sps(pic_order_cnt: PicOrderCnt) -> Sps {
        let mut sps = crate::h264::parse_sps(&[0x67, 0x42, 0xc0, 0x0a, 0xda, 0x10, 0x99]).unwrap();
        sps.pic_order_cnt = pic_order_cnt;
        sps
    }

    fn header(idr: bool, reference: bool, frame_num: u32, lsb: u32) -> SliceHeader {
        SliceHeader {
            start: SliceHeaderStart {
                idr,
                nal_ref_idc: u8::from(reference),
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
            },
            num_ref_idx_active: [1, 0],
            no_output_of_prior_pics: false,
            long_term_reference: false,
            memory_management_reset: false,
        }
    }

    #[test]
    fn type0_wraps_the_lsb_into_the_msb() {
        let sps = sps(PicOrderCnt::Type0 {
            log2_max_pic_order_cnt_lsb: 4,
        });
        let mut counter = PicOrderCounter::default();
        let counts: Vec<i64> = [(true, 0), (false, 6), (false, 12), (false, 2), (false, 8)]
            .iter()
            .map(|&(idr, lsb)| {
                counter
                    .next(&sps, &header(idr, true, 0, lsb))
                    .pic_order_cnt()
            })
            .collect();
        // 12 → 2 passes the lsb's 16 wrap: 18.
        assert_eq!(counts, [0, 6, 12, 18, 24]);
    }

    #[test]
    fn a_reset_restarts_the_counts_and_a_new_period() {
        let sps = sps(PicOrderCnt::Type0 {
            log2_max_pic_order_cnt_lsb: 8,
        });
        let mut counter = PicOrderCounter::default();
        counter.next(&sps, &header(true, true, 0, 0));
        let mut reset = header(false, true, 1, 40);
        reset.memory_management_reset = true;
        let order = counter.next(&sps, &reset);
        assert!(order.new_period);
        assert_eq!(order.pic_order_cnt(), 0);
        // The next picture counts from the reset picture, whose count is now 0.
        let after = counter.next(&sps, &header(false, true, 1, 4));
        assert_eq!(after.pic_order_cnt(), 4);
        assert!(!after.new_period);
    }

    #[test]
    fn type2_counts_follow_decoding_order() {
        let sps = sps(PicOrderCnt::Type2);
        let mut counter = PicOrderCounter::default();
        let pictures = [
            (true, true, 0),
            (false, true, 1),
            (false, false, 2),
            (false, true, 2),
        ];
        let counts: Vec<i64> = pictures
            .iter()
            .map(|&(idr, reference, frame_num)| {
                counter
                    .next(&sps, &header(idr, reference, frame_num, 0))
                    .pic_order_cnt()
            })
            .collect();
        assert_eq!(counts, [0, 2, 3, 4]);
        // frame_num wraps at 16 (log2_max_frame_num 4).
        let wrapped = counter.next(&sps, &header(false, true, 0, 0));
        assert_eq!(wrapped.pic_order_cnt(), 32);
    }

    #[test]
    fn type1_follows_the_cycle() {
        let sps = sps(PicOrderCnt::Type1 {
            delta_pic_order_always_zero: false,
            offset_for_non_ref_pic: -2,
            offset_for_top_to_bottom_field: 0,
            offsets_for_ref_frame: vec![4, 4],
        });
        let mut counter = PicOrderCounter::default();
        let idr = counter.next(&sps, &header(true, true, 0, 0));
        let p = counter.next(&sps, &header(false, true, 1, 0));
        let b = counter.next(&sps, &header(false, false, 2, 0));
        assert_eq!(
            [idr.pic_order_cnt(), p.pic_order_cnt(), b.pic_order_cnt()],
            [0, 4, 2]
        );
    }
}
