//! Exact media time: an integer count of ticks over a timescale, like `CMTime`.
//!
//! Decisions in the library (which frame is on screen, which lies in a tolerance
//! window) compare [`Time`]s exactly by cross-multiplying in `i128`; `f64` seconds
//! exist only for printing.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::num::NonZeroU32;
use std::str::FromStr;

/// A point or span on a media timeline: `value / timescale` seconds, or ±infinity.
///
/// Equality and ordering are by value, so `1/2` equals `2/4`, and
/// `-∞ < every finite time < +∞`.
///
/// ```
/// use stillframe_core::Time;
///
/// let ntsc_frame = Time::new(1001, 30000).unwrap();
/// assert!(ntsc_frame < Time::from_millis(34));
/// assert_eq!(Time::new(1, 2), Time::new(2, 4));
/// assert_eq!("1001/30000".parse::<Time>().unwrap(), ntsc_frame);
/// assert_eq!("01:02.5".parse::<Time>().unwrap(), Time::new(625, 10).unwrap());
/// ```
#[derive(Clone, Copy)]
pub struct Time(Repr);

#[derive(Clone, Copy, Debug)]
enum Repr {
    NegativeInfinity,
    Finite { value: i64, timescale: NonZeroU32 },
    PositiveInfinity,
}

/// How to round when a [`Time`] is expressed in a coarser timescale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Toward negative infinity.
    Floor,
    /// Toward positive infinity.
    Ceil,
    /// To the nearest tick; halves away from zero.
    Nearest,
}

const ONE: NonZeroU32 = NonZeroU32::MIN;

impl Time {
    /// Zero seconds.
    pub const ZERO: Time = Time(Repr::Finite {
        value: 0,
        timescale: ONE,
    });
    /// Later than every finite time; the default tolerance.
    pub const POSITIVE_INFINITY: Time = Time(Repr::PositiveInfinity);
    /// Earlier than every finite time.
    pub const NEGATIVE_INFINITY: Time = Time(Repr::NegativeInfinity);

    /// `value / timescale` seconds; `None` when `timescale` is zero.
    pub const fn new(value: i64, timescale: u32) -> Option<Time> {
        match NonZeroU32::new(timescale) {
            Some(timescale) => Some(Time(Repr::Finite { value, timescale })),
            None => None,
        }
    }

    /// `value / timescale` seconds with a timescale that cannot be zero.
    pub const fn from_ticks(value: i64, timescale: NonZeroU32) -> Time {
        Time(Repr::Finite { value, timescale })
    }

    /// Whole seconds.
    pub const fn from_secs(secs: i64) -> Time {
        Time::from_ticks(secs, ONE)
    }

    /// Milliseconds.
    pub const fn from_millis(millis: i64) -> Time {
        match NonZeroU32::new(1000) {
            Some(ms) => Time::from_ticks(millis, ms),
            None => Time::ZERO,
        }
    }

    /// The tick count and timescale, or `None` for an infinity.
    pub const fn ticks(self) -> Option<(i64, NonZeroU32)> {
        match self.0 {
            Repr::Finite { value, timescale } => Some((value, timescale)),
            _ => None,
        }
    }

    /// True unless this is an infinity.
    pub const fn is_finite(self) -> bool {
        matches!(self.0, Repr::Finite { .. })
    }

    /// True for +∞.
    pub const fn is_positive_infinity(self) -> bool {
        matches!(self.0, Repr::PositiveInfinity)
    }

    /// True when strictly below zero (−∞ included).
    pub const fn is_negative(self) -> bool {
        match self.0 {
            Repr::NegativeInfinity => true,
            Repr::Finite { value, .. } => value < 0,
            Repr::PositiveInfinity => false,
        }
    }

    /// Seconds as `f64`, for display and JSON only; ±∞ map to `f64` infinities.
    pub fn as_secs_f64(self) -> f64 {
        match self.0 {
            Repr::NegativeInfinity => f64::NEG_INFINITY,
            Repr::Finite { value, timescale } => value as f64 / f64::from(timescale.get()),
            Repr::PositiveInfinity => f64::INFINITY,
        }
    }

