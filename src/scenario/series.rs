//! Named metric series (`spec.series`): the values an HPA's Pods/Object/External metric or a
//! KEDA trigger reads by name — a shape like traffic's (`base`/`replay`, `shape`, `noise`), or a
//! measure of a queue worker's queue (`queue: NAME, measure: depth | oldestAge | arrivals |
//! processed`), or a PromQL query over the series capsim exposes (`query: ...`, as
//! prometheus-adapter or KEDA's prometheus scaler would run it against Prometheus).
//!
//! ```yaml
//! spec:
//!   series:
//!     orders_backlog: {queue: orders, measure: depth}
//!     partner_lag: {base: 200, shape: [{step: {at: 1h, factor: 5}}]}
//!     web_rps: {query: 'sum(rate(http_requests_total{job="web"}[2m]))'}
//! ```
//!
//! A query is evaluated at the read's instant on the samples scraped so far (one scrape per
//! `spec.resolution`), with Prometheus's semantics ([`crate::alerts::eval`]); its result must be
//! one sample, as KEDA's prometheus scaler requires (pkg/scalers/prometheus_scaler.go
//! `ExecutePromQuery`): an empty result (or NaN/±Inf) is 0 unless `ignoreNullValues: false`
//! makes it a failed read, several samples or a scalar are a failed read.

use super::error::{ErrorKind, ScenarioError};
use super::raw::RawDocument;
use crate::model::Workload;
use crate::traffic::{TrafficModel, TrafficSpec};
use std::collections::BTreeMap;
use std::path::Path;

/// What a queue series measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueMeasure {
    /// Messages waiting (SQS ApproximateNumberOfMessages, a Redis list's length), whole messages.
    Depth,
    /// Messages waiting or being processed, whole messages: what SQS counts with in-flight
    /// messages (ApproximateNumberOfMessages + NotVisible), RabbitMQ's queue length with
    /// unacknowledged messages, a Kafka consumer group's lag. In flight = processed/s × (CPU per
    /// message + `latency.base`) (Little's law).
    Outstanding,
    /// The oldest waiting message's age, seconds.
    OldestAge,
    /// Messages/s arriving.
    Arrivals,
    /// Messages/s the pods process.
    Processed,
}

impl QueueMeasure {
    pub fn parse(s: &str) -> Option<QueueMeasure> {
        Some(match s {
            "depth" => QueueMeasure::Depth,
            "outstanding" => QueueMeasure::Outstanding,
            "oldestAge" => QueueMeasure::OldestAge,
            "arrivals" => QueueMeasure::Arrivals,
            "processed" => QueueMeasure::Processed,
            _ => return None,
        })
    }
}

/// Where a series' values come from.
#[derive(Clone, Debug, PartialEq)]
pub enum SeriesSource {
    Shape(TrafficModel),
    /// A measure of the queue of workload `workload` (index into `Scenario::workloads`).
    Queue {
        workload: usize,
        measure: QueueMeasure,
    },
    /// A KEDA cron trigger: `desired` in the minutes of the week it is active, else 0.
    Cron {
        within: std::sync::Arc<[bool]>,
        desired: f64,
    },
    /// A PromQL query over the exposed series.
    Query {
        expr: std::sync::Arc<promql_parser::parser::Expr>,
        /// KEDA's `ignoreNullValues` (default true): an empty result reads as 0.
        ignore_null: bool,
    },
}

/// A PromQL `query` as a series source: parsed, every construct one capsim evaluates and every
/// metric one it exposes; `Err` is the message for the field that holds it.
pub fn query_source(query: &str, ignore_null: bool) -> Result<SeriesSource, String> {
    let expr = promql_parser::parser::parse(query).map_err(|e| format!("{query:?} is not PromQL: {e}"))?;
    if let Some(what) = crate::alerts::eval::unsupported(&expr) {
        return Err(format!("{query:?}: capsim's PromQL evaluator does not support {what}"));
    }
    let mut names = Vec::new();
    crate::alerts::eval::metric_names(&expr, &mut names);
    if names.is_empty() {
        return Err(format!("{query:?} selects no metric by name"));
    }
    if let Some(n) = names
        .iter()
        .find(|n| !crate::alerts::series::FAMILIES.contains(&n.as_str()))
    {
        return Err(format!(
            "{query:?} reads {n:?}, which capsim does not expose (it exposes {}; or name a spec.series entry)",
            crate::alerts::series::FAMILIES.join(", ")
        ));
    }
    Ok(SeriesSource::Query {
        expr: std::sync::Arc::new(expr),
        ignore_null,
    })
}

