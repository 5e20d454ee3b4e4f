//! kube-scheduler's decision for one pod, as a pure function of the nodes it sees.
//!
//! Filters (upstream: pkg/scheduler/framework/plugins): `NodeUnschedulable` (only Ready,
//! uncordoned nodes), `NodeResourcesFit` (cpu, memory, pod count against allocatable, counting
//! resources of pods nominated to the node by preemption), `TaintToleration` (NoSchedule /
//! NoExecute), `NodeAffinity` (nodeSelector and required node affinity), and — through
//! [`PodTopology`] — `PodTopologySpread` (DoNotSchedule) and `InterPodAffinity` (required terms,
//! both ways).
//! Scores, with the default profile's weights (upstream:
//! pkg/scheduler/apis/config/v1/default_plugins.go): `TaintToleration` 3 (intolerable
//! PreferNoSchedule taints, reverse-normalized), `NodeAffinity` 2 (preferred terms),
//! `PodTopologySpread` 2 (ScheduleAnyway and the system defaults), `InterPodAffinity` 2
//! (preferred terms both ways), `NodeResourcesFit` 1 with `LeastAllocated` (default) or
//! `MostAllocated`, and `NodeResourcesBalancedAllocation` 1. (`ImageLocality` is not scored.)
//! Like upstream, large clusters stop searching after `numFeasibleNodesToFind` feasible nodes
//! (schedule_one.go), starting where the previous search stopped. Upstream breaks score ties at
//! random; capsim takes the first node in search order, so a run stays a function of its seed.

use crate::cluster::placement::{has_label_constraints, matches_labels, tolerates, volume_zone_ok};
use crate::cluster::topology::{self, PodTopology, Reject};
use crate::cluster::{Node, NodeId};
use crate::model::resources::round_i64;
use crate::model::{PodTemplate, Resources, ScoringStrategy, TaintEffect};

/// How many freed nodes the free-room index catches up on one by one; beyond, it is rebuilt.
pub const MAX_FREED_NODES: usize = 4096;

/// What the scheduler keeps between cycles to avoid repeating work. Each cache says what makes
/// it stale; the world tells it when a node may have gained room ([`SchedulerCache::capacity_freed`])
/// and when the node list changed ([`SchedulerCache::nodes_changed`]).
#[derive(Debug, Default)]
pub struct SchedulerCache {
    /// Where the next search starts (upstream's `nextStartNodeIndex`).
    pub sched_start: usize,
    /// Bumped whenever a node may have gained room for a pod (a pod left it, a nomination was
    /// cleared, it became Ready or was uncordoned).
    pub capacity_epoch: u64,
    /// The failed (template key, requests) of the last cycle and the epoch it ran at: they fail
    /// again while no node gained room.
    pub carried_failed: (u64, Vec<(u32, Resources)>),
    /// Bumped whenever the live node list changes (positions in it move).
    pub live_nodes_version: u64,
    /// The free-room index with the (capacity epoch, live-nodes version) it is exact for: kept
    /// across cycles, since between them nodes only lose room unless the epoch moves.
    pub free_index: Option<(u64, u64, FreeIndex)>,
    /// Nodes that may have gained room since the index was last brought up to date.
    pub freed_nodes: Vec<NodeId>,
    /// More than [`MAX_FREED_NODES`] were freed since: the index is rebuilt instead.
    pub freed_overflow: bool,
}

impl SchedulerCache {
    /// Node `n` may have gained room: failures of earlier cycles no longer hold, and the index
    /// re-reads `n`.
    pub fn capacity_freed(&mut self, n: NodeId) {
        self.capacity_epoch += 1;
        if self.freed_nodes.len() < MAX_FREED_NODES {
            self.freed_nodes.push(n);
        } else {
            self.freed_overflow = true; // rebuild the index rather than keep a long list
        }
    }

    /// A node joined or left the live list.
    pub fn nodes_changed(&mut self) {
        self.live_nodes_version += 1;
    }
}

/// upstream: pkg/scheduler/schedule_one.go `minFeasibleNodesToFind`.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// upstream: pkg/scheduler/schedule_one.go `minFeasibleNodesPercentageToFind`.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;
/// upstream: pkg/scheduler/framework/interface.go `MaxNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;

