//! The ffmpeg oracle for a demuxer, shared by `stillframe-mp4` and `stillframe-mkv`
//! (their `tests/corpus.rs` include it): opens every file of the shared corpus the
//! demuxer should handle and compares the presented frames of the first video track
//! with ffmpeg 5.1's decoded frames, and rotation and pixel aspect with ffprobe's.
//!
//! `STILLFRAME_CORPUS` names the folder (default `../../../shared/corpus` from the
//! crate). Per file it prints OK, a count or pts mismatch, or the typed error; then a
//! summary. It never panics on a file: a panic inside the demuxer is caught and
//! reported as a failure of the run.

use std::collections::BTreeMap;
use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use stillframe_core::{Demuxer, TrackKind};

/// What the oracle needs to know of a demuxer.
pub struct Container {
    /// File name endings it handles, lower case.
    pub extensions: &'static [&'static str],
    /// Words in the manifest's container column that name its formats.
    pub manifest_names: &'static [&'static str],
    /// Opens a file, indexing as much as the comparison needs.
    pub open: fn(File) -> stillframe_core::Result<Box<dyn Demuxer>>,
}

fn corpus_dir() -> PathBuf {
    match std::env::var_os("STILLFRAME_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    }
}

/// Files `container` should handle, by extension or by the manifest's container.
fn files_for(container: &Container, dir: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap_or_default();
    let mut containers = BTreeMap::new();
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        if let (Some(name), Some(container)) = (fields.first(), fields.get(4)) {
            containers.insert(name.to_string(), container.to_string());
        }
    }
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
        let by_extension = container.extensions.iter().any(|e| lower.ends_with(e));
        let by_manifest = containers.get(name).is_some_and(|c| {
            container
                .manifest_names
                .iter()
                .any(|wanted| c.contains(wanted))
        });
        by_extension || by_manifest
    });
    files.sort();
    files
}

/// A decimal string of seconds ("0.040000", "-1.5") as exact micro-seconds.
fn parse_micros(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut fraction = fraction.to_string();
    if fraction.len() > 6 {
        fraction.truncate(6);
    }
    while fraction.len() < 6 {
        fraction.push('0');
    }
    let value = whole.parse::<i128>().ok()? * 1_000_000 + fraction.parse::<i128>().ok()?;
    Some(if negative { -value } else { value })
}

/// `a/b` as a reduced pair.
fn parse_ratio(text: &str) -> Option<(u64, u64)> {
    let (a, b) = text.split_once(':')?;
    let (a, b) = (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?);
    if a == 0 || b == 0 {
        return None;
    }
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    Some((a / x, b / x))
}

#[derive(Debug)]
enum Outcome {
    Ok,
    /// ffmpeg decoded fewer frames, all of which we also present (decode errors).
    Subset {
        ours: usize,
        reference: usize,
    },
    CountMismatch {
        decode_errors: bool,
        ours: usize,
        reference: usize,
        detail: String,
    },
    PtsMismatch {
        index: usize,
        ours: String,
        reference: String,
        count: usize,
    },
    NoReferenceFrames {
        ours: usize,
    },
    NoVideoTrack,
    Error(String, String),
    Panic(String),
}

impl Outcome {
    fn class(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Subset { .. } => "ok (ffmpeg decoded a subset)",
            Outcome::CountMismatch {
                decode_errors: true,
                ..
            } => "count mismatch (ffmpeg decode errors)",
            Outcome::CountMismatch { .. } => "count mismatch",
            Outcome::PtsMismatch { .. } => "pts mismatch",
            Outcome::NoReferenceFrames { .. } => "no reference frames",
            Outcome::NoVideoTrack => "no video track",
            Outcome::Error(..) => "error",
            Outcome::Panic(_) => "PANIC",
        }
    }
}

struct Report {
    outcome: Outcome,
    notes: Vec<String>,
    open_time: Duration,
    size: u64,
}

fn micros_string(micros: i128) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.abs();
    format!("{sign}{}.{:06}", m / 1_000_000, m % 1_000_000)
}

