//! The world side of the HPA: building each sync's observation from the cluster, applying the
//! decision to the Deployment, recording it for `hpa.csv`.

use super::metrics::DEFAULT_METRIC_RESOLUTION;
use super::{Periodic, World};
use crate::cluster::{PodId, PodPhase};
use crate::controllers::hpa::conditions::ConditionReason;
use crate::controllers::hpa::config::HpaControllerConfig;
use crate::controllers::hpa::controller::{DecisionReason, HpaDecision, HpaState, reconcile};
use crate::controllers::hpa::normalize::LimitingRule;
use crate::controllers::hpa::observation::{
    ConditionStatus, ContainerUsage, HpaObservation, MetricValues, MetricsError, ObservedContainer, ObservedPod,
    PodMetricSample, PodPhase as ObsPhase, PodResourceSample, ReadyCondition, ResourceAmounts,
};
use crate::controllers::hpa::spec::{HpaSpec, MetricSpec};
use crate::engine::{Rngs, SimDuration, SimTime};
use crate::model::resources::round_i64;
use crate::scenario::{ErrorKind, Scenario, ScenarioError};
use serde::Serialize;
use std::sync::Arc;

/// The HPA stage of the world: every HPA, the controller-manager settings they share, and what
/// they decided. The world runs it like every periodic controller: each HPA syncs at its own
/// offset and then every `config.sync_period` ([`super::Periodic::Hpa`]); a sync observes the
/// world, calls the pure `reconcile`, and applies the decision (`World::hpa_sync`).
pub struct Autoscaling {
    pub config: HpaControllerConfig,
    pub hpas: Vec<HpaRuntime>,
    /// Every reconcile, for `hpa.csv`.
    pub records: Vec<HpaRecord>,
    /// The last metric value an HPA observed for each workload (for the timeline).
    pub observed_metric: Vec<Option<f64>>,
}

impl Autoscaling {
    /// The scenario's HPAs, validated, under its `spec.controllerManager` settings.
    pub fn new(sc: &Scenario) -> Result<Autoscaling, ScenarioError> {
        let config = controller_config(sc)?;
        let hpas = build_hpas(sc, &config)?;
        Ok(Autoscaling {
            config,
            hpas,
            records: Vec::new(),
            observed_metric: vec![None; sc.workloads.len()],
        })
    }
}

/// One HPA being simulated.
pub struct HpaRuntime {
    pub name: String,
    pub spec: HpaSpec,
    pub state: HpaState,
    /// Index of the target Deployment in `Scenario::workloads`.
    pub target: usize,
    /// Pod names by pod ordinal, built once per pod (the observation carries them).
    names: Vec<Option<Arc<str>>>,
    /// The target's containers and their requests, per template revision (`[r]` for pods of
    /// revision `r`; later revisions are added when their first pod is observed).
    containers: Vec<RevisionContainers>,
    /// `name`, shared by every `hpa.csv` record of this HPA.
    record_name: Arc<str>,
    /// The previous sync's observation, refilled in place by the next (its per-pod vectors are
    /// reused instead of allocated and dropped every sync).
    last_obs: Option<HpaObservation>,
    /// The ScaledObject that owns this HPA (its External metrics are read through KEDA).
    keda: Option<usize>,
    /// This sync's reads of the named series its Pods/Object/External metrics name, per
    /// `spec.metrics[i]` (`None`: no such series, the target's requests/s).
    reads: Vec<Option<Result<f64, ()>>>,
}

