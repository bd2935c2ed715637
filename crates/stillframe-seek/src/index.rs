//! The per-track index the planner searches.

use stillframe_core::SampleInfo;

/// A presented frame: which sample it is and when it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRef {
    /// Decode-order index of its sample.
    pub sample: u32,
    /// Presentation timestamp in the track's timescale.
    pub pts: i64,
    /// Its place in presentation order, from 0.
    pub position: usize,
}

/// A track's frames in presentation order and its random access points.
///
/// Built once per track in O(n log n); every query is a binary search.
#[derive(Debug, Clone)]
pub struct FrameIndex {
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
}

impl FrameIndex {
    /// Indexes `samples`, given in decode order. Sync samples are taken as random
    /// access points until [`FrameIndex::demote`] says otherwise.
    pub fn new(samples: &[SampleInfo]) -> FrameIndex {
        let pts: Vec<i64> = samples.iter().map(|s| s.pts).collect();
        let mut presented: Vec<u32> = (0..samples.len())
            .filter(|&i| samples.get(i).is_some_and(|s| s.presented))
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        presented.sort_by_key(|&i| (pts.get(i as usize).copied().unwrap_or(i64::MAX), i));
        let random_access: Vec<u32> = (0..samples.len())
            .filter(|&i| samples.get(i).is_some_and(|s| s.sync))
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        let mut random_access_by_pts: Vec<(i64, u32)> = random_access
            .iter()
            .filter(|&&i| samples.get(i as usize).is_some_and(|s| s.presented))
            .map(|&i| (pts.get(i as usize).copied().unwrap_or(i64::MAX), i))
            .collect();
        random_access_by_pts.sort_unstable();
        let end_pts = samples
            .iter()
            .filter(|s| s.presented)
            // A zero duration would make the last frame unreachable; give it one tick.
            .map(|s| s.pts.saturating_add(i64::from(s.duration.max(1))))
            .max();
        FrameIndex {
            pts,
            presented,
            random_access,
            random_access_by_pts,
            end_pts,
        }
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

    /// The frame at presentation position `position`.
    pub fn frame(&self, position: usize) -> Option<FrameRef> {
        let sample = *self.presented.get(position)?;
        Some(FrameRef {
            sample,
            pts: *self.pts.get(sample as usize)?,
            position,
        })
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

    /// Stops treating `sample` as a random access point: the container flagged it as
    /// sync, but the bitstream says decoding cannot start there.
    pub fn demote(&mut self, sample: u32) {
        if let Ok(i) = self.random_access.binary_search(&sample) {
            self.random_access.remove(i);
        }
        self.random_access_by_pts.retain(|&(_, s)| s != sample);
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
        if self
            .random_access
            .iter()
            .any(|&r| r as usize >= self.pts.len())
        {
            return Err("random access point past the last sample".into());
        }
        Ok(())
    }
}
