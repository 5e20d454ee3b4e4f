//! The cluster's live objects: pods and nodes, indexed by dense ids.

use crate::engine::{SimDuration, SimTime};
use crate::model::{CapacityType, Labels, Resources, Taint};

/// Index of a pod in `World::pods`. Pods are never removed from the vector, so ids are stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodId(pub u32);

/// Index of a node in `World::nodes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// Where a pod is in its life. Exactly one at any time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodPhase {
    /// Not bound to a node (waiting for the scheduler or for capacity).
    Pending,
    /// Bound; the kubelet is pulling the image and starting containers.
    Starting,
    /// Containers running, readiness probe not yet passed.
    Running,
    /// Ready: receives traffic.
    Ready,
    /// Deleted, still holding its node's resources during its grace period.
    Terminating,
    /// Gone (terminated, or deleted while Pending).
    Deleted,
    /// Ran to completion (batch pods).
    Succeeded,
}

impl PodPhase {
    pub fn as_str(&self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Starting => "Starting",
            PodPhase::Running => "Running",
            PodPhase::Ready => "Ready",
            PodPhase::Terminating => "Terminating",
            PodPhase::Deleted => "Deleted",
            PodPhase::Succeeded => "Succeeded",
        }
    }

    /// Holds resources on a node.
    pub fn is_bound(&self) -> bool {
        matches!(
            self,
            PodPhase::Starting | PodPhase::Running | PodPhase::Ready | PodPhase::Terminating
        )
    }

    /// Counted by its ReplicaSet (not being deleted, not finished).
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            PodPhase::Pending | PodPhase::Starting | PodPhase::Running | PodPhase::Ready
        )
    }
}

/// Why a pod left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteReason {
    ScaleDown,
    Preempted,
    Drained,
    NodeGone,
    Completed,
    /// The kubelet evicted it under node memory pressure.
    Evicted,
    /// The taint manager deleted it from an unreachable node (a zone outage).
    TaintEviction,
    /// The VPA updater evicted it to apply a new recommendation (its event reason).
    VpaEvicted,
}

impl DeleteReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            DeleteReason::ScaleDown => "ScaleDown",
            DeleteReason::Preempted => "Preempted",
            DeleteReason::Drained => "Drained",
            DeleteReason::NodeGone => "NodeGone",
            DeleteReason::Completed => "Completed",
            DeleteReason::Evicted => "Evicted",
            DeleteReason::TaintEviction => "TaintManagerEviction",
            DeleteReason::VpaEvicted => "EvictedByVPA",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Pod {
    pub id: PodId,
    /// Index of the workload in `Scenario::workloads`.
    pub workload: u32,
    /// n-th pod of its workload (names the pod and keys its random draws).
    pub ordinal: u32,
    /// The revision of its workload's template it was created from ([`super::Templates`]).
    pub revision: u32,
    /// The revision whose container requests and limits it runs with: its own, or the one a
    /// VPA in-place resize moved it to (labels, constraints and the rest stay `revision`'s).
    pub resources_rev: u32,
    pub priority: i32,
    pub requests: Resources,
    pub phase: PodPhase,
    pub node: Option<NodeId>,
    pub created: SimTime,
    /// First time the scheduler found no node for it (PodScheduled=False/Unschedulable).
    pub unschedulable_since: Option<SimTime>,
    pub scheduled: Option<SimTime>,
    pub started: Option<SimTime>,
    /// The last time it became Ready (its Ready condition's `lastTransitionTime`).
    pub ready: Option<SimTime>,
    /// The first time it became Ready.
    pub first_ready: Option<SimTime>,
    pub deleted: Option<SimTime>,
    pub delete_reason: Option<DeleteReason>,
    /// True when its image was already on the node at binding.
    pub image_cached: bool,
    /// When its image was there after its (first) binding: pulled, or already on the node.
    pub pulled: Option<SimTime>,
    /// When the scheduler first nominated a node for it after preempting victims there.
    pub nominated: Option<SimTime>,
    /// The workload's per-ready-pod CPU integral when the pod became ready (metrics window).
    pub usage_mark: f64,
    /// Batch pods: how long the containers run before the pod succeeds.
    pub run_for: Option<SimDuration>,
    /// Batch pods: when the work first arrived (a pod recreated after eviction keeps it).
    pub arrived: SimTime,
    /// Batch pods: when it succeeded.
    pub completed: Option<SimTime>,
    /// Created to replace a pod that was evicted (drain, spot reclaim, preemption, node loss).
    pub replacement: bool,
    /// Container restarts (OOM kills, failed startup probes), and the crashes since the
    /// CrashLoopBackOff last reset.
    pub restarts: u32,
    pub crashes: u32,
    pub last_crash: Option<SimTime>,
    /// Its last OOM kill: when, and how long the container had run (`lastTerminationState`).
    pub last_oom: Option<(SimTime, SimDuration)>,
    /// When the kubelet's pending start and readiness events are due: an event that no longer
    /// matches (the container crashed in between) is stale and ignored.
    pub start_due: Option<SimTime>,
    pub ready_due: Option<SimTime>,
    /// A StatefulSet pod's ordinal identity (its name is `<set>-<identity>`).
    pub identity: Option<u32>,
    /// The zone its StatefulSet volume is bound in: it may only run there (VolumeZone).
    pub volume_zone: Option<String>,
}

impl Pod {
    /// Its name: `<workload>-<identity>` for a StatefulSet pod, else `<workload>-<ordinal>`
    /// (five digits, so names sort in creation order).
    pub fn name(&self, workload: &str) -> String {
        match self.identity {
            Some(i) => format!("{workload}-{i}"),
            None => format!("{workload}-{:05}", self.ordinal),
        }
    }

