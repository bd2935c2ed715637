//! The SPS parser on the SPS of each test stream (expected values from ffprobe and
//! `ffmpeg -bsf:v trace_headers`), on hand-built SPS exercising what x264 never
//! writes, and on random bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::first_sps;
use proptest::prelude::*;
use stillframe_core::{ChromaFormat, ColourDescription, Crop, ErrorKind, PixelAspect};
use stillframe_h264::{
    check_supported, parse_avcc, parse_sps, split_nal_units, PicOrderCnt, Sps, BACKEND,
};

fn sps(stem: &str) -> Sps {
    parse_sps(&first_sps(stem)).unwrap()
}

fn crop(left: u32, right: u32, top: u32, bottom: u32) -> Crop {
    Crop {
        left,
        right,
        top,
        bottom,
    }
}

#[test]
fn baseline() {
    let raw = first_sps("baseline");
    // x264's timing info holds 00 00 03 escapes: reading 1/50 proves they are removed.
    assert!(raw.windows(3).any(|w| w == [0, 0, 3]));
    let sps = parse_sps(&raw).unwrap();
    assert_eq!(
        (sps.profile_idc, sps.constraint_flags, sps.level_idc, sps.id),
        (66, 0xc0, 11, 0)
    );
    assert!(sps.constraint_set(0) && sps.constraint_set(1) && !sps.constraint_set(2));
    assert_eq!(sps.profile_name(), "Constrained Baseline");
    assert_eq!(
        (
            sps.chroma_format_idc,
            sps.bit_depth_luma,
            sps.bit_depth_chroma
        ),
        (1, 8, 8)
    );
    assert_eq!(sps.log2_max_frame_num, 4);
    assert_eq!(sps.pic_order_cnt, PicOrderCnt::Type2);
    assert_eq!(
        (sps.max_num_ref_frames, sps.gaps_in_frame_num_allowed),
        (3, false)
    );
    assert_eq!((sps.pic_width_in_mbs, sps.pic_height_in_map_units), (11, 9));
    assert!(sps.frame_mbs_only && !sps.mb_adaptive_frame_field && sps.direct_8x8_inference);
    assert_eq!(sps.frame_crop_offsets, crop(0, 3, 0, 7));
    assert_eq!(sps.crop_unit(), (2, 2));
    assert_eq!(sps.crop(), crop(0, 6, 0, 14));
    assert_eq!(
        (sps.coded_size(), sps.visible_size()),
        ((176, 144), (170, 130))
    );
    let vui = sps.vui.as_ref().unwrap();
    assert_eq!(
        (vui.aspect_ratio_idc, vui.sample_aspect),
        (Some(1), Some(PixelAspect::SQUARE))
    );
    assert_eq!(
        (vui.overscan_appropriate, vui.video_format, vui.full_range),
        (None, Some(5), Some(false))
    );
    assert_eq!(vui.colour_description, Some((1, 1, 1)));
    assert_eq!(vui.timing, Some((1, 50, false)));
    assert!(!vui.pic_struct_present);
    assert_eq!(
        (vui.max_num_reorder_frames, vui.max_dec_frame_buffering),
        (Some(0), Some(3))
    );
    assert!(check_supported(&sps).is_ok());
}

#[test]
fn high_with_b_frames() {
    let sps = sps("high_bframes");
    assert_eq!(
        (sps.profile_idc, sps.constraint_flags, sps.level_idc),
        (100, 0, 10)
    );
    assert_eq!(sps.profile_name(), "High");
    assert_eq!((sps.chroma_format_idc, sps.bit_depth_luma), (1, 8));
    assert!(!sps.transform_bypass && !sps.scaling_matrix_present);
    assert_eq!(
        sps.pic_order_cnt,
        PicOrderCnt::Type0 {
            log2_max_pic_order_cnt_lsb: 6
        }
    );
    assert_eq!(sps.max_num_ref_frames, 4);
    assert_eq!((sps.pic_width_in_mbs, sps.pic_height_in_map_units), (7, 5));
    assert_eq!(sps.crop(), crop(0, 6, 0, 6));
    assert_eq!(sps.visible_size(), (106, 74));
    assert_eq!(sps.pixel_aspect(), PixelAspect::new(16, 11));
    assert_eq!(
        sps.colour(),
        ColourDescription {
            primaries: 5,
            transfer: 6,
            matrix: 5,
            full_range: Some(true)
        }
    );
    assert_eq!(sps.max_num_reorder_frames(), Some(2));
    let format = sps.coded_format();
    assert_eq!(
        (format.width, format.height, format.bit_depth),
        (106, 74, 8)
    );
}

