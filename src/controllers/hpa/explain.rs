//! "HPA dry run": what the controller would decide at each sync for a series of the observed metric.
//!
//! The series gives the metric over time (per ready pod, or the total spread evenly over ready pods) and,
//! optionally, the number of ready pods. Replicas evolve with the decisions: a scale-up adds pods that
//! become Ready after `ready_delay`; a scale-down removes not-ready pods first, then the newest
//! (upstream ReplicaSet order). Each sync builds an [`HpaObservation`] and calls the same
//! [`reconcile`] as the simulation.
//!
//! Value units follow the target: Utilization targets take utilization in percent of the request;
//! AverageValue and Value targets take the target's unit (e.g. requests/s, or cores for cpu).
//! Simplifications: metric samples are the series value at the sync instant (no metrics-server lag), and
//! pods that are not Ready have no sample (as metrics-server has none for a new pod's first scrapes).

use super::config::HpaControllerConfig;
use super::controller::{DecisionReason, HpaState, reconcile};
use super::normalize::LimitingRule;
use super::observation::{
    ConditionStatus, ContainerUsage, HpaObservation, MetricValues, ObservedContainer, ObservedPod, PodMetricSample,
    PodPhase, PodResourceSample, ReadyCondition, ResourceAmounts,
};
use super::replica_calculator::ProposalRule;
use super::spec::{HpaSpec, MetricSpec, MetricTarget};
use crate::engine::{SimDuration, SimTime};
use crate::model::units::parse_duration;
use std::fmt::Write as _;
use std::sync::Arc;

/// Whether series values are per ready pod or a total over all ready pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    PerPod,
    Total,
}

/// One point of the observed metric.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeriesPoint {
    /// Seconds since the start of the series.
    pub time: SimDuration,
    pub value: f64,
    /// Ready pods observed at that time; `None` = let the model track readiness.
    pub ready_pods: Option<i32>,
}

/// A parsed series and the value kind its header implies (`value_per_pod` / `value_total`).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub points: Vec<SeriesPoint>,
    pub kind_from_header: Option<ValueKind>,
}

/// Explain settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExplainOptions {
    /// Replicas at the start (default: `minReplicas`).
    pub initial_replicas: Option<i32>,
    /// Time from pod creation to Ready (default: immediately).
    pub ready_delay: SimDuration,
    pub value_kind: ValueKind,
    /// Which `spec.metrics[i]` the series is (others are dropped).
    pub metric_index: usize,
    /// Treat the HPA as just created (its first recommendation blocks scale-down for a window).
    pub new_hpa: bool,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            initial_replicas: None,
            ready_delay: SimDuration::ZERO,
            value_kind: ValueKind::PerPod,
            metric_index: 0,
            new_hpa: false,
        }
    }
}

/// What the HPA decided at one sync.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplainRow {
    pub time: SimDuration,
    pub current_replicas: i32,
    pub ready_pods: i32,
    /// The series value at this sync.
    pub value: f64,
    /// The metric as the HPA reports it (utilization % or milli-units), when computed.
    pub usage: Option<i64>,
    /// The metric's proposal (prenormalized), when computed.
    pub proposal: Option<i32>,
    pub proposal_rule: Option<ProposalRule>,
    pub stabilized: Option<i32>,
    pub desired_replicas: i32,
    pub reason: DecisionReason,
    pub limiting_rule: Option<LimitingRule>,
    /// The metric error, if the metric could not be evaluated.
    pub error: Option<String>,
}

/// Errors of `hpa explain` inputs.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("series: {0}")]
    Csv(#[from] csv::Error),
    #[error("series line {line}: {message}")]
    Row { line: u64, message: String },
    #[error("series: {0}")]
    Header(String),
    #[error("series is empty")]
    Empty,
    #[error("spec.metrics[{0}] does not exist (the HPA has {1} metrics)")]
    NoSuchMetric(usize, usize),
    #[error("spec.metrics[{0}]: cannot explain a metric of unknown type")]
    UnknownMetric(usize),
    #[error("--replicas must be >= 0, got {0}")]
    BadReplicas(i32),
}

