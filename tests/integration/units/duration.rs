//! Go durations (`time.ParseDuration`) at 1 ms resolution.

use capsim::engine::SimDuration;
use capsim::model::units::{Dur, parse_duration};
use proptest::prelude::*;

/// (input, milliseconds)
#[rustfmt::skip]
const ACCEPTED: &[(&str, u64)] = &[
    ("90s", 90_000),
    ("10m", 600_000),
    ("1h30m", 5_400_000),
    ("720h", 2_592_000_000),      // 720 × 3600 s
    ("500ms", 500),
    ("1.5h", 5_400_000),
    ("2h45m30s", 9_930_000),      // (2×3600 + 45×60 + 30) s
    ("0", 0),
    ("0s", 0),
    ("-0s", 0),                   // zero is not negative
    ("+5s", 5_000),
    ("1000us", 1),
    ("1000µs", 1),                // U+00B5 micro sign
    ("1000μs", 1),                // U+03BC Greek mu, also accepted by Go
    ("1000000ns", 1),
    ("1.5s", 1_500),
    (".5s", 500),
    ("1.s", 1_000),
    ("0.001s", 1),
    ("1m0.5s", 60_500),
    ("1h1h", 7_200_000),          // Go sums repeated units
    ("1.0000000000000000000001s", 1_000), // Go truncates below 1 ns
    ("2562047h", 9_223_369_200_000), // near Go's int64 nanosecond limit
];

#[test]
fn accepted_durations() {
    for &(input, ms) in ACCEPTED {
        assert_eq!(parse_duration(input), Ok(SimDuration::from_millis(ms)), "{input}");
    }
}

const REJECTED: &[(&str, &str)] = &[
    ("", "empty string"),
    ("10", "missing unit after \"10\""),
    ("1d", "unknown unit \"d\""),
    ("1sec", "unknown unit \"sec\""),
    ("-5s", "negative durations are not allowed"),
    ("5 m", "spaces are not allowed"),
    (" 5m", "spaces are not allowed"),
    ("1500us", "finer than 1ms"),
    ("1ms500us", "finer than 1ms"),
    ("1ns", "finer than 1ms"),
    ("s", "expected a number, found 's'"),
    ("-", "missing number"),
    ("1.5.5s", "missing unit after \"1.5\""),
    ("3000000h", "too large"),
    ("99999999999999999999999h", "too large"),
];

#[test]
fn rejected_durations_say_why() {
    for &(input, fragment) in REJECTED {
        let e = parse_duration(input).expect_err(input).to_string();
        assert!(e.contains(fragment), "{input:?}: {e}");
        assert!(e.contains("units ns, us, µs, ms, s, m, h"), "{input:?}: {e}");
    }
}

#[derive(serde::Deserialize)]
struct Doc {
    d: Dur,
}

#[test]
fn dur_deserializes_from_yaml() {
    let ok: Result<Doc, _> = serde_saphyr::from_str("d: 1h30m\n");
    assert_eq!(ok.ok().map(|d| d.d.0), Some(SimDuration::from_mins(90)));
    let zero: Result<Doc, _> = serde_saphyr::from_str("d: 0\n");
    assert_eq!(zero.ok().map(|d| d.d.0), Some(SimDuration::ZERO));
    let bare = serde_saphyr::from_str::<Doc>("d: 30\n").err().map(|e| e.to_string());
    assert!(
        bare.as_deref()
            .unwrap_or("")
            .contains("missing unit (write e.g. \"30s\""),
        "{bare:?}"
    );
    let bad = serde_saphyr::from_str::<Doc>("d: 1d\n").err().map(|e| e.to_string());
    assert!(bad.as_deref().unwrap_or("").contains("unknown unit \"d\""), "{bad:?}");
    assert_eq!(
        serde_json::to_string(&Dur(SimDuration::from_millis(1500))).ok(),
        Some("\"1s500ms\"".into())
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// SimDuration's Go-style Display parses back to the same value.
    #[test]
    fn display_round_trips(ms in 0u64..9_223_372_036_854) {
        let d = SimDuration::from_millis(ms);
        prop_assert_eq!(parse_duration(&d.to_string()), Ok(d));
    }

    /// Written h/m/s/ms components sum exactly.
    #[test]
    fn components_sum(h in 0u64..10_000, m in 0u64..60, s in 0u64..60, ms in 0u64..1000) {
        let text = format!("{h}h{m}m{s}s{ms}ms");
        let want = ((h * 60 + m) * 60 + s) * 1000 + ms;
        prop_assert_eq!(parse_duration(&text), Ok(SimDuration::from_millis(want)));
    }
}
