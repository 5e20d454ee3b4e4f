//! kube-scheduler's decision for one pod, as a pure function of the nodes it sees.
//!
//! Filters (upstream: pkg/scheduler/framework/plugins): `NodeUnschedulable` (only Ready,
//! uncordoned nodes), `NodeResourcesFit` (cpu, memory, pod count against allocatable, counting
//! resources of pods nominated to the node by preemption), `TaintToleration` (NoSchedule /
//! NoExecute), `NodeAffinity` (nodeSelector and required node affinity).
//! Scores (default profile weights 1, upstream: pkg/scheduler/apis/config/v1/default_plugins.go):
//! `NodeResourcesFit` with `LeastAllocated` (default) or `MostAllocated`, and
//! `NodeResourcesBalancedAllocation`; `TaintToleration` penalises PreferNoSchedule taints.
//! Like upstream, large clusters stop searching after `numFeasibleNodesToFind` feasible nodes
//! (schedule_one.go), starting where the previous search stopped. Upstream breaks score ties at
//! random; capsim takes the first node in search order, so a run stays a function of its seed.

use crate::model::labels::{selector_matches, tolerates_all};
use crate::model::resources::round_i64;
use crate::model::{PodTemplate, Resources, ScoringStrategy, TaintEffect};
use crate::sim::state::{Node, NodeId};

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
        }
    }
}

/// Checks everything but resources: the filters preemption cannot fix.
pub fn static_filters(node: &Node, tmpl: &PodTemplate) -> Result<(), FilterReason> {
    static_filters_with(node, tmpl, true)
}

/// [`static_filters`]; `any_labels == false` says the pod has no node selector and no required
/// affinity, so the label filters pass on every node.
#[inline]
fn static_filters_with(node: &Node, tmpl: &PodTemplate, any_labels: bool) -> Result<(), FilterReason> {
    if !node.schedulable() {
        return Err(FilterReason::NotReady);
    }
    if !node.taints.is_empty() && !tolerates_all(&tmpl.tolerations, &node.taints) {
        return Err(FilterReason::UntoleratedTaint);
    }
    if any_labels && (!selector_matches(&tmpl.node_selector, &node.labels) || !tmpl.affinity.matches(&node.labels)) {
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

/// Score of placing `req` on `node` (higher is better).
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
    // upstream: tainttoleration: fewer intolerable PreferNoSchedule taints is better.
    let soft_taints = node
        .taints
        .iter()
        .filter(|t| t.effect == TaintEffect::PreferNoSchedule)
        .count() as i64;
    round_i64((fit + balanced) * MAX_NODE_SCORE as f64) - soft_taints * MAX_NODE_SCORE
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
pub fn select_node(
    nodes: &[Node],
    candidates: &[NodeId],
    tmpl: &PodTemplate,
    req: &Resources,
    strategy: ScoringStrategy,
    start: &mut usize,
    reserved: impl Fn(NodeId) -> Resources,
) -> Placement {
    let n = candidates.len();
    if n == 0 {
        return Placement::Unschedulable(FilterReason::NotReady);
    }
    let want = num_feasible_nodes_to_find(n, None);
    let mut best: Option<(i64, NodeId)> = None;
    let mut feasible = 0usize;
    let mut reasons = [0usize; 6];
    let mut processed = 0usize;
    // The label filters are the same for every node when the pod has no selector or affinity.
    let any_labels = !tmpl.node_selector.is_empty() || !tmpl.affinity.terms.is_empty();
    // The search order: from `start`, wrapping around (upstream's `nextStartNodeIndex` rotation).
    let s = *start % n;
    for &id in candidates[s..].iter().chain(&candidates[..s]) {
        processed += 1;
        let node = &nodes[id.0 as usize];
        let check = static_filters_with(node, tmpl, any_labels).and_then(|_| fits(node, req, &reserved(id)));
        match check {
            Err(r) => reasons[r as usize] += 1,
            Ok(()) => {
                feasible += 1;
                let s = score(node, req, strategy);
                if best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, id));
                }
                if feasible >= want {
                    break;
                }
            }
        }
    }
    *start = (*start + processed) % n;
    match best {
        Some((_, id)) => Placement::Node(id),
        None => {
            let worst = (0..6).max_by_key(|&i| (reasons[i], std::cmp::Reverse(i))).unwrap_or(0);
            Placement::Unschedulable(FILTER_REASONS[worst])
        }
    }
}

const FILTER_REASONS: [FilterReason; 6] = [
    FilterReason::NotReady,
    FilterReason::InsufficientCpu,
    FilterReason::InsufficientMemory,
    FilterReason::TooManyPods,
    FilterReason::UntoleratedTaint,
    FilterReason::NodeAffinityMismatch,
];

/// A victim set that makes room for a preemptor on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreemptionPlan<P> {
    pub node: NodeId,
    pub victims: Vec<P>,
}

/// DefaultPreemption, reduced to what capsim models (upstream:
/// pkg/scheduler/framework/plugins/defaultpreemption, `SelectVictimsOnNode` and
/// `pickOneNodeForPreemption`): on each node that passes the static filters, remove lower-priority
/// pods, lowest priority first (newest first among equals), until the preemptor fits; then pick
/// the node whose highest victim priority is lowest, then the smallest sum of victim priorities,
/// then the fewest victims, then search order. `victims_on(node)` lists the node's pods as
/// `(id, priority, created order key, requests)`.
pub fn find_preemption<P: Copy + Ord>(
    nodes: &[Node],
    candidates: &[NodeId],
    tmpl: &PodTemplate,
    req: &Resources,
    priority: i32,
    reserved: impl Fn(NodeId) -> Resources,
    victims_on: impl Fn(NodeId) -> Vec<(P, i32, u64, Resources)>,
) -> Option<PreemptionPlan<P>> {
    let mut best: Option<((i32, i64, usize), PreemptionPlan<P>)> = None;
    for &id in candidates {
        let node = &nodes[id.0 as usize];
        if static_filters(node, tmpl).is_err() {
            continue;
        }
        let mut lower: Vec<_> = victims_on(id).into_iter().filter(|v| v.1 < priority).collect();
        // lowest priority first, newest (largest order key) first among equals
        lower.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        let mut freed = Resources::ZERO;
        let mut chosen = Vec::new();
        let reserved = reserved(id);
        let fits_after = |freed: &Resources| {
            let free = node.allocatable - node.allocated - reserved + *freed;
            req.fits_in(&free)
        };
        if fits_after(&freed) {
            continue; // fits without preemption: not a preemption case for this node
        }
        for v in &lower {
            freed += v.3;
            chosen.push(*v);
            if fits_after(&freed) {
                break;
            }
        }
        if !fits_after(&freed) {
            continue;
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
