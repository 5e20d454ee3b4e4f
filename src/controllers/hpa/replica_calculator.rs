//! Replica proposals per metric, as `replica_calculator.go` computes them.
//!
//! upstream: kubernetes/kubernetes pkg/controller/podautoscaler/replica_calculator.go (newest: per-direction
//! `Tolerances`, pod-level resources, restartable init containers, overflow guards) and
//! pkg/controller/podautoscaler/metrics/{client.go,utilization.go}.
//!
//! Every function is pure: it reads the pods and samples of an
//! [`HpaObservation`](super::observation::HpaObservation) and returns a [`Proposal`].

use super::observation::{
    ConditionStatus, MetricResource, MetricsError, ObservedPod, PodId, PodMetricSample, PodPhase, PodResourceSample,
    ResourceAmounts,
};
use crate::engine::{SimDuration, SimTime};
use std::collections::BTreeSet;
use std::fmt;

/// Per-direction tolerance: a usage ratio `r` needs no scaling iff `1 - scale_down <= r <= 1 + scale_up`.
/// upstream: replica_calculator.go `Tolerances.isWithin` (KEP-4951).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    pub scale_down: f64,
    pub scale_up: f64,
}

impl Tolerances {
    pub fn both(t: f64) -> Self {
        Tolerances {
            scale_down: t,
            scale_up: t,
        }
    }
    pub fn is_within(&self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }
}

/// One pod's metric value (upstream `metricsclient.PodMetric`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodMetric {
    pub value: i64,
    pub timestamp: SimTime,
    pub window: SimDuration,
}

/// Metric values by pod (upstream `PodMetricsInfo`, keyed by pod name there, by pod id here).
pub type PodMetricsInfo = PodMap<PodMetric>;

/// A map keyed by pod id, kept as a vector sorted by id: the calculator builds one per metric per
/// sync, almost always from pods listed in id order, so building is a run of pushes and a lookup is
/// a binary search (a `BTreeMap` allocated a node per few pods and was most of the HPA's cost).
/// Iteration is in id order, as a `BTreeMap`'s would be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodMap<V> {
    entries: Vec<(PodId, V)>,
}

impl<V> Default for PodMap<V> {
    fn default() -> Self {
        PodMap { entries: Vec::new() }
    }
}

impl<V> PodMap<V> {
    #[inline]
    pub fn new() -> Self {
        Self::default()
    }
    #[inline]
    pub fn with_capacity(n: usize) -> Self {
        PodMap {
            entries: Vec::with_capacity(n),
        }
    }
    #[inline]
    fn position(&self, id: PodId) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&id, |e| e.0)
    }
    #[inline]
    pub fn get(&self, id: &PodId) -> Option<&V> {
        self.position(*id).ok().map(|i| &self.entries[i].1)
    }
    /// [`Self::get`] for ids looked up mostly in increasing order: tries the entry at `*cursor`
    /// first (then advances it), else searches.
    #[inline]
    pub fn get_from(&self, cursor: &mut usize, id: PodId) -> Option<&V> {
        let i = match self.entries.get(*cursor) {
            Some(e) if e.0 == id => *cursor,
            _ => self.position(id).ok()?,
        };
        *cursor = i + 1;
        Some(&self.entries[i].1)
    }
    #[inline]
    pub fn contains_key(&self, id: &PodId) -> bool {
        self.position(*id).is_ok()
    }
    /// Inserts or replaces; returns the value replaced.
    #[inline]
    pub fn insert(&mut self, id: PodId, value: V) -> Option<V> {
        // The common case: ids arrive in increasing order.
        if self.entries.last().is_none_or(|e| e.0 < id) {
            self.entries.push((id, value));
            return None;
        }
        match self.position(id) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (id, value));
                None
            }
        }
    }
    #[inline]
    pub fn remove(&mut self, id: &PodId) -> Option<V> {
        self.position(*id).ok().map(|i| self.entries.remove(i).1)
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Entries in id order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = (&PodId, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
    #[inline]
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|e| &e.1)
    }
}

