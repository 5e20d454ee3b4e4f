//! Builders shared by every test: scenarios, workloads and nodes with sensible defaults, so a test
//! states only what it is about. (Public so integration tests and benches can use it.)

use crate::cloud::{Catalog, Distribution};
use crate::engine::SimDuration;
use crate::model::labels::{TaintEffect, TolerationOperator};
use crate::model::{
    CapacityType, Container, Labels, NodeAffinity, PodTemplate, Resources, ScoringStrategy, ServiceModel,
    StartupLatency, StaticNodes, Taint, Toleration, Workload, WorkloadKind,
};
use crate::scenario::{NodeLatency, Scenario};
use crate::traffic::{TrafficModel, TrafficSpec};
use std::sync::Arc;

pub const MI: i64 = 1024 * 1024;

pub fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

pub fn constant(s: u64) -> Distribution {
    Distribution::constant(SimDuration::from_secs(s))
}

/// A scenario with no nodes and no workloads: 1 h, seed 1, 10 s resolution, bundled catalog.
pub fn scenario() -> Scenario {
    Scenario {
        name: "test".into(),
        duration: secs(3600),
        seed: 1,
        resolution: secs(10),
        catalog: Arc::new(Catalog::bundled()),
        workloads: Vec::new(),
        pdbs: Vec::new(),
        hpas: Vec::new(),
        vpas: Vec::new(),
        series: Vec::new(),
        scaled_objects: Vec::new(),
        scaled_jobs: Vec::new(),
        nodepools: Vec::new(),
        static_nodes: Vec::new(),
        scoring: ScoringStrategy::LeastAllocated,
        node_latency: NodeLatency {
            launch: constant(30),
            register: constant(10),
            ready: constant(10),
            terminate: constant(30),
        },
        node_latency_by_type: Default::default(),
        warnings: Vec::new(),
        documents: Vec::new(),
        provisioner: crate::controllers::provisioner::ProvisionerConfig::Static,
        controller_manager: None,
        priority_classes: Vec::new(),
        base_dir: None,
        metric_resolution: None,
        spot_interruptions: true,
        // Decision tests build their own starting state.
        warm_start: false,
        rule_groups: Vec::new(),
        warmup: SimDuration::ZERO,
        faults: Vec::new(),
    }
}

/// `count` static nodes of `instance_type` in pool `name`.
pub fn nodes(name: &str, instance_type: &str, count: u32) -> StaticNodes {
    StaticNodes {
        name: name.into(),
        instance_type: instance_type.into(),
        count,
        capacity_type: CapacityType::OnDemand,
        zone: "us-east-1a".into(),
        labels: Labels::new(),
        taints: Vec::new(),
    }
}

pub fn taint(key: &str, value: &str) -> Taint {
    Taint {
        key: key.into(),
        value: value.into(),
        effect: TaintEffect::NoSchedule,
    }
}

pub fn toleration(key: &str, value: &str) -> Toleration {
    Toleration {
        key: key.into(),
        operator: TolerationOperator::Equal,
        value: value.into(),
        effect: None,
        seconds: None,
    }
}

/// A pod template of one container requesting `cpu_m` millicores and `mem` bytes, no labels,
/// limits, selectors or tolerations, priority 0, 30 s grace.
pub fn pod_template(cpu_m: i64, mem: i64) -> PodTemplate {
    PodTemplate {
        labels: Labels::new(),
        annotations: Labels::new(),
        containers: vec![Container {
            name: "main".into(),
            image: "example.com/app:1".into(),
            requests: Resources::new(cpu_m, mem, 0),
            limit_cpu_m: None,
            limit_mem: None,
            probes: Default::default(),
        }],
        sidecars: Vec::new(),
        node_selector: Labels::new(),
        tolerations: Vec::new(),
        affinity: NodeAffinity::default(),
        namespace: "default".into(),
        constraints: Default::default(),
        priority_class: None,
        priority: 0,
        preempts: true,
        termination_grace: secs(30),
    }
}

/// Start-up with every stage instantaneous (for decision tests that do not look at kubelet timing).
pub fn instant_startup() -> StartupLatency {
    StartupLatency {
        image_pull: constant(0),
        image_pull_cached: constant(0),
        container_start: constant(0),
        readiness: Some(constant(0)),
        warmup: constant(0),
    }
}

