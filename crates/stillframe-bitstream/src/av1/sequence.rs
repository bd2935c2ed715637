//! The sequence header OBU (AV1 specification § 5.5 and § 6.4).

use stillframe_core::{ChromaFormat, CodedFormat, ColourDescription, Crop, Error, Result};

use stillframe_core::bits::{BitReader, OutOfBits};

/// `SELECT_SCREEN_CONTENT_TOOLS` and `SELECT_INTEGER_MV` (§ 6.4): the frame header decides.
pub const SELECT: u8 = 2;

/// One operating point of a sequence (§ 6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatingPoint {
    /// `operating_point_idc`: bit `t` for temporal layer `t`, bit `8 + s` for
    /// spatial layer `s`; 0 when the stream is not scalable.
    pub idc: u16,
    /// `seq_level_idx` (0 is level 2.0, 31 means no level).
    pub level: u8,
    /// `seq_tier` (0 Main, 1 High).
    pub tier: u8,
    /// `decoder_model_present_for_this_op`.
    pub decoder_model_present: bool,
}

/// The fields of a sequence header that describe the pictures, and those a frame
/// header needs to be read up to `refresh_frame_flags`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceHeader {
    /// `seq_profile`: 0 Main, 1 High, 2 Professional.
    pub profile: u8,
    /// `still_picture`.
    pub still_picture: bool,
    /// `reduced_still_picture_header`: one key frame, no frame header fields.
    pub reduced_still_picture_header: bool,
    /// Operating points, the first being the one decoded by default.
    pub operating_points: Vec<OperatingPoint>,
    /// `equal_picture_interval` of the timing info (false without timing info).
    pub equal_picture_interval: bool,
    /// `buffer_removal_time_length_minus_1 + 1` and
    /// `frame_presentation_time_length_minus_1 + 1` when `decoder_model_info`
    /// is present.
    pub decoder_model: Option<(u32, u32)>,
    /// `max_frame_width_minus_1 + 1`.
    pub max_frame_width: u32,
    /// `max_frame_height_minus_1 + 1`.
    pub max_frame_height: u32,
    /// `idLen` when `frame_id_numbers_present_flag` is set.
    pub frame_id_length: Option<u32>,
    /// `seq_force_screen_content_tools` (2 = [`SELECT`]).
    pub force_screen_content_tools: u8,
    /// `seq_force_integer_mv` (2 = [`SELECT`]).
    pub force_integer_mv: u8,
    /// `OrderHintBits`.
    pub order_hint_bits: u32,
    /// `BitDepth`: 8, 10 or 12.
    pub bit_depth: u8,
    /// `mono_chrome`.
    pub monochrome: bool,
    /// `subsampling_x`, `subsampling_y`.
    pub subsampling: (bool, bool),
    /// Colour description from `color_config`; `full_range` is always stated.
    pub colour: ColourDescription,
    /// `film_grain_params_present`.
    pub film_grain_params_present: bool,
}

impl SequenceHeader {
    /// Parses the payload of a sequence header OBU.
    ///
    /// Fails with [`Error::Malformed`] if it is cut short or uses a reserved
    /// profile.
    pub fn parse(payload: &[u8]) -> Result<SequenceHeader> {
        let mut reader = BitReader::new(payload);
        let header = read_sequence_header(&mut reader)
            .map_err(|OutOfBits| Error::malformed("AV1 sequence header", "cut short"))?;
        if header.profile > 2 {
            return Err(Error::malformed(
                "AV1 sequence header",
                format!("reserved seq_profile {}", header.profile),
            ));
        }
        Ok(header)
    }

    /// The profile as the specification names it (Annex A).
    pub fn profile_name(&self) -> &'static str {
        match self.profile {
            0 => "Main",
            1 => "High",
            _ => "Professional",
        }
    }

    /// Chroma subsampling.
    pub fn chroma(&self) -> ChromaFormat {
        match (self.monochrome, self.subsampling) {
            (true, _) => ChromaFormat::Monochrome,
            (false, (true, true)) => ChromaFormat::Yuv420,
            (false, (true, false)) => ChromaFormat::Yuv422,
            // 4:4:0 cannot be signalled in AV1.
            (false, (false, _)) => ChromaFormat::Yuv444,
        }
    }

    /// The pictures as this sequence header describes them: the largest frame size
    /// it allows (frames may be smaller), bit depth, chroma and colour.
    pub fn coded_format(&self) -> CodedFormat {
        CodedFormat {
            profile: self.profile_name().to_owned(),
            width: self.max_frame_width,
            height: self.max_frame_height,
            crop: Crop::default(),
            pixel_aspect: None,
            colour: self.colour,
            bit_depth: self.bit_depth,
            chroma: self.chroma(),
        }
    }
}

