//! The world: wires the controllers to the engine, applies their decisions and records what
//! happens.
//!
//! One [`EventQueue`] of the closed [`Event`] enum drives everything. Each handler reads the
//! state, asks a pure controller for a decision (`scheduler::select_node`,
//! `replicaset::pods_to_delete`, ...), applies it and schedules the events it causes. Random draws
//! come from named streams keyed by the object they concern (the n-th pod of a workload, the n-th
//! node of a pool), so two scenarios that differ only in settings see the same dice.

pub mod attribution;
pub mod autoscaling;
pub mod batch;
pub mod exposition;
mod faults;
pub mod findings;
pub mod keda;
pub mod lint;
pub mod metrics;
pub mod provisioning;
pub mod queue;
pub mod record;
pub mod scheduling;
pub mod service;
mod stateful;
pub mod vpa;
pub mod warm;

use crate::cloud::Distribution;
use crate::cluster::placement;
use crate::cluster::{DeleteReason, NodeId, NodeSpec, NodeState, Pod, PodId, PodPhase};
use crate::controllers::provisioner::{self, NodeNotice};
use crate::controllers::replicaset::{PodRank, pods_to_delete};
use crate::engine::{EventQueue, Rngs, SimDuration, SimTime};
use crate::model::{CapacityType, Resources};
use crate::scenario::Scenario;
use record::{Recorder, TimelineRow};
use std::cmp::Reverse;

pub use record::SimResult;

/// How often the service model re-evaluates demand, usage and served traffic. Demand is held
/// constant between ticks; 5 s is finer than any metrics window (15–60 s) and than the HPA sync
/// period, and coarse enough to keep a day of a large fleet fast.
pub const MAX_SERVICE_TICK: SimDuration = SimDuration::from_secs(5);

/// Every kind of thing that can happen. Matched exhaustively in [`World::handle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Re-evaluate demand and the service model for every workload.
    ServiceTick,
    /// Write one timeline row per workload.
    Sample,
    /// Run a scheduling cycle over the pending queue (coalesced: at most one queued).
    ScheduleCycle,
    /// Image pulled and containers started: the pod is Running.
    PodStarted(PodId),
    /// Readiness probe passed: the pod receives traffic.
    PodReady(PodId),
    /// A crashed container's CrashLoopBackOff delay is over: the kubelet starts it again.
    ContainerRestart(PodId),
    /// The pod's startup probe reached its failure threshold: the kubelet kills the container.
    StartupProbeFailed(PodId),
    /// Grace period over: the pod leaves its node.
    PodTerminated(PodId),
    /// The cloud reports the instance running (billing starts).
    NodeLaunched(NodeId),
    /// The kubelet registered the node.
    NodeRegistered(NodeId),
    /// The node is Ready and schedulable.
    NodeReady(NodeId),
    /// The instance is gone (billing ends).
    NodeTerminated(NodeId),
    /// Call the provisioner (Cluster Autoscaler scan, Karpenter batching tick).
    ProvisionerLoop,
    /// Retry blocked evictions on a draining node.
    DrainRetry(NodeId),
    /// A drained node's evicted pods have exited: terminate the instance.
    DrainDone(NodeId),
    /// A spot interruption warning for the node (two minutes before the reclaim).
    SpotWarning(NodeId),
    /// The cloud reclaims a spot instance.
    SpotReclaim(NodeId),
    /// metrics-server scrapes every pod an HPA reads.
    MetricsScrape,
    /// Object `.1` of periodic controller `.0` syncs (HPA `i` reconciles, ...).
    Sync(Periodic, u32),
    /// The next arrival of batch workload `.0` (arrival index `.1`).
    BatchArrival(u32, u32),
    /// A batch pod's containers finished: it succeeds and frees its node's resources.
    PodCompleted(PodId),
    /// Fault `.0` of `spec.faults` begins / ends.
    FaultStart(u32),
    FaultEnd(u32),
    /// The node lifecycle controller's grace period ran out for an unreachable node.
    NodeUnreachable(NodeId),
    /// The taint manager's toleration ran out for a pod on an unreachable node.
    TaintEviction(PodId),
    /// The end of the simulated span.
    End,
}

/// The controllers the world runs on a period, one sync per object: the HPA today; VPA's
/// recommender and KEDA's polling loop take the same shape. Each has a number of objects, a sync
/// period, a first sync per object staggered as its controller's work queue spreads them, and a
/// sync (observe the world, call the pure decision, apply it) the world dispatches on
/// [`Event::Sync`]; the next sync is queued one period later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Periodic {
    /// The HorizontalPodAutoscaler controller (`--horizontal-pod-autoscaler-sync-period`).
    Hpa,
    /// The VPA recommender's loop over every VPA (`--recommender-interval`).
    VpaRecommender,
    /// The VPA updater's loop over every VPA (`--updater-interval`).
    VpaUpdater,
    /// KEDA's scale loop for one ScaledObject (`pollingInterval`).
    Keda,
    /// KEDA's job loop for one ScaledJob (`pollingInterval`).
    KedaJob,
}

impl Periodic {
    pub const ALL: &'static [Periodic] = &[
        Periodic::Hpa,
        Periodic::VpaRecommender,
        Periodic::VpaUpdater,
        Periodic::Keda,
        Periodic::KedaJob,
    ];
}

