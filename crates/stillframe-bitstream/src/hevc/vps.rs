//! The video parameter set (H.265 § 7.3.2.1): layers, sub-layers and timing of the
//! whole stream.

use stillframe_core::bits::{unescape_rbsp, BitReader, OutOfBits};
use stillframe_core::{Error, Result};

use super::nal::{NalHeader, NAL_VPS};
use super::ptl::{read_profile_tier_level, ProfileTierLevel};

/// The leading fields of a video parameter set, through its timing information.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vps {
    /// `vps_video_parameter_set_id`, 0 to 15.
    pub id: u8,
    /// `vps_base_layer_internal_flag`.
    pub base_layer_internal: bool,
    /// `vps_base_layer_available_flag`.
    pub base_layer_available: bool,
    /// `vps_max_layers_minus1 + 1`: more than 1 for SHVC and MV-HEVC streams.
    pub max_layers: u8,
    /// `vps_max_sub_layers_minus1 + 1`: temporal sub-layers, 1 to 7.
    pub max_sub_layers: u8,
    /// `vps_temporal_id_nesting_flag`.
    pub temporal_id_nesting: bool,
    /// `profile_tier_level(1, vps_max_sub_layers_minus1)`, general part.
    pub profile_tier_level: ProfileTierLevel,
    /// `(vps_num_units_in_tick, vps_time_scale)` if `vps_timing_info_present_flag`.
    pub timing: Option<(u32, u32)>,
}

/// Parses a video parameter set NAL unit (two header bytes, type 32, then the
/// escaped payload) through `vps_timing_info`; the HRD parameters and extensions
/// after it are not read.
///
/// Fails with [`Error::Malformed`] when the unit is cut short or a field is out of
/// range (§ 7.4.3.1).
///
/// ```
/// use stillframe_bitstream::hevc::parse_vps;
/// // x265's VPS of a Main stream.
/// let nal = [
///     0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90,
///     0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x95, 0x94, 0x09,
/// ];
/// let vps = parse_vps(&nal).unwrap();
/// assert_eq!((vps.id, vps.max_layers, vps.max_sub_layers), (0, 1, 1));
/// assert_eq!(vps.profile_tier_level.profile_name(), "Main");
/// ```
pub fn parse_vps(nal: &[u8]) -> Result<Vps> {
    const LOCATION: &str = "HEVC VPS";
    if NalHeader::parse(nal).map(|header| header.nal_type) != Some(NAL_VPS) {
        return Err(Error::malformed(LOCATION, "not a VPS NAL unit (type 32)"));
    }
    let rbsp = unescape_rbsp(nal.get(2..).unwrap_or_default());
    let r = &mut BitReader::new(&rbsp);
    let read = |r: &mut BitReader<'_>| -> std::result::Result<Option<Vps>, OutOfBits> {
        let id = r.u8(4)?;
        let base_layer_internal = r.flag()?;
        let base_layer_available = r.flag()?;
        let max_layers = r.u8(6)? + 1;
        let max_sub_layers_minus1 = r.u8(3)?;
        let temporal_id_nesting = r.flag()?;
        if r.bits(16)? != 0xffff || max_sub_layers_minus1 > 6 {
            return Ok(None);
        }
        let profile_tier_level = read_profile_tier_level(r, max_sub_layers_minus1)?;
        let every_sub_layer = r.flag()?;
        let first = if every_sub_layer {
            0
        } else {
            max_sub_layers_minus1
        };
        for _ in first..=max_sub_layers_minus1 {
            // vps_max_dec_pic_buffering_minus1, vps_max_num_reorder_pics,
            // vps_max_latency_increase_plus1
            r.ue()?;
            r.ue()?;
            r.ue()?;
        }
        let max_layer_id = r.u8(6)?;
        let layer_sets_minus1 = r.ue()?;
        if layer_sets_minus1 > 1023 {
            return Ok(None);
        }
        // layer_id_included_flag[i][j] for each further layer set
        let flags = usize::try_from(layer_sets_minus1).unwrap_or(usize::MAX);
        r.skip(flags.saturating_mul(usize::from(max_layer_id) + 1))?;
        let timing = if r.flag()? {
            Some((r.bits(32)?, r.bits(32)?))
        } else {
            None
        };
        Ok(Some(Vps {
            id,
            base_layer_internal,
            base_layer_available,
            max_layers,
            max_sub_layers: max_sub_layers_minus1 + 1,
            temporal_id_nesting,
            profile_tier_level,
            timing,
        }))
    };
    match read(r) {
        Ok(Some(vps)) => Ok(vps),
        Ok(None) => Err(Error::malformed(
            LOCATION,
            "vps_reserved_0xffff_16bits, vps_max_sub_layers_minus1 or \
             vps_num_layer_sets_minus1 out of range",
        )),
        Err(OutOfBits) => Err(Error::malformed(LOCATION, "the VPS ends inside a field")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::hevc::testing::BitWriter;

    #[test]
    fn reads_sub_layers_and_timing() {
        let mut b = BitWriter::default();
        // id 3, both base-layer flags, 1 layer, 2 sub-layers, nesting, 0xffff.
        b.put(3, 4)
            .flag(true)
            .flag(true)
            .put(0, 6)
            .put(1, 3)
            .flag(true)
            .put(0xffff, 16);
        // PTL: Main 10, level 120, sub-layer 1 without profile or level.
        b.put(2, 8).put(0x2000_0000, 32).put(0, 48).put(120, 8);
        b.flag(false).flag(false).put(0, 14);
        // ordering for both sub-layers; one layer set; timing 1/50.
        b.flag(true).ue(1).ue(0).ue(0).ue(4).ue(2).ue(0);
        b.put(0, 6)
            .ue(0)
            .flag(true)
            .put(1, 32)
            .put(50, 32)
            .flag(false);
        let mut nal = vec![0x40, 0x01];
        nal.extend(b.rbsp());
        let vps = parse_vps(&nal).unwrap();
        assert_eq!((vps.id, vps.max_sub_layers, vps.max_layers), (3, 2, 1));
        assert_eq!(vps.profile_tier_level.profile_name(), "Main 10");
        assert_eq!(vps.timing, Some((1, 50)));
        assert!(vps.temporal_id_nesting && vps.base_layer_internal);
        // Wrong reserved bits, a cut, and the wrong unit type.
        let mut broken = nal.clone();
        broken[4] ^= 0x10;
        assert!(parse_vps(&broken).is_err());
        assert!(parse_vps(&nal[..10]).is_err());
        assert!(parse_vps(&[0x42, 0x01, 0x0c]).is_err());
    }
}
