//! Every default the scenario loader applies, in one place, each naming its source.
//!
//! Upstream Kubernetes defaults cite the file that sets them; capsim's own choices say so and cite the
//! figures they were derived from (`shared/research-notes/latency.md`, "latency notes" below).

use crate::cloud::Distribution;
use crate::engine::SimDuration;
use crate::model::{CapacityType, ScoringStrategy, StartupLatency};
use crate::scenario::NodeLatency;

// ---------------------------------------------------------------------------------------------------
// Scenario document (capsim's own schema)
// ---------------------------------------------------------------------------------------------------

/// `spec.resolution`: timeline sampling interval. capsim choice: 10 s matches the Cluster Autoscaler
/// scan interval (`--scan-interval`, 10 s) and sits between metrics-server's 15 s resolution and the
/// HPA's 15 s sync period, so every controller step shows up in the timeline.
pub const RESOLUTION: SimDuration = SimDuration::from_secs(10);

/// `spec.seed`: capsim choice. Runs are a pure function of (scenario, seed); 0 is just a fixed start.
pub const SEED: u64 = 0;

/// `spec.catalog`: the bundled AWS table (`shared/data/aws-instance-types.csv`, us-east-1).
pub const CATALOG: &str = "aws";

/// `spec.nodes[].count`: capsim choice, one node.
pub const STATIC_NODE_COUNT: u32 = 1;

/// `spec.nodes[].capacityType`: on-demand, as EKS managed node groups default
/// (`capacityType: ON_DEMAND` in the EKS CreateNodegroup API).
pub const CAPACITY_TYPE: CapacityType = CapacityType::OnDemand;

/// `spec.nodes[].zone`: the bundled catalog's prices are for us-east-1, so its first zone.
pub const ZONE: &str = "us-east-1a";

/// `spec.scheduler.scoring`: upstream default NodeResourcesFit scoring strategy.
/// upstream: kubernetes/kubernetes pkg/scheduler/apis/config/v1/defaults.go (`LeastAllocated`).
pub const SCORING: ScoringStrategy = ScoringStrategy::LeastAllocated;

// ---------------------------------------------------------------------------------------------------
// Kubernetes API defaults
// ---------------------------------------------------------------------------------------------------

/// `metadata.namespace` when a namespaced object omits it (what `kubectl apply` does with no
/// `--namespace` and no context namespace).
pub const NAMESPACE: &str = "default";

/// Deployment `spec.replicas` when omitted.
/// upstream: kubernetes/kubernetes pkg/apis/apps/v1/defaults.go `SetDefaults_Deployment` (replicas = 1).
pub const DEPLOYMENT_REPLICAS: i32 = 1;

/// Pod `terminationGracePeriodSeconds` when omitted.
/// upstream: kubernetes/kubernetes pkg/apis/core/v1/defaults.go `SetDefaults_PodSpec`
/// (`DefaultTerminationGracePeriodSeconds` = 30).
pub const TERMINATION_GRACE_SECONDS: i64 = 30;

/// Pod priority when it names no PriorityClass and no class is `globalDefault`.
/// upstream: kubernetes/kubernetes pkg/apis/scheduling/types.go `DefaultPriorityWhenNoDefaultClassExists` = 0.
pub const PRIORITY: i32 = 0;

/// PriorityClass `preemptionPolicy` when omitted: `PreemptLowerPriority`.
/// upstream: kubernetes/kubernetes pkg/apis/scheduling/v1/defaults.go `SetDefaults_PriorityClass`.
pub const PREEMPTS: bool = true;

/// The built-in PriorityClasses every cluster has: (name, value).
/// upstream: kubernetes/kubernetes pkg/apis/scheduling/types.go (`SystemCriticalPriority` = 2e9;
/// `system-node-critical` = SystemCriticalPriority + 1000), created by the apiserver's
/// scheduling REST storage (`SystemPriorityClasses`). Both preempt (`PreemptLowerPriority`).
pub const SYSTEM_PRIORITY_CLASSES: [(&str, i32); 2] = [
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];

/// Highest `value` a user-defined PriorityClass may have.
/// upstream: kubernetes/kubernetes pkg/apis/scheduling/types.go `HighestUserDefinablePriority` = 1e9.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;

// ---------------------------------------------------------------------------------------------------
// Pod start-up latencies (per workload, `spec.workloads.<name>.startup`)
// ---------------------------------------------------------------------------------------------------

/// Image pull on a node that does not have the image yet. capsim choice: 8 s, a typical
/// few-hundred-MB image from an in-region registry. latency notes §5: 0 s cached, several minutes for
/// images over ~1 GiB; pulling is ~76 % of container start time (Slacker, FAST '16).
pub const IMAGE_PULL: SimDuration = SimDuration::from_secs(8);

/// Image pull when the node already has the image: 0 s (latency notes §7 "0 s (cached)"; the kubelet's
/// `imagePullPolicy: IfNotPresent` skips the registry).
pub const IMAGE_PULL_CACHED: SimDuration = SimDuration::ZERO;

/// Container creation and start (sandbox, runtime, process start). capsim choice: 1 s; in the
/// node-latency-for-k8s traces (latency notes §4) the first pod is Ready within ~1 s of node Ready.
pub const CONTAINER_START: SimDuration = SimDuration::from_secs(1);

