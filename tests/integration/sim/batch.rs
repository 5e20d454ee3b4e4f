use capsim::model::batch::{BatchArrivals, BatchJob};
use capsim::model::{Resources, WorkloadKind};
use capsim::sim;
use capsim::testkit::*;

#[test]
fn batch_pods_free_their_capacity_when_they_finish() {
    // One m5.large fits one 1500m job at a time: the second waits for the first to finish.
    let mut sc = scenario();
    sc.static_nodes.push(nodes("one", "m5.large", 1));
    let mut w = deployment("jobs", 0, 1500, 512);
    w.kind = WorkloadKind::Batch;
    let job = |at: u64| BatchJob {
        arrival: capsim::engine::SimTime::from_secs(at),
        requests: Resources::new(1500, 512 * MI, 1),
        duration: secs(100),
    };
    w.batch = Some(BatchArrivals::Trace(vec![job(10), job(20)]));
    sc.workloads.push(w);
    let r = sim::run(&sc).unwrap();
    let pods: Vec<_> = r.pods.iter().collect();
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(|p| p.state_at_end == "Succeeded"));
    // First: arrives 10, scheduled 10, pull 1 + start 1 → runs 12..112. Second waits until 112.
    assert_eq!(pods[0].scheduled_s, Some(10.0));
    assert_eq!(pods[1].scheduled_s, Some(112.0));
    let s = &r.summary.workloads[0];
    assert_eq!(s.completed, Some(2));
    // Completion delays: 2 s (1 s pull + 1 s start), and (112 − 20) waiting + 1 s start
    // (the image is cached on the node by then) = 93 s.
    let d = s.completion_delay.as_ref().unwrap();
    assert_eq!(d.max, 93.0);
    assert_eq!(d.p50, 2.0);
}

const JOB_SCENARIO: &str = r#"
apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: jobs}
spec:
  duration: 1h
  nodes: [{name: n, instanceType: m5.large, count: 1}]
  workloads:
    render:
      batch: {trace: jobs.csv}
---
apiVersion: batch/v1
kind: Job
metadata: {name: render}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: r, image: render:1, resources: {requests: {cpu: 500m, memory: 1Gi}}}]
"#;

fn with_trace(csv: &str) -> Result<capsim::scenario::Scenario, capsim::scenario::ScenarioError> {
    let dir = std::env::temp_dir().join(format!("capsim-jobs-{}-{}", std::process::id(), csv.len()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("jobs.csv"), csv).unwrap();
    let r = capsim::scenario::load_str("jobs.yaml", JOB_SCENARIO, Some(&dir), &[]);
    std::fs::remove_dir_all(&dir).ok();
    r
}

#[test]
fn batch_trace_runs_from_a_job_manifest() {
    let sc = with_trace("arrival,cpu,memory,duration\n0,500m,1Gi,10m\n30s,1,512Mi,600\n").unwrap();
    let r = sim::run(&sc).unwrap();
    assert_eq!(r.summary.workloads[0].completed, Some(2));
}

#[test]
fn batch_trace_with_a_malformed_row_names_the_line() {
    let e = with_trace("arrival,cpu,memory,duration\n0,500m,1Gi,10m\n30s,lots,512Mi,600\n").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("jobs.csv: line 3: cpu \"lots\""), "{msg}");
    assert!(msg.contains("spec.workloads.render.batch.trace"), "{msg}");
    let e = with_trace("arrival,cpu,memory\n0,500m,1Gi\n").unwrap_err().to_string();
    assert!(e.contains("missing column \"duration\""), "{e}");
    let e = with_trace("arrival,cpu,memory,duration\n60,1,1Gi,10\n30,1,1Gi,10\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 3: arrival goes back in time"), "{e}");
}

#[test]
fn a_job_without_arrivals_is_an_error() {
    let text = JOB_SCENARIO
        .replace("    render:\n      batch: {trace: jobs.csv}\n", "    {}\n")
        .replace("  workloads:\n    {}\n", "");
    let e = capsim::scenario::load_str("jobs.yaml", &text, None, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("spec.workloads.render.batch"), "{e}");
}
