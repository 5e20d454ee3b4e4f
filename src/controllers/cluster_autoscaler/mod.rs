//! Cluster Autoscaler as a pure decision function over the world's snapshot.
//!
//! Every `--scan-interval` the world calls [`ClusterAutoscaler::reconcile`] with a
//! [`ClusterView`]; one call is one `RunOnce` of upstream's `core/static_autoscaler.go`:
//!
//! 1. drop stale backoff records; nodes not registered within `--max-node-provision-time` are
//!    terminated and their group backed off ([`backoff`]);
//! 2. scale-up ([`scale_up`]): unschedulable pods older than `--new-pod-scale-up-delay`, minus
//!    those that fit on existing or upcoming nodes in simulation; the 2 s "wait for more pods"
//!    buffer; a binpacking estimate per group ([`estimator`]); the expander chain ([`expander`]);
//! 3. scale-down ([`scale_down`]): request-based utilization, drainability and rescheduling
//!    simulation, unneeded-time bookkeeping, cooldowns, empty nodes deleted in bulk and busy nodes
//!    drained one at a time.
//!
//! State kept between loops is what upstream keeps in memory: unneeded-since times, backoff, the
//! last scale-up / delete / failure times and the deletions in flight.
//!
//! # Wiring (world side; [`KIND`] does the building for a scenario)
//!
//! ```text
//! let parsed = flags::parse_flags(&args)?;                 // warnings → scenario warnings
//! let groups = docs.iter().map(|d| NodeGroupSpec::from_document(d, &catalog)).collect::<Result<_,_>>()?;
//! let prio   = configmap.map(PriorityConfig::from_configmap).transpose()?;
//! let mut ca = ClusterAutoscaler::new(parsed.flags, groups, prio, &catalog)?;
//! for a in ca.initial_launches() { apply(a) }             // spec.initial per group
//! every ca.period(): let (actions, records) = ca.reconcile(&view, &rngs);
//! on node events:    ca.notice(&NodeNotice::Terminated(id) | DrainFailed(id) | ..., now);
//! ```
//!
//! Launched nodes must carry `NodeSpec::pool` = the group name (the world's `Node::pool`): that is
//! how CA recognises its nodes. Registration and readiness are read from the view
//! (`Node::registered`, `Node::state`), so `Registered`/`Ready` notices need no handling;
//! `Terminated` ends a deletion in flight and `DrainFailed` is a scale-down failure.

pub mod backoff;
pub mod estimator;
pub mod expander;
pub mod flags;
pub mod node_group;
pub mod scale_down;
pub mod scale_up;

use crate::cloud::Catalog;
use crate::cluster::{ClusterView, Node, NodeId, NodeSpec, NodeState};
use crate::controllers::provisioner::{
    Action, Activity, Decision, DecisionRecord, LaunchIds, NodeNotice, Provisioner, ProvisionerKind, ProvisionerSetup,
};
use crate::engine::{Rngs, SimDuration, SimTime};
use crate::scenario::raw::CAPSIM_API_VERSION;
use crate::scenario::{ErrorKind, Scenario, ScenarioError};
use backoff::Backoff;
use expander::priority::PriorityConfig;
use flags::{CaFlags, ExpanderKind};
use node_group::{NodeGroupSpec, NodeTemplate};
use std::collections::{BTreeMap, BTreeSet};

/// The component name in `autoscaler.csv`.
pub const COMPONENT: &str = "cluster-autoscaler";

/// upstream: core/static_autoscaler.go `unschedulablePodTimeBuffer`: if the oldest pending pod is
/// younger than this, wait one more loop for its siblings (and skip scale-down too).
pub const UNSCHEDULABLE_POD_TIME_BUFFER: SimDuration = SimDuration::from_secs(2);

/// upstream: core/static_autoscaler.go `initialScaleTime := time.Now().Add(-time.Hour)`.
const INITIAL_SCALE_TIME_OFFSET_MS: i64 = 3_600_000;

/// A time as signed milliseconds (the last-event times may precede the run's start).
pub(crate) fn millis(t: SimTime) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}

/// `last + delay` is after `now` (Go's `Time.After`, strictly later).
pub(crate) fn still_within(last: i64, delay: SimDuration, now: SimTime) -> bool {
    last.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)) > millis(now)
}

