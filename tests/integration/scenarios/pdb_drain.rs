//! A PodDisruptionBudget blocks Cluster Autoscaler's scale-down drain, end to end through the world.

fn scenario(min_available: u32) -> String {
    format!(
        r#"
apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: pdb}}
spec:
  duration: 30m
  seed: 2
  nodeLatency: {{launch: 10s, register: 10s, ready: 5s, terminate: 10s}}
  provisioner:
    clusterAutoscaler:
      args: [--scan-interval=10s, --scale-down-unneeded-time=1m, --scale-down-delay-after-add=0s]
---
apiVersion: capsim/v1alpha1
kind: NodeGroup
metadata: {{name: general}}
spec: {{instanceType: m5.xlarge, min: 1, max: 5, initial: 3}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: default}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: api
          image: example.com/api:1
          resources: {{requests: {{cpu: 500m, memory: 512Mi}}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: api, namespace: default}}
spec:
  minAvailable: {min_available}
  selector: {{matchLabels: {{app: api}}}}
"#
    )
}

fn run(min_available: u32) -> capsim::sim::SimResult {
    let sc =
        capsim::scenario::load_str("pdb.yaml", &scenario(min_available), None, &[]).unwrap_or_else(|e| panic!("{e}"));
    capsim::sim::run(&sc).unwrap()
}

#[test]
fn pdb_blocks_the_drain_of_an_underused_node() {
    // LeastAllocated spreads the two pods over two of the three nodes; each is 13 % used
    // (500m of 3920m), under the 0.5 threshold, and each pod would fit on the other's node.
    // minAvailable 2 of 2 allows no disruption: only the empty node goes.
    let r = run(2);
    let c = &r.summary.cluster;
    assert_eq!(c.nodes_at_end, 2, "{:#?}", r.decisions);
    assert_eq!(c.decisions.get("DeleteEmpty").copied(), Some(1));
    let api: Vec<_> = r.pods.iter().filter(|p| p.workload == "api").collect();
    assert_eq!(api.len(), 2, "no api pod was evicted and recreated");
    assert!(
        api.iter()
            .all(|p| p.delete_reason.is_empty() && p.state_at_end == "Ready")
    );
}

#[test]
fn without_a_blocking_pdb_the_node_is_drained() {
    // The control: minAvailable 1 allows one eviction, so one busy node is drained too and its pod
    // recreated on the other; the group ends at its minimum of 1.
    let r = run(1);
    assert_eq!(r.summary.cluster.nodes_at_end, 1, "{:#?}", r.decisions);
    let drained: Vec<_> = r.pods.iter().filter(|p| p.delete_reason == "Drained").collect();
    assert_eq!(drained.len(), 1);
    assert_eq!(
        r.pods
            .iter()
            .filter(|p| p.workload == "api" && p.state_at_end == "Ready")
            .count(),
        2
    );
}
