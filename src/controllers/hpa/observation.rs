//! The snapshot the HPA controller reads at each sync: what upstream gets from the scale subresource,
//! the pod lister and the metrics APIs (`metrics.k8s.io`, `custom.metrics.k8s.io`, `external.metrics.k8s.io`).
//!
//! The simulation fills one [`HpaObservation`] per HPA every sync period, so the types are plain Vecs and
//! integer ids; names are shared `Arc<str>` (a clone is a reference-count increment).

use crate::engine::{SimDuration, SimTime};
use std::fmt;
use std::sync::Arc;

/// Identifies a pod within one observation (the simulation's pod uid).
pub type PodId = u64;

/// `pod.status.phase`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

/// Status of a pod condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl fmt::Display for ConditionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        })
    }
}

/// The pod's `Ready` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyCondition {
    pub status: ConditionStatus,
    pub last_transition: SimTime,
}

/// A resource the HPA can scale on from `metrics.k8s.io` (metrics-server reports cpu and memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetricResource {
    Cpu,
    Memory,
}

impl fmt::Display for MetricResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MetricResource::Cpu => "cpu",
            MetricResource::Memory => "memory",
        })
    }
}

/// Amounts of cpu and memory in milli-units (`resource.Quantity.MilliValue()`: millicores, milli-bytes).
/// `None` = not set (a request that is absent, a usage that the metrics API did not report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResourceAmounts {
    pub cpu_milli: Option<i64>,
    pub memory_milli: Option<i64>,
}

impl ResourceAmounts {
    pub const NONE: ResourceAmounts = ResourceAmounts {
        cpu_milli: None,
        memory_milli: None,
    };
    pub fn cpu(milli: i64) -> Self {
        ResourceAmounts {
            cpu_milli: Some(milli),
            memory_milli: None,
        }
    }
    pub fn get(&self, r: MetricResource) -> Option<i64> {
        match r {
            MetricResource::Cpu => self.cpu_milli,
            MetricResource::Memory => self.memory_milli,
        }
    }
}

/// A container of the pod spec with its requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedContainer {
    pub name: Arc<str>,
    pub requests: ResourceAmounts,
}

/// A pod matched by the HPA's selector (upstream reads it from the pod lister).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedPod {
    pub id: PodId,
    pub name: Arc<str>,
    pub phase: PodPhase,
    /// `metadata.deletionTimestamp` is set.
    pub deleting: bool,
    /// `status.startTime`.
    pub start_time: Option<SimTime>,
    /// The `Ready` condition, if the pod has one.
    pub ready: Option<ReadyCondition>,
    /// `spec.containers`.
    pub containers: Vec<ObservedContainer>,
    /// Restartable init containers (`restartPolicy: Always`, "sidecars"): they count towards requests.
    /// Other init containers do not and need not be listed.
    pub sidecars: Vec<ObservedContainer>,
    /// Pod-level `spec.resources.requests` (PodLevelResources feature).
    pub pod_requests: ResourceAmounts,
}

impl ObservedPod {
    /// `phase == Running` and `Ready == True` (upstream `getReadyPodsCount`, `podutil.IsPodReady`).
    pub fn is_running_and_ready(&self) -> bool {
        self.phase == PodPhase::Running && self.ready.is_some_and(|c| c.status == ConditionStatus::True)
    }
}

/// One container's usage in a `PodMetrics` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerUsage {
    pub name: Arc<str>,
    pub usage: ResourceAmounts,
}

/// A `metrics.k8s.io` `PodMetrics` item: mean usage over `window` ending at `timestamp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodResourceSample {
    pub pod: PodId,
    pub timestamp: SimTime,
    pub window: SimDuration,
    pub containers: Vec<ContainerUsage>,
}

/// One pod's value of a Pods (custom) metric, in milli-units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodMetricSample {
    pub pod: PodId,
    pub value_milli: i64,
    pub timestamp: SimTime,
    pub window: SimDuration,
}

/// An error from a metrics API (the metric could not be fetched).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MetricsError(pub String);

impl MetricsError {
    /// upstream: pkg/controller/podautoscaler/metrics/client.go, empty `PodMetricsList`.
    pub fn no_resource_metrics() -> Self {
        MetricsError("no metrics returned from resource metrics API".into())
    }
    /// upstream: pkg/controller/podautoscaler/metrics/client.go, empty custom metrics list.
    pub fn no_custom_metrics() -> Self {
        MetricsError("no metrics returned from custom metrics API".into())
    }
    /// upstream: pkg/controller/podautoscaler/metrics/client.go, empty external metrics list.
    pub fn no_external_metrics() -> Self {
        MetricsError("no metrics returned from external metrics API".into())
    }
}

/// What the custom/external metrics APIs returned for one `spec.metrics[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricValues {
    /// Pods metric: one value per pod.
    Pods(Vec<PodMetricSample>),
    /// Object metric: the object's value.
    Object(i64),
    /// External metric: every matching series (summed by the controller).
    External(Vec<i64>),
}

/// Everything one HPA reconcile reads.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HpaObservation {
    /// Scale subresource `spec.replicas` (the "current replicas" of the algorithm).
    pub spec_replicas: i32,
    /// Scale subresource `status.replicas` (used by Object/External AverageValue targets).
    pub status_replicas: i32,
    /// Pods selected by the scale target's selector.
    pub pods: Vec<ObservedPod>,
    /// `metrics.k8s.io` PodMetrics for the selected pods (read only by Resource/ContainerResource metrics).
    pub resource_metrics: Vec<PodResourceSample>,
    /// One entry per `spec.metrics[i]`, in order: the fetched values for Pods/Object/External metrics,
    /// or an error. Entries for Resource metrics (and missing entries) are ignored.
    pub metric_values: Vec<Option<Result<MetricValues, MetricsError>>>,
}

impl HpaObservation {
    pub fn pod_name(&self, id: PodId) -> Option<&Arc<str>> {
        self.pods.iter().find(|p| p.id == id).map(|p| &p.name)
    }
}
