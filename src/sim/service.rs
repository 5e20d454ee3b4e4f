//! The service model on each node: what every pod is offered, the CPU and memory it gets from
//! its node, the requests it serves, their latency, and the kubelet's answers to memory (OOM
//! kills, node-pressure eviction).
//!
//! Traffic reaches a workload's Ready pods evenly (kube-proxy spreads a Service over its ready
//! endpoints). A Ready pod wants `idle + rps × perRequest` of CPU and memory; a pod that is
//! running but not Ready, or terminating, wants its idle use; a pod whose containers are not
//! running wants nothing. Each node divides its CPU among its pods as CFS does
//! ([`crate::physics::cpu`]); a pod serves what its granted CPU allows, and its requests see
//! the latency of an M/M/c queue over the CPU it can get ([`crate::physics::queueing`]).
//!
//! The state is piecewise constant: it is recomputed at every service tick and after anything
//! that changes who is offered traffic or who shares a node (a pod becoming Ready, leaving, a
//! node going). Such changes mark the state stale ([`Service::touch`]); it is recomputed once
//! for all changes of one instant, before time moves on or a reader looks
//! ([`World::advance_service`]).

use super::{WorkloadState, World};
use crate::cluster::{DeleteReason, NodeId, PodId, PodPhase};
use crate::engine::SimTime;
use crate::physics::cpu::{self, Claim, Grant};
use crate::physics::memory::{self, EvictionCandidate};
use crate::physics::queueing::{PodQueue, Weighted};
use std::collections::BTreeMap;

/// What one pod uses and serves, between two recomputes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PodLoad {
    /// CPU granted, millicores.
    pub cpu_m: f64,
    /// Memory working set, bytes.
    pub mem: f64,
    /// Requests/s served.
    pub served: f64,
    /// ∫ cpu_m dt up to `since`, millicore·seconds (metrics windows are differences of it).
    pub integral: f64,
    pub since: SimTime,
    /// Whether its containers run, and whether it wants more than its CPU limit (CFS throttles
    /// it in every period), since `since`; seconds of each up to `since`.
    pub running: bool,
    pub throttled: bool,
    pub running_s: f64,
    pub throttled_s: f64,
}

impl PodLoad {
    /// ∫ cpu_m dt up to `now`.
    pub fn integral_at(&self, now: SimTime) -> f64 {
        self.integral + self.cpu_m * (now - self.since).as_secs_f64()
    }

    /// Seconds running and throttled up to `now`.
    pub fn cfs_at(&self, now: SimTime) -> (f64, f64) {
        let dt = (now - self.since).as_secs_f64();
        (
            self.running_s + if self.running { dt } else { 0.0 },
            self.throttled_s + if self.throttled { dt } else { 0.0 },
        )
    }

    fn set(&mut self, now: SimTime, cpu_m: f64, running: bool, throttled: bool) {
        self.integral = self.integral_at(now);
        (self.running_s, self.throttled_s) = self.cfs_at(now);
        self.since = now;
        self.cpu_m = cpu_m;
        self.running = running;
        self.throttled = throttled;
    }
}

/// The service model's state in the world.
#[derive(Clone, Debug, Default)]
pub struct Service {
    /// Per pod (by id).
    pub pods: Vec<PodLoad>,
    /// Set when something changed at that instant and the state has not been recomputed yet.
    stale_since: Option<SimTime>,
    /// Per node (by id): the last node-pressure eviction.
    last_eviction: Vec<Option<SimTime>>,
    // Scratch space, reused across recomputes.
    claims: Vec<Claim>,
    grants: Vec<Grant>,
    order: Vec<usize>,
    on_node: Vec<PodId>,
}

impl Service {
    /// Something that changes the service model happened at `now`.
    pub fn touch(&mut self, now: SimTime) {
        if self.stale_since.is_none() {
            self.stale_since = Some(now);
        }
    }

    /// The instant of the pending change, if any.
    pub fn stale_since(&self) -> Option<SimTime> {
        self.stale_since
    }
}

/// What the kubelet does to a pod after a recompute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kill {
    /// A container went above its memory limit.
    Oom,
    /// The node is under memory pressure and the eviction manager chose it.
    Evict,
}

/// A class of identical pods, for the latency mixtures: `(servers, μ, λ, base)` quantized.
pub type ClassKey = (u32, i64, i64, i64);

