//! Turns the blocks of one stretch of clusters into samples: presentation times
//! from block timestamps and lacing, durations, and synthesized decode times.

use std::ops::Range;

use stillframe_core::{Error, Limits, Location, Result, SampleInfo};

use crate::cluster::Block;
use crate::tracks::Timebase;

/// Timestamps are kept below this many ticks, so a sum of two never overflows.
const MAX_TIME: i64 = 1 << 62;

/// What each track needs to turn its blocks into samples.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrackTiming {
    /// TrackNumber.
    pub(crate) number: u64,
    /// DefaultDuration in track ticks.
    pub(crate) default_duration: Option<u64>,
}

/// Appends the frames of `blocks` (one stretch of the file, in file order) to each
/// track's samples and returns the range each track gained.
///
/// `continues` says the stretch follows, in the file, the one appended last; only
/// then are decode times kept increasing across the two.
pub(crate) fn append(
    blocks: &[Block],
    timings: &[TrackTiming],
    timebase: &Timebase,
    samples: &mut [Vec<SampleInfo>],
    continues: bool,
    limits: &Limits,
) -> Result<Vec<Range<usize>>> {
    let mut ranges = Vec::with_capacity(timings.len());
    let mut indexed: u64 = samples.iter().map(|s| s.len() as u64).sum();
    for (timing, track_samples) in timings.iter().zip(samples.iter_mut()) {
        let start = track_samples.len();
        let mut batch = frames_of(blocks, timing, timebase)?;
        let others = indexed - start as u64;
        limits.check_samples_beside((start + batch.len()) as u64, others)?;
        indexed += batch.len() as u64;
        let previous_dts = continues
            .then(|| track_samples.last().map(|s| s.dts))
            .flatten();
        let fallback_duration = typical_interval(track_samples).or(timing.default_duration);
        fill_durations(&mut batch, fallback_duration);
        synthesize_dts(&mut batch, previous_dts);
        track_samples.extend(batch.into_iter().map(|(sample, _)| sample));
        ranges.push(start..track_samples.len());
    }
    Ok(ranges)
}

/// The track's frames in `blocks`, with their durations when the file states them.
fn frames_of(
    blocks: &[Block],
    timing: &TrackTiming,
    timebase: &Timebase,
) -> Result<Vec<(SampleInfo, bool)>> {
    let mut frames = Vec::new();
    for block in blocks.iter().filter(|b| b.track == timing.number) {
        let overflow = || {
            Error::malformed(
                Location::at("Block", block.frames.first().map_or(0, |f| f.offset)),
                format!("timestamp {} is out of range", block.timestamp),
            )
        };
        let pts = timebase
            .ticks(block.timestamp)
            .filter(|p| p.abs() < MAX_TIME)
            .ok_or_else(overflow)?;
        let count = block.frames.len() as u64;
        // BlockDuration covers the whole block; laced frames share it as ffmpeg
        // shares it, frame i starting at ⌊D·i/n⌋. DefaultDuration is per frame.
        let block_duration = block
            .duration
            .and_then(|d| d.checked_mul(timebase.multiplier))
            .or_else(|| timing.default_duration.and_then(|d| d.checked_mul(count)));
        for (i, frame) in block.frames.iter().enumerate() {
            let i = i as u64;
            let (offset, duration) = match block_duration {
                Some(total) => {
                    let at =
                        |k: u64| (u128::from(total) * u128::from(k) / u128::from(count)) as u64;
                    (at(i), Some(at(i + 1) - at(i)))
                }
                None => (0, None),
            };
            let pts = i64::try_from(offset)
                .ok()
                .and_then(|o| pts.checked_add(o))
                .filter(|p| p.abs() < MAX_TIME)
                .ok_or_else(overflow)?;
            let stated = duration.is_some();
            frames.push((
                SampleInfo {
                    offset: frame.offset,
                    size: frame.size,
                    dts: pts,
                    pts,
                    duration: duration.map_or(0, |d| u32::try_from(d).unwrap_or(u32::MAX)),
                    // Blocks of a track that index frames are keyframes by flag or by
                    // the absence of ReferenceBlock; laced frames share the flag.
                    sync: block.keyframe,
                    // Matroska has no edit lists: every frame is shown.
                    presented: true,
                    description: 0,
                },
                stated,
            ));
        }
    }
    Ok(frames)
}

/// The most recent interval between presentation times of `samples`, for frames
/// whose duration nothing else gives.
fn typical_interval(samples: &[SampleInfo]) -> Option<u64> {
    let tail = samples.get(samples.len().saturating_sub(16)..)?;
    let mut times: Vec<i64> = tail.iter().map(|s| s.pts).collect();
    times.sort_unstable();
    times
        .windows(2)
        .rev()
        .find_map(|w| u64::try_from(w[1] - w[0]).ok().filter(|&d| d > 0))
}

/// Frames without a stated duration last until the next frame in presentation
/// order; the last one, like its predecessor (or `fallback` when alone).
fn fill_durations(batch: &mut [(SampleInfo, bool)], fallback: Option<u64>) {
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by_key(|&i| batch.get(i).map(|(s, _)| (s.pts, i)));
    let mut last_interval = fallback;
    for (k, &i) in order.iter().enumerate() {
        let next_pts = order
            .get(k + 1)
            .and_then(|&j| batch.get(j))
            .map(|(s, _)| s.pts);
        let Some((sample, stated)) = batch.get_mut(i) else {
            continue;
        };
        let interval = next_pts
            .and_then(|next| u64::try_from(next - sample.pts).ok())
            .filter(|&d| d > 0);
        if let Some(interval) = interval {
            last_interval = Some(interval);
        }
        if !*stated {
            let duration = interval.or(last_interval).unwrap_or(0);
            sample.duration = u32::try_from(duration).unwrap_or(u32::MAX);
        }
    }
}

/// Matroska stores no decode times. The stretch's presentation times, sorted, are
/// handed out in file order, then shifted back so no frame decodes after it shows;
/// with `previous` (the last decode time of the stretch before), they never go back.
fn synthesize_dts(batch: &mut [(SampleInfo, bool)], previous: Option<i64>) {
    let mut sorted: Vec<i64> = batch.iter().map(|(s, _)| s.pts).collect();
    sorted.sort_unstable();
    let shift = batch
        .iter()
        .zip(&sorted)
        .map(|((s, _), &dts)| dts.saturating_sub(s.pts))
        .max()
        .unwrap_or(0)
        .max(0);
    let mut floor = previous.unwrap_or(i64::MIN);
    for ((sample, _), dts) in batch.iter_mut().zip(sorted) {
        let dts = dts.saturating_sub(shift).max(floor);
        sample.dts = dts;
        floor = dts;
    }
}
