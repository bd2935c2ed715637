//! `Time` parsing, printing and arithmetic never panic, parse what they print, and
//! agree with exact rational arithmetic. Input layout:
//! `stillframe_fuzz_input::parse_time`.
#![no_main]

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use libfuzzer_sys::fuzz_target;
use stillframe_core::{Rounding, Time, Tolerance};
use stillframe_fuzz_input::parse_time;

fn hash(time: Time) -> u64 {
    let mut hasher = DefaultHasher::new();
    time.hash(&mut hasher);
    hasher.finish()
}

/// `a/ta` and `b/tb` compared exactly.
fn exact_cmp((a, ta): (i64, u32), (b, tb): (i64, u32)) -> Ordering {
    (i128::from(a) * i128::from(tb)).cmp(&(i128::from(b) * i128::from(ta)))
}

fn check_round_trip(time: Time) {
    let printed = time.to_string();
    match printed.parse::<Time>() {
        Ok(back) => assert_eq!(back, time, "{printed} parsed back differently"),
        Err(error) => panic!("{printed} does not parse back: {error}"),
    }
}

fn check_sum(a: Time, b: Time, sum: Option<Time>) {
    let (Some((av, at)), Some((bv, bt))) = (a.ticks(), b.ticks()) else {
        return;
    };
    let Some((sv, st)) = sum.and_then(Time::ticks) else {
        return;
    };
    // a + b = s  ⇔  (av·bt + bv·at)·st = sv·at·bt, each side in i128 when it fits.
    let (at, bt, st) = (
        i128::from(at.get()),
        i128::from(bt.get()),
        i128::from(st.get()),
    );
    let left = i128::from(av)
        .checked_mul(bt)
        .zip(i128::from(bv).checked_mul(at))
        .and_then(|(x, y)| x.checked_add(y))
        .and_then(|n| n.checked_mul(st));
    let right = at
        .checked_mul(bt)
        .and_then(|d| d.checked_mul(i128::from(sv)));
    if let (Some(left), Some(right)) = (left, right) {
        assert_eq!(left, right, "{a} + {b} gave {sum:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let input = parse_time(data);
    let text = String::from_utf8_lossy(input.text);
    if let Ok(parsed) = text.parse::<Time>() {
        check_round_trip(parsed);
        let _ = parsed.as_secs_f64();
    }

    let times = [
        Time::new(input.a_value, input.a_timescale),
        Time::new(input.b_value, input.b_timescale),
    ];
    assert_eq!(times[0].is_none(), input.a_timescale == 0);
    let specials = [Time::POSITIVE_INFINITY, Time::NEGATIVE_INFINITY, Time::ZERO];
    let all: Vec<Time> = times.iter().flatten().copied().chain(specials).collect();
    for &a in &all {
        check_round_trip(a);
        for rounding in [Rounding::Floor, Rounding::Ceil, Rounding::Nearest] {
            let Some(ticks) = a.to_ticks(input.scale, rounding) else {
                continue;
            };
            let Some(rounded) = Time::new(ticks, input.scale) else {
                panic!("to_ticks gave ticks for timescale 0");
            };
            match rounding {
                Rounding::Floor => assert!(
                    rounded <= a
                        && Time::new(ticks.saturating_add(1), input.scale)
                            .is_some_and(|n| n > a || ticks == i64::MAX)
                ),
                Rounding::Ceil => assert!(
                    rounded >= a
                        && Time::new(ticks.saturating_sub(1), input.scale)
                            .is_some_and(|p| p < a || ticks == i64::MIN)
                ),
                Rounding::Nearest => {
                    let one = Time::new(1, input.scale).unwrap_or(Time::ZERO);
                    assert!(rounded.distance(a) <= one);
                }
            }
        }
        for &b in &all {
            if let (Some(x), Some(y)) = (a.ticks(), b.ticks()) {
                let x = (x.0, x.1.get());
                let y = (y.0, y.1.get());
                assert_eq!(a.cmp(&b), exact_cmp(x, y), "{a} vs {b}");
            }
            if a == b {
                assert_eq!(hash(a), hash(b), "{a} and {b} are equal but hash apart");
            }
            let sum = a.checked_add(b);
            check_sum(a, b, sum);
            assert_eq!(
                sum,
                b.checked_add(a),
                "addition is not commutative for {a}, {b}"
            );
            let difference = a.checked_sub(b);
            if let (Some(difference), Some(negated)) = (difference, b.checked_neg()) {
                check_sum(a, negated, Some(difference));
            }
            let saturated = a.saturating_add(b);
            if let Some(sum) = sum {
                assert_eq!(saturated, sum);
            }
            let _ = a.saturating_sub(b);
            let distance = a.distance(b);
            assert!(!distance.is_negative(), "distance {a} to {b} is {distance}");
            assert_eq!(
                distance,
                b.distance(a),
                "distance is not symmetric for {a}, {b}"
            );
            match Tolerance::new(a, b) {
                Some(tolerance) => {
                    assert!(!a.is_negative() && !b.is_negative());
                    for &requested in &all {
                        let (low, high) = tolerance.window(requested);
                        assert!(
                            low <= requested && requested <= high,
                            "window of {requested} ± {tolerance:?} is {low}..{high}"
                        );
                    }
                }
                None => assert!(a.is_negative() || b.is_negative()),
            }
        }
    }
});
