//! Every default the scenario loader applies, in one place, each naming its source.
//!
//! Upstream Kubernetes defaults cite the file that sets them; capsim's own choices say so and cite the
//! figures they were derived from (`shared/research-notes/latency.md`, "latency notes" below).

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
/// The `tolerationSeconds` of the not-ready and unreachable NoExecute tolerations every pod gets.
/// upstream: plugin/pkg/admission/defaulttolerationseconds (`--default-not-ready-toleration-seconds`,
/// `--default-unreachable-toleration-seconds`, both 300).
pub const DEFAULT_NOT_READY_TOLERATION_SECONDS: i64 = 300;

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

/// Pod start-up stages when a workload does not set `startup`: the one set of defaults, with their
/// sources, in [`crate::cloud::latency::defaults::pod_startup`].
pub fn startup_latency() -> StartupLatency {
    let p = crate::cloud::latency::defaults::pod_startup();
    StartupLatency {
        image_pull: p.image_pull,
        image_pull_cached: p.image_pull_cached,
        container_start: p.container_start,
        readiness: None,
        warmup: p.warmup,
    }
}

/// `spec.workloads.<name>.latency.timeout`: the client's request timeout. capsim choice: Envoy's
/// default route timeout, 15 s (envoy api/envoy/config/route/v3/route_components.proto
/// `RouteAction.timeout`: "defaults to 15 seconds"), what Istio and most Envoy-based ingresses
/// apply when nothing is set.
pub const REQUEST_TIMEOUT: SimDuration = SimDuration::from_secs(15);

/// `spec.start`: the state a run begins in. capsim choice: `warm` — the steady state the t = 0
/// demand implies, so a scenario measures its traffic, not an artificial cold start (see
/// `sim::warm`).
pub const START_WARM: bool = true;

// ---------------------------------------------------------------------------------------------------
// Node latencies (`spec.nodeLatency`): defaults depend on the provisioner
// ---------------------------------------------------------------------------------------------------

/// Node stage latencies when `spec.nodeLatency` does not set them: Karpenter's (EC2 CreateFleet)
/// when the scenario's provisioner is Karpenter, else an EKS managed node group's (ASG-backed, used
/// by Cluster Autoscaler and for static nodes). The figures and their sources live in
/// [`crate::cloud::latency::defaults`].
pub fn node_latency_for(karpenter: bool) -> NodeLatency {
    let n = if karpenter {
        crate::cloud::latency::defaults::karpenter()
    } else {
        crate::cloud::latency::defaults::eks_managed_node_group()
    };
    NodeLatency {
        launch: n.launch,
        register: n.register,
        ready: n.ready,
        terminate: n.terminate,
    }
}

/// The defaults without Karpenter.
pub fn node_latency() -> NodeLatency {
    node_latency_for(false)
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

/// How deep includes may nest (a scenario including a file that includes another ...), and how
/// deep an included directory is walked. capsim choice: real layouts are 2–4 levels.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// Files one scenario may include in all. capsim choice: a large `helm template` output split per
/// resource is a few thousand files.
pub const MAX_INCLUDE_FILES: usize = 10_000;

/// Directory entries looked at while expanding included directories: stops `include: [..]` on a
/// huge tree early, naming the include, instead of walking it all. capsim choice.
pub const MAX_INCLUDE_ENTRIES: usize = 100_000;

/// Documents per file (a `helm template` of a large chart has a few hundred).
pub const MAX_YAML_DOCUMENTS: usize = 10_000;

/// Static nodes in all `spec.nodes` sets. capsim choice: ten times the largest shipped fleet
/// (fleet-xl peaks near 5,000 nodes); a miscounted `count: 1000000000` is an error, not a hang.
pub const MAX_STATIC_NODES: u64 = 50_000;

/// Initial `spec.replicas` of one Deployment. capsim choice: twice fleet-xl's largest service; a
/// stray `replicas: 1000000000` is an error, not an out-of-memory kill.
pub const MAX_REPLICAS: u32 = 100_000;

/// Pods one run may create, and nodes it may launch, before it stops with an error naming what
/// grew (a runaway HPA, a node group with no real bound). capsim choice: far above fleet-xl's
/// ~10⁶ pods over a day and ~5,000 nodes, far below what exhausts a 24 GiB machine (a pod's
/// records take ~1 KB).
pub const MAX_PODS_PER_RUN: usize = 5_000_000;
pub const MAX_NODES_PER_RUN: usize = 200_000;

/// Longest simulated span. capsim choice: a year and a day covers a year of replayed traffic;
/// longer spans only grow memory (records are kept for the whole run).
pub const MAX_DURATION: crate::engine::SimDuration = crate::engine::SimDuration::from_mins(366 * 24 * 60);

/// Most timeline rows per workload (`spec.duration / spec.resolution`). capsim choice: 10⁶ rows is
/// a day at 0.1 s or a year at 32 s, and ~100 MB of timeline per workload.
pub const MAX_TIMELINE_SAMPLES: u64 = 1_000_000;

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