/// Reads `time,value[,ready_pods]`. Time is seconds (`90`, `90.5`) or a Go duration (`90s`); the value
/// column is `value`, `value_per_pod` or `value_total`. Rows must be in time order.
pub fn parse_series(text: &str) -> Result<Series, ExplainError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr.headers()?.clone();
    let col = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&h.to_ascii_lowercase().as_str()))
    };
    let t_col =
        col(&["time", "time_s", "t"]).ok_or_else(|| ExplainError::Header("missing a \"time\" column".into()))?;
    let (v_col, kind) = if let Some(i) = col(&["value_per_pod"]) {
        (i, Some(ValueKind::PerPod))
    } else if let Some(i) = col(&["value_total"]) {
        (i, Some(ValueKind::Total))
    } else {
        let i = col(&["value"]).ok_or_else(|| {
            ExplainError::Header("missing a \"value\" (or value_per_pod / value_total) column".into())
        })?;
        (i, None)
    };
    let r_col = col(&["ready_pods", "ready"]);
    let mut points: Vec<SeriesPoint> = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        let line = rec.position().map_or(0, |p| p.line());
        let err = |message: String| ExplainError::Row { line, message };
        let t = rec.get(t_col).unwrap_or("");
        let time = match t.parse::<f64>() {
            Ok(s) if s.is_finite() && s >= 0.0 => SimDuration::from_secs_f64(s),
            Ok(_) => return Err(err(format!("time must be >= 0 seconds, got {t:?}"))),
            Err(_) => parse_duration(t).map_err(|e| err(format!("time: {e}")))?,
        };
        let v = rec.get(v_col).unwrap_or("");
        let value = v
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| err(format!("value must be a number >= 0, got {v:?}")))?;
        let ready_pods = match r_col.and_then(|i| rec.get(i)).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                s.parse::<i32>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| err(format!("ready_pods must be an integer >= 0, got {s:?}")))?,
            ),
        };
        if points.last().is_some_and(|p| p.time > time) {
            return Err(err("times must be in increasing order".into()));
        }
        points.push(SeriesPoint {
            time,
            value,
            ready_pods,
        });
    }
    if points.is_empty() {
        return Err(ExplainError::Empty);
    }
    Ok(Series {
        points,
        kind_from_header: kind,
    })
}

/// Initial pods started this long before the series, so that no start-up rule applies to them.
const WARM_UP: SimDuration = SimDuration::from_mins(60);
/// Request given to each modeled pod for Utilization targets: 1 core, so usage = percent × 10 m.
const MODEL_REQUEST_MILLI: i64 = 1000;
/// metrics-server window of each sample (its default `--metric-resolution`-based window).
const SAMPLE_WINDOW: SimDuration = SimDuration::from_secs(60);

struct ModelPod {
    created: SimTime,
}

