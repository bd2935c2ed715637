//! The uncompressed frame header (VP9 Bitstream Specification v0.6 § 6.2, semantics
//! § 7.2), read as far as decoding setup, limits and random access need: up to the
//! frame size and render size.

use stillframe_core::bits::{BitReader, OutOfBits};
use stillframe_core::{ChromaFormat, CodedFormat, ColourDescription, Crop, Error, Result};

const LOCATION: &str = "VP9 frame header";

/// `frame_marker` (§ 7.2): always 2.
const FRAME_MARKER: u32 = 2;
/// `frame_sync_code` (§ 6.2.1): 0x49, 0x83, 0x42.
const SYNC_CODE: u32 = 0x49_83_42;
/// Reference slots of a VP9 decoder (`NUM_REF_FRAMES`, § 3).
pub const NUM_REF_FRAMES: usize = 8;
/// References an inter frame uses: LAST, GOLDEN, ALTREF (`REFS_PER_FRAME`, § 3).
pub const REFS_PER_FRAME: usize = 3;

/// `frame_type` with `intra_only` (§ 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// `KEY_FRAME`: intra, resets the decoder and refreshes every reference slot.
    Key,
    /// A non-key frame with `intra_only` = 1: intra, but it refreshes only the
    /// slots of its `refresh_frame_flags`, so later frames may still use older ones.
    IntraOnly,
    /// A non-key frame predicted from three reference slots.
    Inter,
}

/// `color_space` (§ 7.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorSpace {
    /// `CS_UNKNOWN` (0).
    Unknown,
    /// `CS_BT_601` (1).
    Bt601,
    /// `CS_BT_709` (2).
    Bt709,
    /// `CS_SMPTE_170` (3).
    Smpte170,
    /// `CS_SMPTE_240` (4).
    Smpte240,
    /// `CS_BT_2020` (5).
    Bt2020,
    /// `CS_RESERVED` (6).
    Reserved,
    /// `CS_RGB` (7): sRGB, no chroma subsampling, full range.
    Rgb,
}

impl ColorSpace {
    /// The value of the 3-bit `color_space` field.
    pub fn from_code(code: u8) -> ColorSpace {
        match code {
            1 => ColorSpace::Bt601,
            2 => ColorSpace::Bt709,
            3 => ColorSpace::Smpte170,
            4 => ColorSpace::Smpte240,
            5 => ColorSpace::Bt2020,
            6 => ColorSpace::Reserved,
            7 => ColorSpace::Rgb,
            _ => ColorSpace::Unknown,
        }
    }

    /// The ITU-T H.273 `MatrixCoefficients` code point (as ffmpeg maps it):
    /// BT.601 and SMPTE 170 → 6, BT.709 → 1, SMPTE 240 → 7, BT.2020 → 9 (non-constant
    /// luminance), RGB → 0; unknown and reserved → 2 (unspecified).
    ///
    /// ```
    /// use stillframe_bitstream::vp9::ColorSpace;
    /// assert_eq!(ColorSpace::Bt709.matrix_coefficients(), 1);
    /// assert_eq!(ColorSpace::Rgb.matrix_coefficients(), 0);
    /// ```
    pub const fn matrix_coefficients(self) -> u8 {
        match self {
            ColorSpace::Bt601 | ColorSpace::Smpte170 => 6,
            ColorSpace::Bt709 => 1,
            ColorSpace::Smpte240 => 7,
            ColorSpace::Bt2020 => 9,
            ColorSpace::Rgb => 0,
            ColorSpace::Unknown | ColorSpace::Reserved => ColourDescription::UNSPECIFIED_CODE,
        }
    }
}

/// `color_config()` (§ 6.2.2): what key frames (and intra-only frames above
/// profile 0) say about the samples; inter frames keep the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColorConfig {
    /// `BitDepth`: 8, 10 or 12.
    pub bit_depth: u8,
    /// `color_space`.
    pub color_space: ColorSpace,
    /// `color_range`: full (studio swing when false).
    pub full_range: bool,
    /// `subsampling_x`.
    pub subsampling_x: bool,
    /// `subsampling_y`.
    pub subsampling_y: bool,
}