    /// This time as a whole number of `timescale` ticks, rounded as asked.
    ///
    /// `None` for an infinity, a zero timescale, or a result outside `i64`.
    pub fn to_ticks(self, timescale: u32, rounding: Rounding) -> Option<i64> {
        let (value, own) = self.ticks()?;
        if timescale == 0 {
            return None;
        }
        let numerator = i128::from(value) * i128::from(timescale);
        let denominator = i128::from(own.get());
        let floor = numerator.div_euclid(denominator);
        let remainder = numerator.rem_euclid(denominator);
        let rounded = match rounding {
            Rounding::Floor => floor,
            Rounding::Ceil if remainder > 0 => floor + 1,
            Rounding::Ceil => floor,
            Rounding::Nearest => {
                let twice = remainder * 2;
                if twice > denominator || (twice == denominator && numerator > 0) {
                    floor + 1
                } else {
                    floor
                }
            }
        };
        i64::try_from(rounded).ok()
    }

    /// Exact sum; infinities absorb finite values. `None` for `+∞ + −∞` or when
    /// the exact result does not fit `i64` ticks over a `u32` timescale.
    pub fn checked_add(self, other: Time) -> Option<Time> {
        match (self.0, other.0) {
            (Repr::PositiveInfinity, Repr::NegativeInfinity)
            | (Repr::NegativeInfinity, Repr::PositiveInfinity) => None,
            (Repr::PositiveInfinity, _) | (_, Repr::PositiveInfinity) => {
                Some(Time::POSITIVE_INFINITY)
            }
            (Repr::NegativeInfinity, _) | (_, Repr::NegativeInfinity) => {
                Some(Time::NEGATIVE_INFINITY)
            }
            (
                Repr::Finite {
                    value: a,
                    timescale: ta,
                },
                Repr::Finite {
                    value: b,
                    timescale: tb,
                },
            ) => {
                let (ta, tb) = (u64::from(ta.get()), u64::from(tb.get()));
                let common = ta / gcd(ta, tb) * tb;
                let a = i128::from(a) * i128::from(common / ta);
                let b = i128::from(b) * i128::from(common / tb);
                Time::reduced(a + b, u128::from(common))
            }
        }
    }

    /// Exact difference; see [`Time::checked_add`].
    pub fn checked_sub(self, other: Time) -> Option<Time> {
        self.checked_add(other.checked_neg()?)
    }

    /// The negation; `None` only when the tick count is `i64::MIN`.
    pub fn checked_neg(self) -> Option<Time> {
        Some(match self.0 {
            Repr::NegativeInfinity => Time::POSITIVE_INFINITY,
            Repr::PositiveInfinity => Time::NEGATIVE_INFINITY,
            Repr::Finite { value, timescale } => Time::from_ticks(value.checked_neg()?, timescale),
        })
    }

    /// `self + other`; when the exact sum cannot be held, the nearest time that can,
    /// rounded away from `self` (up when `other` is positive, down when negative), or
    /// ±∞ past the `i64` range. `+∞ + −∞` is `+∞`.
    ///
    /// A sum can be unrepresentable for its timescale alone (`0.123456789 + 1/7`
    /// needs 7·10⁹ ticks a second); rounding outward keeps `a + b ≥ a` for `b ≥ 0`,
    /// so a tolerance window never shuts out the time it was made around.
    pub fn saturating_add(self, other: Time) -> Time {
        if let Some(sum) = self.checked_add(other) {
            return sum;
        }
        match (self.0, other.0) {
            (
                Repr::Finite {
                    value: a,
                    timescale: ta,
                },
                Repr::Finite {
                    value: b,
                    timescale: tb,
                },
            ) => Time::rounded_sum((i128::from(a), ta), (i128::from(b), tb)),
            _ => Time::POSITIVE_INFINITY,
        }
    }

    /// `self - other`, as [`Time::saturating_add`] of `−other`.
    pub fn saturating_sub(self, other: Time) -> Time {
        match (self.0, other.0) {
            (
                Repr::Finite {
                    value: a,
                    timescale: ta,
                },
                Repr::Finite {
                    value: b,
                    timescale: tb,
                },
            ) if other.checked_neg().is_none() => {
                Time::rounded_sum((i128::from(a), ta), (-i128::from(b), tb))
            }
            _ => match other.checked_neg() {
                Some(negated) => self.saturating_add(negated),
                None => Time::POSITIVE_INFINITY,
            },
        }
    }

