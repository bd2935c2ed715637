//! What a container says about a VP9 track: the MP4 `vpcC` record (VP Codec ISO
//! Media File Format Binding v1.0 § 2.3) or Matroska's `CodecPrivate` (the WebM
//! "VP9 codec feature metadata").

use stillframe_core::{ChromaFormat, CodedFormat, ColourDescription, Crop, Error, Result};

/// A VP9 track's configuration as its container states it; each field is `None`
/// where the record does not say (a Matroska `CodecPrivate` may list any subset of
/// its features, or be absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Vp9Config {
    /// `profile`: 0 to 3.
    pub profile: Option<u8>,
    /// `level`: ten times the VP9 level (10 is level 1, 62 is level 6.2).
    pub level: Option<u8>,
    /// `bitDepth`: 8, 10 or 12.
    pub bit_depth: Option<u8>,
    /// `chromaSubsampling`: 0 is 4:2:0 sited vertically between luma samples, 1
    /// 4:2:0 co-sited with luma, 2 4:2:2, 3 4:4:4.
    pub chroma_subsampling: Option<u8>,
    /// `videoFullRangeFlag`.
    pub full_range: Option<bool>,
    /// `colourPrimaries`, `transferCharacteristics`, `matrixCoefficients` (H.273);
    /// 2 (unspecified) where not stated.
    pub primaries: u8,
    /// See [`Vp9Config::primaries`].
    pub transfer: u8,
    /// See [`Vp9Config::primaries`].
    pub matrix: u8,
}

impl Vp9Config {
    /// Nothing stated.
    pub const UNKNOWN: Vp9Config = Vp9Config {
        profile: None,
        level: None,
        bit_depth: None,
        chroma_subsampling: None,
        full_range: None,
        primaries: ColourDescription::UNSPECIFIED_CODE,
        transfer: ColourDescription::UNSPECIFIED_CODE,
        matrix: ColourDescription::UNSPECIFIED_CODE,
    };

    /// Reads a track's `codec_config`: empty (nothing stated), a `vpcC` payload, or
    /// a Matroska `CodecPrivate`.
    ///
    /// The two are told apart by their first bytes: a `vpcC` payload starts with
    /// version 0 or 1 and three zero flag bytes, and is at least 12 bytes long,
    /// while a feature list starts with a feature ID (1 to 4) and a length of 1.
    /// Fails with [`Error::Malformed`] for a record that is neither.
    pub fn from_codec_config(data: &[u8]) -> Result<Vp9Config> {
        match data {
            [] => Ok(Vp9Config::UNKNOWN),
            [0 | 1, 0, 0, 0, ..] if data.len() >= 12 => parse_vpcc(data),
            _ => parse_codec_private(data),
        }
    }

    /// The chroma format `chromaSubsampling` names, if it is stated and known.
    pub fn chroma(&self) -> Option<ChromaFormat> {
        match self.chroma_subsampling? {
            0 | 1 => Some(ChromaFormat::Yuv420),
            2 => Some(ChromaFormat::Yuv422),
            3 => Some(ChromaFormat::Yuv444),
            _ => None,
        }
    }

    /// The colour description the record states.
    pub fn colour(&self) -> ColourDescription {
        ColourDescription {
            primaries: self.primaries,
            transfer: self.transfer,
            matrix: self.matrix,
            full_range: self.full_range,
        }
    }

