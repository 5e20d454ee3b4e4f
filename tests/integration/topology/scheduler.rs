//! kube-scheduler's inter-pod filters and scores on static clusters.

use super::*;
use capsim::sim;

/// Static nodes: `per_zone` m5.xlarge nodes in each of `zones`.
fn cluster(zones: &[&str], per_zone: u32, workloads: &str) -> String {
    let mut nodes = String::new();
    for z in zones {
        nodes.push_str(&format!(
            "  - {{name: n-{z}, instanceType: m5.xlarge, count: {per_zone}, zone: {z}}}\n"
        ));
    }
    format!(
        "apiVersion: capsim/v1alpha1\nkind: Scenario\nmetadata: {{name: topo}}\nspec:\n  duration: 10m\n  start: cold\n  nodes:\n{nodes}---\n{workloads}"
    )
}

#[test]
fn required_hostname_anti_affinity_never_co_locates() {
    // Nine pods, six nodes: one per node, three stay Pending (the frontend bundle).
    let r = sim::run(&load(&cluster(
        &["us-east-1a", "us-east-1b"],
        3,
        &web(9, ANTI_HOSTNAME),
    )))
    .unwrap();
    let per_node = pods_per_node(&r, "web");
    assert_eq!(per_node.len(), 6, "{per_node:?}");
    assert!(per_node.values().all(|&c| c == 1), "{per_node:?}");
    assert_eq!(r.summary.workloads[0].pods_pending_at_end, 3);
}

#[test]
fn do_not_schedule_zone_spread_keeps_the_skew() {
    // Zone a has 3 nodes, zone b one: without spread the scheduler's LeastAllocated would
    // favour a's emptier nodes; maxSkew 1 holds the zones at 5/5 (ten pods fit in b's node:
    // m5.xlarge ≈ 3.9 cores / 500m = 7 pods, so 7 in b and at most 8 in a).
    let text = cluster(&["us-east-1a"], 3, &web(10, SPREAD_ZONE)).replace(
        "---\n",
        "  - {name: n-b, instanceType: m5.xlarge, count: 1, zone: us-east-1b}\n---\n",
    );
    let r = sim::run(&load(&text)).unwrap();
    let z = pods_per_zone(&r, "web");
    assert_eq!(z.get("us-east-1a"), Some(&5), "{z:?}");
    assert_eq!(z.get("us-east-1b"), Some(&5), "{z:?}");
    // 16 pods: b fills at 7, so a may take at most 8: 15 placed, 1 Pending.
    let text16 = text.replace("replicas: 10", "replicas: 16");
    let r = sim::run(&load(&text16)).unwrap();
    let z = pods_per_zone(&r, "web");
    assert_eq!((z["us-east-1a"], z["us-east-1b"]), (8, 7), "{z:?}");
    assert_eq!(r.summary.workloads[0].pods_pending_at_end, 1);
}

#[test]
fn required_pod_affinity_follows_its_target_and_the_first_pod_may_go_anywhere() {
    // `cache` pods must share a zone with a `web` pod; `web` lives only in zone b.
    let cache = web(3, "").replace("name: web", "name: cache").replace("app: web", "app: cache").replace(
        "    spec:\n\n",
        "    spec:\n      affinity:\n        podAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - labelSelector: {matchLabels: {app: web}}\n              topologyKey: topology.kubernetes.io/zone\n",
    );
    let pinned = web(2, "      nodeSelector: {topology.kubernetes.io/zone: us-east-1b}");
    let r = sim::run(&load(&cluster(
        &["us-east-1a", "us-east-1b"],
        2,
        &format!("{pinned}---\n{cache}"),
    )))
    .unwrap();
    assert_eq!(
        pods_per_zone(&r, "cache").keys().collect::<Vec<_>>(),
        vec!["us-east-1b"]
    );
    // A group that selects itself: its first pod goes anywhere, the rest follow it.
    let selfish = web(
        4,
        "      affinity:\n        podAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - labelSelector: {matchLabels: {app: web}}\n              topologyKey: topology.kubernetes.io/zone",
    );
    let r = sim::run(&load(&cluster(&["us-east-1a", "us-east-1b"], 2, &selfish))).unwrap();
    let z = pods_per_zone(&r, "web");
    assert_eq!(z.len(), 1, "{z:?}");
    assert_eq!(z.values().sum::<usize>(), 4);
}

#[test]
fn existing_pods_anti_affinity_is_symmetric() {
    // `batch` pods refuse any node with a `web` pod; web has no rule of its own, yet cannot
    // join a node holding a batch pod.
    let batch = web(2, "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - labelSelector: {matchLabels: {app: web}}\n              topologyKey: kubernetes.io/hostname")
        .replace("name: web", "name: guard")
        .replace("app: web}}\n  template", "app: guard}}\n  template")
        .replace("labels: {app: web}", "labels: {app: guard}");
    let r = sim::run(&load(&cluster(
        &["us-east-1a"],
        3,
        &format!("{batch}---\n{}", web(6, "")),
    )))
    .unwrap();
    let guards = pods_per_node(&r, "guard");
    let webs = pods_per_node(&r, "web");
    assert_eq!(guards.values().sum::<usize>(), 2);
    for n in guards.keys() {
        assert!(!webs.contains_key(n), "web shares {n} with a guard: {webs:?}");
    }
}

#[test]
fn default_spread_scores_replicas_apart_and_preferred_node_affinity_pulls() {
    // The system default constraints (hostname maxSkew 3, ScheduleAnyway) spread a
    // Deployment's pods over equal nodes.
    let r = sim::run(&load(&cluster(&["us-east-1a"], 3, &web(6, "")))).unwrap();
    let per_node = pods_per_node(&r, "web");
    assert_eq!(
        per_node.values().copied().collect::<Vec<_>>(),
        vec![2, 2, 2],
        "{per_node:?}"
    );
    // Preferred node affinity (weight 100 × NodeAffinity weight 2) outweighs the fit scores.
    let pref = "      affinity:\n        nodeAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n            - weight: 100\n              preference:\n                matchExpressions:\n                  - {key: topology.kubernetes.io/zone, operator: In, values: [us-east-1b]}";
    let r = sim::run(&load(&cluster(&["us-east-1a", "us-east-1b"], 1, &web(3, pref)))).unwrap();
    assert_eq!(pods_per_zone(&r, "web").get("us-east-1b"), Some(&3));
}

#[test]
fn bad_constraints_name_their_field() {
    let bad = web(
        1,
        "      topologySpreadConstraints:\n        - {maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {}}",
    );
    let e = capsim::scenario::load_str("t.yaml", &cluster(&["us-east-1a"], 1, &bad), None, &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spec.template.spec.topologySpreadConstraints[0].maxSkew"),
        "{e}"
    );
    let bad = web(
        1,
        "      affinity:\n        podAntiAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n            - weight: 101\n              podAffinityTerm: {topologyKey: zone, labelSelector: {}}",
    );
    let e = capsim::scenario::load_str("t.yaml", &cluster(&["us-east-1a"], 1, &bad), None, &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("preferredDuringSchedulingIgnoredDuringExecution[0].weight"),
        "{e}"
    );
}
