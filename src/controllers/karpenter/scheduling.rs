//! Karpenter's scheduling simulation (`Solve`), as a pure function.
//!
//! upstream: kubernetes-sigs/karpenter pkg/controllers/provisioning/scheduling/scheduler.go
//! (`Solve`, `add`), queue.go (`byCPUAndMemoryDescending`), nodeclaim.go (`NodeClaim.Add`:
//! narrowing instance-type options), and `subtractMax` for NodePool limits. The same function
//! serves provisioning and consolidation's what-if (disruption/helpers.go `SimulateScheduling`).

use super::nodeclass::KubeletOverrides;
use super::nodepool::NodePool;
use super::offerings::{IceCache, LABEL_CAPACITY_TYPE, LABEL_NODEPOOL, LABEL_ZONE, Offering, TypeInfo};
use super::settings::KarpenterSettings;
use crate::cluster::placement::{matches_labels, tolerates};
use crate::cluster::topology::Views;
use crate::cluster::{NodeId, PodId};
use crate::engine::SimTime;
use crate::model::{CapacityType, Labels, NodeAffinity, PodTemplate, Resources, Taint};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A NodePool with everything the solver needs precomputed.
#[derive(Clone, Debug)]
pub struct PoolCtx {
    pub pool: NodePool,
    pub kubelet: KubeletOverrides,
    /// Requests of the DaemonSet pods that would run on this pool's nodes.
    pub daemon_overhead: Resources,
    /// Offerings the pool's requirements admit, in (type, capacity type, zone) order.
    pub offerings: Vec<Offering>,
    /// Labels a node launched from each offering carries.
    pub offering_labels: Vec<Labels>,
    /// Kubelet capacity of each offering (what limits count).
    pub capacity: Vec<Resources>,
    /// Kubelet allocatable of each offering.
    pub allocatable: Vec<Resources>,
    /// Room for ordinary pods: allocatable − DaemonSet overhead.
    pub usable: Vec<Resources>,
    /// Offerings unavailable now (in the ICE cache): the solve leaves them out, as upstream's
    /// instance types carry only available offerings into scheduling.
    pub blocked: Vec<bool>,
    /// Some offering is blocked.
    pub any_blocked: bool,
}

impl PoolCtx {
    pub fn new(pool: NodePool, kubelet: KubeletOverrides, types: &[TypeInfo], settings: &KarpenterSettings) -> Self {
        let mut offerings = Vec::new();
        let mut offering_labels = Vec::new();
        let mut capacity = Vec::new();
        let mut allocatable = Vec::new();
        for (ti, t) in types.iter().enumerate() {
            for ct in [CapacityType::OnDemand, CapacityType::Spot] {
                let Some(price) = t.price(ct) else { continue };
                for zone in &settings.zones {
                    let mut l = t.labels.clone();
                    l.insert(LABEL_ZONE.into(), zone.clone());
                    l.insert(LABEL_CAPACITY_TYPE.into(), ct.as_str().into());
                    if !pool.admits(&l) {
                        continue;
                    }
                    for (k, v) in &pool.labels {
                        l.insert(k.clone(), v.clone());
                    }
                    l.insert(LABEL_NODEPOOL.into(), pool.name.clone());
                    offerings.push(Offering {
                        type_idx: ti,
                        capacity_type: ct,
                        zone: zone.clone(),
                        price_hr: price,
                    });
                    offering_labels.push(l);
                    capacity.push(t.capacity(&kubelet));
                    allocatable.push(t.allocatable(&kubelet));
                }
            }
        }
        let usable = allocatable.clone();
        let n_offerings = offerings.len();
        PoolCtx {
            pool,
            kubelet,
            daemon_overhead: Resources::ZERO,
            offerings,
            offering_labels,
            capacity,
            allocatable,
            usable,
            blocked: vec![false; n_offerings],
            any_blocked: false,
        }
    }