/// Why a Cluster Autoscaler cannot be built.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CaError {
    #[error("cluster-autoscaler: no node groups (add capsim/v1alpha1 NodeGroup documents)")]
    NoNodeGroups,
    #[error("cluster-autoscaler: node group {0:?} is defined twice")]
    DuplicateGroup(String),
    #[error("cluster-autoscaler: node group {group:?}: unknown instance type {instance_type:?}")]
    UnknownInstanceType { group: String, instance_type: String },
    #[error(
        "cluster-autoscaler: --expander includes priority but there is no {} ConfigMap and no node group sets spec.priority",
        expander::priority::PRIORITY_CONFIGMAP_NAME
    )]
    MissingPriorityConfig,
}

/// A deletion CA started and the world has not finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionKind {
    /// Terminated as empty (scale-down) — counts against `--max-scale-down-parallelism`.
    Empty,
    /// Being drained — also counts against `--max-drain-parallelism`.
    Drain,
    /// Terminated because it never registered.
    FailedProvisioning,
}

/// The Cluster Autoscaler.
pub struct ClusterAutoscaler {
    pub(crate) flags: CaFlags,
    /// Sorted by name; `templates[i]` belongs to `groups[i]`.
    pub(crate) groups: Vec<NodeGroupSpec>,
    pub(crate) templates: Vec<NodeTemplate>,
    pub(crate) priorities: Option<PriorityConfig>,
    pub(crate) backoff: Backoff,
    /// Start of the first loop.
    pub(crate) started: Option<SimTime>,
    /// Last scale-up, scale-down deletion and scale-down failure, in signed milliseconds (they
    /// start one hour before the first loop, as upstream's).
    pub(crate) last_scale_up: i64,
    pub(crate) last_scale_down_delete: i64,
    pub(crate) last_scale_down_fail: i64,
    /// Since when each node has been continuously unneeded.
    pub(crate) unneeded_since: BTreeMap<NodeId, SimTime>,
    pub(crate) deleting: BTreeMap<NodeId, DeletionKind>,
    /// Drains the world abandoned since the last loop, recorded with the next loop's records.
    pub(crate) drain_failures: Vec<(NodeId, SimTime)>,
    /// The last NoScaleUp reason recorded (repeats are not written every loop).
    pub(crate) last_no_scale_up: Option<String>,
    /// Registered nodes whose scale-up already timed out (not Ready within
    /// `--max-node-provision-time`): each backs its group off once.
    pub(crate) timed_out: BTreeSet<NodeId>,
    /// [`NodeFacts`] of every node seen so far, indexed by `NodeId.0`.
    pub(crate) node_facts: Vec<NodeFacts>,
    pub(crate) launch_ids: LaunchIds,
}

/// What CA reads from a node that cannot change once the node exists: the world sets a node's
/// pool and labels at launch and never reuses an id (`ClusterView::nodes` only grows). Cached by
/// node id so the per-loop scans of every node skip the group-name search and the label lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeFacts {
    /// Index of the node's group in `groups`; `None` for nodes CA does not manage.
    pub(crate) group: Option<usize>,
    /// Carries the `scale-down-disabled: "true"` label.
    pub(crate) scale_down_disabled: bool,
}

impl ClusterAutoscaler {
    /// Builds the autoscaler. `priority_config` is the parsed priority-expander ConfigMap, if the
    /// scenario has one; without it the groups' `spec.priority` fields are used.
    pub fn new(
        flags: CaFlags,
        groups: Vec<NodeGroupSpec>,
        priority_config: Option<PriorityConfig>,
        catalog: &Catalog,
    ) -> Result<ClusterAutoscaler, CaError> {
        if groups.is_empty() {
            return Err(CaError::NoNodeGroups);
        }
        let mut groups = groups;
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        for w in groups.windows(2) {
            if w[0].name == w[1].name {
                return Err(CaError::DuplicateGroup(w[0].name.clone()));
            }
        }
        let mut templates = Vec::with_capacity(groups.len());
        for g in &groups {
            templates.push(
                NodeTemplate::new(g, catalog).ok_or_else(|| CaError::UnknownInstanceType {
                    group: g.name.clone(),
                    instance_type: g.instance_type.clone(),
                })?,
            );
        }
        let priorities = priority_config.or_else(|| {
            PriorityConfig::from_group_priorities(
                groups.iter().filter_map(|g| g.priority.map(|p| (g.name.as_str(), p))),
            )
        });
        if flags.expanders.contains(&ExpanderKind::Priority) && priorities.is_none() {
            return Err(CaError::MissingPriorityConfig);
        }
        let backoff = Backoff::new(
            flags.initial_node_group_backoff_duration,
            flags.max_node_group_backoff_duration,
            flags.node_group_backoff_reset_timeout,
        );
        Ok(ClusterAutoscaler {
            flags,
            groups,
            templates,
            priorities,
            backoff,
            started: None,
            last_scale_up: 0,
            last_scale_down_delete: 0,
            last_scale_down_fail: 0,
            unneeded_since: BTreeMap::new(),
            deleting: BTreeMap::new(),
            drain_failures: Vec::new(),
            last_no_scale_up: None,
            timed_out: BTreeSet::new(),
            node_facts: Vec::new(),
            launch_ids: LaunchIds::default(),
        })
    }

