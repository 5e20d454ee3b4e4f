//! Cluster Autoscaler behaviour, loop by loop: expanders, upcoming nodes, failed provisioning and
//! backoff, scale-down timing, PodDisruptionBudgets.

use super::support as ca_support;

use ca_support::*;
use capsim::cluster::NodeState;
use capsim::controllers::cluster_autoscaler::node_group::NodeGroupSpec;
use capsim::controllers::provisioner::Action;
use capsim::engine::{SimDuration, SimTime};

/// `n` pending pods of 900m / 1 GiB created at 0, CA run once at 10 s; returns the launched groups.
fn first_scale_up(args: &[&str], groups: Vec<NodeGroupSpec>, prio: Option<&str>, n: usize) -> Vec<String> {
    let sc = scenario(vec![workload("web", "default", template(900, GI))], vec![]);
    let mut w = World::new(sc);
    let mut ca = autoscaler(args, groups, prio);
    for _ in 0..n {
        w.pending_pod(0, SimTime::ZERO);
    }
    let actions = w.step(&mut ca, secs(10));
    launches(&actions).into_iter().map(String::from).collect()
}

fn spot_group(name: &str) -> NodeGroupSpec {
    let doc = serde_json::json!({
        "apiVersion": "capsim/v1alpha1", "kind": "NodeGroup", "metadata": {"name": name},
        "spec": {"instanceType": "m5.xlarge", "capacityType": "spot", "min": 0, "max": 10},
    });
    NodeGroupSpec::from_document(&doc, &catalog()).expect("valid")
}

#[test]
fn least_waste_picks_the_group_wasting_least() {
    // 4 pods × (900m, 1 GiB) fit one 4-CPU node in either group.
    // a-general m5.xlarge (4 CPU, 16 GiB): waste 0.1 cpu + 0.75 mem = 0.85
    // b-compute c5.xlarge (4 CPU,  8 GiB): waste 0.1 cpu + 0.50 mem = 0.60  ← least waste
    let groups = vec![
        group("a-general", "m5.xlarge", 0, 10, 0),
        group("b-compute", "c5.xlarge", 0, 10, 0),
    ];
    let got = first_scale_up(&["--expander=least-waste"], groups.clone(), None, 4);
    assert_eq!(got, vec!["b-compute"]);
    // least-waste is the default expander.
    assert_eq!(first_scale_up(&[], groups, None, 4), vec!["b-compute"]);
}

#[test]
fn most_pods_picks_the_group_helping_most_pods() {
    // a-big can add 1 m5.xlarge (4 pods of 900m); b-small up to 5 m5.large (2 pods each): all 6.
    let groups = vec![
        group("a-big", "m5.xlarge", 0, 1, 0),
        group("b-small", "m5.large", 0, 5, 0),
    ];
    assert_eq!(
        first_scale_up(&["--expander=most-pods"], groups, None, 6),
        vec!["b-small"; 3]
    );
}

#[test]
fn price_picks_the_cheaper_option() {
    // Same instance type, spot at $0.08/h vs on-demand $0.192/h: equal unfitness, the spot group's
    // price ratio is lower. (least-waste ties and would pick a-od by name.)
    let groups = vec![group("a-od", "m5.xlarge", 0, 10, 0), spot_group("b-spot")];
    assert_eq!(
        first_scale_up(&["--expander=price"], groups.clone(), None, 2),
        vec!["b-spot"]
    );
    assert_eq!(
        first_scale_up(&["--expander=least-waste"], groups, None, 2),
        vec!["a-od"]
    );
    // Preferred node size for an empty cluster is 1 CPU: an 8-CPU node is 8× unfit, a 4-CPU one
    // 4×, and the bigger node is not cheaper per CPU, so the smaller group wins.
    let sizes = vec![
        group("a-big", "m5.2xlarge", 0, 10, 0),
        group("b-small", "m5.xlarge", 0, 10, 0),
    ];
    assert_eq!(first_scale_up(&["--expander=price"], sizes, None, 2), vec!["b-small"]);
}

#[test]
fn priority_picks_the_highest_priority_group_and_chains() {
    let prio = "10:\n  - .*\n50:\n  - ^b-.*$\n";
    let groups = vec![group("a-od", "m5.xlarge", 0, 10, 0), spot_group("b-spot")];
    assert_eq!(
        first_scale_up(&["--expander=priority"], groups, Some(prio), 2),
        vec!["b-spot"]
    );
    // priority keeps a-general and b-compute (50); least-waste then prefers b-compute.
    let prio = "50:\n  - general\n  - compute\n10:\n  - spot\n";
    let groups = vec![
        group("a-general", "m5.xlarge", 0, 10, 0),
        group("b-compute", "c5.xlarge", 0, 10, 0),
        spot_group("c-spot"),
    ];
    assert_eq!(
        first_scale_up(&["--expander", "priority,least-waste"], groups, Some(prio), 4),
        vec!["b-compute"]
    );
}

