//! Rendering against ffmpeg, fixture by fixture (tests/fixtures/render, made by its
//! make.sh): colour matrices and ranges, 10-bit and HDR, apertures, every turn and
//! mirrored matrices. Each image must have ffmpeg's exact size and be within
//! PSNR ≥ 38 dB of its rendering at full size.
//!
//! When a comparison fails, our image is written to the system temp folder as
//! `stillframe-render-<fixture>.png` to look at beside the reference.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use image::DynamicImage;
use stillframe::{
    convert, ApertureMode, ColourDescription, DynamicRangePolicy, GeneratedImage, GeneratorOptions,
    ImageGenerator, MaximumSize, OutputFormat, Time, Tolerance,
};

/// The bound of the issue: ffmpeg's rendering within 38 dB at full size.
const MIN_PSNR: f64 = 38.0;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/render")
        .join(name)
}

fn reference(name: &str) -> DynamicImage {
    let path = fixture(&format!("reference/{name}"));
    image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first frame of `file`, rendered with `options` (exact time).
fn first_frame(file: &str, options: GeneratorOptions) -> GeneratedImage {
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..options
    };
    let generator = ImageGenerator::open(fixture(file), options).unwrap();
    generator.image_at(Time::ZERO).unwrap()
}

fn psnr<T: Copy + Into<f64>>(a: &[T], b: &[T], peak: f64) -> f64 {
    assert_eq!(a.len(), b.len());
    let squared: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x.into() - y.into()).powi(2))
        .sum();
    if squared == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (peak * peak / (squared / a.len() as f64)).log10()
}

/// Compares our image with a reference: exact size, then PSNR over every sample at
/// the depth of the reference. Returns the PSNR.
fn compare(label: &str, ours: &DynamicImage, theirs: &DynamicImage) -> f64 {
    assert_eq!(
        (ours.width(), ours.height()),
        (theirs.width(), theirs.height()),
        "{label}: size differs from ffmpeg's"
    );
    let value = match theirs {
        DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgba16(_) => psnr(
            ours.to_rgb16().as_raw(),
            theirs.to_rgb16().as_raw(),
            65535.0,
        ),
        _ => psnr(ours.to_rgb8().as_raw(), theirs.to_rgb8().as_raw(), 255.0),
    };
    eprintln!(
        "{label}: {}x{} PSNR vs ffmpeg {value:.1} dB",
        ours.width(),
        ours.height()
    );
    if value < MIN_PSNR {
        let out = std::env::temp_dir().join(format!("stillframe-render-{label}.png"));
        let _ = ours.save(&out);
        panic!(
            "{label}: PSNR {value:.1} dB < {MIN_PSNR} (ours written to {})",
            out.display()
        );
    }
    value
}

/// Renders `file` with `options` and compares it with `reference/<png>`.
fn check(file: &str, png: &str, options: GeneratorOptions) -> GeneratedImage {
    let made = first_frame(file, options);
    compare(png, &made.image, &reference(png));
    made
}

fn sdr_rgb(primaries: u8, transfer: u8) -> ColourDescription {
    ColourDescription {
        primaries,
        transfer,
        matrix: 0,
        full_range: Some(true),
    }
}

// --- colour: matrix and range, bitstream first -------------------------------------

#[test]
fn bt601_limited_range() {
    let made = check(
        "colour_bt601_tv.mp4",
        "colour_bt601_tv.mp4.png",
        GeneratorOptions::default(),
    );
    assert_eq!(made.colour, sdr_rgb(6, 6));
}

#[test]
fn bt601_full_range() {
    check(
        "colour_bt601_pc.mp4",
        "colour_bt601_pc.mp4.png",
        GeneratorOptions::default(),
    );
}

#[test]
fn bt709_limited_range() {
    let made = check(
        "colour_bt709_tv.mp4",
        "colour_bt709_tv.mp4.png",
        GeneratorOptions::default(),
    );
    assert_eq!(made.colour, sdr_rgb(1, 1));
}

#[test]
fn bt709_full_range() {
    check(
        "colour_bt709_pc.mp4",
        "colour_bt709_pc.mp4.png",
        GeneratorOptions::default(),
    );
}

#[test]
fn bt2020_limited_range() {
    let made = check(
        "colour_bt2020_tv.mp4",
        "colour_bt2020_tv.mp4.png",
        GeneratorOptions::default(),
    );
    // SDR BT.2020 keeps its primaries: the image says so rather than converting.
    assert_eq!(made.colour, sdr_rgb(9, 14));
}

