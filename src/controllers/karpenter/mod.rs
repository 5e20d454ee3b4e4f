//! Karpenter as a pure decision function: NodePools, provisioning (batching + scheduling
//! simulation + cheapest offering), insufficient-capacity fallbacks, and disruption
//! (emptiness, consolidation, expiration, spot interruption).
//!
//! ```text
//! reconcile (every 1 s)
//!   notices ──► spot interruption: Drain{force} + offering → ICE cache
//!   liveness (registrationTTL), expiration (expireAfter) ──► Terminate / Drain{force}
//!   unschedulable pods ──► Batcher ──(window closed)──► solve() ──► pick_offering() ──► Launch
//!   every disruptionPoll: Emptiness ▸ MultiNodeConsolidation ▸ SingleNodeConsolidation
//!        └─► pending command ──(commandValidationDelay, re-validated)──► Terminate | Drain | Cordon+Launch
//!   replacements Ready ──► Drain the replaced nodes
//! ```
//!
//! upstream: kubernetes-sigs/karpenter (pkg/controllers/provisioning, pkg/controllers/disruption,
//! pkg/controllers/nodeclaim) and aws/karpenter-provider-aws (instance types, offerings, ICE
//! cache, interruption). Modelling choices:
//! - `startupTaints` are parsed but not put on launched nodes: the world has no initialisation
//!   step that would remove them, and pods need not tolerate them (upstream), so leaving them off
//!   has the same scheduling effect once the node is Ready.
//! - A spot interruption cordons and drains the node at once (force, until the reclaim) and marks
//!   the offering unavailable; the replacement comes from normal provisioning of the evicted pods,
//!   as upstream's `CordonAndDrain` does (no pre-launch).
//! - The world assigns node ids and reports each under the [`LaunchId`] of its launch
//!   ([`NodeNotice::Launched`]); launched nodes also carry the label [`offerings::LABEL_NODECLAIM`]
//!   (the NodeClaim's name) as a real node carries its NodeClaim's.

pub mod batcher;
pub mod cron;
pub mod disruption;
pub mod nodeclass;
pub mod nodepool;
pub mod offerings;
pub mod scheduling;
pub mod settings;

use crate::cloud::Catalog;
use crate::cluster::placement;
use crate::cluster::topology::{self, Views};
use crate::cluster::{ClusterView, Node, NodeId, NodeSpec, NodeState, PodId, PodPhase};
use crate::controllers::provisioner::{
    Action, Activity, Decision, DecisionRecord, LaunchId, LaunchIds, NodeNotice, Provisioner, ProvisionerKind,
    ProvisionerSetup,
};
use crate::engine::{Rngs, SimDuration, SimTime};
use crate::model::{Resources, WorkloadKind};
use crate::scenario::{ErrorKind, LatencyOverride, Scenario, ScenarioError};
use batcher::Batcher;
use nodeclass::NodeClass;
use offerings::{IceCache, LABEL_NODECLAIM, TypeInfo};
use scheduling::{PodError, PoolCtx, Remaining, SimNode, SimPod};
use settings::KarpenterSettings;
use std::collections::{BTreeMap, BTreeSet};

pub use nodepool::NodePool;

/// The component name in `autoscaler.csv`.
pub const COMPONENT: &str = "karpenter";
/// How often the world calls [`Karpenter::reconcile`]: the batcher's tick.
pub const RECONCILE_PERIOD: SimDuration = SimDuration::from_secs(1);
/// A drain with no `terminationGracePeriod` waits for evictions without a deadline (upstream:
/// Karpenter's termination controller retries blocked evictions until they succeed).
pub const NO_DEADLINE: SimDuration = SimDuration::from_mins(365 * 24 * 60);

/// Invalid Karpenter input. Every variant names the object and the field path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KarpenterError {
    #[error("NodePool {name}: {path}: {message}")]
    NodePool {
        name: String,
        path: String,
        message: String,
    },
    #[error("EC2NodeClass {name}: {path}: {message}")]
    NodeClass {
        name: String,
        path: String,
        message: String,
    },
    #[error("spec.provisioner.karpenter.{path}: {message}")]
    Settings { path: String, message: String },
}

/// What a live node counts against its NodePool's limits (its kubelet capacity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NodeCap {
    id: NodeId,
    pool: usize,
    cap: Resources,
}

/// A replacement launched by consolidation, waiting to become Ready before the replaced nodes
/// are drained (upstream: disruption/orchestration/queue.go waits for replacements to initialise).
#[derive(Clone, Debug)]
struct Replacement {
    claim: String,
    /// The launch that asked for it; `node` is set when the world reports it.
    launch: LaunchId,
    node: Option<NodeId>,
    replaced: Vec<NodeId>,
    reason: String,
}

