//! SLO alerts: `monitoring.coreos.com/v1 PrometheusRule` documents evaluated over the series the
//! run exposes ([`series`]), as Prometheus' rule manager evaluates them (rules/manager.go,
//! rules/alerting.go): every group at its `interval` (default 1 m, Prometheus'
//! `evaluation_interval`), rules in order, recording rules writing series later rules read,
//! alerts pending while their expression returns a series and firing once it has for `for:`.
//!
//! Which alerts page: those labelled `severity: critical` or `severity: page`, and those with no
//! `severity` at all (Alertmanager's default route); `warning`, `info` and other severities
//! are counted as alerts but not as pages.

pub mod eval;
pub mod promtool;
pub mod series;

use crate::engine::SimDuration;
use crate::scenario::ErrorKind;
use crate::scenario::ScenarioError;
use crate::scenario::raw::RawDocument;
use promql_parser::parser::Expr;
use serde::Serialize;
use series::{Labels, SeriesSet};
use std::collections::BTreeMap;

/// Prometheus' `global.evaluation_interval` default (config/config.go `DefaultGlobalConfig`).
pub const DEFAULT_EVALUATION_INTERVAL: SimDuration = SimDuration::from_mins(1);

/// One rule of a group.
#[derive(Clone, Debug)]
pub struct Rule {
    /// `alert:` (true) or `record:` (false).
    pub alert: bool,
    pub name: String,
    pub expr_text: String,
    pub expr: Expr,
    pub for_: SimDuration,
    pub labels: BTreeMap<String, String>,
}

impl Rule {
    /// Whether this alert pages on-call (module docs).
    pub fn pages(&self) -> bool {
        self.alert
            && self
                .labels
                .get("severity")
                .is_none_or(|s| matches!(s.to_ascii_lowercase().as_str(), "critical" | "page"))
    }
}