impl ColorConfig {
    /// What an intra-only frame of profile 0 implies (§ 6.2: 8-bit BT.601 4:2:0; the
    /// range is not coded, and ffmpeg takes it as limited).
    pub const INTRA_ONLY_PROFILE_0: ColorConfig = ColorConfig {
        bit_depth: 8,
        color_space: ColorSpace::Bt601,
        full_range: false,
        subsampling_x: true,
        subsampling_y: true,
    };

    /// The chroma format, or `None` for 4:4:0 (`subsampling_y` without
    /// `subsampling_x`), which VP9 profiles 1 and 3 allow and
    /// [`ChromaFormat`] has no name for.
    pub fn chroma(&self) -> Option<ChromaFormat> {
        match (self.subsampling_x, self.subsampling_y) {
            (true, true) => Some(ChromaFormat::Yuv420),
            (true, false) => Some(ChromaFormat::Yuv422),
            (false, false) => Some(ChromaFormat::Yuv444),
            (false, true) => None,
        }
    }

    /// The matrix and range as H.273 code points; VP9 codes no primaries or
    /// transfer, so those are unspecified (a container may say them).
    pub fn colour(&self) -> ColourDescription {
        ColourDescription {
            matrix: self.color_space.matrix_coefficients(),
            full_range: Some(self.full_range),
            ..ColourDescription::UNSPECIFIED
        }
    }
}

/// How a frame's size is given (§ 6.2.5, § 6.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameSize {
    /// `frame_width_minus_1 + 1`, `frame_height_minus_1 + 1`.
    Explicit {
        /// Width in luma samples, 1 to 65536.
        width: u32,
        /// Height in luma samples, 1 to 65536.
        height: u32,
    },
    /// `found_ref`: the size of the reference `ref_frame_idx[i]` (`i` < 3).
    FromReference(usize),
}

/// `show_existing_frame` = 1: a reference slot shown again, nothing decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShowExistingFrame {
    /// `Profile`.
    pub profile: u8,
    /// `frame_to_show_map_idx`: the slot shown.
    pub slot: u8,
}

/// A frame that is decoded: the uncompressed header up to `render_size()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodedFrame {
    /// `Profile`: 0 to 3.
    pub profile: u8,
    /// Key, intra-only or inter.
    pub frame_type: FrameType,
    /// `show_frame`: false for a hidden frame (an alt-ref shown later, or never).
    pub show_frame: bool,
    /// `error_resilient_mode`.
    pub error_resilient_mode: bool,
    /// `reset_frame_context` (0 when not coded).
    pub reset_frame_context: u8,
    /// `refresh_frame_flags`: the slots this frame replaces (0xff for key frames).
    pub refresh_frame_flags: u8,
    /// The colour configuration of a key or intra-only frame; `None` for inter
    /// frames, which keep the one in force.
    pub color: Option<ColorConfig>,
    /// The frame size.
    pub size: FrameSize,
    /// `render_width_minus_1 + 1`, `render_height_minus_1 + 1` when
    /// `render_and_frame_size_different` is set.
    pub render_size: Option<(u32, u32)>,
    /// `ref_frame_idx` of LAST, GOLDEN and ALTREF for inter frames (zeros otherwise).
    pub ref_frame_idx: [u8; REFS_PER_FRAME],
}

impl CodedFrame {
    /// True for key and intra-only frames.
    pub fn is_intra(&self) -> bool {
        self.frame_type != FrameType::Inter
    }

    /// The explicit frame size, if the header codes one (always for intra frames).
    pub fn explicit_size(&self) -> Option<(u32, u32)> {
        match self.size {
            FrameSize::Explicit { width, height } => Some((width, height)),
            FrameSize::FromReference(_) => None,
        }
    }

