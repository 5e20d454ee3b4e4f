//! Noise: deterministic per (seed, workload, bin), independent of evaluation order, with the
//! documented mean and spread.

use capsim::engine::{Rngs, SimTime};
use capsim::traffic::{NoiseMemo, TrafficModel, TrafficSpec};

fn model(yaml: &str, key: &str) -> TrafficModel {
    let spec: TrafficSpec = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    TrafficModel::from_spec(&spec, key).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

const LOGNORMAL: &str = "base: 100\nnoise: {kind: lognormal, cv: 0.08, interval: 10s}";
const POISSON: &str = "base: 5\nnoise: {kind: poisson, interval: 1s}";

#[test]
fn noise_is_a_pure_function_of_seed_key_and_bin() {
    for yaml in [LOGNORMAL, POISSON] {
        let m = model(yaml, "web");
        let rngs = Rngs::new(42);
        let times: Vec<u64> = (0..200).map(|i| i * 3_700).collect();
        let forward: Vec<f64> = times.iter().map(|&t| m.rps_at(SimTime(t), &rngs)).collect();
        let backward: Vec<f64> = times.iter().rev().map(|&t| m.rps_at(SimTime(t), &rngs)).collect();
        let reversed: Vec<f64> = backward.into_iter().rev().collect();
        assert_eq!(forward, reversed, "{yaml}: evaluation order must not matter");
        let again: Vec<f64> = times.iter().map(|&t| m.rps_at(SimTime(t), &Rngs::new(42))).collect();
        assert_eq!(forward, again, "{yaml}: same seed, same values");
        let other_seed: Vec<f64> = times.iter().map(|&t| m.rps_at(SimTime(t), &Rngs::new(43))).collect();
        assert_ne!(forward, other_seed, "{yaml}: the seed matters");
        let other = model(yaml, "api");
        let other_key: Vec<f64> = times.iter().map(|&t| other.rps_at(SimTime(t), &rngs)).collect();
        assert_ne!(forward, other_key, "{yaml}: each workload has its own stream");
    }
}

/// The service tick's memoized draw gives exactly `rps_at`'s values, for ticks finer and coarser
/// than the noise bin, with shapes on top and without noise.
#[test]
fn memoized_noise_matches_rps_at() {
    let shaped =
        "base: 100\nshape:\n  - diurnal: {peak: 10h, min: 0.4}\nnoise: {kind: lognormal, cv: 0.1, interval: 60s}";
    for yaml in [LOGNORMAL, POISSON, shaped, "base: 3"] {
        let m = model(yaml, "web");
        let rngs = Rngs::new(11);
        for step in [700u64, 5_000, 60_000, 95_000] {
            let mut memo = NoiseMemo::default();
            for i in 0..400 {
                let t = SimTime(i * step);
                assert_eq!(
                    m.rps_at_memo(t, &rngs, &mut memo),
                    m.rps_at(t, &rngs),
                    "{yaml} at {t:?}"
                );
            }
        }
    }
}

#[test]
fn lognormal_is_constant_per_bin_with_mean_one_and_given_cv() {
    let m = model(LOGNORMAL, "web");
    let rngs = Rngs::new(7);
    // Constant within a 10 s bin, different across bins.
    let a = m.rps_at(SimTime(10_000), &rngs);
    assert_eq!(a, m.rps_at(SimTime(19_999), &rngs));
    assert_ne!(a, m.rps_at(SimTime(20_000), &rngs));
    // Mean 1 and cv 0.08 over 20,000 bins: standard error of the mean 0.08/√20000 ≈ 0.00057, so
    // ±0.003 is > 5 SE; the sample cv has SE ≈ 0.08/√40000 ≈ 0.0004.
    let n = 20_000u64;
    let f: Vec<f64> = (0..n).map(|k| m.rps_at(SimTime(k * 10_000), &rngs) / 100.0).collect();
    let mean = f.iter().sum::<f64>() / n as f64;
    let var = f.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    assert!((mean - 1.0).abs() < 0.003, "mean {mean}");
    assert!((var.sqrt() / mean - 0.08).abs() < 0.003, "cv {}", var.sqrt() / mean);
    assert!(f.iter().all(|&x| x > 0.0));
    // The mean over an interval is the average of the bins it covers: [5s, 25s) covers half of
    // bin 0, all of bin 1, half of bin 2.
    let bins: Vec<f64> = (0..3).map(|k| m.rps_at(SimTime(k * 10_000), &rngs)).collect();
    let want = (bins[0] * 5.0 + bins[1] * 10.0 + bins[2] * 5.0) / 20.0;
    let got = m.mean_rps_over(SimTime(5_000), SimTime(25_000), &rngs);
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    // cv 0 is no noise at all.
    let quiet = model("base: 100\nnoise: {kind: lognormal, cv: 0}", "web");
    assert_eq!(quiet.rps_at(SimTime(123_456), &rngs), 100.0);
}

#[test]
fn poisson_counts_are_whole_arrivals_with_poisson_moments() {
    let m = model(POISSON, "web");
    let rngs = Rngs::new(11);
    let n = 20_000u64;
    let c: Vec<f64> = (0..n).map(|k| m.rps_at(SimTime(k * 1000 + 500), &rngs)).collect();
    // 1 s bins: the rate is the count of arrivals.
    assert!(c.iter().all(|x| x.fract() == 0.0 && *x >= 0.0));
    let mean = c.iter().sum::<f64>() / n as f64;
    let var = c.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // Poisson(5): mean 5 (SE √(5/20000) ≈ 0.016), variance 5 (SE ≈ 5·√(2/20000) ≈ 0.05 plus
    // excess kurtosis; ±0.3 is generous but fails on a non-Poisson spread such as 0 or 25).
    assert!((mean - 5.0).abs() < 0.08, "mean {mean}");
    assert!((var - 5.0).abs() < 0.3, "variance {var}");
    // Mean over [0, 10 s) is the mean of the ten bins.
    let want = c[..10].iter().sum::<f64>() / 10.0;
    let got = m.mean_rps_over(SimTime(0), SimTime(10_000), &rngs);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");

    // 2 s bins at 0.5 req/s: λ = 1 per bin, rates are count / 2.
    let slow = model("base: 0.5\nnoise: {kind: poisson, interval: 2s}", "web");
    let r: Vec<f64> = (0..5000u64).map(|k| slow.rps_at(SimTime(k * 2000), &rngs)).collect();
    assert!(r.iter().all(|x| (x * 2.0).fract() == 0.0));
    assert_eq!(slow.rps_at(SimTime(4000), &rngs), slow.rps_at(SimTime(5999), &rngs));
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    assert!((mean - 0.5).abs() < 0.05, "mean {mean}");
    // λ follows the shape: a step to 0 gives no arrivals.
    let off = model(
        "base: 5\nshape: [{level: {at: 10s, rps: 0}}]\nnoise: {kind: poisson}",
        "web",
    );
    assert_eq!(off.rps_at(SimTime(15_000), &rngs), 0.0);
}