    pub fn flags(&self) -> &CaFlags {
        &self.flags
    }

    pub fn groups(&self) -> &[NodeGroupSpec] {
        &self.groups
    }

    pub fn templates(&self) -> &[NodeTemplate] {
        &self.templates
    }

    pub fn backoff_state(&self) -> &Backoff {
        &self.backoff
    }

    /// The nodes each group starts with (`spec.initial`), in group-name order.
    pub fn initial_node_specs(&self) -> Vec<NodeSpec> {
        self.groups
            .iter()
            .zip(&self.templates)
            .flat_map(|(g, t)| (0..g.initial).map(move |_| t.node_spec()))
            .collect()
    }

    /// The initial nodes as launch actions with each group's latency.
    pub fn initial_launches(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        for (g, t) in self.groups.iter().zip(&self.templates) {
            for _ in 0..g.initial {
                out.push(Action::Launch {
                    id: self.launch_ids.issue(),
                    spec: t.node_spec(),
                    latency: g.latency.clone(),
                    reason: format!("initial size of node group {}", g.name),
                });
            }
        }
        out
    }

    pub(crate) fn group_index(&self, pool: &str) -> Option<usize> {
        self.groups.binary_search_by(|g| g.name.as_str().cmp(pool)).ok()
    }

    fn compute_facts(&self, n: &Node) -> NodeFacts {
        NodeFacts {
            group: self.group_index(&n.pool),
            scale_down_disabled: n.labels.get(scale_down::SCALE_DOWN_DISABLED).map(String::as_str) == Some("true"),
        }
    }

    /// Caches the facts of nodes created since the last loop.
    fn learn_nodes(&mut self, view: &ClusterView<'_>) {
        let start = self.node_facts.len();
        for n in &view.nodes[start..] {
            let facts = self.compute_facts(n);
            self.node_facts.push(facts);
        }
    }

    /// The node's [`NodeFacts`], from the cache when the node was seen by a previous loop.
    pub(crate) fn facts(&self, n: &Node) -> NodeFacts {
        match self.node_facts.get(n.id.0 as usize) {
            Some(f) => *f,
            None => self.compute_facts(n),
        }
    }

    /// The index of the node's group, if CA manages it.
    pub(crate) fn node_group(&self, n: &Node) -> Option<usize> {
        self.facts(n).group
    }

    /// Nodes of group `gi` that count toward its size: live, not being deleted by CA.
    pub(crate) fn group_size(&self, view: &ClusterView<'_>, gi: usize) -> u32 {
        view.live_nodes
            .iter()
            .map(|&id| &view.nodes[id.0 as usize])
            .filter(|n| self.node_group(n) == Some(gi))
            .filter(|n| !matches!(n.state, NodeState::Terminating | NodeState::Terminated))
            .filter(|n| !self.deleting.contains_key(&n.id))
            .count() as u32
    }

    pub(crate) fn record(
        &self,
        now: SimTime,
        activity: Activity,
        decision: Decision,
        object: &str,
        reason: String,
    ) -> DecisionRecord {
        DecisionRecord {
            time_s: now.as_secs_f64(),
            component: COMPONENT,
            activity,
            decision,
            object: object.to_string(),
            reason,
        }
    }

