//! `capsim vpa recommend`: the recommender dry run over a usage CSV, end to end.

use std::process::Command;

const VPA: &str = "apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata: {name: api}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  resourcePolicy:
    containerPolicies:
      - {containerName: '*', minAllowed: {cpu: 100m}, maxAllowed: {cpu: 300m, memory: 1Gi}}
      - {containerName: sidecar, mode: 'Off'}
";

fn run(dir: &std::path::Path, usage: &str) -> std::process::Output {
    std::fs::write(dir.join("vpa.yaml"), VPA).unwrap();
    std::fs::write(dir.join("usage.csv"), usage).unwrap();
    Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["vpa", "recommend"])
        .arg(dir.join("vpa.yaml"))
        .arg(dir.join("usage.csv"))
        .output()
        .unwrap()
}

#[test]
fn recommends_per_loop_caps_and_skips_off_containers() {
    let dir = tempfile_dir("vpa-rec");
    // Two pods, 500m of CPU and 200Mi each minute for 10 minutes; a sidecar under mode Off.
    let mut usage = String::from("time,pod,container,cpu,memory\n");
    for m in 0..10 {
        for p in ["a", "b"] {
            usage.push_str(&format!("{}s,{p},app,500m,200Mi\n", m * 60));
            usage.push_str(&format!("{}s,{p},sidecar,10m,20Mi\n", m * 60));
        }
    }
    let out = run(&dir, &usage);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "time,container,resource,lower_bound,target,upper_bound,uncapped_target"
    );
    // Loops at 60 s … 540 s (the last sample's time), two rows each, none for the sidecar.
    assert_eq!(rows.len(), 1 + 9 * 2);
    assert!(rows.iter().all(|r| !r.contains("sidecar")));
    // CPU: 500m × 1.15 and the histogram's bucket rounding is above maxAllowed 300m: capped,
    // and the uncapped target says by how much.
    let cpu: Vec<&str> = rows[rows.len() - 2].split(',').collect();
    assert_eq!(cpu[1..3], ["app", "cpu"]);
    assert_eq!(cpu[4], "300m");
    let uncapped: i64 = cpu[6].trim_end_matches('m').parse().unwrap();
    assert!((575..=610).contains(&uncapped), "{uncapped}");
    // Memory: the per-pod minimum is 250Mi split over the two containers seen (125Mi each);
    // 200Mi × 1.15 = 230Mi is above it.
    let mem: Vec<&str> = rows[rows.len() - 1].split(',').collect();
    let target: f64 = mem[4].parse().unwrap();
    assert!(
        (230.0 * 1048576.0..230.0 * 1048576.0 * 1.06).contains(&target),
        "{target}"
    );
}

#[test]
fn bad_usage_is_a_clear_error() {
    let dir = tempfile_dir("vpa-bad");
    let out = run(&dir, "time,pod,container,cpu,memory\n0,a,app,lots,1Gi\n");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("cpu"), "{err}");
    let out = run(&dir, "time,pod,container,cpu,memory\n1733300000000,a,app,1,1Gi\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("milliseconds"));
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
