//! Small builders for Cluster Autoscaler tests: a catalog, a scenario, and the shared provisioner
//! harness (Launch adds a Launching node named as the world names it, Terminate and Drain remove
//! it), so tests drive `reconcile` loop by loop.
#![allow(dead_code)]

use capsim::cloud::{Catalog, Distribution, InstanceType};
use capsim::cluster::{NodeId, NodeState, PodId};
use capsim::controllers::cluster_autoscaler::flags::parse_flags;
use capsim::controllers::cluster_autoscaler::node_group::NodeGroupSpec;
use capsim::controllers::cluster_autoscaler::{ClusterAutoscaler, expander::priority::PriorityConfig};
use capsim::controllers::provisioner::Action;
use capsim::engine::{SimDuration, SimTime};
use capsim::model::resources::{GIB, MIB};
use capsim::model::{DisruptionBudget, PodTemplate, ServiceModel, Workload, WorkloadKind};
use capsim::scenario::{NodeLatency, Scenario};
use capsim::testkit::{DrainModel, Harness};
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
        stateful: None,
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

/// The shared provisioner harness (`capsim::testkit::Harness`), with CA's drains finishing at
/// once, and a few CA-shaped helpers.
pub struct World(Harness);

impl std::ops::Deref for World {
    type Target = Harness;
    fn deref(&self) -> &Harness {
        &self.0
    }
}

impl std::ops::DerefMut for World {
    fn deref_mut(&mut self) -> &mut Harness {
        &mut self.0
    }
}

impl World {
    pub fn new(sc: Scenario) -> World {
        World(Harness::new(sc, 7, DrainModel::Immediate))
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

    /// A Ready pod of workload `wl` bound to `node`.
    pub fn running_pod(&mut self, wl: u32, node: NodeId) -> PodId {
        let id = self.pending_pod(wl, SimTime::ZERO);
        self.bind(id, node);
        id
    }

    pub fn live(&self) -> Vec<NodeId> {
        self.nodes
            .iter()
            .filter(|n| n.state != NodeState::Terminated)
            .map(|n| n.id)
            .collect()
    }

    /// One CA loop at `now`; applies the actions and returns them.
    pub fn step(&mut self, ca: &mut ClusterAutoscaler, now: SimTime) -> Vec<Action> {
        self.0.step(ca, now).0
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
