//! The HEVC decoder configuration record (`hvcC` payload, ISO/IEC 14496-15 § 8.3.3.1),
//! also Matroska's `CodecPrivate` for `V_MPEGH/ISO/HEVC`.

use stillframe_core::{Error, Result};

use super::nal::{NalHeader, NAL_PPS, NAL_SPS, NAL_VPS};
use super::ptl::ProfileTierLevel;
use super::sps::parse_sps;
use crate::framing::split_annex_b;

const LOCATION: &str = "hvcC";

/// Bytes of the record before its arrays.
const HEADER_BYTES: usize = 23;

/// One array of the record: NAL units of one type.
#[derive(Clone, PartialEq, Eq)]
pub struct NalArray {
    /// `array_completeness`: every unit of this type is here, none in-band (set for
    /// `hvc1`, clear for `hev1`).
    pub complete: bool,
    /// `NAL_unit_type` the array declares.
    pub nal_type: u8,
    /// The NAL units, header bytes included, still escaped.
    pub units: Vec<Vec<u8>>,
}

impl std::fmt::Debug for NalArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NalArray")
            .field("complete", &self.complete)
            .field("nal_type", &self.nal_type)
            .field(
                "unit_bytes",
                &self.units.iter().map(Vec::len).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// An `HEVCDecoderConfigurationRecord`: how samples frame their NAL units, what the
/// stream claims to be, and the parameter sets (and SEI) to decode it with.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcConfig {
    /// `configurationVersion` (1; some early muxers wrote 0).
    pub version: u8,
    /// `general_profile_space` … `general_level_idc`, as the SPS's
    /// `profile_tier_level` has them.
    pub profile_tier_level: ProfileTierLevel,
    /// `min_spatial_segmentation_idc`.
    pub min_spatial_segmentation_idc: u16,
    /// `parallelismType`: 0 unknown, 1 slices, 2 tiles, 3 wavefront.
    pub parallelism_type: u8,
    /// `chromaFormat` (`chroma_format_idc`).
    pub chroma_format_idc: u8,
    /// `bitDepthLumaMinus8 + 8`.
    pub bit_depth_luma: u8,
    /// `bitDepthChromaMinus8 + 8`.
    pub bit_depth_chroma: u8,
    /// `avgFrameRate` in frames per 256 seconds; 0 unspecified.
    pub avg_frame_rate: u16,
    /// `constantFrameRate`.
    pub constant_frame_rate: u8,
    /// `numTemporalLayers`: temporal sub-layers of the stream; 0 unknown.
    pub num_temporal_layers: u8,
    /// `temporalIdNested`.
    pub temporal_id_nested: bool,
    /// `lengthSizeMinusOne + 1`: bytes of each NAL unit length in a sample.
    pub nal_length_size: u8,
    /// The arrays of NAL units, in record order.
    pub arrays: Vec<NalArray>,
}

impl HevcConfig {
    /// Every unit of the record whose own header says `nal_type`, in record order
    /// (arrays are not trusted to hold only the type they declare).
    pub fn units_of_type(&self, nal_type: u8) -> impl Iterator<Item = &[u8]> {
        self.arrays
            .iter()
            .flat_map(|array| array.units.iter())
            .map(Vec::as_slice)
            .filter(move |unit| NalHeader::parse(unit).map(|h| h.nal_type) == Some(nal_type))
    }

    /// The VPS, SPS and PPS units, in that order: what a decoder needs before the
    /// first picture.
    pub fn parameter_sets(&self) -> impl Iterator<Item = &[u8]> {
        [NAL_VPS, NAL_SPS, NAL_PPS]
            .into_iter()
            .flat_map(|nal_type| self.units_of_type(nal_type))
    }
}

