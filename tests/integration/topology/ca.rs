//! Cluster Autoscaler under spread and anti-affinity: one node group per zone, the estimator
//! and `--balance-similar-node-groups` as its FAQ describes (one group per zone, balanced).

use super::*;
use capsim::sim;

fn ca(args: &str, min: u32, workloads: &str) -> String {
    let mut groups = String::new();
    for z in ["a", "b", "c"] {
        groups.push_str(&format!(
            "---\napiVersion: capsim/v1alpha1\nkind: NodeGroup\nmetadata: {{name: general-{z}}}\nspec: {{instanceType: m5.xlarge, capacityType: on-demand, min: {min}, max: 10, zone: us-east-1{z}}}\n"
        ));
    }
    format!(
        "apiVersion: capsim/v1alpha1\nkind: Scenario\nmetadata: {{name: topo-ca}}\nspec:\n  duration: 30m\n  start: cold\n  provisioner:\n    clusterAutoscaler:\n      args: [--scan-interval=10s{args}]\n{groups}---\n{workloads}"
    )
}

#[test]
fn anti_affinity_makes_the_estimator_open_a_node_per_pod() {
    let r = sim::run(&load(&ca("", 0, &web(5, ANTI_HOSTNAME)))).unwrap();
    let per_node = pods_per_node(&r, "web");
    assert_eq!(per_node.len(), 5, "{per_node:?}");
    assert_eq!(r.summary.workloads[0].pods_pending_at_end, 0);
    // The first scale-up asked for five nodes at once (the estimator saw the rule), not one.
    let first = r
        .decisions
        .iter()
        .find(|d| d.decision == "ScaleUp")
        .expect("a scale-up");
    assert!(first.reason.contains("+5 node(s)"), "{}", first.reason);
}

#[test]
fn balance_similar_node_groups_spreads_a_scale_up_over_the_zones() {
    let text = ca(", --balance-similar-node-groups", 0, &web(9, ANTI_HOSTNAME));
    let r = sim::run(&load(&text)).unwrap();
    let first = r
        .decisions
        .iter()
        .find(|d| d.decision == "ScaleUp")
        .expect("a scale-up");
    assert!(
        first.reason.contains("balanced across similar groups"),
        "{}",
        first.reason
    );
    let z = pods_per_zone(&r, "web");
    assert_eq!(z.values().copied().collect::<Vec<_>>(), vec![3, 3, 3], "{z:?}");
    // Without balancing, one group takes the whole scale-up.
    let r = sim::run(&load(&ca("", 0, &web(9, ANTI_HOSTNAME)))).unwrap();
    assert_eq!(pods_per_zone(&r, "web").len(), 1);
}

#[test]
fn zone_spread_pods_wait_for_their_zone_group() {
    // One node in each zone to start (7 pods fit one), spread maxSkew 1 over zones: 24 pods
    // need every zone's group to grow; the estimator stops a group at the skew, balancing
    // grows the three together, and the end state keeps the skew with every pod running.
    let r = sim::run(&load(&ca(", --balance-similar-node-groups", 1, &web(24, SPREAD_ZONE)))).unwrap();
    let z = pods_per_zone(&r, "web");
    assert_eq!(z.values().sum::<usize>(), 24, "{z:?}");
    let (lo, hi) = (z.values().min().unwrap(), z.values().max().unwrap());
    assert!(hi - lo <= 1, "{z:?}");
    assert_eq!(r.summary.workloads[0].pods_pending_at_end, 0);
}
