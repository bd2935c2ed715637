//! Fixture loading for the decoder tests: MP4 through stillframe-mp4; WebM/MKV,
//! IVF and raw OBU streams through the small readers below; ffmpeg's reference.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use stillframe_core::{
    Codec, ColourDescription, Demuxer, Frame, Limits, Orientation, Packet, Result, TrackInfo,
    TrackKind, VideoDecoder, VideoInfo,
};

/// `tests/fixtures/av1/<name>` of the workspace.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/av1")
        .join(name)
}

/// The first video track of a file and its packets in decode order, by extension.
pub fn open(path: &Path) -> (TrackInfo, Vec<Packet>) {
    match path.extension().and_then(|e| e.to_str()) {
        Some("mp4") | Some("mov") | Some("m4s") => read_mp4(path),
        Some("webm") | Some("mkv") => read_matroska(path),
        Some("ivf") => read_ivf(path),
        _ => read_obu_stream(path),
    }
}

pub fn read_mp4(path: &Path) -> (TrackInfo, Vec<Packet>) {
    let file = std::fs::File::open(path).unwrap();
    let mut demuxer = stillframe_mp4::Mp4Demuxer::open(file, Limits::default()).unwrap();
    let track = demuxer
        .tracks()
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .unwrap()
        .clone();
    let count = demuxer.samples(track.index).unwrap().len() as u32;
    let packets = (0..count)
        .map(|sample| demuxer.read_sample(track.index, sample).unwrap())
        .collect();
    (track, packets)
}

pub fn av1_track(codec_config: Vec<u8>, timescale: u32) -> TrackInfo {
    TrackInfo {
        index: 0,
        id: 1,
        kind: TrackKind::Video,
        codec: Codec::Av1,
        timescale: NonZeroU32::new(timescale).unwrap(),
        duration: None,
        codec_config,
        video: Some(VideoInfo {
            width: 0,
            height: 0,
            orientation: Orientation::default(),
            pixel_aspect: None,
            clean_aperture: None,
            colour: ColourDescription::UNSPECIFIED,
        }),
        extra_configs: Vec::new(),
    }
}

fn packet(index: usize, data: Vec<u8>, pts: i64) -> Packet {
    Packet {
        data,
        sample: index as u32,
        pts,
        dts: pts,
        sync: false,
        description: 0,
    }
}

/// EBML variable-size integer at `pos`: (value without marker, length); `None`
/// value for an unknown size.
fn vint(data: &[u8], pos: usize, keep_marker: bool) -> (Option<u64>, usize) {
    let first = data[pos];
    let length = first.leading_zeros() as usize + 1;
    let mut value = if keep_marker {
        u64::from(first)
    } else {
        u64::from(first) & ((1u64 << (8 - length)) - 1)
    };
    for &byte in &data[pos + 1..pos + length] {
        value = (value << 8) | u64::from(byte);
    }
    let all_ones = (1u64 << (7 * length)) - 1;
    let unknown = !keep_marker && value == all_ones;
    ((!unknown).then_some(value), length)
}

/// The elements of `data` as (id, payload), not descending.
fn children(data: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let (id, id_length) = vint(data, pos, true);
        let (size, size_length) = vint(data, pos + id_length, false);
        let body = pos + id_length + size_length;
        let end = size.map_or(data.len(), |s| (body + s as usize).min(data.len()));
        out.push((id.unwrap(), &data[body..end]));
        pos = end;
    }
    out
}

fn uint(payload: &[u8]) -> u64 {
    payload.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b))
}

/// The first `V_AV1` track of a Matroska/WebM file and its blocks (SimpleBlock or
/// BlockGroup/Block, no lacing), timestamps in ticks of the file's TimestampScale.
pub fn read_matroska(path: &Path) -> (TrackInfo, Vec<Packet>) {
    let data = std::fs::read(path).unwrap();
    // Segment, Cluster and BlockGroup are descended into (they may have an
    // unknown size); TrackEntry is read whole.
    const DESCEND: [u64; 4] = [0x1853_8067, 0x1654_AE6B, 0x1F43_B675, 0xA0];
    let (mut scale, mut cluster_time) = (1_000_000u64, 0i64);
    let mut av1: Option<(u64, Vec<u8>)> = None;
    let mut packets = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let (id, id_length) = vint(&data, pos, true);
        let id = id.unwrap();
        let (size, size_length) = vint(&data, pos + id_length, false);
        let body = pos + id_length + size_length;
        if DESCEND.contains(&id) {
            pos = body;
            continue;
        }
        let end = (body + size.unwrap() as usize).min(data.len());
        let payload = &data[body..end];
        match id {
            0x2A_D7B1 => scale = uint(payload),
            0xE7 => cluster_time = uint(payload) as i64,
            0xAE if av1.is_none() => {
                let fields = children(payload);
                let field = |wanted: u64| fields.iter().find(|(id, _)| *id == wanted).map(|f| f.1);
                if field(0x86) == Some(b"V_AV1".as_slice()) {
                    let number = uint(field(0xD7).unwrap());
                    av1 = Some((number, field(0x63A2).unwrap_or_default().to_vec()));
                }
            }
            0xA3 | 0xA1 => {
                let (track, length) = vint(payload, 0, false);
                if av1.as_ref().is_some_and(|(n, _)| Some(*n) == track) {
                    let relative = i16::from_be_bytes([payload[length], payload[length + 1]]);
                    let flags = payload[length + 2];
                    assert_eq!(flags & 0x06, 0, "laced blocks are not read here");
                    let data = payload[length + 3..].to_vec();
                    let pts = cluster_time + i64::from(relative);
                    packets.push(packet(packets.len(), data, pts));
                }
            }
            _ => {}
        }
        pos = end;
    }
    let (_, private) = av1.expect("no V_AV1 track");
    // Ticks of `scale` ns; the timescale is ticks per second.
    let timescale = (1_000_000_000 / scale) as u32;
    (av1_track(private, timescale), packets)
}

