//! `stillframe sweep DIR`: every file of a folder checked against ffmpeg's reference.
//!
//! Each file is checked by a child process (`stillframe sweep-one`) under a time limit,
//! so a panic, abort or hang in one file is counted, not fatal. A file that gives no
//! picture at all (broken, or unsupported) fails the sweep too unless the call that
//! gave its first typed error (opening, or the first request) took under 1 s.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use serde::{Deserialize, Serialize};
use stillframe::{Asset, Error, GeneratorOptions, ImageGenerator, Time, Tolerance};

/// Arguments of `stillframe sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Folder of media files; ffmpeg's view of each may sit in `reference/<file>.json`.
    dir: PathBuf,
    /// Seconds one file may take before it counts as a hang.
    #[arg(long, default_value_t = 30)]
    time_limit: u64,
    /// Most frames to decode per file (0 = every frame).
    #[arg(long, default_value_t = 0)]
    frames: usize,
    /// Only files whose first video track is H.264 in MP4/MOV (by the reference).
    #[arg(long)]
    h264_only: bool,
}

/// Arguments of the hidden `stillframe sweep-one`.
#[derive(Debug, Args)]
pub struct SweepOneArgs {
    file: PathBuf,
    #[arg(long)]
    reference: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    frames: usize,
}

/// Frames asked for in one batch.
const SWEEP_BATCH: usize = 16;

/// How far apart two times printed to the microsecond may be and still be equal.
const TIMESTAMP_SLACK: f64 = 1.5e-6;

/// What checking one file found.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FileReport {
    container: String,
    codec: String,
    opened: bool,
    open_error: Option<String>,
    reference_frames: usize,
    our_frames: usize,
    timestamps_matching: usize,
    frames_checked: usize,
    bit_exact: usize,
    frame_errors: BTreeMap<String, usize>,
    first_frame_error: Option<String>,
    /// Seconds the call that gave the first typed error took (opening, or a request).
    first_error_seconds: Option<f64>,
    /// Frames that decoded (bit-exact or not).
    frames_decoded: usize,
}

/// Checks one file and prints its report as JSON (run in a child process).
pub fn run_one(args: &SweepOneArgs) -> ExitCode {
    let reference = args.reference.as_deref().and_then(load_reference);
    let report = check_file(&args.file, reference.as_ref(), args.frames);
    match serde_json::to_string(&report) {
        Ok(text) => {
            crate::output::line(&text);
            ExitCode::SUCCESS
        }
        Err(_) => ExitCode::from(3),
    }
}

#[derive(Debug)]
struct ReferenceFrame {
    /// `None` where ffmpeg gives no timestamp (raw H.264/HEVC): such frames pair with
    /// ours by presentation order.
    pts_seconds: Option<f64>,
    md5: String,
}

#[derive(Debug)]
struct Reference {
    frames: Vec<ReferenceFrame>,
    codec: String,
    container: String,
}