/// Karpenter's state between reconciles.
pub struct Karpenter {
    pub settings: KarpenterSettings,
    pools: Vec<PoolCtx>,
    /// Offering compatibility per (workload, pool), reused by every solve.
    compat: std::cell::RefCell<scheduling::CompatMemo>,
    types: Vec<TypeInfo>,
    type_index: BTreeMap<String, usize>,
    warnings: Vec<String>,
    daemonsets_loaded: bool,
    batcher: Batcher,
    seen_pending: BTreeSet<PodId>,
    retrigger: bool,
    ice: IceCache,
    claim_seq: u64,
    launch_ids: LaunchIds,
    notices: Vec<NodeNotice>,
    disruption: disruption::DisruptionState,
    replacements: Vec<Replacement>,
    /// Nodes Karpenter is disrupting (terminating, draining, cordoned for a replacement).
    marked: BTreeSet<NodeId>,
    /// Per workload: do-not-disrupt and the PodDisruptionBudgets covering it (static).
    workload_blocks: Vec<disruption::WorkloadBlocks>,
    /// Per node id: what never changes about a node and Karpenter looks up every second.
    node_meta: Vec<NodeMeta>,
    /// Per node id: its position among the cached nodes ordered by (name, id).
    name_rank: Vec<u32>,
}

/// A node's NodePool (index into `pools`, `None` when not Karpenter's) and its instance type's
/// kubelet capacity under that pool (`None` when the type is not in the catalog). A node's pool
/// and type never change, so these are computed once per node instead of by name every second.
#[derive(Clone, Copy, Debug)]
struct NodeMeta {
    pool: Option<usize>,
    type_cap: Option<Resources>,
}

impl Karpenter {
    /// Validates the NodePool and EC2NodeClass documents against the catalog.
    pub fn new(
        settings: KarpenterSettings,
        nodepools: &[serde_json::Value],
        nodeclasses: &[serde_json::Value],
        catalog: &Catalog,
    ) -> Result<Karpenter, KarpenterError> {
        let types = offerings::catalog_types(catalog);
        let mut warnings = Vec::new();
        let classes: Vec<NodeClass> = nodeclasses
            .iter()
            .map(NodeClass::from_value)
            .collect::<Result<_, _>>()?;
        let mut pools = Vec::new();
        let mut names = BTreeSet::new();
        for v in nodepools {
            let pool = nodepool::parse_nodepool(v, &types, &settings, &mut warnings)?;
            if !names.insert(pool.name.clone()) {
                return Err(KarpenterError::NodePool {
                    name: pool.name,
                    path: "metadata.name".into(),
                    message: "duplicate NodePool name".into(),
                });
            }
            let kubelet = match &pool.node_class {
                Some(nc) if !classes.is_empty() => match classes.iter().find(|c| &c.name == nc) {
                    Some(c) => c.kubelet,
                    None => {
                        return Err(KarpenterError::NodePool {
                            name: pool.name.clone(),
                            path: "spec.template.spec.nodeClassRef.name".into(),
                            message: format!(
                                "EC2NodeClass `{nc}` not found (known: {})",
                                classes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        });
                    }
                },
                _ => Default::default(),
            };
            let ctx = PoolCtx::new(pool, kubelet, &types, &settings);
            if ctx.offerings.is_empty() {
                warnings.push(format!(
                    "NodePool {}: no instance type in the catalog satisfies its requirements",
                    ctx.pool.name
                ));
            }
            pools.push(ctx);
        }
        let type_index = types.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();
        Ok(Karpenter {
            settings,
            pools,
            compat: Default::default(),
            types,
            type_index,
            warnings,
            daemonsets_loaded: false,
            batcher: Batcher::default(),
            seen_pending: BTreeSet::new(),
            retrigger: false,
            ice: IceCache::default(),
            claim_seq: 0,
            launch_ids: LaunchIds::default(),
            notices: Vec::new(),
            disruption: disruption::DisruptionState::default(),
            replacements: Vec::new(),
            marked: BTreeSet::new(),
            node_meta: Vec::new(),
            name_rank: Vec::new(),
            workload_blocks: Vec::new(),
        })
    }

    /// Builds Karpenter from a scenario: its NodePool documents and catalog, the
    /// `spec.provisioner.karpenter` map (`Null` for defaults) and the EC2NodeClass documents.
    pub fn from_scenario(
        sc: &crate::scenario::Scenario,
        settings: &serde_json::Value,
        nodeclasses: &[serde_json::Value],
    ) -> Result<Karpenter, KarpenterError> {
        let mut s = KarpenterSettings::from_value(settings)?;
        s.faults = sc.faults.clone();
        Karpenter::new(s, &sc.nodepools, nodeclasses, &sc.catalog)
    }

    /// Non-fatal findings from parsing (ignored `minValues`, values the catalog lacks, ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn pools(&self) -> impl Iterator<Item = &NodePool> {
        self.pools.iter().map(|c| &c.pool)
    }

