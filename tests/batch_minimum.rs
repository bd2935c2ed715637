//! A batch decodes exactly the minimum number of samples, computed here independently of
//! the planner: for each wanted frame, the samples from its group's keyframe through it,
//! less the non-reference frames nobody wants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use stillframe::{GeneratorOptions, ImageGenerator, Time, Tolerance};
use stillframe_core::{Demuxer, Limits, SampleInfo};
use stillframe_mp4::Mp4Demuxer;

struct Track {
    samples: Vec<SampleInfo>,
    /// No other frame refers to it (every slice has nal_ref_idc 0).
    discardable: Vec<bool>,
    timescale: u32,
}

fn load(file: &str) -> Track {
    load_path(&common::fixture(file))
}

fn load_path(path: &Path) -> Track {
    let mut demuxer = Mp4Demuxer::open(File::open(path).unwrap(), Limits::default()).unwrap();
    let track = demuxer
        .tracks()
        .iter()
        .find(|t| t.video.is_some())
        .unwrap()
        .clone();
    let samples = demuxer.samples(track.index).unwrap().to_vec();
    let discardable = (0..samples.len() as u32)
        .map(|i| {
            let packet = demuxer.read_sample(track.index, i).unwrap();
            let units = stillframe_h264::split_nal_units(&packet.data, 4).unwrap();
            units
                .iter()
                .filter(|u| stillframe_h264::is_vcl(u))
                .all(|u| stillframe_h264::nal_ref_idc(u) == Some(0))
        })
        .collect();
    Track {
        samples,
        discardable,
        timescale: track.timescale.get(),
    }
}

/// The sample on screen at `time`: the presented one with the greatest pts ≤ time.
fn on_screen(track: &Track, time: Time) -> usize {
    (0..track.samples.len())
        .filter(|&i| track.samples[i].presented)
        .filter(|&i| Time::new(track.samples[i].pts, track.timescale).unwrap() <= time)
        .max_by_key(|&i| track.samples[i].pts)
        .unwrap()
}

fn minimum_for(track: &Track, targets: &BTreeSet<usize>) -> u64 {
    let mut needed = BTreeSet::new();
    for &target in targets {
        let start = (0..=target).rev().find(|&i| track.samples[i].sync).unwrap();
        for sample in start..=target {
            if targets.contains(&sample) || !track.discardable[sample] {
                needed.insert(sample);
            }
        }
    }
    needed.len() as u64
}

fn exact_batch_decodes_the_minimum(file: &str, times: &[Time]) {
    exact_batch_at_path_decodes_the_minimum(&common::fixture(file), times);
}

fn exact_batch_at_path_decodes_the_minimum(path: &Path, times: &[Time]) {
    let file = path.display();
    let track = load_path(path);
    assert!(
        track.discardable.iter().any(|&d| d),
        "{file} should have non-reference frames"
    );
    let targets: BTreeSet<usize> = times.iter().map(|&t| on_screen(&track, t)).collect();
    let minimum = minimum_for(&track, &targets);
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..GeneratorOptions::default()
    };
    let generator = ImageGenerator::open(path, options).unwrap();
    let results = generator.images_at(times);
    let mut decoded = 0;
    for (time, result) in times.iter().zip(&results) {
        let made = result.as_ref().unwrap();
        let expected = &track.samples[on_screen(&track, *time)];
        assert_eq!(
            made.actual,
            Time::new(expected.pts, track.timescale).unwrap()
        );
        decoded += made.frames_decoded;
    }
    assert_eq!(
        decoded, minimum,
        "{file}: decoded {decoded}, minimum {minimum}"
    );
    assert_eq!(generator.frames_decoded(), minimum);
    eprintln!(
        "{file}: {} requests, {decoded} samples decoded of {}",
        times.len(),
        track.samples.len()
    );
}

#[test]
fn exact_times_spread_over_the_file() {
    let times: Vec<Time> = (0..10)
        .map(|i| Time::new(i * 49 + 3, 100).unwrap())
        .collect();
    exact_batch_decodes_the_minimum("high_bframes.mp4", &times);
}

#[test]
fn exact_times_clustered_in_one_group_with_duplicates() {
    let times: Vec<Time> = [1.0, 1.5, 0.2, 1.5, 1.96, 0.04]
        .iter()
        .map(|&s| Time::new((s * 100.0) as i64, 100).unwrap())
        .collect();
    exact_batch_decodes_the_minimum("high_bframes.mp4", &times);
}

#[test]
fn default_tolerance_thumbnails_cost_one_keyframe_each() {
    let file = "high_bframes.mp4";
    let track = load(file);
    let keyframes: BTreeSet<i64> = track
        .samples
        .iter()
        .filter(|s| s.sync)
        .map(|s| s.pts)
        .collect();
    let generator =
        ImageGenerator::open(common::fixture(file), GeneratorOptions::default()).unwrap();
    let times: Vec<Time> = (0..5).map(Time::from_secs).collect();
    let results = generator.images_at(&times);
    let mut actual = BTreeSet::new();
    for result in &results {
        let made = result.as_ref().unwrap();
        let (ticks, scale) = made.actual.ticks().unwrap();
        assert_eq!(scale.get(), track.timescale);
        assert!(
            keyframes.contains(&ticks),
            "{} is not a keyframe",
            made.actual
        );
        actual.insert(ticks);
    }
    // Each distinct keyframe is decoded once, and nothing else.
    assert_eq!(generator.frames_decoded(), actual.len() as u64);
    assert_eq!(actual.len(), keyframes.len());
}

/// The benchmark jobs of `benches/compare.sh` decode the minimum too. Needs the large
/// file from `tests/fixtures/make.sh --bench` (or `STILLFRAME_BENCH_FILE`).
#[test]
#[ignore = "needs the benchmark file made by tests/fixtures/make.sh --bench"]
fn benchmark_jobs_decode_the_minimum() {
    let path = std::env::var_os("STILLFRAME_BENCH_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::fixture("bench/bench_1080p.mp4"));
    if !path.exists() {
        panic!(
            "{} is missing: run tests/fixtures/make.sh --bench",
            path.display()
        );
    }
    let track = load_path(&path);
    let end = track
        .samples
        .iter()
        .map(|s| s.pts + i64::from(s.duration))
        .max()
        .unwrap();
    let duration = Time::new(end, track.timescale).unwrap();
    // Job (b): ten exact times at the middle of each tenth, as compare.sh asks.
    let tenths: Vec<Time> = (0..10)
        .map(|i| {
            let millis = (duration.as_secs_f64() * 1000.0 * (i as f64 + 0.5) / 10.0).round() as i64;
            Time::from_millis(millis)
        })
        .collect();
    exact_batch_at_path_decodes_the_minimum(&path, &tenths);
    // Job (c): one image every 10 s with the default tolerance costs one sample each.
    let generator = ImageGenerator::open(&path, GeneratorOptions::default()).unwrap();
    let times: Vec<Time> = (0..)
        .map(|i| Time::from_secs(i * 10))
        .take_while(|&t| t < duration)
        .collect();
    let results = generator.images_at(&times);
    let distinct: BTreeSet<Time> = results.iter().map(|r| r.as_ref().unwrap().actual).collect();
    assert_eq!(generator.frames_decoded(), distinct.len() as u64);
    eprintln!(
        "every 10 s: {} images from {} decoded samples",
        times.len(),
        generator.frames_decoded()
    );
}