/// An IVF file's frames (32-byte header, then 12-byte frame headers).
pub fn read_ivf(path: &Path) -> (TrackInfo, Vec<Packet>) {
    let data = std::fs::read(path).unwrap();
    assert_eq!(&data[..4], b"DKIF");
    let header = u16::from_le_bytes([data[6], data[7]]) as usize;
    let rate = u32::from_le_bytes(data[16..20].try_into().unwrap());
    let mut packets = Vec::new();
    let mut pos = header;
    while pos + 12 <= data.len() {
        let size = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        let pts = i64::from_le_bytes(data[pos + 4..pos + 12].try_into().unwrap());
        let end = (pos + 12 + size).min(data.len());
        packets.push(packet(packets.len(), data[pos + 12..end].to_vec(), pts));
        pos = end;
    }
    (av1_track(Vec::new(), rate.max(1)), packets)
}

/// A raw OBU stream: low-overhead (Section 5, temporal units start at temporal
/// delimiters) or Annex B (length-delimited units, rewritten with size fields).
pub fn read_obu_stream(path: &Path) -> (TrackInfo, Vec<Packet>) {
    let data = std::fs::read(path).unwrap();
    let units = if data.first().is_some_and(|&b| b == 0x12) {
        low_overhead_units(&data)
    } else {
        annex_b_units(&data)
    };
    let packets = units
        .into_iter()
        .enumerate()
        .map(|(i, unit)| packet(i, unit, i as i64))
        .collect();
    (av1_track(Vec::new(), 1), packets)
}

fn low_overhead_units(data: &[u8]) -> Vec<Vec<u8>> {
    let mut units: Vec<Vec<u8>> = Vec::new();
    for obu in stillframe_av1::split_obus(data).unwrap() {
        if obu.obu_type == stillframe_av1::OBU_TEMPORAL_DELIMITER || units.is_empty() {
            units.push(Vec::new());
        }
        units.last_mut().unwrap().extend_from_slice(obu.bytes);
    }
    units
}

fn leb128(data: &[u8], pos: &mut usize) -> usize {
    let mut value = 0usize;
    for i in 0..8 {
        let byte = data[*pos];
        *pos += 1;
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            break;
        }
    }
    value
}

fn annex_b_units(data: &[u8]) -> Vec<Vec<u8>> {
    let mut units = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let unit_end = {
            let size = leb128(data, &mut pos);
            pos + size
        };
        let mut unit = Vec::new();
        while pos < unit_end {
            let frame_end = {
                let size = leb128(data, &mut pos);
                pos + size
            };
            while pos < frame_end {
                let obu_length = leb128(data, &mut pos);
                let obu = &data[pos..pos + obu_length];
                pos += obu_length;
                let header_length = if obu[0] & 0x04 != 0 { 2 } else { 1 };
                if obu[0] & 0x02 != 0 {
                    unit.extend_from_slice(obu);
                    continue;
                }
                // Set obu_has_size_field and insert the size.
                unit.push(obu[0] | 0x02);
                unit.extend_from_slice(&obu[1..header_length]);
                let mut rest = Vec::new();
                stillframe_av1::write_obu(0, &obu[header_length..], &mut rest);
                unit.extend_from_slice(&rest[1..]);
            }
        }
        units.push(unit);
    }
    units
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
    /// In the reference's time base (`pts_ticks`), or seconds × 1e6 for the corpus.
    pub pts: i64,
    pub md5: String,
}

/// `reference/<name>.json` beside the fixtures: frames and shown-key packets.
pub fn reference(name: &str) -> (Vec<Expected>, Vec<usize>) {
    let text = std::fs::read_to_string(fixture(&format!("reference/{name}.json"))).unwrap();
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
    let keys = json["video"]["shown_key_packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as usize)
        .collect();
    (frames, keys)
}
