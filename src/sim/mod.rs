//! The world: wires the controllers to the engine, applies their decisions and records what
//! happens.
//!
//! One [`EventQueue`] of the closed [`Event`] enum drives everything. Each handler reads the
//! state, asks a pure controller for a decision (`scheduler::select_node`,
//! `replicaset::pods_to_delete`, ...), applies it and schedules the events it causes. Random draws
//! come from named streams keyed by the object they concern (the n-th pod of a workload, the n-th
//! node of a pool), so two scenarios that differ only in settings see the same dice.

pub mod autoscaling;
pub mod batch;
pub mod drain;
pub mod lint;
pub mod metrics;
pub mod record;

use crate::cloud::Distribution;
use crate::cluster::placement;
use crate::cluster::{DeleteReason, Node, NodeId, NodeSpec, NodeState, Pod, PodId, PodPhase};
use crate::controllers::provisioner::{self, NodeNotice};
use crate::controllers::replicaset::{PodRank, pods_to_delete};
use crate::controllers::scheduler::{self, Placement};
use crate::engine::{EventQueue, Rngs, SimDuration, SimTime};
use crate::model::{CapacityType, Resources, WorkloadKind};
use crate::scenario::Scenario;
use record::{Recorder, TimelineRow};
use std::cmp::Reverse;
use std::collections::BTreeSet;

pub use record::SimResult;

/// How many freed nodes the scheduler's index catches up on one by one; beyond, it is rebuilt.
const MAX_FREED_NODES: usize = 4096;

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
    /// HPA `.0` reconciles.
    HpaSync(u32),
    /// The next arrival of batch workload `.0` (arrival index `.1`).
    BatchArrival(u32, u32),
    /// A batch pod's containers finished: it succeeds and frees its node's resources.
    PodCompleted(PodId),
    /// The end of the simulated span.
    End,
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
    /// Requests/s one ready pod can serve.
    pub capacity_per_pod: f64,
    /// CPU millicores and memory bytes used by each ready pod at the last tick.
    pub cpu_per_pod: f64,
    pub mem_per_pod: f64,
    pub last_tick: SimTime,
    /// ∫ per-ready-pod CPU dt, millicore·seconds (metrics windows are differences of it).
    pub cpu_integral: f64,
    pub demand_total: f64,
    pub served_total: f64,
    pub overload: SimDuration,
    /// Pods evicted (drained, reclaimed, preempted, lost with a node) whose replacement is not
    /// created yet.
    pub evicted_unreplaced: u32,
    pub evicted: u32,
}

impl WorkloadState {
    pub fn served_rps(&self) -> f64 {
        self.demand.min(f64::from(self.ready) * self.capacity_per_pod)
    }
}