    /// Sets the DaemonSet overhead (DaemonSets whose template tolerates the pool's taints and
    /// whose node selector/affinity matches the pool's labels), and recomputes usable room.
    /// upstream: provisioning/provisioner.go `getDaemonSetPods` + scheduling `daemonOverhead`
    /// (per NodeClaimTemplate, checked against its taints and requirements).
    pub fn set_daemonsets<'t>(&mut self, daemonsets: impl Iterator<Item = &'t PodTemplate>) {
        let mut overhead = Resources::ZERO;
        for t in daemonsets {
            // A DaemonSet counts when it tolerates the pool's taints and some offering of the
            // pool matches its node selector / affinity.
            if tolerates(t, &self.pool.taints) && self.offering_labels.iter().any(|l| matches_labels(t, l)) {
                overhead += t.requests();
            }
        }
        self.daemon_overhead = overhead;
        self.usable = self.allocatable.iter().map(|a| a.saturating_sub(&overhead)).collect();
    }
}

/// A pod to place.
#[derive(Clone, Debug)]
pub struct SimPod<'a> {
    pub id: PodId,
    pub requests: Resources,
    pub created: SimTime,
    /// Its template's key (`cluster::Templates::key`: workload and revision); compatibility is
    /// memoised per key.
    pub workload: u32,
    pub template: &'a PodTemplate,
    /// The zone its StatefulSet volume is bound in, if any.
    pub volume_zone: Option<&'a str>,
}

/// A node that exists or is on its way, with the room left on it.
#[derive(Clone, Debug)]
pub struct SimNode<'a> {
    pub id: NodeId,
    pub free: Resources,
    pub labels: &'a Labels,
    pub taints: &'a [Taint],
}

/// A NodeClaim the solve creates.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeClaimPlan {
    /// Index into the solver's pools.
    pub pool: usize,
    pub pods: Vec<PodId>,
    pub requests: Resources,
    /// Offerings (indices into the pool's `offerings`) every pod still fits.
    pub options: Vec<usize>,
    /// Its placeholder hostname, a topology domain of its own (upstream registers one per new
    /// NodeClaim).
    pub hostname: String,
}

/// Why a pod could not be placed (upstream: scheduler `PodErrors`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodError {
    /// No NodePool tolerates it and offers a node matching its selector/affinity.
    NoCompatibleNodePool,
    /// Compatible pools exist but their limits leave no room.
    LimitsExceeded(String),
    /// Compatible pools exist but no instance type is large enough.
    NoInstanceTypeFits,
    /// Topology spread or pod (anti-)affinity leaves no domain for it.
    Topology(&'static str),
}