/// Why a node was filtered out, counted per cycle for the pod's event message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FilterReason {
    NotReady,
    InsufficientCpu,
    InsufficientMemory,
    TooManyPods,
    UntoleratedTaint,
    NodeAffinityMismatch,
    /// The inter-pod filters ([`Reject`]).
    TopologySpread,
    TopologySpreadMissingLabel,
    PodAffinity,
    PodAntiAffinity,
    ExistingPodsAntiAffinity,
    /// VolumeZone: the pod's bound volume is in another zone.
    VolumeZoneConflict,
}

impl From<Reject> for FilterReason {
    fn from(r: Reject) -> FilterReason {
        match r {
            Reject::Spread => FilterReason::TopologySpread,
            Reject::SpreadMissingLabel => FilterReason::TopologySpreadMissingLabel,
            Reject::Affinity => FilterReason::PodAffinity,
            Reject::AntiAffinity => FilterReason::PodAntiAffinity,
            Reject::ExistingAntiAffinity => FilterReason::ExistingPodsAntiAffinity,
        }
    }
}

impl FilterReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            FilterReason::NotReady => "node(s) not ready or cordoned",
            FilterReason::InsufficientCpu => "Insufficient cpu",
            FilterReason::InsufficientMemory => "Insufficient memory",
            FilterReason::TooManyPods => "Too many pods",
            FilterReason::UntoleratedTaint => "node(s) had untolerated taint",
            FilterReason::NodeAffinityMismatch => "node(s) didn't match Pod's node affinity/selector",
            FilterReason::TopologySpread => Reject::Spread.as_str(),
            FilterReason::TopologySpreadMissingLabel => Reject::SpreadMissingLabel.as_str(),
            FilterReason::PodAffinity => Reject::Affinity.as_str(),
            FilterReason::PodAntiAffinity => Reject::AntiAffinity.as_str(),
            FilterReason::ExistingPodsAntiAffinity => Reject::ExistingAntiAffinity.as_str(),
            FilterReason::VolumeZoneConflict => "node(s) had volume node affinity conflict",
        }
    }
}

/// Checks everything but resources: the filters preemption cannot fix. `volume_zone`: the zone
/// of the pod's bound volume, if any.
pub fn static_filters(node: &Node, tmpl: &PodTemplate, volume_zone: Option<&str>) -> Result<(), FilterReason> {
    static_filters_with(node, tmpl, true, volume_zone)
}

/// [`static_filters`]; `any_labels == false` says the pod has no node selector and no required
/// affinity, so the label filters pass on every node.
#[inline]
fn static_filters_with(
    node: &Node,
    tmpl: &PodTemplate,
    any_labels: bool,
    volume_zone: Option<&str>,
) -> Result<(), FilterReason> {
    if !node.schedulable() {
        return Err(FilterReason::NotReady);
    }
    if !volume_zone_ok(volume_zone, &node.labels) {
        return Err(FilterReason::VolumeZoneConflict);
    }
    if !tolerates(tmpl, &node.taints) {
        return Err(FilterReason::UntoleratedTaint);
    }
    if any_labels && !matches_labels(tmpl, &node.labels) {
        return Err(FilterReason::NodeAffinityMismatch);
    }
    Ok(())
}

/// NodeResourcesFit: does `req` fit in what is left of `node` after `reserved` (nominated pods)?
pub fn fits(node: &Node, req: &Resources, reserved: &Resources) -> Result<(), FilterReason> {
    let free = node.allocatable - node.allocated - *reserved;
    if req.pods > free.pods {
        return Err(FilterReason::TooManyPods);
    }
    if req.cpu_m > free.cpu_m {
        return Err(FilterReason::InsufficientCpu);
    }
    if req.mem > free.mem {
        return Err(FilterReason::InsufficientMemory);
    }
    Ok(())
}

/// `NodeResourcesFit` + `NodeResourcesBalancedAllocation` of placing `req` on `node` (weight 1
/// each; higher is better). The plugins that normalize over the feasible nodes are added by
/// [`pick`].
pub fn score(node: &Node, req: &Resources, strategy: ScoringStrategy) -> i64 {
    let after = node.allocated + *req;
    let frac = |used: i64, cap: i64| {
        if cap <= 0 {
            1.0
        } else {
            (used as f64 / cap as f64).min(1.0)
        }
    };
    let cpu = frac(after.cpu_m, node.allocatable.cpu_m);
    let mem = frac(after.mem, node.allocatable.mem);
    // upstream: noderesources/least_allocated.go and most_allocated.go, cpu and memory weight 1.
    let fit = match strategy {
        ScoringStrategy::LeastAllocated => ((1.0 - cpu) + (1.0 - mem)) / 2.0,
        ScoringStrategy::MostAllocated => (cpu + mem) / 2.0,
    };
    // upstream: noderesources/balanced_allocation.go: 1 - standard deviation of the fractions.
    let balanced = 1.0 - (cpu - mem).abs() / 2.0;
    round_i64((fit + balanced) * MAX_NODE_SCORE as f64)
}

