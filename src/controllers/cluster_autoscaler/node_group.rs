//! Node groups (`capsim/v1alpha1 NodeGroup` documents) and their template nodes.
//!
//! ```yaml
//! apiVersion: capsim/v1alpha1
//! kind: NodeGroup
//! metadata: {name: general}
//! spec:
//!   instanceType: m5.xlarge
//!   capacityType: on-demand        # or spot
//!   min: 3
//!   max: 30
//!   initial: 3                     # default: min
//!   zone: us-east-1a
//!   labels: {team: web}
//!   taints: [{key: dedicated, value: web, effect: NoSchedule}]
//!   priority: 10                   # used by the priority expander when no ConfigMap is given
//!   latency: {launch: 240s, register: 20s, ready: 15s, terminate: 30s}   # overrides the scenario's
//! ```
//!
//! The template node (upstream: cloudprovider `NodeGroup.TemplateNodeInfo`) is what Cluster
//! Autoscaler simulates a new node of the group as: the instance type's capacity and kubelet
//! allocatable, the well-known labels, the group's labels and taints, and the DaemonSet pods that
//! would run on it.

use crate::cloud::{Catalog, Distribution, latency::DistributionSpec};
use crate::cluster::NodeSpec;
use crate::cluster::placement;
use crate::model::{CapacityType, Labels, Resources, Taint, TaintEffect};
use crate::scenario::Scenario;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A node group's own stage latencies; `None` stages use the scenario's.
pub use crate::scenario::LatencyOverride;

/// A validated node group.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeGroupSpec {
    pub name: String,
    pub instance_type: String,
    pub capacity_type: CapacityType,
    pub min: u32,
    pub max: u32,
    pub initial: u32,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    pub zone: String,
    pub priority: Option<i32>,
    pub latency: LatencyOverride,
}

