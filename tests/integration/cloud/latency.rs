//! Latency distributions: the scenario syntax, validation errors, sampling statistics, determinism.

use capsim::cloud::latency::{DistributionError, defaults};
use capsim::cloud::{Distribution, DistributionSpec};
use capsim::engine::{Rngs, SimDuration};

fn s(secs: u64) -> SimDuration {
    SimDuration::from_secs(secs)
}

fn yaml(text: &str) -> Result<Distribution, String> {
    let spec: DistributionSpec = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    Distribution::from_spec(&spec)
}

#[test]
fn every_written_form_parses() {
    let cases = [
        ("10s", Distribution::Constant(s(10))),
        ("\"10s\"", Distribution::Constant(s(10))),
        ("{constant: 10s}", Distribution::Constant(s(10))),
        (
            "{uniform: {min: 200s, max: 320s}}",
            Distribution::Uniform {
                min: s(200),
                max: s(320),
            },
        ),
        (
            "{normal: {mean: 30s, stddev: 5s}}",
            Distribution::Normal {
                mean: s(30),
                stddev: s(5),
            },
        ),
        (
            "{lognormal: {median: 8s, p95: 25s}}",
            Distribution::LogNormal {
                median: s(8),
                p95: s(25),
            },
        ),
        (
            "logNormal:\n  median: 8s\n  p95: 25s\n",
            Distribution::LogNormal {
                median: s(8),
                p95: s(25),
            },
        ),
        (
            "{empirical: [20s, 25s, 90s]}",
            Distribution::Empirical(vec![s(20), s(25), s(90)]),
        ),
        (
            "uniform:\n  min: 0s\n  max: 0s\n",
            Distribution::Uniform { min: s(0), max: s(0) },
        ),
        // A unitless 0 is a valid Go duration.
        ("0", Distribution::Constant(SimDuration::ZERO)),
        (
            "{uniform: {min: 0, max: 2s}}",
            Distribution::Uniform { min: s(0), max: s(2) },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(yaml(text), Ok(want), "{text}");
    }
    // JSON works too (serde_json shares the Deserialize impl).
    let spec: DistributionSpec = serde_json::from_str(r#"{"uniform":{"min":"1s","max":"2s"}}"#).expect("json");
    assert_eq!(
        Distribution::from_spec(&spec),
        Ok(Distribution::Uniform { min: s(1), max: s(2) })
    );
}

#[test]
fn validation_errors_name_the_field() {
    let cases = [
        (
            "{uniform: {min: 320s, max: 200s}}",
            "uniform: min (5m20s) must not be greater than max (3m20s)",
        ),
        (
            "{lognormal: {median: 8s, p95: 5s}}",
            "lognormal: p95 (5s) must not be less than median (8s)",
        ),
        (
            "{lognormal: {median: 0s, p95: 5s}}",
            "lognormal.median: must be greater than 0s",
        ),
        ("{empirical: []}", "empirical: the list must not be empty"),
        ("{normal: {mean: -5s, stddev: 1s}}", "normal.mean: must not be negative"),
        ("{uniform: {min: -1s, max: 2s}}", "uniform.min: must not be negative"),
        ("{normal: {mean: 5s, stddev: soon}}", "normal.stddev"),
        ("{empirical: [20s, 25x]}", "empirical[1]"),
        ("{constant: later}", "constant"),
    ];
    for (text, want) in cases {
        let e = yaml(text).expect_err(text);
        assert!(e.contains(want), "{text}: {e:?} should contain {want:?}");
    }
}

#[test]
fn shape_errors_are_clear() {
    let cases = [
        ("{gamma: {k: 2}}", "gamma"),
        ("{uniform: {min: 1s, maximum: 2s}}", "maximum"),
        ("{uniform: {min: 1s}}", "max"),
        ("{constant: 1s, uniform: {min: 1s, max: 2s}}", "exactly one kind"),
        ("20", "no unit"),
        ("{uniform: {min: 1, max: 2s}}", "no unit"),
        ("{}", "empty map"),
    ];
    for (text, want) in cases {
        let e = yaml(text).expect_err(text);
        assert!(e.contains(want), "{text}: {e:?} should contain {want:?}");
    }
}

#[test]
fn typed_errors() {
    assert_eq!(
        Distribution::uniform(s(2), s(1)),
        Err(DistributionError::MinAboveMax { min: s(2), max: s(1) })
    );
    assert_eq!(Distribution::empirical(vec![]), Err(DistributionError::EmptyEmpirical));
    assert_eq!(
        Distribution::lognormal(SimDuration::ZERO, s(1)),
        Err(DistributionError::ZeroMedian)
    );
}

/// Sample mean and empirical quantile of `n` draws.
fn draws(d: &Distribution, seed: u64, n: usize) -> Vec<f64> {
    let mut rng = Rngs::new(seed).stream("latency-test", 0);
    let mut v: Vec<f64> = (0..n).map(|_| d.sample(&mut rng).as_secs_f64()).collect();
    v.sort_by(f64::total_cmp);
    v
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn q(v: &[f64], p: f64) -> f64 {
    v[((p * v.len() as f64) as usize).min(v.len() - 1)]
}

#[test]
fn sampling_matches_mean_and_quantiles() {
    let n = 20_000;
    let cases = [
        Distribution::Uniform {
            min: s(200),
            max: s(320),
        },
        Distribution::Normal {
            mean: s(30),
            stddev: s(5),
        },
        Distribution::Normal {
            mean: s(2),
            stddev: s(4),
        }, // heavily truncated
        Distribution::LogNormal {
            median: s(8),
            p95: s(25),
        },
        Distribution::Empirical(vec![s(20), s(25), s(90)]),
    ];
    for d in cases {
        let v = draws(&d, 42, n);
        assert!(v.iter().all(|x| *x >= 0.0));
        let (m, want) = (mean(&v), d.mean().as_secs_f64());
        // 3% relative tolerance on the mean (sample sd / sqrt(n) is under 1% for every case).
        assert!((m - want).abs() <= 0.03 * want, "{d}: sample mean {m} vs {want}");
        for p in [0.5, 0.9, 0.95] {
            let (got, want) = (q(&v, p), d.quantile(p).as_secs_f64());
            assert!((got - want).abs() <= 0.05 * want + 0.05, "{d}: q{p} {got} vs {want}");
        }
    }
}

#[test]
fn sampling_is_deterministic_per_stream() {
    let d = Distribution::LogNormal {
        median: s(8),
        p95: s(25),
    };
    let a = draws(&d, 7, 50);
    let b = draws(&d, 7, 50);
    let c = draws(&d, 8, 50);
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Draws are whole milliseconds.
    let mut rng = Rngs::new(1).stream("x", 0);
    let x = Distribution::Normal {
        mean: s(1),
        stddev: s(1),
    }
    .sample(&mut rng);
    assert_eq!(x, SimDuration::from_millis(x.as_millis()));
}

#[test]
fn uniform_bounds_are_inclusive_whole_milliseconds() {
    let d = Distribution::Uniform {
        min: SimDuration::from_millis(5),
        max: SimDuration::from_millis(7),
    };
    let mut rng = Rngs::new(3).stream("u", 0);
    let mut seen = [false; 3];
    for _ in 0..200 {
        let x = d.sample(&mut rng).as_millis();
        assert!((5..=7).contains(&x));
        seen[(x - 5) as usize] = true;
    }
    assert_eq!(seen, [true; 3]);
}

#[test]
fn defaults_tell_the_two_provisioners_apart() {
    let ca = defaults::eks_managed_node_group();
    let k = defaults::karpenter();
    assert!(ca.launch.quantile(0.5) > k.launch.quantile(0.5));
    assert_eq!(ca.register, k.register);
    let pod = defaults::pod_startup();
    assert_eq!(pod.image_pull_cached, Distribution::Constant(SimDuration::ZERO));
    assert!(pod.image_pull.quantile(0.95) > pod.image_pull.quantile(0.5));
}

#[test]
fn minutes_parse() {
    assert_eq!(
        yaml("{uniform: {min: 4m, max: 6m}}"),
        Ok(Distribution::Uniform {
            min: s(240),
            max: s(360)
        })
    );
}

mod properties {
    use super::*;
    use capsim::cloud::billing::{billed_seconds, instance_cost};
    use capsim::engine::SimTime;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn uniform_draws_stay_in_bounds(a in 0u64..1_000_000, b in 0u64..1_000_000, seed in any::<u64>()) {
            let (lo, hi) = (a.min(b), a.max(b));
            let d = Distribution::uniform(SimDuration::from_millis(lo), SimDuration::from_millis(hi)).expect("ordered");
            let mut rng = Rngs::new(seed).stream("prop", 0);
            for _ in 0..16 {
                let x = d.sample(&mut rng).as_millis();
                prop_assert!((lo..=hi).contains(&x));
            }
        }

        #[test]
        fn quantiles_are_monotone(median in 1u64..100_000, extra in 0u64..500_000, p in 0.0f64..1.0, q in 0.0f64..1.0) {
            let d = Distribution::lognormal(SimDuration::from_millis(median), SimDuration::from_millis(median + extra))
                .expect("p95 >= median");
            let (p, q) = (p.min(q), p.max(q));
            prop_assert!(d.quantile(p) <= d.quantile(q));
            let n = Distribution::normal(SimDuration::from_millis(median), SimDuration::from_millis(extra));
            prop_assert!(n.quantile(p) <= n.quantile(q));
        }

        #[test]
        fn billing_is_monotone_with_a_floor(start in 0u64..10_000_000, len in 0u64..10_000_000, more in 0u64..1_000_000) {
            let (s, e) = (SimTime(start), SimTime(start + len));
            prop_assert!(billed_seconds(s, e) >= 60);
            prop_assert!(instance_cost(0.192, s, e) <= instance_cost(0.192, s, SimTime(start + len + more)));
            prop_assert!(instance_cost(0.192, s, e) >= 0.192 * len as f64 / 3_600_000.0);
        }
    }
}
