//! Every input that once crashed, hung or exhausted memory, run again: it must open or
//! fail with a typed error, and a few requests on it must come back (an image or a
//! typed error), without a panic and in bounded time.
//!
//! The inputs live in `tests/regression/<format>/<kind>-<hash>.<ext>`, `<kind>` being
//! `crash`, `timeout` or `oom` as libFuzzer names its findings and `<hash>` the SHA-1
//! libFuzzer named the input by (or the file's own for inputs found otherwise);
//! `tests/regression/README.md` says what each reproduced and which fix it checks.
//! - `mp4/`, `mkv/`: media files, through `Asset` and `ImageGenerator`;
//! - `h264/`, `av1/`: packet streams in the `h264_packets` / `av1_packets` fuzz
//!   layout (`fuzz/input/src/lib.rs`), through the H.264 / AV1 decoder;
//! - `planner/`: planner inputs in the `planner` fuzz layout, through the index and
//!   both planners;
//! - `time/`: text for `Time::from_str`, which must print back to itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../fuzz/input/src/lib.rs"]
mod fuzz_input;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use stillframe::{
    Asset, ErrorKind, GeneratorOptions, ImageGenerator, Limits, MaximumSize, Time, Tolerance,
};
use stillframe_core::{Demuxer, Packet, PacketInspector, SampleInfo, TrackInfo, VideoDecoder};

/// How long one input may take, all of its requests included.
const PER_FILE: Duration = Duration::from_secs(20);

fn regression_files(format: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regression")
        .join(format);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| {
                    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        ["crash-", "timeout-", "oom-", "leak-"]
                            .iter()
                            .any(|kind| n.starts_with(kind))
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs `check` on every file of `format`, naming each first (so an abort names it).
/// Each runs on its own thread, so an input that hangs again fails the test after
/// [`PER_FILE`] instead of stopping it (the stuck thread ends with the process).
fn each(format: &str, check: impl Fn(&Path, Vec<u8>) + Send + Sync + 'static) {
    let check = std::sync::Arc::new(check);
    for path in regression_files(format) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        eprintln!("{format}/{name}");
        let bytes = std::fs::read(&path).unwrap();
        let start = Instant::now();
        let (done, finished) = std::sync::mpsc::channel();
        let worker = {
            let check = std::sync::Arc::clone(&check);
            let path = path.clone();
            std::thread::spawn(move || {
                check(&path, bytes);
                let _ = done.send(());
            })
        };
        match finished.recv_timeout(PER_FILE) {
            Ok(()) => worker.join().unwrap(),
            // The sender was dropped without a send: the check panicked.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(panic) = worker.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("{format}/{name} did not finish in {PER_FILE:?}")
            }
        }
        let elapsed = start.elapsed();
        assert!(elapsed < PER_FILE, "{format}/{name} took {elapsed:?}");
    }
}

/// A typed error: anything but a panic is typed, but "cancelled" would be a lie here.
fn assert_typed(what: &str, error: &stillframe::Error) {
    assert_ne!(error.kind(), ErrorKind::Cancelled, "{what}: {error}");
}

/// Opens a media file as a user would and asks for a few images.
fn grab(path: &Path, bytes: Vec<u8>) {
    let what = path.display().to_string();
    let mut asset = match Asset::from_reader(Cursor::new(bytes)) {
        Ok(asset) => asset,
        Err(error) => return assert_typed(&what, &error),
    };
    if let Err(error) = asset.index_fully() {
        assert_typed(&what, &error);
    }
    let end = asset.info().duration.unwrap_or(Time::from_secs(1));
    for (tolerance, maximum_size) in [
        (Tolerance::ZERO, MaximumSize::UNBOUNDED),
        (
            Tolerance::INFINITE,
            MaximumSize {
                width: 64,
                height: 64,
            },
        ),
    ] {
        let Ok(reopened) = Asset::from_reader(Cursor::new(std::fs::read(path).unwrap())) else {
            return;
        };
        let options = GeneratorOptions {
            tolerance,
            maximum_size,
            threads: 2,
            ..GeneratorOptions::default()
        };
        let generator = match ImageGenerator::new(reopened, options) {
            Ok(generator) => generator,
            Err(error) => return assert_typed(&what, &error),
        };
        let half = Time::new(
            end.ticks().map_or(0, |(v, _)| v / 2),
            end.ticks().map_or(1, |(_, t)| t.get()),
        )
        .unwrap_or(Time::ZERO);
        let times = [Time::ZERO, half, end, Time::from_millis(-40)];
        for &time in &times {
            if let Err(error) = generator.image_at(time) {
                assert_typed(&what, &error);
            }
        }
        for outcome in generator.images_at(&times) {
            if let Err(error) = outcome {
                assert_typed(&what, &error);
            }
        }
    }
}

