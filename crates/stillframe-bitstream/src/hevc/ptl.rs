//! `profile_tier_level()` (H.265 § 7.3.3) and the profile names of Annex A.

use stillframe_core::bits::{BitReader, OutOfBits};

/// `general_profile_idc` of the Main profile (§ A.3.2).
pub const PROFILE_MAIN: u8 = 1;
/// `general_profile_idc` of the Main 10 profile (§ A.3.3).
pub const PROFILE_MAIN_10: u8 = 2;
/// `general_profile_idc` of the Main Still Picture profile (§ A.3.4).
pub const PROFILE_MAIN_STILL_PICTURE: u8 = 3;
/// `general_profile_idc` of the format range extensions profiles (§ A.3.5).
pub const PROFILE_REXT: u8 = 4;

/// The general (whole-stream) part of a `profile_tier_level()`; the sub-layer
/// parts are read past, not kept.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ProfileTierLevel {
    /// `general_profile_space` (0 in every stream of this edition).
    pub profile_space: u8,
    /// `general_tier_flag`: the High tier.
    pub high_tier: bool,
    /// `general_profile_idc`.
    pub profile_idc: u8,
    /// `general_profile_compatibility_flag[j]` in bit `31 − j`.
    pub compatibility_flags: u32,
    /// The 48 bits from `general_progressive_source_flag` through
    /// `general_inbld_flag`/reserved bit, right-aligned, as the `hvcC`'s
    /// `general_constraint_indicator_flags` also holds them.
    pub constraint_flags: u64,
    /// `general_level_idc`: 30 times the level number (93 = level 3.1).
    pub level_idc: u8,
}

impl ProfileTierLevel {
    /// The profile the stream conforms to: `general_profile_idc`, or when that is 0
    /// the highest `general_profile_compatibility_flag[j]` set, as ffmpeg reads it.
    pub fn effective_profile_idc(&self) -> u8 {
        if self.profile_idc != 0 {
            return self.profile_idc;
        }
        (1..32u8)
            .rev()
            .find(|&j| self.compatibility_flags & (1 << (31 - j)) != 0)
            .unwrap_or(0)
    }

    /// The profile by the name ffprobe prints: "Main", "Main 10", "Main Still
    /// Picture", "Rext" (every format range extensions profile; see
    /// [`ProfileTierLevel::rext_profile_name`]) and the names of Annex A, G, H, I
    /// for the others.
    pub fn profile_name(&self) -> String {
        let name = match self.effective_profile_idc() {
            PROFILE_MAIN => "Main",
            PROFILE_MAIN_10 => "Main 10",
            PROFILE_MAIN_STILL_PICTURE => "Main Still Picture",
            PROFILE_REXT => "Rext",
            5 => "High Throughput 4:4:4",
            6 => "Multiview Main",
            7 => "Scalable Main",
            8 => "3D Main",
            9 => "Screen-Extended Main",
            10 => "Scalable Format Range Extensions",
            11 => "High Throughput Screen-Extended",
            other => return format!("unknown (general_profile_idc {other})"),
        };
        name.to_owned()
    }

    /// Flag `n` of the 48 constraint bits, counted from
    /// `general_progressive_source_flag`.
    fn constraint(&self, n: u32) -> bool {
        n < 48 && self.constraint_flags & (1 << (47 - n)) != 0
    }

