//! Which frame to produce for a request, and where decoding must begin.
//!
//! ```text
//!   presentation time ─────────────────────────────────────────────▶
//!        K . . . . K . . . . . K . . . .      K = random access frame
//!                 [─────── window ───────]    [T − before, T + after]
//!                          ▲ T
//!   acceptable: every frame in the window, plus the frame on screen at T.
//!   cost: samples still to feed the decoder before the frame can come out
//!         (a random access frame from scratch costs 1; a frame the running
//!         decoder is about to emit may cost 0).
//!   choice: least cost, then nearest to T, then earliest.
//! ```

use std::cmp::Ordering;

use stillframe_core::{Error, Result, Rounding, Time, Tolerance};

use crate::{FrameIndex, FrameRef};

/// What a running decoder holds, so a plan can continue instead of restarting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderPosition {
    /// The random access point decoding started from.
    pub started_at: u32,
    /// The next sample (decode order) the decoder would be fed.
    pub next_sample: u32,
    /// The pts of the last frame it output; frames at or before it cannot come out again.
    pub last_output_pts: Option<i64>,
}

/// Where decoding begins for a [`Plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Keep feeding the running decoder from its `next_sample`.
    Continue,
    /// Reset the decoder and feed from this sample.
    Restart {
        /// A random access point (or sample 0 when the track has none before the target).
        from: u32,
    },
}

/// The chosen frame and how to get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The frame to produce; its pts is the actual time of the result.
    pub target: FrameRef,
    /// Where decoding begins.
    pub start: Start,
    /// Samples to feed from the start through the target (decoder output delay aside).
    pub cost: u64,
}

/// Plans the frame for `requested` within `tolerance`, on a track of `timescale`
/// ticks per second, given the decoder's state.
///
/// Fails with [`Error::OutOfRange`] when the track has no frame, or the requested time
/// is at or past the end of the last frame and the window holds no frame.
pub fn plan(
    index: &FrameIndex,
    timescale: u32,
    requested: Time,
    tolerance: Tolerance,
    decoder: Option<&DecoderPosition>,
) -> Result<Plan> {
    let next_output = decoder.and_then(|d| d.last_output_pts);
    let acceptable = Acceptable::find(index, timescale, requested, tolerance, next_output)?;
    let cheapest = acceptable.cheapest(|frame| cost_of(index, frame, decoder));
    cheapest
        .map(|(target, cost, start)| Plan {
            target,
            start,
            cost,
        })
        .ok_or_else(|| acceptable.into_error())
}

/// The frames a request accepts, or rather the few among them that can be cheapest:
/// the frame on screen, the random access frames nearest the requested time, and the
/// frames nearest it (and one after a given pts, for a running decoder).
pub(crate) struct Acceptable {
    candidates: Vec<FrameRef>,
    requested_ticks: i64,
    out_of_range: Error,
}

