//! Karpenter's topology-aware solve: zones and hostnames as domains, NodeClaims pinned to the
//! zone spread asks for (kubernetes-sigs/karpenter topologygroup.go).

use super::*;
use capsim::sim;

fn karpenter(workloads: &str) -> String {
    format!(
        r#"apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: topo-k}}
spec:
  duration: 20m
  start: cold
  provisioner:
    karpenter: {{zones: [us-east-1a, us-east-1b, us-east-1c]}}
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {{name: default}}
spec:
  template:
    spec:
      nodeClassRef: {{group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}}
      requirements:
        - {{key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}}
        - {{key: node.kubernetes.io/instance-type, operator: In, values: [m5.xlarge, m5.2xlarge]}}
---
{workloads}"#
    )
}

#[test]
fn zone_spread_pins_new_nodeclaims_to_the_emptiest_zones() {
    let r = sim::run(&load(&karpenter(&web(9, SPREAD_ZONE)))).unwrap();
    let z = pods_per_zone(&r, "web");
    assert_eq!(z.values().copied().collect::<Vec<_>>(), vec![3, 3, 3], "{z:?}");
    let zones: std::collections::BTreeSet<&str> = r.nodes.iter().map(|n| n.zone.as_str()).collect();
    assert_eq!(zones.len(), 3);
    assert_eq!(r.summary.workloads[0].pods_pending_at_end, 0);
}

#[test]
fn hostname_anti_affinity_gives_each_pod_its_own_nodeclaim() {
    let r = sim::run(&load(&karpenter(&web(6, ANTI_HOSTNAME)))).unwrap();
    let per_node = pods_per_node(&r, "web");
    assert_eq!(per_node.len(), 6, "{per_node:?}");
    assert!(per_node.values().all(|&c| c == 1));
    // Without the rule the six pods share one node.
    let r = sim::run(&load(&karpenter(&web(6, "")))).unwrap();
    assert!(pods_per_node(&r, "web").len() < 6);
}