/// Per-workload runtime state: replicas, pods and the service model's integrals.
#[derive(Clone, Debug, Default)]
pub struct WorkloadState {
    /// `spec.replicas` as the Deployment holds it (set by the HPA when one targets it).
    pub desired: u32,
    /// Active pods (Pending, Starting, Running, Ready), in creation order.
    pub active: Vec<PodId>,
    pub ready: u32,
    pub created: u32,
    pub min_desired: u32,
    pub max_desired: u32,
    /// Demand at the last tick, requests/s.
    pub demand: f64,
    /// What the service model computed at its last recompute ([`service`]).
    pub load: service::WorkloadLoad,
    /// The client's timeout, seconds (`latency.timeout`).
    pub timeout_s: f64,
    /// Integrated up to here.
    pub last_tick: SimTime,
    pub demand_total: f64,
    pub served_total: f64,
    /// Served requests slower than the timeout.
    pub timeouts_total: f64,
    /// CPU wanted above limits (throttled by CFS quota) and wanted within limits but not granted
    /// (node contention), core·seconds.
    pub throttled_total: f64,
    pub starved_total: f64,
    /// Seconds the current latency classes have held, and the run's latency mixture.
    pub latency_dt: f64,
    pub latency_mix: service::LatencyMix,
    pub oom_kills: u32,
    pub pressure_evictions: u32,
    /// From t = 0 (the warm-up included), for the exposed counters: requests served (timeouts
    /// included), unserved, and timed out; integrated up to `last_tick_raw`.
    pub raw_served: f64,
    pub raw_unserved: f64,
    pub raw_timeouts: f64,
    pub last_tick_raw: SimTime,
    pub overload: SimDuration,
    /// Pods evicted (drained, reclaimed, preempted, lost with a node) whose replacement is not
    /// created yet.
    pub evicted_unreplaced: u32,
    pub evicted: u32,
    /// A StatefulSet's volumes: the zone each ordinal's volume is bound in.
    pub volume_zones: std::collections::BTreeMap<u32, String>,
    /// The traffic noise of the last bin the service tick drew.
    pub noise: crate::traffic::NoiseMemo,
    /// A queue worker's queue ([`queue`]).
    pub queue: Option<queue::QueueState>,
}

impl WorkloadState {
    /// The state of a workload before the run starts.
    pub fn new(wl: &crate::model::Workload) -> WorkloadState {
        WorkloadState {
            timeout_s: wl.service.timeout_s,
            queue: wl.service.queue.as_ref().map(|_| queue::QueueState::default()),
            ..Default::default()
        }
    }

    pub fn served_rps(&self) -> f64 {
        self.demand.min(self.load.served)
    }
}

/// The simulated cluster.
pub struct World<'a> {
    pub sc: &'a Scenario,
    pub rngs: Rngs,
    pub queue: EventQueue<Event>,
    /// Pods, nodes and the live node list.
    pub cluster: crate::cluster::Cluster,
    /// Per workload: replicas, pods, the service model and what is derived from its template.
    pub workloads: Vec<WorkloadState>,
    /// Every workload's pod template revisions (pods record theirs). Shared so that a
    /// scheduling cycle can hold templates while it changes the world; revised copy-on-write.
    pub templates: std::sync::Arc<crate::cluster::Templates>,
    /// kube-scheduler: its queue, nominations and caches.
    pub scheduling: scheduling::Scheduling,
    /// The node provisioner, what it decided, and the drains the world carries out for it.
    pub provisioning: provisioning::Provisioning,
    /// metrics-server: the latest sample per pod.
    pub metrics: metrics::MetricsServer,
    /// The HPAs and the kube-controller-manager settings they run under.
    pub autoscaling: autoscaling::Autoscaling,
    /// The VerticalPodAutoscalers: recommender, admission and updater state.
    pub vpas: vpa::Vpas,
    /// KEDA's loop state per ScaledObject, and what it did.
    pub keda: Vec<keda::KedaRuntime>,
    /// Jobs each ScaledJob created.
    pub keda_jobs_created: Vec<u32>,
    pub keda_records: Vec<keda::KedaRecord>,
    pub recorder: Recorder,
    /// Provisioner warnings (unknown flags, ignored fields), for the CLI to print.
    pub warnings: Vec<String>,
    /// The service model's tick.
    tick: SimDuration,
    /// Batch pods to recreate (workload, requests, run time, first arrival) after the current event.
    requeue_batch: Vec<(u32, Resources, SimDuration, SimTime)>,
    end: SimTime,
    started: bool,
    /// Pre-hashed names of each workload's random streams (drawn once per pod).
    pub(crate) stream_keys: Vec<StreamKeys>,
    /// Set when the run outgrew a limit ([`crate::scenario::defaults::MAX_PODS_PER_RUN`], ...):
    /// the run stops and [`World::run_checked`] returns the error.
    aborted: Option<String>,
    /// The service model on each node: per-pod CPU, memory, served requests.
    pub service: service::Service,
    /// Summary metrics count from here (`spec.warmup`).
    pub measure_from: SimTime,
    /// Faults as they began (time, description), for the summary.
    pub faults_log: Vec<(SimTime, String)>,
    /// The random stream of spot storms.
    pub(crate) fault_stream: u64,
}

