//! StatefulSets: ordinal identities, OrderedReady vs Parallel, scale-down from the highest
//! ordinal, and a zonal volume that keeps an ordinal in its zone.

use super::*;
use capsim::sim;

fn sts(policy: &str, replicas: u32, volumes: bool) -> String {
    let vct = if volumes {
        "  volumeClaimTemplates:\n    - metadata: {name: data}\n      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}\n"
    } else {
        ""
    };
    format!(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  replicas: {replicas}
  podManagementPolicy: {policy}
  serviceName: db
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      containers:
        - name: db
          image: example.com/db:1
          resources: {{requests: {{cpu: 500m, memory: 1Gi}}}}
{vct}"#
    )
}

fn cluster(extra: &str, workloads: &str) -> String {
    format!(
        "apiVersion: capsim/v1alpha1\nkind: Scenario\nmetadata: {{name: sts}}\nspec:\n  duration: 1h\n  start: cold\n  nodes:\n  - {{name: a, instanceType: m5.xlarge, count: 2, zone: us-east-1a}}\n  - {{name: b, instanceType: m5.xlarge, count: 2, zone: us-east-1b}}\n{extra}---\n{workloads}"
    )
}

#[test]
fn ordered_ready_creates_one_ordinal_after_the_other() {
    let r = sim::run(&load(&cluster("", &sts("OrderedReady", 3, false)))).unwrap();
    let mut pods: Vec<_> = r.pods.iter().filter(|p| p.workload == "db").collect();
    pods.sort_by(|a, b| a.pod.cmp(&b.pod));
    let names: Vec<&str> = pods.iter().map(|p| p.pod.as_str()).collect();
    assert_eq!(names, ["db-0", "db-1", "db-2"]);
    // Each ordinal is created once the one before it is Ready.
    for w in pods.windows(2) {
        assert!(
            w[1].created_s >= w[0].ready_s.unwrap(),
            "{:?} before {:?} was Ready",
            w[1],
            w[0]
        );
    }
    // Parallel creates them together.
    let r = sim::run(&load(&cluster("", &sts("Parallel", 3, false)))).unwrap();
    assert!(r.pods.iter().filter(|p| p.workload == "db").all(|p| p.created_s == 0.0));
}

#[test]
fn scale_down_removes_the_highest_ordinal_and_an_hpa_scales_it() {
    let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: db}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}\n  minReplicas: 2\n  maxReplicas: 4\n  metrics:\n    - type: Resource\n      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}\n";
    let r = sim::run(&load(&cluster("", &format!("{}{hpa}", sts("OrderedReady", 4, false))))).unwrap();
    // No load: the HPA scales 4 → 2 after its stabilization window; db-3 goes before db-2.
    let d3 = r
        .pods
        .iter()
        .find(|p| p.pod == "db-3")
        .and_then(|p| p.deleted_s)
        .expect("db-3 deleted");
    let d2 = r
        .pods
        .iter()
        .find(|p| p.pod == "db-2")
        .and_then(|p| p.deleted_s)
        .expect("db-2 deleted");
    assert!(d3 < d2, "highest ordinal first: db-3 at {d3}, db-2 at {d2}");
    assert!(
        r.pods
            .iter()
            .filter(|p| p.pod == "db-0" || p.pod == "db-1")
            .all(|p| p.deleted_s.is_none())
    );
}

#[test]
fn a_zonal_volume_keeps_its_ordinal_in_its_zone_through_an_outage() {
    // Zone a goes down: its db pods are evicted and recreated, but their volumes are in zone a,
    // so they stay Pending until it returns — while zone b has room.
    let faults = "  faults:\n    - zoneOutage: {zone: us-east-1a, at: 10m, for: 20m}\n";
    let r = sim::run(&load(&cluster(faults, &sts("Parallel", 4, true)))).unwrap();
    let zone_of: std::collections::BTreeMap<&str, &str> =
        r.nodes.iter().map(|n| (n.node.as_str(), n.zone.as_str())).collect();
    let evicted: Vec<_> = r
        .pods
        .iter()
        .filter(|p| p.delete_reason == "TaintManagerEviction")
        .collect();
    assert!(!evicted.is_empty());
    for e in &evicted {
        let again: Vec<_> = r
            .pods
            .iter()
            .filter(|p| p.pod == e.pod && p.created_s > e.created_s)
            .collect();
        assert!(!again.is_empty(), "{} recreated", e.pod);
        for p in again {
            assert_eq!(zone_of.get(p.node.as_str()), Some(&"us-east-1a"), "{p:?}");
            assert!(
                p.scheduled_s.unwrap() >= 1800.0,
                "bound only after the zone returns: {p:?}"
            );
        }
    }
    // Without volumes the replacements move to zone b at once.
    let r = sim::run(&load(&cluster(faults, &sts("Parallel", 4, false)))).unwrap();
    let moved = r.pods.iter().filter(|p| p.created_s > 600.0 && p.workload == "db");
    for p in moved {
        assert!(p.scheduled_s.unwrap() < 1800.0, "{p:?}");
    }
}