/// The simulated cluster.
pub struct World<'a> {
    pub sc: &'a Scenario,
    pub rngs: Rngs,
    pub queue: EventQueue<Event>,
    pub pods: Vec<Pod>,
    pub nodes: Vec<Node>,
    /// Nodes not yet terminated, in id order (the scheduler's search order).
    pub live_nodes: Vec<NodeId>,
    /// Resources held on each node for pods nominated there by preemption.
    pub nominated: Vec<Resources>,
    pub nominated_node: Vec<Option<NodeId>>,
    pub workloads: Vec<WorkloadState>,
    /// Pending pods by (priority desc, creation, id): the scheduler's activeQ order.
    pub pending: BTreeSet<(Reverse<i32>, SimTime, PodId)>,
    cycle_queued: bool,
    sched_start: usize,
    /// Bumped whenever a node may have gained room for a pod (a pod left it, a nomination was
    /// cleared, it became Ready or was uncordoned); see [`World::schedule_cycle`].
    capacity_epoch: u64,
    /// The failed (workload, requests) of the last cycle and the epoch it ran at.
    carried_failed: (u64, Vec<(u32, Resources)>),
    /// Per workload: the pod's summed CPU and memory limits (templates are fixed for the run).
    limits: Vec<(Option<i64>, Option<i64>)>,
    /// The lowest priority of any workload's pods (templates are fixed for the run).
    min_priority: i32,
    /// Per workload: the traffic noise of the last bin the service tick drew.
    noise_memo: Vec<crate::traffic::NoiseMemo>,
    /// Bumped whenever `live_nodes` changes (positions in it move).
    live_nodes_version: u64,
    /// The scheduler's free-room index with the (capacity epoch, live-nodes version) it is exact
    /// for: kept across cycles, since between them nodes only lose room unless the epoch moves.
    free_index: Option<(u64, u64, scheduler::FreeIndex)>,
    /// Nodes that may have gained room since the index was last brought up to date.
    freed_nodes: Vec<NodeId>,
    /// More than [`MAX_FREED_NODES`] were freed since: the index is rebuilt instead.
    freed_overflow: bool,
    tick: SimDuration,
    pub recorder: Recorder,
    pub provisioner: Option<Box<dyn provisioner::Provisioner + 'a>>,
    /// Every provisioner decision, for `autoscaler.csv`.
    pub decisions: Vec<provisioner::DecisionRecord>,
    pub drains: std::collections::BTreeMap<NodeId, drain::DrainState>,
    pub interruptions: u32,
    /// metrics-server's latest sample per pod (indexed by pod id).
    pub samples: Vec<Option<metrics::ResourceSample>>,
    /// Workloads whose pods metrics-server scrapes (those an HPA reads).
    pub scraped: Vec<bool>,
    pub scrape_marks: Vec<metrics::ScrapeMark>,
    /// Batch pods to recreate (workload, requests, run time, first arrival) after the current event.
    requeue_batch: Vec<(u32, Resources, SimDuration, SimTime)>,
    end: SimTime,
    started: bool,
    /// Pre-hashed names of each workload's random streams (drawn once per pod).
    pub(crate) stream_keys: Vec<StreamKeys>,
    pub hpas: Vec<autoscaling::HpaRuntime>,
    pub hpa_config: crate::controllers::hpa::config::HpaControllerConfig,
    pub hpa_records: Vec<autoscaling::HpaRecord>,
    /// The last metric value an HPA observed for each workload (for the timeline).
    pub observed_metric: Vec<Option<f64>>,
    /// Provisioner warnings (unknown flags, ignored fields), for the CLI to print.
    pub warnings: Vec<String>,
}

impl<'a> World<'a> {
    pub fn new(sc: &'a Scenario) -> Result<World<'a>, SimError> {
        let tick = sc.resolution.min(MAX_SERVICE_TICK).max(SimDuration::from_millis(1));
        let mut w = World {
            sc,
            rngs: Rngs::new(sc.seed),
            queue: EventQueue::with_capacity(1024),
            pods: Vec::new(),
            nodes: Vec::new(),
            live_nodes: Vec::new(),
            nominated: Vec::new(),
            nominated_node: Vec::new(),
            workloads: vec![WorkloadState::default(); sc.workloads.len()],
            pending: BTreeSet::new(),
            cycle_queued: false,
            sched_start: 0,
            capacity_epoch: 0,
            carried_failed: (0, Vec::new()),
            live_nodes_version: 0,
            noise_memo: vec![Default::default(); sc.workloads.len()],
            limits: sc
                .workloads
                .iter()
                .map(|w| (w.template.limit_cpu_m(), w.template.limit_mem()))
                .collect(),
            min_priority: sc
                .workloads
                .iter()
                .map(|w| w.template.priority)
                .min()
                .unwrap_or(i32::MAX),
            free_index: None,
            freed_nodes: Vec::new(),
            freed_overflow: false,
            tick,
            recorder: Recorder::new(sc),
            provisioner: None,
            decisions: Vec::new(),
            drains: std::collections::BTreeMap::new(),
            interruptions: 0,
            samples: Vec::new(),
            scraped: vec![false; sc.workloads.len()],
            scrape_marks: vec![metrics::ScrapeMark::default(); sc.workloads.len()],
            requeue_batch: Vec::new(),
            end: SimTime::ZERO + sc.duration,
            started: false,
            stream_keys: sc.workloads.iter().map(|w| StreamKeys::new(&w.name)).collect(),
            hpas: Vec::new(),
            hpa_config: Default::default(),
            hpa_records: Vec::new(),
            observed_metric: vec![None; sc.workloads.len()],
            warnings: Vec::new(),
        };
        w.hpa_config = autoscaling::controller_config(sc)?;
        w.hpas = autoscaling::build_hpas(sc, &w.hpa_config)?;
        for h in &w.hpas {
            w.scraped[h.target] = true;
        }
        if let Some(setup) = sc.provisioner.build(sc)? {
            w.warnings.extend(setup.warnings);
            w.provisioner = Some(setup.provisioner);
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
            if wl.kind == WorkloadKind::Deployment {
                w.workloads[i].desired = wl.replicas;
                w.workloads[i].min_desired = wl.replicas;
                w.workloads[i].max_desired = wl.replicas;
            }
            w.workloads[i].capacity_per_pod = capacity_per_pod(wl);
        }
        Ok(w)
    }

    /// Queues the initial events. Called once, by [`World::run`] or before the first [`World::step`].
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        self.queue.push(SimTime::ZERO, Event::ServiceTick);
        self.queue.push(SimTime::ZERO, Event::Sample);
        self.queue.push(self.end, Event::End);
        for i in 0..self.workloads.len() {
            self.reconcile_replicas(i);
        }
        if self.provisioner.is_some() {
            self.queue.push(SimTime::ZERO, Event::ProvisionerLoop);
        }
        if !self.hpas.is_empty() {
            self.queue.push(SimTime::ZERO, Event::MetricsScrape);
            for i in 0..self.hpas.len() {
                let at = SimTime::ZERO
                    + autoscaling::sync_offset(&self.rngs, &self.hpas[i].name, self.hpa_config.sync_period);
                self.queue.push(at, Event::HpaSync(i as u32));
            }
        }
        for i in 0..self.workloads.len() {
            self.schedule_batch_arrival(i as u32, 0, SimTime::ZERO);
        }
    }

