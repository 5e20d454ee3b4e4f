//! The written form of the `capsim/v1alpha1 Scenario` document (serde structs, unknown fields
//! rejected). [`super::build`] turns it into the validated [`super::Scenario`].
//!
//! ```yaml
//! apiVersion: capsim/v1alpha1
//! kind: Scenario
//! metadata: {name: monday-surge}
//! spec:
//!   duration: 3h                 # required, Go duration
//!   seed: 7                      # default 0
//!   resolution: 10s              # timeline interval, default 10s
//!   include: [manifests/]        # files or directories, relative to this file
//!   catalog: aws                 # "aws" (bundled) or a CSV path relative to this file
//!   nodes:                       # static nodes present from time zero
//!   - {name: general, instanceType: m5.xlarge, count: 3, capacityType: on-demand, zone: us-east-1a,
//!      labels: {team: a}, taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}
//!   scheduler: {scoring: LeastAllocated}   # or MostAllocated
//!   workloads:
//!     checkout-api:              # a Deployment (or DaemonSet) name, or namespace/name
//!       traffic: {base: 400}
//!       perRequest: {cpu: 2m, memory: 64Ki}
//!       idle: {cpu: 50m, memory: 180Mi}
//!       maxRequestsPerPod: 300
//!       startup: {imagePull: 8s, imagePullCached: 0s, containerStart: 1s, warmup: 5s}  # or ready: 10s
//!       latency: {base: 20ms, timeout: 15s}   # besides CPU queueing; slower requests are errors
//!   nodeLatency: {launch: 40s, register: 40s, ready: 20s, terminate: 5s}
//!   provisioner: {...}           # read by the provisioner stage
//!   controllerManager: {...}     # read by the controller stage
//!   metricsServer: {metricResolution: 15s}
//!   spotInterruptions: true      # reclaim spot nodes at their Spot Advisor band's rate
//!   start: warm                  # warm (default): the steady state of the t=0 demand; or cold
//!   warmup: 0s                   # a span left out of every summary metric
//!   faults:                      # zone outages, capacity shortages, spot storms (see faults.rs)
//!   - zoneOutage: {zone: us-east-1a, at: 30m, for: 45m}
//! ```
//!
//! A `batch/v1 Job` workload takes its arrivals from `workloads.<job>.batch`:
//! ```yaml
//!     ci-runner:
//!       batch: {ratePerHour: 120, start: 0s, end: 4h, runtime: {uniform: {min: 5m, max: 20m}}}
//!     nightly:
//!       batch: {trace: jobs.csv}   # columns arrival,cpu,memory,duration (one pod per row)
//! ```

