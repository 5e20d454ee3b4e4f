//! Pending attribution: each pod's time from creation to Ready cut at the pipeline's instants
//! (`capsim::sim::attribution`), on the warm-pool scenario whose timings are fixed by hand:
//! Karpenter batches for 1 s idle, nodes take 10 s to launch, 10 s to register, 5 s to be Ready;
//! the app's images pull in 5 s, its containers start in 1 s and are Ready 2 s later.

use capsim::engine::SimTime;
use capsim::sim::World;
use capsim::sim::attribution::STAGES;

fn run() -> capsim::sim::SimResult {
    let sc =
        capsim::scenario::load_str("warm.yaml", super::preemption::YAML, None, &[]).unwrap_or_else(|e| panic!("{e}"));
    let app = sc.workloads.iter().position(|w| w.name == "app").unwrap();
    let mut w = World::new(&sc).unwrap();
    while w.queue.now() < SimTime::from_secs(300) {
        assert!(w.step());
    }
    w.workloads[app].desired = 3;
    w.reconcile_replicas(app);
    w.run()
}

fn stage(p: &capsim::sim::attribution::PodStages, name: &str) -> f64 {
    p.stages[STAGES.iter().position(|s| *s == name).unwrap()]
}

#[test]
fn a_provisioned_pod_waits_for_the_batch_the_launch_registration_and_initialization() {
    // The three placeholders the app preempted are recreated at 300 s, Unschedulable at once; the
    // batch closes 1 s after the last (batchIdleDuration), the NodeClaim launches in 10 s,
    // registers 10 s later and is Ready 5 s after that; the pods bind in the next scheduling
    // cycle.
    let r = run();
    let reps: Vec<_> = r
        .pod_stages
        .iter()
        .filter(|p| p.workload == "placeholder" && p.created_s >= 300.0)
        .collect();
    assert_eq!(reps.len(), 3);
    let node = r.nodes.iter().find(|n| n.node == "general-0001").unwrap();
    for p in &reps {
        let rec = r.pods.iter().find(|q| q.pod == p.pod).unwrap();
        let unsched = rec.unschedulable_s.unwrap();
        assert_eq!(stage(p, "scheduler"), unsched - rec.created_s);
        assert!((stage(p, "provisioner") - (node.requested_s - unsched)).abs() < 1e-9);
        assert!((0.9..=10.0).contains(&stage(p, "provisioner")), "{p:?}");
        assert!((stage(p, "launch") - 10.0).abs() < 1e-9, "{p:?}");
        assert!((stage(p, "registration") - 10.0).abs() < 1e-9);
        assert!((stage(p, "initialization") - 5.0).abs() < 1e-9);
        assert!(stage(p, "binding") < 1.0);
        // The placeholders take the default start-up (their pull is drawn): bound → started is
        // the pull and the container start, started → Ready the readiness.
        let bound_to_started = rec.started_s.unwrap() - rec.scheduled_s.unwrap();
        assert!((stage(p, "image_pull") + stage(p, "container_start") - bound_to_started).abs() < 1e-6);
        assert!(stage(p, "image_pull") > 0.0);
        assert!((stage(p, "readiness") - (rec.ready_s.unwrap() - rec.started_s.unwrap())).abs() < 1e-6);
        assert_eq!(stage(p, "preemption"), 0.0);
        // The stages add up to the pod's time from creation to Ready.
        let total: f64 = p.stages.iter().sum();
        assert!((total - (rec.ready_s.unwrap() - rec.created_s)).abs() < 1e-6);
    }
    // One surge of three pods.
    let w = r.summary.workloads.iter().find(|w| w.name == "placeholder").unwrap();
    let b = w.pending_breakdown.as_ref().unwrap();
    let surge = b.surges.iter().find(|s| s.start_s >= 300.0).unwrap();
    assert_eq!(surge.stages.pods, 3);
    assert!((surge.stages.mean_s["launch"] - 10.0).abs() < 1e-9);
    assert!(reps.iter().all(|p| p.surge == surge.surge));
}

#[test]
fn a_preempting_pod_waits_for_its_victims_and_never_for_a_node() {
    // The app's pods nominate the warm node at once; the placeholders have a grace period of 0,
    // so the victims' exit takes (almost) nothing; then a fresh image pull (5 s), start and
    // readiness. No node stage.
    let r = run();
    let app: Vec<_> = r.pod_stages.iter().filter(|p| p.workload == "app").collect();
    assert_eq!(app.len(), 3);
    for p in &app {
        for s in ["provisioner", "launch", "registration", "initialization"] {
            assert_eq!(stage(p, s), 0.0, "{s}: {p:?}");
        }
        assert!(
            stage(p, "preemption") + stage(p, "scheduler") + stage(p, "binding") <= 2.0,
            "{p:?}"
        );
        assert!((stage(p, "image_pull") - 5.0).abs() < 1e-9);
        assert!((stage(p, "readiness") - 2.0).abs() < 1e-9);
    }
    let b = r
        .summary
        .workloads
        .iter()
        .find(|w| w.name == "app")
        .unwrap()
        .pending_breakdown
        .clone()
        .unwrap();
    assert_eq!(b.all.slowest, "image_pull");
}

#[test]
fn pods_ready_at_the_warm_start_are_not_counted() {
    let r = run();
    assert!(r.pod_stages.iter().all(|p| p.stages.iter().sum::<f64>() > 0.0));
}

#[test]
fn the_waterfall_draws_each_workloads_worst_surge() {
    let r = run();
    let rows = capsim::report::waterfall::rows(&r);
    let ph = rows
        .iter()
        .find(|row| row.label.starts_with("placeholder"))
        .expect("a placeholder row");
    let b = r
        .summary
        .workloads
        .iter()
        .find(|w| w.name == "placeholder")
        .unwrap()
        .pending_breakdown
        .clone()
        .unwrap();
    let (_, worst) = b.slowest_surge();
    let total: f64 = ph.stages.iter().map(|s| s.1).sum();
    assert!((total - worst.to_ready_mean_s).abs() < 1e-9);
    let page = capsim::report::waterfall::render("t", &rows).unwrap().expect("a page");
    assert!(page.svg.contains("node launch") && !page.png.is_empty());
    // Nothing waited: no page.
    assert!(capsim::report::waterfall::render("t", &[]).unwrap().is_none());
}
