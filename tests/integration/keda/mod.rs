//! KEDA ScaledObjects, queue workers and named series, end to end, with upstream's timings
//! worked by hand (kedacore/keda pkg/scaling/executor/scale_scaledobjects.go, pkg/scalers/).

use capsim::scenario::{Scenario, load_str};
use capsim::sim::SimResult;

mod fallback;
mod promql;

/// A queue worker `worker` consuming queue `orders` on three m5.2xlarge; messages arrive at
/// 200/s from 10m to 30m; each takes 20m of CPU (a pod at its 1-CPU limit does 47.5/s). Pods
/// are Ready 10 s after binding (5 s pull, 2 s start, 3 s ready).
fn scenario(scaled_object: &str, extra_spec: &str, duration: &str) -> String {
    format!(
        "apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {{name: keda}}
spec:
  duration: {duration}
  seed: 1
  resolution: 10s
{extra_spec}  nodes:
    - {{name: n, instanceType: m5.2xlarge, count: 3, zone: us-east-1a}}
  workloads:
    worker:
      traffic: {{base: 0, shape: [{{level: {{at: 10m, rps: 200}}}}, {{level: {{at: 30m, rps: 0}}}}]}}
      perRequest: {{cpu: 20m}}
      idle: {{cpu: 50m, memory: 100Mi}}
      queue: {{name: orders}}
      startup: {{imagePull: 5s, containerStart: 2s, ready: 3s}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: worker}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: worker}}}}
  template:
    metadata: {{labels: {{app: worker}}}}
    spec:
      containers:
        - {{name: w, image: w:1, resources: {{requests: {{cpu: 500m, memory: 256Mi}}, limits: {{cpu: '1'}}}}}}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {{name: worker}}
spec:
  scaleTargetRef: {{name: worker}}
{scaled_object}"
    )
}

const SQS: &str = "  minReplicaCount: 0
  maxReplicaCount: 20
  triggers:
    - type: aws-sqs-queue
      metadata: {queueURL: 'https://sqs.us-east-1.amazonaws.com/123/orders', queueLength: '100', awsRegion: us-east-1}
";

