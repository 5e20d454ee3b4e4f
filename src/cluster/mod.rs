//! The cluster: its live objects (pods, nodes, their ids and phases, what a provisioner asks the
//! cloud for), the read-only [`view`] controllers observe, and the one [`placement`] layer that
//! decides whether a pod template admits a node.
//!
//! This module is the vocabulary shared by the world (`sim`, which owns and mutates the state)
//! and the controllers (which only read it through views): neither depends on the other.

pub mod placement;
pub mod state;
pub mod store;
pub mod templates;
pub mod topology;
pub mod view;

pub use state::{DeleteReason, Node, NodeId, NodeSpec, NodeState, Pod, PodId, PodPhase};
pub use store::Cluster;
pub use templates::Templates;
pub use view::ClusterView;
