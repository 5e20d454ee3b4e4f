//! The VPA recommender's and updater's flags, with their defaults in one place.
//!
//! upstream: kubernetes/autoscaler vertical-pod-autoscaler/docs/flags.md (generated from
//! pkg/recommender/config/config.go and pkg/updater/config/config.go) and
//! pkg/recommender/model/aggregations_config.go.

use crate::engine::SimDuration;

/// The recommender's settings. Field docs name the flag.
#[derive(Clone, Debug, PartialEq)]
pub struct RecommenderConfig {
    /// `--recommender-interval` (1m).
    pub interval: SimDuration,
    /// `--target-cpu-percentile` (0.9).
    pub target_cpu_percentile: f64,
    /// `--recommendation-lower-bound-cpu-percentile` (0.5).
    pub lower_bound_cpu_percentile: f64,
    /// `--recommendation-upper-bound-cpu-percentile` (0.95).
    pub upper_bound_cpu_percentile: f64,
    /// `--target-memory-percentile` (0.9).
    pub target_memory_percentile: f64,
    /// `--recommendation-lower-bound-memory-percentile` (0.5).
    pub lower_bound_memory_percentile: f64,
    /// `--recommendation-upper-bound-memory-percentile` (0.95).
    pub upper_bound_memory_percentile: f64,
    /// `--recommendation-margin-fraction` (0.15).
    pub safety_margin_fraction: f64,
    /// `--pod-recommendation-min-cpu-millicores` (25).
    pub pod_min_cpu_millicores: f64,
    /// `--pod-recommendation-min-memory-mb` (250).
    pub pod_min_memory_mb: f64,
    /// `--confidence-interval-cpu` / `--confidence-interval-memory` (24h).
    pub confidence_interval_cpu: SimDuration,
    pub confidence_interval_memory: SimDuration,
    /// `--memory-aggregation-interval` (24h) and `--memory-aggregation-interval-count` (8).
    pub memory_aggregation_interval: SimDuration,
    pub memory_aggregation_interval_count: u32,
    /// `--cpu-histogram-decay-half-life` / `--memory-histogram-decay-half-life` (24h).
    pub cpu_histogram_decay_half_life: SimDuration,
    pub memory_histogram_decay_half_life: SimDuration,
    /// aggregations_config.go `DefaultHistogramBucketSizeGrowth` (0.05).
    pub histogram_bucket_size_growth: f64,
    /// `--oom-bump-up-ratio` (1.2) and `--oom-min-bump-up-bytes` (100Mi).
    pub oom_bump_up_ratio: f64,
    pub oom_min_bump_up_bytes: f64,
    /// `--round-cpu-millicores` (1) and `--round-memory-bytes` (1): round recommendations up to
    /// a multiple.
    pub round_cpu_millicores: i64,
    pub round_memory_bytes: i64,
}

const DAY: SimDuration = SimDuration::from_secs(24 * 3600);

impl Default for RecommenderConfig {
    fn default() -> Self {
        RecommenderConfig {
            interval: SimDuration::from_mins(1),
            target_cpu_percentile: 0.9,
            lower_bound_cpu_percentile: 0.5,
            upper_bound_cpu_percentile: 0.95,
            target_memory_percentile: 0.9,
            lower_bound_memory_percentile: 0.5,
            upper_bound_memory_percentile: 0.95,
            safety_margin_fraction: 0.15,
            pod_min_cpu_millicores: 25.0,
            pod_min_memory_mb: 250.0,
            confidence_interval_cpu: DAY,
            confidence_interval_memory: DAY,
            memory_aggregation_interval: DAY,
            memory_aggregation_interval_count: 8,
            cpu_histogram_decay_half_life: DAY,
            memory_histogram_decay_half_life: DAY,
            histogram_bucket_size_growth: 0.05,
            oom_bump_up_ratio: 1.2,
            oom_min_bump_up_bytes: 100.0 * 1024.0 * 1024.0,
            round_cpu_millicores: 1,
            round_memory_bytes: 1,
        }
    }
}

/// The updater's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdaterConfig {
    /// `--updater-interval` (1m).
    pub interval: SimDuration,
    /// `--min-replicas` (2): fewer live pods and the updater evicts none.
    pub min_replicas: u32,
    /// `--eviction-tolerance` (0.5): fraction of the replicas that may be evicted at once.
    pub eviction_tolerance: f64,
    /// `--pod-update-threshold` (0.1): the least resource difference worth an update.
    pub pod_update_threshold: f64,
    /// `--in-recommendation-bounds-eviction-lifetime-threshold` (12h).
    pub pod_lifetime_update_threshold: SimDuration,
    /// `--evict-after-oom-threshold` (10m).
    pub evict_after_oom_threshold: SimDuration,
}

impl Default for UpdaterConfig {
    fn default() -> Self {
        UpdaterConfig {
            interval: SimDuration::from_mins(1),
            min_replicas: 2,
            eviction_tolerance: 0.5,
            pod_update_threshold: 0.1,
            pod_lifetime_update_threshold: SimDuration::from_secs(12 * 3600),
            evict_after_oom_threshold: SimDuration::from_mins(10),
        }
    }
}
