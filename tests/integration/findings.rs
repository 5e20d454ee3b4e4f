//! Findings (`capsim::sim::findings`): each kind provoked by a scenario that has it, and absent
//! from one that does not; every piece of evidence is checked against the records it cites.

use crate::physics::{load, one_deployment};
use capsim::engine::SimTime;
use capsim::sim::{self, SimResult, World};

fn kinds(r: &SimResult) -> Vec<&'static str> {
    r.summary.findings.iter().map(|f| f.kind).collect()
}

fn shipped(name: &str) -> SimResult {
    let sc = capsim::scenario::load(std::path::Path::new(&format!("scenarios/{name}.yaml")), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    sim::run(&sc).unwrap()
}

const HPA: &str = "---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 1
  maxReplicas: MAX
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
";

fn hpa_run(max: u32) -> SimResult {
    // 2000 requests/s at 1m CPU each is 2 cores: ~14 pods of 250m requests at the 60 % target,
    // and the nodes hold plenty; with maxReplicas 2 the pods (500m limits) cannot serve it.
    let text = one_deployment(
        "m5.4xlarge",
        4,
        1,
        "{requests: {cpu: 250m, memory: 128Mi}, limits: {cpu: 500m}}",
        "{traffic: {base: 2000}, perRequest: {cpu: 1m}}",
        "start: cold",
    ) + &HPA.replace("MAX", &max.to_string());
    sim::run(&load(&text)).unwrap()
}

#[test]
fn an_hpa_held_at_max_replicas_while_requests_fail_is_named_with_its_evidence() {
    let r = hpa_run(2);
    let f = r
        .summary
        .findings
        .iter()
        .find(|f| f.kind == "hpa-at-max-replicas")
        .expect("finding");
    assert_eq!(f.workload.as_deref(), Some("api"));
    assert!(
        f.knob.contains("spec.maxReplicas of HorizontalPodAutoscaler api"),
        "{}",
        f.knob
    );
    // The evidence's count is the hpa.csv rows limited by maxReplicas.
    let pinned = r
        .hpa
        .iter()
        .filter(|h| {
            matches!(
                h.limiting_rule,
                Some(capsim::controllers::hpa::normalize::LimitingRule::MaxReplicas(2))
            )
        })
        .count();
    assert!(
        f.evidence[0].contains(&format!("in {pinned} syncs")),
        "{:?}",
        f.evidence
    );
    assert!(
        !kinds(&hpa_run(40)).contains(&"hpa-at-max-replicas"),
        "{:?}",
        kinds(&hpa_run(40))
    );
}

#[test]
fn pods_no_node_can_take_are_named_with_the_reason() {
    // 64 CPUs per pod on m5.xlarge nodes (4 CPUs), no autoscaler.
    let text = one_deployment(
        "m5.xlarge",
        2,
        2,
        "{requests: {cpu: '64', memory: 1Gi}}",
        "{traffic: {base: 10}}",
        "",
    );
    let r = sim::run(&load(&text)).unwrap();
    let f = r
        .summary
        .findings
        .iter()
        .find(|f| f.kind == "pods-never-scheduled")
        .unwrap();
    assert!(f.statement.starts_with("2 pod(s) of api"), "{}", f.statement);
    assert!(
        f.evidence.iter().any(|e| e.contains("static nodes")),
        "{:?}",
        f.evidence
    );
    assert_eq!(r.pods.iter().filter(|p| p.state_at_end == "Pending").count(), 2);
    let fits = one_deployment(
        "m5.xlarge",
        2,
        2,
        "{requests: {cpu: '1', memory: 1Gi}}",
        "{traffic: {base: 10}}",
        "",
    );
    assert!(!kinds(&sim::run(&load(&fits)).unwrap()).contains(&"pods-never-scheduled"));
}

/// The warm-pool scenario of `scenarios::preemption`, the app asking for `app` pods at 5 min.
fn warm_pool(app: u32) -> SimResult {
    let sc = capsim::scenario::load_str("warm.yaml", crate::scenarios::preemption::YAML, None, &[]).unwrap();
    let i = sc.workloads.iter().position(|w| w.name == "app").unwrap();
    let mut w = World::new(&sc).unwrap();
    while w.queue.now() < SimTime::from_secs(300) {
        assert!(w.step());
    }
    w.workloads[i].desired = app;
    w.reconcile_replicas(i);
    w.run()
}

#[test]
fn preempted_placeholders_are_the_warm_pool_working_and_too_small_a_pool_is_named() {
    // Three app pods take the three placeholders' room: preemption, no warm-pool finding.
    let r = warm_pool(3);
    let f = r.summary.findings.iter().find(|f| f.kind == "preemption").unwrap();
    assert_eq!(f.workload.as_deref(), Some("placeholder"));
    assert!(
        f.statement.contains("3 placeholder pod(s)") && f.statement.contains("app"),
        "{}",
        f.statement
    );
    assert!(!kinds(&r).contains(&"warm-pool-too-small"));
    // Six: three more wait for a new node.
    let r = warm_pool(6);
    let f = r
        .summary
        .findings
        .iter()
        .find(|f| f.kind == "warm-pool-too-small")
        .unwrap();
    let waited = r
        .pod_stages
        .iter()
        .filter(|p| p.workload == "app" && p.stages[2] > 0.0)
        .count();
    assert!(waited >= 3, "{waited}");
    assert!(
        f.statement.contains(&format!("but {waited} more of app")),
        "{}",
        f.statement
    );
    // No placeholders, no preemption.
    assert!(!kinds(&shipped("monday-surge-ca")).contains(&"preemption"));
}

#[test]
fn cpu_throttling_and_oom_kills_are_named_and_absent_without_them() {
    let r = shipped("monday-surge-ca");
    let f = r.summary.findings.iter().find(|f| f.kind == "cpu-throttling").unwrap();
    let w = &r.summary.workloads[0];
    assert!(f.evidence[0].contains(&format!("{:.0}", w.cpu_throttled_core_seconds)));
    let oom = one_deployment(
        "m5.xlarge",
        1,
        2,
        "{requests: {cpu: 500m, memory: 256Mi}, limits: {cpu: '1', memory: 512Mi}}",
        "{traffic: {base: 300}, perRequest: {cpu: 1m, memory: 4Mi}, idle: {memory: 100Mi}}",
        "",
    );
    let r = sim::run(&load(&oom)).unwrap();
    let f = r.summary.findings.iter().find(|f| f.kind == "oom-kills").unwrap();
    assert!(
        f.statement
            .starts_with(&format!("{} container(s)", r.summary.workloads[0].oom_kills))
    );
    let calm = one_deployment(
        "m5.xlarge",
        1,
        2,
        "{requests: {cpu: 500m, memory: 256Mi}}",
        "{traffic: {base: 10}}",
        "",
    );
    let k = kinds(&sim::run(&load(&calm)).unwrap());
    assert!(!k.contains(&"oom-kills") && !k.contains(&"cpu-throttling"), "{k:?}");
}

#[test]
fn evictions_by_consolidation_and_pages_are_named_and_absent_without_them() {
    let r = shipped("monday-surge-karpenter-warm");
    let f = r
        .summary
        .findings
        .iter()
        .find(|f| f.kind == "disruption-evictions" && f.workload.as_deref() == Some("checkout-api"))
        .unwrap();
    let n: usize = f.statement.split(' ').next().unwrap().parse().unwrap();
    let drained = r
        .pods
        .iter()
        .filter(|p| p.workload == "checkout-api" && p.delete_reason == "Drained")
        .count();
    assert!(n <= drained && n > 0);
    let ca = shipped("monday-surge-ca");
    assert!(!kinds(&ca).contains(&"disruption-evictions") && !kinds(&ca).contains(&"pages"));
    let outage = shipped("az-outage-ca");
    let f = outage.summary.findings.iter().find(|f| f.kind == "pages").unwrap();
    assert!(f.statement.contains("CheckoutErrorBudgetBurn"));
    assert!(
        outage
            .alerts
            .events
            .iter()
            .any(|e| e.alert == "CheckoutErrorBudgetBurn")
    );
}