    fn pool_index(&self, name: &str) -> Option<usize> {
        self.pools.iter().position(|c| c.pool.name == name)
    }

    fn meta_of(&self, n: &Node) -> NodeMeta {
        let pool = self.pool_index(&n.pool);
        let type_cap = pool.and_then(|p| {
            self.type_index
                .get(&n.instance_type)
                .map(|&t| self.types[t].capacity(&self.pools[p].kubelet))
        });
        NodeMeta { pool, type_cap }
    }

    /// Extends the per-node caches to nodes created since the last reconcile.
    fn refresh_node_meta(&mut self, view: &ClusterView<'_>) {
        let known = self.node_meta.len();
        for n in view.nodes.iter().skip(known) {
            if n.id.0 as usize != self.node_meta.len() {
                break; // not indexed by id: every lookup falls back to `meta_of`
            }
            let m = self.meta_of(n);
            self.node_meta.push(m);
        }
        if self.node_meta.len() != known {
            // Names never change: rank every cached node by (name, id) once per new node batch.
            let mut by_name: Vec<&Node> = view.nodes[..self.node_meta.len()].iter().collect();
            by_name.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
            self.name_rank = vec![0; by_name.len()];
            for (rank, n) in by_name.iter().enumerate() {
                self.name_rank[n.id.0 as usize] = rank as u32;
            }
        }
    }

    fn node_info(&self, n: &Node) -> NodeMeta {
        match self.node_meta.get(n.id.0 as usize) {
            Some(&m) => m,
            None => self.meta_of(n),
        }
    }

    /// The node's NodePool index (`None` when no NodePool of this Karpenter owns it).
    fn node_pool(&self, n: &Node) -> Option<usize> {
        self.node_info(n).pool
    }

    fn record(now: SimTime, activity: Activity, decision: Decision, object: String, reason: String) -> DecisionRecord {
        DecisionRecord {
            time_s: now.as_secs_f64(),
            component: COMPONENT,
            activity,
            decision,
            object,
            reason,
        }
    }

    fn load_daemonsets(&mut self, view: &ClusterView<'_>) {
        if self.daemonsets_loaded {
            return;
        }
        let ds: Vec<_> = view
            .scenario
            .workloads
            .iter()
            .filter(|w| w.kind == WorkloadKind::DaemonSet)
            .map(|w| &w.template)
            .collect();
        for ctx in &mut self.pools {
            ctx.set_daemonsets(ds.iter().copied());
        }
        // The memo's fitting offerings depend on the pools' usable room, just changed.
        self.compat.borrow_mut().clear();
        self.workload_blocks = disruption::workload_blocks(view.scenario);
        self.daemonsets_loaded = true;
    }

    /// Current limit headroom of every pool (limit − capacity of its live nodes), excluding
    /// `except` nodes (consolidation candidates).
    fn remaining(&self, view: &ClusterView<'_>, except: &[NodeId]) -> Vec<Remaining> {
        self.remaining_from(&self.node_caps(view), except)
    }

    /// What each live node of a known pool counts against its pool's limits, in live order.
    fn node_caps(&self, view: &ClusterView<'_>) -> Vec<NodeCap> {
        let mut out = Vec::with_capacity(view.live_nodes.len());
        for &id in view.live_nodes {
            let Some(n) = view.nodes.get(id.0 as usize) else {
                continue;
            };
            if n.state == NodeState::Terminated {
                continue;
            }
            let m = self.node_info(n);
            if let Some(p) = m.pool {
                let cap = m.type_cap.unwrap_or(n.allocatable);
                out.push(NodeCap { id, pool: p, cap });
            }
        }
        out
    }

    /// [`Karpenter::remaining`] from precomputed [`Karpenter::node_caps`].
    fn remaining_from(&self, caps: &[NodeCap], except: &[NodeId]) -> Vec<Remaining> {
        let mut used = vec![(Resources::ZERO, 0i64); self.pools.len()];
        for c in caps {
            if except.contains(&c.id) {
                continue;
            }
            used[c.pool].0 += c.cap;
            used[c.pool].1 += 1;
        }
        self.pools
            .iter()
            .zip(used)
            .map(|(ctx, (u, count))| Remaining {
                cpu_m: ctx.pool.limits.cpu_m.map(|l| l - u.cpu_m),
                memory: ctx.pool.limits.memory.map(|l| l - u.mem),
                nodes: ctx.pool.limits.nodes.map(|l| l - count),
            })
            .collect()
    }