impl<V> FromIterator<(PodId, V)> for PodMap<V> {
    fn from_iter<I: IntoIterator<Item = (PodId, V)>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let mut m = PodMap::with_capacity(iter.size_hint().0);
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<'a, V> IntoIterator for &'a PodMap<V> {
    type Item = (&'a PodId, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (PodId, V)>, fn(&'a (PodId, V)) -> (&'a PodId, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<V> std::ops::Index<&PodId> for PodMap<V> {
    type Output = V;
    fn index(&self, id: &PodId) -> &V {
        self.get(id).expect("no entry for pod id")
    }
}

/// Errors of the replica calculator, with upstream's messages.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaCalcError {
    #[error("unable to get metrics for resource {resource}: {source}")]
    ResourceMetrics {
        resource: MetricResource,
        source: MetricsError,
    },
    #[error("unable to get metric {metric}: {source}")]
    PodsMetric { metric: String, source: MetricsError },
    /// upstream formats this one as `unable to get metric %s: %v on %s %s/%s` with the arguments in
    /// (metric, kind, namespace, name, error) order; reproduced as is.
    #[error("unable to get metric {metric}: {kind} on {namespace} {name}/{source}")]
    ObjectMetric {
        metric: String,
        kind: String,
        namespace: String,
        name: String,
        source: MetricsError,
    },
    #[error("unable to get external metric {namespace}/{metric}/nil: {source}")]
    ExternalMetric {
        namespace: String,
        metric: String,
        source: MetricsError,
    },
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoMetricsForReadyPods,
    #[error("missing request for {resource} in container {container} of Pod {pod}")]
    MissingRequest {
        resource: MetricResource,
        container: String,
        pod: String,
    },
    #[error("missing pod-level request for {resource} in Pod {pod}")]
    MissingPodLevelRequest { resource: MetricResource, pod: String },
    #[error("container {container} not found in Pod {pod}")]
    ContainerNotFound { container: String, pod: String },
    #[error("no metrics returned matched known pods")]
    NoMetricsMatchedKnownPods,
    #[error("unable to calculate ready pods: {0}")]
    ReadyPods(Box<ReplicaCalcError>),
}

/// How a proposal was reached (for explanations; the replica count is what upstream returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProposalRule {
    /// The usage ratio is within tolerance: keep the current replicas.
    WithinTolerance,
    /// `ceil(ratio × pods)` with no missing or unready pods to account for.
    Ratio,
    /// Missing/unready pods were filled in (rebalanced) and the ratio recomputed.
    Rebalanced,
    /// After rebalancing the ratio fell within tolerance or would reverse the direction: keep current.
    RebalancedHold,
    /// Value targets with `currentReplicas == 0`: `ceil(ratio)` (scale from zero).
    FromZero,
}

impl fmt::Display for ProposalRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProposalRule::WithinTolerance => "within tolerance",
            ProposalRule::Ratio => "ceil(ratio x ready pods)",
            ProposalRule::Rebalanced => "rebalanced for missing/unready pods",
            ProposalRule::RebalancedHold => "rebalanced: within tolerance or direction reversed",
            ProposalRule::FromZero => "ceil(ratio) from zero replicas",
        })
    }
}

/// A replica proposal for one metric.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Proposal {
    pub replicas: i32,
    /// The metric's current value as the HPA status reports it: utilization percent for Utilization
    /// targets, otherwise the (per-pod or total) value in milli-units. First-pass value, before rebalancing.
    pub usage: i64,
    /// Utilization targets only: the raw average usage per pod (milli-units).
    pub raw_average: Option<i64>,
    /// The usage ratio the decision used (first pass).
    pub ratio: f64,
    pub rule: ProposalRule,
}

/// The pods of one calculation, by class (upstream `groupPods` return values).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodGroups {
    pub ready_count: usize,
    pub unready: BTreeSet<PodId>,
    pub missing: BTreeSet<PodId>,
    pub ignored: BTreeSet<PodId>,
}

/// Timing inputs of `groupPods`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadinessTiming {
    pub now: SimTime,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`.
    pub cpu_initialization_period: SimDuration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`.
    pub initial_readiness_delay: SimDuration,
}

/// Classifies pods: ignored (deleted or failed), unready (pending, or cpu samples that may include
/// start-up usage), missing (no sample), else ready. `resource` is `None` for Pods metrics.
/// upstream: replica_calculator.go `groupPods`.
pub fn group_pods(
    pods: &[ObservedPod],
    metrics: &PodMetricsInfo,
    resource: Option<MetricResource>,
    t: &ReadinessTiming,
) -> PodGroups {
    let mut g = PodGroups::default();
    let mut cursor = 0usize;
    for pod in pods {
        // A pod being deleted or failed is ignored entirely.
        if pod.deleting || pod.phase == PodPhase::Failed {
            g.ignored.insert(pod.id);
            continue;
        }
        // Pending pods count as unready.
        if pod.phase == PodPhase::Pending {
            g.unready.insert(pod.id);
            continue;
        }
        let Some(metric) = metrics.get_from(&mut cursor, pod.id) else {
            g.missing.insert(pod.id);
            continue;
        };
        // Only cpu samples are checked for readiness (start-up cpu bursts would inflate them).
        if resource == Some(MetricResource::Cpu) {
            let unready = match (pod.ready, pod.start_time) {
                (Some(cond), Some(start)) => {
                    if start + t.cpu_initialization_period > t.now {
                        // Still initializing: the sample must be ready and cover a full window after
                        // the last readiness transition.
                        cond.status == ConditionStatus::False || metric.timestamp < cond.last_transition + metric.window
                    } else {
                        // Past initialization: unready only if it never became ready since start.
                        cond.status == ConditionStatus::False
                            && start + t.initial_readiness_delay > cond.last_transition
                    }
                }
                // No Ready condition or no start time.
                _ => true,
            };
            if unready {
                g.unready.insert(pod.id);
                continue;
            }
        }
        g.ready_count += 1;
    }
    g
}