/// One line of `hpa.csv`: a reconcile and its outcome. `hpa.csv` is written by hand
/// (`report::files`, for speed); the derived `Serialize` is the reference format that writer is
/// tested against, so a new field added here and not there fails that test.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HpaRecord {
    /// Simulated time in whole milliseconds, written as seconds (`time_s`).
    #[serde(rename = "time_s", serialize_with = "ms_as_secs")]
    pub time_ms: u64,
    /// Shared with the HPA (a fleet run holds ~10⁶ records: no string per record).
    #[serde(serialize_with = "as_str")]
    pub hpa: Arc<str>,
    pub current_replicas: i32,
    pub desired_replicas: i32,
    pub scaled: bool,
    /// Each metric's current value as the HPA status shows it (utilization %, or milli-units).
    #[serde(serialize_with = "display")]
    pub metrics: HpaMetrics,
    /// The largest metric proposal (before stabilization and limits).
    pub proposal: Option<i32>,
    pub stabilized: Option<i32>,
    #[serde(serialize_with = "display")]
    pub reason: DecisionReason,
    /// Empty when no rule limited the decision.
    #[serde(serialize_with = "display_or_empty")]
    pub limiting_rule: Option<LimitingRule>,
    pub error: String,
}

/// One metric of an `hpa.csv` row: its upstream name and value, or why it has none.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricCell {
    /// Shared with the HPA's other records.
    pub name: Arc<str>,
    pub value: Result<i64, ConditionReason>,
}

/// The `metrics` column: kept structured and formatted when written (a fleet run records ~10⁶
/// syncs, nearly all with one metric, which needs no allocation).
#[derive(Clone, Debug, PartialEq)]
pub enum HpaMetrics {
    One(MetricCell),
    Many(Box<[MetricCell]>),
}

impl HpaMetrics {
    pub fn cells(&self) -> &[MetricCell] {
        match self {
            HpaMetrics::One(c) => std::slice::from_ref(c),
            HpaMetrics::Many(cs) => cs,
        }
    }
}

/// `name=usage` per metric (`name=<reason>` when it failed), separated by spaces.
impl std::fmt::Display for HpaMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, c) in self.cells().iter().enumerate() {
            let sep = if k == 0 { "" } else { " " };
            match &c.value {
                Ok(v) => write!(f, "{sep}{}={v}", c.name)?,
                Err(r) => write!(f, "{sep}{}=<{r}>", c.name)?,
            }
        }
        Ok(())
    }
}

impl HpaRecord {
    /// Simulated time of the sync in seconds.
    pub fn time_s(&self) -> f64 {
        self.time_ms as f64 / 1000.0
    }

    /// The `hpa.csv` header: the serialized field names, in order.
    pub const HEADER: [&str; 11] = [
        "time_s",
        "hpa",
        "current_replicas",
        "desired_replicas",
        "scaled",
        "metrics",
        "proposal",
        "stabilized",
        "reason",
        "limiting_rule",
        "error",
    ];
}

fn ms_as_secs<S: serde::Serializer>(ms: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(*ms as f64 / 1000.0)
}

fn as_str<S: serde::Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

fn display<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn display_or_empty<S: serde::Serializer, T: std::fmt::Display>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_str(""),
    }
}

/// Builds the HPAs of a scenario, validated with the API's rules; errors name the HPA's document.
pub fn build_hpas(sc: &Scenario, config: &HpaControllerConfig) -> Result<Vec<HpaRuntime>, ScenarioError> {
    let mut out = Vec::new();
    for h in &sc.hpas {
        let name = h.metadata.name.clone().unwrap_or_default();
        let ns = h.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let locate = |path: String, message: String| match sc.document("HorizontalPodAutoscaler", &ns, &name) {
            Some(doc) => doc.error(ErrorKind::Invalid, path, message),
            None => ScenarioError::file(ErrorKind::Invalid, format!("HorizontalPodAutoscaler {name}"), message),
        };
        let spec = HpaSpec::from_manifest(h, config).map_err(|e| locate(String::new(), e.to_string()))?;
        let (target_kind, target_name) = h
            .spec
            .as_ref()
            .map(|s| (s.scale_target_ref.kind.clone(), s.scale_target_ref.name.clone()))
            .unwrap_or_default();
        let target = sc
            .workloads
            .iter()
            .position(|w| {
                w.name == target_name && w.namespace == ns && w.kind.is_replicated() && w.kind.as_str() == target_kind
            })
            .ok_or_else(|| {
                locate(
                    "spec.scaleTargetRef.name".into(),
                    format!("{target_kind} {target_name:?} not found in namespace {ns:?}"),
                )
            })?;
        let containers = vec![observed_containers(&sc.workloads[target].template)];
        let keda = sc
            .scaled_objects
            .iter()
            .position(|so| so.hpa_name == name && so.namespace == ns);
        out.push(HpaRuntime {
            record_name: Arc::from(name.as_str()),
            last_obs: None,
            keda,
            reads: Vec::new(),
            name,
            spec,
            state: HpaState::default(),
            target,
            names: Vec::new(),
            containers,
        });
    }
    Ok(out)
}

