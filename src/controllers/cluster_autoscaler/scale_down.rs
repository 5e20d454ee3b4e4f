//! Scale-down: which nodes are unneeded, for how long, and which to delete now.
//!
//! upstream: core/scaledown/planner/planner.go (candidates, simulation, unneeded tracking),
//! core/scaledown/eligibility/eligibility.go (utilization threshold), simulator/utilization/info.go
//! (request-based utilization), simulator/removal.go and simulator/drainability/rules/*
//! (which pods must move and whether they can), core/scaledown/pdb/basic.go (PodDisruptionBudgets),
//! core/scaledown/unneeded/nodes.go (`RemovableAt`: unneeded/unready time, node-group min size,
//! cluster minimum resources), core/scaledown/budgets/budgets.go (parallelism), and
//! core/static_autoscaler.go (cooldowns).
//!
//! Not modelled: local-storage volumes (capsim pod templates carry no volumes, so
//! `--skip-nodes-with-local-storage` never blocks), controller-less pods (every capsim pod belongs
//! to a Deployment), mirror pods, and `--blocking-system-pod-distruption-timeout`.

use super::scale_up::SimNode;
use super::{ClusterAutoscaler, DeletionKind, millis, still_within};
use crate::cluster::placement::{admits, volume_zone_ok};
use crate::cluster::topology::Views;
use crate::cluster::{ClusterView, Node, NodeId, NodeState, Pod, PodId, PodPhase};
use crate::controllers::provisioner::{Action, Activity, Decision, DecisionRecord};
use crate::model::Resources;
use std::collections::BTreeMap;

/// upstream: utils/drain `PodSafeToEvictKey`.
pub const SAFE_TO_EVICT_ANNOTATION: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";
/// upstream: core/scaledown/eligibility `ScaleDownDisabledKey` (on the node; capsim nodes carry it
/// as a label when a node group sets it).
pub const SCALE_DOWN_DISABLED: &str = "cluster-autoscaler.kubernetes.io/scale-down-disabled";

/// Request-based utilization of a node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Utilization {
    pub cpu: f64,
    pub mem: f64,
}

impl Utilization {
    /// upstream: utilization/info.go: the node's utilization is the larger of cpu and memory.
    pub fn max(&self) -> f64 {
        self.cpu.max(self.mem)
    }
}

/// upstream: simulator/utilization/info.go `CalculateUtilizationOfResource`:
/// `Σ pod requests / allocatable`, where DaemonSet pods count in the numerator unless
/// `--ignore-daemonsets-utilization`, in which case they are taken out of the denominator.
/// capsim's `node.allocatable` already excludes DaemonSets (`node.daemonset` holds them), so the
/// kubelet allocatable is their sum. Terminating pods still count (upstream only drops pods
/// terminating for longer than their grace period plus a margin, which cannot happen here).
pub fn node_utilization(node: &Node, pods: &[Pod], ignore_daemonsets: bool) -> Utilization {
    utilization_of(node, bound_requests(node, pods), ignore_daemonsets)
}

/// Σ requests of the node's bound pods.
fn bound_requests(node: &Node, pods: &[Pod]) -> Resources {
    let mut req = Resources::ZERO;
    for &p in &node.pods {
        let pod = &pods[p.0 as usize];
        if pod.phase.is_bound() {
            req += pod.requests;
        }
    }
    req
}

/// [`node_utilization`] given the pods' summed requests `req`.
fn utilization_of(node: &Node, req: Resources, ignore_daemonsets: bool) -> Utilization {
    let (num, den) = if ignore_daemonsets {
        (req, node.allocatable)
    } else {
        (req + node.daemonset, node.allocatable + node.daemonset)
    };
    let frac = |n: i64, d: i64| if d > 0 { n as f64 / d as f64 } else { f64::INFINITY };
    Utilization {
        cpu: frac(num.cpu_m, den.cpu_m),
        mem: frac(num.mem, den.mem),
    }
}

