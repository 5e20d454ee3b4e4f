//! Traffic shapes at hand-computed instants, composition, averaging, and validation messages.

use capsim::engine::{Rngs, SimTime};
use capsim::traffic::{TrafficModel, TrafficSpec};

fn spec(yaml: &str) -> TrafficSpec {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

fn model(yaml: &str) -> TrafficModel {
    TrafficModel::from_spec(&spec(yaml), "web").unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

const S: u64 = 1000;
const M: u64 = 60 * S;
const H: u64 = 60 * M;
const D: u64 = 24 * H;

fn at(m: &TrafficModel, ms: u64) -> f64 {
    m.rps_at(SimTime(ms), &Rngs::new(1))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn shapes_at_hand_computed_instants() {
    #[rustfmt::skip]
    let cases: &[(&str, u64, f64)] = &[
        // constant source
        ("base: 400", 5 * H, 400.0),
        ("base: 400\nshape: [{constant: {factor: 1.5}}]", 0, 600.0),
        // diurnal: 400 × (0.3 + 0.7 × (1 + cos(2π(t − 14h)/24h)) / 2)
        ("base: 400\nshape: [{diurnal: {peak: 14h, min: 0.3}}]", 14 * H, 400.0),   // cos 0 = 1
        ("base: 400\nshape: [{diurnal: {peak: 14h, min: 0.3}}]", 2 * H, 120.0),    // cos π = −1 → 0.3
        ("base: 400\nshape: [{diurnal: {peak: 14h, min: 0.3}}]", 8 * H, 260.0),    // cos −π/2 = 0 → 0.65
        ("base: 400\nshape: [{diurnal: {peak: 14h, min: 0.3}}]", 20 * H, 260.0),
        ("base: 400\nshape: [{diurnal: {peak: 14h, min: 0.3}}]", D + 14 * H, 400.0), // next day
        ("base: 100\nshape: [{diurnal: {peak: 0s, min: 0, period: 1h}}]", 30 * M, 0.0),
        // weekly, Monday first; run starts Monday 00:00
        ("base: 100\nshape: [{weekly: {factors: [1, 1, 1, 1, 1, 0.6, 0.5]}}]", 4 * D + 23 * H, 100.0), // Friday
        ("base: 100\nshape: [{weekly: {factors: [1, 1, 1, 1, 1, 0.6, 0.5]}}]", 5 * D, 60.0),   // Saturday 00:00
        ("base: 100\nshape: [{weekly: {factors: [1, 1, 1, 1, 1, 0.6, 0.5]}}]", 6 * D + H, 50.0), // Sunday
        ("base: 100\nshape: [{weekly: {factors: [1, 1, 1, 1, 1, 0.6, 0.5]}}]", 7 * D, 100.0),   // Monday again
        ("base: 100\nshape: [{weekly: {factors: [1, 1, 1, 1, 1, 0.6, 0.5], start: saturday}}]", 0, 60.0),
        ("base: 100\nshape: [{weekly: {factors: [1, 1, 1, 1, 1, 0.6, 0.5], start: saturday}}]", D, 50.0),
        ("base: 100\nshape: [{weekly: {factors: [1, 1, 1, 1, 1, 0.6, 0.5], start: saturday}}]", 2 * D, 100.0),
        // step: 1 before `at`, factor from `at` on
        ("base: 400\nshape: [{step: {at: 30m, factor: 2}}]", 30 * M - 1, 400.0),
        ("base: 400\nshape: [{step: {at: 30m, factor: 2}}]", 30 * M, 800.0),
        // ramp 1 → 3 over [10m, 20m]
        ("base: 400\nshape: [{ramp: {from: 10m, to: 20m, factor: 3}}]", 5 * M, 400.0),
        ("base: 400\nshape: [{ramp: {from: 10m, to: 20m, factor: 3}}]", 15 * M, 800.0), // halfway: 2
        ("base: 400\nshape: [{ramp: {from: 10m, to: 20m, factor: 3}}]", 25 * M, 1200.0),
        ("base: 400\nshape: [{ramp: {from: 10m, to: 10m, factor: 3}}]", 10 * M, 1200.0), // zero-length: a step
        // surge: 1 → 4 over [30m, 40m], 4 until 1h40m, back to 1 at 2h
        ("base: 100\nshape: [{surge: {at: 30m, rampUp: 10m, hold: 1h, rampDown: 20m, factor: 4}}]", 29 * M, 100.0),
        ("base: 100\nshape: [{surge: {at: 30m, rampUp: 10m, hold: 1h, rampDown: 20m, factor: 4}}]", 35 * M, 250.0),
        ("base: 100\nshape: [{surge: {at: 30m, rampUp: 10m, hold: 1h, rampDown: 20m, factor: 4}}]", 40 * M, 400.0),
        ("base: 100\nshape: [{surge: {at: 30m, rampUp: 10m, hold: 1h, rampDown: 20m, factor: 4}}]", 100 * M, 400.0),
        ("base: 100\nshape: [{surge: {at: 30m, rampUp: 10m, hold: 1h, rampDown: 20m, factor: 4}}]", 110 * M, 250.0),
        ("base: 100\nshape: [{surge: {at: 30m, rampUp: 10m, hold: 1h, rampDown: 20m, factor: 4}}]", 2 * H, 100.0),
        ("base: 100\nshape: [{surge: {at: 30m, hold: 1m, factor: 4}}]", 30 * M, 400.0), // ramps default to 0
        ("base: 100\nshape: [{surge: {at: 30m, hold: 1m, factor: 4}}]", 31 * M - 1, 400.0),
        ("base: 100\nshape: [{surge: {at: 30m, hold: 1m, factor: 4}}]", 31 * M, 100.0),
        // level replaces the value so far; later shapes still apply
        ("base: 400\nshape: [{step: {at: 0s, factor: 2}}, {level: {at: 1h, rps: 900}}]", 59 * M, 800.0),
        ("base: 400\nshape: [{step: {at: 0s, factor: 2}}, {level: {at: 1h, rps: 900}}]", H, 900.0),
        ("base: 400\nshape: [{level: {at: 1h, rps: 900}}, {step: {at: 0s, factor: 2}}]", H, 1800.0),
        // composition multiplies in order: 400 × 2 (step) × 2 (ramp halfway)
        ("base: 400\nshape: [{step: {at: 1m, factor: 2}}, {ramp: {from: 10m, to: 20m, factor: 3}}]", 15 * M, 1600.0),
    ];
    for &(yaml, t, want) in cases {
        let got = at(&model(yaml), t);
        assert!(close(got, want), "{yaml} at {t} ms: got {got}, want {want}");
    }
}

#[test]
fn mean_over_intervals_is_exact() {
    let rngs = Rngs::new(1);
    #[rustfmt::skip]
    let cases: &[(&str, u64, u64, f64)] = &[
        // half at 400, half at 800
        ("base: 400\nshape: [{step: {at: 30m, factor: 2}}]", 20 * M, 40 * M, 600.0),
        // ramp 1 → 3: mean factor 2
        ("base: 400\nshape: [{ramp: {from: 10m, to: 20m, factor: 3}}]", 10 * M, 20 * M, 800.0),
        // the cosine averages to 0 over a period: 400 × (0.3 + 0.35)
        ("base: 400\nshape: [{diurnal: {peak: 14h, min: 0.3}}]", 0, D, 260.0),
        // surge trapezoid over [30m, 2h): (10m × 2.5 + 60m × 4 + 20m × 2.5) / 90m × 100
        ("base: 100\nshape: [{surge: {at: 30m, rampUp: 10m, hold: 1h, rampDown: 20m, factor: 4}}]", 30 * M, 2 * H, 350.0),
        // ramp × ramp is quadratic: mean of (1 + x)(1 + x) for x in [0, 1] is 7/3
        ("base: 3\nshape: [{ramp: {from: 0s, to: 1h, factor: 2}}, {ramp: {from: 0s, to: 1h, factor: 2}}]", 0, H, 7.0),
        // weekly over a whole week: (5 + 0.6 + 0.5) / 7
        ("base: 70\nshape: [{weekly: {factors: [1, 1, 1, 1, 1, 0.6, 0.5]}}]", 0, 7 * D, 61.0),
    ];
    for &(yaml, a, b, want) in cases {
        let got = model(yaml).mean_rps_over(SimTime(a), SimTime(b), &rngs);
        assert!(close(got, want), "{yaml} over [{a}, {b}): got {got}, want {want}");
    }
    // An empty interval gives the instantaneous rate.
    let m = model("base: 400\nshape: [{step: {at: 30m, factor: 2}}]");
    assert_eq!(m.mean_rps_over(SimTime(30 * M), SimTime(30 * M), &rngs), 800.0);
    assert_eq!(m.base(), Some(400.0));
    assert_eq!(m.expected_rps_at(SimTime(31 * M)), 800.0);
    assert_eq!(TrafficModel::constant(12.5).rps_at(SimTime(7), &rngs), 12.5);
}

#[test]
fn invalid_specs_name_the_field() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("base: 1\nshape: [{step: {at: 1m, factor: 2}}, {ramp: {from: 1m, to: 2m, factor: 2}}, {surge: {at: 30m, hold: 1h, factor: -1}}]",
            "shape[2].surge.factor: must be > 0, got -1"),
        ("base: 1\nshape: [{step: {at: 1m, factor: 0}}]", "shape[0].step.factor: must be > 0, got 0"),
        ("base: 1\nshape: [{ramp: {from: 20m, to: 10m, factor: 2}}]", "shape[0].ramp.to: must not be before `from` (10m < 20m)"),
        ("base: 1\nshape: [{diurnal: {peak: 14h, min: 1.5}}]", "shape[0].diurnal.min: must be between 0 and 1"),
        ("base: 1\nshape: [{diurnal: {peak: 14h, min: 0.5, period: 0s}}]", "shape[0].diurnal.period: must be > 0"),
        ("base: 1\nshape: [{weekly: {factors: [1, 1, 1]}}]", "shape[0].weekly.factors: needs exactly 7 factors (Monday first), got 3"),
        ("base: 1\nshape: [{weekly: {factors: [1, 1, 1, 1, 1, 1, -1]}}]", "shape[0].weekly.factors[6]: must be >= 0, got -1"),
        ("base: 1\nshape: [{level: {at: 1m, rps: -3}}]", "shape[0].level.rps: must be >= 0, got -3"),
        ("base: 1\nshape: [{constant: {factor: -1}}]", "shape[0].constant.factor: must be >= 0"),
        ("base: -5", "base: must be >= 0 requests/s, got -5"),
        ("shape: []", "base: missing: set base (requests/s) or replay (a trace)"),
        ("base: 1\nreplay: {file: x.csv}", "base: set either base or replay, not both"),
        ("base: 1\nnoise: {kind: lognormal, cv: -0.1}", "noise.cv: must be >= 0, got -0.1"),
        ("base: 1\nnoise: {kind: poisson, interval: 0s}", "noise.interval: must be > 0"),
    ];
    for &(yaml, want) in cases {
        let e = TrafficModel::from_spec(&spec(yaml), "web").expect_err(yaml);
        assert!(e.contains(want), "{yaml}: {e}");
    }
}

#[test]
fn malformed_documents_are_rejected_by_serde() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("base: 1\nshape: [{surge: {at: 30m, hold: 1h, factor: 2, ramp_up: 1m}}]", "unknown field"),
        ("base: 1\nshape: [{surge: {at: 30m, factor: 2}}]", "hold"),
        ("base: 1\nshape: [{sawtooth: {factor: 2}}]", "sawtooth"),
        ("base: 1\nshape: [{step: {at: 30, factor: 2}}]", "missing unit"),
        ("base: 1\nshape: [{step: {at: 1d, factor: 2}}]", "unknown unit \"d\""),
        ("base: 1\nnoise: {kind: gaussian}", "gaussian"),
        ("base: 1\nnoise: {kind: poisson, cv: 0.1}", "unknown field"),
        ("base: 1\nburst: 3", "unknown field"),
        ("base: 1\nshape: [{weekly: {factors: [1, 1, 1, 1, 1, 1, 1], start: funday}}]", "funday"),
    ];
    for &(yaml, want) in cases {
        let e = serde_saphyr::from_str::<TrafficSpec>(yaml)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(want), "{yaml}: {e:?}");
    }
}