fn milli(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

/// Runs the HPA over the series, one reconcile per sync period from the first point to the last.
pub fn explain(
    spec: &HpaSpec,
    config: &HpaControllerConfig,
    series: &Series,
    opts: &ExplainOptions,
) -> Result<Vec<ExplainRow>, ExplainError> {
    let metric = spec
        .metrics
        .get(opts.metric_index)
        .cloned()
        .ok_or(ExplainError::NoSuchMetric(opts.metric_index, spec.metrics.len()))?;
    if matches!(metric, MetricSpec::Unknown { .. }) {
        return Err(ExplainError::UnknownMetric(opts.metric_index));
    }
    let mut spec = spec.clone();
    spec.metrics = vec![metric.clone()];
    let initial = opts.initial_replicas.unwrap_or(spec.min_replicas.max(1));
    if initial < 0 {
        return Err(ExplainError::BadReplicas(initial));
    }
    let first = series.points.first().ok_or(ExplainError::Empty)?.time;
    let last = series.points.last().ok_or(ExplainError::Empty)?.time;
    let start = SimTime::ZERO + WARM_UP;
    let mut pods: Vec<ModelPod> = (0..initial).map(|_| ModelPod { created: SimTime::ZERO }).collect();
    let mut state = HpaState {
        recommendations: if opts.new_hpa { None } else { Some(Vec::new()) },
        ..HpaState::default()
    };
    let container: Arc<str> = Arc::from("app");
    let mut rows = Vec::new();
    let mut t = first;
    let mut idx = 0usize;
    loop {
        while idx + 1 < series.points.len() && series.points[idx + 1].time <= t {
            idx += 1;
        }
        let point = series.points[idx];
        let now = start + t;
        let is_ready = |p: &ModelPod| p.created + opts.ready_delay <= now;
        let modeled_ready = pods.iter().filter(|p| is_ready(p)).count() as i32;
        let ready = point.ready_pods.map_or(modeled_ready, |r| r.min(pods.len() as i32));
        // The `ready` oldest pods are the Ready ones.
        let mut order: Vec<usize> = (0..pods.len()).collect();
        order.sort_by_key(|&i| (pods[i].created, i));
        let per_pod = match opts.value_kind {
            ValueKind::PerPod => point.value,
            ValueKind::Total if ready > 0 => point.value / f64::from(ready),
            ValueKind::Total => 0.0,
        };
        let total = match opts.value_kind {
            ValueKind::PerPod => point.value * f64::from(ready),
            ValueKind::Total => point.value,
        };
        let mut obs = HpaObservation {
            spec_replicas: pods.len() as i32,
            status_replicas: pods.len() as i32,
            ..HpaObservation::default()
        };
        let resource_usage = |res_per_pod: f64| match metric {
            MetricSpec::Resource {
                target: MetricTarget::Utilization(_),
                ..
            }
            | MetricSpec::ContainerResource {
                target: MetricTarget::Utilization(_),
                ..
            } => (res_per_pod * MODEL_REQUEST_MILLI as f64 / 100.0).round() as i64,
            _ => milli(res_per_pod),
        };
        let mut pod_samples = Vec::new();
        for (rank, &i) in order.iter().enumerate() {
            let p = &pods[i];
            let is_ready_pod = (rank as i32) < ready;
            let ready_at = p.created + opts.ready_delay;
            let requests = ResourceAmounts {
                cpu_milli: Some(MODEL_REQUEST_MILLI),
                memory_milli: Some(MODEL_REQUEST_MILLI),
            };
            obs.pods.push(ObservedPod {
                id: i as u64,
                name: Arc::from(format!("pod-{i}")),
                phase: PodPhase::Running,
                deleting: false,
                start_time: Some(p.created),
                ready: Some(ReadyCondition {
                    status: if is_ready_pod {
                        ConditionStatus::True
                    } else {
                        ConditionStatus::False
                    },
                    last_transition: if is_ready_pod { ready_at.min(now) } else { p.created },
                }),
                containers: vec![ObservedContainer {
                    name: container.clone(),
                    requests,
                }],
                sidecars: Vec::new(),
                pod_requests: ResourceAmounts::NONE,
            });
            if is_ready_pod {
                let u = resource_usage(per_pod);
                obs.resource_metrics.push(PodResourceSample {
                    pod: i as u64,
                    timestamp: now,
                    window: SAMPLE_WINDOW,
                    containers: vec![ContainerUsage {
                        name: container.clone(),
                        usage: ResourceAmounts {
                            cpu_milli: Some(u),
                            memory_milli: Some(u),
                        },
                    }],
                });
                pod_samples.push(PodMetricSample {
                    pod: i as u64,
                    value_milli: milli(per_pod),
                    timestamp: now,
                    window: SAMPLE_WINDOW,
                });
            }
        }
        obs.metric_values = vec![match metric {
            MetricSpec::Pods { .. } => Some(Ok(MetricValues::Pods(pod_samples))),
            MetricSpec::Object { .. } => Some(Ok(MetricValues::Object(milli(total)))),
            MetricSpec::External { .. } => Some(Ok(MetricValues::External(vec![milli(total)]))),
            _ => None,
        }];

        let d = reconcile(&spec, config, &mut state, &obs, now);
        let (usage, proposal_rule, error) = match d.proposals.first().map(|p| &p.result) {
            Some(Ok(p)) => (Some(p.usage), Some(p.rule), None),
            Some(Err(f)) => (None, None, Some(f.message.clone())),
            None => (None, None, None),
        };
        rows.push(ExplainRow {
            time: t,
            current_replicas: d.current_replicas,
            ready_pods: ready,
            value: point.value,
            usage,
            proposal: d.metric_replicas,
            proposal_rule,
            stabilized: d.stabilized_replicas,
            desired_replicas: d.desired_replicas,
            reason: d.reason,
            limiting_rule: d.limiting_rule,
            error,
        });
        if d.scale_updated {
            let desired = usize::try_from(d.desired_replicas.max(0)).unwrap_or(0);
            while pods.len() < desired {
                pods.push(ModelPod { created: now });
            }
            if pods.len() > desired {
                // ReplicaSet deletion order: not-ready first, then the newest.
                let mut idxs: Vec<usize> = (0..pods.len()).collect();
                idxs.sort_by_key(|&i| {
                    (
                        is_ready(&pods[i]),
                        std::cmp::Reverse(pods[i].created),
                        std::cmp::Reverse(i),
                    )
                });
                let mut remove: Vec<usize> = idxs.into_iter().take(pods.len() - desired).collect();
                remove.sort_unstable_by(|a, b| b.cmp(a));
                for i in remove {
                    pods.remove(i);
                }
            }
        }
        if t >= last {
            break;
        }
        t = SimDuration(t.0 + config.sync_period.0.max(1));
        if t > last {
            break;
        }
    }
    Ok(rows)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |x| x.to_string())
}

