use capsim::model::batch::{BatchArrivals, BatchJob};
use capsim::model::{Resources, WorkloadKind};
use capsim::sim;
use capsim::testkit::*;

#[test]
fn batch_pods_free_their_capacity_when_they_finish() {
    // One m5.large fits one 1500m job at a time: the second waits for the first to finish.
    let mut sc = scenario();
    sc.static_nodes.push(nodes("one", "m5.large", 1));
    let mut w = deployment("jobs", 0, 1500, 512);
    w.kind = WorkloadKind::Batch;
    let job = |at: u64| BatchJob {
        arrival: capsim::engine::SimTime::from_secs(at),
        requests: Resources::new(1500, 512 * MI, 1),
        duration: secs(100),
    };
    w.batch = Some(BatchArrivals::Trace(vec![job(10), job(20)]));
    sc.workloads.push(w);
    let r = sim::run(&sc).unwrap();
    let pods: Vec<_> = r.pods.iter().collect();
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(|p| p.state_at_end == "Succeeded"));
    // First: arrives 10, scheduled 10, pull 1 + start 1 → runs 12..112. Second waits until 112.
    assert_eq!(pods[0].scheduled_s, Some(10.0));
    assert_eq!(pods[1].scheduled_s, Some(112.0));
    let s = &r.summary.workloads[0];
    assert_eq!(s.completed, Some(2));
    // Completion delays: 2 s (1 s pull + 1 s start), and (112 − 20) waiting + 1 s start
    // (the image is cached on the node by then) = 93 s.
    let d = s.completion_delay.as_ref().unwrap();
    assert_eq!(d.max, 93.0);
    assert_eq!(d.p50, 2.0);
}
