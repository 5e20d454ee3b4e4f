//! Memory: a container above its limit is OOM-killed and restarted with backoff; a node whose
//! pods use more memory than it holds evicts in the kubelet's order.

use super::{load, one_deployment};
use capsim::sim;

#[test]
fn a_pod_above_its_memory_limit_is_oom_killed_and_restarted_with_backoff() {
    // 300 rps over 2 pods at 4Mi per request/s: 600Mi wanted against a 512Mi limit.
    let text = one_deployment(
        "m5.xlarge",
        1,
        2,
        "{requests: {cpu: 500m, memory: 256Mi}, limits: {cpu: '1', memory: 512Mi}}",
        "{traffic: {base: 300}, perRequest: {cpu: 1m, memory: 4Mi}, idle: {memory: 100Mi}}",
        "",
    );
    let r = sim::run(&load(&text)).unwrap();
    let w = &r.summary.workloads[0];
    assert!(w.oom_kills >= 2, "{w:?}");
    assert_eq!(w.container_restarts, w.oom_kills);
    // While they crash-loop nobody serves: requests go unserved.
    assert!(w.unserved_share > 0.3, "{}", w.unserved_share);
    // Backoff doubles: over 20 minutes a pod crashes far fewer times than once per tick.
    assert!(w.oom_kills < 40, "{}", w.oom_kills);
}

#[test]
fn node_memory_pressure_evicts_pods_above_their_requests_first() {
    // No memory limits; 4 pods request 256Mi but use 2Gi each at load on one m5.large (8 GiB,
    // ~7 GiB allocatable): the node is under pressure and the kubelet evicts.
    let text = one_deployment(
        "m5.large",
        1,
        4,
        "{requests: {cpu: 200m, memory: 256Mi}, limits: {cpu: 400m}}",
        "{traffic: {base: 200}, perRequest: {cpu: 1m, memory: 40Mi}}",
        "",
    );
    let r = sim::run(&load(&text)).unwrap();
    let w = &r.summary.workloads[0];
    assert!(w.pressure_evictions > 0, "{w:?}");
    assert!(r.pods.iter().any(|p| p.delete_reason == "Evicted"));
}

#[test]
fn eviction_ranking_follows_the_kubelet() {
    use capsim::physics::memory::{EvictionCandidate, eviction_victim};
    let c = |usage: f64, request: f64, priority: i32| EvictionCandidate {
        usage,
        request,
        priority,
    };
    // A high-priority pod above its request goes before a low-priority pod within its request.
    assert_eq!(eviction_victim(&[c(1.0, 2.0, -100), c(3.0, 2.0, 1000)]), Some(1));
}
