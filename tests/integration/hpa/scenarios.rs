//! Behaviour of the HPA over time (issue 3): stabilization after a surge, Percent policies, unready pods,
//! the legacy cap. Each test drives the same `reconcile` as the simulation through `hpa::explain`.

use capsim::controllers::hpa::DecisionReason;
use capsim::controllers::hpa::conditions::ConditionReason;
use capsim::controllers::hpa::config::HpaControllerConfig;
use capsim::controllers::hpa::explain::{ExplainOptions, ExplainRow, Series, SeriesPoint, ValueKind, explain};
use capsim::controllers::hpa::normalize::LimitingRule;
use capsim::controllers::hpa::spec::HpaSpec;
use capsim::engine::SimDuration;

fn spec(tail: &str) -> HpaSpec {
    let yaml = format!(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web}}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n{tail}"
    );
    let hpa = serde_saphyr::from_str(&yaml).expect("yaml");
    HpaSpec::from_manifest(&hpa, &HpaControllerConfig::default()).expect("valid")
}

fn series(points: &[(u64, f64)]) -> Series {
    Series {
        points: points
            .iter()
            .map(|&(t, value)| SeriesPoint {
                time: SimDuration::from_secs(t),
                value,
                ready_pods: None,
            })
            .collect(),
        kind_from_header: None,
    }
}

fn at(rows: &[ExplainRow], t: u64) -> &ExplainRow {
    rows.iter()
        .find(|r| r.time == SimDuration::from_secs(t))
        .expect("a sync at that time")
}

const CPU50: &str =
    "  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n";
const RPS10: &str =
    "  metrics:\n  - type: Pods\n    pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: \"10\"}}\n";

#[test]
fn after_a_surge_the_default_downscale_stabilization_holds_replicas_for_five_minutes() {
    // 4 cores of demand (400 % of one pod's request) on 4 pods: 100 % vs 50 % -> 8 pods at t=0 (legacy cap
    // max(2x4, 4) = 8). At t=600 s demand drops to 1 core: 8 pods at 12 % -> proposal 2. The last
    // recommendation of 8 was made at t=585 s, so the 5-minute window releases it at t=885 s.
    for behavior in ["", "  behavior: {scaleUp: {}}\n"] {
        let s = spec(&format!("  minReplicas: 2\n  maxReplicas: 20\n{CPU50}{behavior}"));
        let opts = ExplainOptions {
            initial_replicas: Some(4),
            value_kind: ValueKind::Total,
            ..ExplainOptions::default()
        };
        let rows = explain(
            &s,
            &HpaControllerConfig::default(),
            &series(&[(0, 400.0), (600, 100.0), (1200, 100.0)]),
            &opts,
        )
        .unwrap();
        assert_eq!(at(&rows, 0).desired_replicas, 8);
        for r in rows.iter().filter(|r| (600..885).contains(&(r.time.0 / 1000))) {
            assert_eq!(
                (r.current_replicas, r.desired_replicas),
                (8, 8),
                "t={:?} {behavior}",
                r.time
            );
            assert_eq!(
                r.reason,
                DecisionReason::Stabilized(ConditionReason::ScaleDownStabilized)
            );
            assert_eq!(r.proposal, Some(2));
        }
        let release = at(&rows, 885);
        assert_eq!(
            (release.current_replicas, release.desired_replicas),
            (8, 2),
            "{behavior}"
        );
    }
}

#[test]
fn a_percent_policy_of_100_per_minute_doubles_at_most_once_a_minute() {
    // 10 000 req/s against 10 req/s per pod wants 1000 pods; 100 %/60 s allows 2 -> 4 -> 8 -> ...
    let s = spec(&format!(
        "  minReplicas: 1\n  maxReplicas: 100\n{RPS10}  behavior:\n    scaleUp:\n      stabilizationWindowSeconds: 0\n      policies: [{{type: Percent, value: 100, periodSeconds: 60}}]\n"
    ));
    let opts = ExplainOptions {
        initial_replicas: Some(2),
        value_kind: ValueKind::Total,
        ..ExplainOptions::default()
    };
    let rows = explain(
        &s,
        &HpaControllerConfig::default(),
        &series(&[(0, 10_000.0), (400, 10_000.0)]),
        &opts,
    )
    .unwrap();
    for (t, want) in [
        (0, 4),
        (15, 4),
        (45, 4),
        (60, 8),
        (105, 8),
        (120, 16),
        (180, 32),
        (240, 64),
        (300, 100),
    ] {
        assert_eq!(at(&rows, t).desired_replicas, want, "t={t}");
    }
    assert_eq!(
        at(&rows, 30).reason,
        DecisionReason::Limited(ConditionReason::ScaleUpLimit)
    );
    assert_eq!(
        at(&rows, 300).reason,
        DecisionReason::Limited(ConditionReason::TooManyReplicas)
    );
    // A 60 s period counts the events of the last 60 s, so each sync may at most double the replicas
    // that the first sync of that period saw (the sync 45 s earlier).
    for w in rows.windows(4) {
        assert!(w[3].desired_replicas <= 2 * w[0].current_replicas, "{:?}", w[3].time);
    }
}