    /// Nodes the simulation may place pods on: live, not being disrupted, Ready or on their way,
    /// not in `except`. In-flight nodes have no DaemonSet pods yet, so their overhead is
    /// subtracted here as the world will at registration.
    /// Ordered as upstream orders existing nodes (scheduler.go `calculateExistingNodeClaims`):
    /// initialised (Ready) nodes first, then by name.
    fn sim_nodes<'v>(&self, view: &ClusterView<'v>, except: &[NodeId]) -> Vec<SimNode<'v>> {
        let nodes: &'v [Node] = view.nodes;
        let mut ordered: Vec<&'v Node> = view
            .live_nodes
            .iter()
            .filter_map(|&id| nodes.get(id.0 as usize))
            .filter(|n| {
                matches!(
                    n.state,
                    NodeState::Launching | NodeState::Booting | NodeState::Registered | NodeState::Ready
                ) && !self.marked.contains(&n.id)
                    && !except.contains(&n.id)
            })
            .collect();
        if ordered.iter().all(|n| (n.id.0 as usize) < self.name_rank.len()) {
            // The same order through each node's precomputed rank by (name, id).
            ordered.sort_by_key(|n| (n.state != NodeState::Ready, self.name_rank[n.id.0 as usize]));
        } else {
            ordered.sort_by(|a, b| {
                (a.state != NodeState::Ready)
                    .cmp(&(b.state != NodeState::Ready))
                    .then(a.name.cmp(&b.name))
                    .then(a.id.cmp(&b.id))
            });
        }
        ordered
            .into_iter()
            .map(|n| {
                let mut free = n.free();
                if matches!(n.state, NodeState::Launching | NodeState::Booting) {
                    free -= placement::daemonset_overhead(&view.scenario.workloads, &n.labels, &n.taints);
                }
                SimNode {
                    id: n.id,
                    free,
                    labels: &n.labels,
                    taints: &n.taints,
                }
            })
            .collect()
    }

    /// The inter-pod views of the solve's snapshot: the cluster's nodes and pods, the
    /// in-flight nodes (not registered yet), the nodes in `except` gone with their pods
    /// (consolidation's what-if), and every zone and capacity type the NodePools offer as a
    /// domain (upstream: topology.go builds each group's domains from the NodePools'
    /// requirements and instance-type offerings, so an empty zone counts toward the minimum).
    pub(crate) fn views<'v>(&self, view: &ClusterView<'v>, existing: &[SimNode<'_>], except: &[NodeId]) -> Views<'v> {
        let mut v = Views::new(view.nodes, view.live_nodes, view.pods, view.templates);
        if !v.active() {
            return v;
        }
        for n in existing {
            if !topology::in_snapshot(&view.nodes[n.id.0 as usize]) {
                v.add_node(n.id.0 as usize, n.labels, n.taints);
            }
        }
        for &id in except {
            let n = &view.nodes[id.0 as usize];
            for &p in &n.pods {
                let pod = &view.pods[p.0 as usize];
                if pod.phase.is_bound() && pod.phase != crate::cluster::PodPhase::Terminating {
                    v.place(pod, id.0 as usize, -1);
                }
            }
            v.remove_node(id.0 as usize);
        }
        let mut domains = std::collections::BTreeSet::new();
        for ctx in &self.pools {
            for (o, l) in ctx.offering_labels.iter().enumerate() {
                if ctx.blocked[o] {
                    continue; // upstream: an instance type's zones are its available offerings'
                }
                for key in [offerings::LABEL_ZONE, offerings::LABEL_CAPACITY_TYPE] {
                    if let Some(val) = l.get(key) {
                        domains.insert((key, val.clone()));
                    }
                }
            }
        }
        for (k, val) in domains {
            v.add_domain(k, &val);
        }
        v
    }

    /// Marks each pool's offerings unavailable now: those in the ICE cache (a launch into them
    /// failed within the cache's TTL).
    fn refresh_blocked(&mut self, now: SimTime) {
        if self.ice.is_empty() && !self.pools.iter().any(|c| c.any_blocked) {
            return;
        }
        for ctx in &mut self.pools {
            let mut any = false;
            for (o, off) in ctx.offerings.iter().enumerate() {
                let name = &self.types[off.type_idx].name;
                // Only what a failed launch taught it: a fault is not known in advance.
                let b = self.ice.is_unavailable(name, off.capacity_type, &off.zone, now);
                ctx.blocked[o] = b;
                any |= b;
            }
            ctx.any_blocked = any;
        }
    }

    fn sim_pod<'v>(view: &ClusterView<'v>, id: PodId) -> Option<SimPod<'v>> {
        let p = view.pods.get(id.0 as usize)?;
        let w = view.scenario.workloads.get(p.workload as usize)?;
        if w.kind == WorkloadKind::DaemonSet {
            return None;
        }
        Some(SimPod {
            id,
            requests: p.requests,
            created: p.created,
            workload: view.templates.key_of(p),
            template: view.templates.of(p),
            volume_zone: p.volume_zone.as_deref(),
        })
    }

    /// Provisionable pods: unschedulable, still Pending, not DaemonSet pods.
    /// upstream: pkg/utils/pod/scheduling.go `IsProvisionable`.
    fn provisionable<'v>(view: &ClusterView<'v>) -> Vec<SimPod<'v>> {
        view.unschedulable
            .iter()
            .filter(|&&id| {
                view.pods
                    .get(id.0 as usize)
                    .is_some_and(|p| p.phase == PodPhase::Pending)
            })
            .filter_map(|&id| Self::sim_pod(view, id))
            .collect()
    }

    /// What a solve schedules: provisionable pods, then the reschedulable pods of nodes being
    /// deleted (draining, terminating, or disrupted by Karpenter), so their replacement capacity
    /// is launched before the pods are evicted.
    /// upstream: pkg/controllers/provisioning/provisioner.go `Schedule`
    /// (`nodes.Deleting().ReschedulablePods`).
    fn pods_to_schedule<'v>(&self, view: &ClusterView<'v>) -> Vec<SimPod<'v>> {
        let mut pods = Self::provisionable(view);
        for &id in view.live_nodes {
            let Some(n) = view.nodes.get(id.0 as usize) else {
                continue;
            };
            if !(matches!(n.state, NodeState::Draining | NodeState::Terminating) || self.marked.contains(&id)) {
                continue;
            }
            for &pid in &n.pods {
                let running = view
                    .pods
                    .get(pid.0 as usize)
                    .is_some_and(|p| matches!(p.phase, PodPhase::Starting | PodPhase::Running | PodPhase::Ready));
                if running {
                    pods.extend(Self::sim_pod(view, pid));
                }
            }
        }
        pods
    }

    fn next_claim_name(&mut self, pool: &str) -> String {
        self.claim_seq += 1;
        format!("{pool}-nc{:05}", self.claim_seq)
    }

    /// Builds the Launch for a claim's chosen offering.
    fn launch(&mut self, pool: usize, offering: usize, reason: String) -> (Action, String, LaunchId) {
        let ctx = &self.pools[pool];
        let off = &ctx.offerings[offering];
        let t = &self.types[off.type_idx];
        let mut labels = ctx.offering_labels[offering].clone();
        let pool_name = ctx.pool.name.clone();
        let spec = NodeSpec {
            pool: pool_name.clone(),
            instance_type: t.name.clone(),
            capacity_type: off.capacity_type,
            zone: off.zone.clone(),
            price_hr: off.price_hr,
            labels: Default::default(),
            taints: ctx.pool.taints.clone(),
            allocatable: ctx.allocatable[offering],
        };
        let claim = self.next_claim_name(&pool_name);
        labels.insert(LABEL_NODECLAIM.into(), claim.clone());
        let id = self.launch_ids.issue();
        (
            Action::Launch {
                id,
                spec: NodeSpec { labels, ..spec },
                // The scenario's latency for the instance type (EC2 CreateFleet's, by default).
                latency: LatencyOverride::default(),
                reason,
            },
            claim,
            id,
        )
    }

    /// Runs one provisioning solve over the pending pods and turns its NodeClaims into launches.
    fn provision(&mut self, view: &ClusterView<'_>, actions: &mut Vec<Action>, records: &mut Vec<DecisionRecord>) {
        let now = view.now;
        let pods = self.pods_to_schedule(view);
        if pods.is_empty() {
            return;
        }
        let existing = self.sim_nodes(view, &[]);
        let remaining = self.remaining(view, &[]);
        let mut views = self.views(view, &existing, &[]);
        let result = scheduling::solve_with_memo(
            &pods,
            &existing,
            &self.pools,
            &remaining,
            &mut self.compat.borrow_mut(),
            Some(&mut views),
        );
        for claim in &result.claims {
            let pick = scheduling::pick_offering(
                &claim.options,
                &self.pools[claim.pool],
                &self.types,
                &self.settings,
                &mut self.ice,
                now,
            );
            let ctx = &self.pools[claim.pool];
            for &o in &pick.ice_failures {
                let off = &ctx.offerings[o];
                records.push(Self::record(
                    now,
                    Activity::Provisioning,
                    Decision::InsufficientCapacity,
                    format!(
                        "{}/{}/{}",
                        self.types[off.type_idx].name,
                        off.capacity_type.as_str(),
                        off.zone
                    ),
                    format!(
                        "launch failed: InsufficientInstanceCapacity; offering unavailable for {}",
                        self.settings.ice_cache_ttl
                    ),
                ));
            }
            let Some(o) = pick.offering else {
                records.push(Self::record(
                    now,
                    Activity::Provisioning,
                    Decision::NoCapacity,
                    format!("nodepool/{}", ctx.pool.name),
                    format!(
                        "all {} offerings for {} pod(s) are unavailable (insufficient capacity)",
                        claim.options.len(),
                        claim.pods.len()
                    ),
                ));
                // The failed NodeClaim is deleted and its pods provisioned again at once, now
                // without the offerings that failed (upstream: the launch error deletes the
                // NodeClaim; the pods' next provisioning pass sees the ICE cache).
                self.retrigger = true;
                continue;
            };
            let off = &ctx.offerings[o];
            let reason = format!(
                "{} pod(s), {} cpu {} mem requested; {} {} {} at ${:.4}/h, cheapest of {} compatible offerings",
                claim.pods.len(),
                format_args!("{}m", claim.requests.cpu_m),
                format_args!("{}Mi", claim.requests.mem / (1024 * 1024)),
                self.types[off.type_idx].name,
                off.capacity_type.as_str(),
                off.zone,
                off.price_hr,
                claim.options.len()
            );
            let object = format!("nodepool/{}", ctx.pool.name);
            let (action, claim_name, _) = self.launch(claim.pool, o, reason.clone());
            actions.push(action);
            records.push(Self::record(
                now,
                Activity::Provisioning,
                Decision::Launch,
                format!("{object} nodeclaim/{claim_name}"),
                reason,
            ));
        }
        // One record per distinct error, naming the first pod (in queue order) and the count.
        let mut errors: BTreeMap<String, (usize, PodId, String, Decision)> = BTreeMap::new();
        for (pod, e) in &result.errors {
            let (key, decision) = match e {
                PodError::NoCompatibleNodePool => ("NoCompatibleNodePool".to_string(), Decision::NoCompatibleNodePool),
                PodError::LimitsExceeded(p) => (format!("LimitsExceeded {p}"), Decision::LimitsExceeded),
                PodError::NoInstanceTypeFits => ("NoInstanceTypeFits".to_string(), Decision::NoInstanceTypeFits),
                PodError::Topology(why) => (format!("Topology {why}"), Decision::UnsatisfiableTopology),
            };
            errors.entry(key).or_insert((0, *pod, e.describe(), decision)).0 += 1;
        }
        for (count, first, why, decision) in errors.into_values() {
            let object = view
                .pods
                .get(first.0 as usize)
                .and_then(|p| view.scenario.workloads.get(p.workload as usize).map(|w| (w, p)))
                .map(|(w, p)| format!("pod/{}-{}", w.name, p.ordinal))
                .unwrap_or_else(|| format!("pod/{}", first.0));
            records.push(Self::record(
                now,
                Activity::Provisioning,
                decision,
                object,
                format!("{why}; {count} pod(s) left pending"),
            ));
        }
    }

    fn handle_notices(&mut self, view: &ClusterView<'_>, actions: &mut Vec<Action>, records: &mut Vec<DecisionRecord>) {
        let now = view.now;
        for notice in std::mem::take(&mut self.notices) {
            match notice {
                NodeNotice::Launched { id, node } => {
                    if let Some(r) = self.replacements.iter_mut().find(|r| r.launch == id) {
                        r.node = Some(node);
                    }
                }
                NodeNotice::InterruptionWarning { node, at } => {
                    let Some(n) = view.nodes.get(node.0 as usize) else {
                        continue;
                    };
                    if n.state == NodeState::Terminated || self.node_pool(n).is_none() {
                        continue;
                    }
                    // upstream: aws/karpenter-provider-aws pkg/controllers/interruption
                    // controller.go: spot interruption → mark the offering unavailable and
                    // CordonAndDrain (delete the NodeClaim); the replacement is provisioned normally.
                    self.ice.mark(
                        &n.instance_type,
                        n.capacity_type,
                        &n.zone,
                        now + self.settings.ice_cache_ttl,
                    );
                    self.marked.insert(node);
                    let reason = format!("spot interruption warning, instance reclaimed at {at}");
                    actions.push(Action::Drain {
                        node,
                        reason: reason.clone(),
                        max_eviction_time: at.since(now),
                        force: true,
                    });
                    records.push(Self::record(
                        now,
                        Activity::Interruption,
                        Decision::CordonAndDrain,
                        format!("node/{}", n.name),
                        format!(
                            "{reason}; {}/{}/{} unavailable for {}",
                            n.instance_type,
                            n.capacity_type.as_str(),
                            n.zone,
                            self.settings.ice_cache_ttl
                        ),
                    ));
                }
                NodeNotice::Terminated(id) => {
                    self.marked.remove(&id);
                    self.disruption.forget(id);
                    self.retrigger = true;
                }
                NodeNotice::DrainFailed(id) => {
                    self.marked.remove(&id);
                    self.retrigger = true;
                }
                NodeNotice::Registered(_) | NodeNotice::Ready(_) => {}
            }
        }
    }

    /// Liveness (registration TTL) and expiration (expireAfter).
    fn lifecycle(&mut self, view: &ClusterView<'_>, actions: &mut Vec<Action>, records: &mut Vec<DecisionRecord>) {
        let now = view.now;
        for &id in view.live_nodes {
            let Some(n) = view.nodes.get(id.0 as usize) else {
                continue;
            };
            let Some(p) = self.node_pool(n) else { continue };
            if self.marked.contains(&id) || matches!(n.state, NodeState::Terminating | NodeState::Terminated) {
                continue;
            }
            // upstream: pkg/controllers/nodeclaim/lifecycle/liveness.go: a NodeClaim not registered
            // within registrationTTL is deleted.
            if matches!(n.state, NodeState::Launching | NodeState::Booting)
                && now.since(n.requested) >= self.settings.registration_ttl
            {
                self.marked.insert(id);
                self.retrigger = true;
                actions.push(Action::Terminate {
                    node: id,
                    reason: "not registered within registrationTTL".into(),
                });
                records.push(Self::record(
                    now,
                    Activity::Liveness,
                    Decision::RegistrationTimeout,
                    format!("node/{}", n.name),
                    format!("not registered {} after launch", self.settings.registration_ttl),
                ));
                continue;
            }
            // upstream: pkg/controllers/nodeclaim/expiration: at creation + expireAfter the
            // NodeClaim is deleted, not gated by budgets or do-not-disrupt.
            let pool = &self.pools[p].pool;
            if let Some(expire) = pool.expire_after.filter(|&e| now.since(n.requested) >= e) {
                self.marked.insert(id);
                let tgp = pool.termination_grace_period;
                actions.push(Action::Drain {
                    node: id,
                    reason: "expired".into(),
                    max_eviction_time: tgp.unwrap_or(NO_DEADLINE),
                    force: true,
                });
                records.push(Self::record(
                    now,
                    Activity::Expiration,
                    Decision::Expire,
                    format!("node/{}", n.name),
                    format!("expireAfter {expire} elapsed"),
                ));
            }
        }
    }

    /// Replacements launched by consolidation: drain the replaced nodes once Ready, give up if the
    /// replacement died.
    fn track_replacements(
        &mut self,
        view: &ClusterView<'_>,
        actions: &mut Vec<Action>,
        records: &mut Vec<DecisionRecord>,
    ) {
        let now = view.now;
        let mut keep = Vec::new();
        for r in std::mem::take(&mut self.replacements) {
            let state = r.node.and_then(|id| view.nodes.get(id.0 as usize)).map(|n| n.state);
            match state {
                Some(NodeState::Ready) => {
                    for &old in &r.replaced {
                        let tgp = view
                            .nodes
                            .get(old.0 as usize)
                            .and_then(|n| self.node_pool(n))
                            .and_then(|p| self.pools[p].pool.termination_grace_period);
                        actions.push(Action::Drain {
                            node: old,
                            reason: r.reason.clone(),
                            max_eviction_time: tgp.unwrap_or(NO_DEADLINE),
                            force: tgp.is_some(),
                        });
                    }
                    records.push(Self::record(
                        now,
                        Activity::Disruption,
                        Decision::DrainReplaced,
                        format!("nodeclaim/{}", r.claim),
                        format!("replacement Ready; draining {} node(s)", r.replaced.len()),
                    ));
                }
                Some(NodeState::Terminating | NodeState::Terminated | NodeState::Draining) => {
                    for &old in &r.replaced {
                        self.marked.remove(&old);
                        actions.push(Action::Uncordon {
                            node: old,
                            reason: "replacement failed".into(),
                        });
                    }
                    records.push(Self::record(
                        now,
                        Activity::Disruption,
                        Decision::ReplacementFailed,
                        format!("nodeclaim/{}", r.claim),
                        "replacement terminated before Ready; replaced nodes uncordoned".into(),
                    ));
                }
                _ => keep.push(r),
            }
        }
        self.replacements = keep;
    }
}

