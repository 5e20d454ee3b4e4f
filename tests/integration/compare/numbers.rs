//! `capsim compare`'s numbers are the individual runs' numbers, in input order, whatever order
//! the parallel runs finish in; its files and charts are written; bad variants are clear errors.

use crate::charts::kit;

use capsim::cloud::Distribution;
use capsim::report::compare::{
    compare_csv, compare_rows, compare_table, run_variants, variant_dir_name, write_compare,
};
use capsim::report::files::f;
use capsim::scenario::Scenario;
use capsim::sim;
use capsim::testkit::*;
use std::fs;

/// A surge on a small static cluster: pods beyond what fits stay Pending, so Pending times and
/// unserved traffic are non-trivial. `nodes_n` and `pull_s` vary between variants.
fn surge(nodes_n: u32, pull_s: u64) -> Scenario {
    let mut sc = scenario();
    sc.name = "surge".into();
    sc.seed = 7;
    sc.duration = secs(1800);
    sc.static_nodes.push(nodes("general", "m5.large", nodes_n));
    let mut w = deployment("api", 10, 600, 256);
    w.startup.image_pull = Distribution::lognormal(secs(pull_s), secs(3 * pull_s)).unwrap();
    w.service.max_rps_per_pod = Some(40.0);
    w.traffic = Some(traffic(
        serde_json::json!({"base": 200, "noise": {"kind": "lognormal", "cv": 0.1, "interval": "10s"}}),
        "api",
    ));
    sc.workloads.push(w);
    sc
}

fn variants() -> Vec<(String, Scenario)> {
    vec![
        ("two-nodes".to_string(), surge(2, 8)),
        ("four-nodes".to_string(), surge(4, 8)),
        ("slow-pull".to_string(), surge(4, 40)),
    ]
}

#[test]
fn compare_numbers_equal_the_individual_runs() {
    let results = run_variants(variants()).expect("runs");
    let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["two-nodes", "four-nodes", "slow-pull"], "input order kept");
    for ((name, r), (_, sc)) in results.iter().zip(variants()) {
        let alone = sim::run(&sc).expect("run");
        assert_eq!(
            r.summary, alone.summary,
            "{name}: summary differs from its individual run"
        );
        assert_eq!(r.timeline, alone.timeline, "{name}: timeline differs");
    }
    // The variants really differ (so the equality above is not vacuous).
    assert_ne!(
        results[0].1.summary.workloads[0].unserved_share,
        results[1].1.summary.workloads[0].unserved_share
    );

    let rows = compare_rows(&results);
    assert_eq!(rows.len(), 3);
    for (row, (name, r)) in rows.iter().zip(&results) {
        let w = &r.summary.workloads[0];
        let c = &r.summary.cluster;
        assert_eq!(row.variant, *name);
        assert_eq!(row.seed, 7);
        assert_eq!(row.workload, "api");
        assert_eq!(row.pending_p50_s, w.pending.p50);
        assert_eq!(row.pending_p95_s, w.pending.p95);
        assert_eq!(row.pending_max_s, w.pending.max);
        assert_eq!(row.unserved_share, w.unserved_share);
        assert_eq!(row.peak_nodes, c.nodes_max);
        assert_eq!(row.cost_usd, c.cost_total_usd);
        assert_eq!(Some(row.workload_cost_usd), c.cost_by_workload.get("api").copied());
        let per_million = c.cost_total_usd / w.requests_total * 1e6;
        assert!((row.cost_per_million_requests.unwrap() - per_million).abs() < 1e-9);
    }

    // compare.csv: header + one line per variant × workload, fields as the summaries say.
    let csv = String::from_utf8(compare_csv(&rows)).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for (line, (name, r)) in lines[1..].iter().zip(&results) {
        let cells: Vec<&str> = line.split(',').collect();
        let w = &r.summary.workloads[0];
        assert_eq!(cells[col("variant")], name);
        assert_eq!(cells[col("pending_p95_s")], f(w.pending.p95));
        assert_eq!(cells[col("pending_max_s")], f(w.pending.max));
        assert_eq!(cells[col("peak_nodes")], r.summary.cluster.nodes_max.to_string());
        assert_eq!(cells[col("cost_usd")], f(r.summary.cluster.cost_total_usd));
        let share: f64 = cells[col("unserved_share")].parse().unwrap();
        assert!((share - w.unserved_share).abs() < 1e-6);
    }

    // The table has a column per variant and each variant's cost.
    let table = compare_table(&rows);
    let head = table.lines().nth(2).unwrap();
    assert!(head.contains("two-nodes") && head.contains("four-nodes") && head.contains("slow-pull"));
    assert!(table.contains("seed 7 (shared)"));
    for (_, r) in &results {
        assert!(table.contains(&format!("${:.2}", r.summary.cluster.cost_total_usd)));
    }
}