/// Resource metrics for the named container, or summed over the pod's containers.
/// A pod that lacks the container, or a container that lacks the resource, has no sample (→ missing).
/// upstream: metrics/client.go `getPodMetrics`, `getContainerMetrics` (post PR #127193).
pub fn resource_pod_metrics(
    samples: &[PodResourceSample],
    resource: MetricResource,
    container: Option<&str>,
) -> Result<PodMetricsInfo, MetricsError> {
    if samples.is_empty() {
        return Err(MetricsError::no_resource_metrics());
    }
    let mut out = PodMetricsInfo::with_capacity(samples.len());
    for s in samples {
        let value = match container {
            Some(name) => s
                .containers
                .iter()
                .find(|c| &*c.name == name)
                .and_then(|c| c.usage.get(resource)),
            None if s.containers.is_empty() => None,
            None => s.containers.iter().map(|c| c.usage.get(resource)).sum::<Option<i64>>(),
        };
        if let Some(value) = value {
            out.insert(
                s.pod,
                PodMetric {
                    value,
                    timestamp: s.timestamp,
                    window: s.window,
                },
            );
        }
    }
    Ok(out)
}

/// Pods-metric values by pod. upstream: metrics/client.go `GetRawMetric`.
pub fn custom_pod_metrics(samples: &[PodMetricSample]) -> Result<PodMetricsInfo, MetricsError> {
    if samples.is_empty() {
        return Err(MetricsError::no_custom_metrics());
    }
    Ok(samples
        .iter()
        .map(|s| {
            (
                s.pod,
                PodMetric {
                    value: s.value_milli,
                    timestamp: s.timestamp,
                    window: s.window,
                },
            )
        })
        .collect())
}

/// Requests per pod: the named container's (an error if the pod has no such container), else every
/// container plus restartable init containers; pod-level requests win when the PodLevelResources gate is
/// on, the pod sets any, and no container is named. A summed container without a request is an error.
/// upstream: replica_calculator.go `calculateRequests`, `calculatePodLevelRequests`,
/// `calculatePodRequestsFromContainers`.
pub fn calculate_requests(
    pods: &[ObservedPod],
    container: Option<&str>,
    resource: MetricResource,
    pod_level_resources: bool,
) -> Result<PodMap<i64>, ReplicaCalcError> {
    let mut requests = PodMap::with_capacity(pods.len());
    for pod in pods {
        let pod_level_set = pod.pod_requests != ResourceAmounts::NONE;
        let request = if pod_level_resources && pod_level_set && container.is_none() {
            calculate_pod_level_requests(pod, resource)?
        } else {
            calculate_pod_requests_from_containers(pod, container, resource)?
        };
        requests.insert(pod.id, request);
    }
    Ok(requests)
}

/// Pod-level request of `resource`; a resource not set at pod level is aggregated from the containers
/// (as `resourcehelpers.PodRequests` does), and an error if no container sets it either.
fn calculate_pod_level_requests(pod: &ObservedPod, resource: MetricResource) -> Result<i64, ReplicaCalcError> {
    if let Some(r) = pod.pod_requests.get(resource) {
        return Ok(r);
    }
    let set: Vec<i64> = pod
        .containers
        .iter()
        .chain(pod.sidecars.iter())
        .filter_map(|c| c.requests.get(resource))
        .collect();
    if set.is_empty() {
        return Err(ReplicaCalcError::MissingPodLevelRequest {
            resource,
            pod: pod.name.to_string(),
        });
    }
    Ok(set.iter().fold(0i64, |a, r| a.saturating_add(*r)))
}

fn calculate_pod_requests_from_containers(
    pod: &ObservedPod,
    container: Option<&str>,
    resource: MetricResource,
) -> Result<i64, ReplicaCalcError> {
    let mut sum = 0i64;
    for c in pod.containers.iter().chain(pod.sidecars.iter()) {
        if container.is_none_or(|name| name == &*c.name) {
            match c.requests.get(resource) {
                Some(r) => sum = sum.saturating_add(r),
                None => {
                    return Err(ReplicaCalcError::MissingRequest {
                        resource,
                        container: c.name.to_string(),
                        pod: pod.name.to_string(),
                    });
                }
            }
            // Container names are unique within a pod.
            if container.is_some() {
                return Ok(sum);
            }
        }
    }
    match container {
        Some(name) => Err(ReplicaCalcError::ContainerNotFound {
            container: name.to_string(),
            pod: pod.name.to_string(),
        }),
        None => Ok(sum),
    }
}

/// Utilization ratio over pods with both a metric and a request: `utilization = floor(100 × Σusage /
/// Σrequest)` as an integer percent, `ratio = utilization / target`, raw average `floor(Σusage / n)`.
/// Sums are exact (i128), as the newest upstream falls back to big integers on overflow.
/// upstream: metrics/utilization.go `GetResourceUtilizationRatio`.
pub fn get_resource_utilization_ratio(
    metrics: &PodMetricsInfo,
    requests: &PodMap<i64>,
    target_utilization: i32,
) -> Result<(f64, i32, i64), ReplicaCalcError> {
    let (mut usage, mut request, mut n) = (0i128, 0i128, 0i128);
    // Both maps are in id order: a merge join. Metrics of pods we have no request for are extraneous.
    let mut reqs = requests.entries.iter().peekable();
    for (pod, m) in &metrics.entries {
        while reqs.next_if(|(id, _)| id < pod).is_some() {}
        let Some((_, r)) = reqs.next_if(|(id, _)| id == pod) else {
            continue;
        };
        usage += i128::from(m.value);
        request += i128::from(*r);
        n += 1;
    }
    if request == 0 {
        return Err(ReplicaCalcError::NoMetricsMatchedKnownPods);
    }
    let utilization = clamp_i32(usage * 100 / request);
    let raw_average = clamp_i64(usage / n);
    Ok((
        f64::from(utilization) / f64::from(target_utilization),
        utilization,
        raw_average,
    ))
}