fn check_file(container: &Container, dir: &Path, name: &str) -> Report {
    let path = dir.join(name);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let reference: Value =
        std::fs::read_to_string(dir.join("reference").join(format!("{name}.json")))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
    let mut notes = Vec::new();
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(error) => {
            return Report {
                outcome: Outcome::Error("io".into(), error.to_string()),
                notes,
                open_time: Duration::ZERO,
                size,
            }
        }
    };
    let started = Instant::now();
    let opened = catch_unwind(AssertUnwindSafe(|| (container.open)(file)));
    let open_time = started.elapsed();
    let demuxer = match opened {
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Report {
                outcome: Outcome::Panic(message),
                notes,
                open_time,
                size,
            };
        }
        Ok(Err(error)) => {
            return Report {
                outcome: Outcome::Error(error.kind().name().to_string(), error.to_string()),
                notes,
                open_time,
                size,
            }
        }
        Ok(Ok(demuxer)) => demuxer,
    };

    let Some(track) = demuxer.tracks().iter().find(|t| t.kind == TrackKind::Video) else {
        return Report {
            outcome: Outcome::NoVideoTrack,
            notes,
            open_time,
            size,
        };
    };
    let timescale = i128::from(track.timescale.get());
    let samples = demuxer.samples(track.index).unwrap_or(&[]);
    let mut ours: Vec<i64> = samples
        .iter()
        .filter(|s| s.presented)
        .map(|s| s.pts)
        .collect();
    ours.sort_unstable();

    let video = &reference["video"];
    if let Some(rotation) = video["rotation"]
        .as_i64()
        .filter(|r| r.unsigned_abs() <= 360)
    {
        // ffmpeg turns, then flips; we flip, then turn: with a flip the turns are opposite.
        let mirrored = track.video.as_ref().is_some_and(|v| v.orientation.mirrored);
        let expected = if mirrored {
            rotation.rem_euclid(360)
        } else {
            (-rotation).rem_euclid(360)
        };
        let got = track
            .video
            .as_ref()
            .map_or(0, |v| i64::from(v.orientation.rotation));
        if got != expected {
            notes.push(format!(
                "rotation {got} (ffmpeg {rotation} → expected {expected})"
            ));
        }
    }
    if let Some(sar) = video["sample_aspect_ratio"].as_str().and_then(parse_ratio) {
        let ours_sar = track
            .video
            .as_ref()
            .and_then(|v| v.pixel_aspect)
            .map(|p| (u64::from(p.horizontal), u64::from(p.vertical)));
        match ours_sar {
            Some(ours_sar) if ours_sar != sar => {
                notes.push(format!("pasp {ours_sar:?} vs ffmpeg SAR {sar:?}"))
            }
            None if sar != (1, 1) => {
                notes.push(format!("no pasp; ffmpeg SAR {sar:?} (bitstream or tkhd)"))
            }
            _ => {}
        }
    }

    let frames = reference["frames"].as_array().cloned().unwrap_or_default();
    let mut reference_micros: Vec<i128> = frames
        .iter()
        .filter_map(|f| f["pts"].as_str().and_then(parse_micros))
        .collect();
    // After decode errors ffmpeg's guessed timestamps can come out of order.
    reference_micros.sort_unstable();
    let decode_errors = !reference["decode_errors"].is_null();
    let outcome = if reference_micros.is_empty() {
        Outcome::NoReferenceFrames { ours: ours.len() }
    } else {
        // Exact comparison: |pts/timescale − reference| ≤ 1 µs, cross-multiplied.
        let close = |ours: i64, reference: i128| {
            (i128::from(ours) * 1_000_000 - reference * timescale).abs() <= timescale
        };
        let ours_micros = |pts: i64| i128::from(pts) * 1_000_000 / timescale;
        if ours.len() == reference_micros.len() {
            match ours
                .iter()
                .zip(&reference_micros)
                .position(|(&o, &r)| !close(o, r))
            {
                None => Outcome::Ok,
                Some(index) => Outcome::PtsMismatch {
                    index,
                    ours: micros_string(ours_micros(ours[index])),
                    reference: micros_string(reference_micros[index]),
                    count: ours.len(),
                },
            }
        } else {
            // Is every reference frame one of ours?
            let mut j = 0;
            let mut all_found = true;
            for &r in &reference_micros {
                while j < ours.len()
                    && !close(ours[j], r)
                    && i128::from(ours[j]) * 1_000_000 < r * timescale
                {
                    j += 1;
                }
                if j < ours.len() && close(ours[j], r) {
                    j += 1;
                } else {
                    all_found = false;
                    break;
                }
            }
            if all_found && reference_micros.len() < ours.len() {
                Outcome::Subset {
                    ours: ours.len(),
                    reference: reference_micros.len(),
                }
            } else {
                let first = |v: &[String]| v.iter().take(4).cloned().collect::<Vec<_>>().join(" ");
                let ours_text: Vec<String> = ours
                    .iter()
                    .map(|&p| micros_string(ours_micros(p)))
                    .collect();
                let ref_text: Vec<String> =
                    reference_micros.iter().map(|&r| micros_string(r)).collect();
                Outcome::CountMismatch {
                    decode_errors,
                    ours: ours.len(),
                    reference: reference_micros.len(),
                    detail: format!(
                        "ours [{} … {}] ffmpeg [{} … {}]",
                        first(&ours_text),
                        ours_text.last().cloned().unwrap_or_default(),
                        first(&ref_text),
                        ref_text.last().cloned().unwrap_or_default()
                    ),
                }
            }
        }
    };
    Report {
        outcome,
        notes,
        open_time,
        size,
    }
}