/// Why a node cannot be removed (upstream: simulator `UnremovableReason`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unremovable {
    NotUnderutilized,
    ScaleDownDisabledAnnotation,
    NotSafeToEvictAnnotation(PodId),
    UnmovableKubeSystemPod(PodId),
    NotEnoughPdb { pod: PodId, pdb: String },
    NoPlaceToMovePods(PodId),
    NonEmptyCandidatesLimit,
}

/// A node that could be removed this loop.
#[derive(Clone, Debug, PartialEq)]
pub struct RemovableNode {
    pub id: NodeId,
    pub group: usize,
    /// No pod has to move.
    pub empty: bool,
    /// False when a PDB covers more of its pods than the budget allows at once: drain it alone.
    pub in_parallel: bool,
    pub pods: Vec<PodId>,
    pub utilization: f64,
    /// Registered but not Ready (uses `--scale-down-unready-time`).
    pub unready: bool,
}

/// Does PDB `i` select this pod? (same namespace, selector ⊆ template labels)
fn pdb_matches(view: &ClusterView<'_>, i: usize, pod: &Pod) -> bool {
    let pdb = &view.scenario.pdbs[i];
    let wl = &view.scenario.workloads[pod.workload as usize];
    pdb.covers(wl)
}

impl ClusterAutoscaler {
    /// Drainability rules for the pods that must move (upstream: simulator/drainability/rules).
    fn blocking_pod(&self, view: &ClusterView<'_>, pods: &[PodId]) -> Option<Unremovable> {
        for &p in pods {
            let pod = &view.pods[p.0 as usize];
            let wl = &view.scenario.workloads[pod.workload as usize];
            match wl
                .template
                .annotations
                .get(SAFE_TO_EVICT_ANNOTATION)
                .map(String::as_str)
            {
                // rules/notsafetoevict: `safe-to-evict: "false"` blocks.
                Some("false") => return Some(Unremovable::NotSafeToEvictAnnotation(p)),
                // rules/safetoevict: `"true"` skips the controller, system and local-storage rules.
                Some("true") => continue,
                _ => {}
            }
            // rules/system: kube-system pods without a PDB block when skip-nodes-with-system-pods.
            if self.flags.skip_nodes_with_system_pods
                && wl.namespace == "kube-system"
                && !(0..view.scenario.pdbs.len()).any(|i| pdb_matches(view, i, pod))
            {
                return Some(Unremovable::UnmovableKubeSystemPod(p));
            }
        }
        None
    }

    /// upstream: core/scaledown/pdb/basic.go `CanRemovePods`: blocked if a matching PDB allows no
    /// disruption; not in parallel if a PDB covers more pods than it allows.
    fn check_pdbs(&self, view: &ClusterView<'_>, pdb_left: &[i64], pods: &[PodId]) -> Result<bool, Unremovable> {
        let mut in_parallel = true;
        for (i, &left) in pdb_left.iter().enumerate().take(view.scenario.pdbs.len()) {
            let mut found = 0i64;
            for &p in pods {
                if pdb_matches(view, i, &view.pods[p.0 as usize]) {
                    found += 1;
                    if left < 1 {
                        return Err(Unremovable::NotEnoughPdb {
                            pod: p,
                            pdb: view.scenario.pdbs[i].name.clone(),
                        });
                    }
                }
            }
            if found > left {
                in_parallel = false;
            }
        }
        Ok(in_parallel)
    }

    /// Simulates removing each candidate in turn; returns the removable nodes (in evaluation order)
    /// and why the others are not.
    pub fn find_removable(&self, view: &ClusterView<'_>) -> (Vec<RemovableNode>, BTreeMap<NodeId, Unremovable>) {
        let mut unremovable = BTreeMap::new();
        let out = self.simulate_removal(view, |id, why| {
            unremovable.insert(id, why);
        });
        (out, unremovable)
    }