#[test]
fn high_10() {
    let sps = sps("high10");
    assert_eq!(
        (sps.profile_idc, sps.profile_name().as_str()),
        (110, "High 10")
    );
    assert_eq!((sps.bit_depth_luma, sps.bit_depth_chroma), (10, 10));
    assert_eq!(
        (sps.visible_size(), sps.crop()),
        ((64, 48), Crop::default())
    );
    assert_eq!(sps.colour(), ColourDescription::UNSPECIFIED);
    assert_eq!(sps.coded_format().bit_depth, 10);
    if cfg!(feature = "openh264") {
        let error = check_supported(&sps).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported);
        assert_eq!(
            error.to_string(),
            "unsupported: H.264 High 10 (10-bit) — OpenH264 decodes 8-bit 4:2:0 progressive only"
        );
    } else {
        assert!(check_supported(&sps).is_ok());
    }
}

#[test]
fn high_422_crops_in_units_of_2x1() {
    let sps = sps("yuv422");
    assert_eq!(
        (sps.profile_idc, sps.profile_name().as_str()),
        (122, "High 4:2:2")
    );
    assert_eq!(
        (sps.chroma_format_idc, sps.chroma()),
        (2, ChromaFormat::Yuv422)
    );
    assert_eq!(sps.frame_crop_offsets, crop(0, 3, 0, 14));
    assert_eq!(sps.crop_unit(), (2, 1));
    assert_eq!(sps.visible_size(), (170, 130));
    match check_supported(&sps) {
        Err(error) => {
            assert_eq!(BACKEND, "OpenH264", "{error}");
            assert!(error.to_string().contains("4:2:2"), "{error}");
        }
        Ok(()) => assert_eq!(BACKEND, "rust_h264"),
    }
}

#[test]
fn high_444_crops_in_single_pixels_and_has_an_explicit_sar() {
    let sps = sps("yuv444");
    assert_eq!(
        (sps.profile_idc, sps.profile_name().as_str()),
        (244, "High 4:4:4 Predictive")
    );
    assert_eq!(
        (sps.chroma(), sps.separate_colour_plane),
        (ChromaFormat::Yuv444, false)
    );
    assert_eq!(sps.frame_crop_offsets, crop(0, 5, 0, 13));
    assert_eq!(sps.crop_unit(), (1, 1));
    assert_eq!(sps.visible_size(), (171, 131));
    let vui = sps.vui.as_ref().unwrap();
    assert_eq!(
        (vui.aspect_ratio_idc, vui.sample_aspect),
        (Some(255), PixelAspect::new(5, 3))
    );
    assert!(check_supported(&sps)
        .unwrap_err()
        .to_string()
        .contains("4:4:4"));
}

#[test]
fn interlaced_counts_map_units_as_field_rows() {
    let sps = sps("interlaced");
    assert!(!sps.frame_mbs_only && sps.mb_adaptive_frame_field);
    assert_eq!((sps.pic_width_in_mbs, sps.pic_height_in_map_units), (11, 5));
    assert_eq!(sps.coded_size(), (176, 160));
    assert_eq!(sps.frame_crop_offsets, crop(0, 3, 0, 7));
    assert_eq!(sps.crop_unit(), (2, 4));
    assert_eq!(sps.visible_size(), (170, 132));
    assert!(sps.vui.as_ref().unwrap().pic_struct_present);
    match check_supported(&sps) {
        Err(error) => {
            assert_eq!(BACKEND, "OpenH264", "{error}");
            assert!(error.to_string().contains("interlaced (MBAFF"), "{error}");
        }
        Ok(()) => assert_eq!(BACKEND, "rust_h264"),
    }
}

#[test]
fn monochrome() {
    let sps = sps("gray");
    assert_eq!(
        (sps.chroma_format_idc, sps.chroma()),
        (0, ChromaFormat::Monochrome)
    );
    assert_eq!(sps.crop_unit(), (1, 1));
    assert_eq!(
        sps.colour(),
        ColourDescription {
            full_range: Some(true),
            ..ColourDescription::UNSPECIFIED
        }
    );
    assert!(check_supported(&sps).is_ok());
}

