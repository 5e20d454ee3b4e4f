//! Validated workload descriptions: what the scenario loader produces and the simulation consumes.

use super::labels::{Labels, NodeAffinity, Taint, Toleration};
use super::resources::Resources;
use crate::cloud::latency::Distribution;
use crate::engine::SimDuration;
use crate::traffic::TrafficModel;

/// One container of a pod template.
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    pub name: String,
    pub image: String,
    /// CPU millicores and memory bytes requested (`pods` is 0 here).
    pub requests: Resources,
    /// CPU and memory limits; `None` where the container sets none.
    pub limit_cpu_m: Option<i64>,
    pub limit_mem: Option<i64>,
    /// `readinessProbe` and `startupProbe` timing.
    pub probes: crate::physics::probes::ContainerProbes,
}

/// Everything the scheduler, kubelet and autoscalers need to know about a pod.
#[derive(Clone, Debug, PartialEq)]
pub struct PodTemplate {
    pub labels: Labels,
    pub annotations: Labels,
    pub containers: Vec<Container>,
    /// Restartable (sidecar) init containers count toward requests like regular containers.
    pub sidecars: Vec<Container>,
    pub node_selector: Labels,
    pub tolerations: Vec<Toleration>,
    pub affinity: NodeAffinity,
    /// The pod's namespace (its workload's): affinity terms and spread selectors count pods by it.
    pub namespace: String,
    /// Spread, pod (anti-)affinity and preferred node affinity ([`super::topology`]).
    pub constraints: super::topology::PodConstraints,
    pub priority_class: Option<String>,
    /// Resolved from the PriorityClass (0 when none, as upstream's default).
    pub priority: i32,
    /// `PreemptLowerPriority` (default) or `Never`.
    pub preempts: bool,
    /// `terminationGracePeriodSeconds` (default 30 s).
    pub termination_grace: SimDuration,
}

impl PodTemplate {
    /// The pod's effective request: sum over containers and sidecars, plus one pod slot.
    pub fn requests(&self) -> Resources {
        let mut r = Resources::new(0, 0, 1);
        for c in self.containers.iter().chain(&self.sidecars) {
            r.cpu_m += c.requests.cpu_m;
            r.mem += c.requests.mem;
        }
        r
    }

    /// Sum of CPU limits, `None` if any container has no CPU limit.
    pub fn limit_cpu_m(&self) -> Option<i64> {
        self.containers
            .iter()
            .chain(&self.sidecars)
            .map(|c| c.limit_cpu_m)
            .sum()
    }

    /// Sum of memory limits, `None` if any container has no memory limit.
    pub fn limit_mem(&self) -> Option<i64> {
        self.containers.iter().chain(&self.sidecars).map(|c| c.limit_mem).sum()
    }

    /// The first container's image (the one whose pull dominates start-up).
    pub fn image(&self) -> &str {
        self.containers.first().map(|c| c.image.as_str()).unwrap_or("")
    }
}

/// How a ready pod turns requests per second into CPU and memory use.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceModel {
    /// CPU millicores per request/s of load (e.g. `2m` = 2 ms of CPU per request).
    pub cpu_per_rps_m: f64,
    /// Memory bytes per request/s of load.
    pub mem_per_rps: f64,
    /// Usage of a pod with no load.
    pub idle_cpu_m: f64,
    pub idle_mem: f64,
    /// An explicit ceiling on requests/s one pod serves; `None` derives it from the CPU it gets.
    pub max_rps_per_pod: Option<f64>,
    /// Latency every request has besides queueing for CPU (downstream calls, I/O), seconds.
    pub base_latency_s: f64,
    /// The client's timeout: slower requests count as errors, seconds.
    pub timeout_s: f64,
    /// A queue worker (`spec.workloads.<name>.queue`): traffic is messages arriving in a queue,
    /// and what the ready pods cannot process yet waits there instead of being lost.
    pub queue: Option<QueueModel>,
}

/// A message queue in front of a workload's pods.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueModel {
    /// The queue's name, as triggers and metric series name it (default: the workload's).
    pub name: String,
    /// The oldest message's age the team promises not to exceed, seconds (reported against).
    pub age_slo_s: Option<f64>,
}

impl ServiceModel {
    /// Its pods want no CPU and no memory in any phase and serve nothing (no idle use, no
    /// traffic): batch pods and placeholders without a service model.
    pub fn is_inert(&self, has_traffic: bool) -> bool {
        !has_traffic && self.idle_cpu_m == 0.0 && self.idle_mem == 0.0
    }
}

