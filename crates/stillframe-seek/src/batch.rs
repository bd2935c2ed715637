//! Planning many requests together, so each group of pictures is decoded once.

use std::collections::BTreeMap;

use stillframe_core::{Error, Result, Time, Tolerance};

use crate::planner::Acceptable;
use crate::{FrameIndex, FrameRef};

/// One group of pictures a batch decodes: from `start` through `last` in decode order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GopJob {
    /// The random access point decoding starts at (or 0 when the track has none).
    pub start: u32,
    /// The last sample that must be fed: the latest target in decode order.
    pub last: u32,
    /// The distinct frames to produce, ascending by sample.
    pub targets: Vec<FrameRef>,
}

/// Which job and frame serve a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    /// Index into [`BatchPlan::jobs`].
    pub job: usize,
    /// The frame the request gets; its pts is the actual time.
    pub target: FrameRef,
}

/// The decoding work for a batch and which part of it serves each request.
#[derive(Debug)]
pub struct BatchPlan {
    /// Groups of pictures to decode, ascending by start; none that nobody needs.
    pub jobs: Vec<GopJob>,
    /// For each request, in request order: its assignment, or why nothing satisfies it.
    pub assignments: Vec<Result<Assignment>>,
}

/// Plans `requests` (time and tolerance each) over one track.
///
/// Requests with zero tolerance fix their frames first. The others then take, among the
/// frames they accept, the one with the least *marginal* cost: a frame inside a group
/// of pictures the batch already decodes costs only the samples past what is already
/// fed, often nothing; a fresh random access frame costs one. Ties go to the frame
/// nearest the requested time. Duplicate requests share one target.
///
/// ```
/// use stillframe_core::{SampleInfo, Time, Tolerance};
/// use stillframe_seek::{plan_batch, FrameIndex};
///
/// let samples: Vec<SampleInfo> = (0..20)
///     .map(|i| SampleInfo { offset: 0, size: 1, dts: i, pts: i, duration: 1, sync: i % 10 == 0, presented: true, description: 0 })
///     .collect();
/// let index = FrameIndex::new(&samples);
/// let exact = |t| (Time::from_secs(t), Tolerance::ZERO);
/// let plan = plan_batch(&index, 1, &[exact(7), exact(3), exact(7), exact(15)]);
/// assert_eq!(plan.jobs.len(), 2); // one decode of 0..=7 serves 3 and 7 (twice)
/// assert_eq!((plan.jobs[0].start, plan.jobs[0].last), (0, 7));
/// assert_eq!((plan.jobs[1].start, plan.jobs[1].last), (10, 15));
/// ```
pub fn plan_batch(index: &FrameIndex, timescale: u32, requests: &[(Time, Tolerance)]) -> BatchPlan {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    // Exact requests first: their frames are fixed and others may ride along.
    order.sort_by_key(|&i| {
        let (time, tolerance) = requests[i];
        (!tolerance.is_exact(), time)
    });
    let mut extents: BTreeMap<u32, u32> = BTreeMap::new();
    let mut chosen: Vec<Option<Result<FrameRef>>> = (0..requests.len()).map(|_| None).collect();
    for i in order {
        let (time, tolerance) = requests[i];
        let pick =
            Acceptable::find(index, timescale, time, tolerance, None).and_then(|acceptable| {
                let cheapest = acceptable.cheapest(|frame| {
                    let start = index.random_access_at_or_before(frame.sample).unwrap_or(0);
                    let cost = match extents.get(&start) {
                        Some(&last) => u64::from(frame.sample.saturating_sub(last)),
                        None => u64::from(frame.sample - start) + 1,
                    };
                    (cost, start)
                });
                cheapest
                    .map(|(frame, _, start)| (frame, start))
                    .ok_or_else(|| acceptable.into_error())
            });
        chosen[i] = Some(pick.map(|(frame, start)| {
            let last = extents.entry(start).or_insert(frame.sample);
            *last = (*last).max(frame.sample);
            frame
        }));
    }
    let starts: Vec<u32> = extents.keys().copied().collect();
    let mut jobs: Vec<GopJob> = extents
        .iter()
        .map(|(&start, &last)| GopJob {
            start,
            last,
            targets: Vec::new(),
        })
        .collect();
    let assignments = chosen
        .into_iter()
        .map(|pick| {
            let frame = pick.unwrap_or_else(|| Err(Error::codec("request left unplanned")))?;
            let start = index.random_access_at_or_before(frame.sample).unwrap_or(0);
            let job = starts
                .binary_search(&start)
                .map_err(|_| Error::codec("planned frame lost its group of pictures"))?;
            if let Some(gop) = jobs.get_mut(job) {
                if !gop.targets.contains(&frame) {
                    gop.targets.push(frame);
                }
            }
            Ok(Assignment { job, target: frame })
        })
        .collect();
    for job in &mut jobs {
        job.targets.sort_by_key(|frame| frame.sample);
    }
    BatchPlan { jobs, assignments }
}