#[test]
fn bt2020_full_range() {
    check(
        "colour_bt2020_pc.mp4",
        "colour_bt2020_pc.mp4.png",
        GeneratorOptions::default(),
    );
}

/// The frame of `file` converted as if its bitstream said `colour`.
fn converted_as(file: &str, colour: ColourDescription) -> DynamicImage {
    let generator = ImageGenerator::open(fixture(file), GeneratorOptions::default()).unwrap();
    let mut raw = generator.frame_at(Time::ZERO).unwrap();
    raw.frame.colour = colour;
    convert(&raw.frame, &raw.settings).unwrap().image
}

#[test]
fn a_wrong_matrix_or_range_would_be_caught() {
    // The same clip converted with the wrong matrix, or the wrong range, falls well
    // below the bound: the comparisons above do test matrix and range.
    let theirs = reference("colour_bt2020_tv.mp4.png").to_rgb8();
    let as_709 = ColourDescription {
        primaries: 9,
        transfer: 14,
        matrix: 1,
        full_range: Some(false),
    };
    let wrong_matrix = converted_as("colour_bt2020_tv.mp4", as_709).to_rgb8();
    let value = psnr(wrong_matrix.as_raw(), theirs.as_raw(), 255.0);
    assert!(
        value < MIN_PSNR - 2.0,
        "BT.709 instead of BT.2020: {value:.1} dB"
    );
    let as_full = ColourDescription {
        matrix: 9,
        full_range: Some(true),
        ..as_709
    };
    let wrong_range = converted_as("colour_bt2020_tv.mp4", as_full).to_rgb8();
    let value = psnr(wrong_range.as_raw(), theirs.as_raw(), 255.0);
    assert!(
        value < MIN_PSNR - 2.0,
        "full instead of limited range: {value:.1} dB"
    );
}

#[test]
fn chroma_siting_convention_costs_little_on_smooth_pictures() {
    // The references assume centred chroma, as we do; zimg's own default for these
    // streams is left-sited. Against that, the same images still pass the bound:
    // on smooth pictures the convention is a small part of the difference.
    for (file, png) in [
        ("colour_bt709_tv.mp4", "colour_bt709_tv.mp4.left.png"),
        ("av1_10bit_420.mp4", "av1_10bit_420.mp4.left.png"),
    ] {
        let made = first_frame(file, GeneratorOptions::default());
        let value = compare(png, &made.image, &reference(png));
        assert!(
            value < 45.0,
            "{png}: the two sitings should differ measurably"
        );
    }
}

#[test]
fn the_bitstream_colour_description_beats_the_container() {
    // VUI: BT.709 limited; colr patched to BT.601 full range.
    check(
        "colr_disagrees.mp4",
        "colour_bt709_tv.mp4.png",
        GeneratorOptions::default(),
    );
}

#[test]
fn the_container_colour_description_fills_what_the_bitstream_leaves_out() {
    // No colour description in the VUI; colr says BT.709. Untagged 176-line video
    // would be taken as BT.601, which the reference rules out.
    let made = check(
        "colr_only.mp4",
        "colour_bt709_tv.mp4.png",
        GeneratorOptions::default(),
    );
    assert_eq!(made.colour, sdr_rgb(1, 1));
    let generator =
        ImageGenerator::open(fixture("colr_only.mp4"), GeneratorOptions::default()).unwrap();
    let mut raw = generator.frame_at(Time::ZERO).unwrap();
    raw.settings.colour = ColourDescription::UNSPECIFIED;
    let untagged = convert(&raw.frame, &raw.settings).unwrap().image.to_rgb8();
    let theirs = reference("colour_bt709_tv.mp4.png").to_rgb8();
    let value = psnr(untagged.as_raw(), theirs.as_raw(), 255.0);
    assert!(value < MIN_PSNR - 2.0, "the BT.601 default: {value:.1} dB");
}

// --- orientation: every turn, mirrored matrices -------------------------------------

fn upright() -> GeneratorOptions {
    GeneratorOptions {
        applies_preferred_track_transform: true,
        ..GeneratorOptions::default()
    }
}

#[test]
fn rotate_90() {
    check("rotate90.mp4", "rotate90.mp4.png", upright());
}

#[test]
fn rotate_180() {
    check("rotate180.mp4", "rotate180.mp4.png", upright());
}

#[test]
fn rotate_270() {
    check("rotate270.mp4", "rotate270.mp4.png", upright());
}

#[test]
fn mirrored_matrix() {
    check("mirror.mp4", "mirror.mp4.png", upright());
}

