//! The planner against real sample tables and against its invariants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use stillframe_core::{SampleInfo, Time, Tolerance};
use stillframe_seek::{plan, DecoderPosition, FrameIndex, Start};

/// x264 `-bf 3 -b-pyramid normal`, keyint 8, timescale 12800, 25 fps (512 ticks a frame),
/// as ffmpeg's MP4 muxer writes it: decode order `I P B B B P B B` with pts in frames
/// `0 4 2 1 3 7 5 6`, then the next GOP; dts starts at -2 frames.
fn x264_pyramid() -> Vec<SampleInfo> {
    let gop = [0i64, 4, 2, 1, 3, 7, 5, 6];
    (0..16)
        .map(|i: i64| {
            let gop_index = i / 8;
            let frame = gop_index * 8 + gop[(i % 8) as usize];
            SampleInfo {
                offset: 0,
                size: 100,
                dts: (i - 2) * 512,
                pts: frame * 512,
                duration: 512,
                sync: i % 8 == 0,
                presented: true,
                description: 0,
            }
        })
        .collect()
}

fn t(value: i64, timescale: u32) -> Time {
    Time::new(value, timescale).unwrap()
}

#[test]
fn exact_plan_picks_the_frame_on_screen_under_reordering() {
    let index = FrameIndex::new(&x264_pyramid());
    index.sanity_check().unwrap();
    // Frame 3 (pts 1536) is decode index 4; decoding starts at the I-frame (index 0).
    let at_frame_3 = plan(&index, 12800, t(1536, 12800), Tolerance::ZERO, None).unwrap();
    assert_eq!((at_frame_3.target.sample, at_frame_3.target.pts), (4, 1536));
    assert_eq!(at_frame_3.start, Start::Restart { from: 0 });
    assert_eq!(at_frame_3.cost, 5);
    // Just before frame 3 is still frame 2.
    let before = plan(&index, 12800, t(1535, 12800), Tolerance::ZERO, None).unwrap();
    assert_eq!(before.target.pts, 1024);
    // Between frames in another timescale: 0.13 s is frame 3 (0.12 s).
    let between = plan(&index, 12800, t(13, 100), Tolerance::ZERO, None).unwrap();
    assert_eq!(between.target.pts, 1536);
    // Second GOP starts at decode index 8.
    let second = plan(&index, 12800, t(9 * 512, 12800), Tolerance::ZERO, None).unwrap();
    assert_eq!(second.start, Start::Restart { from: 8 });
}

#[test]
fn time_before_the_first_frame_gives_the_first_frame() {
    let index = FrameIndex::new(&x264_pyramid());
    let p = plan(&index, 12800, t(-5, 1), Tolerance::ZERO, None).unwrap();
    assert_eq!(p.target.pts, 0);
}

#[test]
fn time_past_the_end_fails_unless_tolerance_reaches_back() {
    let index = FrameIndex::new(&x264_pyramid());
    let end = t(16 * 512, 12800);
    assert!(plan(&index, 12800, end, Tolerance::ZERO, None).is_err());
    // Reaching back one frame admits only the last frame.
    let one_frame_back = Tolerance::new(t(512, 12800), Time::ZERO).unwrap();
    let last = plan(&index, 12800, end, one_frame_back, None).unwrap();
    assert_eq!(last.target.pts, 15 * 512);
    // An infinite window admits every frame, and the cheapest (a keyframe) wins.
    let any = plan(&index, 12800, end, Tolerance::INFINITE, None).unwrap();
    assert_eq!((any.target.pts, any.cost), (8 * 512, 1));
    let short_reach = Tolerance::new(t(1, 100), Time::ZERO).unwrap();
    assert!(plan(&index, 12800, t(20, 1), short_reach, None).is_err());
}