    /// The format range extensions profile the constraint flags name (Table A.2:
    /// "Main 4:2:2 10", "Main 12", "Monochrome 16", "Main 4:4:4 Intra", ...), for a
    /// stream whose profile is Rext; `None` for other profiles and for flag
    /// combinations Table A.2 does not list.
    ///
    /// ```
    /// use stillframe_bitstream::hevc::ProfileTierLevel;
    /// // general_max_12bit, _10bit, _422chroma and _lower_bit_rate set: Main 4:2:2 10.
    /// let mut ptl = ProfileTierLevel::default();
    /// ptl.profile_idc = 4;
    /// ptl.constraint_flags = 0b0000_1101_0000_1 << 35;
    /// assert_eq!(ptl.rext_profile_name(), Some("Main 4:2:2 10"));
    /// ```
    pub fn rext_profile_name(&self) -> Option<&'static str> {
        if self.effective_profile_idc() != PROFILE_REXT {
            return None;
        }
        // After the four source/packing flags: max_12bit, max_10bit, max_8bit,
        // max_422chroma, max_420chroma, max_monochrome, intra, one_picture_only,
        // lower_bit_rate (§ 7.4.4).
        let flags: [bool; 9] = std::array::from_fn(|i| self.constraint(4 + i as u32));
        let [b12, b10, b8, c422, c420, mono, intra, one_picture, _lower_bit_rate] = flags;
        let depth = match (b12, b10, b8) {
            (true, true, true) => "",
            (true, true, false) => " 10",
            (true, false, false) => " 12",
            (false, false, false) => " 16",
            _ => return None,
        };
        let chroma = match (c422, c420, mono) {
            (true, true, true) => "Monochrome",
            (true, true, false) => "Main",
            (true, false, false) => "Main 4:2:2",
            (false, false, false) => "Main 4:4:4",
            _ => return None,
        };
        let name = match (chroma, depth, intra, one_picture) {
            // Table A.2 lists only these combinations.
            ("Monochrome", d, false, false) => match d {
                "" => "Monochrome",
                " 10" => "Monochrome 10",
                " 12" => "Monochrome 12",
                _ => "Monochrome 16",
            },
            ("Main", " 12", false, false) => "Main 12",
            ("Main 4:2:2", " 10", false, false) => "Main 4:2:2 10",
            ("Main 4:2:2", " 12", false, false) => "Main 4:2:2 12",
            ("Main 4:4:4", "", false, false) => "Main 4:4:4",
            ("Main 4:4:4", " 10", false, false) => "Main 4:4:4 10",
            ("Main 4:4:4", " 12", false, false) => "Main 4:4:4 12",
            ("Main", "", true, false) => "Main Intra",
            ("Main", " 10", true, false) => "Main 10 Intra",
            ("Main", " 12", true, false) => "Main 12 Intra",
            ("Main 4:2:2", " 10", true, false) => "Main 4:2:2 10 Intra",
            ("Main 4:2:2", " 12", true, false) => "Main 4:2:2 12 Intra",
            ("Main 4:4:4", "", true, false) => "Main 4:4:4 Intra",
            ("Main 4:4:4", " 10", true, false) => "Main 4:4:4 10 Intra",
            ("Main 4:4:4", " 12", true, false) => "Main 4:4:4 12 Intra",
            ("Main 4:4:4", " 16", true, false) => "Main 4:4:4 16 Intra",
            ("Main 4:4:4", "", true, true) => "Main 4:4:4 Still Picture",
            ("Main 4:4:4", " 16", true, true) => "Main 4:4:4 16 Still Picture",
            _ => return None,
        };
        Some(name)
    }
}

