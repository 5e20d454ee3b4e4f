//! Disruption: emptiness, multi-node and single-node consolidation, with budgets,
//! `karpenter.sh/do-not-disrupt` and command validation.
//!
//! upstream: kubernetes-sigs/karpenter pkg/controllers/disruption: controller.go (poll every 10 s,
//! methods in order, the first that produces a command wins), emptiness.go,
//! multinodeconsolidation.go (binary search over a prefix of up to 100 candidates),
//! singlenodeconsolidation.go, consolidation.go (`computeConsolidation`: delete when every pod
//! fits elsewhere, replace by exactly one strictly cheaper node, spot→spot only behind the
//! SpotToSpotConsolidation gate), validation.go (re-check after `commandValidationDelay`),
//! types.go (candidates, disruption cost), budgets in pkg/apis/v1/nodepool.go
//! (`GetAllowedDisruptionsByReason`), pkg/controllers/nodeclaim/disruption/consolidation.go
//! (consolidatable after `consolidateAfter` since the last pod event).
//!

use super::nodepool::{BudgetNodes, ConsolidationPolicy, DisruptionReason, NodePool};
use super::scheduling::{self, SimNode, SimPod};
use super::{Karpenter, NO_DEADLINE, NodeCap, Replacement};
use crate::cluster::{ClusterView, NodeId, NodeState, PodId, PodPhase};
use crate::controllers::provisioner::{Action, Activity, Decision, DecisionRecord};
use crate::engine::{SimDuration, SimTime};
use crate::model::{CapacityType, Resources, WorkloadKind};
use std::collections::{BTreeMap, BTreeSet};

/// upstream: pkg/apis/v1/labels.go `DoNotDisruptAnnotationKey`.
pub const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";
/// upstream: multinodeconsolidation.go `MaxCandidates` (100).
pub const MULTI_NODE_MAX_CANDIDATES: usize = 100;
/// upstream: consolidation.go `MinInstanceTypesForSpotToSpotConsolidation` (15).
pub const MIN_TYPES_FOR_SPOT_TO_SPOT: usize = 15;

#[derive(Clone, Debug, Default)]
pub struct DisruptionState {
    next_poll: SimTime,
    /// Per node id: its pods at the last observation and when that set last changed (`None`
    /// until first observed, and again once the node is forgotten).
    pod_events: Vec<Option<PodEvents>>,
    pending: Option<Command>,
    /// Verdicts of earlier consolidation simulations, valid while their inputs are unchanged.
    memo: SimMemo,
}

impl DisruptionState {
    fn pod_event(&self, id: NodeId) -> Option<&PodEvents> {
        self.pod_events.get(id.0 as usize).and_then(Option::as_ref)
    }

    pub fn forget(&mut self, id: NodeId) {
        if let Some(e) = self.pod_events.get_mut(id.0 as usize) {
            *e = None;
        }
    }
}

/// What every consolidation simulation of one disruption step shares, built once per step
/// (upstream rebuilds it per candidate set in helpers.go `SimulateScheduling`; the result is the
/// same): the pods every solve schedules (`pods_to_schedule`), the nodes it may place them on
/// (`sim_nodes`) and what each live node counts against NodePool limits. A candidate set only
/// removes its own nodes from these.
struct Prep<'v> {
    pending: Vec<SimPod<'v>>,
    nodes: Vec<SimNode<'v>>,
    caps: Vec<NodeCap>,
}

impl<'v> Prep<'v> {
    fn new(k: &Karpenter, view: &ClusterView<'v>) -> Self {
        Prep {
            pending: k.pods_to_schedule(view),
            nodes: k.sim_nodes(view, &[]),
            caps: k.node_caps(view),
        }
    }

