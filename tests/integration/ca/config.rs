//! Cluster Autoscaler configuration: flags, NodeGroup documents, the priority ConfigMap.

use super::support as ca_support;

use ca_support::catalog;
use capsim::controllers::cluster_autoscaler::expander::priority::{PriorityConfig, PriorityError};
use capsim::controllers::cluster_autoscaler::flags::{CaFlags, ExpanderKind, FlagError, parse_flags};
use capsim::controllers::cluster_autoscaler::node_group::NodeGroupSpec;
use capsim::controllers::cluster_autoscaler::{CaError, ClusterAutoscaler};
use capsim::engine::SimDuration;
use capsim::model::CapacityType;

#[test]
fn defaults_are_upstreams() {
    let f = parse_flags::<&str>(&[]).expect("no args").flags;
    assert_eq!(f, CaFlags::default());
    assert_eq!(f.scan_interval, SimDuration::from_secs(10));
    assert_eq!(f.expanders, vec![ExpanderKind::LeastWaste]);
    assert_eq!(f.scale_down_unneeded_time, SimDuration::from_mins(10));
    assert_eq!(f.scale_down_delay_after_add, SimDuration::from_mins(10));
    assert_eq!(f.scale_down_delay_after_delete, SimDuration::ZERO);
    assert_eq!(f.scale_down_delay_after_failure, SimDuration::from_mins(3));
    assert_eq!(f.scale_down_unready_time, SimDuration::from_mins(20));
    assert_eq!(f.scale_down_utilization_threshold, 0.5);
    assert_eq!(f.max_node_provision_time, SimDuration::from_mins(15));
    assert_eq!(f.max_pod_eviction_time, SimDuration::from_mins(2));
    assert_eq!((f.max_scale_down_parallelism, f.max_drain_parallelism), (10, 1));
    assert_eq!(f.initial_node_group_backoff_duration, SimDuration::from_mins(5));
    assert_eq!(f.max_node_group_backoff_duration, SimDuration::from_mins(30));
    assert_eq!(f.node_group_backoff_reset_timeout, SimDuration::from_mins(180));
    assert_eq!((f.max_nodes_total, f.max_nodes_per_scaleup), (0, 1000));
    assert!(f.skip_nodes_with_system_pods && f.skip_nodes_with_local_storage && f.scale_down_enabled);
}

#[test]
fn both_flag_forms_and_boolean_forms() {
    let p = parse_flags(&[
        "--scan-interval=30s",
        "--expander",
        "priority,least-waste",
        "--scale-down-unneeded-time",
        "5m",
        "--scale-down-utilization-threshold=0.65",
        "--skip-nodes-with-system-pods=false",
        "--ignore-daemonsets-utilization",
        "-max-nodes-total=40",
        "--cores-total=2:100",
        "--memory-total",
        "0:512",
        "--scale-down-enabled",
        "--balance-similar-node-groups=false",
    ])
    .expect("valid args");
    let f = &p.flags;
    assert_eq!(f.scan_interval, SimDuration::from_secs(30));
    assert_eq!(f.expanders, vec![ExpanderKind::Priority, ExpanderKind::LeastWaste]);
    assert_eq!(f.scale_down_unneeded_time, SimDuration::from_mins(5));
    assert_eq!(f.scale_down_utilization_threshold, 0.65);
    assert!(!f.skip_nodes_with_system_pods);
    assert!(f.ignore_daemonsets_utilization);
    assert!(f.scale_down_enabled);
    assert_eq!(f.max_nodes_total, 40);
    assert_eq!(f.cores_total, (2, 100));
    assert_eq!(f.memory_total_gib, (0, 512));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // A boolean never takes the next argument: `--scale-down-enabled false` leaves a stray arg.
    let p = parse_flags(&["--scale-down-enabled", "false"]).expect("valid");
    assert!(p.flags.scale_down_enabled);
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(
        !parse_flags(&["--scale-down-enabled=false"])
            .expect("valid")
            .flags
            .scale_down_enabled
    );
}

