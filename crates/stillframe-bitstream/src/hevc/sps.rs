//! The sequence parameter set (H.265 § 7.3.2.2, semantics § 7.4.3.2): what the
//! pictures look like and how much a decoder must hold for them.

use stillframe_core::bits::{unescape_rbsp, BitReader, OutOfBits};
use stillframe_core::{
    ChromaFormat, CodedFormat, ColourDescription, Crop, Error, PixelAspect, Result,
};

use super::nal::{NalHeader, NAL_SPS};
use super::ptl::{read_profile_tier_level, ProfileTierLevel};
use super::vui::{read_vui_lenient, Vui};

/// Where SPS errors are reported.
const LOCATION: &str = "HEVC SPS";

/// The DPB never holds more than 16 pictures (`MaxDpbSize`, § A.4.2).
const MAX_DPB_SIZE: u32 = 16;

/// `sps_max_dec_pic_buffering_minus1`, `sps_max_num_reorder_pics` and
/// `sps_max_latency_increase_plus1` of one sub-layer (§ 7.4.3.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SubLayerOrdering {
    /// `sps_max_dec_pic_buffering_minus1 + 1`: pictures the DPB must hold.
    pub max_dec_pic_buffering: u32,
    /// `sps_max_num_reorder_pics`: pictures that may precede any picture in
    /// decode order and follow it in output order.
    pub max_num_reorder_pics: u32,
    /// `sps_max_latency_increase_plus1` (0 means no latency bound).
    pub max_latency_increase_plus1: u32,
}

/// The decoded fields of a sequence parameter set, as H.265 § 7.4.3.2 names them.
///
/// Sizes are kept as coded (luma samples, conformance window in chroma units);
/// [`Sps::coded_format`] turns them into what the pictures look like.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sps {
    /// `sps_video_parameter_set_id`.
    pub vps_id: u8,
    /// `sps_max_sub_layers_minus1 + 1`: temporal sub-layers, 1 to 7.
    pub max_sub_layers: u8,
    /// `sps_temporal_id_nesting_flag`.
    pub temporal_id_nesting: bool,
    /// `profile_tier_level(1, sps_max_sub_layers_minus1)`, general part.
    pub profile_tier_level: ProfileTierLevel,
    /// `sps_seq_parameter_set_id`, 0 to 15.
    pub id: u8,
    /// `chroma_format_idc`: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u8,
    /// `separate_colour_plane_flag` (4:4:4 coded as three monochrome pictures).
    pub separate_colour_plane: bool,
    /// `pic_width_in_luma_samples`: the coded width.
    pub pic_width: u32,
    /// `pic_height_in_luma_samples`: the coded height.
    pub pic_height: u32,
    /// `conf_win_{left,right,top,bottom}_offset` in chroma sample units (zero without
    /// `conformance_window_flag`); see [`Sps::crop`].
    pub conformance_window: Crop,
    /// `bit_depth_luma_minus8 + 8`.
    pub bit_depth_luma: u8,
    /// `bit_depth_chroma_minus8 + 8`.
    pub bit_depth_chroma: u8,
    /// `log2_max_pic_order_cnt_lsb_minus4 + 4`: bits of `slice_pic_order_cnt_lsb`.
    pub log2_max_pic_order_cnt_lsb: u8,
    /// The DPB sizes and reorder depths of each sub-layer, `TemporalId` 0 first;
    /// values not sent are inferred from the highest sub-layer's (§ 7.4.3.2.1).
    pub sub_layer_ordering: Vec<SubLayerOrdering>,
    /// `MinCbLog2SizeY`.
    pub log2_min_cb_size: u8,
    /// `CtbLog2SizeY`, 4 to 6.
    pub log2_ctb_size: u8,
    /// `MinTbLog2SizeY`.
    pub log2_min_tb_size: u8,
    /// `MaxTbLog2SizeY`.
    pub log2_max_tb_size: u8,
    /// `scaling_list_enabled_flag`.
    pub scaling_list_enabled: bool,
    /// `amp_enabled_flag`.
    pub amp_enabled: bool,
    /// `sample_adaptive_offset_enabled_flag`.
    pub sao_enabled: bool,
    /// `pcm_enabled_flag`.
    pub pcm_enabled: bool,
    /// `num_short_term_ref_pic_sets`.
    pub num_short_term_ref_pic_sets: u8,
    /// `long_term_ref_pics_present_flag`.
    pub long_term_ref_pics_present: bool,
    /// `sps_temporal_mvp_enabled_flag`.
    pub temporal_mvp_enabled: bool,
    /// `strong_intra_smoothing_enabled_flag`.
    pub strong_intra_smoothing_enabled: bool,
    /// The VUI, if `vui_parameters_present_flag`.
    pub vui: Option<Vui>,
    /// `sps_range_extension_flag` (format range extensions tools).
    pub range_extension: bool,
    /// `sps_multilayer_extension_flag`.
    pub multilayer_extension: bool,
    /// `sps_3d_extension_flag`.
    pub extension_3d: bool,
    /// `sps_scc_extension_flag` (screen content coding tools).
    pub scc_extension: bool,
    /// `sps_extension_4bits`.
    pub extension_4bits: u8,
}