/// Writes SPS syntax elements MSB first.
#[derive(Default)]
struct BitWriter {
    bits: Vec<bool>,
}

impl BitWriter {
    fn u(&mut self, count: u32, value: u64) -> &mut Self {
        for shift in (0..count).rev() {
            self.bits.push((value >> shift) & 1 == 1);
        }
        self
    }

    fn flag(&mut self, value: bool) -> &mut Self {
        self.u(1, u64::from(value))
    }

    fn ue(&mut self, value: u32) -> &mut Self {
        let code = u64::from(value) + 1;
        let length = 64 - code.leading_zeros();
        self.u(length - 1, 0).u(length, code)
    }

    fn se(&mut self, value: i32) -> &mut Self {
        let code = if value > 0 { 2 * value - 1 } else { -2 * value };
        self.ue(code as u32)
    }

    /// The NAL unit: header, payload with the stop bit, and emulation prevention.
    fn sps_nal(&mut self) -> Vec<u8> {
        self.flag(true);
        while !self.bits.len().is_multiple_of(8) {
            self.flag(false);
        }
        let rbsp: Vec<u8> = self
            .bits
            .chunks(8)
            .map(|byte| {
                byte.iter()
                    .fold(0, |value, &bit| (value << 1) | u8::from(bit))
            })
            .collect();
        let mut nal = vec![0x67];
        let mut zeros = 0;
        for byte in rbsp {
            if zeros == 2 && byte <= 3 {
                nal.push(3);
                zeros = 0;
            }
            zeros = if byte == 0 { zeros + 1 } else { 0 };
            nal.push(byte);
        }
        nal
    }
}

/// High 4:2:0 with every list kind of § 7.3.2.1.1.1 (explicit, "use default",
/// cut short by a zero delta, absent), POC type 1, NAL and VCL HRD and a
/// bitstream restriction: if any list is skipped by one bit, the fields after it
/// come out wrong. (ffmpeg's `trace_headers` reads this SPS with the same values.)
#[test]
fn scaling_lists_poc_type_1_and_hrd_are_skipped_exactly() {
    let mut w = BitWriter::default();
    w.u(8, 100).u(8, 0).u(8, 40).ue(3); // profile, flags, level, sps id
    w.ue(1).ue(0).ue(0).flag(false); // chroma 4:2:0, 8-bit, no bypass
    w.flag(true); // seq_scaling_matrix_present_flag
                  // List 0: explicit, 16 values (8 → 16 then 15 × +0).
    w.flag(true).se(8);
    for _ in 0..15 {
        w.se(0);
    }
    // List 1: "use default" (first delta brings nextScale to 0).
    w.flag(true).se(-8);
    // Lists 2–5 absent.
    for _ in 2..6 {
        w.flag(false);
    }
    // List 6 (8x8): 12, 16, then a zero scale: the other 61 repeat 16 unread.
    w.flag(true).se(4).se(4).se(-16);
    // List 7: explicit, 64 values, with deltas wrapping modulo 256 (8 → 250 → 5).
    w.flag(true).se(-14).se(11);
    for _ in 2..64 {
        w.se(0);
    }
    w.ue(2); // log2_max_frame_num_minus4
    w.ue(1).flag(true).se(-3).se(5).ue(3).se(1).se(-2).se(300); // POC type 1
    w.ue(5).flag(true); // max_num_ref_frames, gaps allowed
    w.ue(119).ue(67); // 1920 x 1088
    w.flag(true).flag(true); // frame_mbs_only, direct_8x8
    w.flag(true).ue(0).ue(0).ue(0).ue(4); // crop to 1080
    w.flag(true); // VUI
    w.flag(true).u(8, 14); // 4:3 pixels
    w.flag(true).flag(false); // overscan not appropriate
    w.flag(true)
        .u(3, 2)
        .flag(false)
        .flag(true)
        .u(8, 9)
        .u(8, 16)
        .u(8, 9); // PQ BT.2020
    w.flag(true).ue(1).ue(1); // chroma location
    w.flag(true).u(32, 1001).u(32, 60000).flag(true); // timing
    for _ in 0..2 {
        // NAL then VCL HRD, three CPBs each.
        w.flag(true).ue(2).u(4, 1).u(4, 2);
        for cpb in 0..3 {
            w.ue(1000 + cpb).ue(2000 + cpb).flag(cpb == 1);
        }
        w.u(5, 23).u(5, 23).u(5, 23).u(5, 24);
    }
    w.flag(false); // low_delay_hrd_flag
    w.flag(true); // pic_struct_present_flag
    w.flag(true)
        .flag(true)
        .ue(2)
        .ue(1)
        .ue(16)
        .ue(16)
        .ue(1)
        .ue(4); // bitstream restriction
    let nal = w.sps_nal();

    let sps = parse_sps(&nal).unwrap();
    assert_eq!((sps.id, sps.level_idc), (3, 40));
    assert!(sps.scaling_matrix_present);
    assert_eq!(sps.log2_max_frame_num, 6);
    assert_eq!(
        sps.pic_order_cnt,
        PicOrderCnt::Type1 {
            delta_pic_order_always_zero: true,
            offset_for_non_ref_pic: -3,
            offset_for_top_to_bottom_field: 5,
            offsets_for_ref_frame: vec![1, -2, 300],
        }
    );
    assert_eq!(
        (sps.max_num_ref_frames, sps.gaps_in_frame_num_allowed),
        (5, true)
    );
    assert_eq!(
        (sps.coded_size(), sps.visible_size()),
        ((1920, 1088), (1920, 1080))
    );
    let vui = sps.vui.as_ref().unwrap();
    assert_eq!(vui.sample_aspect, PixelAspect::new(4, 3));
    assert_eq!(
        (vui.overscan_appropriate, vui.video_format),
        (Some(false), Some(2))
    );
    assert_eq!(
        sps.colour(),
        ColourDescription {
            primaries: 9,
            transfer: 16,
            matrix: 9,
            full_range: Some(false)
        }
    );
    assert_eq!(vui.timing, Some((1001, 60000, true)));
    assert!(vui.pic_struct_present);
    assert_eq!(
        (vui.max_num_reorder_frames, vui.max_dec_frame_buffering),
        (Some(1), Some(4))
    );
}

