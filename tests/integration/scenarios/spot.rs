//! Spot interruptions end to end: Karpenter cordons, replaces and drains on the two-minute
//! notice; Cluster Autoscaler gets no notice handling, so the pods wait for a new node after the
//! instance is gone. The interruption is injected at a chosen time (natural interruptions are
//! off: `spotInterruptions: false`), so the numbers below are exact.

use capsim::cluster::{NodeId, NodeState};
use capsim::engine::SimTime;
use capsim::model::CapacityType;
use capsim::sim::{Event, SimResult, World};

/// Six 1-CPU workers; nodes launch in 10 s, register 10 s later, Ready 5 s after that.
const WORKERS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: default}
spec:
  replicas: 6
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
        - name: w
          image: example.com/worker:1
          resources: {requests: {cpu: "1", memory: 1Gi}}
"#;

fn karpenter_yaml() -> String {
    format!(
        r#"
apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: spot-karpenter}}
spec:
  duration: 30m
  seed: 3
  spotInterruptions: false
  workloads:
    worker:
      startup: {{imagePull: 5s, containerStart: 1s, ready: 2s}}
  nodeLatency: {{launch: 10s, register: 10s, ready: 5s, terminate: 30s}}
  provisioner:
    karpenter: {{batchIdleDuration: 1s, batchMaxDuration: 10s}}
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {{name: spot}}
spec:
  template:
    spec:
      requirements:
        # Two offerings: the interrupted one is marked unavailable for 3 minutes (as upstream's
        # interruption controller does), so the replacement is the other.
        - {{key: node.kubernetes.io/instance-type, operator: In, values: [m5.xlarge, m6a.xlarge]}}
        - {{key: karpenter.sh/capacity-type, operator: In, values: [spot]}}
      nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}}
  disruption: {{consolidationPolicy: WhenEmpty, consolidateAfter: 10m}}
---
{WORKERS}"#
    )
}

fn ca_yaml() -> String {
    format!(
        r#"
apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: spot-ca}}
spec:
  duration: 30m
  seed: 3
  spotInterruptions: false
  workloads:
    worker:
      startup: {{imagePull: 5s, containerStart: 1s, ready: 2s}}
  nodeLatency: {{launch: 10s, register: 10s, ready: 5s, terminate: 30s}}
  provisioner:
    clusterAutoscaler:
      args: [--scan-interval=10s, --scale-down-unneeded-time=10m]
---
apiVersion: capsim/v1alpha1
kind: NodeGroup
metadata: {{name: spot}}
spec: {{instanceType: m5.xlarge, capacityType: spot, min: 0, max: 10, initial: 0, zone: us-east-1a}}
---
{WORKERS}"#
    )
}

