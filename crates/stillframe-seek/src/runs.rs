//! Planning a set of requests together: each chosen frame belongs to the decode
//! run of its entry point, and each run is decoded once for all its frames.

use std::collections::BTreeMap;

use stillframe_core::{Result, Time, Tolerance};

use crate::{choose, choose_frame, Choice, FrameIndex, FrameRef};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The frame for this time, within the request's tolerance.
    Time(Time, Tolerance),
    /// This frame number, in presentation order from 0.
    Frame(u64),
}

/// One stretch of samples a decoder is fed, from a random access point through the
/// last frame some request needs from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The random access point decoding starts at (or 0 when the track has none).
    pub entry: u32,
    /// The last sample that must be fed: the latest target in decode order.
    pub last: u32,
    /// The distinct frames to produce, ascending by sample.
    pub targets: Vec<FrameRef>,
}

impl Run {
    /// True if `sample` is one of the run's targets.
    pub fn wants(&self, sample: u32) -> bool {
        self.targets
            .binary_search_by_key(&sample, |frame| frame.sample)
            .is_ok()
    }
}

/// Which run and frame serve a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    /// Index into [`Plan::runs`].
    pub run: usize,
    /// The frame the request gets.
    pub frame: FrameRef,
}

/// The decode runs for a set of requests and which serves each.
#[derive(Debug)]
pub struct Plan {
    /// Runs ascending by entry point; none that no request needs, none overlapping.
    pub runs: Vec<Run>,
    /// For each request, in order: its assignment, or why nothing serves it.
    pub assignments: Vec<Result<Assignment>>,
}

/// Chooses each request's frame on its own ([`choose`], [`choose_frame`]) — the
/// choice never depends on the other requests — then groups the frames into decode
/// runs: frames that share an entry point share a run, and runs that overlap in
/// decode order merge, so every needed sample is fed once. Duplicate frames share
/// one target.
///
/// ```
/// use std::num::NonZeroU32;
/// use stillframe_core::{SampleInfo, Time, Tolerance};
/// use stillframe_seek::{plan, FrameIndex, Target};
///
/// let samples: Vec<SampleInfo> = (0..20)
///     .map(|i| SampleInfo { offset: 0, size: 1, dts: i, pts: i, duration: 1, sync: i % 10 == 0, presented: true, description: 0 })
///     .collect();
/// let index = FrameIndex::new(&samples, NonZeroU32::MIN);
/// let exact = |t| Target::Time(Time::from_secs(t), Tolerance::ZERO);
/// let plan = plan(&index, &[exact(7), exact(3), exact(7), exact(15), Target::Frame(12)]);
/// assert_eq!(plan.runs.len(), 2); // 0..=7 serves 3 and 7 (twice); 10..=15 serves 12 and 15
/// assert_eq!((plan.runs[0].entry, plan.runs[0].last), (0, 7));
/// assert_eq!((plan.runs[1].entry, plan.runs[1].last), (10, 15));
/// ```
pub fn plan(index: &FrameIndex, requests: &[Target]) -> Plan {
    let choices: Vec<Result<Choice>> = requests
        .iter()
        .map(|target| match *target {
            Target::Time(time, tolerance) => choose(index, time, tolerance),
            Target::Frame(number) => choose_frame(index, number),
        })
        .collect();
    // Entry point → (last sample, targets), then merged where runs overlap.
    let mut by_entry: BTreeMap<u32, (u32, Vec<FrameRef>)> = BTreeMap::new();
    for choice in choices.iter().flatten() {
        let (last, targets) = by_entry
            .entry(choice.entry)
            .or_insert((choice.frame.sample, Vec::new()));
        *last = (*last).max(choice.frame.sample);
        targets.push(choice.frame);
    }
    let mut runs: Vec<Run> = Vec::with_capacity(by_entry.len());
    for (entry, (last, targets)) in by_entry {
        match runs.last_mut() {
            Some(previous) if entry <= previous.last => {
                previous.last = previous.last.max(last);
                previous.targets.extend(targets);
            }
            _ => runs.push(Run {
                entry,
                last,
                targets,
            }),
        }
    }
    for run in &mut runs {
        run.targets.sort_by_key(|frame| frame.sample);
        run.targets.dedup();
    }
    let assignments = choices
        .into_iter()
        .map(|choice| {
            let choice = choice?;
            let run = runs
                .partition_point(|run| run.entry <= choice.frame.sample)
                .saturating_sub(1);
            Ok(Assignment {
                run,
                frame: choice.frame,
            })
        })
        .collect();
    Plan { runs, assignments }
}