#[test]
fn random_is_seeded_and_uses_both_groups() {
    let groups = vec![group("a-od", "m5.xlarge", 0, 10, 0), spot_group("b-spot")];
    let mut seen = std::collections::BTreeSet::new();
    for k in 1..=16u64 {
        let pick = |t: u64| {
            let sc = scenario(vec![workload("web", "default", template(900, GI))], vec![]);
            let mut w = World::new(sc);
            let mut ca = autoscaler(&["--expander=random"], groups.clone(), None);
            w.pending_pod(0, SimTime::ZERO);
            let a = w.step(&mut ca, secs(t));
            launches(&a).first().map(|s| s.to_string())
        };
        let first = pick(10 * k);
        assert_eq!(first, pick(10 * k), "same seed and loop time, same choice");
        seen.extend(first);
    }
    assert_eq!(
        seen.len(),
        2,
        "16 seeded draws should pick each of two groups at least once: {seen:?}"
    );
}

#[test]
fn upcoming_nodes_stop_a_second_scale_up_for_the_same_pods() {
    let sc = scenario(vec![workload("web", "default", template(900, GI))], vec![]);
    let mut w = World::new(sc);
    let mut ca = autoscaler(&[], vec![group("g", "m5.xlarge", 0, 10, 0)], None);
    for _ in 0..3 {
        w.pending_pod(0, SimTime::ZERO);
    }
    assert_eq!(launches(&w.step(&mut ca, secs(10))), vec!["g"]);
    // The node is still launching; the same 3 pods are pending: no second scale-up.
    assert!(launches(&w.step(&mut ca, secs(20))).is_empty());
    assert!(launches(&w.step(&mut ca, secs(30))).is_empty());
    // 5 more pods: the upcoming node has room for 1 more (4 × 900m), the other 4 need one node.
    for _ in 0..5 {
        w.pending_pod(0, secs(31));
    }
    assert_eq!(launches(&w.step(&mut ca, secs(40))), vec!["g"]);
    assert!(launches(&w.step(&mut ca, secs(50))).is_empty());
}

#[test]
fn young_pods_wait_for_the_buffer_and_the_scale_up_delay() {
    let sc = scenario(vec![workload("web", "default", template(900, GI))], vec![]);
    let mut w = World::new(sc.clone());
    let mut ca = autoscaler(&[], vec![group("g", "m5.xlarge", 0, 10, 0)], None);
    w.pending_pod(0, secs(9));
    // Oldest pending pod is 1 s old < 2 s buffer: wait a loop.
    assert!(w.step(&mut ca, secs(10)).is_empty());
    assert_eq!(launches(&w.step(&mut ca, secs(20))), vec!["g"]);

    let mut w = World::new(sc);
    let mut ca = autoscaler(
        &["--new-pod-scale-up-delay=30s"],
        vec![group("g", "m5.xlarge", 0, 10, 0)],
        None,
    );
    w.pending_pod(0, SimTime::ZERO);
    assert!(w.step(&mut ca, secs(20)).is_empty());
    assert_eq!(launches(&w.step(&mut ca, secs(30))), vec!["g"]);
}

#[test]
fn group_max_and_max_nodes_total_bound_the_scale_up() {
    // 20 pods of 900m need 5 nodes; the group allows 3 more (max 4, 1 ready).
    let sc = scenario(vec![workload("web", "default", template(900, GI))], vec![]);
    let mut w = World::new(sc.clone());
    let mut ca = autoscaler(&[], vec![group("g", "m5.xlarge", 0, 4, 0)], None);
    let n = w.ready_node(&ca, "g");
    w.running_pod(0, n);
    for _ in 0..20 {
        w.pending_pod(0, SimTime::ZERO);
    }
    // the ready node has room for 3 more pods (4 × 900m); 17 pods need 5 nodes; 3 allowed
    assert_eq!(launches(&w.step(&mut ca, secs(10))).len(), 3);
    // --max-nodes-total=2 leaves room for one more node.
    let mut w = World::new(sc);
    let mut ca = autoscaler(&["--max-nodes-total=2"], vec![group("g", "m5.xlarge", 0, 10, 0)], None);
    w.ready_node(&ca, "g");
    for _ in 0..20 {
        w.pending_pod(0, SimTime::ZERO);
    }
    assert_eq!(launches(&w.step(&mut ca, secs(10))).len(), 1);
}