impl Default for ServiceModel {
    fn default() -> Self {
        ServiceModel {
            cpu_per_rps_m: 0.0,
            mem_per_rps: 0.0,
            idle_cpu_m: 0.0,
            idle_mem: 0.0,
            max_rps_per_pod: None,
            base_latency_s: 0.0,
            timeout_s: crate::scenario::defaults::REQUEST_TIMEOUT.as_secs_f64(),
            queue: None,
        }
    }
}

/// Stage latencies of a pod between binding and Ready.
#[derive(Clone, Debug, PartialEq)]
pub struct StartupLatency {
    /// Image pull on a node that has not pulled this image yet.
    pub image_pull: Distribution,
    /// Image pull when the node already has the image (usually zero).
    pub image_pull_cached: Distribution,
    /// Container creation and start.
    pub container_start: Distribution,
    /// From container start until the pod is Ready, when the Scenario sets it (`startup.ready`);
    /// `None` derives it from the manifest's probes and `warmup` ([`crate::physics::probes`]).
    pub readiness: Option<Distribution>,
    /// From container start until the application answers its probes.
    pub warmup: Distribution,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    /// Pods with ordinal identities ([`StatefulSpec`]).
    StatefulSet,
    DaemonSet,
    /// Pods that arrive over time and finish (see `Workload::batch`).
    Batch,
}

impl WorkloadKind {
    /// Kept at `replicas` pods by a controller an HPA can scale: Deployments and StatefulSets.
    pub fn is_replicated(&self) -> bool {
        matches!(self, WorkloadKind::Deployment | WorkloadKind::StatefulSet)
    }

    /// The manifest kind (`Batch` is a Job or a capsim batch workload).
    pub fn as_str(&self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Batch => "Job",
        }
    }
}

/// What a StatefulSet adds to a replicated workload.
/// upstream: pkg/controller/statefulset/stateful_set_control.go.
#[derive(Clone, Debug, PartialEq)]
pub struct StatefulSpec {
    /// `podManagementPolicy: Parallel`; `OrderedReady` (default) creates ordinal i only once
    /// 0..i are Running and Ready, and removes the highest ordinal only once the others are.
    pub parallel: bool,
    /// `ordinals.start`.
    pub ordinal_start: u32,
    /// `volumeClaimTemplates` is set: each ordinal's volume is bound in the zone it was first
    /// scheduled in, and the pod may only run there afterwards (VolumeZone).
    pub zonal_volumes: bool,
    /// `persistentVolumeClaimRetentionPolicy.whenScaled: Delete`.
    pub delete_when_scaled: bool,
}

/// A Deployment (or DaemonSet) with its traffic and service model.
#[derive(Clone, Debug)]
pub struct Workload {
    pub name: String,
    pub namespace: String,
    pub kind: WorkloadKind,
    /// Initial `spec.replicas` (Deployments; DaemonSets ignore it).
    pub replicas: u32,
    pub template: PodTemplate,
    /// Requests/s arriving at the workload; `None` for workloads with no traffic (e.g. placeholders).
    pub traffic: Option<TrafficModel>,
    pub service: ServiceModel,
    pub startup: StartupLatency,
    /// Arrivals of a `Batch` workload.
    pub batch: Option<super::batch::BatchArrivals>,
    /// A StatefulSet's policy and volumes.
    pub stateful: Option<StatefulSpec>,
}

/// Static nodes: `count` nodes of one instance type present from time zero.
#[derive(Clone, Debug, PartialEq)]
pub struct StaticNodes {
    pub name: String,
    pub instance_type: String,
    pub count: u32,
    pub capacity_type: CapacityType,
    pub zone: String,
    pub labels: Labels,
    pub taints: Vec<Taint>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CapacityType {
    OnDemand,
    Spot,
}

impl CapacityType {
    pub fn as_str(&self) -> &'static str {
        match self {
            CapacityType::OnDemand => "on-demand",
            CapacityType::Spot => "spot",
        }
    }
}

/// A `policy/v1 PodDisruptionBudget`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct DisruptionBudget {
    pub name: String,
    pub namespace: String,
    pub selector: Labels,
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
}

impl DisruptionBudget {
    /// Does the budget select the workload's pods? Same namespace, and its selector matches the
    /// pod template's labels. upstream: pkg/controller/disruption (`getPodsForPdb`), as the
    /// eviction API, Cluster Autoscaler and Karpenter apply it.
    pub fn covers(&self, wl: &Workload) -> bool {
        self.namespace == wl.namespace && super::labels::selector_matches(&self.selector, &wl.template.labels)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IntOrPercent {
    Int(i64),
    Percent(f64),
}

/// Scheduler scoring strategy (NodeResourcesFit `scoringStrategy.type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// upstream default: pkg/scheduler/apis/config/v1/defaults.go
    #[default]
    LeastAllocated,
    MostAllocated,
}
