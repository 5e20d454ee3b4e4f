//! The cluster's vocabulary: resources, labels and taints, workloads, and units.

pub mod batch;
pub mod labels;
pub mod resources;
pub mod topology;
pub mod units;
pub mod workload;

pub use labels::{Labels, NodeAffinity, Taint, TaintEffect, Toleration};
pub use resources::Resources;
pub use workload::*;
