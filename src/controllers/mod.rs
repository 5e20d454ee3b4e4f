//! Controllers: pure decision functions from an observed snapshot to a decision.

pub mod cluster_autoscaler;
pub mod hpa;
pub mod karpenter;
pub mod replicaset;
pub mod scheduler;
