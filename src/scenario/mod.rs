//! Scenario loading: multi-document YAML → raw documents → `--set` overrides → validated model.
//! OWNER: scenario helper — the `Scenario` struct is the contract with the simulation.

use crate::cloud::{Catalog, Distribution};
use crate::engine::SimDuration;
use crate::model::{DisruptionBudget, ScoringStrategy, StaticNodes, Workload};
use std::sync::Arc;

/// Node lifecycle stage latencies (used by every provisioner).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeLatency {
    /// Request → instance running (billing starts).
    pub launch: Distribution,
    /// Running → kubelet registered.
    pub register: Distribution,
    /// Registered → Ready (CNI, DaemonSets).
    pub ready: Distribution,
    /// Terminate call → instance gone (billing ends).
    pub terminate: Distribution,
}

/// A validated scenario: everything a run needs, with every default applied.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub duration: SimDuration,
    pub seed: u64,
    /// Timeline resolution.
    pub resolution: SimDuration,
    pub catalog: Arc<Catalog>,
    /// Deployments and DaemonSets, in document order.
    pub workloads: Vec<Workload>,
    pub pdbs: Vec<DisruptionBudget>,
    /// HorizontalPodAutoscalers as parsed (validated by the HPA module when the simulation builds).
    pub hpas: Vec<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>,
    /// karpenter.sh/v1 NodePool documents, kept raw for the Karpenter stage.
    pub nodepools: Vec<serde_json::Value>,
    pub static_nodes: Vec<StaticNodes>,
    pub scoring: ScoringStrategy,
    pub node_latency: NodeLatency,
    /// Non-fatal findings (unknown kinds skipped, ...), printed by the CLI.
    pub warnings: Vec<String>,
}

/// Loading error (placeholder until the loader lands).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScenarioError(pub String);

/// Loads a scenario file (placeholder until the loader lands).
pub fn load(path: &std::path::Path, _overrides: &[String]) -> Result<Scenario, ScenarioError> {
    Err(ScenarioError(format!(
        "{}: scenario loading is not built yet",
        path.display()
    )))
}

/// Loads a scenario from text (placeholder until the loader lands).
pub fn load_str(
    name: &str,
    _text: &str,
    _base: Option<&std::path::Path>,
    _overrides: &[String],
) -> Result<Scenario, ScenarioError> {
    Err(ScenarioError(format!("{name}: scenario loading is not built yet")))
}
