use capsim::sim;
use capsim::testkit::*;

#[test]
fn cost_of_a_fixed_cluster_equals_the_hand_computed_figure() {
    // 3 × m5.xlarge on demand at $0.192/h for 90 minutes = 3 × 0.192 × 1.5 = $0.864.
    let mut sc = scenario();
    sc.duration = secs(90 * 60);
    sc.static_nodes.push(nodes("general", "m5.xlarge", 3));
    let r = sim::run(&sc).unwrap();
    let c = &r.summary.cluster;
    assert!((c.cost_total_usd - 0.864).abs() < 1e-9, "{}", c.cost_total_usd);
    assert!((c.cost_by_pool["general"] - 0.864).abs() < 1e-9);
    assert!((c.cost_by_instance_type["m5.xlarge"] - 0.864).abs() < 1e-9);
    assert!((c.cost_by_capacity_type["on-demand"] - 0.864).abs() < 1e-9);
    assert!((c.node_hours - 4.5).abs() < 1e-9);
    // Nobody requested anything: all of it is idle.
    assert!((c.cost_idle_usd - 0.864).abs() < 1e-9);
}

#[test]
fn workload_cost_follows_request_share() {
    // One m5.xlarge for 1 h ($0.192). A pod requesting half the allocatable CPU and memory from
    // t ≈ 0 holds half the node: ≈ $0.096 (CPU and memory weigh equally).
    let mut sc = scenario();
    sc.static_nodes.push(nodes("one", "m5.xlarge", 1));
    let alloc = sc.catalog.get("m5.xlarge").unwrap().allocatable();
    sc.workloads
        .push(deployment("half", 1, alloc.cpu_m / 2, alloc.mem / 2 / MI));
    let r = sim::run(&sc).unwrap();
    let c = &r.summary.cluster;
    let w = c.cost_by_workload["half"];
    assert!((w - 0.096).abs() < 0.001, "{w}");
    assert!((w + c.cost_idle_usd - 0.192).abs() < 1e-9);
}
