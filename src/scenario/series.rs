//! Named metric series (`spec.series`): the values an HPA's Pods/Object/External metric or a
//! KEDA trigger reads by name — a shape like traffic's (`base`/`replay`, `shape`, `noise`), or a
//! measure of a queue worker's queue (`queue: NAME, measure: depth | oldestAge | arrivals |
//! processed`).
//!
//! ```yaml
//! spec:
//!   series:
//!     orders_backlog: {queue: orders, measure: depth}
//!     partner_lag: {base: 200, shape: [{step: {at: 1h, factor: 5}}]}
//! ```

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
        let source = if let Some(q) = v.get("queue") {
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
                    format!("{e} (a series is a traffic-like shape, or {{queue, measure}})"),
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
