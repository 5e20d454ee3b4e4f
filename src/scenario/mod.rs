//! Scenario loading: multi-document YAML → raw documents → `--set` overrides → validated model.
//! OWNER: scenario helper — the `Scenario` struct is the contract with the simulation.
//!
//! # Stages
//!
//! 1. **Raw** ([`raw`]): the scenario file (at most 32 MiB; see [`defaults`] for every limit) is parsed
//!    as multi-document YAML with budgets against alias bombs and deep nesting. Empty documents (only
//!    comments or `---`) are skipped and not counted; `v1 List` documents are expanded into their
//!    items. The Scenario document's `spec.include` (a path or a list of paths, relative to the
//!    including file) pulls in further files, or whole directories: every `*.yaml`/`*.yml` below it,
//!    recursively, sorted by path, hidden entries skipped, each file loaded once (so including the
//!    directory that holds the scenario itself is harmless). The output of `helm template` works
//!    unchanged. Every document is kept as a [`RawDocument`] in [`Scenario::documents`].
//! 2. **Overrides** ([`overrides`]): `--set` edits the raw tree before typed parsing.
//! 3. **Typed** ([`build`]): the `capsim/v1alpha1 Scenario` document (schema in [`schema`]) and the
//!    Kubernetes manifests (parsed into k8s-openapi types, see [`manifests`]) become a [`Scenario`]
//!    with every default applied ([`defaults`]) and cross-checked.
//!
//! | apiVersion / kind | becomes |
//! |---|---|
//! | `capsim/v1alpha1 Scenario` (exactly one) | duration, seed, nodes, traffic, latencies ... |
//! | `apps/v1 Deployment`, `apps/v1 DaemonSet` | [`Scenario::workloads`] |
//! | `scheduling.k8s.io/v1 PriorityClass` | pod priorities (admission rules) |
//! | `policy/v1 PodDisruptionBudget` | [`Scenario::pdbs`] |
//! | `autoscaling/v2 HorizontalPodAutoscaler` | [`Scenario::hpas`] (semantics checked by the HPA module) |
//! | `karpenter.sh/v1 NodePool` | [`Scenario::nodepools`], raw |
//! | `autoscaling.k8s.io/v1 VerticalPodAutoscaler` | [`Scenario::vpas`] ([`vpa`]) |
//! | `capsim/v1alpha1 NodeGroup`, `karpenter.k8s.aws/v1 EC2NodeClass`, `v1 ConfigMap` | kept raw in [`Scenario::documents`] |
//! | anything else (Service, Ingress, ...) | skipped with a warning |
//!
//! # `--set` overrides
//!
//! ```text
//! Kind[/[namespace/]name]:field.path=value
//! ```
//!
//! * `Deployment/checkout-api:spec.replicas=6`
//! * `HorizontalPodAutoscaler/checkout-api:spec.metrics[0].resource.target.averageUtilization=70`
//! * `Scenario:spec.seed=3`, `Scenario:spec.workloads.checkout-api.traffic.base=800`
//! * `Deployment/shop/web:spec.template.spec.nodeSelector."kubernetes.io/arch"=arm64`
//!
//! The object is addressed by kind and name (and namespace when the name is ambiguous); the name may
//! be left out when only one object of the kind exists. The path is dot-separated keys and `[N]`
//! list indexes; keys with dots are quoted. The value is parsed as a YAML scalar or flow value: `6`
//! is a number, `"6"` a string, `{a: 1}` a mapping, `[a, b]` a list, an empty value null. Objects,
//! intermediate keys and list indexes must exist (errors list what does); a missing final key of an
//! existing mapping is created. `spec.include` cannot be overridden (includes are resolved first).
//!
//! # Errors
//!
//! [`ScenarioError`] names the file, document, object and field path:
//! `scenario.yaml: document 3 (HorizontalPodAutoscaler checkout-api): spec.maxReplicas: must be >= minReplicas (4), got 2`.

pub mod batch;
pub mod build;
pub mod constraints;
pub mod convert;
pub mod cron;
pub mod defaults;
pub mod error;
pub mod faults;
pub mod formula;
pub mod grid;
pub mod keda;
pub mod manifests;
pub mod overrides;
pub mod raw;
pub mod schema;
pub mod series;
pub mod vpa;

pub use error::{ErrorDetail, ErrorKind, ScenarioError};
pub use manifests::PriorityClassInfo;
pub use overrides::{Override, Segment, apply_override, parse_override};
pub use raw::RawDocument;

use crate::cloud::{Catalog, Distribution};
use crate::engine::SimDuration;
use crate::model::{DisruptionBudget, ScoringStrategy, StaticNodes, Workload};
use std::path::{Path, PathBuf};
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

/// Stages a node group (or any launch) sets for its own nodes, over the scenario's latencies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyOverride {
    pub launch: Option<Distribution>,
    pub register: Option<Distribution>,
    pub ready: Option<Distribution>,
    pub terminate: Option<Distribution>,
}

