//! What rusty_h265 decodes, and what the limits allow: every SPS passes through
//! [`check_sps`] before the library sees it.

use stillframe_bitstream::hevc::{
    parse_sps, ProfileTierLevel, Sps, PROFILE_MAIN, PROFILE_MAIN_10, PROFILE_MAIN_STILL_PICTURE,
    PROFILE_REXT,
};
use stillframe_core::{Error, Limits, Result};

use crate::budget::decoder_bytes;

/// What a refusal says rusty_h265 can do.
const SCOPE: &str = "rusty_h265 decodes 4:2:0 Main/Main 10 only";

/// rusty_h265 refuses pictures above level 6.2 (Table A.8): `MaxLumaPs`, and each
/// side at most √(8 · MaxLumaPs).
const MAX_LUMA_PS: u64 = 35_651_584;
const MAX_SIDE: u32 = 16_888;

/// Parses an SPS NAL unit and checks it with [`check_sps`].
pub(crate) fn checked_sps(unit: &[u8], limits: &Limits) -> Result<Sps> {
    let sps = parse_sps(unit)?;
    check_sps(&sps, limits)?;
    Ok(sps)
}

/// Fails with [`Error::Unsupported`] for a stream rusty_h265 refuses (naming the
/// feature), [`Error::Limit`] for a picture above `limits.max_pixels` or a decoder
/// above `limits.max_decoder_bytes`, and [`Error::Malformed`] for ordering values
/// that would overflow the library's arithmetic.
pub(crate) fn check_sps(sps: &Sps, limits: &Limits) -> Result<()> {
    check_supported(sps)?;
    let (width, height) = sps.coded_size();
    limits.check_pixels(width, height)?;
    limits.check_decoder_bytes(decoder_bytes(sps))?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_LUMA_PS {
        return Err(Error::unsupported(format!(
            "HEVC pictures of {width}x{height}, above level 6.2 — {SCOPE} up to level 6.2"
        )));
    }
    for ordering in &sps.sub_layer_ordering {
        // rusty_h265 adds these in u32 (C.5.2.2); a hostile SPS must not overflow it.
        if ordering
            .max_num_reorder_pics
            .checked_add(ordering.max_latency_increase_plus1)
            .is_none()
        {
            return Err(Error::malformed(
                "HEVC SPS",
                format!(
                    "sps_max_latency_increase_plus1 {} is out of range",
                    ordering.max_latency_increase_plus1
                ),
            ));
        }
    }
    Ok(())
}

/// The profile as rusty_h265 decides it: `general_profile_idc`, or when that is 0
/// the lowest of the compatibility flags 1 to 4.
fn library_profile(ptl: &ProfileTierLevel) -> u8 {
    if ptl.profile_idc != 0 {
        return ptl.profile_idc;
    }
    [
        PROFILE_MAIN,
        PROFILE_MAIN_10,
        PROFILE_MAIN_STILL_PICTURE,
        PROFILE_REXT,
    ]
    .into_iter()
    .find(|&j| ptl.compatibility_flags & (1 << (31 - j)) != 0)
    .unwrap_or(0)
}

/// The profile by the name a user searches for: the range extensions profile of
/// Table A.2 where the flags name one ("Main 4:2:2 10"), else ffprobe's name.
fn profile_label(sps: &Sps) -> String {
    let ptl = &sps.profile_tier_level;
    ptl.rext_profile_name()
        .map_or_else(|| ptl.profile_name(), str::to_owned)
}

fn check_supported(sps: &Sps) -> Result<()> {
    let profile = profile_label(sps);
    let chroma = match sps.chroma_format_idc {
        0 => Some("monochrome (4:0:0)"),
        2 => Some("4:2:2"),
        3 => Some("4:4:4"),
        _ => None,
    };
    if let Some(chroma) = chroma {
        return Err(Error::unsupported(format!(
            "HEVC {chroma} ({profile}) — {SCOPE}"
        )));
    }
    let depth = sps.bit_depth_luma.max(sps.bit_depth_chroma);
    if depth > 10 {
        return Err(Error::unsupported(format!(
            "HEVC {depth}-bit ({profile}) — {SCOPE}"
        )));
    }
    if sps.bit_depth_luma != sps.bit_depth_chroma {
        return Err(Error::unsupported(format!(
            "HEVC with {}-bit luma and {}-bit chroma ({profile}) — {SCOPE}",
            sps.bit_depth_luma, sps.bit_depth_chroma
        )));
    }
    match library_profile(&sps.profile_tier_level) {
        0 | PROFILE_MAIN | PROFILE_MAIN_10 | PROFILE_MAIN_STILL_PICTURE => {}
        PROFILE_REXT => {
            return Err(Error::unsupported(format!(
                "HEVC {profile} (a format range extensions profile) — {SCOPE}"
            )))
        }
        _ => {
            return Err(Error::unsupported(format!(
                "HEVC {profile} profile — {SCOPE}"
            )))
        }
    }
    let extensions: Vec<&str> = [
        (sps.range_extension, "range extension"),
        (sps.multilayer_extension, "multilayer extension"),
        (sps.extension_3d, "3D extension"),
        (sps.scc_extension, "screen content coding extension"),
    ]
    .into_iter()
    .filter_map(|(present, name)| present.then_some(name))
    .collect();
    if !extensions.is_empty() {
        return Err(Error::unsupported(format!(
            "HEVC SPS with the {} ({profile}) — {SCOPE}",
            extensions.join(" and ")
        )));
    }
    Ok(())
}
