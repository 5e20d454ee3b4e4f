//! The benchmark scenarios under scenarios/bench/ load and validate; each runs ten simulated
//! minutes (the full runs are benchmarks: `cargo bench --bench scenarios`).

use std::path::Path;

fn bench_file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench").join(name)
}

#[test]
fn bench_scenarios_load_and_run_ten_minutes() {
    // (file, workloads, HPAs, batch pods in the trace)
    let cases: &[(&str, usize, usize, usize)] = &[
        ("peer-w1.yaml", 21, 20, 2_000),
        ("peer-w2.yaml", 101, 100, 20_000),
        ("fleet-24h.yaml", 101, 100, 0),
        ("fleet-24h-ca.yaml", 101, 100, 0),
    ];
    for &(file, workloads, hpas, jobs) in cases {
        let path = bench_file(file);
        let sc = capsim::scenario::load(&path, &["Scenario:spec.duration=10m".to_string()])
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(sc.workloads.len(), workloads, "{file}");
        assert_eq!(sc.hpas.len(), hpas, "{file}");
        let traced: usize = sc
            .workloads
            .iter()
            .map(|w| match &w.batch {
                Some(capsim::model::batch::BatchArrivals::Trace(j)) => j.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(traced, jobs, "{file}");
        let r = capsim::sim::run(&sc).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(r.summary.events > 0, "{file}");
        assert!(r.summary.cluster.nodes_max > 0, "{file}: no nodes");
    }
}

#[test]
fn sweep_grid_of_the_monday_surge_has_a_thousand_points() {
    let text = std::fs::read_to_string(bench_file("monday-surge-1000.grid.yaml")).expect("grid file");
    let grid: serde_json::Value = serde_saphyr::from_str(&text).expect("grid parses");
    let points: usize = grid["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["values"].as_array().map(Vec::len).unwrap_or(0))
        .product();
    assert_eq!(points, 1000);
}