    /// Everything a simulation reads from the world besides the candidates themselves. Node
    /// labels, taints and instance types never change, so node ids stand for them; a pod's
    /// requests, creation time and workload never change after creation (recorded anyway).
    fn inputs(&self) -> SimInputs {
        SimInputs {
            pending: self
                .pending
                .iter()
                .map(|p| (p.id, p.requests, p.created, p.workload))
                .collect(),
            nodes: self.nodes.iter().map(|n| (n.id, n.free)).collect(),
            caps: self.caps.clone(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct SimInputs {
    pending: Vec<(PodId, Resources, SimTime, u32)>,
    nodes: Vec<(NodeId, Resources)>,
    caps: Vec<NodeCap>,
}

/// What `compute_consolidation` decides for a candidate set.
type Verdict = Option<(Kind, String)>;

/// A candidate as a simulation sees it: node, reschedulable pods, price, capacity type.
type CandKey = (NodeId, Vec<PodId>, u64, CapacityType);

/// Upper bound on memoised verdicts per input state (a handful per step in practice).
const MEMO_MAX_ENTRIES: usize = 4096;

/// `compute_consolidation` is a pure function of the candidates and [`SimInputs`] (no clock:
/// consolidateAfter, budgets and disruption costs are applied when candidates are chosen, every
/// step). While the inputs stay equal, a candidate set simulated before gets the same verdict.
#[derive(Clone, Debug, Default)]
struct SimMemo {
    inputs: SimInputs,
    verdicts: Vec<(Vec<CandKey>, Verdict)>,
}

impl SimMemo {
    /// Forgets every verdict unless `inputs` equals the state they were computed for.
    fn sync(&mut self, inputs: SimInputs) {
        if self.inputs != inputs || self.verdicts.len() > MEMO_MAX_ENTRIES {
            self.inputs = inputs;
            self.verdicts.clear();
        }
    }
}

/// One step's simulation context: the shared state and the memo.
struct Sim<'p, 'v> {
    prep: &'p Prep<'v>,
    memo: &'p mut SimMemo,
}

impl Sim<'_, '_> {
    /// [`compute_consolidation`], memoised.
    fn consolidate(&mut self, k: &Karpenter, view: &ClusterView<'_>, cands: &[&Candidate]) -> Option<(Kind, String)> {
        let same = |key: &[CandKey]| {
            key.len() == cands.len()
                && key.iter().zip(cands).all(|(e, c)| {
                    e.0 == c.node && e.1 == c.pods && e.2 == c.price_hr.to_bits() && e.3 == c.capacity_type
                })
        };
        if let Some((_, v)) = self.memo.verdicts.iter().find(|(key, _)| same(key)) {
            return v.clone();
        }
        let v = compute_consolidation(k, view, self.prep, cands);
        let key = cands
            .iter()
            .map(|c| (c.node, c.pods.clone(), c.price_hr.to_bits(), c.capacity_type))
            .collect();
        self.memo.verdicts.push((key, v.clone()));
        v
    }
}

/// A node's pods as last observed: `raw` in the node's own order (a cheap "nothing changed"
/// check), `sorted` as the set the event time refers to, `at` when that set last changed.
#[derive(Clone, Debug, Default)]
struct PodEvents {
    raw: Vec<PodId>,
    sorted: Vec<PodId>,
    at: SimTime,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Empty,
    Delete,
    Replace { pool: usize, options: Vec<usize> },
}

#[derive(Clone, Debug)]
struct Command {
    method: Activity,
    kind: Kind,
    nodes: Vec<NodeId>,
    decided: SimTime,
    reason: String,
}

/// A node that may be disrupted now.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub node: NodeId,
    pub pool: usize,
    /// Reschedulable pods (not DaemonSet, not terminating or finished).
    pub pods: Vec<PodId>,
    pub price_hr: f64,
    pub capacity_type: CapacityType,
    pub disruption_cost: f64,
}

/// upstream: pkg/utils/disruption/disruption.go `EvictionCost`: 1 + priority / 2^25 (the
/// deletion-cost annotation is not modelled), clamped to [-10, 10].
pub fn eviction_cost(priority: i32) -> f64 {
    (1.0 + f64::from(priority) / 2f64.powi(25)).clamp(-10.0, 10.0)
}

/// upstream: pkg/utils/disruption `LifetimeRemaining`: the fraction of expireAfter left (1 when
/// the pool never expires nodes), so nodes close to expiry are cheaper to disrupt.
pub fn lifetime_remaining(pool: &NodePool, age: SimDuration) -> f64 {
    match pool.expire_after {
        Some(e) if !e.is_zero() => ((e.as_secs_f64() - age.as_secs_f64()) / e.as_secs_f64()).clamp(0.0, 1.0),
        _ => 1.0,
    }
}

/// Is the budget's schedule active at `now` (it fired at some minute `f` with
/// `f <= now < f + duration`)? Unscheduled budgets are always active.
pub fn budget_active(schedule: Option<&(super::cron::Cron, SimDuration)>, now: SimTime, epoch_unix_s: u64) -> bool {
    let Some((cron, dur)) = schedule else { return true };
    let now_ms = i128::from(epoch_unix_s) * 1000 + i128::from(now.as_millis());
    let start_ms = now_ms - i128::from(dur.as_millis());
    let mut minute = now_ms.div_euclid(60_000);
    while minute * 60_000 > start_ms {
        let t = super::cron::CivilMinute::from_unix_minutes(minute as i64);
        if cron.matches(&t) {
            return true;
        }
        minute -= 1;
    }
    false
}

/// Disruptions a pool allows for `reason` given `total` initialised nodes: the minimum over
/// active budgets that apply to the reason, percentages rounded up (upstream:
/// `GetAllowedDisruptionsByReason`, intstr.GetScaledValueFromIntOrPercent with roundUp=true).
/// `i64::MAX` when no budget applies.
pub fn allowed_disruptions(pool: &NodePool, reason: DisruptionReason, total: i64, now: SimTime, epoch: u64) -> i64 {
    pool.budgets
        .iter()
        .filter(|b| b.reasons.as_ref().is_none_or(|r| r.contains(&reason)))
        .filter(|b| budget_active(b.schedule.as_ref(), now, epoch))
        .map(|b| match b.nodes {
            BudgetNodes::Count(c) => i64::try_from(c).unwrap_or(i64::MAX),
            BudgetNodes::Percent(p) => (i64::from(p) * total + 99) / 100,
        })
        .min()
        .unwrap_or(i64::MAX)
}

/// Budget headroom of every pool for `reason`: allowed − nodes already disrupting.
fn budget_remaining(k: &Karpenter, view: &ClusterView<'_>, reason: DisruptionReason) -> Vec<i64> {
    let mut total = vec![0i64; k.pools.len()];
    let mut disrupting = vec![0i64; k.pools.len()];
    for &id in view.live_nodes {
        let Some(n) = view.nodes.get(id.0 as usize) else {
            continue;
        };
        let Some(p) = k.node_pool(n) else { continue };
        if n.ready.is_none() || n.state == NodeState::Terminated {
            continue;
        }
        total[p] += 1;
        if matches!(n.state, NodeState::Draining | NodeState::Terminating) || k.marked.contains(&id) {
            disrupting[p] += 1;
        }
    }
    k.pools
        .iter()
        .enumerate()
        .map(|(p, ctx)| {
            let allowed = allowed_disruptions(&ctx.pool, reason, total[p], view.now, k.settings.epoch_unix_seconds);
            allowed.saturating_sub(disrupting[p]).max(0)
        })
        .collect()
}

fn observe_pod_events(k: &mut Karpenter, view: &ClusterView<'_>) {
    let mut scratch = Vec::new();
    for &id in view.live_nodes {
        let Some(n) = view.nodes.get(id.0 as usize) else {
            continue;
        };
        if k.node_pool(n).is_none() {
            continue;
        }
        let slot = id.0 as usize;
        if k.disruption.pod_events.len() <= slot {
            k.disruption.pod_events.resize(slot + 1, None);
        }
        match &mut k.disruption.pod_events[slot] {
            Some(e) => {
                // Same pods in the same order: the set is unchanged (the common case, no sort).
                if e.raw == n.pods {
                    continue;
                }
                e.raw.clone_from(&n.pods);
                scratch.clone_from(&n.pods);
                scratch.sort();
                if e.sorted != scratch {
                    std::mem::swap(&mut e.sorted, &mut scratch);
                    e.at = view.now;
                }
            }
            None => {
                let mut sorted = n.pods.clone();
                sorted.sort();
                let e = PodEvents {
                    raw: n.pods.clone(),
                    sorted,
                    at: view.now,
                };
                k.disruption.pod_events[slot] = Some(e);
            }
        }
    }
}

/// What never changes about a workload and decides whether its pods block their node's
/// disruption.
#[derive(Clone, Debug, Default)]
pub(super) struct WorkloadBlocks {
    /// The template carries `karpenter.sh/do-not-disrupt: "true"`.
    do_not_disrupt: bool,
    /// PodDisruptionBudgets (indices into `scenario.pdbs`) that cover its pods.
    pdbs: Vec<usize>,
}

/// [`WorkloadBlocks`] of every workload of the scenario, in workload order.
pub(super) fn workload_blocks(sc: &crate::scenario::Scenario) -> Vec<WorkloadBlocks> {
    sc.workloads
        .iter()
        .map(|w| WorkloadBlocks {
            do_not_disrupt: w.template.annotations.get(DO_NOT_DISRUPT).is_some_and(|v| v == "true"),
            pdbs: sc
                .pdbs
                .iter()
                .enumerate()
                .filter(|(_, pdb)| pdb.covers(w))
                .map(|(i, _)| i)
                .collect(),
        })
        .collect()
}

/// Every node that may be disrupted now: managed, Ready, not already being disrupted, no
/// do-not-disrupt pod, consolidatable (consolidateAfter elapsed since initialisation and since
/// its last pod event).
pub fn candidates(k: &Karpenter, view: &ClusterView<'_>) -> Vec<Candidate> {
    let now = view.now;
    let replacing: BTreeSet<NodeId> = k.replacements.iter().flat_map(|r| r.replaced.iter().copied()).collect();
    let computed;
    let blocks = if k.workload_blocks.len() == view.scenario.workloads.len() {
        &k.workload_blocks
    } else {
        computed = workload_blocks(view.scenario);
        &computed
    };
    let mut out = Vec::new();
    for &id in view.live_nodes {
        let Some(n) = view.nodes.get(id.0 as usize) else {
            continue;
        };
        let Some(p) = k.node_pool(n) else { continue };
        if n.state != NodeState::Ready || k.marked.contains(&id) || replacing.contains(&id) {
            continue;
        }
        let pool = &k.pools[p].pool;
        let (Some(after), Some(ready)) = (pool.consolidate_after, n.ready) else {
            continue;
        };
        let last_event = k.disruption.pod_event(id).map_or(ready, |e| e.at).max(ready);
        if now.since(last_event) < after {
            continue;
        }
        let mut blocked = false;
        let mut pods = Vec::with_capacity(n.pods.len());
        let mut cost = 0.0;
        for &pid in &n.pods {
            let Some(pod) = view.pods.get(pid.0 as usize) else {
                continue;
            };
            let Some(w) = view.scenario.workloads.get(pod.workload as usize) else {
                continue;
            };
            let Some(wb) = blocks.get(pod.workload as usize) else {
                continue;
            };
            if wb.do_not_disrupt {
                blocked = true;
                break;
            }
            // upstream: disruption/types.go `NewCandidate` → pdbLimits `CanEvictPods`: a pod
            // covered by a PodDisruptionBudget that allows no disruption blocks its node.
            let pdb_blocked = wb
                .pdbs
                .iter()
                .any(|&i| view.pdb_allowed.get(i).is_some_and(|&a| a <= 0));
            if pdb_blocked && pod.phase.is_active() {
                blocked = true;
                break;
            }
            if w.kind != WorkloadKind::DaemonSet
                && matches!(pod.phase, PodPhase::Starting | PodPhase::Running | PodPhase::Ready)
            {
                pods.push(pid);
                cost += eviction_cost(pod.priority);
            }
        }
        if blocked {
            continue;
        }
        out.push(Candidate {
            node: id,
            pool: p,
            pods,
            price_hr: n.price_hr,
            capacity_type: n.capacity_type,
            disruption_cost: cost * lifetime_remaining(pool, now.since(n.requested)),
        });
    }
    out
}

/// Keeps candidates in order while their pool's budget allows.
fn within_budget<'c>(cands: impl Iterator<Item = &'c Candidate>, mut remaining: Vec<i64>) -> Vec<&'c Candidate> {
    cands
        .filter(|c| {
            if remaining[c.pool] > 0 {
                remaining[c.pool] -= 1;
                true
            } else {
                false
            }
        })
        .collect()
}

/// consolidation.go `computeConsolidation`: what to do with these candidates, if anything.
/// Pending pods join the simulation (helpers.go `SimulateScheduling`): they may take the room
/// the candidates' pods need, and NodeClaims they require count against "exactly one".
fn compute_consolidation<'v>(
    k: &Karpenter,
    view: &ClusterView<'v>,
    prep: &Prep<'v>,
    cands: &[&Candidate],
) -> Option<(Kind, String)> {
    let except: Vec<NodeId> = cands.iter().map(|c| c.node).collect();
    let moving: BTreeSet<PodId> = cands.iter().flat_map(|c| c.pods.iter().copied()).collect();
    let mut pods: Vec<SimPod<'_>> = moving.iter().filter_map(|&p| Karpenter::sim_pod(view, p)).collect();
    pods.extend(prep.pending.iter().filter(|p| !moving.contains(&p.id)).cloned());
    let existing: Vec<SimNode<'_>> = prep.nodes.iter().filter(|n| !except.contains(&n.id)).cloned().collect();
    let remaining = k.remaining_from(&prep.caps, &except);
    // More than one NodeClaim can only end in "no consolidation" (claims are never removed), so
    // the solve stops at the second.
    let mut views = k.views(view, &existing, &except);
    let (res, complete) = scheduling::solve_until(
        &pods,
        &existing,
        &k.pools,
        &remaining,
        &mut k.compat.borrow_mut(),
        1,
        Some(&mut views),
    );
    if !complete {
        return None;
    }
    // upstream: `AllNonPendingPodsScheduled`: every candidate pod must land somewhere.
    if res.errors.iter().any(|(p, _)| moving.contains(p)) {
        return None;
    }
    let total: f64 = cands.iter().map(|c| c.price_hr).sum();
    match res.claims.len() {
        0 => Some((
            Kind::Delete,
            format!("{} pod(s) fit on other nodes; saves ${total:.4}/h", moving.len()),
        )),
        1 => {
            let claim = &res.claims[0];
            let ctx = &k.pools[claim.pool];
            let is_spot = |o: &usize| ctx.offerings[*o].capacity_type == CapacityType::Spot;
            let all_spot = cands.iter().all(|c| c.capacity_type == CapacityType::Spot);
            // Only strictly cheaper offerings (upstream: `filterByPrice`).
            let mut options: Vec<usize> = claim
                .options
                .iter()
                .copied()
                .filter(|&o| ctx.offerings[o].price_hr < total)
                .collect();
            if cands.len() > 1 {
                options = filter_out_same_type(k, view, cands, ctx, options);
            }
            if all_spot && claim.options.iter().any(is_spot) {
                // upstream: `computeSpotToSpotConsolidation`.
                if !k.settings.spot_to_spot_consolidation {
                    return None; // "SpotToSpotConsolidation is disabled"
                }
                options.retain(is_spot);
                if cands.len() == 1 {
                    let mut types: Vec<(f64, usize)> = Vec::new();
                    for &o in &options {
                        let off = &ctx.offerings[o];
                        match types.iter_mut().find(|(_, t)| *t == off.type_idx) {
                            Some(e) => e.0 = e.0.min(off.price_hr),
                            None => types.push((off.price_hr, off.type_idx)),
                        }
                    }
                    if types.len() < MIN_TYPES_FOR_SPOT_TO_SPOT {
                        return None;
                    }
                    // Launch with the 15 cheapest so the result is not immediately consolidated again.
                    types.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    let keep: Vec<usize> = types.iter().take(MIN_TYPES_FOR_SPOT_TO_SPOT).map(|e| e.1).collect();
                    options.retain(|&o| keep.contains(&ctx.offerings[o].type_idx));
                }
            } else if options.iter().any(is_spot) && options.iter().any(|o| !is_spot(o)) {
                // upstream: OD → [OD, spot]: prices were judged assuming spot launches, so the
                // replacement is restricted to spot (an ICE leaves the node alone rather than
                // launching a pricier on-demand one).
                options.retain(is_spot);
            }
            let cheapest = scheduling::launch_order(&options, ctx, &k.types).first().copied()?;
            let off = &ctx.offerings[cheapest];
            Some((
                Kind::Replace {
                    pool: claim.pool,
                    options,
                },
                format!(
                    "{} pod(s) fit on one cheaper node: {} {} at ${:.4}/h instead of ${total:.4}/h",
                    moving.len(),
                    k.types[off.type_idx].name,
                    off.capacity_type.as_str(),
                    off.price_hr
                ),
            ))
        }
        _ => None,
    }
}