    /// A new Pending pod of workload `workload` (its `ordinal`-th), created at `created`.
    pub fn new(id: PodId, workload: u32, ordinal: u32, priority: i32, requests: Resources, created: SimTime) -> Pod {
        Pod {
            id,
            workload,
            ordinal,
            revision: 0,
            resources_rev: 0,
            priority,
            requests,
            phase: PodPhase::Pending,
            node: None,
            created,
            unschedulable_since: None,
            scheduled: None,
            started: None,
            ready: None,
            first_ready: None,
            deleted: None,
            delete_reason: None,
            image_cached: false,
            pulled: None,
            nominated: None,
            usage_mark: 0.0,
            restarts: 0,
            crashes: 0,
            last_crash: None,
            last_oom: None,
            start_due: None,
            ready_due: None,
            run_for: None,
            arrived: created,
            completed: None,
            replacement: false,
            identity: None,
            volume_zone: None,
        }
    }
}

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeState {
    /// Requested from the cloud, instance not running yet.
    Launching,
    /// Instance running (billed), kubelet not registered.
    Booting,
    /// Registered, not Ready (CNI, DaemonSets).
    Registered,
    Ready,
    /// Was Ready, stopped posting status (a zone outage): the node lifecycle controller marked it
    /// NotReady/Unknown, its pods do not serve, nothing new lands on it.
    NotReady,
    /// Cordoned: no new pods; its pods are being evicted.
    Draining,
    /// Terminate requested; billed until gone.
    Terminating,
    Terminated,
}

impl NodeState {
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeState::Launching => "Launching",
            NodeState::Booting => "Booting",
            NodeState::Registered => "Registered",
            NodeState::Ready => "Ready",
            NodeState::NotReady => "NotReady",
            NodeState::Draining => "Draining",
            NodeState::Terminating => "Terminating",
            NodeState::Terminated => "Terminated",
        }
    }

    /// Not yet Ready but on its way (an "upcoming" node to autoscalers).
    pub fn is_upcoming(&self) -> bool {
        matches!(self, NodeState::Launching | NodeState::Booting | NodeState::Registered)
    }
}

#[derive(Clone, Debug)]
pub struct Node {
    pub id: NodeId,
    pub name: String,
    /// Static node set, node group or NodePool that owns it.
    pub pool: String,
    pub instance_type: String,
    pub capacity_type: CapacityType,
    pub zone: String,
    pub price_hr: f64,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    /// What the kubelet reports as allocatable (capacity − reserved − eviction threshold). Fixed.
    pub kubelet_allocatable: Resources,
    /// Room for ordinary pods: `kubelet_allocatable` less the requests of the DaemonSet pods on
    /// the node ([`crate::cluster::placement::allocatable_for_pods`]). DaemonSet pods start when
    /// the node registers, so before that no DaemonSet pod runs and it equals
    /// `kubelet_allocatable`; readers that plan for a node not yet registered subtract
    /// [`crate::cluster::placement::daemonset_overhead`] themselves.
    pub allocatable: Resources,
    /// DaemonSet pods' requests on this node.
    pub daemonset: Resources,
    /// Sum of bound pods' requests.
    pub allocated: Resources,
    pub pods: Vec<PodId>,
    pub state: NodeState,
    pub requested: SimTime,
    pub launched: Option<SimTime>,
    pub registered: Option<SimTime>,
    pub ready: Option<SimTime>,
    pub drain_started: Option<SimTime>,
    pub terminated: Option<SimTime>,
    /// Images on this node, by workload index, with the time each pull completes.
    pub images: Vec<(u32, SimTime)>,
    pub created_by: String,
    pub removed_by: String,
    /// Terminate call → instance gone, drawn at launch.
    pub terminate_after: SimDuration,
    /// When a spot instance is reclaimed (drawn at launch from its interruption band), if within
    /// the run.
    pub reclaim_at: Option<SimTime>,
    /// Its zone is out (a fault): it posts no status and its lifecycle stalls.
    pub unreachable: bool,
}

impl Node {
    /// A node in state Launching, requested at `requested`, as `spec` describes it (`labels`
    /// already complete).
    pub fn new(id: NodeId, name: String, spec: NodeSpec, requested: SimTime, created_by: String) -> Node {
        Node {
            id,
            name,
            pool: spec.pool,
            instance_type: spec.instance_type,
            capacity_type: spec.capacity_type,
            zone: spec.zone,
            price_hr: spec.price_hr,
            labels: spec.labels,
            taints: spec.taints,
            kubelet_allocatable: spec.allocatable,
            allocatable: spec.allocatable,
            daemonset: Resources::ZERO,
            allocated: Resources::ZERO,
            pods: Vec::new(),
            state: NodeState::Launching,
            requested,
            launched: None,
            registered: None,
            ready: None,
            drain_started: None,
            terminated: None,
            images: Vec::new(),
            created_by,
            removed_by: String::new(),
            terminate_after: SimDuration::ZERO,
            reclaim_at: None,
            unreachable: false,
        }
    }

    /// Accepts new pods.
    pub fn schedulable(&self) -> bool {
        self.state == NodeState::Ready
    }

    pub fn free(&self) -> Resources {
        self.allocatable - self.allocated
    }

    /// Billed: from instance launch to termination.
    pub fn is_billed(&self) -> bool {
        self.launched.is_some() && self.state != NodeState::Terminated
    }
}

/// What a provisioner asks the cloud for.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub pool: String,
    pub instance_type: String,
    pub capacity_type: CapacityType,
    pub zone: String,
    pub price_hr: f64,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    /// Kubelet allocatable (before DaemonSets).
    pub allocatable: Resources,
}