#[test]
fn write_compare_writes_table_csv_charts_and_each_variants_outputs() {
    let dir = kit::temp_dir("compare-write");
    let results = vec![
        ("cheap".to_string(), kit::checkout(1.0)),
        ("dear/x".to_string(), kit::checkout(2.5)),
    ];
    let written = write_compare(&dir, &results, "demo", true).expect("write");
    for f in [
        "compare.txt",
        "compare.csv",
        "compare-timeline.png",
        "compare-timeline.svg",
        "compare-pending-cdf.png",
        "compare-pending-cdf.svg",
        "cheap/summary.json",
        "cheap/timeline.png",
        "dear_x/summary.json",
        "dear_x/pending-cdf.svg",
    ] {
        assert!(written.contains(&dir.join(f)), "{f} not reported");
        assert!(
            fs::metadata(dir.join(f)).map(|m| m.len() > 0).unwrap_or(false),
            "{f} missing or empty"
        );
    }
    assert_eq!(variant_dir_name("dear/x"), "dear_x");
    // Each variant's directory holds exactly what a single run writes.
    let alone = kit::temp_dir("compare-write-alone");
    capsim::report::write_run_outputs(&alone, &results[1].1).unwrap();
    assert_eq!(
        fs::read(alone.join("summary.json")).unwrap(),
        fs::read(dir.join("dear_x/summary.json")).unwrap()
    );
    let png = fs::read(dir.join("compare-timeline.png")).unwrap();
    assert_eq!(png[..4], [0x89, b'P', b'N', b'G']);
    let svg = fs::read_to_string(dir.join("compare-timeline.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for t in [
        "demo — compared",
        "Ready replicas (pods)",
        "cheap (total $",
        "dear/x (total $",
        "Cost rate ($/h)",
    ] {
        assert!(svg.contains(t), "compare-timeline.svg lacks {t:?}");
    }
    // Same demand in both variants: one shared demand line, not one per variant.
    assert!(!svg.contains("cheap demand"));
    let cdf = fs::read_to_string(dir.join("compare-pending-cdf.svg")).unwrap();
    assert!(cdf.contains("demo — Pending time CDF by variant") && cdf.contains("cheap (n=30"));
    let table = fs::read_to_string(dir.join("compare.txt")).unwrap();
    assert!(table.contains("cost / M requests"));
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_dir_all(&alone);
}

#[test]
fn write_compare_without_charts_writes_no_images() {
    let dir = kit::temp_dir("compare-nocharts");
    let results = vec![
        ("a".to_string(), kit::checkout(1.0)),
        ("b".to_string(), kit::checkout(1.1)),
    ];
    let written = write_compare(&dir, &results, "demo", false).expect("write");
    assert!(written.iter().all(|p| !p.to_string_lossy().ends_with(".png")));
    assert!(!dir.join("compare-timeline.png").exists());
    assert!(dir.join("b/summary.json").exists());
    let _ = fs::remove_dir_all(&dir);
}

fn capsim(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .output()
        .expect("run capsim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn variant_syntax_errors_are_clear_bad_input() {
    let (code, err) = capsim(&["compare", "scenarios/static-surge.yaml", "--variant", "no-equals-sign"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--variant \"no-equals-sign\": expected NAME=OVERRIDE"),
        "{err}"
    );

    let (code, err) = capsim(&[
        "compare",
        "scenarios/static-surge.yaml",
        "--variant",
        "fast=Deployment/x:spec.replicas",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("override \"Deployment/x:spec.replicas\" has no '='"),
        "{err}"
    );

    let (code, err) = capsim(&[
        "compare",
        "scenarios/static-surge.yaml",
        "--variant",
        "baseline=Deployment/x:spec.replicas=3",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--no-baseline"), "{err}");

    let (code, err) = capsim(&["compare", "scenarios/static-surge.yaml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nothing to compare"), "{err}");
}