/// Compares every corpus file `container` should handle with ffmpeg's reference,
/// prints a line per file and a summary, and fails if the demuxer panicked.
pub fn compare_with_ffmpeg(container: &Container) {
    let dir = corpus_dir();
    if !dir.join("MANIFEST.tsv").is_file() {
        println!(
            "corpus not found at {} (set STILLFRAME_CORPUS); nothing compared",
            dir.display()
        );
        return;
    }
    let files = files_for(container, &dir);
    let mut classes: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut panics = 0;
    let mut opened = 0;
    let mut largest: Option<(u64, String, Duration)> = None;
    let mut slowest: Option<(Duration, String)> = None;
    for name in &files {
        let report = check_file(container, &dir, name);
        *classes.entry(report.outcome.class()).or_default() += 1;
        if !matches!(report.outcome, Outcome::Error(..) | Outcome::Panic(_)) {
            opened += 1;
            if largest
                .as_ref()
                .is_none_or(|(size, _, _)| report.size > *size)
            {
                largest = Some((report.size, name.clone(), report.open_time));
            }
            if slowest
                .as_ref()
                .is_none_or(|(time, _)| report.open_time > *time)
            {
                slowest = Some((report.open_time, name.clone()));
            }
        }
        let text = match &report.outcome {
            Outcome::Ok => "OK".to_string(),
            Outcome::Subset { ours, reference } => {
                format!("OK-SUBSET ffmpeg decoded {reference} of our {ours} presented frames")
            }
            Outcome::CountMismatch {
                decode_errors,
                ours,
                reference,
                detail,
            } => {
                let why = if *decode_errors {
                    " (ffmpeg reported decode errors)"
                } else {
                    ""
                };
                format!("COUNT ours {ours} vs ffmpeg {reference}{why}: {detail}")
            }
            Outcome::PtsMismatch {
                index,
                ours,
                reference,
                count,
            } => {
                format!(
                    "PTS first differs at frame {index}/{count}: ours {ours} vs ffmpeg {reference}"
                )
            }
            Outcome::NoReferenceFrames { ours } => {
                format!("NO-REF ffmpeg decoded nothing; we present {ours}")
            }
            Outcome::NoVideoTrack => "NO-VIDEO".to_string(),
            Outcome::Error(kind, message) => {
                *errors.entry(kind.clone()).or_default() += 1;
                format!("ERROR {kind}: {message}")
            }
            Outcome::Panic(message) => {
                panics += 1;
                format!("PANIC {message}")
            }
        };
        let notes = if report.notes.is_empty() {
            String::new()
        } else {
            format!("  [{}]", report.notes.join("; "))
        };
        println!("{name:60} {text}{notes}");
    }
    println!();
    println!("files: {}  opened: {opened}", files.len());
    for (class, count) in &classes {
        println!("  {class:32} {count}");
    }
    for (kind, count) in &errors {
        println!("  error {kind:26} {count}");
    }
    if let Some((size, name, time)) = largest {
        println!("largest opened: {name} ({size} bytes) in {time:?}");
    }
    if let Some((time, name)) = slowest {
        println!("slowest open: {name} in {time:?}");
    }
    assert_eq!(panics, 0, "the demuxer panicked");
}