    /// What an intra frame's header says about the pictures from here on (see
    /// [`coded_format`]), with `fallback` for what VP9 does not code; `None` for
    /// an inter frame, which carries no colour configuration.
    pub fn coded_format(&self, fallback: ColourDescription) -> Option<Result<CodedFormat>> {
        let color = self.color?;
        let (width, height) = self.explicit_size()?;
        Some(coded_format(self.profile, &color, width, height, fallback))
    }
}

/// One VP9 frame's header, as far as [`FrameHeader::parse`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameHeader {
    /// `show_existing_frame` = 1.
    ShowExisting(ShowExistingFrame),
    /// A frame that is decoded.
    Coded(CodedFrame),
}

impl FrameHeader {
    /// Reads the uncompressed header at the start of one frame (not a whole
    /// superframe: split it first with [`super::split_superframe`]).
    ///
    /// Fails with [`Error::Malformed`] for a wrong `frame_marker` or sync code,
    /// the reserved bit after profile 3 or in `color_config` set, a colour
    /// configuration the profile does not allow (RGB or 4:4:4 in profiles 0 and 2,
    /// 4:2:0 in profiles 1 and 3: libvpx and ffmpeg refuse both), or a header cut
    /// short.
    ///
    /// ```
    /// use stillframe_bitstream::vp9::{FrameHeader, FrameType};
    ///
    /// // A profile 0 key frame, 8-bit BT.601, 320x240.
    /// let key = [0x82, 0x49, 0x83, 0x42, 0x20, 0x13, 0xf0, 0x0e, 0xf0];
    /// let FrameHeader::Coded(frame) = FrameHeader::parse(&key).unwrap() else { panic!() };
    /// assert_eq!(frame.frame_type, FrameType::Key);
    /// assert_eq!(frame.explicit_size(), Some((320, 240)));
    /// // show_existing_frame of slot 5.
    /// assert!(matches!(FrameHeader::parse(&[0x8d]), Ok(FrameHeader::ShowExisting(s)) if s.slot == 5));
    /// ```
    pub fn parse(frame: &[u8]) -> Result<FrameHeader> {
        let mut reader = BitReader::new(frame);
        match read_header(&mut reader) {
            Ok(header) => header,
            Err(OutOfBits) => Err(Error::malformed(
                LOCATION,
                format!("cut short ({} bytes)", frame.len()),
            )),
        }
    }

    /// `Profile`.
    pub fn profile(&self) -> u8 {
        match self {
            FrameHeader::ShowExisting(shown) => shown.profile,
            FrameHeader::Coded(frame) => frame.profile,
        }
    }

    /// True if the frame is output: `show_frame`, or `show_existing_frame`.
    pub fn is_shown(&self) -> bool {
        match self {
            FrameHeader::ShowExisting(_) => true,
            FrameHeader::Coded(frame) => frame.show_frame,
        }
    }

    /// True for a key frame.
    pub fn is_key_frame(&self) -> bool {
        matches!(self, FrameHeader::Coded(frame) if frame.frame_type == FrameType::Key)
    }

    /// The reference slots the frame replaces (0 for `show_existing_frame`, § 7.2).
    pub fn refresh_frame_flags(&self) -> u8 {
        match self {
            FrameHeader::ShowExisting(_) => 0,
            FrameHeader::Coded(frame) => frame.refresh_frame_flags,
        }
    }

    /// The decoded frame's header, or `None` for `show_existing_frame`.
    pub fn coded(&self) -> Option<&CodedFrame> {
        match self {
            FrameHeader::ShowExisting(_) => None,
            FrameHeader::Coded(frame) => Some(frame),
        }
    }
}