    /// `a/ta + b/tb` where the exact sum is not representable: in the finest timescale
    /// of `ta`, `tb` or 1 whose tick count fits `i64`, rounded away from `a` (toward
    /// `b`'s sign); ±∞ when none fits.
    fn rounded_sum((a, ta): (i128, NonZeroU32), (b, tb): (i128, NonZeroU32)) -> Time {
        let (ta, tb) = (i128::from(ta.get()), i128::from(tb.get()));
        // |a|, |b| ≤ 2^63 and ta, tb < 2^32: the numerator fits in 2^96.
        let numerator = a * tb + b * ta;
        let denominator = ta * tb;
        if let Some(exact) = Time::reduced(numerator, denominator.unsigned_abs()) {
            return exact;
        }
        let round_up = b >= 0;
        // `numerator × scale / denominator`, where `denominator / scale` is exact.
        for (scale, divisor) in [
            (ta.max(tb), ta.min(tb)),
            (ta.min(tb), ta.max(tb)),
            (1, denominator),
        ] {
            let floor = numerator.div_euclid(divisor);
            let ticks = if round_up && numerator.rem_euclid(divisor) != 0 {
                floor + 1
            } else {
                floor
            };
            if let (Ok(ticks), Ok(scale)) = (i64::try_from(ticks), u32::try_from(scale)) {
                if let Some(time) = Time::new(ticks, scale) {
                    return time;
                }
            }
        }
        if numerator < 0 {
            Time::NEGATIVE_INFINITY
        } else {
            Time::POSITIVE_INFINITY
        }
    }

    /// The absolute distance between two times (+∞ if either is infinite), the same
    /// either way round.
    pub fn distance(self, other: Time) -> Time {
        let (high, low) = if self >= other {
            (self, other)
        } else {
            (other, self)
        };
        high.saturating_sub(low)
    }

    /// Builds `numerator / denominator` in lowest terms, if it fits.
    fn reduced(numerator: i128, denominator: u128) -> Option<Time> {
        let divisor = gcd_u128(numerator.unsigned_abs(), denominator).max(1);
        let value = i64::try_from(numerator / i128::try_from(divisor).ok()?).ok()?;
        let timescale = u32::try_from(denominator / divisor).ok()?;
        Time::new(value, timescale)
    }

    /// `(numerator, denominator)` in lowest terms, for hashing.
    fn normalized(self) -> (i8, i64, u32) {
        match self.0 {
            Repr::NegativeInfinity => (-1, 0, 0),
            Repr::PositiveInfinity => (1, 0, 0),
            Repr::Finite { value, timescale } => {
                let divisor = gcd(value.unsigned_abs(), u64::from(timescale.get())).max(1);
                let value = i128::from(value) / i128::from(divisor);
                // Dividing by a positive divisor keeps the value inside i64.
                let value = i64::try_from(value).unwrap_or(i64::MAX);
                let timescale = u64::from(timescale.get()) / divisor;
                (0, value, u32::try_from(timescale).unwrap_or(u32::MAX))
            }
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn gcd_u128(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Default for Time {
    fn default() -> Self {
        Time::ZERO
    }
}

impl PartialEq for Time {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Time {}

impl Hash for Time {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normalized().hash(state);
    }
}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Time {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.0, other.0) {
            (Repr::NegativeInfinity, Repr::NegativeInfinity)
            | (Repr::PositiveInfinity, Repr::PositiveInfinity) => Ordering::Equal,
            (Repr::NegativeInfinity, _) | (_, Repr::PositiveInfinity) => Ordering::Less,
            (_, Repr::NegativeInfinity) | (Repr::PositiveInfinity, _) => Ordering::Greater,
            (
                Repr::Finite {
                    value: a,
                    timescale: ta,
                },
                Repr::Finite {
                    value: b,
                    timescale: tb,
                },
            ) => {
                (i128::from(a) * i128::from(tb.get())).cmp(&(i128::from(b) * i128::from(ta.get())))
            }
        }
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Prints `value/timescale`, or `+inf` / `-inf`; the form [`Time::from_str`] reads back.
impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::NegativeInfinity => f.write_str("-inf"),
            Repr::PositiveInfinity => f.write_str("+inf"),
            Repr::Finite { value, timescale } => write!(f, "{value}/{timescale}"),
        }
    }
}

/// Why a string is not a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time {input:?}: {reason}; expected seconds (12.5), MM:SS.mmm, HH:MM:SS.mmm, value/timescale (1001/30000) or inf")]
pub struct ParseTimeError {
    input: String,
    reason: &'static str,
}

impl ParseTimeError {
    fn new(input: &str, reason: &'static str) -> Self {
        ParseTimeError {
            input: input.to_owned(),
            reason,
        }
    }
}

/// The most fractional digits kept exactly: 10^9 still fits a `u32` timescale.
const MAX_FRACTION_DIGITS: u32 = 9;

impl FromStr for Time {
    type Err = ParseTimeError;

