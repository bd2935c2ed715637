//! The AVC decoder configuration record (`avcC` payload, ISO/IEC 14496-15 § 5.3.3.1).

use stillframe_core::{Error, Result};

use super::nal::{nal_type, NAL_PPS, NAL_SPS};

const LOCATION: &str = "avcC";

/// An `AVCDecoderConfigurationRecord`: the NAL length size of the samples and the
/// parameter sets to decode them with.
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub struct AvcConfig {
    /// `AVCProfileIndication` (the `profile_idc` of the SPS).
    pub profile_indication: u8,
    /// `profile_compatibility` (the constraint flags of the SPS).
    pub profile_compatibility: u8,
    /// `AVCLevelIndication`.
    pub level_indication: u8,
    /// `lengthSizeMinusOne + 1`: bytes of each NAL unit length in a sample.
    pub nal_length_size: u8,
    /// Sequence parameter set NAL units (header byte included, still escaped).
    pub sps: Vec<Vec<u8>>,
    /// Picture parameter set NAL units.
    pub pps: Vec<Vec<u8>>,
}

impl std::fmt::Debug for AvcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvcConfig")
            .field("profile_indication", &self.profile_indication)
            .field("profile_compatibility", &self.profile_compatibility)
            .field("level_indication", &self.level_indication)
            .field("nal_length_size", &self.nal_length_size)
            .field(
                "sps_bytes",
                &self.sps.iter().map(Vec::len).collect::<Vec<_>>(),
            )
            .field(
                "pps_bytes",
                &self.pps.iter().map(Vec::len).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Parses an `avcC` payload (the record without its box header).
///
/// Every count is checked against the bytes that could hold it. The High-profile
/// extension after the PPS list (chroma format, bit depths, SPS extensions) is not
/// read: the SPS itself says the same. A NAL length size of 3, which 14496-15 does
/// not allow but which is unambiguous, is accepted as ffmpeg accepts it.
///
/// ```
/// let record = [1, 0x42, 0xc0, 0x0a, 0xff, 0xe1, 0, 2, 0x67, 0x42, 1, 0, 2, 0x68, 0xce];
/// let config = stillframe_bitstream::h264::parse_avcc(&record).unwrap();
/// assert_eq!(config.nal_length_size, 4);
/// assert_eq!((config.sps.len(), config.pps.len()), (1, 1));
/// ```
pub fn parse_avcc(record: &[u8]) -> Result<AvcConfig> {
    let mut reader = Reader {
        data: record,
        position: 0,
    };
    let version = reader.u8("configurationVersion")?;
    if version != 1 {
        return Err(Error::malformed(
            LOCATION,
            format!("configurationVersion is {version}, not 1"),
        ));
    }
    let profile_indication = reader.u8("AVCProfileIndication")?;
    let profile_compatibility = reader.u8("profile_compatibility")?;
    let level_indication = reader.u8("AVCLevelIndication")?;
    let nal_length_size = (reader.u8("lengthSizeMinusOne")? & 3) + 1;
    let sps_count = reader.u8("numOfSequenceParameterSets")? & 0x1f;
    let sps = reader.parameter_sets(usize::from(sps_count), NAL_SPS, "SPS")?;
    // A record cut after its SPS list is common enough in old muxers (and harmless
    // with in-band PPS) that ffmpeg accepts it; so do we.
    let pps = if reader.position == record.len() {
        Vec::new()
    } else {
        let pps_count = reader.u8("numOfPictureParameterSets")?;
        reader.parameter_sets(usize::from(pps_count), NAL_PPS, "PPS")?
    };
    Ok(AvcConfig {
        profile_indication,
        profile_compatibility,
        level_indication,
        nal_length_size,
        sps,
        pps,
    })
}

/// Writes an `avcC` payload for `sps` and `pps` (whole NAL units, still escaped),
/// with 4-byte NAL lengths: the record a raw stream's leading parameter sets make,
/// as ffmpeg derives extradata from them. Profile and level come from the first
/// SPS. `None` without an SPS, or when the units do not fit a record (more than
/// 31 SPS or 255 PPS, a unit over 65,535 bytes).
///
/// ```
/// use stillframe_bitstream::h264::{parse_avcc, write_avcc};
/// let record = write_avcc(&[vec![0x67, 0x42, 0xc0, 0x0a]], &[vec![0x68, 0xce]]).unwrap();
/// let config = parse_avcc(&record).unwrap();
/// assert_eq!((config.profile_indication, config.level_indication), (0x42, 0x0a));
/// assert_eq!((config.sps.len(), config.pps.len(), config.nal_length_size), (1, 1, 4));
/// ```
pub fn write_avcc(sps: &[Vec<u8>], pps: &[Vec<u8>]) -> Option<Vec<u8>> {
    let first = sps.first()?;
    let sps_count = u8::try_from(sps.len()).ok().filter(|&n| n <= 31)?;
    let pps_count = u8::try_from(pps.len()).ok()?;
    let mut record = vec![
        1,
        *first.get(1)?,
        *first.get(2)?,
        *first.get(3)?,
        0xfc | 3,
        0xe0 | sps_count,
    ];
    let put = |record: &mut Vec<u8>, unit: &[u8]| -> Option<()> {
        record.extend_from_slice(&u16::try_from(unit.len()).ok()?.to_be_bytes());
        record.extend_from_slice(unit);
        Some(())
    };
    for unit in sps {
        put(&mut record, unit)?;
    }
    record.push(pps_count);
    for unit in pps {
        put(&mut record, unit)?;
    }
    Some(record)
}

struct Reader<'a> {
    data: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.position.checked_add(count);
        let bytes = end
            .and_then(|end| self.data.get(self.position..end))
            .ok_or_else(|| {
                Error::malformed(
                    LOCATION,
                    format!(
                        "{what} needs {count} bytes at byte {}, but the record is {} bytes",
                        self.position,
                        self.data.len()
                    ),
                )
            })?;
        self.position += count;
        Ok(bytes)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn parameter_sets(
        &mut self,
        count: usize,
        expected_type: u8,
        name: &str,
    ) -> Result<Vec<Vec<u8>>> {
        // Each entry takes at least its 2-byte length.
        let left = self.data.len() - self.position;
        if count * 2 > left {
            return Err(Error::malformed(
                LOCATION,
                format!("{count} {name}s cannot fit in the {left} bytes left"),
            ));
        }
        let mut sets = Vec::with_capacity(count);
        for _ in 0..count {
            let length_bytes = self.take(2, name)?;
            let length = usize::from(u16::from_be_bytes([length_bytes[0], length_bytes[1]]));
            let unit = self.take(length, name)?;
            if nal_type(unit) != Some(expected_type) {
                return Err(Error::malformed(
                    LOCATION,
                    format!(
                        "{name} entry holds NAL unit type {:?}, not {expected_type}",
                        nal_type(unit)
                    ),
                ));
            }
            sets.push(unit.to_vec());
        }
        Ok(sets)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const RECORD: [u8; 19] = [
        1, 100, 0, 30, 0xfd, 0xe1, 0, 4, 0x67, 100, 0, 30, 1, 0, 4, 0x68, 0xeb, 0xe3, 0xcb,
    ];

    #[test]
    fn parses_a_record() {
        let config = parse_avcc(&RECORD).unwrap();
        assert_eq!(config.profile_indication, 100);
        assert_eq!(config.level_indication, 30);
        assert_eq!(config.nal_length_size, 2);
        assert_eq!(config.sps, [vec![0x67, 100, 0, 30]]);
        assert_eq!(config.pps, [vec![0x68, 0xeb, 0xe3, 0xcb]]);
    }

    #[test]
    fn every_truncation_is_an_error_or_drops_only_the_pps() {
        for cut in 0..RECORD.len() {
            match parse_avcc(&RECORD[..cut]) {
                Ok(config) => assert!(config.pps.is_empty() && cut == 12),
                Err(error) => assert!(matches!(error, Error::Malformed { .. })),
            }
        }
    }

    #[test]
    fn rejects_bad_records() {
        let mut wrong_version = RECORD;
        wrong_version[0] = 0;
        assert!(parse_avcc(&wrong_version).is_err());
        let mut wrong_type = RECORD;
        wrong_type[8] = 0x68;
        assert!(parse_avcc(&wrong_type).is_err());
        // 31 SPS announced in 6 bytes.
        let error = parse_avcc(&[1, 100, 0, 30, 0xff, 0xff, 0, 0, 0, 0, 0, 0]).unwrap_err();
        assert!(error.to_string().contains("cannot fit"), "{error}");
    }
}
