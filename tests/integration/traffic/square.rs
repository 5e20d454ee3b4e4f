//! The `square` traffic shape: values at hand-computed instants, exact means across its edges,
//! and validation messages.

use capsim::engine::{Rngs, SimTime};
use capsim::traffic::{TrafficModel, TrafficSpec};

fn model(yaml: &str) -> Result<TrafficModel, String> {
    let spec: TrafficSpec = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    TrafficModel::from_spec(&spec, "web")
}

const S: u64 = 1000;
const M: u64 = 60 * S;
const H: u64 = 60 * M;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn square_wave_at_hand_computed_instants() {
    let w = "base: 1\nshape: [{square: {period: 1h, high: 24, low: 3, offset: 90s}}]";
    #[rustfmt::skip]
    let cases: &[(&str, u64, f64)] = &[
        // offset 90 s: high on [90s, 31m30s), low on [31m30s, 1h1m30s), high again from 1h1m30s
        (w, 90 * S, 24.0),
        (w, 31 * M + 30 * S - 1, 24.0),
        (w, 31 * M + 30 * S, 3.0),
        (w, H + 90 * S - 1, 3.0),
        (w, H + 90 * S, 24.0),
        (w, 5 * H + 10 * M, 24.0),            // 5h10m − 90s = 5h8m30s → 8m30s into a period: high
        // periodic before the offset: [−28m30s, 90s) is the low half
        (w, 0, 3.0),
        (w, 89 * S, 3.0),
        // default offset 0; base scales the factor
        ("base: 2\nshape: [{square: {period: 10m, high: 5, low: 0}}]", 0, 10.0),
        ("base: 2\nshape: [{square: {period: 10m, high: 5, low: 0}}]", 5 * M, 0.0),
        ("base: 2\nshape: [{square: {period: 10m, high: 5, low: 0}}]", 10 * M, 10.0),
        // composes with level: zero before 1h (the service does not exist yet), then the wave
        ("base: 1\nshape: [{level: {at: 0s, rps: 0}}, {level: {at: 1h, rps: 1}}, {square: {period: 1h, high: 24, low: 3, offset: 1h}}]",
            59 * M, 0.0),
        ("base: 1\nshape: [{level: {at: 0s, rps: 0}}, {level: {at: 1h, rps: 1}}, {square: {period: 1h, high: 24, low: 3, offset: 1h}}]",
            H, 24.0),
    ];
    for &(yaml, t, want) in cases {
        let got = model(yaml).unwrap().rps_at(SimTime(t), &Rngs::new(1));
        assert!(close(got, want), "{yaml} at {t} ms: got {got}, want {want}");
    }
}

#[test]
fn square_wave_means_are_exact_across_edges() {
    let rngs = Rngs::new(1);
    let w = "base: 1\nshape: [{square: {period: 1h, high: 24, low: 3, offset: 90s}}]";
    #[rustfmt::skip]
    let cases: &[(u64, u64, f64)] = &[
        (90 * S, H + 90 * S, 13.5),                 // a whole period: (24 + 3) / 2
        (90 * S, 31 * M + 30 * S, 24.0),            // the high half
        (21 * M + 30 * S, 41 * M + 30 * S, 13.5),   // 10 min high + 10 min low
        (0, 5 * H, 13.5),                           // five whole periods (shifted)
        (0, 10 * M, 3.0 * 1.5 / 10.0 + 24.0 * 8.5 / 10.0), // 1m30s low then 8m30s high = 20.85
    ];
    for &(a, b, want) in cases {
        let got = model(w).unwrap().mean_rps_over(SimTime(a), SimTime(b), &rngs);
        assert!(close(got, want), "over [{a}, {b}): got {got}, want {want}");
    }
}

#[test]
fn invalid_square_specs_name_the_field() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("base: 1\nshape: [{square: {period: 0s, high: 2, low: 1}}]", "shape[0].square.period: must be > 0"),
        ("base: 1\nshape: [{step: {at: 1m, factor: 2}}, {square: {period: 1h, high: -2, low: 1}}]",
            "shape[1].square.high: must be >= 0, got -2"),
        ("base: 1\nshape: [{square: {period: 1h, high: 2, low: -1}}]", "shape[0].square.low: must be >= 0, got -1"),
    ];
    for &(yaml, want) in cases {
        let e = model(yaml).expect_err(yaml);
        assert!(e.contains(want), "{yaml}: {e}");
    }
    let bad: Result<TrafficSpec, _> = serde_saphyr::from_str("base: 1\nshape: [{square: {period: 1h, high: 2}}]");
    assert!(bad.is_err(), "low is required");
}