/// Reads `profile_tier_level(1, max_sub_layers_minus1)` (§ 7.3.3), keeping the
/// general part and reading past the sub-layer parts.
pub(crate) fn read_profile_tier_level(
    r: &mut BitReader<'_>,
    max_sub_layers_minus1: u8,
) -> Result<ProfileTierLevel, OutOfBits> {
    let profile_space = r.u8(2)?;
    let high_tier = r.flag()?;
    let profile_idc = r.u8(5)?;
    let compatibility_flags = r.bits(32)?;
    let constraint_flags = (u64::from(r.bits(32)?) << 16) | u64::from(r.bits(16)?);
    let level_idc = r.u8(8)?;
    let sub_layers = usize::from(max_sub_layers_minus1);
    let mut present = [(false, false); 8];
    for entry in present.iter_mut().take(sub_layers) {
        *entry = (r.flag()?, r.flag()?);
    }
    if sub_layers > 0 {
        // reserved_zero_2bits for the sub-layers up to 8
        r.skip(2 * (8 - sub_layers))?;
    }
    for &(profile_present, level_present) in present.iter().take(sub_layers) {
        if profile_present {
            // sub_layer profile_space … inbld/reserved: 88 bits
            r.skip(88)?;
        }
        if level_present {
            r.skip(8)?;
        }
    }
    Ok(ProfileTierLevel {
        profile_space,
        high_tier,
        profile_idc,
        compatibility_flags,
        constraint_flags,
        level_idc,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_general_part_and_skips_sub_layers() {
        // Main, compatibility flags 1 and 2, progressive + frame_only, level 93;
        // one sub-layer with its level present (and 7 × 2 reserved bits).
        let mut bytes = vec![0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93];
        bytes.extend([0b0100_0000, 0x00, 120]);
        let mut r = BitReader::new(&bytes);
        let ptl = read_profile_tier_level(&mut r, 1).unwrap();
        assert_eq!((ptl.profile_idc, ptl.level_idc), (1, 93));
        assert_eq!(ptl.compatibility_flags, 0x6000_0000);
        assert_eq!(ptl.profile_name(), "Main");
        assert!(ptl.constraint(0) && ptl.constraint(3) && !ptl.constraint(1));
        assert_eq!(r.position(), 12 * 8 + 16 + 8);
        assert!(read_profile_tier_level(&mut BitReader::new(&bytes[..11]), 0).is_err());
    }

    #[test]
    fn profile_names() {
        let ptl = |profile_idc, compatibility_flags| ProfileTierLevel {
            profile_idc,
            compatibility_flags,
            ..ProfileTierLevel::default()
        };
        assert_eq!(ptl(2, 0).profile_name(), "Main 10");
        assert_eq!(ptl(3, 0).profile_name(), "Main Still Picture");
        assert_eq!(ptl(4, 0).profile_name(), "Rext");
        // idc 0 with compatibility flags 1 and 2: the highest, Main 10.
        assert_eq!(ptl(0, 0x6000_0000).profile_name(), "Main 10");
        assert_eq!(ptl(0, 0).profile_name(), "unknown (general_profile_idc 0)");
        assert_eq!(ptl(1, 0).rext_profile_name(), None);
    }

    #[test]
    fn rext_names_follow_table_a2() {
        let rext = |flags: [u8; 9]| {
            let mut bits = 0u64;
            for (i, &flag) in flags.iter().enumerate() {
                bits |= u64::from(flag) << (43 - i);
            }
            ProfileTierLevel {
                profile_idc: 4,
                constraint_flags: bits,
                ..ProfileTierLevel::default()
            }
            .rext_profile_name()
        };
        assert_eq!(rext([1, 1, 0, 1, 0, 0, 0, 0, 1]), Some("Main 4:2:2 10"));
        assert_eq!(rext([1, 1, 1, 0, 0, 0, 0, 0, 1]), Some("Main 4:4:4"));
        assert_eq!(rext([1, 0, 0, 1, 1, 0, 0, 0, 1]), Some("Main 12"));
        assert_eq!(rext([1, 1, 1, 1, 1, 1, 0, 0, 1]), Some("Monochrome"));
        assert_eq!(
            rext([1, 1, 1, 0, 0, 0, 1, 1, 0]),
            Some("Main 4:4:4 Still Picture")
        );
        assert_eq!(rext([1, 1, 0, 1, 1, 0, 1, 0, 0]), Some("Main 10 Intra"));
        // Not in Table A.2: 8-bit 4:2:0 without intra (that is Main), bit flags out of order.
        assert_eq!(rext([1, 1, 1, 1, 1, 0, 0, 0, 1]), None);
        assert_eq!(rext([0, 1, 1, 1, 1, 0, 0, 0, 1]), None);
    }
}
