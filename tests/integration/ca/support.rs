//! Small builders for Cluster Autoscaler tests: a catalog, a scenario, and a toy world that
//! applies CA's actions the way the simulation does (Launch adds a Launching node, Terminate and
//! Drain remove it), so tests drive `reconcile` loop by loop.
#![allow(dead_code)]

use capsim::cloud::{Catalog, Distribution, InstanceType};
use capsim::cluster::ClusterView;
use capsim::cluster::NodeSpec;
use capsim::cluster::{Node, NodeId, NodeState, Pod, PodId, PodPhase};
use capsim::controllers::cluster_autoscaler::flags::parse_flags;
use capsim::controllers::cluster_autoscaler::node_group::NodeGroupSpec;
use capsim::controllers::cluster_autoscaler::{ClusterAutoscaler, expander::priority::PriorityConfig};
use capsim::controllers::provisioner::{Action, DecisionRecord, NodeNotice, Provisioner};
use capsim::engine::{Rngs, SimDuration, SimTime};
use capsim::model::resources::{GIB, MIB};
use capsim::model::{DisruptionBudget, PodTemplate, ServiceModel, Workload, WorkloadKind};
use capsim::scenario::{NodeLatency, Scenario};
use std::sync::Arc;

/// The one place tests build instance types (the catalog API is being rewritten upstream of us).
pub fn catalog() -> Catalog {
    use capsim::cloud::catalog::Arch;
    use capsim::cloud::spot::InterruptionBand;
    let it = |name: &str, vcpu: u32, mem_gib: i64, od: f64, spot: f64| {
        InstanceType::new(name, vcpu, mem_gib * 1024, 58, Arch::Amd64, od)
            .with_spot(spot, InterruptionBand::parse("<5%").unwrap())
    };
    Catalog::from_types(
        "ca-test",
        vec![
            it("m5.large", 2, 8, 0.096, 0.04),
            it("m5.xlarge", 4, 16, 0.192, 0.08),
            it("m5.2xlarge", 8, 32, 0.384, 0.16),
            it("c5.xlarge", 4, 8, 0.17, 0.07),
            it("r5.xlarge", 4, 32, 0.252, 0.1),
        ],
    )
    .unwrap()
}

fn constant(s: u64) -> Distribution {
    Distribution::constant(SimDuration::from_secs(s))
}

pub fn template(cpu_m: i64, mem: i64) -> PodTemplate {
    PodTemplate {
        labels: [("app".to_string(), "web".to_string())].into_iter().collect(),
        ..capsim::testkit::pod_template(cpu_m, mem)
    }
}

pub fn workload(name: &str, namespace: &str, tmpl: PodTemplate) -> Workload {
    Workload {
        batch: None,
        name: name.into(),
        namespace: namespace.into(),
        kind: WorkloadKind::Deployment,
        replicas: 0,
        template: tmpl,
        traffic: None,
        service: ServiceModel::default(),
        startup: capsim::testkit::instant_startup(),
    }
}

pub fn scenario(workloads: Vec<Workload>, pdbs: Vec<DisruptionBudget>) -> Scenario {
    Scenario {
        name: "ca-test".into(),
        duration: SimDuration::from_mins(60),
        seed: 7,
        resolution: SimDuration::from_secs(10),
        catalog: Arc::new(catalog()),
        workloads,
        pdbs,
        node_latency: NodeLatency {
            launch: constant(60),
            register: constant(20),
            ready: constant(10),
            terminate: constant(30),
        },
        ..capsim::testkit::scenario()
    }
}

pub fn pdb(name: &str, app: &str) -> DisruptionBudget {
    DisruptionBudget {
        name: name.into(),
        namespace: "default".into(),
        selector: [("app".to_string(), app.to_string())].into_iter().collect(),
        min_available: None,
        max_unavailable: None,
    }
}

/// A node group document as a user writes it, parsed.
pub fn group(name: &str, instance_type: &str, min: u32, max: u32, initial: u32) -> NodeGroupSpec {
    let doc = serde_json::json!({
        "apiVersion": "capsim/v1alpha1",
        "kind": "NodeGroup",
        "metadata": {"name": name},
        "spec": {"instanceType": instance_type, "min": min, "max": max, "initial": initial},
    });
    NodeGroupSpec::from_document(&doc, &catalog()).expect("test node group is valid")
}

pub fn autoscaler(args: &[&str], groups: Vec<NodeGroupSpec>, priorities: Option<&str>) -> ClusterAutoscaler {
    let parsed = parse_flags(args).expect("test flags are valid");
    let prio = priorities.map(|p| PriorityConfig::parse(p).expect("test priorities are valid"));
    ClusterAutoscaler::new(parsed.flags, groups, prio, &catalog()).expect("test autoscaler is valid")
}