/// Parses an `hvcC` payload (the record without its box header).
///
/// Every count is checked against the bytes that could hold it. A NAL length size
/// of 3, which 14496-15 does not allow but which is unambiguous, is accepted as
/// ffmpeg accepts it; so is any `configurationVersion`.
///
/// ```
/// use stillframe_bitstream::hevc::{parse_hvcc, NAL_PPS};
/// let mut record = vec![1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93, 0xf0, 0, 0xfc,
///                       0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 1];
/// record.extend([0x80 | 34, 0, 1, 0, 7, 0x44, 0x01, 0xc1, 0x72, 0xb4, 0x22, 0x40]);
/// let config = parse_hvcc(&record).unwrap();
/// assert_eq!((config.nal_length_size, config.bit_depth_luma), (4, 8));
/// assert_eq!(config.units_of_type(NAL_PPS).count(), 1);
/// ```
pub fn parse_hvcc(record: &[u8]) -> Result<HevcConfig> {
    let Some(header) = record.get(..HEADER_BYTES) else {
        return Err(Error::malformed(
            LOCATION,
            format!(
                "{} bytes, fewer than the {HEADER_BYTES} of its fixed fields",
                record.len()
            ),
        ));
    };
    let be = |bytes: &[u8]| bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
    let profile_tier_level = ProfileTierLevel {
        profile_space: header[1] >> 6,
        high_tier: header[1] & 0x20 != 0,
        profile_idc: header[1] & 0x1f,
        compatibility_flags: u32::try_from(be(&header[2..6])).unwrap_or(0),
        constraint_flags: be(&header[6..12]),
        level_idc: header[12],
    };
    let mut arrays = Vec::new();
    let mut rest = &record[HEADER_BYTES..];
    for index in 0..header[22] {
        let Some((&[array_header, count_high, count_low], after)) = rest.split_first_chunk::<3>()
        else {
            return Err(Error::malformed(
                LOCATION,
                format!("array {index} is cut short ({} bytes left)", rest.len()),
            ));
        };
        let count = usize::from(u16::from_be_bytes([count_high, count_low]));
        // Each unit takes at least its 2-byte length.
        if count * 2 > after.len() {
            return Err(Error::malformed(
                LOCATION,
                format!(
                    "array {index} announces {count} NAL units, which cannot fit in the {} \
                     bytes left",
                    after.len()
                ),
            ));
        }
        rest = after;
        let mut units = Vec::with_capacity(count);
        for unit_index in 0..count {
            let cut = || {
                Error::malformed(
                    LOCATION,
                    format!("NAL unit {unit_index} of array {index} runs past the end"),
                )
            };
            let (length, after) = rest.split_first_chunk::<2>().ok_or_else(cut)?;
            let (unit, after) = after
                .split_at_checked(usize::from(u16::from_be_bytes(*length)))
                .ok_or_else(cut)?;
            if !unit.is_empty() {
                units.push(unit.to_vec());
            }
            rest = after;
        }
        arrays.push(NalArray {
            complete: array_header & 0x80 != 0,
            nal_type: array_header & 0x3f,
            units,
        });
    }
    Ok(HevcConfig {
        version: header[0],
        profile_tier_level,
        min_spatial_segmentation_idc: u16::from_be_bytes([header[13], header[14]]) & 0x0fff,
        parallelism_type: header[15] & 0x03,
        chroma_format_idc: header[16] & 0x03,
        bit_depth_luma: (header[17] & 0x07) + 8,
        bit_depth_chroma: (header[18] & 0x07) + 8,
        avg_frame_rate: u16::from_be_bytes([header[19], header[20]]),
        constant_frame_rate: header[21] >> 6,
        num_temporal_layers: (header[21] >> 3) & 0x07,
        temporal_id_nested: header[21] & 0x04 != 0,
        nal_length_size: (header[21] & 0x03) + 1,
        arrays,
    })
}

