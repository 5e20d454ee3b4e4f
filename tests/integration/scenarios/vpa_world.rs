//! VerticalPodAutoscalers acting on the simulated world: the recommender's loop reading
//! metrics-server samples, the admission controller setting requests on new pods, the updater
//! evicting or resizing running ones, and what the HPA, scheduler and PDBs make of it.
//!
//! Upstream rules these tests check (kubernetes/autoscaler, vertical-pod-autoscaler):
//! - the recommender runs every `--recommender-interval` (1m), the updater every
//!   `--updater-interval` (1m): pkg/recommender/main.go, pkg/updater/main.go;
//! - a pod whose request is outside [lowerBound, upperBound] is updated at once; inside it, only
//!   after 12 h with a > 10 % difference, or after a quick OOM:
//!   pkg/updater/priority/update_priority_calculator.go;
//! - the updater evicts at most `max(1, int(replicas × --eviction-tolerance 0.5))` pods of a
//!   group at a time and nothing of a group under `--min-replicas` (2):
//!   pkg/updater/restriction/pods_eviction_restriction.go;
//! - a pod's recommendation is at least 25m / 250Mi (`--pod-recommendation-min-cpu-millicores`,
//!   `--pod-recommendation-min-memory-mb`): pkg/recommender/logic/recommender.go;
//! - InPlaceOrRecreate patches the `resize` subresource; a resize the kubelet keeps Deferred for
//!   more than 5 minutes, or marks Infeasible, falls back to eviction:
//!   pkg/updater/restriction/pods_inplace_restriction.go.

use capsim::cluster::PodPhase;
use capsim::engine::SimTime;
use capsim::sim::{self, SimResult, World};

const MI: i64 = 1 << 20;

/// One Deployment `api` of `replicas` pods (one container `app`) on static nodes, serving a
/// steady `rps`, with a VPA over it. `extra` is appended as further YAML documents.
struct Case<'a> {
    mode: &'a str,
    requests: (&'a str, &'a str),
    limits: (&'a str, &'a str),
    controlled_values: &'a str,
    nodes: (&'a str, u32),
    rps: u32,
    mem_per_request: &'a str,
    replicas: u32,
    duration: &'a str,
    policy: &'a str,
    extra: &'a str,
}

impl Default for Case<'_> {
    fn default() -> Self {
        Case {
            mode: "Recreate",
            // Usage ≈ 50m idle + 2m × 100 rps per pod = 250m CPU; 100Mi + 1Mi × 100 = 200Mi.
            requests: ("100m", "256Mi"),
            limits: ("2", "1Gi"),
            controlled_values: "RequestsAndLimits",
            nodes: ("m5.xlarge", 2),
            rps: 300,
            mem_per_request: "1Mi",
            replicas: 3,
            duration: "10m",
            policy: "",
            extra: "",
        }
    }
}

impl Case<'_> {
    fn yaml(&self) -> String {
        let Case {
            mode,
            requests,
            limits,
            controlled_values,
            nodes,
            rps,
            mem_per_request,
            replicas,
            duration,
            policy,
            extra,
        } = self;
        format!(
            "apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: vpa-world}}
spec:
  duration: {duration}
  seed: 7
  resolution: 30s
  nodes:
    - {{name: general, instanceType: {}, count: {}, zone: us-east-1a}}
  workloads:
    api:
      traffic: {{base: {rps}}}
      perRequest: {{cpu: 2m, memory: {mem_per_request}}}
      idle: {{cpu: 50m, memory: 100Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
        - name: app
          image: example.com/api:1
          resources:
            requests: {{cpu: {}, memory: {}}}
            limits: {{cpu: \"{}\", memory: {}}}
---
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata: {{name: api, namespace: default}}
spec:
  targetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}
  updatePolicy: {{updateMode: {mode}}}
  resourcePolicy:
    containerPolicies:
      - {{containerName: '*', controlledValues: {controlled_values}{policy}}}
{extra}",
            nodes.0, nodes.1, requests.0, requests.1, limits.0, limits.1
        )
    }

    fn scenario(&self) -> capsim::scenario::Scenario {
        capsim::scenario::load_str("vpa.yaml", &self.yaml(), None, &[]).unwrap_or_else(|e| panic!("{e}"))
    }

    fn run(&self) -> SimResult {
        sim::run(&self.scenario()).unwrap()
    }
}

fn actions(r: &SimResult, action: &str) -> Vec<f64> {
    r.vpa_updates
        .iter()
        .filter(|u| u.action == action)
        .map(|u| u.time_s)
        .collect()
}

/// The recommender's row for `resource` at `t`.
fn rec_at<'r>(r: &'r SimResult, t: f64, resource: &str) -> &'r sim::vpa::VpaRecord {
    r.vpa
        .iter()
        .find(|v| v.time_s == t && v.resource == resource)
        .unwrap_or_else(|| panic!("no {resource} recommendation at {t}"))
}

