//! Telling raw streams apart by their first bytes, never by a file name.
//!
//! - IVF: the `DKIF` signature.
//! - H.264 or HEVC Annex B: the stream starts with a start code, and the NAL unit
//!   headers after the start codes are plausible for exactly one of the two codecs
//!   (a sequence parameter set that parses, or a VPS/SPS/PPS header, decides).
//! - AV1 low-overhead (§ 5.2): OBUs with size fields from the first byte, the first
//!   a temporal delimiter (`12 00`) or a sequence header.
//! - AV1 Annex B: `temporal_unit_size`, `frame_unit_size` and `obu_length` nest
//!   consistently, and the first OBU is a temporal delimiter.

use stillframe_bitstream::av1::{SequenceHeader, OBU_FRAME, OBU_FRAME_HEADER, OBU_SEQUENCE_HEADER};
use stillframe_bitstream::framing::split_annex_b;
use stillframe_bitstream::h264::parse_sps;
use stillframe_core::ContainerKind;

use crate::av1::read_leb;

/// NAL units looked at in the probe window.
const MAX_UNITS: usize = 64;

/// The raw stream formats, with the two AV1 framings told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    H264,
    Hevc,
    Ivf,
    Av1LowOverhead,
    Av1AnnexB,
}

impl Format {
    pub(crate) fn container(self) -> ContainerKind {
        match self {
            Format::H264 => ContainerKind::H264,
            Format::Hevc => ContainerKind::Hevc,
            Format::Ivf => ContainerKind::Ivf,
            Format::Av1LowOverhead | Format::Av1AnnexB => ContainerKind::Obu,
        }
    }
}

/// The format of a stream starting with `data`, if it is one of ours.
pub(crate) fn detect(data: &[u8]) -> Option<Format> {
    if data.starts_with(b"DKIF") {
        return Some(Format::Ivf);
    }
    if let Some(format) = annex_b_nal_stream(data) {
        return Some(format);
    }
    if av1_low_overhead(data) {
        return Some(Format::Av1LowOverhead);
    }
    if av1_annex_b(data) {
        return Some(Format::Av1AnnexB);
    }
    None
}

/// H.264 or HEVC, when `data` starts with a start code (after zero bytes) and
/// its unit headers fit one codec only.
fn annex_b_nal_stream(data: &[u8]) -> Option<Format> {
    let first_non_zero = data.iter().position(|&byte| byte != 0)?;
    if first_non_zero < 2 || data.get(first_non_zero) != Some(&1) {
        return None;
    }
    let units: Vec<&[u8]> = split_annex_b(data).into_iter().take(MAX_UNITS).collect();
    if units.is_empty() {
        return None;
    }
    let h264 = units.iter().all(|unit| plausible_h264(unit));
    let hevc = units.iter().all(|unit| plausible_hevc(unit))
        && units
            .first()
            .is_some_and(|unit| hevc_layer(unit) == Some(0));
    let h264_sps = h264
        && units
            .iter()
            .any(|unit| unit.first().is_some_and(|h| h & 0x1f == 7) && parse_sps(unit).is_ok());
    let hevc_parameter_sets = hevc
        && units
            .iter()
            .any(|unit| matches!(hevc_type(unit), Some(32..=34)));
    let h264_picture = h264
        && units
            .iter()
            .any(|unit| unit.first().is_some_and(|h| matches!(h & 0x1f, 1 | 5 | 9)));
    let hevc_picture = hevc
        && units
            .iter()
            .any(|unit| matches!(hevc_type(unit), Some(0..=9 | 16..=21 | 35)));
    match (h264_sps, hevc_parameter_sets) {
        (true, false) => return Some(Format::H264),
        (false, true) => return Some(Format::Hevc),
        _ => {}
    }
    match (h264_picture, hevc_picture) {
        (true, false) => Some(Format::H264),
        (false, true) => Some(Format::Hevc),
        _ => None,
    }
}

