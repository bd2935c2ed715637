//! Shared by the end-to-end tests: fixtures, ffmpeg's reference, frame hashes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use md5::{Digest, Md5};
use stillframe::{Frame, Time};

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

pub fn reference(name: &str) -> Reference {
    let path = fixture(&format!("reference/{name}.json"));
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
