//! Every scenario file added for the stories loads and runs (short, via `--set`), and the Monday
//! surge comparisons hold: the warm pool keeps checkout-api's Pending p95 under a minute, and
//! Karpenter's is lower than Cluster Autoscaler's.

use super::run;

fn pending_p95(r: &capsim::sim::SimResult, workload: &str) -> f64 {
    r.summary
        .workloads
        .iter()
        .find(|w| w.name == workload)
        .unwrap_or_else(|| panic!("no workload {workload}"))
        .pending
        .p95
}

#[test]
fn trace_scenarios_load_and_run_short() {
    // 40 simulated minutes: the NASA window starts with the morning before the launch, the ELB one
    // with the quiet afternoon before the spike.
    for (file, workload) in [
        ("nasa-sts70-ca.yaml", "www"),
        ("nasa-sts70-karpenter.yaml", "www"),
        ("elb-spike-ca.yaml", "api"),
        ("elb-spike-karpenter.yaml", "api"),
    ] {
        let r = run(file, &["Scenario:spec.duration=40m"]);
        assert_eq!(r.summary.duration_s, 2400.0, "{file}");
        let w = r.summary.workloads.iter().find(|w| w.name == workload).unwrap();
        assert!(w.requests_total > 0.0, "{file}: the trace replays");
        assert!(w.pods_created >= 4, "{file}");
        assert!(!r.hpa.is_empty(), "{file}: the HPA ran");
    }
}

#[test]
fn spot_batch_loads_runs_short_and_spot_is_cheaper() {
    let spot = run("spot-batch.yaml", &["Scenario:spec.duration=3h"]);
    let on_demand = run(
        "spot-batch.yaml",
        &[
            "Scenario:spec.duration=3h",
            "NodePool/workers:spec.template.spec.requirements[1].values=[on-demand]",
        ],
    );
    let (s, o) = (&spot.summary.cluster, &on_demand.summary.cluster);
    assert!(
        s.cost_by_capacity_type.keys().all(|k| k == "spot"),
        "{:?}",
        s.cost_by_capacity_type
    );
    assert!(
        o.cost_by_capacity_type.keys().all(|k| k == "on-demand"),
        "{:?}",
        o.cost_by_capacity_type
    );
    // Same job arrivals (common random numbers), so the same work ran on both.
    let jobs = |r: &capsim::sim::SimResult| r.pods.iter().filter(|p| p.workload == "render").count();
    assert!(jobs(&spot) > 200);
    assert_eq!(
        spot.summary.workloads[0].completed,
        on_demand.summary.workloads[0].completed
    );
    // Spot m5.xlarge $0.0653/h vs on-demand m6a.xlarge $0.1728/h: well under half the cost for about
    // the same node-hours.
    assert!(
        s.cost_total_usd < 0.5 * o.cost_total_usd,
        "spot {} vs on-demand {}",
        s.cost_total_usd,
        o.cost_total_usd
    );
    assert_eq!(o.spot_interruptions, 0);
}

#[test]
fn warm_pool_keeps_checkout_pending_p95_under_a_minute() {
    let r = run("monday-surge-karpenter-warm.yaml", &[]);
    let p95 = pending_p95(&r, "checkout-api");
    assert!(p95 < 60.0, "checkout-api Pending p95 {p95} s");
    // The placeholders were preempted and went Pending again.
    assert!(
        r.pods
            .iter()
            .any(|p| p.workload == "overprovisioning" && p.delete_reason == "Preempted")
    );
    assert!(r.summary.cluster.cost_by_workload.contains_key("overprovisioning"));
}

#[test]
fn karpenter_pends_less_than_cluster_autoscaler_on_the_monday_surge() {
    let ca = pending_p95(&run("monday-surge-ca.yaml", &[]), "checkout-api");
    let karpenter = pending_p95(&run("monday-surge-karpenter.yaml", &[]), "checkout-api");
    assert!(karpenter < ca, "Karpenter p95 {karpenter} s, Cluster Autoscaler {ca} s");
    assert!(karpenter < 90.0, "{karpenter}");
}

