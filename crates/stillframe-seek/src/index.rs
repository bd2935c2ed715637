//! The per-track index the planner searches: frames in presentation order and the
//! places decoding may start, growing as a lazily indexed container reads on.

use std::collections::BTreeSet;
use std::num::NonZeroU32;

use stillframe_core::{SampleInfo, Time};

/// How many random access points before a frame are tried when looking for one it
/// does not lead (see [`FrameIndex::entry_for`]). Leading pictures precede only the
/// entry point that follows them, so the previous one serves; a few more cover
/// streams whose entry points are close together.
const ENTRY_SEARCH_DEPTH: usize = 8;

/// A presented frame: which sample it is and when it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRef {
    /// Decode-order index of its sample.
    pub sample: u32,
    /// Presentation timestamp in the track's timescale.
    pub pts: i64,
    /// Its place in presentation order, from 0: its frame number.
    pub position: usize,
}

/// A track's frames in presentation order, its random access points, and what the
/// bitstream has confirmed or refuted about them.
///
/// Built in O(n log n) and extended in place as a lazily indexed container reads
/// on ([`FrameIndex::extend`]); every query is a binary search. Sync samples are
/// random access points until [`FrameIndex::demote`] says otherwise; what was
/// demoted or confirmed stays so as the index grows.
///
/// ```
/// use std::num::NonZeroU32;
/// use stillframe_core::SampleInfo;
/// use stillframe_seek::FrameIndex;
///
/// let sample = |i: i64| SampleInfo {
///     offset: 0, size: 1, dts: i, pts: i, duration: 1, sync: i % 5 == 0,
///     presented: true, description: 0,
/// };
/// let samples: Vec<SampleInfo> = (0..10).map(sample).collect();
/// let mut index = FrameIndex::new(&samples[..6], NonZeroU32::MIN);
/// assert_eq!((index.presented_count(), index.random_access_count()), (6, 2));
/// index.extend(&samples);
/// assert_eq!(index.presented_count(), 10);
/// assert_eq!(index.random_access_at_or_before(9), Some(5));
/// ```
#[derive(Debug, Clone)]
pub struct FrameIndex {
    timescale: NonZeroU32,
    /// Presentation timestamp of each sample, in decode order.
    pts: Vec<i64>,
    /// Presented samples, sorted by presentation time (then decode order).
    presented: Vec<u32>,
    /// Random access points (decode-order indices), ascending.
    random_access: Vec<u32>,
    /// Random access points that are presented, as `(pts, sample)`, ascending.
    random_access_by_pts: Vec<(i64, u32)>,
    /// Where the last presented frame stops showing.
    end_pts: Option<i64>,
    /// Sync samples the bitstream showed are not random access points.
    demoted: BTreeSet<u32>,
    /// Random access points the bitstream has confirmed.
    confirmed: BTreeSet<u32>,
}

impl FrameIndex {
    /// Indexes `samples`, given in decode order, of a track with `timescale` ticks a
    /// second.
    pub fn new(samples: &[SampleInfo], timescale: NonZeroU32) -> FrameIndex {
        let mut index = FrameIndex {
            timescale,
            pts: Vec::new(),
            presented: Vec::new(),
            random_access: Vec::new(),
            random_access_by_pts: Vec::new(),
            end_pts: None,
            demoted: BTreeSet::new(),
            confirmed: BTreeSet::new(),
        };
        index.extend(samples);
        index
    }

    /// Takes in the samples of `samples` past those already indexed: `samples` is the
    /// track's whole table so far, of which the indexed part has not changed (the
    /// [`stillframe_core::Demuxer`] contract). Costs O(k log k) for k new samples plus
    /// the part of the presentation order they interleave with.
    pub fn extend(&mut self, samples: &[SampleInfo]) {
        let first_new = self.pts.len();
        let Some(new) = samples.get(first_new..).filter(|new| !new.is_empty()) else {
            return;
        };
        let numbered = new
            .iter()
            .zip(first_new..)
            .filter_map(|(sample, i)| Some((sample, u32::try_from(i).ok()?)));
        let mut presented: Vec<(i64, u32)> = Vec::new();
        let mut entries: Vec<(i64, u32)> = Vec::new();
        for (sample, number) in numbered {
            self.pts.push(sample.pts);
            if sample.presented {
                presented.push((sample.pts, number));
                self.end_pts = self.end_pts.max(Some(
                    sample.pts.saturating_add(i64::from(sample.duration.max(1))),
                ));
            }
            if sample.sync {
                // Decode order rises, so appending keeps this sorted.
                self.random_access.push(number);
                if sample.presented {
                    entries.push((sample.pts, number));
                }
            }
        }
        presented.sort_unstable();
        let presented: Vec<u32> = presented.into_iter().map(|(_, sample)| sample).collect();
        let pts = &self.pts;
        merge_tail(&mut self.presented, presented, |&sample| {
            (
                pts.get(sample as usize).copied().unwrap_or(i64::MAX),
                sample,
            )
        });
        entries.sort_unstable();
        merge_tail(&mut self.random_access_by_pts, entries, |&entry| entry);
    }

