//! The VPA recommender: usage samples into per-container aggregates, and the estimators that
//! turn them into target / lower bound / upper bound.
//!
//! upstream (kubernetes/autoscaler vertical-pod-autoscaler/pkg/recommender):
//! - `model/aggregations_config.go`: histogram options and defaults;
//! - `model/aggregate_container_state.go`: CPU samples (constant weight `minSampleWeight`),
//!   memory peaks, first/last sample times, sample count;
//! - `model/container.go`: one memory peak per container per aggregation interval, OOM bump-up;
//! - `logic/estimator.go`: percentile, safety margin, confidence multiplier, minimum resources;
//! - `logic/recommender.go`: the estimator chain and the per-pod minimums split over containers;
//! - `model/types.go`: `ResourceAmount` (integer millicores / bytes, truncated from floats).
//!
//! Times are seconds since the start of the run (or of the usage series).

use super::config::RecommenderConfig;
use super::histogram::{DecayingHistogram, HistogramOptions};

/// upstream: aggregations_config.go `minSampleWeight`, `epsilon`.
pub const MIN_SAMPLE_WEIGHT: f64 = 0.1;
pub const EPSILON: f64 = 0.001 * MIN_SAMPLE_WEIGHT;
/// upstream: types.go `MaxResourceAmount`.
pub const MAX_RESOURCE_AMOUNT: i64 = 100_000_000_000_000;

/// upstream: types.go `resourceAmountFromFloat` (Go's int64() truncates).
pub fn amount(x: f64) -> i64 {
    if x > MAX_RESOURCE_AMOUNT as f64 {
        return MAX_RESOURCE_AMOUNT;
    }
    x.max(0.0) as i64
}

/// upstream: types.go `ScaleResource`.
pub fn scale(a: i64, factor: f64) -> i64 {
    amount(a as f64 * factor)
}

/// A container's aggregated usage across the pods of one VPA.
#[derive(Clone, Debug)]
pub struct AggregateState {
    pub cpu: DecayingHistogram,
    pub memory_peaks: DecayingHistogram,
    pub first_sample_s: Option<f64>,
    pub last_sample_s: Option<f64>,
    pub total_samples: u64,
}

impl AggregateState {
    pub fn new(cfg: &RecommenderConfig) -> AggregateState {
        let growth = 1.0 + cfg.histogram_bucket_size_growth;
        let cpu = HistogramOptions::exponential(1000.0, 0.01, growth, EPSILON).expect("valid CPU histogram options");
        let mem = HistogramOptions::exponential(1e12, 1e7, growth, EPSILON).expect("valid memory histogram options");
        AggregateState {
            cpu: DecayingHistogram::new(cpu, cfg.cpu_histogram_decay_half_life.as_secs_f64()),
            memory_peaks: DecayingHistogram::new(mem, cfg.memory_histogram_decay_half_life.as_secs_f64()),
            first_sample_s: None,
            last_sample_s: None,
            total_samples: 0,
        }
    }

    /// upstream: aggregate_container_state.go `addCPUSample`.
    fn add_cpu(&mut self, t_s: f64, cores: f64) {
        self.cpu.add_sample(cores, MIN_SAMPLE_WEIGHT, t_s);
        if self.last_sample_s.is_none_or(|l| t_s > l) {
            self.last_sample_s = Some(t_s);
        }
        if self.first_sample_s.is_none_or(|f| t_s < f) {
            self.first_sample_s = Some(t_s);
        }
        self.total_samples += 1;
    }
}

/// One container of one pod: its memory-peak window. upstream: container.go `ContainerState`.
#[derive(Clone, Debug, Default)]
pub struct ContainerState {
    last_cpu_sample_s: Option<f64>,
    memory_peak: i64,
    oom_peak: i64,
    window_end_s: Option<f64>,
    last_memory_sample_s: Option<f64>,
}

impl ContainerState {
    /// A CPU usage sample (millicores); out-of-order or duplicate samples are dropped.
    pub fn add_cpu(&mut self, agg: &mut AggregateState, t_s: f64, cpu_m: i64) -> bool {
        if cpu_m < 0 || self.last_cpu_sample_s.is_some_and(|l| t_s <= l) {
            return false;
        }
        agg.add_cpu(t_s, cpu_m as f64 / 1000.0);
        self.last_cpu_sample_s = Some(t_s);
        true
    }

