//! Scheduling constraints that count other pods — topology spread, pod (anti-)affinity — in
//! the scheduler, Cluster Autoscaler and Karpenter, with hand-worked expectations.

mod ca;
mod faults;
mod karpenter;
mod scheduler;
mod spread_property;
mod stateful;

use capsim::sim::SimResult as RunResult;
use std::collections::BTreeMap;

/// Loads a scenario from YAML text.
pub fn load(text: &str) -> capsim::scenario::Scenario {
    capsim::scenario::load_str("test.yaml", text, None, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// A Deployment `web` with `replicas` pods of 500m / 512Mi and the given pod-spec fragment
/// (indented for `spec.template.spec`).
pub fn web(replicas: u32, extra_spec: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
{extra_spec}
      containers:
        - name: app
          image: example.com/web:1
          resources: {{requests: {{cpu: 500m, memory: 512Mi}}}}
"#
    )
}

pub const ANTI_HOSTNAME: &str = "      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - labelSelector: {matchLabels: {app: web}}
              topologyKey: kubernetes.io/hostname";

pub const SPREAD_ZONE: &str = "      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: DoNotSchedule
          labelSelector: {matchLabels: {app: web}}";

/// Bound pods of workload `w` at the end, per node name.
pub fn pods_per_node(r: &RunResult, w: &str) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for p in r
        .pods
        .iter()
        .filter(|p| p.workload == w && p.deleted_s.is_none() && !p.node.is_empty())
    {
        *m.entry(p.node.clone()).or_insert(0) += 1;
    }
    m
}

/// Bound pods of workload `w` at the end, per zone.
pub fn pods_per_zone(r: &RunResult, w: &str) -> BTreeMap<String, usize> {
    let zone: BTreeMap<&str, &str> = r.nodes.iter().map(|n| (n.node.as_str(), n.zone.as_str())).collect();
    let mut m = BTreeMap::new();
    for (node, c) in pods_per_node(r, w) {
        *m.entry(zone[node.as_str()].to_string()).or_insert(0) += c;
    }
    m
}