/// Parses a sequence parameter set NAL unit: the two header bytes (type 33) and the
/// escaped payload, as it appears in an `hvcC` record or after a start code.
///
/// Every read is bounds-checked and every field is checked against its legal range
/// (§ 7.4.3.2) before it sizes anything, so garbage gives [`Error::Malformed`], never
/// a panic. Picture sizes are not bounded here: check them against
/// [`stillframe_core::Limits`]. The VUI is read leniently (see [`Vui`]); when it is
/// cut short, the extension flags after it read as absent.
///
/// ```
/// use stillframe_bitstream::hevc::parse_sps;
/// // x265's SPS of a 320x240 Main stream (from tests/fixtures/hevc).
/// let nal = [
///     0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
///     0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x16, 0x59, 0x59, 0x64,
///     0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03,
///     0x00, 0x32, 0x10,
/// ];
/// let sps = parse_sps(&nal).unwrap();
/// let format = sps.coded_format();
/// assert_eq!((format.profile.as_str(), format.width, format.height), ("Main", 320, 240));
/// ```
pub fn parse_sps(nal: &[u8]) -> Result<Sps> {
    match NalHeader::parse(nal) {
        Some(header) if header.nal_type == NAL_SPS => {}
        other => {
            return Err(Error::malformed(
                LOCATION,
                format!(
                    "NAL unit type {:?} is not an SPS (33)",
                    other.map(|h| h.nal_type)
                ),
            ))
        }
    }
    let rbsp = unescape_rbsp(nal.get(2..).unwrap_or_default());
    read_sps(&mut BitReader::new(&rbsp)).map_err(|error| match error {
        SpsError::Truncated => Error::malformed(LOCATION, "the SPS ends inside a field"),
        SpsError::Invalid(message) => Error::malformed(LOCATION, message),
    })
}

/// Why an SPS could not be read.
enum SpsError {
    Truncated,
    Invalid(String),
}

impl From<OutOfBits> for SpsError {
    fn from(_: OutOfBits) -> Self {
        SpsError::Truncated
    }
}

/// Reads `ue(v)` and fails unless it is at most `max`, naming the field.
fn ue_at_most(r: &mut BitReader<'_>, field: &str, max: u32) -> Result<u32, SpsError> {
    let value = r.ue()?;
    if value > max {
        return Err(SpsError::Invalid(format!(
            "{field} is {value}, above {max}"
        )));
    }
    Ok(value)
}

/// [`ue_at_most`] for fields that fit a byte (`max` ≤ 255).
fn ue_u8(r: &mut BitReader<'_>, field: &str, max: u8) -> Result<u8, SpsError> {
    let value = ue_at_most(r, field, u32::from(max))?;
    u8::try_from(value).map_err(|_| SpsError::Invalid(format!("{field} is {value}")))
}

