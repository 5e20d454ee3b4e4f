//! What a run records, and the summary computed from it at the end.

use super::World;
use crate::cloud::billing::{BilledNode, CostLedger, RequestSeconds, ShareWeights, split_by_requests};
use crate::cluster::{NodeState, PodPhase};
use crate::engine::SimTime;
use crate::model::WorkloadKind;
use crate::scenario::Scenario;
use serde::Serialize;
use std::collections::BTreeMap;

/// One timeline sample of one workload (with the cluster-wide columns repeated).
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineRow {
    pub time: SimTime,
    pub workload: u32,
    pub demand_rps: f64,
    pub served_rps: f64,
    pub capacity_rps: f64,
    /// Request latency p50, p95, p99 of the requests served at this instant, milliseconds
    /// (`None` when none are served).
    pub latency_ms: Option<[f64; 3]>,
    /// Requests/s unserved or slower than the timeout.
    pub errors_rps: f64,
    /// CPU the pods want above their limits (throttled) and within them but not granted (node
    /// contention), millicores summed over the workload's pods.
    pub cpu_throttled_m: f64,
    pub cpu_starved_m: f64,
    pub desired: u32,
    pub pending: u32,
    pub starting: u32,
    pub ready: u32,
    pub cpu_per_pod_m: f64,
    pub cpu_utilization: f64,
    /// The metric value the workload's HPA last observed (utilization % or milli-units).
    pub hpa_metric: Option<f64>,
    pub nodes_ready: u32,
    pub nodes_upcoming: u32,
    pub cost_rate_hr: f64,
}

/// Node counts of one pool at one sample.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PoolCount {
    pub pool: String,
    pub ready: u32,
    /// Requested, booting or registered but not Ready.
    pub upcoming: u32,
    /// Cordoned, draining or terminating.
    pub leaving: u32,
}

/// One timeline sample of the cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterRow {
    pub time: SimTime,
    /// One entry per pool that ever had a node, in name order.
    pub pools: Vec<PoolCount>,
    /// Sum of hourly prices of billed nodes.
    pub cost_rate_hr: f64,
    pub pods_pending: u32,
}

/// Collects rows during the run.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    pub timeline: Vec<TimelineRow>,
    pub cluster: Vec<ClusterRow>,
    /// The exposed Prometheus series the scenario's rules read.
    pub series: crate::alerts::series::SeriesSet,
    /// Per workload: its request-duration histogram so far.
    pub histograms: Vec<super::exposition::Histogram>,
    /// Queue workers' queues, one row per sample.
    pub queue: Vec<super::queue::QueueRow>,
}

impl Recorder {
    pub fn new(sc: &Scenario) -> Self {
        let mut r = Recorder::default();
        r.series.wanted = crate::alerts::wanted_families(&sc.rule_groups);
        r.series
            .wanted
            .extend(crate::scenario::series::query_families(&sc.series));
        r
    }
}

/// One pod's life, for `pods.csv`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PodRecord {
    pub pod: String,
    pub workload: String,
    pub priority: i32,
    pub node: String,
    pub created_s: f64,
    pub unschedulable_s: Option<f64>,
    pub scheduled_s: Option<f64>,
    pub started_s: Option<f64>,
    pub ready_s: Option<f64>,
    pub deleted_s: Option<f64>,
    /// Seconds Pending (to scheduling, deletion, or the end of the run).
    pub pending_s: f64,
    pub image_cached: bool,
    pub state_at_end: String,
    pub delete_reason: String,
    /// The zone of its node (empty while never bound).
    pub zone: String,
}

/// One node's life, for `nodes.csv`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NodeRecord {
    pub node: String,
    pub pool: String,
    pub instance_type: String,
    pub capacity_type: String,
    pub zone: String,
    pub price_hr: f64,
    pub requested_s: f64,
    pub launched_s: Option<f64>,
    pub registered_s: Option<f64>,
    pub ready_s: Option<f64>,
    pub drain_started_s: Option<f64>,
    pub terminated_s: Option<f64>,
    pub state_at_end: String,
    pub cost_usd: f64,
    pub created_by: String,
    pub removed_by: String,
}

/// Percentiles of a set of durations, in seconds.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Percentiles {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles (each figure is an observed value).
    pub fn of(mut v: Vec<f64>) -> Percentiles {
        if v.is_empty() {
            return Percentiles::default();
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Percentiles {
            count: v.len(),
            p50: q(0.50),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
            max: v[v.len() - 1],
        }
    }
}

