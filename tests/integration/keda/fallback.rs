//! KEDA `fallback` and `scalingModifiers`, and a metrics source that goes away
//! (`spec.faults` `metricsOutage`), with upstream's timings worked by hand
//! (kedacore/keda pkg/fallback/fallback.go, pkg/scaling/scale_handler.go,
//! pkg/scaling/executor/scale_scaledobjects.go, pkg/scaling/modifiers/formula.go).

use super::{SQS, actions, load, run, scenario};
use capsim::scenario::load_str;
use capsim::sim::SimResult;
use capsim::sim::autoscaling::{HpaMetrics, HpaRecord};

const OUTAGE: &str = "  faults:\n    - metricsOutage: {series: s0-aws-sqs-queue-orders, at: 15m, for: 10m}\n";

fn with_fallback(fallback: &str) -> String {
    SQS.replace("  triggers:", &format!("  fallback: {fallback}\n  triggers:"))
}

fn keda_hpa(r: &SimResult) -> Vec<&HpaRecord> {
    r.hpa.iter().filter(|h| &*h.hpa == "keda-hpa-worker").collect()
}

/// The value of a record's one metric (`None` when it failed).
fn metric(h: &HpaRecord) -> Option<i64> {
    match &h.metrics {
        HpaMetrics::One(c) => c.value.ok(),
        // A sync that failed before any metric was computed lists none.
        HpaMetrics::Many(cells) if cells.is_empty() => None,
        HpaMetrics::Many(_) => panic!("one metric expected"),
    }
}

/// The time of the `n`-th failed read (1-based) after `from`: KEDA's polls (every 30 s) and the
/// HPA's syncs (the records that failed) both read the metric through KEDA.
fn nth_failed_read(r: &SimResult, from: f64, n: usize) -> f64 {
    let mut reads: Vec<f64> = keda_hpa(r)
        .iter()
        .filter(|h| h.time_ms as f64 / 1000.0 >= from && metric(h).is_none())
        .map(|h| h.time_ms as f64 / 1000.0)
        .collect();
    reads.extend((0..).map(|k| from + 30.0 * k as f64).take_while(|t| *t < from + 600.0));
    reads.sort_by(f64::total_cmp);
    reads[n - 1]
}

#[test]
fn past_the_failure_threshold_the_fallback_replicas_come_through_the_hpa() {
    // The queue's metric is unreadable from 900 s to 1500 s. Every read counts
    // (`IncrementFailure`): KEDA's polls at 900, 930, ... and the HPA's syncs between. Reads 1–3
    // are errors: the HPA reports FailedGetExternalMetric and holds its replicas. The 4th
    // (> failureThreshold 3) is answered by the fallback: AverageValue target 100 × 6 replicas
    // = 600, so the HPA wants ceil(600 / 100) = 6. KEDA's first poll past the threshold emits
    // FallbackActivated; the first poll after the outage reads again, resets the count and
    // emits FallbackDeactivated.
    let r = run(&scenario(
        &with_fallback("{failureThreshold: 3, replicas: 6}"),
        OUTAGE,
        "1h",
    ));
    let fourth = nth_failed_read(&r, 900.0, 4);
    let activated = actions(&r, "FallbackActivated");
    assert_eq!(activated.len(), 1, "{:?}", r.keda);
    assert_eq!(activated[0].0, (fourth / 30.0).ceil() * 30.0);
    let hpa = keda_hpa(&r);
    let in_outage = |h: &&&HpaRecord| (900_000..1_500_000).contains(&h.time_ms);
    let failing: Vec<_> = hpa.iter().filter(in_outage).filter(|h| metric(h).is_none()).collect();
    assert!(!failing.is_empty());
    for h in &failing {
        assert!(
            h.time_ms as f64 / 1000.0 < fourth,
            "an error past the threshold at {}",
            h.time_ms
        );
        assert!(
            h.error.contains("no metrics returned from external metrics API"),
            "{}",
            h.error
        );
        assert_eq!(
            h.desired_replicas, h.current_replicas,
            "an HPA whose only metric fails holds"
        );
    }
    let served = hpa.iter().filter(in_outage).find(|h| metric(h).is_some()).unwrap();
    // The per-pod value the HPA shows: 600 over its current replicas, in milli-units.
    let expect = (600_000.0 / served.current_replicas as f64).ceil() as i64;
    assert_eq!(metric(served), Some(expect));
    assert_eq!(served.proposal, Some(6));
    assert!(hpa.iter().any(|h| in_outage(&h) && h.current_replicas == 6));
    assert_eq!(actions(&r, "FallbackDeactivated")[0].0, 1500.0);
    // 20 of KEDA's polls and every HPA sync in the window failed; all but the first three
    // were answered.
    let syncs = hpa.iter().filter(in_outage).count() as u32;
    let k = &r.summary.keda[0];
    assert_eq!(k.failed_reads, 20 + syncs);
    assert_eq!(k.fallback_reads, 20 + syncs - 3);
}

