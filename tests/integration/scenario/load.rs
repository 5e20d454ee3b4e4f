//! Scenario loading, positive cases: helm-template directories, Lists, overrides, defaults, priorities.

use capsim::cloud::Distribution;
use capsim::engine::SimDuration;
use capsim::model::labels::{SelectorOperator, TolerationOperator};
use capsim::model::{CapacityType, IntOrPercent, Resources, ScoringStrategy, TaintEffect, WorkloadKind};
use capsim::scenario::{self, Scenario, defaults};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scenarios")
        .join(rel)
}

fn helm(overrides: &[&str]) -> Scenario {
    let ov: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::load(&data("helm/scenario.yaml"), &ov).unwrap_or_else(|e| panic!("{e}"))
}

fn secs(s: u64) -> Distribution {
    Distribution::constant(SimDuration::from_secs(s))
}

#[test]
fn helm_template_directory_is_included_unchanged() {
    let s = helm(&[]);
    assert_eq!(s.name, "helm-checkout");
    assert_eq!(s.duration, SimDuration::from_secs(3600));
    assert_eq!((s.seed, s.resolution), (7, SimDuration::from_secs(30)));
    // Root file, then manifests/ sorted by path (checkout/templates/{deployment,hpa}.yaml,
    // platform/{priority.yaml,workers.yml}); README.md and .hidden/ are not read; "./" re-includes
    // nothing because every file in it is already loaded.
    let kinds: Vec<&str> = s.documents.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "Scenario",
            "Service",
            "Deployment",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "ConfigMap",
            "PriorityClass",
            "PriorityClass",
            "PriorityClass",
            "Deployment",
            "Deployment",
            "DaemonSet"
        ]
    );
    // deployment.yaml holds a Service, then the Deployment (document 2, after its "# Source" comment).
    let dep = &s.documents[2];
    assert!(
        dep.file.ends_with("manifests/checkout/templates/deployment.yaml"),
        "{}",
        dep.file
    );
    assert_eq!((dep.index, dep.line), (2, 13));
    let names: Vec<(&str, &str, WorkloadKind)> = s
        .workloads
        .iter()
        .map(|w| (w.namespace.as_str(), w.name.as_str(), w.kind))
        .collect();
    assert_eq!(
        names,
        [
            ("default", "checkout-api", WorkloadKind::Deployment),
            ("shop", "worker", WorkloadKind::Deployment),
            ("default", "placeholder", WorkloadKind::Deployment),
            ("monitoring", "node-exporter", WorkloadKind::DaemonSet),
        ]
    );
    assert_eq!(s.hpas.len(), 1);
    assert_eq!(s.hpas[0].metadata.namespace.as_deref(), Some("default"));
    let hpa_doc = s
        .document("HorizontalPodAutoscaler", "default", "checkout-api")
        .expect("raw HPA");
    assert_eq!((hpa_doc.index, hpa_doc.api_version.as_str()), (1, "autoscaling/v2"));
    let e = hpa_doc.error(
        scenario::ErrorKind::Invalid,
        "spec.maxReplicas",
        "must be >= minReplicas (4), got 2",
    );
    assert!(e.to_string().ends_with(
        "hpa.yaml: document 1 (HorizontalPodAutoscaler checkout-api): spec.maxReplicas: must be >= minReplicas (4), got 2"
    ));
    assert_eq!(s.documents_of("scheduling.k8s.io/v1", "PriorityClass").count(), 3);
    assert!(s.document("PriorityClass", "", "business-critical").is_some());
    assert_eq!(s.pdbs.len(), 1);
    assert_eq!(s.pdbs[0].max_unavailable, Some(IntOrPercent::Percent(25.0)));
    assert_eq!(
        s.pdbs[0].selector.get("app.kubernetes.io/name").map(String::as_str),
        Some("checkout-api")
    );
    assert!(s.provisioner.key() == Some("clusterAutoscaler") && s.controller_manager.is_some());
    assert_eq!(s.priority_classes.len(), 3);
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("skipped 1 v1 Service document") && w.contains("checkout-api"))
    );
    assert!(s.warnings.iter().any(|w| w.contains("init container \"migrate\"")));
}

