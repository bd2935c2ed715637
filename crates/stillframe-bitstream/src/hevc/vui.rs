//! The VUI of a sequence parameter set (H.265 § E.2.1) and the HRD parameters it may
//! carry (§ E.2.2), read leniently as ffmpeg reads them.

use stillframe_core::bits::{BitReader, OutOfBits};
use stillframe_core::{ColourDescription, PixelAspect};

/// The VUI fields stillframe uses (H.265 § E.2.1).
///
/// Parsing is lenient, as ffmpeg's is: a VUI cut short or with an out-of-range
/// field keeps the fields read before it and leaves the rest absent.
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
    /// `(colour_primaries, transfer_characteristics, matrix_coeffs)` if
    /// `colour_description_present_flag`.
    pub colour_description: Option<(u8, u8, u8)>,
    /// `field_seq_flag`: each picture is a field.
    pub field_seq: bool,
    /// `frame_field_info_present_flag`: picture timing SEIs carry `pic_struct`.
    pub frame_field_info_present: bool,
    /// `def_disp_win_{left,right,top,bottom}_offset` if `default_display_window_flag`,
    /// in chroma sample units like the conformance window. Informative: ffmpeg
    /// ignores it by default, and so does stillframe.
    pub default_display_window: Option<[u32; 4]>,
    /// The timing information, if `vui_timing_info_present_flag`.
    pub timing: Option<Timing>,
    /// `min_spatial_segmentation_idc` if `bitstream_restriction_flag`.
    pub min_spatial_segmentation_idc: Option<u32>,
}

/// `vui_timing_info` (§ E.2.1): the clock pictures are timed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timing {
    /// `vui_num_units_in_tick`: ticks of `time_scale` per clock tick.
    pub num_units_in_tick: u32,
    /// `vui_time_scale`: ticks per second.
    pub time_scale: u32,
    /// `vui_num_ticks_poc_diff_one_minus1 + 1` if `vui_poc_proportional_to_timing_flag`:
    /// clock ticks per picture order count step.
    pub num_ticks_poc_diff_one: Option<u64>,
}

impl Vui {
    /// The colour description; fields the VUI does not state are unspecified
    /// (code point 2, range `None`).
    pub fn colour(&self) -> ColourDescription {
        let (primaries, transfer, matrix) = self.colour_description.unwrap_or((2, 2, 2));
        ColourDescription {
            primaries,
            transfer,
            matrix,
            full_range: self.full_range,
        }
    }
}

/// Reads the VUI, keeping what was read if it ends early; the second value says
/// whether it was read whole (so the fields after it in the SPS can be trusted).
pub(crate) fn read_vui_lenient(r: &mut BitReader<'_>, max_sub_layers_minus1: u8) -> (Vui, bool) {
    let mut vui = Vui::default();
    match read_vui(r, &mut vui, max_sub_layers_minus1) {
        Ok(()) => (vui, true),
        Err(_) => {
            log::debug!("HEVC VUI cut short or out of range; keeping the fields before that");
            (vui, false)
        }
    }
}

fn read_vui(
    r: &mut BitReader<'_>,
    vui: &mut Vui,
    max_sub_layers_minus1: u8,
) -> Result<(), OutOfBits> {
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
    // neutral_chroma_indication_flag
    r.flag()?;
    vui.field_seq = r.flag()?;
    vui.frame_field_info_present = r.flag()?;
    if r.flag()? {
        vui.default_display_window = Some([r.ue()?, r.ue()?, r.ue()?, r.ue()?]);
    }
    if r.flag()? {
        let num_units_in_tick = r.bits(32)?;
        let time_scale = r.bits(32)?;
        let num_ticks_poc_diff_one = if r.flag()? {
            Some(u64::from(r.ue()?) + 1)
        } else {
            None
        };
        vui.timing = Some(Timing {
            num_units_in_tick,
            time_scale,
            num_ticks_poc_diff_one,
        });
        if r.flag()? {
            skip_hrd_parameters(r, true, max_sub_layers_minus1)?;
        }
    }
    if r.flag()? {
        // tiles_fixed_structure_flag, motion_vectors_over_pic_boundaries_flag,
        // restricted_ref_pic_lists_flag
        r.skip(3)?;
        vui.min_spatial_segmentation_idc = Some(r.ue()?);
        // max_bytes_per_pic_denom, max_bits_per_min_cu_denom,
        // log2_max_mv_length_horizontal, log2_max_mv_length_vertical
        for _ in 0..4 {
            r.ue()?;
        }
    }
    Ok(())
}

