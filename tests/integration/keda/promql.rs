//! A prometheus trigger (and a `spec.series` query) evaluated as PromQL over the series capsim
//! exposes, with KEDA's one-sample rule (kedacore/keda pkg/scalers/prometheus_scaler.go
//! `ExecutePromQuery`).

use super::{actions, load, run};
use capsim::scenario::load_str;

/// `web` gets a steady 1000 requests/s from a cold start (one replica, as the Deployment
/// says); KEDA scales it on the query's value per replica.
fn scenario(query: &str, extra_metadata: &str) -> String {
    format!(
        "apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: promql}}
spec:
  duration: 20m
  seed: 1
  resolution: 15s
  start: cold
  nodes:
    - {{name: n, instanceType: m5.2xlarge, count: 3, zone: us-east-1a}}
  workloads:
    web: {{traffic: {{base: 1000}}, perRequest: {{cpu: 1m}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - {{name: w, image: w:1, resources: {{requests: {{cpu: 250m, memory: 128Mi}}, limits: {{cpu: '1'}}}}}}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {{name: web}}
spec:
  scaleTargetRef: {{name: web}}
  minReplicaCount: 1
  maxReplicaCount: 30
  triggers:
    - type: prometheus
      metadata: {{serverAddress: 'http://prometheus:9090', threshold: '100', query: '{query}'{extra_metadata}}}
"
    )
}

const ALL_CODES: &str = "sum(rate(http_requests_total{job=\"web\"}[2m]))";

#[test]
fn a_promql_query_reads_the_exposed_series() {
    // Every request is counted under some code (200 served, 503 unserved, 504 too slow), so the
    // sum of the rates is the demand: 1000/s once two scrapes are in the window (a counter
    // rising 15 000 per 15 s scrape extrapolates to exactly 1000/s). 1000 / 100 per replica =
    // 10 replicas.
    let r = run(&scenario(ALL_CODES, ""));
    assert_eq!(r.summary.workloads[0].replicas_max, 10);
    let hpa: Vec<_> = r.hpa.iter().filter(|h| h.time_ms > 120_000).collect();
    assert!(hpa.iter().all(|h| h.error.is_empty()), "{hpa:?}");
    assert_eq!(hpa.last().unwrap().desired_replicas, 10);
}

#[test]
fn a_query_must_return_one_sample_and_an_empty_one_is_zero_unless_told_otherwise() {
    // Without `sum`, one series per code: once the scrapes at 0 and 15 s give `rate` two
    // samples, "returned multiple elements" on every read; the HPA never gets a value, the
    // replicas stay at 1. (Before that the result is empty: 0.)
    let r = run(&scenario("rate(http_requests_total{job=\"web\"}[2m])", ""));
    assert_eq!(r.summary.workloads[0].replicas_max, 1);
    let later: Vec<_> = r.hpa.iter().filter(|h| h.time_ms >= 15_000).collect();
    assert!(!later.is_empty());
    assert!(
        later
            .iter()
            .all(|h| h.error.contains("no metrics returned from external metrics API"))
    );
    assert!(r.summary.keda[0].failed_reads > 0);
    // A job nobody serves: empty, read as 0 (ignoreNullValues defaults to true) — no error, and
    // the HPA holds its minimum.
    let empty = "sum(rate(http_requests_total{job=\"nobody\"}[2m]))";
    let r = run(&scenario(empty, ""));
    assert!(r.hpa.iter().all(|h| h.error.is_empty()));
    assert_eq!(r.summary.keda[0].failed_reads, 0);
    // ignoreNullValues: "false": the empty result is a failed read.
    let r = run(&scenario(empty, ", ignoreNullValues: 'false'"));
    assert!(r.summary.keda[0].failed_reads > 0);
    assert!(actions(&r, "Activated").is_empty());
}

#[test]
fn a_query_capsim_cannot_answer_is_an_error_naming_the_field() {
    for (query, word) in [
        ("sum(rate(node_cpu_seconds_total[2m]))", "does not expose"),
        ("sum(rate(http_requests_total[2m] offset 5m))", "offset"),
        ("sum(rate(http_requests_total[2m]", "not PromQL"),
    ] {
        let e = load_str("promql.yaml", &scenario(query, ""), None, &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("spec.triggers[0].metadata.query") && e.contains(word),
            "{query}: {e}"
        );
    }
}

#[test]
fn a_spec_series_query_serves_a_plain_hpa() {
    // The same query as a named series read by an HPA of one's own (prometheus-adapter's role):
    // same 10 replicas.
    let text = scenario(ALL_CODES, "")
        .replace(
            "  resolution: 15s\n",
            &format!("  resolution: 15s\n  series:\n    web_rps: {{query: '{ALL_CODES}'}}\n"),
        )
        .replace(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject",
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler",
        );
    let hpa_spec = "spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 30
  metrics:
    - type: External
      external: {metric: {name: web_rps}, target: {type: AverageValue, averageValue: '100'}}
";
    let cut = text.find("spec:\n  scaleTargetRef: {name: web}").unwrap();
    let text = format!("{}{hpa_spec}", &text[..cut]);
    let sc = load(&text);
    let r = capsim::sim::run(&sc).unwrap();
    assert_eq!(r.summary.workloads[0].replicas_max, 10);
    // Before two scrapes are in the window the query is empty: a failed read for the HPA.
    assert!(r.hpa.first().unwrap().error.contains("no metrics returned"));
}
