//! The command line for real jobs: shares of the timeline, standard input and
//! output, y4m, several inputs and folders, shards, and a reader that goes away.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::{fixture, stillframe, successful_json_lines};
use md5::{Digest, Md5};
use serde_json::Value;

/// ffmpeg's reference for a fixture: (pts in seconds, md5 of the planes) per frame.
fn reference(name: &str) -> Vec<(f64, String)> {
    let (folder, file) = name.rsplit_once('/').unwrap_or(("", name));
    let path = format!("{}/reference/{file}.json", fixture(folder));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let pts = f["pts"].as_str().unwrap().parse().unwrap();
            (pts, f["md5"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// The header line and the md5 of each frame's planes in a y4m stream. Frames are
/// found by size, not by searching for `FRAME`: plane bytes may hold anything.
fn y4m_frames(stream: &[u8]) -> (String, Vec<String>) {
    let header_end = stream.iter().position(|&b| b == b'\n').unwrap();
    let header = String::from_utf8(stream[..header_end].to_vec()).unwrap();
    let frame_bytes = frame_size(&header);
    let marker = b"FRAME\n";
    let mut md5s = Vec::new();
    let mut at = header_end + 1;
    while at < stream.len() {
        assert_eq!(
            &stream[at..at + marker.len()],
            marker,
            "frame {}",
            md5s.len()
        );
        let planes = &stream[at + marker.len()..at + marker.len() + frame_bytes];
        md5s.push(format!("{:x}", Md5::digest(planes)));
        at += marker.len() + frame_bytes;
    }
    assert_eq!(
        at,
        stream.len(),
        "the stream does not end on a frame boundary"
    );
    (header, md5s)
}

/// Bytes of one frame's planes, from the header's W, H and C (`C420jpeg`, `C420p10`).
fn frame_size(header: &str) -> usize {
    let field = |tag: char| {
        header
            .split(' ')
            .find_map(|f| f.strip_prefix(tag))
            .unwrap()
            .to_owned()
    };
    let (w, h): (usize, usize) = (field('W').parse().unwrap(), field('H').parse().unwrap());
    let colourspace = field('C');
    let deep = colourspace
        .split_once('p')
        .is_some_and(|(_, depth)| depth.parse::<u8>().is_ok_and(|d| d > 8));
    let bytes = if deep { 2 } else { 1 };
    let (cw, ch) = match &colourspace[..3] {
        "420" => (w.div_ceil(2), h.div_ceil(2)),
        "422" => (w.div_ceil(2), h),
        "444" => (w, h),
        _ => (0, 0),
    };
    (w * h + 2 * cw * ch) * bytes
}

#[test]
fn a_share_of_the_timeline_names_a_frame() {
    // 125 frames at 25 fps from 0 s: 10% is 0.5 s, on screen from 0.48 s; 100% is
    // the last frame.
    let lines = successful_json_lines(&stillframe(&[
        "grab",
        &fixture("high_bframes.mp4"),
        "--at",
        "10%,100%,0%",
        "--exact",
        "--json",
        "-o",
        &format!(
            "{}/pct-{{i}}.png",
            tempfile::tempdir().unwrap().keep().display()
        ),
    ]));
    let frames: Vec<u64> = lines.iter().map(|l| l["frame"].as_u64().unwrap()).collect();
    assert_eq!(frames, [12, 124, 0]);
    assert_eq!(lines[0]["actual"], 0.48);
    let refused = stillframe(&["grab", &fixture("high_bframes.mp4"), "--at", "120%"]);
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn y4m_holds_the_decoded_planes_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    for (name, frame) in [
        ("high_bframes.mp4", 62),
        ("hevc/hevc_main10_open_gop.mp4", 17),
        ("vp9/vp9_altref.webm", 33),
    ] {
        let reference = reference(name);
        let (pts, md5) = &reference[frame];
        let path = dir.path().join("one.y4m");
        let output = stillframe(&[
            "grab",
            &fixture(name),
            "--at",
            &pts.to_string(),
            "--exact",
            "-o",
            path.to_str().unwrap(),
        ]);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let (header, md5s) = y4m_frames(&std::fs::read(&path).unwrap());
        assert_eq!(
            md5s,
            std::slice::from_ref(md5),
            "{name} frame {frame} ({header})"
        );
        if name.contains("main10") {
            assert!(header.contains(" C420p10"), "{header}");
        }
    }
}

#[test]
fn y4m_to_stdout_is_one_stream_of_every_request() {
    let reference = reference("high_bframes.mp4");
    let times: Vec<String> = [3, 4, 5, 60]
        .iter()
        .map(|&n| reference[n].0.to_string())
        .collect();
    let output = stillframe(&[
        "grab",
        &fixture("high_bframes.mp4"),
        "--at",
        &times.join(","),
        "--exact",
        "-o",
        "-",
        "--format",
        "y4m",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (header, md5s) = y4m_frames(&output.stdout);
    assert!(header.starts_with("YUV4MPEG2 W320 H240 F25:1"), "{header}");
    let expected: Vec<String> = [3, 4, 5, 60]
        .iter()
        .map(|&n| reference[n].1.clone())
        .collect();
    assert_eq!(md5s, expected);
}

#[test]
fn stdin_in_and_an_image_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file_output = dir.path().join("from-file.png");
    let output = stillframe(&[
        "grab",
        &fixture("high_bframes.mp4"),
        "--at",
        "2.5",
        "-o",
        file_output.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_stillframe"))
        .args(["grab", "-", "--at", "2.5", "-o", "-", "--format", "png"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let clip = std::fs::read(fixture("high_bframes.mp4")).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&clip));
    let piped = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(piped.stdout, std::fs::read(&file_output).unwrap());
    // Several images cannot share standard output.
    let several = stillframe(&[
        "grab",
        &fixture("high_bframes.mp4"),
        "--at",
        "1,2",
        "-o",
        "-",
    ]);
    assert_eq!(several.status.code(), Some(2));
    assert!(several.stdout.is_empty());
}

#[test]
fn a_closed_pipe_ends_the_job_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stillframe"))
        .args([
            "grab",
            &fixture("mkv/long.mkv"),
            "--every",
            "0.5",
            "--json",
            "-o",
        ])
        .arg(tempfile::tempdir().unwrap().keep().join("f-{i}.png"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader goes away after one line, as `| head -1` does.
    let output = child.wait_with_output().unwrap();
    assert!(first.starts_with('{'), "{first:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(141), "{stderr}");
}

#[test]
fn folders_and_several_inputs_run_in_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = format!("{}/{{stem}}-{{n}}.jpg", dir.path().display());
    let output = stillframe(&[
        "grab",
        &fixture("vp9"),
        &fixture("high_bframes.mp4"),
        "--at",
        "0",
        "--jobs",
        "2",
        "--json",
        "-o",
        &pattern,
    ]);
    let lines = common::json_lines(&output);
    // The VP9 folder holds one file of a format rusty_vp9 refuses (4:4:0).
    assert_eq!(output.status.code(), Some(1));
    let mut inputs: Vec<&str> = lines.iter().map(|l| l["input"].as_str().unwrap()).collect();
    inputs.sort();
    let mut expected: Vec<String> = std::fs::read_dir(fixture("vp9"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("webm" | "mkv" | "mp4")
            )
        })
        .map(|p| p.display().to_string())
        .chain([fixture("high_bframes.mp4")])
        .collect();
    expected.sort();
    assert_eq!(
        inputs,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for line in &lines {
        if line["status"] == "succeeded" {
            let path = line["path"].as_str().unwrap();
            assert!(std::path::Path::new(path).exists(), "{path}");
        } else {
            assert!(
                line["input"]
                    .as_str()
                    .unwrap()
                    .ends_with("unsupported_440.mkv"),
                "{line}"
            );
        }
    }
}

#[test]
fn shards_split_a_folder_into_disjoint_parts() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = format!("{}/{{stem}}.png", dir.path().display());
    let all = |shard: Option<String>| {
        let mut args = vec![
            "grab".to_owned(),
            fixture("hevc"),
            "--at".to_owned(),
            "0".to_owned(),
            "--json".to_owned(),
            "-o".to_owned(),
            pattern.clone(),
        ];
        if let Some(shard) = shard {
            args.extend(["--shard".to_owned(), shard]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut inputs: Vec<String> = common::json_lines(&stillframe(&args))
            .iter()
            .map(|l| l["input"].as_str().unwrap().to_owned())
            .collect();
        inputs.sort();
        inputs
    };
    let everything = all(None);
    assert!(everything.len() >= 6, "{everything:?}");
    let mut parts: Vec<String> = (0..4).flat_map(|k| all(Some(format!("{k}/4")))).collect();
    parts.sort();
    assert_eq!(
        parts, everything,
        "the parts do not hold every input exactly once"
    );
}