    /// A memory usage sample (bytes): it replaces the window's peak when higher.
    /// upstream: container.go `addMemorySample`.
    pub fn add_memory(
        &mut self,
        agg: &mut AggregateState,
        cfg: &RecommenderConfig,
        t_s: f64,
        bytes: i64,
        oom: bool,
    ) -> bool {
        if bytes < 0 || (!oom && self.last_memory_sample_s.is_some_and(|l| t_s < l)) {
            return false;
        }
        self.last_memory_sample_s = Some(t_s);
        let window_end = *self.window_end_s.get_or_insert(t_s);
        let mut add_new_peak = false;
        if t_s < window_end {
            let old = self.memory_peak.max(self.oom_peak);
            if old != 0 && bytes > old {
                agg.memory_peaks.subtract_sample(old as f64, 1.0, window_end);
                add_new_peak = true;
            }
        } else {
            let interval = cfg.memory_aggregation_interval.as_secs_f64();
            let shift = ((t_s - window_end) / interval).floor() * interval + interval;
            self.window_end_s = Some(window_end + shift);
            self.memory_peak = 0;
            self.oom_peak = 0;
            add_new_peak = true;
        }
        if add_new_peak {
            let end = self.window_end_s.expect("set above");
            agg.memory_peaks.add_sample(bytes as f64, 1.0, end);
            if oom {
                self.oom_peak = bytes;
            } else {
                self.memory_peak = bytes;
            }
        }
        true
    }

    /// An OOM kill at `t_s` of a container that requested `request` bytes: a memory sample of
    /// max(used + 100Mi, used × 1.2), `used` = max(request, the window's peak).
    /// upstream: container.go `RecordOOM`.
    pub fn record_oom(&mut self, agg: &mut AggregateState, cfg: &RecommenderConfig, t_s: f64, request: i64) -> bool {
        if let Some(l) = self.last_memory_sample_s
            && t_s < l - cfg.memory_aggregation_interval.as_secs_f64()
        {
            return false;
        }
        let used = request.max(self.memory_peak);
        let needed = (used + amount(cfg.oom_min_bump_up_bytes)).max(scale(used, cfg.oom_bump_up_ratio));
        self.add_memory(agg, cfg, t_s, needed, true)
    }
}

/// A resource amount per resource: CPU millicores, memory bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Amounts {
    pub cpu_m: i64,
    pub mem: i64,
}

/// One container's recommendation, before capping by the VPA's policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Estimate {
    pub target: Amounts,
    pub lower: Amounts,
    pub upper: Amounts,
}

/// upstream: estimator.go `getConfidence`: min(lifespan in intervals, samples per minute of
/// the interval).
pub fn confidence(s: &AggregateState, interval_s: f64) -> f64 {
    let (Some(first), Some(last)) = (s.first_sample_s, s.last_sample_s) else {
        return 0.0;
    };
    let lifespan = (last - first) / interval_s;
    let samples = s.total_samples as f64 / (interval_s / 60.0);
    lifespan.min(samples)
}

/// upstream: estimator.go `confidenceMultiplier`: base × (1 + multiplier/confidence)^exponent.
pub fn with_confidence(base: i64, multiplier: f64, exponent: f64, confidence: f64) -> i64 {
    scale(base, (1.0 + multiplier / confidence).powf(exponent))
}

/// upstream: estimator.go `marginEstimator`.
pub fn with_margin(base: i64, fraction: f64) -> i64 {
    base + scale(base, fraction)
}

/// upstream: estimator.go `percentileEstimator`, CPU: the percentile of the usage histogram.
pub fn cpu_percentile(s: &AggregateState, p: f64) -> i64 {
    amount(s.cpu.percentile(p) * 1000.0)
}

/// upstream: estimator.go `percentileEstimator`, memory: the percentile of the peaks histogram.
pub fn memory_percentile(s: &AggregateState, p: f64) -> i64 {
    amount(s.memory_peaks.percentile(p))
}

