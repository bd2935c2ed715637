//! How far from the requested time an image may come from.

use crate::Time;

/// The window `[requested − before, requested + after]` of acceptable frames.
///
/// Mirrors `requestedTimeToleranceBefore` / `requestedTimeToleranceAfter` of
/// `AVAssetImageGenerator`. The default is infinite on both sides, as there:
/// any frame will do, and the cheapest to decode wins.
///
/// ```
/// use stillframe_core::{Time, Tolerance};
///
/// assert_eq!(Tolerance::default(), Tolerance::INFINITE);
/// let half_second = Tolerance::symmetric(Time::from_millis(500)).unwrap();
/// assert!(Tolerance::new(Time::from_secs(-1), Time::ZERO).is_none());
/// # let _ = half_second;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tolerance {
    before: Time,
    after: Time,
}

impl Tolerance {
    /// Exactly the frame on screen at the requested time.
    pub const ZERO: Tolerance = Tolerance {
        before: Time::ZERO,
        after: Time::ZERO,
    };
    /// Any frame (AVFoundation's default).
    pub const INFINITE: Tolerance = Tolerance {
        before: Time::POSITIVE_INFINITY,
        after: Time::POSITIVE_INFINITY,
    };

    /// A window reaching `before` earlier and `after` later; `None` if either is negative.
    pub fn new(before: Time, after: Time) -> Option<Tolerance> {
        if before.is_negative() || after.is_negative() {
            None
        } else {
            Some(Tolerance { before, after })
        }
    }

    /// The same reach on both sides; `None` if negative.
    pub fn symmetric(reach: Time) -> Option<Tolerance> {
        Tolerance::new(reach, reach)
    }

    /// How much earlier than the requested time a frame may be.
    pub const fn before(&self) -> Time {
        self.before
    }

    /// How much later than the requested time a frame may be.
    pub const fn after(&self) -> Time {
        self.after
    }

    /// True for [`Tolerance::ZERO`] and its equals.
    pub fn is_exact(&self) -> bool {
        self.before == Time::ZERO && self.after == Time::ZERO
    }

    /// The window around `requested`, saturating at ±∞.
    pub fn window(&self, requested: Time) -> (Time, Time) {
        (
            requested.saturating_sub(self.before),
            requested.saturating_add(self.after),
        )
    }
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance::INFINITE
    }
}