#[test]
fn the_fallback_behavior_picks_the_replicas_from_the_current_ones() {
    // At the first fallback read the target runs 20 replicas (the surge); fallback.replicas 6.
    for (behavior, want) in [
        ("static", 6),
        ("currentReplicas", 20),
        ("currentReplicasIfHigher", 20),
        ("currentReplicasIfLower", 6),
    ] {
        let r = run(&scenario(
            &with_fallback(&format!("{{failureThreshold: 3, replicas: 6, behavior: {behavior}}}")),
            OUTAGE,
            "1h",
        ));
        let first = keda_hpa(&r)
            .into_iter()
            .find(|h| h.time_ms >= 900_000 && metric(h).is_some())
            .unwrap();
        assert_eq!(first.current_replicas, 20, "{behavior}");
        assert_eq!(first.proposal, Some(want), "{behavior}");
    }
}

#[test]
fn a_failing_trigger_never_scales_the_target_in() {
    // Messages stop at 1800 s; the last active poll is 1800 s, so without an outage the
    // ScaledObject goes to zero at 2130 s (first poll with 1800 + 300 < now). With the metric
    // unreadable from 1860 s to 3000 s and no fallback, every poll in the window is
    // inactive-with-error: KEDA leaves the replicas alone (RequestScale's `isError` case). The
    // poll at 3000 s reads again, is inactive and past the cooldown: N → 0 then.
    let outage = "  faults:\n    - metricsOutage: {series: s0-aws-sqs-queue-orders, at: 31m, for: 19m}\n";
    let r = run(&scenario(SQS, outage, "1h"));
    let deact = actions(&r, "Deactivated");
    assert_eq!(deact.last().unwrap().0, 3000.0, "{deact:?}");
    assert!(actions(&r, "FallbackActivated").is_empty());
    // The outage that covers no series read by anyone changes nothing but the fault log.
    let other =
        "  series:\n    unused: {base: 1}\n  faults:\n    - metricsOutage: {series: unused, at: 31m, for: 19m}\n";
    let quiet = run(&scenario(SQS, other, "1h"));
    assert_eq!(actions(&quiet, "Deactivated").last().unwrap().0, 2130.0);
}

#[test]
fn a_plain_hpa_on_an_unreadable_named_series_reports_the_metrics_error() {
    // An HPA of one's own on an External metric named like a spec.series entry: while the
    // series is unreadable, FailedGetExternalMetric and no change (upstream: all metrics
    // invalid → no scaling).
    let text = "apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: plain}
spec:
  duration: 30m
  seed: 1
  series:
    partner_lag: {base: 0, shape: [{level: {at: 10m, rps: 1000}}]}
  faults:
    - metricsOutage: {series: partner_lag, at: 9m, for: 6m}
  nodes:
    - {name: n, instanceType: m5.2xlarge, count: 3, zone: us-east-1a}
  workloads:
    web: {traffic: {base: 10}, perRequest: {cpu: 1m}}
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
      containers:
        - {name: w, image: w:1, resources: {requests: {cpu: 100m, memory: 128Mi}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 20
  metrics:
    - type: External
      external: {metric: {name: partner_lag}, target: {type: AverageValue, averageValue: '100'}}
";
    let sc = load(text);
    assert_eq!(sc.faults[0].describe(), "metrics outage partner_lag 540–900 s");
    let r = capsim::sim::run(&sc).unwrap();
    for h in r.hpa.iter().filter(|h| (540_000..900_000).contains(&h.time_ms)) {
        assert!(
            h.error.contains("no metrics returned from external metrics API"),
            "{h:?}"
        );
        assert_eq!(h.desired_replicas, 1);
    }
    // Back at 900 s: 1000 / 100 per replica.
    assert!(r.hpa.iter().any(|h| h.time_ms >= 900_000 && h.desired_replicas == 10));
}

const MODIFIERS: &str = "  minReplicaCount: 0
  maxReplicaCount: 20
  advanced:
    scalingModifiers: {formula: 'q > 1000 ? 1000 : q', target: '100', activationTarget: '10000'}
  triggers:
    - type: aws-sqs-queue
      name: q
      metadata: {queueURL: 'https://sqs.us-east-1.amazonaws.com/123/orders', queueLength: '100', awsRegion: us-east-1}
";

#[test]
fn scaling_modifiers_compose_one_metric_and_gate_activation_on_it() {
    // The HPA KEDA creates has one External metric, composite-metric, AverageValue 100. The
    // formula caps the queue at 1000 outstanding, so the HPA never wants more than
    // 1000 / 100 = 10 replicas (without it the surge takes it to maxReplicaCount 20). Activation
    // is the composite against activationTarget 10000 — which the cap keeps it under: the
    // ScaledObject never activates. With the cap above the activation target it does, at the
    // poll that first sees more than 10000 (660 s: 12000 outstanding, as with
    // activationQueueLength).
    let sc = load(&scenario(MODIFIERS, "", "1h"));
    let hpa = sc
        .hpas
        .iter()
        .find(|h| h.metadata.name.as_deref() == Some("keda-hpa-worker"))
        .unwrap();
    let metrics = hpa.spec.as_ref().unwrap().metrics.as_ref().unwrap();
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].external.as_ref().unwrap().metric.name, "composite-metric");
    let r = capsim::sim::run(&sc).unwrap();
    assert!(actions(&r, "Activated").is_empty(), "{:?}", r.keda);
    let wide = run(&scenario(
        &MODIFIERS.replace("q > 1000 ? 1000 : q", "q > 100000 ? 1000 : q"),
        "",
        "1h",
    ));
    // (It then flaps as with a high activationQueueLength: the pods keep the composite under
    // 10000, a cooldown later it is scaled to zero, the queue regrows.)
    assert_eq!(actions(&wide, "Activated")[0], (660.0, 0, 1));
    let capped = run(&scenario(
        &MODIFIERS.replace("activationTarget: '10000'", "activationTarget: '0'"),
        "",
        "1h",
    ));
    let most = keda_hpa(&capped).iter().map(|h| h.desired_replicas).max().unwrap();
    assert_eq!(most, 10);
    assert_eq!(run(&scenario(SQS, "", "1h")).summary.workloads[0].replicas_max, 20);
}

