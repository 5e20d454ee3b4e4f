//! The HPA through the whole pipeline (traffic → service model → metrics-server → HPA →
//! ReplicaSet → scheduler) on a static cluster large enough that nodes never limit it.
//!
//! Service: 10 ms of CPU per request, no idle CPU, pods request 500m, target 50 % → a pod at target
//! serves 25 requests/s.

use capsim::sim::SimResult;

fn scenario(traffic: &str, hpa_spec: &str) -> String {
    format!(
        r#"
apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: hpa}}
spec:
  duration: 40m
  seed: 4
  resolution: 10s
  nodes:
    - {{name: big, instanceType: m5.xlarge, count: 12}}
  workloads:
    api:
      traffic: {traffic}
      perRequest: {{cpu: 10m, memory: 0}}
      idle: {{cpu: 0, memory: 100Mi}}
      startup: {{imagePull: 2s, containerStart: 1s, ready: 2s}}
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
        - name: api
          image: example.com/api:1
          resources: {{requests: {{cpu: 500m, memory: 256Mi}}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: api, namespace: default}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}
  metrics:
    - type: Resource
      resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 50}}}}
{hpa_spec}"#
    )
}

fn run(traffic: &str, hpa_spec: &str) -> SimResult {
    let sc = capsim::scenario::load_str("hpa.yaml", &scenario(traffic, hpa_spec), None, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    capsim::sim::run(&sc).unwrap_or_else(|e| panic!("{e}"))
}

/// Replicas in effect at `t`: the last HPA decision at or before `t` (2 before any).
fn replicas_at(r: &SimResult, t: f64) -> i32 {
    r.hpa
        .iter()
        .take_while(|h| h.time_s() <= t)
        .filter(|h| h.error.is_empty())
        .last()
        .map_or(2, |h| h.desired_replicas)
}

#[test]
fn default_scale_down_stabilization_holds_replicas_five_minutes_after_a_surge() {
    // 100 req/s (4 pods), ×4 from 5m (ramp 1 min) held 10 min, back down over 10 s: the surge ends
    // at 16m10s = 970 s. Only scaleUp is configured: scaleDown takes the API default window of
    // 300 s.
    let r = run(
        "{base: 100, shape: [{surge: {at: 5m, rampUp: 1m, hold: 10m, rampDown: 10s, factor: 4}}]}",
        "  minReplicas: 2\n  maxReplicas: 40\n  behavior:\n    scaleUp: {stabilizationWindowSeconds: 0}\n",
    );
    let end = 970.0;
    let peak = replicas_at(&r, end);
    assert!(peak >= 14, "the surge needs about 16 pods, got {peak}");
    // Nothing scales down in the five minutes after the surge ends.
    for h in r.hpa.iter().filter(|h| h.time_s() >= end && h.time_s() < end + 300.0) {
        assert_eq!(h.desired_replicas, peak, "at {} s: {h:?}", h.time_s());
    }
    // Then it does, once the high recommendations (the last made up to one metrics window, 60 s,
    // plus a sync after the surge) have left the 300 s window.
    let down = r
        .hpa
        .iter()
        .find(|h| h.time_s() > end && h.desired_replicas < peak)
        .unwrap_or_else(|| panic!("never scaled down"));
    assert!(
        down.time_s() >= end + 300.0 && down.time_s() <= end + 400.0,
        "scaled down at {} s",
        down.time_s()
    );
    assert!(r.hpa.iter().last().unwrap().desired_replicas <= 5);
}

#[test]
fn percent_policy_limits_scale_up_to_doubling_per_minute() {
    // 50 req/s (2 pods), then ×40 within 10 s at 5m: 2000 req/s wants 80 pods, capped at 64.
    let r = run(
        "{base: 50, shape: [{surge: {at: 5m, rampUp: 10s, hold: 1h, rampDown: 0s, factor: 40}}]}",
        "  minReplicas: 2\n  maxReplicas: 64\n  behavior:\n    scaleUp:\n      stabilizationWindowSeconds: 0\n      \
         policies: [{type: Percent, value: 100, periodSeconds: 60}]\n",
    );
    // upstream: the limit is 2 × the replicas at the start of the 60 s period (current minus the
    // scale-ups after the cutoff).
    for h in r.hpa.iter().filter(|h| h.scaled) {
        let base = replicas_at(&r, h.time_s() - 60.0);
        assert!(
            h.desired_replicas <= 2 * base,
            "at {} s: {} > 2 × {base} (replicas 60 s earlier)",
            h.time_s(),
            h.desired_replicas
        );
    }
    // It still gets there, one doubling per minute: 2 → 4 → 8 → 16 → 32 takes four periods.
    let first = r.hpa.iter().find(|h| h.scaled).unwrap().time_s();
    let t32 = r.hpa.iter().find(|h| h.desired_replicas >= 32).unwrap().time_s();
    assert!(t32 - first >= 180.0, "2 → 32 in {} s", t32 - first);
    assert_eq!(r.hpa.iter().map(|h| h.desired_replicas).max(), Some(64));
}

#[test]
fn hpa_without_behavior_follows_the_legacy_scale_up_cap() {
    // Same step. Without spec.behavior, upstream's legacy path caps each sync at
    // max(2 × current, 4) (horizontal.go calculateScaleUpLimit), with no per-period history.
    let r = run(
        "{base: 50, shape: [{surge: {at: 5m, rampUp: 10s, hold: 1h, rampDown: 0s, factor: 40}}]}",
        "  minReplicas: 2\n  maxReplicas: 64\n",
    );
    let mut capped = 0;
    for h in r.hpa.iter().filter(|h| h.error.is_empty()) {
        let limit = (2 * h.current_replicas).max(4);
        assert!(h.desired_replicas <= limit, "{h:?}");
        if h.desired_replicas == limit && h.proposal.is_some_and(|p| p > limit) {
            capped += 1;
        }
    }
    assert!(capped >= 2, "the cap never bound: {:#?}", r.hpa);
    // The first step from 2 is to 4 (max(2 × 2, 4)).
    let first = r.hpa.iter().find(|h| h.scaled).unwrap();
    assert_eq!((first.current_replicas, first.desired_replicas), (2, 4));
}