#[test]
fn a_4_4_4_sps_has_twelve_scaling_lists() {
    let mut w = BitWriter::default();
    w.u(8, 244).u(8, 0).u(8, 30).ue(0);
    w.ue(3).flag(true).ue(0).ue(0).flag(true); // 4:4:4 separate planes, lossless
    w.flag(true);
    for list in 0..12 {
        // Only the last two (the 8x8 Cb/Cr lists 4:4:4 adds) are present.
        w.flag(list >= 10);
        if list >= 10 {
            w.se(-8);
        }
    }
    w.ue(0)
        .ue(2)
        .ue(1)
        .flag(false)
        .ue(9)
        .ue(8)
        .flag(true)
        .flag(true)
        .flag(false)
        .flag(false);
    let sps = parse_sps(&w.sps_nal()).unwrap();
    assert!(sps.separate_colour_plane && sps.transform_bypass);
    assert_eq!(sps.pic_order_cnt, PicOrderCnt::Type2);
    assert_eq!(sps.visible_size(), (160, 144));
    assert_eq!(sps.crop_unit(), (1, 1));
    assert!(check_supported(&sps).is_err());
}

#[test]
fn lossless_and_cropped_monochrome_are_unsupported() {
    // High 4:4:4 Predictive profile, but 4:2:0 with transform bypass (x264 --qp 0).
    let mut w = BitWriter::default();
    w.u(8, 244)
        .u(8, 0)
        .u(8, 30)
        .ue(0)
        .ue(1)
        .ue(0)
        .ue(0)
        .flag(true)
        .flag(false);
    w.ue(0)
        .ue(2)
        .ue(1)
        .flag(false)
        .ue(9)
        .ue(8)
        .flag(true)
        .flag(true)
        .flag(false)
        .flag(false);
    let error = check_supported(&parse_sps(&w.sps_nal()).unwrap()).unwrap_err();
    assert!(error.to_string().contains("lossless"), "{error}");

    let mut w = BitWriter::default();
    w.u(8, 100)
        .u(8, 0)
        .u(8, 30)
        .ue(0)
        .ue(0)
        .ue(0)
        .ue(0)
        .flag(false)
        .flag(false);
    w.ue(0)
        .ue(2)
        .ue(1)
        .flag(false)
        .ue(9)
        .ue(8)
        .flag(true)
        .flag(true);
    w.flag(true).ue(0).ue(3).ue(0).ue(3).flag(false);
    let sps = parse_sps(&w.sps_nal()).unwrap();
    assert_eq!((sps.crop_unit(), sps.visible_size()), ((1, 1), (157, 141)));
    // OpenH264 crops monochrome in 4:2:0 units (twice too much); rust_h264 does not.
    match check_supported(&sps) {
        Err(error) => {
            assert_eq!(BACKEND, "OpenH264", "{error}");
            assert!(error.to_string().contains("monochrome"), "{error}");
        }
        Ok(()) => assert_eq!(BACKEND, "rust_h264"),
    }
}

