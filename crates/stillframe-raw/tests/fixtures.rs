//! Compares the demuxer with ffmpeg on the repository's raw-stream fixtures
//! (`tests/fixtures/raw/*` and their `reference/*.json`, made by `make.sh`): the
//! presented frames sorted by `pts` must be ffmpeg's output frames, with the same
//! picture types and key flags; timestamps must follow the stream's frame rate
//! exactly; samples must be what the decoders read; cut-off files must serve what
//! survived and fail requests past the cut with a typed error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs::File;
use std::io::{BufReader, Cursor};
use std::path::{Path, PathBuf};

use serde_json::Value;
use stillframe_bitstream::av1::{split_obus, OBU_TEMPORAL_DELIMITER};
use stillframe_bitstream::framing::{split_annex_b, split_nal_units, write_annex_b};
use stillframe_bitstream::h264::{nal_type, parse_avcc, NAL_PPS, NAL_SPS};
use stillframe_bitstream::hevc;
use stillframe_core::{Codec, ContainerKind, Demuxer, ErrorKind, Limits, Time};
use stillframe_raw::{FrameRateSource, RawDemuxer};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/raw")
}

fn open(name: &str) -> RawDemuxer {
    let file = File::open(fixtures_dir().join(name)).unwrap();
    RawDemuxer::open(BufReader::new(file), Limits::default()).unwrap()
}