#[test]
fn rotated_and_mirrored_matrix() {
    // (x, y) shown at (y, x): the rotate-and-reflect matrix of phone footage.
    check("transpose.mp4", "transpose.mp4.png", upright());
}

#[test]
fn without_the_transform_every_file_shows_as_decoded() {
    for file in [
        "rotate90.mp4",
        "rotate270.mp4",
        "mirror.mp4",
        "transpose.mp4",
    ] {
        let made = first_frame(file, GeneratorOptions::default());
        compare(file, &made.image, &reference("colour_bt709_tv.mp4.png"));
    }
}

// --- apertures ---------------------------------------------------------------------

fn aperture(mode: ApertureMode) -> GeneratorOptions {
    GeneratorOptions {
        aperture_mode: mode,
        ..GeneratorOptions::default()
    }
}

/// The clean aperture's crop and shown width from make.sh, computed there from the spec.
fn clap_sizes() -> [u32; 6] {
    let text = std::fs::read_to_string(fixture("reference/clap.mp4.sizes")).unwrap();
    let numbers: Vec<u32> = text
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    numbers.try_into().unwrap()
}

#[test]
fn anamorphic_without_clap_is_stretched_in_clean_and_production_modes() {
    // 256 × 32/27 = 303.4 → 303.
    for mode in [ApertureMode::Clean, ApertureMode::Production] {
        let made = check("anamorphic.mp4", "anamorphic.mp4.png", aperture(mode));
        assert_eq!((made.image.width(), made.image.height()), (303, 176));
    }
    let encoded = check(
        "anamorphic.mp4",
        "anamorphic.mp4.encoded.png",
        aperture(ApertureMode::Encoded),
    );
    assert_eq!((encoded.image.width(), encoded.image.height()), (256, 176));
}

#[test]
fn clean_aperture_crops_then_stretches() {
    let [crop_w, crop_h, crop_x, crop_y, shown_w, _] = clap_sizes();
    // 461/2 × 150 centred + (−3, 3/2): 231×150 at (10, 15); 231 × 32/27 = 273.8 → 274.
    assert_eq!(
        [crop_w, crop_h, crop_x, crop_y, shown_w],
        [231, 150, 10, 15, 274]
    );
    let made = check("clap.mp4", "clap.mp4.png", GeneratorOptions::default());
    assert_eq!((made.image.width(), made.image.height()), (shown_w, crop_h));
}

#[test]
fn clap_is_ignored_in_production_and_encoded_modes() {
    check(
        "clap.mp4",
        "anamorphic.mp4.png",
        aperture(ApertureMode::Production),
    );
    check(
        "clap.mp4",
        "anamorphic.mp4.encoded.png",
        aperture(ApertureMode::Encoded),
    );
}

#[test]
fn matroska_pixel_crop_is_the_clean_aperture() {
    let made = check(
        "pixelcrop.mkv",
        "pixelcrop.mkv.png",
        GeneratorOptions::default(),
    );
    assert_eq!((made.image.width(), made.image.height()), (240, 170));
    let encoded = first_frame("pixelcrop.mkv", aperture(ApertureMode::Encoded));
    compare(
        "pixelcrop.mkv encoded",
        &encoded.image,
        &reference("colour_bt709_tv.mp4.png"),
    );
}

// --- 10-bit SDR ----------------------------------------------------------------------

fn rgb16() -> GeneratorOptions {
    GeneratorOptions {
        output_format: OutputFormat::Rgb16,
        ..GeneratorOptions::default()
    }
}

#[test]
fn ten_bit_420_bt709_limited() {
    let made = check(
        "av1_10bit_420.mp4",
        "av1_10bit_420.mp4.png",
        GeneratorOptions::default(),
    );
    assert!(matches!(made.image, DynamicImage::ImageRgb8(_)));
    let deep = check("av1_10bit_420.mp4", "av1_10bit_420.mp4.16.png", rgb16());
    assert!(matches!(deep.image, DynamicImage::ImageRgb16(_)));
}

#[test]
fn ten_bit_422_bt601_full() {
    check(
        "av1_10bit_422.mp4",
        "av1_10bit_422.mp4.png",
        GeneratorOptions::default(),
    );
    check("av1_10bit_422.mp4", "av1_10bit_422.mp4.16.png", rgb16());
}

#[test]
fn ten_bit_444_bt2020_full() {
    check(
        "av1_10bit_444.mp4",
        "av1_10bit_444.mp4.png",
        GeneratorOptions::default(),
    );
    check("av1_10bit_444.mp4", "av1_10bit_444.mp4.16.png", rgb16());
}

