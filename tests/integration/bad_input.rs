//! Every bad-input class we know, as a table: each is a mutation of a small valid scenario (or a
//! trace or flag beside it) that `capsim run` must refuse with exit 2, a message naming the file,
//! the document or object and the field path, and what is accepted — never a panic, and no output
//! or temporary file left behind. `capsim validate` refuses the same input.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_capsim");

fn ok_yaml() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cli/ok.yaml")).expect("ok.yaml")
}

fn fresh_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "capsim-bad-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// One class: how the valid scenario is changed, files written beside it, extra flags, and what
/// the message must name.
struct Case {
    tag: &'static str,
    /// (from, to) replacements applied to ok.yaml in order (`from` must occur).
    edits: &'static [(&'static str, &'static str)],
    /// Text appended to the scenario (further documents).
    append: &'static str,
    /// (file name, contents) written beside the scenario.
    files: &'static [(&'static str, &'static str)],
    flags: &'static [&'static str],
    needles: &'static [&'static str],
}

const fn case(
    tag: &'static str,
    edits: &'static [(&'static str, &'static str)],
    needles: &'static [&'static str],
) -> Case {
    Case {
        tag,
        edits,
        append: "",
        files: &[],
        flags: &[],
        needles,
    }
}

const TRAFFIC: &str = "traffic: {base: 50}";
const PROM_TWO: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[1,"1"],[2,"2"]]},{"metric":{"job":"b"},"values":[[1,"1"],[2,"2"]]}]}}"#;

