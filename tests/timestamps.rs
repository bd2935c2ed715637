//! Every presented frame's timestamp equals ffmpeg's, edit lists and fragments included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use stillframe::{Asset, Time};

use common::{assert_timestamps_match, presented_times};

macro_rules! timestamp_tests {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(#[test] fn $name() { assert_timestamps_match($file); })*
    };
}

timestamp_tests! {
    baseline => "baseline.mp4",
    high_bframes => "high_bframes.mp4",
    main_cabac_ntsc => "main_cabac.mp4",
    editlist => "editlist.mp4",
    editlist_unaligned => "editlist_unaligned.mp4",
    rotated_mov => "rotated.mov",
    rotated270 => "rotated270.mp4",
    anamorphic => "anamorphic.mp4",
    fragmented => "fragmented.mp4",
    fragmented_every_frame => "fragmented_every_frame.mp4",
    moov_at_end => "moov_at_end.mp4",
    open_gop => "open_gop.mp4",
    bt601_full => "bt601_full.mp4",
    hd720 => "hd720.mp4",
    high10 => "high10.mp4",
    yuv444 => "yuv444.mp4",
    interlaced => "interlaced.mp4",
}

/// ffmpeg decodes only what survived the cut; our index (from the whole moov) has
/// every sample, and the survivors' times must agree.
#[test]
fn truncated_keeps_the_timeline_of_the_survivors() {
    let ours = presented_times("truncated.mp4");
    let theirs: Vec<Time> = common::reference("truncated.mp4")
        .frames
        .iter()
        .map(|f| f.pts)
        .collect();
    assert!(
        ours.len() > theirs.len(),
        "the moov should list the lost samples too"
    );
    assert_eq!(&ours[..theirs.len()], &theirs[..]);
}

#[test]
fn the_editlist_hides_frames_that_stay_decodable() {
    let asset = Asset::open(common::fixture("editlist.mp4")).unwrap();
    let track = asset.first_video_track().unwrap();
    let samples = asset.samples(track.index).unwrap();
    let hidden = samples.iter().filter(|s| !s.presented).count();
    assert!(
        hidden > 0,
        "editlist.mp4 should hide the frames before its edit"
    );
    assert_eq!(
        samples.len() - hidden,
        common::reference("editlist.mp4").frames.len()
    );
}
