//! HEVC / H.265 syntax (ITU-T H.265): NAL unit headers (§ 7.3.1.2), the `hvcC`
//! record (ISO 14496-15 § 8.3.3), parameter sets (§ 7.3.2: VPS, SPS with its VUI,
//! the leading fields of the PPS), the start of slice segment headers (§ 7.3.6.1),
//! picture order counts (§ 8.3.1), the Dolby Vision configuration record, and
//! packet inspection.
//!
//! Nothing here decodes pictures. The HEVC decoder adapter uses it to describe a
//! stream and check it against [`stillframe_core::Limits`] before its decoder sees
//! a parameter set; a raw HEVC demuxer can use it to find access units
//! ([`first_slice_segment_in_pic`], [`parse_slice_segment_header_start`]), to
//! order pictures ([`PocTracker`]) and to make the track's `hvcC` from the
//! parameter sets it finds ([`write_hvcc`]).

mod dovi;
mod hvcc;
mod inspect;
mod nal;
mod poc;
mod pps;
mod ptl;
mod slice;
mod sps;
#[cfg(test)]
mod testing;
mod vps;
mod vui;

pub use dovi::{dolby_vision_config, DolbyVisionConfig};
pub use hvcc::{parse_codec_config, parse_hvcc, write_hvcc, HevcConfig, NalArray};
pub use inspect::{classify_access_unit, HevcInspector, PictureKind};
pub use nal::{
    NalHeader, NAL_AUD, NAL_BLA_N_LP, NAL_BLA_W_LP, NAL_BLA_W_RADL, NAL_CRA, NAL_EOB, NAL_EOS,
    NAL_FD, NAL_IDR_N_LP, NAL_IDR_W_RADL, NAL_PPS, NAL_PREFIX_SEI, NAL_RADL_N, NAL_RADL_R,
    NAL_RASL_N, NAL_RASL_R, NAL_SPS, NAL_SUFFIX_SEI, NAL_TRAIL_N, NAL_TRAIL_R, NAL_TSA_N, NAL_VPS,
};
pub use poc::PocTracker;
pub use pps::{parse_pps_head, PpsHead};
pub use ptl::{
    ProfileTierLevel, PROFILE_MAIN, PROFILE_MAIN_10, PROFILE_MAIN_STILL_PICTURE, PROFILE_REXT,
};
pub use slice::{
    first_slice_segment_in_pic, parse_slice_segment_header_start, IndependentSliceFields,
    SliceSegmentHeaderStart, SliceType,
};
pub use sps::{parse_sps, Sps, SubLayerOrdering};
pub use vps::{parse_vps, Vps};
pub use vui::{Timing, Vui};
