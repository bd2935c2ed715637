//! H.264 NAL unit headers (§ 7.3.1, § 7.4.1).

/// `nal_unit_type` of a coded slice of a non-IDR picture.
pub const NAL_SLICE: u8 = 1;
/// `nal_unit_type` of data partition A (Extended profile).
pub const NAL_PARTITION_A: u8 = 2;
/// `nal_unit_type` of a coded slice of an IDR picture: decoding may start here.
pub const NAL_IDR: u8 = 5;
/// `nal_unit_type` of supplemental enhancement information.
pub const NAL_SEI: u8 = 6;
/// `nal_unit_type` of a sequence parameter set.
pub const NAL_SPS: u8 = 7;
/// `nal_unit_type` of a picture parameter set.
pub const NAL_PPS: u8 = 8;
/// `nal_unit_type` of an access unit delimiter.
pub const NAL_AUD: u8 = 9;

/// `nal_unit_type` (the low five bits of the header byte); `None` for an empty unit.
pub fn nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|header| header & 0x1f)
}

/// `nal_ref_idc` (bits 5–6 of the header byte): zero when no picture refers to it.
pub fn nal_ref_idc(nal: &[u8]) -> Option<u8> {
    nal.first().map(|header| (header >> 5) & 3)
}

/// True for the coded slice types 1 to 5 (§ 7.4.1, Table 7-1).
pub fn is_vcl(nal: &[u8]) -> bool {
    matches!(nal_type(nal), Some(1..=5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields() {
        assert_eq!(nal_type(&[0x65]), Some(NAL_IDR));
        assert_eq!(nal_ref_idc(&[0x65]), Some(3));
        assert_eq!(nal_ref_idc(&[0x01]), Some(0));
        assert!(is_vcl(&[0x01]) && !is_vcl(&[0x67]) && !is_vcl(&[]));
        assert_eq!(nal_type(&[]), None);
    }
}