/// Request latency percentiles, milliseconds.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct LatencyPercentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WorkloadSummary {
    pub name: String,
    pub pods_created: u32,
    /// Pods never scheduled by the end of the run (their Pending time so far is in `pending`).
    pub pods_pending_at_end: u32,
    /// Pending time of every pod that was scheduled or is still Pending at the end
    /// (pods deleted while Pending are left out: nobody waited for them).
    pub pending: Percentiles,
    /// Creation to Ready.
    pub time_to_ready: Percentiles,
    /// Sum over all pods of the seconds they spent Pending.
    pub pod_pending_seconds: f64,
    pub requests_total: f64,
    pub requests_unserved: f64,
    pub unserved_share: f64,
    /// Seconds during which demand exceeded what ready pods could serve.
    pub overload_seconds: f64,
    /// Latency of the served requests, milliseconds (requests slower than the timeout count at
    /// the timeout).
    pub latency_ms: LatencyPercentiles,
    /// Served requests slower than the timeout.
    pub requests_timed_out: f64,
    /// Unserved or timed-out requests over all requests: what clients saw fail.
    pub error_share: f64,
    /// CPU wanted above the pods' limits (throttled by CFS quota), core·seconds.
    pub cpu_throttled_core_seconds: f64,
    /// CPU wanted within the limits but not granted because nodes were contended, core·seconds.
    pub cpu_starved_core_seconds: f64,
    /// Containers killed above their memory limit.
    pub oom_kills: u32,
    /// Pods the kubelet evicted under node memory pressure.
    pub pressure_evictions: u32,
    /// Container restarts (OOM kills and failed startup probes).
    pub container_restarts: u32,
    pub replicas_min: u32,
    pub replicas_max: u32,
    /// Pods evicted by drains, spot reclaims, preemption or node loss.
    pub pods_evicted: u32,
    /// Pending time of the pods created to replace evicted ones: the extra Pending that
    /// disruptions (spot interruptions, consolidation, preemption) cause.
    pub replacement_pending: Percentiles,
    /// Batch workloads: finish − arrival − run time of every completed pod (Pending, start-up
    /// and any rerun after eviction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_delay: Option<Percentiles>,
    /// Batch workloads: pods that ran to completion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<u32>,
    /// Queue workers: the queue's depth, age and drain times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueSummary>,
    /// Where the time from creation to Ready went, stage by stage, over its pods that became
    /// Ready and per surge ([`super::attribution`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_breakdown: Option<super::attribution::Breakdown>,
}

/// One `queue.csv` row.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct QueueRecord {
    pub time_s: f64,
    pub queue: String,
    pub workload: String,
    pub arrival_rps: f64,
    pub processed_rps: f64,
    pub depth: f64,
    pub oldest_age_s: f64,
}

/// A queue worker's queue over the run (from the `queue.csv` samples, one per resolution).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct QueueSummary {
    pub queue: String,
    pub messages_arrived: f64,
    pub messages_processed: f64,
    pub depth_p95: f64,
    pub depth_max: f64,
    pub depth_at_end: f64,
    pub oldest_age_p95_s: f64,
    pub oldest_age_max_s: f64,
    /// The longest stretch with messages waiting (from the first sample with a backlog to the
    /// first without), seconds.
    pub longest_backlog_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_slo_s: Option<f64>,
    /// Seconds the oldest message was older than the SLO.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_over_age_slo: Option<f64>,
}