use crate::cloud::latency::DistributionSpec;
use crate::engine::SimDuration;
use crate::model::units::{Quantity, parse_duration};
use crate::traffic::TrafficSpec;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioSpec {
    pub duration: DurationField,
    pub seed: Option<u64>,
    pub resolution: Option<DurationField>,
    /// Resolved in stage 1; only its shape is checked there.
    pub include: Option<serde_json::Value>,
    pub catalog: Option<String>,
    #[serde(default)]
    pub nodes: Vec<StaticNodesSpec>,
    pub scheduler: Option<SchedulerSpec>,
    #[serde(default)]
    pub workloads: BTreeMap<String, WorkloadSpec>,
    pub node_latency: Option<NodeLatencySpec>,
    pub provisioner: Option<serde_json::Value>,
    pub controller_manager: Option<serde_json::Value>,
    pub metrics_server: Option<MetricsServerSpec>,
    /// Spot instances are reclaimed at their Spot Advisor band's rate (default true).
    pub spot_interruptions: Option<bool>,
    /// `warm` or `cold`.
    pub start: Option<StartSpec>,
    /// A span at the start left out of every summary metric.
    pub warmup: Option<DurationField>,
    /// What goes wrong during the run ([`super::faults`]).
    #[serde(default)]
    pub faults: Vec<super::faults::FaultSpec>,
    /// Named metric series ([`super::series`]).
    #[serde(default)]
    pub series: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StartSpec {
    Warm,
    Cold,
}

/// `spec.metricsServer`: metrics-server's flags.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsServerSpec {
    /// `--metric-resolution`: scrape interval and sample window.
    pub metric_resolution: Option<DurationField>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StaticNodesSpec {
    pub name: Option<String>,
    pub instance_type: String,
    pub count: Option<u32>,
    pub capacity_type: Option<CapacityTypeSpec>,
    pub zone: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<TaintSpec>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
pub enum CapacityTypeSpec {
    #[serde(rename = "on-demand")]
    OnDemand,
    #[serde(rename = "spot")]
    Spot,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaintSpec {
    pub key: String,
    #[serde(default)]
    pub value: String,
    pub effect: TaintEffectSpec,
}

#[derive(Clone, Copy, Debug, Deserialize)]
pub enum TaintEffectSpec {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSpec {
    pub scoring: Option<ScoringSpec>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
pub enum ScoringSpec {
    LeastAllocated,
    MostAllocated,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadSpec {
    pub traffic: Option<TrafficSpec>,
    pub per_request: Option<ResourceUse>,
    pub idle: Option<ResourceUse>,
    pub max_requests_per_pod: Option<f64>,
    pub startup: Option<StartupSpec>,
    pub latency: Option<LatencySpec>,
    /// Arrivals of a `batch/v1 Job` workload.
    pub batch: Option<super::batch::BatchSpec>,
    /// The workload consumes a queue: `traffic` is messages/s arriving in it.
    pub queue: Option<QueueSpec>,
}

/// `spec.workloads.<name>.queue`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QueueSpec {
    /// The queue's name (default: the workload's), as KEDA triggers and metric series name it.
    pub name: Option<String>,
    /// The oldest-message age the team promises; the summary reports time above it.
    #[serde(rename = "ageSLO")]
    pub age_slo: Option<DurationField>,
}

/// CPU and memory as Kubernetes quantities (`2m`, `64Ki`, `0.5`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceUse {
    pub cpu: Option<QuantityField>,
    pub memory: Option<QuantityField>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StartupSpec {
    pub image_pull: Option<DistributionSpec>,
    pub image_pull_cached: Option<DistributionSpec>,
    pub container_start: Option<DistributionSpec>,
    /// Container start → Ready, overriding the manifest's probes.
    pub ready: Option<DistributionSpec>,
    /// Container start → the application answers its probes.
    pub warmup: Option<DistributionSpec>,
}

/// `spec.workloads.<name>.latency`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencySpec {
    /// Latency of every request besides queueing for CPU.
    pub base: Option<DurationField>,
    /// The client's timeout.
    pub timeout: Option<DurationField>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeLatencySpec {
    pub launch: Option<DistributionSpec>,
    pub register: Option<DistributionSpec>,
    pub ready: Option<DistributionSpec>,
    pub terminate: Option<DistributionSpec>,
    /// Per-instance-type overrides of any stage: `byInstanceType: {p4d.24xlarge: {ready: 3m}}`.
    #[serde(default)]
    pub by_instance_type: BTreeMap<String, NodeLatencySpec>,
}

/// What a quantity looks like, for error messages.
pub const QUANTITY_EXAMPLES: &str = "a quantity such as \"250m\", \"0.5\", \"512Mi\" or \"1G\"";
/// What a duration looks like, for error messages.
pub const DURATION_EXAMPLES: &str = "a Go duration such as \"90s\", \"10m\" or \"1h30m\"";

/// A units error message that names the input even when the parser's message does not.
pub fn unit_error(input: &str, err: &dyn fmt::Display, expected: &str) -> String {
    let e = err.to_string();
    if e.contains(input) {
        format!("{e}: expected {expected}")
    } else {
        format!("{input:?}: {e}: expected {expected}")
    }
}

/// A Go duration string (`90s`, `1h30m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationField(pub SimDuration);

impl<'de> Deserialize<'de> for DurationField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"90s\", \"10m\" or \"1h30m\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DurationField, E> {
                parse_duration(s)
                    .map(DurationField)
                    .map_err(|e| E::custom(unit_error(s, &e, DURATION_EXAMPLES)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A Kubernetes quantity, written as a string (`250m`, `512Mi`) or a bare number (`1`, `0.5`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantityField(pub Quantity);

impl<'de> Deserialize<'de> for QuantityField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl V {
            fn parse<E: de::Error>(s: &str) -> Result<QuantityField, E> {
                Quantity::parse(s)
                    .map(QuantityField)
                    .map_err(|e| E::custom(unit_error(s, &e, QUANTITY_EXAMPLES)))
            }
        }
        impl Visitor<'_> for V {
            type Value = QuantityField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a quantity such as \"250m\", \"0.5\" or \"512Mi\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<QuantityField, E> {
                V::parse(s)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<QuantityField, E> {
                V::parse(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<QuantityField, E> {
                V::parse(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<QuantityField, E> {
                V::parse(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}