#[test]
fn unknown_flags_warn_and_harmless_flags_are_ignored() {
    let p = parse_flags(&[
        "--cloud-provider=aws",
        "--v=4",
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled",
        "--logtostderr",
        "--frobnicate=yes",
        "--made-up",
        "7",
        "--balance-similar-node-groups",
    ])
    .expect("valid");
    assert_eq!(p.ignored.len(), 4, "{:?}", p.ignored);
    // --balance-similar-node-groups is modelled now: no warning.
    assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
    assert!(p.warnings[0].contains("--frobnicate=yes"), "{}", p.warnings[0]);
    assert!(p.warnings[1].contains("--made-up 7"), "{}", p.warnings[1]);
    assert!(p.flags.balance_similar_node_groups);
    assert_eq!(
        p.flags,
        CaFlags {
            balance_similar_node_groups: true,
            ..CaFlags::default()
        }
    );
}

#[test]
fn malformed_values_name_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--scale-down-unneeded-time=10 minutes"],
            "--scale-down-unneeded-time: invalid duration",
        ),
        (&["--scan-interval=10"], "--scan-interval: invalid duration"),
        (
            &["--max-node-provision-time=-5m"],
            "--max-node-provision-time: invalid duration",
        ),
        (&["--expander=cheapest"], "unknown expander \"cheapest\""),
        (&["--expander=priority,,least-waste"], "unknown expander \"\""),
        (&["--expander=grpc"], "--expander: the grpc expander"),
        (
            &["--scale-down-utilization-threshold=1.5"],
            "--scale-down-utilization-threshold: 1.5 is outside [0, 1]",
        ),
        (&["--scale-down-utilization-threshold=half"], "expected a number"),
        (&["--skip-nodes-with-system-pods=maybe"], "expected true or false"),
        (&["--max-nodes-total=-1"], "--max-nodes-total: -1 is outside"),
        (&["--cores-total=10"], "--cores-total: missing ':'"),
        (&["--cores-total=10:5"], "min is greater than max"),
        (&["--scan-interval"], "--scan-interval: needs a value"),
        (&["--scan-interval=0s"], "must be greater than 0"),
    ];
    for (args, want) in cases {
        let err = parse_flags(args).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(want), "{args:?}: got {err:?}, want {want:?}");
    }
    assert_eq!(
        parse_flags(&["--expander=least-waste,cheapest"]),
        Err(FlagError::UnknownExpander {
            name: "cheapest".into()
        })
    );
}

fn doc(spec: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"apiVersion": "capsim/v1alpha1", "kind": "NodeGroup", "metadata": {"name": "general"}, "spec": spec})
}

#[test]
fn node_group_documents_parse_and_validate_with_paths() {
    let g = NodeGroupSpec::from_document(
        &doc(serde_json::json!({
            "instanceType": "m5.xlarge", "capacityType": "spot", "min": 1, "max": 10, "zone": "us-east-1a",
            "labels": {"team": "web"}, "taints": [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}],
            "latency": {"launch": "240s"},
        })),
        &catalog(),
    )
    .expect("valid");
    assert_eq!(
        (g.min, g.max, g.initial, g.capacity_type),
        (1, 10, 1, CapacityType::Spot)
    );
    assert!(g.latency.launch.is_some() && g.latency.ready.is_none());
    let cases: &[(serde_json::Value, &str)] = &[
        (
            serde_json::json!({"instanceType": "m5.xlarge", "min": 1, "max": 3, "size": 2}),
            "spec.size: unknown field `size`",
        ),
        (
            serde_json::json!({"instanceType": "m9.huge", "min": 1, "max": 3}),
            "spec.instanceType: unknown instance type",
        ),
        (
            serde_json::json!({"instanceType": "m5.xlarge", "min": 4, "max": 3}),
            "spec.max: must be >= min (4), got 3",
        ),
        (
            serde_json::json!({"instanceType": "m5.xlarge", "min": 1, "max": 3, "initial": 5}),
            "spec.initial: must be between",
        ),
        (
            serde_json::json!({"instanceType": "m5.xlarge", "min": "one", "max": 3}),
            "spec.min:",
        ),
        (
            serde_json::json!({"instanceType": "m5.xlarge", "min": 1, "max": 3, "capacityType": "reserved"}),
            "spec.capacityType: expected on-demand or spot",
        ),
        (
            serde_json::json!({"instanceType": "m5.xlarge", "min": 1, "max": 3, "taints": [{"key": "a", "effect": "Sometimes"}]}),
            "spec.taints[0].effect",
        ),
        (
            serde_json::json!({"instanceType": "m5.xlarge", "min": 1, "max": 3, "latency": {"boot": "1s"}}),
            "spec.latency.boot: unknown field `boot`",
        ),
    ];
    for (spec, want) in cases {
        let err = NodeGroupSpec::from_document(&doc(spec.clone()), &catalog())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("NodeGroup general: "), "{err}");
        assert!(err.contains(want), "{spec}: got {err:?}, want {want:?}");
    }
}