/// The kube-controller-manager HPA settings: `spec.controllerManager` as a map
/// (`{syncPeriod: 15s, ...}`) or as the real flags (`{args: [--horizontal-pod-autoscaler-sync-period=30s]}`).
pub fn controller_config(sc: &Scenario) -> Result<HpaControllerConfig, ScenarioError> {
    let Some(v) = &sc.controller_manager else {
        return Ok(HpaControllerConfig::default());
    };
    let err = |m: String| sc.error_at("spec.controllerManager", m);
    if let Some(args) = v.get("args") {
        let args: Vec<String> = serde_json::from_value(args.clone()).map_err(|e| err(format!("args: {e}")))?;
        return HpaControllerConfig::from_flags(&args).map_err(|e| err(e.to_string()));
    }
    serde_json::from_value(v.clone()).map_err(|e| err(e.to_string()))
}

/// When HPA `name` first syncs: HPAs are staggered over one sync period, each at a fixed offset
/// drawn from its name, as the controller's work queue spreads them in a real cluster.
pub fn sync_offset(rngs: &Rngs, name: &str, period: SimDuration) -> SimDuration {
    SimDuration(rngs.derive("hpa-sync-offset", Rngs::key_of(name)) % period.0.max(1))
}

impl World<'_> {
    pub(super) fn metric_resolution(&self) -> SimDuration {
        self.sc.metric_resolution.unwrap_or(DEFAULT_METRIC_RESOLUTION)
    }

    /// One HPA reconcile: observe, decide, apply, record.
    pub(super) fn hpa_sync(&mut self, now: SimTime, i: usize) {
        let mut hpas = std::mem::take(&mut self.autoscaling.hpas);
        let hpa = &mut hpas[i];
        self.read_metrics(hpa, now);
        let obs = self.observe(hpa, now);
        let decision = reconcile(&hpa.spec, &self.autoscaling.config, &mut hpa.state, &obs, now);
        self.apply_hpa(now, hpa, &decision);
        hpa.last_obs = Some(obs);
        self.autoscaling.hpas = hpas;
    }

    /// This sync's reads of the series `hpa`'s Pods/Object/External metrics name: through KEDA
    /// for the HPA a ScaledObject owns (its fallback counts these reads too), else the named
    /// series, failing while a `metricsOutage` covers it.
    fn read_metrics(&mut self, hpa: &mut HpaRuntime, now: SimTime) {
        let mut reads = std::mem::take(&mut hpa.reads);
        reads.clear();
        for m in &hpa.spec.metrics {
            let name = match m {
                MetricSpec::Pods { metric, .. }
                | MetricSpec::Object { metric, .. }
                | MetricSpec::External { metric, .. } => metric,
                _ => {
                    reads.push(None);
                    continue;
                }
            };
            let via_keda = match (hpa.keda, m) {
                (Some(so), MetricSpec::External { .. }) => self.keda_hpa_read(so, name, now),
                _ => None,
            };
            reads.push(via_keda.or_else(|| self.series_read(name, now)));
        }
        hpa.reads = reads;
    }

    /// How many objects a periodic controller syncs.
    pub(super) fn periodic_objects(&self, stage: Periodic) -> usize {
        match stage {
            Periodic::Hpa => self.autoscaling.hpas.len(),
            // One loop over every VPA, as the recommender and updater each are one process.
            Periodic::VpaRecommender | Periodic::VpaUpdater => usize::from(!self.vpas.objects.is_empty()),
            Periodic::Keda => self.sc.scaled_objects.len(),
            Periodic::KedaJob => self.sc.scaled_jobs.len(),
        }
    }

    /// Object `i`'s sync period under a periodic controller.
    pub(super) fn sync_period(&self, stage: Periodic, i: usize) -> SimDuration {
        match stage {
            Periodic::Hpa => self.autoscaling.config.sync_period,
            Periodic::VpaRecommender => self.vpas.recommender.interval,
            Periodic::VpaUpdater => self.vpas.updater.interval,
            Periodic::Keda => self.sc.scaled_objects[i].polling_interval,
            Periodic::KedaJob => self.sc.scaled_jobs[i].polling_interval,
        }
    }

    /// When object `i` of a periodic controller first syncs, after the start.
    pub(super) fn first_sync(&self, stage: Periodic, i: usize) -> SimDuration {
        match stage {
            Periodic::Hpa => sync_offset(&self.rngs, &self.autoscaling.hpas[i].name, self.sync_period(stage, i)),
            // upstream main.go: `for range time.Tick(interval)`: the first loop one interval in.
            Periodic::VpaRecommender | Periodic::VpaUpdater => self.sync_period(stage, i),
            // KEDA's scale loop polls as soon as it starts.
            Periodic::Keda | Periodic::KedaJob => SimDuration::ZERO,
        }
    }

    fn apply_hpa(&mut self, now: SimTime, hpa: &HpaRuntime, d: &HpaDecision) {
        let cell = |p: &crate::controllers::hpa::controller::MetricProposal| MetricCell {
            name: p.metric.clone(),
            value: p.result.as_ref().map(|prop| prop.usage).map_err(|e| e.reason),
        };
        let metrics = match d.proposals.as_slice() {
            [one] => HpaMetrics::One(cell(one)),
            many => HpaMetrics::Many(many.iter().map(cell).collect()),
        };
        if let Some(Ok(first)) = d.proposals.first().map(|p| &p.result) {
            self.autoscaling.observed_metric[hpa.target] = Some(first.usage as f64);
        }
        self.autoscaling.records.push(HpaRecord {
            time_ms: now.0,
            hpa: hpa.record_name.clone(),
            current_replicas: d.current_replicas,
            desired_replicas: d.desired_replicas,
            scaled: d.scale_updated,
            metrics,
            proposal: d.metric_replicas,
            stabilized: d.stabilized_replicas,
            reason: d.reason,
            limiting_rule: d.limiting_rule,
            error: d.error.clone().unwrap_or_default(),
        });
        if d.scale_updated && d.desired_replicas >= 0 {
            self.workloads[hpa.target].desired = d.desired_replicas as u32;
            self.reconcile_replicas(hpa.target);
        }
    }

    /// What the HPA controller reads: the scale subresource, the target's pods, metrics-server's
    /// samples and the custom/external metric values (capsim serves requests/s for those).
    fn observe(&self, hpa: &mut HpaRuntime, now: SimTime) -> HpaObservation {
        let wi = hpa.target;
        let ws = &self.workloads[wi];
        let wl = &self.sc.workloads[wi];
        // Entries [0, np) and [0, ns) are this sync's; older entries are overwritten in place.
        let (mut pods, mut samples, mut metric_values) = match hpa.last_obs.take() {
            Some(o) => (o.pods, o.resource_metrics, o.metric_values),
            None => (
                Vec::with_capacity(ws.active.len()),
                Vec::with_capacity(ws.active.len()),
                Vec::with_capacity(hpa.spec.metrics.len()),
            ),
        };
        let (mut np, mut ns) = (0usize, 0usize);
        let mut per_pod_rps = Vec::new();
        // Only Pods metrics read per-pod values: collect them only for HPAs that have one.
        let wants_per_pod = hpa.spec.metrics.iter().any(|m| matches!(m, MetricSpec::Pods { .. }));
        let share = if ws.ready > 0 {
            ws.served_rps() / f64::from(ws.ready)
        } else {
            0.0
        };
        // Terminating pods would be grouped as ignored (deletionTimestamp set): leave them out.
        for &p in &ws.active {
            let pod = &self.cluster.pods[p.0 as usize];
            // Indexed by the pod's ordinal within its workload (the name is a function of it), so
            // each HPA's table grows with its own pods, not with every pod of the run.
            let k = pod.ordinal as usize;
            if hpa.names.len() <= k {
                hpa.names.resize(k + 1, None);
            }
            let name = hpa.names[k]
                .get_or_insert_with(|| Arc::from(pod.name(&wl.name)))
                .clone();
            let (phase, ready) = match pod.phase {
                PodPhase::Pending | PodPhase::Starting => (ObsPhase::Pending, None),
                PodPhase::Running => (
                    ObsPhase::Running,
                    Some(ReadyCondition {
                        status: ConditionStatus::False,
                        last_transition: pod.started.or(pod.scheduled).unwrap_or(now),
                    }),
                ),
                PodPhase::Ready => (
                    ObsPhase::Running,
                    Some(ReadyCondition {
                        status: ConditionStatus::True,
                        last_transition: pod.ready.unwrap_or(now),
                    }),
                ),
                PodPhase::Terminating => (ObsPhase::Running, None),
                PodPhase::Deleted | PodPhase::Succeeded => continue,
            };
            let rev = pod.resources_rev as usize;
            while hpa.containers.len() <= rev {
                let t = self.templates.get(wi, hpa.containers.len() as u32);
                hpa.containers.push(observed_containers(t));
            }
            let rc = &hpa.containers[rev];
            let containers = &rc.observed;
            if let Some(slot) = pods.get_mut(np) {
                // `sidecars` and `pod_requests` are this HPA's constants, and so are
                // `containers` while the target has one template revision.
                if hpa.containers.len() > 1 {
                    slot.containers.clone_from(containers);
                    slot.sidecars.clone_from(&rc.sidecars);
                }
                slot.id = u64::from(p.0);
                slot.name = name;
                slot.phase = phase;
                slot.deleting = pod.phase == PodPhase::Terminating;
                slot.start_time = pod.scheduled;
                slot.ready = ready;
            } else {
                pods.push(ObservedPod {
                    id: u64::from(p.0),
                    name,
                    phase,
                    deleting: pod.phase == PodPhase::Terminating,
                    start_time: pod.scheduled,
                    ready,
                    containers: containers.clone(),
                    sidecars: rc.sidecars.clone(),
                    pod_requests: ResourceAmounts::NONE,
                });
            }
            np += 1;
            if let Some(s) = self.metrics.samples[p.0 as usize] {
                match samples.get_mut(ns) {
                    Some(slot) if slot.containers.len() == rc.share.len() => {
                        fill_resource_sample(&rc.share, p, s, slot)
                    }
                    Some(slot) => *slot = resource_sample(rc, p, s),
                    None => samples.push(resource_sample(rc, p, s)),
                }
                ns += 1;
            }
            if wants_per_pod && pod.phase == PodPhase::Ready {
                per_pod_rps.push(PodMetricSample {
                    pod: u64::from(p.0),
                    value_milli: round_i64(share * 1000.0),
                    timestamp: now,
                    window: self.metric_resolution(),
                });
            }
        }
        metric_values.clear();
        // A metric named like a `spec.series` entry reads that series; any other is the
        // target's requests/s (per Ready pod for Pods metrics).
        let milli = |v: f64| (v * 1000.0).round() as i64;
        // A queue worker's requests/s are the messages arriving.
        let rps = ws.queue.as_ref().map_or(ws.demand, |q| q.arrival);
        let failed = |m: &MetricSpec| match m {
            MetricSpec::External { .. } => MetricsError::no_external_metrics(),
            _ => MetricsError::no_custom_metrics(),
        };
        metric_values.extend(hpa.spec.metrics.iter().zip(&hpa.reads).map(|(m, read)| {
            if let Some(Err(())) = read {
                return Some(Err(failed(m)));
            }
            let value = read.map(|r| r.unwrap_or_default());
            match m {
                MetricSpec::Pods { .. } => Some(Ok(MetricValues::Pods(match value {
                    Some(v) => per_pod_rps
                        .iter()
                        .map(|s| PodMetricSample {
                            value_milli: milli(v),
                            ..*s
                        })
                        .collect(),
                    None => per_pod_rps.clone(),
                }))),
                MetricSpec::Object { .. } => Some(Ok(MetricValues::Object(milli(value.unwrap_or(rps))))),
                MetricSpec::External { .. } => Some(Ok(MetricValues::External(vec![milli(value.unwrap_or(rps))]))),
                _ => None,
            }
        }));
        pods.truncate(np);
        samples.truncate(ns);
        HpaObservation {
            spec_replicas: ws.desired as i32,
            status_replicas: ws.active.len() as i32,
            pods,
            resource_metrics: samples,
            metric_values,
        }
    }
}

