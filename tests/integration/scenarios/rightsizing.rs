//! `capsim rightsize` and the shipped rightsizing scenario: an Off VPA changes nothing, the
//! recommendations are applied as the admission controller applies them, and the cost/risk
//! table holds what the two runs recorded.

use capsim::report::rightsize;
use std::process::Command;

fn load(file: &str, set: &[&str]) -> capsim::scenario::Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    capsim::scenario::load(&path, &set).unwrap()
}

#[test]
fn an_off_vpa_watching_a_workload_changes_nothing_but_the_vpa_records() {
    let sc = load("monday-surge-karpenter.yaml", &[]);
    let (observed, skipped) = rightsize::observed(&sc);
    assert_eq!(observed.vpas.len(), 1, "checkout-api gets an observer");
    assert!(skipped.iter().any(|(w, _)| w == "aws-node"), "{skipped:?}");
    let plain = capsim::sim::run(&sc).unwrap();
    let watched = capsim::sim::run(&observed).unwrap();
    assert!(plain.vpa.is_empty() && !watched.vpa.is_empty());
    assert!(watched.vpa_updates.is_empty());
    let mut s = watched.summary.clone();
    s.vpa.clear();
    assert!(
        s.events > plain.summary.events,
        "the recommender loops are events of their own"
    );
    s.events = plain.summary.events;
    assert_eq!(s, plain.summary);
    assert_eq!(format!("{:?}", watched.pods), format!("{:?}", plain.pods));
    assert_eq!(format!("{:?}", watched.hpa), format!("{:?}", plain.hpa));
}

#[test]
fn recommendations_are_applied_as_admission_applies_them() {
    let sc = load("rightsizing.yaml", &[]);
    let (observed, _) = rightsize::observed(&sc);
    let first = capsim::sim::run(&observed).unwrap();
    let (second, changes) = rightsize::rightsized(&sc, &observed, &first);
    assert!(
        second.vpas.len() == sc.vpas.len(),
        "the added Off VPAs are not in the second run"
    );
    for c in &changes {
        let v = first.summary.vpa.iter().find(|v| v.name == c.vpa).unwrap();
        let rec = v.recommendation.iter().find(|r| r.container == c.container).unwrap();
        assert_eq!(Some(c.cpu_request_m.1), rec.cpu_target_m, "{c:?}");
        assert_eq!(Some(c.memory_request.1), rec.memory_target_bytes, "{c:?}");
        // Limits keep their ratio to the request (upstream GetProportionalLimit).
        let (lb, la) = (c.cpu_limit_m.0.unwrap(), c.cpu_limit_m.1.unwrap());
        assert_eq!(la, lb * c.cpu_request_m.1 / c.cpu_request_m.0, "{c:?}");
        let w = second.workloads.iter().find(|w| w.name == c.workload).unwrap();
        let ctr = w.template.containers.iter().find(|x| x.name == c.container).unwrap();
        assert_eq!((ctr.requests.cpu_m, ctr.limit_cpu_m), (c.cpu_request_m.1, Some(la)));
    }
    let names: Vec<_> = changes.iter().map(|c| c.workload.as_str()).collect();
    assert_eq!(names, ["recommendations", "catalog", "checkout-api"]);
    // The user's own VPA caps memory at maxAllowed 512Mi.
    assert_eq!(changes[0].memory_request.1, 512 << 20);
}

fn rightsize_cli(dir: &std::path::Path, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["rightsize", "scenarios/rightsizing.yaml", "--no-charts", "-q", "-o"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(dir.join("rightsize.csv")).unwrap()
}

fn field(csv: &str, run: &str, workload: &str, col: &str) -> f64 {
    let mut lines = csv.lines();
    let header: Vec<_> = lines.next().unwrap().split(',').collect();
    let i = header.iter().position(|h| *h == col).unwrap();
    let row = lines.find(|l| l.starts_with(&format!("{run},{workload},"))).unwrap();
    row.split(',').nth(i).unwrap().parse().unwrap()
}

#[test]
fn the_shipped_rightsizing_saves_cost_and_shows_the_oom_risk_of_a_low_cap() {
    let base = std::env::temp_dir().join(format!("capsim-rightsize-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let csv = rightsize_cli(&base.join("a"), &[]);
    assert_eq!(
        csv,
        rightsize_cli(&base.join("b"), &[]),
        "same scenario and seed, same table"
    );
    let cost = |run| field(&csv, run, "catalog", "cluster_cost_usd");
    assert!(cost("rightsized") < 0.7 * cost("as-written"), "{csv}");
    for w in ["catalog", "checkout-api"] {
        assert_eq!(field(&csv, "rightsized", w, "oom_kills"), 0.0);
        assert!(field(&csv, "rightsized", w, "cost_usd") < field(&csv, "as-written", w, "cost_usd"));
    }
    // Smaller requests, same usage: a higher utilization, so the HPA runs more pods.
    assert!(
        field(&csv, "rightsized", "checkout-api", "replicas_max")
            > field(&csv, "as-written", "checkout-api", "replicas_max")
    );
    assert_eq!(field(&csv, "as-written", "recommendations", "oom_kills"), 0.0);
    assert!(field(&csv, "rightsized", "recommendations", "oom_kills") > 0.0);
    assert!(field(&csv, "rightsized", "recommendations", "unserved_share") > 0.0);
    // The fix is the cap: with maxAllowed raised, the recommendation clears the evening peak.
    let fixed = rightsize_cli(
        &base.join("c"),
        &[
            "--set",
            "VerticalPodAutoscaler/recommendations:spec.resourcePolicy.containerPolicies[0].maxAllowed.memory=4Gi",
        ],
    );
    assert_eq!(field(&fixed, "rightsized", "recommendations", "oom_kills"), 0.0);
    for f in [
        "rightsize.txt",
        "rightsize-requests.csv",
        "compare.csv",
        "as-written/vpa.csv",
        "rightsized/summary.json",
    ] {
        assert!(base.join("a").join(f).exists(), "{f}");
    }
    let _ = std::fs::remove_dir_all(&base);
}