fn read_sequence_header(r: &mut BitReader<'_>) -> Result<SequenceHeader, OutOfBits> {
    let profile = r.u8(3)?;
    let still_picture = r.flag()?;
    let reduced_still_picture_header = r.flag()?;
    let mut operating_points = Vec::new();
    let mut equal_picture_interval = false;
    let mut decoder_model = None;
    if reduced_still_picture_header {
        operating_points.push(OperatingPoint {
            idc: 0,
            level: r.u8(5)?,
            tier: 0,
            decoder_model_present: false,
        });
    } else {
        let mut buffer_delay_length = 0;
        if r.flag()? {
            // timing_info()
            r.skip(64)?; // num_units_in_display_tick, time_scale
            equal_picture_interval = r.flag()?;
            if equal_picture_interval {
                r.uvlc()?; // num_ticks_per_picture_minus_1
            }
            if r.flag()? {
                // decoder_model_info()
                buffer_delay_length = r.bits(5)? + 1;
                r.skip(32)?; // num_units_in_decoding_tick
                let buffer_removal_time_length = r.bits(5)? + 1;
                let frame_presentation_time_length = r.bits(5)? + 1;
                decoder_model = Some((buffer_removal_time_length, frame_presentation_time_length));
            }
        }
        let initial_display_delay_present = r.flag()?;
        let count = r.bits(5)? + 1;
        for _ in 0..count {
            let idc = u16::try_from(r.bits(12)?).map_err(|_| OutOfBits)?;
            let level = r.u8(5)?;
            let tier = if level > 7 { r.u8(1)? } else { 0 };
            let mut decoder_model_present = false;
            if decoder_model.is_some() {
                decoder_model_present = r.flag()?;
                if decoder_model_present {
                    // operating_parameters_info(): decoder and encoder buffer delays,
                    // low_delay_mode_flag.
                    r.skip(2 * buffer_delay_length as usize + 1)?;
                }
            }
            if initial_display_delay_present && r.flag()? {
                r.skip(4)?; // initial_display_delay_minus_1
            }
            operating_points.push(OperatingPoint {
                idc,
                level,
                tier,
                decoder_model_present,
            });
        }
    }
    let width_bits = r.bits(4)? + 1;
    let height_bits = r.bits(4)? + 1;
    let max_frame_width = r.bits(width_bits)?.checked_add(1).ok_or(OutOfBits)?;
    let max_frame_height = r.bits(height_bits)?.checked_add(1).ok_or(OutOfBits)?;
    let frame_id_length = if !reduced_still_picture_header && r.flag()? {
        let delta_frame_id_length = r.bits(4)? + 2;
        let additional_frame_id_length = r.bits(3)? + 1;
        Some(delta_frame_id_length + additional_frame_id_length)
    } else {
        None
    };
    // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
    r.skip(3)?;
    let (mut force_screen_content_tools, mut force_integer_mv, mut order_hint_bits) =
        (SELECT, SELECT, 0);
    if !reduced_still_picture_header {
        // enable_interintra_compound, enable_masked_compound,
        // enable_warped_motion, enable_dual_filter
        r.skip(4)?;
        let enable_order_hint = r.flag()?;
        if enable_order_hint {
            r.skip(2)?; // enable_jnt_comp, enable_ref_frame_mvs
        }
        if !r.flag()? {
            // seq_choose_screen_content_tools is 0
            force_screen_content_tools = r.u8(1)?;
        }
        // seq_choose_integer_mv, read only with screen content tools.
        if force_screen_content_tools > 0 && !r.flag()? {
            force_integer_mv = r.u8(1)?;
        }
        if enable_order_hint {
            order_hint_bits = r.bits(3)? + 1;
        }
    }
    // enable_superres, enable_cdef, enable_restoration
    r.skip(3)?;
    let colour = read_color_config(r, profile)?;
    let film_grain_params_present = r.flag()?;
    Ok(SequenceHeader {
        profile,
        still_picture,
        reduced_still_picture_header,
        operating_points,
        equal_picture_interval,
        decoder_model,
        max_frame_width,
        max_frame_height,
        frame_id_length,
        force_screen_content_tools,
        force_integer_mv,
        order_hint_bits,
        bit_depth: colour.bit_depth,
        monochrome: colour.monochrome,
        subsampling: colour.subsampling,
        colour: colour.description,
        film_grain_params_present,
    })
}

struct ColorConfig {
    bit_depth: u8,
    monochrome: bool,
    subsampling: (bool, bool),
    description: ColourDescription,
}

/// `color_config()` (§ 5.5.2).
fn read_color_config(r: &mut BitReader<'_>, profile: u8) -> Result<ColorConfig, OutOfBits> {
    let high_bitdepth = r.flag()?;
    let bit_depth = match (profile, high_bitdepth) {
        (2, true) if r.flag()? => 12,
        (_, true) => 10,
        (_, false) => 8,
    };
    let monochrome = profile != 1 && r.flag()?;
    let (primaries, transfer, matrix) = if r.flag()? {
        (r.u8(8)?, r.u8(8)?, r.u8(8)?)
    } else {
        (2, 2, 2)
    };
    let description = |full_range: bool| ColourDescription {
        primaries,
        transfer,
        matrix,
        full_range: Some(full_range),
    };
    if monochrome {
        let full_range = r.flag()?;
        return Ok(ColorConfig {
            bit_depth,
            monochrome,
            subsampling: (true, true),
            description: description(full_range),
        });
    }
    // sRGB: BT.709 primaries, sRGB transfer, identity matrix.
    if (primaries, transfer, matrix) == (1, 13, 0) {
        r.skip(1)?; // separate_uv_delta_q
        return Ok(ColorConfig {
            bit_depth,
            monochrome,
            subsampling: (false, false),
            description: description(true),
        });
    }
    let full_range = r.flag()?;
    let subsampling = match profile {
        0 => (true, true),
        1 => (false, false),
        _ if bit_depth == 12 => {
            let x = r.flag()?;
            (x, x && r.flag()?)
        }
        _ => (true, false),
    };
    if subsampling == (true, true) {
        r.skip(2)?; // chroma_sample_position
    }
    r.skip(1)?; // separate_uv_delta_q
    Ok(ColorConfig {
        bit_depth,
        monochrome,
        subsampling,
        description: description(full_range),
    })
}
