//! The sequence parameter set (ITU-T H.264 § 7.3.2.1.1) and its VUI (Annex E.1.1):
//! what the pictures look like, and whether OpenH264 can decode them.

use stillframe_core::{
    ChromaFormat, CodedFormat, ColourDescription, Crop, Error, PixelAspect, Result,
};

use stillframe_core::bits::{unescape_rbsp, BitReader, OutOfBits};

/// Where SPS errors are reported.
const LOCATION: &str = "H.264 SPS";

/// The decoded fields of a sequence parameter set, as H.264 § 7.4.2.1.1 names them.
///
/// Sizes are kept as coded (macroblocks, crop units); [`Sps::coded_format`] turns
/// them into pixels.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc`: 66 Baseline, 77 Main, 88 Extended, 100 High, 110 High 10, ...
    pub profile_idc: u8,
    /// `constraint_set0_flag` … `constraint_set5_flag`, flag *n* in bit `7 − n`
    /// (the byte as coded, with the two reserved bits cleared).
    pub constraint_flags: u8,
    /// `level_idc`: ten times the level number (31 = level 3.1).
    pub level_idc: u8,
    /// `seq_parameter_set_id`, 0 to 31.
    pub id: u8,
    /// `chroma_format_idc`: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u8,
    /// `separate_colour_plane_flag` (4:4:4 coded as three monochrome pictures).
    pub separate_colour_plane: bool,
    /// `bit_depth_luma_minus8 + 8`.
    pub bit_depth_luma: u8,
    /// `bit_depth_chroma_minus8 + 8`.
    pub bit_depth_chroma: u8,
    /// `qpprime_y_zero_transform_bypass_flag`: lossless macroblocks may occur.
    pub transform_bypass: bool,
    /// `seq_scaling_matrix_present_flag`.
    pub scaling_matrix_present: bool,
    /// `log2_max_frame_num_minus4 + 4`.
    pub log2_max_frame_num: u8,
    /// `pic_order_cnt_type` and its fields.
    pub pic_order_cnt: PicOrderCnt,
    /// `max_num_ref_frames`.
    pub max_num_ref_frames: u8,
    /// `gaps_in_frame_num_value_allowed_flag`.
    pub gaps_in_frame_num_allowed: bool,
    /// `pic_width_in_mbs_minus1 + 1`.
    pub pic_width_in_mbs: u32,
    /// `pic_height_in_map_units_minus1 + 1` (map units are field macroblock
    /// rows when `frame_mbs_only` is false).
    pub pic_height_in_map_units: u32,
    /// `frame_mbs_only_flag`: false means the stream may code fields (interlaced).
    pub frame_mbs_only: bool,
    /// `mb_adaptive_frame_field_flag` (MBAFF); false when `frame_mbs_only`.
    pub mb_adaptive_frame_field: bool,
    /// `direct_8x8_inference_flag`.
    pub direct_8x8_inference: bool,
    /// `frame_crop_*_offset`, in crop units (see [`Sps::crop_unit`]); zero without
    /// `frame_cropping_flag`.
    pub frame_crop_offsets: Crop,
    /// The VUI, if `vui_parameters_present_flag`.
    pub vui: Option<Vui>,
}

/// `pic_order_cnt_type` with the fields each type carries (H.264 § 8.2.1).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PicOrderCnt {
    /// Type 0: `pic_order_cnt_lsb` is sent in each slice.
    Type0 {
        /// `log2_max_pic_order_cnt_lsb_minus4 + 4`.
        log2_max_pic_order_cnt_lsb: u8,
    },
    /// Type 1: order follows a cycle of offsets.
    Type1 {
        /// `delta_pic_order_always_zero_flag`.
        delta_pic_order_always_zero: bool,
        /// `offset_for_non_ref_pic`.
        offset_for_non_ref_pic: i32,
        /// `offset_for_top_to_bottom_field`.
        offset_for_top_to_bottom_field: i32,
        /// `offset_for_ref_frame[i]` for each frame of the cycle.
        offsets_for_ref_frame: Vec<i32>,
    },
    /// Type 2: output order is decode order.
    Type2,
}

