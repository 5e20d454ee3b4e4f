//! The world's physics: node CPU shared by CFS weight, request latency against a
//! request-by-request simulation, memory (OOM, node pressure), probes, the warm start.

mod cpu;
mod latency;
mod memory;
mod probes;
mod warm;

/// Loads a scenario from YAML text.
pub fn load(text: &str) -> capsim::scenario::Scenario {
    capsim::scenario::load_str("test.yaml", text, None, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// A scenario on `nodes` static nodes of `instance` with one Deployment `api`: its container's
/// `resources` and the Scenario's workload settings as YAML fragments.
pub fn one_deployment(
    instance: &str,
    nodes: u32,
    replicas: u32,
    resources: &str,
    workload: &str,
    extra: &str,
) -> String {
    format!(
        r#"apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: physics}}
spec:
  duration: 20m
  seed: 3
  resolution: 10s
  {extra}
  nodes:
    - {{name: pool, instanceType: {instance}, count: {nodes}}}
  workloads:
    api:
      {workload}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
        - name: app
          image: example.com/api:1
          resources: {resources}
"#
    )
}