/// [`resource_sample`] into an entry built in an earlier sync for the same containers, in the
/// same order (`share`: [`RevisionContainers::share`]).
#[inline]
fn fill_resource_sample(share: &[f64], p: PodId, s: super::metrics::ResourceSample, slot: &mut PodResourceSample) {
    slot.pod = u64::from(p.0);
    slot.timestamp = s.timestamp;
    slot.window = s.window;
    for (&frac, u) in share.iter().zip(slot.containers.iter_mut()) {
        u.usage = container_usage(s, frac);
    }
}

/// A pod's sample split over its containers in proportion to their requests.
fn resource_sample(rc: &RevisionContainers, p: PodId, s: super::metrics::ResourceSample) -> PodResourceSample {
    let containers = rc
        .observed
        .iter()
        .chain(&rc.sidecars)
        .zip(&rc.share)
        .map(|(c, &frac)| ContainerUsage {
            name: c.name.clone(),
            usage: container_usage(s, frac),
        })
        .collect();
    PodResourceSample {
        pod: u64::from(p.0),
        timestamp: s.timestamp,
        window: s.window,
        containers,
    }
}

/// One template revision's containers as the HPA observes them, and each container's share of
/// the pod's usage (its share of the CPU requests; equal shares when none requests CPU), computed
/// once per revision rather than for every pod at every sync.
struct RevisionContainers {
    observed: Vec<ObservedContainer>,
    /// Restartable init containers (`restartPolicy: Always`): their requests count, as upstream's
    /// `calculatePodRequestsFromContainers` sums regular and sidecar containers.
    sidecars: Vec<ObservedContainer>,
    /// Per container, regular then sidecar.
    share: Vec<f64>,
}