/// Default-profile weights of the normalized score plugins (upstream:
/// pkg/scheduler/apis/config/v1/default_plugins.go).
pub const WEIGHT_TAINT_TOLERATION: i64 = 3;
pub const WEIGHT_NODE_AFFINITY: i64 = 2;
pub const WEIGHT_POD_TOPOLOGY_SPREAD: i64 = 2;
pub const WEIGHT_INTER_POD_AFFINITY: i64 = 2;

/// upstream: tainttoleration `Score`: PreferNoSchedule taints the pod does not tolerate.
fn intolerable_soft_taints(node: &Node, tmpl: &PodTemplate) -> i64 {
    node.taints
        .iter()
        .filter(|t| t.effect == TaintEffect::PreferNoSchedule)
        .filter(|t| !tmpl.tolerations.iter().any(|tol| tol.tolerates(t)))
        .count() as i64
}

/// upstream: nodeaffinity `Score`: the weights of the preferred terms the node matches.
fn preferred_node_weight(node: &Node, tmpl: &PodTemplate) -> i64 {
    tmpl.constraints
        .preferred_nodes
        .iter()
        .filter(|(_, reqs)| reqs.iter().all(|r| r.matches(&node.labels)))
        .map(|(w, _)| w)
        .sum()
}

/// A feasible node with its `NodeResourcesFit` + balanced score and its position in the search.
#[derive(Clone, Copy, Debug)]
pub struct Feasible {
    pub id: NodeId,
    pub at: usize,
    pub base: i64,
}

/// The best of the feasible nodes: the normalized plugins' weighted scores added to each base
/// score; the first in search order among equals. Skips the normalizing work when every node
/// would score the same in it.
pub fn pick(nodes: &[Node], tmpl: &PodTemplate, feasible: &[Feasible], topo: Option<&PodTopology>) -> Option<Feasible> {
    let node = |f: &Feasible| &nodes[f.id.0 as usize];
    let mut total: Vec<i64> = feasible.iter().map(|f| f.base).collect();
    let mut add = |part: Vec<i64>, w: i64| {
        for (t, p) in total.iter_mut().zip(part) {
            *t += w * p;
        }
    };
    if feasible
        .iter()
        .any(|f| node(f).taints.iter().any(|t| t.effect == TaintEffect::PreferNoSchedule))
    {
        let raw: Vec<i64> = feasible
            .iter()
            .map(|f| intolerable_soft_taints(node(f), tmpl))
            .collect();
        add(
            topology::normalize_default(&raw, MAX_NODE_SCORE, true),
            WEIGHT_TAINT_TOLERATION,
        );
    }
    if !tmpl.constraints.preferred_nodes.is_empty() {
        let raw: Vec<i64> = feasible.iter().map(|f| preferred_node_weight(node(f), tmpl)).collect();
        add(
            topology::normalize_default(&raw, MAX_NODE_SCORE, false),
            WEIGHT_NODE_AFFINITY,
        );
    }
    if let Some(t) = topo.filter(|t| t.scores()) {
        let weights = t.spread_weights(feasible.iter().map(|f| (f.id.0 as usize, &node(f).labels)));
        let raw: Vec<Option<i64>> = feasible
            .iter()
            .map(|f| t.spread_raw(&node(f).labels, f.id.0 as usize, &weights))
            .collect();
        add(
            topology::normalize_spread(&raw, MAX_NODE_SCORE),
            WEIGHT_POD_TOPOLOGY_SPREAD,
        );
        let raw: Vec<i64> = feasible.iter().map(|f| t.affinity_raw(&node(f).labels)).collect();
        add(
            topology::normalize_min_max(&raw, MAX_NODE_SCORE),
            WEIGHT_INTER_POD_AFFINITY,
        );
    }
    let mut best: Option<(i64, usize)> = None;
    for (i, &t) in total.iter().enumerate() {
        if best.is_none_or(|(b, _)| t > b) {
            best = Some((t, i));
        }
    }
    best.map(|(_, i)| feasible[i])
}