/// Plain-metric ratio: `usage = floor(Σvalue / n)`, `ratio = usage / target`.
/// upstream: metrics/utilization.go `GetMetricUsageRatio`.
pub fn get_metric_usage_ratio(metrics: &PodMetricsInfo, target_usage: i64) -> (f64, i64) {
    let total: i128 = metrics.values().map(|m| i128::from(m.value)).sum();
    let n = i128::try_from(metrics.len()).unwrap_or(i128::MAX).max(1);
    let usage = clamp_i64(total / n);
    (usage as f64 / target_usage as f64, usage)
}

fn clamp_i32(v: i128) -> i32 {
    v.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32
}
fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}
/// `ceil(x)` as a replica count, saturating at the int32 range (upstream caps at MaxInt32).
fn ceil_replicas(x: f64) -> i32 {
    x.ceil() as i32
}

/// The calculator's fixed inputs for one reconcile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaCalculator {
    pub timing: ReadinessTiming,
    /// `PodLevelResources` feature gate.
    pub pod_level_resources: bool,
}

impl ReplicaCalculator {
    /// Resource / ContainerResource metric with a Utilization target.
    /// upstream: replica_calculator.go `GetResourceReplicas`.
    #[allow(clippy::too_many_arguments)]
    pub fn get_resource_replicas(
        &self,
        current_replicas: i32,
        target_utilization: i32,
        resource: MetricResource,
        tolerances: Tolerances,
        container: Option<&str>,
        pods: &[ObservedPod],
        samples: &[PodResourceSample],
    ) -> Result<Proposal, ReplicaCalcError> {
        let mut metrics = resource_pod_metrics(samples, resource, container)
            .map_err(|source| ReplicaCalcError::ResourceMetrics { resource, source })?;
        if pods.is_empty() {
            return Err(ReplicaCalcError::NoPods);
        }
        let g = group_pods(pods, &metrics, Some(resource), &self.timing);
        for id in g.ignored.iter().chain(g.unready.iter()) {
            metrics.remove(id);
        }
        if metrics.is_empty() {
            return Err(ReplicaCalcError::NoMetricsForReadyPods);
        }
        let requests = calculate_requests(pods, container, resource, self.pod_level_resources)?;
        let (ratio, utilization, raw_average) =
            get_resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        let proposal = |replicas, rule| Proposal {
            replicas,
            usage: i64::from(utilization),
            raw_average: Some(raw_average),
            ratio,
            rule,
        };

        let scale_up_with_unready = !g.unready.is_empty() && ratio > 1.0;
        if !scale_up_with_unready && g.missing.is_empty() {
            if tolerances.is_within(ratio) {
                return Ok(proposal(current_replicas, ProposalRule::WithinTolerance));
            }
            // No unready or missing pods: scale by the ratio over the ready pods.
            return Ok(proposal(
                ceil_replicas(ratio * g.ready_count as f64),
                ProposalRule::Ratio,
            ));
        }

        if !g.missing.is_empty() {
            if ratio < 1.0 {
                // Scale-down: missing pods are assumed at max(100 %, target) of their request.
                let fallback = i128::from(target_utilization.max(100));
                for id in &g.missing {
                    let request = requests.get(id).copied().unwrap_or(0);
                    let value = clamp_i64(i128::from(request) * fallback / 100);
                    metrics.insert(*id, filled(value));
                }
            } else if ratio > 1.0 {
                // Scale-up: missing pods are assumed at 0.
                for id in &g.missing {
                    metrics.insert(*id, filled(0));
                }
            }
        }
        if scale_up_with_unready {
            // Scale-up: unready pods are assumed at 0.
            for id in &g.unready {
                metrics.insert(*id, filled(0));
            }
        }

        let (new_ratio, _, _) = get_resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        Ok(proposal_after_rebalance(
            current_replicas,
            ratio,
            new_ratio,
            metrics.len(),
            tolerances,
            proposal,
        ))
    }

