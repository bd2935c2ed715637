//! `stillframe probe` and `grab` on Matroska and WebM, run through the real binary:
//! the same contract as for MP4, with the container named `matroska` or `webm`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{stillframe, successful_json_lines as json_lines};

fn fixture(name: &str) -> String {
    common::fixture(&format!("mkv/{name}"))
}

#[test]
fn probe_json_names_matroska_and_counts_every_frame() {
    let probe = &json_lines(&stillframe(&["probe", &fixture("bframes.mkv"), "--json"]))[0];
    assert_eq!(probe["container"], "matroska");
    assert!(
        (probe["duration"].as_f64().unwrap() - 4.0).abs() < 0.1,
        "{probe}"
    );
    let tracks = probe["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2);
    let video = &tracks[0];
    assert_eq!(video["kind"], "video");
    assert_eq!(video["codec"], "h264");
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(320), Some(240))
    );
    // probe indexes the whole file, Cues or not.
    assert_eq!(video["frames"], 100);
    assert_eq!(video["keyframes"], 4);
    assert_eq!(video["bit_depth"], 8);
    assert_eq!(tracks[1]["kind"], "audio");
    assert_eq!(tracks[1]["codec"], "aac");
    let scanned = &json_lines(&stillframe(&["probe", &fixture("nocues.mkv"), "--json"]))[0];
    assert_eq!(scanned["tracks"][0]["frames"], 100);
}

#[test]
fn probe_json_names_webm() {
    let probe = &json_lines(&stillframe(&["probe", &fixture("av1.webm"), "--json"]))[0];
    assert_eq!(probe["container"], "webm");
    assert_eq!(probe["tracks"][0]["codec"], "av1");
    assert_eq!(probe["tracks"][0]["frames"], 25);
}

#[test]
fn probe_reports_matroska_display_size_and_roll() {
    let probe = &json_lines(&stillframe(&["probe", &fixture("props.mkv"), "--json"]))[0];
    let video = &probe["tracks"][0];
    // ffprobe: rotation +90 counter-clockwise, SAR 3:2.
    assert_eq!(video["rotation"], 270);
    assert_eq!(video["pixel_aspect"], serde_json::json!([3, 2]));
}

#[test]
fn probe_of_a_truncated_file_reports_what_survived() {
    let probe = &json_lines(&stillframe(&["probe", &fixture("truncated.mkv"), "--json"]))[0];
    assert_eq!(probe["container"], "matroska");
    assert!(probe["tracks"][0]["frames"].as_u64().unwrap() >= 45);
}

#[test]
fn grab_writes_the_exact_frame_of_a_late_time() {
    let dir = tempfile::tempdir().unwrap();
    for (file, at, actual) in [
        ("long.mkv", "59.55", 59.5),
        ("bframes.mkv", "2.5", 2.461),
        ("unknown_size.mkv", "00:01.010", 1.0),
    ] {
        let path = dir.path().join(format!("{file}.png")).display().to_string();
        let lines = json_lines(&stillframe(&[
            "grab",
            &fixture(file),
            "--at",
            at,
            "--exact",
            "-o",
            &path,
            "--json",
        ]));
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["status"], "succeeded", "{file}: {}", lines[0]);
        assert!(
            (lines[0]["actual"].as_f64().unwrap() - actual).abs() < 1e-9,
            "{file}: {}",
            lines[0]
        );
        let size = image::image_dimensions(&path).unwrap();
        let expected = if file == "long.mkv" {
            (160, 90)
        } else {
            (320, 240)
        };
        assert_eq!(size, expected, "{file}");
    }
}

#[test]
fn grab_past_the_cut_of_a_truncated_file_fails_that_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.png").display().to_string();
    let output = stillframe(&[
        "grab",
        &fixture("truncated_cues.mkv"),
        "--at",
        "2.8",
        "--exact",
        "-o",
        &path,
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1), "a failed request exits 1");
    let lines = common::json_lines(&output);
    assert_eq!(lines[0]["status"], "failed");
    assert!(
        lines[0]["error"].to_string().contains("trunc"),
        "{}",
        lines[0]
    );
}