fn reference(name: &str) -> Value {
    let path = fixtures_dir()
        .join("reference")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Checks `name` against ffmpeg: frames in presentation order with their types and
/// key flags, the frame rate, and `pts = n × frame duration`.
fn check(
    name: &str,
    container: ContainerKind,
    codec: Codec,
    rate: (u32, u32),
    source: FrameRateSource,
) {
    let reference = reference(name);
    let mut demuxer = open(name);
    assert_eq!(demuxer.container(), container, "{name}");
    assert_eq!(demuxer.tracks()[0].codec, codec, "{name}");
    assert_eq!(demuxer.frame_rate(), rate, "{name}: frame rate");
    assert_eq!(
        demuxer.frame_rate_source(),
        source,
        "{name}: frame rate source"
    );
    let ours = common::shown_frames(&mut demuxer);
    let theirs = reference["frames"].as_array().unwrap();
    assert_eq!(ours.len(), theirs.len(), "{name}: frame count");
    let our_types: String = ours.iter().map(|f| f.kind.as_str()).collect();
    let their_types: String = theirs.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(
        our_types, their_types,
        "{name}: picture types in output order"
    );
    let our_keys: Vec<bool> = ours.iter().map(|f| f.sync).collect();
    let their_keys: Vec<bool> = theirs.iter().map(|f| f["key"] == 1).collect();
    assert_eq!(our_keys, their_keys, "{name}: key frames");
    let track = &demuxer.tracks()[0];
    assert_eq!(track.timescale.get(), rate.0, "{name}: timescale");
    for (n, frame) in ours.iter().enumerate() {
        let expected = match container {
            // IVF states timestamps; ffmpeg's framemd5 keeps them in the 1/25 time base.
            ContainerKind::Ivf => theirs[n]["pts_ticks"].as_i64().unwrap(),
            _ => i64::try_from(n).unwrap() * i64::from(rate.1),
        };
        assert_eq!(frame.pts, expected, "{name}: pts of frame {n}");
    }
    let end = Time::new(
        i64::try_from(ours.len()).unwrap() * i64::from(rate.1),
        rate.0,
    );
    assert_eq!(demuxer.duration(), end, "{name}: duration");
    check_packaging(&mut demuxer, name);
}

/// Every sample is what the decoder adapters read: length-prefixed NAL units for
/// H.264/HEVC, low-overhead OBUs with sizes (no temporal delimiter) for AV1 streams.
fn check_packaging(demuxer: &mut RawDemuxer, name: &str) {
    let count = demuxer.samples(0).unwrap().len();
    for sample in 0..count {
        let packet = demuxer
            .read_sample(0, u32::try_from(sample).unwrap())
            .unwrap();
        match demuxer.container() {
            ContainerKind::H264 | ContainerKind::Hevc => {
                let mut rest = &packet.data[..];
                while !rest.is_empty() {
                    let length = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
                    assert!(
                        length > 0 && length + 4 <= rest.len(),
                        "{name}: sample {sample}"
                    );
                    rest = &rest[4 + length..];
                }
                assert!(!split_nal_units(&packet.data, 4).unwrap().is_empty());
            }
            ContainerKind::Obu => {
                let obus = split_obus(&packet.data).unwrap();
                assert!(obus
                    .iter()
                    .all(|obu| obu.obu_type != OBU_TEMPORAL_DELIMITER));
                assert!(obus.iter().all(|obu| obu.bytes[0] & 0x02 != 0), "sizes");
            }
            _ => {}
        }
    }
    assert!(demuxer
        .read_sample(0, u32::try_from(count).unwrap())
        .is_err());
    assert!(demuxer.read_sample(1, 0).is_err());
    assert!(demuxer.samples(1).is_err());
}

#[test]
fn h264_with_vui_timing_and_b_frames() {
    check(
        "bframes.264",
        ContainerKind::H264,
        Codec::H264,
        (25, 1),
        FrameRateSource::Bitstream,
    );
    let demuxer = open("bframes.264");
    let track = &demuxer.tracks()[0];
    // The SPS and PPS ahead of the first picture, as an avcC, so that decoding can
    // start at a later IDR that does not repeat them.
    let avcc = parse_avcc(&track.codec_config).unwrap();
    let stream = std::fs::read(fixtures_dir().join("bframes.264")).unwrap();
    let units = split_nal_units(&stream, 0).unwrap();
    let first_of = |kind: u8| {
        units
            .iter()
            .find(|unit| nal_type(unit) == Some(kind))
            .unwrap()
    };
    assert_eq!(avcc.sps, [first_of(NAL_SPS).to_vec()]);
    assert_eq!(avcc.pps, [first_of(NAL_PPS).to_vec()]);
    let video = track.video.as_ref().unwrap();
    assert_eq!((video.width, video.height), (160, 96));
}

#[test]
fn h264_without_timing_is_25_fps() {
    check(
        "notiming.264",
        ContainerKind::H264,
        Codec::H264,
        (25, 1),
        FrameRateSource::Default,
    );
}

#[test]
fn h264_open_gop_ntsc_rate_and_delimiters() {
    check(
        "open_gop.264",
        ContainerKind::H264,
        Codec::H264,
        (30000, 1001),
        FrameRateSource::Bitstream,
    );
}

#[test]
fn hevc_with_b_frames_and_open_gops() {
    check(
        "bframes.265",
        ContainerKind::Hevc,
        Codec::Hevc,
        (25, 1),
        FrameRateSource::Bitstream,
    );
    let demuxer = open("bframes.265");
    let video = demuxer.tracks()[0].video.as_ref().unwrap();
    assert_eq!((video.width, video.height), (160, 96));
}

/// The track's `hvcC` of a raw HEVC stream, parsed.
fn hevc_config(stream: Vec<u8>) -> hevc::HevcConfig {
    let demuxer = RawDemuxer::open(Cursor::new(stream), Limits::default()).unwrap();
    let record = &demuxer.tracks()[0].codec_config;
    assert!(!record.is_empty(), "no hvcC");
    hevc::parse_hvcc(record).unwrap()
}

fn hevc_type(unit: &[u8]) -> Option<u8> {
    hevc::NalHeader::parse(unit).map(|header| header.nal_type)
}

/// `pps` with `pps_pic_parameter_set_id` 1 in place of 0: the RBSP's leading `1`
/// (ue 0) becomes `010` (ue 1), the rest shifted along.
fn hevc_pps_with_id_1(pps: &[u8]) -> Vec<u8> {
    let mut bits: Vec<bool> = pps[2..]
        .iter()
        .flat_map(|&byte| (0..8).rev().map(move |i| (byte >> i) & 1 == 1))
        .collect();
    assert!(bits[0], "pps_pic_parameter_set_id is 0");
    bits.splice(0..1, [false, true, false]);
    while bits.last() == Some(&false) {
        bits.pop();
    }
    let mut unit = pps[..2].to_vec();
    unit.extend(bits.chunks(8).map(|chunk| {
        chunk
            .iter()
            .enumerate()
            .fold(0u8, |byte, (i, &bit)| byte | (u8::from(bit) << (7 - i)))
    }));
    assert!(!unit.windows(3).any(|w| w[0] == 0 && w[1] == 0 && w[2] <= 3));
    unit
}

#[test]
fn hevc_hvcc_holds_the_parameter_sets_before_the_first_picture() {
    // x265's stream with its VPS/SPS/PPS stated once, at the start.
    let stream = std::fs::read(fixtures_dir().join("../hevc/hevc_headers_once.hevc")).unwrap();
    let units = split_annex_b(&stream);
    let config = hevc_config(stream.clone());
    assert!(config.parameter_sets().eq(units[..3].iter().copied()));
    let types: Vec<u8> = config.arrays.iter().map(|a| a.nal_type).collect();
    assert_eq!(types, [hevc::NAL_VPS, hevc::NAL_SPS, hevc::NAL_PPS]);
    assert!(config.arrays.iter().all(|a| a.complete));
    let sps = hevc::parse_sps(units[1]).unwrap();
    assert_eq!(config.profile_tier_level, sps.profile_tier_level);
    assert_eq!(config.profile_tier_level.profile_name(), "Main");
    assert_eq!(
        (
            config.chroma_format_idc,
            config.bit_depth_luma,
            config.bit_depth_chroma
        ),
        (1, 8, 8)
    );
    assert_eq!((config.nal_length_size, config.num_temporal_layers), (4, 1));
    assert_eq!(config.temporal_id_nested, sps.temporal_id_nesting);

    // bframes.265 repeats them before every IRAP picture: only the first copies
    // lead, and are listed once.
    let bframes = std::fs::read(fixtures_dir().join("bframes.265")).unwrap();
    let bframes_units = split_annex_b(&bframes);
    assert!(bframes_units[3..]
        .iter()
        .any(|&unit| hevc_type(unit) == Some(hevc::NAL_SPS)));
    let config = hevc_config(bframes.clone());
    assert!(config
        .parameter_sets()
        .eq(bframes_units[..3].iter().copied()));

    // A PPS restated with the same id replaces the first statement; another id is
    // listed beside it. Slices before any parameter set are dropped by the scanner
    // and end nothing: the sets after them still lead.
    let (vps, sps, pps) = (units[0], units[1], units[2]);
    let first_vcl = units
        .iter()
        .position(|&u| hevc_type(u).is_some_and(|t| t < 32))
        .unwrap();
    let orphan = units[first_vcl + 1];
    let mut stale = pps.to_vec();
    // transform_skip_enabled_flag set: a different PPS 0.
    stale[3] |= 0x04;
    assert_eq!(hevc::parse_pps_head(&stale).unwrap().id, 0);
    let second = hevc_pps_with_id_1(pps);
    assert_eq!(hevc::parse_pps_head(&second).unwrap().id, 1);
    let mut edited = Vec::new();
    let leading: [&[u8]; 6] = [orphan, vps, sps, &stale, &second, pps];
    write_annex_b(
        leading
            .into_iter()
            .chain(units[first_vcl..].iter().copied()),
        &mut edited,
    );
    let config = hevc_config(edited);
    let listed: Vec<&[u8]> = config.parameter_sets().collect();
    assert_eq!(listed, [vps, sps, pps, &second[..]]);
}

#[test]
fn hevc_starting_at_a_cra_hides_its_rasl_pictures() {
    check(
        "cra_first.265",
        ContainerKind::Hevc,
        Codec::Hevc,
        (25, 1),
        FrameRateSource::Bitstream,
    );
    let mut demuxer = open("cra_first.265");
    demuxer.index_until(0, Time::POSITIVE_INFINITY).unwrap();
    let samples = demuxer.samples(0).unwrap();
    // The CRA's leading RASL pictures are decoded by nobody and shown by nobody.
    let hidden = samples.iter().filter(|s| !s.presented).count();
    assert_eq!(hidden, 3);
    assert!(samples[0].sync && samples[0].presented);
}

#[test]
fn av1_in_ivf() {
    check(
        "aom.ivf",
        ContainerKind::Ivf,
        Codec::Av1,
        (25, 1),
        FrameRateSource::Container,
    );
    let demuxer = open("aom.ivf");
    let config = stillframe_bitstream::av1::parse_av1c(&demuxer.tracks()[0].codec_config).unwrap();
    assert!(
        config.sequence_header().unwrap().is_some(),
        "av1C holds the sequence header"
    );
}

#[test]
fn av1_low_overhead_obu_stream() {
    check(
        "aom.obu",
        ContainerKind::Obu,
        Codec::Av1,
        (25, 1),
        FrameRateSource::Default,
    );
    // The same temporal units as the IVF file, without their temporal delimiters.
    let mut obu = open("aom.obu");
    let mut ivf = open("aom.ivf");
    obu.index_until(0, Time::POSITIVE_INFINITY).unwrap();
    ivf.index_until(0, Time::POSITIVE_INFINITY).unwrap();
    for sample in 0..u32::try_from(ivf.samples(0).unwrap().len()).unwrap() {
        let from_ivf = ivf.read_sample(0, sample).unwrap().data;
        let from_obu = obu.read_sample(0, sample).unwrap().data;
        assert_eq!(
            from_ivf[..2],
            [0x12, 0x00],
            "IVF frames keep their delimiter"
        );
        assert_eq!(from_ivf[2..], from_obu[..], "sample {sample}");
    }
}

#[test]
fn av1_annex_b_stream_with_timing_info() {
    check(
        "annexb.obu",
        ContainerKind::Obu,
        Codec::Av1,
        (30000, 1001),
        FrameRateSource::Bitstream,
    );
}

#[test]
fn vp9_and_vp8_in_ivf() {
    let mut vp9 = open("vp9.ivf");
    assert_eq!(vp9.tracks()[0].codec, Codec::Vp9);
    let frames = common::shown_frames(&mut vp9);
    let reference = reference("vp9.ivf");
    let theirs = reference["frames"].as_array().unwrap();
    assert_eq!(frames.len(), theirs.len());
    let keys: Vec<bool> = theirs.iter().map(|f| f["key"] == 1).collect();
    assert_eq!(frames.iter().map(|f| f.sync).collect::<Vec<_>>(), keys);
    // Superframes stay whole: one sample per IVF frame.
    assert_eq!(
        vp9.samples(0).unwrap().len(),
        reference["packets"].as_array().unwrap().len()
    );
    let mut vp8 = open("vp8.ivf");
    assert_eq!(vp8.tracks()[0].codec, Codec::Other("vp8".to_owned()));
    assert!(vp8.index_until(0, Time::POSITIVE_INFINITY).unwrap());
    assert_eq!(vp8.samples(0).unwrap().len(), 6);
}

/// A file cut inside a unit: everything before the cut is served, the cut unit is
/// dropped, and a request past the cut fails with [`ErrorKind::Truncated`].
fn check_cut(name: &str, whole: &str) {
    let reference = reference(name);
    let mut demuxer = open(name);
    assert!(
        !demuxer.index_until(0, Time::POSITIVE_INFINITY).unwrap(),
        "{name}: never complete"
    );
    let frames = common::shown_frames(&mut demuxer);
    assert_eq!(
        frames.len(),
        reference["frames"].as_array().unwrap().len(),
        "{name}"
    );
    // The surviving samples are the whole file's first ones, byte for byte.
    let mut full = open(whole);
    full.index_until(0, Time::POSITIVE_INFINITY).unwrap();
    for sample in 0..u32::try_from(frames.len()).unwrap() {
        assert_eq!(
            demuxer.read_sample(0, sample).unwrap().data,
            full.read_sample(0, sample).unwrap().data,
            "{name}: sample {sample}"
        );
    }
    let error = demuxer.index_until(0, Time::from_secs(10)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Truncated, "{name}: {error}");
    assert!(demuxer.index_until(0, Time::ZERO).is_ok());
    assert_eq!(demuxer.duration(), None);
}

#[test]
fn cut_ivf_and_obu_streams_serve_what_survived() {
    check_cut("truncated.ivf", "aom.ivf");
    check_cut("truncated.obu", "aom.obu");
}

#[test]
fn cut_h264_stream_serves_its_last_unit_as_it_is() {
    // An Annex B stream cut inside a NAL unit looks whole: its last access unit is
    // served cut, as ffmpeg decodes it.
    let reference = reference("truncated.264");
    let mut demuxer = open("truncated.264");
    assert!(demuxer.index_until(0, Time::POSITIVE_INFINITY).unwrap());
    let frames = common::shown_frames(&mut demuxer);
    let theirs = reference["frames"].as_array().unwrap();
    assert_eq!(frames.len(), theirs.len());
    let types: String = frames.iter().map(|f| f.kind.as_str()).collect();
    let their_types: String = theirs.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(types, their_types);
}

#[test]
fn the_index_is_built_only_as_far_as_asked() {
    // IVF: a request in the first GOP reads to the next key frame (frame 12 of 25).
    let mut ivf = open("aom.ivf");
    assert!(!ivf.index_until(0, Time::from_millis(100)).unwrap());
    let indexed = ivf.samples(0).unwrap().len();
    assert!((13..25).contains(&indexed), "{indexed} samples indexed");
    assert!(ivf.index_until(0, Time::POSITIVE_INFINITY).unwrap());
    assert_eq!(ivf.samples(0).unwrap().len(), 25);
    // H.264: presentation order is known per IDR period, so a request in the first
    // period reads the second (it holds the next sync sample) and stops there.
    let mut h264 = open("bframes.264");
    let before = h264.samples(0).unwrap().len();
    assert_eq!(before, 0, "opening indexes nothing");
    assert!(!h264.index_until(0, Time::from_millis(100)).unwrap());
    let samples = h264.samples(0).unwrap().to_vec();
    assert_eq!(samples.len(), 50, "two IDR periods of 25");
    // Growing never changes what was handed out.
    h264.index_until(0, Time::POSITIVE_INFINITY).unwrap();
    assert_eq!(&h264.samples(0).unwrap()[..50], &samples[..]);
    assert_eq!(h264.samples(0).unwrap().len(), 75);
}

#[test]
fn limits_hold() {
    let file = File::open(fixtures_dir().join("bframes.264")).unwrap();
    let few = Limits {
        max_samples: 30,
        ..Limits::default()
    };
    let mut demuxer = RawDemuxer::open(BufReader::new(file), few).unwrap();
    // The limit stops indexing: what was read is served (the first period and the
    // start of the second), a request past it fails.
    assert!(!demuxer.index_until(0, Time::POSITIVE_INFINITY).unwrap());
    assert_eq!(demuxer.samples(0).unwrap().len(), 30);
    let error = demuxer.index_until(0, Time::from_secs(2)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Limit);
    // A first sample over the size limit fails at open.
    for name in ["bframes.264", "aom.ivf", "aom.obu", "annexb.obu"] {
        let file = File::open(fixtures_dir().join(name)).unwrap();
        let small = Limits {
            max_sample_bytes: 100,
            ..Limits::default()
        };
        let error = RawDemuxer::open(BufReader::new(file), small).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Limit, "{name}: {error}");
    }
}

