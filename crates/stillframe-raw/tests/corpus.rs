//! The ffmpeg oracle over the raw streams of the shared corpus and the H.264
//! conformance streams: every stream opens and indexes without a panic; frame
//! counts and the picture types in presentation order are compared with ffmpeg's.
//!
//! Ignored by default (the folders are not part of the repository). Run with
//!
//! ```text
//! STILLFRAME_CORPUS=/work/shared/corpus STILLFRAME_CONFORMANCE=/work/shared/conformance \
//!   cargo test --release -p stillframe-raw --test corpus -- --ignored --nocapture
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs::File;
use std::io::BufReader;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use serde_json::Value;
use stillframe_core::Limits;
use stillframe_raw::RawDemuxer;

const EXTENSIONS: &[&str] = &[
    ".264", ".h264", ".jsv", ".26l", ".jvt", ".avc", ".ivf", ".obu", ".265", ".hevc", ".h265",
    ".bit",
];

fn folder(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(default))
}

fn raw_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    files.retain(|name| {
        let lower = name.to_ascii_lowercase();
        EXTENSIONS.iter().any(|e| lower.ends_with(e))
    });
    files.sort();
    files
}

struct Outcome {
    frames: usize,
    types: String,
    keys: Vec<bool>,
}

fn run(path: &Path) -> Result<Outcome, String> {
    let opened = catch_unwind(AssertUnwindSafe(|| -> Result<Outcome, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let mut demuxer = RawDemuxer::open(BufReader::new(file), Limits::default())
            .map_err(|e| format!("{}: {e}", e.kind().name()))?;
        let frames = common::shown_frames(&mut demuxer);
        Ok(Outcome {
            frames: frames.len(),
            types: frames
                .iter()
                .map(|f| f.kind.as_str())
                .collect::<Vec<_>>()
                .join(""),
            keys: frames.iter().map(|f| f.sync).collect(),
        })
    }));
    match opened {
        Ok(result) => result,
        Err(_) => Err("PANIC".to_owned()),
    }
}

#[test]
#[ignore = "needs the shared corpus; run with --ignored"]
fn corpus_raw_streams_match_ffmpeg() {
    let dir = folder("STILLFRAME_CORPUS", "../../../shared/corpus");
    let files = raw_files(&dir);
    assert!(!files.is_empty(), "no raw streams in {}", dir.display());
    let (mut opened, mut counts, mut types, mut keys, mut panics) = (0, 0, 0, 0, 0);
    for name in &files {
        let reference: Value =
            std::fs::read_to_string(dir.join("reference").join(format!("{name}.json")))
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or(Value::Null);
        let frames = reference["frames"].as_array().cloned().unwrap_or_default();
        let theirs_types: String = frames
            .iter()
            .map(|f| f["type"].as_str().unwrap_or("?"))
            .collect::<Vec<_>>()
            .join("");
        let theirs_keys: Vec<bool> = frames
            .iter()
            .map(|f| f["key"].as_i64() == Some(1))
            .collect();
        let errors = if reference["decode_errors"].is_null() {
            ""
        } else {
            " [ffmpeg decode errors]"
        };
        match run(&dir.join(name)) {
            Err(error) => {
                panics += usize::from(error == "PANIC");
                println!("{name}: {error}{errors}");
            }
            Ok(ours) => {
                opened += 1;
                let count_ok = ours.frames == frames.len();
                let types_ok = ours.types == theirs_types;
                let keys_ok = ours.keys == theirs_keys;
                counts += usize::from(count_ok);
                types += usize::from(types_ok);
                keys += usize::from(keys_ok);
                if count_ok && types_ok && keys_ok {
                    println!("{name}: OK {} frames", ours.frames);
                } else {
                    let clip = |s: &str| s.chars().take(80).collect::<String>();
                    println!(
                        "{name}: frames {} vs ffmpeg {}{errors}; types {}{}; keys {}",
                        ours.frames,
                        frames.len(),
                        if types_ok { "ok" } else { "DIFFER" },
                        if types_ok {
                            String::new()
                        } else {
                            format!(
                                "\n    ours   {}\n    ffmpeg {}",
                                clip(&ours.types),
                                clip(&theirs_types)
                            )
                        },
                        if keys_ok { "ok" } else { "DIFFER" },
                    );
                }
            }
        }
    }
    println!(
        "\n{} raw streams: {opened} opened, {counts} frame counts match, {types} type sequences match, {keys} key flags match, {panics} panics",
        files.len()
    );
    assert_eq!(panics, 0, "the demuxer panicked");
}

/// ffprobe's frames of each conformance stream (`tests/fixtures/raw/conformance_h264.tsv`,
/// made by `conformance_reference.py`): frame count, types and key flags.
fn conformance_reference() -> std::collections::BTreeMap<String, (usize, String, Vec<bool>)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/raw/conformance_h264.tsv");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let keys = fields.get(3)?.chars().map(|c| c == '1').collect();
            Some((
                fields[0].to_owned(),
                (
                    fields.get(1)?.parse().ok()?,
                    fields.get(2)?.to_string(),
                    keys,
                ),
            ))
        })
        .collect()
}

#[test]
#[ignore = "needs the shared conformance streams; run with --ignored"]
fn conformance_h264_streams_match_ffprobe() {
    let dir = folder("STILLFRAME_CONFORMANCE", "../../../shared/conformance").join("h264");
    let files = raw_files(&dir);
    assert!(!files.is_empty(), "no streams in {}", dir.display());
    let reference = conformance_reference();
    let (mut counts, mut types, mut keys) = (0, 0, 0);
    let mut failed = Vec::new();
    for name in &files {
        let Some((frames, theirs_types, theirs_keys)) = reference.get(name) else {
            println!("{name}: not in conformance_h264.tsv");
            continue;
        };
        match run(&dir.join(name)) {
            Ok(ours) => {
                let count_ok = ours.frames == *frames;
                let types_ok = ours.types == *theirs_types;
                let keys_ok = ours.keys == *theirs_keys;
                counts += usize::from(count_ok);
                types += usize::from(types_ok);
                keys += usize::from(keys_ok);
                if count_ok && types_ok && keys_ok {
                    println!("{name}: OK {frames} frames");
                } else {
                    let clip = |s: &str| s.chars().take(100).collect::<String>();
                    println!(
                        "{name}: frames {} vs ffprobe {frames}; types {}; keys {}\n    ours   {}\n    ffmpeg {}",
                        ours.frames,
                        if types_ok { "ok" } else { "DIFFER" },
                        if keys_ok { "ok" } else { "DIFFER" },
                        clip(&ours.types),
                        clip(theirs_types),
                    );
                }
            }
            Err(error) => {
                println!("{name}: {error}");
                failed.push(name.clone());
            }
        }
    }
    println!(
        "\n{} conformance streams: {} opened and indexed, {counts} frame counts match, {types} type sequences match, {keys} key flags match",
        files.len(),
        files.len() - failed.len()
    );
    assert!(failed.is_empty(), "failed: {failed:?}");
}
