//! The world side of kube-scheduler: the scheduling queue (activeQ order), nominations made by
//! preemption, and each cycle — the pure decisions come from [`crate::controllers::scheduler`],
//! whose caches ([`scheduler::SchedulerCache`]) it owns.

use super::{Event, World};
use crate::cluster::topology::{self, PodTopology};
use crate::cluster::{DeleteReason, NodeId, PodId, PodPhase};
use crate::controllers::scheduler::{self, Placement};
use crate::engine::SimTime;
use crate::model::Resources;
use crate::physics::probes::{self, Outcome};
use std::cmp::Reverse;
use std::collections::BTreeSet;

/// The scheduler's state in the world.
#[derive(Debug, Default)]
pub struct Scheduling {
    /// Pending pods by (priority desc, creation, id): the scheduler's activeQ order.
    pub pending: BTreeSet<(Reverse<i32>, SimTime, PodId)>,
    /// A cycle is queued already (cycles are coalesced: at most one queued).
    pub(super) cycle_queued: bool,
    /// Resources held on each node (by id) for pods nominated there by preemption.
    pub nominated: Vec<Resources>,
    /// Each pod's nominated node (by pod id).
    pub nominated_node: Vec<Option<NodeId>>,
    /// The lowest priority of any workload's pods (pods take their template's priority).
    pub(super) min_priority: i32,
    /// What the scheduler keeps between cycles.
    pub(super) cache: scheduler::SchedulerCache,
}

impl Scheduling {
    pub(super) fn new(min_priority: i32) -> Scheduling {
        Scheduling {
            min_priority,
            ..Default::default()
        }
    }
}