/// upstream: schedule_one.go `numFeasibleNodesToFind` with the adaptive default percentage.
pub fn num_feasible_nodes_to_find(num_all_nodes: usize, percentage: Option<usize>) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let pct = percentage
        .unwrap_or_else(|| (50usize.saturating_sub(num_all_nodes / 125)).max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND));
    if pct >= 100 {
        return num_all_nodes;
    }
    (num_all_nodes * pct / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// The outcome of one scheduling attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    Node(NodeId),
    /// No feasible node; the most common filter reason.
    Unschedulable(FilterReason),
}

/// Picks a node for a pod with template `tmpl` and request `req` among `candidates` (live nodes
/// in search order), starting at `*start` and advancing it like upstream's `nextStartNodeIndex`.
/// `reserved(node)` gives resources held for pods nominated to the node.
#[allow(clippy::too_many_arguments)]
pub fn select_node(
    nodes: &[Node],
    candidates: &[NodeId],
    tmpl: &PodTemplate,
    req: &Resources,
    strategy: ScoringStrategy,
    start: &mut usize,
    reserved: impl Fn(NodeId) -> Resources,
    mut topo: Option<&mut PodTopology>,
    volume_zone: Option<&str>,
) -> Placement {
    let n = candidates.len();
    if n == 0 {
        return Placement::Unschedulable(FilterReason::NotReady);
    }
    let want = num_feasible_nodes_to_find(n, None);
    let mut found: Vec<Feasible> = Vec::new();
    let mut reasons = [0usize; FILTER_REASONS.len()];
    let mut processed = 0usize;
    // The label filters are the same for every node when the pod has no selector or affinity.
    let any_labels = has_label_constraints(tmpl);
    // The search order: from `start`, wrapping around (upstream's `nextStartNodeIndex` rotation).
    let s = *start % n;
    for &id in candidates[s..].iter().chain(&candidates[..s]) {
        processed += 1;
        let node = &nodes[id.0 as usize];
        let check = static_filters_with(node, tmpl, any_labels, volume_zone)
            .and_then(|_| fits(node, req, &reserved(id)))
            .and_then(|_| match topo.as_deref_mut() {
                Some(t) => t.admits(&node.labels).map_err(FilterReason::from),
                None => Ok(()),
            });
        match check {
            Err(r) => reasons[r as usize] += 1,
            Ok(()) => {
                found.push(Feasible {
                    id,
                    at: (s + processed - 1) % n,
                    base: score(node, req, strategy),
                });
                if found.len() >= want {
                    break;
                }
            }
        }
    }
    *start = (*start + processed) % n;
    match pick(nodes, tmpl, &found, topo.as_deref()) {
        Some(f) => Placement::Node(f.id),
        None => {
            let worst = (0..FILTER_REASONS.len())
                .max_by_key(|&i| (reasons[i], std::cmp::Reverse(i)))
                .unwrap_or(0);
            Placement::Unschedulable(FILTER_REASONS[worst])
        }
    }
}

/// Free room per node, in `candidates` order, with per-block maxima: lets a search skip runs of
/// nodes where the pod cannot fit. Built from the nodes' state and the nominated reservations;
/// the caller keeps it exact (refreshes a node after binding to it, rebuilds it when room may
/// have appeared elsewhere). Unschedulable nodes hold no room, so they are skipped too.
#[derive(Debug)]
pub struct FreeIndex {
    free: Vec<Resources>,
    block_max: Vec<Resources>,
    /// Position in `candidates` by node id (`u32::MAX`: not a candidate).
    position: Vec<u32>,
}

/// Nodes per block of the index (a capsim choice: skipping a block costs one comparison, and a
/// refresh after a bind re-folds one block; 32 keeps both small for clusters of 10–10,000 nodes).
const BLOCK: usize = 32;
/// The room of an unschedulable node: no request fits, so the search skips it as the filters would.
const NO_ROOM: Resources = Resources {
    cpu_m: i64::MIN,
    mem: i64::MIN,
    pods: i64::MIN,
};

fn room(node: &Node, reserved: Resources) -> Resources {
    if node.schedulable() {
        node.allocatable - node.allocated - reserved
    } else {
        NO_ROOM
    }
}