    /// What the record says about the pictures, for a track of `width` ×
    /// `height` (the container's size): profile `"Profile N"` (or `"unknown"`),
    /// bit depth and chroma as stated or as the profile implies (8 bits for profiles
    /// 0 and 1, 4:2:0 for profiles 0 and 2; else 8-bit 4:2:0 as a guess), and the
    /// record's colour with `fallback` for what it leaves unspecified.
    ///
    /// ```
    /// use stillframe_bitstream::vp9::Vp9Config;
    /// use stillframe_core::{ChromaFormat, ColourDescription};
    ///
    /// // Matroska CodecPrivate: profile 2, bit depth 10.
    /// let config = Vp9Config::from_codec_config(&[1, 1, 2, 3, 1, 10]).unwrap();
    /// let format = config.coded_format(320, 240, ColourDescription::UNSPECIFIED);
    /// assert_eq!(format.profile, "Profile 2");
    /// assert_eq!((format.bit_depth, format.chroma), (10, ChromaFormat::Yuv420));
    /// ```
    pub fn coded_format(
        &self,
        width: u32,
        height: u32,
        fallback: ColourDescription,
    ) -> CodedFormat {
        let profile = self.profile;
        let bit_depth = self
            .bit_depth
            .or(profile.filter(|&p| p < 2).map(|_| 8))
            .unwrap_or(8);
        let chroma = self
            .chroma()
            .or(profile
                .filter(|&p| p % 2 == 0)
                .map(|_| ChromaFormat::Yuv420))
            .unwrap_or(ChromaFormat::Yuv420);
        CodedFormat {
            profile: profile.map_or_else(|| "unknown".to_owned(), |p| format!("Profile {p}")),
            width,
            height,
            crop: Crop::default(),
            pixel_aspect: None,
            colour: self.colour().or(fallback),
            bit_depth,
            chroma,
        }
    }
}

/// Parses a `vpcC` payload: the FullBox version and flags, then the record.
///
/// Version 1 (the published binding, what ffmpeg and libwebm write) has every
/// field; version 0 (an earlier draft) has profile, level, bit depth, chroma
/// subsampling and range, and its colour fields are not read.
///
/// ```
/// use stillframe_bitstream::vp9::parse_vpcc;
///
/// // Version 1: profile 2, level 3.1, 10-bit 4:2:0 (colocated), full range,
/// // BT.2020 primaries, PQ, BT.2020 NCL; no initialization data.
/// let vpcc = [1, 0, 0, 0, 2, 31, 0xa3, 9, 16, 9, 0, 0];
/// let config = parse_vpcc(&vpcc).unwrap();
/// assert_eq!((config.profile, config.level, config.bit_depth), (Some(2), Some(31), Some(10)));
/// assert_eq!(config.full_range, Some(true));
/// assert_eq!((config.primaries, config.transfer, config.matrix), (9, 16, 9));
/// ```
pub fn parse_vpcc(data: &[u8]) -> Result<Vp9Config> {
    let malformed = |message: String| Error::malformed("vpcC", message);
    let (&version, body) = data
        .split_first()
        .ok_or_else(|| malformed("empty".to_owned()))?;
    let body = body.get(3..).unwrap_or_default(); // flags
    match (version, body) {
        (1, [profile, level, packed, primaries, transfer, matrix, ..]) => Ok(Vp9Config {
            profile: Some(*profile),
            level: Some(*level),
            bit_depth: Some(packed >> 4),
            chroma_subsampling: Some((packed >> 1) & 0x07),
            full_range: Some(packed & 1 == 1),
            primaries: *primaries,
            transfer: *transfer,
            matrix: *matrix,
        }),
        // bitDepth(4) colorSpace(4) chromaSubsampling(4) transferFunction(4)
        // videoFullRangeFlag(1) reserved(7)
        (0, [profile, level, depth_space, chroma_transfer, range, ..]) => Ok(Vp9Config {
            profile: Some(*profile),
            level: Some(*level),
            bit_depth: Some(depth_space >> 4),
            chroma_subsampling: Some(chroma_transfer >> 4),
            full_range: Some(range >> 7 == 1),
            ..Vp9Config::UNKNOWN
        }),
        (0 | 1, _) => Err(malformed(format!(
            "{} bytes, too short for version {version}",
            data.len()
        ))),
        _ => Err(Error::unsupported(format!("vpcC version {version}"))),
    }
}

