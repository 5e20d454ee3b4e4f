use capsim::scenario;
use capsim::sim;
use std::path::Path;

fn run(file: &str, overrides: &[&str]) -> capsim::sim::SimResult {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file);
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let sc = scenario::load(&path, &overrides).unwrap_or_else(|e| panic!("{e}"));
    sim::run(&sc).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn monday_surge_on_cluster_autoscaler_pends_four_to_six_minutes() {
    let r = run("monday-surge-ca.yaml", &[]);
    let w = r.summary.workloads.iter().find(|w| w.name == "checkout-api").unwrap();
    assert!(
        (240.0..=360.0).contains(&w.pending.p95),
        "Pending p95 {} s is outside 4–6 minutes",
        w.pending.p95
    );
    // The HPA scaled up (min 4) and Cluster Autoscaler added nodes for it.
    assert!(w.replicas_max > 20, "replicas max {}", w.replicas_max);
    assert!(r.summary.cluster.decisions.get("ScaleUp").copied().unwrap_or(0) >= 1);
    assert!(r.summary.cluster.nodes_max > 2);
    assert!(!r.hpa.is_empty());
}
