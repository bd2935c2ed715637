//! `stillframe sheet`: the tiles are grab's thumbnails, the VTT covers the timeline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{fixture, stillframe, successful_json_lines};

#[test]
fn tiles_are_the_thumbnails_and_the_vtt_covers_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = dir.path().join("sheet.png");
    let vtt = dir.path().join("thumbs.vtt");
    let described = successful_json_lines(&stillframe(&[
        "sheet",
        &fixture("mkv/long.mkv"),
        "--every",
        "7",
        "--columns",
        "4",
        "--max-size",
        "96x0",
        "-o",
        sheet.to_str().unwrap(),
        "--vtt",
        vtt.to_str().unwrap(),
        "--json",
    ]))
    .remove(0);
    let tiles = described["tiles"].as_array().unwrap();
    // 60 s in 7 s steps: 9 tiles, 3 rows of 4.
    assert_eq!(tiles.len(), 9);
    assert_eq!(
        (described["columns"].as_u64(), described["rows"].as_u64()),
        (Some(4), Some(3))
    );
    let image = image::open(&sheet).unwrap().to_rgb8();
    let (w, h) = (
        described["tile_width"].as_u64().unwrap() as u32,
        described["tile_height"].as_u64().unwrap() as u32,
    );
    assert_eq!((image.width(), image.height()), (4 * w, 3 * h));
    // Each tile is the image grab makes for its time, pixel for pixel.
    for tile in [&tiles[0], &tiles[5], &tiles[8]] {
        let at = tile["start"].as_f64().unwrap().to_string();
        let single = dir.path().join("single.png");
        let grabbed = successful_json_lines(&stillframe(&[
            "grab",
            &fixture("mkv/long.mkv"),
            "--at",
            &at,
            "--max-size",
            "96x0",
            "--json",
            "-o",
            single.to_str().unwrap(),
        ]));
        assert_eq!(grabbed[0]["actual"], tile["actual"], "tile at {at}");
        let thumbnail = image::open(&single).unwrap().to_rgb8();
        let (x, y) = (
            tile["x"].as_u64().unwrap() as u32,
            tile["y"].as_u64().unwrap() as u32,
        );
        let cut = image::imageops::crop_imm(&image, x, y, thumbnail.width(), thumbnail.height())
            .to_image();
        assert_eq!(cut, thumbnail, "tile at {at}");
    }
    // Cues follow each other from the first frame to the end, each naming its tile.
    let text = std::fs::read_to_string(&vtt).unwrap();
    assert!(text.starts_with("WEBVTT\n"));
    let cues: Vec<(&str, &str, &str)> = text
        .split("\n\n")
        .skip(1)
        .map(|cue| {
            let (timing, target) = cue.trim().split_once('\n').unwrap();
            let (from, to) = timing.split_once(" --> ").unwrap();
            (from, to, target)
        })
        .collect();
    assert_eq!(cues.len(), 9);
    assert_eq!(cues[0].0, "00:00:00.000");
    assert_eq!(cues[8].1, "00:01:00.000");
    for pair in cues.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "a gap or overlap between cues");
    }
    assert_eq!(cues[5].2, format!("sheet.png#xywh={},{},{w},{h}", w, h));
}

#[test]
fn timestamps_are_drawn_and_counts_are_even() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.png");
    let labelled = dir.path().join("labelled.png");
    for (path, extra) in [(&plain, None), (&labelled, Some("--timestamps"))] {
        let mut args = vec![
            "sheet",
            &*Box::leak(fixture("high_bframes.mp4").into_boxed_str()),
            "--count",
            "5",
            "--json",
            "-o",
            path.to_str().unwrap(),
        ];
        args.extend(extra);
        let described = successful_json_lines(&stillframe(&args)).remove(0);
        let starts: Vec<f64> = described["tiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["start"].as_f64().unwrap())
            .collect();
        assert_eq!(starts, [0.0, 1.0, 2.0, 3.0, 4.0]);
    }
    assert_ne!(
        image::open(&plain).unwrap(),
        image::open(&labelled).unwrap()
    );
    let too_many = stillframe(&[
        "sheet",
        &fixture("high_bframes.mp4"),
        "--count",
        "20000",
        "-o",
        "x.png",
    ]);
    assert_eq!(too_many.status.code(), Some(2));
}