/// Runs `sc` to `until` and hands back the world.
fn world_at(sc: &capsim::scenario::Scenario, until: u64, f: impl FnOnce(&World)) {
    let mut w = World::new(sc).unwrap();
    while w.queue.now() < SimTime::from_secs(until) && w.step() {}
    f(&w)
}

#[test]
fn recreate_evicts_only_pods_below_the_lower_bound_one_at_a_time() {
    // Pods request 100m and use ≈ 250m. The CPU target (p90 × 1.15 safety margin) is ≈ 296m
    // from the first loop, but the lower bound (p50 × 1.15 scaled by the confidence multiplier
    // (1 + 0.001/confidence)^-2, confidence growing with the samples' lifespan) starts far below
    // and climbs: the updater evicts a pod only once 100m < lowerBound. Three replicas and
    // tolerance 0.5 allow int(1.5) = 1 eviction at a time, and the evicted pod's replacement must
    // be running before the next: one eviction per updater loop.
    let r = Case::default().run();
    let evicted = actions(&r, "Evicted");
    assert_eq!(evicted.len(), 3, "{:?}", r.vpa_updates);
    let first = evicted[0];
    assert!(
        rec_at(&r, first, "cpu").lower_bound > 100,
        "evicted at {first} inside the range"
    );
    assert!(
        rec_at(&r, first - 60.0, "cpu").lower_bound <= 100,
        "the loop before was in range"
    );
    assert_eq!(evicted, vec![first, first + 60.0, first + 120.0], "one per loop");
    // Before any update the lower bound is below 100m for at least the first loops.
    assert!(first >= 180.0, "{first}");
    let target = rec_at(&r, first, "cpu").target;
    assert!((280..=320).contains(&target), "target {target}m");
    assert_eq!(r.summary.vpa[0].evictions, 3);
    assert!(
        r.vpa_updates.iter().all(|u| u.detail.contains("100m")),
        "only old pods evicted"
    );
    let reasons: Vec<_> = r
        .pods
        .iter()
        .map(|p| p.delete_reason.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(reasons, vec!["EvictedByVPA"; 3]);
    world_at(&Case::default().scenario(), 600, |w| {
        let live: Vec<_> = w.cluster.pods.iter().filter(|p| p.deleted.is_none()).collect();
        assert_eq!(live.len(), 3);
        for p in live {
            assert_eq!(p.requests.cpu_m, target, "replacement admitted with the target");
            assert!(p.revision > 0);
        }
    });
}

#[test]
fn a_request_below_the_minimum_memory_is_out_of_range_at_the_first_loop() {
    // 200Mi is under the per-pod minimum of 250Mi, which lifts the memory lower bound itself to
    // 250Mi: the pod is outside its range as soon as the first recommendation exists.
    let r = Case {
        requests: ("100m", "200Mi"),
        ..Case::default()
    }
    .run();
    assert_eq!(rec_at(&r, 60.0, "memory").lower_bound, 250 * MI);
    assert_eq!(actions(&r, "Evicted").first(), Some(&60.0));
}

#[test]
fn a_group_under_min_replicas_is_never_evicted() {
    let r = Case {
        replicas: 1,
        requests: ("100m", "200Mi"),
        ..Case::default()
    }
    .run();
    assert!(!r.vpa.is_empty());
    assert!(r.vpa_updates.is_empty(), "{:?}", r.vpa_updates);
}

#[test]
fn in_place_resize_changes_running_pods_without_new_ones() {
    let case = Case {
        mode: "InPlaceOrRecreate",
        ..Case::default()
    };
    let r = case.run();
    let resized = actions(&r, "Resized");
    assert_eq!(resized.len(), 3, "{:?}", r.vpa_updates);
    assert!(actions(&r, "Evicted").is_empty());
    assert_eq!(r.pods.len(), 3, "no pod replaced");
    assert_eq!(r.summary.vpa[0].in_place_resizes, 3);
    let target = rec_at(&r, resized[0], "cpu").target;
    world_at(&case.scenario(), 600, |w| {
        let allocated: i64 = w.cluster.nodes.iter().map(|n| n.allocated.cpu_m).sum();
        for p in &w.cluster.pods {
            assert_eq!(p.requests.cpu_m, target);
            assert_eq!(p.revision, 0, "the pod keeps its own revision ...");
            assert!(p.resources_rev > 0, "... and runs with the revised resources");
        }
        assert_eq!(allocated, 3 * target, "nodes account the new requests");
    });
}

#[test]
fn a_resize_deferred_for_more_than_five_minutes_falls_back_to_eviction() {
    // One m5.large (≈ 1930m allocatable) and 1000 rps: each pod wants ≈ 50 + 2 × 333 ≈ 716m ×
    // 1.15. Two pods resize while there is room; the third does not fit beside them and stays
    // Deferred. The updater evicts it once it has been deferred for strictly more than 5 min;
    // its replacement (with the full recommendation) stays Pending on the full node.
    let case = Case {
        mode: "InPlaceOrRecreate",
        nodes: ("m5.large", 1),
        rps: 1000,
        duration: "15m",
        ..Case::default()
    };
    let r = case.run();
    let deferred = actions(&r, "ResizeDeferred");
    let evicted = actions(&r, "Evicted");
    assert_eq!(actions(&r, "Resized").len(), 2, "{:?}", r.vpa_updates);
    assert!(!deferred.is_empty());
    assert_eq!(evicted.len(), 1, "{:?}", r.vpa_updates);
    let since = deferred[0];
    assert!(
        evicted[0] - since > 300.0,
        "deferred at {since}, evicted at {}",
        evicted[0]
    );
    assert!(evicted[0] - since <= 360.0, "at the first loop after 5 min");
    assert_eq!(r.summary.vpa[0].resizes_deferred, 1);
    assert!(
        r.pods.iter().any(|p| p.state_at_end == "Pending"),
        "the replacement does not fit"
    );
}

#[test]
fn a_resize_no_node_could_hold_is_infeasible_and_falls_back_to_eviction() {
    // A 4-CPU floor per pod on one m5.large (1930m allocatable): the kubelet marks each resize
    // Infeasible. Upstream (pods_inplace_restriction.go CanEvictInPlacingPod) an Infeasible pod
    // is evicted when its group is disruptable, and resizes initiated in the same loop count
    // against that (pods_restriction_factory.go isPodDisruptable: alive = running − evicted −
    // inPlaceUpdateInitiated > configured − int(3 × 0.5)). So at 60, 120 and 180 s one new resize
    // is initiated per loop (each leaving alive = 2, not > 2, so the Infeasible pods wait); at
    // 240 s all three hold Infeasible resizes, nothing new is initiated, and one is evicted. Its
    // replacement is admitted with 4000m and stays Pending, so running = 2 stops any further.
    let case = Case {
        mode: "InPlaceOrRecreate",
        nodes: ("m5.large", 1),
        policy: ", minAllowed: {cpu: '4'}",
        ..Case::default()
    };
    let r = case.run();
    assert_eq!(
        actions(&r, "ResizeInfeasible"),
        vec![60.0, 120.0, 180.0],
        "{:?}",
        r.vpa_updates
    );
    assert_eq!(actions(&r, "Evicted"), vec![240.0]);
    assert_eq!(r.summary.vpa[0].resizes_infeasible, 3);
    assert_eq!(r.pods.iter().filter(|p| p.state_at_end == "Pending").count(), 1);
}

#[test]
fn off_only_recommends() {
    let case = Case {
        mode: "Off",
        ..Case::default()
    };
    let r = case.run();
    // Loops at 60, 120, ..., 540 s (the first one interval in; none at the run's end).
    assert_eq!(r.vpa.len(), 2 * 9, "cpu and memory rows at each of 9 loops");
    assert!(r.vpa_updates.is_empty());
    assert!(r.summary.vpa[0].recommendation[0].cpu_target_m.is_some());
    world_at(&case.scenario(), 600, |w| {
        assert_eq!(w.templates.current(0).0, 0, "the template is never revised");
        assert!(w.cluster.pods.iter().all(|p| p.requests.cpu_m == 100));
    });
}

#[test]
fn initial_changes_only_pods_created_after_a_recommendation() {
    let sc = Case {
        mode: "Initial",
        ..Case::default()
    }
    .scenario();
    let mut w = World::new(&sc).unwrap();
    while w.queue.now() < SimTime::from_secs(300) {
        assert!(w.step());
    }
    assert!(w.vpas.updates.is_empty(), "Initial never evicts");
    w.workloads[0].desired = 5;
    w.reconcile_replicas(0);
    while w.queue.now() < SimTime::from_secs(400) {
        assert!(w.step());
    }
    let pods = &w.cluster.pods;
    assert_eq!(pods.len(), 5);
    assert!(
        pods[..3].iter().all(|p| p.requests.cpu_m == 100),
        "running pods untouched"
    );
    for p in &pods[3..] {
        assert!(
            p.requests.cpu_m > 250,
            "new pods admitted with the target: {:?}",
            p.requests
        );
        assert_eq!(p.phase, PodPhase::Ready);
    }
}

#[test]
fn a_pdb_blocks_the_eviction_through_the_eviction_api() {
    let pdb = "---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: default}
spec:
  maxUnavailable: 0
  selector: {matchLabels: {app: api}}
";
    let r = Case {
        extra: pdb,
        ..Case::default()
    }
    .run();
    assert!(actions(&r, "Evicted").is_empty(), "{:?}", r.vpa_updates);
    assert!(!actions(&r, "EvictionBlocked").is_empty());
    assert_eq!(r.summary.vpa[0].evictions, 0);
    assert!(r.summary.vpa[0].evictions_blocked_by_pdb > 0);
}

/// OOM kills per hour of a 2-hour run with the memory limit at 256Mi and usage ≈ 300Mi.
fn oom_kills_by_hour(values: &str) -> (u32, u32) {
    let case = Case {
        controlled_values: values,
        requests: ("300m", "200Mi"),
        limits: ("2", "256Mi"),
        mem_per_request: "2Mi",
        nodes: ("m5.xlarge", 3),
        duration: "2h",
        ..Case::default()
    };
    let sc = case.scenario();
    let mut w = World::new(&sc).unwrap();
    while w.queue.now() < SimTime::from_secs(3600) {
        assert!(w.step());
    }
    let first = w.workloads[0].oom_kills;
    while w.step() {}
    (first, w.workloads[0].oom_kills - first)
}

#[test]
fn oom_kills_raise_memory_and_stop_when_limits_follow() {
    // Each OOM is a memory sample of max(request × 1.2, request + 100Mi) (upstream
    // pkg/recommender/model/container.go RecordOOM): the target climbs past usage, and with
    // RequestsAndLimits the limit scales with the request, so the kills stop.
    let (first_hour, second_hour) = oom_kills_by_hour("RequestsAndLimits");
    assert!(first_hour > 0);
    assert_eq!(second_hour, 0, "the loop ends once limits follow requests");
}

#[test]
fn oom_kills_loop_when_only_requests_are_controlled() {
    // With RequestsOnly the limit stays at 256Mi and the request is capped at it (upstream
    // capping.go capRecommendationToContainerLimit): the pods keep being OOM-killed — the
    // VPA OOM loop of kubernetes/autoscaler#4981.
    let (first_hour, second_hour) = oom_kills_by_hour("RequestsOnly");
    assert!(first_hour > 0 && second_hour > 0, "{first_hour} then {second_hour}");
    let (_, fixed) = oom_kills_by_hour("RequestsAndLimits");
    assert!(second_hour > fixed);
}

const HPA_ON_CPU: &str = "---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
";

fn lints(case: &Case) -> Vec<String> {
    let sc = case.scenario();
    let hpas = sim::autoscaling::build_hpas(&sc, &Default::default()).unwrap();
    sim::lint::lints(&sc, &hpas)
}

#[test]
fn hpa_and_vpa_on_cpu_get_a_lint_and_its_fix_does_not() {
    let fight = lints(&Case {
        extra: HPA_ON_CPU,
        ..Case::default()
    });
    assert!(
        fight.iter().any(|l| l.contains("6060") && l.contains("cpu")),
        "{fight:?}"
    );
    let fixed = lints(&Case {
        extra: HPA_ON_CPU,
        policy: ", controlledResources: [memory]",
        ..Case::default()
    });
    assert!(!fixed.iter().any(|l| l.contains("6060")), "{fixed:?}");
    let off = lints(&Case {
        extra: HPA_ON_CPU,
        mode: "Off",
        ..Case::default()
    });
    assert!(!off.iter().any(|l| l.contains("6060")), "Off changes nothing: {off:?}");
}

#[test]
fn a_min_allowed_no_node_can_hold_gets_a_lint() {
    let l = lints(&Case {
        policy: ", minAllowed: {cpu: '64'}",
        ..Case::default()
    });
    assert!(l.iter().any(|l| l.contains("minAllowed")), "{l:?}");
    assert!(!lints(&Case::default()).iter().any(|l| l.contains("minAllowed")));
}

#[test]
fn a_controlled_resources_memory_vpa_leaves_cpu_alone() {
    let r = Case {
        mode: "InPlaceOrRecreate",
        requests: ("100m", "200Mi"),
        policy: ", controlledResources: [memory]",
        ..Case::default()
    }
    .run();
    assert!(r.vpa.iter().all(|v| v.resource == "memory"));
    assert!(!actions(&r, "Resized").is_empty());
    for u in &r.vpa_updates {
        assert_eq!(
            u.detail, "100m/200Mi -> 100m/250Mi",
            "CPU stays, memory to the 250Mi floor"
        );
    }
    let rec = &r.summary.vpa[0].recommendation[0];
    assert_eq!(rec.cpu_target_m, None);
    assert!(rec.memory_target_bytes.unwrap() >= 250 * MI);
}

#[test]
fn same_seed_same_vpa_records() {
    let case = Case {
        mode: "InPlaceOrRecreate",
        nodes: ("m5.large", 1),
        rps: 1000,
        ..Case::default()
    };
    let (a, b) = (case.run(), case.run());
    assert_eq!(format!("{:?}", a.vpa), format!("{:?}", b.vpa));
    assert_eq!(format!("{:?}", a.vpa_updates), format!("{:?}", b.vpa_updates));
    assert_eq!(a.summary, b.summary);
}

#[test]
fn a_vpa_over_a_daemonset_is_warned_and_skipped() {
    let text = "apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: ds}
spec:
  duration: 5m
  nodes:
    - {name: general, instanceType: m5.xlarge, count: 1, zone: us-east-1a}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: default}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
        - {name: agent, image: agent:1, resources: {requests: {cpu: 100m, memory: 128Mi}}}
---
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata: {name: agent, namespace: default}
spec:
  targetRef: {apiVersion: apps/v1, kind: DaemonSet, name: agent}
";
    let sc = capsim::scenario::load_str("ds.yaml", text, None, &[]).unwrap();
    assert!(sc.vpas.is_empty());
    assert!(
        sc.warnings
            .iter()
            .any(|w| w.contains("DaemonSet") && w.contains("agent")),
        "{:?}",
        sc.warnings
    );
}
