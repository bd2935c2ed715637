//! Broken, truncated and unsupported files give typed errors, never panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use stillframe::{Asset, ErrorKind, GeneratorOptions, ImageGenerator, Time, Tolerance};

fn open_error(file: &str) -> ErrorKind {
    match Asset::open(common::fixture(file)) {
        Ok(asset) => panic!("{file} opened: {:?}", asset.info()),
        Err(error) => {
            eprintln!("{file}: {error}");
            error.kind()
        }
    }
}

#[test]
fn broken_files_fail_to_open_with_a_typed_error() {
    for file in [
        "broken_empty.mp4",
        "broken_random.mp4",
        "broken_ftyp_only.mp4",
        "broken_huge_box.mp4",
        "broken_stsz.mp4",
    ] {
        let kind = open_error(file);
        assert!(
            matches!(
                kind,
                ErrorKind::Malformed | ErrorKind::Limit | ErrorKind::Truncated
            ),
            "{file}: {kind:?}"
        );
    }
}

#[test]
fn a_file_without_video_opens_but_makes_no_generator() {
    let asset = Asset::open(common::fixture("broken_no_video.mp4")).unwrap();
    assert!(asset.first_video_track().is_none());
    let error = ImageGenerator::new(asset, GeneratorOptions::default()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
}

#[test]
fn streams_the_decoder_cannot_decode_are_named_before_decoding() {
    {
        let (file, feature) = ("yuv444.mp4", "4:4:4");
        let generator =
            ImageGenerator::open(common::fixture(file), GeneratorOptions::default()).unwrap();
        let error = generator.image_at(Time::ZERO).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported, "{file}: {error}");
        assert!(error.to_string().contains(feature), "{file}: {error}");
        assert_eq!(
            generator.frames_decoded(),
            0,
            "{file}: decoded before refusing"
        );
    }
}

#[test]
fn truncated_file_serves_what_survived_and_fails_clearly_after() {
    let file = "truncated.mp4";
    let reference = common::reference(file);
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..GeneratorOptions::default()
    };
    let generator = ImageGenerator::open(common::fixture(file), options).unwrap();
    let survivor = reference.frames.last().unwrap();
    let made = generator.frame_at(survivor.pts).unwrap();
    assert_eq!(common::frame_md5(&made.frame), survivor.md5);
    let lost = generator.frame_at(Time::new(28, 10).unwrap()).unwrap_err();
    assert_eq!(lost.kind(), ErrorKind::Truncated, "{lost}");
    // One failed request does not poison the generator.
    let first = &reference.frames[0];
    assert_eq!(
        common::frame_md5(&generator.frame_at(first.pts).unwrap().frame),
        first.md5
    );
}

#[test]
fn times_past_the_end_fail_unless_tolerance_allows() {
    let file = "baseline.mp4";
    let exact = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..GeneratorOptions::default()
    };
    let generator = ImageGenerator::open(common::fixture(file), exact).unwrap();
    let error = generator.image_at(Time::from_secs(3)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutOfRange, "{error}");
    let lenient = ImageGenerator::open(common::fixture(file), GeneratorOptions::default()).unwrap();
    assert!(lenient.image_at(Time::from_secs(60)).is_ok());
}
