//! Command-line time and size arguments.

use stillframe::{MaximumSize, Time};

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
}
