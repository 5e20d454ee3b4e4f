//! Kubernetes quantities: every accepted form with its exact value, every rejected form with its
//! message, and format → parse round trips.

use capsim::model::units::{Qty, Quantity, QuantityFormat};
use proptest::prelude::*;

const GI: i64 = 1 << 30;
const MI: i64 = 1 << 20;

/// (input, milli_value (ceil), value (ceil), canonical display)
#[rustfmt::skip]
const ACCEPTED: &[(&str, i64, i64, &str)] = &[
    ("250m",   250,               1,                 "250m"),   // 0.25 → Value() rounds up to 1
    ("1.5",    1500,              2,                 "1500m"),  // upstream doc: 1.5 → "1500m"
    ("2",      2000,              2,                 "2"),
    ("512Mi",  512 * MI * 1000,   512 * MI,          "512Mi"),
    ("1G",     1_000_000_000_000, 1_000_000_000,     "1G"),
    ("1Ki",    1_024_000,         1024,              "1Ki"),
    ("0.5Gi",  GI / 2 * 1000,     GI / 2,            "512Mi"),  // 0.5 × 2^30 = 2^29 = 512 Mi
    ("1.5Gi",  3 * GI / 2 * 1000, 3 * GI / 2,        "1536Mi"), // upstream doc: 1.5Gi → "1536Mi"
    ("129e6",  129_000_000_000,   129_000_000,       "129e6"),
    ("1E3",    1_000_000,         1000,              "1e3"),
    ("5e-3",   5,                 1,                 "5e-3"),
    ("1.5e3",  1_500_000,         1500,              "1500"),   // 1.5e3 = 1500 = 15e2: not a multiple of 1e3
    ("0.1",    100,               1,                 "100m"),
    ("100n",   1,                 1,                 "100n"),   // 1e-7 → MilliValue rounds up to 1
    ("1u",     1,                 1,                 "1u"),
    ("1.0001m", 2,                1,                 "1000100n"), // 1.0001e-3 → 2 millis (ceil)
    ("0.0000000001", 1,           1,                 "1n"),     // 1e-10 is finer than nano: rounds up
    ("1.3Ki",  1_331_200,         1332,              "1331200m"), // 1331.2 bytes: not whole → decimal
    ("+1",     1000,              1,                 "1"),
    ("-1.5",   -1500,             -2,                "-1500m"), // rounding is away from zero
    ("1.",     1000,              1,                 "1"),
    (".5",     500,               1,                 "500m"),
    ("007",    7000,              7,                 "7"),
    ("0",      0,                 0,                 "0"),
    ("-0",     0,                 0,                 "0"),
    ("0Gi",    0,                 0,                 "0"),
    ("0.000",  0,                 0,                 "0"),
    ("1000",   1_000_000,         1000,              "1k"),
    ("1500",   1_500_000,         1500,              "1500"),
    ("1024Ki", MI * 1000,         MI,                "1Mi"),
    ("1000Ki", 1_024_000_000,     1_024_000,         "1000Ki"),
    ("2k",     2_000_000,         2000,              "2k"),
    ("3M",     3_000_000_000,     3_000_000,         "3M"),
    ("1T",     1_000_000_000_000_000, 1_000_000_000_000, "1T"),
    ("1E",     i64::MAX,          1_000_000_000_000_000_000, "1E"), // milli 1e21 saturates
    ("7Ei",    i64::MAX,          7 << 60,           "7Ei"),
    ("9223372036854775807", i64::MAX, i64::MAX,      "9223372036854775807"),
];

#[test]
fn accepted_forms_have_exact_values() {
    for &(input, milli, value, canonical) in ACCEPTED {
        let q = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(q.milli_value(), milli, "{input} milli");
        assert_eq!(q.value(), value, "{input} value");
        assert_eq!(q.to_string(), canonical, "{input} display");
        assert_eq!(
            Quantity::parse(canonical),
            Ok(q),
            "{input}: canonical {canonical} reparses"
        );
    }
}

#[test]
fn formats_follow_the_suffix() {
    let f = |s: &str| Quantity::parse(s).map(|q| q.format());
    assert_eq!(f("1Gi"), Ok(QuantityFormat::BinarySi));
    assert_eq!(f("1G"), Ok(QuantityFormat::DecimalSi));
    assert_eq!(f("1"), Ok(QuantityFormat::DecimalSi));
    assert_eq!(f("1e3"), Ok(QuantityFormat::DecimalExponent));
    // Value equality ignores the format: 1Ki == 1024.
    assert_eq!(Quantity::parse("1Ki"), Quantity::parse("1024"));
    assert!(Quantity::parse("1Ki").ok() > Quantity::parse("1k").ok());
}

#[test]
fn decimal_sums_are_exact() {
    // 0.1 + 0.2 = 0.3 exactly in nano-units (as float it would be 0.30000000000000004).
    let a = Quantity::parse("0.1").map(|q| q.nanos());
    let b = Quantity::parse("0.2").map(|q| q.nanos());
    let sum = Quantity::from_nanos(a.unwrap_or(0) + b.unwrap_or(0));
    assert_eq!(sum, Quantity::parse("300m").unwrap_or_default());
    assert_eq!(sum.milli_value(), 300);
    assert_eq!(Quantity::from_milli(1500).to_string(), "1500m");
    assert_eq!(Quantity::from_value(3 * MI, true).to_string(), "3Mi");
    assert_eq!(Quantity::from_value(1000, true).to_string(), "1k"); // binary below 1024 → decimal
}