#[rustfmt::skip]
const CASES: &[Case] = &[
    case("quantity", &[("cpu: 250m", "cpu: 25Om")], &["document 2", "Deployment", "cpu", "25Om"]),
    case("quantity-unit", &[("memory: 256Mi", "memory: 256MB")], &["memory", "256MB"]),
    case("duration", &[("duration: 10m", "duration: 10 minutes")], &["spec.duration", "10m"]),
    case("duration-zero", &[("duration: 10m", "duration: 0s")], &["spec.duration", "must be > 0"]),
    case("duration-huge", &[("duration: 10m", "duration: 100000h")], &["spec.duration", "limit"]),
    case("resolution-zero", &[("resolution: 30s", "resolution: 0s")], &["spec.resolution", "must be > 0"]),
    case("resolution-long", &[("resolution: 30s", "resolution: 1h")], &["spec.resolution", "must be <= spec.duration"]),
    case("timeline-rows", &[("duration: 10m", "duration: 8000h"), ("resolution: 30s", "resolution: 1s")], &["spec.resolution", "timeline rows", "limit"]),
    case("seed-type", &[("seed: 1", "seed: one")], &["spec.seed"]),
    case("unknown-field", &[("seed: 1", "seed: 1\n  sed: 2")], &["sed", "unknown field"]),
    case("unknown-top-field", &[("metadata: {name: cli-ok}", "metadata: {name: cli-ok}\nextra: 1")], &["extra", "unknown field"]),
    case("node-type", &[("instanceType: m5.large", "instanceType: m5.lrage")], &["spec.nodes[0].instanceType", "m5.lrage", "same family"]),
    case("node-count", &[("count: 2", "count: 1000000000")], &["spec.nodes[0].count", "limit"]),
    case("node-count-negative", &[("count: 2", "count: -1")], &["spec.nodes[0].count"]),
    case("node-dup", &[("- {name: base, instanceType: m5.large, count: 2, zone: us-east-1a}", "- {name: base, instanceType: m5.large}\n    - {name: base, instanceType: m5.large}")], &["spec.nodes[1].name", "already named"]),
    case("workload-missing", &[("  workloads:\n    api:", "  workloads:\n    apx:")], &["spec.workloads.apx"]),
    case("traffic-negative", &[(TRAFFIC, "traffic: {base: -5}")], &["spec.workloads.api.traffic", "base"]),
    case("traffic-shape", &[(TRAFFIC, "traffic: {base: 5, shape: [{surge: {at: 1m, factor: 0}}]}")], &["spec.workloads.api.traffic", "shape[0].surge"]),
    case("traffic-shape-kind", &[(TRAFFIC, "traffic: {base: 5, shape: [{wobble: {}}]}")], &["spec.workloads.api.traffic", "wobble"]),
    case("per-request", &[("perRequest: {cpu: 2m", "perRequest: {cpu: fast")], &["spec.workloads.api", "perRequest"]),
    case("latency-dist", &[("resolution: 30s", "resolution: 30s\n  nodeLatency: {launch: {uniform: {min: 5m, max: 1m}}}")], &["spec.nodeLatency.launch"]),
    case("latency-type", &[("resolution: 30s", "resolution: 30s\n  nodeLatency: {byInstanceType: {m5.nope: {launch: 1m}}}")], &["spec.nodeLatency.byInstanceType", "m5.nope"]),
    case("metric-resolution", &[("resolution: 30s", "resolution: 30s\n  metricsServer: {metricResolution: 0s}")], &["spec.metricsServer.metricResolution", "must be > 0"]),
    case("provisioner", &[("resolution: 30s", "resolution: 30s\n  provisioner: autoscaler9000")], &["spec.provisioner", "clusterAutoscaler", "karpenter"]),
    case("provisioner-key", &[("resolution: 30s", "resolution: 30s\n  provisioner: {autoscaler9000: {}}")], &["spec.provisioner.autoscaler9000", "unknown provisioner"]),
    case("ca-flag", &[("resolution: 30s", "resolution: 30s\n  provisioner: {clusterAutoscaler: {args: [--scan-interval=fast]}}")], &["spec.provisioner.clusterAutoscaler.args", "scan-interval"]),
    case("ca-field", &[("resolution: 30s", "resolution: 30s\n  provisioner: {clusterAutoscaler: {flags: []}}")], &["spec.provisioner.clusterAutoscaler.flags", "expected args"]),
    case("karpenter-setting", &[("resolution: 30s", "resolution: 30s\n  provisioner: {karpenter: {batchIdleDuration: soon}}")], &["spec.provisioner.karpenter", "batchIdleDuration"]),
    case("replicas-negative", &[("replicas: 3", "replicas: -3")], &["Deployment", "spec.replicas"]),
    case("replicas-huge", &[("replicas: 3", "replicas: 1000000000")], &["Deployment", "spec.replicas", "limit"]),
    Case { tag: "runaway-hpa", edits: &[(TRAFFIC, "traffic: {base: 1000000000000}")], append: "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, minReplicas: 1, maxReplicas: 2000000000, behavior: {scaleUp: {policies: [{type: Percent, value: 1000000000, periodSeconds: 15}]}}}\n", files: &[], flags: &[], needles: &["the run stopped", "Deployment default/api", "pods", "maxReplicas"] },
    case("replicas-type", &[("replicas: 3", "replicas: three")], &["Deployment", "replicas"]),
    case("no-containers", &[("containers:", "kontainers:")], &["Deployment", "spec.template.spec.containers", "at least one container"]),
    case("include-absolute", &[("resolution: 30s", "resolution: 30s\n  include: [/usr]")], &["spec.include", "relative"]),
    case("include-missing", &[("resolution: 30s", "resolution: 30s\n  include: [nope.yaml]")], &["spec.include", "nope.yaml"]),
    case("yaml-syntax", &[("seed: 1", "seed: [1")], &["line"]),
    case("no-scenario", &[("kind: Scenario", "kind: Scenari0")], &["Scenario"]),
    Case { tag: "dup-object", edits: &[], append: "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: default}\nspec: {selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: a, image: b}]}}}\n", files: &[], flags: &[], needles: &["Deployment", "api"] },
    Case { tag: "hpa-target", edits: &[], append: "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: apx}, maxReplicas: 3}\n", files: &[], flags: &[], needles: &["HorizontalPodAutoscaler", "spec.scaleTargetRef.name", "apx"] },
    Case { tag: "hpa-max", edits: &[], append: "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, minReplicas: 4, maxReplicas: 2}\n", files: &[], flags: &[], needles: &["HorizontalPodAutoscaler", "spec.maxReplicas", "minReplicas"] },
    Case { tag: "pdb-both", edits: &[], append: "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: api}\nspec: {minAvailable: 1, maxUnavailable: 1, selector: {matchLabels: {app: api}}}\n", files: &[], flags: &[], needles: &["PodDisruptionBudget", "minAvailable", "maxUnavailable"] },
    Case { tag: "trace-ms", edits: &[(TRAFFIC, "traffic: {replay: {file: t.csv, timeFormat: unix}}")], append: "", files: &[("t.csv", "time,value\n1715590800000,1\n1715590860000,2\n")], flags: &[], needles: &["t.csv", "line 2", "epoch milliseconds", "unix-ms"] },
    Case { tag: "trace-grafana", edits: &[(TRAFFIC, "traffic: {replay: {file: t.csv}}")], append: "", files: &[("t.csv", "time,value\n2024-05-13 09:00:00,1\n2024-05-13 09:01:00,2\n")], flags: &[], needles: &["t.csv", "line 2", "timeFormat: datetime"] },
    Case { tag: "trace-column", edits: &[(TRAFFIC, "traffic: {replay: {file: t.csv}}")], append: "", files: &[("t.csv", "ts,rps\n0,1\n60,2\n")], flags: &[], needles: &["t.csv", "line 1", "no column \"time\"", "timeColumn"] },
    Case { tag: "trace-backwards", edits: &[(TRAFFIC, "traffic: {replay: {file: t.csv}}")], append: "", files: &[("t.csv", "time,value\n60,1\n0,2\n")], flags: &[], needles: &["t.csv", "line 3", "backwards"] },
    Case { tag: "trace-prom-series", edits: &[(TRAFFIC, "traffic: {replay: {file: t.json}}")], append: "", files: &[("t.json", PROM_TWO)], flags: &[], needles: &["t.json", "data.result", "selector"] },
    Case { tag: "trace-resample", edits: &[(TRAFFIC, "traffic: {replay: {file: t.csv, resample: 1ms}}")], append: "", files: &[("t.csv", "time,value\n0,1\n86400,2\n172800,3\n")], flags: &[], needles: &["replay.resample", "limit"] },
    Case { tag: "trace-missing", edits: &[(TRAFFIC, "traffic: {replay: {file: none.csv}}")], append: "", files: &[], flags: &[], needles: &["none.csv", "cannot read trace"] },
    Case { tag: "batch-epoch", edits: &[("  workloads:\n", "  workloads:\n    etl: {batch: {trace: jobs.csv}}\n")], append: "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: etl}\nspec: {template: {spec: {restartPolicy: Never, containers: [{name: etl, image: etl, resources: {requests: {cpu: 100m, memory: 64Mi}}}]}}}\n", files: &[("jobs.csv", "arrival,cpu,memory,duration\n1715590800000,100m,64Mi,60\n")], flags: &[], needles: &["jobs.csv", "line 2", "offsets from the run's start"] },
    Case { tag: "unknown-manifest-field", edits: &[("image: example.com/api:1", "image: example.com/api:1\n          imagePullPolicyy: Always")], append: "", files: &[], flags: &["--strict"], needles: &["unknown-manifest-field.yaml", "document 2 (Deployment", "spec.template.spec.containers[0].imagePullPolicyy", "not a field of apps/v1 Deployment", "--strict"] },
    Case { tag: "set-path", edits: &[], append: "", files: &[], flags: &["--set", "Deployment/nope:spec.replicas=2"], needles: &["--set", "Deployment/nope"] },
    Case { tag: "set-value", edits: &[], append: "", files: &[], flags: &["--set", "Deployment/api:spec.replicas=[1"], needles: &["--set", "spec.replicas"] },
    Case { tag: "seed-negative", edits: &[], append: "", files: &[], flags: &["--seed", "-5"], needles: &["--seed", "-5", "whole number"] },
    Case { tag: "catalog-missing", edits: &[], append: "", files: &[], flags: &["--catalog", "no-such-catalog.csv"], needles: &["no-such-catalog.csv"] },
];