#[test]
fn sixteen_bit_output_keeps_what_eight_bits_lose() {
    // Against ffmpeg's 16-bit rendering, our 16-bit image is far closer than our
    // 8-bit one widened: the extra bits are real, not padding.
    let theirs = reference("av1_10bit_420.mp4.16.png").to_rgb16();
    let deep = first_frame("av1_10bit_420.mp4", rgb16()).image.to_rgb16();
    let narrow = first_frame("av1_10bit_420.mp4", GeneratorOptions::default())
        .image
        .to_rgb16();
    let deep_psnr = psnr(deep.as_raw(), theirs.as_raw(), 65535.0);
    let narrow_psnr = psnr(narrow.as_raw(), theirs.as_raw(), 65535.0);
    eprintln!("16-bit {deep_psnr:.1} dB, 8-bit widened {narrow_psnr:.1} dB");
    assert!(deep_psnr > narrow_psnr + 1.0);
}

// --- HDR -----------------------------------------------------------------------------

#[test]
fn pq_is_tone_mapped_to_sdr_by_default() {
    let made = check("av1_pq.mp4", "av1_pq.mp4.png", GeneratorOptions::default());
    assert_eq!(made.colour, sdr_rgb(1, 1));
    assert!(matches!(made.image, DynamicImage::ImageRgb8(_)));
}

#[test]
fn hlg_is_tone_mapped_to_sdr_by_default() {
    let made = check(
        "av1_hlg.mp4",
        "av1_hlg.mp4.png",
        GeneratorOptions::default(),
    );
    assert_eq!(made.colour, sdr_rgb(1, 1));
}

fn match_source() -> GeneratorOptions {
    GeneratorOptions {
        dynamic_range_policy: DynamicRangePolicy::MatchSource,
        ..GeneratorOptions::default()
    }
}

#[test]
fn pq_keeps_its_signal_under_match_source() {
    // An 8-bit request is widened: PQ in 8 bits would band.
    let made = check("av1_pq.mp4", "av1_pq.mp4.16.png", match_source());
    assert!(matches!(made.image, DynamicImage::ImageRgb16(_)));
    assert_eq!(made.colour, sdr_rgb(9, 16));
}

#[test]
fn hlg_keeps_its_signal_under_match_source() {
    let made = check("av1_hlg.mp4", "av1_hlg.mp4.16.png", match_source());
    assert_eq!(made.colour, sdr_rgb(9, 18));
}

#[test]
fn tone_mapping_differs_from_clipping() {
    // Showing the PQ signal as if it were SDR (what a player without HDR support
    // does) is far from ffmpeg's tone mapping: the check above means something.
    let kept = first_frame("av1_pq.mp4", match_source()).image.to_rgb8();
    let theirs = reference("av1_pq.mp4.png").to_rgb8();
    let value = psnr(kept.as_raw(), theirs.as_raw(), 255.0);
    assert!(value < 25.0, "{value:.1} dB");
}

// --- output types --------------------------------------------------------------------

fn with_format(output_format: OutputFormat) -> GeneratorOptions {
    GeneratorOptions {
        output_format,
        ..GeneratorOptions::default()
    }
}

#[test]
fn every_output_type_holds_the_same_picture() {
    let file = "colour_bt709_tv.mp4";
    let rgb8 = first_frame(file, GeneratorOptions::default())
        .image
        .into_rgb8();
    let rgba8 = first_frame(file, with_format(OutputFormat::Rgba8)).image;
    let DynamicImage::ImageRgba8(rgba8) = rgba8 else {
        panic!("not RGBA8");
    };
    for (rgb, rgba) in rgb8.pixels().zip(rgba8.pixels()) {
        assert_eq!(rgba.0, [rgb.0[0], rgb.0[1], rgb.0[2], 255]);
    }
    let DynamicImage::ImageRgb16(rgb16) = first_frame(file, with_format(OutputFormat::Rgb16)).image
    else {
        panic!("not RGB16");
    };
    let narrowed: Vec<u8> = rgb16
        .as_raw()
        .iter()
        .map(|&v| ((u32::from(v) + 128) / 257) as u8)
        .collect();
    assert!(psnr(&narrowed, rgb8.as_raw(), 255.0) > 45.0);
    let DynamicImage::ImageRgba16(rgba16) =
        first_frame(file, with_format(OutputFormat::Rgba16)).image
    else {
        panic!("not RGBA16");
    };
    assert!(rgba16.pixels().all(|p| p.0[3] == 65535));
    // Luma is the picture's Y′: for BT.709 content, the BT.709 luma of ffmpeg's RGB.
    let made = first_frame(file, with_format(OutputFormat::Luma8));
    assert_eq!(made.colour.matrix, 1);
    let DynamicImage::ImageLuma8(luma) = made.image else {
        panic!("not Luma8");
    };
    let theirs = reference("colour_bt709_tv.mp4.png").to_rgb8();
    let their_luma: Vec<u8> = theirs
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(f64::from);
            (0.2126 * r + 0.7152 * g + 0.0722 * b).round() as u8
        })
        .collect();
    let value = psnr(luma.as_raw(), &their_luma, 255.0);
    eprintln!("Luma8 vs ffmpeg's RGB luma: {value:.1} dB");
    assert!(value >= MIN_PSNR);
    let DynamicImage::ImageLuma16(_) = first_frame(file, with_format(OutputFormat::Luma16)).image
    else {
        panic!("not Luma16");
    };
}

