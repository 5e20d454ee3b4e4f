//! The cluster's objects as the world holds them: every pod and node ever created, the live
//! nodes, and the one way a node joins (its name and well-known labels). The world and the test
//! kit's provisioner harness both keep their cluster here, so a node a test launches is named and
//! labelled exactly as a simulated one.

use super::state::{Node, NodeId, NodeSpec, Pod, PodId};
use super::{ClusterView, Templates};
use crate::engine::SimTime;
use crate::scenario::Scenario;
use std::collections::BTreeMap;

/// Pods and nodes by dense id (never removed, so ids are stable) and the live node list.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    /// All pods ever created, indexed by `PodId.0` (check `phase`).
    pub pods: Vec<Pod>,
    /// All nodes ever created, indexed by `NodeId.0` (check `state`).
    pub nodes: Vec<Node>,
    /// Nodes not yet terminated, in id order (the scheduler's search order).
    pub live_nodes: Vec<NodeId>,
    /// Nodes created so far per pool (names a pool's next node).
    pool_nodes: BTreeMap<String, u32>,
}

impl Cluster {
    /// Adds a node in state Launching, requested at `now`: named `<pool>-<nnnn>` (the pool's
    /// n-th node) and labelled as the kubelet and cloud provider label it
    /// (`kubernetes.io/hostname`, `node.kubernetes.io/instance-type`, `topology.kubernetes.io/zone`),
    /// over the labels `spec` carries.
    pub fn add_node(&mut self, spec: NodeSpec, now: SimTime, created_by: String) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        let ordinal = self.pool_nodes.entry(spec.pool.clone()).or_insert(0);
        let name = format!("{}-{:04}", spec.pool, *ordinal);
        *ordinal += 1;
        let mut labels = spec.labels;
        labels.insert(crate::model::labels::LABEL_HOSTNAME.into(), name.clone());
        labels.insert("node.kubernetes.io/instance-type".into(), spec.instance_type.clone());
        if !spec.zone.is_empty() {
            labels.insert("topology.kubernetes.io/zone".into(), spec.zone.clone());
        }
        self.nodes
            .push(Node::new(id, name, NodeSpec { labels, ..spec }, now, created_by));
        self.live_nodes.push(id);
        id
    }

    /// Takes a node off the live list (it terminated).
    pub fn remove_live(&mut self, n: NodeId) {
        self.live_nodes.retain(|&x| x != n);
    }

    /// What controllers observe at `now`.
    pub fn view<'a>(
        &'a self,
        now: SimTime,
        scenario: &'a Scenario,
        unschedulable: &'a [PodId],
        pdb_allowed: &'a [i64],
        templates: &'a Templates,
    ) -> ClusterView<'a> {
        ClusterView {
            now,
            scenario,
            nodes: &self.nodes,
            live_nodes: &self.live_nodes,
            pods: &self.pods,
            unschedulable,
            pdb_allowed,
            templates,
        }
    }
}