fn max_each(a: Resources, b: &Resources) -> Resources {
    Resources {
        cpu_m: a.cpu_m.max(b.cpu_m),
        mem: a.mem.max(b.mem),
        pods: a.pods.max(b.pods),
    }
}

impl FreeIndex {
    pub fn build(nodes: &[Node], candidates: &[NodeId], reserved: impl Fn(NodeId) -> Resources) -> Self {
        let free: Vec<Resources> = candidates
            .iter()
            .map(|&id| room(&nodes[id.0 as usize], reserved(id)))
            .collect();
        let block_max = free.chunks(BLOCK).map(|c| c.iter().fold(NO_ROOM, max_each)).collect();
        let mut position = vec![u32::MAX; candidates.iter().map(|n| n.0 as usize + 1).max().unwrap_or(0)];
        for (i, n) in candidates.iter().enumerate() {
            position[n.0 as usize] = i as u32;
        }
        FreeIndex {
            free,
            block_max,
            position,
        }
    }

    /// Re-reads `node` wherever it is in `candidates` (nothing if it is not a candidate).
    pub fn refresh_node(&mut self, node: &Node, reserved: Resources) {
        if let Some(&pos) = self.position.get(node.id.0 as usize)
            && pos != u32::MAX
        {
            self.refresh(pos as usize, node, reserved);
        }
    }

    /// Re-reads the node at position `pos` of `candidates`.
    pub fn refresh(&mut self, pos: usize, node: &Node, reserved: Resources) {
        self.free[pos] = room(node, reserved);
        let b = pos / BLOCK;
        let end = ((b + 1) * BLOCK).min(self.free.len());
        self.block_max[b] = self.free[b * BLOCK..end].iter().fold(NO_ROOM, max_each);
    }
}

/// [`select_node`] for a pod without a nomination, skipping the nodes `index` shows too full for
/// it. Same feasible nodes in the same order, so the same choice and the same search start
/// afterwards; the filter reason of a failure is not counted (NotReady is returned). Also returns
/// the chosen node's position in `candidates`.
#[allow(clippy::too_many_arguments)]
pub fn select_node_indexed(
    nodes: &[Node],
    candidates: &[NodeId],
    index: &FreeIndex,
    tmpl: &PodTemplate,
    req: &Resources,
    strategy: ScoringStrategy,
    start: &mut usize,
    reserved: impl Fn(NodeId) -> Resources,
    mut topo: Option<&mut PodTopology>,
    volume_zone: Option<&str>,
) -> (Placement, usize) {
    let n = candidates.len();
    if n == 0 {
        return (Placement::Unschedulable(FilterReason::NotReady), 0);
    }
    let want = num_feasible_nodes_to_find(n, None);
    let any_labels = has_label_constraints(tmpl);
    let mut found: Vec<Feasible> = Vec::new();
    let mut feasible = 0usize;
    let mut processed = n;
    let s = *start % n;
    // Positions s..n then 0..s; `seen` counts positions passed in search order.
    let mut seen = 0usize;
    let mut pos = s;
    while seen < n {
        let segment_end = if pos >= s { n } else { s };
        let block_end = ((pos / BLOCK + 1) * BLOCK).min(segment_end);
        if !req.fits_in(&index.block_max[pos / BLOCK]) {
            seen += block_end - pos;
            pos = if block_end == n { 0 } else { block_end };
            continue;
        }
        while pos < block_end {
            seen += 1;
            let here = pos;
            pos += 1;
            if !req.fits_in(&index.free[here]) {
                continue;
            }
            let id = candidates[here];
            let node = &nodes[id.0 as usize];
            // The index is exact for nodes without this pod's nomination, so room is checked.
            debug_assert_eq!(fits(node, req, &reserved(id)), Ok(()));
            if static_filters_with(node, tmpl, any_labels, volume_zone).is_err() {
                continue;
            }
            if let Some(t) = topo.as_deref_mut()
                && t.admits(&node.labels).is_err()
            {
                continue;
            }
            feasible += 1;
            found.push(Feasible {
                id,
                at: here,
                base: score(node, req, strategy),
            });
            if feasible >= want {
                processed = seen;
                break;
            }
        }
        if processed < n || feasible >= want {
            break;
        }
        if pos == n {
            pos = 0;
        }
    }
    *start = (*start + processed) % n;
    match pick(nodes, tmpl, &found, topo.as_deref()) {
        Some(f) => (Placement::Node(f.id), f.at),
        None => (Placement::Unschedulable(FilterReason::NotReady), 0),
    }
}

