//! Matroska and WebM end to end, against ffmpeg's reference in `tests/fixtures/mkv`:
//! every frame's timestamp, the exact planner's choice at, before and between every
//! frame, decoded pictures, truncation, and how little a late seek reads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use stillframe::{
    Asset, ContainerKind, ErrorKind, GeneratorOptions, ImageGenerator, Time, Tolerance,
};

fn path(file: &str) -> std::path::PathBuf {
    common::fixture(&format!("mkv/{file}"))
}

/// ffmpeg's view of a Matroska fixture (`tests/fixtures/mkv/reference/<file>.json`).
fn reference(file: &str) -> common::Reference {
    common::reference(&format!("mkv/{file}"))
}

fn indexed(file: &str) -> Asset {
    common::indexed(&format!("mkv/{file}"))
}

fn exact_generator(file: &str) -> ImageGenerator {
    common::exact_generator(&format!("mkv/{file}"))
}

fn assert_timestamps_match(file: &str) {
    common::assert_timestamps_match(&format!("mkv/{file}"));
}

fn assert_planner_matches(file: &str) {
    common::assert_planner_matches(&format!("mkv/{file}"));
}

/// Every reference frame through the generator: (bit-exact frames, frames).
fn decode_every_frame(file: &str) -> (usize, usize) {
    let (exact, total, _) = common::decode_every_frame(&format!("mkv/{file}"));
    (exact, total)
}

macro_rules! mkv_tests {
    ($($name:ident => $file:literal),* $(,)?) => {
        mod timestamps {
            $(#[test] fn $name() { super::assert_timestamps_match($file); })*
        }
        mod planner {
            $(#[test] fn $name() { super::assert_planner_matches($file); })*
        }
    };
}

mkv_tests! {
    baseline => "baseline.mkv",
    bframes => "bframes.mkv",
    mkvmerge => "mkvmerge.mkv",
    blockgroups => "blockgroups.mkv",
    nocues => "nocues.mkv",
    unknown_size => "unknown_size.mkv",
    vfr => "vfr.mkv",
    odd_size => "odd_size.mkv",
    props => "props.mkv",
    av1_webm => "av1.webm",
    long => "long.mkv",
}

/// Streams without B-frames decode to ffmpeg's pictures exactly.
macro_rules! bit_exact_tests {
    ($($name:ident => $file:literal),* $(,)?) => {
        mod bit_exact {
            $(#[test] fn $name() {
                let (exact, total) = super::decode_every_frame($file);
                assert_eq!(exact, total, "{}: only {exact} of {total} frames bit-exact", $file);
            })*
        }
    };
}

bit_exact_tests! {
    baseline => "baseline.mkv",
    vfr => "vfr.mkv",
    odd_size => "odd_size.mkv",
    av1_webm => "av1.webm",
}

/// B-frame streams: OpenH264 drifts from ffmpeg's pixels (cisco/openh264 #3269), so
/// the right frame is asserted (by time) and bit-exactness is only reported.
macro_rules! right_frame_tests {
    ($($name:ident => $file:literal),* $(,)?) => {
        mod right_frame {
            $(#[test] fn $name() {
                let (exact, total) = super::decode_every_frame($file);
                eprintln!("{}: {exact}/{total} frames bit-exact", $file);
            })*
        }
    };
}

right_frame_tests! {
    // No B-frames, but its Colour says full range while the SPS does not: ffmpeg
    // converts the pictures to full range (swscale), so its hashes are not the
    // decoded planes.
    props => "props.mkv",
    bframes => "bframes.mkv",
    mkvmerge => "mkvmerge.mkv",
    blockgroups => "blockgroups.mkv",
    nocues => "nocues.mkv",
    unknown_size => "unknown_size.mkv",
}

#[test]
fn container_names_follow_the_doctype() {
    assert_eq!(
        indexed("baseline.mkv").info().container,
        ContainerKind::Matroska
    );
    assert_eq!(indexed("av1.webm").info().container, ContainerKind::WebM);
    assert_eq!(ContainerKind::WebM.name(), "webm");
    let info = indexed("bframes.mkv").info().clone();
    assert_eq!(info.tracks[0].frames, 100);
    assert_eq!(info.tracks[0].keyframes, 4);
}

#[test]
fn requests_in_any_order_give_ffmpegs_pictures() {
    // Backwards, then forwards again: each jump reads a new span of the Cues, appended
    // after the ones read before; the pictures must not depend on that order.
    let file = "long.mkv";
    let reference = reference(file);
    let generator = exact_generator(file);
    let picks: Vec<usize> = (0..reference.frames.len()).rev().step_by(37).collect();
    for &i in picks.iter().chain(picks.iter().rev()) {
        let expected = &reference.frames[i];
        let made = generator.frame_at(expected.pts).unwrap();
        assert_eq!(made.actual, expected.pts, "frame {i}");
        assert_eq!(common::frame_md5(&made.frame), expected.md5, "frame {i}");
    }
}