/// The queue summary of workload `wi` from its samples.
fn queue_summary(
    rows: &[super::queue::QueueRow],
    wi: u32,
    model: &crate::model::QueueModel,
    q: &super::queue::QueueState,
    resolution_s: f64,
    from: SimTime,
) -> QueueSummary {
    let mine: Vec<&super::queue::QueueRow> = rows.iter().filter(|r| r.workload == wi && r.time >= from).collect();
    let depths: Vec<f64> = mine.iter().map(|r| r.depth).collect();
    let ages: Vec<f64> = mine.iter().map(|r| r.oldest_age_s).collect();
    let (mut longest, mut since) = (0.0f64, None::<SimTime>);
    for r in &mine {
        match (r.depth > 0.5, since) {
            (true, None) => since = Some(r.time),
            (false, Some(t)) => {
                longest = longest.max((r.time - t).as_secs_f64());
                since = None;
            }
            _ => {}
        }
    }
    if let (Some(t), Some(last)) = (since, mine.last()) {
        longest = longest.max((last.time - t).as_secs_f64());
    }
    let over_slo = model
        .age_slo_s
        .map(|slo| ages.iter().filter(|&&a| a > slo).count() as f64 * resolution_s);
    let (depth, age) = (Percentiles::of(depths), Percentiles::of(ages));
    QueueSummary {
        queue: model.name.clone(),
        messages_arrived: q.arrived,
        messages_processed: q.processed,
        depth_p95: depth.p95,
        depth_max: depth.max,
        depth_at_end: q.depth,
        oldest_age_p95_s: age.p95,
        oldest_age_max_s: age.max,
        longest_backlog_s: longest,
        age_slo_s: model.age_slo_s,
        seconds_over_age_slo: over_slo,
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClusterSummary {
    pub nodes_max: u32,
    pub nodes_at_end: u32,
    pub nodes_launched: u32,
    pub nodes_terminated: u32,
    pub node_hours: f64,
    pub cost_total_usd: f64,
    pub cost_by_pool: BTreeMap<String, f64>,
    pub cost_by_instance_type: BTreeMap<String, f64>,
    pub cost_by_capacity_type: BTreeMap<String, f64>,
    /// Node cost by the nodes' `topology.kubernetes.io/zone`.
    pub cost_by_zone: BTreeMap<String, f64>,
    /// Nodes launched (billed at some point) by zone.
    pub nodes_launched_by_zone: BTreeMap<String, u32>,
    /// Node cost split by the share of allocatable each workload's pods requested, over time.
    pub cost_by_workload: BTreeMap<String, f64>,
    /// Node cost no pod requested (empty capacity, boot time, billing minimums).
    pub cost_idle_usd: f64,
    /// Decisions by kind (`ScaleUp`, `DeleteEmpty`, `InterruptionWarning`, ...).
    pub decisions: BTreeMap<String, u32>,
    pub spot_interruptions: u32,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub duration_s: f64,
    pub events: u64,
    pub workloads: Vec<WorkloadSummary>,
    pub cluster: ClusterSummary,
    /// Per alerting rule of the scenario's PrometheusRules.
    pub alerts: Vec<crate::alerts::AlertSummary>,
    /// Times an alert that pages started firing.
    pub pages: u32,
    /// With `spec.faults`: what the faults cost, against the same run without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faults: Option<FaultImpact>,
    /// Per VerticalPodAutoscaler: its final recommendation and what its updater did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vpa: Vec<VpaSummary>,
    /// Per KEDA ScaledObject: how often its loop activated (from 0 or idle) and deactivated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keda: Vec<KedaSummary>,
    /// What the records show, in plain words, with evidence and a knob ([`super::findings`]).
    pub findings: Vec<super::findings::Finding>,
}

/// One ScaledObject's run.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct KedaSummary {
    pub name: String,
    pub target: String,
    pub hpa: String,
    pub activations: u32,
    pub deactivations: u32,
    /// A ScaledJob: the Jobs its loop created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs_created: Option<u32>,
    /// Reads of a trigger's metric that failed (`spec.faults` `metricsOutage`), by KEDA's loop
    /// and the HPA's.
    #[serde(skip_serializing_if = "zero")]
    pub failed_reads: u32,
    /// Of those, the reads `spec.fallback` answered.
    #[serde(skip_serializing_if = "zero")]
    pub fallback_reads: u32,
}

fn zero(n: &u32) -> bool {
    *n == 0
}

/// One VPA's run.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct VpaSummary {
    pub name: String,
    pub target: String,
    pub update_mode: String,
    /// The recommendation at the end, per container (`None` per resource it does not control).
    pub recommendation: Vec<VpaContainerSummary>,
    pub evictions: u32,
    pub evictions_blocked_by_pdb: u32,
    pub in_place_resizes: u32,
    pub resizes_deferred: u32,
    pub resizes_infeasible: u32,
    /// OOM kills and memory-pressure evictions the recommender recorded.
    pub oom_samples: u32,
}

/// One container's final recommendation against what the manifest requests.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct VpaContainerSummary {
    pub container: String,
    pub cpu_request_m: i64,
    pub memory_request_bytes: i64,
    pub cpu_target_m: Option<i64>,
    pub cpu_lower_bound_m: Option<i64>,
    pub cpu_upper_bound_m: Option<i64>,
    pub memory_target_bytes: Option<i64>,
    pub memory_lower_bound_bytes: Option<i64>,
    pub memory_upper_bound_bytes: Option<i64>,
}