/// The metric families every query series reads (recorded at each scrape).
pub fn query_families(series: &[NamedSeries]) -> std::collections::BTreeSet<String> {
    let mut names = Vec::new();
    for s in series {
        if let SeriesSource::Query { expr, .. } = &s.source {
            crate::alerts::eval::metric_names(expr, &mut names);
        }
    }
    names.into_iter().collect()
}

#[derive(Clone, Debug, PartialEq)]
pub struct NamedSeries {
    pub name: String,
    pub source: SeriesSource,
}

/// The workload whose queue is named `queue`.
pub fn queue_workload(workloads: &[Workload], queue: &str) -> Option<usize> {
    workloads
        .iter()
        .position(|w| w.service.queue.as_ref().is_some_and(|q| q.name == queue))
}

/// The names of every queue, for messages.
pub fn queue_names(workloads: &[Workload]) -> Vec<String> {
    workloads
        .iter()
        .filter_map(|w| w.service.queue.as_ref().map(|q| q.name.clone()))
        .collect()
}

/// Parses `spec.series`.
pub fn parse(
    doc: &RawDocument,
    specs: &BTreeMap<String, serde_json::Value>,
    workloads: &[Workload],
    base_dir: Option<&Path>,
) -> Result<Vec<NamedSeries>, ScenarioError> {
    let mut out = Vec::new();
    for (name, v) in specs {
        let path = format!("spec.series.{name}");
        let source = if let Some(q) = v.get("query") {
            let Some(query) = q.as_str() else {
                return Err(doc.error(ErrorKind::Invalid, format!("{path}.query"), "must be a PromQL string"));
            };
            if let Some(other) = v.as_object().and_then(|o| o.keys().find(|k| *k != "query")) {
                return Err(doc.error(
                    ErrorKind::Schema,
                    format!("{path}.{other}"),
                    "unknown field: a query series takes query alone",
                ));
            }
            // prometheus-adapter, like the HPA, gets no value from an empty result: a failed read.
            query_source(query, false).map_err(|m| doc.error(ErrorKind::Invalid, format!("{path}.query"), m))?
        } else if let Some(q) = v.get("queue") {
            let Some(qname) = q.as_str() else {
                return Err(doc.error(ErrorKind::Invalid, format!("{path}.queue"), "must be a queue's name"));
            };
            let workload = queue_workload(workloads, qname).ok_or_else(|| {
                doc.error(
                    ErrorKind::Reference,
                    format!("{path}.queue"),
                    format!(
                        "no workload consumes a queue named {qname:?} (queues: {:?})",
                        queue_names(workloads)
                    ),
                )
            })?;
            if let Some(other) = v
                .as_object()
                .and_then(|o| o.keys().find(|k| *k != "queue" && *k != "measure"))
            {
                return Err(doc.error(
                    ErrorKind::Schema,
                    format!("{path}.{other}"),
                    "unknown field: a queue series takes queue and measure",
                ));
            }
            let m = v.get("measure").and_then(|m| m.as_str()).unwrap_or("depth");
            let measure = QueueMeasure::parse(m).ok_or_else(|| {
                doc.error(
                    ErrorKind::Invalid,
                    format!("{path}.measure"),
                    format!("expected depth, outstanding, oldestAge, arrivals or processed, got {m:?}"),
                )
            })?;
            SeriesSource::Queue { workload, measure }
        } else {
            let spec: TrafficSpec = serde_json::from_value(v.clone()).map_err(|e| {
                doc.error(
                    ErrorKind::Schema,
                    path.clone(),
                    format!("{e} (a series is a traffic-like shape, {{queue, measure}} or {{query}})"),
                )
            })?;
            let model = TrafficModel::from_spec_in(&spec, &format!("series/{name}"), base_dir)
                .map_err(|m| doc.error(ErrorKind::Invalid, path.clone(), String::from(m)))?;
            SeriesSource::Shape(model)
        };
        out.push(NamedSeries {
            name: name.clone(),
            source,
        });
    }
    Ok(out)
}