fn read_sps(r: &mut BitReader<'_>) -> Result<Sps, SpsError> {
    let vps_id = r.u8(4)?;
    let max_sub_layers_minus1 = r.u8(3)?;
    if max_sub_layers_minus1 > 6 {
        return Err(SpsError::Invalid(
            "sps_max_sub_layers_minus1 is 7, above 6".to_owned(),
        ));
    }
    let temporal_id_nesting = r.flag()?;
    let profile_tier_level = read_profile_tier_level(r, max_sub_layers_minus1)?;
    let id = ue_u8(r, "sps_seq_parameter_set_id", 15)?;
    let chroma_format_idc = ue_u8(r, "chroma_format_idc", 3)?;
    let separate_colour_plane = chroma_format_idc == 3 && r.flag()?;
    let pic_width = r.ue()?;
    let pic_height = r.ue()?;
    let conformance_window = if r.flag()? {
        Crop {
            left: r.ue()?,
            right: r.ue()?,
            top: r.ue()?,
            bottom: r.ue()?,
        }
    } else {
        Crop::default()
    };
    let bit_depth_luma = 8 + ue_u8(r, "bit_depth_luma_minus8", 8)?;
    let bit_depth_chroma = 8 + ue_u8(r, "bit_depth_chroma_minus8", 8)?;
    let log2_max_pic_order_cnt_lsb = 4 + ue_u8(r, "log2_max_pic_order_cnt_lsb_minus4", 12)?;
    let sub_layer_ordering = read_sub_layer_ordering(r, max_sub_layers_minus1)?;

    let log2_min_cb_size = 3 + ue_u8(r, "log2_min_luma_coding_block_size_minus3", 3)?;
    let log2_ctb_size = log2_min_cb_size + ue_u8(r, "log2_diff_max_min_luma_coding_block_size", 3)?;
    let log2_min_tb_size = 2 + ue_u8(r, "log2_min_luma_transform_block_size_minus2", 3)?;
    let log2_max_tb_size =
        log2_min_tb_size + ue_u8(r, "log2_diff_max_min_luma_transform_block_size", 3)?;
    if !(4..=6).contains(&log2_ctb_size) {
        return Err(SpsError::Invalid(format!(
            "CtbLog2SizeY is {log2_ctb_size}, outside 4 to 6"
        )));
    }
    if log2_min_tb_size >= log2_min_cb_size || log2_max_tb_size > log2_ctb_size.min(5) {
        return Err(SpsError::Invalid(format!(
            "transform block sizes 2^{log2_min_tb_size} to 2^{log2_max_tb_size} do not fit \
             coding blocks of 2^{log2_min_cb_size} to 2^{log2_ctb_size}"
        )));
    }
    let min_cb_size = 1u32 << log2_min_cb_size;
    if pic_width == 0
        || pic_height == 0
        || !pic_width.is_multiple_of(min_cb_size)
        || !pic_height.is_multiple_of(min_cb_size)
    {
        return Err(SpsError::Invalid(format!(
            "picture size {pic_width}x{pic_height} is not a non-zero multiple of MinCbSizeY \
             {min_cb_size}"
        )));
    }
    let depth_bound = log2_ctb_size - log2_min_tb_size;
    // max_transform_hierarchy_depth_inter, max_transform_hierarchy_depth_intra
    ue_at_most(
        r,
        "max_transform_hierarchy_depth_inter",
        u32::from(depth_bound),
    )?;
    ue_at_most(
        r,
        "max_transform_hierarchy_depth_intra",
        u32::from(depth_bound),
    )?;
    let scaling_list_enabled = r.flag()?;
    if scaling_list_enabled && r.flag()? {
        skip_scaling_list_data(r)?;
    }
    let amp_enabled = r.flag()?;
    let sao_enabled = r.flag()?;
    let pcm_enabled = r.flag()?;
    if pcm_enabled {
        // pcm_sample_bit_depth_luma_minus1, pcm_sample_bit_depth_chroma_minus1
        r.skip(8)?;
        ue_at_most(r, "log2_min_pcm_luma_coding_block_size_minus3", 2)?;
        ue_at_most(r, "log2_diff_max_min_pcm_luma_coding_block_size", 3)?;
        // pcm_loop_filter_disabled_flag
        r.flag()?;
    }
    let num_short_term_ref_pic_sets = ue_u8(r, "num_short_term_ref_pic_sets", 64)?;
    let mut sets: Vec<ShortTermRps> = Vec::with_capacity(usize::from(num_short_term_ref_pic_sets));
    for index in 0..usize::from(num_short_term_ref_pic_sets) {
        let set = read_st_ref_pic_set(r, index, &sets)?;
        sets.push(set);
    }
    let long_term_ref_pics_present = r.flag()?;
    if long_term_ref_pics_present {
        let count = ue_at_most(r, "num_long_term_ref_pics_sps", 32)?;
        for _ in 0..count {
            // lt_ref_pic_poc_lsb_sps, used_by_curr_pic_lt_sps_flag
            r.skip(usize::from(log2_max_pic_order_cnt_lsb) + 1)?;
        }
    }
    let temporal_mvp_enabled = r.flag()?;
    let strong_intra_smoothing_enabled = r.flag()?;
    let (vui, vui_whole) = if r.flag()? {
        let (vui, whole) = read_vui_lenient(r, max_sub_layers_minus1);
        (Some(vui), whole)
    } else {
        (None, true)
    };
    let mut extensions = [false; 4];
    let mut extension_4bits = 0;
    // After a broken VUI the extension flags cannot be found; they read as absent.
    if vui_whole && r.flag().unwrap_or(false) {
        for flag in &mut extensions {
            *flag = r.flag()?;
        }
        extension_4bits = r.u8(4)?;
    }
    let [range_extension, multilayer_extension, extension_3d, scc_extension] = extensions;

    let sps = Sps {
        vps_id,
        max_sub_layers: max_sub_layers_minus1 + 1,
        temporal_id_nesting,
        profile_tier_level,
        id,
        chroma_format_idc,
        separate_colour_plane,
        pic_width,
        pic_height,
        conformance_window,
        bit_depth_luma,
        bit_depth_chroma,
        log2_max_pic_order_cnt_lsb,
        sub_layer_ordering,
        log2_min_cb_size,
        log2_ctb_size,
        log2_min_tb_size,
        log2_max_tb_size,
        scaling_list_enabled,
        amp_enabled,
        sao_enabled,
        pcm_enabled,
        num_short_term_ref_pic_sets,
        long_term_ref_pics_present,
        temporal_mvp_enabled,
        strong_intra_smoothing_enabled,
        vui,
        range_extension,
        multilayer_extension,
        extension_3d,
        scc_extension,
        extension_4bits,
    };
    sps.check_conformance_window()?;
    Ok(sps)
}

