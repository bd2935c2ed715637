//! The Dolby Vision configuration record (`dvcC`/`dvvC`/`dvwC` payload in MP4, the
//! `BlockAdditionMapping` extra data in Matroska; Dolby's "Dolby Vision Streams Within
//! the ISO Base Media File Format" § 3.2) and whether its base layer can be shown
//! as plain HEVC.

use stillframe_core::{Error, Result};

/// A `DOVIDecoderConfigurationRecord`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DolbyVisionConfig {
    /// `dv_version_major`.
    pub version_major: u8,
    /// `dv_version_minor`.
    pub version_minor: u8,
    /// `dv_profile`: 5 (single layer, IPT-PQ-c2), 7 (dual layer, UHD Blu-ray),
    /// 8 (single layer, cross-compatible), 9 (AVC), 10 (AV1), 20 (MV-HEVC), ...
    pub profile: u8,
    /// `dv_level`.
    pub level: u8,
    /// `rpu_present_flag`: the stream carries reference processing units.
    pub rpu_present: bool,
    /// `el_present_flag`: the stream carries an enhancement layer.
    pub el_present: bool,
    /// `bl_present_flag`: the stream carries a base layer.
    pub bl_present: bool,
    /// `dv_bl_signal_compatibility_id`: what a decoder without Dolby Vision sees in
    /// the base layer (0 none, 1 HDR10, 2 SDR, 4 HLG, 6 UHD Blu-ray HDR10); `None`
    /// in the 4-byte records of early muxers, which end before it.
    pub bl_signal_compatibility_id: Option<u8>,
}

/// Parses a Dolby Vision configuration record (the box payload, without its header).
///
/// Fails with [`Error::Malformed`] for a record shorter than 4 bytes. Like ffmpeg, a
/// 4-byte record (no compatibility id) is accepted.
///
/// ```
/// use stillframe_bitstream::hevc::dolby_vision_config;
/// // Profile 8, level 6, RPU and base layer, compatibility id 4 (HLG): an iPhone.
/// let record = [1, 0, 0x10, 0x35, 0x40, 0, 0, 0];
/// let config = dolby_vision_config(&record).unwrap();
/// assert_eq!(config.name(), "Dolby Vision profile 8.4");
/// assert!(config.hevc_base_layer_is_showable());
/// ```
pub fn dolby_vision_config(record: &[u8]) -> Result<DolbyVisionConfig> {
    let Some(&[version_major, version_minor, first, second]) = record.get(..4) else {
        return Err(Error::malformed(
            "Dolby Vision configuration (dvcC/dvvC)",
            format!("{} bytes, fewer than the 4 of its fields", record.len()),
        ));
    };
    Ok(DolbyVisionConfig {
        version_major,
        version_minor,
        profile: first >> 1,
        level: ((first & 1) << 5) | (second >> 3),
        rpu_present: second & 0x04 != 0,
        el_present: second & 0x02 != 0,
        bl_present: second & 0x01 != 0,
        bl_signal_compatibility_id: record.get(4).map(|byte| byte >> 4),
    })
}

impl DolbyVisionConfig {
    /// "Dolby Vision profile 8.4": the profile, and the compatibility id after a dot
    /// where there is one that is not 0.
    pub fn name(&self) -> String {
        match self.bl_signal_compatibility_id {
            Some(id) if id != 0 => format!("Dolby Vision profile {}.{id}", self.profile),
            _ => format!("Dolby Vision profile {}", self.profile),
        }
    }

    /// True when the stream's base layer is an HEVC picture a decoder without Dolby
    /// Vision shows correctly, with the colour its VUI states: profile 8 with
    /// compatibility id 1 (HDR10), 2 (SDR) or 4 (HLG), profile 7 with 6 (the HDR10
    /// base layer of UHD Blu-ray; its enhancement layer and RPUs are ignored) and
    /// profile 4 with 2 (SDR). Profile 5 is not: its single layer is coded in
    /// Dolby's IPT-PQ-c2 colour space, which shows with wrong colours as YCbCr.
    pub fn hevc_base_layer_is_showable(&self) -> bool {
        self.bl_present
            && matches!(
                (self.profile, self.bl_signal_compatibility_id),
                (8, Some(1 | 2 | 4)) | (7, Some(6)) | (4, Some(2))
            )
    }