    /// Reads `12.5`, `MM:SS.mmm`, `HH:MM:SS.mmm`, `value/timescale`, `inf`/`+inf`/`-inf`,
    /// each optionally signed. Decimals are exact: `0.1` is `1/10`, not a float.
    fn from_str(input: &str) -> Result<Time, ParseTimeError> {
        let text = input.trim();
        let (negative, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
            return Ok(if negative {
                Time::NEGATIVE_INFINITY
            } else {
                Time::POSITIVE_INFINITY
            });
        }
        if let Some((value, timescale)) = body.split_once('/') {
            let value =
                parse_digits(value).ok_or_else(|| ParseTimeError::new(input, "bad tick count"))?;
            let timescale = parse_digits(timescale)
                .and_then(|t| u32::try_from(t).ok())
                .ok_or_else(|| ParseTimeError::new(input, "bad timescale"))?;
            // The sign is applied before narrowing, so `i64::MIN` ticks (which
            // `Display` prints) read back.
            let value = if negative {
                -i128::from(value)
            } else {
                i128::from(value)
            };
            let value =
                i64::try_from(value).map_err(|_| ParseTimeError::new(input, "too large"))?;
            return Time::new(value, timescale)
                .ok_or_else(|| ParseTimeError::new(input, "zero timescale"));
        }
        let magnitude = parse_clock(body).map_err(|reason| ParseTimeError::new(input, reason))?;
        if negative {
            magnitude
                .checked_neg()
                .ok_or_else(|| ParseTimeError::new(input, "too large"))
        } else {
            Ok(magnitude)
        }
    }
}

fn parse_digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `S[.f]`, `M:S[.f]` or `H:M:S[.f]`, unsigned.
fn parse_clock(text: &str) -> Result<Time, &'static str> {
    let fields: Vec<&str> = text.split(':').collect();
    let (last, leading) = fields.split_last().ok_or("empty")?;
    let (seconds_text, fraction_text) = last.split_once('.').unwrap_or((last, ""));
    if fraction_text.len() > MAX_FRACTION_DIGITS as usize {
        return Err("more than 9 fractional digits");
    }
    let seconds = if seconds_text.is_empty() && !fraction_text.is_empty() {
        0
    } else {
        parse_digits(seconds_text).ok_or("bad seconds")?
    };
    let mut minutes_and_hours = leading.iter().rev().map(|field| parse_digits(field));
    let whole_seconds = match leading.len() {
        0 => Some(seconds),
        1 | 2 => {
            let minutes = minutes_and_hours.next().flatten().ok_or("bad minutes")?;
            let hours = match minutes_and_hours.next() {
                Some(hours) => Some(hours.ok_or("bad hours")?),
                None => None,
            };
            if seconds >= 60 || (hours.is_some() && minutes >= 60) {
                return Err("minutes and seconds after ':' must be below 60");
            }
            hours
                .unwrap_or(0)
                .checked_mul(60)
                .and_then(|m| m.checked_add(minutes))
                .and_then(|m| m.checked_mul(60))
                .and_then(|s| s.checked_add(seconds))
        }
        _ => return Err("too many ':' fields"),
    }
    .ok_or("too large")?;
    let fraction = if fraction_text.is_empty() {
        0
    } else {
        parse_digits(fraction_text).ok_or("bad fraction")?
    };
    let timescale = 10u64.pow(fraction_text.len() as u32);
    let ticks = whole_seconds
        .checked_mul(timescale)
        .and_then(|t| t.checked_add(fraction))
        .ok_or("too large")?;
    Time::reduced(i128::from(ticks), u128::from(timescale)).ok_or("too large")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(value: i64, timescale: u32) -> Time {
        Time::new(value, timescale).unwrap()
    }