#[test]
fn tone_mapped_luma_is_the_luma_of_the_tone_mapped_rgb() {
    let rgb = first_frame("av1_pq.mp4", GeneratorOptions::default())
        .image
        .into_rgb8();
    let luma = first_frame("av1_pq.mp4", with_format(OutputFormat::Luma8))
        .image
        .into_luma8();
    let from_rgb: Vec<u8> = rgb
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(f64::from);
            (0.2126 * r + 0.7152 * g + 0.0722 * b).round() as u8
        })
        .collect();
    assert!(psnr(luma.as_raw(), &from_rgb, 255.0) > 45.0);
}

// --- sizes and the raw path ------------------------------------------------------------

#[test]
fn maximum_size_fits_the_upright_cropped_stretched_picture() {
    // clap.mp4 shows 274×150; turned by the transform of nothing, fitted into 137×0.
    let options = GeneratorOptions {
        maximum_size: MaximumSize {
            width: 137,
            height: 0,
        },
        ..GeneratorOptions::default()
    };
    let small = first_frame("clap.mp4", options).image;
    assert_eq!((small.width(), small.height()), (137, 75));
    // One resampling from the decoded picture agrees with shrinking ffmpeg's
    // full-size rendering.
    let theirs = DynamicImage::ImageRgb8(image::imageops::resize(
        &reference("clap.mp4.png").to_rgb8(),
        137,
        75,
        image::imageops::FilterType::Lanczos3,
    ));
    compare("clap.mp4 at 137x75", &small, &theirs);
    let turned = GeneratorOptions {
        maximum_size: MaximumSize {
            width: 100,
            height: 100,
        },
        ..upright()
    };
    let small = first_frame("rotate90.mp4", turned).image;
    assert_eq!((small.width(), small.height()), (69, 100)); // 176×256 → 68.75×100
}

#[test]
fn a_raw_frame_converts_to_the_generated_image() {
    for (file, options) in [
        ("clap.mp4", upright()),
        ("transpose.mp4", upright()),
        ("av1_pq.mp4", match_source()),
        ("av1_10bit_422.mp4", with_format(OutputFormat::Rgba16)),
    ] {
        let options = GeneratorOptions {
            tolerance: Tolerance::ZERO,
            ..options
        };
        let generator = ImageGenerator::open(fixture(file), options).unwrap();
        let made = generator.image_at(Time::ZERO).unwrap();
        let raw = generator.frame_at(Time::ZERO).unwrap();
        assert_eq!(raw.actual, made.actual);
        let converted = convert(&raw.frame, &raw.settings).unwrap();
        assert_eq!(converted.image, made.image, "{file}");
        assert_eq!(converted.colour, made.colour, "{file}");
    }
}

#[test]
fn ten_bit_planes_are_little_endian_u16_with_their_strides() {
    let generator =
        ImageGenerator::open(fixture("av1_10bit_422.mp4"), GeneratorOptions::default()).unwrap();
    let raw = generator.frame_at(Time::ZERO).unwrap();
    let frame = &raw.frame;
    assert_eq!(
        (frame.width, frame.height, frame.format.bit_depth),
        (256, 176, 10)
    );
    let chroma = &frame.planes[1];
    assert_eq!((chroma.width, chroma.height), (128, 176));
    assert!(chroma.stride >= chroma.width * 2);
    let max = frame.planes[0]
        .rows(2)
        .flat_map(|row| row.chunks_exact(2))
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .max()
        .unwrap();
    assert!(
        (900..1024).contains(&max),
        "samples are 10-bit values: {max}"
    );
    // The bitstream's colour; the settings add nothing it did not say.
    assert_eq!(
        (frame.colour.matrix, frame.colour.full_range),
        (6, Some(true))
    );
}