    /// Ticks per second of the track's timestamps.
    pub fn timescale(&self) -> NonZeroU32 {
        self.timescale
    }

    /// `pts` ticks as a [`Time`].
    pub fn time_of(&self, pts: i64) -> Time {
        Time::from_ticks(pts, self.timescale)
    }

    /// Samples in the track, presented or not.
    pub fn sample_count(&self) -> usize {
        self.pts.len()
    }

    /// Frames shown on the timeline.
    pub fn presented_count(&self) -> usize {
        self.presented.len()
    }

    /// Current random access points.
    pub fn random_access_count(&self) -> usize {
        self.random_access.len()
    }

    /// When the last presented frame stops showing; `None` with no presented frame.
    pub fn end_pts(&self) -> Option<i64> {
        self.end_pts
    }

    /// The presentation span: from the first frame's time to the end of the last,
    /// what thumbnail schedules cover whatever a container's duration claims.
    pub fn span(&self) -> Option<(Time, Time)> {
        let first = self.frame(0)?;
        Some((self.time_of(first.pts), self.time_of(self.end_pts?)))
    }

    /// The frame at presentation position `position` (its frame number).
    pub fn frame(&self, position: usize) -> Option<FrameRef> {
        let sample = *self.presented.get(position)?;
        Some(FrameRef {
            sample,
            pts: *self.pts.get(sample as usize)?,
            position,
        })
    }

    /// The last presented frame.
    pub fn last_frame(&self) -> Option<FrameRef> {
        self.frame(self.presented.len().checked_sub(1)?)
    }

    /// The presentation timestamp of `sample`.
    pub fn pts_of(&self, sample: u32) -> Option<i64> {
        self.pts.get(sample as usize).copied()
    }

    /// The frame on screen at `ticks`: the last presented frame whose pts is at or
    /// before it, or the first frame when `ticks` is earlier than every frame.
    pub fn on_screen(&self, ticks: i64) -> Option<FrameRef> {
        let after = self.presented_before_or_at(ticks);
        self.frame(after.saturating_sub(1))
    }

    /// How many presented frames have `pts <= ticks`.
    fn presented_before_or_at(&self, ticks: i64) -> usize {
        self.presented
            .partition_point(|&i| self.pts.get(i as usize).is_some_and(|&p| p <= ticks))
    }

    /// Presentation positions of the frames with `low <= pts <= high`.
    pub fn positions_between(&self, low: i64, high: i64) -> std::ops::Range<usize> {
        let start = self
            .presented
            .partition_point(|&i| self.pts.get(i as usize).is_some_and(|&p| p < low));
        let end = self.presented_before_or_at(high).max(start);
        start..end
    }

    /// The nearest random access point at or before `sample` in decode order.
    pub fn random_access_at_or_before(&self, sample: u32) -> Option<u32> {
        let after = self.random_access.partition_point(|&r| r <= sample);
        after
            .checked_sub(1)
            .and_then(|i| self.random_access.get(i))
            .copied()
    }

    /// Where decoding starts for `frame`: the latest random access point at or
    /// before it in decode order that it does not lead — one whose presentation
    /// time is not after the frame's. A leading picture (decoded after an open-GOP
    /// entry point but shown before it) refers to pictures before that entry, so
    /// decoding must start at an earlier one. Without any random access point
    /// before it, sample 0.
    pub fn entry_for(&self, frame: FrameRef) -> u32 {
        let after = self.random_access.partition_point(|&r| r <= frame.sample);
        let before = self.random_access.get(..after).unwrap_or_default();
        let mut earliest = None;
        for &entry in before.iter().rev().take(ENTRY_SEARCH_DEPTH) {
            earliest = Some(entry);
            if entry == frame.sample || self.pts_of(entry).is_some_and(|pts| pts <= frame.pts) {
                return entry;
            }
        }
        earliest.unwrap_or(0)
    }

    /// Samples to feed a fresh decoder from `frame`'s entry point through `frame`.
    pub fn cost_of(&self, frame: FrameRef) -> u64 {
        u64::from(frame.sample.saturating_sub(self.entry_for(frame))) + 1
    }