/// Quantizes a non-negative rate to its exponent and top 7 mantissa bits (steps under 0.8 %), so
/// pods whose available CPU differs by a rounding share a class; no logarithm per pod.
fn q(x: f64) -> i64 {
    (x.max(0.0).to_bits() >> 45) as i64
}

fn key_of(queue: &PodQueue) -> ClassKey {
    (queue.c, q(queue.mu), q(queue.lambda), (queue.base * 1e6).round() as i64)
}

/// The workload-level result of a recompute.
#[derive(Clone, Debug, Default)]
pub struct WorkloadLoad {
    /// Requests/s served by all Ready pods.
    pub served: f64,
    /// Requests/s the Ready pods could serve with the CPU they can get.
    pub capacity: f64,
    /// Served requests/s slower than the timeout.
    pub timeouts: f64,
    /// Σ CPU of the Ready pods, millicores.
    pub cpu_ready_m: f64,
    /// Σ CPU wanted above limits (CFS quota) / wanted within limits but not granted (node
    /// contention), millicores.
    pub throttled_m: f64,
    pub starved_m: f64,
    /// The Ready pods' queues, one per class, weighted by requests/s served.
    pub classes: Vec<(ClassKey, Weighted)>,
}

impl World<'_> {
    /// Brings the service model to `now`: recomputes it if something changed since, then
    /// integrates every workload's totals up to `now`.
    pub(super) fn advance_service(&mut self, now: SimTime) {
        if let Some(at) = self.service.stale_since.take() {
            self.integrate_all(at);
            self.recompute(at);
        }
        self.integrate_all(now);
    }

    fn integrate_all(&mut self, now: SimTime) {
        let from = self.measure_from;
        for ws in &mut self.workloads {
            integrate(ws, now, from);
        }
    }

    /// Recomputes every pod's load at `now` (module docs), then applies the kubelet's kills.
    pub(super) fn recompute(&mut self, now: SimTime) {
        let n_pods = self.cluster.pods.len();
        if self.service.pods.len() < n_pods {
            self.service.pods.resize(n_pods, PodLoad::default());
        }
        if self.service.last_eviction.len() < self.cluster.nodes.len() {
            self.service.last_eviction.resize(self.cluster.nodes.len(), None);
        }
        // Per workload: the requests/s each Ready pod is offered.
        let offered: Vec<f64> = self
            .workloads
            .iter()
            .map(|ws| {
                if ws.ready > 0 {
                    ws.demand / f64::from(ws.ready)
                } else {
                    0.0
                }
            })
            .collect();
        for ws in &mut self.workloads {
            flush_latency(ws);
            ws.load = WorkloadLoad::default();
        }
        // Pods that want nothing in any phase claim no CPU and no memory: left out of the split.
        let inert: Vec<bool> = self
            .sc
            .workloads
            .iter()
            .map(|w| w.service.is_inert(w.traffic.is_some()))
            .collect();
        let mut kills: Vec<(PodId, Kill)> = Vec::new();
        let svc = &mut self.service;
        for li in 0..self.cluster.live_nodes.len() {
            let n: NodeId = self.cluster.live_nodes[li];
            let node = &self.cluster.nodes[n.0 as usize];
            svc.claims.clear();
            svc.on_node.clear();
            let mut mem_used = 0.0;
            for &p in &node.pods {
                let pod = &self.cluster.pods[p.0 as usize];
                let wi = pod.workload as usize;
                if inert[wi] {
                    continue;
                }
                let model = &self.sc.workloads[wi].service;
                let (want_cpu, want_mem) = match pod.phase {
                    PodPhase::Ready => {
                        let rps = offered[wi];
                        (
                            model.idle_cpu_m + rps * model.cpu_per_rps_m,
                            model.idle_mem + rps * model.mem_per_rps,
                        )
                    }
                    PodPhase::Running | PodPhase::Terminating => (model.idle_cpu_m, model.idle_mem),
                    _ => (0.0, 0.0),
                };
                let tmpl = self.templates.resources_of(pod);
                svc.claims.push(Claim {
                    weight: cpu::weight(pod.requests.cpu_m),
                    want_m: want_cpu,
                    limit_m: tmpl.limit_cpu_m().map_or(f64::INFINITY, |l| l as f64),
                });
                svc.on_node.push(p);
                svc.pods[p.0 as usize].mem = want_mem;
                mem_used += want_mem;
                if let Some(limit) = tmpl.limit_mem()
                    && want_mem > limit as f64
                    && matches!(pod.phase, PodPhase::Ready | PodPhase::Running)
                {
                    kills.push((p, Kill::Oom));
                }
            }
            cpu::share(
                node.allocatable.cpu_m as f64,
                &svc.claims,
                &mut svc.grants,
                &mut svc.order,
            );
            for (k, &p) in svc.on_node.iter().enumerate() {
                let pod = &self.cluster.pods[p.0 as usize];
                let wi = pod.workload as usize;
                let g = svc.grants[k];
                let load = &mut svc.pods[p.0 as usize];
                let running = matches!(pod.phase, PodPhase::Ready | PodPhase::Running | PodPhase::Terminating);
                load.set(now, g.cpu_m, running, g.throttled_m > 0.0);
                load.served = 0.0;
                let ws = &mut self.workloads[wi];
                ws.load.throttled_m += g.throttled_m;
                ws.load.starved_m += g.starved_m;
                if pod.phase != PodPhase::Ready {
                    continue;
                }
                let model = &self.sc.workloads[wi].service;
                let rps = offered[wi];
                let mut queue = PodQueue::new(
                    (g.available_m - model.idle_cpu_m).max(0.0) / 1000.0,
                    model.cpu_per_rps_m / 1000.0,
                    rps,
                    model.base_latency_s,
                );
                if let Some(max) = model.max_rps_per_pod
                    && queue.capacity() > max
                {
                    queue = PodQueue::new(1.0, 1.0 / max, rps, model.base_latency_s);
                }
                let granted_rps = if model.cpu_per_rps_m > 0.0 {
                    ((g.cpu_m - model.idle_cpu_m) / model.cpu_per_rps_m).max(0.0)
                } else {
                    f64::INFINITY
                };
                let served = rps.min(granted_rps).min(queue.capacity());
                load.served = served;
                ws.load.served += served;
                ws.load.capacity += queue.capacity();
                ws.load.cpu_ready_m += g.cpu_m;
                if served > 0.0 {
                    let key = key_of(&queue);
                    match ws.load.classes.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, w)) => w.weight += served,
                        None => ws.load.classes.push((key, Weighted { queue, weight: served })),
                    }
                }
            }
            // Node-pressure eviction: the pods' working set above what the node holds for them.
            let pressure = mem_used > node.allocatable.mem as f64;
            let due = svc.last_eviction[n.0 as usize].is_none_or(|t| now >= t + memory::EVICTION_MONITORING_INTERVAL);
            if pressure && due {
                let candidates: Vec<(PodId, EvictionCandidate)> = svc
                    .on_node
                    .iter()
                    .filter(|&&p| self.cluster.pods[p.0 as usize].phase.is_active())
                    .map(|&p| {
                        let pod = &self.cluster.pods[p.0 as usize];
                        (
                            p,
                            EvictionCandidate {
                                usage: svc.pods[p.0 as usize].mem,
                                request: pod.requests.mem as f64,
                                priority: pod.priority,
                            },
                        )
                    })
                    .collect();
                let ranked: Vec<EvictionCandidate> = candidates.iter().map(|c| c.1).collect();
                if let Some(v) = memory::eviction_victim(&ranked) {
                    svc.last_eviction[n.0 as usize] = Some(now);
                    kills.retain(|k| k.0 != candidates[v].0);
                    kills.push((candidates[v].0, Kill::Evict));
                }
            }
        }
        for ws in &mut self.workloads {
            if ws.queue.is_some() {
                // A message waits in the queue as long as it takes: no client times out.
                ws.load.timeouts = 0.0;
                continue;
            }
            let timeout = ws.timeout_s;
            // Σ served × P(T > timeout) over the classes; a class whose slowest decay rate makes
            // that probability vanish (e^-60) is skipped without evaluating it.
            ws.load.timeouts = ws
                .load
                .classes
                .iter()
                .filter(|(_, w)| !w.queue.negligible_beyond(timeout))
                .map(|(_, w)| w.weight * w.queue.survival(timeout))
                .sum();
        }
        for (p, kill) in kills {
            match kill {
                Kill::Oom => self.container_crashed(now, p, true),
                Kill::Evict => {
                    self.vpa_observe_eviction(now, p);
                    let wi = self.cluster.pods[p.0 as usize].workload as usize;
                    self.workloads[wi].pressure_evictions += 1;
                    self.delete_pod(now, p, DeleteReason::Evicted);
                    self.reconcile_replicas(wi);
                }
            }
        }
    }

    /// A container of pod `p` died (OOM-killed, or killed for failing its startup probe): the
    /// pod is not Ready, and the kubelet restarts the container after its CrashLoopBackOff delay.
    pub(super) fn container_crashed(&mut self, now: SimTime, p: PodId, oom: bool) {
        let pod = &mut self.cluster.pods[p.0 as usize];
        if !matches!(pod.phase, PodPhase::Ready | PodPhase::Running | PodPhase::Starting) || pod.node.is_none() {
            return;
        }
        let wi = pod.workload as usize;
        let was_ready = pod.phase == PodPhase::Ready;
        // A container that ran long enough since its last crash starts its backoff afresh.
        if pod.last_crash.is_some_and(|t| now >= t + memory::BACKOFF_RESET) {
            pod.crashes = 0;
        }
        pod.crashes += 1;
        pod.restarts += 1;
        pod.last_crash = Some(now);
        if oom {
            pod.last_oom = Some((now, now - pod.started.unwrap_or(now)));
        }
        pod.phase = PodPhase::Starting;
        pod.start_due = None;
        pod.ready_due = None;
        let delay = memory::backoff(pod.crashes);
        let ws = &mut self.workloads[wi];
        if oom {
            ws.oom_kills += 1;
        }
        if was_ready {
            ws.ready -= 1;
        }
        self.service.touch(now);
        self.queue.push(now + delay, super::Event::ContainerRestart(p));
        if oom {
            self.vpa_observe_oom(now, p);
        }
    }

    /// ∫ CPU dt of pod `p` up to `now`, millicore·seconds.
    pub(super) fn pod_cpu_integral(&self, p: PodId, now: SimTime) -> f64 {
        self.service.pods.get(p.0 as usize).map_or(0.0, |l| l.integral_at(now))
    }
}

