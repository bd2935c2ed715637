//! Supplemental enhancement information: the one message random access needs,
//! the recovery point (H.264 § 7.3.2.3, § D.1.8).

use stillframe_core::bits::{unescape_rbsp, BitReader};

/// SEI payload type of a recovery point (§ D.1.8).
const RECOVERY_POINT: u32 = 6;

/// A recovery point SEI: decoding started at this picture gives exact pictures
/// from `recovery_frame_cnt` frames on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryPoint {
    /// Frames (in `frame_num` steps) until output is exact; 0 means at once.
    pub recovery_frame_cnt: u32,
    /// The pictures from the recovery point on match a decode from the start.
    pub exact_match: bool,
    /// Pictures before it in output order may be wrong even from the start
    /// (a splice).
    pub broken_link: bool,
}

/// The recovery point message of an SEI NAL unit (header byte included), if it
/// carries one that can be read.
///
/// ```
/// use stillframe_bitstream::h264::recovery_point;
/// // NAL header 0x06, payload type 6, size 1, then ue(0)=1, exact 1, broken 0, idc 00, stop bit.
/// let sei = [0x06, 0x06, 0x01, 0b1100_0100, 0x80];
/// let point = recovery_point(&sei).unwrap();
/// assert_eq!(point.recovery_frame_cnt, 0);
/// assert!(point.exact_match && !point.broken_link);
/// ```
pub fn recovery_point(nal: &[u8]) -> Option<RecoveryPoint> {
    let rbsp = unescape_rbsp(nal.get(1..)?);
    let mut rest = rbsp.as_slice();
    // Each message: payload type and size as runs of 0xFF plus a last byte (§ 7.3.2.3.1).
    while rest.len() > 1 {
        let (payload_type, after) = read_sei_number(rest)?;
        let (payload_size, after) = read_sei_number(after)?;
        let size = usize::try_from(payload_size).ok()?;
        let payload = after.get(..size)?;
        if payload_type == RECOVERY_POINT {
            let mut r = BitReader::new(payload);
            return Some(RecoveryPoint {
                recovery_frame_cnt: r.ue().ok()?,
                exact_match: r.flag().ok()?,
                broken_link: r.flag().ok()?,
            });
        }
        rest = after.get(size..)?;
        if rest.first() == Some(&0x80) {
            break; // rbsp_trailing_bits
        }
    }
    None
}

fn read_sei_number(data: &[u8]) -> Option<(u32, &[u8])> {
    let mut value = 0u32;
    for (index, &byte) in data.iter().enumerate() {
        value = value.checked_add(u32::from(byte))?;
        if byte != 0xff {
            return Some((value, &data[index + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_recovery_point_behind_other_messages() {
        // A 2-byte user message (type 5), then the recovery point with cnt 2 (ue 011).
        let sei = [0x06, 0x05, 0x02, 0xaa, 0xbb, 0x06, 0x01, 0b0111_0000, 0x80];
        let point = recovery_point(&sei);
        assert_eq!(
            point,
            Some(RecoveryPoint {
                recovery_frame_cnt: 2,
                exact_match: true,
                broken_link: false
            })
        );
    }

    #[test]
    fn other_or_broken_messages_give_none() {
        assert_eq!(recovery_point(&[0x06, 0x05, 0x01, 0xaa, 0x80]), None);
        assert_eq!(recovery_point(&[0x06, 0x06, 0x09, 0x80]), None);
        assert_eq!(recovery_point(&[0x06]), None);
        assert_eq!(recovery_point(&[]), None);
    }
}