/// A rule group.
#[derive(Clone, Debug)]
pub struct RuleGroup {
    pub name: String,
    pub interval: SimDuration,
    pub rules: Vec<Rule>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRules {
    spec: RawSpec,
}

#[derive(serde::Deserialize)]
struct RawSpec {
    #[serde(default)]
    groups: Vec<RawGroup>,
}

#[derive(serde::Deserialize)]
struct RawGroup {
    name: String,
    interval: Option<String>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(serde::Deserialize)]
struct RawRule {
    alert: Option<String>,
    record: Option<String>,
    expr: serde_json::Value,
    #[serde(rename = "for")]
    for_: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// The rule groups of one PrometheusRule document. Rules whose expression uses a construct the
/// evaluator does not support, or reads no series capsim exposes, are named in a warning and
/// left out; a malformed document is an error naming its field.
pub fn rule_groups(doc: &RawDocument, warnings: &mut Vec<String>) -> Result<Vec<RuleGroup>, ScenarioError> {
    let raw: RawRules = serde_path_to_error::deserialize(&doc.value)
        .map_err(|e| doc.error(ErrorKind::Schema, e.path().to_string(), e.inner().to_string()))?;
    let duration = |path: &str, s: &str| {
        crate::model::units::parse_duration(s).map_err(|e| {
            doc.error(
                ErrorKind::Invalid,
                path,
                crate::scenario::schema::unit_error(s, &e, crate::scenario::schema::DURATION_EXAMPLES),
            )
        })
    };
    let mut out = Vec::new();
    for (gi, g) in raw.spec.groups.iter().enumerate() {
        let gpath = format!("spec.groups[{gi}]");
        let interval = match &g.interval {
            Some(s) => duration(&format!("{gpath}.interval"), s)?,
            None => DEFAULT_EVALUATION_INTERVAL,
        };
        if interval.is_zero() {
            return Err(doc.error(ErrorKind::Invalid, format!("{gpath}.interval"), "must be > 0"));
        }
        let mut rules = Vec::new();
        for (ri, r) in g.rules.iter().enumerate() {
            let path = format!("{gpath}.rules[{ri}]");
            let (alert, name) = match (&r.alert, &r.record) {
                (Some(a), None) => (true, a.clone()),
                (None, Some(rec)) => (false, rec.clone()),
                _ => {
                    return Err(doc.error(ErrorKind::Invalid, path, "a rule has exactly one of alert or record"));
                }
            };
            let expr_text = match &r.expr {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err(doc.error(ErrorKind::Schema, format!("{path}.expr"), "expected a PromQL string")),
            };
            let expr = promql_parser::parser::parse(&expr_text).map_err(|e| {
                doc.error(
                    ErrorKind::Invalid,
                    format!("{path}.expr"),
                    format!("{name}: {}", e.trim()),
                )
            })?;
            let for_ = match &r.for_ {
                Some(s) => duration(&format!("{path}.for"), s)?,
                None => SimDuration::ZERO,
            };
            let what = if alert { "alert" } else { "recording rule" };
            let where_ = format!("{}: document {} ({})", doc.file, doc.index, doc.object());
            if let Some(u) = eval::unsupported(&expr) {
                warnings.push(format!(
                    "{}: {path}.expr: {what} {name} is not evaluated: capsim's PromQL evaluator does not support {u}",
                    where_
                ));
                continue;
            }
            if r.labels.values().any(|v| v.contains("{{")) {
                warnings.push(format!(
                    "{}: {path}.labels: {what} {name}: label templates are kept as written, not expanded",
                    where_
                ));
            }
            rules.push(Rule {
                alert,
                name,
                expr_text,
                expr,
                for_,
                labels: r.labels.clone(),
            });
        }
        out.push(RuleGroup {
            name: g.name.clone(),
            interval,
            rules,
        });
    }
    Ok(out)
}

/// The series names the groups' recording rules write.
pub fn recorded_names(groups: &[RuleGroup]) -> Vec<&str> {
    groups
        .iter()
        .flat_map(|g| &g.rules)
        .filter(|r| !r.alert)
        .map(|r| r.name.as_str())
        .collect()
}

/// Warns about rules that read series nothing produces (capsim's families or earlier
/// recording rules): they can never return anything here.
pub fn unknown_series_warnings(groups: &[RuleGroup]) -> Vec<String> {
    let recorded = recorded_names(groups);
    let mut out = Vec::new();
    for r in groups.iter().flat_map(|g| &g.rules) {
        let mut names = Vec::new();
        eval::metric_names(&r.expr, &mut names);
        for n in names {
            if !series::FAMILIES.contains(&n.as_str()) && !recorded.contains(&n.as_str()) {
                out.push(format!(
                    "PrometheusRule: {} {}: reads {n}, which capsim does not simulate (it exposes {}): it never returns a series here",
                    if r.alert { "alert" } else { "recording rule" },
                    r.name,
                    series::FAMILIES.join(", ")
                ));
            }
        }
    }
    out
}

/// The families the rules read.
pub fn wanted_families(groups: &[RuleGroup]) -> std::collections::BTreeSet<String> {
    let mut names = Vec::new();
    for r in groups.iter().flat_map(|g| &g.rules) {
        eval::metric_names(&r.expr, &mut names);
    }
    names
        .into_iter()
        .filter(|n| series::FAMILIES.contains(&n.as_str()))
        .collect()
}

/// What one alert did over the run.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct AlertSummary {
    pub alert: String,
    pub group: String,
    /// Whether it pages on-call (module docs).
    pub pages: bool,
    /// Times it started firing (any of its series, from none firing).
    pub fired: u32,
    pub first_firing_s: Option<f64>,
    /// Seconds with at least one series firing (evaluation steps × interval).
    pub firing_seconds: f64,
}

/// One state change of one alert series, for `alerts.csv`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertEvent {
    pub time_s: f64,
    pub alert: String,
    /// `pending`, `firing` or `resolved`.
    pub state: &'static str,
    /// The alert's labels, `k=v` joined by `,`.
    pub labels: String,
}

/// Per evaluation instant (ms): the labels of the series firing then.
pub type FiringLog = Vec<(u64, Vec<Labels>)>;

/// The alerts of a run, and the firing sets at each evaluation (for the promtool cross-check).
#[derive(Clone, Debug, Default)]
pub struct AlertRun {
    pub summaries: Vec<AlertSummary>,
    pub events: Vec<AlertEvent>,
    /// Per alert rule (group, rule index): (eval time ms, labels of the firing series).
    pub firing: Vec<(String, String, FiringLog)>,
    /// Evaluation errors (a rule's expression failed at some instant), named once per rule.
    pub errors: Vec<String>,
}

impl AlertRun {
    /// Firing transitions of alerts that page.
    pub fn pages(&self) -> u32 {
        self.summaries.iter().filter(|a| a.pages).map(|a| a.fired).sum()
    }
}