/// Two frames, the second at the last tick an `i64` holds, 12800 ticks a second.
fn frames_at_the_end_of_the_tick_range() -> Vec<SampleInfo> {
    [0, i64::MAX]
        .into_iter()
        .map(|pts| SampleInfo {
            offset: 0,
            size: 1,
            dts: pts,
            pts,
            duration: 512,
            sync: true,
            presented: true,
            description: 0,
        })
        .collect()
}

#[test]
fn windows_beyond_the_tick_range_hold_no_frame_at_its_end() {
    // Found by the planner fuzz target: a window past everything an i64 of ticks
    // can say was clamped onto the frame at i64::MAX ticks (7.2e14 s).
    let index = FrameIndex::new(&frames_at_the_end_of_the_tick_range());
    let last = i64::MAX as f64 / 12800.0;
    let beyond = t(9_151_314_442_816_848_796, 924); // 9.9e15 s
    let window = Tolerance::new(t(4_389_000_000_000_000, 1), t(82, 1)).unwrap();
    assert!(plan(&index, 12800, beyond, window, None).is_err());
    let at_infinity = Tolerance::new(Time::ZERO, Time::POSITIVE_INFINITY).unwrap();
    assert!(plan(&index, 12800, Time::POSITIVE_INFINITY, at_infinity, None).is_err());
    // A window reaching back over the tick range's end holds that frame...
    let reaching_back = Tolerance::new(Time::POSITIVE_INFINITY, Time::ZERO).unwrap();
    let p = plan(&index, 12800, beyond, reaching_back, None).unwrap();
    assert_eq!(p.target.pts, i64::MAX);
    assert!(Time::new(p.target.pts, 12800).unwrap().as_secs_f64() >= last);
    // ...and one from before the range's start to far beyond its end holds both.
    let everything = Tolerance::INFINITE;
    let p = plan(&index, 12800, t(-1, 1), everything, None).unwrap();
    assert_eq!(p.target.pts, 0);
    // Before the tick range, as before the first frame, the first frame shows.
    let before_range = t(i64::MIN, 1);
    let p = plan(&index, 12800, before_range, Tolerance::ZERO, None).unwrap();
    assert_eq!(p.target.pts, 0);
}

#[test]
fn infinite_tolerance_prefers_a_keyframe() {
    let index = FrameIndex::new(&x264_pyramid());
    // Frame 6 is on screen at 0.25 s and costs 8 samples; the keyframe at frame 8 costs 1.
    let p = plan(&index, 12800, t(25, 100), Tolerance::INFINITE, None).unwrap();
    assert_eq!(p.target.pts, 8 * 512);
    assert_eq!(p.cost, 1);
}

#[test]
fn window_without_keyframe_gives_cheapest_frame_inside() {
    let index = FrameIndex::new(&x264_pyramid());
    // Window [frame 1, frame 3]: frame 2 (decode index 2, cost 3) beats frames 1 (cost 4) and 3 (cost 5).
    let reach = Tolerance::symmetric(t(512, 12800)).unwrap();
    let p = plan(&index, 12800, t(2 * 512, 12800), reach, None).unwrap();
    assert_eq!((p.target.pts, p.cost), (1024, 3));
}

#[test]
fn running_decoder_continues_within_the_gop() {
    let index = FrameIndex::new(&x264_pyramid());
    let running = DecoderPosition {
        started_at: 0,
        next_sample: 5,
        last_output_pts: Some(3 * 512),
    };
    let p = plan(
        &index,
        12800,
        t(6 * 512, 12800),
        Tolerance::ZERO,
        Some(&running),
    )
    .unwrap();
    assert_eq!(p.start, Start::Continue);
    assert_eq!(p.cost, 3); // frame 6 is decode index 7: samples 5, 6 and 7
                           // A frame already output cannot come again: restart.
    let again = plan(
        &index,
        12800,
        t(2 * 512, 12800),
        Tolerance::ZERO,
        Some(&running),
    )
    .unwrap();
    assert_eq!(again.start, Start::Restart { from: 0 });
}