#[test]
fn pod_template_fields_and_upstream_defaults() {
    let s = helm(&[]);
    let api = &s.workloads[0];
    assert_eq!(api.replicas, 4);
    let t = &api.template;
    // app 1 CPU / 512 MiB; log-shipper has only limits, so requests = limits (1 CPU / 64 MiB);
    // the envoy sidecar (restartable init container) adds 1 CPU / 128 MiB; "migrate" does not count.
    // 3000m, 512 + 64 + 128 = 704 MiB = 738197504 bytes, one pod slot.
    assert_eq!(t.requests(), Resources::new(3000, 738_197_504, 1));
    assert_eq!(t.containers[1].requests, Resources::new(1000, 67_108_864, 0));
    assert_eq!(t.sidecars.len(), 1);
    assert_eq!(
        (t.containers[0].limit_cpu_m, t.containers[0].limit_mem),
        (Some(2000), Some(1_073_741_824))
    );
    assert_eq!(t.limit_cpu_m(), None, "the envoy sidecar has no CPU limit");
    assert_eq!(t.image(), "registry.example.com/checkout-api:1.2.3");
    assert_eq!(t.termination_grace, SimDuration::from_secs(45));
    assert_eq!(
        t.node_selector.get("kubernetes.io/arch").map(String::as_str),
        Some("amd64")
    );
    assert_eq!(
        t.annotations
            .get("cluster-autoscaler.kubernetes.io/safe-to-evict")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(t.labels.get("tier").map(String::as_str), Some("web"));
    // `{operator: Exists, effect: NoExecute}` already covers the admission defaults: nothing added.
    assert_eq!(t.tolerations.len(), 2);
    // No tolerations written: DefaultTolerationSeconds adds not-ready and unreachable (NoExecute).
    let keys = |i: usize| -> Vec<String> {
        s.workloads[i]
            .template
            .tolerations
            .iter()
            .map(|t| t.key.clone())
            .collect()
    };
    assert_eq!(
        keys(1),
        ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
    );
    // The DaemonSet's `{operator: Exists}` plus the six the DaemonSet controller adds (no hostNetwork).
    assert_eq!(s.workloads[3].template.tolerations.len(), 7);
    assert!(keys(3).contains(&"node.kubernetes.io/unschedulable".to_string()));
    assert!(!keys(3).contains(&"node.kubernetes.io/network-unavailable".to_string()));
    assert_eq!(t.tolerations[0].effect, Some(TaintEffect::NoSchedule));
    assert_eq!(
        (t.tolerations[1].operator, t.tolerations[1].key.as_str()),
        (TolerationOperator::Exists, "")
    );
    assert_eq!(t.affinity.terms.len(), 1);
    assert_eq!(t.affinity.terms[0][1].operator, SelectorOperator::NotIn);

    // The scenario's workloads entries.
    assert!(api.traffic.is_some());
    assert_eq!(api.service.cpu_per_rps_m, 1000.0);
    assert_eq!(api.service.mem_per_rps, 65536.0);
    assert_eq!(api.service.idle_mem, 188_743_680.0);
    assert_eq!(api.service.max_rps_per_pod, Some(300.0));
    assert_eq!(api.startup.image_pull, secs(20));
    assert_eq!(api.startup.readiness, Some(secs(5)));
    assert_eq!(
        api.startup.image_pull_cached,
        defaults::startup_latency().image_pull_cached
    );
    assert_eq!(api.startup.container_start, defaults::startup_latency().container_start);
    // "shop/worker" addressed with its namespace; no traffic for the placeholder.
    assert!(s.workloads[1].traffic.is_some());
    assert!(s.workloads[2].traffic.is_none());

    // Static nodes and scheduler.
    assert_eq!(s.static_nodes.len(), 2);
    let general = &s.static_nodes[0];
    assert_eq!(
        (general.name.as_str(), general.count, general.zone.as_str()),
        ("general", 3, "us-east-1b")
    );
    assert_eq!(general.capacity_type, CapacityType::OnDemand);
    let c5 = &s.static_nodes[1];
    assert_eq!(
        (c5.name.as_str(), c5.count, c5.zone.as_str()),
        ("c5.2xlarge", 1, defaults::ZONE)
    );
    assert_eq!(c5.capacity_type, CapacityType::Spot);
    assert_eq!(c5.taints[0].effect, TaintEffect::NoSchedule);
    assert_eq!(s.scoring, ScoringStrategy::MostAllocated);
    assert_eq!(s.node_latency.launch, secs(60));
    assert_eq!(s.node_latency.register, defaults::node_latency().register);
    assert_eq!(s.node_latency.ready, secs(15));
}

#[test]
fn priorities_resolve_as_admission_does() {
    let s = helm(&[]);
    let p = |i: usize| {
        let t = &s.workloads[i].template;
        (t.priority_class.as_deref(), t.priority, t.preempts)
    };
    assert_eq!(p(0), (Some("business-critical"), 100_000, true));
    // no priorityClassName: the globalDefault class
    assert_eq!(p(1), (Some("default-low"), 10, true));
    // preemptionPolicy: Never is inherited from the class
    assert_eq!(p(2), (Some("overprovisioning"), -10, false));
    // built-in class, defined nowhere in the scenario
    assert_eq!(p(3), (Some("system-node-critical"), 2_000_001_000, true));

    // Without a globalDefault class a pod with no class gets priority 0.
    let s = helm(&["PriorityClass/default-low:globalDefault=false"]);
    let t = &s.workloads[1].template;
    assert_eq!((t.priority_class.as_deref(), t.priority), (None, defaults::PRIORITY));
}

#[test]
fn overrides_of_each_form() {
    let s = helm(&[
        "Deployment/checkout-api:spec.replicas=6",
        "HorizontalPodAutoscaler/checkout-api:spec.metrics[0].resource.target.averageUtilization=70",
        "Scenario:spec.seed=3",
        "Scenario:spec.workloads.checkout-api.traffic.base=800",
        "Deployment/checkout-api:spec.template.spec.nodeSelector.\"kubernetes.io/arch\"=arm64",
        "Deployment/shop/worker:spec.template.spec.nodeSelector={disk: ssd}",
        "Scenario:spec.nodes[0].count=5",
        "Scenario:spec.scheduler.scoring=LeastAllocated",
    ]);
    assert_eq!(s.workloads[0].replicas, 6);
    let target = s.hpas[0]
        .spec
        .as_ref()
        .and_then(|sp| sp.metrics.as_ref())
        .and_then(|m| m[0].resource.as_ref());
    assert_eq!(target.and_then(|r| r.target.average_utilization), Some(70));
    assert_eq!(s.seed, 3);
    let scen = s.documents.iter().find(|d| d.kind == "Scenario").unwrap();
    assert_eq!(
        scen.value["spec"]["workloads"]["checkout-api"]["traffic"]["base"],
        serde_json::json!(800)
    );
    assert_eq!(
        s.workloads[0]
            .template
            .node_selector
            .get("kubernetes.io/arch")
            .map(String::as_str),
        Some("arm64")
    );
    assert_eq!(
        s.workloads[1].template.node_selector.get("disk").map(String::as_str),
        Some("ssd")
    );
    assert_eq!(s.static_nodes[0].count, 5);
    assert_eq!(s.scoring, ScoringStrategy::LeastAllocated);
}

#[test]
fn defaults_are_applied() {
    let text = "apiVersion: capsim/v1alpha1\nkind: Scenario\nspec: {duration: 600s}\n---\n\
                apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  \
                selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
                spec: {containers: [{name: web, image: nginx}]}\n";
    let s = scenario::load_str("embedded/demo.yaml", text, None, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name, "demo", "no metadata.name: the file stem");
    assert_eq!(s.resolution, defaults::RESOLUTION);
    assert_eq!(s.resolution, SimDuration::from_secs(10));
    assert_eq!(s.seed, defaults::SEED);
    assert_eq!(s.scoring, ScoringStrategy::LeastAllocated);
    assert_eq!(s.node_latency, defaults::node_latency());
    let w = &s.workloads[0];
    assert_eq!((w.namespace.as_str(), w.replicas), ("default", 1));
    assert_eq!(w.template.termination_grace, SimDuration::from_secs(30));
    assert_eq!((w.template.priority, w.template.preempts), (0, true));
    assert_eq!(w.template.requests(), Resources::new(0, 0, 1));
    assert_eq!(w.startup, defaults::startup_latency());
    assert!(w.traffic.is_none());
    assert!(s.static_nodes.is_empty() && s.hpas.is_empty() && s.warnings.is_empty());
    assert!(s.provisioner.key().is_none() && s.base_dir.is_none());
}

#[test]
fn static_node_defaults() {
    let text =
        "apiVersion: capsim/v1alpha1\nkind: Scenario\nspec:\n  duration: 60s\n  nodes: [{instanceType: m5.large}]\n";
    let s = scenario::load_str("n.yaml", text, None, &[]).unwrap_or_else(|e| panic!("{e}"));
    let n = &s.static_nodes[0];
    assert_eq!((n.name.as_str(), n.count), ("m5.large", defaults::STATIC_NODE_COUNT));
    assert_eq!(
        (n.capacity_type, n.zone.as_str()),
        (CapacityType::OnDemand, "us-east-1a")
    );
}

#[test]
fn a_v1_list_is_expanded() {
    let s = scenario::load(&data("list.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name, "from-a-list");
    assert_eq!(s.workloads.len(), 1);
    assert_eq!(s.hpas.len(), 1);
    let items: Vec<(usize, Option<usize>)> = s.documents.iter().map(|d| (d.index, d.item)).collect();
    assert_eq!(items, [(1, Some(1)), (1, Some(2)), (1, Some(3))]);
}

#[test]
fn include_cycles_load_each_file_once() {
    // a.yaml includes b.yaml, itself and its own directory.
    let s = scenario::load(&data("cycle/a.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.documents.len(), 2);
    assert_eq!(s.workloads.len(), 1);
}

#[test]
fn load_str_resolves_includes_against_base_dir() {
    let text = "apiVersion: capsim/v1alpha1\nkind: Scenario\nspec: {duration: 600s, include: b.yaml}\n";
    let s = scenario::load_str("<demo>", text, Some(&data("cycle")), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.workloads[0].name, "web");
}

#[test]
fn real_quantities_and_durations() {
    let s = scenario::load(&data("units.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.duration, SimDuration::from_secs(5400));
    let w = &s.workloads[0];
    // 250m CPU, 512Mi = 536870912 bytes
    assert_eq!(w.template.requests(), Resources::new(250, 536_870_912, 1));
    assert_eq!(w.template.limit_cpu_m(), Some(1500));
    assert_eq!(w.service.cpu_per_rps_m, 2.0);
    assert_eq!(w.service.mem_per_rps, 65536.0);
    assert_eq!(w.service.idle_cpu_m, 50.0);
    assert_eq!(w.startup.image_pull, secs(60));
    assert_eq!(
        w.startup.readiness,
        Some(Distribution::constant(SimDuration::from_millis(500)))
    );
    assert_eq!(s.node_latency.launch, secs(150));
    let s = scenario::load(&data("units.yaml"), &["Scenario:spec.duration=10m".to_string()]).unwrap();
    assert_eq!(s.duration, SimDuration::from_secs(600));
}

#[test]
fn numeric_quantities_in_manifests() {
    // `cpu: 2` and `memory: 1048576` as YAML numbers, as kubectl accepts them.
    let text = "apiVersion: capsim/v1alpha1\nkind: Scenario\nspec: {duration: 60s}\n---\n\
                apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  \
                selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
                spec: {containers: [{name: web, image: nginx, resources: {requests: {cpu: 2, memory: 1048576}}}]}\n";
    let s = scenario::load_str("q.yaml", text, None, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.workloads[0].template.requests(), Resources::new(2000, 1_048_576, 1));
}

#[test]
fn the_design_example_loads() {
    let s = scenario::load(&data("design-example.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.duration, SimDuration::from_secs(3 * 3600));
    assert_eq!(s.workloads[0].template.requests(), Resources::new(500, 536_870_912, 1));
    assert_eq!(s.workloads[0].service.cpu_per_rps_m, 2.0);
    assert_eq!(s.documents_of("capsim/v1alpha1", "NodeGroup").count(), 1);
    assert_eq!(s.hpas.len(), 1);
    assert!(s.provisioner.key() == Some("clusterAutoscaler"));
}

#[test]
fn an_empty_include_directory_is_warned_about() {
    let s = scenario::load(&data("empty-dir/scenario.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].contains("spec.include[0]: directory") && s.warnings[0].contains("holds no *.yaml"));
}