/// The VUI fields stillframe uses (H.264 Annex E.1.1).
///
/// Parsing is lenient, as ffmpeg's is: a VUI cut short keeps the fields read
/// before the cut and leaves the rest at their "absent" values.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vui {
    /// `aspect_ratio_idc` if `aspect_ratio_info_present_flag` (255 = explicit SAR).
    pub aspect_ratio_idc: Option<u8>,
    /// The sample aspect ratio the idc or `sar_width`/`sar_height` give; `None` when
    /// absent, unspecified (0), reserved, or with a zero side.
    pub sample_aspect: Option<PixelAspect>,
    /// `overscan_appropriate_flag` if `overscan_info_present_flag`.
    pub overscan_appropriate: Option<bool>,
    /// `video_format` if `video_signal_type_present_flag` (5 = unspecified).
    pub video_format: Option<u8>,
    /// `video_full_range_flag` if `video_signal_type_present_flag`.
    pub full_range: Option<bool>,
    /// `(colour_primaries, transfer_characteristics, matrix_coefficients)` if
    /// `colour_description_present_flag`.
    pub colour_description: Option<(u8, u8, u8)>,
    /// `(num_units_in_tick, time_scale, fixed_frame_rate_flag)` if
    /// `timing_info_present_flag`.
    pub timing: Option<(u32, u32, bool)>,
    /// `pic_struct_present_flag`.
    pub pic_struct_present: bool,
    /// `max_num_reorder_frames` if `bitstream_restriction_flag`: at most this many
    /// frames precede any frame in decode order and follow it in output order.
    pub max_num_reorder_frames: Option<u32>,
    /// `max_dec_frame_buffering` if `bitstream_restriction_flag`.
    pub max_dec_frame_buffering: Option<u32>,
}

/// Parses a sequence parameter set NAL unit: the header byte (type 7) and the
/// escaped payload, as it appears in an avcC record or after a start code.
///
/// Every read is bounds-checked and every count is checked against its legal
/// range before use, so garbage gives [`Error::Malformed`], never a panic.
///
/// ```
/// // 64x64 Constrained Baseline, no VUI.
/// let sps = stillframe_bitstream::h264::parse_sps(&[0x67, 0x42, 0xc0, 0x0a, 0xda, 0x10, 0x99]).unwrap();
/// assert_eq!(sps.profile_name(), "Constrained Baseline");
/// let format = sps.coded_format();
/// assert_eq!((format.width, format.height), (64, 64));
/// ```
pub fn parse_sps(nal: &[u8]) -> Result<Sps> {
    let (&header, payload) = nal
        .split_first()
        .ok_or_else(|| Error::malformed(LOCATION, "empty NAL unit"))?;
    if header & 0x1f != 7 {
        return Err(Error::malformed(
            LOCATION,
            format!("NAL unit type {} is not an SPS (7)", header & 0x1f),
        ));
    }
    let rbsp = unescape_rbsp(payload);
    let mut reader = BitReader::new(&rbsp);
    read_sps(&mut reader).map_err(|error| match error {
        SpsError::Truncated => Error::malformed(LOCATION, "ends early"),
        SpsError::Invalid(message) => Error::malformed(LOCATION, message),
    })
}

enum SpsError {
    Truncated,
    Invalid(String),
}

impl From<OutOfBits> for SpsError {
    fn from(_: OutOfBits) -> Self {
        SpsError::Truncated
    }
}

/// Fails unless `value ≤ max`, naming the field.
fn at_most(field: &str, value: u32, max: u32) -> Result<u8, SpsError> {
    if value > max {
        return Err(SpsError::Invalid(format!(
            "{field} is {value}, above {max}"
        )));
    }
    u8::try_from(value).map_err(|_| SpsError::Invalid(format!("{field} is {value}")))
}