impl<'a> World<'a> {
    pub fn new(sc: &'a Scenario) -> Result<World<'a>, SimError> {
        let tick = sc.resolution.min(MAX_SERVICE_TICK).max(SimDuration::from_millis(1));
        let mut w = World {
            sc,
            rngs: Rngs::new(sc.seed),
            queue: EventQueue::with_capacity(1024),
            cluster: Default::default(),
            workloads: sc.workloads.iter().map(WorkloadState::new).collect(),
            templates: std::sync::Arc::new(crate::cluster::Templates::new(&sc.workloads)),
            scheduling: scheduling::Scheduling::new(
                sc.workloads
                    .iter()
                    .map(|w| w.template.priority)
                    .min()
                    .unwrap_or(i32::MAX),
            ),
            provisioning: Default::default(),
            metrics: metrics::MetricsServer::new(sc.workloads.len()),
            autoscaling: autoscaling::Autoscaling::new(sc)?,
            vpas: vpa::Vpas::new(sc),
            keda: sc
                .scaled_objects
                .iter()
                .map(|so| keda::KedaRuntime {
                    failures: vec![0; so.triggers.len()],
                    ..Default::default()
                })
                .collect(),
            keda_records: Vec::new(),
            keda_jobs_created: vec![0; sc.scaled_jobs.len()],
            recorder: Recorder::new(sc),
            warnings: Vec::new(),
            tick,
            requeue_batch: Vec::new(),
            end: SimTime::ZERO + sc.duration,
            started: false,
            stream_keys: sc.workloads.iter().map(|w| StreamKeys::new(&w.name)).collect(),
            aborted: None,
            service: Default::default(),
            measure_from: SimTime::ZERO + sc.warmup,
            faults_log: Vec::new(),
            fault_stream: Rngs::key_of("faults/spot-storm"),
        };
        for h in &w.autoscaling.hpas {
            w.metrics.scraped[h.target] = true;
        }
        for v in &w.vpas.objects {
            w.metrics.scraped[v.target] = true;
        }
        if let Some(setup) = sc.provisioner.build(sc)? {
            w.warnings.extend(setup.warnings);
            w.provisioning.provisioner = Some(setup.provisioner);
            // The provisioner's initial nodes exist, Ready, when the run starts.
            for a in setup.initial {
                if let provisioner::Action::Launch { id, spec, reason, .. } = a {
                    let node = w.add_node(spec, reason);
                    w.notify(NodeNotice::Launched { id, node });
                    w.node_launched(node);
                    w.node_registered(node);
                    w.node_ready(node);
                }
            }
        }
        for set in &sc.static_nodes {
            let it = sc
                .catalog
                .get(&set.instance_type)
                .ok_or_else(|| SimError::UnknownInstanceType {
                    name: set.instance_type.clone(),
                    context: format!("static nodes {:?}", set.name),
                })?;
            let price = match set.capacity_type {
                CapacityType::OnDemand => it.od_price_hr,
                CapacityType::Spot => it.spot_price_hr.unwrap_or(it.od_price_hr),
            };
            for _ in 0..set.count {
                // A managed node group's labels (arch, os, zone, region, ...), the set's own on top.
                let mut labels = it.managed_node_group_labels(set.capacity_type, &set.zone, &set.name);
                labels.extend(set.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
                let spec = NodeSpec {
                    pool: set.name.clone(),
                    instance_type: set.instance_type.clone(),
                    capacity_type: set.capacity_type,
                    zone: set.zone.clone(),
                    price_hr: price,
                    labels,
                    taints: set.taints.clone(),
                    allocatable: it.allocatable(),
                };
                let id = w.add_node(spec, "static".to_string());
                w.node_launched(id);
                w.node_registered(id);
                w.node_ready(id);
            }
        }
        for (i, wl) in sc.workloads.iter().enumerate() {
            if wl.kind.is_replicated() {
                w.workloads[i].desired = wl.replicas;
                w.workloads[i].min_desired = wl.replicas;
                w.workloads[i].max_desired = wl.replicas;
            }
        }
        Ok(w)
    }

    /// Queues the initial events. Called once, by [`World::run`] or before the first [`World::step`].
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        if self.sc.warm_start {
            self.warm_start();
        }
        self.queue.push(SimTime::ZERO, Event::ServiceTick);
        self.queue.push(SimTime::ZERO, Event::Sample);
        self.queue.push(self.end, Event::End);
        for i in 0..self.workloads.len() {
            self.reconcile_replicas(i);
        }
        if self.provisioning.provisioner.is_some() {
            self.queue.push(SimTime::ZERO, Event::ProvisionerLoop);
        }
        if !self.autoscaling.hpas.is_empty() || !self.vpas.objects.is_empty() {
            self.queue.push(SimTime::ZERO, Event::MetricsScrape);
        }
        for &stage in Periodic::ALL {
            for i in 0..self.periodic_objects(stage) {
                let at = SimTime::ZERO + self.first_sync(stage, i);
                self.queue.push(at, Event::Sync(stage, i as u32));
            }
        }
        for i in 0..self.workloads.len() {
            self.schedule_batch_arrival(i as u32, 0, SimTime::ZERO);
        }
        self.schedule_faults();
    }

    /// Delivers one event. Returns false once the run has ended (or outgrew a limit).
    pub fn step(&mut self) -> bool {
        self.start();
        if self.aborted.is_some() {
            return false;
        }
        let Some((now, ev)) = self.queue.pop() else {
            return false;
        };
        if now > self.end {
            return false;
        }
        if self.service.stale_since().is_some_and(|t| now > t) {
            self.advance_service(now);
        }
        let ended = self.handle(now, ev);
        while let Some((wi, req, run_for, arrived)) = self.requeue_batch.pop() {
            let p = self.create_pod(wi as usize, now);
            let pod = &mut self.cluster.pods[p.0 as usize];
            pod.requests = req;
            pod.run_for = Some(run_for);
            pod.arrived = arrived;
            self.request_cycle(now);
        }
        !ended
    }

    /// Runs the scenario to its end, or to the limit it outgrew.
    pub fn run_checked(mut self) -> Result<SimResult, SimError> {
        while self.step() {}
        if let Some(m) = self.aborted.take() {
            let file = self
                .sc
                .documents
                .iter()
                .find(|d| d.kind == "Scenario")
                .map_or_else(|| self.sc.name.clone(), |d| d.file.clone());
            return Err(SimError::Limit(format!("{file}: {m}")));
        }
        Ok(self.finish())
    }

    /// Stops the run: it outgrew a limit.
    fn abort(&mut self, message: String) {
        if self.aborted.is_none() {
            self.aborted = Some(message);
        }
    }

    /// Runs the scenario to its end.
    pub fn run(mut self) -> SimResult {
        while self.step() {}
        self.finish()
    }

    /// The run's records, once it has ended.
    fn finish(self) -> SimResult {
        let events = self.queue.delivered();
        let end = self.end;
        record::finish(self, end, events)
    }

    /// Applies one event. Returns true at the end of the run.
    fn handle(&mut self, now: SimTime, ev: Event) -> bool {
        match ev {
            Event::ServiceTick => {
                self.service_tick(now);
                self.queue.push(now + self.tick, Event::ServiceTick);
            }
            Event::Sample => {
                self.advance_service(now);
                self.sample(now);
                self.expose(now);
                self.queue.push(now + self.sc.resolution, Event::Sample);
            }
            Event::ScheduleCycle => {
                self.scheduling.cycle_queued = false;
                self.schedule_cycle(now);
            }
            Event::PodStarted(p) => {
                let pod = &mut self.cluster.pods[p.0 as usize];
                if pod.phase == PodPhase::Starting && pod.start_due == Some(now) {
                    pod.phase = PodPhase::Running;
                    pod.started = Some(now);
                    pod.start_due = None;
                    if pod.run_for.is_none() {
                        // A ScaledJob's Job pod takes its message as it starts.
                        let wi = pod.workload as usize;
                        if let Some(d) = self.keda_job_claim(wi, p) {
                            self.cluster.pods[p.0 as usize].run_for = Some(d);
                        }
                    }
                    let pod = &mut self.cluster.pods[p.0 as usize];
                    if let Some(d) = pod.run_for {
                        self.queue.push(now + d, Event::PodCompleted(p));
                    }
                    let wi = pod.workload as usize;
                    self.touch_for(now, wi);
                }
            }
            Event::ContainerRestart(p) => self.container_restart(now, p),
            Event::StartupProbeFailed(p) => {
                let pod = &self.cluster.pods[p.0 as usize];
                if pod.ready_due == Some(now) && matches!(pod.phase, PodPhase::Running | PodPhase::Starting) {
                    self.container_crashed(now, p, false);
                }
            }
            Event::MetricsScrape => {
                let r = self.metric_resolution();
                self.scrape(now, r);
                self.queue.push(now + r, Event::MetricsScrape);
            }
            Event::Sync(stage, i) => {
                match stage {
                    Periodic::Hpa => self.hpa_sync(now, i as usize),
                    Periodic::VpaRecommender => self.vpa_recommend(now),
                    Periodic::VpaUpdater => self.vpa_update(now),
                    Periodic::Keda => self.keda_poll(now, i as usize),
                    Periodic::KedaJob => self.keda_job_poll(now, i as usize),
                }
                let period = self.sync_period(stage, i as usize);
                self.queue.push(now + period, Event::Sync(stage, i));
            }
            Event::BatchArrival(wi, k) => self.batch_arrival(now, wi, k),
            Event::PodCompleted(p) => self.pod_completed(now, p),
            Event::PodReady(p) => self.pod_ready(now, p),
            Event::PodTerminated(p) => self.pod_terminated(now, p),
            Event::NodeLaunched(n) => self.node_launched(n),
            Event::NodeRegistered(n) => self.node_registered(n),
            Event::NodeReady(n) => self.node_ready(n),
            Event::NodeTerminated(n) => self.node_terminated(n),
            Event::ProvisionerLoop => self.provisioner_loop(now),
            Event::DrainRetry(n) => self.drain_step(now, n),
            Event::DrainDone(n) => {
                let reason = self.cluster.nodes[n.0 as usize].removed_by.clone();
                if self.cluster.nodes[n.0 as usize].state == NodeState::Draining {
                    self.terminate_node(now, n, &reason);
                }
            }
            Event::SpotWarning(n) => self.spot_warning(now, n),
            Event::SpotReclaim(n) => self.terminate_node(now, n, "SpotInterruption"),
            Event::FaultStart(i) => self.fault_start(now, i as usize),
            Event::FaultEnd(i) => self.fault_end(now, i as usize),
            Event::NodeUnreachable(n) => self.node_unreachable(now, n),
            Event::TaintEviction(p) => self.taint_eviction(now, p),
            Event::End => {
                self.advance_service(now);
                return true;
            }
        }
        false
    }

    fn now(&self) -> SimTime {
        self.queue.now()
    }

    // ----- service model -------------------------------------------------------------------

    /// A pod of workload `wi` started, stopped or left: the service model is stale, unless the
    /// workload's pods want no CPU and no memory in any phase (batch pods and placeholders without
    /// a service model), whose comings and goings change nobody's share.
    fn touch_for(&mut self, now: SimTime, wi: usize) {
        let w = &self.sc.workloads[wi];
        if !w.service.is_inert(w.traffic.is_some()) {
            self.service.touch(now);
        }
    }

    fn service_tick(&mut self, now: SimTime) {
        self.advance_service(now);
        for i in 0..self.workloads.len() {
            let wl = &self.sc.workloads[i];
            let memo = &mut self.workloads[i].noise;
            let demand = wl
                .traffic
                .as_ref()
                .map_or(0.0, |t| t.rps_at_memo(now, &self.rngs, memo).max(0.0));
            let tick_s = self.tick.as_secs_f64();
            let ws = &mut self.workloads[i];
            let consumer_jobs = wl.kind == crate::model::WorkloadKind::Batch;
            ws.demand = match &mut ws.queue {
                // A ScaledJob's Jobs take their messages one each (`keda_job_claim`), not
                // through the service model.
                Some(q) if consumer_jobs => {
                    q.tick(now, demand, tick_s);
                    0.0
                }
                Some(q) => q.tick(now, demand, tick_s),
                None => demand,
            };
        }
        self.recompute(now);
    }

    // ----- replicas ------------------------------------------------------------------------

    /// The ReplicaSet controller: creates or deletes pods until active == desired.
    pub fn reconcile_replicas(&mut self, i: usize) {
        if !self.sc.workloads[i].kind.is_replicated() {
            return;
        }
        let now = self.now();
        if self.sc.workloads[i].stateful.is_some() {
            self.reconcile_stateful(i);
            let ws = &mut self.workloads[i];
            ws.min_desired = ws.min_desired.min(ws.desired);
            ws.max_desired = ws.max_desired.max(ws.desired);
            return;
        }
        let desired = self.workloads[i].desired as usize;
        let active = self.workloads[i].active.len();
        if active < desired {
            let limit = crate::scenario::defaults::MAX_PODS_PER_RUN;
            if self.cluster.pods.len() + (desired - active) > limit {
                let wl = &self.sc.workloads[i];
                self.abort(format!(
                    "at {:.0} s Deployment {}/{} wanted {desired} replicas: the run would create more than {limit} pods; check its spec.replicas, its HPA's maxReplicas and its traffic",
                    now.as_secs_f64(),
                    wl.namespace,
                    wl.name
                ));
                return;
            }
            for _ in active..desired {
                self.create_pod(i, now);
            }
            self.request_cycle(now);
        } else if active > desired {
            let mut ranks: Vec<PodRank<PodId>> = self.workloads[i]
                .active
                .iter()
                .map(|&p| {
                    let pod = &self.cluster.pods[p.0 as usize];
                    PodRank {
                        id: p,
                        assigned: pod.node.is_some(),
                        running: matches!(pod.phase, PodPhase::Running | PodPhase::Ready),
                        ready_since: pod.ready,
                        created: pod.created,
                    }
                })
                .collect();
            for p in pods_to_delete(&mut ranks, active - desired) {
                self.delete_pod(now, p, DeleteReason::ScaleDown);
            }
        }
        let ws = &mut self.workloads[i];
        ws.min_desired = ws.min_desired.min(ws.desired);
        ws.max_desired = ws.max_desired.max(ws.desired);
    }

    /// Gives workload `i` a new pod template revision (new requests, limits, priority...): pods
    /// created from now on use it, existing pods keep theirs. What the world derives from the
    /// template follows: the service model's limits and per-pod capacity, the scheduler's lowest
    /// priority; caches keyed by template key ([`crate::cluster::Templates::key`]) start afresh.
    /// Returns the revision.
    pub fn revise_template(&mut self, i: usize, template: crate::model::PodTemplate) -> u32 {
        let now = self.now();
        let rev = std::sync::Arc::make_mut(&mut self.templates).revise(i, template);
        self.scheduling.min_priority = self.templates.min_priority();
        self.service.touch(now);
        rev
    }

    fn create_pod(&mut self, i: usize, now: SimTime) -> PodId {
        self.vpa_admit(i);
        let (revision, tmpl) = self.templates.current(i);
        let (priority, requests) = (tmpl.priority, tmpl.requests());
        let id = PodId(self.cluster.pods.len() as u32);
        let ordinal = self.workloads[i].created;
        self.workloads[i].created += 1;
        let replacement = self.workloads[i].evicted_unreplaced > 0;
        if replacement {
            self.workloads[i].evicted_unreplaced -= 1;
        }
        self.cluster.pods.push(Pod {
            replacement,
            revision,
            resources_rev: revision,
            ..Pod::new(id, i as u32, ordinal, priority, requests, now)
        });
        self.scheduling.nominated_node.push(None);
        self.metrics.samples.push(None);
        self.workloads[i].active.push(id);
        self.scheduling.pending.insert((Reverse(priority), now, id));
        id
    }

    /// Deletes a pod: Pending pods vanish, bound pods terminate over their grace period.
    pub fn delete_pod(&mut self, now: SimTime, p: PodId, reason: DeleteReason) {
        let pod = &self.cluster.pods[p.0 as usize];
        let wi = pod.workload as usize;
        let phase = pod.phase;
        if !phase.is_active() {
            return;
        }
        if reason != DeleteReason::ScaleDown && reason != DeleteReason::Completed {
            self.workloads[wi].evicted += 1;
            self.workloads[wi].evicted_unreplaced += 1;
        }
        if phase == PodPhase::Ready {
            self.workloads[wi].ready -= 1;
        }
        if phase != PodPhase::Pending {
            self.touch_for(now, wi);
        }
        self.workloads[wi].active.retain(|&x| x != p);
        self.clear_nomination(p);
        let pod = &mut self.cluster.pods[p.0 as usize];
        pod.delete_reason = Some(reason);
        pod.deleted = Some(now);
        if let (Some(run_for), true) = (pod.run_for, reason != DeleteReason::Completed) {
            // The Job controller replaces a batch pod that was evicted or lost with its node.
            let (requests, arrived) = (pod.requests, pod.arrived);
            self.requeue_batch.push((wi as u32, requests, run_for, arrived));
        }
        let pod = &mut self.cluster.pods[p.0 as usize];
        if phase == PodPhase::Pending {
            self.scheduling.pending.remove(&(Reverse(pod.priority), pod.created, p));
            pod.phase = PodPhase::Deleted;
        } else {
            pod.phase = PodPhase::Terminating;
            let grace = self.templates.of(pod).termination_grace;
            self.queue.push(now + grace, Event::PodTerminated(p));
        }
    }

    fn pod_terminated(&mut self, _now: SimTime, p: PodId) {
        let pod = &mut self.cluster.pods[p.0 as usize];
        if pod.phase != PodPhase::Terminating {
            return;
        }
        pod.phase = PodPhase::Deleted;
        let wi = pod.workload as usize;
        if let Some(n) = pod.node {
            let req = pod.requests;
            let node = &mut self.cluster.nodes[n.0 as usize];
            node.allocated -= req;
            node.pods.retain(|&x| x != p);
            self.capacity_freed(n);
        }
        self.touch_for(self.now(), wi);
        self.request_cycle(self.now());
        if self.sc.workloads[wi].stateful.is_some() {
            self.reconcile_replicas(wi); // its name is free again
        }
    }

    fn pod_ready(&mut self, now: SimTime, p: PodId) {
        let pod = &mut self.cluster.pods[p.0 as usize];
        if (pod.phase != PodPhase::Running && pod.phase != PodPhase::Starting) || pod.ready_due != Some(now) {
            return;
        }
        let wi = pod.workload as usize;
        if pod.started.is_none() {
            pod.started = Some(now);
        }
        pod.phase = PodPhase::Ready;
        pod.start_due = None;
        pod.ready_due = None;
        pod.ready = Some(now);
        pod.first_ready.get_or_insert(now);
        self.workloads[wi].ready += 1;
        self.service.touch(now);
        if self.sc.workloads[wi].stateful.as_ref().is_some_and(|s| !s.parallel) {
            self.reconcile_replicas(wi); // OrderedReady: the next ordinal may go
        }
    }

    // ----- nodes ---------------------------------------------------------------------------

    /// Adds a node in state Launching. The caller schedules its lifecycle.
    pub fn add_node(&mut self, spec: NodeSpec, created_by: String) -> NodeId {
        let limit = crate::scenario::defaults::MAX_NODES_PER_RUN;
        if self.cluster.nodes.len() == limit {
            self.abort(format!(
                "at {:.0} s the run launched {limit} nodes (the last in {}): check the node groups' or NodePools' limits and what keeps pods pending",
                self.now().as_secs_f64(),
                spec.pool
            ));
        }
        let id = self.cluster.add_node(spec, self.now(), created_by);
        self.scheduling.nominated.push(Resources::ZERO);
        self.scheduling.cache.nodes_changed();
        id
    }

    /// Requests a node from the cloud and schedules its lifecycle from the latency distributions.
    pub fn launch_node(
        &mut self,
        spec: NodeSpec,
        created_by: String,
        latency: &crate::scenario::NodeLatency,
    ) -> NodeId {
        let now = self.now();
        let fails = crate::scenario::faults::launch_fails(
            &self.sc.faults,
            &spec.instance_type,
            spec.capacity_type,
            &spec.zone,
            now,
        );
        let id = self.add_node(spec, created_by);
        if fails {
            // The cloud has no capacity there (a fault): the instance never starts; the
            // provisioner finds out as it would (registration timeouts).
            return id;
        }
        let mut rng = self.rngs.stream(
            &format!("node-latency/{}", self.cluster.nodes[id.0 as usize].pool),
            u64::from(id.0),
        );
        let launched = now + latency.launch.sample(&mut rng);
        let registered = launched + latency.register.sample(&mut rng);
        let ready = registered + latency.ready.sample(&mut rng);
        self.cluster.nodes[id.0 as usize].terminate_after = latency.terminate.sample(&mut rng);
        self.queue.push(launched, Event::NodeLaunched(id));
        self.queue.push(registered, Event::NodeRegistered(id));
        self.queue.push(ready, Event::NodeReady(id));
        id
    }

    fn node_launched(&mut self, n: NodeId) {
        let now = self.now();
        let node = &mut self.cluster.nodes[n.0 as usize];
        if node.state == NodeState::Launching && !node.unreachable {
            node.state = NodeState::Booting;
            node.launched = Some(now);
            self.schedule_reclaim(n);
            self.storms_at_launch(now, n);
        }
    }

    /// Spot instances are reclaimed at a rate drawn from their Spot Advisor band (see
    /// `cloud::spot`); the warning comes two minutes before. `spec.spotInterruptions: false`
    /// turns interruptions off.
    fn schedule_reclaim(&mut self, n: NodeId) {
        let node = &self.cluster.nodes[n.0 as usize];
        if !self.sc.spot_interruptions || node.capacity_type != CapacityType::Spot {
            return;
        }
        let Some(band) = self
            .sc
            .catalog
            .get(&node.instance_type)
            .and_then(|it| it.interruption_band)
        else {
            return;
        };
        let mut rng = self.rngs.stream("spot-interruption", Rngs::key_of(&node.name));
        let Some(after) = crate::cloud::spot::sample_time_to_interruption(band.rate_per_hour(), &mut rng) else {
            return;
        };
        let launched = node.launched.unwrap_or(self.now());
        let reclaim = launched + after;
        let notice = crate::cloud::spot::SPOT_INTERRUPTION_NOTICE;
        if reclaim < SimTime::ZERO + self.sc.duration + notice {
            self.cluster.nodes[n.0 as usize].reclaim_at = Some(reclaim);
            self.queue.push(reclaim.saturating_sub(notice), Event::SpotWarning(n));
        }
    }

    fn node_registered(&mut self, n: NodeId) {
        let now = self.now();
        // DaemonSet pods whose selector and tolerations admit the node start on it and take their
        // share of its allocatable.
        let node = &self.cluster.nodes[n.0 as usize];
        if node.state != NodeState::Booting || node.unreachable {
            return;
        }
        let ds = placement::daemonset_overhead(&self.sc.workloads, &node.labels, &node.taints);
        let node = &mut self.cluster.nodes[n.0 as usize];
        node.state = NodeState::Registered;
        node.registered = Some(now);
        node.daemonset = ds;
        node.allocatable = placement::allocatable_for_pods(node.kubelet_allocatable, ds);
        self.notify(NodeNotice::Registered(n));
    }

    fn node_ready(&mut self, n: NodeId) {
        let now = self.now();
        let node = &mut self.cluster.nodes[n.0 as usize];
        if node.state != NodeState::Registered || node.unreachable {
            return;
        }
        node.state = NodeState::Ready;
        node.ready = Some(now);
        self.capacity_freed(n);
        self.request_cycle(now);
        self.notify(NodeNotice::Ready(n));
    }

    fn node_terminated(&mut self, n: NodeId) {
        let now = self.now();
        let pods = std::mem::take(&mut self.cluster.nodes[n.0 as usize].pods);
        for p in pods {
            let wi = self.cluster.pods[p.0 as usize].workload as usize;
            if self.cluster.pods[p.0 as usize].phase.is_active() {
                self.delete_pod(now, p, DeleteReason::NodeGone);
            }
            let pod = &mut self.cluster.pods[p.0 as usize];
            if pod.phase == PodPhase::Terminating {
                pod.phase = PodPhase::Deleted;
            }
            self.reconcile_replicas(wi);
        }
        let node = &mut self.cluster.nodes[n.0 as usize];
        node.state = NodeState::Terminated;
        node.terminated = Some(now);
        node.allocated = Resources::ZERO;
        self.cluster.remove_live(n);
        self.service.touch(now);
        self.scheduling.cache.nodes_changed();
        self.request_cycle(now);
        self.notify(NodeNotice::Terminated(n));
    }

    // ----- recording -----------------------------------------------------------------------

    fn sample(&mut self, now: SimTime) {
        let mut pools: std::collections::BTreeMap<&str, record::PoolCount> = std::collections::BTreeMap::new();
        let mut cost_rate = 0.0;
        let (mut ready_nodes, mut upcoming) = (0u32, 0u32);
        for n in &self.cluster.nodes {
            let e = pools.entry(n.pool.as_str()).or_insert_with(|| record::PoolCount {
                pool: n.pool.clone(),
                ..Default::default()
            });
            match n.state {
                NodeState::Ready => {
                    e.ready += 1;
                    ready_nodes += 1;
                }
                s if s.is_upcoming() => {
                    e.upcoming += 1;
                    upcoming += 1;
                }
                NodeState::Draining | NodeState::Terminating => e.leaving += 1,
                _ => {}
            }
            if n.is_billed() {
                cost_rate += n.price_hr;
            }
        }
        self.recorder.cluster.push(record::ClusterRow {
            time: now,
            pools: pools.into_values().collect(),
            cost_rate_hr: cost_rate,
            pods_pending: self.scheduling.pending.len() as u32,
        });
        for (i, ws) in self.workloads.iter().enumerate() {
            let wl = &self.sc.workloads[i];
            // Every queue is sampled, a ScaledJob's too (its Jobs process outside the service
            // model, so `served_rps` is 0 there).
            if let Some(q) = &ws.queue {
                self.recorder.queue.push(queue::QueueRow {
                    time: now,
                    workload: i as u32,
                    arrival_rps: q.arrival,
                    processed_rps: ws.served_rps(),
                    depth: q.depth,
                    oldest_age_s: q.oldest_age_s(now),
                });
            }
            if !wl.kind.is_replicated() {
                continue;
            }
            let mut pending = 0u32;
            let mut starting = 0u32;
            for &p in &ws.active {
                match self.cluster.pods[p.0 as usize].phase {
                    PodPhase::Pending => pending += 1,
                    PodPhase::Starting | PodPhase::Running => starting += 1,
                    _ => {}
                }
            }
            let req_cpu = self.templates.current(i).1.requests().cpu_m;
            let cpu_per_pod = if ws.ready > 0 {
                ws.load.cpu_ready_m / f64::from(ws.ready)
            } else {
                0.0
            };
            let classes: Vec<crate::physics::queueing::Weighted> = ws.load.classes.iter().map(|c| c.1).collect();
            let latency = (!classes.is_empty()).then(|| {
                [0.50, 0.95, 0.99].map(|q| 1000.0 * crate::physics::queueing::quantile(&classes, q, ws.timeout_s))
            });
            // A queue worker's demand is the messages arriving; nothing it does not process now
            // is an error (it waits in the queue, `queue.csv`).
            let (demand, errors) = match &ws.queue {
                Some(q) => (q.arrival, 0.0),
                None => (ws.demand, (ws.demand - ws.served_rps()).max(0.0) + ws.load.timeouts),
            };
            self.recorder.timeline.push(TimelineRow {
                time: now,
                workload: i as u32,
                demand_rps: demand,
                served_rps: ws.served_rps(),
                capacity_rps: ws.load.capacity,
                latency_ms: latency,
                errors_rps: errors,
                cpu_throttled_m: ws.load.throttled_m,
                cpu_starved_m: ws.load.starved_m,
                desired: ws.desired,
                pending,
                starting,
                ready: ws.ready,
                cpu_per_pod_m: cpu_per_pod,
                cpu_utilization: if ws.ready > 0 && req_cpu > 0 {
                    100.0 * cpu_per_pod / req_cpu as f64
                } else {
                    0.0
                },
                hpa_metric: self.autoscaling.observed_metric[i],
                nodes_ready: ready_nodes,
                nodes_upcoming: upcoming,
                cost_rate_hr: cost_rate,
            });
        }
    }
}

/// The random-stream names of one workload, hashed once: `pod-start/<name>` (kubelet stage
/// latencies), `batch-arrivals/<name>` and `batch-runtime/<name>`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StreamKeys {
    pub pod_start: u64,
    pub batch_arrivals: u64,
    pub batch_runtime: u64,
}