/// A NodeGroup document that does not validate. `path` is the field path in the document.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("NodeGroup {group}: {path}: {message}")]
pub struct NodeGroupError {
    pub group: String,
    pub path: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawDoc {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    metadata: RawMeta,
    spec: RawSpec,
}

#[derive(Deserialize)]
struct RawMeta {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSpec {
    instance_type: String,
    #[serde(default)]
    capacity_type: Option<String>,
    min: u32,
    max: u32,
    #[serde(default)]
    initial: Option<u32>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    taints: Vec<RawTaint>,
    #[serde(default)]
    zone: String,
    #[serde(default)]
    priority: Option<i32>,
    #[serde(default)]
    latency: Option<RawLatency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaint {
    key: String,
    #[serde(default)]
    value: String,
    effect: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLatency {
    #[serde(default)]
    launch: Option<DistributionSpec>,
    #[serde(default)]
    register: Option<DistributionSpec>,
    #[serde(default)]
    ready: Option<DistributionSpec>,
    #[serde(default)]
    terminate: Option<DistributionSpec>,
}

impl NodeGroupSpec {
    /// Parses and validates a raw `capsim/v1alpha1 NodeGroup` document.
    pub fn from_document(doc: &serde_json::Value, catalog: &Catalog) -> Result<NodeGroupSpec, NodeGroupError> {
        let group = doc
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            .unwrap_or("<unnamed>")
            .to_string();
        let err = |path: &str, message: String| NodeGroupError {
            group: group.clone(),
            path: path.to_string(),
            message,
        };
        let raw: RawDoc = serde_path_to_error::deserialize(doc).map_err(|e| {
            let path = e.path().to_string();
            err(&path, e.into_inner().to_string())
        })?;
        if !raw.api_version.is_empty() && raw.api_version != "capsim/v1alpha1" {
            return Err(err(
                "apiVersion",
                format!("expected capsim/v1alpha1, got {:?}", raw.api_version),
            ));
        }
        if !raw.kind.is_empty() && raw.kind != "NodeGroup" {
            return Err(err("kind", format!("expected NodeGroup, got {:?}", raw.kind)));
        }
        if raw.metadata.name.is_empty() {
            return Err(err("metadata.name", "must not be empty".into()));
        }
        let s = raw.spec;
        if catalog.get(&s.instance_type).is_none() {
            return Err(err(
                "spec.instanceType",
                format!("unknown instance type {:?} (not in the catalog)", s.instance_type),
            ));
        }
        let capacity_type = match s.capacity_type.as_deref() {
            None | Some("on-demand") => CapacityType::OnDemand,
            Some("spot") => CapacityType::Spot,
            Some(other) => {
                return Err(err(
                    "spec.capacityType",
                    format!("expected on-demand or spot, got {other:?}"),
                ));
            }
        };
        if s.min > s.max {
            return Err(err("spec.max", format!("must be >= min ({}), got {}", s.min, s.max)));
        }
        let initial = s.initial.unwrap_or(s.min);
        if initial > crate::scenario::defaults::MAX_STATIC_NODES as u32 {
            return Err(err(
                "spec.initial",
                format!(
                    "{initial} nodes at the start is more than the limit of {}",
                    crate::scenario::defaults::MAX_STATIC_NODES
                ),
            ));
        }
        if initial < s.min || initial > s.max {
            return Err(err(
                "spec.initial",
                format!("must be between min ({}) and max ({}), got {initial}", s.min, s.max),
            ));
        }
        let mut taints = Vec::new();
        for (i, t) in s.taints.iter().enumerate() {
            let effect = TaintEffect::parse(&t.effect).ok_or_else(|| {
                err(
                    &format!("spec.taints[{i}].effect"),
                    format!("expected NoSchedule, PreferNoSchedule or NoExecute, got {:?}", t.effect),
                )
            })?;
            if t.key.is_empty() {
                return Err(err(&format!("spec.taints[{i}].key"), "must not be empty".into()));
            }
            taints.push(Taint {
                key: t.key.clone(),
                value: t.value.clone(),
                effect,
            });
        }
        let mut latency = LatencyOverride::default();
        if let Some(l) = &s.latency {
            let conv = |stage: &str, d: &Option<DistributionSpec>| -> Result<Option<Distribution>, NodeGroupError> {
                match d {
                    None => Ok(None),
                    Some(spec) => Distribution::from_spec(spec)
                        .map(Some)
                        .map_err(|m| err(&format!("spec.latency.{stage}"), m)),
                }
            };
            latency.launch = conv("launch", &l.launch)?;
            latency.register = conv("register", &l.register)?;
            latency.ready = conv("ready", &l.ready)?;
            latency.terminate = conv("terminate", &l.terminate)?;
        }
        Ok(NodeGroupSpec {
            name: raw.metadata.name,
            instance_type: s.instance_type,
            capacity_type,
            min: s.min,
            max: s.max,
            initial,
            labels: s.labels,
            taints,
            zone: s.zone,
            priority: s.priority,
            latency,
        })
    }
}

/// A node group's template node, resolved against the catalog.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeTemplate {
    pub group: String,
    pub instance_type: String,
    pub capacity_type: CapacityType,
    pub zone: String,
    /// Well-known labels plus the group's labels.
    pub labels: Labels,
    pub taints: Vec<Taint>,
    /// What the kubelet reports as capacity (least-waste and price use it).
    pub capacity: Resources,
    /// Kubelet allocatable, before DaemonSet pods.
    pub allocatable: Resources,
    /// Hourly price of one node of the group (spot price for spot groups, falling back to on-demand
    /// as the world does).
    pub price_hr: f64,
}

/// Labels that may differ between similar node groups. upstream: cluster-autoscaler
/// processors/nodegroupset/compare_nodegroups.go `BasicIgnoredLabels` (hostname, zone, region,
/// the beta zone/region labels) and aws_nodegroups.go `CreateAwsNodeInfoComparator`
/// (`eks.amazonaws.com/nodegroup`, `alpha.eksctl.io/*`, `k8s.amazonaws.com/eniConfig`,
/// `topology.ebs.csi.aws.com/zone`, the launch template labels).
pub const BALANCING_IGNORED_LABELS: [&str; 12] = [
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "eks.amazonaws.com/nodegroup",
    "alpha.eksctl.io/nodegroup-name",
    "alpha.eksctl.io/cluster-name",
    "alpha.eksctl.io/instance-id",
    "k8s.amazonaws.com/eniConfig",
    "topology.ebs.csi.aws.com/zone",
    "eks.amazonaws.com/sourceLaunchTemplateId",
];

impl NodeTemplate {
    /// `--balance-similar-node-groups`: same capacity and allocatable, same labels but for
    /// [`BALANCING_IGNORED_LABELS`]. upstream: compare_nodegroups.go `IsCloudProviderNodeInfoSimilar`
    /// (capacity and allocatable within small tolerances; capsim's templates of one instance type
    /// are identical, so equality is the test).
    pub fn similar_to(&self, other: &NodeTemplate) -> bool {
        let strip = |l: &Labels| -> Labels {
            l.iter()
                .filter(|(k, _)| {
                    !BALANCING_IGNORED_LABELS.contains(&k.as_str())
                        && k.as_str() != "eks.amazonaws.com/sourceLaunchTemplateVersion"
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        self.capacity == other.capacity
            && self.allocatable == other.allocatable
            && strip(&self.labels) == strip(&other.labels)
    }

    /// Builds the template; `None` when the instance type is not in the catalog.
    pub fn new(group: &NodeGroupSpec, catalog: &Catalog) -> Option<NodeTemplate> {
        let it = catalog.get(&group.instance_type)?;
        // An EKS managed node group's node labels (instance type, arch, os, zone, region, capacity
        // type, node group), then the group's own labels on top.
        let mut labels = it.managed_node_group_labels(group.capacity_type, &group.zone, &group.name);
        labels.extend(group.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        let price_hr = match group.capacity_type {
            CapacityType::OnDemand => it.od_price_hr,
            CapacityType::Spot => it.spot_price_hr.unwrap_or(it.od_price_hr),
        };
        Some(NodeTemplate {
            group: group.name.clone(),
            instance_type: it.name.clone(),
            capacity_type: group.capacity_type,
            zone: group.zone.clone(),
            labels,
            taints: group.taints.clone(),
            capacity: it.capacity(),
            allocatable: it.allocatable(),
            price_hr,
        })
    }

    /// What the world should launch for one node of this group.
    pub fn node_spec(&self) -> NodeSpec {
        NodeSpec {
            pool: self.group.clone(),
            instance_type: self.instance_type.clone(),
            capacity_type: self.capacity_type,
            zone: self.zone.clone(),
            price_hr: self.price_hr,
            labels: self.labels.clone(),
            taints: self.taints.clone(),
            allocatable: self.allocatable,
        }
    }

    /// Allocatable for ordinary pods once the DaemonSets that would land on the node run.
    pub fn allocatable_for_pods(&self, scenario: &Scenario) -> Resources {
        placement::allocatable_for_pods(
            self.allocatable,
            daemonset_requests(scenario, &self.labels, &self.taints),
        )
    }
}

/// Requests of the DaemonSet pods that would run on a node with these labels and taints, by the
/// same rule the world applies at registration ([`placement::daemonset_overhead`]).
pub fn daemonset_requests(scenario: &Scenario, labels: &Labels, taints: &[Taint]) -> Resources {
    placement::daemonset_overhead(&scenario.workloads, labels, taints)
}