#[test]
fn backward_requests_across_b_frame_spans_find_the_right_frames() {
    // bframes.mkv: 4 Cues spans of 25 frames with B-frame reordering. Going backwards
    // appends each span after later ones; the last frames of a GOP (in presentation
    // order) are decoded with the next run's IDR following them in the slice.
    let file = "bframes.mkv";
    let reference = reference(file);
    let backward = exact_generator(file);
    // The same frames from an index built in file order, for the pixels.
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..GeneratorOptions::default()
    };
    let in_order = ImageGenerator::new(indexed(file), options).unwrap();
    for i in [99, 74, 49, 24, 98, 73, 48, 23, 0, 50, 26, 76] {
        let expected = &reference.frames[i];
        let made = backward.frame_at(expected.pts).unwrap();
        assert_eq!(made.actual, expected.pts, "frame {i}");
        let same = in_order.frame_at(expected.pts).unwrap();
        assert_eq!(
            common::frame_md5(&made.frame),
            common::frame_md5(&same.frame),
            "frame {i} depends on the request order"
        );
    }
}

#[test]
fn tolerant_requests_take_a_nearby_keyframe() {
    let file = "long.mkv";
    let generator = ImageGenerator::open(path(file), GeneratorOptions::default()).unwrap();
    // Keyframes every second; 41.6 s with infinite tolerance costs one frame: the 42 s one.
    let made = generator.image_at(Time::new(416, 10).unwrap()).unwrap();
    assert_eq!(made.actual, Time::from_secs(42));
    assert_eq!(generator.frames_decoded(), 1);
}

/// A `Read + Seek` that counts the bytes it hands out.
struct Counting {
    file: File,
    read: Arc<AtomicU64>,
}

impl Read for Counting {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buffer)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Seek for Counting {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.file.seek(to)
    }
}

#[test]
fn a_seek_to_the_last_second_reads_about_one_cluster() {
    let file = "long.mkv";
    let file_len = std::fs::metadata(path(file)).unwrap().len();
    let read = Arc::new(AtomicU64::new(0));
    let counting = Counting {
        file: File::open(path(file)).unwrap(),
        read: Arc::clone(&read),
    };
    let asset = Asset::from_reader(counting).unwrap();
    let opened = read.load(Ordering::Relaxed);
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..GeneratorOptions::default()
    };
    let generator = ImageGenerator::new(asset, options).unwrap();
    let reference = reference(file);
    let expected = &reference.frames[595]; // 59.5 s
    let made = generator.frame_at(expected.pts).unwrap();
    assert_eq!(made.actual, expected.pts);
    assert_eq!(common::frame_md5(&made.frame), expected.md5);
    let total = read.load(Ordering::Relaxed);
    // 60 clusters of ~7.7 KB. Opening reads the header window and the Cues; the seek
    // reads the last cluster through one 16 KiB read-ahead window, plus the samples.
    let cluster = file_len / 60;
    eprintln!("{file}: {file_len} bytes; open read {opened}, open + seek read {total}");
    assert!(opened < 40_000, "opening read {opened} bytes");
    assert!(
        total - opened < 2 * cluster + 16_384,
        "the seek read {} bytes",
        total - opened
    );
    assert!(total < file_len / 8, "read {total} of {file_len} bytes");
}

#[test]
fn truncated_files_serve_what_survived_and_fail_clearly_after() {
    for file in ["truncated.mkv", "truncated_cues.mkv"] {
        let reference = reference(file);
        let generator = exact_generator(file);
        let survivor = reference.frames.last().unwrap();
        let made = generator.frame_at(survivor.pts).unwrap();
        assert_eq!(common::frame_md5(&made.frame), survivor.md5, "{file}");
        let lost = generator.frame_at(Time::new(28, 10).unwrap()).unwrap_err();
        assert_eq!(lost.kind(), ErrorKind::Truncated, "{file}: {lost}");
        // One failed request does not poison the generator.
        let first = &reference.frames[0];
        let again = generator.frame_at(first.pts).unwrap();
        assert_eq!(common::frame_md5(&again.frame), first.md5, "{file}");
    }
}

#[test]
fn times_past_the_end_fail_unless_tolerance_allows() {
    let file = "baseline.mkv";
    let generator = exact_generator(file);
    let error = generator.image_at(Time::from_secs(3)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutOfRange, "{error}");
    // The last frame (2.96 s) lasts its DefaultDuration of 40 ms.
    let last = generator.image_at(Time::new(2999, 1000).unwrap()).unwrap();
    assert_eq!(last.actual, Time::new(296, 100).unwrap());
    let lenient = ImageGenerator::open(path(file), GeneratorOptions::default()).unwrap();
    assert!(lenient.image_at(Time::from_secs(60)).is_ok());
}

/// With Cues, `index_until(T)` reads only the span around `T`, so a batch must index
/// around every requested time, not only the latest.
#[test]
fn batches_get_the_frames_single_requests_get() {
    let file = "long.mkv";
    let reference = reference(file);
    let picks = [50usize, 300, 595, 10];
    let times: Vec<Time> = picks.iter().map(|&i| reference.frames[i].pts).collect();
    let results = exact_generator(file).images_at(&times);
    for (&i, result) in picks.iter().zip(results) {
        let made = result.unwrap();
        assert_eq!(made.actual, reference.frames[i].pts, "frame {i}");
    }
}