/// A Deployment of `replicas` pods requesting `cpu_m` millicores and `mem_mi` MiB, no traffic,
/// start-up 1 s pull (cached 0 s), 1 s start, 1 s readiness.
pub fn deployment(name: &str, replicas: u32, cpu_m: i64, mem_mi: i64) -> Workload {
    let mut labels = Labels::new();
    labels.insert("app".into(), name.into());
    let base = pod_template(cpu_m, mem_mi * MI);
    Workload {
        name: name.into(),
        namespace: "default".into(),
        kind: WorkloadKind::Deployment,
        replicas,
        template: PodTemplate {
            labels,
            containers: vec![Container {
                image: format!("example.com/{name}:1"),
                ..base.containers[0].clone()
            }],
            ..base
        },
        traffic: None,
        service: ServiceModel::default(),
        startup: StartupLatency {
            image_pull: constant(1),
            image_pull_cached: constant(0),
            container_start: constant(1),
            readiness: Some(constant(1)),
            warmup: constant(0),
        },
        batch: None,
        stateful: None,
    }
}

/// Traffic from the YAML form users write (`{"base": 100, ...}` as JSON).
pub fn traffic(json: serde_json::Value, key: &str) -> TrafficModel {
    let spec: TrafficSpec = serde_json::from_value(json).expect("test traffic spec parses");
    TrafficModel::from_spec(&spec, key).expect("test traffic spec is valid")
}

/// How [`Harness::step`] carries out a provisioner's `Drain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrainModel {
    /// Evictions succeed and the instance goes at once: the node is Terminated in the same step
    /// (for tests about which node a scale-down picks, not how long it takes).
    Immediate,
    /// The node is cordoned (`Draining`) and stays so (for tests that follow a replacement).
    Cordon,
}

/// A cluster a test drives a provisioner over, reconcile by reconcile, without the event queue:
/// the world's own [`Cluster`](crate::cluster::Cluster) (so launched nodes are named and labelled
/// exactly as in a simulation), the view the world builds, and the notices the world sends
/// (`Launched` for each launch, `Terminated`). Stage latencies are skipped: a test moves nodes on
/// itself ([`Harness::make_ready`]). Shared by the Cluster Autoscaler and Karpenter tests.
pub struct Harness {
    pub sc: Scenario,
    pub cluster: crate::cluster::Cluster,
    pub templates: crate::cluster::Templates,
    /// What each PodDisruptionBudget allows (set by the test).
    pub pdb_allowed: Vec<i64>,
    pub rngs: crate::engine::Rngs,
    /// Every decision record returned so far.
    pub records: Vec<crate::controllers::provisioner::DecisionRecord>,
    pub drain: DrainModel,
}

impl std::ops::Deref for Harness {
    type Target = crate::cluster::Cluster;
    fn deref(&self) -> &Self::Target {
        &self.cluster
    }
}

impl std::ops::DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.cluster
    }
}

impl Harness {
    /// An empty cluster for `sc` (every PDB allowing one disruption).
    pub fn new(sc: Scenario, seed: u64, drain: DrainModel) -> Harness {
        Harness {
            pdb_allowed: vec![1; sc.pdbs.len()],
            templates: crate::cluster::Templates::new(&sc.workloads),
            cluster: Default::default(),
            rngs: crate::engine::Rngs::new(seed),
            records: Vec::new(),
            sc,
            drain,
        }
    }

    /// Adds a node in state Launching, requested at `now` (as the world does).
    pub fn add_node(&mut self, spec: crate::cluster::NodeSpec, now: crate::engine::SimTime) -> crate::cluster::NodeId {
        self.cluster.add_node(spec, now, "test".into())
    }

    /// Marks a node launched, registered and Ready at `now` (stages not yet passed).
    pub fn make_ready(&mut self, id: crate::cluster::NodeId, now: crate::engine::SimTime) {
        let n = &mut self.cluster.nodes[id.0 as usize];
        n.state = crate::cluster::NodeState::Ready;
        n.launched.get_or_insert(now);
        n.registered.get_or_insert(now);
        n.ready = Some(now);
    }

