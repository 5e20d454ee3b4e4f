//! The Vertical Pod Autoscaler in the world: the recommender's loop reading metrics-server, the
//! admission controller setting new pods' requests, and the updater evicting or resizing pods.
//!
//! - **Recommender** (`Periodic::VpaRecommender`, every `--recommender-interval`): feeds each
//!   target pod's newest metrics-server sample (split over its containers in proportion to the
//!   manifest's requests: capsim's usage model is per pod), OOM kills as they happen (the
//!   container's memory request, upstream pkg/recommender/input/oom/observer.go `OnUpdate`) and
//!   node-pressure evictions (the offending containers' usage, observer.go
//!   `parseEvictionEvent`), then writes the recommendation ([`crate::controllers::vpa`]).
//! - **Admission** (every pod creation of a target, mode not Off): the pod is created from a
//!   template revision with the recommendation applied
//!   ([`crate::controllers::vpa::admission::apply`]); a revision is made only when the
//!   recommendation changed since the last one.
//! - **Updater** (`Periodic::VpaUpdater`, every `--updater-interval`; modes Recreate and
//!   InPlaceOrRecreate): the pods upstream's priority calculator admits, in its order, evicted
//!   through the eviction API (PodDisruptionBudgets apply) or — InPlaceOrRecreate — resized in
//!   place: the kubelet applies a resize that fits the node's free room at once, defers one that
//!   fits its allocatable only, refuses one beyond it (Infeasible); the updater evicts a pod whose
//!   resize is Infeasible, or Deferred for more than 5 minutes (pkg/updater/logic/updater.go
//!   `RunOnce`, restriction/pods_inplace_restriction.go). capsim's kubelet retries a deferred
//!   resize at each updater loop (a real kubelet retries when room frees): a resize may land up
//!   to one interval late.

use super::World;
use crate::cluster::{DeleteReason, PodId, PodPhase};
use crate::controllers::vpa::admission;
use crate::controllers::vpa::config::{RecommenderConfig, UpdaterConfig};
use crate::controllers::vpa::recommender::Amounts;
use crate::controllers::vpa::spec::{Recommendation, UpdateMode, VpaSpec};
use crate::controllers::vpa::updater::{self, GroupStats, PodFacts, ResizeStatus};
use crate::controllers::vpa::{Recommender, UsageSample};
use crate::engine::SimTime;
use crate::model::{PodTemplate, Resources};
use crate::scenario::Scenario;
use serde::Serialize;
use std::collections::BTreeMap;

/// One row of `vpa.csv`: a container's recommendation after a recommender loop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VpaRecord {
    pub time_s: f64,
    pub vpa: String,
    pub container: String,
    /// `cpu` (millicores) or `memory` (bytes).
    pub resource: &'static str,
    pub lower_bound: i64,
    pub target: i64,
    pub upper_bound: i64,
    pub uncapped_target: i64,
}

/// One row of `vpa-updates.csv`: what the updater (or the kubelet, for a resize) did to a pod.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VpaUpdateRecord {
    pub time_s: f64,
    pub vpa: String,
    pub pod: String,
    /// `Evicted`, `EvictionBlocked` (a PodDisruptionBudget), `Resized`, `ResizeDeferred`,
    /// `ResizeInfeasible`.
    pub action: &'static str,
    /// The requests before and after, or why.
    pub detail: String,
}

/// A resize the kubelet has not applied.
#[derive(Clone, Copy, Debug)]
struct PendingResize {
    since: SimTime,
    status: ResizeStatus,
}

