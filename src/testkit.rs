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
        }],
        sidecars: Vec::new(),
        node_selector: Labels::new(),
        tolerations: Vec::new(),
        affinity: NodeAffinity::default(),
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
        readiness: constant(0),
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
            readiness: constant(1),
        },
        batch: None,
    }
}

/// Traffic from the YAML form users write (`{"base": 100, ...}` as JSON).
pub fn traffic(json: serde_json::Value, key: &str) -> TrafficModel {
    let spec: TrafficSpec = serde_json::from_value(json).expect("test traffic spec parses");
    TrafficModel::from_spec(&spec, key).expect("test traffic spec is valid")
}