#[test]
fn hpa_vpa_conflict_churns_pods_and_replicas_and_its_fix_does_not() {
    // Both evict at 12 h (the updater's pod-lifetime threshold: memory 512Mi vs a 250Mi target
    // is more than the 10 % difference); only the conflict's VPA also cuts CPU requests, so only
    // there the HPA grows the Deployment and the VPA evicts it all again a day later.
    let conflict = run("hpa-vpa-conflict.yaml", &[]);
    let fixed = run("hpa-vpa-fixed.yaml", &[]);
    let evictions = |r: &capsim::sim::SimResult| r.summary.vpa[0].evictions;
    assert_eq!(evictions(&fixed), 4);
    assert!(
        evictions(&conflict) >= 2 * evictions(&fixed),
        "{}",
        evictions(&conflict)
    );
    let first_second_round = conflict
        .vpa_updates
        .iter()
        .map(|u| u.time_s)
        .find(|t| *t > 43_300.0)
        .unwrap();
    assert!(first_second_round > 86_400.0, "{first_second_round}");
    // Replicas on the second day, long after the 2 h surge: the fix keeps the HPA's 4.
    let max = |r: &capsim::sim::SimResult| {
        r.timeline
            .iter()
            .filter(|row| row.time >= capsim::engine::SimTime::from_secs(86_400))
            .map(|row| row.desired)
            .max()
            .unwrap()
    };
    assert_eq!(max(&fixed), 4);
    assert!(max(&conflict) >= 7, "{}", max(&conflict));
    let cpu = |r: &capsim::sim::SimResult| r.summary.vpa[0].recommendation[0].cpu_target_m;
    assert!(
        cpu(&conflict).is_some() && cpu(&fixed).is_none(),
        "the fix's VPA owns memory only"
    );
    let sc = |f: &str| {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(f);
        capsim::scenario::load(&p, &[]).unwrap()
    };
    let lints = |f: &str| {
        let s = sc(f);
        let hpas = capsim::sim::autoscaling::build_hpas(&s, &Default::default()).unwrap();
        capsim::sim::lint::lints(&s, &hpas)
    };
    assert!(lints("hpa-vpa-conflict.yaml").iter().any(|l| l.contains("6060")));
    assert!(!lints("hpa-vpa-fixed.yaml").iter().any(|l| l.contains("6060")));
}

#[test]
fn keda_on_queue_length_beats_cpu_on_backlog_and_cost_and_scales_to_zero() {
    let keda = run("queue-workers-keda.yaml", &[]);
    let cpu = run("queue-workers-cpu.yaml", &[]);
    let q = |r: &capsim::sim::SimResult| r.summary.workloads[0].queue.clone().unwrap();
    assert!(
        q(&keda).depth_p95 < q(&cpu).depth_p95,
        "{:?} vs {:?}",
        q(&keda),
        q(&cpu)
    );
    assert!(q(&keda).oldest_age_max_s < q(&cpu).oldest_age_max_s);
    assert_eq!(q(&keda).seconds_over_age_slo, Some(0.0));
    assert!(q(&cpu).seconds_over_age_slo.unwrap() > 0.0);
    assert!(keda.summary.cluster.cost_total_usd < cpu.summary.cluster.cost_total_usd);
    // Messages stop at 6 h: KEDA takes the workers to zero a cooldown later; the CPU HPA keeps
    // its minimum of one.
    let last = |r: &capsim::sim::SimResult| r.timeline.last().unwrap().desired;
    assert_eq!(last(&keda), 0);
    assert_eq!(last(&cpu), 1);
    let off = keda.keda.iter().rev().find(|k| k.action == "Deactivated").unwrap();
    assert!(
        off.time_s > 6.0 * 3600.0 + 300.0 && off.time_s <= 6.0 * 3600.0 + 300.0 + 60.0,
        "{off:?}"
    );
}