    /// Resource / ContainerResource metric with an AverageValue target.
    /// upstream: replica_calculator.go `GetRawResourceReplicas`.
    #[allow(clippy::too_many_arguments)]
    pub fn get_raw_resource_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        resource: MetricResource,
        tolerances: Tolerances,
        container: Option<&str>,
        pods: &[ObservedPod],
        samples: &[PodResourceSample],
    ) -> Result<Proposal, ReplicaCalcError> {
        let metrics = resource_pod_metrics(samples, resource, container)
            .map_err(|source| ReplicaCalcError::ResourceMetrics { resource, source })?;
        self.calc_plain_metric_replicas(
            metrics,
            current_replicas,
            target_usage,
            tolerances,
            pods,
            Some(resource),
        )
    }

    /// Pods metric (AverageValue). upstream: replica_calculator.go `GetMetricReplicas`.
    pub fn get_metric_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        metric: &str,
        tolerances: Tolerances,
        pods: &[ObservedPod],
        samples: &[PodMetricSample],
    ) -> Result<Proposal, ReplicaCalcError> {
        let metrics = custom_pod_metrics(samples).map_err(|source| ReplicaCalcError::PodsMetric {
            metric: metric.to_string(),
            source,
        })?;
        self.calc_plain_metric_replicas(metrics, current_replicas, target_usage, tolerances, pods, None)
    }

    /// Per-pod values against a per-pod target; missing pods on scale-down are assumed at the target.
    /// upstream: replica_calculator.go `calcPlainMetricReplicas`.
    fn calc_plain_metric_replicas(
        &self,
        mut metrics: PodMetricsInfo,
        current_replicas: i32,
        target_usage: i64,
        tolerances: Tolerances,
        pods: &[ObservedPod],
        resource: Option<MetricResource>,
    ) -> Result<Proposal, ReplicaCalcError> {
        if pods.is_empty() {
            return Err(ReplicaCalcError::NoPods);
        }
        let g = group_pods(pods, &metrics, resource, &self.timing);
        for id in g.ignored.iter().chain(g.unready.iter()) {
            metrics.remove(id);
        }
        if metrics.is_empty() {
            return Err(ReplicaCalcError::NoMetricsForReadyPods);
        }
        let (ratio, usage) = get_metric_usage_ratio(&metrics, target_usage);
        let proposal = |replicas, rule| Proposal {
            replicas,
            usage,
            raw_average: None,
            ratio,
            rule,
        };

        let scale_up_with_unready = !g.unready.is_empty() && ratio > 1.0;
        if !scale_up_with_unready && g.missing.is_empty() {
            if tolerances.is_within(ratio) {
                return Ok(proposal(current_replicas, ProposalRule::WithinTolerance));
            }
            return Ok(proposal(
                ceil_replicas(ratio * g.ready_count as f64),
                ProposalRule::Ratio,
            ));
        }

        if !g.missing.is_empty() {
            if ratio < 1.0 {
                // Scale-down: missing pods are assumed at exactly the target.
                for id in &g.missing {
                    metrics.insert(*id, filled(target_usage));
                }
            } else if ratio > 1.0 {
                // Scale-up: missing pods are assumed at 0.
                for id in &g.missing {
                    metrics.insert(*id, filled(0));
                }
            }
        }
        if scale_up_with_unready {
            for id in &g.unready {
                metrics.insert(*id, filled(0));
            }
        }
        let (new_ratio, _) = get_metric_usage_ratio(&metrics, target_usage);
        Ok(proposal_after_rebalance(
            current_replicas,
            ratio,
            new_ratio,
            metrics.len(),
            tolerances,
            proposal,
        ))
    }

    /// Object metric, Value target. upstream: replica_calculator.go `GetObjectMetricReplicas`.
    pub fn get_object_metric_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        usage: i64,
        tolerances: Tolerances,
        pods: &[ObservedPod],
    ) -> Result<Proposal, ReplicaCalcError> {
        let ratio = usage as f64 / target_usage as f64;
        let (replicas, rule) = get_usage_ratio_replica_count(current_replicas, ratio, tolerances, pods)?;
        Ok(Proposal {
            replicas,
            usage,
            raw_average: None,
            ratio,
            rule,
        })
    }

    /// External metric, Value target: the series are summed (saturating at MaxInt64).
    /// upstream: replica_calculator.go `GetExternalMetricReplicas`.
    pub fn get_external_metric_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        values: &[i64],
        tolerances: Tolerances,
        pods: &[ObservedPod],
    ) -> Result<Proposal, ReplicaCalcError> {
        let usage = values.iter().fold(0i64, |a, v| a.saturating_add(*v));
        self.get_object_metric_replicas(current_replicas, target_usage, usage, tolerances, pods)
    }
}

/// Object/External metric, AverageValue target: `ratio = usage / (target × statusReplicas)`; outside
/// tolerance → `ceil(usage / target)`; reported usage `ceil(usage / statusReplicas)`.
/// upstream: replica_calculator.go `GetObjectPerPodMetricReplicas` / `GetExternalPerPodMetricReplicas`.
pub fn get_per_pod_metric_replicas(
    status_replicas: i32,
    target_average_usage: i64,
    usage: i64,
    tolerances: Tolerances,
) -> Proposal {
    let ratio = usage as f64 / (target_average_usage as f64 * f64::from(status_replicas));
    let (replicas, rule) = if tolerances.is_within(ratio) {
        (status_replicas, ProposalRule::WithinTolerance)
    } else {
        (
            ceil_replicas(usage as f64 / target_average_usage as f64),
            ProposalRule::Ratio,
        )
    };
    Proposal {
        replicas,
        usage: (usage as f64 / f64::from(status_replicas)).ceil() as i64,
        raw_average: None,
        ratio,
        rule,
    }
}

/// External AverageValue: sums the series first. upstream: `GetExternalPerPodMetricReplicas`.
pub fn get_external_per_pod_metric_replicas(
    status_replicas: i32,
    target_average_usage: i64,
    values: &[i64],
    tolerances: Tolerances,
) -> Proposal {
    let usage = values.iter().fold(0i64, |a, v| a.saturating_add(*v));
    get_per_pod_metric_replicas(status_replicas, target_average_usage, usage, tolerances)
}