fn label_string(l: &Labels) -> String {
    l.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// Evaluates every group over the run's series from t = 0 to `end_ms` (recording rules add
/// their series to `set`).
pub fn evaluate(groups: &[RuleGroup], set: &mut SeriesSet, end_ms: u64) -> AlertRun {
    let mut run = AlertRun::default();
    for g in groups {
        let step = g.interval.as_millis();
        // Per alert rule: active series → active since (ms).
        let mut active: Vec<BTreeMap<Labels, u64>> = vec![BTreeMap::new(); g.rules.len()];
        let mut firing_any = vec![false; g.rules.len()];
        let mut summaries: Vec<AlertSummary> = g
            .rules
            .iter()
            .map(|r| AlertSummary {
                alert: r.name.clone(),
                group: g.name.clone(),
                pages: r.pages(),
                ..Default::default()
            })
            .collect();
        let mut firing_log: Vec<Vec<(u64, Vec<Labels>)>> = vec![Vec::new(); g.rules.len()];
        let mut failed = vec![false; g.rules.len()];
        let mut t = 0u64;
        while t <= end_ms {
            for (ri, r) in g.rules.iter().enumerate() {
                let v = match eval::eval(&r.expr, set, t) {
                    Ok(eval::Value::Vector(v)) => v,
                    Ok(eval::Value::Scalar(x)) => vec![eval::Sample {
                        labels: Labels::new(),
                        value: x,
                    }],
                    Err(e) => {
                        if !failed[ri] {
                            failed[ri] = true;
                            run.errors
                                .push(format!("{} {}: {e}", if r.alert { "alert" } else { "record" }, r.name));
                        }
                        Vec::new()
                    }
                };
                if !r.alert {
                    for s in v {
                        let mut l = s.labels;
                        l.insert("__name__".into(), r.name.clone());
                        for (k, val) in &r.labels {
                            l.insert(k.clone(), val.clone());
                        }
                        set.push(l, t, s.value);
                    }
                    // Series this rule no longer returns go stale.
                    let name = r.name.clone();
                    let idx: Vec<usize> = set.by_name(Some(&name)).collect();
                    for i in idx {
                        let s = &mut set.series[i];
                        if let Some(&(last, Some(_))) = s.points.last()
                            && last < t
                        {
                            s.points.push((t, None));
                        }
                    }
                    continue;
                }
                let mut now_active: BTreeMap<Labels, u64> = BTreeMap::new();
                for s in v {
                    let mut l = s.labels;
                    l.remove("__name__");
                    for (k, val) in &r.labels {
                        l.insert(k.clone(), val.clone());
                    }
                    l.insert("alertname".into(), r.name.clone());
                    let since = active[ri].get(&l).copied().unwrap_or(t);
                    now_active.insert(l, since);
                }
                let for_ms = r.for_.as_millis();
                let firing: Vec<Labels> = now_active
                    .iter()
                    .filter(|(_, since)| t - **since >= for_ms)
                    .map(|(l, _)| l.clone())
                    .collect();
                for (l, since) in &now_active {
                    let was = active[ri].get(l);
                    let fire_now = t - *since >= for_ms;
                    let fired_before = was.is_some_and(|s| t.saturating_sub(step) >= *s + for_ms);
                    if was.is_none() && !fire_now {
                        run.events.push(AlertEvent {
                            time_s: t as f64 / 1000.0,
                            alert: r.name.clone(),
                            state: "pending",
                            labels: label_string(l),
                        });
                    }
                    if fire_now && !fired_before {
                        run.events.push(AlertEvent {
                            time_s: t as f64 / 1000.0,
                            alert: r.name.clone(),
                            state: "firing",
                            labels: label_string(l),
                        });
                    }
                }
                for l in active[ri].keys() {
                    if !now_active.contains_key(l) {
                        run.events.push(AlertEvent {
                            time_s: t as f64 / 1000.0,
                            alert: r.name.clone(),
                            state: "resolved",
                            labels: label_string(l),
                        });
                    }
                }
                let sum = &mut summaries[ri];
                if !firing.is_empty() {
                    if !firing_any[ri] {
                        sum.fired += 1;
                        sum.first_firing_s.get_or_insert(t as f64 / 1000.0);
                    }
                    if t + step <= end_ms {
                        sum.firing_seconds += step as f64 / 1000.0;
                    } else {
                        sum.firing_seconds += (end_ms - t) as f64 / 1000.0;
                    }
                }
                firing_any[ri] = !firing.is_empty();
                firing_log[ri].push((t, firing));
                active[ri] = now_active;
            }
            t += step;
        }
        for (ri, r) in g.rules.iter().enumerate() {
            if r.alert {
                run.summaries.push(summaries[ri].clone());
                run.firing
                    .push((g.name.clone(), r.name.clone(), std::mem::take(&mut firing_log[ri])));
            }
        }
    }
    run
}
