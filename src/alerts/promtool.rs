//! The cross-check against real Prometheus: a `promtool test rules` file with the series the run
//! exposed and the alerts capsim found firing, so Prometheus' own rule engine confirms (or
//! refutes) every firing at every evaluation step.
//!
//! `capsim run --promtool-test` writes `promtool/rules.yaml` (the scenario's rule groups,
//! annotations left out: the check is about firing) and `promtool/test.yaml`; run
//! `promtool test rules promtool/test.yaml` in the output directory.

use super::series::{Labels, SeriesSet};
use super::{AlertRun, RuleGroup};
use std::fmt::Write;

/// A float as Go's `strconv.ParseFloat` reads it back exactly.
fn go_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x == f64::INFINITY {
        "+Inf".into()
    } else if x == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{x:?}")
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn selector(l: &Labels) -> String {
    let name = l.get("__name__").cloned().unwrap_or_default();
    let rest: Vec<String> = l
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={}", quoted(v)))
        .collect();
    format!("{name}{{{}}}", rest.join(", "))
}

/// `rules.yaml`: the groups as Prometheus reads them.
pub fn rules_file(groups: &[RuleGroup]) -> String {
    let mut out = String::from("groups:\n");
    for g in groups {
        let _ = writeln!(out, "  - name: {}", quoted(&g.name));
        let _ = writeln!(out, "    interval: {}ms", g.interval.as_millis());
        let _ = writeln!(out, "    rules:");
        for r in &g.rules {
            let key = if r.alert { "alert" } else { "record" };
            let _ = writeln!(out, "      - {key}: {}", quoted(&r.name));
            let _ = writeln!(out, "        expr: {}", quoted(&r.expr_text));
            if r.alert && !r.for_.is_zero() {
                let _ = writeln!(out, "        for: {}ms", r.for_.as_millis());
            }
            if !r.labels.is_empty() {
                let _ = writeln!(out, "        labels:");
                for (k, v) in &r.labels {
                    let _ = writeln!(out, "          {}: {}", quoted(k), quoted(v));
                }
            }
        }
    }
    out
}

/// `test.yaml`: the input series sampled at `scrape_ms` and, for every alert, the firing set at
/// every evaluation, up to `max_checks` per alert (the steps where it changes, and the step
/// before each change, first when there are more).
pub fn test_file(set: &SeriesSet, run: &AlertRun, scrape_ms: u64, groups: &[RuleGroup], max_checks: usize) -> String {
    let mut out = String::new();
    let eval = groups.first().map_or(60_000, |g| g.interval.as_millis());
    let _ = writeln!(out, "rule_files: [rules.yaml]");
    let _ = writeln!(out, "evaluation_interval: {eval}ms");
    let _ = writeln!(out, "tests:");
    let _ = writeln!(out, "  - interval: {scrape_ms}ms");
    let _ = writeln!(out, "    input_series:");
    let recorded = super::recorded_names(groups);
    for s in &set.series {
        let name = s.labels.get("__name__").map_or("", String::as_str);
        if recorded.contains(&name) {
            continue;
        }
        let mut values = Vec::with_capacity(set.scrapes.len());
        let mut k = 0;
        for &t in &set.scrapes {
            while k < s.points.len() && s.points[k].0 < t {
                k += 1;
            }
            match s.points.get(k) {
                Some(&(pt, v)) if pt == t => values.push(v.map_or("stale".into(), go_float)),
                _ => values.push("_".into()),
            }
        }
        let _ = writeln!(out, "      - series: {}", quoted(&selector(&s.labels)));
        let _ = writeln!(out, "        values: {}", quoted(&values.join(" ")));
    }
    let _ = writeln!(out, "    alert_rule_test:");
    for (_, alert, log) in &run.firing {
        let mut checks: Vec<usize> = Vec::new();
        for i in 0..log.len() {
            let changed = i == 0 || log[i].1 != log[i - 1].1;
            if changed {
                if i > 0 {
                    checks.push(i - 1);
                }
                checks.push(i);
            }
        }
        checks.dedup();
        checks.truncate(max_checks);
        for i in 0..log.len() {
            if checks.len() >= max_checks {
                break;
            }
            if !checks.contains(&i) {
                checks.push(i);
            }
        }
        checks.sort_unstable();
        for i in checks {
            let (t, firing) = &log[i];
            let _ = writeln!(out, "      - eval_time: {t}ms");
            let _ = writeln!(out, "        alertname: {}", quoted(alert));
            if firing.is_empty() {
                let _ = writeln!(out, "        exp_alerts: []");
                continue;
            }
            let _ = writeln!(out, "        exp_alerts:");
            for l in firing {
                let _ = writeln!(out, "          - exp_labels:");
                for (k, v) in l.iter().filter(|(k, _)| *k != "alertname") {
                    let _ = writeln!(out, "              {}: {}", quoted(k), quoted(v));
                }
            }
        }
    }
    out
}
