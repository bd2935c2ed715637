//! The planner against real sample tables and against its invariants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use std::num::NonZeroU32;
use stillframe_core::{SampleInfo, Time, Tolerance};

use stillframe_seek::{choose, choose_frame, plan, Choice, FrameIndex, Target};

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

fn index_of(samples: &[SampleInfo], timescale: u32) -> FrameIndex {
    let index = FrameIndex::new(samples, NonZeroU32::new(timescale).unwrap());
    index.sanity_check().unwrap();
    index
}

fn pyramid() -> FrameIndex {
    index_of(&x264_pyramid(), 12800)
}

#[test]
fn exact_choice_picks_the_frame_on_screen_under_reordering() {
    let index = pyramid();
    // Frame 3 (pts 1536) is decode index 4; decoding starts at the I-frame (index 0).
    let at_frame_3 = choose(&index, t(1536, 12800), Tolerance::ZERO).unwrap();
    assert_eq!((at_frame_3.frame.sample, at_frame_3.frame.pts), (4, 1536));
    assert_eq!((at_frame_3.entry, at_frame_3.cost), (0, 5));
    // Just before frame 3 is still frame 2.
    let before = choose(&index, t(1535, 12800), Tolerance::ZERO).unwrap();
    assert_eq!(before.frame.pts, 1024);
    // Between frames in another timescale: 0.13 s is frame 3 (0.12 s).
    let between = choose(&index, t(13, 100), Tolerance::ZERO).unwrap();
    assert_eq!(between.frame.pts, 1536);
    // Second GOP starts at decode index 8.
    let second = choose(&index, t(9 * 512, 12800), Tolerance::ZERO).unwrap();
    assert_eq!(second.entry, 8);
}

#[test]
fn frame_numbers_are_presentation_positions() {
    let index = pyramid();
    let third = choose_frame(&index, 3).unwrap();
    assert_eq!(
        (third.frame.pts, third.frame.sample, third.cost),
        (1536, 4, 5)
    );
    let error = choose_frame(&index, 16).unwrap_err();
    assert_eq!(error.kind(), stillframe_core::ErrorKind::OutOfRange);
    assert!(error.to_string().contains("16 frames"), "{error}");
}

#[test]
fn time_before_the_first_frame_gives_the_first_frame() {
    let index = pyramid();
    for tolerance in [Tolerance::ZERO, Tolerance::INFINITE] {
        let p = choose(&index, t(-5, 1), tolerance).unwrap();
        assert_eq!(p.frame.pts, 0);
    }
}

#[test]
fn past_the_end_only_the_last_frame_serves_and_only_if_the_window_reaches_it() {
    let index = pyramid();
    let end = t(16 * 512, 12800);
    assert!(choose(&index, end, Tolerance::ZERO).is_err());
    // Reaching back one frame admits the last frame.
    let one_frame_back = Tolerance::new(t(512, 12800), Time::ZERO).unwrap();
    assert_eq!(
        choose(&index, end, one_frame_back).unwrap().frame.pts,
        15 * 512
    );
    // A window reaching back far admits it too, not a cheaper keyframe.
    let far_back = Tolerance::new(t(10, 1), Time::ZERO).unwrap();
    assert_eq!(choose(&index, end, far_back).unwrap().frame.pts, 15 * 512);
    // +∞ with an infinite tolerance: the last frame.
    let last = choose(&index, Time::POSITIVE_INFINITY, Tolerance::INFINITE).unwrap();
    assert_eq!(last.frame.pts, 15 * 512);
    let short_reach = Tolerance::new(t(1, 100), Time::ZERO).unwrap();
    assert!(choose(&index, t(20, 1), short_reach).is_err());
}

