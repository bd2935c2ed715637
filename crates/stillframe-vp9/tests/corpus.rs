//! The VP9 files of the shared corpus against ffmpeg's reference, frame by frame.
//!
//! ```text
//! STILLFRAME_CORPUS=/work/shared/corpus cargo test -p stillframe-vp9 --release \
//!     --test corpus -- --ignored --nocapture
//! ```
//! Reads `MANIFEST.tsv` for the files whose first video track is VP9, decodes every
//! packet in decode order (resetting after an error, as the call protocol asks),
//! and matches each frame to ffmpeg's by timestamp. Prints one line per file:
//! frames exact, differing, missing (in ffmpeg's output, not in ours), extra, and
//! errors by kind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use stillframe_core::{Demuxer, Frame, Limits, Time, TrackKind, VideoDecoder};
use stillframe_vp9::Vp9Decoder;

#[derive(Debug, Default)]
struct Tally {
    exact: usize,
    differing: usize,
    missing: usize,
    extra: usize,
    errors: BTreeMap<&'static str, usize>,
}

fn frame_md5(frame: &Frame) -> String {
    let mut hasher = Md5::new();
    frame.packed_rows().for_each(|row| hasher.update(row));
    format!("{:x}", hasher.finalize())
}

/// ffmpeg's frames of `file`: (pts in microseconds, md5).
fn reference(corpus: &Path, file: &str) -> Vec<(i64, String)> {
    let path = corpus.join("reference").join(format!("{file}.json"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["frames"]
        .as_array()
        .map(|frames| {
            frames
                .iter()
                .map(|f| {
                    let seconds: f64 = f["pts"].as_str().unwrap().parse().unwrap();
                    (
                        (seconds * 1e6).round() as i64,
                        f["md5"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn sweep(corpus: &Path, file: &str) -> Tally {
    let mut tally = Tally::default();
    let error = |kind: stillframe_core::ErrorKind, tally: &mut Tally| {
        *tally.errors.entry(kind.name()).or_default() += 1;
    };
    let path: PathBuf = corpus.join(file);
    let reader = std::fs::File::open(&path).unwrap();
    let opened: stillframe_core::Result<Box<dyn Demuxer>> =
        if file.ends_with(".mp4") || file.ends_with(".mov") {
            stillframe_mp4::Mp4Demuxer::open(reader, Limits::default())
                .map(|d| Box::new(d) as Box<dyn Demuxer>)
        } else {
            stillframe_mkv::MkvDemuxer::open(reader, Limits::default())
                .map(|d| Box::new(d) as Box<dyn Demuxer>)
        };
    let mut demuxer = match opened {
        Ok(demuxer) => demuxer,
        Err(e) => {
            error(e.kind(), &mut tally);
            return tally;
        }
    };
    let track = demuxer
        .tracks()
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .unwrap()
        .clone();
    if let Err(e) = demuxer.index_until(track.index, Time::POSITIVE_INFINITY) {
        error(e.kind(), &mut tally);
    }
    let count = demuxer.samples(track.index).unwrap().len() as u32;
    let mut decoder = match Vp9Decoder::new(&track, &Limits::default()) {
        Ok(decoder) => decoder,
        Err(e) => {
            error(e.kind(), &mut tally);
            return tally;
        }
    };
    let timescale = i64::from(track.timescale.get());
    let mut expected: BTreeMap<i64, String> = reference(corpus, file).into_iter().collect();
    for sample in 0..count {
        let packet = match demuxer.read_sample(track.index, sample) {
            Ok(packet) => packet,
            Err(e) => {
                error(e.kind(), &mut tally);
                continue;
            }
        };
        if let Err(e) = decoder.send_packet(&packet) {
            error(e.kind(), &mut tally);
            decoder.reset().unwrap();
        }
        while let Some(frame) = decoder.receive_frame().unwrap() {
            let micros = (i128::from(frame.pts) * 1_000_000 / i128::from(timescale)) as i64;
            match expected.remove(&micros) {
                Some(md5) if md5 == frame_md5(&frame) => tally.exact += 1,
                Some(_) => tally.differing += 1,
                None => tally.extra += 1,
            }
        }
    }
    tally.missing = expected.len();
    tally
}

#[test]
#[ignore = "needs the shared corpus: STILLFRAME_CORPUS=<folder>"]
fn corpus_vp9_files_match_ffmpeg() {
    let corpus = PathBuf::from(
        std::env::var_os("STILLFRAME_CORPUS").expect("set STILLFRAME_CORPUS to the corpus folder"),
    );
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let files: Vec<&str> = manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            fields
                .get(5)
                .is_some_and(|codec| codec.starts_with("vp9"))
                .then_some(fields[0])
        })
        .collect();
    assert!(!files.is_empty(), "no VP9 file in the manifest");
    let mut differing = 0;
    for file in files {
        let started = std::time::Instant::now();
        let tally = sweep(&corpus, file);
        println!(
            "{file:45} exact {:4}  differing {:3}  missing {:3}  extra {:3}  errors {:?}  ({:.2} s)",
            tally.exact,
            tally.differing,
            tally.missing,
            tally.extra,
            tally.errors,
            started.elapsed().as_secs_f64()
        );
        differing += tally.differing + tally.extra + tally.missing;
    }
    assert_eq!(
        differing, 0,
        "frames that differ from ffmpeg's, or are missing"
    );
}