impl Provisioner for Karpenter {
    fn component(&self) -> &'static str {
        COMPONENT
    }

    fn period(&self) -> SimDuration {
        RECONCILE_PERIOD
    }

    fn reconcile(&mut self, view: &ClusterView<'_>, _rngs: &Rngs) -> (Vec<Action>, Vec<DecisionRecord>) {
        let now = view.now;
        let mut actions = Vec::new();
        let mut records = Vec::new();
        self.load_daemonsets(view);
        self.refresh_node_meta(view);
        self.marked.retain(|id| {
            view.nodes
                .get(id.0 as usize)
                .is_some_and(|n| n.state != NodeState::Terminated)
        });
        self.handle_notices(view, &mut actions, &mut records);
        let ice_expired = self.ice.expire(now);
        self.refresh_blocked(now);
        if ice_expired {
            self.retrigger = true;
        }
        self.lifecycle(view, &mut actions, &mut records);
        self.track_replacements(view, &mut actions, &mut records);

        // Provisioning: a pod newly seen unschedulable (or on a node newly being deleted)
        // triggers the batcher.
        let pending: BTreeSet<PodId> = self.pods_to_schedule(view).iter().map(|p| p.id).collect();
        let triggered =
            pending.iter().any(|p| !self.seen_pending.contains(p)) || (self.retrigger && !pending.is_empty());
        self.retrigger = false;
        self.seen_pending = pending;
        if self.batcher.observe(
            now,
            triggered,
            self.settings.batch_idle_duration,
            self.settings.batch_max_duration,
        ) {
            self.provision(view, &mut actions, &mut records);
        }

        disruption::reconcile(self, view, &mut actions, &mut records);
        (actions, records)
    }

    fn notice(&mut self, notice: &NodeNotice, _now: SimTime) {
        self.notices.push(notice.clone());
    }

    /// Provisioning alone, without the batcher's window (the pods are all there at t = 0).
    fn warm_start(&mut self, view: &ClusterView<'_>, _rngs: &Rngs) -> Vec<Action> {
        let (mut actions, mut records) = (Vec::new(), Vec::new());
        self.load_daemonsets(view);
        self.refresh_node_meta(view);
        self.handle_notices(view, &mut actions, &mut records);
        self.provision(view, &mut actions, &mut records);
        actions
    }
}

