//! Fixture loading for the decoder tests: MP4/MOV through stillframe-mp4, Matroska
//! through stillframe-mkv; ffmpeg's reference JSON; a bit writer for hand-made SPS.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use stillframe_core::{
    Demuxer, Frame, Limits, Packet, Result, SampleInfo, Time, TrackInfo, TrackKind, VideoDecoder,
};

/// `tests/fixtures/hevc/<name>` of the workspace.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/hevc")
        .join(name)
}

/// The first video track of a file and its packets in decode order, by extension.
pub fn open(path: &Path) -> (TrackInfo, Vec<Packet>) {
    let (track, packets, _) = open_with_samples(path);
    (track, packets)
}

/// [`open`], with the track's sample index (which says which samples an edit list
/// hides).
pub fn open_with_samples(path: &Path) -> (TrackInfo, Vec<Packet>, Vec<SampleInfo>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match path.extension().and_then(|e| e.to_str()) {
        Some("mkv") | Some("webm") => {
            let demuxer = stillframe_mkv::MkvDemuxer::open(file, Limits::default()).unwrap();
            read_all(demuxer)
        }
        _ => {
            let demuxer = stillframe_mp4::Mp4Demuxer::open(file, Limits::default()).unwrap();
            read_all(demuxer)
        }
    }
}

fn read_all(mut demuxer: impl Demuxer) -> (TrackInfo, Vec<Packet>, Vec<SampleInfo>) {
    let track = demuxer
        .tracks()
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .unwrap()
        .clone();
    demuxer
        .index_until(track.index, Time::POSITIVE_INFINITY)
        .unwrap();
    let samples = demuxer.samples(track.index).unwrap().to_vec();
    let packets = (0..samples.len() as u32)
        .map(|sample| demuxer.read_sample(track.index, sample).unwrap())
        .collect();
    (track, packets, samples)
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// In the reference's time base (`pts_ticks`).
    pub pts: i64,
    pub md5: String,
}

/// One packet of ffmpeg's reference, in decode order.
#[derive(Debug, Clone)]
pub struct ReferencePacket {
    pub pts: i64,
    pub nal_types: Vec<u8>,
    pub temporal_ids: Vec<u8>,
    pub irap: bool,
}

impl ReferencePacket {
    pub fn is_rasl(&self) -> bool {
        self.nal_types.iter().any(|&t| t == 8 || t == 9)
    }

    pub fn is_radl(&self) -> bool {
        self.nal_types.iter().any(|&t| t == 6 || t == 7)
    }
}

/// `reference/<name>.json` beside the fixtures.
pub struct Reference {
    pub frames: Vec<Expected>,
    pub packets: Vec<ReferencePacket>,
    pub json: serde_json::Value,
}

pub fn reference(name: &str) -> Reference {
    let path = fixture(&format!("reference/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let frames = json["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Expected {
            pts: f["pts_ticks"].as_i64().unwrap(),
            md5: f["md5"].as_str().unwrap().to_owned(),
        })
        .collect();
    let numbers = |value: &serde_json::Value| -> Vec<u8> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u8)
            .collect()
    };
    let packets = json["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| ReferencePacket {
            pts: p["pts_ticks"].as_i64().unwrap(),
            nal_types: numbers(&p["nal_types"]),
            temporal_ids: numbers(&p["temporal_ids"]),
            irap: p["irap"].as_bool().unwrap(),
        })
        .collect();
    Reference {
        frames,
        packets,
        json,
    }
}

/// Writes bits most significant first, for hand-made parameter sets.
#[derive(Default)]
pub struct BitWriter(Vec<bool>);

impl BitWriter {
    pub fn put(&mut self, value: u64, count: u32) -> &mut Self {
        for i in (0..count).rev() {
            self.0.push((value >> i) & 1 == 1);
        }
        self
    }

    pub fn flag(&mut self, value: bool) -> &mut Self {
        self.put(u64::from(value), 1)
    }

    pub fn ue(&mut self, value: u32) -> &mut Self {
        let code = u64::from(value) + 1;
        let length = 64 - code.leading_zeros();
        self.put(0, length - 1).put(code, length)
    }

    /// The bits with `rbsp_trailing_bits()`.
    pub fn rbsp(&mut self) -> Vec<u8> {
        self.put(1, 1);
        while !self.0.len().is_multiple_of(8) {
            self.0.push(false);
        }
        self.0
            .chunks(8)
            .map(|c| c.iter().fold(0u8, |b, &bit| (b << 1) | u8::from(bit)))
            .collect()
    }
}

/// A Main-profile SPS NAL unit of `width` × `height` (multiples of 8): CTB 64, one
/// short-term RPS, no VUI. Enough for the limits to judge it.
pub fn main_sps(width: u32, height: u32) -> Vec<u8> {
    sps_with_long_term(width, height, &[])
}

/// [`main_sps`] with `long_term_ref_pics_present_flag` and these
/// `lt_ref_pic_poc_lsb_sps` values (8 bits each), all used by the current picture.
pub fn sps_with_long_term(width: u32, height: u32, long_term: &[u32]) -> Vec<u8> {
    let mut b = BitWriter::default();
    b.put(0, 4).put(0, 3).flag(true);
    b.put(0, 2).flag(false).put(1, 5).put(0x6000_0000, 32);
    b.put(0b1001, 4).put(0, 44).put(186, 8);
    b.ue(0).ue(1).ue(width).ue(height).flag(false);
    b.ue(0).ue(0).ue(4);
    b.flag(false).ue(4).ue(2).ue(0);
    b.ue(0).ue(3).ue(0).ue(3).ue(1).ue(1);
    b.flag(false).flag(true).flag(true).flag(false);
    b.ue(1).ue(1).ue(0).ue(0).flag(true);
    b.flag(!long_term.is_empty());
    if !long_term.is_empty() {
        b.ue(long_term.len() as u32);
        for &lsb in long_term {
            b.put(u64::from(lsb), 8).flag(true);
        }
    }
    b.flag(true).flag(true).flag(false).flag(false);
    let mut nal = vec![0x42, 0x01];
    nal.extend(escape(&b.rbsp()));
    nal
}

/// Inserts emulation prevention bytes (H.265 § 7.4.2): `00 00 0x` with x ≤ 3
/// becomes `00 00 03 0x`.
pub fn escape(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + 8);
    let mut zeros = 0;
    for &byte in rbsp {
        if zeros >= 2 && byte <= 3 {
            out.push(3);
            zeros = 0;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    out
}

/// An `hvcC` record holding `units` (VPS/SPS/PPS NAL units), 4-byte lengths.
pub fn hvcc(units: &[&[u8]]) -> Vec<u8> {
    let mut record = vec![1, 1, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93, 0xf0, 0, 0xfc];
    record.extend([0xfd, 0xf8, 0xf8, 0, 0, 0x0f]);
    record.push(units.len() as u8);
    for unit in units {
        record.push(0x80 | ((unit[0] >> 1) & 0x3f));
        record.extend(1u16.to_be_bytes());
        record.extend((unit.len() as u16).to_be_bytes());
        record.extend_from_slice(unit);
    }
    record
}

/// A copy of `track` with `codec_config` replaced.
pub fn with_config(track: &TrackInfo, codec_config: Vec<u8>) -> TrackInfo {
    TrackInfo {
        codec_config,
        ..track.clone()
    }
}