    /// True if `sample` is currently a random access point.
    pub fn is_random_access(&self, sample: u32) -> bool {
        self.random_access.binary_search(&sample).is_ok()
    }

    /// Presented random access frames with `low <= pts <= high`: the last one at or
    /// before `ticks` and the first one after it, whichever exist.
    pub fn random_access_frames_around(&self, ticks: i64, low: i64, high: i64) -> Vec<(i64, u32)> {
        let split = self
            .random_access_by_pts
            .partition_point(|&(p, _)| p <= ticks);
        let before = split
            .checked_sub(1)
            .and_then(|i| self.random_access_by_pts.get(i));
        let after = self.random_access_by_pts.get(split);
        before
            .into_iter()
            .chain(after)
            .filter(|&&(p, _)| low <= p && p <= high)
            .copied()
            .collect()
    }

    /// True if some presented random access frame has `low <= pts <= high`.
    pub fn has_random_access_between(&self, low: i64, high: i64) -> bool {
        let first = self.random_access_by_pts.partition_point(|&(p, _)| p < low);
        self.random_access_by_pts
            .get(first)
            .is_some_and(|&(p, _)| p <= high)
    }

    /// Stops treating `sample` as a random access point: the container flagged it as
    /// sync, but the bitstream says decoding cannot start there.
    pub fn demote(&mut self, sample: u32) {
        if let Ok(i) = self.random_access.binary_search(&sample) {
            self.random_access.remove(i);
        }
        self.random_access_by_pts.retain(|&(_, s)| s != sample);
        self.demoted.insert(sample);
        self.confirmed.remove(&sample);
    }

    /// Records that the bitstream confirms `sample` as a random access point.
    pub fn confirm(&mut self, sample: u32) {
        if self.is_random_access(sample) {
            self.confirmed.insert(sample);
        }
    }

    /// True when `sample` needs no check before decoding starts there: confirmed by
    /// the bitstream, or not a container sync sample at all (the no-keyframe
    /// fallback, sample 0).
    pub fn is_confirmed(&self, sample: u32) -> bool {
        self.confirmed.contains(&sample) || !self.is_random_access(sample)
    }

    /// Sync samples demoted so far.
    pub fn demoted_count(&self) -> usize {
        self.demoted.len()
    }

    /// The presentation position of `sample`, if it is presented. O(log n).
    pub fn position_of(&self, sample: u32) -> Option<usize> {
        let pts = self.pts_of(sample)?;
        let range = self.positions_between(pts, pts);
        range
            .clone()
            .find(|&position| self.presented.get(position) == Some(&sample))
    }

    /// Checks the invariants every query relies on; for tests and debugging.
    pub fn sanity_check(&self) -> Result<(), String> {
        let sorted = self.presented.windows(2).all(|w| {
            let (a, b) = (w[0], w[1]);
            (self.pts.get(a as usize), a) <= (self.pts.get(b as usize), b)
        });
        if !sorted {
            return Err("presentation order is not sorted by pts".into());
        }
        if !self.random_access.windows(2).all(|w| w[0] < w[1]) {
            return Err("random access points are not strictly ascending".into());
        }
        if !self.random_access_by_pts.windows(2).all(|w| w[0] <= w[1]) {
            return Err("random access frames are not sorted by pts".into());
        }
        if self
            .random_access
            .iter()
            .any(|&r| r as usize >= self.pts.len())
        {
            return Err("random access point past the last sample".into());
        }
        if self.demoted.iter().any(|&d| self.is_random_access(d)) {
            return Err("a demoted sample is still a random access point".into());
        }
        Ok(())
    }
}

/// Merges `new` (sorted by `key`) into the sorted `list`, touching only the part of
/// `list` from where `new` begins: appending a stretch that follows the list in
/// order costs O(k), not a re-sort.
fn merge_tail<T: Copy, K: Ord>(list: &mut Vec<T>, new: Vec<T>, key: impl Fn(&T) -> K) {
    let Some(first) = new.first() else {
        return;
    };
    let from = list.partition_point(|item| key(item) <= key(first));
    let tail = list.split_off(from);
    list.reserve(tail.len() + new.len());
    let (mut old, mut added) = (tail.into_iter().peekable(), new.into_iter().peekable());
    loop {
        let take_old = match (old.peek(), added.peek()) {
            (Some(a), Some(b)) => key(a) <= key(b),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_old { old.next() } else { added.next() };
        list.extend(next);
    }
}
