//! Which frame serves a request: a function of the file, the time and the
//! tolerance only — never of what was decoded before.
//!
//! ```text
//!   presentation time ─────────────────────────────────────────────▶
//!        K . . . . K . . . . . K . . . .      K = random access frame
//!                 [─────── window ───────]    [T − before, T + after]
//!                          ▲ T
//!   acceptable: every frame in the window, plus the frame on screen at T.
//!   cost:       samples a fresh decoder is fed from the frame's own entry point
//!               through the frame (a random access frame costs 1).
//!   choice:     least cost, then nearest to T, then the earlier.
//! ```
//!
//! At the ends of the timeline: before the first frame, the first frame is on
//! screen (any tolerance). At or after the end of the last frame, nothing is on
//! screen: the last frame serves when the window reaches back to it, and nothing
//! else does (so `+∞` with an infinite tolerance gives the last frame); a window
//! that does not reach it fails with [`Error::OutOfRange`].

use std::cmp::Ordering;

use stillframe_core::{Error, Result, Rounding, Time, Tolerance};

use crate::{FrameIndex, FrameRef};

/// Without a random access frame in the window, the cheapest frame is one of the
/// first decoded in it, which are among its earliest shown (decode and
/// presentation order differ by the reorder depth, at most 16 frames in H.264 and
/// HEVC). This many frames from the window's start are compared.
const WINDOW_SCAN: usize = 64;

/// The frame chosen for a request and what it costs to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The frame; its pts is the actual time of the result.
    pub frame: FrameRef,
    /// The random access point decoding starts at ([`FrameIndex::entry_for`]).
    pub entry: u32,
    /// Samples a fresh decoder is fed from `entry` through the frame.
    pub cost: u64,
}

impl Choice {
    fn of(index: &FrameIndex, frame: FrameRef) -> Choice {
        let entry = index.entry_for(frame);
        Choice {
            frame,
            entry,
            cost: u64::from(frame.sample.saturating_sub(entry)) + 1,
        }
    }
}

/// Chooses the frame for `requested` within `tolerance` (see the module docs for
/// the rule).
///
/// Fails with [`Error::OutOfRange`] when the track has no frame, or when
/// `requested` is at or past the end of the last frame and the window does not
/// reach back to it.
///
/// ```
/// use std::num::NonZeroU32;
/// use stillframe_core::{SampleInfo, Time, Tolerance};
/// use stillframe_seek::{choose, FrameIndex};
///
/// // I P P I P P at 1 tick each, 1 tick a second.
/// let samples: Vec<SampleInfo> = (0..6)
///     .map(|i| SampleInfo { offset: 0, size: 1, dts: i, pts: i, duration: 1, sync: i % 3 == 0, presented: true, description: 0 })
///     .collect();
/// let index = FrameIndex::new(&samples, NonZeroU32::MIN);
/// let exact = choose(&index, Time::new(49, 10).unwrap(), Tolerance::ZERO).unwrap();
/// assert_eq!((exact.frame.sample, exact.entry, exact.cost), (4, 3, 2));
/// // Any frame will do: the keyframe nearest 4.9 s.
/// let any = choose(&index, Time::new(49, 10).unwrap(), Tolerance::INFINITE).unwrap();
/// assert_eq!((any.frame.sample, any.cost), (3, 1));
/// ```
pub fn choose(index: &FrameIndex, requested: Time, tolerance: Tolerance) -> Result<Choice> {
    let timescale = index.timescale().get();
    let (Some(first), Some(last), Some(end_ticks)) =
        (index.frame(0), index.last_frame(), index.end_pts())
    else {
        return Err(Error::OutOfRange {
            requested,
            end: Time::ZERO,
        });
    };
    let end = index.time_of(end_ticks);
    let (low, high) = tolerance.window(requested);
    if requested < index.time_of(first.pts) {
        return Ok(Choice::of(index, first));
    }
    if requested >= end {
        // `+∞ − ∞` is `+∞`, so an infinite reach back is asked for directly.
        if tolerance.before().is_positive_infinity() || low <= index.time_of(last.pts) {
            return Ok(Choice::of(index, last));
        }
        return Err(Error::OutOfRange { requested, end });
    }
    // Frame times are `i64` ticks: a bound beyond that range on the far side leaves
    // no frame in the window, one on the near side holds them all.
    let on_screen_ticks =
        ticks_within_range(requested, timescale, Rounding::Floor).unwrap_or_else(saturated);
    let window = match (
        ticks_within_range(low, timescale, Rounding::Ceil),
        ticks_within_range(high, timescale, Rounding::Floor),
    ) {
        (Err(Ordering::Greater), _) | (_, Err(Ordering::Less)) => None,
        (low, high) => Some((
            low.unwrap_or_else(saturated),
            high.unwrap_or_else(saturated),
        )),
    };
    let mut candidates: Vec<FrameRef> = Vec::with_capacity(WINDOW_SCAN + 3);
    candidates.extend(index.on_screen(on_screen_ticks));
    if let Some((low, high)) = window {
        if index.has_random_access_between(low, high) {
            // A random access frame costs 1, the least there is: only they compete.
            for (_, sample) in index.random_access_frames_around(on_screen_ticks, low, high) {
                candidates.extend(index.position_of(sample).and_then(|p| index.frame(p)));
            }
        } else {
            let in_window = index.positions_between(low, high);
            let scanned = in_window.start..in_window.end.min(in_window.start + WINDOW_SCAN);
            candidates.extend(scanned.filter_map(|position| index.frame(position)));
        }
    }
    candidates
        .into_iter()
        .map(|frame| Choice::of(index, frame))
        .min_by_key(|choice| {
            let distance = choice.frame.pts.abs_diff(on_screen_ticks);
            (choice.cost, distance, choice.frame.pts, choice.frame.sample)
        })
        .ok_or(Error::OutOfRange { requested, end })
}

/// Chooses frame number `position` (in presentation order, from 0), as ffmpeg
/// numbers frames (`select=eq(n,N)`).
///
/// Fails with [`Error::OutOfRange`] past the last frame.
pub fn choose_frame(index: &FrameIndex, position: u64) -> Result<Choice> {
    usize::try_from(position)
        .ok()
        .and_then(|position| index.frame(position))
        .map(|frame| Choice::of(index, frame))
        .ok_or_else(|| Error::NoSuchFrame {
            frame: position,
            frames: index.presented_count() as u64,
        })
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