/// Skips `hrd_parameters(commonInfPresentFlag, maxNumSubLayersMinus1)` (§ E.2.2).
pub(crate) fn skip_hrd_parameters(
    r: &mut BitReader<'_>,
    common_info_present: bool,
    max_sub_layers_minus1: u8,
) -> Result<(), OutOfBits> {
    let mut nal_hrd = false;
    let mut vcl_hrd = false;
    let mut sub_pic_params = false;
    if common_info_present {
        nal_hrd = r.flag()?;
        vcl_hrd = r.flag()?;
        if nal_hrd || vcl_hrd {
            sub_pic_params = r.flag()?;
            if sub_pic_params {
                // tick_divisor_minus2, du_cpb_removal_delay_increment_length_minus1,
                // sub_pic_cpb_params_in_pic_timing_sei_flag,
                // dpb_output_delay_du_length_minus1
                r.skip(8 + 5 + 1 + 5)?;
            }
            // bit_rate_scale, cpb_size_scale
            r.skip(8)?;
            if sub_pic_params {
                // cpb_size_du_scale
                r.skip(4)?;
            }
            // initial_cpb_removal_delay_length_minus1, au_cpb_removal_delay_length_minus1,
            // dpb_output_delay_length_minus1
            r.skip(15)?;
        }
    }
    for _ in 0..=max_sub_layers_minus1 {
        let fixed_pic_rate_general = r.flag()?;
        let fixed_pic_rate_within_cvs = fixed_pic_rate_general || r.flag()?;
        let low_delay = if fixed_pic_rate_within_cvs {
            // elemental_duration_in_tc_minus1
            r.ue()?;
            false
        } else {
            r.flag()?
        };
        let cpb_count = if low_delay {
            1
        } else {
            let minus1 = r.ue()?;
            if minus1 > 31 {
                return Err(OutOfBits);
            }
            minus1 + 1
        };
        for present in [nal_hrd, vcl_hrd] {
            if present {
                skip_sub_layer_hrd_parameters(r, cpb_count, sub_pic_params)?;
            }
        }
    }
    Ok(())
}

/// Skips `sub_layer_hrd_parameters()` (§ E.2.3).
fn skip_sub_layer_hrd_parameters(
    r: &mut BitReader<'_>,
    cpb_count: u32,
    sub_pic_params: bool,
) -> Result<(), OutOfBits> {
    for _ in 0..cpb_count {
        // bit_rate_value_minus1, cpb_size_value_minus1
        r.ue()?;
        r.ue()?;
        if sub_pic_params {
            // cpb_size_du_value_minus1, bit_rate_du_value_minus1
            r.ue()?;
            r.ue()?;
        }
        // cbr_flag
        r.flag()?;
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::hevc::testing::BitWriter;

    #[test]
    fn full_vui_with_hrd() {
        let mut b = BitWriter::default();
        // SAR 255: 4:3; no overscan; video signal: format 5, full range, BT.709 x3.
        b.put(1, 1).put(255, 8).put(4, 16).put(3, 16).put(0, 1);
        b.put(1, 1)
            .put(5, 3)
            .put(1, 1)
            .put(1, 1)
            .put(1, 8)
            .put(1, 8)
            .put(1, 8);
        // chroma loc 0/0; neutral 0, field_seq 0, frame_field 1; display window.
        b.put(1, 1).ue(0).ue(0).put(0, 1).put(0, 1).put(1, 1);
        b.put(1, 1).ue(1).ue(2).ue(3).ue(4);
        // Timing 1/25 with POC proportional (2 ticks), NAL HRD of one CPB.
        b.put(1, 1).put(1, 32).put(25, 32).put(1, 1).ue(1).put(1, 1);
        b.put(1, 1).put(0, 1).put(0, 1).put(0, 8).put(0, 15);
        b.put(1, 1).ue(0).ue(0).ue(0).ue(0).put(0, 1);
        // Bitstream restriction.
        b.put(1, 1).put(0, 3).ue(7).ue(0).ue(0).ue(15).ue(15);
        let bytes = b.bytes();
        let (vui, whole) = read_vui_lenient(&mut BitReader::new(&bytes), 0);
        assert!(whole);
        assert_eq!(vui.sample_aspect, PixelAspect::new(4, 3));
        let colour = vui.colour();
        assert_eq!(
            (colour.primaries, colour.matrix, colour.full_range),
            (1, 1, Some(true))
        );
        assert!(vui.frame_field_info_present && !vui.field_seq);
        assert_eq!(vui.default_display_window, Some([1, 2, 3, 4]));
        let timing = vui.timing.unwrap();
        assert_eq!(
            (
                timing.num_units_in_tick,
                timing.time_scale,
                timing.num_ticks_poc_diff_one
            ),
            (1, 25, Some(2))
        );
        assert_eq!(vui.min_spatial_segmentation_idc, Some(7));
    }

    #[test]
    fn a_cut_vui_keeps_what_came_before() {
        let mut b = BitWriter::default();
        // aspect_ratio_idc 14 (4:3), overscan absent, video signal limited range, then
        // the data ends inside the colour description.
        b.put(1, 1)
            .put(14, 8)
            .put(0, 1)
            .put(1, 1)
            .put(5, 3)
            .put(0, 1)
            .put(1, 1)
            .put(9, 8);
        let bytes = b.bytes();
        let (vui, whole) = read_vui_lenient(&mut BitReader::new(&bytes), 0);
        assert!(!whole);
        assert_eq!(vui.sample_aspect, PixelAspect::new(4, 3));
        assert_eq!(vui.full_range, Some(false));
        assert_eq!(vui.colour_description, None);
        assert_eq!(vui.colour().primaries, 2);
    }

    #[test]
    fn aspect_table() {
        assert_eq!(table_aspect(2), PixelAspect::new(12, 11));
        assert_eq!(table_aspect(0), None);
        assert_eq!(table_aspect(17), None);
    }
}
