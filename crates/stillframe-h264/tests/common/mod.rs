//! Loads the streams of `tests/data` (made by `make.sh`) and turns them into packets.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::num::NonZeroU32;
use std::path::PathBuf;

use md5::{Digest, Md5};
use stillframe_core::{
    Codec, ColourDescription, Frame, Orientation, Packet, Result, TrackInfo, TrackKind,
    VideoDecoder, VideoInfo,
};
use stillframe_h264::{nal_type, split_annex_b, NAL_PPS, NAL_SPS};

pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(data_path(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// One access unit of a stream, as the encoder emitted it.
pub struct AccessUnit {
    /// Annex B bytes.
    pub data: Vec<u8>,
    pub dts: i64,
    pub pts: i64,
}

impl AccessUnit {
    pub fn units(&self) -> Vec<&[u8]> {
        split_annex_b(&self.data)
    }
}

/// The access units of `<stem>.h264` in decode order, cut at the packet sizes of
/// `<stem>.packets` (ffmpeg framemd5 of the encoder's packets).
pub fn access_units(stem: &str) -> Vec<AccessUnit> {
    let stream = read(&format!("{stem}.h264"));
    let listing = String::from_utf8(read(&format!("{stem}.packets"))).unwrap();
    let mut units = Vec::new();
    let mut offset = 0;
    for line in listing.lines().filter(|line| !line.starts_with('#')) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let dts: i64 = fields[1].parse().unwrap();
        let pts: i64 = fields[2].parse().unwrap();
        let size: usize = fields[4].parse().unwrap();
        let data = stream[offset..offset + size].to_vec();
        assert_eq!(
            format!("{:x}", Md5::digest(&data)),
            fields[5],
            "{stem}: packet at {offset}"
        );
        units.push(AccessUnit { data, dts, pts });
        offset += size;
    }
    assert_eq!(
        offset,
        stream.len(),
        "{stem}: packets do not cover the stream"
    );
    units
}

/// The first SPS NAL unit of the stream.
pub fn first_sps(stem: &str) -> Vec<u8> {
    let units = access_units(stem);
    units[0]
        .units()
        .into_iter()
        .find(|unit| nal_type(unit) == Some(NAL_SPS))
        .unwrap()
        .to_vec()
}

/// An avcC record carrying the first SPS and PPS of `units` (or none).
pub fn avcc_record(units: &[AccessUnit], length_size: u8, with_parameter_sets: bool) -> Vec<u8> {
    let first = units[0].units();
    let sps = first
        .iter()
        .find(|unit| nal_type(unit) == Some(NAL_SPS))
        .unwrap();
    let pps = first
        .iter()
        .find(|unit| nal_type(unit) == Some(NAL_PPS))
        .unwrap();
    let mut record = vec![1, sps[1], sps[2], sps[3], 0xfc | (length_size - 1)];
    if with_parameter_sets {
        record.push(0xe1);
        record.extend((sps.len() as u16).to_be_bytes());
        record.extend_from_slice(sps);
        record.push(1);
        record.extend((pps.len() as u16).to_be_bytes());
        record.extend_from_slice(pps);
    } else {
        record.extend([0xe0, 0]);
    }
    record
}

/// The access unit as a length-prefixed sample; SPS and PPS kept only if asked.
pub fn avcc_sample(unit: &AccessUnit, length_size: u8, keep_parameter_sets: bool) -> Vec<u8> {
    let mut sample = Vec::new();
    for nal in unit.units() {
        if !keep_parameter_sets && matches!(nal_type(nal), Some(NAL_SPS | NAL_PPS)) {
            continue;
        }
        let length = nal.len().to_be_bytes();
        sample.extend_from_slice(&length[length.len() - usize::from(length_size)..]);
        sample.extend_from_slice(nal);
    }
    sample
}

pub fn track(codec_config: Vec<u8>, width: u32, height: u32) -> TrackInfo {
    TrackInfo {
        index: 0,
        id: 1,
        kind: TrackKind::Video,
        codec: Codec::H264,
        timescale: NonZeroU32::new(25).unwrap(),
        duration: None,
        codec_config,
        extra_configs: Vec::new(),
        video: Some(VideoInfo {
            width,
            height,
            orientation: Orientation::default(),
            pixel_aspect: None,
            clean_aperture: None,
            colour: ColourDescription::UNSPECIFIED,
        }),
    }
}

pub fn packet(index: usize, unit: &AccessUnit, data: Vec<u8>) -> Packet {
    Packet {
        data,
        sample: index as u32,
        pts: unit.pts,
        dts: unit.dts,
        sync: false,
        description: 0,
    }
}

/// How a test hands the stream to the decoder.
#[derive(Debug, Clone, Copy)]
pub enum Packaging {
    /// avcC with SPS/PPS; samples length-prefixed without them.
    Avcc { length_size: u8 },
    /// avcC without parameter sets (`avc3`); samples carry them.
    Avc3,
    /// Empty avcC; samples are the Annex B access units.
    AnnexB,
}

pub fn packaged(stem: &str, packaging: Packaging) -> (TrackInfo, Vec<Packet>) {
    let units = access_units(stem);
    let (config, packets) = match packaging {
        Packaging::Avcc { length_size } => (
            avcc_record(&units, length_size, true),
            units
                .iter()
                .enumerate()
                .map(|(index, unit)| packet(index, unit, avcc_sample(unit, length_size, false)))
                .collect(),
        ),
        Packaging::Avc3 => (
            avcc_record(&units, 4, false),
            units
                .iter()
                .enumerate()
                .map(|(index, unit)| packet(index, unit, avcc_sample(unit, 4, true)))
                .collect(),
        ),
        Packaging::AnnexB => (
            Vec::new(),
            units
                .iter()
                .enumerate()
                .map(|(index, unit)| packet(index, unit, unit.data.clone()))
                .collect(),
        ),
    };
    // The container's size is deliberately wrong: the SPS must win.
    (track(config, 16, 16), packets)
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

/// ffmpeg's framemd5 of a frame: the visible planes packed, Y then U then V.
pub fn frame_md5(frame: &Frame) -> String {
    let mut hasher = Md5::new();
    for plane in &frame.planes {
        for row in plane.rows(frame.format.bytes_per_sample()) {
            hasher.update(row);
        }
    }
    format!("{:x}", hasher.finalize())
}

/// The md5 column of `<stem>.framemd5`, in presentation order.
pub fn reference_md5s(stem: &str) -> Vec<String> {
    String::from_utf8(read(&format!("{stem}.framemd5")))
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.rsplit(',').next().unwrap().trim().to_owned())
        .collect()
}

/// Luma PSNR in dB of `frame` against 8-bit `reference` luma; infinite when equal.
pub fn luma_psnr(frame: &Frame, reference: &[u8]) -> f64 {
    let plane = &frame.planes[0];
    let mut squared = 0u64;
    let mut count = 0u64;
    for (row, expected) in plane.rows(1).zip(reference.chunks(plane.width)) {
        for (&a, &b) in row.iter().zip(expected) {
            let difference = i64::from(a) - i64::from(b);
            squared += (difference * difference) as u64;
            count += 1;
        }
    }
    assert_eq!(count as usize, reference.len(), "reference luma size");
    if squared == 0 {
        return f64::INFINITY;
    }
    let mse = squared as f64 / count as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}
