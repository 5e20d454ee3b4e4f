//! Applying provisioner decisions: launches, cordons, drains through the eviction API with
//! PodDisruptionBudgets enforced, terminations, spot reclaims.

use super::{Event, World};
use crate::cluster::{DeleteReason, NodeId, NodeState, PodId, PodPhase};
use crate::controllers::provisioner::{Action, Activity, Decision, DecisionRecord, NodeNotice, Provisioner};
use crate::engine::{SimDuration, SimTime};
use crate::model::IntOrPercent;
use std::collections::BTreeMap;

/// Blocked evictions are retried at this interval. Cluster Autoscaler retries a failed eviction
/// every 10 s until `--max-pod-eviction-time` (kubernetes/autoscaler core/scaledown/actuation, as
/// read for research-notes/semantics.md §4.4). Karpenter's terminator requeues blocked evictions
/// too; capsim uses the same interval for it (a capsim choice, not an upstream constant).
pub const EVICTION_RETRY: SimDuration = SimDuration::from_secs(10);

/// The provisioning stage of the world: the provisioner, every decision record, and the drains
/// the world's eviction API is carrying out.
#[derive(Default)]
pub struct Provisioning {
    pub provisioner: Option<Box<dyn Provisioner>>,
    /// Every provisioner decision (and the world's and cloud's notes), for `autoscaler.csv`.
    pub decisions: Vec<DecisionRecord>,
    pub drains: BTreeMap<NodeId, DrainState>,
    /// Spot interruption warnings delivered.
    pub interruptions: u32,
}

/// An in-progress drain.
#[derive(Clone, Debug)]
pub struct DrainState {
    pub reason: String,
    pub deadline: SimTime,
    pub force: bool,
}

