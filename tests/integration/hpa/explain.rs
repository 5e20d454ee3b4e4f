//! `capsim hpa explain` and `capsim hpa eval` end to end (library entry points the binary calls).

use capsim::cli::hpa::{EvalArgs, ExplainArgs, HpaArgs, HpaCommand, HpaOutcome, run};
use capsim::controllers::hpa::explain::{ValueKind, parse_series};
use std::path::PathBuf;

fn temp(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("capsim-hpa-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

const HPA: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\napiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Pods
    pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: \"100\"}}
  behavior:
    scaleUp: {policies: [{type: Pods, value: 2, periodSeconds: 60}]}
";

fn explain_args(hpa: PathBuf, series: PathBuf, output: Option<PathBuf>) -> HpaArgs {
    HpaArgs {
        command: HpaCommand::Explain(ExplainArgs {
            hpa,
            series,
            output,
            replicas: None,
            value: None,
            ready_delay: "0s".into(),
            metric: 0,
            new_hpa: false,
            changes_only: false,
            kcm_flags: vec![],
        }),
    }
}

#[test]
fn parse_series_forms_and_errors() {
    let s = parse_series("time,value_total,ready_pods\n0,100,2\n30s,250,\n60,250,3\n").unwrap();
    assert_eq!(s.kind_from_header, Some(ValueKind::Total));
    assert_eq!(s.points.len(), 3);
    assert_eq!(s.points[1].time.0, 30_000);
    assert_eq!(s.points[1].ready_pods, None);
    for (bad, want) in [
        ("when,value\n1,2\n", "missing a \"time\" column"),
        ("time,value\n0,abc\n", "line 2: value must be a number"),
        ("time,value\n10,1\n5,1\n", "increasing order"),
        ("time,value\n", "empty"),
        ("time,value,ready_pods\n0,1,-1\n", "ready_pods must be an integer"),
    ] {
        let e = parse_series(bad).unwrap_err().to_string();
        assert!(e.contains(want), "{bad:?}: {e}");
    }
}

#[test]
fn explain_prints_a_table_and_writes_csv() {
    // 2 pods; total demand 500 req/s for 100 per pod wants 5 pods; the Pods 2/60 s policy allows +2 per
    // minute: 2 -> 4 at t=0, held until t=60, then 4 -> 5 (proposal ceil(125/100 x 4) = 5).
    let hpa = temp("hpa.yaml", HPA);
    let series = temp("series.csv", "time,value_total\n0,500\n90,500\n");
    let out_csv = std::env::temp_dir().join(format!("capsim-hpa-explain-{}/out.csv", std::process::id()));
    let mut out = Vec::new();
    let outcome = run(&explain_args(hpa, series, Some(out_csv.clone())), &mut out).unwrap();
    assert_eq!(outcome, HpaOutcome::Success);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("HPA web -> Deployment web (min 2, max 10, behavior)"),
        "{text}"
    );
    assert!(text.contains("ScaleUpLimit"), "{text}");
    assert!(text.contains("scaleUp Pods 2/60s -> 4"), "{text}");
    let csv = std::fs::read_to_string(&out_csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "time_s,current_replicas,ready_pods,value,usage,proposal,proposal_rule,stabilized,desired_replicas,reason,limiting_rule,error"
    );
    // syncs at 0, 15, ..., 90
    assert_eq!(lines.len(), 1 + 7);
    assert!(lines[1].starts_with("0,2,2,500,250000,5,"), "{}", lines[1]);
    assert!(
        lines[1].ends_with(",5,4,ScaleUpLimit,scaleUp Pods 2/60s -> 4,"),
        "{}",
        lines[1]
    );
    assert!(lines[5].starts_with("60,4,4,500,125000,5,"), "{}", lines[5]);
    assert!(lines[5].contains(",5,DesiredWithinRange,"), "{}", lines[5]);
}

#[test]
fn explain_rejects_bad_input_with_the_field() {
    let hpa = temp("bad-hpa.yaml", &HPA.replace("maxReplicas: 10", "maxReplicas: 1"));
    let series = temp("ok-series.csv", "time,value\n0,1\n");
    let err = run(&explain_args(hpa, series, None), &mut Vec::new()).unwrap_err();
    assert!(
        format!("{err:#}").contains("spec.maxReplicas: must be greater than or equal to `minReplicas` (2), got 1"),
        "{err:#}"
    );
    let hpa = temp("no-hpa.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n");
    let series = temp("ok-series2.csv", "time,value\n0,1\n");
    let err = run(&explain_args(hpa, series, None), &mut Vec::new()).unwrap_err();
    assert!(
        format!("{err:#}").contains("no HorizontalPodAutoscaler document"),
        "{err:#}"
    );
}

#[test]
fn eval_reports_every_vector_and_the_summary_last() {
    let args = HpaArgs {
        command: HpaCommand::Eval(EvalArgs {
            file: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/hpa-vectors.json")),
        }),
    };
    let mut out = Vec::new();
    assert_eq!(run(&args, &mut out).unwrap(), HpaOutcome::Success);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 145);
    assert_eq!(*lines.last().unwrap(), "144 passed, 0 failed");
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["pass"], true);
    assert!(first["actual"].is_object());

    let missing = HpaArgs {
        command: HpaCommand::Eval(EvalArgs {
            file: PathBuf::from("/nonexistent/vectors.json"),
        }),
    };
    assert!(run(&missing, &mut Vec::new()).is_err());
}