/// One VPA at run time.
#[derive(Clone, Debug)]
pub struct VpaRuntime {
    pub spec: VpaSpec,
    pub target: usize,
    recommender: Recommender,
    /// The containers usage is split over, with their CPU and memory shares.
    shares: Vec<(String, f64, f64)>,
    /// The newest sample fed per pod.
    seen: BTreeMap<PodId, SimTime>,
    /// The recommendation the VPA status holds (empty until the first loop with samples).
    pub recommendation: Vec<(String, Recommendation)>,
    /// Bumped when the recommendation changes.
    generation: u32,
    /// The template revision admission made for a generation.
    admitted: Option<(u32, u32)>,
    resizes_pending: BTreeMap<PodId, PendingResize>,
    pub evictions: u32,
    pub resizes: u32,
    pub resizes_deferred: u32,
    pub resizes_infeasible: u32,
    pub evictions_blocked: u32,
    pub oom_samples: u32,
    warned_unfit: bool,
}

/// Every VPA of the scenario and the settings its components run with.
#[derive(Clone, Debug, Default)]
pub struct Vpas {
    pub recommender: RecommenderConfig,
    pub updater: UpdaterConfig,
    pub objects: Vec<VpaRuntime>,
    /// Per workload: the VPA that controls its pods.
    pub of_workload: Vec<Option<usize>>,
    pub records: Vec<VpaRecord>,
    pub updates: Vec<VpaUpdateRecord>,
    /// Pods resized in place: (pod, when, requests before), for request-seconds.
    pub resize_log: Vec<(PodId, SimTime, Resources)>,
    /// The largest allocatable a node of the scenario can have.
    largest_node: Option<Resources>,
}

impl Vpas {
    pub fn new(sc: &Scenario) -> Vpas {
        let recommender = RecommenderConfig::default();
        let mut of_workload = vec![None; sc.workloads.len()];
        let objects = sc
            .vpas
            .iter()
            .enumerate()
            .map(|(k, v)| {
                of_workload[v.target] = Some(k);
                VpaRuntime {
                    spec: v.spec.clone(),
                    target: v.target,
                    recommender: Recommender::new(recommender.clone()),
                    shares: shares(&sc.workloads[v.target].template),
                    seen: BTreeMap::new(),
                    recommendation: Vec::new(),
                    generation: 0,
                    admitted: None,
                    resizes_pending: BTreeMap::new(),
                    evictions: 0,
                    resizes: 0,
                    resizes_deferred: 0,
                    resizes_infeasible: 0,
                    evictions_blocked: 0,
                    oom_samples: 0,
                    warned_unfit: false,
                }
            })
            .collect();
        Vpas {
            recommender,
            updater: UpdaterConfig::default(),
            objects,
            of_workload,
            records: Vec::new(),
            updates: Vec::new(),
            resize_log: Vec::new(),
            largest_node: super::lint::largest_node(sc),
        }
    }
}

/// Each container's share of the pod's CPU and memory: its requests' share (equal shares when
/// the pod requests none).
fn shares(t: &PodTemplate) -> Vec<(String, f64, f64)> {
    let n = t.containers.len().max(1) as f64;
    let cpu: i64 = t.containers.iter().map(|c| c.requests.cpu_m).sum();
    let mem: i64 = t.containers.iter().map(|c| c.requests.mem).sum();
    let share = |x: i64, total: i64| if total > 0 { x as f64 / total as f64 } else { 1.0 / n };
    t.containers
        .iter()
        .map(|c| (c.name.clone(), share(c.requests.cpu_m, cpu), share(c.requests.mem, mem)))
        .collect()
}

fn pod_key(p: PodId) -> String {
    p.0.to_string()
}

/// The Kubernetes phase `Pending` (not bound, or bound with containers not started yet).
fn kube_pending(phase: PodPhase, started: Option<SimTime>) -> bool {
    phase == PodPhase::Pending || (phase == PodPhase::Starting && started.is_none())
}

