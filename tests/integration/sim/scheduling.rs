use capsim::model::ScoringStrategy;
use capsim::sim;
use capsim::testkit::*;

#[test]
fn cluster_too_small_leaves_pods_pending_to_the_end() {
    // m5.large allocatable ≈ 1930m: three 800m pods fit two per node → one node holds 2, 3rd pending.
    let mut sc = scenario();
    sc.static_nodes.push(nodes("small", "m5.large", 1));
    sc.workloads.push(deployment("api", 3, 800, 256));
    let r = sim::run(&sc).unwrap();
    let w = &r.summary.workloads[0];
    assert_eq!(w.pods_created, 3);
    assert_eq!(w.pods_pending_at_end, 1, "one pod cannot fit");
    // The still-Pending pod is reported with its Pending time up to the end (censored), not dropped.
    assert_eq!(w.pending.count, 3);
    assert!((w.pending.max - 3600.0).abs() < 1e-6, "max pending {}", w.pending.max);
    let table = capsim::report::summary_table(&r.summary);
    assert!(table.contains("1 still Pending"), "{table}");
    let pending: Vec<_> = r.pods.iter().filter(|p| p.state_at_end == "Pending").collect();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].unschedulable_s.is_some());
}

#[test]
fn taint_keeps_pods_without_toleration_off_a_node() {
    let mut sc = scenario();
    let mut tainted = nodes("gpu", "m5.xlarge", 1);
    tainted.taints.push(taint("dedicated", "gpu"));
    sc.static_nodes.push(tainted);
    sc.static_nodes.push(nodes("general", "m5.xlarge", 1));
    sc.workloads.push(deployment("web", 3, 500, 256));
    let mut tolerant = deployment("trainer", 1, 500, 256);
    tolerant.template.tolerations.push(toleration("dedicated", "gpu"));
    sc.workloads.push(tolerant);
    let r = sim::run(&sc).unwrap();
    for p in r.pods.iter().filter(|p| p.workload == "web") {
        assert!(p.node.starts_with("general-"), "{} landed on {}", p.pod, p.node);
    }
    // Untainted pods all fit on general; the tolerant pod may go anywhere but is scheduled.
    assert!(r.pods.iter().all(|p| p.scheduled_s.is_some()));
}

#[test]
fn taint_without_room_elsewhere_leaves_pods_pending() {
    let mut sc = scenario();
    let mut tainted = nodes("gpu", "m5.xlarge", 2);
    tainted.taints.push(taint("dedicated", "gpu"));
    sc.static_nodes.push(tainted);
    sc.workloads.push(deployment("web", 2, 100, 64));
    let r = sim::run(&sc).unwrap();
    assert_eq!(r.summary.workloads[0].pods_pending_at_end, 2);
}

fn spread(strategy: ScoringStrategy) -> usize {
    let mut sc = scenario();
    sc.scoring = strategy;
    sc.static_nodes.push(nodes("pool", "m5.xlarge", 4));
    sc.workloads.push(deployment("api", 4, 500, 512));
    let r = sim::run(&sc).unwrap();
    let mut used: Vec<&str> = r.pods.iter().map(|p| p.node.as_str()).collect();
    used.sort();
    used.dedup();
    used.len()
}

#[test]
fn most_allocated_packs_where_least_allocated_spreads() {
    assert_eq!(
        spread(ScoringStrategy::LeastAllocated),
        4,
        "LeastAllocated spreads over all nodes"
    );
    assert_eq!(
        spread(ScoringStrategy::MostAllocated),
        1,
        "MostAllocated packs onto one node"
    );
}