#[test]
fn template_and_initial_nodes() {
    let g = NodeGroupSpec::from_document(
        &doc(serde_json::json!({"instanceType": "m5.xlarge", "min": 2, "max": 5, "zone": "us-east-1b", "labels": {"team": "web"}})),
        &catalog(),
    )
    .expect("valid");
    let flags = parse_flags::<&str>(&[]).expect("defaults").flags;
    let ca = ClusterAutoscaler::new(flags.clone(), vec![g.clone()], None, &catalog()).expect("valid");
    let specs = ca.initial_node_specs();
    assert_eq!(specs.len(), 2);
    let s = &specs[0];
    assert_eq!(
        (s.pool.as_str(), s.instance_type.as_str(), s.price_hr),
        ("general", "m5.xlarge", 0.192)
    );
    assert_eq!(s.labels.get("team").map(String::as_str), Some("web"));
    assert_eq!(
        s.labels.get("topology.kubernetes.io/zone").map(String::as_str),
        Some("us-east-1b")
    );
    assert_eq!(
        s.labels.get("node.kubernetes.io/instance-type").map(String::as_str),
        Some("m5.xlarge")
    );
    assert_eq!(
        s.allocatable,
        catalog()
            .get("m5.xlarge")
            .map(|it| it.allocatable())
            .unwrap_or_default()
    );
    // Building errors.
    assert_eq!(
        ClusterAutoscaler::new(flags.clone(), vec![], None, &catalog()).err(),
        Some(CaError::NoNodeGroups)
    );
    assert_eq!(
        ClusterAutoscaler::new(flags.clone(), vec![g.clone(), g.clone()], None, &catalog()).err(),
        Some(CaError::DuplicateGroup("general".into()))
    );
    let prio = parse_flags(&["--expander=priority"]).expect("valid").flags;
    assert_eq!(
        ClusterAutoscaler::new(prio, vec![g], None, &catalog()).err(),
        Some(CaError::MissingPriorityConfig)
    );
}

#[test]
fn priority_configmap_is_read_from_its_document() {
    let cm = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cluster-autoscaler-priority-expander", "namespace": "kube-system"},
        "data": {"priorities": "10:\n  - .*-spot-.*\n50:\n  - ^general$\n"},
    });
    let cfg = PriorityConfig::from_configmap(&cm).expect("valid");
    assert_eq!(cfg.priority_of("general"), Some(50));
    assert_eq!(cfg.priority_of("web-spot-a"), Some(10));
    assert_eq!(cfg.priority_of("web"), None);
    let mut wrong = cm.clone();
    wrong["metadata"]["name"] = "priorities".into();
    assert!(matches!(
        PriorityConfig::from_configmap(&wrong),
        Err(PriorityError::WrongName { .. })
    ));
    let mut bad = cm;
    bad["data"]["priorities"] = "10:\n  - [a-\n".into();
    let err = PriorityConfig::from_configmap(&bad)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("priority 10") || err.contains("expected a map"), "{err}");
}
