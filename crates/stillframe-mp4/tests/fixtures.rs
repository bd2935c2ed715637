//! Compares the demuxer with ffmpeg on the repository's own fixtures
//! (`tests/fixtures/*.mp4|mov` and `tests/fixtures/reference/*.json`).
//!
//! For every file ffmpeg reads, each packet ffmpeg produced must be the same sample
//! in our table: byte offset, size, decode and presentation ticks, key flag and
//! discard flag; and the number of presented samples must equal the number of frames
//! ffmpeg decoded. Files ffmpeg refuses must give us a typed error (or, where ffmpeg
//! opens them but finds no video, no video track). Skipped when the fixtures are
//! missing.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde_json::Value;
use stillframe_core::{Demuxer, Limits, TrackKind};
use stillframe_mp4::Mp4Demuxer;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn check(path: &Path, reference: &Value) -> Result<String, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let opened = Mp4Demuxer::open(BufReader::new(file), Limits::default());
    if reference["video"].is_null() {
        let ffmpeg_refused = reference["ffprobe_error"].as_str().is_some_and(|e| {
            e.contains("moov atom not found") || e.contains("error reading header")
        });
        return match opened {
            Err(error) => Ok(format!("typed error as expected: {error}")),
            Ok(_) if ffmpeg_refused => Err("opened a file ffmpeg refuses".into()),
            Ok(demuxer) if demuxer.tracks().iter().any(|t| t.kind == TrackKind::Video) => {
                Err("found a video track where ffmpeg finds none".into())
            }
            Ok(_) => Ok("opened; no video track, as in ffmpeg".into()),
        };
    }
    let demuxer = opened.map_err(|e| format!("failed to open: {e}"))?;
    let track = demuxer
        .tracks()
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .ok_or("no video track")?;
    let samples = demuxer.samples(track.index).map_err(|e| e.to_string())?;
    let packets = reference["packets"].as_array().cloned().unwrap_or_default();
    let truncated = reference["container"]["last_box_truncated"].as_bool() == Some(true);
    for (i, packet) in packets.iter().enumerate() {
        let ours = samples.get(i).ok_or(format!(
            "ffmpeg has packet {i}, we have {} samples",
            samples.len()
        ))?;
        let expect = |key: &str| packet[key].as_i64();
        // ffmpeg hands out what exists of a sample cut off by the end of the file.
        let cut_short = truncated && i + 1 == packets.len();
        let theirs = (
            expect("pos").map(|v| v as u64),
            if cut_short {
                Some(ours.size)
            } else {
                expect("size").map(|v| v as u32)
            },
            expect("dts_ticks"),
            expect("pts_ticks"),
            expect("key").map(|k| k != 0),
            expect("discard").map(|d| d == 0),
        );
        let mine = (
            Some(ours.offset),
            Some(ours.size),
            Some(ours.dts),
            Some(ours.pts),
            Some(ours.sync),
            Some(ours.presented),
        );
        if mine != theirs {
            return Err(format!(
                "packet {i}: ours (pos, size, dts, pts, key, shown) {mine:?} vs ffmpeg {theirs:?}"
            ));
        }
    }
    let frames = reference["frames"].as_array().map_or(0, Vec::len);
    let presented = samples.iter().filter(|s| s.presented).count();
    if !truncated {
        if presented != frames {
            return Err(format!(
                "{presented} presented samples vs {frames} frames decoded by ffmpeg"
            ));
        }
        let nb_packets = reference["video"]["nb_packets"]
            .as_u64()
            .map(|n| n as usize);
        if nb_packets.is_some_and(|n| n != samples.len()) {
            return Err(format!(
                "{} samples vs ffmpeg's {nb_packets:?} packets",
                samples.len()
            ));
        }
    }
    Ok(format!(
        "{} packets and {frames} frames agree",
        packets.len()
    ))
}

#[test]
fn fixtures_match_ffmpeg() {
    let dir = fixtures_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("no fixtures at {}; skipped", dir.display());
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".mp4") || n.ends_with(".mov"))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for name in &names {
        let Some(reference) =
            std::fs::read_to_string(dir.join("reference").join(format!("{name}.json")))
                .ok()
                .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        else {
            println!("{name}: no reference; skipped");
            continue;
        };
        match check(&dir.join(name), &reference) {
            Ok(message) => println!("{name}: {message}"),
            Err(message) => {
                println!("{name}: FAILED {message}");
                failures.push(format!("{name}: {message}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