/// An H.264 NAL unit header as § 7.4.1 allows it: forbidden bit clear, a
/// specified type, and `nal_ref_idc` zero where it must be and non-zero where
/// it must be.
fn plausible_h264(unit: &[u8]) -> bool {
    let Some(&header) = unit.first() else {
        return false;
    };
    let (reference, nal_type) = ((header >> 5) & 3, header & 0x1f);
    header & 0x80 == 0
        && matches!(nal_type, 1..=21)
        && !(matches!(nal_type, 6 | 9..=12) && reference != 0)
        && !(matches!(nal_type, 5 | 7 | 8) && reference == 0)
}

fn hevc_type(unit: &[u8]) -> Option<u8> {
    unit.first().map(|header| (header >> 1) & 0x3f)
}

fn hevc_layer(unit: &[u8]) -> Option<u8> {
    let (&first, &second) = (unit.first()?, unit.get(1)?);
    Some(((first & 1) << 5) | (second >> 3))
}

/// An HEVC NAL unit header as H.265 § 7.4.2.2 allows it: forbidden bit clear,
/// a specified type, `nuh_temporal_id_plus1` non-zero, and temporal id 0 for
/// parameter sets and IRAP pictures.
fn plausible_hevc(unit: &[u8]) -> bool {
    let (Some(&first), Some(&second)) = (unit.first(), unit.get(1)) else {
        return false;
    };
    let nal_type = (first >> 1) & 0x3f;
    let temporal_id_plus1 = second & 7;
    first & 0x80 == 0
        && temporal_id_plus1 != 0
        && matches!(nal_type, 0..=9 | 16..=21 | 32..=40)
        && !(matches!(nal_type, 16..=23 | 32 | 33) && temporal_id_plus1 != 1)
}

/// An OBU header as § 5.3 allows it: forbidden and reserved bits clear, a
/// defined type, and the extension's reserved bits clear.
fn plausible_obu_header(header: u8, extension: Option<u8>) -> bool {
    let obu_type = (header >> 3) & 0x0f;
    header & 0x81 == 0
        && matches!(obu_type, 1..=8 | 15)
        && extension.is_none_or(|byte| byte & 0x07 == 0)
}

/// OBUs with size fields from the first byte: a temporal delimiter or a
/// sequence header first, then a sequence header or a frame in what the window
/// holds.
fn av1_low_overhead(data: &[u8]) -> bool {
    let mut rest = data;
    let mut count = 0;
    let mut content = false;
    while let Some(&header) = rest.first() {
        let has_extension = header & 0x04 != 0;
        let extension = if has_extension {
            rest.get(1).copied()
        } else {
            None
        };
        if header & 0x02 == 0 || (has_extension && extension.is_none()) {
            return false;
        }
        if !plausible_obu_header(header, extension) {
            return false;
        }
        let header_length = if has_extension { 2 } else { 1 };
        let Some((size, length)) = rest.get(header_length..).and_then(read_leb) else {
            // The window ends inside the size field.
            break;
        };
        let obu_type = (header >> 3) & 0x0f;
        let payload = rest.get(header_length + length..).unwrap_or_default();
        if count == 0 {
            let first_ok = match obu_type {
                2 => size == 0,
                1 => {
                    payload.len() < size
                        || SequenceHeader::parse(payload.get(..size).unwrap_or_default()).is_ok()
                }
                _ => false,
            };
            if !first_ok {
                return false;
            }
        }
        content |= matches!(obu_type, OBU_SEQUENCE_HEADER | OBU_FRAME | OBU_FRAME_HEADER);
        count += 1;
        match payload.get(size..) {
            Some(after) => rest = after,
            None => break,
        }
    }
    count >= 1 && content
}