/// What a key frame (or intra-only frame) says about the pictures: profile
/// (`"Profile 0"` to `"Profile 3"`), size, bit depth, chroma, and colour (matrix
/// and range from `color`, anything unspecified there from `fallback`, such as the
/// container's primaries and transfer).
///
/// Fails with [`Error::Unsupported`] for 4:4:0, which a [`CodedFormat`] cannot
/// describe.
pub fn coded_format(
    profile: u8,
    color: &ColorConfig,
    width: u32,
    height: u32,
    fallback: ColourDescription,
) -> Result<CodedFormat> {
    let chroma = color
        .chroma()
        .ok_or_else(|| Error::unsupported("VP9 4:4:0 chroma subsampling"))?;
    Ok(CodedFormat {
        profile: format!("Profile {profile}"),
        width,
        height,
        crop: Crop::default(),
        pixel_aspect: None,
        colour: color.colour().or(fallback),
        bit_depth: color.bit_depth,
        chroma,
    })
}

/// `uncompressed_header()` (§ 6.2) up to `render_size()`. The outer error is a
/// header cut short; the inner one a field out of its allowed range.
fn read_header(r: &mut BitReader<'_>) -> Result<Result<FrameHeader>, OutOfBits> {
    let malformed = |message: &str| Ok(Err(Error::malformed(LOCATION, message)));
    if r.bits(2)? != FRAME_MARKER {
        return malformed("frame_marker is not 2");
    }
    let profile_low = r.u8(1)?;
    let profile = (r.u8(1)? << 1) | profile_low;
    if profile == 3 && r.flag()? {
        return malformed("the reserved bit after profile 3 is set");
    }
    if r.flag()? {
        let slot = r.u8(3)?;
        return Ok(Ok(FrameHeader::ShowExisting(ShowExistingFrame {
            profile,
            slot,
        })));
    }
    let key_frame = !r.flag()?;
    let show_frame = r.flag()?;
    let error_resilient_mode = r.flag()?;
    let mut frame = CodedFrame {
        profile,
        frame_type: FrameType::Key,
        show_frame,
        error_resilient_mode,
        reset_frame_context: 0,
        refresh_frame_flags: 0xff,
        color: None,
        size: FrameSize::Explicit {
            width: 0,
            height: 0,
        },
        render_size: None,
        ref_frame_idx: [0; REFS_PER_FRAME],
    };
    if key_frame {
        if r.bits(24)? != SYNC_CODE {
            return malformed("frame_sync_code is wrong");
        }
        frame.color = match read_color_config(r, profile)? {
            Ok(color) => Some(color),
            Err(error) => return Ok(Err(error)),
        };
        frame.size = read_frame_size(r)?;
        frame.render_size = read_render_size(r)?;
        return Ok(Ok(FrameHeader::Coded(frame)));
    }
    let intra_only = !show_frame && r.flag()?;
    if !error_resilient_mode {
        frame.reset_frame_context = r.u8(2)?;
    }
    if intra_only {
        frame.frame_type = FrameType::IntraOnly;
        if r.bits(24)? != SYNC_CODE {
            return malformed("frame_sync_code is wrong");
        }
        frame.color = Some(if profile > 0 {
            match read_color_config(r, profile)? {
                Ok(color) => color,
                Err(error) => return Ok(Err(error)),
            }
        } else {
            ColorConfig::INTRA_ONLY_PROFILE_0
        });
        frame.refresh_frame_flags = r.u8(8)?;
        frame.size = read_frame_size(r)?;
        frame.render_size = read_render_size(r)?;
        return Ok(Ok(FrameHeader::Coded(frame)));
    }
    frame.frame_type = FrameType::Inter;
    frame.refresh_frame_flags = r.u8(8)?;
    for index in &mut frame.ref_frame_idx {
        *index = r.u8(3)?;
        r.skip(1)?; // ref_frame_sign_bias
    }
    // frame_size_with_refs() (§ 6.2.6)
    let mut found = None;
    for reference in 0..REFS_PER_FRAME {
        if r.flag()? {
            found = Some(reference);
            break;
        }
    }
    frame.size = match found {
        Some(reference) => FrameSize::FromReference(reference),
        None => read_frame_size(r)?,
    };
    frame.render_size = read_render_size(r)?;
    Ok(Ok(FrameHeader::Coded(frame)))
}

