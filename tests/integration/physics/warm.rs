//! The warm start: the steady state of the t = 0 demand, provisioned and Ready; `spec.warmup`
//! leaves a span out of the summary; `start: cold` keeps the empty start.

use super::load;
use capsim::sim;

fn scenario(start: &str) -> String {
    format!(
        r#"apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: warm}}
spec:
  duration: 30m
  seed: 5
  {start}
  provisioner: {{karpenter: {{}}}}
  workloads:
    api:
      traffic: {{base: 2000}}
      perRequest: {{cpu: 2m}}
      idle: {{cpu: 50m}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
        - name: app
          image: example.com/api:1
          resources: {{requests: {{cpu: 500m, memory: 512Mi}}, limits: {{cpu: '1'}}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: api}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}
  minReplicas: 2
  maxReplicas: 50
  metrics:
    - type: Resource
      resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {{name: default}}
spec:
  template:
    spec:
      nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}}
      requirements:
        - {{key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}}
        - {{key: node.kubernetes.io/instance-type, operator: In, values: [m5.xlarge]}}
"#
    )
}

#[test]
fn a_warm_start_begins_in_the_steady_state() {
    let r = sim::run(&load(&scenario(""))).unwrap();
    let first = &r.timeline[0];
    // 2000 rps × 2m + 50m idle per pod at 70 % of 500m: 12 pods (4050m / 350m) is the least
    // count within the HPA's 10 % tolerance; from 2 replicas the HPA steps 2 → 6 → 13 and holds.
    assert_eq!(first.ready, 13, "{first:?}");
    assert!((first.cpu_utilization / 70.0 - 1.0).abs() <= 0.1, "{first:?}");
    assert_eq!(first.pending, 0);
    assert!(first.nodes_ready >= 2);
    let w = &r.summary.workloads[0];
    assert!(w.unserved_share < 1e-9, "{}", w.unserved_share);
    assert_eq!(w.pods_created, 13, "the HPA holds the steady state");
    assert!(r.pods.iter().all(|p| p.pending_s == 0.0));
    // No provisioner decision is recorded for the warm start.
    assert!(r.decisions.iter().all(|d| d.time_s > 0.0 || d.decision != "Launch"));
}

#[test]
fn a_cold_start_remains_available_and_a_warmup_span_is_not_measured() {
    let cold = sim::run(&load(&scenario("start: cold"))).unwrap();
    let w = &cold.summary.workloads[0];
    assert_eq!(cold.timeline[0].ready, 0);
    assert!(w.unserved_share > 0.0);
    assert!(w.pending.max > 0.0);
    let measured = sim::run(&load(&scenario("start: cold\n  warmup: 15m"))).unwrap();
    let m = &measured.summary.workloads[0];
    assert!(
        m.unserved_share < w.unserved_share,
        "{} vs {}",
        m.unserved_share,
        w.unserved_share
    );
    assert!(m.requests_total < w.requests_total);
    assert!(measured.summary.cluster.cost_total_usd < cold.summary.cluster.cost_total_usd);
    // Pods created in the warm-up are not in the Pending figures.
    assert!(m.pending.count < w.pending.count);
}