/// The estimates of one container of a pod with `containers` containers under the VPA.
/// upstream: recommender.go `GetRecommendedPodResources` / `CreatePodResourceRecommender`.
pub fn estimate(s: &AggregateState, cfg: &RecommenderConfig, containers: usize) -> Estimate {
    let fraction = 1.0 / containers.max(1) as f64;
    let min_cpu = scale(amount(cfg.pod_min_cpu_millicores * 0.001 * 1000.0), fraction);
    let min_mem = scale(amount(cfg.pod_min_memory_mb * 1024.0 * 1024.0), fraction);
    let cpu_at = |p: f64| cpu_percentile(s, p);
    let mem_at = |p: f64| memory_percentile(s, p);
    let margin = cfg.safety_margin_fraction;
    let conf_cpu = confidence(s, cfg.confidence_interval_cpu.as_secs_f64());
    let conf_mem = confidence(s, cfg.confidence_interval_memory.as_secs_f64());
    let target = Amounts {
        cpu_m: with_margin(cpu_at(cfg.target_cpu_percentile), margin).max(min_cpu),
        mem: with_margin(mem_at(cfg.target_memory_percentile), margin).max(min_mem),
    };
    let lower = Amounts {
        cpu_m: with_confidence(
            with_margin(cpu_at(cfg.lower_bound_cpu_percentile), margin),
            0.001,
            -2.0,
            conf_cpu,
        )
        .max(min_cpu),
        mem: with_confidence(
            with_margin(mem_at(cfg.lower_bound_memory_percentile), margin),
            0.001,
            -2.0,
            conf_mem,
        )
        .max(min_mem),
    };
    let upper = Amounts {
        cpu_m: with_confidence(
            with_margin(cpu_at(cfg.upper_bound_cpu_percentile), margin),
            1.0,
            1.0,
            conf_cpu,
        )
        .max(min_cpu),
        mem: with_confidence(
            with_margin(mem_at(cfg.upper_bound_memory_percentile), margin),
            1.0,
            1.0,
            conf_mem,
        )
        .max(min_mem),
    };
    Estimate { target, lower, upper }
}

#[cfg(test)]
mod tests {
    //! Upstream's estimator and container cases run as vectors (tests/data/vpa-vectors.json).
    use super::*;

    fn cfg() -> RecommenderConfig {
        RecommenderConfig::default()
    }

    #[test]
    fn minimums_split_over_containers() {
        // The estimators' own upstream cases are in tests/data/vpa-vectors.json. An empty aggregate gets the per-pod minimums split over the containers: 25m and 250Mi
        // for one container, half of each for two.
        let s = AggregateState::new(&cfg());
        let one = estimate(&s, &cfg(), 1);
        assert_eq!(
            one.target,
            Amounts {
                cpu_m: 25,
                mem: 250 * 1024 * 1024
            }
        );
        let two = estimate(&s, &cfg(), 2);
        assert_eq!(
            two.target,
            Amounts {
                cpu_m: 12,
                mem: 125 * 1024 * 1024
            }
        );
    }

    #[test]
    fn memory_peak_is_one_sample_per_window_and_oom_bumps_up() {
        // container_test.go TestAggregateContainerUsageSamples / TestRecordOOM*: a higher sample
        // in the same window replaces the peak; an OOM adds max(+100Mi, ×1.2) of the request.
        let cfg = cfg();
        let mut s = AggregateState::new(&cfg);
        let mut c = ContainerState::default();
        c.add_memory(&mut s, &cfg, 0.0, 1_000_000_000, false);
        c.add_memory(&mut s, &cfg, 60.0, 2_000_000_000, false);
        // One peak (the first replaced), recorded at the window's end, 24 h after the first
        // sample: its weight 1 decays up to 2^(24h / 24h) = 2 against the reference time 0.
        assert!((s.memory_peaks.total_weight() - 2.0).abs() < 1e-9);
        let p = s.memory_peaks.percentile(1.0);
        assert!((2e9..2e9 * 1.06).contains(&p), "{p}");
        // OOM with request 1000 Mi < peak 2e9: 2e9 × 1.2 = 2.4e9 > 2e9 + 100Mi.
        assert!(c.record_oom(&mut s, &cfg, 120.0, 1000 * 1024 * 1024));
        let p = s.memory_peaks.percentile(1.0);
        assert!((2.4e9..2.4e9 * 1.06).contains(&p), "{p}");
        // A sample in the next window (24 h later) adds a new peak.
        c.add_memory(&mut s, &cfg, 86_400.0 + 1.0, 500_000_000, false);
        assert!(s.memory_peaks.total_weight() > 2.0 + 1e-9);
    }
}
