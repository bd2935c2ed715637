//! The frame index and planner over arbitrary sample tables, decoder states, times and
//! tolerances, through `plan` and `plan_batch`, checking what every caller relies on.
//! Input layout: `stillframe_fuzz_input::parse_planner`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stillframe_core::{ErrorKind, Rounding, SampleInfo, Time, Tolerance};
use stillframe_fuzz_input::{parse_planner, RawSample, RawTime};
use stillframe_seek::{plan, plan_batch, DecoderPosition, FrameIndex, FrameRef, Plan, Start};

fn time(raw: RawTime) -> Option<Time> {
    match raw.kind {
        1 => Some(Time::POSITIVE_INFINITY),
        2 => Some(Time::NEGATIVE_INFINITY),
        _ => Time::new(raw.value, raw.timescale),
    }
}

/// Whether `frame` is one a request at `requested` with `tolerance` accepts: inside
/// the window, or the frame on screen at the requested time.
fn accepts(
    index: &FrameIndex,
    timescale: u32,
    requested: Time,
    tolerance: Tolerance,
    frame: FrameRef,
) -> bool {
    let Some(shown) = Time::new(frame.pts, timescale) else {
        return true;
    };
    let (low, high) = tolerance.window(requested);
    if low <= shown && shown <= high {
        return true;
    }
    on_screen(index, timescale, requested).is_some_and(|f| f.pts == frame.pts)
}

/// The frame on screen at `requested`, if the request is before the end.
fn on_screen(index: &FrameIndex, timescale: u32, requested: Time) -> Option<FrameRef> {
    let end = Time::new(index.end_pts()?, timescale)?;
    if requested >= end {
        return None;
    }
    // Before the i64 tick range, as before the first frame: that frame (beyond
    // the range is past the end, answered above).
    let ticks = match requested.to_ticks(timescale, Rounding::Floor) {
        Some(ticks) => ticks,
        None if requested.is_negative() => i64::MIN,
        None => i64::MAX,
    };
    index.on_screen(ticks)
}

/// Some presented frame lies in the window.
fn window_holds_a_frame(
    index: &FrameIndex,
    timescale: u32,
    requested: Time,
    tolerance: Tolerance,
) -> bool {
    (0..index.presented_count()).any(|position| {
        index.frame(position).is_some_and(|frame| {
            let (low, high) = tolerance.window(requested);
            Time::new(frame.pts, timescale).is_some_and(|t| low <= t && t <= high)
        })
    })
}

fn check_plan(
    index: &FrameIndex,
    timescale: u32,
    requested: Time,
    tolerance: Tolerance,
    decoder: Option<&DecoderPosition>,
    chosen: &Plan,
) {
    let target = chosen.target;
    assert_eq!(
        index.frame(target.position),
        Some(target),
        "target is not a presented frame"
    );
    assert_eq!(index.position_of(target.sample), Some(target.position));
    assert!(
        accepts(index, timescale, requested, tolerance, target),
        "target at pts {} is outside the window of {requested} ± {tolerance:?}",
        target.pts
    );
    match chosen.start {
        Start::Restart { from } => {
            assert_eq!(
                from,
                index.random_access_at_or_before(target.sample).unwrap_or(0)
            );
            assert_eq!(chosen.cost, u64::from(target.sample - from) + 1);
        }
        Start::Continue => {
            let running = decoder.unwrap_or_else(|| panic!("Continue without a running decoder"));
            assert!(running.started_at <= target.sample);
            assert!(running.last_output_pts.is_none_or(|last| last < target.pts));
            assert_eq!(
                chosen.cost,
                u64::from((target.sample + 1).saturating_sub(running.next_sample))
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let input = parse_planner(data);
    let timescale = input.timescale;
    let samples: Vec<SampleInfo> = input.samples.iter().map(RawSample::sample_info).collect();
    let mut index = FrameIndex::new(&samples);
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
    let decoder = input.position.map(|p| DecoderPosition {
        started_at: p.started_at,
        next_sample: p.next_sample,
        last_output_pts: p.last_output_pts,
    });

    let mut requests = Vec::new();
    for raw in &input.requests {
        let (Some(requested), Some(before), Some(after)) =
            (time(raw.time), time(raw.before), time(raw.after))
        else {
            continue;
        };
        let Some(tolerance) = Tolerance::new(before, after) else {
            continue;
        };
        requests.push((requested, tolerance));
        let fresh = plan(&index, timescale, requested, tolerance, None);
        match &fresh {
            Ok(chosen) => check_plan(&index, timescale, requested, tolerance, None, chosen),
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::OutOfRange, "{error}");
                if timescale > 0 {
                    assert!(
                        !window_holds_a_frame(&index, timescale, requested, tolerance),
                        "nothing planned for {requested} though a frame lies in its window"
                    );
                }
            }
        }
        if tolerance.is_exact() && timescale > 0 {
            if let Some(shown) = on_screen(&index, timescale, requested) {
                let chosen = fresh
                    .as_ref()
                    .unwrap_or_else(|e| panic!("exact request failed: {e}"));
                assert_eq!(
                    chosen.target.pts, shown.pts,
                    "exact request missed the frame on screen"
                );
            }
        }
        if let Some(running) = &decoder {
            match plan(&index, timescale, requested, tolerance, Some(running)) {
                Ok(chosen) => check_plan(
                    &index,
                    timescale,
                    requested,
                    tolerance,
                    Some(running),
                    &chosen,
                ),
                Err(error) => assert_eq!(error.kind(), ErrorKind::OutOfRange, "{error}"),
            }
        }
    }

    let batch = plan_batch(&index, timescale, &requests);
    assert_eq!(batch.assignments.len(), requests.len());
    assert!(
        batch.jobs.windows(2).all(|w| w[0].start < w[1].start),
        "jobs not ascending"
    );
    for job in &batch.jobs {
        assert!(!job.targets.is_empty(), "a job nobody needs");
        assert!(job.start <= job.last);
        assert!(job.targets.windows(2).all(|w| w[0].sample < w[1].sample));
        assert_eq!(job.targets.last().map(|t| t.sample), Some(job.last));
        for target in &job.targets {
            assert_eq!(
                index.random_access_at_or_before(target.sample).unwrap_or(0),
                job.start
            );
        }
    }
    for (&(requested, tolerance), assignment) in requests.iter().zip(&batch.assignments) {
        let single = plan(&index, timescale, requested, tolerance, None);
        assert_eq!(
            assignment.is_ok(),
            single.is_ok(),
            "batch and single planning disagree"
        );
        let Ok(assignment) = assignment else {
            continue;
        };
        let job = &batch.jobs[assignment.job];
        assert!(job.targets.contains(&assignment.target));
        assert!(accepts(
            &index,
            timescale,
            requested,
            tolerance,
            assignment.target
        ));
        if tolerance.is_exact() {
            if let Ok(single) = single {
                assert_eq!(
                    single.target.pts, assignment.target.pts,
                    "exact batch request"
                );
            }
        }
    }
});