/// Value targets: within tolerance → current; else `ceil(ratio × ready pods)`, where ready means
/// Running and Ready. From zero replicas: `ceil(ratio)`, no tolerance.
/// upstream: replica_calculator.go `getUsageRatioReplicaCount`, `getReadyPodsCount`.
fn get_usage_ratio_replica_count(
    current_replicas: i32,
    ratio: f64,
    tolerances: Tolerances,
    pods: &[ObservedPod],
) -> Result<(i32, ProposalRule), ReplicaCalcError> {
    if current_replicas == 0 {
        return Ok((ceil_replicas(ratio), ProposalRule::FromZero));
    }
    if tolerances.is_within(ratio) {
        return Ok((current_replicas, ProposalRule::WithinTolerance));
    }
    if pods.is_empty() {
        return Err(ReplicaCalcError::ReadyPods(Box::new(ReplicaCalcError::NoPods)));
    }
    let ready = pods.iter().filter(|p| p.is_running_and_ready()).count();
    Ok((ceil_replicas(ratio * ready as f64), ProposalRule::Ratio))
}

fn filled(value: i64) -> PodMetric {
    PodMetric {
        value,
        timestamp: SimTime::ZERO,
        window: SimDuration::ZERO,
    }
}

/// The common tail of the rebalancing paths: hold when the new ratio is within tolerance or crossed 1.0,
/// else `ceil(new ratio × metric count)` unless that moves against the new ratio's direction.
fn proposal_after_rebalance(
    current_replicas: i32,
    ratio: f64,
    new_ratio: f64,
    metric_count: usize,
    tolerances: Tolerances,
    proposal: impl Fn(i32, ProposalRule) -> Proposal,
) -> Proposal {
    if tolerances.is_within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
        return proposal(current_replicas, ProposalRule::RebalancedHold);
    }
    let new_replicas = ceil_replicas(new_ratio * metric_count as f64);
    if (new_ratio < 1.0 && new_replicas > current_replicas) || (new_ratio > 1.0 && new_replicas < current_replicas) {
        return proposal(current_replicas, ProposalRule::RebalancedHold);
    }
    proposal(new_replicas, ProposalRule::Rebalanced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::hpa::observation::{ContainerUsage, ObservedContainer, ReadyCondition};
    use std::sync::Arc;

    const NOW: SimTime = SimTime(10_000_000);
    const TIMING: ReadinessTiming = ReadinessTiming {
        now: NOW,
        cpu_initialization_period: SimDuration::from_secs(300),
        initial_readiness_delay: SimDuration::from_secs(30),
    };
    const CALC: ReplicaCalculator = ReplicaCalculator {
        timing: TIMING,
        pod_level_resources: true,
    };
    const TOL: Tolerances = Tolerances {
        scale_down: 0.1,
        scale_up: 0.1,
    };

    fn ago(s: u64) -> SimTime {
        SimTime(NOW.0 - s * 1000)
    }

    /// A Running pod started `age` s ago, Ready (True/False) since `ready_age` s ago, one container with
    /// `request` millicores.
    fn pod(id: u64, age: u64, ready: bool, ready_age: u64, request: i64) -> ObservedPod {
        ObservedPod {
            id,
            name: Arc::from(format!("p{id}")),
            phase: PodPhase::Running,
            deleting: false,
            start_time: Some(ago(age)),
            ready: Some(ReadyCondition {
                status: if ready {
                    ConditionStatus::True
                } else {
                    ConditionStatus::False
                },
                last_transition: ago(ready_age),
            }),
            containers: vec![ObservedContainer {
                name: Arc::from("app"),
                requests: ResourceAmounts::cpu(request),
            }],
            sidecars: vec![],
            pod_requests: ResourceAmounts::NONE,
        }
    }
    fn old(id: u64) -> ObservedPod {
        pod(id, 3600, true, 3600, 1000)
    }
    fn sample(id: u64, cpu: i64) -> PodResourceSample {
        PodResourceSample {
            pod: id,
            timestamp: NOW,
            window: SimDuration::from_secs(60),
            containers: vec![ContainerUsage {
                name: Arc::from("app"),
                usage: ResourceAmounts::cpu(cpu),
            }],
        }
    }
    fn metric(value: i64, ts: SimTime) -> PodMetric {
        PodMetric {
            value,
            timestamp: ts,
            window: SimDuration::from_secs(60),
        }
    }

    #[test]
    fn group_pods_rules() {
        let mut deleting = old(1);
        deleting.deleting = true;
        let mut failed = old(2);
        failed.phase = PodPhase::Failed;
        let mut pending = old(3);
        pending.phase = PodPhase::Pending;
        let missing = old(4);
        // started 100 s ago (within the 300 s cpu initialization), ready 30 s ago: a 60 s window ending
        // now began before the transition -> unready
        let fresh = pod(5, 100, true, 30, 1000);
        // within initialization, ready 90 s ago: the window is entirely after the transition -> ready
        let settled = pod(6, 100, true, 90, 1000);
        // past initialization, not ready, last transition 20 s after start (< 30 s readiness delay):
        // never became ready -> unready
        let never_ready = pod(7, 600, false, 580, 1000);
        // past initialization, not ready, transition 100 s after start: it was ready once -> counted
        let was_ready = pod(8, 600, false, 500, 1000);
        let mut no_condition = old(9);
        no_condition.ready = None;
        let pods = vec![
            deleting,
            failed,
            pending,
            missing,
            fresh,
            settled,
            never_ready,
            was_ready,
            no_condition,
        ];
        let metrics: PodMetricsInfo = [1, 2, 3, 5, 6, 7, 8, 9]
            .into_iter()
            .map(|id| (id, metric(100, NOW)))
            .collect();
        let g = group_pods(&pods, &metrics, Some(MetricResource::Cpu), &TIMING);
        assert_eq!(g.ignored, BTreeSet::from([1, 2]));
        assert_eq!(g.unready, BTreeSet::from([3, 5, 7, 9]));
        assert_eq!(g.missing, BTreeSet::from([4]));
        assert_eq!(g.ready_count, 2); // 6 and 8
        // memory (and Pods metrics) skip the readiness rules: only pending stays unready
        let g = group_pods(&pods, &metrics, Some(MetricResource::Memory), &TIMING);
        assert_eq!(g.unready, BTreeSet::from([3]));
        assert_eq!(g.ready_count, 5);
    }

    #[test]
    fn resource_utilization_table() {
        // (usages of 3 old pods with 1000m requests, target %, current, expected replicas, utilization %)
        let cases = [
            // Σ 1500 / 3000 = 50 % ; 50/30 = 1.667 ; ceil(1.667 × 3) = 5
            (vec![300, 500, 700], 30, 3, 5, 50),
            // 33 % of target 30: ratio 1.1 is inside the inclusive tolerance -> stay at 3
            (vec![330, 330, 330], 30, 3, 3, 33),
            // integer percent: Σ 1005 / 3000 = 33.5 % -> 33 % (truncated), ratio 1.1 -> stay
            (vec![335, 335, 335], 30, 3, 3, 33),
            // 10 % of 50: ratio 0.2 -> ceil(0.2 × 3) = 1
            (vec![100, 100, 100], 50, 3, 1, 10),
        ];
        for (usages, target, current, want, util) in cases {
            let pods: Vec<_> = (0..3).map(old).collect();
            let samples: Vec<_> = usages.iter().enumerate().map(|(i, u)| sample(i as u64, *u)).collect();
            let p = CALC
                .get_resource_replicas(current, target, MetricResource::Cpu, TOL, None, &pods, &samples)
                .unwrap();
            assert_eq!((p.replicas, p.usage), (want, util), "{usages:?} target {target}");
        }
    }

    #[test]
    fn resource_rebalancing_for_missing_and_unready_pods() {
        // Scale-up with one unready pod: ready pods 1, 2 use 900m each of 1000m: 90 % vs target 50 % ->
        // ratio 1.8 > 1, so the unready pod counts as 0: Σ 1800 / 3000 = 60 % -> 1.2 -> ceil(1.2 × 3) = 4
        let pods = vec![pod(0, 60, false, 60, 1000), old(1), old(2)];
        let samples = vec![sample(0, 900), sample(1, 900), sample(2, 900)];
        let p = CALC
            .get_resource_replicas(3, 50, MetricResource::Cpu, TOL, None, &pods, &samples)
            .unwrap();
        assert_eq!((p.replicas, p.usage, p.rule), (4, 90, ProposalRule::Rebalanced));
        // Scale-down with a missing pod: 2 pods at 100m (10 %), target 50 % -> ratio 0.2; the missing pod
        // counts at max(100, 50) % = 1000m: Σ 1200 / 3000 = 40 % -> 0.8 -> ceil(0.8 × 3) = 3 = current
        let pods = vec![old(0), old(1), old(2)];
        let samples = vec![sample(0, 100), sample(1, 100)];
        let p = CALC
            .get_resource_replicas(3, 50, MetricResource::Cpu, TOL, None, &pods, &samples)
            .unwrap();
        assert_eq!(p.replicas, 3);
        // Target above 100 %: the missing pod is assumed at the target (300 % of 1000m = 3000m):
        // samples 200m + 200m, Σ 3400 / 3000 = 113 % / 300 = 0.377 -> ceil(0.377 × 3) = 2
        let p = CALC
            .get_resource_replicas(4, 300, MetricResource::Cpu, TOL, None, &pods, &samples)
            .unwrap();
        assert_eq!(p.replicas, 2);
        // Scale-up where rebalancing crosses 1.0: one ready pod at 600m (60 %) vs 50 %, two missing pods
        // at 0: Σ 600 / 3000 = 20 % -> 0.4 < 1 while the first pass said scale up -> hold at current
        let samples = vec![sample(0, 600)];
        let p = CALC
            .get_resource_replicas(3, 50, MetricResource::Cpu, TOL, None, &pods, &samples)
            .unwrap();
        assert_eq!((p.replicas, p.rule), (3, ProposalRule::RebalancedHold));
    }

    #[test]
    fn resource_errors_carry_upstream_messages() {
        let pods: Vec<_> = (0..2).map(old).collect();
        let e = CALC
            .get_resource_replicas(2, 50, MetricResource::Cpu, TOL, None, &pods, &[])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        );
        let e = CALC
            .get_resource_replicas(2, 50, MetricResource::Cpu, TOL, None, &[], &[sample(0, 1)])
            .unwrap_err();
        assert_eq!(e, ReplicaCalcError::NoPods);
        let unready = vec![pod(0, 10, false, 10, 1000)];
        let e = CALC
            .get_resource_replicas(1, 50, MetricResource::Cpu, TOL, None, &unready, &[sample(0, 1)])
            .unwrap_err();
        assert_eq!(e, ReplicaCalcError::NoMetricsForReadyPods);
        let mut no_request = old(0);
        no_request.containers[0].requests = ResourceAmounts::NONE;
        let e = CALC
            .get_resource_replicas(1, 50, MetricResource::Cpu, TOL, None, &[no_request], &[sample(0, 1)])
            .unwrap_err();
        assert_eq!(e.to_string(), "missing request for cpu in container app of Pod p0");
        let e = CALC
            .get_resource_replicas(
                1,
                50,
                MetricResource::Cpu,
                TOL,
                Some("sidecar"),
                &[old(0)],
                &[sample(0, 1)],
            )
            .unwrap_err();
        assert!(matches!(
            e,
            ReplicaCalcError::NoMetricsForReadyPods | ReplicaCalcError::ContainerNotFound { .. }
        ));
    }

    #[test]
    fn calculate_requests_rules() {
        let mut p = old(0);
        p.containers.push(ObservedContainer {
            name: Arc::from("log"),
            requests: ResourceAmounts::cpu(100),
        });
        p.sidecars.push(ObservedContainer {
            name: Arc::from("mesh"),
            requests: ResourceAmounts::cpu(50),
        });
        // 1000 + 100 + sidecar 50
        assert_eq!(
            calculate_requests(&[p.clone()], None, MetricResource::Cpu, true).unwrap()[&0],
            1150
        );
        assert_eq!(
            calculate_requests(&[p.clone()], Some("log"), MetricResource::Cpu, true).unwrap()[&0],
            100
        );
        p.pod_requests = ResourceAmounts::cpu(2000);
        // pod-level wins unless a container is named or the gate is off
        assert_eq!(
            calculate_requests(&[p.clone()], None, MetricResource::Cpu, true).unwrap()[&0],
            2000
        );
        assert_eq!(
            calculate_requests(&[p.clone()], Some("app"), MetricResource::Cpu, true).unwrap()[&0],
            1000
        );
        assert_eq!(
            calculate_requests(&[p.clone()], None, MetricResource::Cpu, false).unwrap()[&0],
            1150
        );
        let e = calculate_requests(&[p], Some("nope"), MetricResource::Cpu, false).unwrap_err();
        assert_eq!(e.to_string(), "container nope not found in Pod p0");
    }

    #[test]
    fn plain_metrics_table() {
        let pods: Vec<_> = (0..4).map(old).collect();
        let s = |id: u64, v: i64| PodMetricSample {
            pod: id,
            value_milli: v,
            timestamp: NOW,
            window: SimDuration::from_secs(60),
        };
        // (samples, target, current, expected)
        let cases = [
            // mean 30 rps vs 10 -> ratio 3 -> ceil(3 × 4) = 12
            (
                vec![s(0, 30_000), s(1, 30_000), s(2, 30_000), s(3, 30_000)],
                10_000,
                4,
                12,
            ),
            // one missing, ratio exactly 1 (20 vs 20): not filled, new ratio 1 -> within tolerance, stay
            (vec![s(0, 20_000), s(1, 19_000), s(2, 21_000)], 20_000, 4, 4),
            // one missing on scale-down: mean 5 vs 10 -> the missing pod counts at the target:
            // (15 + 10) / 4 = 6.25 -> 0.625 -> ceil(0.625 × 4) = 3
            (vec![s(0, 5_000), s(1, 5_000), s(2, 5_000)], 10_000, 4, 3),
        ];
        for (samples, target, current, want) in cases {
            let p = CALC
                .get_metric_replicas(current, target, "rps", TOL, &pods, &samples)
                .unwrap();
            assert_eq!(p.replicas, want, "{samples:?}");
        }
    }

    #[test]
    fn value_targets_use_ready_pods_and_scale_from_zero() {
        // 4 pods, 2 ready; total 30 vs target 10 -> ratio 3 -> ceil(3 × 2 ready) = 6 (not 12)
        let pods = vec![old(0), old(1), pod(2, 10, false, 10, 1), pod(3, 10, false, 10, 1)];
        let p = CALC.get_object_metric_replicas(4, 10_000, 30_000, TOL, &pods).unwrap();
        assert_eq!(p.replicas, 6);
        // from zero replicas: ceil(ratio), no tolerance: 15 / 10 -> 2
        let p = CALC
            .get_external_metric_replicas(0, 10_000, &[10_000, 5_000], TOL, &[])
            .unwrap();
        assert_eq!((p.replicas, p.rule), (2, ProposalRule::FromZero));
        // AverageValue: 8.6 total vs 2.15 per pod over 3 replicas: ratio 1.33 -> ceil(8.6 / 2.15) = 4,
        // reported usage ceil(8600 / 3) = 2867
        let p = get_external_per_pod_metric_replicas(3, 2150, &[8600], TOL);
        assert_eq!((p.replicas, p.usage), (4, 2867));
        // Saturation: the sum caps at MaxInt64; replicas cap at MaxInt32
        let p = CALC
            .get_external_metric_replicas(3, 1, &[i64::MAX, i64::MAX], TOL, &pods)
            .unwrap();
        assert_eq!((p.replicas, p.usage), (i32::MAX, i64::MAX));
    }
}
