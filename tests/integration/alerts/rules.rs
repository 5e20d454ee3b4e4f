//! Rules as capsim reads and evaluates them.

use capsim::alerts::series::{SeriesSet, labels};
use capsim::alerts::{self, eval};

/// A counter rising by `per_step` every 10 s.
fn counter(set: &mut SeriesSet, name: &str, pairs: &[(&str, &str)], per_step: &dyn Fn(u64) -> f64, steps: u64) {
    let mut v = 0.0;
    for k in 0..steps {
        v += per_step(k);
        set.push(labels(name, pairs), k * 10_000, v);
    }
}

fn value(expr: &str, set: &SeriesSet, t: u64) -> Vec<(String, f64)> {
    let e = promql_parser::parser::parse(expr).unwrap();
    match eval::eval(&e, set, t).unwrap() {
        eval::Value::Vector(v) => v
            .into_iter()
            .map(|s| (s.labels.get("code").cloned().unwrap_or_default(), s.value))
            .collect(),
        eval::Value::Scalar(x) => vec![(String::new(), x)],
    }
}

#[test]
fn rate_of_a_steady_counter_is_its_slope() {
    let mut set = SeriesSet::default();
    counter(&mut set, "http_requests_total", &[("code", "200")], &|_| 100.0, 100);
    let v = value("rate(http_requests_total[5m])", &set, 600_000);
    assert_eq!(v.len(), 1);
    assert!((v[0].1 - 10.0).abs() < 1e-9, "{v:?}");
    let inc = value("increase(http_requests_total[1m])", &set, 600_000);
    assert!((inc[0].1 - 600.0).abs() < 1e-9, "{inc:?}");
}

#[test]
fn ratios_comparisons_and_aggregations() {
    let mut set = SeriesSet::default();
    counter(
        &mut set,
        "http_requests_total",
        &[("code", "200"), ("job", "a")],
        &|_| 90.0,
        60,
    );
    counter(
        &mut set,
        "http_requests_total",
        &[("code", "503"), ("job", "a")],
        &|_| 10.0,
        60,
    );
    let ratio =
        "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) / sum by (job) (rate(http_requests_total[5m]))";
    let v = value(ratio, &set, 500_000);
    assert!((v[0].1 - 0.1).abs() < 1e-9, "{v:?}");
    assert_eq!(value(&format!("{ratio} > 0.2"), &set, 500_000).len(), 0);
    assert_eq!(value(&format!("{ratio} > bool 0.2"), &set, 500_000)[0].1, 0.0);
    assert_eq!(value("count(http_requests_total)", &set, 500_000)[0].1, 2.0);
}

#[test]
fn histogram_quantile_interpolates_within_a_bucket() {
    let mut set = SeriesSet::default();
    // 100 observations/step: 50 below 0.1 s, 40 in (0.1, 0.5], 10 in (0.5, +Inf).
    for (le, n) in [("0.1", 50.0), ("0.5", 90.0), ("+Inf", 100.0)] {
        counter(&mut set, "d_bucket", &[("le", le)], &|_| n, 60);
    }
    let v = value("histogram_quantile(0.7, rate(d_bucket[5m]))", &set, 500_000);
    // rank 70 of 100: 20 of the 40 in (0.1, 0.5] → 0.1 + 0.4 × 0.5.
    assert!((v[0].1 - 0.3).abs() < 1e-9, "{v:?}");
}

#[test]
fn unsupported_constructs_are_named_and_the_rule_left_out() {
    let doc = r#"apiVersion: capsim/v1alpha1
kind: Scenario
metadata: {name: r}
spec:
  duration: 10m
  nodes: [{instanceType: m5.large}]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: r}
spec:
  groups:
    - name: g
      rules:
        - alert: Sub
          expr: max_over_time(rate(http_requests_total[5m])[30m:1m]) > 1
        - alert: Offset
          expr: rate(http_requests_total[5m] offset 1h) > 1
        - alert: NodeDown
          expr: up{job="node-exporter"} == 0
        - alert: Ok
          expr: sum(rate(http_requests_total[5m])) > 1
"#;
    let sc = capsim::scenario::load_str("rules.yaml", doc, None, &[]).unwrap();
    let w = sc.warnings.join("\n");
    assert!(w.contains("Sub") && w.contains("max_over_time"), "{w}");
    assert!(w.contains("Offset") && w.contains("offset"), "{w}");
    assert!(w.contains("spec.groups[0].rules[0].expr"), "{w}");
    assert!(w.contains("up") && w.contains("does not simulate"), "{w}");
    let names: Vec<&str> = sc.rule_groups[0].rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["NodeDown", "Ok"]);
    // A PromQL syntax error is an error naming the field.
    let bad = doc.replace(
        "sum(rate(http_requests_total[5m])) > 1",
        "sum(rate(http_requests_total[5m]) > 1",
    );
    let e = capsim::scenario::load_str("rules.yaml", &bad, None, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("spec.groups[0].rules[3].expr") && e.contains("Ok"), "{e}");
}

#[test]
fn for_holds_an_alert_pending_then_fires_and_resolves() {
    let mut set = SeriesSet::default();
    // The counter rises fast between 10 and 30 minutes.
    counter(
        &mut set,
        "c",
        &[],
        &|k| if (60..180).contains(&k) { 100.0 } else { 1.0 },
        360,
    );
    let doc: Vec<alerts::RuleGroup> = vec![alerts::RuleGroup {
        name: "g".into(),
        interval: capsim::engine::SimDuration::from_mins(1),
        rules: vec![alerts::Rule {
            alert: true,
            name: "Fast".into(),
            expr_text: "rate(c[5m]) > 5".into(),
            expr: promql_parser::parser::parse("rate(c[5m]) > 5").unwrap(),
            for_: capsim::engine::SimDuration::from_mins(5),
            labels: [("severity".to_string(), "page".to_string())].into(),
        }],
    }];
    let run = alerts::evaluate(&doc, &mut set, 3_600_000);
    let a = &run.summaries[0];
    assert_eq!(a.fired, 1);
    assert!(a.pages);
    let first = a.first_firing_s.unwrap();
    // Pending from 780 s (the 5-minute rate passes 5 then), firing 5 minutes later.
    assert_eq!(first, 1080.0);
    assert!(a.firing_seconds > 600.0 && a.firing_seconds < 1500.0, "{a:?}");
    assert_eq!(run.pages(), 1);
}
