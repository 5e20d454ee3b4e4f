//! Pod template revisions: a workload's template can change during a run (what VPA's admission
//! controller will do); pods created afterwards use the new revision, pods created before keep
//! theirs, and the scheduler places each by its own requests.

use capsim::cluster::PodPhase;
use capsim::engine::SimTime;
use capsim::sim::World;
use capsim::testkit::*;

#[test]
fn new_pods_use_the_new_revision_and_old_pods_keep_theirs() {
    // m5.xlarge allocatable ≈ 3920m. Two pods of 500m run; the template then asks 1400m and the
    // Deployment grows to five: two pods of the new revision fit beside the old ones
    // (1000 + 2 × 1400 = 3800), a third would not (1000 + 3 × 1400 = 5200), so it stays Pending.
    let mut sc = scenario();
    sc.static_nodes.push(nodes("base", "m5.xlarge", 1));
    sc.workloads.push(deployment("web", 2, 500, 256));
    let mut w = World::new(&sc).unwrap();
    while w.queue.now() < SimTime::from_secs(60) {
        assert!(w.step());
    }
    assert!(
        w.cluster
            .pods
            .iter()
            .all(|p| p.revision == 0 && p.phase == PodPhase::Ready)
    );

    let mut bigger = sc.workloads[0].template.clone();
    bigger.containers[0].requests.cpu_m = 1400;
    assert_eq!(w.revise_template(0, bigger), 1);
    w.workloads[0].desired = 5;
    w.reconcile_replicas(0);
    while w.queue.now() < SimTime::from_secs(120) {
        assert!(w.step());
    }
    let pods = &w.cluster.pods;
    assert_eq!(pods.len(), 5);
    for p in &pods[..2] {
        assert_eq!((p.revision, p.requests.cpu_m), (0, 500), "created before the revision");
    }
    for p in &pods[2..] {
        assert_eq!((p.revision, p.requests.cpu_m), (1, 1400), "created after it");
    }
    let node = &w.cluster.nodes[0];
    assert_eq!(node.allocated.cpu_m, 2 * 500 + 2 * 1400, "{:?}", node.allocatable);
    let pending: Vec<_> = pods.iter().filter(|p| p.phase == PodPhase::Pending).collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].revision, 1);
    assert_eq!(w.templates.current(0).0, 1);
}