    /// [`find_removable`](Self::find_removable) with the reasons handed to `unremovable` (the
    /// loop itself does not keep them, so it passes a no-op and pays for no map).
    pub(crate) fn simulate_removal(
        &self,
        view: &ClusterView<'_>,
        mut unremovable: impl FnMut(NodeId, Unremovable),
    ) -> Vec<RemovableNode> {
        // Candidates in evaluation order. upstream: processors/scaledowncandidates: nodes already
        // unneeded are evaluated first; within each half, node-id order (`live_nodes` is in id
        // order, so a stable partition is the sort by (not unneeded, id)).
        let mut candidates: Vec<(NodeId, usize, f64, bool)> = Vec::new();
        let mut fresh: Vec<(NodeId, usize, f64, bool)> = Vec::new();
        debug_assert!(
            view.live_nodes.is_sorted(),
            "ClusterView::live_nodes must be in id order"
        );
        for &id in view.live_nodes {
            let n = &view.nodes[id.0 as usize];
            let facts = self.facts(n);
            let Some(gi) = facts.group else { continue };
            if self.deleting.contains_key(&id) {
                continue;
            }
            let unready = match n.state {
                NodeState::Ready => false,
                NodeState::Registered | NodeState::NotReady if self.flags.scale_down_unready_enabled => true,
                _ => continue,
            };
            if facts.scale_down_disabled {
                unremovable(id, Unremovable::ScaleDownDisabledAnnotation);
                continue;
            }
            // The world's `allocated` is the scheduler's sum of the requests of the pods bound to
            // the node (exactly `node.pods`, all bound), so it is the numerator
            // `node_utilization` would add up pod by pod.
            debug_assert!({
                let req = bound_requests(n, view.pods);
                (req.cpu_m, req.mem) == (n.allocated.cpu_m, n.allocated.mem)
            });
            let util = utilization_of(n, n.allocated, self.flags.ignore_daemonsets_utilization).max();
            // Candidate when utilization ≤ threshold: the CA ≥ 1.36 rule (research-notes
            // semantics.md §4.4). Older releases required strictly below
            // (core/scaledown/eligibility/eligibility.go `isNodeBelowUtilizationThreshold`:
            // `utilization >= threshold` → not underutilized, read at e5f0aa0a), which made
            // `--scale-down-utilization-threshold=0` keep empty nodes (kubernetes/autoscaler#6791).
            if util > self.flags.scale_down_utilization_threshold {
                unremovable(id, Unremovable::NotUnderutilized);
                continue;
            }
            if self.unneeded_since.contains_key(&id) {
                candidates.push((id, gi, util, unready));
            } else {
                fresh.push((id, gi, util, unready));
            }
        }
        candidates.append(&mut fresh);

        // The rescheduling targets: Ready nodes not being deleted, in id order. Built on first use
        // (only a non-empty candidate needs them); `gone[i]` marks `dest[i]` as simulated removed.
        let mut dest: Vec<SimNode<'_>> = Vec::new();
        let mut gone: Vec<bool> = Vec::new();
        let mut dest_built = false;
        let mut removed: Vec<NodeId> = Vec::new();
        let mut pdb_left: Vec<i64> = view.pdb_allowed.to_vec();
        pdb_left.resize(view.scenario.pdbs.len(), 0);
        let mut non_empty_checked = 0i64;
        let mut out = Vec::new();
        // The inter-pod filters over the snapshot as the simulation moves pods (no-ops when no
        // template has a hard inter-pod constraint).
        let mut views = Views::new(view.nodes, view.live_nodes, view.pods, view.templates);
        let is_moving = |p: &PodId| {
            matches!(
                view.pods[p.0 as usize].phase,
                PodPhase::Starting | PodPhase::Running | PodPhase::Ready
            )
        };
        for (id, gi, util, unready) in candidates {
            let n = &view.nodes[id.0 as usize];
            if n.pods.iter().any(is_moving) {
                let limit = self.flags.scale_down_non_empty_candidates_count;
                if limit > 0 && non_empty_checked >= limit {
                    unremovable(id, Unremovable::NonEmptyCandidatesLimit);
                    continue;
                }
                non_empty_checked += 1;
            }
            let pods: Vec<PodId> = n.pods.iter().copied().filter(is_moving).collect();
            if let Some(reason) = self.blocking_pod(view, &pods) {
                unremovable(id, reason);
                continue;
            }
            let in_parallel = match self.check_pdbs(view, &pdb_left, &pods) {
                Ok(b) => b,
                Err(reason) => {
                    unremovable(id, reason);
                    continue;
                }
            };
            if !pods.is_empty() && !dest_built {
                dest_built = true;
                dest.extend(
                    view.live_nodes
                        .iter()
                        .map(|&id| &view.nodes[id.0 as usize])
                        .filter(|n| n.state == NodeState::Ready && !self.deleting.contains_key(&n.id))
                        .map(|n| SimNode {
                            id: n.id,
                            labels: &n.labels,
                            taints: &n.taints,
                            free: n.free(),
                            upcoming: false,
                        }),
                );
                gone = vec![false; dest.len()];
                for r in &removed {
                    if let Ok(i) = dest.binary_search_by_key(r, |d| d.id) {
                        gone[i] = true;
                    }
                }
            }
            // Reschedule every pod onto the remaining nodes (first fit); undo on failure. The
            // node leaves the snapshot first (its pods with it), as upstream's simulator removes
            // it before scheduling its pods elsewhere.
            if views.active() {
                for &p in &pods {
                    views.place(&view.pods[p.0 as usize], id.0 as usize, -1);
                }
                views.remove_node(id.0 as usize);
            }
            let mut placed: Vec<(usize, Resources, PodId)> = Vec::new();
            let mut failed = None;
            for &p in &pods {
                let pod = &view.pods[p.0 as usize];
                let tmpl = view.templates.of(pod);
                let slot = (0..dest.len()).find(|&i| {
                    let d = &dest[i];
                    d.id != id
                        && !gone[i]
                        && pod.requests.fits_in(&d.free)
                        && admits(tmpl, d.labels, d.taints)
                        && volume_zone_ok(pod.volume_zone.as_deref(), d.labels)
                        && views.admits(pod, d.labels)
                });
                match slot {
                    Some(s) => {
                        dest[s].free -= pod.requests;
                        views.place(pod, dest[s].id.0 as usize, 1);
                        placed.push((s, pod.requests, p));
                    }
                    None => {
                        failed = Some(p);
                        break;
                    }
                }
            }
            if let Some(p) = failed {
                for (s, r, q) in placed {
                    dest[s].free += r;
                    views.place(&view.pods[q.0 as usize], dest[s].id.0 as usize, -1);
                }
                if views.active() {
                    views.add_node(id.0 as usize, &n.labels, &n.taints);
                    for &q in &pods {
                        views.place(&view.pods[q.0 as usize], id.0 as usize, 1);
                    }
                }
                unremovable(id, Unremovable::NoPlaceToMovePods(p));
                continue;
            }
            // upstream: basic.go `RemovePods`: the removal uses up PDB budget.
            for (i, left) in pdb_left.iter_mut().enumerate() {
                let used = pods
                    .iter()
                    .filter(|&&p| pdb_matches(view, i, &view.pods[p.0 as usize]))
                    .count() as i64;
                *left -= used;
            }
            // `dest` is in id order (a subsequence of `live_nodes`).
            if let Ok(i) = dest.binary_search_by_key(&id, |d| d.id) {
                gone[i] = true;
            }
            removed.push(id);
            out.push(RemovableNode {
                id,
                group: gi,
                empty: pods.is_empty(),
                in_parallel,
                pods,
                utilization: util,
                unready,
            });
        }
        out
    }