#[test]
fn unready_new_pods_do_not_inflate_a_scale_up() {
    // 4 cores of demand, target 50 %: 4 pods at 100 % -> 8. The 4 new pods need 90 s to become Ready;
    // until then they have no samples and count as 0 on a scale-up (8 pods at 50 % = on target), and once
    // Ready their cpu samples are ignored for one metric window. The HPA never asks for more than 8.
    let s = spec(&format!("  minReplicas: 1\n  maxReplicas: 50\n{CPU50}"));
    let opts = ExplainOptions {
        initial_replicas: Some(4),
        value_kind: ValueKind::Total,
        ready_delay: SimDuration::from_secs(90),
        ..ExplainOptions::default()
    };
    let rows = explain(
        &s,
        &HpaControllerConfig::default(),
        &series(&[(0, 400.0), (600, 400.0)]),
        &opts,
    )
    .unwrap();
    assert_eq!(at(&rows, 0).desired_replicas, 8);
    assert!(rows.iter().all(|r| r.desired_replicas <= 8), "{rows:#?}");
    // while they start, the naive ratio would be 2 x 8 = 16
    let r = at(&rows, 30);
    assert_eq!((r.ready_pods, r.usage, r.proposal), (4, Some(100), Some(8)));
    assert_eq!(r.reason, DecisionReason::MissingOrUnreadyPods);
}

#[test]
fn an_hpa_without_behavior_follows_the_legacy_cap_every_sync() {
    // max(2 x current, 4) per 15 s sync: 2 -> 4 -> 8 -> 16 -> 32 -> 50 (maxReplicas)
    let s = spec(&format!("  minReplicas: 1\n  maxReplicas: 50\n{RPS10}"));
    let opts = ExplainOptions {
        initial_replicas: Some(2),
        value_kind: ValueKind::Total,
        ..ExplainOptions::default()
    };
    let rows = explain(
        &s,
        &HpaControllerConfig::default(),
        &series(&[(0, 10_000.0), (90, 10_000.0)]),
        &opts,
    )
    .unwrap();
    let got: Vec<i32> = rows.iter().map(|r| r.desired_replicas).collect();
    assert_eq!(got, vec![4, 8, 16, 32, 50, 50, 50]);
    assert_eq!(rows[0].limiting_rule, Some(LimitingRule::LegacyScaleUpCap(4)));
    assert_eq!(rows[3].reason, DecisionReason::Limited(ConditionReason::ScaleUpLimit));
    assert_eq!(
        rows[4].reason,
        DecisionReason::Limited(ConditionReason::TooManyReplicas)
    );
    // at maxReplicas the proposal is still clamped, without a rescale
    assert_eq!((rows[5].current_replicas, rows[5].desired_replicas), (50, 50));
    assert_eq!(
        rows[5].reason,
        DecisionReason::Limited(ConditionReason::TooManyReplicas)
    );
}

#[test]
fn a_new_hpa_cannot_scale_down_for_one_window() {
    // The initial recommendation (current = 6) holds scale-down for 5 minutes (legacy path):
    // 6 req/s over 6 pods = 1 per pod vs 10 -> proposal ceil(0.1 x 6) = 1.
    let s = spec(&format!("  minReplicas: 1\n  maxReplicas: 20\n{RPS10}"));
    let opts = ExplainOptions {
        initial_replicas: Some(6),
        value_kind: ValueKind::Total,
        new_hpa: true,
        ..ExplainOptions::default()
    };
    let rows = explain(
        &s,
        &HpaControllerConfig::default(),
        &series(&[(0, 6.0), (400, 6.0)]),
        &opts,
    )
    .unwrap();
    assert!(
        rows.iter()
            .filter(|r| r.time.0 < 300_000)
            .all(|r| r.desired_replicas == 6)
    );
    assert_eq!(at(&rows, 300).desired_replicas, 1);
}

/// Held-out upstream behaviour (replica_calculator.go `calculatePodRequestsFromContainers`):
/// restartable init containers (`restartPolicy: Always`) count toward a pod's CPU request, and
/// metrics-server reports their usage. A pod using 200m with a 100m app and a 100m sidecar is at
/// 100 %; counting the app container alone would read 200 %.
#[test]
fn sidecar_requests_count_in_utilization() {
    let text = r#"
apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: sidecar}
spec:
  duration: 5m
  nodes: [{name: base, instanceType: m5.xlarge, count: 1}]
  workloads:
    web: {idle: {cpu: 200m, memory: 64Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
      - {name: proxy, image: envoy, restartPolicy: Always, resources: {requests: {cpu: 100m, memory: 32Mi}}}
      containers:
      - {name: web, image: nginx, resources: {requests: {cpu: 100m, memory: 32Mi}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 100}}
"#;
    let sc = capsim::scenario::load_str("sidecar.yaml", text, None, &[]).unwrap_or_else(|e| panic!("{e}"));
    let r = capsim::sim::run(&sc).expect("runs");
    let with_value: Vec<_> = r
        .hpa
        .iter()
        .filter(|h| h.metrics.cells().iter().any(|c| c.value.is_ok()))
        .collect();
    assert!(!with_value.is_empty(), "the HPA read its metric");
    for h in with_value {
        let v = *h.metrics.cells()[0].value.as_ref().expect("value");
        assert_eq!(v, 100, "200m used over 100m + 100m requested: {}", h.metrics);
        assert_eq!(h.desired_replicas, 1);
    }
}
