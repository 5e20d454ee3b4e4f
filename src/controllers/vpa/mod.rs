//! The Vertical Pod Autoscaler: recommender (usage → target / bounds per container), its
//! flags, the VPA object and its resource policy.
//!
//! The recommender is a pure state machine over usage samples ([`Recommender`]); `capsim vpa
//! recommend` drives it from a CSV series, one loop per `--recommender-interval`, exactly as
//! upstream's recommender loop reads metrics once per interval
//! (vertical-pod-autoscaler/pkg/recommender/routines/recommender.go `RunOnce`).

pub mod admission;
pub mod config;
pub mod histogram;
pub mod recommender;
pub mod spec;
pub mod updater;

use config::RecommenderConfig;
use recommender::{AggregateState, ContainerState, estimate};
use spec::{Recommendation, VpaSpec, cap};
use std::collections::BTreeMap;

/// One usage sample of one container of one pod.
#[derive(Clone, Debug, PartialEq)]
pub struct UsageSample {
    pub t_s: f64,
    pub pod: String,
    pub container: String,
    pub cpu_m: i64,
    pub mem: i64,
    /// The container was OOM-killed at this sample (`mem` is then its memory at the kill).
    pub oom: bool,
}

/// The recommender's state for one VPA: an aggregate per container name, a memory window per
/// pod and container.
#[derive(Clone, Debug)]
pub struct Recommender {
    pub config: RecommenderConfig,
    aggregates: BTreeMap<String, AggregateState>,
    containers: BTreeMap<(String, String), ContainerState>,
}

impl Recommender {
    pub fn new(config: RecommenderConfig) -> Recommender {
        Recommender {
            config,
            aggregates: BTreeMap::new(),
            containers: BTreeMap::new(),
        }
    }

    /// Feeds one sample: a CPU sample, and a memory sample or an OOM.
    pub fn add(&mut self, s: &UsageSample) {
        let cfg = &self.config;
        let agg = self
            .aggregates
            .entry(s.container.clone())
            .or_insert_with(|| AggregateState::new(cfg));
        let c = self.containers.entry((s.pod.clone(), s.container.clone())).or_default();
        c.add_cpu(agg, s.t_s, s.cpu_m);
        if s.oom {
            // The kill's memory stands in for the request upstream reads from the pod spec
            // (`RecordOOM(timestamp, requestedMemory)`): the container died at that size.
            c.record_oom(agg, cfg, s.t_s, s.mem);
        } else {
            c.add_memory(agg, cfg, s.t_s, s.mem, false);
        }
    }

    /// Records an OOM kill of a container: `memory` is what it was killed at (the simulation
    /// passes the container's request, as upstream's observer does).
    pub fn record_oom(&mut self, pod: &str, container: &str, t_s: f64, memory: i64) {
        let cfg = &self.config;
        let agg = self
            .aggregates
            .entry(container.to_string())
            .or_insert_with(|| AggregateState::new(cfg));
        let c = self
            .containers
            .entry((pod.to_string(), container.to_string()))
            .or_default();
        c.record_oom(agg, cfg, t_s, memory);
    }

    /// Forgets a pod that is gone (its samples stay in the aggregates). upstream:
    /// pkg/recommender/model/cluster.go `DeletePod`.
    pub fn forget_pod(&mut self, pod: &str) {
        self.containers.retain(|(p, _), _| p != pod);
    }

    /// The containers seen so far, in name order.
    pub fn container_names(&self) -> impl Iterator<Item = &str> {
        self.aggregates.keys().map(String::as_str)
    }

    /// The recommendation for every container under `vpa` (a container whose policy is `Off`
    /// gets none).
    pub fn recommend(&self, vpa: &VpaSpec) -> Vec<(String, Recommendation)> {
        let n = self.aggregates.len();
        self.aggregates
            .iter()
            .filter_map(|(name, agg)| {
                let est = estimate(agg, &self.config, n);
                cap(
                    &est,
                    vpa.policy(name),
                    self.config.round_cpu_millicores,
                    self.config.round_memory_bytes,
                )
                .map(|r| (name.clone(), r))
            })
            .collect()
    }
}

/// One row of `capsim vpa recommend`'s output.
#[derive(Clone, Debug, PartialEq)]
pub struct RecommendationRow {
    pub t_s: f64,
    pub container: String,
    /// `cpu` (millicores) or `memory` (bytes).
    pub resource: &'static str,
    pub lower_bound: i64,
    pub target: i64,
    pub upper_bound: i64,
    pub uncapped_target: i64,
}

/// Runs the recommender loop over a series: at each multiple of the interval from the first
/// sample's time to the last's, feeds the samples up to it (in time order) and records every
/// container's recommendation.
pub fn recommend_series(vpa: &VpaSpec, samples: &[UsageSample], config: RecommenderConfig) -> Vec<RecommendationRow> {
    let mut sorted: Vec<&UsageSample> = samples.iter().collect();
    sorted.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    let Some(first) = sorted.first().map(|s| s.t_s) else {
        return Vec::new();
    };
    let last = sorted.last().map_or(first, |s| s.t_s);
    let interval = config.interval.as_secs_f64().max(1e-3);
    let mut rec = Recommender::new(config);
    let mut rows = Vec::new();
    let mut next = 0;
    let mut k = 1u64;
    loop {
        let t = first + interval * k as f64;
        while next < sorted.len() && sorted[next].t_s <= t {
            rec.add(sorted[next]);
            next += 1;
        }
        for (name, r) in rec.recommend(vpa) {
            if r.cpu {
                rows.push(RecommendationRow {
                    t_s: t,
                    container: name.clone(),
                    resource: "cpu",
                    lower_bound: r.lower.cpu_m,
                    target: r.target.cpu_m,
                    upper_bound: r.upper.cpu_m,
                    uncapped_target: r.uncapped_target.cpu_m,
                });
            }
            if r.memory {
                rows.push(RecommendationRow {
                    t_s: t,
                    container: name,
                    resource: "memory",
                    lower_bound: r.lower.mem,
                    target: r.target.mem,
                    upper_bound: r.upper.mem,
                    uncapped_target: r.uncapped_target.mem,
                });
            }
        }
        if t >= last {
            break;
        }
        k += 1;
    }
    rows
}
