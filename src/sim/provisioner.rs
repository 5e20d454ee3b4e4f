//! The contract between the world and a node provisioner (Cluster Autoscaler, Karpenter).
//!
//! A provisioner is a pure decision function over a read-only [`ClusterView`]: the world calls
//! [`Provisioner::reconcile`] every [`Provisioner::period`] (and after notable events), applies
//! the returned [`Action`]s — launching nodes through the cloud's latency model, cordoning,
//! draining through the eviction API (PodDisruptionBudgets enforced by the world), terminating —
//! and writes every [`DecisionRecord`] to `autoscaler.csv`.

use super::NodeSpec;
use super::state::{Node, NodeId, Pod, PodId};
use crate::engine::{Rngs, SimDuration, SimTime};
use crate::scenario::{NodeLatency, Scenario};

/// What a provisioner sees. Everything is borrowed from the world; nothing is copied.
pub struct ClusterView<'a> {
    pub now: SimTime,
    pub scenario: &'a Scenario,
    /// All nodes ever created, indexed by `NodeId.0` (check `state`).
    pub nodes: &'a [Node],
    /// Nodes not terminated, in id order.
    pub live_nodes: &'a [NodeId],
    /// All pods ever created, indexed by `PodId.0` (check `phase`).
    pub pods: &'a [Pod],
    /// Pods the scheduler marked unschedulable and that are still Pending, in scheduling-queue
    /// order (priority desc, then age).
    pub unschedulable: &'a [PodId],
    /// How many more pods each PodDisruptionBudget (index into `scenario.pdbs`) allows to be
    /// disrupted right now.
    pub pdb_allowed: &'a [i64],
}

/// What a provisioner asks the world to do. (A handful per loop, so the size of `Launch` does not
/// matter.)
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// Request a node from the cloud; its stages follow `latency`.
    Launch {
        spec: NodeSpec,
        latency: NodeLatency,
        reason: String,
    },
    /// Stop scheduling onto the node (taint/cordon) without evicting.
    Cordon { node: NodeId, reason: String },
    /// Cordon, evict every evictable pod (respecting PDBs, retrying blocked evictions every 10 s
    /// up to `max_eviction_time`), then terminate the instance once no evictable pod is left.
    /// `force` terminates after `max_eviction_time` even if evictions are still blocked
    /// (Karpenter's expiration, spot reclaims); otherwise the drain is abandoned and the node
    /// uncordoned (Cluster Autoscaler's scale-down failure).
    Drain {
        node: NodeId,
        reason: String,
        max_eviction_time: SimDuration,
        force: bool,
    },
    /// Terminate the instance now; pods on it are deleted (empty-node deletes, failed launches).
    Terminate { node: NodeId, reason: String },
    /// Undo a cordon.
    Uncordon { node: NodeId, reason: String },
}

/// One line of `autoscaler.csv`: a decision and its reason.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DecisionRecord {
    pub time_s: f64,
    /// `cluster-autoscaler` or `karpenter`.
    pub component: String,
    /// The loop or method: `scale-up`, `scale-down`, `provisioning`, `consolidation`, ...
    pub activity: String,
    /// The decision: `ScaleUp`, `NoScaleUp`, `DeleteEmpty`, `Replace`, `Backoff`, ...
    pub decision: String,
    /// The object: a node group, NodePool, node or pod.
    pub object: String,
    /// Why, in a few words a person reads (expander result, budget exhausted, ...).
    pub reason: String,
}

/// What happened to the nodes a provisioner launched, reported back by the world.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeNotice {
    Registered(NodeId),
    Ready(NodeId),
    Terminated(NodeId),
    /// A spot interruption warning: the instance is reclaimed at `at`.
    InterruptionWarning {
        node: NodeId,
        at: SimTime,
    },
    /// A drain could not finish (evictions blocked) and was abandoned.
    DrainFailed(NodeId),
}

/// A node provisioner.
pub trait Provisioner {
    /// `cluster-autoscaler` or `karpenter`.
    fn component(&self) -> &'static str;
    /// How often the world calls `reconcile` (CA `--scan-interval`; Karpenter's batching tick).
    fn period(&self) -> SimDuration;
    /// Decide what to do now.
    fn reconcile(&mut self, view: &ClusterView<'_>, rngs: &Rngs) -> (Vec<Action>, Vec<DecisionRecord>);
    /// Learn what happened to nodes since the last call.
    fn notice(&mut self, _notice: &NodeNotice, _now: SimTime) {}
}
