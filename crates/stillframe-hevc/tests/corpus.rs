//! The HEVC files of the shared real-world corpus against ffmpeg's reference:
//! every frame's md5 and timestamp. Ignored by default (the corpus is not in the
//! repository); run with
//!
//! ```text
//! STILLFRAME_CORPUS=/work/shared/corpus cargo test -p stillframe-hevc --test corpus -- --ignored --nocapture
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{frame_md5, open_with_samples};
use stillframe_core::{ErrorKind, Limits, VideoDecoder};
use stillframe_hevc::HevcDecoder;

/// What decoding one file gave.
#[derive(Debug, Default)]
struct Tally {
    exact: usize,
    differing: usize,
    /// ffmpeg's frames no frame of ours matched by timestamp.
    missing: usize,
    /// Our frames at timestamps ffmpeg has no frame for.
    extra: usize,
    /// Our frames of samples an edit list hides, which ffmpeg drops (so does the
    /// generator).
    hidden: usize,
    damaged: usize,
    error: Option<(ErrorKind, String)>,
}

/// The corpus files whose first video track is HEVC, by the manifest.
fn hevc_files(corpus: &Path) -> Vec<PathBuf> {
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let codec = fields.get(5)?;
            codec.starts_with("hevc").then(|| corpus.join(fields[0]))
        })
        .collect()
}

/// ffmpeg's frames of `file`: pts in microseconds (as the reference prints them,
/// `%.6f` seconds) to md5.
fn reference(corpus: &Path, file: &Path) -> BTreeMap<i64, String> {
    let name = file.file_name().unwrap().to_str().unwrap();
    let path = corpus.join("reference").join(format!("{name}.json"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|frame| {
            let seconds: f64 = frame["pts"].as_str().unwrap().parse().unwrap();
            (
                (seconds * 1e6).round() as i64,
                frame["md5"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn decode_file(corpus: &Path, file: &Path) -> Tally {
    let mut tally = Tally::default();
    let mut expected = reference(corpus, file);
    let (track, packets, samples) = open_with_samples(file);
    let hidden: std::collections::BTreeSet<i64> = samples
        .iter()
        .filter(|sample| !sample.presented)
        .map(|sample| sample.pts)
        .collect();
    let timescale = f64::from(track.timescale.get());
    let mut decoder = match HevcDecoder::new(&track, &Limits::default()) {
        Ok(decoder) => decoder,
        Err(error) => {
            tally.missing = expected.len();
            tally.error = Some((error.kind(), error.to_string()));
            return tally;
        }
    };
    let mut frames = Vec::new();
    let mut result = Ok(());
    for packet in &packets {
        result = decoder.send_packet(packet);
        while let Some(frame) = decoder.receive_frame().unwrap() {
            frames.push(frame);
        }
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = decoder.finish();
        while let Some(frame) = decoder.receive_frame().unwrap() {
            frames.push(frame);
        }
    }
    if let Err(error) = result {
        tally.error = Some((error.kind(), error.to_string()));
    }
    for frame in &frames {
        let micros = (frame.pts as f64 / timescale * 1e6).round() as i64;
        tally.damaged += usize::from(frame.damage.is_some());
        if hidden.contains(&frame.pts) {
            tally.hidden += 1;
            continue;
        }
        match expected.remove(&micros) {
            Some(md5) if md5 == frame_md5(frame) => tally.exact += 1,
            Some(_) => tally.differing += 1,
            None => tally.extra += 1,
        }
    }
    tally.missing = expected.len();
    tally
}

#[test]
#[ignore = "needs the shared corpus: set STILLFRAME_CORPUS"]
fn corpus_hevc_files_match_ffmpeg() {
    let corpus = PathBuf::from(
        std::env::var_os("STILLFRAME_CORPUS")
            .expect("set STILLFRAME_CORPUS to the corpus folder (with MANIFEST.tsv)"),
    );
    let files = hevc_files(&corpus);
    assert!(!files.is_empty(), "no HEVC file in the corpus manifest");
    let mut totals = Tally::default();
    println!("| file | exact | differing | missing | extra | hidden | damaged | error |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for file in &files {
        let tally = decode_file(&corpus, file);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            file.file_name().unwrap().to_string_lossy(),
            tally.exact,
            tally.differing,
            tally.missing,
            tally.extra,
            tally.hidden,
            tally.damaged,
            tally
                .error
                .as_ref()
                .map_or("–".to_owned(), |(kind, message)| format!(
                    "{}: {message}",
                    kind.name()
                ))
        );
        if let Some((kind, _)) = &tally.error {
            assert!(
                matches!(
                    kind,
                    ErrorKind::Unsupported | ErrorKind::Malformed | ErrorKind::Codec
                ),
                "{}: {kind:?}",
                file.display()
            );
        }
        totals.exact += tally.exact;
        totals.differing += tally.differing;
        totals.missing += tally.missing;
        totals.extra += tally.extra;
        totals.damaged += tally.damaged;
    }
    println!(
        "total: {} exact, {} differing, {} missing, {} extra",
        totals.exact, totals.differing, totals.missing, totals.extra
    );
    assert_eq!(totals.differing, 0, "frames differ from ffmpeg's");
    assert_eq!(totals.extra, 0, "frames at timestamps ffmpeg does not have");
    assert_eq!(totals.damaged, 0, "frames reported damaged");
}
