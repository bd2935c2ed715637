//! Images look as a player shows them: colour by PSNR against ffmpeg, geometry exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use stillframe::{
    ApertureMode, GeneratedImage, GeneratorOptions, ImageGenerator, MaximumSize, OutputFormat,
    Tolerance,
};

fn image_of_frame_10(file: &str, options: GeneratorOptions) -> image::RgbImage {
    let made = made_of_frame_10(file, options);
    assert_eq!(made.colour.matrix, 0, "RGB pixels");
    made.image.into_rgb8()
}

fn made_of_frame_10(file: &str, options: GeneratorOptions) -> GeneratedImage {
    let pts = common::reference(file).frames[10].pts;
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..options
    };
    let generator = ImageGenerator::open(common::fixture(file), options).unwrap();
    let made = generator.image_at(pts).unwrap();
    assert_eq!(made.actual, pts);
    made
}

fn assert_colour_matches_ffmpeg(file: &str) {
    let ours = image_of_frame_10(file, GeneratorOptions::default());
    let theirs = image::open(common::fixture(&format!("reference/{file}.frame10.png")))
        .unwrap()
        .to_rgb8();
    assert_eq!(ours.dimensions(), theirs.dimensions());
    let psnr = common::psnr(ours.as_raw(), theirs.as_raw());
    eprintln!("{file}: RGB PSNR vs ffmpeg {psnr:.1} dB");
    assert!(psnr >= 35.0, "{file}: RGB PSNR {psnr:.1} dB");
}

#[test]
fn untagged_sd_converts_as_bt601_limited() {
    assert_colour_matches_ffmpeg("baseline.mp4");
}

#[test]
fn tagged_full_range_bt601_converts_as_such() {
    assert_colour_matches_ffmpeg("bt601_full.mp4");
}

#[test]
fn untagged_hd_converts_as_bt709() {
    assert_colour_matches_ffmpeg("hd720.mp4");
}

#[test]
fn wrong_range_would_be_caught() {
    // The full-range clip rendered as limited range must fall below the bound above.
    let ours = image_of_frame_10("baseline.mp4", GeneratorOptions::default());
    let full_range = image::open(common::fixture("reference/bt601_full.mp4.frame10.png"))
        .unwrap()
        .to_rgb8();
    assert!(common::psnr(ours.as_raw(), full_range.as_raw()) < 35.0);
}

#[test]
fn rotation_turns_the_image_upright_only_when_asked() {
    let upright = GeneratorOptions {
        applies_preferred_track_transform: true,
        ..GeneratorOptions::default()
    };
    let turned = image_of_frame_10("rotated270.mp4", upright);
    let raw = image_of_frame_10("rotated270.mp4", GeneratorOptions::default());
    assert_eq!(raw.dimensions(), (320, 240));
    assert_eq!(turned.dimensions(), (240, 320));
    // A 90° clockwise turn moves the decoded top-left pixel to the top-right.
    assert_eq!(turned.get_pixel(239, 0), raw.get_pixel(0, 0));
    let other_way = image_of_frame_10("rotated.mov", upright);
    let raw_mov = image_of_frame_10("rotated.mov", GeneratorOptions::default());
    assert_eq!(other_way.get_pixel(0, 319), raw_mov.get_pixel(0, 0));
}

#[test]
fn pixel_aspect_widens_anamorphic_frames_except_in_encoded_mode() {
    let clean = image_of_frame_10("anamorphic.mp4", GeneratorOptions::default());
    assert_eq!(clean.dimensions(), (384, 288)); // 352 × 12/11
    let encoded = GeneratorOptions {
        aperture_mode: ApertureMode::Encoded,
        ..GeneratorOptions::default()
    };
    assert_eq!(
        image_of_frame_10("anamorphic.mp4", encoded).dimensions(),
        (352, 288)
    );
}

#[test]
fn maximum_size_fits_the_upright_display_shape() {
    let options = GeneratorOptions {
        maximum_size: MaximumSize {
            width: 120,
            height: 0,
        },
        applies_preferred_track_transform: true,
        ..GeneratorOptions::default()
    };
    assert_eq!(
        image_of_frame_10("rotated270.mp4", options).dimensions(),
        (120, 160)
    );
    let boxed = GeneratorOptions {
        maximum_size: MaximumSize {
            width: 100,
            height: 100,
        },
        ..GeneratorOptions::default()
    };
    assert_eq!(
        image_of_frame_10("anamorphic.mp4", boxed).dimensions(),
        (100, 75)
    );
}

#[test]
fn corpus_rotate_and_reflect_matrix_shows_the_picture_transposed() {
    // A phone clip whose tkhd matrix turns and mirrors: (x, y) is shown at (y, x).
    // tests/render_colour.rs checks the same matrix against ffmpeg on a fixture; this
    // checks the real file when the shared corpus is there.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/axm__sample_rotate_and_reflect.mp4");
    if !path.exists() {
        eprintln!("skipped: {} is not here", path.display());
        return;
    }
    let luma = |transform: bool| {
        let options = GeneratorOptions {
            tolerance: Tolerance::ZERO,
            applies_preferred_track_transform: transform,
            output_format: OutputFormat::Luma8,
            ..GeneratorOptions::default()
        };
        let generator = ImageGenerator::open(&path, options).unwrap();
        let first = stillframe::Time::ZERO;
        generator.image_at(first).unwrap().image.into_luma8()
    };
    let (raw, shown) = (luma(false), luma(true));
    assert_eq!(raw.dimensions(), (1080, 720));
    assert_eq!(shown.dimensions(), (720, 1080));
    for (x, y, pixel) in shown.enumerate_pixels() {
        assert_eq!(pixel, raw.get_pixel(y, x), "at ({x}, {y})");
    }
}