#[test]
fn node_never_registering_fails_after_max_provision_time_and_backs_off_doubling() {
    let sc = scenario(vec![workload("web", "default", template(900, GI))], vec![]);
    let mut w = World::new(sc);
    let mut ca = autoscaler(
        &["--max-node-provision-time=15m"],
        vec![group("g", "m5.xlarge", 0, 10, 0)],
        None,
    );
    w.pending_pod(0, SimTime::ZERO);
    let mut launched_at = Vec::new();
    let mut terminated_at = Vec::new();
    let mut t = 10;
    while t <= 4000 {
        for a in w.step(&mut ca, secs(t)) {
            match a {
                Action::Launch { .. } => launched_at.push(t),
                Action::Terminate { .. } => terminated_at.push(t),
                _ => {}
            }
        }
        t += 10;
    }
    // Launched at 10 s; requested + 15 m = 910 s is not yet *before* now at 910 s: failed at 920 s,
    // backed off 5 m until 1220 s; relaunched at 1220 s; failed at 1220 + 900 + 10 = 2130 s;
    // backed off 10 m (doubled) until 2730 s; relaunched then; fails at 3640 s → 20 m.
    assert_eq!(launched_at, vec![10, 1220, 2730]);
    assert_eq!(terminated_at, vec![920, 2130, 3640]);
    let info = ca.backoff_state().info("g").copied().expect("backed off");
    assert_eq!(info.duration, SimDuration::from_mins(20));
    assert!(
        w.records
            .iter()
            .any(|r| r.decision == "Backoff" && r.reason.contains("10m")),
        "{:#?}",
        w.records
    );
    assert!(w.records.iter().filter(|r| r.decision == "FailedScaleUp").count() == 3);
}

/// Two ready nodes of group g (min 1): node 0 busy (3000m of 4 CPU), node 1 running `pod_cpu`.
fn scale_down_world(pdb_allowed: i64, pod_cpu: i64) -> World {
    let sc = scenario(
        vec![
            workload("busy", "default", {
                let mut t = template(3000, GI);
                t.labels.insert("app".into(), "busy".into());
                t
            }),
            workload("web", "default", template(pod_cpu, GI)),
        ],
        vec![pdb("web-pdb", "web")],
    );
    let mut w = World::new(sc);
    w.pdb_allowed = vec![pdb_allowed];
    w
}

#[test]
fn scale_down_waits_the_unneeded_time_and_respects_min_size() {
    let mut w = scale_down_world(1, 500);
    let args = ["--scale-down-unneeded-time=5m", "--scale-down-delay-after-add=0s"];
    let mut ca = autoscaler(&args, vec![group("g", "m5.xlarge", 1, 5, 1)], None);
    let busy = w.ready_node(&ca, "g");
    w.running_pod(0, busy);
    let idle = w.ready_node(&ca, "g");
    let mut deleted = Vec::new();
    let mut t = 10;
    while t <= 900 {
        for a in w.step(&mut ca, secs(t)) {
            if let Action::Terminate { node, .. } = a {
                deleted.push((t, node));
            }
        }
        t += 10;
    }
    // First seen unneeded at 10 s; removable once 5 m have passed: 310 s. Then the group is at
    // its min size (1) and the busy node (75% cpu) stays.
    assert_eq!(deleted, vec![(310, idle)]);
    assert_eq!(w.nodes[busy.0 as usize].state, NodeState::Ready);
}

#[test]
fn scale_down_waits_delay_after_add_after_a_scale_up() {
    // Upstream starts with its last scale times an hour in the past (no cooldown at start). A
    // scale-up at 10 s (a 6-CPU pod only the m5.2xlarge group fits) puts scale-down in cooldown
    // for --scale-down-delay-after-add=10m: the idle node, unneeded for 1 m, goes at 610 s.
    let sc = scenario(
        vec![
            workload("busy", "default", template(3000, GI)),
            workload("large", "default", template(6000, GI)),
        ],
        vec![],
    );
    let mut w = World::new(sc);
    let groups = vec![group("big", "m5.2xlarge", 0, 5, 0), group("g", "m5.xlarge", 1, 5, 1)];
    let mut ca = autoscaler(&["--scale-down-unneeded-time=1m"], groups, None);
    let busy = w.ready_node(&ca, "g");
    w.running_pod(0, busy);
    let idle = w.ready_node(&ca, "g");
    w.pending_pod(1, SimTime::ZERO);
    let mut events = Vec::new();
    for t in (10..=900).step_by(10) {
        for a in w.step(&mut ca, secs(t)) {
            match a {
                Action::Launch { spec, .. } => events.push((t, format!("launch {}", spec.pool))),
                Action::Terminate { node, .. } => events.push((t, format!("terminate {}", node.0))),
                _ => {}
            }
        }
    }
    assert_eq!(
        events,
        vec![(10, "launch big".to_string()), (610, format!("terminate {}", idle.0))]
    );
}

