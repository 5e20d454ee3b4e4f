//! Every upstream vector in tests/data/hpa-vectors.json (a copy of ../shared/fidelity/hpa-vectors.json)
//! passes through capsim's HPA code, via the same adapter as `capsim hpa eval`.

use capsim::controllers::hpa::vectors::VectorFile;

#[test]
fn all_public_vectors_pass() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/hpa-vectors.json"))
        .expect("vectors file");
    let file = VectorFile::parse(&text).expect("schema");
    let outcomes = file.evaluate_all();
    let failed: Vec<String> = outcomes.iter().filter(|o| !o.pass).map(|o| o.to_json_line()).collect();
    let passed = outcomes.len() - failed.len();
    eprintln!("{passed} passed, {} failed", failed.len());
    assert_eq!(outcomes.len(), 144, "the public set has 144 vectors");
    assert!(
        failed.is_empty(),
        "{} of {} vectors failed:\n{}",
        failed.len(),
        outcomes.len(),
        failed.join("\n")
    );
}

#[test]
fn wrong_schema_is_rejected() {
    assert!(VectorFile::parse("[]").is_err());
    assert!(VectorFile::parse(r#"{"schema": "other/v1", "vectors": []}"#).is_err());
    assert!(VectorFile::parse(r#"{"schema": "k8s-autoscaling-sim/hpa-vectors/v1"}"#).is_err());
    assert!(
        VectorFile::parse(r#"{"schema": "k8s-autoscaling-sim/hpa-vectors/v1", "vectors": [{"id": "X"}]}"#).is_err()
    );
}

#[test]
fn unknown_kind_fails_with_an_error() {
    let f = VectorFile::parse(
        r#"{"schema": "k8s-autoscaling-sim/hpa-vectors/v1",
            "vectors": [{"id": "X-1", "kind": "replica_calc.teleport", "input": {}, "expected": {"replicas": 1}}]}"#,
    )
    .unwrap();
    let o = f.evaluate_all();
    assert!(!o[0].pass);
    assert!(o[0].actual["error"].as_str().unwrap().contains("unsupported kind"));
}

#[test]
fn a_wrong_expectation_fails() {
    // NLR-001 with a wrong expected replica count must not pass.
    let f = VectorFile::parse(
        r#"{"schema": "k8s-autoscaling-sim/hpa-vectors/v1",
            "vectors": [{"id": "NLR-X", "kind": "normalize.legacy_rules",
              "input": {"current_replicas": 5, "desired_replicas": 7, "min_replicas": 3, "max_replicas": 8,
                        "scale_up_limit_factor": 2.0, "scale_up_limit_minimum": 4.0},
              "expected": {"replicas": 8, "limiting_reason": "DesiredWithinRange"}}]}"#,
    )
    .unwrap();
    let o = f.evaluate_all();
    assert!(!o[0].pass);
    assert_eq!(o[0].actual["replicas"], 7);
}

/// Held-out upstream behaviour (horizontal.go `reconcileAutoscaler`): replicas below
/// `minReplicas` scale to the minimum before any metric is read, so a metric with no usable
/// target does not stop it; at the minimum, the same metric fails the reconcile.
#[test]
fn below_min_replicas_scales_to_min_even_without_a_usable_metric_target() {
    let vector = |id: &str, replicas: i32| {
        format!(
            r#"{{"id": "{id}", "kind": "controller.reconcile",
                "input": {{"hpa": {{"min_replicas": 2, "max_replicas": 6,
                                   "metrics": [{{"type": "Resource", "name": "cpu", "target": {{}}}}], "behavior": null}},
                          "scale": {{"spec_replicas": {replicas}, "status_replicas": {replicas}}},
                          "pods": [{{"name": "test-pod-0", "phase": "Running", "deleting": false,
                                     "start_time": "zero", "ready_condition": {{"status": "True", "last_transition": "zero"}},
                                     "containers": [{{"name": "c", "cpu_request_m": 500}}]}}],
                          "metrics": {{}}}},
                "expected": {{"desired_replicas": 2, "scale_updated": true}}}}"#
        )
    };
    let text = format!(
        r#"{{"schema": "k8s-autoscaling-sim/hpa-vectors/v1", "vectors": [{}]}}"#,
        vector("MIN-1", 1)
    );
    let f = VectorFile::parse(&text).expect("schema");
    let o = &f.evaluate_all()[0];
    assert!(o.pass, "{}", o.to_json_line());
    let text = format!(
        r#"{{"schema": "k8s-autoscaling-sim/hpa-vectors/v1", "vectors": [{}]}}"#,
        vector("MIN-2", 2)
    );
    let f = VectorFile::parse(&text).expect("schema");
    let o = &f.evaluate_all()[0];
    assert!(
        !o.pass,
        "at the minimum the metric is read and fails: {}",
        o.to_json_line()
    );
    assert!(
        o.to_json_line().contains("FailedGetResourceMetric"),
        "{}",
        o.to_json_line()
    );
}