/// Reads a track's codec configuration: an `hvcC` record, or — as some Matroska
/// muxers write `CodecPrivate` and as ffmpeg accepts — parameter sets in Annex B
/// form (then samples are taken to have 4-byte lengths, and the record's other
/// fields are zero). `None` for an empty configuration.
pub fn parse_codec_config(config: &[u8]) -> Result<Option<HevcConfig>> {
    if config.is_empty() {
        return Ok(None);
    }
    // ffmpeg's test: a record never starts with 00 00 00 or 00 00 01.
    if config.len() > 3 && config[0] == 0 && config[1] == 0 && config[2] <= 1 {
        let mut arrays: Vec<NalArray> = Vec::new();
        for unit in split_annex_b(config) {
            let Some(header) = NalHeader::parse(unit) else {
                continue;
            };
            match arrays
                .iter_mut()
                .find(|array| array.nal_type == header.nal_type)
            {
                Some(array) => array.units.push(unit.to_vec()),
                None => arrays.push(NalArray {
                    complete: false,
                    nal_type: header.nal_type,
                    units: vec![unit.to_vec()],
                }),
            }
        }
        return Ok(Some(HevcConfig {
            version: 0,
            profile_tier_level: ProfileTierLevel::default(),
            min_spatial_segmentation_idc: 0,
            parallelism_type: 0,
            chroma_format_idc: 0,
            bit_depth_luma: 8,
            bit_depth_chroma: 8,
            avg_frame_rate: 0,
            constant_frame_rate: 0,
            num_temporal_layers: 0,
            temporal_id_nested: false,
            nal_length_size: 4,
            arrays,
        }));
    }
    parse_hvcc(config).map(Some)
}

