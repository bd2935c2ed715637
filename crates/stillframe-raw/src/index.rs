//! The sample table: units from a format scanner, in decode order, turned into
//! [`SampleInfo`]s once their presentation times are known.
//!
//! H.264 and HEVC give each picture an order count that is only comparable within
//! its *output period* (from an IDR picture or a memory management reset to the
//! next; in HEVC, from an IRAP picture that starts a new coded video sequence).
//! Every picture of a period is output after every picture of the periods before
//! it, so the units of a period wait here until the next period starts (or the
//! stream ends); then they are sorted by count, numbered in presentation order
//! after those already out, and appended in decode order. Samples already handed
//! out never change, as [`stillframe_core::Demuxer`] requires.

use stillframe_core::{Error, Limits, Result, SampleInfo};

/// One sample as a format scanner finds it, in decode order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unit {
    /// Where its bytes begin in the input.
    pub offset: u64,
    /// How many bytes of the input it covers.
    pub span: u64,
    /// Its size as [`stillframe_core::Demuxer::read_sample`] returns it.
    pub size: u32,
    /// Decoding may start here.
    pub sync: bool,
    /// It is output (false for a field without its pair, which is decoded but
    /// never shown).
    pub presented: bool,
    /// When it shows.
    pub order: Order,
}

/// How a unit's presentation time is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// By an order count within its output period; `new_period` when it starts one.
    Count {
        /// The order count (H.264 `PicOrderCnt`, HEVC `PicOrderCntVal`).
        count: i64,
        /// Every unit before it is output before it.
        new_period: bool,
    },
    /// At a time the container states, in the track's timescale.
    Stated {
        /// Presentation time.
        pts: i64,
        /// How long it shows.
        duration: u32,
    },
}

/// Why the table ends before the end of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The input ends inside a unit.
    Cut(u64),
    /// The data here cannot be read further.
    Damaged(String),
    /// A number here exceeds a [`Limits`] bound.
    Limited {
        what: &'static str,
        value: u64,
        limit: u64,
    },
}

impl Stop {
    /// What a scanning error means for the table.
    pub(crate) fn from_error(error: &Error, input_len: u64) -> Stop {
        match error {
            Error::Truncated { .. } => Stop::Cut(input_len),
            Error::Limit { what, value, limit } => Stop::Limited {
                what,
                value: *value,
                limit: *limit,
            },
            other => Stop::Damaged(other.to_string()),
        }
    }

    /// The error a request beyond the stop gets.
    pub(crate) fn error(&self) -> Error {
        match self {
            Stop::Cut(at) => Error::truncated(format!(
                "the stream was cut off at byte {at}: the frames for this time are missing"
            )),
            Stop::Damaged(message) => Error::malformed("elementary stream", message.clone()),
            Stop::Limited { what, value, limit } => Error::Limit {
                what,
                value: *value,
                limit: *limit,
            },
        }
    }
}

/// The samples found so far, and the units of the period still open.
#[derive(Debug)]
pub(crate) struct Index {
    samples: Vec<SampleInfo>,
    /// Input bytes each sample covers, parallel to `samples`.
    spans: Vec<u64>,
    pending: Vec<Unit>,
    frame_duration: u32,
    /// Presentation positions handed out so far (counted units).
    positions: i64,
    latest_sync: Option<i64>,
}

impl Index {
    /// An empty table for units of `frame_duration` ticks each (counted units).
    pub(crate) fn new(frame_duration: u32) -> Index {
        Index {
            samples: Vec::new(),
            spans: Vec::new(),
            pending: Vec::new(),
            frame_duration,
            positions: 0,
            latest_sync: None,
        }
    }

    /// The samples appended so far, in decode order.
    pub(crate) fn samples(&self) -> &[SampleInfo] {
        &self.samples
    }

    /// The input bytes of sample `index`: offset and span.
    pub(crate) fn location(&self, index: usize) -> Option<(u64, u64)> {
        Some((self.samples.get(index)?.offset, *self.spans.get(index)?))
    }

    /// Units found but not yet appended.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The latest presentation time of a sync sample appended so far.
    pub(crate) fn latest_sync(&self) -> Option<i64> {
        self.latest_sync
    }

    /// Where the last appended frame stops showing.
    pub(crate) fn end(&self) -> Option<i64> {
        self.samples
            .iter()
            .filter(|s| s.presented)
            .map(|s| s.pts.saturating_add(i64::from(s.duration.max(1))))
            .max()
    }