/// Two frames, the second at the last tick an `i64` holds, 12800 ticks a second.
fn frames_at_the_end_of_the_tick_range() -> Vec<SampleInfo> {
    [0, i64::MAX - 600]
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
fn windows_beyond_the_tick_range_hold_no_frame() {
    // Found by the planner fuzz target: a window past everything an i64 of ticks
    // can say was clamped onto the frame at the range's end.
    let index = index_of(&frames_at_the_end_of_the_tick_range(), 12800);
    let inside = t(1_000_000_000_000, 1);
    let window = Tolerance::new(t(1, 1), t(4_389_000_000_000_000, 1)).unwrap();
    // The window's far side lies beyond the range; the frame at its end is not in it.
    let p = choose(&index, inside, window).unwrap();
    assert_eq!(p.frame.pts, 0, "only the frame on screen serves");
    // One from before the range's start to far beyond its end holds both keyframes;
    // the one nearer the requested time wins.
    let p = choose(&index, t(-1, 1), Tolerance::INFINITE).unwrap();
    assert_eq!(p.frame.pts, 0);
    // Before the tick range, as before the first frame, the first frame shows.
    let p = choose(&index, t(i64::MIN, 1), Tolerance::ZERO).unwrap();
    assert_eq!(p.frame.pts, 0);
}

#[test]
fn infinite_tolerance_takes_the_nearest_keyframe() {
    let index = pyramid();
    // Frame 6 is on screen at 0.25 s and costs 8 samples; the keyframe at frame 8
    // (0.32 s) costs 1 and is nearer than the one at 0.
    let p = choose(&index, t(25, 100), Tolerance::INFINITE).unwrap();
    assert_eq!((p.frame.pts, p.cost), (8 * 512, 1));
    let p = choose(&index, t(15, 100), Tolerance::INFINITE).unwrap();
    assert_eq!((p.frame.pts, p.cost), (0, 1));
    // Halfway between two keyframes: the earlier.
    let p = choose(&index, t(4 * 512, 12800), Tolerance::INFINITE).unwrap();
    assert_eq!(p.frame.pts, 0);
}

#[test]
fn window_without_keyframe_gives_cheapest_frame_inside() {
    let index = pyramid();
    // Window [frame 1, frame 3]: frame 2 (decode index 2, cost 3) beats frames 1
    // (cost 4) and 3 (cost 5).
    let reach = Tolerance::symmetric(t(512, 12800)).unwrap();
    let p = choose(&index, t(2 * 512, 12800), reach).unwrap();
    assert_eq!((p.frame.pts, p.cost), (1024, 3));
}

#[test]
fn demoted_sync_sample_moves_the_entry_back() {
    let mut samples = x264_pyramid();
    samples[4].sync = true;
    let mut index = index_of(&samples, 12800);
    assert_eq!(
        choose(&index, t(7 * 512, 12800), Tolerance::ZERO)
            .unwrap()
            .entry,
        4
    );
    index.demote(4);
    index.sanity_check().unwrap();
    assert_eq!(
        choose(&index, t(7 * 512, 12800), Tolerance::ZERO)
            .unwrap()
            .entry,
        0
    );
    // Growing the index keeps the demotion.
    let mut more = samples.clone();
    more.extend(x264_pyramid().into_iter().map(|mut s| {
        s.pts += 16 * 512;
        s
    }));
    index.extend(&more);
    assert!(!index.is_random_access(4));
    assert!(index.is_random_access(16));
}

/// An open GOP: the I-frame at decode index 8 shows after the two B-frames
/// decoded behind it, which refer to the previous GOP.
#[test]
fn leading_pictures_start_at_the_previous_entry() {
    // Decode order I0 P3 B1 B2 | I6 B4 B5 P9 B7 B8 (frames), I6 is open.
    let frames = [0i64, 3, 1, 2, 6, 4, 5, 9, 7, 8];
    let samples: Vec<SampleInfo> = frames
        .iter()
        .enumerate()
        .map(|(i, &frame)| SampleInfo {
            offset: 0,
            size: 1,
            dts: i as i64,
            pts: frame,
            duration: 1,
            sync: frame == 0 || frame == 6,
            presented: true,
            description: 0,
        })
        .collect();
    let index = index_of(&samples, 1);
    let leading = choose(&index, t(4, 1), Tolerance::ZERO).unwrap();
    assert_eq!(
        (leading.frame.sample, leading.entry, leading.cost),
        (5, 0, 6)
    );
    let trailing = choose(&index, t(7, 1), Tolerance::ZERO).unwrap();
    assert_eq!((trailing.frame.sample, trailing.entry), (8, 4));
    // Both in one plan: one run from 0, as decoding passes the open entry anyway.
    let both = plan(
        &index,
        &[
            Target::Time(t(4, 1), Tolerance::ZERO),
            Target::Time(t(7, 1), Tolerance::ZERO),
        ],
    );
    assert_eq!(both.runs.len(), 1);
    assert_eq!((both.runs[0].entry, both.runs[0].last), (0, 8));
}

#[test]
fn hidden_frames_are_never_targets() {
    let mut samples = x264_pyramid();
    for sample in samples.iter_mut().filter(|s| s.pts < 3 * 512) {
        sample.presented = false;
    }
    let index = index_of(&samples, 12800);
    let p = choose(&index, Time::ZERO, Tolerance::ZERO).unwrap();
    assert_eq!((p.frame.pts, p.entry), (3 * 512, 0));
}

#[test]
fn extending_equals_indexing_at_once() {
    let mut samples = x264_pyramid();
    samples.extend(x264_pyramid().into_iter().map(|mut s| {
        s.pts += 16 * 512;
        s.dts += 16 * 512;
        s
    }));
    let whole = index_of(&samples, 12800);
    let mut grown = index_of(&samples[..5], 12800);
    for end in [9, 17, 30, 32] {
        grown.extend(&samples[..end]);
        grown.sanity_check().unwrap();
    }
    for position in 0..32 {
        assert_eq!(grown.frame(position), whole.frame(position));
    }
    assert_eq!(grown.end_pts(), whole.end_pts());
    assert_eq!(grown.random_access_count(), whole.random_access_count());
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

fn entry_is_valid(samples: &[SampleInfo], choice: &Choice) -> bool {
    let entry = choice.entry as usize;
    entry <= choice.frame.sample as usize
        && (entry == 0 || samples[entry].sync)
        && choice.cost == u64::from(choice.frame.sample - choice.entry) + 1
}

proptest! {
    #[test]
    fn exact_choices_pick_the_last_frame_at_or_before(samples in arbitrary_track(), at in -5i64..50) {
        let index = index_of(&samples, 1);
        let end = index.end_pts().unwrap();
        let presented: Vec<&SampleInfo> = samples.iter().filter(|s| s.presented).collect();
        let first = presented.iter().map(|s| s.pts).min().unwrap();
        match choose(&index, Time::from_secs(at), Tolerance::ZERO) {
            Ok(p) => {
                prop_assert!(at < end);
                let expected = presented.iter().map(|s| s.pts).filter(|&p| p <= at).max()
                    .unwrap_or(first);
                prop_assert_eq!(p.frame.pts, expected);
                prop_assert!(entry_is_valid(&samples, &p));
            }
            Err(_) => prop_assert!(at >= end),
        }
    }

    #[test]
    fn windowed_choices_stay_acceptable_and_never_cost_more(samples in arbitrary_track(), at in -5i64..50, before in 0i64..10, after in 0i64..10) {
        let index = index_of(&samples, 1);
        let tolerance = Tolerance::new(Time::from_secs(before), Time::from_secs(after)).unwrap();
        let exact = choose(&index, Time::from_secs(at), Tolerance::ZERO);
        if let Ok(p) = choose(&index, Time::from_secs(at), tolerance) {
            let in_window = at - before <= p.frame.pts && p.frame.pts <= at + after;
            let is_on_screen = exact.as_ref().is_ok_and(|e| e.frame.sample == p.frame.sample);
            let first = index.frame(0).unwrap();
            let at_an_end = p.frame == first || Some(p.frame) == index.last_frame();
            prop_assert!(in_window || is_on_screen || at_an_end);
            prop_assert!(entry_is_valid(&samples, &p));
            if let Ok(e) = exact {
                prop_assert!(p.cost <= e.cost);
            }
        } else {
            prop_assert!(exact.is_err());
        }
    }

    #[test]
    fn plans_cover_every_choice_once(samples in arbitrary_track(), times in prop::collection::vec((-5i64..50, 0i64..6), 1..12)) {
        let index = index_of(&samples, 1);
        let targets: Vec<Target> = times
            .iter()
            .map(|&(at, reach)| Target::Time(Time::from_secs(at), Tolerance::symmetric(Time::from_secs(reach)).unwrap()))
            .collect();
        let planned = plan(&index, &targets);
        for window in planned.runs.windows(2) {
            prop_assert!(window[0].last < window[1].entry, "runs overlap");
        }
        for (target, assignment) in targets.iter().zip(&planned.assignments) {
            let Target::Time(time, tolerance) = *target else { unreachable!() };
            let alone = choose(&index, time, tolerance);
            match (assignment, alone) {
                (Ok(assignment), Ok(alone)) => {
                    // The same frame as asked alone: the choice ignores the others.
                    prop_assert_eq!(assignment.frame, alone.frame);
                    let run = &planned.runs[assignment.run];
                    prop_assert!(run.entry <= alone.entry && alone.frame.sample <= run.last);
                    prop_assert!(run.wants(alone.frame.sample));
                }
                (Err(_), Err(_)) => {}
                _ => prop_assert!(false, "plan and choice disagree"),
            }
        }
    }
}