fn load_reference(path: &Path) -> Option<Reference> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let frames = json["frames"]
        .as_array()
        .map(|frames| {
            frames
                .iter()
                .filter_map(|f| {
                    let pts_seconds = match &f["pts"] {
                        serde_json::Value::Null => None,
                        pts => Some(pts.as_str()?.parse().ok()?),
                    };
                    Some(ReferenceFrame {
                        pts_seconds,
                        md5: f["md5"].as_str()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Reference {
        frames,
        codec: json["video"]["codec_name"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        container: json["format"].as_str().unwrap_or("").to_owned(),
    })
}

fn check_file(file: &Path, reference: Option<&Reference>, max_frames: usize) -> FileReport {
    let started = Instant::now();
    let mut report = FileReport::default();
    // Lazily indexed containers (Matroska) must be indexed whole to compare every frame.
    let asset = match Asset::open(file).and_then(|mut asset| asset.index_fully().map(|()| asset)) {
        Ok(asset) => asset,
        Err(error) => {
            report.open_error = Some(error.kind().name().to_owned());
            report.first_frame_error = Some(crate::one_line(&error.to_string()));
            report.first_error_seconds = Some(started.elapsed().as_secs_f64());
            return report;
        }
    };
    report.opened = true;
    report.container = asset.info().container.name().to_owned();
    let Some(track) = asset.first_video_track().cloned() else {
        report.codec = "none".to_owned();
        return report;
    };
    report.codec = track.codec.name().to_owned();
    let mut ours: Vec<Time> = asset
        .samples(track.index)
        .unwrap_or(&[])
        .iter()
        .filter(|s| s.presented)
        .map(|s| Time::from_ticks(s.pts, track.timescale))
        .collect();
    ours.sort();
    report.our_frames = ours.len();
    let Some(reference) = reference else {
        return report;
    };
    report.reference_frames = reference.frames.len();
    // Pair each reference frame with our frame at the same time (the reference prints
    // microseconds), so frames ffmpeg could not decode do not shift the pairing.
    let seconds: Vec<f64> = ours.iter().map(|t| t.as_secs_f64()).collect();
    let paired: Vec<(&ReferenceFrame, Option<Time>)> = reference
        .frames
        .iter()
        .enumerate()
        .map(|(number, frame)| {
            let matching = match frame.pts_seconds {
                Some(pts) => {
                    let at = seconds.partition_point(|&s| s < pts - TIMESTAMP_SLACK);
                    seconds
                        .get(at)
                        .filter(|&&s| (s - pts).abs() <= TIMESTAMP_SLACK)
                        .and(ours.get(at).copied())
                }
                None => ours.get(number).copied(),
            };
            (frame, matching)
        })
        .collect();
    report.timestamps_matching = paired.iter().filter(|(_, ours)| ours.is_some()).count();
    let options = GeneratorOptions {
        tolerance: Tolerance::ZERO,
        ..GeneratorOptions::default()
    };
    let creating = Instant::now();
    let generator = match ImageGenerator::new(asset, options) {
        Ok(generator) => generator,
        Err(error) => {
            record_error(&mut report, &error, creating);
            return report;
        }
    };
    let limit = if max_frames == 0 {
        usize::MAX
    } else {
        max_frames
    };
    let checked: Vec<(&ReferenceFrame, Time)> = paired
        .into_iter()
        .take(limit)
        .filter_map(|(frame, matching)| matching.map(|ours| (frame, ours)))
        .collect();
    // Frames are asked for a few at a time: one decode pass serves a whole group
    // (frame-by-frame requests would decode from the entry point again after every
    // failure, quadratic on a broken stream), and a group's pictures are all the
    // memory it holds.
    for group in checked.chunks(SWEEP_BATCH) {
        let times: Vec<Time> = group.iter().map(|&(_, ours)| ours).collect();
        let asking = Instant::now();
        let results = generator.frames_at(&times);
        for (&(frame, _), result) in group.iter().zip(results) {
            report.frames_checked += 1;
            match result {
                Ok(made) => {
                    report.frames_decoded += 1;
                    if frame_md5(&made.frame) == frame.md5 {
                        report.bit_exact += 1;
                    }
                }
                Err(error) => record_error(&mut report, &error, asking),
            }
        }
    }
    report
}

/// Counts `error`, from a call begun at `asked`.
fn record_error(report: &mut FileReport, error: &Error, asked: Instant) {
    *report
        .frame_errors
        .entry(error.kind().name().to_owned())
        .or_default() += 1;
    if report.first_frame_error.is_none() {
        report.first_frame_error = Some(crate::one_line(&error.to_string()));
        report.first_error_seconds = Some(asked.elapsed().as_secs_f64());
    }
}

/// How soon a file that gives no picture at all (broken, or unsupported) must say why.
const TYPED_ERROR_SECONDS: f64 = 1.0;

fn frame_md5(frame: &stillframe::Frame) -> String {
    use md5::{Digest, Md5};
    let mut hasher = Md5::new();
    frame.packed_rows().for_each(|row| hasher.update(row));
    format!("{:x}", hasher.finalize())
}

/// How a child process ended.
enum Outcome {
    Report(Box<FileReport>),
    Crashed(String),
    TimedOut,
}

/// Sweeps the folder and prints a summary; exit 1 on any crash or hang.
pub fn run(args: &SweepArgs) -> Result<ExitCode, Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && !is_listing(path))
        .collect();
    files.sort();
    let executable = std::env::current_exe()?;
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let reference_path = args.dir.join("reference").join(format!("{name}.json"));
        let reference = load_reference(&reference_path);
        if args.h264_only && !reference.as_ref().is_some_and(is_h264_in_mp4) {
            continue;
        }
        let started = Instant::now();
        let outcome = run_child(
            &executable,
            file,
            reference.is_some().then_some(&reference_path),
            args,
        )?;
        let elapsed = started.elapsed();
        let (container, codec) = match &outcome {
            Outcome::Report(report) if report.opened => {
                (report.container.clone(), report.codec.clone())
            }
            _ => reference
                .as_ref()
                .map(|r| {
                    (
                        format!("({})", short_container(&r.container)),
                        r.codec.clone(),
                    )
                })
                .unwrap_or_else(|| ("?".to_owned(), "?".to_owned())),
        };
        let row = rows.entry((container, codec)).or_default();
        row.files += 1;
        let line = match outcome {
            Outcome::Report(report) => {
                row.add(&report);
                // A broken or unsupported file (no picture at all) must fail fast.
                let no_picture = !report.opened
                    || (report.frames_decoded == 0 && !report.frame_errors.is_empty());
                match report.first_error_seconds {
                    Some(seconds) if no_picture && seconds >= TYPED_ERROR_SECONDS => {
                        failures.push(format!(
                            "{name}: its typed error took {seconds:.2} s (the limit is {TYPED_ERROR_SECONDS} s)"
                        ));
                    }
                    _ => {}
                }
                describe(&report)
            }
            Outcome::Crashed(why) => {
                row.crashes += 1;
                failures.push(format!("{name}: crashed: {why}"));
                format!("CRASH {why}")
            }
            Outcome::TimedOut => {
                row.hangs += 1;
                failures.push(format!("{name}: no result within {} s", args.time_limit));
                "TIMEOUT".to_owned()
            }
        };
        crate::output::line(&format!(
            "{name:<58} {:>6.2}s  {line}",
            elapsed.as_secs_f64()
        ));
    }
    print_summary(&rows);
    for failure in &failures {
        eprintln!("stillframe sweep: {failure}");
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn is_listing(path: &Path) -> bool {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    matches!(extension, "md" | "tsv" | "json" | "txt")
}

fn is_h264_in_mp4(reference: &Reference) -> bool {
    reference.codec == "h264" && reference.container.contains("mp4")
}

fn short_container(ffmpeg_format: &str) -> &str {
    if ffmpeg_format.contains("mp4") {
        "mp4"
    } else if ffmpeg_format.contains("matroska") {
        "matroska"
    } else {
        ffmpeg_format
    }
}

fn run_child(
    executable: &Path,
    file: &Path,
    reference: Option<&PathBuf>,
    args: &SweepArgs,
) -> Result<Outcome, Error> {
    let mut command = Command::new(executable);
    command
        .arg("sweep-one")
        .arg(file)
        .arg("--frames")
        .arg(args.frames.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(reference) = reference {
        command.arg("--reference").arg(reference);
    }
    let mut child = command.spawn()?;
    let deadline = Instant::now() + Duration::from_secs(args.time_limit);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Outcome::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut stdout)?;
    }
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr)?;
    }
    if !status.success() {
        let last = stderr
            .lines()
            .find(|l| l.contains("panicked"))
            .or_else(|| stderr.lines().last());
        return Ok(Outcome::Crashed(format!(
            "{status}: {}",
            last.unwrap_or("")
        )));
    }
    match serde_json::from_str::<FileReport>(stdout.trim()) {
        Ok(report) => Ok(Outcome::Report(Box::new(report))),
        Err(e) => Ok(Outcome::Crashed(format!("unreadable report: {e}"))),
    }
}

fn describe(report: &FileReport) -> String {
    if let Some(kind) = &report.open_error {
        return format!(
            "open error [{kind}] in {:.3} s: {}",
            report.first_error_seconds.unwrap_or(0.0),
            report.first_frame_error.as_deref().unwrap_or("")
        );
    }
    let mut line = format!(
        "{} {}: timestamps {}/{} (ours {}), bit-exact {}/{}",
        report.container,
        report.codec,
        report.timestamps_matching,
        report.reference_frames,
        report.our_frames,
        report.bit_exact,
        report.frames_checked
    );
    if !report.frame_errors.is_empty() {
        line += &format!(", errors {:?}", report.frame_errors);
        if let Some(first) = &report.first_frame_error {
            line += &format!(
                " first (in {:.3} s): {first}",
                report.first_error_seconds.unwrap_or(0.0)
            );
        }
    }
    line
}

#[derive(Default)]
struct Row {
    files: usize,
    opened: usize,
    reference_frames: usize,
    timestamps_matching: usize,
    files_all_timestamps: usize,
    frames_checked: usize,
    bit_exact: usize,
    errors: BTreeMap<String, usize>,
    crashes: usize,
    hangs: usize,
}

impl Row {
    fn add(&mut self, report: &FileReport) {
        self.opened += usize::from(report.opened);
        self.reference_frames += report.reference_frames;
        self.timestamps_matching += report.timestamps_matching;
        self.files_all_timestamps += usize::from(
            report.opened
                && report.reference_frames > 0
                && report.timestamps_matching == report.reference_frames,
        );
        self.frames_checked += report.frames_checked;
        self.bit_exact += report.bit_exact;
        if let Some(kind) = &report.open_error {
            *self.errors.entry(format!("open:{kind}")).or_default() += 1;
        }
        for (kind, count) in &report.frame_errors {
            *self.errors.entry(format!("frame:{kind}")).or_default() += count;
        }
    }
}

fn print_summary(rows: &BTreeMap<(String, String), Row>) {
    crate::output::line("");
    crate::output::line("| container | codec | files | opened | files with all timestamps | timestamps matching | frames checked | bit-exact | errors by kind | crashes | hangs |");
    crate::output::line("|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|");
    let mut total = Row::default();
    for ((container, codec), row) in rows {
        print_row(container, codec, row);
        total.files += row.files;
        total.opened += row.opened;
        total.files_all_timestamps += row.files_all_timestamps;
        total.reference_frames += row.reference_frames;
        total.timestamps_matching += row.timestamps_matching;
        total.frames_checked += row.frames_checked;
        total.bit_exact += row.bit_exact;
        total.crashes += row.crashes;
        total.hangs += row.hangs;
        for (kind, count) in &row.errors {
            *total.errors.entry(kind.clone()).or_default() += count;
        }
    }
    print_row("all", "", &total);
    crate::output::line(&format!(
        "files {}, crashes {}, hangs {}",
        total.files, total.crashes, total.hangs
    ));
}

fn print_row(container: &str, codec: &str, row: &Row) {
    let errors: Vec<String> = row.errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
    crate::output::line(&format!(
        "| {container} | {codec} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} |",
        row.files,
        row.opened,
        row.files_all_timestamps,
        row.timestamps_matching,
        row.reference_frames,
        row.frames_checked,
        row.bit_exact,
        errors.join(", "),
        row.crashes,
        row.hangs
    ));
}
