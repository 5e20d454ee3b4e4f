//! The evaluator against real Prometheus: `capsim run --promtool-test` writes the series and the
//! alerts it found firing at every evaluation; `promtool test rules` must agree at every step.
//! Needs `promtool` (Debian's `prometheus` package; `.ci/run` installs it and sets
//! `CAPSIM_REQUIRE_PROMTOOL=1`); elsewhere the test says it skipped.

use crate::compare::cli::{capsim, p, temp_dir};

const RULES: &str = r#"
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: slo}
spec:
  groups:
    - name: slo
      interval: 1m
      rules:
        - record: job:http_errors:ratio_rate5m
          expr: |
            sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))
              / sum by (job) (rate(http_requests_total[5m]))
        - alert: ErrorBudgetBurn
          expr: job:http_errors:ratio_rate5m > 0.02
          for: 10m
          labels: {severity: page}
        - alert: LatencyP95High
          expr: histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.1
          for: 2m
          labels: {severity: warning}
        - alert: ReplicasUnavailable
          expr: kube_deployment_status_replicas_unavailable > 0
        - alert: CPUThrottlingHigh
          expr: |
            sum by (namespace, pod) (increase(container_cpu_cfs_throttled_periods_total[5m]))
              / sum by (namespace, pod) (increase(container_cpu_cfs_periods_total[5m])) > 0.25
          for: 5m
          labels: {severity: info}
"#;

#[test]
fn promtool_fires_the_same_alerts_at_the_same_steps() {
    let have = std::process::Command::new("promtool").arg("--version").output().is_ok();
    if !have {
        assert!(
            std::env::var_os("CAPSIM_REQUIRE_PROMTOOL").is_none(),
            "CAPSIM_REQUIRE_PROMTOOL is set but promtool is not on PATH"
        );
        eprintln!("skipped: promtool not found (apt-get install prometheus)");
        return;
    }
    let dir = temp_dir("promtool");
    // The static surge on three replicas: no autoscaler, so errors, latency and throttling come
    // and go with the surge.
    let text = std::fs::read_to_string("scenarios/static-surge.yaml").unwrap() + RULES;
    let scenario = dir.join("surge.yaml");
    std::fs::write(&scenario, text).unwrap();
    let out = dir.join("out");
    let (code, _, stderr) = capsim(&[
        "run",
        p(&scenario),
        "-o",
        p(&out),
        "--no-charts",
        "-q",
        "--promtool-test",
        "--set",
        "Deployment/checkout-api:spec.replicas=3",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let fired: u64 = summary["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["fired"].as_u64().unwrap())
        .sum();
    assert!(fired >= 3, "the check needs alerts that fire: {}", summary["alerts"]);
    assert!(summary["pages"].as_u64().unwrap() >= 1);
    let res = std::process::Command::new("promtool")
        .args(["test", "rules", "test.yaml"])
        .current_dir(out.join("promtool"))
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "promtool disagrees:\n{}\n{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
            .chars()
            .take(4000)
            .collect::<String>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