/// multinodeconsolidation.go `filterOutSameType`: when the replacement could be one of the
/// candidates' own types, only options cheaper than the cheapest such candidate remain (else a
/// plain delete of the others is the better move).
fn filter_out_same_type(
    k: &Karpenter,
    view: &ClusterView<'_>,
    cands: &[&Candidate],
    ctx: &scheduling::PoolCtx,
    options: Vec<usize>,
) -> Vec<usize> {
    let mut price_by_type: BTreeMap<&str, f64> = BTreeMap::new();
    for c in cands {
        if let Some(n) = view.nodes.get(c.node.0 as usize) {
            let e = price_by_type.entry(n.instance_type.as_str()).or_insert(f64::MAX);
            *e = e.min(c.price_hr);
        }
    }
    let mut max_price = f64::MAX;
    for &o in &options {
        if let Some(&p) = price_by_type.get(k.types[ctx.offerings[o].type_idx].name.as_str()) {
            max_price = max_price.min(p);
        }
    }
    options
        .into_iter()
        .filter(|&o| ctx.offerings[o].price_hr < max_price)
        .collect()
}

/// Finds the next command: Emptiness, then multi-node, then single-node consolidation.
fn find_command(k: &Karpenter, view: &ClusterView<'_>, sim: &mut Sim<'_, '_>) -> Option<Command> {
    let now = view.now;
    let cands = candidates(k, view);
    // Emptiness (every policy).
    let empty = within_budget(
        cands.iter().filter(|c| c.pods.is_empty()),
        budget_remaining(k, view, DisruptionReason::Empty),
    );
    if !empty.is_empty() {
        return Some(Command {
            method: Activity::Emptiness,
            kind: Kind::Empty,
            nodes: empty.iter().map(|c| c.node).collect(),
            decided: now,
            reason: "node has no reschedulable pods".into(),
        });
    }
    let mut under: Vec<&Candidate> = cands
        .iter()
        .filter(|c| {
            !c.pods.is_empty()
                && k.pools[c.pool].pool.consolidation_policy == ConsolidationPolicy::WhenEmptyOrUnderutilized
        })
        .collect();
    // upstream: sortCandidates by disruption cost ascending; capsim then prefers larger savings
    // and breaks ties by node id.
    under.sort_by(|a, b| {
        a.disruption_cost
            .total_cmp(&b.disruption_cost)
            .then(b.price_hr.total_cmp(&a.price_hr))
            .then(a.node.cmp(&b.node))
    });
    let under = within_budget(
        under.into_iter(),
        budget_remaining(k, view, DisruptionReason::Underutilized),
    );
    // Multi-node: the largest prefix that consolidates, by binary search.
    let prefix: Vec<&Candidate> = under.iter().take(MULTI_NODE_MAX_CANDIDATES).copied().collect();
    if prefix.len() >= 2 {
        let (mut lo, mut hi) = (2usize, prefix.len());
        let mut best = None;
        while lo <= hi {
            let mid = (lo + hi) / 2;
            match sim.consolidate(k, view, &prefix[..mid]) {
                Some(found) => {
                    best = Some((mid, found));
                    lo = mid + 1;
                }
                None => hi = mid - 1,
            }
        }
        if let Some((n, (kind, reason))) = best {
            return Some(Command {
                method: Activity::MultiNodeConsolidation,
                kind,
                nodes: prefix[..n].iter().map(|c| c.node).collect(),
                decided: now,
                reason,
            });
        }
    }
    // Single-node: the first candidate that consolidates.
    for c in &under {
        if let Some((kind, reason)) = sim.consolidate(k, view, &[*c]) {
            return Some(Command {
                method: Activity::SingleNodeConsolidation,
                kind,
                nodes: vec![c.node],
                decided: now,
                reason,
            });
        }
    }
    None
}