/// The sub-layer ordering info (§ 7.3.2.2.1), inferred for the sub-layers whose
/// values are not sent.
fn read_sub_layer_ordering(
    r: &mut BitReader<'_>,
    max_sub_layers_minus1: u8,
) -> Result<Vec<SubLayerOrdering>, SpsError> {
    let every_sub_layer = r.flag()?;
    let count = usize::from(max_sub_layers_minus1) + 1;
    let first = if every_sub_layer { 0 } else { count - 1 };
    let mut ordering = vec![SubLayerOrdering::default(); count];
    for entry in ordering.iter_mut().skip(first) {
        let max_dec_pic_buffering =
            1 + ue_at_most(r, "sps_max_dec_pic_buffering_minus1", MAX_DPB_SIZE - 1)?;
        let max_num_reorder_pics = ue_at_most(r, "sps_max_num_reorder_pics", MAX_DPB_SIZE - 1)?;
        let max_latency_increase_plus1 = r.ue()?;
        *entry = SubLayerOrdering {
            max_dec_pic_buffering,
            max_num_reorder_pics,
            max_latency_increase_plus1,
        };
    }
    if !every_sub_layer {
        let highest = ordering[count - 1];
        ordering.iter_mut().for_each(|entry| *entry = highest);
    }
    Ok(ordering)
}

