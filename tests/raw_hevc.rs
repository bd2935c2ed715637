//! Raw HEVC Annex B streams through the product, against ffmpeg's framemd5
//! (`tests/fixtures/hevc/reference/<file>.json`, written by `../raw/reference.py`:
//! frames numbered in output order, `pts_ticks` in `framemd5_time_base`).
//!
//! `hevc_headers_once.hevc` states its VPS/SPS/PPS once, before its first picture,
//! as many raw streams do: a decode that starts at a later IRAP picture has only the
//! track's `hvcC`, which the raw demuxer builds from those leading units.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use stillframe::{GeneratorOptions, ImageGenerator, Time, Tolerance};
use stillframe_bitstream::framing::split_annex_b;
use stillframe_bitstream::hevc::{parse_codec_config, NalHeader, NAL_PPS, NAL_SPS, NAL_VPS};

const HEADERS_ONCE: &str = "hevc/hevc_headers_once.hevc";

/// One frame as ffmpeg output it: its time and md5.
struct Expected {
    pts: Time,
    md5: String,
    key: bool,
}

fn expected_frames(name: &str) -> Vec<Expected> {
    let (folder, file) = name.rsplit_once('/').unwrap();
    let path = common::fixture(folder)
        .join("reference")
        .join(format!("{file}.json"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (num, den) = json["framemd5_time_base"]
        .as_str()
        .unwrap()
        .split_once('/')
        .unwrap();
    let (num, den): (i64, u32) = (num.parse().unwrap(), den.parse().unwrap());
    json["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|frame| Expected {
            pts: Time::new(frame["pts_ticks"].as_i64().unwrap() * num, den).unwrap(),
            md5: frame["md5"].as_str().unwrap().to_owned(),
            key: frame["key"] == 1,
        })
        .collect()
}

fn exact_generator(name: &str) -> ImageGenerator {
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..GeneratorOptions::default()
    };
    ImageGenerator::open(common::fixture(name), options).unwrap()
}

#[test]
fn the_fixture_states_its_parameter_sets_only_before_its_first_picture() {
    let stream = std::fs::read(common::fixture(HEADERS_ONCE)).unwrap();
    let types: Vec<u8> = split_annex_b(&stream)
        .iter()
        .filter_map(|unit| NalHeader::parse(unit).map(|header| header.nal_type))
        .collect();
    assert_eq!(types[..3], [NAL_VPS, NAL_SPS, NAL_PPS]);
    assert!(
        types[3..].iter().all(|t| !(32..=34).contains(t)),
        "{types:?}"
    );
    // And the track's hvcC holds exactly those three units.
    let generator = exact_generator(HEADERS_ONCE);
    let record = parse_codec_config(&generator.track().codec_config)
        .unwrap()
        .expect("the raw demuxer gives an hvcC");
    let leading: Vec<&[u8]> = split_annex_b(&stream)[..3].to_vec();
    assert!(record.parameter_sets().eq(leading.iter().copied()));
}

/// Each request on a fresh generator: the decode starts at the IRAP picture before
/// the frame asked for, the second one, whose access unit holds no parameter set.
#[test]
fn a_decode_from_the_second_irap_gives_ffmpegs_frames() {
    let expected = expected_frames(HEADERS_ONCE);
    assert_eq!(expected.len(), 50);
    let second_key = expected
        .iter()
        .enumerate()
        .filter(|(_, frame)| frame.key)
        .map(|(n, _)| n)
        .nth(1)
        .expect("two key frames");
    for n in [
        second_key,
        second_key + 1,
        second_key + 7,
        expected.len() - 1,
    ] {
        let generator = exact_generator(HEADERS_ONCE);
        let made = generator
            .frame_at(expected[n].pts)
            .unwrap_or_else(|error| panic!("frame {n}: {error}"));
        assert_eq!(made.actual, expected[n].pts, "frame {n} is the wrong frame");
        assert_eq!(common::frame_md5(&made.frame), expected[n].md5, "frame {n}");
        // From the second IRAP on: fewer samples than the second period holds.
        assert!(
            made.frames_decoded <= (expected.len() - second_key) as u64,
            "frame {n}: {} samples decoded, so the decode started before the second IRAP",
            made.frames_decoded
        );
    }
}

/// One pass over every frame: the first IRAP's in-band parameter sets and the same
/// sets from the hvcC do not disturb each other.
#[test]
fn every_frame_in_one_batch_matches_ffmpeg() {
    let expected = expected_frames(HEADERS_ONCE);
    let generator = exact_generator(HEADERS_ONCE);
    let numbers: Vec<u64> = (0..expected.len() as u64).collect();
    for (n, result) in generator.frames_at_frames(&numbers).into_iter().enumerate() {
        let made = result.unwrap_or_else(|error| panic!("frame {n}: {error}"));
        assert_eq!(made.actual, expected[n].pts, "frame {n}");
        assert_eq!(common::frame_md5(&made.frame), expected[n].md5, "frame {n}");
    }
}