/// Runs until `warn_at`, injects a spot interruption notice for the first Ready spot node, and
/// runs to the end. Returns the result and the interrupted node's name.
fn run_with_interruption(yaml: &str, warn_at: u64) -> (SimResult, String) {
    let sc = capsim::scenario::load_str("spot.yaml", yaml, None, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mut w = World::new(&sc).unwrap();
    let before = SimTime::from_secs(warn_at - 1);
    let warn_at = SimTime::from_secs(warn_at);
    while w.queue.now() < before {
        assert!(w.step(), "run ended early");
    }
    let victim = w
        .cluster
        .nodes
        .iter()
        .find(|n| n.capacity_type == CapacityType::Spot && n.state == NodeState::Ready && !n.pods.is_empty())
        .map(|n| (n.id, n.name.clone()))
        .expect("a Ready spot node with pods");
    let id: NodeId = victim.0;
    w.queue.push(warn_at, Event::SpotWarning(id));
    (w.run(), victim.1)
}

#[test]
fn karpenter_replaces_an_interrupted_spot_node_before_the_reclaim() {
    let (r, victim) = run_with_interruption(&karpenter_yaml(), 600);
    assert_eq!(r.summary.cluster.spot_interruptions, 1);
    let d = |decision: &str| r.decisions.iter().filter(|d| d.decision == decision).count();
    assert_eq!(d("InterruptionWarning"), 1);
    assert!(d("CordonAndDrain") >= 1, "{:?}", r.decisions);
    // The node was cordoned at Karpenter's next loop after the notice (t = 600 s, 1 s period) and
    // a replacement requested then, well before the reclaim at 720 s.
    let node = r.nodes.iter().find(|n| n.node == victim).unwrap();
    let cordoned = node.drain_started_s.expect("cordoned");
    assert!((600.0..=601.0).contains(&cordoned), "cordoned at {cordoned}");
    assert!(node.terminated_s.is_some());
    let replacement = r
        .nodes
        .iter()
        .find(|n| n.requested_s >= 600.0 && n.requested_s < 720.0)
        .unwrap_or_else(|| panic!("no replacement requested during the notice: {:#?}", r.decisions));
    assert_eq!(replacement.capacity_type, "spot");
    assert_eq!(
        replacement.instance_type, "m6a.xlarge",
        "the interrupted offering is unavailable"
    );
    // The evicted workers were recreated and waited for the replacement: a measured Pending gap,
    // bounded by its launch (10 s) + register (10 s) + ready (5 s) plus batching (≤ 10 s).
    let evicted: Vec<_> = r.pods.iter().filter(|p| p.delete_reason == "Drained").collect();
    assert!(!evicted.is_empty(), "the drain evicted nothing");
    let recreated: Vec<_> = r.pods.iter().filter(|p| p.created_s >= 600.0).collect();
    assert_eq!(recreated.len(), evicted.len(), "every evicted pod is recreated");
    let gap = recreated.iter().map(|p| p.pending_s).fold(0.0, f64::max);
    assert!(gap > 0.0 && gap <= 60.0, "Pending gap {gap} s");
    assert!(recreated.iter().all(|p| p.scheduled_s.is_some()));
    assert!(
        recreated.iter().all(|p| p.scheduled_s.is_some_and(|t| t < 720.0)),
        "back before the reclaim"
    );
    // All six workers are back by the end.
    assert_eq!(r.pods.iter().filter(|p| p.state_at_end == "Ready").count(), 6);
}

#[test]
fn cluster_autoscaler_gets_no_proactive_replacement_for_spot() {
    let (r, victim) = run_with_interruption(&ca_yaml(), 600);
    assert_eq!(r.summary.cluster.spot_interruptions, 1);
    // No node is requested during the two-minute notice: CA does not watch interruption notices.
    assert!(
        !r.nodes.iter().any(|n| n.requested_s >= 600.0 && n.requested_s < 720.0),
        "{:#?}",
        r.nodes
    );
    // The pods stay on the node until the reclaim at 720 s, then go Pending and pull in a new node.
    let node = r.nodes.iter().find(|n| n.node == victim).unwrap();
    assert_eq!(node.drain_started_s, None, "CA does not cordon on the notice");
    assert_eq!(node.removed_by, "SpotInterruption");
    let lost: Vec<_> = r.pods.iter().filter(|p| p.delete_reason == "NodeGone").collect();
    assert!(!lost.is_empty());
    assert!(lost.iter().all(|p| p.deleted_s == Some(720.0)));
    let recreated: Vec<_> = r.pods.iter().filter(|p| p.created_s >= 720.0).collect();
    assert_eq!(recreated.len(), lost.len());
    // The replacement takes a scan (≤ 10 s) + 25 s of node start-up: the Pending gap is at least
    // the node's 25 s.
    let gap = recreated.iter().map(|p| p.pending_s).fold(0.0, f64::max);
    assert!((25.0..=60.0).contains(&gap), "Pending gap {gap} s");
    // The summary measures the same gap: the replacements' Pending time.
    let w = &r.summary.workloads[0];
    assert_eq!(w.pods_evicted as usize, lost.len());
    assert_eq!(w.replacement_pending.count, lost.len());
    assert!(
        (w.replacement_pending.max - gap).abs() < 1e-9,
        "{} vs {gap}",
        w.replacement_pending.max
    );
    assert!(r.nodes.iter().any(|n| n.requested_s >= 720.0));
    assert_eq!(r.pods.iter().filter(|p| p.state_at_end == "Ready").count(), 6);
}
