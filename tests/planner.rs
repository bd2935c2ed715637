//! The exact planner picks ffmpeg's frame at, just before, and between every frame.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use stillframe::{Asset, Time, Tolerance};
use stillframe_seek::{plan, FrameIndex};

fn check(file: &str) {
    let asset = Asset::open(common::fixture(file)).unwrap();
    let track = asset.first_video_track().unwrap().clone();
    let index = FrameIndex::new(asset.samples(track.index).unwrap());
    index.sanity_check().unwrap();
    let timescale = track.timescale.get();
    let frames = common::reference(file).frames;
    let exact = |t: Time| {
        plan(&index, timescale, t, Tolerance::ZERO, None)
            .map(|p| Time::from_ticks(p.target.pts, track.timescale))
    };
    let epsilon = Time::new(1, 1_000_000).unwrap();
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!(exact(frame.pts).unwrap(), frame.pts, "{file}: at frame {i}");
        let just_before = frame.pts.checked_sub(epsilon).unwrap();
        let expected_before = if i == 0 { frame.pts } else { frames[i - 1].pts };
        assert_eq!(
            exact(just_before).unwrap(),
            expected_before,
            "{file}: just before frame {i}"
        );
        if let Some(next) = frames.get(i + 1) {
            let (a, b) = (frame.pts.ticks().unwrap(), next.pts.ticks().unwrap());
            assert_eq!(a.1, b.1);
            let between = Time::new(a.0 + b.0, a.1.get() * 2).unwrap();
            assert_eq!(
                exact(between).unwrap(),
                frame.pts,
                "{file}: between frames {i} and {}",
                i + 1
            );
        }
    }
    let far = frames
        .last()
        .unwrap()
        .pts
        .checked_add(Time::from_secs(10))
        .unwrap();
    assert!(
        exact(far).is_err(),
        "{file}: a time 10 s past the end must fail"
    );
    assert_eq!(
        exact(Time::from_secs(-3)).unwrap(),
        frames[0].pts,
        "{file}: before the first frame"
    );
}

macro_rules! planner_tests {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(#[test] fn $name() { check($file); })*
    };
}

planner_tests! {
    baseline => "baseline.mp4",
    high_bframes => "high_bframes.mp4",
    main_cabac_ntsc => "main_cabac.mp4",
    editlist => "editlist.mp4",
    editlist_unaligned => "editlist_unaligned.mp4",
    fragmented => "fragmented.mp4",
    moov_at_end => "moov_at_end.mp4",
    open_gop => "open_gop.mp4",
    rotated_mov => "rotated.mov",
}