/// Skips `scaling_list_data()` (§ 7.3.4).
fn skip_scaling_list_data(r: &mut BitReader<'_>) -> Result<(), SpsError> {
    for size_id in 0..4u32 {
        let step = if size_id == 3 { 3 } else { 1 };
        let coefficients = 64.min(1 << (4 + (size_id << 1)));
        for matrix_id in (0..6u32).step_by(step) {
            if !r.flag()? {
                // scaling_list_pred_matrix_id_delta
                ue_at_most(
                    r,
                    "scaling_list_pred_matrix_id_delta",
                    matrix_id / step as u32,
                )?;
                continue;
            }
            if size_id > 1 {
                // scaling_list_dc_coef_minus8, −7 to 247
                let dc = r.se()?;
                if !(-7..=247).contains(&dc) {
                    return Err(SpsError::Invalid(format!(
                        "scaling_list_dc_coef_minus8 is {dc}, outside −7 to 247"
                    )));
                }
            }
            for _ in 0..coefficients {
                let delta = r.se()?;
                if !(-128..=127).contains(&delta) {
                    return Err(SpsError::Invalid(format!(
                        "scaling_list_delta_coef is {delta}, outside −128 to 127"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A short-term reference picture set's delta POCs (§ 7.4.8), as far as later sets
/// predicted from it need them.
#[derive(Debug, Clone, Default)]
struct ShortTermRps {
    /// `DeltaPocS0`: negative, closest first.
    negative: Vec<i32>,
    /// `DeltaPocS1`: positive, closest first.
    positive: Vec<i32>,
}

/// Reads `st_ref_pic_set(stRpsIdx)` of an SPS (§ 7.3.7), deriving its delta POCs
/// (7-61, 7-62) since later sets may be predicted from it.
fn read_st_ref_pic_set(
    r: &mut BitReader<'_>,
    index: usize,
    sets: &[ShortTermRps],
) -> Result<ShortTermRps, SpsError> {
    let mut set = ShortTermRps::default();
    if index > 0 && r.flag()? {
        // inter_ref_pic_set_prediction_flag: predicted from the previous set (in an
        // SPS, delta_idx_minus1 is not sent and is 0).
        let reference = &sets[index - 1];
        let sign = r.flag()?;
        let magnitude = 1 + ue_at_most(r, "abs_delta_rps_minus1", (1 << 15) - 1)?;
        let delta_rps = if sign {
            -i32::try_from(magnitude).unwrap_or(i32::MAX)
        } else {
            i32::try_from(magnitude).unwrap_or(i32::MAX)
        };
        let count = reference.negative.len() + reference.positive.len();
        let mut used = vec![false; count + 1];
        let mut use_delta = vec![true; count + 1];
        for j in 0..=count {
            used[j] = r.flag()?;
            if !used[j] {
                use_delta[j] = r.flag()?;
            }
        }
        let negatives = reference.negative.len();
        // (7-61): the negative deltas, closest first.
        for (j, &delta) in reference.positive.iter().enumerate().rev() {
            let poc = delta + delta_rps;
            if poc < 0 && use_delta[negatives + j] {
                set.negative.push(poc);
            }
        }
        if delta_rps < 0 && use_delta[count] {
            set.negative.push(delta_rps);
        }
        for (j, &delta) in reference.negative.iter().enumerate() {
            let poc = delta + delta_rps;
            if poc < 0 && use_delta[j] {
                set.negative.push(poc);
            }
        }
        // (7-62): the positive deltas, closest first.
        for (j, &delta) in reference.negative.iter().enumerate().rev() {
            let poc = delta + delta_rps;
            if poc > 0 && use_delta[j] {
                set.positive.push(poc);
            }
        }
        if delta_rps > 0 && use_delta[count] {
            set.positive.push(delta_rps);
        }
        for (j, &delta) in reference.positive.iter().enumerate() {
            let poc = delta + delta_rps;
            if poc > 0 && use_delta[negatives + j] {
                set.positive.push(poc);
            }
        }
    } else {
        let negatives = ue_at_most(r, "num_negative_pics", MAX_DPB_SIZE)?;
        let positives = ue_at_most(r, "num_positive_pics", MAX_DPB_SIZE)?;
        let mut poc = 0i32;
        for _ in 0..negatives {
            // delta_poc_s0_minus1, used_by_curr_pic_s0_flag
            poc -= 1 + i32::try_from(ue_at_most(r, "delta_poc_s0_minus1", (1 << 15) - 1)?)
                .unwrap_or(0);
            r.flag()?;
            set.negative.push(poc);
        }
        poc = 0;
        for _ in 0..positives {
            poc += 1 + i32::try_from(ue_at_most(r, "delta_poc_s1_minus1", (1 << 15) - 1)?)
                .unwrap_or(0);
            r.flag()?;
            set.positive.push(poc);
        }
    }
    if set.negative.len() + set.positive.len() > MAX_DPB_SIZE as usize {
        return Err(SpsError::Invalid(format!(
            "short-term reference picture set {index} holds {} pictures, above {MAX_DPB_SIZE}",
            set.negative.len() + set.positive.len()
        )));
    }
    Ok(set)
}

impl Sps {
    /// The chroma format; 4:4:4 coded as separate colour planes is still 4:4:4.
    pub fn chroma(&self) -> ChromaFormat {
        match self.chroma_format_idc {
            0 => ChromaFormat::Monochrome,
            2 => ChromaFormat::Yuv422,
            3 => ChromaFormat::Yuv444,
            _ => ChromaFormat::Yuv420,
        }
    }

    /// `(SubWidthC, SubHeightC)` (Table 6-1): luma samples per unit of the
    /// conformance window offsets.
    pub fn chroma_units(&self) -> (u32, u32) {
        if self.separate_colour_plane {
            return (1, 1);
        }
        match self.chroma_format_idc {
            1 => (2, 2),
            2 => (2, 1),
            _ => (1, 1),
        }
    }

    /// Width and height of the coded picture, before the conformance window.
    pub fn coded_size(&self) -> (u32, u32) {
        (self.pic_width, self.pic_height)
    }

    /// The conformance window in luma samples: what is cut from each edge of the
    /// coded picture to give the output picture.
    pub fn crop(&self) -> Crop {
        let (unit_x, unit_y) = self.chroma_units();
        let Crop {
            left,
            right,
            top,
            bottom,
        } = self.conformance_window;
        // check_conformance_window bounded every offset below the coded size.
        Crop {
            left: left.saturating_mul(unit_x),
            right: right.saturating_mul(unit_x),
            top: top.saturating_mul(unit_y),
            bottom: bottom.saturating_mul(unit_y),
        }
    }

    /// The conformance window must leave at least one sample each way (§ 7.4.3.2.1).
    fn check_conformance_window(&self) -> Result<(), SpsError> {
        let (unit_x, unit_y) = self.chroma_units();
        let Crop {
            left,
            right,
            top,
            bottom,
        } = self.conformance_window;
        let horizontal = (u64::from(left) + u64::from(right)) * u64::from(unit_x);
        let vertical = (u64::from(top) + u64::from(bottom)) * u64::from(unit_y);
        if horizontal >= u64::from(self.pic_width) || vertical >= u64::from(self.pic_height) {
            return Err(SpsError::Invalid(format!(
                "conformance window ({left}, {right}, {top}, {bottom} units of \
                 {unit_x}x{unit_y}) leaves nothing of the {}x{} picture",
                self.pic_width, self.pic_height
            )));
        }
        Ok(())
    }

    /// Visible width and height: the coded size less the conformance window.
    pub fn visible_size(&self) -> (u32, u32) {
        let crop = self.crop();
        (
            self.pic_width
                .saturating_sub(crop.left.saturating_add(crop.right)),
            self.pic_height
                .saturating_sub(crop.top.saturating_add(crop.bottom)),
        )
    }

    /// `CtbSizeY`: the side of a coding tree block in luma samples.
    pub fn ctb_size(&self) -> u32 {
        1 << self.log2_ctb_size
    }

    /// `PicSizeInCtbsY`: coding tree blocks per picture.
    pub fn pic_size_in_ctbs(&self) -> u64 {
        let ctb = self.ctb_size();
        u64::from(self.pic_width.div_ceil(ctb)) * u64::from(self.pic_height.div_ceil(ctb))
    }

    /// The ordering info of the highest sub-layer (`HighestTid`), which is what a
    /// decoder of the whole stream needs.
    pub fn highest_sub_layer_ordering(&self) -> SubLayerOrdering {
        self.sub_layer_ordering.last().copied().unwrap_or_default()
    }

    /// The profile by ffprobe's name (see [`ProfileTierLevel::profile_name`]).
    pub fn profile_name(&self) -> String {
        self.profile_tier_level.profile_name()
    }

    /// The colour description of the VUI; unspecified without one.
    pub fn colour(&self) -> ColourDescription {
        self.vui
            .as_ref()
            .map_or(ColourDescription::UNSPECIFIED, Vui::colour)
    }

    /// The sample aspect ratio of the VUI, if it states one.
    pub fn pixel_aspect(&self) -> Option<PixelAspect> {
        self.vui.as_ref().and_then(|vui| vui.sample_aspect)
    }

    /// What this SPS says about the pictures: ffprobe's profile name, the visible
    /// size after the conformance window, the crop, pixel aspect and colour of the
    /// VUI, the larger of the two bit depths, and the chroma format.
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::hevc::testing::BitWriter;

    /// The parts of a hand-made SPS a test varies.
    struct Params {
        chroma_format_idc: u32,
        size: (u32, u32),
        window: Option<[u32; 4]>,
        bit_depth: u32,
        sub_layers: u8,
        vui: bool,
    }

    const BASE: Params = Params {
        chroma_format_idc: 1,
        size: (336, 192),
        window: None,
        bit_depth: 8,
        sub_layers: 1,
        vui: false,
    };

    /// A complete SPS NAL unit: Main profile, 8x8 to 32x32 coding blocks, two
    /// short-term RPS (the second predicted), scaling lists, and optionally a VUI.
    fn sps_nal(params: &Params) -> Vec<u8> {
        let mut b = BitWriter::default();
        b.put(0, 4)
            .put(u64::from(params.sub_layers - 1), 3)
            .flag(true);
        // profile_tier_level: Main, compat flags 1 and 2, progressive + frame only,
        // level 93.
        b.put(0, 2).flag(false).put(1, 5).put(0x6000_0000, 32);
        b.put(0b1001, 4).put(0, 44).put(93, 8);
        if params.sub_layers > 1 {
            for _ in 1..params.sub_layers {
                b.flag(false).flag(true);
            }
            b.put(0, 2 * (9 - u32::from(params.sub_layers)));
            for _ in 1..params.sub_layers {
                b.put(90, 8);
            }
        }
        b.ue(0).ue(params.chroma_format_idc);
        if params.chroma_format_idc == 3 {
            b.flag(false);
        }
        b.ue(params.size.0).ue(params.size.1);
        match params.window {
            Some(window) => {
                b.flag(true);
                for offset in window {
                    b.ue(offset);
                }
            }
            None => {
                b.flag(false);
            }
        }
        b.ue(params.bit_depth - 8).ue(params.bit_depth - 8).ue(4);
        // sub_layer_ordering_info_present: only the highest.
        b.flag(false).ue(4).ue(2).ue(0);
        // min CB 8, CTB 32, TB 4 to 32, depths 1 and 1.
        b.ue(0).ue(2).ue(0).ue(3).ue(1).ue(1);
        // Scaling lists with data: every list predicted from the default except one
        // explicit 8x8 list.
        b.flag(true).flag(true);
        for size_id in 0..4 {
            let step = if size_id == 3 { 3 } else { 1 };
            for matrix_id in (0..6).step_by(step) {
                if size_id == 1 && matrix_id == 0 {
                    b.flag(true);
                    for _ in 0..64 {
                        b.se(1);
                    }
                } else {
                    b.flag(false).ue(0);
                }
            }
        }
        // amp, sao, no pcm.
        b.flag(true).flag(true).flag(false);
        // Two short-term RPS: {-1, -2 | +1}, then predicted with delta_rps −1.
        b.ue(2);
        b.ue(2)
            .ue(1)
            .ue(0)
            .flag(true)
            .ue(0)
            .flag(true)
            .ue(0)
            .flag(true);
        b.flag(true).flag(true).ue(0);
        for _ in 0..4 {
            b.flag(true);
        }
        // long-term refs present with one entry.
        b.flag(true).ue(1).put(3, 8).flag(true);
        // temporal mvp, strong intra smoothing.
        b.flag(true).flag(true);
        b.flag(params.vui);
        if params.vui {
            // SAR 1:1; video signal: limited range, BT.2020 PQ; no chroma loc; flags;
            // no window; timing 1001/30000; no restriction.
            b.flag(true).put(1, 8).flag(false);
            b.flag(true)
                .put(5, 3)
                .flag(false)
                .flag(true)
                .put(9, 8)
                .put(16, 8)
                .put(9, 8);
            b.flag(false)
                .flag(false)
                .flag(false)
                .flag(false)
                .flag(false);
            b.flag(true)
                .put(1001, 32)
                .put(30000, 32)
                .flag(false)
                .flag(false);
            b.flag(false);
        }
        // sps_extension_present with the range extension flag.
        b.flag(true)
            .flag(true)
            .flag(false)
            .flag(false)
            .flag(false)
            .put(0, 4);
        let mut nal = vec![0x42, 0x01];
        nal.extend(b.rbsp());
        nal
    }

    #[test]
    fn a_complete_sps() {
        let sps = parse_sps(&sps_nal(&BASE)).unwrap();
        assert_eq!(
            (sps.id, sps.max_sub_layers, sps.chroma_format_idc),
            (0, 1, 1)
        );
        assert_eq!(sps.coded_size(), (336, 192));
        assert_eq!((sps.log2_ctb_size, sps.log2_min_cb_size), (5, 3));
        assert_eq!(sps.log2_max_pic_order_cnt_lsb, 8);
        assert_eq!(sps.num_short_term_ref_pic_sets, 2);
        assert!(sps.long_term_ref_pics_present && sps.temporal_mvp_enabled);
        assert!(sps.range_extension && !sps.scc_extension);
        assert_eq!(
            sps.highest_sub_layer_ordering(),
            SubLayerOrdering {
                max_dec_pic_buffering: 5,
                max_num_reorder_pics: 2,
                max_latency_increase_plus1: 0
            }
        );
        assert_eq!(sps.pic_size_in_ctbs(), 11 * 6);
        let format = sps.coded_format();
        assert_eq!(format.profile, "Main");
        assert_eq!(
            (format.width, format.height, format.bit_depth),
            (336, 192, 8)
        );
        assert_eq!(format.colour, ColourDescription::UNSPECIFIED);
        assert_eq!(format.pixel_aspect, None);
    }

    #[test]
    fn vui_and_conformance_window() {
        let params = Params {
            window: Some([1, 2, 0, 3]),
            vui: true,
            bit_depth: 10,
            ..BASE
        };
        let sps = parse_sps(&sps_nal(&params)).unwrap();
        assert_eq!(
            sps.crop(),
            Crop {
                left: 2,
                right: 4,
                top: 0,
                bottom: 6
            }
        );
        let format = sps.coded_format();
        assert_eq!((format.width, format.height), (330, 186));
        assert_eq!(format.bit_depth, 10);
        assert_eq!(format.pixel_aspect, Some(PixelAspect::SQUARE));
        assert_eq!(
            format.colour,
            ColourDescription {
                primaries: 9,
                transfer: 16,
                matrix: 9,
                full_range: Some(false)
            }
        );
        let timing = sps.vui.as_ref().and_then(|vui| vui.timing).unwrap();
        assert_eq!((timing.num_units_in_tick, timing.time_scale), (1001, 30000));
        // The flags after the VUI were found.
        assert!(sps.range_extension);
    }

    #[test]
    fn chroma_formats_and_sub_layers() {
        let params = Params {
            chroma_format_idc: 2,
            window: Some([1, 1, 1, 1]),
            sub_layers: 3,
            ..BASE
        };
        let sps = parse_sps(&sps_nal(&params)).unwrap();
        assert_eq!(sps.chroma(), ChromaFormat::Yuv422);
        assert_eq!(sps.max_sub_layers, 3);
        assert_eq!(sps.sub_layer_ordering.len(), 3);
        // 4:2:2: window units are 2 across, 1 down.
        assert_eq!(sps.visible_size(), (332, 190));
        let params = Params {
            chroma_format_idc: 3,
            ..BASE
        };
        assert_eq!(
            parse_sps(&sps_nal(&params)).unwrap().chroma(),
            ChromaFormat::Yuv444
        );
        let params = Params {
            chroma_format_idc: 0,
            window: Some([1, 0, 0, 0]),
            ..BASE
        };
        let mono = parse_sps(&sps_nal(&params)).unwrap();
        assert_eq!(mono.chroma(), ChromaFormat::Monochrome);
        assert_eq!(mono.visible_size(), (335, 192));
    }

    #[test]
    fn out_of_range_fields_are_malformed() {
        // Not a multiple of the minimum coding block.
        let params = Params {
            size: (330, 192),
            ..BASE
        };
        let error = parse_sps(&sps_nal(&params)).unwrap_err();
        assert!(error.to_string().contains("MinCbSizeY"), "{error}");
        // A window that covers the picture.
        let params = Params {
            window: Some([100, 100, 0, 0]),
            ..BASE
        };
        let error = parse_sps(&sps_nal(&params)).unwrap_err();
        assert!(error.to_string().contains("leaves nothing"), "{error}");
        // Not an SPS, and every truncation.
        assert!(parse_sps(&[0x40, 0x01, 0x0c]).is_err());
        let whole = sps_nal(&BASE);
        for cut in 0..whole.len() - 2 {
            assert!(
                matches!(parse_sps(&whole[..cut]), Err(Error::Malformed { .. })),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn huge_sizes_parse_for_the_limits_to_refuse() {
        let params = Params {
            size: (16384, 16384),
            ..BASE
        };
        let sps = parse_sps(&sps_nal(&params)).unwrap();
        assert_eq!(sps.coded_size(), (16384, 16384));
    }
}
