//! A node group whose nodes never come up: Cluster Autoscaler gives up on them after
//! `--max-node-provision-time`, deletes them, and backs the group off (exponentially).

fn scenario(latency: &str) -> String {
    format!(
        r#"
apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: never-ready}}
spec:
  duration: 1h
  nodeLatency: {{launch: 10s, register: 10s, ready: 5s, terminate: 10s}}
  provisioner:
    clusterAutoscaler:
      args: [--scan-interval=10s, --max-node-provision-time=5m]
---
apiVersion: capsim/v1alpha1
kind: NodeGroup
metadata: {{name: broken}}
spec:
  instanceType: m5.xlarge
  min: 0
  max: 5
  initial: 0
  latency: {latency}
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
      containers:
        - name: a
          image: example.com/a:1
          resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
"#
    )
}

#[test]
fn node_that_never_registers_fails_after_max_node_provision_time_and_the_group_backs_off() {
    let sc = capsim::scenario::load_str("nr.yaml", &scenario("{register: 10h}"), None, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let r = capsim::sim::run(&sc).unwrap();
    let first = &r.nodes[0];
    // Requested at the first scan (t = 0 or 10 s), failed at the first scan more than 5 min later.
    let failed_at = r
        .decisions
        .iter()
        .find(|d| d.decision == "FailedScaleUp")
        .unwrap_or_else(|| panic!("no FailedScaleUp: {:#?}", r.decisions))
        .time_s;
    assert!(
        failed_at > first.requested_s + 300.0 && failed_at <= first.requested_s + 310.0,
        "failed at {failed_at}, requested at {}",
        first.requested_s
    );
    assert_eq!(first.registered_s, None);
    assert!(first.terminated_s.is_some(), "the failed node is deleted");
    let backoffs: Vec<_> = r.decisions.iter().filter(|d| d.decision == "Backoff").collect();
    assert!(!backoffs.is_empty());
    // Backed off: no scale-up of the group for the first backoff (5 min upstream) after the failure.
    let next_scale_up = r
        .decisions
        .iter()
        .filter(|d| d.decision == "ScaleUp" && d.time_s > failed_at)
        .map(|d| d.time_s)
        .next();
    if let Some(t) = next_scale_up {
        assert!(
            t >= failed_at + 300.0,
            "scaled up again {} s after the failure",
            t - failed_at
        );
    }
    // Each failure grows the backoff: the gaps between scale-ups widen.
    let ups: Vec<f64> = r
        .decisions
        .iter()
        .filter(|d| d.decision == "ScaleUp")
        .map(|d| d.time_s)
        .collect();
    assert!(ups.len() >= 3, "{ups:?}");
    let gaps: Vec<f64> = ups.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[1] > g[0]), "backoff does not grow: {gaps:?}");
    // The pods never ran.
    assert_eq!(r.summary.workloads[0].pods_pending_at_end, 2);
}

#[test]
fn node_registered_but_never_ready_times_out_the_scale_up_and_the_group_backs_off() {
    // Regression: a node that registered but never became Ready (node group latency `ready: 10h`)
    // never failed its scale-up, so the group was never backed off. Upstream counts such a
    // NotStarted node as upcoming, so the scale-up request times out at its ExpectedAddTime
    // (request + --max-node-provision-time) and the group backs off; the node itself is left to
    // scale-down, which removes it once unready for --scale-down-unready-time (20 m).
    let sc =
        capsim::scenario::load_str("nr.yaml", &scenario("{ready: 10h}"), None, &[]).unwrap_or_else(|e| panic!("{e}"));
    let r = capsim::sim::run(&sc).unwrap();
    let first = &r.nodes[0];
    assert!(first.registered_s.is_some() && first.ready_s.is_none());
    let failed: Vec<_> = r.decisions.iter().filter(|d| d.decision == "FailedScaleUp").collect();
    let f = failed
        .first()
        .unwrap_or_else(|| panic!("no FailedScaleUp: {:#?}", r.decisions));
    assert_eq!(f.object, first.node);
    assert!(
        f.time_s > first.requested_s + 300.0 && f.time_s <= first.requested_s + 310.0,
        "timed out at {}, requested at {}",
        f.time_s,
        first.requested_s
    );
    let backoff = r
        .decisions
        .iter()
        .find(|d| d.decision == "Backoff")
        .expect("group backed off");
    assert_eq!(backoff.object, "broken");
    assert_eq!(backoff.time_s, f.time_s);
    // One timeout per node, not one per loop.
    assert_eq!(failed.iter().filter(|d| d.object == first.node).count(), 1);
    // Scale-down removes the unready node after 20 minutes.
    let removed = first.terminated_s.expect("the never-Ready node is removed");
    assert!(removed >= first.registered_s.unwrap() + 1200.0, "removed at {removed}");
}