/// A length-delimited temporal unit whose sizes nest, opening with a temporal
/// delimiter, then a sequence header or a frame.
fn av1_annex_b(data: &[u8]) -> bool {
    let Some((unit_size, length)) = read_leb(data) else {
        return false;
    };
    if unit_size == 0 {
        return false;
    }
    let unit = data.get(length..).unwrap_or_default();
    let unit = unit.get(..unit_size).unwrap_or(unit);
    let Some((frame_size, length)) = read_leb(unit) else {
        return false;
    };
    if frame_size == 0 || frame_size + length > unit_size {
        return false;
    }
    let frame = unit.get(length..).unwrap_or_default();
    let mut obus = frame.get(..frame_size).unwrap_or(frame);
    let mut count = 0;
    let mut content = false;
    while !obus.is_empty() {
        let Some((obu_length, length)) = read_leb(obus) else {
            break;
        };
        let Some(obu) = obus.get(length..) else {
            break;
        };
        let Some(&header) = obu.first() else {
            break;
        };
        let extension = if header & 0x04 != 0 {
            obu.get(1).copied()
        } else {
            None
        };
        if obu_length == 0 || !plausible_obu_header(header, extension) {
            return false;
        }
        let obu_type = (header >> 3) & 0x0f;
        if count == 0 && (obu_type != 2 || obu_length > 3) {
            return false;
        }
        content |= matches!(obu_type, OBU_SEQUENCE_HEADER | OBU_FRAME | OBU_FRAME_HEADER);
        count += 1;
        match obus.get(length + obu_length..) {
            Some(after) => obus = after,
            None => break,
        }
    }
    count >= 2 && content
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const H264_SPS: [u8; 7] = [0x67, 0x42, 0xc0, 0x0a, 0xda, 0x10, 0x99];

    fn annex_b(units: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        stillframe_bitstream::framing::write_annex_b(units.iter().copied(), &mut out);
        out
    }

    #[test]
    fn tells_h264_from_hevc() {
        let h264 = annex_b(&[
            &[0x09, 0xf0],
            &H264_SPS,
            &[0x68, 0xce, 0x3c, 0x80],
            &[0x65, 0x88],
        ]);
        assert_eq!(detect(&h264), Some(Format::H264));
        // Slices only, no parameter sets.
        assert_eq!(
            detect(&annex_b(&[&[0x65, 0x88], &[0x41, 0x9a]])),
            Some(Format::H264)
        );
        let hevc = annex_b(&[
            &[0x40, 0x01, 0x0c],
            &[0x42, 0x01, 0x01],
            &[0x44, 0x01, 0xc1],
            &[0x26, 0x01, 0xaf],
        ]);
        assert_eq!(detect(&hevc), Some(Format::Hevc));
        assert_eq!(
            detect(&annex_b(&[&[0x46, 0x01, 0x50], &[0x02, 0x01, 0xd0]])),
            Some(Format::Hevc)
        );
        // Garbage after a start code, or no start code first.
        assert_eq!(detect(&annex_b(&[&[0xff, 0xff]])), None);
        assert_eq!(detect(&[1, 0, 0, 1, 0x65, 0x88]), None);
        assert_eq!(detect(&[]), None);
    }

    #[test]
    fn av1_framings_and_ivf() {
        assert_eq!(detect(b"DKIF\0\0 \0AV01"), Some(Format::Ivf));
        let payload = crate::av1::tests::sequence_header_with_timing();
        let mut low = vec![0x12, 0x00];
        crate::av1::write_obu(OBU_SEQUENCE_HEADER << 3, None, &payload, &mut low);
        assert_eq!(detect(&low), Some(Format::Av1LowOverhead));
        // The same OBUs, length-delimited: TD (obu_length 1), then the sequence
        // header without its size field.
        let mut frame_unit = vec![1, 0x10, u8::try_from(payload.len() + 1).unwrap(), 0x08];
        frame_unit.extend(&payload);
        let mut unit = vec![
            u8::try_from(frame_unit.len() + 1).unwrap(),
            u8::try_from(frame_unit.len()).unwrap(),
        ];
        unit.extend(&frame_unit);
        assert_eq!(detect(&unit), Some(Format::Av1AnnexB));
        // A lone temporal delimiter says too little; a reserved type is nothing.
        assert_eq!(detect(&[0x12, 0x00]), None);
        assert_eq!(detect(&[0x12, 0x00, 0x02, 0x00]), None);
        assert_eq!(detect(&[0x80, 0x00]), None);
    }
}
