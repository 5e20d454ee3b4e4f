//! The world side of `spec.faults` ([`crate::scenario::faults`]): zones going dark, launches
//! failing, spot storms.
//!
//! A zone outage follows the node lifecycle controller (upstream:
//! pkg/controller/nodelifecycle/node_lifecycle_controller.go): a node that stops posting status
//! is marked Unknown after `--node-monitor-grace-period` ([`NODE_MONITOR_GRACE_PERIOD`]) — its
//! pods' Ready condition goes false (`MarkPodsNotReady`) and it gets the `unreachable`
//! NoExecute taint; the taint manager (pkg/controller/tainteviction) deletes each pod once its
//! toleration of that taint runs out ([`crate::model::labels::no_execute_grace`]; 300 s from the
//! DefaultTolerationSeconds admission). The nodes stay in the API (and in the scheduler's
//! snapshot, as spread domains) until a provisioner removes them. Instances launching in the
//! zone never come up. When the zone returns, its surviving nodes post status again: Ready.

use super::{Event, World};
use crate::cluster::{DeleteReason, NodeId, NodeState, PodId, PodPhase};
use crate::engine::{SimDuration, SimTime};
use crate::model::CapacityType;
use crate::model::labels::{Taint, TaintEffect, no_execute_grace};
use crate::scenario::faults::{Fault, NODE_MONITOR_GRACE_PERIOD};

/// The taint the node lifecycle controller puts on a node whose status is Unknown.
/// upstream: k8s.io/api/core/v1 well_known_taints.go `TaintNodeUnreachable`.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";

