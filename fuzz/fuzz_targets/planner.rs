//! The frame index and planner over arbitrary sample tables, demotions, times and
//! tolerances, through `choose` and `plan`, checking what every caller relies on.
//! Input layout: `stillframe_fuzz_input::parse_planner` (its decoder position is
//! unused since the choice no longer depends on decoder state).
#![no_main]

use std::num::NonZeroU32;

use libfuzzer_sys::fuzz_target;
use stillframe_core::{ErrorKind, Rounding, SampleInfo, Time, Tolerance};
use stillframe_fuzz_input::{parse_planner, RawSample, RawTime};
use stillframe_seek::{choose, plan, Choice, FrameIndex, Target};

fn time(raw: RawTime) -> Option<Time> {
    match raw.kind {
        1 => Some(Time::POSITIVE_INFINITY),
        2 => Some(Time::NEGATIVE_INFINITY),
        _ => Time::new(raw.value, raw.timescale),
    }
}

/// The frame on screen at `requested` while it is before the end; the first frame
/// before the start.
fn on_screen(index: &FrameIndex, requested: Time) -> Option<i64> {
    let end = index.time_of(index.end_pts()?);
    if requested >= end {
        return None;
    }
    let ticks = match requested.to_ticks(index.timescale().get(), Rounding::Floor) {
        Some(ticks) => ticks,
        None if requested.is_negative() => i64::MIN,
        None => i64::MAX,
    };
    index.on_screen(ticks).map(|frame| frame.pts)
}

fn check_choice(
    index: &FrameIndex,
    samples: &[SampleInfo],
    requested: Time,
    tolerance: Tolerance,
    choice: &Choice,
) {
    let frame = choice.frame;
    assert_eq!(
        index.frame(frame.position),
        Some(frame),
        "not a presented frame"
    );
    assert_eq!(index.position_of(frame.sample), Some(frame.position));
    let shown = index.time_of(frame.pts);
    let (low, high) = tolerance.window(requested);
    let in_window = low <= shown && shown <= high;
    let is_on_screen = on_screen(index, requested) == Some(frame.pts);
    let first = index.frame(0).is_some_and(|f| f == frame);
    let last = index.last_frame().is_some_and(|f| f == frame);
    assert!(
        in_window || is_on_screen || first || last,
        "frame at {shown} is outside the window of {requested} ± {tolerance:?}"
    );
    let entry = choice.entry as usize;
    assert!(entry <= frame.sample as usize, "entry after the frame");
    assert!(
        entry == 0 || (samples[entry].sync && index.is_random_access(choice.entry)),
        "entry {entry} is not a random access point"
    );
    assert_eq!(choice.cost, u64::from(frame.sample - choice.entry) + 1);
    if tolerance.is_exact() {
        if let Some(pts) = on_screen(index, requested) {
            assert_eq!(frame.pts, pts, "exact request missed the frame on screen");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let input = parse_planner(data);
    let timescale = NonZeroU32::new(input.timescale).unwrap_or(NonZeroU32::MIN);
    let samples: Vec<SampleInfo> = input.samples.iter().map(RawSample::sample_info).collect();
    // Grown in two steps, as a lazily indexed container grows it.
    let mut index = FrameIndex::new(&samples[..samples.len() / 2], timescale);
    index.extend(&samples);
    let whole = FrameIndex::new(&samples, timescale);
    assert_eq!(index.presented_count(), whole.presented_count());
    for position in 0..whole.presented_count() {
        assert_eq!(
            index.frame(position),
            whole.frame(position),
            "grown index differs"
        );
    }
    if let Err(problem) = index.sanity_check() {
        panic!("fresh index: {problem}");
    }
    if !samples.is_empty() {
        for &demoted in &input.demote {
            let sample = u32::from(demoted) % samples.len() as u32;
            index.demote(sample);
            assert!(!index.is_random_access(sample));
        }
    }
    if let Err(problem) = index.sanity_check() {
        panic!("after demotions: {problem}");
    }
    let mut targets = Vec::new();
    for raw in &input.requests {
        let (Some(requested), Some(before), Some(after)) =
            (time(raw.time), time(raw.before), time(raw.after))
        else {
            continue;
        };
        let Some(tolerance) = Tolerance::new(before, after) else {
            continue;
        };
        targets.push(Target::Time(requested, tolerance));
        match choose(&index, requested, tolerance) {
            Ok(choice) => check_choice(&index, &samples, requested, tolerance, &choice),
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::OutOfRange, "{error}");
                assert!(
                    on_screen(&index, requested).is_none(),
                    "nothing for a time on screen"
                );
            }
        }
    }
    let planned = plan(&index, &targets);
    assert_eq!(planned.assignments.len(), targets.len());
    assert!(
        planned.runs.windows(2).all(|w| w[0].last < w[1].entry),
        "runs overlap"
    );
    for run in &planned.runs {
        assert!(!run.targets.is_empty(), "a run nobody needs");
        assert!(run.entry <= run.targets[0].sample);
        assert!(run.targets.windows(2).all(|w| w[0].sample < w[1].sample));
        assert_eq!(run.targets.last().map(|t| t.sample), Some(run.last));
    }
    for (target, assignment) in targets.iter().zip(&planned.assignments) {
        let Target::Time(requested, tolerance) = *target else {
            continue;
        };
        let alone = choose(&index, requested, tolerance);
        assert_eq!(
            assignment.is_ok(),
            alone.is_ok(),
            "plan and choice disagree"
        );
        if let (Ok(assignment), Ok(alone)) = (assignment, alone) {
            assert_eq!(
                assignment.frame, alone.frame,
                "the choice depends on the batch"
            );
            let run = &planned.runs[assignment.run];
            assert!(run.entry <= alone.entry && alone.frame.sample <= run.last);
            assert!(run.wants(alone.frame.sample));
        }
    }
});