/// validation.go: the command still holds after the delay: the same nodes are still candidates,
/// within budget, and (for consolidation) the simulation gives the same kind of decision.
fn validate(k: &Karpenter, view: &ClusterView<'_>, sim: &mut Sim<'_, '_>, cmd: &Command) -> Result<Kind, String> {
    let cands = candidates(k, view);
    let mut chosen = Vec::new();
    for id in &cmd.nodes {
        match cands.iter().find(|c| c.node == *id) {
            Some(c) => chosen.push(c),
            None => return Err(format!("node {} is no longer a disruption candidate", id.0)),
        }
    }
    let reason = if cmd.kind == Kind::Empty {
        DisruptionReason::Empty
    } else {
        DisruptionReason::Underutilized
    };
    let mut remaining = budget_remaining(k, view, reason);
    for c in &chosen {
        remaining[c.pool] -= 1;
        if remaining[c.pool] < 0 {
            return Err(format!("disruption budget for {} reached", reason.as_str()));
        }
    }
    match &cmd.kind {
        Kind::Empty => {
            if chosen.iter().any(|c| !c.pods.is_empty()) {
                return Err("node is no longer empty".into());
            }
            Ok(Kind::Empty)
        }
        kind => match sim.consolidate(k, view, &chosen) {
            Some((new, _)) if std::mem::discriminant(&new) == std::mem::discriminant(kind) => Ok(new),
            _ => Err("consolidation no longer valid".into()),
        },
    }
}

