//! Node-level CPU: requests-only pods are bounded by their node, limits throttle, an over-packed
//! node serves less.

use super::{load, one_deployment};
use capsim::sim;

#[test]
fn requests_only_pods_never_use_more_cpu_than_their_node() {
    // Two pods of 250m, no limits, on one m5.large, 80k req/s at 1m each: they want 40 cores each.
    let text = one_deployment(
        "m5.large",
        1,
        2,
        "{requests: {cpu: 250m, memory: 256Mi}}",
        "{traffic: {base: 80000}, perRequest: {cpu: 1m}}",
        "",
    );
    let sc = load(&text);
    let node_cpu = sc.catalog.get("m5.large").unwrap().allocatable().cpu_m as f64;
    let r = sim::run(&sc).unwrap();
    for row in &r.timeline {
        assert!(row.capacity_rps.is_finite(), "capacity is finite: {row:?}");
        assert!(row.cpu_per_pod_m * f64::from(row.ready) <= node_cpu + 1e-6, "{row:?}");
        // 1m per request: the node's cores serve at most node_cpu requests/s.
        assert!(row.served_rps <= node_cpu + 1e-6, "{row:?}");
        assert!(row.cpu_starved_m > 0.0);
    }
    let w = &r.summary.workloads[0];
    assert!(w.unserved_share > 0.9, "{}", w.unserved_share);
    assert!(w.cpu_starved_core_seconds > 0.0);
    // And the lint names the workload whose capacity only the node bounds.
    let lints = sim::lint::lints(&sc, &sim::autoscaling::build_hpas(&sc, &Default::default()).unwrap());
    assert!(
        lints.iter().any(|l| l.contains("api") && l.contains("limits.cpu")),
        "{lints:?}"
    );
}

#[test]
fn a_limit_throttles_what_a_pod_wants_above_it() {
    let text = one_deployment(
        "m5.xlarge",
        1,
        2,
        "{requests: {cpu: 250m, memory: 256Mi}, limits: {cpu: 500m}}",
        "{traffic: {base: 600}, perRequest: {cpu: 2m}}",
        "",
    );
    let r = sim::run(&load(&text)).unwrap();
    let row = r.timeline.last().unwrap();
    // Each pod wants 300 rps × 2m = 600m, gets its 500m limit and serves 250 rps.
    assert!((row.cpu_per_pod_m - 500.0).abs() < 1e-6, "{row:?}");
    assert!((row.served_rps - 500.0).abs() < 1e-6, "{row:?}");
    assert!((row.cpu_throttled_m - 200.0).abs() < 1e-6, "{row:?}");
    assert!(r.summary.workloads[0].cpu_throttled_core_seconds > 0.0);
}

#[test]
fn an_over_packed_node_serves_less_than_its_pods_limits_promise() {
    // Eight pods requesting 100m with 1-core limits on one m5.large (≈1.9 cores allocatable):
    // their limits promise 8 cores, the node has fewer than two.
    let text = one_deployment(
        "m5.large",
        1,
        8,
        "{requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: '1'}}",
        "{traffic: {base: 4000}, perRequest: {cpu: 2m}}",
        "",
    );
    let sc = load(&text);
    let node_cpu = sc.catalog.get("m5.large").unwrap().allocatable().cpu_m as f64;
    let r = sim::run(&sc).unwrap();
    let row = r.timeline.last().unwrap();
    assert_eq!(row.ready, 8);
    assert!(row.served_rps <= node_cpu / 2.0 + 1e-6, "{row:?}");
    assert!(row.served_rps < 4000.0);
    assert!(row.cpu_starved_m > 0.0, "{row:?}");
    // The latency of a contended node's requests is worse than an idle one's.
    let p95 = row.latency_ms.unwrap()[1];
    assert!(p95 >= 1000.0, "saturated pods answer at the timeout: {p95} ms");
}
