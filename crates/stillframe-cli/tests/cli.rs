//! The command-line contract, run through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Output;

use common::{fixture, json_lines, stillframe};

fn one_line_stderr(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr)
        .trim_end()
        .to_owned();
    assert_eq!(text.lines().count(), 1, "stderr is not one line: {text:?}");
    text
}

#[test]
fn probe_json_follows_the_contract() {
    let output = stillframe(&["probe", &fixture("high_bframes.mp4"), "--json"]);
    assert!(output.status.success());
    let probe = &json_lines(&output)[0];
    assert_eq!(probe["container"], "mp4");
    assert!((probe["duration"].as_f64().unwrap() - 5.0).abs() < 0.05);
    let tracks = probe["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2);
    let video = &tracks[0];
    assert_eq!(video["index"], 0);
    assert_eq!(video["kind"], "video");
    assert_eq!(video["codec"], "h264");
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(320), Some(240))
    );
    assert_eq!(video["frames"], 125);
    assert_eq!(video["keyframes"], 3);
    assert_eq!(video["rotation"], 0);
    assert_eq!(video["pixel_aspect"], serde_json::json!([1, 1]));
    assert_eq!(video["bit_depth"], 8);
    assert_eq!(tracks[1]["kind"], "audio");
    assert_eq!(tracks[1]["codec"], "aac");
}

#[test]
fn probe_reports_mov_rotation_aspect_and_bit_depth() {
    let mov = &json_lines(&stillframe(&["probe", &fixture("rotated.mov"), "--json"]))[0];
    assert_eq!(mov["container"], "mov");
    // ffmpeg reports +90 (counter-clockwise); upright needs a 270° clockwise turn.
    assert_eq!(mov["tracks"][0]["rotation"], 270);
    let phone = &json_lines(&stillframe(&[
        "probe",
        &fixture("rotated270.mp4"),
        "--json",
    ]))[0];
    assert_eq!(phone["tracks"][0]["rotation"], 90);
    let wide = &json_lines(&stillframe(&[
        "probe",
        &fixture("anamorphic.mp4"),
        "--json",
    ]))[0];
    assert_eq!(
        wide["tracks"][0]["pixel_aspect"],
        serde_json::json!([12, 11])
    );
    let deep = &json_lines(&stillframe(&["probe", &fixture("high10.mp4"), "--json"]))[0];
    assert_eq!(deep["tracks"][0]["bit_depth"], 10);
    let cut = &json_lines(&stillframe(&["probe", &fixture("editlist.mp4"), "--json"]))[0];
    assert_eq!(cut["tracks"][0]["frames"], 67);
}

