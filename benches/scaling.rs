//! How the scheduler's and Karpenter's cost grows with pods × nodes (pods 1k → 100k, 50 pods per
//! node). Run: `cargo bench --bench scaling`.
//!
//! - `scheduler/pods=P`: P pending pods (100m / 128Mi) and P/50 Ready m5.4xlarge static nodes;
//!   one simulated second: every pod goes through one kube-scheduler cycle (filters, scores,
//!   `numFeasibleNodesToFind` sampling) and is bound.
//! - `karpenter/pods=P`: the same P pods, no nodes, one NodePool over the c/m/r amd64 catalog;
//!   five simulated seconds: Karpenter batches the pods and its scheduling simulation packs them
//!   into ~P/100 NodeClaims, narrowing each claim's instance-type options pod by pod (nodes are
//!   still launching when the run ends, so kube-scheduler does no work).
//! - `scheduler-spread/pods=P`: the scheduler case with the nodes over three zones and a
//!   DoNotSchedule zone spread (maxSkew 1) plus preferred hostname anti-affinity on the pods:
//!   the PodTopologySpread and InterPodAffinity filters and scores on every pod.
//!
//! Each measurement parses the scenario text and runs the simulation. The cost is no worse than
//! linear in pods × nodes when the time per (pod × node) pair does not grow with size; the table
//! in docs/performance.md divides by both.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

const PODS_PER_NODE: usize = 50;

fn deployment(pods: usize) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: app}}
spec:
  replicas: {pods}
  selector: {{matchLabels: {{app: app}}}}
  template:
    metadata: {{labels: {{app: app}}}}
    spec:
      containers: [{{name: c, image: app:1, resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}}}]
"
    )
}

/// The scheduler case: `pods` pods, `pods / 50` Ready nodes.
pub fn scheduler_scenario(pods: usize) -> String {
    let nodes = pods / PODS_PER_NODE;
    format!(
        "apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: scaling-scheduler}}
spec:
  duration: 1s
  resolution: 1s
  nodes: [{{name: n, instanceType: m5.4xlarge, count: {nodes}, zone: us-east-1a}}]
---
{}",
        deployment(pods)
    )
}

/// The scheduler case under topology constraints: nodes over three zones, zone spread and
/// preferred hostname anti-affinity.
pub fn spread_scenario(pods: usize) -> String {
    let per_zone = pods / PODS_PER_NODE / 3 + 1;
    let dep = deployment(pods).replace(
        "    spec:\n      containers:",
        "    spec:
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: app}}}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - {weight: 10, podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: app}}}}
      containers:",
    );
    format!(
        "apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: scaling-spread}}
spec:
  duration: 1s
  resolution: 1s
  nodes:
    - {{name: a, instanceType: m5.4xlarge, count: {per_zone}, zone: us-east-1a}}
    - {{name: b, instanceType: m5.4xlarge, count: {per_zone}, zone: us-east-1b}}
    - {{name: c, instanceType: m5.4xlarge, count: {per_zone}, zone: us-east-1c}}
---
{dep}"
    )
}

/// The Karpenter case: `pods` pods, no nodes, one NodePool.
pub fn karpenter_scenario(pods: usize) -> String {
    format!(
        "apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: scaling-karpenter}}
spec:
  duration: 5s
  resolution: 5s
  provisioner:
    karpenter: {{batchIdleDuration: 1s, batchMaxDuration: 10s}}
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {{name: general}}
spec:
  template:
    spec:
      requirements:
        - {{key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m, r]}}
        - {{key: kubernetes.io/arch, operator: In, values: [amd64]}}
      nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}}
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {{name: default}}
spec:
  amiSelectorTerms: [{{alias: al2023@latest}}]
  role: KarpenterNodeRole
---
{}",
        deployment(pods)
    )
}

/// Parses and runs; returns (pods bound, nodes launched) so the work is observable.
fn run(text: &str) -> (usize, usize) {
    let sc = capsim::scenario::load_str("scaling.yaml", text, None, &[]).expect("scaling scenario loads");
    let r = capsim::sim::run(&sc).expect("scaling scenario runs");
    let bound = r.pods.iter().filter(|p| p.scheduled_s.is_some()).count();
    (bound, r.nodes.len())
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_millis(200));
    g.sample_size(10);
    for pods in [1_000usize, 10_000, 100_000] {
        g.measurement_time(Duration::from_secs(if pods >= 100_000 { 20 } else { 3 }));
        g.throughput(Throughput::Elements(pods as u64));
        let s = scheduler_scenario(pods);
        g.bench_function(format!("scheduler/pods={pods}"), |b| b.iter(|| black_box(run(&s))));
        let t = spread_scenario(pods);
        g.bench_function(format!("scheduler-spread/pods={pods}"), |b| {
            b.iter(|| black_box(run(&t)))
        });
        let k = karpenter_scenario(pods);
        g.bench_function(format!("karpenter/pods={pods}"), |b| b.iter(|| black_box(run(&k))));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
