//! The `capsim` binary on good and bad input: exit codes (0 ok, 2 bad input), a message on stderr
//! that names the field or file, never a panic, and no output files after an error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_capsim");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cli").join(name)
}

/// A fresh empty directory under the system temp dir.
fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "capsim-cli-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn capsim(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("capsim runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The valid scenario with `from` replaced by `to` (which must occur).
fn mutated(from: &str, to: &str) -> String {
    let ok = std::fs::read_to_string(data("ok.yaml")).unwrap();
    assert!(ok.contains(from), "{from:?} not in ok.yaml");
    ok.replacen(from, to, 1)
}

/// `capsim run FILE -o OUT [extra]` on `yaml` written to a temp dir: exit 2, `needles` on stderr,
/// no panic, nothing in OUT.
fn assert_bad_run(tag: &str, yaml: &str, extra: &[&str], needles: &[&str]) {
    let dir = temp_dir(tag);
    let file = dir.join(format!("{tag}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    assert_bad_file(tag, &file, extra, needles);
}

fn assert_bad_file(tag: &str, file: &Path, extra: &[&str], needles: &[&str]) {
    let out = temp_dir(&format!("{tag}-out"));
    let (f, o) = (file.to_str().unwrap(), out.to_str().unwrap());
    let mut args = vec!["run", f, "-o", o, "--no-charts"];
    args.extend_from_slice(extra);
    let r = capsim(&args);
    let err = stderr(&r);
    assert_eq!(r.status.code(), Some(2), "{tag}: exit code; stderr:\n{err}");
    assert!(!err.contains("panicked"), "{tag}: panicked:\n{err}");
    for n in needles {
        assert!(err.contains(n), "{tag}: stderr does not name {n:?}:\n{err}");
    }
    let written: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert!(written.is_empty(), "{tag}: output written after an error: {written:?}");
    // `validate` rejects it the same way.
    let mut vargs = vec!["validate", f];
    vargs.extend_from_slice(extra);
    let v = capsim(&vargs);
    assert_eq!(
        v.status.code(),
        Some(2),
        "{tag}: validate exit code; stderr:\n{}",
        stderr(&v)
    );
    assert!(!stderr(&v).contains("panicked"));
}

// ----- bad input ---------------------------------------------------------------------------

#[test]
fn malformed_quantity() {
    let y = mutated("requests: {cpu: 250m", "requests: {cpu: 25Om");
    assert_bad_run("quantity", &y, &[], &["25Om", "cpu"]);
}

#[test]
fn malformed_duration() {
    let y = mutated("duration: 10m", "duration: 10 minutes");
    assert_bad_run("duration", &y, &[], &["spec.duration", "10 minutes"]);
}

#[test]
fn missing_required_field() {
    let y = mutated("  duration: 10m\n", "");
    assert_bad_run("missing", &y, &[], &["duration"]);
}

#[test]
fn wrong_type() {
    let y = mutated("replicas: 3", "replicas: three");
    assert_bad_run("type", &y, &[], &["spec.replicas", "Deployment"]);
}

#[test]
fn unknown_workload_in_traffic() {
    let y = mutated("    api:\n      traffic", "    checkout:\n      traffic");
    assert_bad_run("unknown-workload", &y, &[], &["checkout"]);
}

#[test]
fn negative_replicas() {
    let y = mutated("replicas: 3", "replicas: -2");
    assert_bad_run("negative", &y, &[], &["replicas", "-2"]);
}

#[test]
fn duplicate_object_names() {
    let ok = std::fs::read_to_string(data("ok.yaml")).unwrap();
    let deployment = &ok[ok.find("apiVersion: apps/v1").unwrap()..];
    let y = format!("{ok}---\n{deployment}");
    assert_bad_run("duplicate", &y, &[], &["api", "Deployment"]);
}

#[test]
fn yaml_syntax_error() {
    let y = mutated(
        "selector: {matchLabels: {app: api}}",
        "selector: {matchLabels: {app: api}",
    );
    assert_bad_run("syntax", &y, &[], &["syntax.yaml", "line"]);
}

#[test]
fn include_of_a_missing_file() {
    assert_bad_file(
        "include",
        &data("include-missing.yaml"),
        &[],
        &["include-missing.yaml", "not-there.yaml"],
    );
}

#[test]
fn alias_bomb() {
    assert_bad_file("bomb", &data("alias-bomb.yaml"), &[], &["alias-bomb.yaml", "alias"]);
}

#[test]
fn empty_file() {
    assert_bad_file("empty", &data("empty.yaml"), &[], &["empty.yaml", "empty"]);
}

#[test]
fn set_path_that_does_not_exist() {
    assert_bad_file(
        "set",
        &data("ok.yaml"),
        &["--set", "Deployment/api:spec.strategy.rollingUpdate.maxSurge=2"],
        &["strategy"],
    );
    assert_bad_file(
        "set-target",
        &data("ok.yaml"),
        &["--set", "Deployment/web:spec.replicas=2"],
        &["web"],
    );
}

/// The valid scenario under Cluster Autoscaler with these container args.
fn with_ca(args: &str) -> String {
    let y = mutated(
        "  nodes:\n    - {name: base, instanceType: m5.large, count: 2, zone: us-east-1a}\n",
        &format!("  provisioner:\n    clusterAutoscaler:\n      args: [{args}]\n"),
    );
    format!(
        "{y}---\napiVersion: capsim/v1alpha1\nkind: NodeGroup\nmetadata: {{name: general}}\n\
         spec: {{instanceType: m5.large, min: 1, max: 5}}\n"
    )
}

#[test]
fn ca_unknown_expander() {
    assert_bad_run(
        "expander",
        &with_ca("--expander=cheapest"),
        &[],
        &["expander", "cheapest"],
    );
}

#[test]
fn ca_malformed_duration_flag() {
    assert_bad_run(
        "ca-duration",
        &with_ca("--scan-interval=10 parsecs"),
        &[],
        &["scan-interval"],
    );
}

#[test]
fn malformed_nodepool() {
    let nodepool = |req: &str| {
        let y = mutated(
            "  nodes:\n    - {name: base, instanceType: m5.large, count: 2, zone: us-east-1a}\n",
            "  provisioner:\n    karpenter: {}\n",
        );
        format!(
            "{y}---\napiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {{name: general}}\nspec:\n  template:\n    \
             spec:\n      requirements:\n        - {req}\n      nodeClassRef: {{group: karpenter.k8s.aws, kind: \
             EC2NodeClass, name: default}}\n"
        )
    };
    let bad_op = nodepool("{key: karpenter.sh/capacity-type, operator: Between, values: [spot]}");
    assert_bad_run("nodepool-op", &bad_op, &[], &["general", "operator", "Between"]);
    let bad_value = nodepool("{key: karpenter.sh/capacity-type, operator: In, values: [cheap]}");
    assert_bad_run("nodepool-value", &bad_value, &[], &["general", "cheap"]);
}

#[test]
fn hpa_min_above_max() {
    let ok = std::fs::read_to_string(data("ok.yaml")).unwrap();
    let y = format!(
        "{ok}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: api, namespace: default}}\n\
         spec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}\n  minReplicas: 5\n  \
         maxReplicas: 2\n  metrics:\n    - type: Resource\n      resource: {{name: cpu, target: {{type: Utilization, \
         averageUtilization: 60}}}}\n"
    );
    assert_bad_run("hpa", &y, &[], &["minReplicas"]);
}

#[test]
fn missing_scenario_file() {
    assert_bad_file("no-file", &data("does-not-exist.yaml"), &[], &["does-not-exist.yaml"]);
}

// ----- good input --------------------------------------------------------------------------

#[test]
fn run_writes_the_output_files() {
    let out = temp_dir("run-ok");
    let r = capsim(&[
        "run",
        data("ok.yaml").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--no-charts",
    ]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    for f in ["summary.json", "timeline.csv", "pods.csv", "nodes.csv"] {
        let len = std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{f} missing or empty");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["scenario"], "cli-ok");
    assert_eq!(summary["workloads"][0]["pods_created"], 3);
    assert!(stdout(&r).contains("api"), "{}", stdout(&r));
}

#[test]
fn validate_accepts_a_good_scenario() {
    let r = capsim(&["validate", data("ok.yaml").to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(!stderr(&r).contains("panicked"));
}

#[test]
fn demo_runs() {
    let out = temp_dir("demo");
    let r = Command::new(BIN).arg("demo").current_dir(&out).output().unwrap();
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(!stdout(&r).is_empty());
}

#[test]
fn hpa_eval_passes_the_bundled_vectors() {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hpa-vectors.json");
    let r = capsim(&["hpa", "eval", vectors.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(
        stdout(&r).contains(" 0 failed"),
        "{}",
        stdout(&r).lines().last().unwrap_or("")
    );
}

#[test]
fn catalog_lists_a_family() {
    let r = capsim(&["catalog", "--family", "m5"]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let s = stdout(&r);
    for t in ["m5.large", "m5.xlarge", "m5.2xlarge", "m5.16xlarge"] {
        assert!(s.contains(t), "{t} missing:\n{s}");
    }
    assert!(!s.contains("m6i."), "other families listed:\n{s}");
    let bad = capsim(&["catalog", "--min-memory", "lots"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("lots"));
}

#[test]
fn catalog_flag_replaces_the_bundled_catalog() {
    // The same scenario priced from a one-row catalog where m5.large costs $1/h: the cost follows.
    let dir = temp_dir("catalog");
    let header = capsim::cloud::catalog::BUNDLED_CSV.lines().next().unwrap();
    let row = capsim::cloud::catalog::BUNDLED_CSV
        .lines()
        .find(|l| l.starts_with("m5.large,"))
        .unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let mut fields: Vec<String> = row.split(',').map(str::to_string).collect();
    fields[cols.iter().position(|c| *c == "od_price_usd_hr").unwrap()] = "1.0".into();
    let csv = dir.join("cat.csv");
    std::fs::write(&csv, format!("{header}\n{}\n", fields.join(","))).unwrap();
    let out = temp_dir("catalog-out");
    let ok = data("ok.yaml");
    let r = capsim(&[
        "run",
        ok.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--no-charts",
        "--catalog",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let hours = summary["cluster"]["node_hours"].as_f64().unwrap();
    let cost = summary["cluster"]["cost_total_usd"].as_f64().unwrap();
    assert!(
        (cost - hours).abs() < 0.01,
        "cost {cost} for {hours} node-hours at $1/h"
    );
    // A catalog file that does not exist is bad input.
    let r = capsim(&[
        "run",
        ok.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--catalog",
        "/nonexistent.csv",
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("--catalog"), "{}", stderr(&r));
}
