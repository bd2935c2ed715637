//! AV1 through the whole pipeline (container, planner, decoder) against ffmpeg's
//! reference for every fixture of `tests/fixtures/av1` (made by its `make.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use stillframe::{GeneratorOptions, ImageGenerator, Time, Tolerance};

const FIXTURES: [&str; 10] = [
    "aom_420.mp4",
    "aom_420.webm",
    "aom_444.mp4",
    "aom_422.mp4",
    "aom_12bit.mp4",
    "aom_gray.mp4",
    "aom_grain.mp4",
    "svt_10bit.mp4",
    "svt_10bit_grain.webm",
    "svt_bt709_full.mp4",
];

/// ffmpeg's frames of `av1/<name>`: (pts, md5) in presentation order.
fn reference(name: &str) -> Vec<(Time, String)> {
    let path = common::fixture(&format!("av1/reference/{name}.json"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (num, den) = json["video"]["time_base"]
        .as_str()
        .unwrap()
        .split_once('/')
        .unwrap();
    let (num, den): (i64, u32) = (num.parse().unwrap(), den.parse().unwrap());
    json["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let pts = Time::new(f["pts_ticks"].as_i64().unwrap() * num, den).unwrap();
            (pts, f["md5"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn exact_generator(name: &str) -> ImageGenerator {
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..GeneratorOptions::default()
    };
    ImageGenerator::open(common::fixture(&format!("av1/{name}")), options).unwrap()
}

#[test]
fn every_frame_of_every_fixture_is_bit_exact_in_order() {
    for name in FIXTURES {
        let reference = reference(name);
        let generator = exact_generator(name);
        for (index, (pts, md5)) in reference.iter().enumerate() {
            let made = generator
                .frame_at(*pts)
                .unwrap_or_else(|e| panic!("{name}: frame {index} at {pts}: {e}"));
            assert_eq!(
                made.actual, *pts,
                "{name}: frame {index} is the wrong frame"
            );
            assert_eq!(
                &common::frame_md5(&made.frame),
                md5,
                "{name}: frame {index}"
            );
        }
        // In order, each sample is decoded once: the decoder is reused.
        assert_eq!(
            generator.frames_decoded(),
            reference.len() as u64,
            "{name}: samples decoded"
        );
    }
}

#[test]
fn frames_requested_out_of_order_are_bit_exact() {
    for name in ["aom_420.mp4", "aom_420.webm", "svt_10bit.mp4"] {
        let reference = reference(name);
        let generator = exact_generator(name);
        let count = reference.len();
        // Backwards, then jumping across GOPs both ways.
        let order: Vec<usize> = (0..count)
            .rev()
            .chain((0..count).map(|i| (i * 7) % count))
            .collect();
        for index in order {
            let (pts, md5) = &reference[index];
            let made = generator.frame_at(*pts).unwrap();
            assert_eq!(made.actual, *pts, "{name}: frame {index}");
            assert_eq!(
                &common::frame_md5(&made.frame),
                md5,
                "{name}: frame {index}"
            );
        }
    }
}

#[test]
fn eight_bit_av1_renders_an_image() {
    for (name, width, height) in [("aom_420.mp4", 192, 108), ("svt_bt709_full.mp4", 160, 96)] {
        let generator = exact_generator(name);
        let made = generator.image_at(Time::new(2, 5).unwrap()).unwrap();
        assert_eq!((made.image.width(), made.image.height()), (width, height));
    }
}

#[test]
fn probe_describes_av1_tracks() {
    let asset = stillframe::Asset::open(common::fixture("av1/svt_10bit.mp4")).unwrap();
    let info = asset.info();
    let video = info
        .tracks
        .iter()
        .find(|t| t.codec == stillframe::Codec::Av1)
        .unwrap();
    let format = video.format.as_ref().unwrap();
    assert_eq!((format.profile.as_str(), format.bit_depth), ("Main", 10));
    assert_eq!((format.width, format.height), (176, 144));
}
