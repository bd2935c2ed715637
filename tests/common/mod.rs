//! Shared by the end-to-end tests: fixtures, ffmpeg's reference, frame hashes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use md5::{Digest, Md5};
use stillframe::{Asset, Frame, GeneratorOptions, ImageGenerator, Time, Tolerance};
use stillframe_seek::{choose, FrameIndex};

/// A file in `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// One frame as ffmpeg decoded it.
#[derive(Debug, Clone)]
pub struct ReferenceFrame {
    pub pts: Time,
    pub md5: String,
    pub key: bool,
}

/// ffmpeg's view of a fixture (`tests/fixtures/reference/<name>.json`).
#[derive(Debug, Clone)]
pub struct Reference {
    pub frames: Vec<ReferenceFrame>,
    pub width: u32,
    pub height: u32,
    /// ffmpeg's display-matrix rotation: counter-clockwise positive.
    pub rotation: i64,
    pub sample_aspect_ratio: (u32, u32),
}

/// ffmpeg's view of the fixture at `name` (relative to `tests/fixtures`): the JSON in the
/// `reference` folder beside it, e.g. `mkv/reference/baseline.mkv.json`.
pub fn reference(name: &str) -> Reference {
    let (folder, file) = name.rsplit_once('/').unwrap_or(("", name));
    let path = fixture(folder)
        .join("reference")
        .join(format!("{file}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let video = &json["video"];
    let (num, den) = parse_ratio(video["time_base"].as_str().unwrap_or("1/1"), '/');
    let frames = json["frames"]
        .as_array()
        .map(|frames| {
            frames
                .iter()
                .map(|f| ReferenceFrame {
                    pts: Time::new(f["pts_ticks"].as_i64().unwrap() * i64::from(num), den).unwrap(),
                    md5: f["md5"].as_str().unwrap().to_owned(),
                    key: f["key"].as_i64() == Some(1),
                })
                .collect()
        })
        .unwrap_or_default();
    Reference {
        frames,
        width: video["width"].as_u64().unwrap_or(0) as u32,
        height: video["height"].as_u64().unwrap_or(0) as u32,
        rotation: video["rotation"].as_i64().unwrap_or(0),
        sample_aspect_ratio: parse_ratio(
            video["sample_aspect_ratio"].as_str().unwrap_or("1:1"),
            ':',
        ),
    }
}

fn parse_ratio(text: &str, separator: char) -> (u32, u32) {
    let (a, b) = text.split_once(separator).unwrap_or(("1", "1"));
    (a.parse().unwrap_or(1), b.parse().unwrap_or(1))
}

/// ffmpeg's framemd5 of a decoded picture: visible planes packed, Y then U then V.
pub fn frame_md5(frame: &Frame) -> String {
    let mut hasher = Md5::new();
    frame.packed_rows().for_each(|row| hasher.update(row));
    format!("{:x}", hasher.finalize())
}

/// The visible luma plane packed without padding.
pub fn luma(frame: &Frame) -> Vec<u8> {
    frame.planes[0].rows(1).flatten().copied().collect()
}

/// Peak signal-to-noise ratio of two 8-bit planes, in dB (infinite when equal).
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "planes differ in size");
    let squared: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| u64::from(x.abs_diff(y)).pow(2))
        .sum();
    if squared == 0 {
        return f64::INFINITY;
    }
    let mse = squared as f64 / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

/// A generator with zero tolerance: every request gets the frame on screen.
pub fn exact_generator(name: &str) -> ImageGenerator {
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..GeneratorOptions::default()
    };
    ImageGenerator::open(fixture(name), options).unwrap()
}

/// The asset with every track indexed (Matroska indexes lazily; MP4 already is).
pub fn indexed(name: &str) -> Asset {
    let mut asset = Asset::open(fixture(name)).unwrap();
    asset.index_fully().unwrap();
    asset
}

/// Our presentation times of the first video track, sorted.
pub fn presented_times(name: &str) -> Vec<Time> {
    let asset = indexed(name);
    let track = asset.first_video_track().unwrap().clone();
    let mut times: Vec<Time> = asset
        .samples(track.index)
        .unwrap()
        .iter()
        .filter(|s| s.presented)
        .map(|s| Time::from_ticks(s.pts, track.timescale))
        .collect();
    times.sort();
    times
}

/// Every presented frame's time equals ffmpeg's.
pub fn assert_timestamps_match(name: &str) {
    let ours = presented_times(name);
    let theirs: Vec<Time> = reference(name).frames.iter().map(|f| f.pts).collect();
    assert!(!theirs.is_empty(), "{name}: reference has no frames");
    assert_eq!(
        ours.len(),
        theirs.len(),
        "{name}: frame count differs from ffmpeg's"
    );
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "{name}: frame {i} at {a}, ffmpeg says {b}");
    }
}

/// The exact planner picks ffmpeg's frame at, 1 µs before, and midway between every
/// frame, refuses a time 10 s past the end, and gives the first frame before the start.
pub fn assert_planner_matches(name: &str) {
    let asset = indexed(name);
    let track = asset.first_video_track().unwrap().clone();
    let index = FrameIndex::new(asset.samples(track.index).unwrap(), track.timescale);
    index.sanity_check().unwrap();
    let frames = reference(name).frames;
    let exact = |t: Time| {
        choose(&index, t, Tolerance::ZERO).map(|p| Time::from_ticks(p.frame.pts, track.timescale))
    };
    let epsilon = Time::new(1, 1_000_000).unwrap();
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!(exact(frame.pts).unwrap(), frame.pts, "{name}: at frame {i}");
        let just_before = frame.pts.checked_sub(epsilon).unwrap();
        let expected_before = if i == 0 { frame.pts } else { frames[i - 1].pts };
        assert_eq!(
            exact(just_before).unwrap(),
            expected_before,
            "{name}: just before frame {i}"
        );
        if let Some(next) = frames.get(i + 1) {
            let (a, b) = (frame.pts.ticks().unwrap(), next.pts.ticks().unwrap());
            assert_eq!(a.1, b.1);
            let between = Time::new(a.0 + b.0, a.1.get() * 2).unwrap();
            assert_eq!(
                exact(between).unwrap(),
                frame.pts,
                "{name}: between frames {i} and {}",
                i + 1
            );
        }
    }
    let far = frames
        .last()
        .unwrap()
        .pts
        .checked_add(Time::from_secs(10))
        .unwrap();
    assert!(
        exact(far).is_err(),
        "{name}: a time 10 s past the end must fail"
    );
    assert_eq!(
        exact(Time::from_secs(-3)).unwrap(),
        frames[0].pts,
        "{name}: before the first frame"
    );
}

/// Requests every reference frame in order, each of which must be the right frame at the
/// right size; returns (bit-exact frames, frames, samples the generator decoded).
pub fn decode_every_frame(name: &str) -> (usize, usize, u64) {
    let reference = reference(name);
    let generator = exact_generator(name);
    let mut exact = 0;
    for (i, expected) in reference.frames.iter().enumerate() {
        let made = generator
            .frame_at(expected.pts)
            .unwrap_or_else(|e| panic!("{name}: frame {i} at {}: {e}", expected.pts));
        assert_eq!(
            made.actual, expected.pts,
            "{name}: frame {i} is the wrong frame"
        );
        assert_eq!(
            (made.frame.width, made.frame.height),
            (reference.width, reference.height)
        );
        exact += usize::from(frame_md5(&made.frame) == expected.md5);
    }
    (exact, reference.frames.len(), generator.frames_decoded())
}