/// What the HPA observes of a template's containers: names and requests.
fn observed_containers(tmpl: &crate::model::PodTemplate) -> RevisionContainers {
    let observe = |c: &crate::model::Container| ObservedContainer {
        name: Arc::from(c.name.as_str()),
        requests: ResourceAmounts {
            cpu_milli: Some(c.requests.cpu_m),
            memory_milli: Some(c.requests.mem.saturating_mul(1000)),
        },
    };
    let observed: Vec<ObservedContainer> = tmpl.containers.iter().map(observe).collect();
    let sidecars: Vec<ObservedContainer> = tmpl.sidecars.iter().map(observe).collect();
    // metrics-server reports every running container, sidecars included; the pod's usage is split
    // over them in proportion to their CPU requests.
    let all = || observed.iter().chain(&sidecars);
    let total_cpu: i64 = all().filter_map(|c| c.requests.cpu_milli).sum();
    let n = all().count().max(1) as f64;
    let share = all()
        .map(|c| match c.requests.cpu_milli {
            Some(r) if total_cpu > 0 => r as f64 / total_cpu as f64,
            _ => 1.0 / n,
        })
        .collect();
    RevisionContainers {
        observed,
        sidecars,
        share,
    }
}

/// A container's share `frac` of a pod's metrics-server sample.
fn container_usage(s: super::metrics::ResourceSample, frac: f64) -> ResourceAmounts {
    ResourceAmounts {
        cpu_milli: Some(round_i64(s.cpu_m * frac)),
        memory_milli: Some(round_i64(s.mem * frac * 1000.0)),
    }
}