#[test]
fn mp4_regressions_open_or_fail_typed() {
    each("mp4", grab);
}

#[test]
fn matroska_regressions_open_or_fail_typed() {
    each("mkv", grab);
}

#[test]
fn time_regressions_print_back_to_themselves() {
    each("time", |path, bytes| {
        let input = fuzz_input::parse_time(&bytes);
        let text = String::from_utf8_lossy(input.text);
        if let Ok(time) = text.parse::<Time>() {
            let printed = time.to_string();
            assert_eq!(printed.parse::<Time>(), Ok(time), "{}", path.display());
        }
        let times: Vec<Time> = [
            (input.a_value, input.a_timescale),
            (input.b_value, input.b_timescale),
        ]
        .into_iter()
        .filter_map(|(value, timescale)| Time::new(value, timescale))
        .collect();
        for &time in &times {
            assert_eq!(
                time.to_string().parse::<Time>(),
                Ok(time),
                "{}",
                path.display()
            );
            for &other in &times {
                // A tolerance window always holds the time it is made around.
                let reach = other.distance(time);
                if let Some(tolerance) = Tolerance::new(reach, reach) {
                    let (low, high) = tolerance.window(time);
                    assert!(low <= time && time <= high, "{}", path.display());
                }
            }
        }
    });
}

/// The first video track of `tests/fixtures/<name>`.
fn fixture_track(name: &str) -> TrackInfo {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let bytes = std::fs::read(&path).unwrap();
    let demuxer = stillframe_mp4::Mp4Demuxer::open(Cursor::new(bytes), Limits::default()).unwrap();
    demuxer
        .tracks()
        .iter()
        .find(|track| track.video.is_some())
        .cloned()
        .unwrap()
}

/// Feeds a packet stream to `decoder` as the fuzz target does.
fn drive(
    decoder: &mut dyn VideoDecoder,
    inspector: Option<&dyn PacketInspector>,
    packets: &[fuzz_input::RawPacket<'_>],
) {
    let mut needs_reset = false;
    for (number, raw) in packets.iter().enumerate() {
        let packet = Packet {
            data: raw.data.to_vec(),
            sample: number as u32,
            pts: raw.pts,
            dts: number as i64,
            sync: raw.flags & fuzz_input::SYNC != 0,
            description: 0,
        };
        if let Some(inspector) = inspector {
            let _ = inspector.inspect(&packet);
        }
        if raw.flags & fuzz_input::RESET_BEFORE != 0 || needs_reset {
            decoder.reset().unwrap();
            needs_reset = false;
        }
        if decoder.send_packet(&packet).is_err() {
            needs_reset = true;
            continue;
        }
        while let Ok(Some(_)) = decoder.receive_frame() {}
        if raw.flags & fuzz_input::FINISH_AFTER != 0 {
            let _ = decoder.finish();
            while let Ok(Some(_)) = decoder.receive_frame() {}
            needs_reset = true;
        }
    }
    if !needs_reset && decoder.finish().is_ok() {
        while let Ok(Some(_)) = decoder.receive_frame() {}
    }
}

/// Runs every packet stream of `format` (the decoder targets' layout) through the
/// decoder `open` makes, configured as the fuzz target configures it.
fn each_packet_stream<D: VideoDecoder + 'static>(
    format: &str,
    fixtures: &[&str],
    open: fn(&TrackInfo, &Limits) -> stillframe::Result<D>,
) {
    let tracks: Vec<TrackInfo> = fixtures.iter().map(|name| fixture_track(name)).collect();
    each(format, move |_, bytes| {
        let stream = fuzz_input::parse_packets(&bytes);
        let track = match stream.config {
            fuzz_input::Config::Builtin(n) => tracks[usize::from(n) % tracks.len()].clone(),
            fuzz_input::Config::Custom(record) => TrackInfo {
                codec_config: record.to_vec(),
                ..tracks[0].clone()
            },
        };
        let limits = Limits {
            max_pixels: 1 << 22,
            ..Limits::default()
        };
        let inspector = stillframe_bitstream::inspector_for(&track).ok();
        if let Ok(mut decoder) = open(&track, &limits) {
            drive(&mut decoder, inspector.as_deref(), &stream.packets);
        }
    });
}