#[test]
fn every_bad_input_class_is_refused_clearly() {
    assert!(CASES.len() >= 40, "{} classes", CASES.len());
    let mut failures = Vec::new();
    for c in CASES {
        let dir = fresh_dir(c.tag);
        let mut yaml = ok_yaml();
        for (from, to) in c.edits {
            assert!(yaml.contains(from), "{}: {from:?} not in ok.yaml", c.tag);
            yaml = yaml.replacen(from, to, 1);
        }
        yaml.push_str(c.append);
        let file = dir.join(format!("{}.yaml", c.tag));
        std::fs::write(&file, &yaml).expect("write scenario");
        for (name, text) in c.files {
            std::fs::write(dir.join(name), text).expect("write side file");
        }
        let out = dir.join("out");
        let f = file.to_str().expect("utf-8 path");
        for sub in ["run", "validate"] {
            // A runaway run is only found by running it.
            if sub == "validate" && c.tag.starts_with("runaway") {
                continue;
            }
            let mut args: Vec<&str> = vec![sub, f];
            if sub == "run" {
                args.extend(["-o", out.to_str().expect("utf-8"), "--no-charts"]);
            }
            // validate takes no --seed; the other flags it shares with run.
            if sub == "run" || !c.flags.contains(&"--seed") {
                args.extend_from_slice(c.flags);
            } else {
                continue;
            }
            let r = Command::new(BIN).args(&args).output().expect("capsim runs");
            let err = String::from_utf8_lossy(&r.stderr);
            let mut why = Vec::new();
            if r.status.code() != Some(2) {
                why.push(format!("exit {:?}", r.status.code()));
            }
            if err.contains("panicked") {
                why.push("panicked".into());
            }
            for n in c.needles {
                if !err.contains(n) {
                    why.push(format!("does not name {n:?}"));
                }
            }
            // The scenario's own name, for errors about the scenario (not flags).
            if c.flags.is_empty() && c.files.is_empty() && !err.contains(&format!("{}.yaml", c.tag)) {
                why.push("does not name the file".into());
            }
            if !why.is_empty() {
                failures.push(format!("{} ({sub}): {}\n    {}", c.tag, why.join("; "), err.trim()));
            }
        }
        // Nothing written, not even a temporary.
        if out.exists() {
            let left: Vec<_> = std::fs::read_dir(&out).expect("out").collect();
            if !left.is_empty() {
                failures.push(format!("{}: files left in the output directory: {left:?}", c.tag));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(
        failures.is_empty(),
        "{} of {} classes:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