/// Parses a Matroska `CodecPrivate` for `V_VP9`: a list of features, each an ID
/// byte, a length byte and the value (1 profile, 2 level, 3 bit depth, 4 chroma
/// subsampling). Unknown IDs are skipped; a known one whose length is not 1, or a
/// feature cut short, is [`Error::Malformed`].
///
/// ```
/// use stillframe_bitstream::vp9::parse_codec_private;
/// let config = parse_codec_private(&[1, 1, 0, 2, 1, 31, 4, 1, 1]).unwrap();
/// assert_eq!((config.profile, config.level, config.chroma_subsampling), (Some(0), Some(31), Some(1)));
/// assert_eq!(config.bit_depth, None);
/// ```
pub fn parse_codec_private(data: &[u8]) -> Result<Vp9Config> {
    let malformed = |message: String| Error::malformed("V_VP9 CodecPrivate", message);
    let mut config = Vp9Config::UNKNOWN;
    let mut rest = data;
    while let [id, length, after @ ..] = rest {
        let length = usize::from(*length);
        let value = after.get(..length).ok_or_else(|| {
            malformed(format!(
                "feature {id} claims {length} bytes, {} are left",
                after.len()
            ))
        })?;
        rest = after.get(length..).unwrap_or_default();
        let slot = match id {
            1 => &mut config.profile,
            2 => &mut config.level,
            3 => &mut config.bit_depth,
            4 => &mut config.chroma_subsampling,
            _ => continue,
        };
        match value {
            [byte] => *slot = Some(*byte),
            _ => return Err(malformed(format!("feature {id} is {length} bytes, not 1"))),
        }
    }
    if !rest.is_empty() {
        return Err(malformed("a feature is cut off after its ID".to_owned()));
    }
    Ok(config)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_vpcc_versions_0_and_1() {
        // What ffmpeg writes for the 10-bit fixture: profile 2, level 2.1, 10-bit
        // 4:2:0 colocated, full range, BT.709 throughout, 0 init bytes.
        let v1 = [1, 0, 0, 0, 2, 21, 0xa3, 1, 1, 1, 0, 0];
        let config = Vp9Config::from_codec_config(&v1).unwrap();
        assert_eq!(config.chroma(), Some(ChromaFormat::Yuv420));
        assert_eq!(
            config.colour(),
            ColourDescription {
                primaries: 1,
                transfer: 1,
                matrix: 1,
                full_range: Some(true)
            }
        );
        // Version 0: 8-bit, colour space nibble ignored, 4:4:4, limited range.
        let v0 = [0, 0, 0, 0, 1, 10, 0x82, 0x30, 0x00, 0, 0, 0];
        let config = parse_vpcc(&v0).unwrap();
        assert_eq!(config.profile, Some(1));
        assert_eq!(config.bit_depth, Some(8));
        assert_eq!(config.chroma(), Some(ChromaFormat::Yuv444));
        assert_eq!(config.full_range, Some(false));
        assert_eq!(config.matrix, 2);
    }

    #[test]
    fn rejects_short_and_unknown_vpcc() {
        assert!(parse_vpcc(&[]).is_err());
        assert!(parse_vpcc(&[1, 0, 0, 0, 2, 21, 0xa3]).is_err());
        assert!(matches!(
            parse_vpcc(&[2, 0, 0, 0, 2, 21, 0xa3, 1, 1, 1, 0, 0]),
            Err(Error::Unsupported { .. })
        ));
    }

    #[test]
    fn reads_matroska_features() {
        assert_eq!(
            Vp9Config::from_codec_config(&[]).unwrap(),
            Vp9Config::UNKNOWN
        );
        let config = Vp9Config::from_codec_config(&[3, 1, 12, 9, 2, 0xaa, 0xbb, 1, 1, 3]).unwrap();
        assert_eq!((config.profile, config.bit_depth), (Some(3), Some(12)));
        assert!(parse_codec_private(&[1, 1]).is_err());
        assert!(parse_codec_private(&[1, 2, 0, 0]).is_err());
        assert!(parse_codec_private(&[1]).is_err());
    }

    #[test]
    fn the_format_falls_back_to_what_the_profile_implies() {
        let container = ColourDescription {
            primaries: 1,
            transfer: 1,
            matrix: 1,
            full_range: Some(false),
        };
        let none = Vp9Config::UNKNOWN.coded_format(640, 480, container);
        assert_eq!(none.profile, "unknown");
        assert_eq!((none.bit_depth, none.chroma), (8, ChromaFormat::Yuv420));
        assert_eq!(none.colour, container);
        let profile_1 = Vp9Config {
            profile: Some(1),
            chroma_subsampling: Some(2),
            ..Vp9Config::UNKNOWN
        };
        let format = profile_1.coded_format(640, 480, ColourDescription::UNSPECIFIED);
        assert_eq!((format.bit_depth, format.chroma), (8, ChromaFormat::Yuv422));
    }
}