    /// `Ok` when the base layer can be shown as HEVC (see
    /// [`DolbyVisionConfig::hevc_base_layer_is_showable`]), else
    /// [`Error::Unsupported`] naming the profile and why.
    ///
    /// ```
    /// use stillframe_bitstream::hevc::dolby_vision_config;
    /// let profile5 = dolby_vision_config(&[1, 0, 0x0a, 0x35, 0x00]).unwrap();
    /// let error = profile5.check_hevc_base_layer().unwrap_err();
    /// assert!(error.to_string().contains("profile 5"), "{error}");
    /// ```
    pub fn check_hevc_base_layer(&self) -> Result<()> {
        if self.hevc_base_layer_is_showable() {
            return Ok(());
        }
        let why = match (self.profile, self.bl_present) {
            (_, false) => "no base layer",
            (5, true) => "IPT-PQ-c2 colour, without an HEVC-compatible base layer",
            (9, true) => "an AVC base layer",
            (10, true) => "an AV1 base layer",
            _ => "no base layer an HEVC decoder shows correctly",
        };
        Err(Error::unsupported(format!("{} ({why})", self.name())))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A 24-byte record as muxers write it.
    fn record(profile: u8, level: u8, flags: u8, compatibility: u8) -> Vec<u8> {
        let mut bytes = vec![
            1,
            0,
            (profile << 1) | (level >> 5),
            ((level & 0x1f) << 3) | flags,
            compatibility << 4,
        ];
        bytes.resize(24, 0);
        bytes
    }

    #[test]
    fn fields() {
        let config = dolby_vision_config(&record(8, 9, 0b101, 1)).unwrap();
        assert_eq!((config.profile, config.level), (8, 9));
        assert!(config.rpu_present && !config.el_present && config.bl_present);
        assert_eq!(config.bl_signal_compatibility_id, Some(1));
        assert_eq!(config.name(), "Dolby Vision profile 8.1");
        // Level 33 spans both bytes.
        assert_eq!(
            dolby_vision_config(&record(20, 33, 7, 0)).unwrap().level,
            33
        );
        // Four bytes: no compatibility id.
        let short = dolby_vision_config(&record(5, 6, 0b101, 0)[..4]).unwrap();
        assert_eq!(short.bl_signal_compatibility_id, None);
        assert!(dolby_vision_config(&[1, 0, 0x10]).is_err());
    }

    #[test]
    fn an_iphone_record() {
        // The dvvC of an iPhone 14 Pro recording (androidx/media's dolbyVision-hdr.MOV).
        let config = dolby_vision_config(&[1, 0, 0x10, 0x15, 0x40, 0, 0, 0]).unwrap();
        assert_eq!((config.profile, config.level), (8, 2));
        assert!(config.rpu_present && config.bl_present && !config.el_present);
        assert_eq!(config.name(), "Dolby Vision profile 8.4");
        assert!(config.check_hevc_base_layer().is_ok());
    }

    #[test]
    fn which_base_layers_show() {
        let showable = |profile, flags, compatibility| {
            dolby_vision_config(&record(profile, 6, flags, compatibility))
                .unwrap()
                .hevc_base_layer_is_showable()
        };
        assert!(showable(8, 0b101, 1) && showable(8, 0b101, 2) && showable(8, 0b101, 4));
        assert!(showable(7, 0b111, 6));
        assert!(!showable(5, 0b101, 0));
        assert!(!showable(8, 0b101, 0));
        assert!(!showable(8, 0b100, 1), "no base layer");
        assert!(!showable(9, 0b101, 2), "AVC");
        let error = dolby_vision_config(&record(5, 6, 0b101, 0))
            .unwrap()
            .check_hevc_base_layer()
            .unwrap_err();
        assert_eq!(error.kind(), stillframe_core::ErrorKind::Unsupported);
        assert!(error.to_string().contains("IPT"), "{error}");
    }
}