#[test]
fn image_pulled_once_on_a_node_starts_faster_the_second_time() {
    let mut sc = scenario();
    sc.static_nodes.push(nodes("one", "m5.xlarge", 1));
    let mut w = deployment("api", 1, 500, 256);
    w.startup.image_pull = constant(20);
    w.startup.image_pull_cached = constant(0);
    sc.workloads.push(w);
    // Two pods created at different times: the first pulls (20 s), the second finds the image.
    let mut later = deployment("api-canary", 1, 500, 256);
    later.startup.image_pull = constant(20);
    sc.workloads.push(later);
    let r = sim::run(&sc).unwrap();
    let first = r.pods.iter().find(|p| p.workload == "api").unwrap();
    assert!(!first.image_cached);
    assert_eq!(
        first.started_s.unwrap() - first.scheduled_s.unwrap(),
        21.0,
        "20 s pull + 1 s start"
    );
    // A second pod of the same image on the same node: scale the Deployment to 2 from the start.
    let mut sc2 = scenario();
    sc2.static_nodes.push(nodes("one", "m5.xlarge", 1));
    let mut w2 = deployment("api", 2, 500, 256);
    w2.startup.image_pull = constant(20);
    sc2.workloads.push(w2);
    let r2 = sim::run(&sc2).unwrap();
    let cached: Vec<_> = r2.pods.iter().filter(|p| p.image_cached).collect();
    assert_eq!(cached.len(), 1, "the second pod finds the image being pulled");
    // It waits for the same pull (never longer than the first), then starts.
    let t0 = r2.pods.iter().find(|p| !p.image_cached).unwrap().started_s.unwrap();
    assert!(cached[0].started_s.unwrap() <= t0);
}

#[test]
fn nodes_carry_well_known_labels_so_arch_selectors_work() {
    // Regression: nodes lacked kubernetes.io/arch, so an arm64 nodeSelector never matched.
    let mut sc = scenario();
    sc.static_nodes.push(nodes("x86", "m5.large", 1));
    sc.static_nodes.push(nodes("graviton", "m6g.large", 1));
    let mut w = deployment("arm-only", 2, 200, 128);
    w.template
        .node_selector
        .insert("kubernetes.io/arch".into(), "arm64".into());
    sc.workloads.push(w);
    let r = sim::run(&sc).unwrap();
    assert!(r.pods.iter().all(|p| p.node.starts_with("graviton-")), "{:?}", r.pods);
}

#[test]
fn provisioner_short_form_names_karpenter_with_defaults() {
    let text = r#"
apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: short}
spec:
  duration: 10m
  provisioner: karpenter
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements: [{key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, resources: {requests: {cpu: 250m, memory: 256Mi}}}]}
"#;
    let sc = capsim::scenario::load_str("short.yaml", text, None, &[]).unwrap();
    let r = sim::run(&sc).unwrap();
    assert!(r.summary.cluster.nodes_launched >= 1, "Karpenter launched a node");
    assert!(r.pods.iter().all(|p| p.scheduled_s.is_some()));
    let bad = text.replace("provisioner: karpenter", "provisioner: autoscaler9000");
    // An unknown provisioner is an error of the scenario itself, found when it loads.
    let e = capsim::scenario::load_str("short.yaml", &bad, None, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("spec.provisioner"), "{e}");
}

#[test]
fn validate_lints_name_what_would_silently_go_wrong() {
    let text = r#"
apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: lints}
spec:
  duration: 10m
  nodes: [{name: small, instanceType: m5.large, count: 1}]
  workloads:
    web: {traffic: {base: 10}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, resources: {requests: {memory: 256Mi}}}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: huge}
spec:
  replicas: 1
  selector: {matchLabels: {app: huge}}
  template:
    metadata: {labels: {app: huge}}
    spec: {containers: [{name: h, image: h, resources: {requests: {cpu: "8", memory: 1Gi}}}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 3
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}}]
"#;
    let sc = capsim::scenario::load_str("lints.yaml", text, None, &[]).unwrap();
    let world = sim::World::new(&sc).unwrap();
    let lints = capsim::sim::lint::lints(&sc, &world.autoscaling.hpas);
    let all = lints.join("\n");
    assert_eq!(lints.len(), 4, "{all}");
    assert!(all.contains("huge requests 8000m CPU"), "{all}");
    assert!(all.contains("minReplicas == maxReplicas (3)"), "{all}");
    assert!(all.contains("no cpu request"), "{all}");
    assert!(all.contains("perRequest.cpu is 0"), "{all}");
    // The shipped scenarios are lint-free.
    for f in [
        "monday-surge-ca.yaml",
        "monday-surge-karpenter.yaml",
        "monday-surge-karpenter-warm.yaml",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(f);
        let sc = capsim::scenario::load(&path, &[]).unwrap();
        let world = sim::World::new(&sc).unwrap();
        assert!(capsim::sim::lint::lints(&sc, &world.autoscaling.hpas).is_empty(), "{f}");
    }
}