fn fmt_value(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Writes the rows as CSV (one row per sync).
pub fn write_csv<W: std::io::Write>(rows: &[ExplainRow], w: W) -> Result<(), csv::Error> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record([
        "time_s",
        "current_replicas",
        "ready_pods",
        "value",
        "usage",
        "proposal",
        "proposal_rule",
        "stabilized",
        "desired_replicas",
        "reason",
        "limiting_rule",
        "error",
    ])?;
    for r in rows {
        out.write_record([
            fmt_value(r.time.as_secs_f64()),
            r.current_replicas.to_string(),
            r.ready_pods.to_string(),
            fmt_value(r.value),
            r.usage.map_or(String::new(), |u| u.to_string()),
            r.proposal.map_or(String::new(), |u| u.to_string()),
            r.proposal_rule.map_or(String::new(), |u| u.to_string()),
            r.stabilized.map_or(String::new(), |u| u.to_string()),
            r.desired_replicas.to_string(),
            r.reason.to_string(),
            r.limiting_rule.map_or(String::new(), |u| u.to_string()),
            r.error.clone().unwrap_or_default(),
        ])?;
    }
    out.flush()?;
    Ok(())
}

fn clock(d: SimDuration) -> String {
    let s = d.0 / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// A table for a person: one line per sync; with `changes_only`, only syncs where the replicas change
/// or the reason differs from the previous sync.
pub fn render_table(rows: &[ExplainRow], changes_only: bool) -> String {
    let header = [
        "time",
        "current",
        "ready",
        "value",
        "usage",
        "proposal",
        "desired",
        "",
        "reason",
        "limiting rule",
    ];
    let mut lines: Vec<[String; 10]> = Vec::new();
    let mut prev: Option<&ExplainRow> = None;
    for r in rows {
        let changed = r.desired_replicas != r.current_replicas;
        let keep = !changes_only || changed || prev.is_none_or(|p| p.reason != r.reason);
        prev = Some(r);
        if !keep {
            continue;
        }
        let arrow = match r.desired_replicas.cmp(&r.current_replicas) {
            std::cmp::Ordering::Greater => "▲",
            std::cmp::Ordering::Less => "▼",
            std::cmp::Ordering::Equal => "",
        };
        let rule = match (&r.limiting_rule, &r.error) {
            (Some(l), _) => l.to_string(),
            (None, Some(e)) => e.clone(),
            (None, None) => String::new(),
        };
        lines.push([
            clock(r.time),
            r.current_replicas.to_string(),
            r.ready_pods.to_string(),
            fmt_value(r.value),
            opt(r.usage),
            opt(r.proposal),
            r.desired_replicas.to_string(),
            arrow.to_string(),
            r.reason.to_string(),
            rule,
        ]);
    }
    let mut widths = header.map(|h| h.chars().count());
    for l in &lines {
        for (w, c) in widths.iter_mut().zip(l.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let row = |out: &mut String, cells: &[String]| {
        let mut line = String::new();
        for (i, (c, w)) in cells.iter().zip(widths.iter()).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            // numbers right-aligned, text left-aligned
            if (1..=6).contains(&i) {
                let _ = write!(line, "{}{}  ", " ".repeat(pad), c);
            } else {
                let _ = write!(line, "{}{}  ", c, " ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    row(&mut out, &header.map(str::to_string));
    for l in &lines {
        row(&mut out, l);
    }
    out
}