/// The figures a fault moves, for one run.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ImpactFigures {
    /// Σ over workloads of seconds pods spent Pending.
    pub pod_pending_seconds: f64,
    /// The worst workload's Pending p95.
    pub pending_p95_s: f64,
    pub pods_pending_at_end: u32,
    pub requests_unserved: f64,
    /// Unserved and timed-out requests over demand, all workloads.
    pub error_share: f64,
    pub pages: u32,
    pub nodes_launched: u32,
    pub cost_total_usd: f64,
}

impl ImpactFigures {
    pub fn of(s: &Summary) -> ImpactFigures {
        let demand: f64 = s.workloads.iter().map(|w| w.requests_total).sum();
        let errors: f64 = s.workloads.iter().map(|w| w.error_share * w.requests_total).sum();
        ImpactFigures {
            pod_pending_seconds: s.workloads.iter().map(|w| w.pod_pending_seconds).sum(),
            pending_p95_s: s.workloads.iter().map(|w| w.pending.p95).fold(0.0, f64::max),
            pods_pending_at_end: s.workloads.iter().map(|w| w.pods_pending_at_end).sum(),
            requests_unserved: s.workloads.iter().map(|w| w.requests_unserved).sum(),
            error_share: if demand > 0.0 { errors / demand } else { 0.0 },
            pages: s.pages,
            nodes_launched: s.cluster.nodes_launched,
            cost_total_usd: s.cluster.cost_total_usd,
        }
    }
}

/// What `spec.faults` cost: the run with them, the same scenario and seed without them, and
/// the difference (faults minus baseline).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FaultImpact {
    pub faults: Vec<String>,
    pub with_faults: ImpactFigures,
    pub baseline: ImpactFigures,
    pub extra: ImpactFigures,
}

