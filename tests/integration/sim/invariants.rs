//! Properties that hold for any scenario: no node is ever bound more requests than its
//! allocatable; every pod is in exactly one state. Checked on random small clusters.

use capsim::cluster::PodPhase;
use capsim::model::Resources;
use capsim::sim::World;
use capsim::testkit::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn nodes_never_overcommitted_and_pods_in_one_state(
        nodes_n in 1u32..4,
        workloads in prop::collection::vec((1u32..8, 100i64..1500, 64i64..2048), 1..4),
        seed in 0u64..1000,
    ) {
        let mut sc = scenario();
        sc.seed = seed;
        sc.duration = secs(600);
        sc.static_nodes.push(nodes("pool", "m5.large", nodes_n));
        for (i, (replicas, cpu, mem)) in workloads.iter().enumerate() {
            sc.workloads.push(deployment(&format!("w{i}"), *replicas, *cpu, *mem));
        }
        let world = World::new(&sc).unwrap();
        let r = world.run();
        // Recompute per-node requests from the pod records at the end.
        let mut used = std::collections::BTreeMap::<String, i64>::new();
        for p in r.pods.iter().filter(|p| p.state_at_end != "Pending" && p.state_at_end != "Deleted") {
            *used.entry(p.node.clone()).or_default() += 1;
        }
        let alloc = sc.catalog.get("m5.large").unwrap().allocatable();
        for (node, pods) in used {
            prop_assert!(pods <= alloc.pods, "{node} has {pods} pods");
        }
        let states = ["Pending", "Starting", "Running", "Ready", "Terminating", "Deleted", "Succeeded"];
        for p in &r.pods {
            prop_assert_eq!(states.iter().filter(|s| **s == p.state_at_end).count(), 1);
        }
    }
}

/// Stepping the world event by event, allocated never exceeds allocatable on any node.
#[test]
fn allocation_checked_at_every_event() {
    let mut sc = scenario();
    sc.duration = secs(900);
    sc.static_nodes.push(nodes("pool", "m5.large", 2));
    sc.workloads.push(deployment("a", 5, 700, 900));
    sc.workloads.push(deployment("b", 4, 300, 3000));
    let mut world = World::new(&sc).unwrap();
    let mut steps = 0;
    while world.step() {
        steps += 1;
        for n in &world.cluster.nodes {
            let bound: Resources = n
                .pods
                .iter()
                .map(|p| &world.cluster.pods[p.0 as usize])
                .filter(|p| p.phase.is_bound())
                .fold(Resources::ZERO, |acc, p| acc + p.requests);
            assert!(
                bound.fits_in(&n.allocatable),
                "{} over-committed: {bound:?} > {:?}",
                n.name,
                n.allocatable
            );
            assert_eq!(bound, n.allocated, "{} bookkeeping", n.name);
        }
        for p in &world.cluster.pods {
            // Bound phases always have a node; Pending never has one.
            if p.phase.is_bound() {
                assert!(p.node.is_some());
            }
            if p.phase == PodPhase::Pending {
                assert!(p.node.is_none());
            }
        }
    }
    assert!(steps > 10);
}
