//! Controllers: pure decision functions from an observed snapshot to a decision. None of them
//! imports the world (`crate::sim`): they read `crate::cluster` views and return actions.

pub mod cluster_autoscaler;
pub mod hpa;
pub mod karpenter;
pub mod provisioner;
pub mod replicaset;
pub mod scheduler;
pub mod vpa;

/// The node provisioners a scenario can name in `spec.provisioner`, in the order error messages
/// list them. A new provisioner is its module plus one line here.
pub static PROVISIONERS: &[&provisioner::ProvisionerKind] = &[&cluster_autoscaler::KIND, &karpenter::KIND];