impl World<'_> {
    /// The recommender's loop: feed new samples, forget deleted pods, recommend.
    pub(super) fn vpa_recommend(&mut self, now: SimTime) {
        for v in 0..self.vpas.objects.len() {
            let target = self.vpas.objects[v].target;
            let rt = &mut self.vpas.objects[v];
            for &p in &self.workloads[target].active {
                let Some(s) = self.metrics.samples[p.0 as usize] else {
                    continue;
                };
                if rt.seen.get(&p).is_some_and(|&t| t >= s.timestamp) {
                    continue;
                }
                rt.seen.insert(p, s.timestamp);
                let pod = pod_key(p);
                for (container, cpu, mem) in &rt.shares {
                    rt.recommender.add(&UsageSample {
                        t_s: s.timestamp.as_secs_f64(),
                        pod: pod.clone(),
                        container: container.clone(),
                        cpu_m: (s.cpu_m * cpu).round() as i64,
                        mem: (s.mem * mem).round() as i64,
                        oom: false,
                    });
                }
            }
            // upstream garbage-collects the pods that are gone (their aggregates stay).
            let gone: Vec<PodId> = rt
                .seen
                .keys()
                .copied()
                .filter(|p| !self.cluster.pods[p.0 as usize].phase.is_active())
                .collect();
            for p in gone {
                rt.seen.remove(&p);
                rt.recommender.forget_pod(&pod_key(p));
            }
            let recs = rt.recommender.recommend(&rt.spec);
            if recs != rt.recommendation {
                rt.generation += 1;
                rt.recommendation = recs;
            }
            let name = &rt.spec.name;
            for (container, r) in &rt.recommendation {
                for (resource, on, lower, target, upper, uncapped) in [
                    (
                        "cpu",
                        r.cpu,
                        r.lower.cpu_m,
                        r.target.cpu_m,
                        r.upper.cpu_m,
                        r.uncapped_target.cpu_m,
                    ),
                    (
                        "memory",
                        r.memory,
                        r.lower.mem,
                        r.target.mem,
                        r.upper.mem,
                        r.uncapped_target.mem,
                    ),
                ] {
                    if on {
                        self.vpas.records.push(VpaRecord {
                            time_s: now.as_secs_f64(),
                            vpa: name.clone(),
                            container: container.clone(),
                            resource,
                            lower_bound: lower,
                            target,
                            upper_bound: upper,
                            uncapped_target: uncapped,
                        });
                    }
                }
            }
            self.vpa_warn_unfit(v);
        }
    }

    /// Warns once per VPA when its recommendation makes a pod no node of the scenario can hold.
    fn vpa_warn_unfit(&mut self, v: usize) {
        let rt = &self.vpas.objects[v];
        if rt.warned_unfit || rt.recommendation.is_empty() || rt.spec.update_mode == UpdateMode::Off {
            return;
        }
        let Some(max) = self.vpas.largest_node else {
            return;
        };
        let base = &self.sc.workloads[rt.target].template;
        let t = admission::apply(base, &rt.spec, &rt.recommendation).unwrap_or_else(|| base.clone());
        let r = t.requests();
        if r.fits_in(&max) {
            return;
        }
        let msg = format!(
            "at {:.0} s VerticalPodAutoscaler {} recommends {}m CPU / {} MiB per pod of {}, more than any node the \
             scenario can have allocates ({}m / {} MiB): pods created or updated with it stay Pending \
             (set resourcePolicy.containerPolicies[].maxAllowed)",
            self.now().as_secs_f64(),
            rt.spec.name,
            r.cpu_m,
            r.mem >> 20,
            self.sc.workloads[rt.target].name,
            max.cpu_m,
            max.mem >> 20
        );
        self.vpas.objects[v].warned_unfit = true;
        self.warnings.push(msg);
    }

    /// The admission controller: the template revision a new pod of workload `wi` is created
    /// from has the current recommendation applied (made when the recommendation changed).
    pub(super) fn vpa_admit(&mut self, wi: usize) {
        let Some(v) = self.vpas.of_workload[wi] else {
            return;
        };
        self.vpa_admitted_revision(v);
    }

    /// The revision holding VPA `v`'s current recommendation, made if needed; `None` in mode Off
    /// or before the first recommendation.
    fn vpa_admitted_revision(&mut self, v: usize) -> Option<u32> {
        let rt = &self.vpas.objects[v];
        if rt.spec.update_mode == UpdateMode::Off || rt.recommendation.is_empty() {
            return None;
        }
        if let Some((g, rev)) = rt.admitted
            && g == rt.generation
        {
            return Some(rev);
        }
        let target = rt.target;
        let base = &self.sc.workloads[target].template;
        let t = admission::apply(base, &rt.spec, &rt.recommendation).unwrap_or_else(|| base.clone());
        let (cur_rev, cur) = self.templates.current(target);
        let rev = if *cur == t {
            cur_rev
        } else {
            self.revise_template(target, t)
        };
        let rt = &mut self.vpas.objects[v];
        rt.admitted = Some((rt.generation, rev));
        Some(rev)
    }

    /// An OOM kill of pod `p`: the recommender records it for the container over its limit,
    /// at that container's memory request (upstream observer.go `OnUpdate`).
    pub(super) fn vpa_observe_oom(&mut self, now: SimTime, p: PodId) {
        let pod = &self.cluster.pods[p.0 as usize];
        let Some(v) = self.vpas.of_workload[pod.workload as usize] else {
            return;
        };
        let tmpl = self.templates.resources_of(pod);
        let used = self.service.pods.get(p.0 as usize).map_or(0.0, |l| l.mem);
        let rt = &mut self.vpas.objects[v];
        // The container whose share of the working set is above its own limit, else the first.
        let over = rt
            .shares
            .iter()
            .zip(&tmpl.containers)
            .find(|((_, _, m), c)| c.limit_mem.is_some_and(|l| used * m > l as f64))
            .or_else(|| rt.shares.iter().zip(&tmpl.containers).next());
        if let Some(((name, _, _), c)) = over {
            rt.recommender
                .record_oom(&pod_key(p), name, now.as_secs_f64(), c.requests.mem);
            rt.oom_samples += 1;
        }
    }

    /// A node-pressure eviction of pod `p`: the containers using more memory than they request
    /// are recorded as OOMs at their usage (upstream observer.go `parseEvictionEvent`).
    pub(super) fn vpa_observe_eviction(&mut self, now: SimTime, p: PodId) {
        let pod = &self.cluster.pods[p.0 as usize];
        let Some(v) = self.vpas.of_workload[pod.workload as usize] else {
            return;
        };
        let tmpl = self.templates.resources_of(pod);
        let used = self.service.pods.get(p.0 as usize).map_or(0.0, |l| l.mem);
        let rt = &mut self.vpas.objects[v];
        for ((name, _, m), c) in rt.shares.iter().zip(&tmpl.containers) {
            let usage = (used * m).round() as i64;
            if usage > c.requests.mem {
                rt.recommender.record_oom(&pod_key(p), name, now.as_secs_f64(), usage);
                rt.oom_samples += 1;
            }
        }
    }

    /// The updater's loop (module docs).
    pub(super) fn vpa_update(&mut self, now: SimTime) {
        for v in 0..self.vpas.objects.len() {
            self.vpa_update_one(now, v);
        }
    }

    fn vpa_update_one(&mut self, now: SimTime, v: usize) {
        let (mode, target) = {
            let rt = &mut self.vpas.objects[v];
            let active = &self.workloads[rt.target].active;
            rt.resizes_pending.retain(|p, _| active.contains(p));
            (rt.spec.update_mode, rt.target)
        };
        if !matches!(mode, UpdateMode::Recreate | UpdateMode::InPlaceOrRecreate)
            || self.vpas.objects[v].recommendation.is_empty()
        {
            return;
        }
        // The kubelet retries deferred resizes first (module docs).
        let deferred: Vec<PodId> = self.vpas.objects[v]
            .resizes_pending
            .iter()
            .filter(|(_, r)| r.status == ResizeStatus::Deferred)
            .map(|(&p, _)| p)
            .collect();
        for p in deferred {
            if let Some(rev) = self.vpa_admitted_revision(v)
                && self.try_resize(now, v, p, rev) == Ok(())
            {
                self.vpas.objects[v].resizes_pending.remove(&p);
            }
        }
        let live: Vec<PodId> = self.workloads[target].active.clone();
        let pending = live
            .iter()
            .filter(|p| {
                let pod = &self.cluster.pods[p.0 as usize];
                kube_pending(pod.phase, pod.started)
            })
            .count() as u32;
        let cfg = self.vpas.updater.clone();
        let rt = &self.vpas.objects[v];
        let min_replicas = rt.spec.min_replicas.unwrap_or(cfg.min_replicas);
        let configured = self.workloads[target].desired;
        let Some(mut group) = GroupStats::new(configured, live.len() as u32, pending, min_replicas, &cfg) else {
            return;
        };
        let mut queue = Vec::new();
        for &p in &live {
            let pod = &self.cluster.pods[p.0 as usize];
            let tmpl = self.templates.resources_of(pod);
            let requests: Vec<(&str, Amounts)> = tmpl
                .containers
                .iter()
                .map(|c| {
                    (
                        c.name.as_str(),
                        Amounts {
                            cpu_m: c.requests.cpu_m,
                            mem: c.requests.mem,
                        },
                    )
                })
                .collect();
            let recs = admission::for_pod(tmpl, &rt.spec, &rt.recommendation);
            let prio = updater::update_priority(&requests, &recs);
            let facts = PodFacts {
                start_time: pod.scheduled,
                last_oom: pod.last_oom,
            };
            if updater::accepts(&prio, &facts, now, &cfg) {
                queue.push((prio, p));
            }
        }
        updater::sort_queue(&mut queue);
        let mut to_evict = Vec::new();
        for (_, p) in queue {
            let pod = &self.cluster.pods[p.0 as usize];
            let pending = kube_pending(pod.phase, pod.started);
            if mode == UpdateMode::Recreate {
                if pending || group.disruptable() {
                    self.vpa_evict(now, v, p, pending, &mut group);
                }
                continue;
            }
            // InPlaceOrRecreate: a Pending pod waits (upstream: InPlaceDeferred).
            if pending {
                continue;
            }
            if let Some(r) = self.vpas.objects[v].resizes_pending.get(&p).copied() {
                if updater::evict_stuck_resize(r.status, r.since, now, &group) {
                    to_evict.push(p);
                }
                continue;
            }
            if !group.disruptable() {
                continue;
            }
            let Some(rev) = self.vpa_admitted_revision(v) else {
                continue;
            };
            group.in_place_initiated += 1;
            if let Err(status) = self.try_resize(now, v, p, rev) {
                let rt = &mut self.vpas.objects[v];
                rt.resizes_pending.insert(p, PendingResize { since: now, status });
                match status {
                    ResizeStatus::Deferred => rt.resizes_deferred += 1,
                    ResizeStatus::Infeasible => rt.resizes_infeasible += 1,
                }
            }
        }
        for p in to_evict {
            // upstream: CanEvict → CanEvictInPlacingPod, checked again with this loop's counts.
            let r = self.vpas.objects[v].resizes_pending.get(&p).copied();
            if r.is_some_and(|r| updater::evict_stuck_resize(r.status, r.since, now, &group)) {
                self.vpa_evict(now, v, p, false, &mut group);
            }
        }
    }

    /// The kubelet's answer to resizing pod `p` to revision `rev`'s resources: applied now when
    /// the node has the room, else why not.
    fn try_resize(&mut self, now: SimTime, v: usize, p: PodId, rev: u32) -> Result<(), ResizeStatus> {
        let pod = &self.cluster.pods[p.0 as usize];
        let Some(n) = pod.node else {
            return Ok(()); // not bound: nothing to resize (it is gone or Pending)
        };
        let new = self.templates.get(pod.workload as usize, rev).requests();
        let old = pod.requests;
        let node = &self.cluster.nodes[n.0 as usize];
        let name = pod.name(&self.sc.workloads[pod.workload as usize].name);
        let vpa = self.vpas.objects[v].spec.name.clone();
        // upstream kubelet (pkg/kubelet/allocation: canResizePod): beyond the node's allocatable
        // is Infeasible; beyond what the other pods leave free is Deferred.
        if !new.fits_in(&node.allocatable) {
            self.vpas.updates.push(VpaUpdateRecord {
                time_s: now.as_secs_f64(),
                vpa,
                pod: name,
                action: "ResizeInfeasible",
                detail: format!("{}m/{}Mi > node allocatable", new.cpu_m, new.mem >> 20),
            });
            return Err(ResizeStatus::Infeasible);
        }
        let after = node.allocated - old + new;
        if !after.fits_in(&node.allocatable) {
            if !self.vpas.objects[v].resizes_pending.contains_key(&p) {
                self.vpas.updates.push(VpaUpdateRecord {
                    time_s: now.as_secs_f64(),
                    vpa,
                    pod: name,
                    action: "ResizeDeferred",
                    detail: format!("{}m/{}Mi does not fit the node's free room", new.cpu_m, new.mem >> 20),
                });
            }
            return Err(ResizeStatus::Deferred);
        }
        let pod = &mut self.cluster.pods[p.0 as usize];
        pod.requests = new;
        pod.resources_rev = rev;
        self.cluster.nodes[n.0 as usize].allocated = after;
        self.vpas.resize_log.push((p, now, old));
        self.vpas.objects[v].resizes += 1;
        self.vpas.updates.push(VpaUpdateRecord {
            time_s: now.as_secs_f64(),
            vpa,
            pod: name,
            action: "Resized",
            detail: format!(
                "{}m/{}Mi -> {}m/{}Mi",
                old.cpu_m,
                old.mem >> 20,
                new.cpu_m,
                new.mem >> 20
            ),
        });
        self.capacity_freed(n);
        self.service.touch(now);
        Ok(())
    }

    /// Evicts pod `p` through the eviction API: a PodDisruptionBudget may refuse it.
    fn vpa_evict(&mut self, now: SimTime, v: usize, p: PodId, pending: bool, group: &mut GroupStats) {
        let pod = &self.cluster.pods[p.0 as usize];
        let wi = pod.workload as usize;
        let name = pod.name(&self.sc.workloads[wi].name);
        let vpa = self.vpas.objects[v].spec.name.clone();
        if pod.phase == PodPhase::Ready {
            let allowed = self.pdb_allowed();
            if self.pdbs_of(wi).iter().any(|&k| allowed[k] <= 0) {
                self.vpas.objects[v].evictions_blocked += 1;
                self.vpas.updates.push(VpaUpdateRecord {
                    time_s: now.as_secs_f64(),
                    vpa,
                    pod: name,
                    action: "EvictionBlocked",
                    detail: "a PodDisruptionBudget allows no disruption".to_string(),
                });
                return;
            }
        }
        let before = pod.requests;
        self.delete_pod(now, p, DeleteReason::VpaEvicted);
        self.vpas.objects[v].resizes_pending.remove(&p);
        self.reconcile_replicas(wi);
        if !pending {
            group.evicted += 1;
        }
        self.vpas.objects[v].evictions += 1;
        self.vpas.updates.push(VpaUpdateRecord {
            time_s: now.as_secs_f64(),
            vpa,
            pod: name,
            action: "Evicted",
            detail: format!("requests were {}m/{}Mi", before.cpu_m, before.mem >> 20),
        });
    }
}