impl StreamKeys {
    fn new(workload: &str) -> Self {
        StreamKeys {
            pod_start: Rngs::key_of(&format!("pod-start/{workload}")),
            batch_arrivals: Rngs::key_of(&format!("batch-arrivals/{workload}")),
            batch_runtime: Rngs::key_of(&format!("batch-runtime/{workload}")),
        }
    }
}

/// Errors a run can hit after the scenario validated (inconsistent references).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{context}: instance type {name:?} is not in the catalog")]
    UnknownInstanceType { name: String, context: String },
    /// The run outgrew a limit on pods or nodes (see `scenario::defaults`).
    #[error("the run stopped: {0}")]
    Limit(String),
    /// A stage's configuration (HPA, provisioner) is invalid.
    #[error(transparent)]
    Config(#[from] crate::scenario::ScenarioError),
}

/// Samples a distribution from a named stream (helper for provisioners).
pub fn sample(rngs: &Rngs, stream: &str, key: u64, d: &Distribution) -> SimDuration {
    d.sample(&mut rngs.stream(stream, key))
}

/// Runs a scenario.
pub fn run(sc: &Scenario) -> Result<SimResult, SimError> {
    let mut r = World::new(sc)?.run_checked()?;
    if !sc.faults.is_empty() {
        // What the faults cost: the same scenario and seed without them.
        let mut baseline = sc.clone();
        baseline.faults.clear();
        let b = World::new(&baseline)?.run_checked()?;
        r.summary.faults = Some(record::FaultImpact::between(&sc.faults, &r.summary, &b.summary));
    }
    Ok(r)
}