/// Writes an `hvcC` payload for `vps`, `sps` and `pps` (whole NAL units with their
/// two header bytes, still escaped), with 4-byte NAL lengths: the record a raw
/// stream's leading parameter sets make, as ffmpeg derives extradata from them.
///
/// Profile, tier, level, compatibility and constraint flags, chroma format, bit
/// depths, `numTemporalLayers` (`sps_max_sub_layers`) and `temporalIdNested` come
/// from the first SPS; the fields nothing here knows (spatial segmentation,
/// parallelism, frame rate) are 0, "unspecified". Each non-empty list becomes one
/// array, VPS then SPS then PPS, with `array_completeness` set.
///
/// `None` without an SPS, when the first SPS cannot be read or has a bit depth
/// above the record's 15, when a unit is not of its list's type, or when the units
/// do not fit a record (more than 65,535 of a type, one empty or over 65,535 bytes).
///
/// ```
/// use stillframe_bitstream::hevc::{parse_codec_config, write_hvcc, NAL_PPS};
/// // x265's parameter sets of a 320x240 Main stream (tests/fixtures/hevc).
/// let vps = vec![
///     0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90,
///     0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x95, 0x94, 0x09,
/// ];
/// let sps = vec![
///     0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
///     0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x16, 0x59, 0x59, 0x64,
///     0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03,
///     0x00, 0x32, 0x10,
/// ];
/// let pps = vec![0x44, 0x01, 0xc1, 0x72, 0xb4, 0x22, 0x40];
/// let record = write_hvcc(&[vps], &[sps], &[pps.clone()]).unwrap();
/// let config = parse_codec_config(&record).unwrap().unwrap();
/// assert_eq!(config.profile_tier_level.profile_name(), "Main");
/// assert_eq!((config.profile_tier_level.level_idc, config.nal_length_size), (60, 4));
/// assert_eq!(config.parameter_sets().count(), 3);
/// assert!(config.units_of_type(NAL_PPS).eq([&pps[..]]));
/// ```
pub fn write_hvcc(vps: &[Vec<u8>], sps: &[Vec<u8>], pps: &[Vec<u8>]) -> Option<Vec<u8>> {
    let first = parse_sps(sps.first()?).ok()?;
    let ptl = first.profile_tier_level;
    // bitDepthLumaMinus8 and bitDepthChromaMinus8 have 3 bits: 16-bit streams
    // (which the SPS allows) have no record.
    let depth = |bits: u8| bits.checked_sub(8).filter(|&minus8| minus8 <= 7);
    let (luma, chroma) = (depth(first.bit_depth_luma)?, depth(first.bit_depth_chroma)?);
    let arrays: Vec<(u8, &[Vec<u8>])> = [(NAL_VPS, vps), (NAL_SPS, sps), (NAL_PPS, pps)]
        .into_iter()
        .filter(|(_, units)| !units.is_empty())
        .collect();
    let mut record = Vec::with_capacity(HEADER_BYTES);
    record.push(1);
    record.push(
        ((ptl.profile_space & 0x03) << 6)
            | (u8::from(ptl.high_tier) << 5)
            | (ptl.profile_idc & 0x1f),
    );
    record.extend_from_slice(&ptl.compatibility_flags.to_be_bytes());
    // The 48 constraint bits are the low six bytes of the u64.
    record.extend_from_slice(&ptl.constraint_flags.to_be_bytes()[2..]);
    record.push(ptl.level_idc);
    // Reserved bits are all ones; min_spatial_segmentation_idc and parallelismType 0.
    record.extend_from_slice(&[0xf0, 0x00, 0xfc]);
    record.push(0xfc | (first.chroma_format_idc & 0x03));
    record.push(0xf8 | luma);
    record.push(0xf8 | chroma);
    // avgFrameRate 0: unspecified.
    record.extend_from_slice(&[0, 0]);
    // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3.
    record.push(
        ((first.max_sub_layers & 0x07) << 3) | (u8::from(first.temporal_id_nesting) << 2) | 3,
    );
    record.push(u8::try_from(arrays.len()).ok()?);
    for (nal_type, units) in arrays {
        record.push(0x80 | nal_type);
        record.extend_from_slice(&u16::try_from(units.len()).ok()?.to_be_bytes());
        for unit in units {
            if NalHeader::parse(unit).map(|header| header.nal_type) != Some(nal_type) {
                return None;
            }
            record.extend_from_slice(&u16::try_from(unit.len()).ok()?.to_be_bytes());
            record.extend_from_slice(unit);
        }
    }
    Some(record)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// x265's record of a 4:2:2 10-bit stream (tests/fixtures/hevc/hevc_422_10bit.mp4).
    const RECORD: &str = "0104080000009d08000000001ef000fcfefafa00000f0320000100\
                          1740010c01ffff0408000003009d0800000300001e9594092100010029\
                          4201010408000003009d0800000300001eb014207936595964932bc05a\
                          0200000300020000030032102200010007 4401c172b42240";

    fn record() -> Vec<u8> {
        let hex: String = RECORD.chars().filter(|c| !c.is_whitespace()).collect();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn parses_x265s_record() {
        let config = parse_hvcc(&record()).unwrap();
        assert_eq!(config.version, 1);
        assert_eq!(config.profile_tier_level.profile_name(), "Rext");
        assert_eq!(
            config.profile_tier_level.rext_profile_name(),
            Some("Main 4:2:2 10")
        );
        assert_eq!(config.profile_tier_level.level_idc, 30);
        assert_eq!(config.chroma_format_idc, 2);
        assert_eq!((config.bit_depth_luma, config.bit_depth_chroma), (10, 10));
        assert_eq!((config.nal_length_size, config.num_temporal_layers), (4, 1));
        assert!(config.temporal_id_nested);
        let types: Vec<u8> = config.arrays.iter().map(|a| a.nal_type).collect();
        assert_eq!(types, [NAL_VPS, NAL_SPS, NAL_PPS]);
        assert!(config.arrays.iter().all(|a| !a.complete));
        let sets: Vec<usize> = config.parameter_sets().map(<[u8]>::len).collect();
        assert_eq!(sets, [23, 41, 7]);
    }

    #[test]
    fn every_truncation_is_malformed() {
        let record = record();
        for cut in 0..record.len() {
            let result = parse_hvcc(&record[..cut]);
            assert!(
                matches!(result, Err(Error::Malformed { .. })),
                "cut at {cut}: {result:?}"
            );
        }
        // 0xffff units announced in 3 bytes.
        let mut huge = record[..HEADER_BYTES].to_vec();
        huge[22] = 1;
        huge.extend([0x20, 0xff, 0xff, 0, 0, 0]);
        let error = parse_hvcc(&huge).unwrap_err();
        assert!(error.to_string().contains("cannot fit"), "{error}");
    }

    /// The VPS, SPS and PPS units of x265's record.
    fn x265_sets() -> [Vec<Vec<u8>>; 3] {
        let config = parse_hvcc(&record()).unwrap();
        [NAL_VPS, NAL_SPS, NAL_PPS].map(|t| config.units_of_type(t).map(<[u8]>::to_vec).collect())
    }

    #[test]
    fn writes_x265s_record_back() {
        let [vps, sps, pps] = x265_sets();
        let written = write_hvcc(&vps, &sps, &pps).unwrap();
        // Byte for byte what x265 wrote, but for array_completeness (x265's hev1
        // record leaves it clear) in the three array headers.
        let mut expected = record();
        for at in [23, 51, 97] {
            expected[at] |= 0x80;
        }
        assert_eq!(written, expected);
        let original = parse_hvcc(&record()).unwrap();
        let parsed = parse_codec_config(&written).unwrap().unwrap();
        assert_eq!(parsed.profile_tier_level, original.profile_tier_level);
        assert_eq!(
            (
                parsed.chroma_format_idc,
                parsed.bit_depth_luma,
                parsed.bit_depth_chroma
            ),
            (2, 10, 10)
        );
        assert_eq!((parsed.num_temporal_layers, parsed.nal_length_size), (1, 4));
        assert!(parsed.temporal_id_nested);
        assert_eq!((parsed.avg_frame_rate, parsed.parallelism_type), (0, 0));
        assert!(parsed.arrays.iter().all(|a| a.complete));
        assert!(parsed.parameter_sets().eq(original.parameter_sets()));
    }

    #[test]
    fn writes_only_the_arrays_it_has_and_several_units_in_one() {
        let [_, sps, pps] = x265_sets();
        let two_pps = [pps[0].clone(), pps[0].clone()];
        let parsed = parse_hvcc(&write_hvcc(&[], &sps, &two_pps).unwrap()).unwrap();
        let arrays: Vec<(u8, usize)> = parsed
            .arrays
            .iter()
            .map(|a| (a.nal_type, a.units.len()))
            .collect();
        assert_eq!(arrays, [(NAL_SPS, 1), (NAL_PPS, 2)]);
    }

    #[test]
    fn refuses_what_no_record_can_say() {
        let [vps, sps, pps] = x265_sets();
        assert_eq!(write_hvcc(&vps, &[], &pps), None, "no SPS");
        assert_eq!(
            write_hvcc(&vps, &[vec![0x42, 0x01, 0xff]], &pps),
            None,
            "broken SPS"
        );
        assert_eq!(
            write_hvcc(&vps, &sps, &sps),
            None,
            "an SPS in the PPS array"
        );
        assert_eq!(write_hvcc(&vps, &sps, &[Vec::new()]), None, "an empty unit");
        let mut huge = pps[0].clone();
        huge.resize(70_000, 0x55);
        assert_eq!(
            write_hvcc(&vps, &sps, &[huge]),
            None,
            "a unit over 65,535 bytes"
        );
        let many = vec![pps[0].clone(); 65_536];
        assert_eq!(write_hvcc(&vps, &sps, &many), None, "65,536 PPS");
    }

    #[test]
    fn annex_b_codec_private_and_empty() {
        assert_eq!(parse_codec_config(&[]).unwrap(), None);
        let parsed = parse_codec_config(&record()).unwrap().unwrap();
        assert_eq!(parsed.chroma_format_idc, 2);
        let config = parse_hvcc(&record()).unwrap();
        let mut annex_b = Vec::new();
        crate::framing::write_annex_b(config.parameter_sets(), &mut annex_b);
        let from_annex_b = parse_codec_config(&annex_b).unwrap().unwrap();
        assert_eq!(from_annex_b.nal_length_size, 4);
        assert!(from_annex_b.parameter_sets().eq(config.parameter_sets()));
    }
}