/// Karpenter in the provisioner registry: `spec.provisioner: {karpenter: {...settings}}` with
/// `karpenter.sh/v1 NodePool` (and `karpenter.k8s.aws/v1 EC2NodeClass`) documents.
pub static KIND: ProvisionerKind = ProvisionerKind {
    key: "karpenter",
    aliases: &[],
    // EC2 CreateFleet launches.
    default_node_latency: || crate::scenario::defaults::node_latency_for(true),
    // Any catalog type a NodePool could choose.
    possible_nodes: |sc| {
        if sc.nodepools.is_empty() {
            Vec::new()
        } else {
            sc.catalog.iter().map(|t| t.allocatable()).collect()
        }
    },
    build,
};

/// Builds Karpenter from its settings map and the scenario's NodePool and EC2NodeClass
/// documents; an error that names a NodePool points at its document.
fn build(sc: &Scenario, cfg: &serde_json::Value) -> Result<ProvisionerSetup, ScenarioError> {
    let classes: Vec<serde_json::Value> = sc
        .documents_of("karpenter.k8s.aws/v1", "EC2NodeClass")
        .map(|d| d.value.clone())
        .collect();
    let k = Karpenter::from_scenario(sc, cfg, &classes).map_err(|e| {
        let msg = e.to_string();
        let doc = sc
            .documents_of("karpenter.sh/v1", "NodePool")
            .find(|d| msg.starts_with(&format!("NodePool {}:", d.name)));
        match doc {
            Some(d) => d.error(ErrorKind::Invalid, "", msg),
            None => sc.error_at("spec.provisioner.karpenter", msg),
        }
    })?;
    let mut warnings = k.warnings().to_vec();
    if sc.nodepools.is_empty() {
        warnings.push(
            "spec.provisioner.karpenter: the scenario has no karpenter.sh/v1 NodePool, so Karpenter launches nothing"
                .into(),
        );
    }
    Ok(ProvisionerSetup {
        provisioner: Box::new(k),
        initial: Vec::new(),
        warnings,
    })
}