/// Profiles whose SPS carries `chroma_format_idc` and the fields after it (§ 7.3.2.1.1).
fn has_chroma_info(profile_idc: u8) -> bool {
    matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    )
}

fn read_sps(r: &mut BitReader<'_>) -> Result<Sps, SpsError> {
    let profile_idc = r.u8(8)?;
    let constraint_flags = r.u8(8)? & 0xfc;
    let level_idc = r.u8(8)?;
    let id = at_most("seq_parameter_set_id", r.ue()?, 31)?;

    let mut chroma_format_idc = 1;
    let mut separate_colour_plane = false;
    let mut bit_depth_luma = 8;
    let mut bit_depth_chroma = 8;
    let mut transform_bypass = false;
    let mut scaling_matrix_present = false;
    if has_chroma_info(profile_idc) {
        chroma_format_idc = at_most("chroma_format_idc", r.ue()?, 3)?;
        if chroma_format_idc == 3 {
            separate_colour_plane = r.flag()?;
        }
        bit_depth_luma = 8 + at_most("bit_depth_luma_minus8", r.ue()?, 6)?;
        bit_depth_chroma = 8 + at_most("bit_depth_chroma_minus8", r.ue()?, 6)?;
        transform_bypass = r.flag()?;
        scaling_matrix_present = r.flag()?;
        if scaling_matrix_present {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for index in 0..lists {
                if r.flag()? {
                    skip_scaling_list(r, if index < 6 { 16 } else { 64 })?;
                }
            }
        }
    }

    let log2_max_frame_num = 4 + at_most("log2_max_frame_num_minus4", r.ue()?, 12)?;
    let pic_order_cnt = match r.ue()? {
        0 => PicOrderCnt::Type0 {
            log2_max_pic_order_cnt_lsb: 4 + at_most(
                "log2_max_pic_order_cnt_lsb_minus4",
                r.ue()?,
                12,
            )?,
        },
        1 => {
            let delta_pic_order_always_zero = r.flag()?;
            let offset_for_non_ref_pic = r.se()?;
            let offset_for_top_to_bottom_field = r.se()?;
            let cycle = at_most("num_ref_frames_in_pic_order_cnt_cycle", r.ue()?, 255)?;
            let offsets_for_ref_frame =
                (0..cycle).map(|_| r.se()).collect::<Result<Vec<_>, _>>()?;
            PicOrderCnt::Type1 {
                delta_pic_order_always_zero,
                offset_for_non_ref_pic,
                offset_for_top_to_bottom_field,
                offsets_for_ref_frame,
            }
        }
        2 => PicOrderCnt::Type2,
        other => {
            return Err(SpsError::Invalid(format!(
                "pic_order_cnt_type is {other}, above 2"
            )))
        }
    };
    // The DPB never holds more than 16 frames (§ A.3.1).
    let max_num_ref_frames = at_most("max_num_ref_frames", r.ue()?, 16)?;
    let gaps_in_frame_num_allowed = r.flag()?;
    // Bounded so the pixel sizes below fit in u32 with room to spare; 16384 pixels
    // is far beyond any level of Annex A.
    let pic_width_in_mbs = 1 + u32::from(at_most_u16("pic_width_in_mbs_minus1", r.ue()?)?);
    let pic_height_in_map_units =
        1 + u32::from(at_most_u16("pic_height_in_map_units_minus1", r.ue()?)?);
    let frame_mbs_only = r.flag()?;
    let mb_adaptive_frame_field = if frame_mbs_only { false } else { r.flag()? };
    let direct_8x8_inference = r.flag()?;
    let frame_crop_offsets = if r.flag()? {
        Crop {
            left: r.ue()?,
            right: r.ue()?,
            top: r.ue()?,
            bottom: r.ue()?,
        }
    } else {
        Crop::default()
    };
    let vui = if r.flag()? {
        Some(read_vui_lenient(r))
    } else {
        None
    };

    let sps = Sps {
        profile_idc,
        constraint_flags,
        level_idc,
        id,
        chroma_format_idc,
        separate_colour_plane,
        bit_depth_luma,
        bit_depth_chroma,
        transform_bypass,
        scaling_matrix_present,
        log2_max_frame_num,
        pic_order_cnt,
        max_num_ref_frames,
        gaps_in_frame_num_allowed,
        pic_width_in_mbs,
        pic_height_in_map_units,
        frame_mbs_only,
        mb_adaptive_frame_field,
        direct_8x8_inference,
        frame_crop_offsets,
        vui,
    };
    sps.check_crop()?;
    Ok(sps)
}