    #[test]
    fn equal_by_value_across_timescales() {
        assert_eq!(t(1, 2), t(2, 4));
        assert_eq!(t(10, 1), t(10_000, 1000));
        assert!(t(1001, 30000) < t(1, 29));
        assert!(Time::NEGATIVE_INFINITY < t(i64::MIN, 1));
        assert!(t(i64::MAX, 1) < Time::POSITIVE_INFINITY);
    }

    #[test]
    fn parses_every_documented_form() {
        assert_eq!("12.5".parse::<Time>().unwrap(), t(25, 2));
        assert_eq!("0.1".parse::<Time>().unwrap(), t(1, 10));
        assert_eq!(".5".parse::<Time>().unwrap(), t(1, 2));
        assert_eq!("3".parse::<Time>().unwrap(), t(3, 1));
        assert_eq!("01:02.250".parse::<Time>().unwrap(), t(62_250, 1000));
        assert_eq!("1:00:00.5".parse::<Time>().unwrap(), t(7201, 2));
        assert_eq!("01:01:01".parse::<Time>().unwrap(), t(3661, 1));
        assert_eq!("1001/30000".parse::<Time>().unwrap(), t(1001, 30000));
        assert_eq!("-0.5".parse::<Time>().unwrap(), t(-1, 2));
        assert_eq!("inf".parse::<Time>().unwrap(), Time::POSITIVE_INFINITY);
        assert_eq!("-inf".parse::<Time>().unwrap(), Time::NEGATIVE_INFINITY);
    }

    #[test]
    fn sums_that_need_too_fine_a_timescale_round_outward() {
        // Found by the time_parse fuzz target: 0.123456789 s ± 1/7 s needs 7·10⁹
        // ticks a second, and saturated to +∞ on both sides, so the tolerance window
        // around the time did not contain it.
        let requested = "0.123456789".parse::<Time>().unwrap();
        let seventh = t(1, 7);
        assert!(requested.checked_add(seventh).is_none());
        let (low, high) = crate::Tolerance::symmetric(seventh)
            .unwrap()
            .window(requested);
        assert!(
            low <= requested && requested <= high,
            "{low} {requested} {high}"
        );
        let exact_high = 123_456_789.0 / 1e9 + 1.0 / 7.0;
        assert!((high.as_secs_f64() - exact_high).abs() < 1e-8, "{high}");
        assert!(high.as_secs_f64() >= exact_high);
        let exact_low = 123_456_789.0 / 1e9 - 1.0 / 7.0;
        assert!((low.as_secs_f64() - exact_low).abs() < 1e-8, "{low}");
        assert!(low.as_secs_f64() <= exact_low);
        // Near i64::MAX a fraction is held in a coarser timescale, not as +∞.
        assert_eq!(t(i64::MAX, 1).saturating_add(t(-1, 3)), t(i64::MAX - 1, 1));
        assert_eq!(t(i64::MIN, 1).saturating_sub(t(-1, 1)), t(i64::MIN + 1, 1));
        assert_eq!(
            t(1, 1).saturating_sub(t(i64::MIN, 1)),
            Time::POSITIVE_INFINITY
        );
        assert_eq!(t(1, 7).distance(requested), requested.distance(t(1, 7)));
        assert!(t(1, 7).distance(requested) < t(1, 50));
    }