/// `color_config()` (§ 6.2.2), with the profile restrictions of § 7.2.2.
fn read_color_config(r: &mut BitReader<'_>, profile: u8) -> Result<Result<ColorConfig>, OutOfBits> {
    let bit_depth = match profile {
        0 | 1 => 8,
        _ if r.flag()? => 12,
        _ => 10,
    };
    let color_space = ColorSpace::from_code(r.u8(3)?);
    let odd_profile = profile == 1 || profile == 3;
    let (full_range, subsampling_x, subsampling_y) = if color_space == ColorSpace::Rgb {
        if !odd_profile {
            return Ok(Err(Error::malformed(
                LOCATION,
                format!("RGB (4:4:4) is not allowed in profile {profile}"),
            )));
        }
        (true, false, false)
    } else {
        let full_range = r.flag()?;
        if odd_profile {
            let x = r.flag()?;
            let y = r.flag()?;
            if x && y {
                return Ok(Err(Error::malformed(
                    LOCATION,
                    format!("4:2:0 is not allowed in profile {profile}"),
                )));
            }
            (full_range, x, y)
        } else {
            (full_range, true, true)
        }
    };
    if odd_profile && r.flag()? {
        return Ok(Err(Error::malformed(
            LOCATION,
            "the reserved bit of color_config is set",
        )));
    }
    Ok(Ok(ColorConfig {
        bit_depth,
        color_space,
        full_range,
        subsampling_x,
        subsampling_y,
    }))
}

/// `frame_size()` (§ 6.2.3).
fn read_frame_size(r: &mut BitReader<'_>) -> Result<FrameSize, OutOfBits> {
    let width = r.bits(16)? + 1;
    let height = r.bits(16)? + 1;
    Ok(FrameSize::Explicit { width, height })
}