impl World<'_> {
    /// Queues the start and end of every fault.
    pub(super) fn schedule_faults(&mut self) {
        for (i, f) in self.sc.faults.iter().enumerate() {
            let (from, to) = f.window();
            self.queue.push(from, Event::FaultStart(i as u32));
            self.queue.push(to, Event::FaultEnd(i as u32));
        }
    }

    pub(super) fn fault_start(&mut self, now: SimTime, i: usize) {
        match self.sc.faults[i].clone() {
            Fault::ZoneOutage { zone, .. } => {
                let ids: Vec<NodeId> = self.cluster.live_nodes.clone();
                for id in ids {
                    let n = &mut self.cluster.nodes[id.0 as usize];
                    if n.zone != zone || matches!(n.state, NodeState::Terminating | NodeState::Terminated) {
                        continue;
                    }
                    n.unreachable = true;
                    if n.registered.is_some() {
                        self.queue
                            .push(now + NODE_MONITOR_GRACE_PERIOD, Event::NodeUnreachable(id));
                    }
                }
                self.faults_log.push((now, self.sc.faults[i].describe()));
            }
            Fault::SpotInterruptions {
                instance_type,
                zone,
                fraction,
                to,
                ..
            } => {
                let ids: Vec<NodeId> = self.cluster.live_nodes.clone();
                for id in ids {
                    let n = &self.cluster.nodes[id.0 as usize];
                    if n.capacity_type != CapacityType::Spot
                        || n.launched.is_none()
                        || zone.as_deref().is_some_and(|z| z != n.zone)
                        || instance_type.as_deref().is_some_and(|t| t != n.instance_type)
                    {
                        continue;
                    }
                    self.storm_reclaim(now, id, fraction, to, i);
                }
                self.faults_log.push((now, self.sc.faults[i].describe()));
            }
            Fault::InsufficientCapacity { .. } | Fault::MetricsOutage { .. } => {
                self.faults_log.push((now, self.sc.faults[i].describe()))
            }
        }
    }

    /// A spot storm reaches node `id` (alive at the storm's start, or launched during it): with
    /// probability `fraction` it is reclaimed at a uniform instant in `[now, to)`.
    pub(super) fn storm_reclaim(&mut self, now: SimTime, id: NodeId, fraction: f64, to: SimTime, fault: usize) {
        use rand::RngExt;
        let mut rng = self
            .rngs
            .stream_named(self.fault_stream, (fault as u64) << 32 | u64::from(id.0));
        if rng.random::<f64>() >= fraction {
            return;
        }
        let span = to.since(now).as_secs_f64();
        let at = now + SimDuration::from_secs_f64(rng.random::<f64>() * span);
        let n = &mut self.cluster.nodes[id.0 as usize];
        if n.reclaim_at.is_some_and(|r| r <= at) {
            return;
        }
        n.reclaim_at = Some(at);
        let notice = crate::cloud::spot::SPOT_INTERRUPTION_NOTICE;
        // The warning comes two minutes before, or now if the reclaim is sooner.
        let warn = at.saturating_sub(notice).max(now);
        self.queue.push(warn, Event::SpotWarning(id));
    }

    /// Spot storms active at `now` that reach a node launched now.
    pub(super) fn storms_at_launch(&mut self, now: SimTime, id: NodeId) {
        for (i, f) in self.sc.faults.iter().enumerate() {
            if let Fault::SpotInterruptions {
                instance_type,
                zone,
                fraction,
                from,
                to,
            } = f
            {
                let n = &self.cluster.nodes[id.0 as usize];
                if *from <= now
                    && now < *to
                    && n.capacity_type == CapacityType::Spot
                    && zone.as_deref().is_none_or(|z| z == n.zone)
                    && instance_type.as_deref().is_none_or(|t| t == n.instance_type)
                {
                    let (fraction, to) = (*fraction, *to);
                    self.storm_reclaim(now, id, fraction, to, i);
                }
            }
        }
    }

    pub(super) fn fault_end(&mut self, now: SimTime, i: usize) {
        let Fault::ZoneOutage { zone, .. } = self.sc.faults[i].clone() else {
            return;
        };
        // Another outage of the same zone still running keeps it dark.
        let still = self.sc.faults.iter().enumerate().any(|(j, f)| {
            j != i && matches!(f, Fault::ZoneOutage { zone: z, from, to } if *z == zone && *from <= now && now < *to)
        });
        if still {
            return;
        }
        let ids: Vec<NodeId> = self.cluster.live_nodes.clone();
        for id in ids {
            let n = &mut self.cluster.nodes[id.0 as usize];
            if n.zone != zone || !n.unreachable {
                continue;
            }
            n.unreachable = false;
            if n.state == NodeState::NotReady {
                // The kubelet posts status again: Ready, its surviving pods Ready again.
                n.state = NodeState::Ready;
                let pods: Vec<PodId> = n.pods.clone();
                for p in pods {
                    let pod = &mut self.cluster.pods[p.0 as usize];
                    if pod.phase == PodPhase::Running && pod.ready.is_some() && pod.ready_due.is_none() {
                        pod.phase = PodPhase::Ready;
                        pod.ready = Some(now);
                        let wi = pod.workload as usize;
                        self.workloads[wi].ready += 1;
                    }
                }
                self.capacity_freed(id);
                self.service.touch(now);
                self.request_cycle(now);
            }
        }
    }

    /// The node lifecycle controller's grace period ran out for node `id`: NotReady, its pods
    /// not Ready, their evictions queued.
    pub(super) fn node_unreachable(&mut self, now: SimTime, id: NodeId) {
        let n = &mut self.cluster.nodes[id.0 as usize];
        if !n.unreachable || !matches!(n.state, NodeState::Ready | NodeState::Registered | NodeState::Draining) {
            return;
        }
        n.state = NodeState::NotReady;
        let pods: Vec<PodId> = n.pods.clone();
        let taint = [Taint {
            key: TAINT_UNREACHABLE.into(),
            value: String::new(),
            effect: TaintEffect::NoExecute,
        }];
        for p in pods {
            let pod = &mut self.cluster.pods[p.0 as usize];
            if !pod.phase.is_active() {
                continue;
            }
            let wi = pod.workload as usize;
            if pod.phase == PodPhase::Ready {
                // upstream `MarkPodsNotReady`: the Ready condition goes false; endpoints drop it.
                pod.phase = PodPhase::Running;
                self.workloads[wi].ready -= 1;
            }
            let tmpl = self.templates.of(&self.cluster.pods[p.0 as usize]);
            if let Some(grace) = no_execute_grace(&tmpl.tolerations, &taint) {
                let after = SimDuration::from_secs(u64::try_from(grace).unwrap_or(0));
                self.queue.push(now + after, Event::TaintEviction(p));
            }
        }
        self.service.touch(now);
    }

    /// The taint manager deletes pod `p` if its node is still unreachable.
    pub(super) fn taint_eviction(&mut self, now: SimTime, p: PodId) {
        let pod = &self.cluster.pods[p.0 as usize];
        let Some(n) = pod.node else { return };
        if !pod.phase.is_active() || self.cluster.nodes[n.0 as usize].state != NodeState::NotReady {
            return;
        }
        let wi = pod.workload as usize;
        self.delete_pod(now, p, DeleteReason::TaintEviction);
        self.reconcile_replicas(wi);
    }
}
