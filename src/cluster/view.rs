//! What controllers observe: a read-only view of the cluster, borrowed from the world.

use super::Templates;
use super::state::{Node, NodeId, Pod, PodId};
use crate::engine::SimTime;
use crate::scenario::Scenario;

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
    /// Every workload's pod template revisions: a pod's own is `templates.of(pod)`.
    pub templates: &'a Templates,
}