impl LatencyOverride {
    /// The stages of `default` with this override's on top.
    pub fn over(&self, default: &NodeLatency) -> NodeLatency {
        let pick = |own: &Option<Distribution>, d: &Distribution| own.clone().unwrap_or_else(|| d.clone());
        NodeLatency {
            launch: pick(&self.launch, &default.launch),
            register: pick(&self.register, &default.register),
            ready: pick(&self.ready, &default.ready),
            terminate: pick(&self.terminate, &default.terminate),
        }
    }
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
    /// VerticalPodAutoscalers, validated, each with the index of the workload it targets.
    pub vpas: Vec<vpa::ScenarioVpa>,
    /// `spec.series`: metric series HPAs and KEDA triggers read by name.
    pub series: Vec<series::NamedSeries>,
    /// KEDA ScaledObjects (their HPAs are in `hpas`).
    pub scaled_objects: Vec<keda::ScaledObject>,
    /// KEDA ScaledJobs (their Jobs are batch workloads of the same name).
    pub scaled_jobs: Vec<keda::ScaledJob>,
    /// karpenter.sh/v1 NodePool documents, kept raw for the Karpenter stage.
    pub nodepools: Vec<serde_json::Value>,
    pub static_nodes: Vec<StaticNodes>,
    pub scoring: ScoringStrategy,
    pub node_latency: NodeLatency,
    /// `spec.nodeLatency.byInstanceType`: stages for particular instance types (a node group's or
    /// NodePool's own latency still wins where it sets one).
    pub node_latency_by_type: std::collections::BTreeMap<String, NodeLatency>,
    /// Non-fatal findings (unknown kinds skipped, ...), printed by the CLI.
    pub warnings: Vec<String>,
    /// Every document of the scenario and its includes, after `--set` overrides, in load order: later
    /// stages (NodeGroup, NodePool, EC2NodeClass, ConfigMap) parse their kinds from here with
    /// [`RawDocument::error`] locating their errors.
    pub documents: Vec<RawDocument>,
    /// `spec.provisioner`, resolved against the provisioner registry.
    pub provisioner: crate::controllers::provisioner::ProvisionerConfig,
    /// `spec.controllerManager` as written, for the controller stage.
    pub controller_manager: Option<serde_json::Value>,
    /// PriorityClasses defined in the scenario (pod templates already carry their resolved priority).
    pub priority_classes: Vec<PriorityClassInfo>,
    /// `spec.metricsServer.metricResolution`; `None` uses the simulation's default.
    pub metric_resolution: Option<SimDuration>,
    /// Whether spot instances are interrupted (`spec.spotInterruptions`).
    pub spot_interruptions: bool,
    /// The PrometheusRule documents' rule groups.
    pub rule_groups: Vec<crate::alerts::RuleGroup>,
    /// `spec.start`: begin in the steady state of the t = 0 demand (`warm`) or empty (`cold`).
    pub warm_start: bool,
    /// `spec.warmup`: the span at the start left out of every summary metric.
    pub warmup: SimDuration,
    /// `spec.faults`: zone outages, insufficient-capacity windows, spot storms.
    pub faults: Vec<faults::Fault>,
    /// Directory of the scenario file: relative paths in later stages (trace CSVs) resolve against it.
    pub base_dir: Option<PathBuf>,
}

impl Scenario {
    /// An error at `path` of the Scenario document (the file, when there is none).
    pub fn error_at(&self, path: &str, message: String) -> ScenarioError {
        match self.documents.iter().find(|d| d.kind == "Scenario") {
            Some(d) => d.error(ErrorKind::Invalid, path, message),
            None => ScenarioError::file(ErrorKind::Invalid, self.name.clone(), format!("{path}: {message}")),
        }
    }

    /// The node stage latencies for an instance type: `spec.nodeLatency.byInstanceType` when it
    /// names the type, else the scenario-wide `spec.nodeLatency`.
    pub fn node_latency_for(&self, instance_type: &str) -> &NodeLatency {
        self.node_latency_by_type
            .get(instance_type)
            .unwrap_or(&self.node_latency)
    }

    /// The raw document of an object (`namespace` is empty for cluster-scoped kinds), so that later
    /// stages locate their errors with [`RawDocument::error`]: e.g. the HPA module validating
    /// `hpas[i]` finds `document("HorizontalPodAutoscaler", ns, name)`.
    pub fn document(&self, kind: &str, namespace: &str, name: &str) -> Option<&RawDocument> {
        self.documents
            .iter()
            .find(|d| d.kind == kind && d.namespace == namespace && d.name == name)
    }

    /// All raw documents of one apiVersion and kind, in load order (NodeGroup, EC2NodeClass...).
    pub fn documents_of<'a>(
        &'a self,
        api_version: &'a str,
        kind: &'a str,
    ) -> impl Iterator<Item = &'a RawDocument> + 'a {
        self.documents.iter().filter(move |d| d.is(api_version, kind))
    }
}

/// Loads a scenario file (following its includes), applies `--set` overrides, and validates it.
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let mut loader = raw::Loader::new();
    loader.load_root_file(path)?;
    let base_dir = path.parent().map(Path::to_path_buf);
    let display = path.display().to_string();
    finish(loader, &display, base_dir, overrides)
}

/// Loads a scenario from text (the demo embeds its scenario in the binary). `display_name` names it
/// in errors; includes resolve against `base_dir` (none allowed when it is `None`).
pub fn load_str(
    display_name: &str,
    text: &str,
    base_dir: Option<&Path>,
    overrides: &[String],
) -> Result<Scenario, ScenarioError> {
    let mut loader = raw::Loader::new();
    loader.load_root_text(display_name, text, base_dir)?;
    finish(loader, display_name, base_dir.map(Path::to_path_buf), overrides)
}

fn finish(
    loader: raw::Loader,
    display: &str,
    base_dir: Option<PathBuf>,
    overrides: &[String],
) -> Result<Scenario, ScenarioError> {
    let raw::Loader { mut docs, warnings, .. } = loader;
    for ov in overrides {
        apply_override(&mut docs, ov)?;
    }
    build::build(display, docs, warnings, base_dir)
}
