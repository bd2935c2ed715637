//! Fixture loading for the decoder tests: MP4 through stillframe-mp4, WebM/Matroska
//! through stillframe-mkv, and ffmpeg's reference JSON.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use stillframe_core::{
    Demuxer, Frame, Limits, Packet, Result, Time, TrackInfo, TrackKind, VideoDecoder,
};

/// `tests/fixtures/vp9/<name>` of the workspace.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/vp9")
        .join(name)
}

/// The first video track of a file and its packets in decode order.
pub fn open(path: &Path) -> (TrackInfo, Vec<Packet>) {
    let file = std::fs::File::open(path).unwrap();
    let mut demuxer: Box<dyn Demuxer> = match path.extension().and_then(|e| e.to_str()) {
        Some("mp4") | Some("mov") => {
            Box::new(stillframe_mp4::Mp4Demuxer::open(file, Limits::default()).unwrap())
        }
        _ => Box::new(stillframe_mkv::MkvDemuxer::open(file, Limits::default()).unwrap()),
    };
    let track = demuxer
        .tracks()
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .unwrap()
        .clone();
    demuxer
        .index_until(track.index, Time::POSITIVE_INFINITY)
        .unwrap();
    let count = demuxer.samples(track.index).unwrap().len() as u32;
    let packets = (0..count)
        .map(|sample| demuxer.read_sample(track.index, sample).unwrap())
        .collect();
    (track, packets)
}

/// Sends every packet, collecting frames after each, then finishes.
pub fn decode_all(decoder: &mut dyn VideoDecoder, packets: &[Packet]) -> Result<Vec<Frame>> {
    let mut frames = Vec::new();
    for packet in packets {
        decoder.send_packet(packet)?;
        while let Some(frame) = decoder.receive_frame()? {
            frames.push(frame);
        }
    }
    decoder.finish()?;
    while let Some(frame) = decoder.receive_frame()? {
        frames.push(frame);
    }
    Ok(frames)
}

/// ffmpeg's framemd5 of a frame.
pub fn frame_md5(frame: &Frame) -> String {
    let mut hasher = Md5::new();
    frame.packed_rows().for_each(|row| hasher.update(row));
    format!("{:x}", hasher.finalize())
}

/// One frame of ffmpeg's reference.
#[derive(Debug, Clone)]
pub struct Expected {
    /// In the track's time base (`pts_ticks`).
    pub pts: i64,
    pub width: u32,
    pub height: u32,
    pub md5: String,
}

/// `reference/<name>.json`: ffmpeg's frames, and the packets starting with a key
/// frame that show one (`video.random_access_packets`).
pub struct Reference {
    pub frames: Vec<Expected>,
    pub random_access: Vec<usize>,
    pub json: serde_json::Value,
}

pub fn reference(name: &str) -> Reference {
    let text = std::fs::read_to_string(fixture(&format!("reference/{name}.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let frames = json["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Expected {
            pts: f["pts_ticks"].as_i64().unwrap(),
            width: f["w"].as_u64().unwrap() as u32,
            height: f["h"].as_u64().unwrap() as u32,
            md5: f["md5"].as_str().unwrap().to_owned(),
        })
        .collect();
    let random_access = json["video"]["random_access_packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as usize)
        .collect();
    Reference {
        frames,
        random_access,
        json,
    }
}

/// Asserts `frames` are ffmpeg's frames from `first` on: count, pts, size, md5.
pub fn assert_bit_exact(name: &str, frames: &[Frame], first: usize) {
    let expected = reference(name).frames;
    assert_eq!(frames.len(), expected.len() - first, "{name}: frame count");
    for (index, (frame, want)) in frames.iter().zip(&expected[first..]).enumerate() {
        assert_eq!(frame.pts, want.pts, "{name}: frame {index}: pts");
        assert_eq!(
            (frame.width, frame.height),
            (want.width, want.height),
            "{name}: frame {index}: size"
        );
        assert_eq!(
            frame_md5(frame),
            want.md5,
            "{name}: frame {index} (pts {})",
            want.pts
        );
    }
}