fn node_name(view: &ClusterView<'_>, id: NodeId) -> String {
    view.nodes
        .get(id.0 as usize)
        .map_or_else(|| format!("{}", id.0), |n| n.name.clone())
}

fn execute(
    k: &mut Karpenter,
    view: &ClusterView<'_>,
    cmd: Command,
    kind: Kind,
    actions: &mut Vec<Action>,
    records: &mut Vec<DecisionRecord>,
) {
    let now = view.now;
    let tgp = |k: &Karpenter, id: NodeId| {
        view.nodes
            .get(id.0 as usize)
            .and_then(|n| k.node_pool(n))
            .and_then(|p| k.pools[p].pool.termination_grace_period)
    };
    match kind {
        Kind::Empty => {
            for &id in &cmd.nodes {
                k.marked.insert(id);
                actions.push(Action::Terminate {
                    node: id,
                    reason: format!("{}: empty", cmd.method),
                });
                records.push(Karpenter::record(
                    now,
                    cmd.method,
                    Decision::DeleteEmpty,
                    format!("node/{}", node_name(view, id)),
                    cmd.reason.clone(),
                ));
            }
        }
        Kind::Delete => {
            for &id in &cmd.nodes {
                k.marked.insert(id);
                let g = tgp(k, id);
                actions.push(Action::Drain {
                    node: id,
                    reason: format!("{}: delete", cmd.method),
                    max_eviction_time: g.unwrap_or(NO_DEADLINE),
                    force: g.is_some(),
                });
                records.push(Karpenter::record(
                    now,
                    cmd.method,
                    Decision::Delete,
                    format!("node/{}", node_name(view, id)),
                    cmd.reason.clone(),
                ));
            }
        }
        Kind::Replace { pool, options } => {
            let pick = scheduling::pick_offering(&options, &k.pools[pool], &k.types, &k.settings, &mut k.ice, now);
            for &o in &pick.ice_failures {
                let off = &k.pools[pool].offerings[o];
                records.push(Karpenter::record(
                    now,
                    cmd.method,
                    Decision::InsufficientCapacity,
                    format!(
                        "{}/{}/{}",
                        k.types[off.type_idx].name,
                        off.capacity_type.as_str(),
                        off.zone
                    ),
                    format!(
                        "replacement launch failed; offering unavailable for {}",
                        k.settings.ice_cache_ttl
                    ),
                ));
            }
            let Some(o) = pick.offering else {
                records.push(Karpenter::record(
                    now,
                    cmd.method,
                    Decision::ReplaceAbandoned,
                    format!("node/{}", node_name(view, cmd.nodes[0])),
                    "no cheaper offering available".into(),
                ));
                return;
            };
            let names: Vec<String> = cmd.nodes.iter().map(|&id| node_name(view, id)).collect();
            let (action, claim, launch) = k.launch(pool, o, format!("{}: replace {}", cmd.method, names.join(",")));
            for &id in &cmd.nodes {
                k.marked.insert(id);
                actions.push(Action::Cordon {
                    node: id,
                    reason: format!("{}: replacing", cmd.method),
                });
            }
            actions.push(action);
            records.push(Karpenter::record(
                now,
                cmd.method,
                Decision::Replace,
                format!("node/{} -> nodeclaim/{claim}", names.join(",")),
                cmd.reason.clone(),
            ));
            k.replacements.push(Replacement {
                claim,
                launch,
                node: None,
                replaced: cmd.nodes.clone(),
                reason: format!("{}: replaced", cmd.method),
            });
        }
    }
}

