//! Picture order counts (H.265 § 8.3.1): `PicOrderCntVal` of each picture from its
//! `slice_pic_order_cnt_lsb` and the previous `TemporalId` 0 picture.

use super::nal::NalHeader;

/// Derives `PicOrderCntVal` for the pictures of one layer in decode order.
///
/// Feed it the first slice segment of every picture, and
/// [`PocTracker::end_of_sequence`] at every end of sequence NAL unit. An IRAP
/// picture that starts the bitstream or follows an end of sequence — or any IDR or
/// BLA picture — has `NoRaslOutputFlag` 1 and restarts the count's most
/// significant part at 0; every other picture continues from `prevTid0Pic`, the
/// previous `TemporalId` 0 picture that is not a RASL, RADL or sub-layer
/// non-reference picture.
///
/// ```
/// use stillframe_bitstream::hevc::{NalHeader, PocTracker, NAL_IDR_W_RADL, NAL_TRAIL_R};
///
/// let picture = |nal_type| NalHeader { nal_type, layer_id: 0, temporal_id: 0 };
/// let mut tracker = PocTracker::new();
/// assert_eq!(tracker.picture(picture(NAL_IDR_W_RADL), 0, 4), 0);
/// assert_eq!(tracker.picture(picture(NAL_TRAIL_R), 8, 4), 8);
/// // LSBs wrap at 16: 2 after 8 is 18, not 2.
/// assert_eq!(tracker.picture(picture(NAL_TRAIL_R), 15, 4), 15);
/// assert_eq!(tracker.picture(picture(NAL_TRAIL_R), 2, 4), 18);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PocTracker {
    /// `PicOrderCntVal` of `prevTid0Pic`.
    prev_tid0_poc: i32,
    /// The next IRAP picture gets `NoRaslOutputFlag` 1: nothing decoded yet, or an
    /// end of sequence came.
    first_in_sequence: bool,
    /// `NoRaslOutputFlag` of the last IRAP picture, which decides whether its RASL
    /// pictures can be decoded.
    no_rasl_output: bool,
}

impl Default for PocTracker {
    fn default() -> Self {
        PocTracker::new()
    }
}

impl PocTracker {
    /// A tracker at the start of a bitstream.
    pub const fn new() -> PocTracker {
        PocTracker {
            prev_tid0_poc: 0,
            first_in_sequence: true,
            no_rasl_output: true,
        }
    }

    /// Records an end of sequence NAL unit: the next IRAP picture starts afresh.
    pub fn end_of_sequence(&mut self) {
        self.first_in_sequence = true;
    }

    /// `NoRaslOutputFlag` of the latest IRAP picture: when true, its RASL pictures
    /// refer to pictures that were never decoded and must be skipped (§ 8.1.3).
    pub const fn no_rasl_output(&self) -> bool {
        self.no_rasl_output
    }

    /// `PicOrderCntVal` of the picture whose first slice segment has NAL header
    /// `nal` and `slice_pic_order_cnt_lsb` `lsb` (0 for IDR pictures), under an SPS
    /// with `log2_max_pic_order_cnt_lsb` (4 to 16). Call once per picture, in
    /// decode order.
    pub fn picture(&mut self, nal: NalHeader, lsb: u32, log2_max_pic_order_cnt_lsb: u8) -> i32 {
        let max_lsb = 1i64 << log2_max_pic_order_cnt_lsb.clamp(4, 16);
        let lsb = i64::from(lsb) & (max_lsb - 1);
        if nal.is_irap() {
            self.no_rasl_output = nal.is_idr() || nal.is_bla() || self.first_in_sequence;
        }
        self.first_in_sequence = false;
        let msb = if nal.is_irap() && self.no_rasl_output {
            0
        } else {
            // (8-1): the MSB moves by one period when the LSB jumps by half or more.
            let prev = i64::from(self.prev_tid0_poc);
            let prev_lsb = prev.rem_euclid(max_lsb);
            let prev_msb = prev - prev_lsb;
            if lsb < prev_lsb && prev_lsb - lsb >= max_lsb / 2 {
                prev_msb + max_lsb
            } else if lsb > prev_lsb && lsb - prev_lsb > max_lsb / 2 {
                prev_msb - max_lsb
            } else {
                prev_msb
            }
        };
        // A stream can only drift by one period per picture; saturate rather than
        // wrap on a hostile one.
        let poc = i32::try_from(msb + lsb).unwrap_or(if msb < 0 { i32::MIN } else { i32::MAX });
        if nal.temporal_id == 0
            && !nal.is_rasl()
            && !nal.is_radl()
            && !nal.is_sub_layer_non_reference()
        {
            self.prev_tid0_poc = poc;
        }
        poc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::nal::{NAL_CRA, NAL_IDR_N_LP, NAL_RASL_N, NAL_TRAIL_N, NAL_TRAIL_R};

    fn nal(nal_type: u8, temporal_id: u8) -> NalHeader {
        NalHeader {
            nal_type,
            layer_id: 0,
            temporal_id,
        }
    }

    #[test]
    fn msb_wraps_both_ways() {
        let mut tracker = PocTracker::new();
        assert_eq!(tracker.picture(nal(NAL_IDR_N_LP, 0), 0, 4), 0);
        let mut expected = Vec::new();
        let mut got = Vec::new();
        for poc in (4..60).step_by(4) {
            expected.push(poc);
            got.push(tracker.picture(nal(NAL_TRAIL_R, 0), poc as u32 % 16, 4));
        }
        assert_eq!(got, expected);
        // A picture just before the previous one, across the wrap: 55 after 56.
        assert_eq!(tracker.picture(nal(NAL_TRAIL_N, 0), 7, 4), 55);
    }

    #[test]
    fn only_tid0_reference_pictures_anchor() {
        let mut tracker = PocTracker::new();
        tracker.picture(nal(NAL_IDR_N_LP, 0), 0, 4);
        tracker.picture(nal(NAL_TRAIL_R, 0), 6, 4);
        // Neither a TemporalId 1 picture nor a sub-layer non-reference one moves
        // prevTid0Pic, so 15 reads as −1 from 6, not as 15 from 13.
        tracker.picture(nal(NAL_TRAIL_R, 1), 12, 4);
        tracker.picture(nal(NAL_TRAIL_N, 0), 13, 4);
        assert_eq!(tracker.picture(nal(NAL_TRAIL_R, 0), 15, 4), -1);
    }

    #[test]
    fn cra_restarts_only_at_the_start_or_after_end_of_sequence() {
        let mut tracker = PocTracker::new();
        // A CRA first: NoRaslOutputFlag, MSB 0, its RASL pictures are skipped.
        assert_eq!(tracker.picture(nal(NAL_CRA, 0), 40, 8), 40);
        assert!(tracker.no_rasl_output());
        assert_eq!(tracker.picture(nal(NAL_RASL_N, 0), 38, 8), 38);
        assert_eq!(tracker.picture(nal(NAL_TRAIL_R, 0), 250, 8), -6);
        // A CRA in the middle continues the count and keeps its RASL pictures.
        assert_eq!(tracker.picture(nal(NAL_CRA, 0), 10, 8), 10);
        assert!(!tracker.no_rasl_output());
        tracker.picture(nal(NAL_TRAIL_R, 0), 100, 8);
        // After an end of sequence it starts afresh.
        tracker.end_of_sequence();
        assert_eq!(tracker.picture(nal(NAL_CRA, 0), 200, 8), 200);
        assert!(tracker.no_rasl_output());
    }
}