    #[test]
    fn the_most_negative_tick_count_reads_back() {
        // Found by the time_parse fuzz target: Display prints i64::MIN ticks.
        let most_negative = t(i64::MIN, 3);
        assert_eq!(
            most_negative.to_string().parse::<Time>().unwrap(),
            most_negative
        );
        assert!("-9223372036854775809/3".parse::<Time>().is_err());
        assert!("9223372036854775808/3".parse::<Time>().is_err());
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "",
            "abc",
            "1/0",
            "1.2.3",
            "1:60",
            "1:60:00",
            "1:2:3:4",
            "1e3",
            "0.1234567891",
            "--1",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<Time>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn rounds_to_ticks() {
        assert_eq!(t(1, 3).to_ticks(10, Rounding::Floor), Some(3));
        assert_eq!(t(1, 3).to_ticks(10, Rounding::Ceil), Some(4));
        assert_eq!(t(-1, 3).to_ticks(10, Rounding::Floor), Some(-4));
        assert_eq!(t(1, 2).to_ticks(1, Rounding::Nearest), Some(1));
        assert_eq!(Time::POSITIVE_INFINITY.to_ticks(10, Rounding::Floor), None);
    }

    #[test]
    fn arithmetic_is_exact_and_saturates() {
        assert_eq!(t(1, 3).checked_add(t(1, 6)).unwrap(), t(1, 2));
        assert_eq!(t(1, 3).checked_sub(t(1, 2)).unwrap(), t(-1, 6));
        assert_eq!(
            Time::POSITIVE_INFINITY.checked_add(t(5, 1)),
            Some(Time::POSITIVE_INFINITY)
        );
        assert_eq!(
            Time::POSITIVE_INFINITY.checked_add(Time::NEGATIVE_INFINITY),
            None
        );
        assert_eq!(
            t(i64::MAX, 1).saturating_add(t(1, 1)),
            Time::POSITIVE_INFINITY
        );
        assert_eq!(
            t(3, 1).saturating_sub(Time::POSITIVE_INFINITY),
            Time::NEGATIVE_INFINITY
        );
        assert_eq!(t(1, 1).distance(t(3, 1)), t(2, 1));
    }

    proptest! {
        #[test]
        fn ordering_matches_exact_rationals(a in any::<i64>(), ta in 1u32.., b in any::<i64>(), tb in 1u32..) {
            let expected = (i128::from(a) * i128::from(tb)).cmp(&(i128::from(b) * i128::from(ta)));
            prop_assert_eq!(t(a, ta).cmp(&t(b, tb)), expected);
        }

        #[test]
        fn equal_times_hash_equal(a in -1_000_000i64..1_000_000, ta in 1u32..100_000, k in 1u32..1000) {
            use std::collections::hash_map::DefaultHasher;
            let scaled = t(a * i64::from(k), ta * k);
            let hash = |x: Time| { let mut h = DefaultHasher::new(); x.hash(&mut h); h.finish() };
            prop_assert_eq!(t(a, ta), scaled);
            prop_assert_eq!(hash(t(a, ta)), hash(scaled));
        }

        #[test]
        fn display_round_trips(a in prop_oneof![Just(i64::MIN), Just(i64::MAX), any::<i64>()], ta in 1u32..) {
            let time = t(a, ta);
            prop_assert_eq!(time.to_string().parse::<Time>().unwrap(), time);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,24}") {
            let _ = s.parse::<Time>();
        }

        #[test]
        fn saturating_sums_are_monotonic(a in any::<i64>(), ta in 1u32.., b in any::<i64>(), tb in 1u32..) {
            let (x, y) = (t(a, ta), t(b, tb));
            let sum = x.saturating_add(y);
            if y >= Time::ZERO { prop_assert!(sum >= x); } else { prop_assert!(sum <= x); }
            if x >= Time::ZERO { prop_assert!(sum >= y); } else { prop_assert!(sum <= y); }
            let difference = x.saturating_sub(y);
            if y >= Time::ZERO { prop_assert!(difference <= x); } else { prop_assert!(difference >= x); }
        }

        #[test]
        fn floor_ticks_bound_the_time(a in -1_000_000_000i64..1_000_000_000, ta in 1u32..1_000_000, scale in 1u32..1_000_000) {
            let time = t(a, ta);
            let floor = time.to_ticks(scale, Rounding::Floor).unwrap();
            prop_assert!(t(floor, scale) <= time);
            prop_assert!(t(floor + 1, scale) > time);
        }
    }
}