#[test]
fn what_is_not_a_raw_stream_is_refused() {
    for bytes in [
        &b""[..],
        b"\0\0\0\x18ftypisom",
        &[0x1a, 0x45, 0xdf, 0xa3],
        &[0, 0, 1],
    ] {
        let error = RawDemuxer::open(Cursor::new(bytes.to_vec()), Limits::default()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Malformed);
    }
    // An IVF header alone has no frame.
    let ivf = std::fs::read(fixtures_dir().join("aom.ivf")).unwrap();
    let error = RawDemuxer::open(Cursor::new(ivf[..32].to_vec()), Limits::default()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Malformed, "{error}");
}

#[test]
fn probe_tells_every_fixture_by_content() {
    for (name, kind) in [
        ("bframes.264", ContainerKind::H264),
        ("open_gop.264", ContainerKind::H264),
        ("bframes.265", ContainerKind::Hevc),
        ("cra_first.265", ContainerKind::Hevc),
        ("aom.ivf", ContainerKind::Ivf),
        ("vp9.ivf", ContainerKind::Ivf),
        ("aom.obu", ContainerKind::Obu),
        ("annexb.obu", ContainerKind::Obu),
    ] {
        let bytes = std::fs::read(fixtures_dir().join(name)).unwrap();
        let head = &bytes[..bytes.len().min(stillframe_raw::PROBE_BYTES)];
        assert_eq!(stillframe_raw::probe(head), Some(kind), "{name}");
    }
    for other in ["../baseline.mp4", "../mkv/baseline.mkv"] {
        let bytes = std::fs::read(fixtures_dir().join(other)).unwrap();
        assert_eq!(stillframe_raw::probe(&bytes[..4096]), None, "{other}");
    }
}