fn load(text: &str) -> Scenario {
    load_str("keda.yaml", text, None, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn run(text: &str) -> SimResult {
    capsim::sim::run(&load(text)).unwrap()
}

fn actions(r: &SimResult, action: &str) -> Vec<(f64, u32, u32)> {
    r.keda
        .iter()
        .filter(|k| k.action == action)
        .map(|k| (k.time_s, k.from, k.to))
        .collect()
}

#[test]
fn zero_to_one_takes_a_polling_interval_then_a_pod_start() {
    // KEDA polls at 0, 30, 60, ... s. At t = 0 nothing is queued and the ScaledObject was never
    // active: creation + initialCooldownPeriod (0) is not before now, so it waits; at 30 s it is
    // (and 0 + 300 cooldown does not apply without a lastActiveTime): 1 → 0. Messages start at
    // 600 s; the poll at 600 s sees an empty queue (nothing has arrived yet), the one at 630 s
    // sees 30 s × 200 = 6000 outstanding > activation 0: 0 → max(minReplicaCount, 1) = 1. The pod
    // is bound at once to the node that ran the first one, so its image is cached: Ready after
    // 2 s start + 3 s readiness.
    let r = run(&scenario(SQS, "", "1h"));
    assert_eq!(actions(&r, "Deactivated")[0], (30.0, 1, 0));
    assert_eq!(actions(&r, "Activated"), vec![(630.0, 0, 1)]);
    let first = r.pods.iter().find(|p| p.created_s >= 630.0).unwrap();
    assert_eq!(first.created_s, 630.0);
    assert!(first.image_cached);
    let ready = first.ready_s.unwrap() - first.created_s;
    assert!((5.0..6.0).contains(&ready), "{ready}");
    // The HPA KEDA created takes it from there: AverageValue 100 per replica, up to 20.
    assert!(
        r.hpa
            .iter()
            .any(|h| &*h.hpa == "keda-hpa-worker" && h.desired_replicas == 20)
    );
    assert_eq!(r.summary.keda[0].activations, 1);
}

#[test]
fn cooldown_counts_from_the_last_active_poll_strictly() {
    // Messages stop at 1800 s. The poll at 1800 s still sees messages in flight (200/s × 20 ms)
    // and is the last active one; 1800 + 300 is not before 2100, so the first poll past the
    // cooldown is 2130 s: N → 0.
    let r = run(&scenario(SQS, "", "1h"));
    let deact = actions(&r, "Deactivated");
    assert_eq!(deact.last().unwrap().0, 2130.0, "{deact:?}");
    assert_eq!(deact.last().unwrap().2, 0);
    let cooled = run(&scenario(&format!("  cooldownPeriod: 60\n{SQS}"), "", "1h"));
    assert_eq!(actions(&cooled, "Deactivated").last().unwrap().0, 1890.0);
}

#[test]
fn an_activation_threshold_delays_the_zero_to_one_step() {
    // activationQueueLength 10000: 6000 at 630 s is not above it, 12000 at 660 s is. Once the
    // pods keep up, the few hundred messages outstanding are below the activation threshold too:
    // KEDA counts the ScaledObject inactive and, a cooldown later, scales it to zero while
    // messages still arrive — the flapping a too-high activation threshold causes.
    let so = SQS.replace(
        "awsRegion: us-east-1}",
        "awsRegion: us-east-1, activationQueueLength: '10000'}",
    );
    let r = run(&scenario(&so, "", "1h"));
    let act = actions(&r, "Activated");
    assert_eq!(act[0], (660.0, 0, 1));
    assert!(act.len() > 1, "{act:?}");
    assert!(
        actions(&r, "Deactivated")
            .iter()
            .any(|d| (660.0..1800.0).contains(&d.0))
    );
}

#[test]
fn idle_replica_count_sits_between_idle_and_min() {
    let so = SQS.replace("minReplicaCount: 0", "minReplicaCount: 2\n  idleReplicaCount: 0");
    let r = run(&scenario(&so, "", "1h"));
    // The warm start runs the HPA's minimum, 2; inactive at 30 s: to idleReplicaCount.
    assert_eq!(actions(&r, "Deactivated")[0], (30.0, 2, 0));
    assert_eq!(actions(&r, "Activated"), vec![(630.0, 0, 2)], "to minReplicaCount");
    let bad = so.replace("idleReplicaCount: 0", "idleReplicaCount: 2");
    let e = load_str("keda.yaml", &scenario(&bad, "", "1h"), None, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("spec.idleReplicaCount"), "{e}");
}

#[test]
fn a_cron_trigger_holds_desired_replicas_in_its_window() {
    // t = 0 is Monday 00:00. 09:00–17:00 → 5 replicas. The poll at 32400 s (09:00) is in the
    // window: 0 → 1, and the HPA (AverageValue 1 of a metric worth 5) takes it to 5. The last
    // poll in the window is 16:59:30 (61170 s); the first past 61170 + 300 is 61500 s.
    let so = "  minReplicaCount: 0
  maxReplicaCount: 10
  triggers:
    - type: cron
      metadata: {timezone: Europe/Paris, start: '0 9 * * *', end: '0 17 * * *', desiredReplicas: '5'}
";
    let r = run(&scenario(so, "", "18h"));
    assert_eq!(actions(&r, "Activated"), vec![(32400.0, 0, 1)]);
    assert_eq!(actions(&r, "Deactivated").last().unwrap().0, 61500.0);
    assert!(r.hpa.iter().any(|h| h.desired_replicas == 5));
    assert!(r.hpa.iter().all(|h| h.desired_replicas <= 5));
}

#[test]
fn a_prometheus_trigger_reads_a_named_series() {
    let so = "  minReplicaCount: 1
  maxReplicaCount: 30
  triggers:
    - type: prometheus
      metadata: {serverAddress: 'http://prometheus:9090', query: partner_lag, threshold: '100'}
";
    let series = "  series:\n    partner_lag: {base: 1000}\n";
    let r = run(&scenario(so, series, "10m"));
    // 1000 / 100 per replica = 10 replicas.
    assert_eq!(r.summary.workloads[0].replicas_max, 10);
    let e = load_str("keda.yaml", &scenario(so, "", "10m"), None, &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spec.triggers[0].metadata.query") && e.contains("partner_lag"),
        "{e}"
    );
}

#[test]
fn a_queue_series_is_registered_and_must_name_an_existing_queue() {
    let text = scenario(SQS, "  series:\n    backlog: {queue: orders, measure: depth}\n", "1h");
    let sc = load(&text);
    assert_eq!(sc.series.len(), 2, "the named one and the trigger's");
    // A queue series names an existing queue.
    let e = load_str(
        "keda.yaml",
        &scenario(SQS, "  series:\n    backlog: {queue: payments}\n", "1h"),
        None,
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("spec.series.backlog.queue") && e.contains("orders"), "{e}");
}

#[test]
fn the_queue_grows_at_the_surplus_and_nothing_is_an_error() {
    // A fixed single replica (KEDA minReplicaCount = maxReplicaCount = 1 via the HPA) processes
    // 47.5 msg/s of the 200 arriving: the depth grows at 152.5/s while messages arrive.
    let so = "  minReplicaCount: 1
  maxReplicaCount: 1
  triggers:
    - type: rabbitmq
      metadata: {queueName: orders, host: amqp://rabbit}
";
    let r = run(&scenario(so, "", "1h"));
    let at = |t: f64| r.queue.iter().find(|q| q.time_s == t).unwrap().depth;
    let rate = (at(1500.0) - at(900.0)) / 600.0;
    assert!((rate - 152.5).abs() < 1e-6, "{rate}");
    let w = &r.summary.workloads[0];
    assert_eq!(w.error_share, 0.0);
    let q = w.queue.as_ref().unwrap();
    assert!(q.depth_max > 150_000.0 && q.oldest_age_max_s > 1000.0, "{q:?}");
    assert!((q.messages_arrived - 240_000.0).abs() < 1e-6);
}

#[test]
fn keda_inputs_that_cannot_run_are_errors_naming_the_field() {
    let cases = [
        (SQS.replace("/123/orders", "/123/payments"), "spec.triggers[0].metadata"),
        (
            SQS.replace("aws-sqs-queue", "azure-servicebus"),
            "spec.triggers[0].type",
        ),
        (
            "  minReplicaCount: 0\n  triggers:\n    - {type: cpu, metricType: Utilization, metadata: {value: '60'}}\n"
                .to_string(),
            "spec.minReplicaCount",
        ),
    ];
    let texts = cases
        .into_iter()
        .map(|(so, field)| (scenario(&so, "", "1h"), field))
        .chain([(
            scenario(SQS, "", "1h").replace("scaleTargetRef: {name: worker}", "scaleTargetRef: {name: nope}"),
            "spec.scaleTargetRef.name",
        )]);
    for (text, field) in texts {
        let e = load_str("keda.yaml", &text, None, &[]).unwrap_err().to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
}

#[test]
fn an_http_scaled_object_is_named_as_not_modelled_and_an_own_hpa_is_the_duplicate() {
    let http = "---
apiVersion: http.keda.sh/v1alpha1
kind: HTTPScaledObject
metadata: {name: web}
spec:
  scaleTargetRef: {name: web, kind: Deployment, apiVersion: apps/v1, service: web, port: 8080}
";
    let sc = load(&format!("{}{http}", scenario(SQS, "", "1h")));
    assert!(
        sc.warnings
            .iter()
            .any(|w| w.starts_with("NOT MODELLED") && w.contains("HTTPScaledObject")),
        "{:?}",
        sc.warnings
    );
    // A ScaledJob without its queue in the Scenario is an error naming what to add.
    let job = "---
apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata: {name: batch}
spec:
  jobTargetRef: {template: {spec: {containers: [{name: j, image: j:1}]}}}
  triggers: [{type: aws-sqs-queue, metadata: {queueURL: q, queueLength: '5'}}]
";
    let e = load_str("keda.yaml", &format!("{}{job}", scenario(SQS, "", "1h")), None, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("spec.workloads.batch.queue"), "{e}");
    let hpa = "---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: worker}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: worker}
  maxReplicas: 5
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}}]
";
    let e = load_str("keda.yaml", &format!("{}{hpa}", scenario(SQS, "", "1h")), None, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("already targets"), "{e}");
}

#[test]
fn same_seed_same_keda_records() {
    let (a, b) = (run(&scenario(SQS, "", "1h")), run(&scenario(SQS, "", "1h")));
    assert_eq!(a.keda, b.keda);
    assert_eq!(a.queue, b.queue);
}

#[test]
fn an_hpa_scales_to_and_from_zero_with_the_gate_on_a_named_series() {
    // HPAScaleToZero (alpha since 1.16, off by default in the upstream code read): minReplicas 0
    // with an External metric. From the warm start's 1 replica the backlog is 0, so the proposal
    // is 0; the 300 s scale-down stabilization holds 1 until the first sync past 300 s (syncs at
    // 3.66 s + 15 s × k): 303.66 s → 0. Messages start at 600 s; at the 603.66 s sync 3.66 s ×
    // 200 = 732 are outstanding: ceil(732 / 100) = 8, capped by the default scale-up rule
    // max(2 × 0, 4) = 4.
    let hpa = "---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: worker}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: worker}
  minReplicas: 0
  maxReplicas: 20
  metrics:
    - type: External
      external: {metric: {name: backlog}, target: {type: AverageValue, averageValue: '100'}}
";
    let text = |gate: &str| {
        let s = scenario(
            SQS,
            &format!("{gate}  series:\n    backlog: {{queue: orders, measure: outstanding}}\n"),
            "20m",
        );
        // The HPA of this test instead of KEDA's.
        let cut = s.find("---\napiVersion: keda.sh").unwrap();
        format!("{}{hpa}", &s[..cut])
    };
    let r = run(&text("  controllerManager: {featureGates: {hpaScaleToZero: true}}\n"));
    let at = |t: f64| {
        r.hpa
            .iter()
            .find(|h| (h.time_ms as f64 / 1000.0 - t).abs() < 0.01)
            .unwrap()
    };
    assert_eq!((at(288.66).desired_replicas, at(303.66).desired_replicas), (1, 0));
    assert_eq!(at(603.66).current_replicas, 0);
    assert_eq!(at(603.66).proposal, Some(8));
    assert_eq!(at(603.66).desired_replicas, 4);
    // Without the gate the API server rejects minReplicas: 0 (checked when the HPAs are built).
    let e = capsim::sim::run(&load(&text(""))).unwrap_err().to_string();
    assert!(e.contains("spec.minReplicas"), "{e}");
}

const SCALED_JOB: &str = "apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: sj}
spec:
  duration: 40m
  seed: 1
  resolution: 10s
  nodes:
    - {name: n, instanceType: m5.4xlarge, count: 2, zone: us-east-1a}
  workloads:
    render:
      traffic: {base: 0, shape: [{level: {at: 5m, rps: 0.2}}, {level: {at: 25m, rps: 0}}]}
      perRequest: {cpu: '60'}
      queue: {name: renders}
      startup: {imagePull: 5s, containerStart: 2s}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata: {name: render}
spec:
  jobTargetRef:
    template:
      spec:
        restartPolicy: Never
        containers:
          - {name: r, image: render:1, resources: {requests: {cpu: '1', memory: 1Gi}, limits: {cpu: '1'}}}
  pollingInterval: 30
  maxReplicaCount: 20
STRATEGY  triggers:
    - type: aws-sqs-queue
      metadata: {queueURL: 'https://sqs.us-east-1.amazonaws.com/123/renders', queueLength: '1'}
";

#[test]
fn a_scaled_job_creates_one_job_per_message_by_its_strategy() {
    // One message every 5 s from 300 s; each takes 60 CPU-seconds on its 1-CPU Job: 60 s.
    // Default strategy (scale_jobs.go): jobs = min(ceil(queueLength), maxScale − running), with
    // queueLength counting the messages in flight (SQS NotVisible). Poll at 330 s: 6 waiting,
    // none running → 6 Jobs. At 360 s: 6 new + 6 in flight = 12, maxScale 12 − 6 running → 6.
    // In steady state 12 Jobs run (0.2/s × 60 s), and every message gets exactly one Job.
    let r = run(&SCALED_JOB.replace("STRATEGY", ""));
    let created: Vec<(f64, u32, u32)> = r.keda.iter().map(|k| (k.time_s, k.from, k.to)).collect();
    assert_eq!(created[0], (330.0, 0, 6));
    assert_eq!(created[1], (360.0, 6, 12));
    assert_eq!(r.summary.keda[0].jobs_created, Some(240));
    let w = &r.summary.workloads[0];
    assert_eq!(w.completed, Some(240));
    let q = w.queue.as_ref().unwrap();
    assert_eq!(
        (q.messages_arrived, q.messages_processed, q.depth_at_end),
        (240.0, 240.0, 0.0)
    );
    // Accurate assumes the queue length leaves out running Jobs' messages: at 360 s,
    // maxScale 12 + running 6 − pending 0 ≤ 20, so maxScale − pending = 12 new Jobs — with SQS
    // counting in-flight messages that over-creates (the surplus find the queue empty and exit).
    let accurate = run(&SCALED_JOB.replace("STRATEGY", "  scalingStrategy: {strategy: accurate}\n"));
    assert_eq!(
        (accurate.keda[1].time_s, accurate.keda[1].to - accurate.keda[1].from),
        (360.0, 12)
    );
    assert!(accurate.summary.keda[0].jobs_created.unwrap() > 240);
    // Eager: min(maxReplicaCount − running − pending, maxScale) = min(20, 6) at 330 s.
    let eager = run(&SCALED_JOB.replace("STRATEGY", "  scalingStrategy: {strategy: eager}\n"));
    assert_eq!(eager.keda[0].to, 6);
    let bad = SCALED_JOB.replace("STRATEGY", "  scalingStrategy: {strategy: greedy}\n");
    let e = load_str("sj.yaml", &bad, None, &[]).unwrap_err().to_string();
    assert!(e.contains("spec.scalingStrategy.strategy"), "{e}");
}