/// Picture dimensions in macroblocks are bounded to 1024 (16384 pixels).
fn at_most_u16(field: &str, value: u32) -> Result<u16, SpsError> {
    if value >= 1024 {
        return Err(SpsError::Invalid(format!(
            "{field} is {value}, beyond any H.264 level"
        )));
    }
    u16::try_from(value).map_err(|_| SpsError::Invalid(format!("{field} is {value}")))
}

/// Skips `scaling_list()` (§ 7.3.2.1.1.1): deltas stop once `nextScale` hits 0
/// (the default-matrix or repeat-last signal), so the count read varies.
fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<(), SpsError> {
    let mut last_scale: i32 = 8;
    let mut next_scale: i32 = 8;
    for _ in 0..size {
        if next_scale != 0 {
            let delta = r.se()?;
            if !(-128..=127).contains(&delta) {
                return Err(SpsError::Invalid(format!(
                    "delta_scale is {delta}, outside −128..=127"
                )));
            }
            next_scale = (last_scale + delta + 256) % 256;
        }
        if next_scale != 0 {
            last_scale = next_scale;
        }
    }
    Ok(())
}

/// Reads the VUI, keeping what was read if it ends early.
fn read_vui_lenient(r: &mut BitReader<'_>) -> Vui {
    let mut vui = Vui::default();
    if let Err(error) = read_vui(r, &mut vui) {
        log::debug!(
            "H.264 VUI cut short ({}); keeping the fields before the cut",
            match error {
                SpsError::Truncated => "ends early".to_owned(),
                SpsError::Invalid(message) => message,
            }
        );
    }
    vui
}

fn read_vui(r: &mut BitReader<'_>, vui: &mut Vui) -> Result<(), SpsError> {
    if r.flag()? {
        let idc = r.u8(8)?;
        vui.aspect_ratio_idc = Some(idc);
        vui.sample_aspect = if idc == 255 {
            let width = r.bits(16)?;
            let height = r.bits(16)?;
            PixelAspect::new(width, height)
        } else {
            table_aspect(idc)
        };
    }
    if r.flag()? {
        vui.overscan_appropriate = Some(r.flag()?);
    }
    if r.flag()? {
        vui.video_format = Some(r.u8(3)?);
        vui.full_range = Some(r.flag()?);
        if r.flag()? {
            vui.colour_description = Some((r.u8(8)?, r.u8(8)?, r.u8(8)?));
        }
    }
    if r.flag()? {
        // chroma_sample_loc_type_top_field, chroma_sample_loc_type_bottom_field
        r.ue()?;
        r.ue()?;
    }
    if r.flag()? {
        vui.timing = Some((r.bits(32)?, r.bits(32)?, r.flag()?));
    }
    let nal_hrd = r.flag()?;
    if nal_hrd {
        skip_hrd_parameters(r)?;
    }
    let vcl_hrd = r.flag()?;
    if vcl_hrd {
        skip_hrd_parameters(r)?;
    }
    if nal_hrd || vcl_hrd {
        // low_delay_hrd_flag
        r.flag()?;
    }
    vui.pic_struct_present = r.flag()?;
    if r.flag()? {
        // motion_vectors_over_pic_boundaries_flag, max_bytes_per_pic_denom,
        // max_bits_per_mb_denom, log2_max_mv_length_horizontal and _vertical
        r.flag()?;
        for _ in 0..4 {
            r.ue()?;
        }
        vui.max_num_reorder_frames = Some(r.ue()?);
        vui.max_dec_frame_buffering = Some(r.ue()?);
    }
    Ok(())
}

