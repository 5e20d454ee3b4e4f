//! Probes from the manifest decide when a pod is Ready, unless the Scenario sets `startup.ready`.

use super::load;
use capsim::sim;

fn scenario(startup: &str, probes: &str) -> String {
    format!(
        r#"apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: probes}}
spec:
  duration: 5m
  start: cold
  nodes: [{{name: pool, instanceType: m5.xlarge, count: 1}}]
  workloads:
    api:
      traffic: {{base: 10}}
      perRequest: {{cpu: 1m}}
      startup: {{imagePull: 4s, containerStart: 1s{startup}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
        - name: app
          image: example.com/api:1
          resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}
{probes}
"#
    )
}

fn ready_after_start(text: &str) -> Vec<f64> {
    let r = sim::run(&load(text)).unwrap();
    r.pods
        .iter()
        .map(|p| p.ready_s.map_or(f64::NAN, |x| x - p.started_s.unwrap()))
        .collect()
}

#[test]
fn readiness_follows_the_probe_timing() {
    let probe = "          readinessProbe: {httpGet: {path: /healthz, port: 8080}, initialDelaySeconds: 5, periodSeconds: 10, successThreshold: 2}";
    // First counted probe at 10 s (the 0 s tick is before the initial delay); two successes: 20 s.
    assert_eq!(ready_after_start(&scenario(", warmup: 3s", probe)), [20.0]);
    // An app that needs 12 s: probes at 20 s and 30 s.
    assert_eq!(ready_after_start(&scenario(", warmup: 12s", probe)), [30.0]);
}

#[test]
fn no_probe_is_ready_when_the_container_runs_and_the_scenario_overrides_probes() {
    assert_eq!(ready_after_start(&scenario("", "")), [0.0]);
    let probe = "          readinessProbe: {exec: {command: [healthcheck]}, periodSeconds: 30}";
    assert_eq!(ready_after_start(&scenario(", ready: 7s", probe)), [7.0]);
}

#[test]
fn a_failing_startup_probe_restarts_the_container() {
    let probes = "          startupProbe: {exec: {command: [healthcheck]}, periodSeconds: 5, failureThreshold: 2}";
    // Startup probes at 0 s and 5 s fail for an app that needs 8 s: killed, restarted, forever.
    let r = sim::run(&load(&scenario(", warmup: 8s", probes))).unwrap();
    let w = &r.summary.workloads[0];
    assert!(w.container_restarts >= 2, "{w:?}");
    assert!(r.pods[0].ready_s.is_none());
    assert_eq!(w.oom_kills, 0);
}

#[test]
fn probe_fields_are_validated() {
    let probe = "          readinessProbe: {exec: {command: [healthcheck]}, periodSeconds: 0}";
    let err = capsim::scenario::load_str("test.yaml", &scenario("", probe), None, &[]).unwrap_err();
    assert!(err.to_string().contains("readinessProbe.periodSeconds"), "{err}");
}