impl World<'_> {
    /// Queues a scheduling cycle at `now` unless one is queued already.
    pub fn request_cycle(&mut self, now: SimTime) {
        if !self.scheduling.cycle_queued && !self.scheduling.pending.is_empty() {
            self.scheduling.cycle_queued = true;
            self.queue.push(now, Event::ScheduleCycle);
        }
    }

    /// Node `n` may have gained room: failures of earlier scheduling cycles no longer hold, and
    /// the scheduler's free-room index re-reads `n`.
    pub(crate) fn capacity_freed(&mut self, n: NodeId) {
        self.scheduling.cache.capacity_freed(n);
    }

    pub(super) fn clear_nomination(&mut self, p: PodId) {
        if let Some(n) = self.scheduling.nominated_node[p.0 as usize].take() {
            self.capacity_freed(n);
            self.scheduling.nominated[n.0 as usize] -= self.cluster.pods[p.0 as usize].requests;
        }
    }

    pub(super) fn schedule_cycle(&mut self, now: SimTime) {
        let queue: Vec<PodId> = self.scheduling.pending.iter().map(|k| k.2).collect();
        // Pods of a template that found no node (and could not preempt) this cycle: identical
        // pods behind them cannot fit either, since a cycle only fills nodes.
        let mut failed: Vec<(u32, Resources)> = Vec::new();
        // Failures of earlier cycles still hold while no node gained room since: nodes only
        // filled up, so those searches would fail again (same dominance rule and guards below).
        let mut carried = std::mem::take(&mut self.scheduling.cache.carried_failed.1);
        if self.scheduling.cache.carried_failed.0 != self.scheduling.cache.capacity_epoch {
            carried.clear();
        }
        let epoch0 = self.scheduling.cache.capacity_epoch;
        // Free room per node for pods without a nomination; rebuilt whenever a node may have
        // gained room (the capacity epoch moved) or the node list changed, refreshed for a node
        // after a bind to it.
        let mut index = self.scheduling.cache.free_index.take();
        // Templates are only read here (no revision is made during a cycle).
        let templates = std::sync::Arc::clone(&self.templates);
        // Inter-pod views built this cycle, by template key; every bind updates them.
        let mut topos: std::collections::BTreeMap<u32, PodTopology> = std::collections::BTreeMap::new();
        let any_terms = templates.any_pod_terms();
        for p in queue {
            if self.scheduling.cache.capacity_epoch != epoch0 {
                carried.clear(); // room appeared mid-cycle (a cleared nomination)
            }
            let (key, req, prio, volume_zone) = {
                let pod = &self.cluster.pods[p.0 as usize];
                (
                    templates.key_of(pod),
                    pod.requests,
                    pod.priority,
                    pod.volume_zone.clone(),
                )
            };
            let tmpl = templates.of(&self.cluster.pods[p.0 as usize]);
            // Binding other pods may open a node to this template (spread, required affinity):
            // its failures say nothing about the next pod.
            // (A pod pinned to its volume's zone is not its template's twin either.)
            let may_enable = tmpl.constraints.placement_may_enable() || volume_zone.is_some();
            if !may_enable && failed.contains(&(key, req)) {
                self.mark_unschedulable(now, p);
                continue;
            }
            // A pod nominated by preemption may use what is held for it on its node.
            let own = self.scheduling.nominated_node[p.0 as usize];
            // Dominance: a pod of the same template (same filters) that requests at least as
            // much as one that found no node cannot fit either. Only when this pod holds no
            // nomination and cannot preempt, so skipping it changes nothing (a failed search
            // leaves the search start where it was). Batch pods of many sizes hit this.
            if own.is_none()
                && !may_enable
                && !(tmpl.preempts && self.lower_priority_exists(prio))
                && failed.iter().chain(&carried).any(|(k, f)| *k == key && f.fits_in(&req))
            {
                self.mark_unschedulable(now, p);
                continue;
            }
            let mut topo = if tmpl.constraints.is_inter_pod() || any_terms {
                Some(topos.entry(key).or_insert_with(|| {
                    topology::of_cluster(
                        tmpl,
                        &self.cluster.nodes,
                        &self.cluster.live_nodes,
                        &self.cluster.pods,
                        &templates,
                    )
                }))
            } else {
                None
            };
            let nominated = &self.scheduling.nominated;
            let (placement, at) = if own.is_none() {
                let key = (
                    self.scheduling.cache.capacity_epoch,
                    self.scheduling.cache.live_nodes_version,
                );
                match &mut index {
                    Some((e, v, ix)) if *v == key.1 && !self.scheduling.cache.freed_overflow => {
                        // Same node list: only the nodes that gained room changed upwards.
                        if *e != key.0 {
                            for n in self.scheduling.cache.freed_nodes.drain(..) {
                                ix.refresh_node(&self.cluster.nodes[n.0 as usize], nominated[n.0 as usize]);
                            }
                            *e = key.0;
                        }
                    }
                    _ => {
                        self.scheduling.cache.freed_nodes.clear();
                        self.scheduling.cache.freed_overflow = false;
                        let built = scheduler::FreeIndex::build(&self.cluster.nodes, &self.cluster.live_nodes, |n| {
                            nominated[n.0 as usize]
                        });
                        index = Some((key.0, key.1, built));
                    }
                }
                let (_, _, ix) = index.as_ref().expect("built above");
                let (placement, at) = scheduler::select_node_indexed(
                    &self.cluster.nodes,
                    &self.cluster.live_nodes,
                    ix,
                    tmpl,
                    &req,
                    self.sc.scoring,
                    &mut self.scheduling.cache.sched_start,
                    |n| nominated[n.0 as usize],
                    topo.as_deref_mut(),
                    volume_zone.as_deref(),
                );
                (placement, Some(at))
            } else {
                let placement = scheduler::select_node(
                    &self.cluster.nodes,
                    &self.cluster.live_nodes,
                    tmpl,
                    &req,
                    self.sc.scoring,
                    &mut self.scheduling.cache.sched_start,
                    |n| {
                        if own == Some(n) {
                            nominated[n.0 as usize] - req
                        } else {
                            nominated[n.0 as usize]
                        }
                    },
                    topo,
                    volume_zone.as_deref(),
                );
                (placement, None)
            };
            match placement {
                Placement::Node(n) => {
                    self.bind(now, p, n);
                    for t in topos.values_mut() {
                        t.place(
                            key,
                            tmpl,
                            n.0 as usize,
                            &self.cluster.nodes[n.0 as usize].labels,
                            1,
                            false,
                        );
                    }
                    if let (Some((_, _, ix)), Some(at)) = (&mut index, at) {
                        ix.refresh(
                            at,
                            &self.cluster.nodes[n.0 as usize],
                            self.scheduling.nominated[n.0 as usize],
                        );
                    }
                }
                Placement::Unschedulable(_) => {
                    self.mark_unschedulable(now, p);
                    if own.is_some() || !tmpl.preempts || !self.try_preempt(now, p, prio) {
                        if !may_enable {
                            failed.push((key, req));
                        }
                    } else {
                        topos.clear(); // victims are terminating: rebuild the views
                    }
                }
            }
        }
        self.scheduling.cache.free_index = index;
        if self.scheduling.cache.capacity_epoch == epoch0 {
            carried.append(&mut failed);
            self.scheduling.cache.carried_failed = (epoch0, carried);
        } else {
            self.scheduling.cache.carried_failed = (self.scheduling.cache.capacity_epoch, Vec::new());
        }
    }

    pub(super) fn mark_unschedulable(&mut self, now: SimTime, p: PodId) {
        let pod = &mut self.cluster.pods[p.0 as usize];
        if pod.unschedulable_since.is_none() {
            pod.unschedulable_since = Some(now);
        }
    }

    /// Whether any workload's pods have a priority below `prio` (pods take their template's).
    pub(super) fn lower_priority_exists(&self, prio: i32) -> bool {
        self.scheduling.min_priority < prio
    }

    /// PostFilter: evicts lower-priority pods so `p` can be placed, nominating it to the node.
    pub(super) fn try_preempt(&mut self, now: SimTime, p: PodId, prio: i32) -> bool {
        // Every pod takes its workload template's priority, so when no workload has a lower
        // priority there is no victim anywhere: skip the per-node search (same outcome, and it
        // was a quarter of the peer workloads' run time).
        if !self.lower_priority_exists(prio) {
            return false;
        }
        let pod = &self.cluster.pods[p.0 as usize];
        let templates = std::sync::Arc::clone(&self.templates);
        let tmpl = templates.of(pod);
        let req = pod.requests;
        let pods = &self.cluster.pods;
        let nodes = &self.cluster.nodes;
        let base = topology::needed(tmpl, &templates)
            .then(|| topology::of_cluster(tmpl, nodes, &self.cluster.live_nodes, pods, &templates));
        let plan = scheduler::find_preemption(
            nodes,
            &self.cluster.live_nodes,
            tmpl,
            &req,
            prio,
            |n| self.scheduling.nominated[n.0 as usize],
            |n| {
                nodes[n.0 as usize]
                    .pods
                    .iter()
                    .map(|&v| &pods[v.0 as usize])
                    .filter(|v| v.phase != PodPhase::Terminating)
                    .map(|v| (v.id, v.priority, v.created.0, v.requests))
                    .collect()
            },
            |n, victims: &[PodId]| {
                let Some(base) = &base else { return true };
                let mut t = base.clone();
                for &v in victims {
                    let vp = &pods[v.0 as usize];
                    t.place(
                        templates.key_of(vp),
                        templates.of(vp),
                        n.0 as usize,
                        &nodes[n.0 as usize].labels,
                        -1,
                        false,
                    );
                }
                t.admits(&nodes[n.0 as usize].labels).is_ok()
            },
            pod.volume_zone.as_deref(),
        );
        let Some(plan) = plan else { return false };
        for v in plan.victims {
            let wi = self.cluster.pods[v.0 as usize].workload as usize;
            self.delete_pod(now, v, DeleteReason::Preempted);
            self.reconcile_replicas(wi);
        }
        self.scheduling.nominated_node[p.0 as usize] = Some(plan.node);
        self.scheduling.nominated[plan.node.0 as usize] += req;
        let pod = &mut self.cluster.pods[p.0 as usize];
        pod.nominated = pod.nominated.or(Some(now));
        true
    }

    pub(super) fn bind(&mut self, now: SimTime, p: PodId, n: NodeId) {
        self.clear_nomination(p);
        let pod = &mut self.cluster.pods[p.0 as usize];
        self.scheduling.pending.remove(&(Reverse(pod.priority), pod.created, p));
        pod.phase = PodPhase::Starting;
        pod.node = Some(n);
        pod.scheduled = Some(now);
        let wi = pod.workload;
        let ordinal = pod.ordinal;
        let node = &mut self.cluster.nodes[n.0 as usize];
        node.allocated += pod.requests;
        node.pods.push(p);
        let stateful = self.sc.workloads[wi as usize].stateful.is_some();
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
        let pod = &mut self.cluster.pods[p.0 as usize];
        pod.pulled = pod.pulled.or(Some(pulled_at));
        self.start_containers(p, pulled_at, &mut rng);
        if stateful {
            self.bind_volume(p);
        }
    }

    /// The kubelet starts pod `p`'s containers once its image is there (`at`), and its probes
    /// decide when it is Ready ([`crate::physics::probes`]; `startup.ready` overrides them).
    pub(super) fn start_containers(&mut self, p: PodId, at: SimTime, rng: &mut crate::engine::rng::StreamRng) {
        let pod = &self.cluster.pods[p.0 as usize];
        let startup = &self.sc.workloads[pod.workload as usize].startup;
        let started = at + startup.container_start.sample(rng);
        let outcome = match &startup.readiness {
            Some(d) => Outcome::Ready(d.sample(rng)),
            None => {
                let tmpl = self.templates.of(pod);
                let warmup = startup.warmup.sample(rng);
                probes::outcome(tmpl.containers.iter().chain(&tmpl.sidecars).map(|c| &c.probes), warmup)
            }
        };
        let batch = pod.run_for.is_some();
        let pod = &mut self.cluster.pods[p.0 as usize];
        pod.start_due = Some(started);
        self.queue.push(started, Event::PodStarted(p));
        if batch {
            return;
        }
        match outcome {
            Outcome::Ready(d) => {
                pod.ready_due = Some(started + d);
                self.queue.push(started + d, Event::PodReady(p));
            }
            Outcome::Killed(d) => {
                pod.ready_due = Some(started + d);
                self.queue.push(started + d, Event::StartupProbeFailed(p));
            }
        }
    }

    /// A crashed container's backoff is over: the kubelet starts it again (the image is there).
    pub(super) fn container_restart(&mut self, now: SimTime, p: PodId) {
        let pod = &self.cluster.pods[p.0 as usize];
        if pod.phase != PodPhase::Starting || pod.node.is_none() || pod.start_due.is_some() {
            return;
        }
        let key = u64::from(pod.ordinal) | (u64::from(pod.restarts) << 32);
        let mut rng = self
            .rngs
            .stream_named(self.stream_keys[pod.workload as usize].pod_start, key);
        self.start_containers(p, now, &mut rng);
    }
}