#[test]
fn probe_of_a_broken_file_exits_nonzero_with_one_line() {
    let output = stillframe(&["probe", &fixture("broken_random.mp4"), "--json"]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    one_line_stderr(&output);
}

#[test]
fn grab_writes_each_format_and_reports_json() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = dir.path().join("shot-{i}.png").display().to_string();
    let output = stillframe(&[
        "grab",
        &fixture("high_bframes.mp4"),
        "--at",
        "2.5,00:01.000",
        "--at",
        "1001/30000",
        "--exact",
        "-o",
        &pattern,
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 3);
    for (i, (line, actual)) in lines.iter().zip([2.48, 1.0, 0.0]).enumerate() {
        assert_eq!(line["index"], i);
        assert_eq!(line["status"], "succeeded");
        assert!(line["error"].is_null());
        assert!(
            (line["actual"].as_f64().unwrap() - actual).abs() < 1e-9,
            "{line}"
        );
        let path = line["path"].as_str().unwrap();
        assert_eq!(image::image_dimensions(path).unwrap(), (320, 240));
    }
    assert!((lines[2]["requested"].as_f64().unwrap() - 1001.0 / 30000.0).abs() < 1e-12);
    for extension in ["jpg", "webp"] {
        let path = dir
            .path()
            .join(format!("one.{extension}"))
            .display()
            .to_string();
        let output = stillframe(&["grab", &fixture("baseline.mp4"), "--at", "1", "-o", &path]);
        assert!(output.status.success());
        assert_eq!(image::image_dimensions(&path).unwrap(), (320, 240));
    }
}

#[test]
fn grab_applies_transform_unless_told_not_to_and_fits_max_size() {
    let dir = tempfile::tempdir().unwrap();
    let upright = dir.path().join("up.png").display().to_string();
    let raw = dir.path().join("raw.png").display().to_string();
    let small = dir.path().join("small.png").display().to_string();
    let file = fixture("rotated270.mp4");
    assert!(stillframe(&["grab", &file, "--at", "0.5", "-o", &upright])
        .status
        .success());
    assert!(
        stillframe(&["grab", &file, "--at", "0.5", "--no-transform", "-o", &raw])
            .status
            .success()
    );
    assert!(stillframe(&[
        "grab",
        &file,
        "--at",
        "0.5",
        "--max-size",
        "0x80",
        "-o",
        &small
    ])
    .status
    .success());
    assert_eq!(image::image_dimensions(&upright).unwrap(), (240, 320));
    assert_eq!(image::image_dimensions(&raw).unwrap(), (320, 240));
    assert_eq!(image::image_dimensions(&small).unwrap(), (60, 80));
    let wide = dir.path().join("wide.png").display().to_string();
    let encoded = dir.path().join("enc.png").display().to_string();
    let anamorphic = fixture("anamorphic.mp4");
    assert!(stillframe(&["grab", &anamorphic, "--at", "0", "-o", &wide])
        .status
        .success());
    assert!(stillframe(&[
        "grab",
        &anamorphic,
        "--at",
        "0",
        "--aperture",
        "encoded",
        "-o",
        &encoded
    ])
    .status
    .success());
    assert_eq!(image::image_dimensions(&wide).unwrap(), (384, 288));
    assert_eq!(image::image_dimensions(&encoded).unwrap(), (352, 288));
}

#[test]
fn grab_exit_status_distinguishes_failed_requests_from_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = dir.path().join("f-{i}.png").display().to_string();
    // One request past the end: exit 1, a failed line, the other still written.
    let output = stillframe(&[
        "grab",
        &fixture("baseline.mp4"),
        "--at",
        "1,99",
        "--exact",
        "-o",
        &pattern,
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let lines = json_lines(&output);
    assert_eq!(lines[0]["status"], "succeeded");
    assert_eq!(lines[1]["status"], "failed");
    assert!(lines[1]["actual"].is_null() && lines[1]["path"].is_null());
    assert!(lines[1]["error"].as_str().unwrap().contains("no frame"));
    // Usage errors and unopenable inputs: exit 2, one line, no JSON claiming success.
    for args in [
        vec!["grab", &fixture("baseline.mp4")[..], "--at", "twelve"],
        vec![
            "grab",
            &fixture("baseline.mp4")[..],
            "--at",
            "1",
            "--exact",
            "--before",
            "1",
        ],
        vec![
            "grab",
            &fixture("baseline.mp4")[..],
            "--at",
            "1",
            "-o",
            "out.gif",
        ],
        vec!["grab", "/nonexistent.mp4", "--at", "1", "--json"],
        vec![
            "grab",
            &fixture("broken_stsz.mp4")[..],
            "--at",
            "1",
            "--json",
        ],
    ] {
        let output = stillframe(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&output.stdout).contains("succeeded"));
        assert!(!output.stderr.is_empty());
    }
    let unopenable = stillframe(&["grab", "/nonexistent.mp4", "--at", "1"]);
    one_line_stderr(&unopenable);
}

#[test]
fn grab_with_tolerance_window_reports_the_actual_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.png").display().to_string();
    // Keyframes at 0, 2 and 4 s; a window of ±0.5 s around 2.3 s holds the one at 2 s.
    let output = stillframe(&[
        "grab",
        &fixture("high_bframes.mp4"),
        "--at",
        "2.3",
        "--before",
        "0.5",
        "--after",
        "0.5",
        "-o",
        &path,
        "--json",
    ]);
    assert!(output.status.success());
    assert_eq!(json_lines(&output)[0]["actual"].as_f64(), Some(2.0));
}