impl FaultImpact {
    pub fn between(faults: &[crate::scenario::faults::Fault], with: &Summary, baseline: &Summary) -> FaultImpact {
        let (a, b) = (ImpactFigures::of(with), ImpactFigures::of(baseline));
        let extra = ImpactFigures {
            pod_pending_seconds: a.pod_pending_seconds - b.pod_pending_seconds,
            pending_p95_s: a.pending_p95_s - b.pending_p95_s,
            pods_pending_at_end: a.pods_pending_at_end.saturating_sub(b.pods_pending_at_end),
            requests_unserved: a.requests_unserved - b.requests_unserved,
            error_share: a.error_share - b.error_share,
            pages: a.pages.saturating_sub(b.pages),
            nodes_launched: a.nodes_launched.saturating_sub(b.nodes_launched),
            cost_total_usd: a.cost_total_usd - b.cost_total_usd,
        };
        FaultImpact {
            faults: faults.iter().map(|f| f.describe()).collect(),
            with_faults: a,
            baseline: b,
            extra,
        }
    }
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct SimResult {
    pub summary: Summary,
    pub timeline: Vec<TimelineRow>,
    /// Cluster-wide samples (nodes by pool and state, cost rate), one per timeline instant.
    pub cluster_timeline: Vec<ClusterRow>,
    pub workload_names: Vec<String>,
    pub pods: Vec<PodRecord>,
    pub nodes: Vec<NodeRecord>,
    /// Provisioner decisions, for `autoscaler.csv`.
    pub decisions: Vec<super::provisioner::DecisionRecord>,
    /// HPA reconciles, for `hpa.csv`.
    pub hpa: Vec<super::autoscaling::HpaRecord>,
    /// VPA recommendations per recommender loop (`vpa.csv`) and updater actions
    /// (`vpa-updates.csv`).
    pub vpa: Vec<super::vpa::VpaRecord>,
    pub vpa_updates: Vec<super::vpa::VpaUpdateRecord>,
    /// Queue workers' queues, one row per sample (`queue.csv`).
    pub queue: Vec<QueueRecord>,
    /// KEDA's scale-loop actions (`keda.csv`).
    pub keda: Vec<super::keda::KedaRecord>,
    /// Every measured pod that became Ready, its time cut into the pipeline's stages
    /// (`pending-breakdown.csv`).
    pub pod_stages: Vec<super::attribution::PodStages>,
    /// Non-fatal findings of the run's stages (unknown CA flags, ignored NodePool fields).
    pub warnings: Vec<String>,
    /// The alerts the scenario's PrometheusRules fired, and the series they read.
    pub alerts: crate::alerts::AlertRun,
    pub series: crate::alerts::series::SeriesSet,
}

fn secs(t: SimTime) -> f64 {
    t.as_secs_f64()
}

pub(super) fn finish(mut w: World<'_>, end: SimTime, events: u64) -> SimResult {
    let sc = w.sc;
    let from = w.measure_from;
    let mut restarts = vec![0u32; sc.workloads.len()];
    let mut pods = Vec::with_capacity(w.cluster.pods.len());
    let mut pending_by_wl: Vec<Vec<f64>> = vec![Vec::new(); sc.workloads.len()];
    let mut ready_by_wl: Vec<Vec<f64>> = vec![Vec::new(); sc.workloads.len()];
    let mut pending_sum = vec![0.0; sc.workloads.len()];
    let mut still_pending = vec![0u32; sc.workloads.len()];
    let mut delay_by_wl: Vec<Vec<f64>> = vec![Vec::new(); sc.workloads.len()];
    let mut replacement_by_wl: Vec<Vec<f64>> = vec![Vec::new(); sc.workloads.len()];
    let mut staged_by_wl: Vec<Vec<(SimTime, SimTime, super::attribution::Stages)>> =
        vec![Vec::new(); sc.workloads.len()];
    let mut staged_pods: Vec<Vec<usize>> = vec![Vec::new(); sc.workloads.len()];
    for p in &w.cluster.pods {
        let wi = p.workload as usize;
        let wl = &sc.workloads[wi];
        let pending_until = p.scheduled.or(p.deleted).unwrap_or(end);
        let pending = (pending_until - p.created).as_secs_f64();
        restarts[wi] += p.restarts;
        // Pods created in the warm-up span are not measured (their pods.csv rows remain).
        let measured = p.created >= from;
        if measured {
            pending_sum[wi] += pending;
        }
        if measured && (p.scheduled.is_some() || p.phase == PodPhase::Pending) {
            pending_by_wl[wi].push(pending);
            if p.replacement {
                replacement_by_wl[wi].push(pending);
            }
        }
        if p.phase == PodPhase::Pending {
            still_pending[wi] += 1;
        }
        if let (Some(r), true) = (p.first_ready, measured) {
            ready_by_wl[wi].push((r - p.created).as_secs_f64());
            // A pod Ready the instant it was created (the warm start's) has nothing to attribute.
            if let Some(st) = super::attribution::pod_stages(p, &w.cluster.nodes).filter(|_| r > p.created) {
                staged_by_wl[wi].push((p.created, r, st));
                staged_pods[wi].push(pods.len());
            }
        }
        if let (Some(done), Some(run)) = (p.completed, p.run_for) {
            delay_by_wl[wi].push(((done - p.arrived).as_secs_f64() - run.as_secs_f64()).max(0.0));
        }
        pods.push(PodRecord {
            pod: p.name(&wl.name),
            workload: wl.name.clone(),
            priority: p.priority,
            node: p
                .node
                .map(|n| w.cluster.nodes[n.0 as usize].name.clone())
                .unwrap_or_default(),
            created_s: secs(p.created),
            unschedulable_s: p.unschedulable_since.map(secs),
            scheduled_s: p.scheduled.map(secs),
            started_s: p.started.map(secs),
            ready_s: p.first_ready.map(secs),
            deleted_s: p.deleted.map(secs),
            pending_s: pending,
            image_cached: p.image_cached,
            state_at_end: p.phase.as_str().to_string(),
            delete_reason: p.delete_reason.map(|r| r.as_str().to_string()).unwrap_or_default(),
            zone: p
                .node
                .map(|n| w.cluster.nodes[n.0 as usize].zone.clone())
                .unwrap_or_default(),
        });
    }
    let mut workloads = Vec::new();
    let mut pod_stages = Vec::new();
    for (i, wl) in sc.workloads.iter().enumerate() {
        if wl.kind == WorkloadKind::DaemonSet {
            continue;
        }
        let batch = wl.kind == WorkloadKind::Batch;
        let mix = super::service::latency_mixture(&mut w.workloads[i]);
        let ws = &w.workloads[i];
        let unserved = (ws.demand_total - ws.served_total).max(0.0);
        let pct = |q: f64| 1000.0 * crate::physics::queueing::quantile(&mix, q, ws.timeout_s);
        let latency = if mix.is_empty() {
            LatencyPercentiles::default()
        } else {
            LatencyPercentiles {
                p50: pct(0.50),
                p95: pct(0.95),
                p99: pct(0.99),
            }
        };
        workloads.push(WorkloadSummary {
            name: wl.name.clone(),
            pods_created: ws.created,
            pods_pending_at_end: still_pending[i],
            pending: Percentiles::of(std::mem::take(&mut pending_by_wl[i])),
            time_to_ready: Percentiles::of(std::mem::take(&mut ready_by_wl[i])),
            pod_pending_seconds: pending_sum[i],
            requests_total: ws.demand_total,
            requests_unserved: unserved,
            unserved_share: if ws.demand_total > 0.0 {
                unserved / ws.demand_total
            } else {
                0.0
            },
            overload_seconds: ws.overload.as_secs_f64(),
            latency_ms: latency,
            requests_timed_out: ws.timeouts_total,
            // A queue worker's unprocessed messages wait; none fails.
            error_share: if ws.demand_total > 0.0 && ws.queue.is_none() {
                ((unserved + ws.timeouts_total) / ws.demand_total).min(1.0)
            } else {
                0.0
            },
            cpu_throttled_core_seconds: ws.throttled_total,
            cpu_starved_core_seconds: ws.starved_total,
            oom_kills: ws.oom_kills,
            pressure_evictions: ws.pressure_evictions,
            container_restarts: restarts[i],
            replicas_min: ws.min_desired,
            replicas_max: ws.max_desired,
            pods_evicted: ws.evicted,
            replacement_pending: Percentiles::of(std::mem::take(&mut replacement_by_wl[i])),
            completed: batch.then_some(delay_by_wl[i].len() as u32),
            completion_delay: batch.then(|| Percentiles::of(std::mem::take(&mut delay_by_wl[i]))),
            queue: wl.service.queue.as_ref().zip(ws.queue.as_ref()).map(|(m, q)| {
                queue_summary(
                    &w.recorder.queue,
                    i as u32,
                    m,
                    q,
                    sc.resolution.as_secs_f64(),
                    w.measure_from,
                )
            }),
            pending_breakdown: (!staged_by_wl[i].is_empty()).then(|| {
                let (numbers, b) = super::attribution::breakdown(&staged_by_wl[i]);
                for ((k, st), n) in staged_pods[i].iter().zip(&staged_by_wl[i]).zip(numbers) {
                    pod_stages.push(super::attribution::PodStages {
                        pod: pods[*k].pod.clone(),
                        workload: wl.name.clone(),
                        created_s: st.0.as_secs_f64(),
                        surge: n,
                        stages: st.2,
                    });
                }
                b
            }),
        });
    }
    let mut nodes = Vec::with_capacity(w.cluster.nodes.len());
    let mut cluster = ClusterSummary {
        nodes_max: 0,
        nodes_at_end: 0,
        nodes_launched: 0,
        nodes_terminated: 0,
        node_hours: 0.0,
        cost_total_usd: 0.0,
        cost_by_pool: BTreeMap::new(),
        cost_by_instance_type: BTreeMap::new(),
        cost_by_capacity_type: BTreeMap::new(),
        cost_by_zone: BTreeMap::new(),
        nodes_launched_by_zone: BTreeMap::new(),
        cost_by_workload: BTreeMap::new(),
        cost_idle_usd: 0.0,
        decisions: BTreeMap::new(),
        spot_interruptions: w.provisioning.interruptions,
    };
    for d in &w.provisioning.decisions {
        *cluster.decisions.entry(d.decision.to_string()).or_default() += 1;
    }
    // Peak of simultaneously billed nodes: sweep over launch/termination instants.
    let mut edges: Vec<(SimTime, i32)> = Vec::new();
    let mut ledger = CostLedger::new();
    // Cost counts from the end of the warm-up span (`spec.warmup`): billing is clipped to it.
    let clip = |l: SimTime, t: Option<SimTime>| -> Option<(SimTime, Option<SimTime>)> {
        match t {
            Some(t) if t <= from && from > SimTime::ZERO => None,
            _ => Some((l.max(from), t)),
        }
    };
    for n in &w.cluster.nodes {
        if let Some((l, terminated)) = n.launched.and_then(|l| clip(l, n.terminated)) {
            let billed = BilledNode {
                node: n.name.clone(),
                group: n.pool.clone(),
                instance_type: n.instance_type.clone(),
                capacity_type: n.capacity_type,
                price_per_hour: n.price_hr,
                allocatable: n.allocatable,
            };
            // Names are unique and prices come from the catalog: the ledger cannot refuse them.
            if ledger.start(billed, l).is_ok()
                && let Some(t) = terminated
            {
                let _ = ledger.stop(&n.name, t);
            }
        }
    }
    let costs = ledger.report(end);
    let node_cost: BTreeMap<&str, f64> = costs.nodes.iter().map(|c| (c.node.as_str(), c.cost)).collect();
    cluster.cost_total_usd = costs.total;
    cluster.cost_by_pool = costs.by_group.clone();
    cluster.cost_by_instance_type = costs.by_instance_type.clone();
    cluster.cost_by_capacity_type = costs.by_capacity_type.clone();
    for n in &w.cluster.nodes {
        if let Some(c) = node_cost.get(n.name.as_str()) {
            *cluster.cost_by_zone.entry(n.zone.clone()).or_default() += c;
        }
        if n.launched.is_some() {
            *cluster.nodes_launched_by_zone.entry(n.zone.clone()).or_default() += 1;
        }
    }
    // Request-seconds each workload's pods held on each node; a pod resized in place held its
    // earlier requests up to each resize.
    let mut resized: BTreeMap<u32, Vec<(SimTime, crate::model::Resources)>> = BTreeMap::new();
    for &(p, t, before) in &w.vpas.resize_log {
        resized.entry(p.0).or_default().push((t, before));
    }
    let mut held: BTreeMap<String, BTreeMap<String, RequestSeconds>> = BTreeMap::new();
    for p in &w.cluster.pods {
        let (Some(n), Some(from)) = (p.node, p.scheduled) else {
            continue;
        };
        let to = p.completed.or(p.deleted).unwrap_or(end).min(end);
        let mut pieces = Vec::new();
        let mut start = from;
        for &(t, before) in resized.get(&p.id.0).map_or(&[][..], |v| v.as_slice()) {
            pieces.push((start, t, before));
            start = t;
        }
        pieces.push((start, to, p.requests));
        for (a, b, req) in pieces {
            let (a, b) = (a.max(w.measure_from), b.min(end));
            if b <= a {
                continue;
            }
            let secs = (b - a).as_secs_f64();
            *held
                .entry(w.cluster.nodes[n.0 as usize].name.clone())
                .or_default()
                .entry(sc.workloads[p.workload as usize].name.clone())
                .or_default() += RequestSeconds {
                cpu_m_s: req.cpu_m as f64 * secs,
                mem_b_s: req.mem as f64 * secs,
            };
        }
    }
    let split = split_by_requests(&costs, &held, ShareWeights::default());
    cluster.cost_by_workload = split.by_workload;
    cluster.cost_idle_usd = split.idle;
    for n in &w.cluster.nodes {
        let cost = node_cost.get(n.name.as_str()).copied().unwrap_or(0.0);
        if let Some(l) = n.launched {
            cluster.nodes_launched += 1;
            if let Some((l, t)) = clip(l, n.terminated) {
                cluster.node_hours += (t.unwrap_or(end) - l).as_secs_f64() / 3600.0;
            }
            edges.push((l, 1));
            if let Some(t) = n.terminated {
                edges.push((t, -1));
            }
        }
        if n.state == NodeState::Terminated {
            cluster.nodes_terminated += 1;
        } else {
            cluster.nodes_at_end += 1;
        }
        nodes.push(NodeRecord {
            node: n.name.clone(),
            pool: n.pool.clone(),
            instance_type: n.instance_type.clone(),
            capacity_type: n.capacity_type.as_str().to_string(),
            zone: n.zone.clone(),
            price_hr: n.price_hr,
            requested_s: secs(n.requested),
            launched_s: n.launched.map(secs),
            registered_s: n.registered.map(secs),
            ready_s: n.ready.map(secs),
            drain_started_s: n.drain_started.map(secs),
            terminated_s: n.terminated.map(secs),
            state_at_end: n.state.as_str().to_string(),
            cost_usd: cost,
            created_by: n.created_by.clone(),
            removed_by: n.removed_by.clone(),
        });
    }
    edges.sort_by_key(|&(t, d)| (t, d));
    let mut live = 0i32;
    for (_, d) in edges {
        live += d;
        cluster.nodes_max = cluster.nodes_max.max(live as u32);
    }
    let mut series = std::mem::take(&mut w.recorder.series);
    let alerts = crate::alerts::evaluate(&sc.rule_groups, &mut series, end.as_millis());
    let vpa = vpa_summaries(&w);
    let mut warnings = w.warnings;
    warnings.extend(alerts.errors.iter().map(|e| format!("PrometheusRule: {e}")));
    let mut result = SimResult {
        summary: Summary {
            findings: Vec::new(),
            alerts: alerts.summaries.clone(),
            pages: alerts.pages(),
            faults: None,
            vpa,
            keda: sc
                .scaled_objects
                .iter()
                .zip(&w.keda)
                .map(|(so, rt)| KedaSummary {
                    name: so.name.clone(),
                    target: sc.workloads[so.target].name.clone(),
                    hpa: so.hpa_name.clone(),
                    activations: rt.activations,
                    deactivations: rt.deactivations,
                    jobs_created: None,
                    failed_reads: rt.failed_reads,
                    fallback_reads: rt.fallback_reads,
                })
                .chain(
                    sc.scaled_jobs
                        .iter()
                        .zip(&w.keda_jobs_created)
                        .map(|(sj, n)| KedaSummary {
                            name: sj.name.clone(),
                            target: sc.workloads[sj.target].name.clone(),
                            jobs_created: Some(*n),
                            ..Default::default()
                        }),
                )
                .collect(),
            scenario: sc.name.clone(),
            seed: sc.seed,
            duration_s: sc.duration.as_secs_f64(),
            events,
            workloads,
            cluster,
        },
        timeline: w.recorder.timeline,
        cluster_timeline: w.recorder.cluster,
        workload_names: sc.workloads.iter().map(|w| w.name.clone()).collect(),
        pods,
        nodes,
        decisions: w.provisioning.decisions,
        hpa: w.autoscaling.records,
        vpa: w.vpas.records,
        vpa_updates: w.vpas.updates,
        keda: w.keda_records,
        pod_stages,
        queue: w
            .recorder
            .queue
            .iter()
            .map(|r| {
                let wl = &sc.workloads[r.workload as usize];
                QueueRecord {
                    time_s: secs(r.time),
                    queue: wl.service.queue.as_ref().map_or_else(String::new, |q| q.name.clone()),
                    workload: wl.name.clone(),
                    arrival_rps: r.arrival_rps,
                    processed_rps: r.processed_rps,
                    depth: r.depth,
                    oldest_age_s: r.oldest_age_s,
                }
            })
            .collect(),
        warnings,
        alerts,
        series,
    };
    result.summary.findings = super::findings::derive(sc, &w.autoscaling.hpas, &w.cluster, &result);
    result
}

fn vpa_summaries(w: &World<'_>) -> Vec<VpaSummary> {
    use crate::controllers::vpa::spec::UpdateMode;
    w.vpas
        .objects
        .iter()
        .map(|rt| {
            let tmpl = &w.sc.workloads[rt.target].template;
            let recommendation = tmpl
                .containers
                .iter()
                .map(|c| {
                    let r = rt.recommendation.iter().find(|(n, _)| *n == c.name).map(|(_, r)| r);
                    let cpu = r.filter(|r| r.cpu);
                    let mem = r.filter(|r| r.memory);
                    VpaContainerSummary {
                        container: c.name.clone(),
                        cpu_request_m: c.requests.cpu_m,
                        memory_request_bytes: c.requests.mem,
                        cpu_target_m: cpu.map(|r| r.target.cpu_m),
                        cpu_lower_bound_m: cpu.map(|r| r.lower.cpu_m),
                        cpu_upper_bound_m: cpu.map(|r| r.upper.cpu_m),
                        memory_target_bytes: mem.map(|r| r.target.mem),
                        memory_lower_bound_bytes: mem.map(|r| r.lower.mem),
                        memory_upper_bound_bytes: mem.map(|r| r.upper.mem),
                    }
                })
                .collect();
            VpaSummary {
                name: rt.spec.name.clone(),
                target: w.sc.workloads[rt.target].name.clone(),
                update_mode: match rt.spec.update_mode {
                    UpdateMode::Off => "Off",
                    UpdateMode::Initial => "Initial",
                    UpdateMode::Recreate => "Recreate",
                    UpdateMode::InPlaceOrRecreate => "InPlaceOrRecreate",
                }
                .to_string(),
                recommendation,
                evictions: rt.evictions,
                evictions_blocked_by_pdb: rt.evictions_blocked,
                in_place_resizes: rt.resizes,
                resizes_deferred: rt.resizes_deferred,
                resizes_infeasible: rt.resizes_infeasible,
                oom_samples: rt.oom_samples,
            }
        })
        .collect()
}