#[test]
fn a_scaling_modifiers_fallback_makes_the_failed_trigger_nil_in_the_formula() {
    // behavior: scalingModifiers: past the threshold the failed trigger is nil, and `??`
    // replaces it: 500 / 100 = 5 replicas while the queue cannot be read.
    let so = MODIFIERS
        .replace("q > 1000 ? 1000 : q", "q ?? 500")
        .replace("activationTarget: '10000'", "activationTarget: '0'")
        .replace(
            "  triggers:",
            "  fallback: {failureThreshold: 3, replicas: 2, behavior: scalingModifiers}\n  triggers:",
        );
    let r = run(&scenario(&so, OUTAGE, "1h"));
    let fourth = nth_failed_read(&r, 900.0, 4);
    let after: Vec<_> = keda_hpa(&r)
        .into_iter()
        .filter(|h| h.time_ms as f64 / 1000.0 > fourth && h.time_ms < 1_500_000)
        .collect();
    assert!(after.iter().all(|h| h.proposal == Some(5)), "{after:?}");
    // Without `??` the nil is expr-lang's `nil`: the formula's result nil means
    // fallback.replicas × target = 2 × 100 → 2 replicas.
    let bare = so.replace("q ?? 500", "q == nil ? nil : q");
    let r = run(&scenario(&bare, OUTAGE, "1h"));
    let fourth = nth_failed_read(&r, 900.0, 4);
    assert!(
        keda_hpa(&r)
            .iter()
            .filter(|h| h.time_ms as f64 / 1000.0 > fourth && h.time_ms < 1_500_000)
            .all(|h| h.proposal == Some(2))
    );
}

#[test]
fn fallback_and_modifier_inputs_upstream_rejects_are_errors_naming_the_field() {
    let cases = [
        (
            MODIFIERS.replace("q > 1000 ? 1000 : q", "q + other"),
            "spec.advanced.scalingModifiers.formula",
            "other",
        ),
        (MODIFIERS.replace("q > 1000 ? 1000 : q", "q % 2"), "spec.advanced.scalingModifiers.formula", "%"),
        (MODIFIERS.replace("target: '100'", "target: '0'"), "spec.advanced.scalingModifiers.target", ""),
        (
            with_fallback("{failureThreshold: 3, replicas: 2, behavior: scalingModifiers}"),
            "spec.fallback.behavior",
            "scalingModifiers.formula",
        ),
        (with_fallback("{replicas: 2}"), "spec.fallback.failureThreshold", ""),
        (
            "  minReplicaCount: 1\n  fallback: {failureThreshold: 3, replicas: 2}\n  triggers:\n    - {type: cpu, metricType: Utilization, metadata: {value: '60'}}\n".into(),
            "spec.fallback",
            "AverageValue",
        ),
    ];
    for (so, field, word) in cases {
        let e = load_str("keda.yaml", &scenario(&so, "", "1h"), None, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains(field) && e.contains(word), "{field}: {e}");
    }
    let e = load_str(
        "keda.yaml",
        &scenario(
            SQS,
            "  faults:\n    - metricsOutage: {series: s0-aws-sqs-queue-payments, at: 1m, for: 1m}\n",
            "1h",
        ),
        None,
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("spec.faults[0].metricsOutage.series") && e.contains("s0-aws-sqs-queue-orders"),
        "{e}"
    );
}
