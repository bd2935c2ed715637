//! Compares the demuxer with ffmpeg on the repository's Matroska fixtures
//! (`tests/fixtures/mkv/*.mkv|webm` and their `reference/*.json`, made by `make.sh`).
//!
//! Every video packet ffmpeg reads must be the same sample in our table, in the same
//! (file) order: presentation ticks, keyframe flag and size; the presented samples
//! must be ffmpeg's decoded frames. Track properties (container, pixel aspect,
//! rotation, colour) must match what ffprobe reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde_json::Value;
use stillframe_core::{ContainerKind, Demuxer, ErrorKind, Limits, Time, TrackKind};
use stillframe_mkv::MkvDemuxer;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mkv")
}

fn open(name: &str) -> MkvDemuxer<BufReader<File>> {
    let file = File::open(fixtures_dir().join(name)).unwrap();
    MkvDemuxer::open(BufReader::new(file), Limits::default()).unwrap()
}

fn reference(name: &str) -> Value {
    let path = fixtures_dir()
        .join("reference")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn video_track(demuxer: &MkvDemuxer<BufReader<File>>) -> usize {
    demuxer
        .tracks()
        .iter()
        .position(|t| t.kind == TrackKind::Video)
        .unwrap()
}

/// Indexes `name` completely and checks every packet and frame against ffmpeg.
fn check_against_ffmpeg(name: &str) {
    let reference = reference(name);
    let mut demuxer = open(name);
    let track = video_track(&demuxer);
    demuxer.index_until(track, Time::POSITIVE_INFINITY).unwrap();
    let samples = demuxer.samples(track).unwrap();
    let packets = reference["packets"].as_array().unwrap();
    let truncated = reference["container"]["truncated"].as_bool() == Some(true);
    if truncated {
        assert!(samples.len() >= packets.len(), "{name}: lost survivors");
    } else {
        assert_eq!(samples.len(), packets.len(), "{name}: sample count");
    }
    for (i, (ours, theirs)) in samples.iter().zip(packets).enumerate() {
        let theirs = (
            theirs["pts_ticks"].as_i64().unwrap(),
            theirs["key"].as_i64() == Some(1),
            theirs["size"].as_u64().unwrap() as u32,
        );
        assert_eq!(
            (ours.pts, ours.sync, ours.size),
            theirs,
            "{name}: packet {i}"
        );
        assert!(ours.presented);
    }
    let mut ours: Vec<i64> = samples.iter().map(|s| s.pts).collect();
    ours.sort_unstable();
    let frames: Vec<i64> = reference["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["pts_ticks"].as_i64().unwrap())
        .collect();
    if truncated {
        assert_eq!(&ours[..frames.len()], &frames[..], "{name}: frame times");
    } else {
        assert_eq!(ours, frames, "{name}: frame times");
    }
    // Decode times: synthesized, never after the frame shows, never going back.
    assert!(
        samples.windows(2).all(|w| w[0].dts <= w[1].dts),
        "{name}: dts order"
    );
    assert!(
        samples.iter().all(|s| s.dts <= s.pts),
        "{name}: dts after pts"
    );
}

macro_rules! ffmpeg_tests {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(#[test] fn $test() { check_against_ffmpeg($file); })*
    };
}

ffmpeg_tests! {
    baseline => "baseline.mkv",
    bframes => "bframes.mkv",
    mkvmerge => "mkvmerge.mkv",
    blockgroups => "blockgroups.mkv",
    nocues => "nocues.mkv",
    unknown_size => "unknown_size.mkv",
    vfr => "vfr.mkv",
    odd_size => "odd_size.mkv",
    props => "props.mkv",
    truncated => "truncated.mkv",
    truncated_cues => "truncated_cues.mkv",
    av1_webm => "av1.webm",
    long => "long.mkv",
}

#[test]
fn container_kind_follows_the_doctype() {
    assert_eq!(open("av1.webm").container(), ContainerKind::WebM);
    assert_eq!(open("baseline.mkv").container(), ContainerKind::Matroska);
}

#[test]
fn codecs_and_their_configuration() {
    let demuxer = open("bframes.mkv");
    let names: Vec<&str> = demuxer.tracks().iter().map(|t| t.codec.name()).collect();
    assert_eq!(names, ["h264", "aac"]);
    let avcc = &demuxer.tracks()[0].codec_config;
    assert_eq!(avcc.first(), Some(&1), "CodecPrivate is the avcC record");
    let av1 = open("av1.webm");
    assert_eq!(av1.tracks()[0].codec.name(), "av1");
    // av1C: marker and version byte 0x81.
    assert_eq!(av1.tracks()[0].codec_config.first(), Some(&0x81));
    assert_eq!(av1.tracks()[0].timescale.get(), 1000);
}

#[test]
fn display_size_crop_colour_and_roll_match_ffprobe() {
    let demuxer = open("props.mkv");
    let video = demuxer.tracks()[0].video.clone().unwrap();
    let reference = reference("props.mkv");
    // ffprobe: SAR 3:2, rotation +90 counter-clockwise, smpte170m, full range.
    assert_eq!(reference["video"]["sample_aspect_ratio"], "3:2");
    let aspect = video.pixel_aspect.unwrap();
    assert_eq!((aspect.horizontal, aspect.vertical), (3, 2));
    assert_eq!(reference["video"]["rotation"], 90);
    assert_eq!(video.orientation.rotation, 270, "ours is clockwise");
    assert!(!video.orientation.mirrored);
    assert_eq!(
        (
            video.colour.matrix,
            video.colour.transfer,
            video.colour.primaries
        ),
        (6, 6, 6)
    );
    assert_eq!(video.colour.full_range, Some(true));
    // mkvmerge --cropping 8,4,16,12 (left, top, right, bottom) on 320x240.
    let aperture = video.clean_aperture.unwrap();
    assert_eq!(aperture.width.numerator, 320 - 8 - 16);
    assert_eq!(aperture.height.numerator, 240 - 4 - 12);
    assert_eq!(
        (
            aperture.horizontal_offset.numerator,
            aperture.horizontal_offset.denominator
        ),
        (-8, 2)
    );
    assert_eq!(
        (
            aperture.vertical_offset.numerator,
            aperture.vertical_offset.denominator
        ),
        (-8, 2)
    );
}

#[test]
fn plain_files_state_no_aspect_crop_or_rotation() {
    let video = open("baseline.mkv").tracks()[0].video.clone().unwrap();
    assert_eq!((video.width, video.height), (320, 240));
    assert_eq!(video.pixel_aspect, None);
    assert_eq!(video.clean_aperture, None);
    assert_eq!(video.orientation.rotation, 0);
}

#[test]
fn duration_comes_from_segment_info() {
    let demuxer = open("baseline.mkv");
    let ffmpeg: f64 = reference("baseline.mkv")["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let ours = demuxer.duration().unwrap().as_secs_f64();
    assert!((ours - ffmpeg).abs() < 1e-6, "{ours} vs {ffmpeg}");
}

#[test]
fn cues_are_read_with_their_cluster_offsets() {
    let demuxer = open("long.mkv");
    assert!(demuxer.uses_cues());
    let cues = demuxer.cue_points();
    assert_eq!(cues.len(), 60);
    // One keyframe a second, each in its own cluster.
    for (i, cue) in cues.iter().enumerate() {
        assert_eq!(cue.time, i as i64 * 1000);
        assert_eq!(cue.track, 1);
    }
    assert!(cues
        .windows(2)
        .all(|w| w[0].cluster_offset < w[1].cluster_offset));
    assert!(!open("nocues.mkv").uses_cues());
    assert!(!open("unknown_size.mkv").uses_cues());
}

#[test]
fn opening_reads_no_cluster() {
    let demuxer = open("long.mkv");
    assert!(demuxer.samples(0).unwrap().is_empty());
}

#[test]
fn a_request_indexes_around_its_time_only() {
    let mut demuxer = open("long.mkv");
    demuxer.index_until(0, Time::from_secs(30)).unwrap();
    let samples = demuxer.samples(0).unwrap();
    // The span of the cue at 30 s and the next one (for the keyframe after 30 s).
    let times: Vec<i64> = samples.iter().map(|s| s.pts).collect();
    assert_eq!(times.first(), Some(&30_000));
    assert_eq!(times.len(), 20, "{times:?}");
    assert!(samples[0].sync && samples[10].sync);
    // An earlier request appends its own span, a run starting at a keyframe.
    demuxer.index_until(0, Time::new(55, 10).unwrap()).unwrap();
    let samples = demuxer.samples(0).unwrap();
    assert_eq!(samples[20].pts, 5_000);
    assert!(samples[20].sync);
    // Indexing everything keeps the samples already handed out in place.
    let before: Vec<_> = samples.to_vec();
    assert!(demuxer.index_until(0, Time::POSITIVE_INFINITY).unwrap());
    let samples = demuxer.samples(0).unwrap();
    assert_eq!(&samples[..before.len()], &before[..]);
    assert_eq!(samples.len(), 600);
    let mut times: Vec<i64> = samples.iter().map(|s| s.pts).collect();
    times.sort_unstable();
    times.dedup();
    assert_eq!(times.len(), 600, "no frame indexed twice");
}

#[test]
fn scanning_stops_at_the_keyframe_after_the_request() {
    let mut demuxer = open("nocues.mkv");
    assert!(!demuxer.index_until(0, Time::new(15, 10).unwrap()).unwrap());
    let samples = demuxer.samples(0).unwrap();
    // Keyframes every second (mkvmerge starts at 21 ms), one cluster each: the
    // clusters of the keyframes at 0.021 s and 1.021 s, then the one at 2.021 s.
    assert!(samples.iter().any(|s| s.sync && s.pts == 2021));
    assert!(samples.iter().all(|s| s.pts < 3021), "read too far");
    assert!(demuxer.index_until(0, Time::POSITIVE_INFINITY).unwrap());
    assert_eq!(demuxer.samples(0).unwrap().len(), 100);
}

#[test]
fn laced_audio_frames_are_separate_samples() {
    let mut demuxer = open("mkvmerge.mkv");
    let audio = 1;
    assert_eq!(demuxer.tracks()[audio].kind, TrackKind::Audio);
    demuxer.index_until(audio, Time::POSITIVE_INFINITY).unwrap();
    let samples = demuxer.samples(audio).unwrap();
    // 4 s of AAC at 48 kHz: 1024 samples a frame, 187.5 frames (ffmpeg's encoder
    // adds priming): well over the 24 laced blocks.
    assert!(samples.len() > 180, "{} audio samples", samples.len());
    assert!(samples
        .windows(2)
        .all(|w| w[0].offset + u64::from(w[0].size) <= w[1].offset));
    let size = samples[5].size as usize;
    let packet = demuxer.read_sample(audio, 5).unwrap();
    assert_eq!(packet.data.len(), size);
}

#[test]
fn truncation_serves_what_survived_and_names_what_did_not() {
    for name in ["truncated.mkv", "truncated_cues.mkv"] {
        let mut demuxer = open(name);
        let last_survivor = reference(name)["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["pts_ticks"].as_i64().unwrap())
            .max()
            .unwrap();
        let survivor = Time::new(last_survivor, 1000).unwrap();
        assert!(
            !demuxer.index_until(0, survivor).unwrap(),
            "{name}: never complete"
        );
        let lost = demuxer
            .index_until(0, Time::new(28, 10).unwrap())
            .unwrap_err();
        assert_eq!(lost.kind(), ErrorKind::Truncated, "{name}: {lost}");
        // Indexing everything still works and keeps the survivors.
        assert!(!demuxer.index_until(0, Time::POSITIVE_INFINITY).unwrap());
        let count = demuxer.samples(0).unwrap().len();
        assert!(count >= 45, "{name}: {count}");
        let packet = demuxer.read_sample(0, count as u32 - 1).unwrap();
        assert!(!packet.data.is_empty());
    }
}