/// Skips `hrd_parameters()` (§ E.1.2).
fn skip_hrd_parameters(r: &mut BitReader<'_>) -> Result<(), SpsError> {
    let cpb_count = 1 + u32::from(at_most("cpb_cnt_minus1", r.ue()?, 31)?);
    // bit_rate_scale, cpb_size_scale
    r.skip(8)?;
    for _ in 0..cpb_count {
        // bit_rate_value_minus1, cpb_size_value_minus1, cbr_flag
        r.ue()?;
        r.ue()?;
        r.flag()?;
    }
    // initial_cpb_removal_delay_length_minus1, cpb_removal_delay_length_minus1,
    // dpb_output_delay_length_minus1, time_offset_length
    r.skip(20)?;
    Ok(())
}

/// Table E-1: sample aspect ratios of `aspect_ratio_idc` 1 to 16.
fn table_aspect(idc: u8) -> Option<PixelAspect> {
    let (horizontal, vertical) = match idc {
        1 => (1, 1),
        2 => (12, 11),
        3 => (10, 11),
        4 => (16, 11),
        5 => (40, 33),
        6 => (24, 11),
        7 => (20, 11),
        8 => (32, 11),
        9 => (80, 33),
        10 => (18, 11),
        11 => (15, 11),
        12 => (64, 33),
        13 => (160, 99),
        14 => (4, 3),
        15 => (3, 2),
        16 => (2, 1),
        // 0 is "unspecified"; 17–254 are reserved.
        _ => return None,
    };
    PixelAspect::new(horizontal, vertical)
}

impl Sps {
    /// `constraint_set<n>_flag`.
    pub fn constraint_set(&self, n: u8) -> bool {
        n < 6 && self.constraint_flags & (0x80 >> n) != 0
    }

    /// The profile by the name ffprobe prints, which is the H.264 specification's
    /// (Annex A) except that Progressive High and Constrained High (High with
    /// `constraint_set4`/`5`) are reported as "High", as ffprobe does, so
    /// stillframe and ffprobe agree.
    pub fn profile_name(&self) -> String {
        let intra = self.constraint_set(3);
        let name = match self.profile_idc {
            66 if self.constraint_set(1) => "Constrained Baseline",
            66 => "Baseline",
            77 => "Main",
            88 => "Extended",
            100 => "High",
            110 if intra => "High 10 Intra",
            110 => "High 10",
            122 if intra => "High 4:2:2 Intra",
            122 => "High 4:2:2",
            244 if intra => "High 4:4:4 Intra",
            244 => "High 4:4:4 Predictive",
            44 => "CAVLC 4:4:4",
            83 => "Scalable Baseline",
            86 => "Scalable High",
            118 => "Multiview High",
            128 => "Stereo High",
            134 => "MFC High",
            135 => "MFC Depth High",
            138 => "Multiview Depth High",
            139 => "Enhanced Multiview Depth High",
            other => return format!("unknown (profile_idc {other})"),
        };
        name.to_owned()
    }

    /// The chroma format: `chroma_format_idc`, with 4:4:4 coded as separate
    /// colour planes still 4:4:4.
    pub fn chroma(&self) -> ChromaFormat {
        match self.chroma_format_idc {
            0 => ChromaFormat::Monochrome,
            2 => ChromaFormat::Yuv422,
            3 => ChromaFormat::Yuv444,
            _ => ChromaFormat::Yuv420,
        }
    }