impl PodError {
    pub fn describe(&self) -> String {
        match self {
            PodError::NoCompatibleNodePool => {
                "no NodePool tolerates the pod and matches its node selector/affinity".into()
            }
            PodError::LimitsExceeded(p) => format!("all available instance types exceed limits for nodepool {p}"),
            PodError::NoInstanceTypeFits => "no instance type has enough resources for the pod".into(),
            PodError::Topology(why) => format!("unsatisfiable topology constraint: {why}"),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SolveResult {
    pub existing: Vec<(PodId, NodeId)>,
    pub claims: Vec<NodeClaimPlan>,
    pub errors: Vec<(PodId, PodError)>,
}

/// Remaining NodePool limits during a solve (`None` = unlimited).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Remaining {
    pub cpu_m: Option<i64>,
    pub memory: Option<i64>,
    pub nodes: Option<i64>,
}

impl Remaining {
    fn admits(&self, cap: &Resources) -> bool {
        self.cpu_m.is_none_or(|c| cap.cpu_m <= c)
            && self.memory.is_none_or(|m| cap.mem <= m)
            && self.nodes.is_none_or(|n| n >= 1)
    }
}

/// Sort order of the provisioning queue: CPU desc, memory desc, creation, id.
/// upstream: provisioning/scheduling/queue.go `byCPUAndMemoryDescending`.
pub fn queue_order(a: &SimPod<'_>, b: &SimPod<'_>) -> Ordering {
    b.requests
        .cpu_m
        .cmp(&a.requests.cpu_m)
        .then(b.requests.mem.cmp(&a.requests.mem))
        .then(a.created.cmp(&b.created))
        .then(a.id.cmp(&b.id))
}

/// Whether a workload's pods accept each offering's labels, per (workload, pool index), with the
/// node selector and affinity it was computed for (a different template recomputes it). Kept
/// across solves by Karpenter: consolidation solves often, and each recomputation checks every
/// offering of every pool (~600 per pool over the full catalog). Each entry also keeps, per pod
/// size seen, the compatible offerings that size fits (a workload's pods share one size, so the
/// scan over every offering runs once per workload and pool, not once per new NodeClaim).
#[derive(Clone, Debug, Default)]
pub struct CompatMemo {
    entries: BTreeMap<(u32, usize), CompatEntry>,
}

impl CompatMemo {
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[derive(Clone, Debug)]
struct CompatEntry {
    node_selector: Labels,
    affinity: NodeAffinity,
    /// Per offering of the pool: the pod accepts its labels.
    ok: Vec<bool>,
    /// Some offering is compatible.
    any_ok: bool,
    /// Per pod size: the compatible offerings it fits in, ascending, and their largest capacity.
    fits: Vec<(Resources, Fitting)>,
}

#[derive(Clone, Debug)]
struct Fitting {
    offerings: Vec<usize>,
    max_cpu_m: i64,
    max_mem: i64,
}

fn compat_entry<'m>(
    memo: &'m mut CompatMemo,
    workload: u32,
    pool: usize,
    t: &PodTemplate,
    ctx: &PoolCtx,
) -> &'m mut CompatEntry {
    let compute = || {
        let ok: Vec<bool> = ctx.offering_labels.iter().map(|l| matches_labels(t, l)).collect();
        CompatEntry {
            node_selector: t.node_selector.clone(),
            affinity: t.affinity.clone(),
            any_ok: ok.iter().any(|&b| b),
            ok,
            fits: Vec::new(),
        }
    };
    let e = memo.entries.entry((workload, pool)).or_insert_with(compute);
    if e.node_selector != t.node_selector || e.affinity != t.affinity || e.ok.len() != ctx.offering_labels.len() {
        *e = compute();
    }
    e
}

impl CompatEntry {
    /// The compatible offerings `requests` fits in (allocatable − DaemonSet overhead), ascending.
    fn fitting(&mut self, requests: &Resources, ctx: &PoolCtx) -> &Fitting {
        let i = match self.fits.iter().position(|(r, _)| r == requests) {
            Some(i) => i,
            None => {
                let offerings: Vec<usize> = (0..ctx.offerings.len())
                    .filter(|&o| self.ok[o] && requests.fits_in(&ctx.usable[o]))
                    .collect();
                let max = |f: fn(&Resources) -> i64| offerings.iter().map(|&o| f(&ctx.capacity[o])).max().unwrap_or(0);
                let fitting = Fitting {
                    max_cpu_m: max(|x| x.cpu_m),
                    max_mem: max(|x| x.mem),
                    offerings,
                };
                self.fits.push((*requests, fitting));
                self.fits.len() - 1
            }
        };
        &self.fits[i].1
    }
}

/// Simulates scheduling `pods` onto `existing` nodes, then onto new NodeClaims from `pools`
/// (highest weight first, then name). `remaining[i]` is pool i's limit headroom.
pub fn solve(pods: &[SimPod<'_>], existing: &[SimNode<'_>], pools: &[PoolCtx], remaining: &[Remaining]) -> SolveResult {
    solve_with_memo(pods, existing, pools, remaining, &mut CompatMemo::default(), None)
}

/// [`solve`], reusing offering compatibility from earlier solves over the same `pools`.
pub fn solve_with_memo(
    pods: &[SimPod<'_>],
    existing: &[SimNode<'_>],
    pools: &[PoolCtx],
    remaining: &[Remaining],
    compat: &mut CompatMemo,
    topo: Option<&mut Views<'_>>,
) -> SolveResult {
    solve_until(pods, existing, pools, remaining, compat, usize::MAX, topo).0
}

/// [`solve_with_memo`] that stops as soon as the solve has created more than `max_claims`
/// NodeClaims (the second value is then false and the result covers only the pods placed so
/// far). Claims are never removed, so a caller that only cares whether the solve needs at most
/// `max_claims` of them (consolidation: "at most one replacement") learns it early.
pub fn solve_until(
    pods: &[SimPod<'_>],
    existing: &[SimNode<'_>],
    pools: &[PoolCtx],
    remaining: &[Remaining],
    compat: &mut CompatMemo,
    max_claims: usize,
    mut topo: Option<&mut Views<'_>>,
) -> (SolveResult, bool) {
    // The inter-pod filters: `topo` holds the snapshot's views (existing nodes and their pods;
    // the caller adds nodes not registered yet and the domains its NodePools offer).
    let active = topo.as_ref().is_some_and(|v| v.active());
    let keys: Vec<String> = if active {
        topo.as_ref()
            .map(|v| v.keys().into_iter().collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut order: Vec<&SimPod<'_>> = pods.iter().collect();
    order.sort_by(|a, b| queue_order(a, b));
    let mut free: Vec<Resources> = existing.iter().map(|n| n.free).collect();
    let mut remaining = remaining.to_vec();
    remaining.resize(pools.len(), Remaining::default());
    // upstream: scheduler.go orders NodeClaimTemplates by NodePool weight (desc), then name.
    let mut pool_order: Vec<usize> = (0..pools.len()).collect();
    pool_order.sort_by(|&a, &b| {
        pools[b]
            .pool
            .weight
            .cmp(&pools[a].pool.weight)
            .then(pools[a].pool.name.cmp(&pools[b].pool.name))
    });
    // workload → per existing node: 0 not yet checked, 1 incompatible (taints or labels),
    // 2 compatible. Filled lazily, only for nodes with room, so each (workload, node) label
    // check runs once per solve instead of once per pod (consolidation solves repeatedly).
    let mut node_compat: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let mut res = SolveResult::default();
    let mut claim_order: Vec<usize> = Vec::new();
    let mut narrowed: Vec<usize> = Vec::new();

    'pods: for pod in order {
        let t = pod.template;
        // The pod's own ScheduleAnyway spread is honoured first and relaxed only if the pod
        // fits nowhere with it (upstream: scheduling/preferences.go `Relax`).
        let own_soft = active
            && t.constraints.spread.iter().any(|c| {
                !c.system_default && c.when_unsatisfiable == crate::model::topology::WhenUnsatisfiable::ScheduleAnyway
            });
        let attempts: &[bool] = if own_soft { &[true, false] } else { &[false] };
        let mut err = PodError::NoCompatibleNodePool;
        for &strict in attempts {
            if let Some(v) = topo.as_deref_mut().filter(|_| active) {
                v.set_strict(strict);
            }
            err = PodError::NoCompatibleNodePool;
            let constrained = active && topo.as_ref().is_some_and(|v| v.needed(t));
            // 1. existing and in-flight nodes, in id order.
            let known = node_compat
                .entry(pod.workload)
                .or_insert_with(|| vec![0; existing.len()]);
            for (i, n) in existing.iter().enumerate() {
                if !pod.requests.fits_in(&free[i]) {
                    continue;
                }
                if known[i] == 0 {
                    let ok = crate::cluster::placement::admits(t, n.labels, n.taints);
                    known[i] = if ok { 2 } else { 1 };
                }
                if known[i] == 2 && crate::cluster::placement::volume_zone_ok(pod.volume_zone, n.labels) {
                    if let Some(v) = topo.as_deref_mut().filter(|_| active) {
                        let vp = v.pod(pod.id);
                        if constrained && !v.admits(vp, n.labels) {
                            continue;
                        }
                        v.place(vp, n.id.0 as usize, 1);
                    }
                    free[i] -= pod.requests;
                    res.existing.push((pod.id, n.id));
                    continue 'pods;
                }
            }
            // 2. NodeClaims of this solve, fewest pods first (upstream: scheduler.go `add` sorts
            //    newNodeClaims by len(Pods) before trying them); stable, so creation order breaks ties.
            claim_order.clear();
            claim_order.extend(0..res.claims.len());
            claim_order.sort_by_key(|&c| res.claims[c].pods.len());
            for &c in &claim_order {
                let claim = &mut res.claims[c];
                let ctx = &pools[claim.pool];
                if !tolerates(t, &ctx.pool.taints) {
                    continue;
                }
                let ok = &compat_entry(compat, pod.workload, claim.pool, t, ctx).ok;
                let need = claim.requests + pod.requests;
                narrowed.clear();
                narrowed.extend(
                    claim
                        .options
                        .iter()
                        .copied()
                        .filter(|&o| ok[o] && !ctx.blocked[o] && need.fits_in(&ctx.usable[o]))
                        .filter(|&o| pod.volume_zone.is_none_or(|z| ctx.offerings[o].zone == z)),
                );
                if constrained
                    && !narrowed.is_empty()
                    && let Some(v) = topo.as_deref_mut()
                {
                    let vp = v.pod(pod.id);
                    match v.narrow(vp, &|k| open_values(ctx, &narrowed, &claim.hostname, k)) {
                        Ok(reqs) => narrowed.retain(|&o| satisfies(&ctx.offering_labels[o], &reqs)),
                        Err(_) => narrowed.clear(),
                    }
                }
                if !narrowed.is_empty() {
                    std::mem::swap(&mut claim.options, &mut narrowed);
                    claim.requests = need;
                    claim.pods.push(pod.id);
                    if let Some(v) = topo.as_deref_mut().filter(|_| active) {
                        let domains = open_domains(ctx, &claim.options, &claim.hostname, &keys);
                        v.place_open(v.pod(pod.id), domains);
                    }
                    continue 'pods;
                }
            }
            // 3. a new NodeClaim from the first pool that admits the pod.
            for &p in &pool_order {
                let ctx = &pools[p];
                if !tolerates(t, &ctx.pool.taints) {
                    continue;
                }
                let entry = compat_entry(compat, pod.workload, p, t, ctx);
                let any_ok = entry.any_ok;
                let fitting = entry.fitting(&pod.requests, ctx);
                if fitting.offerings.is_empty() {
                    if any_ok && err == PodError::NoCompatibleNodePool {
                        err = PodError::NoInstanceTypeFits;
                    }
                    continue;
                }
                let r = &mut remaining[p];
                // Every fitting offering is within the limits when the largest one is (the test is
                // per dimension), so the filter and the maximum come from the cache.
                let all_admitted = r.admits(&Resources {
                    cpu_m: fitting.max_cpu_m,
                    mem: fitting.max_mem,
                    pods: 0,
                });
                let hostname = format!("nodeclaim-placeholder-{}", res.claims.len());
                let (options, max_cpu_m, max_mem) =
                    if all_admitted && !constrained && pod.volume_zone.is_none() && !ctx.any_blocked {
                        (fitting.offerings.clone(), fitting.max_cpu_m, fitting.max_mem)
                    } else {
                        let options: Vec<usize> = fitting
                            .offerings
                            .iter()
                            .copied()
                            .filter(|&o| r.admits(&ctx.capacity[o]) && !ctx.blocked[o])
                            .filter(|&o| pod.volume_zone.is_none_or(|z| ctx.offerings[o].zone == z))
                            .collect();
                        let mut options = options;
                        if constrained && let Some(v) = topo.as_deref_mut() {
                            // upstream registers the new NodeClaim's hostname as a domain first.
                            v.add_domain(crate::model::labels::LABEL_HOSTNAME, &hostname);
                            let vp = v.pod(pod.id);
                            match v.narrow(vp, &|k| open_values(ctx, &options, &hostname, k)) {
                                Ok(reqs) => options.retain(|&o| satisfies(&ctx.offering_labels[o], &reqs)),
                                Err(why) => {
                                    err = PodError::Topology(why.as_str());
                                    continue;
                                }
                            }
                        }
                        let max =
                            |f: fn(&Resources) -> i64| options.iter().map(|&o| f(&ctx.capacity[o])).max().unwrap_or(0);
                        let (c, m) = (max(|x| x.cpu_m), max(|x| x.mem));
                        (options, c, m)
                    };
                if options.is_empty() {
                    if !matches!(err, PodError::Topology(_)) {
                        err = PodError::LimitsExceeded(ctx.pool.name.clone());
                    }
                    continue;
                }
                if active && let Some(v) = topo.as_deref_mut() {
                    if !constrained {
                        v.add_domain(crate::model::labels::LABEL_HOSTNAME, &hostname);
                    }
                    let domains = open_domains(ctx, &options, &hostname, &keys);
                    v.place_open(v.pod(pod.id), domains);
                }
                // upstream: scheduler.go `subtractMax`: reserve the largest option's capacity.
                r.cpu_m = r.cpu_m.map(|c| c - max_cpu_m);
                r.memory = r.memory.map(|m| m - max_mem);
                r.nodes = r.nodes.map(|n| n - 1);
                res.claims.push(NodeClaimPlan {
                    pool: p,
                    pods: vec![pod.id],
                    requests: pod.requests,
                    options,
                    hostname,
                });
                if res.claims.len() > max_claims {
                    return (res, false);
                }
                continue 'pods;
            }
        }
        res.errors.push((pod.id, err));
    }
    (res, true)
}

/// The values an open NodeClaim with these offerings may take for `key`: its own hostname, or
/// the distinct values its offerings' labels give.
fn open_values(ctx: &PoolCtx, options: &[usize], hostname: &str, key: &str) -> Vec<String> {
    if key == crate::model::labels::LABEL_HOSTNAME {
        return vec![hostname.to_string()];
    }
    let mut v: Vec<String> = options
        .iter()
        .filter_map(|&o| ctx.offering_labels[o].get(key).cloned())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn open_domains(ctx: &PoolCtx, options: &[usize], hostname: &str, keys: &[String]) -> BTreeMap<String, Vec<String>> {
    keys.iter()
        .map(|k| (k.clone(), open_values(ctx, options, hostname, k)))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// Do an offering's labels satisfy narrowed topology requirements (hostname excepted: every
/// offering of a claim shares its placeholder)?
fn satisfies(labels: &Labels, reqs: &[(String, Vec<String>)]) -> bool {
    reqs.iter()
        .filter(|(k, _)| k != crate::model::labels::LABEL_HOSTNAME)
        .all(|(k, allowed)| labels.get(k).is_some_and(|v| allowed.contains(v)))
}

/// Offerings of a claim in launch preference: spot before on-demand where the claim allows
/// spot (upstream: aws/karpenter-provider-aws pkg/providers/instance/instance.go
/// `getCapacityType`: spot whenever a spot offering is compatible and available), then price
/// (price-capacity-optimized approximated as the cheapest), then type name, then zone.
pub fn launch_order(claim_options: &[usize], ctx: &PoolCtx, types: &[TypeInfo]) -> Vec<usize> {
    let mut v = claim_options.to_vec();
    v.sort_by(|&a, &b| {
        let (oa, ob) = (&ctx.offerings[a], &ctx.offerings[b]);
        (oa.capacity_type != CapacityType::Spot)
            .cmp(&(ob.capacity_type != CapacityType::Spot))
            .then(oa.price_hr.total_cmp(&ob.price_hr))
            .then(types[oa.type_idx].name.cmp(&types[ob.type_idx].name))
            .then(oa.zone.cmp(&ob.zone))
    });
    v
}

/// The outcome of picking an offering for a claim.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchPick {
    /// Index into the pool's offerings, `None` when every option is unavailable.
    pub offering: Option<usize>,
    /// Offerings that failed with insufficient capacity on the way (now in the ICE cache).
    pub ice_failures: Vec<usize>,
}

/// Walks the claim's options in launch order, skipping offerings in the ICE cache; a launch into
/// an offering the scenario marks unavailable fails (InsufficientInstanceCapacity), is cached for
/// the ICE TTL and the next one is tried (upstream: CreateFleet errors →
/// `UnavailableOfferings.MarkUnavailable`, pkg/cache/unavailableofferings.go).
pub fn pick_offering(
    options: &[usize],
    ctx: &PoolCtx,
    types: &[TypeInfo],
    settings: &KarpenterSettings,
    ice: &mut IceCache,
    now: SimTime,
) -> LaunchPick {
    let mut ice_failures = Vec::new();
    for o in launch_order(options, ctx, types) {
        let off = &ctx.offerings[o];
        let name = &types[off.type_idx].name;
        if ice.is_unavailable(name, off.capacity_type, &off.zone, now) {
            continue;
        }
        if settings
            .unavailable_offerings
            .iter()
            .any(|u| u.covers(name, off.capacity_type, &off.zone, now))
            || crate::scenario::faults::launch_fails(&settings.faults, name, off.capacity_type, &off.zone, now)
        {
            ice.mark(name, off.capacity_type, &off.zone, now + settings.ice_cache_ttl);
            ice_failures.push(o);
            continue;
        }
        return LaunchPick {
            offering: Some(o),
            ice_failures,
        };
    }
    LaunchPick {
        offering: None,
        ice_failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Catalog;
    use crate::controllers::karpenter::nodepool::parse_nodepool;
    use crate::controllers::karpenter::offerings::catalog_types;
    use crate::model::resources::MIB;
    use crate::testkit::pod_template;

    /// One on-demand pool over the bundled catalog's c/m/r amd64 types, with a CPU limit.
    fn pool(cpu_limit: &str) -> (PoolCtx, Vec<TypeInfo>) {
        let types = catalog_types(&Catalog::bundled());
        let settings = KarpenterSettings::default();
        let doc = serde_json::json!({
            "apiVersion": "karpenter.sh/v1",
            "kind": "NodePool",
            "metadata": {"name": "p"},
            "spec": {
                "template": {"spec": {"requirements": [
                    {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}
                ]}},
                "limits": {"cpu": cpu_limit}
            }
        });
        let p = parse_nodepool(&doc, &types, &settings, &mut vec![]).expect("valid NodePool");
        (PoolCtx::new(p, Default::default(), &types, &settings), types)
    }

    fn pods<'t>(templates: &'t [PodTemplate]) -> Vec<SimPod<'t>> {
        templates
            .iter()
            .enumerate()
            .map(|(i, t)| SimPod {
                id: PodId(i as u32),
                requests: t.requests(),
                created: SimTime::ZERO,
                workload: i as u32,
                template: t,
                volume_zone: None,
            })
            .collect()
    }

    #[test]
    fn solve_until_stops_after_max_claims() {
        // Six pods of 60 CPU / 64 GiB need several NodeClaims (the full solve's count, checked
        // ≥ 2): a cap below that count stops right after the claim past the cap; a cap at or
        // above it returns exactly the full result.
        let (ctx, _) = pool("100000");
        let templates: Vec<PodTemplate> = (0..6).map(|_| pod_template(60_000, 64 * 1024 * MIB)).collect();
        let pods = pods(&templates);
        let remaining = [Remaining {
            cpu_m: Some(100_000_000),
            memory: None,
            nodes: None,
        }];
        let full = solve(&pods, &[], std::slice::from_ref(&ctx), &remaining);
        let needed = full.claims.len();
        assert!(needed >= 2, "the case must need several claims, got {needed}");
        let mut memo = CompatMemo::default();
        let cases = [(0, false), (needed - 1, false), (needed, true), (usize::MAX, true)];
        for (cap, complete) in cases {
            let (res, done) = solve_until(&pods, &[], std::slice::from_ref(&ctx), &remaining, &mut memo, cap, None);
            assert_eq!(done, complete, "cap {cap}");
            if complete {
                assert_eq!(res, full, "cap {cap}");
            } else {
                assert_eq!(res.claims.len(), cap + 1, "cap {cap}: stops at the claim past the cap");
            }
        }
    }

    #[test]
    fn memoised_fitting_matches_a_fresh_solve() {
        // The same pods solved repeatedly with one memo, under limits that admit all, some or
        // none of the fitting offerings, give what a fresh memo gives each time.
        let (ctx, _) = pool("100000");
        let templates: Vec<PodTemplate> = [(500, 512), (2_000, 4_096), (500, 512), (16_000, 65_536)]
            .iter()
            .map(|&(c, m)| pod_template(c, m * MIB))
            .collect();
        let pods = pods(&templates);
        let mut memo = CompatMemo::default();
        // 4 CPU admits only small types, 0 admits nothing (LimitsExceeded), None admits all.
        for limit in [None, Some(4_000), Some(0), None, Some(64_000)] {
            let remaining = [Remaining {
                cpu_m: limit,
                memory: None,
                nodes: None,
            }];
            let fresh = solve(&pods, &[], std::slice::from_ref(&ctx), &remaining);
            let memoised = solve_with_memo(&pods, &[], std::slice::from_ref(&ctx), &remaining, &mut memo, None);
            assert_eq!(memoised, fresh, "limit {limit:?}");
        }
        // The limit of 0 leaves every pod unplaced for limits.
        let zero = [Remaining {
            cpu_m: Some(0),
            memory: None,
            nodes: None,
        }];
        let res = solve_with_memo(&pods, &[], std::slice::from_ref(&ctx), &zero, &mut memo, None);
        assert!(res.claims.is_empty());
        assert!(
            res.errors
                .iter()
                .all(|(_, e)| *e == PodError::LimitsExceeded("p".into())),
            "{:?}",
            res.errors
        );
    }
}