    /// A pending pod of workload `wl` (its current template), created at `created` and marked
    /// unschedulable. Its ordinal is its id.
    pub fn pending_pod(&mut self, wl: u32, created: crate::engine::SimTime) -> crate::cluster::PodId {
        use crate::cluster::{Pod, PodId};
        let id = PodId(self.cluster.pods.len() as u32);
        let (revision, tmpl) = self.templates.current(wl as usize);
        self.cluster.pods.push(Pod {
            unschedulable_since: Some(created),
            revision,
            ..Pod::new(id, wl, id.0, tmpl.priority, tmpl.requests(), created)
        });
        id
    }

    /// Binds a pod to a node as Ready.
    pub fn bind(&mut self, p: crate::cluster::PodId, n: crate::cluster::NodeId) {
        let pod = &mut self.cluster.pods[p.0 as usize];
        pod.phase = crate::cluster::PodPhase::Ready;
        pod.node = Some(n);
        pod.unschedulable_since = None;
        let node = &mut self.cluster.nodes[n.0 as usize];
        node.allocated += pod.requests;
        node.pods.push(p);
    }

    /// Deletes a pod, freeing its node's room.
    pub fn unbind(&mut self, p: crate::cluster::PodId) {
        let pod = &mut self.cluster.pods[p.0 as usize];
        if let Some(n) = pod.node.take() {
            let node = &mut self.cluster.nodes[n.0 as usize];
            node.allocated -= pod.requests;
            node.pods.retain(|&x| x != p);
        }
        pod.phase = crate::cluster::PodPhase::Deleted;
    }

    /// Pending pods, in id order.
    pub fn unschedulable(&self) -> Vec<crate::cluster::PodId> {
        self.cluster
            .pods
            .iter()
            .filter(|p| p.phase == crate::cluster::PodPhase::Pending)
            .map(|p| p.id)
            .collect()
    }

    /// One reconcile of `prov` at `now`; applies its actions (see [`DrainModel`]) and returns
    /// them with its records.
    pub fn step(
        &mut self,
        prov: &mut dyn crate::controllers::provisioner::Provisioner,
        now: crate::engine::SimTime,
    ) -> (
        Vec<crate::controllers::provisioner::Action>,
        Vec<crate::controllers::provisioner::DecisionRecord>,
    ) {
        use crate::cluster::NodeState;
        use crate::controllers::provisioner::{Action, NodeNotice};
        // A test may end a node by setting its state: the live list follows the states.
        let live = self
            .cluster
            .nodes
            .iter()
            .filter(|n| n.state != NodeState::Terminated)
            .map(|n| n.id)
            .collect();
        self.cluster.live_nodes = live;
        let unsched = self.unschedulable();
        let view = self
            .cluster
            .view(now, &self.sc, &unsched, &self.pdb_allowed, &self.templates);
        let (actions, records) = prov.reconcile(&view, &self.rngs);
        self.records.extend(records.iter().cloned());
        let component = prov.component();
        for a in &actions {
            match a {
                Action::Launch { id, spec, .. } => {
                    let node = self.cluster.add_node(spec.clone(), now, component.into());
                    prov.notice(&NodeNotice::Launched { id: *id, node }, now);
                }
                Action::Terminate { node, .. } => self.terminate(prov, *node, now),
                Action::Drain { node, .. } => match self.drain {
                    DrainModel::Immediate => self.terminate(prov, *node, now),
                    DrainModel::Cordon => self.cluster.nodes[node.0 as usize].state = NodeState::Draining,
                },
                Action::Cordon { .. } | Action::Uncordon { .. } => {}
            }
        }
        (actions, records)
    }

    fn terminate(
        &mut self,
        prov: &mut dyn crate::controllers::provisioner::Provisioner,
        node: crate::cluster::NodeId,
        now: crate::engine::SimTime,
    ) {
        let n = &mut self.cluster.nodes[node.0 as usize];
        n.state = crate::cluster::NodeState::Terminated;
        n.terminated = Some(now);
        self.cluster.remove_live(node);
        prov.notice(&crate::controllers::provisioner::NodeNotice::Terminated(node), now);
    }
}