#[test]
fn demoted_sync_sample_moves_the_start_back() {
    let mut samples = x264_pyramid();
    samples[4].sync = true;
    let mut index = FrameIndex::new(&samples);
    let p = plan(&index, 12800, t(7 * 512, 12800), Tolerance::ZERO, None).unwrap();
    assert_eq!(p.start, Start::Restart { from: 4 });
    index.demote(4);
    let p = plan(&index, 12800, t(7 * 512, 12800), Tolerance::ZERO, None).unwrap();
    assert_eq!(p.start, Start::Restart { from: 0 });
}

#[test]
fn hidden_frames_are_never_targets() {
    let mut samples = x264_pyramid();
    for sample in samples.iter_mut().filter(|s| s.pts < 3 * 512) {
        sample.presented = false;
    }
    let index = FrameIndex::new(&samples);
    let p = plan(&index, 12800, Time::ZERO, Tolerance::ZERO, None).unwrap();
    assert_eq!(p.target.pts, 3 * 512);
    assert_eq!(p.start, Start::Restart { from: 0 });
}

fn arbitrary_track() -> impl Strategy<Value = Vec<SampleInfo>> {
    prop::collection::vec((0i64..40, any::<bool>(), any::<bool>(), 0u32..3), 1..60).prop_map(
        |raw| {
            raw.into_iter()
                .enumerate()
                .map(|(i, (pts, sync, hidden, duration))| SampleInfo {
                    offset: 0,
                    size: 1,
                    dts: i as i64,
                    pts,
                    duration,
                    sync: sync || i == 0,
                    presented: !hidden || i == 0,
                    description: 0,
                })
                .collect()
        },
    )
}

proptest! {
    #[test]
    fn exact_plans_pick_the_last_frame_at_or_before(samples in arbitrary_track(), at in -5i64..50) {
        let index = FrameIndex::new(&samples);
        prop_assert!(index.sanity_check().is_ok());
        let end = index.end_pts().unwrap();
        match plan(&index, 1, Time::from_secs(at), Tolerance::ZERO, None) {
            Ok(p) => {
                prop_assert!(at < end);
                let presented: Vec<&SampleInfo> = samples.iter().filter(|s| s.presented).collect();
                let expected = presented.iter().map(|s| s.pts).filter(|&p| p <= at).max()
                    .unwrap_or_else(|| presented.iter().map(|s| s.pts).min().unwrap());
                prop_assert_eq!(p.target.pts, expected);
                let Start::Restart { from } = p.start else { panic!("no decoder, yet Continue") };
                prop_assert!(from <= p.target.sample);
                prop_assert!(from == 0 || samples[from as usize].sync);
                prop_assert!(!samples[(from + 1) as usize..=p.target.sample as usize].iter().any(|s| s.sync));
                prop_assert_eq!(p.cost, u64::from(p.target.sample - from) + 1);
            }
            Err(_) => prop_assert!(at >= end),
        }
    }

    #[test]
    fn windowed_plans_stay_acceptable_and_never_cost_more(samples in arbitrary_track(), at in -5i64..50, before in 0i64..10, after in 0i64..10) {
        let index = FrameIndex::new(&samples);
        let tolerance = Tolerance::new(Time::from_secs(before), Time::from_secs(after)).unwrap();
        let exact = plan(&index, 1, Time::from_secs(at), Tolerance::ZERO, None);
        if let Ok(p) = plan(&index, 1, Time::from_secs(at), tolerance, None) {
            let in_window = at - before <= p.target.pts && p.target.pts <= at + after;
            let is_on_screen = exact.as_ref().is_ok_and(|e| e.target.sample == p.target.sample);
            prop_assert!(in_window || is_on_screen);
            if let Ok(e) = exact {
                prop_assert!(p.cost <= e.cost);
            }
        } else {
            prop_assert!(exact.is_err());
        }
    }
}