/// Integrates a workload's totals from its last integration to `now`; nothing before `from`
/// (the warm-up) is counted.
pub(super) fn integrate(ws: &mut WorkloadState, now: SimTime, from: SimTime) {
    if now <= ws.last_tick {
        return;
    }
    let start = ws.last_tick.max(from);
    ws.last_tick = now;
    let mut served = ws.load.served.min(ws.demand);
    // Counters for the exposed series count from t = 0 whatever the warm-up.
    let raw_dt = (now - ws.last_tick_raw).as_secs_f64();
    ws.last_tick_raw = now;
    // A queue worker: what is not processed yet waits in the queue, nothing is lost; demand is
    // the messages arriving.
    let demand = match &mut ws.queue {
        Some(q) => {
            if raw_dt > 0.0 {
                served = q.advance(raw_dt, served) / raw_dt;
            }
            q.arrival
        }
        None => ws.demand,
    };
    ws.raw_served += served * raw_dt;
    if ws.queue.is_none() {
        ws.raw_unserved += (ws.demand - served).max(0.0) * raw_dt;
    }
    ws.raw_timeouts += ws.load.timeouts * raw_dt;
    if now <= start {
        return;
    }
    let dt = (now - start).as_secs_f64();
    ws.demand_total += demand * dt;
    ws.served_total += served * dt;
    ws.timeouts_total += ws.load.timeouts * dt;
    ws.throttled_total += ws.load.throttled_m / 1000.0 * dt;
    ws.starved_total += ws.load.starved_m / 1000.0 * dt;
    ws.latency_dt += dt;
    if demand > served + 1e-9 {
        ws.overload = ws.overload + (now - start);
    }
}

/// Adds the time the current latency classes held to the run's latency mixture.
fn flush_latency(ws: &mut WorkloadState) {
    if ws.latency_dt > 0.0 {
        for (key, w) in &ws.load.classes {
            let e = ws.latency_mix.entry(*key).or_insert(Weighted {
                queue: w.queue,
                weight: 0.0,
            });
            e.weight += w.weight * ws.latency_dt;
        }
    }
    ws.latency_dt = 0.0;
}

/// The run's latency mixture of a workload once the run has ended.
pub(super) fn latency_mixture(ws: &mut WorkloadState) -> Vec<Weighted> {
    flush_latency(ws);
    ws.latency_mix.values().copied().collect()
}

/// The run-level mixture keyed by class.
pub type LatencyMix = BTreeMap<ClassKey, Weighted>;