#[test]
fn pdb_with_no_disruptions_allowed_blocks_the_drain() {
    let args = [
        "--scale-down-unneeded-time=1m",
        "--scale-down-delay-after-add=0s",
        "--scale-down-delay-after-failure=0s",
    ];
    for (allowed, expect_drain) in [(0, false), (1, true)] {
        let mut w = scale_down_world(allowed, 500);
        let mut ca = autoscaler(&args, vec![group("g", "m5.xlarge", 1, 5, 1)], None);
        let busy = w.ready_node(&ca, "g");
        w.running_pod(0, busy);
        let light = w.ready_node(&ca, "g");
        w.running_pod(1, light);
        let mut drains = Vec::new();
        let mut t = 10;
        while t <= 600 {
            for a in w.step(&mut ca, secs(t)) {
                match a {
                    Action::Drain {
                        node,
                        max_eviction_time,
                        force,
                        ..
                    } => drains.push((t, node, max_eviction_time, force)),
                    Action::Terminate { node, .. } => panic!("non-empty node {node:?} must be drained, not terminated"),
                    _ => {}
                }
            }
            t += 10;
        }
        if expect_drain {
            // unneeded from 10 s, 1 m later: drained with a 2 m eviction budget, not forced
            assert_eq!(drains, vec![(70, light, SimDuration::from_mins(2), false)]);
        } else {
            assert!(drains.is_empty(), "PDB allows 0 disruptions: {drains:?}");
            assert!(!w.records.iter().any(|r| r.decision == "Unneeded"));
        }
    }
}

#[test]
fn pods_that_cannot_move_or_are_not_safe_to_evict_block_scale_down() {
    let args = ["--scale-down-unneeded-time=1m", "--scale-down-delay-after-add=0s"];
    // 1800m on the light node does not fit next to the busy node's 3000m (4 CPU): no place.
    let mut w = scale_down_world(1, 1800);
    let mut ca = autoscaler(&args, vec![group("g", "m5.xlarge", 1, 5, 1)], None);
    let busy = w.ready_node(&ca, "g");
    w.running_pod(0, busy);
    let light = w.ready_node(&ca, "g");
    w.running_pod(1, light);
    for t in (10..=400).step_by(10) {
        assert!(w.step(&mut ca, secs(t)).is_empty(), "nothing can move at {t}s");
    }
    // safe-to-evict: "false" on the web template blocks even though the pod fits elsewhere.
    let mut w = scale_down_world(1, 500);
    w.sc.workloads[1]
        .template
        .annotations
        .insert("cluster-autoscaler.kubernetes.io/safe-to-evict".into(), "false".into());
    let mut ca = autoscaler(&args, vec![group("g", "m5.xlarge", 1, 5, 1)], None);
    let busy = w.ready_node(&ca, "g");
    w.running_pod(0, busy);
    let light = w.ready_node(&ca, "g");
    w.running_pod(1, light);
    for t in (10..=400).step_by(10) {
        assert!(w.step(&mut ca, secs(t)).is_empty(), "safe-to-evict=false at {t}s");
    }
}

#[test]
fn empty_nodes_are_deleted_in_bulk_within_parallelism() {
    // 5 empty nodes above min 1, --max-scale-down-parallelism=3: 3 deleted in one loop.
    let sc = scenario(vec![workload("web", "default", template(500, GI))], vec![]);
    let mut w = World::new(sc);
    let args = [
        "--scale-down-unneeded-time=1m",
        "--scale-down-delay-after-add=0s",
        "--max-scale-down-parallelism=3",
    ];
    let mut ca = autoscaler(&args, vec![group("g", "m5.xlarge", 1, 10, 1)], None);
    for _ in 0..5 {
        w.ready_node(&ca, "g");
    }
    let mut per_loop = Vec::new();
    for t in (10..=300).step_by(10) {
        let n = w
            .step(&mut ca, secs(t))
            .iter()
            .filter(|a| matches!(a, Action::Terminate { .. }))
            .count();
        if n > 0 {
            per_loop.push((t, n));
        }
    }
    // 70 s: 3 (parallelism); the toy world finishes deletions instantly, so the next loop takes
    // the 4th and the group stops at its min size 1.
    assert_eq!(per_loop, vec![(70, 3), (80, 1)]);
}