    /// Takes the next unit in decode order. A unit that starts a period, or has a
    /// stated time, first closes the open period.
    pub(crate) fn push(&mut self, unit: Unit, limits: &Limits) -> Result<()> {
        let total = (self.samples.len() + self.pending.len()) as u64 + 1;
        limits.check_samples(total)?;
        limits.check_sample_bytes(u64::from(unit.size))?;
        match unit.order {
            Order::Count {
                new_period: false, ..
            } => self.pending.push(unit),
            Order::Count {
                new_period: true, ..
            } => {
                self.close_period();
                self.pending.push(unit);
            }
            Order::Stated { pts, duration } => {
                self.close_period();
                self.append(&unit, pts, pts, duration);
            }
        }
        Ok(())
    }

    /// Appends the open period's units: sorted by count for their presentation
    /// times, kept in decode order in the table.
    pub(crate) fn close_period(&mut self) {
        let units = std::mem::take(&mut self.pending);
        if units.is_empty() {
            return;
        }
        let count_of = |unit: &Unit| match unit.order {
            Order::Count { count, .. } => count,
            Order::Stated { .. } => 0,
        };
        let mut by_count: Vec<usize> = (0..units.len()).collect();
        by_count.sort_by_key(|&i| (units.get(i).map_or(0, count_of), i));
        // The presentation position of each unit; one not presented takes the
        // position of the frame after it, without using it up.
        let mut positions = vec![0i64; units.len()];
        let mut next = self.positions;
        for &i in &by_count {
            if let (Some(slot), Some(unit)) = (positions.get_mut(i), units.get(i)) {
                *slot = next;
                if unit.presented {
                    next += 1;
                }
            }
        }
        let duration = self.frame_duration;
        let ticks = |position: i64| position.saturating_mul(i64::from(duration));
        for (unit, position) in units.iter().zip(positions) {
            let dts = ticks(self.samples.len() as i64);
            self.append(unit, ticks(position), dts, duration);
        }
        self.positions = next;
    }

    fn append(&mut self, unit: &Unit, pts: i64, dts: i64, duration: u32) {
        if unit.sync && unit.presented {
            self.latest_sync = Some(self.latest_sync.map_or(pts, |latest| latest.max(pts)));
        }
        self.samples.push(SampleInfo {
            offset: unit.offset,
            size: unit.size,
            dts,
            pts,
            duration,
            sync: unit.sync,
            presented: unit.presented,
            description: 0,
        });
        self.spans.push(unit.span);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn unit(count: i64, new_period: bool, sync: bool) -> Unit {
        Unit {
            offset: 0,
            span: 1,
            size: 1,
            sync,
            presented: true,
            order: Order::Count { count, new_period },
        }
    }

    #[test]
    fn periods_are_sorted_by_count_and_kept_in_decode_order() {
        let mut index = Index::new(2);
        let limits = Limits::default();
        // I0 P6 B2 B4 | IDR I0 P2
        for (count, new_period, sync) in [
            (0, true, true),
            (6, false, false),
            (2, false, false),
            (4, false, false),
            (0, true, true),
            (2, false, false),
        ] {
            index.push(unit(count, new_period, sync), &limits).unwrap();
        }
        // The second period waits for the end.
        assert_eq!(index.samples().len(), 4);
        assert_eq!(index.pending(), 2);
        index.close_period();
        let pts: Vec<i64> = index.samples().iter().map(|s| s.pts).collect();
        assert_eq!(pts, [0, 6, 2, 4, 8, 10]);
        let dts: Vec<i64> = index.samples().iter().map(|s| s.dts).collect();
        assert_eq!(dts, [0, 2, 4, 6, 8, 10]);
        assert_eq!(index.latest_sync(), Some(8));
        assert_eq!(index.end(), Some(12));
        assert_eq!(index.location(1), Some((0, 1)));
    }

    #[test]
    fn a_unit_not_presented_uses_no_position() {
        let mut index = Index::new(1);
        let limits = Limits::default();
        index.push(unit(0, true, true), &limits).unwrap();
        let mut lone = unit(1, false, false);
        lone.presented = false;
        index.push(lone, &limits).unwrap();
        index.push(unit(2, false, false), &limits).unwrap();
        index.close_period();
        let pts: Vec<(i64, bool)> = index
            .samples()
            .iter()
            .map(|s| (s.pts, s.presented))
            .collect();
        assert_eq!(pts, [(0, true), (1, false), (1, true)]);
    }

    #[test]
    fn stated_times_pass_through_and_limits_hold() {
        let mut index = Index::new(1);
        let limits = Limits {
            max_samples: 2,
            ..Limits::default()
        };
        let stated = Unit {
            order: Order::Stated {
                pts: 90,
                duration: 3,
            },
            ..unit(0, false, true)
        };
        index.push(stated.clone(), &limits).unwrap();
        index.push(stated.clone(), &limits).unwrap();
        assert_eq!(index.samples()[0].pts, 90);
        assert_eq!(index.samples()[0].duration, 3);
        let error = index.push(stated, &limits).unwrap_err();
        assert_eq!(error.kind(), stillframe_core::ErrorKind::Limit);
    }
}