#[test]
fn h264_packet_regressions_decode_or_fail_typed() {
    each_packet_stream(
        "h264",
        &fuzz_input::H264_CONFIG_FIXTURES,
        stillframe_h264::H264Decoder::new,
    );
}

#[test]
fn av1_packet_regressions_decode_or_fail_typed() {
    each_packet_stream(
        "av1",
        &fuzz_input::AV1_CONFIG_FIXTURES,
        stillframe_av1::Av1Decoder::new,
    );
}

#[test]
fn planner_regressions_plan_or_fail_typed() {
    each("planner", |path, bytes| {
        let input = fuzz_input::parse_planner(&bytes);
        let samples: Vec<SampleInfo> = input
            .samples
            .iter()
            .map(fuzz_input::RawSample::sample_info)
            .collect();
        let timescale =
            std::num::NonZeroU32::new(input.timescale).unwrap_or(std::num::NonZeroU32::MIN);
        let index = stillframe_seek::FrameIndex::new(&samples, timescale);
        index.sanity_check().unwrap();
        let time = |raw: fuzz_input::RawTime| match raw.kind {
            1 => Some(Time::POSITIVE_INFINITY),
            2 => Some(Time::NEGATIVE_INFINITY),
            _ => Time::new(raw.value, raw.timescale),
        };
        let targets: Vec<stillframe_seek::Target> = input
            .requests
            .iter()
            .filter_map(|r| {
                let tolerance = Tolerance::new(time(r.before)?, time(r.after)?)?;
                Some(stillframe_seek::Target::Time(time(r.time)?, tolerance))
            })
            .collect();
        for target in &targets {
            let stillframe_seek::Target::Time(requested, tolerance) = *target else {
                continue;
            };
            if let Err(error) = stillframe_seek::choose(&index, requested, tolerance) {
                assert_eq!(error.kind(), ErrorKind::OutOfRange, "{}", path.display());
            }
        }
        let planned = stillframe_seek::plan(&index, &targets);
        assert_eq!(planned.assignments.len(), targets.len());
    });
}

/// The MP4 demuxer directly, as the `mp4_demux` fuzz target drives it: every sample
/// read. (Matroska files are indexed whole through `Asset::index_fully` in `grab`;
/// this package has no direct dependency on stillframe-mkv.)
#[test]
fn mp4_regressions_read_every_sample_or_fail_typed() {
    each("mp4", |path, bytes| {
        let Ok(mut demuxer) =
            stillframe_mp4::Mp4Demuxer::open(Cursor::new(bytes), Limits::default())
        else {
            return;
        };
        for track in 0..demuxer.tracks().len() {
            let count = demuxer.samples(track).map_or(0, <[_]>::len);
            for sample in 0..count.min(4096) {
                if let Err(error) = demuxer.read_sample(track, sample as u32) {
                    assert_typed(&path.display().to_string(), &error);
                }
            }
        }
    });
}