#[test]
fn kube_system_pods_without_pdb_block_unless_allowed() {
    // A kube-system pod (no PDB covers it) on the light node blocks its removal while
    // --skip-nodes-with-system-pods=true (default); with false the node is drained.
    for (flag, expect_drain) in [
        ("--skip-nodes-with-system-pods=true", false),
        ("--skip-nodes-with-system-pods=false", true),
    ] {
        let sc = scenario(
            vec![
                workload("busy", "default", template(3000, GI)),
                workload("coredns", "kube-system", template(100, GI)),
            ],
            vec![],
        );
        let mut w = World::new(sc);
        let args = ["--scale-down-unneeded-time=1m", "--scale-down-delay-after-add=0s", flag];
        let mut ca = autoscaler(&args, vec![group("g", "m5.xlarge", 1, 5, 1)], None);
        let busy = w.ready_node(&ca, "g");
        w.running_pod(0, busy);
        let light = w.ready_node(&ca, "g");
        w.running_pod(1, light);
        let drained = (10..=300)
            .step_by(10)
            .flat_map(|t| w.step(&mut ca, secs(t)))
            .any(|a| matches!(a, Action::Drain { node, .. } if node == light));
        assert_eq!(drained, expect_drain, "{flag}");
    }
}

#[test]
fn drain_failure_pauses_scale_down_and_disabled_scale_down_does_nothing() {
    use capsim::controllers::provisioner::{NodeNotice, Provisioner};
    let mut w = scale_down_world(1, 500);
    let mut ca = autoscaler(&[], vec![group("g", "m5.xlarge", 1, 5, 1)], None);
    let n = w.ready_node(&ca, "g");
    w.step(&mut ca, secs(10));
    assert_eq!(ca.scale_down_in_cooldown(secs(20)), None);
    ca.notice(&NodeNotice::DrainFailed(n), secs(20));
    // 3 m after the failure (20 s + 180 s) scale-down resumes.
    assert_eq!(
        ca.scale_down_in_cooldown(secs(199)),
        Some("scale-down-delay-after-failure")
    );
    assert_eq!(ca.scale_down_in_cooldown(secs(200)), None);
    w.step(&mut ca, secs(30));
    assert!(
        w.records
            .iter()
            .any(|r| r.decision == "ScaleDownFailed" && r.object == w.nodes[n.0 as usize].name)
    );

    // --scale-down-enabled=false: an idle node is never even marked unneeded.
    let mut w = scale_down_world(1, 500);
    let args = ["--scale-down-enabled=false", "--scale-down-unneeded-time=1m"];
    let mut ca = autoscaler(&args, vec![group("g", "m5.xlarge", 1, 5, 1)], None);
    w.ready_node(&ca, "g");
    w.ready_node(&ca, "g");
    for t in (10..=900).step_by(10) {
        assert!(w.step(&mut ca, secs(t)).is_empty());
    }
    assert!(w.records.is_empty(), "{:?}", w.records);
}

#[test]
fn pod_scale_up_delay_annotation_only_lengthens_the_delay() {
    // --new-pod-scale-up-delay=20s; the annotation asks 60s (honoured) or 5s (ignored).
    for (annotation, first_launch) in [("60s", 60), ("5s", 20)] {
        let mut tmpl = template(900, GI);
        tmpl.annotations.insert(
            "cluster-autoscaler.kubernetes.io/pod-scale-up-delay".into(),
            annotation.into(),
        );
        let mut w = World::new(scenario(vec![workload("web", "default", tmpl)], vec![]));
        let mut ca = autoscaler(
            &["--new-pod-scale-up-delay=20s"],
            vec![group("g", "m5.xlarge", 0, 5, 0)],
            None,
        );
        w.pending_pod(0, SimTime::ZERO);
        let first = (10..=120)
            .step_by(10)
            .find(|&t| !launches(&w.step(&mut ca, secs(t))).is_empty());
        assert_eq!(first, Some(first_launch), "annotation {annotation}");
    }
}
