//! Command-line time and size arguments.

use stillframe::{MaximumSize, Rounding, Time};

/// A `--at` value: a time on the presentation timeline, or a share of its span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeArg {
    /// A time.
    At(Time),
    /// `N%`: this fraction (0 to 1, exact) of the way from the first frame to the
    /// end of the last.
    Share(Time),
}

impl TimeArg {
    /// The time this argument names on a track whose frames span `start..end`;
    /// 100% is the last frame (the span's end is where it stops showing).
    pub fn resolve(self, span: Option<(Time, Time)>) -> Time {
        let share = match self {
            TimeArg::At(time) => return time,
            TimeArg::Share(share) => share,
        };
        let Some((start, end)) = span else {
            return Time::ZERO;
        };
        let nanos = |t: Time| t.to_ticks(1_000_000_000, Rounding::Floor).map(i128::from);
        let (Some(length), Some((value, scale))) =
            (nanos(end.saturating_sub(start)), share.ticks())
        else {
            return start;
        };
        let offset = length * i128::from(value) / i128::from(scale.get());
        // One nanosecond short of the end still falls on the last frame.
        let offset = offset.min(length - 1).max(0);
        let offset = Time::new(i64::try_from(offset).unwrap_or(i64::MAX), 1_000_000_000);
        offset.map_or(start, |offset| start.saturating_add(offset))
    }
}

/// Parses a `--at` value: a time, or `N%` (0 to 100, decimals allowed).
pub fn parse_time_arg(text: &str) -> Result<TimeArg, String> {
    let Some(number) = text.trim().strip_suffix('%') else {
        return parse_time(text).map(TimeArg::At);
    };
    let percent = parse_time(number)?;
    let hundred = Time::from_secs(100);
    if percent.is_negative() || !percent.is_finite() || percent > hundred {
        return Err(format!("{text:?}: a share of the timeline is 0% to 100%"));
    }
    // The percentage as an exact fraction: value / (timescale × 100).
    let share = percent
        .ticks()
        .and_then(|(value, scale)| Time::new(value, scale.get().checked_mul(100)?))
        .ok_or_else(|| format!("{text:?}: too many decimals"))?;
    Ok(TimeArg::Share(share))
}

/// Parses one TIME or DUR argument.
pub fn parse_time(text: &str) -> Result<Time, String> {
    text.parse::<Time>().map_err(|e| e.to_string())
}

/// Parses a non-negative duration (tolerance); `inf` allowed.
pub fn parse_duration(text: &str) -> Result<Time, String> {
    let time = parse_time(text)?;
    if time.is_negative() {
        return Err(format!("duration {text:?} is negative"));
    }
    Ok(time)
}

/// Parses a duration that must be above zero and finite (an interval).
pub fn parse_positive_duration(text: &str) -> Result<Time, String> {
    let time = parse_duration(text)?;
    if time == Time::ZERO || !time.is_finite() {
        return Err(format!("interval {text:?} must be above zero and finite"));
    }
    Ok(time)
}

/// Parses `WxH` where 0 on a side means unbounded.
pub fn parse_size(text: &str) -> Result<MaximumSize, String> {
    let (width, height) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("size {text:?} is not WxH, e.g. 320x180 or 320x0"))?;
    let side = |s: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("size {text:?}: {s:?} is not a whole number of pixels"))
    };
    Ok(MaximumSize {
        width: side(width)?,
        height: side(height)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(
            parse_size("320x0").unwrap(),
            MaximumSize {
                width: 320,
                height: 0
            }
        );
        assert!(parse_size("320").is_err());
        assert!(parse_size("axb").is_err());
        assert!(parse_duration("-1").is_err());
        assert_eq!(parse_duration("inf").unwrap(), Time::POSITIVE_INFINITY);
    }

    #[test]
    fn shares_of_the_timeline() {
        let span = Some((Time::from_secs(2), Time::from_secs(12)));
        let at = |text: &str| parse_time_arg(text).unwrap().resolve(span);
        assert_eq!(at("0%"), Time::from_secs(2));
        assert_eq!(at("10%"), Time::from_secs(3));
        assert_eq!(at("12.5%"), Time::new(325, 100).unwrap());
        // 100% is the last frame, just before the span ends.
        assert!(at("100%") < Time::from_secs(12) && at("100%") > Time::new(1199, 100).unwrap());
        assert_eq!(at("7.5"), "7.5".parse().unwrap());
        for bad in ["101%", "-1%", "x%", "inf%"] {
            assert!(parse_time_arg(bad).is_err(), "{bad} accepted");
        }
    }
}