    /// Delivers one event. Returns false once the run has ended.
    pub fn step(&mut self) -> bool {
        self.start();
        let Some((now, ev)) = self.queue.pop() else {
            return false;
        };
        if now > self.end {
            return false;
        }
        let ended = self.handle(now, ev);
        while let Some((wi, req, run_for, arrived)) = self.requeue_batch.pop() {
            let p = self.create_pod(wi as usize, now);
            let pod = &mut self.pods[p.0 as usize];
            pod.requests = req;
            pod.run_for = Some(run_for);
            pod.arrived = arrived;
            self.request_cycle(now);
        }
        !ended
    }

    /// Runs the scenario to its end.
    pub fn run(mut self) -> SimResult {
        while self.step() {}
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
                self.queue.push(now + self.sc.resolution, Event::Sample);
            }
            Event::ScheduleCycle => {
                self.cycle_queued = false;
                self.schedule_cycle(now);
            }
            Event::PodStarted(p) => {
                let pod = &mut self.pods[p.0 as usize];
                if pod.phase == PodPhase::Starting {
                    pod.phase = PodPhase::Running;
                    pod.started = Some(now);
                    if let Some(d) = pod.run_for {
                        self.queue.push(now + d, Event::PodCompleted(p));
                    }
                }
            }
            Event::MetricsScrape => {
                let r = self.metric_resolution();
                self.scrape(now, r);
                self.queue.push(now + r, Event::MetricsScrape);
            }
            Event::HpaSync(i) => self.hpa_sync(now, i as usize),
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
                let reason = self.nodes[n.0 as usize].removed_by.clone();
                if self.nodes[n.0 as usize].state == NodeState::Draining {
                    self.terminate_node(now, n, &reason);
                }
            }
            Event::SpotWarning(n) => self.spot_warning(now, n),
            Event::SpotReclaim(n) => self.terminate_node(now, n, "SpotInterruption"),
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

    /// Integrates every workload's service model up to `now` with the values of the last tick.
    fn advance_service(&mut self, now: SimTime) {
        for ws in &mut self.workloads {
            integrate(ws, now);
        }
    }

    fn service_tick(&mut self, now: SimTime) {
        for i in 0..self.workloads.len() {
            integrate(&mut self.workloads[i], now);
            let wl = &self.sc.workloads[i];
            let memo = &mut self.noise_memo[i];
            let demand = wl
                .traffic
                .as_ref()
                .map_or(0.0, |t| t.rps_at_memo(now, &self.rngs, memo).max(0.0));
            self.workloads[i].demand = demand;
            self.update_usage(i);
        }
    }

    /// Recomputes per-pod usage after demand or the ready count changed.
    fn update_usage(&mut self, i: usize) {
        let wl = &self.sc.workloads[i];
        let ws = &mut self.workloads[i];
        let share = if ws.ready == 0 {
            0.0
        } else {
            (ws.demand / f64::from(ws.ready)).min(ws.capacity_per_pod)
        };
        let svc = &wl.service;
        let (limit_cpu_m, limit_mem) = self.limits[i];
        let mut cpu = svc.idle_cpu_m + share * svc.cpu_per_rps_m;
        if let Some(limit) = limit_cpu_m {
            cpu = cpu.min(limit as f64);
        }
        let mut mem = svc.idle_mem + share * svc.mem_per_rps;
        if let Some(limit) = limit_mem {
            mem = mem.min(limit as f64);
        }
        ws.cpu_per_pod = cpu;
        ws.mem_per_pod = mem;
    }

    // ----- replicas ------------------------------------------------------------------------

    /// The ReplicaSet controller: creates or deletes pods until active == desired.
    pub fn reconcile_replicas(&mut self, i: usize) {
        if self.sc.workloads[i].kind != WorkloadKind::Deployment {
            return;
        }
        let now = self.now();
        let desired = self.workloads[i].desired as usize;
        let active = self.workloads[i].active.len();
        if active < desired {
            for _ in active..desired {
                self.create_pod(i, now);
            }
            self.request_cycle(now);
        } else if active > desired {
            let mut ranks: Vec<PodRank<PodId>> = self.workloads[i]
                .active
                .iter()
                .map(|&p| {
                    let pod = &self.pods[p.0 as usize];
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

    fn create_pod(&mut self, i: usize, now: SimTime) -> PodId {
        let wl = &self.sc.workloads[i];
        let id = PodId(self.pods.len() as u32);
        let ordinal = self.workloads[i].created;
        self.workloads[i].created += 1;
        let replacement = self.workloads[i].evicted_unreplaced > 0;
        if replacement {
            self.workloads[i].evicted_unreplaced -= 1;
        }
        self.pods.push(Pod {
            replacement,
            ..Pod::new(id, i as u32, ordinal, wl.template.priority, wl.template.requests(), now)
        });
        self.nominated_node.push(None);
        self.samples.push(None);
        self.workloads[i].active.push(id);
        self.pending.insert((Reverse(wl.template.priority), now, id));
        id
    }

    /// Deletes a pod: Pending pods vanish, bound pods terminate over their grace period.
    pub fn delete_pod(&mut self, now: SimTime, p: PodId, reason: DeleteReason) {
        let pod = &self.pods[p.0 as usize];
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
            integrate(&mut self.workloads[wi], now);
            self.workloads[wi].ready -= 1;
            self.update_usage(wi);
        }
        self.workloads[wi].active.retain(|&x| x != p);
        self.clear_nomination(p);
        let pod = &mut self.pods[p.0 as usize];
        pod.delete_reason = Some(reason);
        pod.deleted = Some(now);
        if let (Some(run_for), true) = (pod.run_for, reason != DeleteReason::Completed) {
            // The Job controller replaces a batch pod that was evicted or lost with its node.
            let (requests, arrived) = (pod.requests, pod.arrived);
            self.requeue_batch.push((wi as u32, requests, run_for, arrived));
        }
        let pod = &mut self.pods[p.0 as usize];
        if phase == PodPhase::Pending {
            self.pending.remove(&(Reverse(pod.priority), pod.created, p));
            pod.phase = PodPhase::Deleted;
        } else {
            pod.phase = PodPhase::Terminating;
            let grace = self.sc.workloads[wi].template.termination_grace;
            self.queue.push(now + grace, Event::PodTerminated(p));
        }
    }

    fn pod_terminated(&mut self, _now: SimTime, p: PodId) {
        let pod = &mut self.pods[p.0 as usize];
        if pod.phase != PodPhase::Terminating {
            return;
        }
        pod.phase = PodPhase::Deleted;
        if let Some(n) = pod.node {
            let req = pod.requests;
            let node = &mut self.nodes[n.0 as usize];
            node.allocated -= req;
            node.pods.retain(|&x| x != p);
            self.capacity_freed(n);
        }
        self.request_cycle(self.now());
    }

    fn pod_ready(&mut self, now: SimTime, p: PodId) {
        let pod = &self.pods[p.0 as usize];
        if pod.phase != PodPhase::Running && pod.phase != PodPhase::Starting {
            return;
        }
        let wi = pod.workload as usize;
        integrate(&mut self.workloads[wi], now);
        let mark = self.workloads[wi].cpu_integral;
        let pod = &mut self.pods[p.0 as usize];
        if pod.started.is_none() {
            pod.started = Some(now);
        }
        pod.phase = PodPhase::Ready;
        pod.ready = Some(now);
        pod.usage_mark = mark;
        self.workloads[wi].ready += 1;
        self.update_usage(wi);
    }

    // ----- scheduler -----------------------------------------------------------------------

    /// Queues a scheduling cycle at `now` unless one is queued already.
    pub fn request_cycle(&mut self, now: SimTime) {
        if !self.cycle_queued && !self.pending.is_empty() {
            self.cycle_queued = true;
            self.queue.push(now, Event::ScheduleCycle);
        }
    }

    /// Node `n` may have gained room: failures of earlier scheduling cycles no longer hold, and
    /// the scheduler's free-room index re-reads `n`.
    pub(crate) fn capacity_freed(&mut self, n: NodeId) {
        self.capacity_epoch += 1;
        if self.freed_nodes.len() < MAX_FREED_NODES {
            self.freed_nodes.push(n);
        } else {
            self.freed_overflow = true; // rebuild the index rather than keep a long list
        }
    }

    fn clear_nomination(&mut self, p: PodId) {
        if let Some(n) = self.nominated_node[p.0 as usize].take() {
            self.capacity_freed(n);
            self.nominated[n.0 as usize] -= self.pods[p.0 as usize].requests;
        }
    }

    fn schedule_cycle(&mut self, now: SimTime) {
        let queue: Vec<PodId> = self.pending.iter().map(|k| k.2).collect();
        // Pods of a template that found no node (and could not preempt) this cycle: identical
        // pods behind them cannot fit either, since a cycle only fills nodes.
        let mut failed: Vec<(u32, Resources)> = Vec::new();
        // Failures of earlier cycles still hold while no node gained room since: nodes only
        // filled up, so those searches would fail again (same dominance rule and guards below).
        let mut carried = std::mem::take(&mut self.carried_failed.1);
        if self.carried_failed.0 != self.capacity_epoch {
            carried.clear();
        }
        let epoch0 = self.capacity_epoch;
        // Free room per node for pods without a nomination; rebuilt whenever a node may have
        // gained room (the capacity epoch moved) or the node list changed, refreshed for a node
        // after a bind to it.
        let mut index = self.free_index.take();
        for p in queue {
            if self.capacity_epoch != epoch0 {
                carried.clear(); // room appeared mid-cycle (a cleared nomination)
            }
            let (wi, req, prio) = {
                let pod = &self.pods[p.0 as usize];
                (pod.workload, pod.requests, pod.priority)
            };
            if failed.contains(&(wi, req)) {
                self.mark_unschedulable(now, p);
                continue;
            }
            let tmpl = &self.sc.workloads[wi as usize].template;
            // A pod nominated by preemption may use what is held for it on its node.
            let own = self.nominated_node[p.0 as usize];
            // Dominance: a pod of the same workload (same filters) that requests at least as
            // much as one that found no node cannot fit either. Only when this pod holds no
            // nomination and cannot preempt, so skipping it changes nothing (a failed search
            // leaves the search start where it was). Batch pods of many sizes hit this.
            if own.is_none()
                && !(tmpl.preempts && self.lower_priority_exists(prio))
                && failed.iter().chain(&carried).any(|(w, f)| *w == wi && f.fits_in(&req))
            {
                self.mark_unschedulable(now, p);
                continue;
            }
            let nominated = &self.nominated;
            let (placement, at) = if own.is_none() {
                let key = (self.capacity_epoch, self.live_nodes_version);
                match &mut index {
                    Some((e, v, ix)) if *v == key.1 && !self.freed_overflow => {
                        // Same node list: only the nodes that gained room changed upwards.
                        if *e != key.0 {
                            for n in self.freed_nodes.drain(..) {
                                ix.refresh_node(&self.nodes[n.0 as usize], nominated[n.0 as usize]);
                            }
                            *e = key.0;
                        }
                    }
                    _ => {
                        self.freed_nodes.clear();
                        self.freed_overflow = false;
                        let built =
                            scheduler::FreeIndex::build(&self.nodes, &self.live_nodes, |n| nominated[n.0 as usize]);
                        index = Some((key.0, key.1, built));
                    }
                }
                let (_, _, ix) = index.as_ref().expect("built above");
                let (placement, at) = scheduler::select_node_indexed(
                    &self.nodes,
                    &self.live_nodes,
                    ix,
                    tmpl,
                    &req,
                    self.sc.scoring,
                    &mut self.sched_start,
                    |n| nominated[n.0 as usize],
                );
                (placement, Some(at))
            } else {
                let placement = scheduler::select_node(
                    &self.nodes,
                    &self.live_nodes,
                    tmpl,
                    &req,
                    self.sc.scoring,
                    &mut self.sched_start,
                    |n| {
                        if own == Some(n) {
                            nominated[n.0 as usize] - req
                        } else {
                            nominated[n.0 as usize]
                        }
                    },
                );
                (placement, None)
            };
            match placement {
                Placement::Node(n) => {
                    self.bind(now, p, n);
                    if let (Some((_, _, ix)), Some(at)) = (&mut index, at) {
                        ix.refresh(at, &self.nodes[n.0 as usize], self.nominated[n.0 as usize]);
                    }
                }
                Placement::Unschedulable(_) => {
                    self.mark_unschedulable(now, p);
                    if own.is_some() || !tmpl.preempts || !self.try_preempt(now, p, prio) {
                        failed.push((wi, req));
                    }
                }
            }
        }
        self.free_index = index;
        if self.capacity_epoch == epoch0 {
            carried.append(&mut failed);
            self.carried_failed = (epoch0, carried);
        } else {
            self.carried_failed = (self.capacity_epoch, Vec::new());
        }
    }

    fn mark_unschedulable(&mut self, now: SimTime, p: PodId) {
        let pod = &mut self.pods[p.0 as usize];
        if pod.unschedulable_since.is_none() {
            pod.unschedulable_since = Some(now);
        }
    }

    /// Whether any workload's pods have a priority below `prio` (pods take their template's).
    fn lower_priority_exists(&self, prio: i32) -> bool {
        self.min_priority < prio
    }

    /// PostFilter: evicts lower-priority pods so `p` can be placed, nominating it to the node.
    fn try_preempt(&mut self, now: SimTime, p: PodId, prio: i32) -> bool {
        // Every pod takes its workload template's priority, so when no workload has a lower
        // priority there is no victim anywhere: skip the per-node search (same outcome, and it
        // was a quarter of the peer workloads' run time).
        if !self.lower_priority_exists(prio) {
            return false;
        }
        let pod = &self.pods[p.0 as usize];
        let tmpl = &self.sc.workloads[pod.workload as usize].template;
        let req = pod.requests;
        let pods = &self.pods;
        let nodes = &self.nodes;
        let plan = scheduler::find_preemption(
            nodes,
            &self.live_nodes,
            tmpl,
            &req,
            prio,
            |n| self.nominated[n.0 as usize],
            |n| {
                nodes[n.0 as usize]
                    .pods
                    .iter()
                    .map(|&v| &pods[v.0 as usize])
                    .filter(|v| v.phase != PodPhase::Terminating)
                    .map(|v| (v.id, v.priority, v.created.0, v.requests))
                    .collect()
            },
        );
        let Some(plan) = plan else { return false };
        for v in plan.victims {
            let wi = self.pods[v.0 as usize].workload as usize;
            self.delete_pod(now, v, DeleteReason::Preempted);
            self.reconcile_replicas(wi);
        }
        self.nominated_node[p.0 as usize] = Some(plan.node);
        self.nominated[plan.node.0 as usize] += req;
        true
    }

    fn bind(&mut self, now: SimTime, p: PodId, n: NodeId) {
        self.clear_nomination(p);
        let pod = &mut self.pods[p.0 as usize];
        self.pending.remove(&(Reverse(pod.priority), pod.created, p));
        pod.phase = PodPhase::Starting;
        pod.node = Some(n);
        pod.scheduled = Some(now);
        let wi = pod.workload;
        let ordinal = pod.ordinal;
        let node = &mut self.nodes[n.0 as usize];
        node.allocated += pod.requests;
        node.pods.push(p);
        // Kubelet: pull the image unless the node has it (or is pulling it), start, probe.
        let startup = &self.sc.workloads[wi as usize].startup;
        let mut rng = self
            .rngs
            .stream_named(self.stream_keys[wi as usize].pod_start, u64::from(ordinal));
        let pulled_at = match node.images.iter().position(|&(w, _)| w == wi) {
            Some(k) => {
                pod.image_cached = true;
                (now + startup.image_pull_cached.sample(&mut rng)).max(node.images[k].1)
            }
            None => {
                let at = now + startup.image_pull.sample(&mut rng);
                node.images.push((wi, at));
                at
            }
        };
        let started = pulled_at + startup.container_start.sample(&mut rng);
        let ready = started + startup.readiness.sample(&mut rng);
        self.queue.push(started, Event::PodStarted(p));
        if pod.run_for.is_none() {
            self.queue.push(ready, Event::PodReady(p));
        }
    }

    // ----- nodes ---------------------------------------------------------------------------

    /// Adds a node in state Launching. The caller schedules its lifecycle.
    pub fn add_node(&mut self, spec: NodeSpec, created_by: String) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        let ordinal = self.nodes.iter().filter(|n| n.pool == spec.pool).count();
        let mut labels = spec.labels;
        let name = format!("{}-{:04}", spec.pool, ordinal);
        labels.insert("kubernetes.io/hostname".into(), name.clone());
        labels.insert("node.kubernetes.io/instance-type".into(), spec.instance_type.clone());
        if !spec.zone.is_empty() {
            labels.insert("topology.kubernetes.io/zone".into(), spec.zone.clone());
        }
        self.nodes
            .push(Node::new(id, name, NodeSpec { labels, ..spec }, self.now(), created_by));
        self.nominated.push(Resources::ZERO);
        self.live_nodes.push(id);
        self.live_nodes_version += 1;
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
        let id = self.add_node(spec, created_by);
        let mut rng = self.rngs.stream(
            &format!("node-latency/{}", self.nodes[id.0 as usize].pool),
            u64::from(id.0),
        );
        let launched = now + latency.launch.sample(&mut rng);
        let registered = launched + latency.register.sample(&mut rng);
        let ready = registered + latency.ready.sample(&mut rng);
        self.nodes[id.0 as usize].terminate_after = latency.terminate.sample(&mut rng);
        self.queue.push(launched, Event::NodeLaunched(id));
        self.queue.push(registered, Event::NodeRegistered(id));
        self.queue.push(ready, Event::NodeReady(id));
        id
    }

    fn node_launched(&mut self, n: NodeId) {
        let now = self.now();
        let node = &mut self.nodes[n.0 as usize];
        if node.state == NodeState::Launching {
            node.state = NodeState::Booting;
            node.launched = Some(now);
            self.schedule_reclaim(n);
        }
    }

    /// Spot instances are reclaimed at a rate drawn from their Spot Advisor band (see
    /// `cloud::spot`); the warning comes two minutes before. `spec.spotInterruptions: false`
    /// turns interruptions off.
    fn schedule_reclaim(&mut self, n: NodeId) {
        let node = &self.nodes[n.0 as usize];
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
            self.nodes[n.0 as usize].reclaim_at = Some(reclaim);
            self.queue.push(reclaim.saturating_sub(notice), Event::SpotWarning(n));
        }
    }

    fn node_registered(&mut self, n: NodeId) {
        let now = self.now();
        // DaemonSet pods whose selector and tolerations admit the node start on it and take their
        // share of its allocatable.
        let node = &self.nodes[n.0 as usize];
        if node.state != NodeState::Booting {
            return;
        }
        let ds = placement::daemonset_overhead(&self.sc.workloads, &node.labels, &node.taints);
        let node = &mut self.nodes[n.0 as usize];
        node.state = NodeState::Registered;
        node.registered = Some(now);
        node.daemonset = ds;
        node.allocatable = placement::allocatable_for_pods(node.kubelet_allocatable, ds);
        self.notify(NodeNotice::Registered(n));
    }

    fn node_ready(&mut self, n: NodeId) {
        let now = self.now();
        let node = &mut self.nodes[n.0 as usize];
        if node.state != NodeState::Registered {
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
        let pods = std::mem::take(&mut self.nodes[n.0 as usize].pods);
        for p in pods {
            let wi = self.pods[p.0 as usize].workload as usize;
            if self.pods[p.0 as usize].phase.is_active() {
                self.delete_pod(now, p, DeleteReason::NodeGone);
            }
            let pod = &mut self.pods[p.0 as usize];
            if pod.phase == PodPhase::Terminating {
                pod.phase = PodPhase::Deleted;
            }
            self.reconcile_replicas(wi);
        }
        let node = &mut self.nodes[n.0 as usize];
        node.state = NodeState::Terminated;
        node.terminated = Some(now);
        node.allocated = Resources::ZERO;
        self.live_nodes.retain(|&x| x != n);
        self.live_nodes_version += 1;
        self.request_cycle(now);
        self.notify(NodeNotice::Terminated(n));
    }

    // ----- recording -----------------------------------------------------------------------

    fn sample(&mut self, now: SimTime) {
        let mut pools: std::collections::BTreeMap<&str, record::PoolCount> = std::collections::BTreeMap::new();
        let mut cost_rate = 0.0;
        let (mut ready_nodes, mut upcoming) = (0u32, 0u32);
        for n in &self.nodes {
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
            pods_pending: self.pending.len() as u32,
        });
        for (i, ws) in self.workloads.iter().enumerate() {
            let wl = &self.sc.workloads[i];
            if wl.kind != WorkloadKind::Deployment {
                continue;
            }
            let mut pending = 0u32;
            let mut starting = 0u32;
            for &p in &ws.active {
                match self.pods[p.0 as usize].phase {
                    PodPhase::Pending => pending += 1,
                    PodPhase::Starting | PodPhase::Running => starting += 1,
                    _ => {}
                }
            }
            let req_cpu = wl.template.requests().cpu_m;
            self.recorder.timeline.push(TimelineRow {
                time: now,
                workload: i as u32,
                demand_rps: ws.demand,
                served_rps: ws.served_rps(),
                capacity_rps: f64::from(ws.ready) * ws.capacity_per_pod,
                desired: ws.desired,
                pending,
                starting,
                ready: ws.ready,
                cpu_per_pod_m: if ws.ready > 0 { ws.cpu_per_pod } else { 0.0 },
                cpu_utilization: if ws.ready > 0 && req_cpu > 0 {
                    100.0 * ws.cpu_per_pod / req_cpu as f64
                } else {
                    0.0
                },
                hpa_metric: self.observed_metric[i],
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

/// Requests/s one pod can serve: the explicit ceiling, else what its CPU limit allows.
fn capacity_per_pod(wl: &crate::model::Workload) -> f64 {
    let svc = &wl.service;
    if let Some(max) = svc.max_rps_per_pod {
        return max;
    }
    match wl.template.limit_cpu_m() {
        Some(limit) if svc.cpu_per_rps_m > 0.0 => ((limit as f64 - svc.idle_cpu_m) / svc.cpu_per_rps_m).max(0.0),
        _ => f64::INFINITY,
    }
}

/// Integrates the service model of one workload from its last tick to `now`.
fn integrate(ws: &mut WorkloadState, now: SimTime) {
    if now <= ws.last_tick {
        return;
    }
    let dt = (now - ws.last_tick).as_secs_f64();
    let served = ws.served_rps();
    ws.cpu_integral += ws.cpu_per_pod * dt;
    ws.demand_total += ws.demand * dt;
    ws.served_total += served * dt;
    if ws.demand > served + 1e-9 {
        ws.overload = ws.overload + (now - ws.last_tick);
    }
    ws.last_tick = now;
}

/// Errors a run can hit after the scenario validated (inconsistent references).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{context}: instance type {name:?} is not in the catalog")]
    UnknownInstanceType { name: String, context: String },
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
    Ok(World::new(sc)?.run())
}
