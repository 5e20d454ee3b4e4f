//! `spec.faults`: a zone outage (NotReady after the grace period, evictions after the 300 s
//! toleration, no launch in the zone), insufficient capacity, a spot storm; and what each cost.

use super::*;
use capsim::sim;

const KARPENTER: &str = r#"apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: outage}
spec:
  duration: 1h
  start: cold
  provisioner:
    karpenter: {zones: [us-east-1a, us-east-1b, us-east-1c]}
  faults:
FAULTS
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
        - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
        - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.xlarge, m5.2xlarge]}
---
"#;

fn karpenter(faults: &str, workloads: &str) -> String {
    format!("{}{workloads}", KARPENTER.replace("FAULTS", faults))
}

#[test]
fn a_zone_outage_evicts_after_the_toleration_and_karpenter_launches_elsewhere() {
    let text = karpenter(
        "    - zoneOutage: {zone: us-east-1a, at: 10m, for: 30m}",
        &web(9, SPREAD_ZONE.replace("DoNotSchedule", "ScheduleAnyway").as_str()),
    );
    let r = sim::run(&load(&text)).unwrap();
    // Pods in zone a: NotReady at 10m + 50 s, deleted 300 s later.
    let evicted: Vec<_> = r
        .pods
        .iter()
        .filter(|p| p.delete_reason == "TaintManagerEviction")
        .collect();
    let zone_of: std::collections::BTreeMap<&str, &str> =
        r.nodes.iter().map(|n| (n.node.as_str(), n.zone.as_str())).collect();
    let in_a_at_600 = r
        .pods
        .iter()
        .filter(|p| zone_of.get(p.node.as_str()) == Some(&"us-east-1a"))
        .filter(|p| p.scheduled_s.is_some_and(|s| s < 600.0) && p.deleted_s.is_none_or(|d| d > 600.0))
        .count();
    assert!(
        in_a_at_600 >= 1,
        "Karpenter honours the soft zone spread: some pods in zone a"
    );
    assert_eq!(evicted.len(), in_a_at_600, "every pod of the dead zone, and only those");
    for p in &evicted {
        assert!((p.deleted_s.unwrap() - (600.0 + 50.0 + 300.0)).abs() < 1e-6, "{p:?}");
    }
    // No node launched in the dead zone during the outage; the replacements run elsewhere.
    for n in &r.nodes {
        if n.zone == "us-east-1a" && n.requested_s >= 600.0 && n.requested_s < 2400.0 {
            assert!(n.launched_s.is_none(), "{n:?}");
        }
    }
    assert_eq!(r.summary.workloads[0].pods_pending_at_end, 0);
    let f = r.summary.faults.as_ref().expect("the fault's cost is reported");
    assert!(f.extra.pod_pending_seconds > 0.0, "{f:?}");
    assert!(f.faults[0].contains("zone outage us-east-1a"));
}

#[test]
fn hard_zone_spread_pods_stay_pending_while_the_dead_zone_holds_zero() {
    // The dead zone's nodes stay in the API as domains with no matching pods once evicted:
    // with maxSkew 1 the replacements cannot go far ahead in the other zones (upstream's
    // well-known spread-vs-outage trap).
    let r = sim::run(&load(&karpenter(
        "    - zoneOutage: {zone: us-east-1a, at: 10m, for: 50m}",
        &web(9, SPREAD_ZONE),
    )))
    .unwrap();
    let f = r.summary.faults.as_ref().unwrap();
    assert!(f.with_faults.pods_pending_at_end > 0, "{f:?}");
}

#[test]
fn insufficient_capacity_makes_karpenter_fall_back_to_another_type() {
    let text = karpenter(
        "    - insufficientCapacity: {instanceType: m5.xlarge, at: 0s, for: 1h}",
        &web(4, ""),
    );
    let r = sim::run(&load(&text)).unwrap();
    assert!(
        r.nodes
            .iter()
            .all(|n| n.instance_type != "m5.xlarge" || n.launched_s.is_none())
    );
    assert!(
        r.nodes
            .iter()
            .any(|n| n.instance_type == "m5.2xlarge" && n.launched_s.is_some())
    );
    assert!(r.decisions.iter().any(|d| d.decision == "InsufficientCapacity"));
}

#[test]
fn insufficient_capacity_holds_cluster_autoscaler_until_the_provision_timeout() {
    let text = format!(
        "apiVersion: capsim/v1alpha1\nkind: Scenario\nmetadata: {{name: ice}}\nspec:\n  duration: 1h\n  start: cold\n  faults:\n    - insufficientCapacity: {{zone: us-east-1a, at: 0s, for: 1h}}\n  provisioner:\n    clusterAutoscaler:\n      args: [--scan-interval=10s, --expander=priority, --max-node-provision-time=10m]\n---\napiVersion: capsim/v1alpha1\nkind: NodeGroup\nmetadata: {{name: a}}\nspec: {{instanceType: m5.xlarge, capacityType: on-demand, min: 0, max: 10, zone: us-east-1a, priority: 20}}\n---\napiVersion: capsim/v1alpha1\nkind: NodeGroup\nmetadata: {{name: b}}\nspec: {{instanceType: m5.xlarge, capacityType: on-demand, min: 0, max: 10, zone: us-east-1b, priority: 10}}\n---\n{}",
        web(4, "")
    );
    let r = sim::run(&load(&text)).unwrap();
    // CA tries the preferred group, waits out --max-node-provision-time, backs it off, then b.
    assert!(r.decisions.iter().any(|d| d.decision == "FailedScaleUp"));
    let ready: Vec<_> = r.nodes.iter().filter(|n| n.ready_s.is_some()).collect();
    assert!(ready.iter().all(|n| n.zone == "us-east-1b"));
    let first_ready = ready.iter().map(|n| n.ready_s.unwrap()).fold(f64::MAX, f64::min);
    assert!(
        first_ready > 600.0,
        "b's node comes after the 10 min timeout, at {first_ready}"
    );
    assert_eq!(r.summary.workloads[0].pods_pending_at_end, 0);
}

#[test]
fn a_spot_storm_reclaims_its_fraction_within_the_window() {
    let text = format!(
        "apiVersion: capsim/v1alpha1\nkind: Scenario\nmetadata: {{name: storm}}\nspec:\n  duration: 1h\n  start: cold\n  spotInterruptions: false\n  nodes:\n  - {{name: s, instanceType: m5.xlarge, count: 6, capacityType: spot}}\n  faults:\n    - spotInterruptions: {{at: 10m, for: 10m, fraction: 1}}\n---\n{}",
        web(2, "")
    );
    let r = sim::run(&load(&text)).unwrap();
    for n in &r.nodes {
        let t = n.terminated_s.or(n.drain_started_s).expect("every spot node reclaimed");
        assert!((600.0..1200.0 + 60.0).contains(&t), "{n:?}");
    }
    let bad = text.replace("fraction: 1", "fraction: 1.5");
    let e = capsim::scenario::load_str("t.yaml", &bad, None, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("spec.faults[0].spotInterruptions.fraction"), "{e}");
}