impl World<'_> {
    /// How many more disruptions each PodDisruptionBudget allows now
    /// (upstream: pkg/controller/disruption/disruption.go: healthy − desiredHealthy, where
    /// minAvailable percentages round up and maxUnavailable percentages round up too).
    pub fn pdb_allowed(&self) -> Vec<i64> {
        self.sc
            .pdbs
            .iter()
            .map(|pdb| {
                let mut expected = 0i64;
                let mut healthy = 0i64;
                for (i, wl) in self.sc.workloads.iter().enumerate() {
                    if !pdb.covers(wl) {
                        continue;
                    }
                    expected += i64::from(self.workloads[i].desired);
                    healthy += i64::from(self.workloads[i].ready);
                }
                let pct = |p: f64| ((p / 100.0) * expected as f64).ceil() as i64;
                let desired_healthy = match (pdb.min_available, pdb.max_unavailable) {
                    (Some(IntOrPercent::Int(n)), _) => n,
                    (Some(IntOrPercent::Percent(p)), _) => pct(p),
                    (None, Some(IntOrPercent::Int(n))) => expected - n,
                    (None, Some(IntOrPercent::Percent(p))) => expected - pct(p),
                    (None, None) => 0,
                };
                (healthy - desired_healthy).max(0)
            })
            .collect()
    }

    /// Indexes of the PDBs that cover pods of workload `wi`.
    pub(super) fn pdbs_of(&self, wi: usize) -> Vec<usize> {
        let wl = &self.sc.workloads[wi];
        self.sc
            .pdbs
            .iter()
            .enumerate()
            .filter(|(_, pdb)| pdb.covers(wl))
            .map(|(k, _)| k)
            .collect()
    }

    /// Pods the scheduler could not place, in queue order.
    pub fn unschedulable_pods(&self) -> Vec<PodId> {
        self.scheduling
            .pending
            .iter()
            .map(|k| k.2)
            .filter(|p| self.cluster.pods[p.0 as usize].unschedulable_since.is_some())
            .collect()
    }

    /// Calls the provisioner and applies what it decides.
    pub(super) fn provisioner_loop(&mut self, now: SimTime) {
        let Some(mut prov) = self.provisioning.provisioner.take() else {
            return;
        };
        let unschedulable = self.unschedulable_pods();
        let pdb_allowed = self.pdb_allowed();
        let view = self
            .cluster
            .view(now, self.sc, &unschedulable, &pdb_allowed, &self.templates);
        let (actions, records) = prov.reconcile(&view, &self.rngs);
        let period = prov.period();
        let component = prov.component();
        self.provisioning.provisioner = Some(prov);
        self.provisioning.decisions.extend(records);
        for a in actions {
            self.apply(now, a, component);
        }
        self.queue.push(now + period, Event::ProvisionerLoop);
    }

    pub(super) fn notify(&mut self, notice: NodeNotice) {
        let now = self.now();
        if let Some(p) = self.provisioning.provisioner.as_mut() {
            p.notice(&notice, now);
        }
    }

    fn record(
        &mut self,
        now: SimTime,
        component: &'static str,
        activity: Activity,
        decision: Decision,
        object: &str,
        reason: &str,
    ) {
        self.provisioning.decisions.push(DecisionRecord {
            time_s: now.as_secs_f64(),
            component,
            activity,
            decision,
            object: object.to_string(),
            reason: reason.to_string(),
        });
    }

    fn apply(&mut self, now: SimTime, action: Action, component: &'static str) {
        match action {
            Action::Launch {
                id,
                spec,
                latency,
                reason,
            } => {
                let latency = latency.over(self.sc.node_latency_for(&spec.instance_type));
                let node = self.launch_node(spec, reason, &latency);
                // The launch's answer, before the next reconcile (CloudProvider.Create returns
                // the NodeClaim it created).
                self.notify(NodeNotice::Launched { id, node });
            }
            Action::Cordon { node, reason } => self.cordon(node, &reason),
            Action::Uncordon { node, reason } => {
                let n = &mut self.cluster.nodes[node.0 as usize];
                if n.state == NodeState::Draining {
                    n.state = NodeState::Ready;
                    n.drain_started = None;
                    let name = n.name.clone();
                    self.capacity_freed(node);
                    self.provisioning.drains.remove(&node);
                    self.record(now, component, Activity::Drain, Decision::Uncordon, &name, &reason);
                    self.request_cycle(now);
                }
            }
            Action::Drain {
                node,
                reason,
                max_eviction_time,
                force,
            } => {
                if self.cluster.nodes[node.0 as usize].state == NodeState::Terminated {
                    return;
                }
                self.cordon(node, &reason);
                self.provisioning.drains.insert(
                    node,
                    DrainState {
                        reason,
                        deadline: now + max_eviction_time,
                        force,
                    },
                );
                self.drain_step(now, node);
            }
            Action::Terminate { node, reason } => self.terminate_node(now, node, &reason),
        }
    }

    fn cordon(&mut self, node: NodeId, reason: &str) {
        let now = self.now();
        let n = &mut self.cluster.nodes[node.0 as usize];
        if matches!(
            n.state,
            NodeState::Ready | NodeState::Registered | NodeState::Booting | NodeState::Launching
        ) {
            n.state = NodeState::Draining;
            n.drain_started = Some(now);
            if n.removed_by.is_empty() {
                n.removed_by = reason.to_string();
            }
        }
    }

    /// One eviction pass over a draining node.
    pub(super) fn drain_step(&mut self, now: SimTime, node: NodeId) {
        let Some(drain) = self.provisioning.drains.get(&node).cloned() else {
            return;
        };
        let mut allowed = self.pdb_allowed();
        let pods: Vec<PodId> = self.cluster.nodes[node.0 as usize].pods.clone();
        let mut blocked = 0usize;
        let mut last_exit = now;
        for p in pods {
            let pod = &self.cluster.pods[p.0 as usize];
            if !pod.phase.is_active() {
                continue;
            }
            let wi = pod.workload as usize;
            let pdbs = self.pdbs_of(wi);
            let counts = pod.phase == PodPhase::Ready;
            if !drain.force && counts && pdbs.iter().any(|&k| allowed[k] <= 0) {
                blocked += 1;
                continue;
            }
            if counts {
                for &k in &pdbs {
                    allowed[k] -= 1;
                }
            }
            let grace = self.templates.of(&self.cluster.pods[p.0 as usize]).termination_grace;
            last_exit = last_exit.max(now + grace);
            self.delete_pod(now, p, DeleteReason::Drained);
            self.reconcile_replicas(wi);
        }
        if blocked == 0 {
            self.provisioning.drains.remove(&node);
            // Terminate once the evicted pods have exited.
            self.queue.push(last_exit, Event::DrainDone(node));
        } else if now >= drain.deadline {
            self.provisioning.drains.remove(&node);
            let n = &mut self.cluster.nodes[node.0 as usize];
            n.state = NodeState::Ready;
            n.drain_started = None;
            n.removed_by.clear();
            let name = n.name.clone();
            self.capacity_freed(node);
            self.record(
                now,
                "world",
                Activity::Drain,
                Decision::DrainFailed,
                &name,
                &format!("{blocked} pod(s) blocked by PodDisruptionBudgets"),
            );
            self.notify(NodeNotice::DrainFailed(node));
            self.request_cycle(now);
        } else {
            self.queue
                .push((now + EVICTION_RETRY).min(drain.deadline), Event::DrainRetry(node));
        }
    }

    /// Terminates an instance: remaining pods are deleted, billing ends after the terminate latency.
    pub(super) fn terminate_node(&mut self, now: SimTime, node: NodeId, reason: &str) {
        let n = &mut self.cluster.nodes[node.0 as usize];
        if matches!(n.state, NodeState::Terminating | NodeState::Terminated) {
            return;
        }
        n.state = NodeState::Terminating;
        if n.removed_by.is_empty() {
            n.removed_by = reason.to_string();
        }
        let after = n.terminate_after;
        self.provisioning.drains.remove(&node);
        // The node is gone for scheduling at once; its pods go with it.
        self.evict_all(now, node, DeleteReason::NodeGone);
        self.queue.push(now + after, Event::NodeTerminated(node));
    }

    fn evict_all(&mut self, now: SimTime, node: NodeId, reason: DeleteReason) {
        let pods: Vec<PodId> = self.cluster.nodes[node.0 as usize].pods.clone();
        for p in pods {
            let wi = self.cluster.pods[p.0 as usize].workload as usize;
            if self.cluster.pods[p.0 as usize].phase.is_active() {
                self.delete_pod(now, p, reason);
                self.reconcile_replicas(wi);
            }
        }
    }

    /// Spot interruption warning: the provisioner hears of it two minutes before the reclaim.
    pub(super) fn spot_warning(&mut self, now: SimTime, node: NodeId) {
        let n = &self.cluster.nodes[node.0 as usize];
        if matches!(n.state, NodeState::Terminating | NodeState::Terminated) {
            return;
        }
        let name = n.name.clone();
        let at = now + crate::cloud::spot::SPOT_INTERRUPTION_NOTICE;
        self.provisioning.interruptions += 1;
        self.record(
            now,
            "cloud",
            Activity::Spot,
            Decision::InterruptionWarning,
            &name,
            "EC2 spot interruption notice (2 minutes)",
        );
        self.notify(NodeNotice::InterruptionWarning { node, at });
        self.queue.push(at, Event::SpotReclaim(node));
    }
}