/// A toy world: nodes, pods and PDB budgets, with CA's actions applied instantly.
pub struct World {
    pub sc: Scenario,
    pub nodes: Vec<Node>,
    pub pods: Vec<Pod>,
    pub pdb_allowed: Vec<i64>,
    pub rngs: Rngs,
    pub records: Vec<DecisionRecord>,
}

impl World {
    pub fn new(sc: Scenario) -> World {
        let n = sc.pdbs.len();
        World {
            sc,
            nodes: vec![],
            pods: vec![],
            pdb_allowed: vec![1; n],
            rngs: Rngs::new(7),
            records: vec![],
        }
    }

    /// Adds a node in state Launching, requested at `now`.
    pub fn add_node(&mut self, spec: NodeSpec, now: SimTime) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        let ordinal = self.nodes.iter().filter(|n| n.pool == spec.pool).count();
        let mut labels = spec.labels.clone();
        let name = format!("{}-{:04}", spec.pool, ordinal);
        labels.insert("kubernetes.io/hostname".into(), name.clone());
        self.nodes
            .push(Node::new(id, name, NodeSpec { labels, ..spec }, now, "test".into()));
        id
    }

    pub fn make_ready(&mut self, id: NodeId, now: SimTime) {
        let n = &mut self.nodes[id.0 as usize];
        n.state = NodeState::Ready;
        n.launched.get_or_insert(now);
        n.registered.get_or_insert(now);
        n.ready = Some(now);
    }

    /// A Ready node of `ca`'s group `group`.
    pub fn ready_node(&mut self, ca: &ClusterAutoscaler, group: &str) -> NodeId {
        let spec = ca
            .templates()
            .iter()
            .find(|t| t.group == group)
            .expect("group exists")
            .node_spec();
        let id = self.add_node(spec, SimTime::ZERO);
        self.make_ready(id, SimTime::ZERO);
        id
    }

    /// A pending pod of workload `wl`, created at `created` and marked unschedulable.
    pub fn pending_pod(&mut self, wl: u32, created: SimTime) -> PodId {
        let id = PodId(self.pods.len() as u32);
        let tmpl = &self.sc.workloads[wl as usize].template;
        self.pods.push(Pod {
            unschedulable_since: Some(created),
            ..Pod::new(id, wl, id.0, tmpl.priority, tmpl.requests(), created)
        });
        id
    }

    /// A Ready pod of workload `wl` bound to `node`.
    pub fn running_pod(&mut self, wl: u32, node: NodeId) -> PodId {
        let id = self.pending_pod(wl, SimTime::ZERO);
        let pod = &mut self.pods[id.0 as usize];
        pod.phase = PodPhase::Ready;
        pod.node = Some(node);
        pod.unschedulable_since = None;
        let req = pod.requests;
        let n = &mut self.nodes[node.0 as usize];
        n.allocated += req;
        n.pods.push(id);
        id
    }

    pub fn live(&self) -> Vec<NodeId> {
        self.nodes
            .iter()
            .filter(|n| n.state != NodeState::Terminated)
            .map(|n| n.id)
            .collect()
    }

    pub fn unschedulable(&self) -> Vec<PodId> {
        self.pods
            .iter()
            .filter(|p| p.phase == PodPhase::Pending)
            .map(|p| p.id)
            .collect()
    }

    /// One CA loop at `now`; applies the actions and returns them.
    pub fn step(&mut self, ca: &mut ClusterAutoscaler, now: SimTime) -> Vec<Action> {
        let live = self.live();
        let unsched = self.unschedulable();
        let view = ClusterView {
            now,
            scenario: &self.sc,
            nodes: &self.nodes,
            live_nodes: &live,
            pods: &self.pods,
            unschedulable: &unsched,
            pdb_allowed: &self.pdb_allowed,
        };
        let (actions, records) = ca.reconcile(&view, &self.rngs);
        self.records.extend(records);
        for a in &actions {
            match a {
                Action::Launch { spec, .. } => {
                    self.add_node(spec.clone(), now);
                }
                Action::Terminate { node, .. } | Action::Drain { node, .. } => {
                    let n = &mut self.nodes[node.0 as usize];
                    n.state = NodeState::Terminated;
                    n.terminated = Some(now);
                    ca.notice(&NodeNotice::Terminated(*node), now);
                }
                Action::Cordon { .. } | Action::Uncordon { .. } => {}
            }
        }
        actions
    }
}

pub fn secs(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

pub fn launches(actions: &[Action]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Launch { spec, .. } => Some(spec.pool.as_str()),
            _ => None,
        })
        .collect()
}

pub const MI: i64 = MIB;
pub const GI: i64 = GIB;
