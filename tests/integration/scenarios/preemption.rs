//! The overprovisioning pattern end to end: low-priority placeholder pods hold a warm node; real
//! pods preempt them and start at once; the evicted placeholders go Pending and Karpenter
//! provisions a node for them.

use capsim::engine::SimTime;
use capsim::sim::World;

pub(crate) const YAML: &str = r#"
apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: warm-pool}
spec:
  duration: 20m
  seed: 5
  workloads:
    app:
      startup: {imagePull: 5s, containerStart: 1s, ready: 2s}
  nodeLatency: {launch: 10s, register: 10s, ready: 5s, terminate: 30s}
  provisioner:
    karpenter: {batchIdleDuration: 1s, batchMaxDuration: 10s}
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: general}
spec:
  template:
    spec:
      requirements:
        - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.xlarge]}
        - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
  disruption: {consolidationPolicy: WhenEmpty, consolidateAfter: 30m}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: overprovisioning}
value: -10
preemptionPolicy: Never
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: placeholder, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: placeholder}}
  template:
    metadata: {labels: {app: placeholder}}
    spec:
      priorityClassName: overprovisioning
      terminationGracePeriodSeconds: 0
      containers:
        - name: pause
          image: registry.k8s.io/pause:3.10
          resources: {requests: {cpu: "1", memory: 1Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: default}
spec:
  replicas: 0
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - name: app
          image: example.com/app:1
          resources: {requests: {cpu: "1", memory: 1Gi}}
"#;

#[test]
fn placeholders_are_preempted_and_reprovisioned() {
    let sc = capsim::scenario::load_str("warm.yaml", YAML, None, &[]).unwrap_or_else(|e| panic!("{e}"));
    let app = sc.workloads.iter().position(|w| w.name == "app").unwrap();
    let mut w = World::new(&sc).unwrap();
    // At 5 minutes the warm node holds three placeholders; then the app wants three pods.
    while w.queue.now() < SimTime::from_secs(300) {
        assert!(w.step());
    }
    assert_eq!(w.cluster.live_nodes.len(), 1, "one warm node");
    w.workloads[app].desired = 3;
    w.reconcile_replicas(app);
    let r = w.run();

    // The app's pods preempted the placeholders: scheduled within a second or two, no new node.
    let app_pods: Vec<_> = r.pods.iter().filter(|p| p.workload == "app").collect();
    assert_eq!(app_pods.len(), 3);
    for p in &app_pods {
        assert!(p.pending_s <= 2.0, "{} pended {} s", p.pod, p.pending_s);
        assert_eq!(p.node, "general-0000", "{} went to {}", p.pod, p.node);
    }
    let preempted: Vec<_> = r.pods.iter().filter(|p| p.delete_reason == "Preempted").collect();
    assert_eq!(preempted.len(), 3, "every placeholder on the warm node was preempted");
    assert!(preempted.iter().all(|p| p.workload == "placeholder"));
    // Their replacements went Pending and pulled in a second node (10 + 10 + 5 s after the batch).
    let replacements: Vec<_> = r
        .pods
        .iter()
        .filter(|p| p.workload == "placeholder" && p.created_s >= 300.0)
        .collect();
    assert_eq!(replacements.len(), 3);
    assert!(
        replacements.iter().all(|p| p.node == "general-0001"),
        "{replacements:#?}"
    );
    let gap = replacements.iter().map(|p| p.pending_s).fold(0.0, f64::max);
    assert!((25.0..=40.0).contains(&gap), "placeholders pended {gap} s");
    let second = r.nodes.iter().find(|n| n.node == "general-0001").unwrap();
    assert!(
        second.requested_s >= 300.0 && second.requested_s <= 312.0,
        "{second:#?}"
    );
}
