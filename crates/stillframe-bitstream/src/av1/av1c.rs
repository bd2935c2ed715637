//! The AV1 codec configuration record, `av1C` (AV1-ISOBMFF § 2.3.3), which is
//! also Matroska's `CodecPrivate` for `V_AV1`.

use stillframe_core::{ChromaFormat, Error, Result};

use super::obu::{split_obus, OBU_SEQUENCE_HEADER};
use super::sequence::SequenceHeader;

/// An `av1C` record.
#[derive(Clone, PartialEq, Eq)]
pub struct Av1Config {
    /// `seq_profile`.
    pub profile: u8,
    /// `seq_level_idx_0`.
    pub level: u8,
    /// `seq_tier_0`.
    pub tier: u8,
    /// 8, 10 or 12, from `high_bitdepth` and `twelve_bit`.
    pub bit_depth: u8,
    /// `monochrome`.
    pub monochrome: bool,
    /// `chroma_subsampling_x`, `chroma_subsampling_y`.
    pub subsampling: (bool, bool),
    /// `configOBUs`: usually the sequence header OBU, maybe metadata OBUs.
    pub config_obus: Vec<u8>,
}

impl std::fmt::Debug for Av1Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Av1Config")
            .field("profile", &self.profile)
            .field("level", &self.level)
            .field("tier", &self.tier)
            .field("bit_depth", &self.bit_depth)
            .field("monochrome", &self.monochrome)
            .field("subsampling", &self.subsampling)
            .field("config_obus_bytes", &self.config_obus.len())
            .finish()
    }
}

/// Parses an `av1C` payload (without the box header).
///
/// Fails with [`Error::Malformed`] when it is shorter than its 4 fixed bytes or
/// its marker bit is clear. The version is not checked: only version 1 exists.
pub fn parse_av1c(data: &[u8]) -> Result<Av1Config> {
    let [first, second, third, _fourth, ..] = *data else {
        return Err(Error::malformed(
            "av1C",
            format!("{} bytes, at least 4 needed", data.len()),
        ));
    };
    if first & 0x80 == 0 {
        return Err(Error::malformed("av1C", "marker bit is 0"));
    }
    let high_bitdepth = third & 0x40 != 0;
    let twelve_bit = third & 0x20 != 0;
    Ok(Av1Config {
        profile: second >> 5,
        level: second & 0x1f,
        tier: third >> 7,
        bit_depth: match (high_bitdepth, twelve_bit) {
            (true, true) => 12,
            (true, false) => 10,
            (false, _) => 8,
        },
        monochrome: third & 0x10 != 0,
        subsampling: (third & 0x08 != 0, third & 0x04 != 0),
        config_obus: data.get(4..).unwrap_or_default().to_vec(),
    })
}

impl Av1Config {
    /// The sequence header OBU of `configOBUs` as stored (header, size and
    /// payload), if there is one.
    ///
    /// Fails with [`Error::Malformed`] when `configOBUs` cannot be split.
    pub fn sequence_header_obu(&self) -> Result<Option<&[u8]>> {
        Ok(split_obus(&self.config_obus)?
            .into_iter()
            .find(|obu| obu.obu_type == OBU_SEQUENCE_HEADER)
            .map(|obu| obu.bytes))
    }

    /// The sequence header of `configOBUs`, parsed, if there is one.
    ///
    /// Fails with [`Error::Malformed`] when `configOBUs` or the header is broken.
    pub fn sequence_header(&self) -> Result<Option<SequenceHeader>> {
        for obu in split_obus(&self.config_obus)? {
            if obu.obu_type == OBU_SEQUENCE_HEADER {
                return SequenceHeader::parse(obu.payload).map(Some);
            }
        }
        Ok(None)
    }

    /// Chroma subsampling as the record states it.
    pub fn chroma(&self) -> ChromaFormat {
        match (self.monochrome, self.subsampling) {
            (true, _) => ChromaFormat::Monochrome,
            (false, (true, true)) => ChromaFormat::Yuv420,
            (false, (true, false)) => ChromaFormat::Yuv422,
            (false, (false, _)) => ChromaFormat::Yuv444,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fixed_fields() {
        // Main profile, level 8 (4.0), 10-bit 4:2:0, no configOBUs.
        let config = parse_av1c(&[0x81, 0x08, 0x4c, 0x00]).unwrap();
        assert_eq!((config.profile, config.level, config.tier), (0, 8, 0));
        assert_eq!(config.bit_depth, 10);
        assert_eq!(config.chroma(), ChromaFormat::Yuv420);
        assert_eq!(config.sequence_header().unwrap(), None);
        // High profile 4:4:4 8-bit; 12-bit monochrome Professional.
        assert_eq!(
            parse_av1c(&[0x81, 0x20, 0x00, 0]).unwrap().chroma(),
            ChromaFormat::Yuv444
        );
        let professional = parse_av1c(&[0x81, 0x40, 0x7c, 0]).unwrap();
        assert_eq!(professional.bit_depth, 12);
        assert_eq!(professional.chroma(), ChromaFormat::Monochrome);
    }

    #[test]
    fn rejects_short_records_and_a_clear_marker() {
        assert!(parse_av1c(&[0x81, 0, 0]).is_err());
        assert!(parse_av1c(&[0x01, 0, 0, 0]).is_err());
    }
}
