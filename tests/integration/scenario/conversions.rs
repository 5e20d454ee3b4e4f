//! Older API versions, converted as the apiserver converts them (src/scenario/convert.rs): the
//! converted object runs exactly as the v2 / policy/v1 object a user would write today.

use capsim::scenario::{Scenario, load_str};

const BASE: &str = "apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: conv}
spec:
  duration: 30m
  seed: 3
  nodes:
    - {name: n, instanceType: m5.xlarge, count: 4, zone: us-east-1a}
  workloads:
    api:
      traffic: {base: 600, shape: [{step: {at: 5m, factor: 3}}]}
      perRequest: {cpu: 2m}
      idle: {cpu: 50m, memory: 100Mi}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - {name: app, image: api:1, resources: {requests: {cpu: 500m, memory: 256Mi}, limits: {cpu: '1'}}}
---
";

fn load(extra: &str) -> Scenario {
    load_str("conv.yaml", &format!("{BASE}{extra}"), None, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn same_run(a: &Scenario, b: &Scenario) {
    let (ra, rb) = (capsim::sim::run(a).unwrap(), capsim::sim::run(b).unwrap());
    assert!(ra.summary.workloads[0].replicas_max > 2, "the HPA acted");
    assert_eq!(ra.summary, rb.summary);
    assert_eq!(format!("{:?}", ra.hpa), format!("{:?}", rb.hpa));
}

const V2_CPU70: &str = "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 12
  metrics:
    - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}
";

#[test]
fn v1_target_cpu_utilization_runs_as_the_v2_metric() {
    let v1 = load(
        "apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 12
  targetCPUUtilizationPercentage: 70
",
    );
    assert!(
        v1.warnings
            .iter()
            .any(|w| w.contains("autoscaling/v1 converted") && w.contains("targetCPUUtilizationPercentage 70")),
        "{:?}",
        v1.warnings
    );
    same_run(&v1, &load(V2_CPU70));
}

#[test]
fn v1_without_a_target_gets_v2s_default_of_80_percent_cpu() {
    let v1 = load(
        "apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 12
",
    );
    assert!(v1.warnings.iter().any(|w| w.contains("80 %")), "{:?}", v1.warnings);
    let v2 = load(
        &V2_CPU70
            .replace("averageUtilization: 70", "averageUtilization: 80")
            .replace("  minReplicas: 2\n", ""),
    );
    same_run(&v1, &v2);
}

#[test]
fn v1_annotations_carry_metrics_and_behavior() {
    let v1 = load(
        r#"apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: api
  annotations:
    autoscaling.alpha.kubernetes.io/metrics: '[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"200Mi"}}]'
    autoscaling.alpha.kubernetes.io/behavior: '{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Pods","Value":1,"PeriodSeconds":60}]}}'
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 12
  targetCPUUtilizationPercentage: 70
"#,
    );
    let v2 = load(&V2_CPU70.replace(
        "  metrics:\n",
        "  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      selectPolicy: Max
      policies: [{type: Pods, value: 1, periodSeconds: 60}]
  metrics:
    - {type: Resource, resource: {name: memory, target: {type: AverageValue, averageValue: 200Mi}}}
",
    ));
    let spec = |s: &Scenario| s.hpas[0].spec.clone().unwrap();
    assert_eq!(spec(&v1).metrics, spec(&v2).metrics);
    assert_eq!(spec(&v1).behavior, spec(&v2).behavior);
    same_run(&v1, &v2);
}

#[test]
fn v2beta2_and_v2beta1_convert() {
    let beta2 = load(&V2_CPU70.replace("autoscaling/v2", "autoscaling/v2beta2"));
    assert!(beta2.warnings.iter().any(|w| w.contains("v2beta2 converted")));
    same_run(&beta2, &load(V2_CPU70));
    let beta1 = load(
        "apiVersion: autoscaling/v2beta1
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 12
  metrics:
    - {type: Resource, resource: {name: cpu, targetAverageUtilization: 70}}
",
    );
    same_run(&beta1, &load(V2_CPU70));
}

#[test]
fn a_malformed_annotation_names_its_path() {
    let text = format!(
        "{BASE}apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: api
  annotations: {{autoscaling.alpha.kubernetes.io/metrics: 'not json'}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: api}}
  maxReplicas: 3
"
    );
    let e = load_str("conv.yaml", &text, None, &[]).unwrap_err().to_string();
    assert!(
        e.contains("metadata.annotations.autoscaling.alpha.kubernetes.io/metrics"),
        "{e}"
    );
}

#[test]
fn v1beta1_pdb_empty_selector_selects_nothing_and_a_set_one_converts() {
    let pdb = |api: &str, selector: &str| {
        format!(
            "apiVersion: {api}\nkind: PodDisruptionBudget\nmetadata: {{name: api}}\nspec:\n  minAvailable: 2\n  selector: {selector}\n"
        )
    };
    let empty = load(&pdb("policy/v1beta1", "{}"));
    assert!(empty.pdbs.is_empty(), "v1beta1's empty selector protects no pods");
    assert!(
        empty
            .warnings
            .iter()
            .any(|w| w.contains("policy/v1beta1 converted") && w.contains("selects none"))
    );
    // The same manifest in policy/v1 selects every pod of the namespace.
    assert_eq!(load(&pdb("policy/v1", "{}")).pdbs.len(), 1);
    let set = load(&pdb("policy/v1beta1", "{matchLabels: {app: api}}"));
    assert_eq!(set.pdbs, load(&pdb("policy/v1", "{matchLabels: {app: api}}")).pdbs);
}
