//! The exact planner picks ffmpeg's frame at, just before, and between every frame.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::assert_planner_matches as check;

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