/// (input, fragment the message must contain)
const REJECTED: &[(&str, &str)] = &[
    ("", "empty string"),
    ("10 m", "spaces are not allowed"),
    (" 1", "spaces are not allowed"),
    ("1 ", "spaces are not allowed"),
    ("1mi", "unknown suffix \"mi\""),
    ("1i", "unknown suffix \"i\""),
    ("1.2.3", "unexpected character '.' at byte 3"),
    ("Gi", "missing number"),
    (".", "missing number"),
    ("-", "missing number"),
    ("abc", "missing number"),
    ("1e", "an exponent needs digits"),
    ("1e+", "an exponent needs digits"),
    ("1KiB", "unexpected character 'B' at byte 3"),
    ("1Kb", "unexpected character 'b'"),
    ("1e100", "value too large"),
    ("8Ei", "value too large"),
    ("9223372036854775808", "value too large"),
    ("0.1234567890123456789012345678901", "more than 30 significant digits"),
    ("0.12345678901234567890123Ei", "too many significant digits"),
    ("1e99999999999999999999", "unknown suffix"),
];

#[test]
fn rejected_forms_say_what_is_wrong() {
    for &(input, fragment) in REJECTED {
        let e = Quantity::parse(input).expect_err(input).to_string();
        assert!(e.contains(fragment), "{input:?}: {e}");
        assert!(
            e.contains(&format!("{input:?}")),
            "{input:?}: message names the input: {e}"
        );
        assert!(
            e.contains("Ki Mi Gi Ti Pi Ei") && e.contains("n u m k M G T P E"),
            "{input:?}: {e}"
        );
    }
}

#[derive(serde::Deserialize)]
struct Res {
    cpu: Qty,
    memory: Qty,
}

#[test]
fn qty_deserializes_from_strings_and_numbers() {
    let cases = [
        ("cpu: 1\nmemory: 512Mi\n", 1000, 512 * MI),
        ("cpu: 0.5\nmemory: \"1Gi\"\n", 500, GI),
        ("cpu: '250m'\nmemory: 1e3\n", 250, 1000),
        ("cpu: 0.1\nmemory: 129e6\n", 100, 129_000_000),
    ];
    for (yaml, milli, bytes) in cases {
        let r: Res = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        assert_eq!(r.cpu.0.milli_value(), milli, "{yaml}");
        assert_eq!(r.memory.0.value(), bytes, "{yaml}");
    }
    let e = serde_saphyr::from_str::<Res>("cpu: 1mi\nmemory: 1Gi\n")
        .err()
        .map(|e| e.to_string());
    assert!(e.as_deref().unwrap_or("").contains("unknown suffix \"mi\""), "{e:?}");
    assert_eq!(
        serde_json::to_string(&Qty(Quantity::parse("1.5Gi").unwrap_or_default())).ok(),
        Some("\"1536Mi\"".into())
    );
}

fn suffix_factor(suffix: &str) -> (i128, i128) {
    // (multiplier, divisor) of one unit in nano-units
    match suffix {
        "n" => (1, 1),
        "u" => (1_000, 1),
        "m" => (1_000_000, 1),
        "" => (1_000_000_000, 1),
        "k" => (1_000_000_000_000, 1),
        "M" => (1_000_000_000_000_000, 1),
        "Ki" => (1_024_000_000_000, 1),
        "Mi" => (1_048_576_000_000_000, 1),
        "Gi" => (1_073_741_824_000_000_000, 1),
        "e3" => (1_000_000_000_000, 1),
        "e-3" => (1_000_000, 1),
        _ => (0, 1),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Written value → exact nano value; display → parse gives the same value; display is a
    /// fixed point.
    #[test]
    fn written_quantities_round_trip(
        mantissa in -9_999_999i64..9_999_999,
        suffix in prop::sample::select(vec!["n", "u", "m", "", "k", "M", "Ki", "Mi", "Gi", "e3", "e-3"]),
    ) {
        let s = format!("{mantissa}{suffix}");
        let q = Quantity::parse(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (mul, _) = suffix_factor(suffix);
        prop_assert_eq!(q.nanos(), i128::from(mantissa) * mul);
        let shown = q.to_string();
        let back = Quantity::parse(&shown).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, q);
        prop_assert_eq!(back.to_string(), shown);
    }

    /// Decimal fractions: `int.frac` with up to 9 fraction digits is exact in nano-units.
    #[test]
    fn decimal_fractions_are_exact(int in 0u32..100_000, frac in 0u32..1_000_000_000) {
        let s = format!("{int}.{frac:09}");
        let q = Quantity::parse(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(q.nanos(), i128::from(int) * 1_000_000_000 + i128::from(frac));
        let milli_ceil = (i64::from(int) * 1_000_000_000 + i64::from(frac) + 999_999) / 1_000_000;
        prop_assert_eq!(q.milli_value(), milli_ceil);
        prop_assert_eq!(Quantity::parse(&q.to_string()), Ok(q));
    }

    #[test]
    fn any_nano_value_round_trips(n in -(1i128 << 90)..(1i128 << 90)) {
        let q = Quantity::from_nanos(n);
        prop_assert_eq!(Quantity::parse(&q.to_string()), Ok(q));
    }
}