/// `render_size()` (§ 6.2.4).
fn read_render_size(r: &mut BitReader<'_>) -> Result<Option<(u32, u32)>, OutOfBits> {
    if !r.flag()? {
        return Ok(None);
    }
    let width = r.bits(16)? + 1;
    let height = r.bits(16)? + 1;
    Ok(Some((width, height)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// Writes fields MSB first, for building headers.
    #[derive(Default)]
    pub(crate) struct BitWriter {
        bytes: Vec<u8>,
        bits: usize,
    }

    impl BitWriter {
        pub(crate) fn put(&mut self, value: u32, count: u32) -> &mut Self {
            for bit in (0..count).rev() {
                if self.bits.is_multiple_of(8) {
                    self.bytes.push(0);
                }
                if (value >> bit) & 1 == 1 {
                    let last = self.bytes.len() - 1;
                    self.bytes[last] |= 0x80 >> (self.bits % 8);
                }
                self.bits += 1;
            }
            self
        }

        pub(crate) fn finish(&mut self) -> Vec<u8> {
            // Padding stands in for the rest of the frame.
            self.put(0, 16);
            std::mem::take(&mut self.bytes)
        }
    }

    fn coded(data: &[u8]) -> CodedFrame {
        match FrameHeader::parse(data).unwrap() {
            FrameHeader::Coded(frame) => frame,
            other => panic!("{other:?}"),
        }
    }

    /// frame_marker, profile bits and the reserved bit of profile 3.
    fn start(w: &mut BitWriter, profile: u32) {
        w.put(2, 2).put(profile & 1, 1).put(profile >> 1, 1);
        if profile == 3 {
            w.put(0, 1);
        }
    }

    #[test]
    fn key_frames_of_every_profile() {
        // (profile, bit depth flag, color_space, range, ss_x, ss_y) and what they mean.
        let cases = [
            (0, None, 2, 0, None, 8, ChromaFormat::Yuv420, 1),
            (1, None, 1, 1, Some((0, 0)), 8, ChromaFormat::Yuv444, 6),
            (1, None, 5, 0, Some((1, 0)), 8, ChromaFormat::Yuv422, 9),
            (2, Some(0), 5, 0, None, 10, ChromaFormat::Yuv420, 9),
            (2, Some(1), 0, 1, None, 12, ChromaFormat::Yuv420, 2),
            (3, Some(0), 4, 0, Some((1, 0)), 10, ChromaFormat::Yuv422, 7),
        ];
        for (profile, depth, space, range, subsampling, bits, chroma, matrix) in cases {
            let mut w = BitWriter::default();
            start(&mut w, profile);
            w.put(0, 1).put(0, 1).put(1, 1).put(1, 1); // show_existing, key, shown, error res
            w.put(SYNC_CODE, 24);
            if let Some(depth) = depth {
                w.put(depth, 1);
            }
            w.put(space, 3).put(range, 1);
            if let Some((x, y)) = subsampling {
                w.put(x, 1).put(y, 1).put(0, 1);
            }
            w.put(1919, 16)
                .put(1079, 16)
                .put(1, 1)
                .put(3839, 16)
                .put(2159, 16);
            let frame = coded(&w.finish());
            assert_eq!(frame.frame_type, FrameType::Key);
            assert!(frame.show_frame && frame.error_resilient_mode);
            assert_eq!(frame.refresh_frame_flags, 0xff);
            assert_eq!(frame.explicit_size(), Some((1920, 1080)));
            assert_eq!(frame.render_size, Some((3840, 2160)));
            let format = frame
                .coded_format(ColourDescription {
                    primaries: 9,
                    ..ColourDescription::UNSPECIFIED
                })
                .unwrap()
                .unwrap();
            assert_eq!(format.profile, format!("Profile {profile}"));
            assert_eq!((format.bit_depth, format.chroma), (bits, chroma));
            assert_eq!(format.colour.matrix, matrix, "profile {profile}");
            assert_eq!(format.colour.primaries, 9);
            assert_eq!(format.colour.full_range, Some(range == 1));
        }
    }

    #[test]
    fn rgb_and_444_need_an_odd_profile() {
        for (profile, space, subsampling, ok) in [
            (1, 7, None, true),
            (3, 7, None, true),
            (0, 7, None, false),
            (2, 7, None, false),
            (1, 1, Some((1, 1)), false), // 4:2:0 in profile 1
        ] {
            let mut w = BitWriter::default();
            start(&mut w, profile);
            w.put(0, 3).put(0, 1).put(SYNC_CODE, 24);
            if profile >= 2 {
                w.put(0, 1);
            }
            w.put(space, 3);
            if space != 7 {
                w.put(0, 1);
            }
            if let Some((x, y)) = subsampling {
                w.put(x, 1).put(y, 1);
            }
            if profile & 1 == 1 {
                w.put(0, 1);
            }
            w.put(15, 16).put(15, 16).put(0, 1);
            let result = FrameHeader::parse(&w.finish());
            assert_eq!(result.is_ok(), ok, "profile {profile} space {space}");
            if ok {
                let color = result.unwrap().coded().unwrap().color.unwrap();
                assert_eq!(color.chroma(), Some(ChromaFormat::Yuv444));
                assert_eq!(color.colour().matrix, 0);
                assert_eq!(color.colour().full_range, Some(true));
            }
        }
    }

    #[test]
    fn four_four_zero_parses_but_has_no_chroma_format() {
        let mut w = BitWriter::default();
        start(&mut w, 1);
        w.put(0, 3).put(0, 1).put(SYNC_CODE, 24).put(1, 3).put(0, 1);
        w.put(0, 1).put(1, 1).put(0, 1); // ss_x 0, ss_y 1
        w.put(15, 16).put(15, 16).put(0, 1);
        let frame = coded(&w.finish());
        assert_eq!(frame.color.unwrap().chroma(), None);
        let error = frame
            .coded_format(ColourDescription::UNSPECIFIED)
            .unwrap()
            .unwrap_err();
        assert!(matches!(error, Error::Unsupported { .. }), "{error}");
    }

    #[test]
    fn intra_only_frames() {
        // Profile 0: colour implied; refresh flags before the size.
        let mut w = BitWriter::default();
        start(&mut w, 0);
        w.put(0, 1).put(1, 1).put(0, 1).put(0, 1); // non-key, hidden, not error res
        w.put(1, 1).put(3, 2).put(SYNC_CODE, 24); // intra_only, reset_frame_context
        w.put(0b0010_0001, 8).put(351, 16).put(287, 16).put(0, 1);
        let frame = coded(&w.finish());
        assert_eq!(frame.frame_type, FrameType::IntraOnly);
        assert!(!frame.show_frame);
        assert_eq!(frame.reset_frame_context, 3);
        assert_eq!(frame.refresh_frame_flags, 0b0010_0001);
        assert_eq!(frame.color, Some(ColorConfig::INTRA_ONLY_PROFILE_0));
        assert_eq!(frame.explicit_size(), Some((352, 288)));
        // Profile 2: its own 12-bit colour configuration.
        let mut w = BitWriter::default();
        start(&mut w, 2);
        w.put(0b0100, 4).put(1, 1).put(0, 2).put(SYNC_CODE, 24); // hidden, intra_only
        w.put(1, 1).put(2, 3).put(1, 1); // 12-bit, BT.709, full range
        w.put(1, 8).put(63, 16).put(63, 16).put(0, 1);
        let frame = coded(&w.finish());
        let color = frame.color.unwrap();
        assert_eq!(
            (color.bit_depth, color.color_space),
            (12, ColorSpace::Bt709)
        );
        assert!(color.full_range);
    }

    #[test]
    fn inter_frames_with_sizes_from_references_or_explicit() {
        let inter = |found_ref: Option<u32>| {
            let mut w = BitWriter::default();
            start(&mut w, 0);
            w.put(0, 1).put(1, 1).put(1, 1).put(0, 1); // non-key, shown, not error res
            w.put(1, 2).put(0b0000_0100, 8); // reset_frame_context, refresh
            for slot in [3, 5, 7] {
                w.put(slot, 3).put(0, 1);
            }
            match found_ref {
                Some(reference) => {
                    for i in 0..=reference {
                        w.put(u32::from(i == reference), 1);
                    }
                }
                None => {
                    w.put(0, 3).put(639, 16).put(359, 16);
                }
            }
            w.put(0, 1);
            coded(&w.finish())
        };
        let frame = inter(Some(1));
        assert_eq!(frame.frame_type, FrameType::Inter);
        assert_eq!(frame.ref_frame_idx, [3, 5, 7]);
        assert_eq!(frame.refresh_frame_flags, 4);
        assert_eq!(frame.size, FrameSize::FromReference(1));
        assert_eq!(frame.color, None);
        assert!(frame.coded_format(ColourDescription::UNSPECIFIED).is_none());
        let frame = inter(None);
        assert_eq!(frame.explicit_size(), Some((640, 360)));
    }

    #[test]
    fn show_existing_frame_and_profile_3() {
        let header = FrameHeader::parse(&[0b1011_0101, 0b1000_0000]).unwrap();
        assert_eq!(
            header,
            FrameHeader::ShowExisting(ShowExistingFrame {
                profile: 3,
                slot: 3
            })
        );
        assert!(header.is_shown() && !header.is_key_frame());
        assert_eq!(header.refresh_frame_flags(), 0);
        // Profile 3 with its reserved bit set.
        assert!(FrameHeader::parse(&[0b1011_1000]).is_err());
    }

    #[test]
    fn broken_headers_are_malformed() {
        let key = [0x82, 0x49, 0x83, 0x42, 0x20, 0x13, 0xf0, 0x0e, 0xf0];
        assert!(FrameHeader::parse(&key).is_ok());
        for length in 0..key.len() {
            let error = FrameHeader::parse(&key[..length]).unwrap_err();
            assert!(
                matches!(error, Error::Malformed { .. }),
                "{length}: {error}"
            );
        }
        let mut bad_marker = key;
        bad_marker[0] = 0x42;
        assert!(FrameHeader::parse(&bad_marker).is_err());
        let mut bad_sync = key;
        bad_sync[2] = 0x84;
        assert!(FrameHeader::parse(&bad_sync).is_err());
    }
}