impl Acceptable {
    pub(crate) fn find(
        index: &FrameIndex,
        timescale: u32,
        requested: Time,
        tolerance: Tolerance,
        after_pts: Option<i64>,
    ) -> Result<Acceptable> {
        let end_ticks = index.end_pts().ok_or(Error::OutOfRange {
            requested,
            end: Time::ZERO,
        })?;
        let end = Time::new(end_ticks, timescale).unwrap_or(Time::ZERO);
        let (low, high) = tolerance.window(requested);
        // Frame times are `i64` ticks: a bound beyond that range on the far side
        // leaves no frame in the window, one on the near side holds them all.
        let on_screen_ticks =
            ticks_within_range(requested, timescale, Rounding::Floor).unwrap_or_else(saturated);
        let window_ticks = match (
            ticks_within_range(low, timescale, Rounding::Ceil),
            ticks_within_range(high, timescale, Rounding::Floor),
        ) {
            (Err(Ordering::Greater), _) | (_, Err(Ordering::Less)) => None,
            (low, high) => Some((
                low.unwrap_or_else(saturated),
                high.unwrap_or_else(saturated),
            )),
        };
        // Before the first frame, the first one is on screen; past the end, none is.
        let on_screen_possible = requested < end;

        let mut candidates: Vec<FrameRef> = Vec::with_capacity(6);
        if on_screen_possible {
            candidates.extend(index.on_screen(on_screen_ticks));
        }
        let (low, high) = window_ticks.unwrap_or((i64::MAX, i64::MIN));
        let in_window = match window_ticks {
            Some(_) => index.positions_between(low, high),
            None => 0..0,
        };
        if !in_window.is_empty() {
            for (_, sample) in index.random_access_frames_around(on_screen_ticks, low, high) {
                candidates.extend(index.position_of(sample).and_then(|p| index.frame(p)));
            }
            // Frames nearest T inside the window, for windows without a keyframe.
            let nearest = index
                .positions_between(i64::MIN, on_screen_ticks)
                .end
                .clamp(in_window.start, in_window.end);
            candidates.extend(nearest.checked_sub(1).and_then(|p| index.frame(p)));
            candidates.extend(index.frame(nearest).filter(|_| nearest < in_window.end));
            if let Some(after) = after_pts {
                // The next frame a running decoder will emit may cost nothing.
                let next = index
                    .positions_between(i64::MIN, after)
                    .end
                    .clamp(in_window.start, in_window.end);
                candidates.extend(index.frame(next).filter(|_| next < in_window.end));
            }
        }
        let on_screen = index
            .on_screen(on_screen_ticks)
            .filter(|_| on_screen_possible)
            .map(|frame| frame.sample);
        candidates
            .retain(|frame| in_window.contains(&frame.position) || Some(frame.sample) == on_screen);
        Ok(Acceptable {
            candidates,
            requested_ticks: on_screen_ticks,
            out_of_range: Error::OutOfRange { requested, end },
        })
    }

    /// The candidate with the least cost, then the nearest to the requested time, then
    /// the earliest; with the cost and whatever else `cost_of` returned for it.
    pub(crate) fn cheapest<T>(
        &self,
        mut cost_of: impl FnMut(FrameRef) -> (u64, T),
    ) -> Option<(FrameRef, u64, T)> {
        self.candidates
            .iter()
            .map(|&frame| {
                let (cost, extra) = cost_of(frame);
                let distance = frame.pts.abs_diff(self.requested_ticks);
                ((cost, distance, frame.pts), frame, cost, extra)
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, frame, cost, extra)| (frame, cost, extra))
    }

    /// The error for a request nothing satisfies.
    pub(crate) fn into_error(self) -> Error {
        self.out_of_range
    }
}

/// `time` in ticks, or on which side of the `i64` tick range it lies (±∞
/// included): `Less` below it, `Greater` above.
fn ticks_within_range(time: Time, timescale: u32, rounding: Rounding) -> Result<i64, Ordering> {
    if time.is_positive_infinity() {
        return Err(Ordering::Greater);
    }
    match time.to_ticks(timescale, rounding) {
        Some(ticks) => Ok(ticks),
        None if time.is_negative() => Err(Ordering::Less),
        None => Err(Ordering::Greater),
    }
}

/// The end of the tick range on the given side.
fn saturated(side: Ordering) -> i64 {
    if side == Ordering::Less {
        i64::MIN
    } else {
        i64::MAX
    }
}

/// Samples to feed before `frame` can come out, and from where.
fn cost_of(index: &FrameIndex, frame: FrameRef, decoder: Option<&DecoderPosition>) -> (u64, Start) {
    let from = index.random_access_at_or_before(frame.sample).unwrap_or(0);
    let fresh = u64::from(frame.sample.saturating_sub(from)) + 1;
    if let Some(running) = decoder {
        let not_yet_output = running.last_output_pts.is_none_or(|last| last < frame.pts);
        let covers_start = running.started_at <= from && running.next_sample >= from;
        let started_before_target = running.started_at <= frame.sample;
        if not_yet_output && covers_start && started_before_target {
            let remaining = u64::from((frame.sample + 1).saturating_sub(running.next_sample));
            if remaining <= fresh {
                return (remaining, Start::Continue);
            }
        }
    }
    (fresh, Start::Restart { from })
}