    /// Nodes CA launched that did not register within `--max-node-provision-time`: terminate them
    /// and back their group off once per loop.
    /// upstream: clusterstate/clusterstate.go `updateScaleRequests` (a scale-up whose
    /// `ExpectedAddTime` passed is a failed scale-up: `registerFailedScaleUpNoLock` backs the group
    /// off) and core/static_autoscaler.go `removeOldUnregisteredNodes` (deletes nodes unregistered
    /// for longer than MaxNodeProvisionTime).
    fn fail_unregistered(
        &mut self,
        view: &ClusterView<'_>,
        actions: &mut Vec<Action>,
        records: &mut Vec<DecisionRecord>,
    ) {
        let now = view.now;
        let mut failed_by_group: BTreeMap<usize, Vec<NodeId>> = BTreeMap::new();
        let mut timed_out_by_group: BTreeMap<usize, Vec<NodeId>> = BTreeMap::new();
        for &id in view.live_nodes {
            let n = &view.nodes[id.0 as usize];
            let Some(gi) = self.node_group(n) else { continue };
            // Registered but not Ready (NotStarted): still an upcoming node, so its scale-up
            // request is open; past its ExpectedAddTime the scale-up timed out and the group backs
            // off, but the node is not deleted here (scale-down removes it once unready).
            // upstream: clusterstate.go `GetUpcomingNodes` (newNodes = target − (ready + unready +
            // longUnregistered): NotStarted nodes count as upcoming) and `updateScaleRequests`.
            if n.state == NodeState::Registered
                && !self.deleting.contains_key(&id)
                && !self.timed_out.contains(&id)
                && n.requested + self.flags.max_node_provision_time < now
            {
                self.timed_out.insert(id);
                timed_out_by_group.entry(gi).or_default().push(id);
                continue;
            }
            if self.deleting.contains_key(&id) || n.registered.is_some() {
                continue;
            }
            if !matches!(n.state, NodeState::Launching | NodeState::Booting) {
                continue;
            }
            // upstream: `ExpectedAddTime.Before(currentTime)`.
            if n.requested + self.flags.max_node_provision_time < now {
                failed_by_group.entry(gi).or_default().push(id);
            }
        }
        for (gi, nodes) in timed_out_by_group {
            let name = self.groups[gi].name.clone();
            for id in &nodes {
                records.push(self.record(
                    now,
                    Activity::ScaleUp,
                    Decision::FailedScaleUp,
                    &view.nodes[id.0 as usize].name,
                    format!(
                        "node of group {name} registered but not Ready within {}: scale-up timed out",
                        self.flags.max_node_provision_time
                    ),
                ));
            }
            records.push(self.back_off(&name, now, nodes.len(), "not Ready in time"));
        }
        for (gi, nodes) in failed_by_group {
            let name = self.groups[gi].name.clone();
            for id in &nodes {
                self.deleting.insert(*id, DeletionKind::FailedProvisioning);
                actions.push(Action::Terminate {
                    node: *id,
                    reason: format!(
                        "not registered within --max-node-provision-time={}",
                        self.flags.max_node_provision_time
                    ),
                });
                records.push(self.record(
                    now,
                    Activity::ScaleUp,
                    Decision::FailedScaleUp,
                    &view.nodes[id.0 as usize].name,
                    format!(
                        "node of group {name} not registered within {}",
                        self.flags.max_node_provision_time
                    ),
                ));
            }
            records.push(self.back_off(&name, now, nodes.len(), "failed to register"));
        }
    }

    /// Backs group `name` off after `count` of its nodes `failed` (the exponential backoff of
    /// [`backoff`]) and records it.
    fn back_off(&mut self, name: &str, now: SimTime, count: usize, failed: &str) -> DecisionRecord {
        let until = self.backoff.backoff(name, now);
        let duration = self.backoff.info(name).map(|b| b.duration).unwrap_or_default();
        self.record(
            now,
            Activity::ScaleUp,
            Decision::Backoff,
            name,
            format!(
                "{count} node(s) {failed}; group backed off for {duration} (until {:.0}s)",
                until.as_secs_f64()
            ),
        )
    }
}

/// Cluster Autoscaler in the provisioner registry: `spec.provisioner: {clusterAutoscaler: {args:
/// [...]}}` with `capsim/v1alpha1 NodeGroup` documents (and the
/// `cluster-autoscaler-priority-expander` ConfigMap).
pub static KIND: ProvisionerKind = ProvisionerKind {
    key: "clusterAutoscaler",
    aliases: &["cluster-autoscaler"],
    // ASG-backed EKS managed node groups.
    default_node_latency: crate::scenario::defaults::node_latency,
    possible_nodes: |sc| {
        sc.documents_of(CAPSIM_API_VERSION, "NodeGroup")
            .filter_map(|d| d.value.pointer("/spec/instanceType").and_then(|v| v.as_str()))
            .filter_map(|t| sc.catalog.get(t))
            .map(|t| t.allocatable())
            .collect()
    },
    build,
};