#[test]
fn invalid_values_are_malformed() {
    let base = |edit: &dyn Fn(&mut BitWriter)| {
        let mut w = BitWriter::default();
        w.u(8, 66).u(8, 0).u(8, 30);
        edit(&mut w);
        parse_sps(&w.sps_nal())
    };
    // sps id 32
    assert!(base(&|w| {
        w.ue(32);
    })
    .is_err());
    // pic_order_cnt_type 3
    assert!(base(&|w| {
        w.ue(0).ue(0).ue(3);
    })
    .is_err());
    // Cropping everything away.
    let error = base(&|w| {
        w.ue(0)
            .ue(0)
            .ue(2)
            .ue(1)
            .flag(false)
            .ue(0)
            .ue(0)
            .flag(true)
            .flag(true);
        w.flag(true).ue(4).ue(4).ue(0).ue(0).flag(false);
    })
    .unwrap_err();
    assert!(error.to_string().contains("leaves nothing"), "{error}");
    // A cut-off SPS, and NAL units that are not an SPS.
    assert_eq!(
        parse_sps(&[0x67, 66, 0]).unwrap_err().kind(),
        ErrorKind::Malformed
    );
    assert!(parse_sps(&[]).is_err());
    assert!(parse_sps(&[0x68, 0xce]).is_err());
}

#[test]
fn truncated_vui_keeps_the_picture_fields() {
    let mut nal = first_sps("baseline");
    // Cut inside the timing info: the VUI keeps what came before.
    nal.truncate(16);
    let sps = parse_sps(&nal).unwrap();
    assert_eq!(sps.visible_size(), (170, 130));
    let vui = sps.vui.unwrap();
    assert_eq!(vui.colour_description, Some((1, 1, 1)));
    assert_eq!(vui.max_num_reorder_frames, None);
}

proptest! {
    #[test]
    fn sps_parser_never_panics(payload in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut nal = vec![0x67];
        nal.extend(payload);
        let _ = parse_sps(&nal).map(|sps| (sps.coded_format(), check_supported(&sps)));
    }

    #[test]
    fn mutated_real_sps_never_panics(
        stem in prop::sample::select(vec!["baseline", "high_bframes", "high10", "yuv422", "yuv444", "interlaced", "gray"]),
        flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..6),
        cut in any::<usize>(),
    ) {
        let mut nal = first_sps(stem);
        for (at, bit) in flips {
            let at = 1 + at % (nal.len() - 1);
            nal[at] ^= 1 << bit;
        }
        nal.truncate(1 + cut % nal.len());
        let _ = parse_sps(&nal).map(|sps| (sps.coded_format(), check_supported(&sps)));
    }

    #[test]
    fn nal_splitter_never_panics(sample in proptest::collection::vec(any::<u8>(), 0..300), size in 0u8..6) {
        if let Ok(units) = split_nal_units(&sample, size) {
            let total: usize = units.iter().map(|unit| unit.len()).sum();
            prop_assert!(total <= sample.len());
            prop_assert!(units.iter().all(|unit| !unit.is_empty()));
        }
    }

    #[test]
    fn avcc_parser_never_panics(record in proptest::collection::vec(any::<u8>(), 0..100)) {
        let _ = parse_avcc(&record);
        let mut versioned = record.clone();
        versioned.insert(0, 1);
        let _ = parse_avcc(&versioned);
    }
}