/// One disruption step: observe pod events; validate and execute a pending command once its
/// delay has passed; otherwise, every poll period, look for a new command.
pub fn reconcile(
    k: &mut Karpenter,
    view: &ClusterView<'_>,
    actions: &mut Vec<Action>,
    records: &mut Vec<DecisionRecord>,
) {
    let now = view.now;
    observe_pod_events(k, view);
    if let Some(cmd) = k.disruption.pending.take() {
        if now.since(cmd.decided) < k.settings.command_validation_delay {
            k.disruption.pending = Some(cmd);
            return;
        }
        let checked = with_sim(k, view, |k, sim| validate(k, view, sim, &cmd));
        match checked {
            Ok(kind) => execute(k, view, cmd, kind, actions, records),
            Err(why) => records.push(Karpenter::record(
                now,
                cmd.method,
                Decision::Invalidated,
                format!("node/{}", node_name(view, cmd.nodes[0])),
                why,
            )),
        }
        k.disruption.next_poll = now + k.settings.disruption_poll;
        return;
    }
    if now < k.disruption.next_poll {
        return;
    }
    k.disruption.next_poll = now + k.settings.disruption_poll;
    let immediate = k.settings.command_validation_delay.is_zero();
    let found = with_sim(k, view, |k, sim| {
        let cmd = find_command(k, view, sim)?;
        let checked = immediate.then(|| validate(k, view, sim, &cmd));
        Some((cmd, checked))
    });
    match found {
        Some((cmd, Some(Ok(kind)))) => execute(k, view, cmd, kind, actions, records),
        Some((cmd, Some(Err(why)))) => records.push(Karpenter::record(
            now,
            cmd.method,
            Decision::Invalidated,
            String::new(),
            why,
        )),
        Some((cmd, None)) => k.disruption.pending = Some(cmd),
        None => {}
    }
}