    /// upstream: static_autoscaler.go: scale-down is in cooldown while
    /// `lastScaleUpTime + delayAfterAdd`, `lastScaleDownDeleteTime + delayAfterDelete` or
    /// `lastScaleDownFailTime + delayAfterFailure` is after now.
    pub fn scale_down_in_cooldown(&self, now: crate::engine::SimTime) -> Option<&'static str> {
        let f = &self.flags;
        if still_within(self.last_scale_up, f.scale_down_delay_after_add, now) {
            Some("scale-down-delay-after-add")
        } else if still_within(self.last_scale_down_delete, f.scale_down_delay_after_delete, now) {
            Some("scale-down-delay-after-delete")
        } else if still_within(self.last_scale_down_fail, f.scale_down_delay_after_failure, now) {
            Some("scale-down-delay-after-failure")
        } else {
            None
        }
    }

    pub(crate) fn scale_down(
        &mut self,
        view: &ClusterView<'_>,
        disabled_for_loop: bool,
        actions: &mut Vec<Action>,
        records: &mut Vec<DecisionRecord>,
    ) {
        let now = view.now;
        let removable = self.simulate_removal(view, |_, _| {});
        // Unneeded bookkeeping continues during cooldown (upstream: planner `UpdateClusterState`).
        let mut since = BTreeMap::new();
        for r in &removable {
            let t = match self.unneeded_since.get(&r.id) {
                Some(&t) => t,
                None => {
                    records.push(self.record(
                        now,
                        Activity::ScaleDown,
                        Decision::Unneeded,
                        &view.nodes[r.id.0 as usize].name,
                        format!(
                            "utilization {:.3} <= {} and all {} pod(s) can move",
                            r.utilization,
                            self.flags.scale_down_utilization_threshold,
                            r.pods.len()
                        ),
                    ));
                    now
                }
            };
            since.insert(r.id, t);
        }
        self.unneeded_since = since;
        if disabled_for_loop || self.scale_down_in_cooldown(now).is_some() {
            return;
        }

        // upstream: unneeded/nodes.go `RemovableAt`: unneeded long enough, group above min size,
        // cluster above its minimum cores and memory; then budgets.go `CropNodes`: empty nodes
        // first within max-scale-down-parallelism, then drains within max-drain-parallelism.
        let (cluster_cpu, cluster_mem, _) = self.cluster_capacity(view);
        let mut cpu_left = cluster_cpu - self.flags.cores_total.0.saturating_mul(1000);
        let mut mem_left = cluster_mem
            - self
                .flags
                .memory_total_gib
                .0
                .saturating_mul(crate::model::resources::GIB);
        let mut sizes: Vec<u32> = (0..self.groups.len()).map(|gi| self.group_size(view, gi)).collect();
        let empty_ip = self.deleting.values().filter(|k| **k == DeletionKind::Empty).count() as u32;
        let drain_ip = self.deleting.values().filter(|k| **k == DeletionKind::Drain).count() as u32;
        let mut total_budget = self
            .flags
            .max_scale_down_parallelism
            .saturating_sub(empty_ip + drain_ip);
        let mut drain_budget = self.flags.max_drain_parallelism.saturating_sub(drain_ip);
        let mut drains_chosen = 0u32;
        let ready_to_go = |r: &RemovableNode| {
            let wait = if r.unready {
                self.flags.scale_down_unready_time
            } else {
                self.flags.scale_down_unneeded_time
            };
            self.unneeded_since.get(&r.id).is_some_and(|&t| t + wait <= now)
        };
        let mut chosen: Vec<(&RemovableNode, DeletionKind)> = Vec::new();
        for pass_empty in [true, false] {
            for r in removable.iter().filter(|r| r.empty == pass_empty && ready_to_go(r)) {
                if total_budget == 0 {
                    break;
                }
                if !r.empty && (drain_budget == 0 || (!r.in_parallel && (drain_ip > 0 || drains_chosen > 0))) {
                    continue;
                }
                let g = &self.groups[r.group];
                if sizes[r.group] <= g.min {
                    continue;
                }
                let cap = self.templates[r.group].capacity;
                if cpu_left - cap.cpu_m < 0 || mem_left - cap.mem < 0 {
                    continue;
                }
                sizes[r.group] -= 1;
                cpu_left -= cap.cpu_m;
                mem_left -= cap.mem;
                total_budget -= 1;
                if r.empty {
                    chosen.push((r, DeletionKind::Empty));
                } else {
                    drain_budget -= 1;
                    drains_chosen += 1;
                    chosen.push((r, DeletionKind::Drain));
                    if !r.in_parallel {
                        drain_budget = 0;
                    }
                }
            }
        }
        for (r, kind) in chosen {
            let node = &view.nodes[r.id.0 as usize];
            let unneeded_for = now.since(self.unneeded_since.get(&r.id).copied().unwrap_or(now));
            let why = format!(
                "utilization {:.3} <= {}; unneeded for {unneeded_for}",
                r.utilization, self.flags.scale_down_utilization_threshold
            );
            match kind {
                DeletionKind::Empty => {
                    actions.push(Action::Terminate {
                        node: r.id,
                        reason: format!("scale-down: empty node ({why})"),
                    });
                    records.push(self.record(now, Activity::ScaleDown, Decision::DeleteEmpty, &node.name, why));
                }
                _ => {
                    actions.push(Action::Drain {
                        node: r.id,
                        reason: format!("scale-down: drain {} pod(s) ({why})", r.pods.len()),
                        max_eviction_time: self.flags.max_pod_eviction_time,
                        force: false,
                    });
                    records.push(self.record(
                        now,
                        Activity::ScaleDown,
                        Decision::Drain,
                        &node.name,
                        format!("{why}; {} pod(s) to evict", r.pods.len()),
                    ));
                }
            }
            self.deleting.insert(r.id, kind);
            self.last_scale_down_delete = millis(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;
    use crate::model::CapacityType;
    use crate::model::resources::GIB;

    fn node(alloc: Resources, ds: Resources, pods: Vec<PodId>) -> Node {
        let spec = crate::cluster::NodeSpec {
            pool: "g".into(),
            instance_type: "m5.xlarge".into(),
            capacity_type: CapacityType::OnDemand,
            zone: String::new(),
            price_hr: 0.0,
            labels: Default::default(),
            taints: vec![],
            allocatable: alloc,
        };
        Node {
            daemonset: ds,
            pods,
            state: NodeState::Ready,
            ..Node::new(NodeId(0), "n".into(), spec, SimTime::ZERO, String::new())
        }
    }

    fn pod(i: u32, req: Resources, phase: PodPhase) -> Pod {
        Pod {
            phase,
            node: Some(NodeId(0)),
            ..Pod::new(PodId(i), 0, i, 0, req, SimTime::ZERO)
        }
    }

    #[test]
    fn utilization_counts_daemonsets_unless_ignored() {
        // Kubelet allocatable 4000m / 16 GiB; DaemonSets 200m / 1 GiB (world allocatable 3800m /
        // 15 GiB); pods 600m + 400m / 3 GiB + 1 GiB; a deleted pod does not count.
        let pods = vec![
            pod(0, Resources::new(600, 3 * GIB, 1), PodPhase::Ready),
            pod(1, Resources::new(400, GIB, 1), PodPhase::Terminating),
            pod(2, Resources::new(9000, 9 * GIB, 1), PodPhase::Deleted),
        ];
        let n = node(
            Resources::new(3800, 15 * GIB, 57),
            Resources::new(200, GIB, 1),
            vec![PodId(0), PodId(1), PodId(2)],
        );
        // counted: cpu (1000 + 200) / 4000 = 0.3, mem (4 + 1) / 16 = 0.3125 → 0.3125
        let u = node_utilization(&n, &pods, false);
        assert!((u.cpu - 0.3).abs() < 1e-12 && (u.max() - 0.3125).abs() < 1e-12, "{u:?}");
        // ignored: cpu 1000 / 3800 = 0.26316, mem 4 / 15 = 0.26667 → 0.26667
        let u = node_utilization(&n, &pods, true);
        assert!(
            (u.cpu - 1000.0 / 3800.0).abs() < 1e-12 && (u.max() - 4.0 / 15.0).abs() < 1e-12,
            "{u:?}"
        );
    }
}