    /// `(CropUnitX, CropUnitY)` of § 7.4.2.1.1: pixels per unit of
    /// `frame_crop_*_offset`, which depend on chroma subsampling and on whether
    /// the picture is coded as two fields.
    pub fn crop_unit(&self) -> (u32, u32) {
        let field_factor = if self.frame_mbs_only { 1 } else { 2 };
        // ChromaArrayType is 0 for monochrome and for separate colour planes.
        if self.chroma_format_idc == 0 || self.separate_colour_plane {
            return (1, field_factor);
        }
        let (x_shift, y_shift) = self.chroma().subsampling();
        (1 << x_shift, (1 << y_shift) * field_factor)
    }

    /// Width and height of the coded picture, before cropping, in pixels.
    pub fn coded_size(&self) -> (u32, u32) {
        let field_factor = if self.frame_mbs_only { 1 } else { 2 };
        (
            self.pic_width_in_mbs * 16,
            self.pic_height_in_map_units * 16 * field_factor,
        )
    }

    /// The cropping in pixels.
    pub fn crop(&self) -> Crop {
        let (unit_x, unit_y) = self.crop_unit();
        let Crop {
            left,
            right,
            top,
            bottom,
        } = self.frame_crop_offsets;
        // check_crop bounded every offset below the coded size, so no overflow.
        Crop {
            left: left.saturating_mul(unit_x),
            right: right.saturating_mul(unit_x),
            top: top.saturating_mul(unit_y),
            bottom: bottom.saturating_mul(unit_y),
        }
    }

    /// Cropping must leave at least one pixel each way (§ 7.4.2.1.1).
    fn check_crop(&self) -> Result<(), SpsError> {
        let (unit_x, unit_y) = self.crop_unit();
        let (width, height) = self.coded_size();
        let Crop {
            left,
            right,
            top,
            bottom,
        } = self.frame_crop_offsets;
        let horizontal = (u64::from(left) + u64::from(right)) * u64::from(unit_x);
        let vertical = (u64::from(top) + u64::from(bottom)) * u64::from(unit_y);
        if horizontal >= u64::from(width) || vertical >= u64::from(height) {
            return Err(SpsError::Invalid(format!(
                "frame cropping ({left}, {right}, {top}, {bottom} units of {unit_x}x{unit_y}) \
                 leaves nothing of the {width}x{height} picture"
            )));
        }
        Ok(())
    }

    /// Visible width and height: the coded size less the cropping.
    pub fn visible_size(&self) -> (u32, u32) {
        let (width, height) = self.coded_size();
        let crop = self.crop();
        (
            width.saturating_sub(crop.left.saturating_add(crop.right)),
            height.saturating_sub(crop.top.saturating_add(crop.bottom)),
        )
    }

    /// The colour description of the VUI; fields it does not state are
    /// unspecified (code point 2, range `None`).
    pub fn colour(&self) -> ColourDescription {
        let Some(vui) = &self.vui else {
            return ColourDescription::UNSPECIFIED;
        };
        let (primaries, transfer, matrix) = vui.colour_description.unwrap_or((2, 2, 2));
        ColourDescription {
            primaries,
            transfer,
            matrix,
            full_range: vui.full_range,
        }
    }

    /// The sample aspect ratio of the VUI, if it states one.
    pub fn pixel_aspect(&self) -> Option<PixelAspect> {
        self.vui.as_ref().and_then(|vui| vui.sample_aspect)
    }

    /// `max_num_reorder_frames` of the VUI, if stated.
    pub fn max_num_reorder_frames(&self) -> Option<u32> {
        self.vui.as_ref().and_then(|vui| vui.max_num_reorder_frames)
    }

    /// What this SPS says about the pictures.
    pub fn coded_format(&self) -> CodedFormat {
        let (width, height) = self.visible_size();
        CodedFormat {
            profile: self.profile_name(),
            width,
            height,
            crop: self.crop(),
            pixel_aspect: self.pixel_aspect(),
            colour: self.colour(),
            bit_depth: self.bit_depth_luma.max(self.bit_depth_chroma),
            chroma: self.chroma(),
        }
    }
}