/// Runs `f` with this step's shared simulation state and the memo (synced to the world).
fn with_sim<T>(k: &mut Karpenter, view: &ClusterView<'_>, f: impl FnOnce(&Karpenter, &mut Sim<'_, '_>) -> T) -> T {
    let mut memo = std::mem::take(&mut k.disruption.memo);
    let prep = Prep::new(k, view);
    memo.sync(prep.inputs());
    let out = f(
        k,
        &mut Sim {
            prep: &prep,
            memo: &mut memo,
        },
    );
    k.disruption.memo = memo;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::karpenter::nodepool::Budget;

    fn pool(budgets: Vec<Budget>) -> NodePool {
        NodePool {
            name: "p".into(),
            weight: 0,
            labels: Default::default(),
            requirements: vec![],
            offering_requirements: vec![],
            taints: vec![],
            startup_taints: vec![],
            expire_after: None,
            termination_grace_period: None,
            node_class: None,
            consolidation_policy: ConsolidationPolicy::WhenEmptyOrUnderutilized,
            consolidate_after: Some(SimDuration::ZERO),
            budgets,
            limits: Default::default(),
        }
    }

    #[test]
    fn budgets_round_up_and_take_the_minimum() {
        let b = |nodes, reasons: Option<Vec<DisruptionReason>>| Budget {
            nodes,
            schedule: None,
            reasons,
        };
        // 10% of 15 nodes = 1.5 → 2 (rounded up).
        let p = pool(vec![b(BudgetNodes::Percent(10), None)]);
        assert_eq!(
            allowed_disruptions(&p, DisruptionReason::Empty, 15, SimTime::ZERO, 0),
            2
        );
        // 10% of 0 nodes = 0.
        assert_eq!(allowed_disruptions(&p, DisruptionReason::Empty, 0, SimTime::ZERO, 0), 0);
        // min(5, 1 for Underutilized only): Empty sees 5, Underutilized sees 1.
        let p = pool(vec![
            b(BudgetNodes::Count(5), None),
            b(BudgetNodes::Count(1), Some(vec![DisruptionReason::Underutilized])),
        ]);
        assert_eq!(
            allowed_disruptions(&p, DisruptionReason::Empty, 20, SimTime::ZERO, 0),
            5
        );
        assert_eq!(
            allowed_disruptions(&p, DisruptionReason::Underutilized, 20, SimTime::ZERO, 0),
            1
        );
    }

    #[test]
    fn scheduled_budget_windows() {
        // "0 9 * * *" for 8h: active 09:00 ≤ t < 17:00 UTC. Epoch 2024-01-01T00:00Z.
        let cron = super::super::cron::Cron::parse("0 9 * * *").expect("valid");
        let s = Some((cron, SimDuration::from_mins(8 * 60)));
        let at = |h: u64, m: u64| SimTime::from_secs(h * 3600 + m * 60);
        let epoch = crate::controllers::karpenter::settings::DEFAULT_EPOCH_UNIX_SECONDS;
        assert!(!budget_active(s.as_ref(), at(8, 59), epoch));
        assert!(budget_active(s.as_ref(), at(9, 0), epoch));
        assert!(budget_active(s.as_ref(), at(16, 59), epoch));
        assert!(!budget_active(s.as_ref(), at(17, 0), epoch));
        assert!(budget_active(s.as_ref(), at(24 + 10, 0), epoch));
    }

    #[test]
    fn costs() {
        assert_eq!(eviction_cost(0), 1.0);
        // priority 2^25 adds 1.
        assert_eq!(eviction_cost(1 << 25), 2.0);
        assert_eq!(eviction_cost(i32::MAX), 10.0);
        let mut p = pool(vec![]);
        p.expire_after = Some(SimDuration::from_mins(100));
        assert_eq!(lifetime_remaining(&p, SimDuration::from_mins(25)), 0.75);
        assert_eq!(lifetime_remaining(&p, SimDuration::from_mins(200)), 0.0);
    }
}