const FILTER_REASONS: [FilterReason; 12] = [
    FilterReason::NotReady,
    FilterReason::InsufficientCpu,
    FilterReason::InsufficientMemory,
    FilterReason::TooManyPods,
    FilterReason::UntoleratedTaint,
    FilterReason::NodeAffinityMismatch,
    FilterReason::TopologySpread,
    FilterReason::TopologySpreadMissingLabel,
    FilterReason::PodAffinity,
    FilterReason::PodAntiAffinity,
    FilterReason::ExistingPodsAntiAffinity,
    FilterReason::VolumeZoneConflict,
];

/// A victim set that makes room for a preemptor on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreemptionPlan<P> {
    pub node: NodeId,
    pub victims: Vec<P>,
}

/// DefaultPreemption, reduced to what capsim models (upstream:
/// pkg/scheduler/framework/plugins/defaultpreemption, `SelectVictimsOnNode` and
/// `pickOneNodeForPreemption`): on each node that passes the static filters, remove every
/// lower-priority pod; if the preemptor then fits and passes the inter-pod filters
/// (`inter_pod_ok(node, victims)`: spread and affinity with those pods gone), reprieve the
/// victims most important first (higher priority, then older) while the preemptor still fits
/// and passes them. Then pick the node whose highest victim priority is lowest, then the
/// smallest sum of victim priorities, then the fewest victims, then search order.
/// `victims_on(node)` lists the node's pods as `(id, priority, created order key, requests)`.
#[allow(clippy::too_many_arguments)]
pub fn find_preemption<P: Copy + Ord>(
    nodes: &[Node],
    candidates: &[NodeId],
    tmpl: &PodTemplate,
    req: &Resources,
    priority: i32,
    reserved: impl Fn(NodeId) -> Resources,
    victims_on: impl Fn(NodeId) -> Vec<(P, i32, u64, Resources)>,
    mut inter_pod_ok: impl FnMut(NodeId, &[P]) -> bool,
    volume_zone: Option<&str>,
) -> Option<PreemptionPlan<P>> {
    let mut best: Option<((i32, i64, usize), PreemptionPlan<P>)> = None;
    for &id in candidates {
        let node = &nodes[id.0 as usize];
        if static_filters(node, tmpl, volume_zone).is_err() {
            continue;
        }
        let reserved = reserved(id);
        let fits_after = |freed: &Resources| {
            let free = node.allocatable - node.allocated - reserved + *freed;
            req.fits_in(&free)
        };
        if fits_after(&Resources::ZERO) && inter_pod_ok(id, &[]) {
            continue; // fits without preemption: not a preemption case for this node
        }
        let mut lower: Vec<_> = victims_on(id).into_iter().filter(|v| v.1 < priority).collect();
        if lower.is_empty() {
            continue;
        }
        // Most important first: higher priority, then older (smaller order key).
        lower.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
        let mut freed = lower.iter().fold(Resources::ZERO, |acc, v| acc + v.3);
        let mut gone: Vec<P> = lower.iter().map(|v| v.0).collect();
        if !fits_after(&freed) || !inter_pod_ok(id, &gone) {
            continue;
        }
        let mut chosen = Vec::new();
        for v in &lower {
            let without: Vec<P> = gone.iter().copied().filter(|g| *g != v.0).collect();
            let freed_without = freed.saturating_sub(&v.3);
            if fits_after(&freed_without) && inter_pod_ok(id, &without) {
                gone = without; // reprieved
                freed = freed_without;
            } else {
                chosen.push(*v);
            }
        }
        let key = (
            chosen.iter().map(|v| v.1).max().unwrap_or(i32::MIN),
            chosen.iter().map(|v| i64::from(v.1)).sum::<i64>(),
            chosen.len(),
        );
        if best.as_ref().is_none_or(|(k, _)| key < *k) {
            best = Some((
                key,
                PreemptionPlan {
                    node: id,
                    victims: chosen.iter().map(|v| v.0).collect(),
                },
            ));
        }
    }
    best.map(|(_, plan)| plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{NodeSpec, NodeState};
    use crate::engine::SimTime;
    use crate::model::CapacityType;
    use crate::model::Taint;

    /// A small deterministic generator (xorshift) for the randomized comparison.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self, bound: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % bound
        }
    }

    fn cluster(g: &mut Gen, count: usize) -> Vec<Node> {
        (0..count)
            .map(|i| {
                let spec = NodeSpec {
                    pool: "p".into(),
                    instance_type: "m5.large".into(),
                    capacity_type: CapacityType::OnDemand,
                    zone: "us-east-1a".into(),
                    price_hr: 0.1,
                    labels: Default::default(),
                    taints: if g.next(10) == 0 {
                        vec![Taint {
                            key: "dedicated".into(),
                            value: "x".into(),
                            effect: TaintEffect::NoSchedule,
                        }]
                    } else {
                        Vec::new()
                    },
                    allocatable: Resources::new(4000, 16 << 30, 30),
                };
                let mut node = Node::new(NodeId(i as u32), format!("n{i}"), spec, SimTime::ZERO, String::new());
                node.state = if g.next(8) == 0 {
                    NodeState::Booting
                } else {
                    NodeState::Ready
                };
                node.allocated = Resources::new(g.next(4001) as i64, (g.next(17) as i64) << 30, g.next(31) as i64);
                node
            })
            .collect()
    }

    /// The indexed search makes the same choice and leaves the same search start as the plain
    /// one, across cluster sizes (below and above `numFeasibleNodesToFind`'s floor of 100, block
    /// boundaries of 32), fullness, unschedulable and tainted nodes, reservations and start points.
    #[test]
    fn indexed_search_matches_the_plain_search() {
        let mut g = Gen(0x5eed_1234_abcd_0001);
        for round in 0..300 {
            let count = [1, 5, 31, 32, 33, 100, 150, 700][round % 8];
            let mut nodes = cluster(&mut g, count);
            let mut candidates: Vec<NodeId> = nodes.iter().map(|n| n.id).collect();
            // A search order that is not the id order.
            candidates.rotate_left(g.next(count as u64) as usize);
            let reserved: Vec<Resources> = (0..count)
                .map(|_| {
                    if g.next(6) == 0 {
                        Resources::new(500, 1 << 30, 1)
                    } else {
                        Resources::ZERO
                    }
                })
                .collect();
            let tmpl = crate::testkit::pod_template(0, 0);
            let mut index = FreeIndex::build(&nodes, &candidates, |n| reserved[n.0 as usize]);
            let mut start_plain = g.next(2 * count as u64) as usize;
            let mut start_indexed = start_plain;
            for _ in 0..40 {
                let req = Resources::new(g.next(2500) as i64, (g.next(8) as i64) << 30, 1);
                let strategy = if g.next(2) == 0 {
                    ScoringStrategy::LeastAllocated
                } else {
                    ScoringStrategy::MostAllocated
                };
                let plain = select_node(
                    &nodes,
                    &candidates,
                    &tmpl,
                    &req,
                    strategy,
                    &mut start_plain,
                    |n| reserved[n.0 as usize],
                    None,
                    None,
                );
                let (indexed, at) = select_node_indexed(
                    &nodes,
                    &candidates,
                    &index,
                    &tmpl,
                    &req,
                    strategy,
                    &mut start_indexed,
                    |n| reserved[n.0 as usize],
                    None,
                    None,
                );
                assert_eq!(start_plain, start_indexed, "round {round}");
                match (plain, indexed) {
                    (Placement::Node(a), Placement::Node(b)) => {
                        assert_eq!(a, b, "round {round}");
                        assert_eq!(candidates[at], b);
                        // Bind, and keep the index exact as the simulation does.
                        nodes[b.0 as usize].allocated += req;
                        index.refresh(at, &nodes[b.0 as usize], reserved[b.0 as usize]);
                    }
                    (Placement::Unschedulable(_), Placement::Unschedulable(_)) => {}
                    (a, b) => panic!("round {round}: plain {a:?}, indexed {b:?}"),
                }
                // Sometimes a pod leaves a node: the simulation re-reads just that node.
                if g.next(3) == 0 {
                    let n = &mut nodes[g.next(count as u64) as usize];
                    n.allocated = n.allocated.saturating_sub(&Resources::new(1500, 4 << 30, 3));
                    index.refresh_node(n, reserved[n.id.0 as usize]);
                }
            }
        }
    }
}
