//! Karpenter's decisions, driven through `Provisioner::reconcile` with a minimal hand-rolled world:
//! launches become nodes, terminations and drains change node state, nothing else happens unless
//! the test says so. Prices are made up to make the hand-worked choices obvious.

use capsim::cloud::{Arch, Catalog, Distribution, InstanceType, InterruptionBand};
use capsim::cluster::NodeSpec;
use capsim::cluster::{NodeId, NodeState, PodId};
use capsim::controllers::karpenter::settings::KarpenterSettings;
use capsim::controllers::karpenter::{Karpenter, KarpenterError};
use capsim::controllers::provisioner::{Action, DecisionRecord, NodeNotice, Provisioner};
use capsim::engine::{SimDuration, SimTime};
use capsim::model::resources::GIB;
use capsim::model::*;
use capsim::scenario::{NodeLatency, Scenario};
use capsim::testkit::{DrainModel, Harness};
use serde_json::{Value, json};
use std::sync::Arc;

// ----- kit -------------------------------------------------------------------------------------

/// (name, vCPU, memory GiB, on-demand $/h, spot $/h)
type T = (&'static str, u32, i64, f64, Option<f64>);

const TYPES: &[T] = &[
    ("c5.large", 2, 4, 0.085, Some(0.035)),
    ("m5.large", 2, 8, 0.096, Some(0.040)),
    ("c5.xlarge", 4, 8, 0.170, Some(0.070)),
    ("m5.xlarge", 4, 16, 0.192, Some(0.080)),
    ("m5.2xlarge", 8, 32, 0.384, Some(0.160)),
];

fn catalog(types: &[T]) -> Catalog {
    let rows = types
        .iter()
        .map(|&(name, vcpu, gib, od, spot)| {
            // ENI-limited max pods of the real types: 29 for large, 58 for xlarge and 2xlarge.
            let max_pods = if vcpu <= 2 { 29 } else { 58 };
            let it = InstanceType::new(name, vcpu, gib * 1024, max_pods, Arch::Amd64, od);
            match spot {
                Some(p) => it.with_spot(p, InterruptionBand::Under5),
                None => it,
            }
        })
        .collect();
    Catalog::from_types("test", rows).expect("valid test catalog")
}

fn workload(name: &str, cpu_m: i64, mem: i64) -> Workload {
    Workload {
        replicas: 0,
        template: capsim::testkit::pod_template(cpu_m, mem),
        startup: capsim::testkit::instant_startup(),
        ..capsim::testkit::deployment(name, 0, 0, 0)
    }
}

fn nodepool(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": name}, "spec": spec})
}

/// On-demand only, consolidation after `after`.
fn od_pool(name: &str, after: &str) -> Value {
    nodepool(
        name,
        json!({
            "template": {"spec": {"requirements": [
                {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}]}},
            "disruption": {"consolidateAfter": after}
        }),
    )
}

/// The shared provisioner harness (`capsim::testkit::Harness`, drains leave nodes cordoned) and
/// the Karpenter it drives.
struct World {
    h: Harness,
    k: Karpenter,
}

impl std::ops::Deref for World {
    type Target = Harness;
    fn deref(&self) -> &Harness {
        &self.h
    }
}

impl std::ops::DerefMut for World {
    fn deref_mut(&mut self) -> &mut Harness {
        &mut self.h
    }
}

impl World {
    fn new(types: &[T], workloads: Vec<Workload>, pools: Vec<Value>, settings: Value) -> World {
        let cat = catalog(types);
        let settings = KarpenterSettings::from_value(&settings).expect("settings");
        let k = Karpenter::new(settings, &pools, &[], &cat).expect("valid NodePools");
        let d = |s| Distribution::constant(SimDuration::from_secs(s));
        let sc = Scenario {
            name: "t".into(),
            duration: SimDuration::from_mins(60),
            seed: 1,
            resolution: SimDuration::from_secs(10),
            catalog: Arc::new(cat),
            workloads,
            nodepools: pools,
            node_latency: NodeLatency {
                launch: d(30),
                register: d(10),
                ready: d(5),
                terminate: d(10),
            },
            ..capsim::testkit::scenario()
        };
        let mut h = Harness::new(sc, 1, DrainModel::Cordon);
        h.pdb_allowed.clear();
        World { h, k }
    }

    /// A pending, unschedulable pod of workload `w` created at `at`.
    fn pod(&mut self, w: u32, at: u64) -> PodId {
        self.h.pending_pod(w, SimTime::from_secs(at))
    }

    /// A Ready node of `pool` and type, with `pods` bound to it.
    fn node(&mut self, pool: &str, ty: &str, ct: CapacityType, ready_at: u64, pods: &[PodId]) -> NodeId {
        let (_, _, _, od, spot) = *TYPES.iter().find(|t| t.0 == ty).expect("type");
        let allocatable = self.sc.catalog.get(ty).expect("type").allocatable();
        let price = if ct == CapacityType::Spot {
            spot.expect("spot price")
        } else {
            od
        };
        let mut labels = Labels::new();
        labels.insert("karpenter.sh/nodepool".into(), pool.into());
        let id = self.h.add_node(
            NodeSpec {
                pool: pool.into(),
                instance_type: ty.into(),
                capacity_type: ct,
                zone: "us-east-1a".into(),
                price_hr: price,
                labels,
                taints: vec![],
                allocatable,
            },
            SimTime::from_secs(ready_at),
        );
        let n = &mut self.nodes[id.0 as usize];
        n.state = NodeState::Ready;
        n.ready = Some(SimTime::from_secs(ready_at));
        for &p in pods {
            self.bind(p, id);
        }
        id
    }

    fn set_ready(&mut self, n: NodeId, at: u64) {
        let node = &mut self.nodes[n.0 as usize];
        node.state = NodeState::Ready;
        node.ready = Some(SimTime::from_secs(at));
        self.k.notice(&NodeNotice::Ready(n), SimTime::from_secs(at));
    }

    /// One reconcile at second `t`; applies the actions (launches become Launching nodes,
    /// terminations end nodes, drains mark them Draining).
    fn step(&mut self, t: u64) -> (Vec<Action>, Vec<DecisionRecord>) {
        self.h.step(&mut self.k, SimTime::from_secs(t))
    }

    /// Steps from `from` to `to` inclusive, returning (second, action) pairs.
    fn run(&mut self, from: u64, to: u64) -> Vec<(u64, Action)> {
        let mut out = vec![];
        for t in from..=to {
            out.extend(self.step(t).0.into_iter().map(|a| (t, a)));
        }
        out
    }
}

fn launches(actions: &[(u64, Action)]) -> Vec<(u64, String, CapacityType)> {
    actions
        .iter()
        .filter_map(|(t, a)| match a {
            Action::Launch { spec, .. } => Some((*t, spec.instance_type.clone(), spec.capacity_type)),
            _ => None,
        })
        .collect()
}

fn terminated(actions: &[(u64, Action)]) -> Vec<(u64, NodeId)> {
    actions
        .iter()
        .filter_map(|(t, a)| match a {
            Action::Terminate { node, .. } => Some((*t, *node)),
            _ => None,
        })
        .collect()
}

const M: i64 = 1024 * 1024;

// ----- provisioning -----------------------------------------------------------------------------

#[test]
fn cheapest_fit_across_instance_types() {
    // Three pods of 1 CPU / 1 GiB arrive together: 3 CPU / 3 GiB need a 4-vCPU type.
    // On-demand only: c5.xlarge $0.170 < m5.xlarge $0.192 < m5.2xlarge $0.384 → c5.xlarge.
    let mut w = World::new(
        TYPES,
        vec![workload("web", 1000, GIB)],
        vec![od_pool("default", "Never")],
        Value::Null,
    );
    for _ in 0..3 {
        w.pod(0, 0);
    }
    let acts = w.run(0, 3);
    // Trigger at t=0, no new pod at t=1: the window closes after batchIdleDuration (1 s).
    assert_eq!(
        launches(&acts),
        vec![(1, "c5.xlarge".to_string(), CapacityType::OnDemand)]
    );
}

#[test]
fn spot_is_preferred_where_allowed() {
    // No capacity-type requirement: spot allowed; cheapest 4-vCPU spot is c5.xlarge at $0.070.
    let pool = nodepool("default", json!({}));
    let mut w = World::new(TYPES, vec![workload("web", 1000, GIB)], vec![pool], Value::Null);
    for _ in 0..3 {
        w.pod(0, 0);
    }
    let acts = w.run(0, 2);
    assert_eq!(launches(&acts), vec![(1, "c5.xlarge".to_string(), CapacityType::Spot)]);
}

#[test]
fn daemonset_overhead_is_included() {
    // Allocatable CPU of a 2-vCPU type is 1930m (2000 − 70m kube-reserved). A DaemonSet asking
    // 600m leaves 1330m, too little for a 1500m pod, so the cheapest fit becomes the 4-vCPU
    // c5.xlarge instead of c5.large.
    let mut ds = workload("node-agent", 600, 100 * M);
    ds.kind = WorkloadKind::DaemonSet;
    let mut w = World::new(
        TYPES,
        vec![workload("web", 1500, GIB), ds],
        vec![od_pool("default", "Never")],
        Value::Null,
    );
    w.pod(0, 0);
    assert_eq!(
        launches(&w.run(0, 2)),
        vec![(1, "c5.xlarge".to_string(), CapacityType::OnDemand)]
    );

    // Without the DaemonSet the 2-vCPU c5.large ($0.085) fits.
    let mut w = World::new(
        TYPES,
        vec![workload("web", 1500, GIB)],
        vec![od_pool("default", "Never")],
        Value::Null,
    );
    w.pod(0, 0);
    assert_eq!(
        launches(&w.run(0, 2)),
        vec![(1, "c5.large".to_string(), CapacityType::OnDemand)]
    );
}

#[test]
fn nodepool_limit_stops_provisioning() {
    // Each 3-CPU pod needs its own 4-vCPU node; the pool's cpu limit of 10 allows
    // 10 → 6 → 2 remaining: two nodes, the third pod stays pending with a reason.
    let pool = nodepool(
        "capped",
        json!({"limits": {"cpu": "10"},
               "template": {"spec": {"requirements": [
                   {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
                   {"key": "karpenter.k8s.aws/instance-cpu", "operator": "Lt", "values": ["5"]}]}}}),
    );
    let mut w = World::new(TYPES, vec![workload("batch", 3000, GIB)], vec![pool], Value::Null);
    for _ in 0..3 {
        w.pod(0, 0);
    }
    w.step(0);
    let (acts, recs) = w.step(1);
    let n = acts.iter().filter(|a| matches!(a, Action::Launch { .. })).count();
    assert_eq!(n, 2);
    let limited: Vec<_> = recs.iter().filter(|r| r.decision == "LimitsExceeded").collect();
    assert_eq!(limited.len(), 1, "{recs:?}");
    assert!(
        limited[0].reason.contains("1 pod(s) left pending"),
        "{}",
        limited[0].reason
    );
    assert!(limited[0].reason.contains("capped"));
}

#[test]
fn existing_nodes_count_against_limits() {
    // A full 4-vCPU node already uses the whole `cpu: 4` limit: no launch at all.
    let pool = nodepool("capped", json!({"limits": {"cpu": 4}}));
    let mut w = World::new(TYPES, vec![workload("batch", 3000, GIB)], vec![pool], Value::Null);
    let busy = w.pod(0, 0);
    w.node("capped", "c5.xlarge", CapacityType::OnDemand, 0, &[busy]);
    w.pod(0, 0);
    let acts = w.run(0, 3);
    assert!(launches(&acts).is_empty());
}

#[test]
fn weights_order_nodepools() {
    // "pricey" (weight 50) only offers m5 types; "general" (no weight) offers everything.
    // Weight beats price: the pod lands on m5.large ($0.096) rather than c5.large ($0.085).
    let pricey = nodepool(
        "pricey",
        json!({"weight": 50, "template": {"spec": {"requirements": [
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m5"]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}]}}}),
    );
    let general = od_pool("general", "Never");
    let mut w = World::new(
        TYPES,
        vec![workload("web", 500, GIB)],
        vec![general.clone(), pricey.clone()],
        Value::Null,
    );
    w.pod(0, 0);
    let acts = w.run(0, 2);
    let pools: Vec<String> = acts
        .iter()
        .filter_map(|(_, a)| match a {
            Action::Launch { spec, .. } => Some(format!("{}:{}", spec.pool, spec.instance_type)),
            _ => None,
        })
        .collect();
    assert_eq!(pools, vec!["pricey:m5.large".to_string()]);

    // A taint on the weighted pool that the pod does not tolerate sends it to "general".
    let mut tainted = pricey;
    tainted["spec"]["template"]["spec"]["taints"] = json!([{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]);
    let mut w = World::new(
        TYPES,
        vec![workload("web", 500, GIB)],
        vec![general, tainted],
        Value::Null,
    );
    w.pod(0, 0);
    let acts = w.run(0, 2);
    assert_eq!(
        launches(&acts),
        vec![(1, "c5.large".to_string(), CapacityType::OnDemand)]
    );
}

#[test]
fn pods_in_one_batch_window_share_a_nodeclaim() {
    // Pod A at t=0 opens the window, pod B at t=1 extends it; it closes at t=2 with both pods on
    // one c5.large (2 × 900m ≤ 1930m allocatable). Pod C at t=4 opens a new window (closing at
    // t=5) but fits on the in-flight node (1930 − 1800 = 130m ≥ 100m): no second launch.
    let mut w = World::new(
        TYPES,
        vec![workload("web", 900, GIB), workload("tiny", 100, 100 * M)],
        vec![od_pool("d", "Never")],
        Value::Null,
    );
    w.pod(0, 0);
    let mut acts = w.run(0, 0);
    w.pod(0, 1);
    acts.extend(w.run(1, 3));
    w.pod(1, 4);
    acts.extend(w.run(4, 8));
    assert_eq!(
        launches(&acts),
        vec![(2, "c5.large".to_string(), CapacityType::OnDemand)]
    );

    // The same two pods three seconds apart land in two windows and two NodeClaims.
    let mut w = World::new(
        TYPES,
        vec![workload("web", 1500, GIB)],
        vec![od_pool("d", "Never")],
        Value::Null,
    );
    w.pod(0, 0);
    let mut acts = w.run(0, 2);
    w.pod(0, 3);
    acts.extend(w.run(3, 5));
    assert_eq!(launches(&acts).iter().map(|l| l.0).collect::<Vec<_>>(), vec![1, 4]);
}

#[test]
fn insufficient_capacity_falls_back_and_is_cached() {
    // c5.large on-demand has no capacity: the launch fails, the offering is cached unavailable
    // for 3 min and the next cheapest (m5.large, $0.096) is launched instead.
    let settings = json!({"unavailableOfferings": [{"instanceType": "c5.large", "capacityType": "on-demand"}]});
    let mut w = World::new(
        TYPES,
        vec![workload("web", 1500, GIB)],
        vec![od_pool("d", "Never")],
        settings,
    );
    w.pod(0, 0);
    w.step(0);
    let (acts, recs) = w.step(1);
    let ice: Vec<_> = recs.iter().filter(|r| r.decision == "InsufficientCapacity").collect();
    assert_eq!(ice.len(), 1);
    assert_eq!(ice[0].object, "c5.large/on-demand/us-east-1a");
    let l: Vec<_> = acts
        .iter()
        .filter_map(|a| match a {
            Action::Launch { spec, .. } => Some(spec.instance_type.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(l, vec!["m5.large".to_string()]);

    // Within the TTL the cached offering is skipped without another failed attempt.
    w.pod(0, 10);
    // (the first node is in flight but full: 1500 + 1500 > 1930)
    w.step(10);
    let (acts, recs) = w.step(11);
    assert!(recs.iter().all(|r| r.decision != "InsufficientCapacity"), "{recs:?}");
    assert_eq!(acts.iter().filter(|a| matches!(a, Action::Launch { .. })).count(), 1);
}

#[test]
fn spot_interruption_drains_and_avoids_the_offering() {
    let pool = nodepool("d", json!({"disruption": {"consolidateAfter": "Never"}}));
    let mut w = World::new(TYPES, vec![workload("web", 1500, GIB)], vec![pool], Value::Null);
    let p = w.pod(0, 0);
    let n = w.node("d", "c5.large", CapacityType::Spot, 0, &[p]);
    w.k.notice(
        &NodeNotice::InterruptionWarning {
            node: n,
            at: SimTime::from_secs(130),
        },
        SimTime::from_secs(10),
    );
    let (acts, recs) = w.step(10);
    match acts.as_slice() {
        [
            Action::Drain {
                node,
                force,
                max_eviction_time,
                ..
            },
        ] => {
            assert_eq!(*node, n);
            assert!(*force);
            assert_eq!(*max_eviction_time, SimDuration::from_secs(120));
        }
        other => panic!("expected one forced drain, got {other:?}"),
    }
    assert!(recs.iter().any(|r| r.decision == "CordonAndDrain"));
    // The pod on the deleting node is provisioned for at once (upstream provisioner `Schedule`
    // includes the reschedulable pods of deleting nodes): the window opened at t=10 closes at
    // t=11 and launches a replacement that avoids c5.large spot (now in the ICE cache): the next
    // cheapest spot offering, m5.large at $0.040.
    let acts = w.run(11, 13);
    assert_eq!(launches(&acts), vec![(11, "m5.large".to_string(), CapacityType::Spot)]);
    // When the pod is evicted and recreated it fits the in-flight replacement: no new launch.
    w.unbind(p);
    w.pod(0, 20);
    assert!(launches(&w.run(20, 25)).is_empty());
}

// ----- disruption -------------------------------------------------------------------------------

#[test]
fn empty_node_removed_after_consolidate_after() {
    // Ready and empty at t=0, consolidateAfter 30s: a candidate from t=30 (polls at 0, 10, 20,
    // 30), command re-validated 15 s later → Terminate at t=45.
    let mut w = World::new(
        TYPES,
        vec![workload("web", 500, GIB)],
        vec![od_pool("d", "30s")],
        Value::Null,
    );
    let n = w.node("d", "c5.large", CapacityType::OnDemand, 0, &[]);
    let acts = w.run(0, 60);
    assert_eq!(terminated(&acts), vec![(45, n)]);
}

#[test]
fn pod_event_resets_consolidate_after_and_invalidates() {
    // Same node, but a pod binds at t=40 (between decision at 30 and validation at 45): the
    // command is invalidated and nothing is terminated.
    let mut w = World::new(
        TYPES,
        vec![workload("web", 500, GIB)],
        vec![od_pool("d", "30s")],
        Value::Null,
    );
    let n = w.node("d", "c5.large", CapacityType::OnDemand, 0, &[]);
    let mut acts = w.run(0, 39);
    let p = w.pod(0, 40);
    w.bind(p, n);
    let (a, recs) = w.step(40);
    assert!(a.is_empty());
    acts.extend(w.run(41, 50));
    let _ = recs;
    assert!(terminated(&acts).is_empty());
}

#[test]
fn underused_node_is_replaced_by_a_cheaper_one() {
    // m5.xlarge ($0.192) runs one 500m pod; nothing else exists. Moving the pod needs one new
    // node, and c5.large on-demand ($0.085) is strictly cheaper → Replace: decided at t=0,
    // validated at t=15: cordon + launch; when the replacement is Ready, drain the old node.
    let mut w = World::new(
        TYPES,
        vec![workload("web", 500, GIB)],
        vec![od_pool("d", "0s")],
        Value::Null,
    );
    let p = w.pod(0, 0);
    let old = w.node("d", "m5.xlarge", CapacityType::OnDemand, 0, &[p]);
    let acts = w.run(0, 20);
    assert_eq!(
        launches(&acts),
        vec![(15, "c5.large".to_string(), CapacityType::OnDemand)]
    );
    assert!(
        acts.iter()
            .any(|(t, a)| *t == 15 && matches!(a, Action::Cordon { node, .. } if *node == old))
    );
    assert!(!acts.iter().any(|(_, a)| matches!(a, Action::Drain { .. })));
    let new = NodeId(1);
    w.set_ready(new, 60);
    let acts = w.run(60, 61);
    let drains: Vec<_> = acts
        .iter()
        .filter_map(|(t, a)| match a {
            Action::Drain { node, force, .. } => Some((*t, *node, *force)),
            _ => None,
        })
        .collect();
    assert_eq!(drains, vec![(60, old, false)]);
}

#[test]
fn spot_node_is_not_replaced_by_spot_without_the_gate() {
    // m5.xlarge spot ($0.080) with one 500m pod: a cheaper spot node exists (c5.large $0.035),
    // but SpotToSpotConsolidation is off by default → no replacement.
    let pool = nodepool("d", json!({}));
    let mut w = World::new(TYPES, vec![workload("web", 500, GIB)], vec![pool], Value::Null);
    let p = w.pod(0, 0);
    w.node("d", "m5.xlarge", CapacityType::Spot, 0, &[p]);
    assert!(w.run(0, 40).is_empty());
}

#[test]
fn pods_fitting_elsewhere_delete_the_node() {
    // Two m5.large nodes each run one 500m pod: either node's pod fits on the other → a delete.
    // Multi-node consolidation tries both (no room for both pods on zero nodes) then single-node
    // deletes the first candidate by (cost, price desc, id): node 0. Drain, not forced.
    let mut w = World::new(
        TYPES,
        vec![workload("web", 500, GIB)],
        vec![od_pool("d", "0s")],
        Value::Null,
    );
    let a = w.pod(0, 0);
    let b = w.pod(0, 0);
    let n0 = w.node("d", "m5.large", CapacityType::OnDemand, 0, &[a]);
    w.node("d", "m5.large", CapacityType::OnDemand, 0, &[b]);
    let acts = w.run(0, 20);
    let drains: Vec<_> = acts
        .iter()
        .filter_map(|(t, a)| match a {
            Action::Drain { node, force, .. } => Some((*t, *node, *force)),
            _ => None,
        })
        .collect();
    assert_eq!(drains, vec![(15, n0, false)]);
    assert!(launches(&acts).is_empty());
}

#[test]
fn budget_caps_concurrent_disruptions() {
    // Five empty nodes, budget 30%: ceil(0.3 × 5) = 2 per command; the first command (t=0,
    // executed t=15) terminates 2. The next poll (t=25) sees 3 nodes: ceil(0.9) = 1.
    let pool = nodepool(
        "d",
        json!({"disruption": {"consolidateAfter": "0s", "budgets": [{"nodes": "30%"}]}}),
    );
    let mut w = World::new(TYPES, vec![workload("web", 500, GIB)], vec![pool], Value::Null);
    for _ in 0..5 {
        w.node("d", "c5.large", CapacityType::OnDemand, 0, &[]);
    }
    let acts = w.run(0, 40);
    let t = terminated(&acts);
    assert_eq!(t.iter().map(|x| x.0).collect::<Vec<_>>(), vec![15, 15, 40]);
}

#[test]
fn zero_budget_blocks_and_reasons_scope_budgets() {
    // nodes: 0 for Empty only: empty nodes stay; the underutilized m5.xlarge is still replaced.
    let pool = nodepool(
        "d",
        json!({"template": {"spec": {"requirements": [
                   {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}]}},
               "disruption": {"consolidateAfter": "0s", "budgets": [{"nodes": "0", "reasons": ["Empty"]}]}}),
    );
    let mut w = World::new(TYPES, vec![workload("web", 500, GIB)], vec![pool], Value::Null);
    w.node("d", "c5.large", CapacityType::OnDemand, 0, &[]);
    let p = w.pod(0, 0);
    w.node("d", "m5.xlarge", CapacityType::OnDemand, 0, &[p]);
    let acts = w.run(0, 30);
    assert!(terminated(&acts).is_empty());
    // The pod fits on the empty c5.large: the m5.xlarge is deleted, not replaced.
    assert!(
        acts.iter()
            .any(|(t, a)| *t == 15 && matches!(a, Action::Drain { node, .. } if node.0 == 1))
    );
}

#[test]
fn exhausted_pdb_blocks_consolidation() {
    // A PDB covering `web` that allows no disruption right now keeps the node (upstream
    // `CanEvictPods`); the same node without the PDB is replaced (see above).
    let mut wl = workload("web", 500, GIB);
    wl.template.labels.insert("app".into(), "web".into());
    let mut w = World::new(TYPES, vec![wl], vec![od_pool("d", "0s")], Value::Null);
    w.sc.pdbs.push(DisruptionBudget {
        name: "web".into(),
        namespace: "default".into(),
        selector: [("app".to_string(), "web".to_string())].into_iter().collect(),
        min_available: Some(IntOrPercent::Int(1)),
        max_unavailable: None,
    });
    w.pdb_allowed = vec![0];
    let p = w.pod(0, 0);
    w.node("d", "m5.xlarge", CapacityType::OnDemand, 0, &[p]);
    assert!(w.run(0, 40).is_empty());
    w.pdb_allowed = vec![1];
    assert_eq!(launches(&w.run(41, 70)).len(), 1);
}

#[test]
fn do_not_disrupt_blocks_consolidation() {
    let mut wl = workload("web", 500, GIB);
    wl.template
        .annotations
        .insert("karpenter.sh/do-not-disrupt".into(), "true".into());
    let mut w = World::new(TYPES, vec![wl], vec![od_pool("d", "0s")], Value::Null);
    let p = w.pod(0, 0);
    w.node("d", "m5.xlarge", CapacityType::OnDemand, 0, &[p]);
    assert!(w.run(0, 60).is_empty());
}

#[test]
fn expire_after_drains_forcefully() {
    let pool = nodepool(
        "d",
        json!({"template": {"spec": {"expireAfter": "1h", "terminationGracePeriod": "5m"}},
               "disruption": {"consolidateAfter": "Never"}}),
    );
    let mut w = World::new(TYPES, vec![workload("web", 500, GIB)], vec![pool], Value::Null);
    let p = w.pod(0, 0);
    let n = w.node("d", "c5.large", CapacityType::OnDemand, 0, &[p]);
    assert!(w.run(3590, 3599).is_empty());
    let (acts, _) = w.step(3600);
    match acts.as_slice() {
        [
            Action::Drain {
                node,
                force: true,
                max_eviction_time,
                ..
            },
        ] => {
            assert_eq!(*node, n);
            assert_eq!(*max_eviction_time, SimDuration::from_mins(5));
        }
        other => panic!("expected a forced drain, got {other:?}"),
    }
}

// ----- validation -------------------------------------------------------------------------------

fn error_for(spec: Value) -> String {
    let cat = catalog(TYPES);
    match Karpenter::new(KarpenterSettings::default(), &[nodepool("bad", spec)], &[], &cat) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected an error"),
    }
}

#[test]
fn malformed_nodepools_give_clear_errors() {
    let req = |r: Value| json!({"template": {"spec": {"requirements": [r]}}});
    let table = [
        (
            req(json!({"key": "kubernetes.io/arch", "operator": "Within", "values": ["amd64"]})),
            "NodePool bad: spec.template.spec.requirements[0].operator: unknown operator `Within`",
        ),
        (
            req(json!({"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spotty"]})),
            "spec.template.spec.requirements[0].values: unknown value `spotty` for well-known label karpenter.sh/capacity-type",
        ),
        (
            req(json!({"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "sparc"]})),
            "unknown value `sparc` for well-known label kubernetes.io/arch (known: amd64)",
        ),
        (
            req(json!({"key": "karpenter.k8s.aws/instance-cpu", "operator": "Gt", "values": ["four"]})),
            "spec.template.spec.requirements[0].values[0]: operator Gt needs an integer, got `four`",
        ),
        (
            json!({"limits": {"cpu": "-4"}}),
            "NodePool bad: spec.limits.cpu: must not be negative, got -4",
        ),
        (
            json!({"disruption": {"budgets": vec![json!({"nodes": "1"}); 51]}}),
            "spec.disruption.budgets: at most 50 budgets are allowed, got 51",
        ),
        (
            json!({"disruption": {"budgets": [{"nodes": "10%", "schedule": "0 9 * * *"}]}}),
            "spec.disruption.budgets[0].duration: must be set with schedule",
        ),
        (
            json!({"disruption": {"consolidateAfter": "soon"}}),
            "spec.disruption.consolidateAfter",
        ),
        (json!({"weight": 0}), "spec.weight: must be within 1..100, got 0"),
        (json!({"limits": {"cpu": []}}), "spec.limits.cpu"),
    ];
    for (spec, want) in table {
        let got = error_for(spec);
        assert!(got.contains(want), "got `{got}`, want `{want}`");
    }
}

#[test]
fn min_values_is_ignored_with_a_warning() {
    let cat = catalog(TYPES);
    let pool = nodepool(
        "p",
        json!({"template": {"spec": {"requirements": [
            {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m5", "c5"], "minValues": 2}]}}}),
    );
    let k = Karpenter::new(KarpenterSettings::default(), &[pool], &[], &cat).expect("valid");
    assert!(
        k.warnings().iter().any(|w| w.contains("minValues")),
        "{:?}",
        k.warnings()
    );
}

#[test]
fn nodeclass_kubelet_max_pods_is_honoured() {
    // maxPods 2 on the EC2NodeClass: three tiny pods need two nodes.
    let cat = catalog(TYPES);
    let nc = json!({"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "small"},
                    "spec": {"kubelet": {"maxPods": 2}}});
    let pool = nodepool(
        "d",
        json!({"template": {"spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "small"},
                                     "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}]}}}),
    );
    let k = Karpenter::new(KarpenterSettings::default(), std::slice::from_ref(&pool), &[nc], &cat).expect("valid");
    let mut w = World::new(
        TYPES,
        vec![workload("tiny", 100, 100 * M)],
        vec![pool.clone()],
        Value::Null,
    );
    w.k = k;
    for _ in 0..3 {
        w.pod(0, 0);
    }
    let acts = w.run(0, 2);
    assert_eq!(launches(&acts).len(), 2);
    // A missing NodeClass is an error naming the reference.
    let other = json!({"metadata": {"name": "other"}, "spec": {}});
    let e: KarpenterError = Karpenter::new(KarpenterSettings::default(), &[pool], &[other], &cat)
        .err()
        .expect("error");
    assert!(
        e.to_string()
            .contains("spec.template.spec.nodeClassRef.name: EC2NodeClass `small` not found"),
        "{e}"
    );
}

#[test]
fn multi_node_consolidation_replaces_several_nodes_with_one() {
    // Three m5.large ($0.096 each) run one 600m / 1 GiB pod each. Binary search over sizes 2..3:
    // size 2 (nodes 0, 1): both pods fit on node 2 (1330m free) → delete, valid; size 3: all
    // 1800m / 3 GiB need one new node (c5.large allocatable 1930m / 3.04 GiB fits); options cheaper than $0.288 and (filterOutSameType) cheaper than
    // the m5.large itself: c5.large $0.085 → replace all three with one c5.large.
    // The default budget (10% of 3 → 1) would allow one node at a time; allow all.
    let pool = nodepool(
        "d",
        json!({"template": {"spec": {"requirements": [
                   {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}]}},
               "disruption": {"consolidateAfter": "0s", "budgets": [{"nodes": "100%"}]}}),
    );
    let mut w = World::new(TYPES, vec![workload("web", 600, GIB)], vec![pool], Value::Null);
    let mut nodes = vec![];
    for _ in 0..3 {
        let p = w.pod(0, 0);
        nodes.push(w.node("d", "m5.large", CapacityType::OnDemand, 0, &[p]));
    }
    let acts = w.run(0, 20);
    assert_eq!(
        launches(&acts),
        vec![(15, "c5.large".to_string(), CapacityType::OnDemand)]
    );
    let cordoned: Vec<NodeId> = acts
        .iter()
        .filter_map(|(_, a)| match a {
            Action::Cordon { node, .. } => Some(*node),
            _ => None,
        })
        .collect();
    assert_eq!(cordoned, nodes);
}

#[test]
fn on_demand_node_is_replaced_by_spot_when_allowed() {
    // The pool allows both capacity types: m5.xlarge on-demand ($0.192) with a 500m pod →
    // options cheaper than $0.192 include spot and on-demand; upstream restricts the replacement
    // to spot, so the cheapest spot c5.large ($0.035) is launched.
    let pool = nodepool("d", json!({"disruption": {"consolidateAfter": "0s"}}));
    let mut w = World::new(TYPES, vec![workload("web", 500, GIB)], vec![pool], Value::Null);
    let p = w.pod(0, 0);
    w.node("d", "m5.xlarge", CapacityType::OnDemand, 0, &[p]);
    assert_eq!(
        launches(&w.run(0, 20)),
        vec![(15, "c5.large".to_string(), CapacityType::Spot)]
    );
}

#[test]
fn pending_pods_join_the_consolidation_simulation() {
    // Node 0 (m5.large, 500m pod) could go: its pod fits on node 1. But a 1900m pod is pending
    // and joins the simulation (upstream SimulateScheduling): at t=0 it needs a NodeClaim, so the
    // decision is "replace node 0 by one c5.large ($0.085 < $0.096) holding both pods".
    // Provisioning launches a node for the pending pod at t=1; at validation (t=15) the pending
    // pod fits on that in-flight node, the decision became a plain delete: the command is
    // invalidated. The next poll (t=25) proposes the delete, executed at t=40.
    let mut w = World::new(
        TYPES,
        vec![workload("web", 500, GIB), workload("big", 1900, GIB)],
        vec![od_pool("d", "0s")],
        Value::Null,
    );
    let a = w.pod(0, 0);
    let b = w.pod(0, 0);
    let n0 = w.node("d", "m5.large", CapacityType::OnDemand, 0, &[a]);
    w.node("d", "m5.large", CapacityType::OnDemand, 0, &[b]);
    w.pod(1, 0);
    let mut invalidated = vec![];
    let mut acts = vec![];
    for t in 0..=40 {
        let (a, r) = w.step(t);
        invalidated.extend(r.iter().filter(|r| r.decision == "Invalidated").map(|_| t));
        acts.extend(a.into_iter().map(|a| (t, a)));
    }
    assert_eq!(invalidated, vec![15]);
    assert_eq!(
        launches(&acts),
        vec![(1, "c5.large".to_string(), CapacityType::OnDemand)]
    );
    let disrupted: Vec<_> = acts
        .iter()
        .filter_map(|(t, a)| match a {
            Action::Drain { node, .. } | Action::Cordon { node, .. } | Action::Terminate { node, .. } => {
                Some((*t, *node))
            }
            _ => None,
        })
        .collect();
    assert_eq!(disrupted, vec![(40, n0)]);
}

#[test]
fn a_full_nodepool_parses_with_defaults() {
    let cat = catalog(TYPES);
    let full = nodepool(
        "general",
        json!({
            "template": {
                "metadata": {"labels": {"team": "web"}},
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                    "requirements": [
                        {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m"]},
                        {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["4"]},
                        {"key": "karpenter.k8s.aws/instance-hypervisor", "operator": "In", "values": ["nitro"]},
                        {"key": "tier", "operator": "In", "values": ["frontend"]}
                    ],
                    "taints": [{"key": "dedicated", "value": "web", "effect": "NoSchedule"}],
                    "startupTaints": [{"key": "ebs.csi.aws.com/agent-not-ready", "effect": "NoExecute"}],
                    "expireAfter": "Never"
                }
            },
            "limits": {"cpu": 1000, "memory": "1000Gi"},
            "disruption": {
                "consolidationPolicy": "WhenEmpty",
                "consolidateAfter": "1m",
                "budgets": [{"nodes": "20%", "reasons": ["Empty", "Drifted"]},
                            {"nodes": "0", "schedule": "@daily", "duration": "10m"}]
            }
        }),
    );
    let minimal = nodepool("minimal", json!({}));
    let k = Karpenter::new(KarpenterSettings::default(), &[full, minimal], &[], &cat).expect("valid");
    let pools: Vec<_> = k.pools().collect();
    let p = pools[0];
    assert_eq!(p.labels.get("team").map(String::as_str), Some("web"));
    assert_eq!(p.labels.get("tier").map(String::as_str), Some("frontend"));
    assert_eq!(p.expire_after, None);
    assert_eq!(p.consolidate_after, Some(SimDuration::from_mins(1)));
    assert_eq!(p.limits.cpu_m, Some(1_000_000));
    assert_eq!(p.limits.memory, Some(1000 * GIB));
    assert_eq!(p.budgets.len(), 2);
    assert_eq!(p.taints.len(), 1);
    assert_eq!(p.startup_taints.len(), 1);
    // category and generation filter offerings; the hypervisor key is not in the catalog.
    assert_eq!(p.offering_requirements.len(), 2);
    assert!(
        k.warnings().iter().any(|w| w.contains("instance-hypervisor")),
        "{:?}",
        k.warnings()
    );
    // Defaults: 720h expiry, consolidate after 0s, one 10% budget, WhenEmptyOrUnderutilized.
    let m = pools[1];
    assert_eq!(m.expire_after, Some(SimDuration::from_mins(720 * 60)));
    assert_eq!(m.consolidate_after, Some(SimDuration::ZERO));
    assert_eq!(m.budgets.len(), 1);
    assert_eq!(m.weight, 0);
}

// ----- properties -------------------------------------------------------------------------------

mod properties {
    use super::*;
    use capsim::controllers::karpenter::nodepool::parse_nodepool;
    use capsim::controllers::karpenter::offerings::catalog_types;
    use capsim::controllers::karpenter::scheduling::{PoolCtx, Remaining, SimPod, solve};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Every pod is placed exactly once (on an existing node or a NodeClaim) or reported;
        /// every NodeClaim's pods fit each of its remaining options; existing nodes are never
        /// overcommitted; the cpu limit is respected by the claims' largest options.
        #[test]
        fn solve_places_each_pod_once_and_respects_capacity(
            reqs in prop::collection::vec((50i64..4000, 1i64..6), 1..25),
            free in prop::collection::vec(0i64..4000, 0..4),
            limit in prop::option::of(4i64..40),
        ) {
            let cat = catalog(TYPES);
            let types = catalog_types(&cat);
            let settings = KarpenterSettings::default();
            let mut spec = json!({});
            if let Some(l) = limit {
                spec = json!({"limits": {"cpu": l}});
            }
            let pool = parse_nodepool(&nodepool("p", spec), &types, &settings, &mut vec![]).expect("valid");
            let ctx = PoolCtx::new(pool, Default::default(), &types, &settings);
            let wl: Vec<Workload> = reqs.iter().map(|&(c, g)| workload("w", c, g * 512 * M)).collect();
            let pods: Vec<SimPod<'_>> = wl
                .iter()
                .enumerate()
                .map(|(i, w)| SimPod {
                    id: PodId(i as u32),
                    requests: w.template.requests(),
                    created: SimTime::ZERO,
                    workload: i as u32,
                    template: &w.template,
                    volume_zone: None,
                })
                .collect();
            let labels = Labels::new();
            let existing: Vec<_> = free
                .iter()
                .enumerate()
                .map(|(i, &f)| capsim::controllers::karpenter::scheduling::SimNode {
                    id: NodeId(i as u32),
                    free: Resources::new(f, 8 * GIB, 10),
                    labels: &labels,
                    taints: &[],
                })
                .collect();
            let remaining = vec![Remaining { cpu_m: limit.map(|l| l * 1000), memory: None, nodes: None }];
            let res = solve(&pods, &existing, std::slice::from_ref(&ctx), &remaining);

            let mut seen = vec![0usize; pods.len()];
            for (p, _) in &res.existing { seen[p.0 as usize] += 1; }
            for c in &res.claims { for p in &c.pods { seen[p.0 as usize] += 1; } }
            for (p, _) in &res.errors { seen[p.0 as usize] += 1; }
            prop_assert!(seen.iter().all(|&n| n == 1), "{seen:?}");

            for (i, n) in existing.iter().enumerate() {
                let used: Resources = res
                    .existing
                    .iter()
                    .filter(|(_, node)| *node == n.id)
                    .fold(Resources::ZERO, |acc, (p, _)| acc + pods[p.0 as usize].requests);
                prop_assert!(used.fits_in(&existing[i].free));
            }
            let mut reserved = 0;
            for c in &res.claims {
                prop_assert!(!c.options.is_empty());
                for &o in &c.options {
                    prop_assert!(c.requests.fits_in(&ctx.usable[o]));
                }
                reserved += c.options.iter().map(|&o| ctx.capacity[o].cpu_m).max().unwrap_or(0);
            }
            if let Some(l) = limit {
                prop_assert!(reserved <= l * 1000, "reserved {reserved} > limit {l}");
            }
        }
    }
}

#[test]
fn larger_pods_are_placed_first() {
    // An existing c5.large (1930m) already runs a 1000m pod: 930m free. Pending: a 300m pod
    // (older) and a 900m pod (newer). Karpenter's queue takes CPU descending: the 900m pod takes
    // the free room, the 300m pod gets a new NodeClaim (one c5.large, $0.085).
    let mut w = World::new(
        TYPES,
        vec![
            workload("small", 300, 256 * M),
            workload("big", 900, 256 * M),
            workload("base", 1000, 256 * M),
        ],
        vec![od_pool("d", "Never")],
        Value::Null,
    );
    let base = w.pod(2, 0);
    w.node("d", "c5.large", CapacityType::OnDemand, 0, &[base]);
    w.pod(0, 0);
    w.pod(1, 5);
    w.step(5);
    let (acts, recs) = w.step(6);
    assert_eq!(acts.len(), 1);
    let launch = recs.iter().find(|r| r.decision == "Launch").expect("a launch");
    assert!(launch.reason.starts_with("1 pod(s), 300m cpu"), "{}", launch.reason);
}