/// Container start → readiness probe passes. One readiness-probe period: upstream default
/// `periodSeconds` = 10 (kubernetes/kubernetes pkg/apis/core/v1/defaults.go `SetDefaults_Probe`).
pub const READINESS: SimDuration = SimDuration::from_secs(10);

pub fn startup_latency() -> StartupLatency {
    StartupLatency {
        image_pull: Distribution::constant(IMAGE_PULL),
        image_pull_cached: Distribution::constant(IMAGE_PULL_CACHED),
        container_start: Distribution::constant(CONTAINER_START),
        readiness: Distribution::constant(READINESS),
    }
}

// ---------------------------------------------------------------------------------------------------
// Node latencies (`spec.nodeLatency`), realistic for EKS managed node groups (ASG-backed)
// ---------------------------------------------------------------------------------------------------

/// Launch request → instance `running` (billing starts). capsim choice, 40 s: the ASG starts a scaling
/// activity some seconds after its desired capacity changes, RunInstances takes ~1.5 s and
/// pending → running ~5-17 s (latency notes §4: ec2-boot-bench, ec2-coldboot-research).
pub const NODE_LAUNCH: SimDuration = SimDuration::from_secs(40);

/// Instance running → kubelet registered. capsim choice, 40 s: boot, cloud-init and the EKS bootstrap
/// (nodeadm / bootstrap.sh) before the kubelet registers; ~8 s after VM init on a lean AMI in the
/// node-latency-for-k8s traces, longer with the EKS-optimized AMI's bootstrap and larger root volumes
/// (latency notes §4, "bimodal boots").
pub const NODE_REGISTER: SimDuration = SimDuration::from_secs(40);

/// Registered → node `Ready` (VPC CNI initialized, DaemonSets). capsim choice, 20 s: 5-10 s for the CNI
/// in node-latency-for-k8s (latency notes §4) plus DaemonSet image pulls. Together with launch and
/// register this gives 100 s from request to Ready, inside the 45 s-2 min typical range of latency
/// notes §7 for Cluster Autoscaler on EKS (before the scan-loop delay).
pub const NODE_READY: SimDuration = SimDuration::from_secs(20);

/// Terminate call → billing ends. 5 s: EC2 stops billing as soon as the instance enters `shutting-down`
/// (docs.aws.amazon.com AWSEC2 UserGuide, "Troubleshoot instance termination"), a few seconds after the
/// TerminateInstances / TerminateInstanceInAutoScalingGroup call.
pub const NODE_TERMINATE: SimDuration = SimDuration::from_secs(5);

pub fn node_latency() -> NodeLatency {
    NodeLatency {
        launch: Distribution::constant(NODE_LAUNCH),
        register: Distribution::constant(NODE_REGISTER),
        ready: Distribution::constant(NODE_READY),
        terminate: Distribution::constant(NODE_TERMINATE),
    }
}

// ---------------------------------------------------------------------------------------------------
// Input limits (defence against huge inputs and YAML alias bombs)
// ---------------------------------------------------------------------------------------------------

/// Largest single file read. capsim choice: 32 MiB, far above any hand-written or `helm template`
/// output, far below what would exhaust memory.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Largest total over the scenario and all its includes. capsim choice.
pub const MAX_TOTAL_BYTES: u64 = 128 * 1024 * 1024;

/// YAML nesting depth. Kubernetes manifests nest ~15 levels (a Deployment's affinity terms); 64 is the
/// serde-saphyr default and protects the stack.
pub const MAX_YAML_DEPTH: usize = 64;

/// YAML nodes (scalars, sequences, mappings) per file, after alias expansion. Counting expanded nodes
/// is what stops a "billion laughs" alias bomb: a 1 KiB bomb expands to ~10^9 nodes.
pub const MAX_YAML_NODES: usize = 1_000_000;

/// Events replayed from YAML aliases (`*name`) per file. Manifests rarely use aliases at all; a
/// "billion laughs" bomb needs millions of replays, so it trips this limit within milliseconds.
pub const MAX_ALIAS_REPLAYED_EVENTS: usize = 100_000;

/// Documents per file (a `helm template` of a large chart has a few hundred).
pub const MAX_YAML_DOCUMENTS: usize = 10_000;

/// serde-saphyr options used for every scenario file and `--set` value.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_YAML_DEPTH;
    budget.max_nodes = MAX_YAML_NODES;
    budget.max_documents = MAX_YAML_DOCUMENTS;
    budget.max_reader_input_bytes = Some(MAX_FILE_BYTES as usize);
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    alias_limits.max_total_replayed_events = MAX_ALIAS_REPLAYED_EVENTS;
    serde_saphyr::options! {
        budget: Some(budget),
        alias_limits: alias_limits,
        // Plain messages with line and column; the loader adds the file name.
        with_snippet: false,
        // YAML 1.2 booleans only: `y`, `on`, `no` stay strings (label values, the "Norway problem").
        strict_booleans: true,
    }
}

/// Spot instances are interrupted at their Spot Advisor band's rate unless the scenario says
/// `spotInterruptions: false` (capsim's choice: model what the cloud does).
pub const SPOT_INTERRUPTIONS: bool = true;