/// Builds Cluster Autoscaler from its settings (`{args: [...]}` or nothing) and the scenario's
/// NodeGroup documents; errors name the document and field.
fn build(sc: &Scenario, cfg: &serde_json::Value) -> Result<ProvisionerSetup, ScenarioError> {
    let path = "spec.provisioner.clusterAutoscaler";
    if let Some(o) = cfg.as_object() {
        if let Some(k) = o.keys().find(|k| k.as_str() != "args") {
            return Err(sc.error_at(&format!("{path}.{k}"), "unknown field (expected args)".into()));
        }
    } else if !cfg.is_null() {
        return Err(sc.error_at(path, "expected a map with args".into()));
    }
    let args: Vec<String> = match cfg.get("args") {
        None => Vec::new(),
        Some(a) => serde_json::from_value(a.clone())
            .map_err(|e| sc.error_at(&format!("{path}.args"), format!("expected a list of flags: {e}")))?,
    };
    let parsed = flags::parse_flags(&args).map_err(|e| sc.error_at(&format!("{path}.args"), e.to_string()))?;
    let mut groups = Vec::new();
    for d in sc.documents_of(CAPSIM_API_VERSION, "NodeGroup") {
        groups.push(
            NodeGroupSpec::from_document(&d.value, &sc.catalog)
                .map_err(|e| d.error(ErrorKind::Invalid, "", e.to_string()))?,
        );
    }
    let priority = match sc.document("ConfigMap", "kube-system", expander::priority::PRIORITY_CONFIGMAP_NAME) {
        Some(d) => Some(
            PriorityConfig::from_configmap(&d.value)
                .map_err(|e| d.error(ErrorKind::Invalid, "data.priorities", e.to_string()))?,
        ),
        None => None,
    };
    let mut ca = ClusterAutoscaler::new(parsed.flags, groups, priority, &sc.catalog)
        .map_err(|e| sc.error_at(path, e.to_string()))?;
    let initial = ca.initial_launches(); // initial nodes start Ready: their latency is unused
    Ok(ProvisionerSetup {
        provisioner: Box::new(ca),
        initial,
        warnings: parsed.warnings,
    })
}

impl Provisioner for ClusterAutoscaler {
    fn component(&self) -> &'static str {
        COMPONENT
    }

    fn period(&self) -> SimDuration {
        self.flags.scan_interval
    }

    fn reconcile(&mut self, view: &ClusterView<'_>, rngs: &Rngs) -> (Vec<Action>, Vec<DecisionRecord>) {
        let now = view.now;
        if self.started.is_none() {
            // upstream: core/static_autoscaler.go NewStaticAutoscaler: "set the initial scale
            // times to be less than the start time so as to not start in cooldown mode":
            // `initialScaleTime := time.Now().Add(-time.Hour)`.
            self.started = Some(now);
            let initial = millis(now) - INITIAL_SCALE_TIME_OFFSET_MS;
            self.last_scale_up = initial;
            self.last_scale_down_delete = initial;
            self.last_scale_down_fail = initial;
        }
        let mut actions = Vec::new();
        let mut records = Vec::new();
        for (id, at) in std::mem::take(&mut self.drain_failures) {
            let name = view
                .nodes
                .get(id.0 as usize)
                .map_or_else(|| format!("node/{}", id.0), |n| n.name.clone());
            records.push(self.record(
                at,
                Activity::ScaleDown,
                Decision::ScaleDownFailed,
                &name,
                format!(
                    "drain abandoned (evictions blocked); scale-down paused for {}",
                    self.flags.scale_down_delay_after_failure
                ),
            ));
        }
        // upstream: clusterstate UpdateNodes → backoff.RemoveStaleBackoffData(currentTime).
        self.backoff.remove_stale(now);
        self.learn_nodes(view);
        self.fail_unregistered(view, &mut actions, &mut records);
        let up = self.scale_up(view, rngs, &mut actions, &mut records);
        if self.flags.scale_down_enabled {
            self.scale_down(view, !up.allows_scale_down, &mut actions, &mut records);
        }
        (actions, records)
    }

    fn notice(&mut self, notice: &NodeNotice, now: SimTime) {
        match notice {
            NodeNotice::Terminated(id) => {
                self.deleting.remove(id);
                self.unneeded_since.remove(id);
            }
            NodeNotice::DrainFailed(id) => {
                // upstream: a failed drain is a scale-down failure (--scale-down-delay-after-failure).
                self.deleting.remove(id);
                self.unneeded_since.remove(id);
                self.last_scale_down_fail = millis(now);
                self.drain_failures.push((*id, now));
            }
            // CA reads registration and readiness from the view; a launched node is recognised by
            // its pool (`NodeSpec::pool` = the group name).
            NodeNotice::Launched { .. }
            | NodeNotice::Registered(_)
            | NodeNotice::Ready(_)
            | NodeNotice::InterruptionWarning { .. } => {}
        }
    }
}
