//! KEDA `keda.sh/v1alpha1 ScaledObject`s, read as KEDA's operator reads them
//! (kedacore/keda `apis/keda/v1alpha1/scaledobject_types.go`, `controllers/keda/hpa.go`,
//! `pkg/scalers/*`):
//!
//! - **The HPA KEDA creates** (`keda-hpa-<name>`, or
//!   `advanced.horizontalPodAutoscalerConfig.name`): min `max(minReplicaCount, 1)`, max
//!   `maxReplicaCount` (default 100), one External metric per event trigger named
//!   `s<index>-<trigger>-<what>` with an AverageValue target (or `metricType: Value`), a Resource
//!   metric per `cpu`/`memory` trigger, and `advanced.horizontalPodAutoscalerConfig.behavior`. It is
//!   added to the scenario as a document and goes through capsim's upstream HPA like any other
//!   (an HPA of your own on the same target is the duplicate upstream rejects).
//! - **The metric values** KEDA's metrics adapter serves are named series
//!   ([`super::series`]): a queue trigger reads its queue's depth (`aws-sqs-queue` `queueURL`'s
//!   last segment, `rabbitmq` `queueName`, `kafka` `topic` — the lag —, `redis` `listName`,
//!   `redis-streams` `stream`); `prometheus` reads the `spec.series` entry its `query` names,
//!   or evaluates the query as PromQL over the series capsim exposes (`ignoreNullValues`);
//!   `cron` is `desiredReplicas` inside its window, 0 outside.
//! - **KEDA's own loop** ([`crate::sim::keda`]): every `pollingInterval` (30 s) it asks each event
//!   trigger whether it is active (value > its activation threshold, default 0) and does the
//!   0 → 1 and N → 0 steps the HPA cannot (`pkg/scaling/executor/scale_scaledobjects.go`).

use super::error::{ErrorKind, ScenarioError};
use super::manifests::location;
use super::raw::RawDocument;
use super::series::{NamedSeries, QueueMeasure, SeriesSource, queue_names, queue_workload};
use crate::engine::SimDuration;
use crate::model::Workload;
use crate::model::units::Quantity;
use serde_json::{Value, json};
use std::sync::Arc;

pub const API_VERSION: &str = "keda.sh/v1alpha1";

/// upstream defaults: withtriggers_types.go `defaultPollingInterval`, scale_executor.go
/// `defaultCooldownPeriod` / `defaultInitialCooldownPeriod`, scaledobject_types.go
/// `defaultHPAMaxReplicas`.
pub const DEFAULT_POLLING_INTERVAL_S: u64 = 30;
pub const DEFAULT_COOLDOWN_PERIOD_S: u64 = 300;
pub const DEFAULT_INITIAL_COOLDOWN_PERIOD_S: u64 = 0;
pub const DEFAULT_MAX_REPLICAS: u32 = 100;

/// One event trigger as KEDA's loop sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct EventTrigger {
    /// `triggers[].type`.
    pub kind: String,
    /// `triggers[].name`: how `scalingModifiers.formula` refers to it.
    pub name: Option<String>,
    /// The External metric's name in the HPA (and the series it reads).
    pub metric: String,
    /// Active while the value is above this (`activation*`, default 0).
    pub activation: f64,
    /// The metric's target (queueLength, threshold, ...).
    pub target: f64,
    /// `metricType: Value` (else AverageValue).
    pub value_type: bool,
}

/// `spec.fallback.behavior` (scaledobject_types.go `FallbackBehavior*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FallbackBehavior {
    Static,
    CurrentReplicas,
    CurrentReplicasIfHigher,
    CurrentReplicasIfLower,
    /// The failed trigger is `nil` in the formula (`??` chooses what replaces it).
    ScalingModifiers,
}

/// `spec.fallback`: after more than `failure_threshold` consecutive failed reads of a trigger's
/// metric, KEDA serves a value that makes the HPA want `replicas` (kedacore/keda
/// pkg/fallback/fallback.go).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fallback {
    pub failure_threshold: u32,
    pub replicas: u32,
    pub behavior: FallbackBehavior,
}

/// `spec.advanced.scalingModifiers`: the triggers composed into one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingModifiers {
    pub formula: super::formula::Formula,
    pub target: f64,
    pub activation: f64,
    /// `metricType: Value` (else AverageValue).
    pub value_type: bool,
}

/// kedav1alpha1 `CompositeMetricName`: the one External metric of a ScaledObject with a formula.
pub const COMPOSITE_METRIC: &str = "composite-metric";

/// A ScaledObject.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaledObject {
    pub name: String,
    pub namespace: String,
    /// Index into `Scenario::workloads`.
    pub target: usize,
    pub polling_interval: SimDuration,
    pub cooldown_period: SimDuration,
    pub initial_cooldown_period: SimDuration,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub idle_replicas: Option<u32>,
    /// Event triggers (cpu/memory triggers are the HPA's alone and never activate).
    pub triggers: Vec<EventTrigger>,
    pub hpa_name: String,
    pub fallback: Option<Fallback>,
    pub modifiers: Option<ScalingModifiers>,
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `triggers[i].metadata.<key>` as a number (KEDA takes strings), or `default`.
fn meta_num(doc: &RawDocument, t: &Value, i: usize, key: &str, default: Option<f64>) -> Result<f64, ScenarioError> {
    let path = format!("spec.triggers[{i}].metadata.{key}");
    match t["metadata"].get(key) {
        None | Some(Value::Null) => default.ok_or_else(|| doc.error(ErrorKind::Invalid, path, "is required")),
        Some(v) => num(v)
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| doc.error(ErrorKind::Invalid, path, format!("must be a number >= 0, got {v}"))),
    }
}

fn meta_str<'a>(t: &'a Value, key: &str) -> Option<&'a str> {
    t["metadata"].get(key).and_then(Value::as_str)
}

fn seconds(doc: &RawDocument, spec: &Value, key: &str, default: u64) -> Result<u64, ScenarioError> {
    match spec.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_u64().ok_or_else(|| {
            doc.error(
                ErrorKind::Invalid,
                format!("spec.{key}"),
                format!("must be whole seconds >= 0, got {v}"),
            )
        }),
    }
}

fn count(doc: &RawDocument, spec: &Value, key: &str) -> Result<Option<u32>, ScenarioError> {
    match spec.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()).map(Some).ok_or_else(|| {
            doc.error(
                ErrorKind::Invalid,
                format!("spec.{key}"),
                format!("must be a whole number >= 0, got {v}"),
            )
        }),
    }
}

/// The queue a queue trigger names, and its target and activation thresholds (KEDA's defaults).
fn queue_trigger(doc: &RawDocument, t: &Value, i: usize) -> Result<Option<(String, f64, f64)>, ScenarioError> {
    let kind = t["type"].as_str().unwrap_or_default();
    let need = |key: &str| {
        meta_str(t, key).map(str::to_string).ok_or_else(|| {
            doc.error(
                ErrorKind::Invalid,
                format!("spec.triggers[{i}].metadata.{key}"),
                "is required",
            )
        })
    };
    Ok(Some(match kind {
        // aws_sqs_queue_scaler.go: queueLength default 5, activationQueueLength 0.
        "aws-sqs-queue" => {
            let url = need("queueURL")?;
            let name = url.rsplit('/').next().unwrap_or(&url).to_string();
            (
                name,
                meta_num(doc, t, i, "queueLength", Some(5.0))?,
                meta_num(doc, t, i, "activationQueueLength", Some(0.0))?,
            )
        }
        // rabbitmq_scaler.go: mode QueueLength, value (or legacy queueLength) default 20.
        "rabbitmq" => {
            if let Some(mode) = meta_str(t, "mode").filter(|m| *m != "QueueLength") {
                return Err(doc.error(
                    ErrorKind::Invalid,
                    format!("spec.triggers[{i}].metadata.mode"),
                    format!("capsim models mode QueueLength (the queue's depth), got {mode:?}"),
                ));
            }
            let target = match t["metadata"].get("value") {
                Some(_) => meta_num(doc, t, i, "value", None)?,
                None => meta_num(doc, t, i, "queueLength", Some(20.0))?,
            };
            (
                need("queueName")?,
                target,
                meta_num(doc, t, i, "activationValue", Some(0.0))?,
            )
        }
        // kafka_scaler.go: lagThreshold default 10, activationLagThreshold 0.
        "kafka" | "apache-kafka" => (
            need("topic")?,
            meta_num(doc, t, i, "lagThreshold", Some(10.0))?,
            meta_num(doc, t, i, "activationLagThreshold", Some(0.0))?,
        ),
        // redis_scaler.go: listLength default 5, activationListLength 0.
        "redis" | "redis-cluster" | "redis-sentinel" => (
            need("listName")?,
            meta_num(doc, t, i, "listLength", Some(5.0))?,
            meta_num(doc, t, i, "activationListLength", Some(0.0))?,
        ),
        // redis_streams_scaler.go: pendingEntriesCount default 5.
        "redis-streams" => (
            need("stream")?,
            meta_num(doc, t, i, "pendingEntriesCount", Some(5.0))?,
            meta_num(doc, t, i, "activationLagCount", Some(0.0))?,
        ),
        _ => return Ok(None),
    }))
}

/// A queue trigger's series — what the broker counts: in-flight / unacknowledged messages too,
/// unless the trigger opts out (SQS `scaleOnInFlight`, RabbitMQ `excludeUnacknowledged`); a
/// Redis list holds only what waits — with its target and activation threshold. `None` for a
/// trigger that is not a queue trigger.
fn queue_series(
    d: &RawDocument,
    t: &Value,
    i: usize,
    workloads: &[Workload],
) -> Result<Option<(SeriesSource, f64, f64)>, ScenarioError> {
    let Some((q, target, activation)) = queue_trigger(d, t, i)? else {
        return Ok(None);
    };
    let workload = queue_workload(workloads, &q).ok_or_else(|| {
        d.error(
            ErrorKind::Reference,
            format!("spec.triggers[{i}].metadata"),
            format!(
                "names queue {q:?}, which no workload consumes (queues: {:?})",
                queue_names(workloads)
            ),
        )
    })?;
    let flag = |k: &str| meta_str(t, k).map(|v| v.eq_ignore_ascii_case("true"));
    let depth_only = match t["type"].as_str().unwrap_or_default() {
        "aws-sqs-queue" => flag("scaleOnInFlight") == Some(false),
        "rabbitmq" => flag("excludeUnacknowledged") == Some(true),
        "redis" | "redis-cluster" | "redis-sentinel" => true,
        _ => false,
    };
    let measure = if depth_only {
        QueueMeasure::Depth
    } else {
        QueueMeasure::Outstanding
    };
    Ok(Some((SeriesSource::Queue { workload, measure }, target, activation)))
}

/// The HPA KEDA would create for each ScaledObject, appended to `docs` (kedacore/keda
/// controllers/keda/hpa.go `newHPAForScaledObject`).
pub fn synthesize_hpas(docs: &mut Vec<RawDocument>) -> Result<(), ScenarioError> {
    let mut extra = Vec::new();
    for d in docs.iter().filter(|d| d.is(API_VERSION, "ScaledObject")) {
        let spec = &d.value["spec"];
        let target = &spec["scaleTargetRef"];
        let Some(target_name) = target["name"].as_str() else {
            return Err(d.error(
                ErrorKind::Schema,
                "spec.scaleTargetRef.name",
                "required field is missing",
            ));
        };
        let min = count(d, spec, "minReplicaCount")?.unwrap_or(0);
        let max = count(d, spec, "maxReplicaCount")?.unwrap_or(DEFAULT_MAX_REPLICAS);
        let hpa_cfg = &spec["advanced"]["horizontalPodAutoscalerConfig"];
        let name = hpa_cfg["name"]
            .as_str()
            .map_or_else(|| format!("keda-hpa-{}", d.name), str::to_string);
        let Some(triggers) = spec["triggers"].as_array().filter(|t| !t.is_empty()) else {
            return Err(d.error(ErrorKind::Invalid, "spec.triggers", "needs at least one trigger"));
        };
        let mut metrics = Vec::new();
        for (i, t) in triggers.iter().enumerate() {
            let kind = t["type"].as_str().unwrap_or_default();
            let metric_type = t["metricType"].as_str().unwrap_or(if matches!(kind, "cpu" | "memory") {
                "Utilization"
            } else {
                "AverageValue"
            });
            let target_obj = |value: Value| match metric_type {
                "Value" => Ok(json!({"type": "Value", "value": value})),
                "AverageValue" => Ok(json!({"type": "AverageValue", "averageValue": value})),
                "Utilization" => Ok(json!({"type": "Utilization", "averageUtilization": value})),
                other => Err(d.error(
                    ErrorKind::Invalid,
                    format!("spec.triggers[{i}].metricType"),
                    format!("expected AverageValue, Value or Utilization, got {other:?}"),
                )),
            };
            let quantity = |v: f64| Value::String(Quantity::from_milli((v * 1000.0).round() as i64).to_string());
            let metric = match kind {
                "cpu" | "memory" => {
                    let value = t["metadata"].get("value").and_then(num).ok_or_else(|| {
                        d.error(
                            ErrorKind::Invalid,
                            format!("spec.triggers[{i}].metadata.value"),
                            "is required",
                        )
                    })?;
                    let v = if metric_type == "Utilization" {
                        json!(value.round() as i64)
                    } else {
                        quantity(value)
                    };
                    json!({"type": "Resource", "resource": {"name": kind, "target": target_obj(v)?}})
                }
                _ => {
                    let (what, target) = trigger_metric(d, t, i)?;
                    let v = quantity(target);
                    json!({"type": "External", "external": {"metric": {"name": metric_name(i, kind, &what)}, "target": target_obj(v)?}})
                }
            };
            metrics.push(metric);
        }
        let modifiers = &spec["advanced"]["scalingModifiers"];
        if !modifiers["formula"].is_null() {
            let (target, value_type) = modifier_target(d, modifiers)?;
            let t = Value::String(Quantity::from_milli((target * 1000.0) as i64).to_string());
            let target = if value_type {
                json!({"type": "Value", "value": t})
            } else {
                json!({"type": "AverageValue", "averageValue": t})
            };
            // controllers/keda/hpa.go: the external metrics replaced by the composite one, the
            // resource metrics kept.
            metrics.retain(|m| m["type"] != "External");
            metrics.push(
                json!({"type": "External", "external": {"metric": {"name": COMPOSITE_METRIC}, "target": target}}),
            );
        }
        // controllers/keda/hpa.go sorts the metric specs by type: External before Resource.
        metrics.sort_by(|a, b| a["type"].as_str().cmp(&b["type"].as_str()));
        let mut hpa_spec = json!({
            "scaleTargetRef": {
                "apiVersion": target["apiVersion"].as_str().unwrap_or("apps/v1"),
                "kind": target["kind"].as_str().unwrap_or("Deployment"),
                "name": target_name,
            },
            "minReplicas": min.max(1),
            "maxReplicas": max,
            "metrics": metrics,
        });
        if !hpa_cfg["behavior"].is_null() {
            hpa_spec["behavior"] = hpa_cfg["behavior"].clone();
        }
        let value = json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": d.namespace},
            "spec": hpa_spec,
        });
        extra.push(RawDocument::new(&d.file, d.index, d.item, d.line, value)?);
    }
    docs.extend(extra);
    Ok(())
}

/// `scalingModifiers.target` (a float > 0, as a string in the CRD) and whether `metricType` is
/// Value (scaledobject_webhook.go `validateScalingModifiersTarget`).
fn modifier_target(d: &RawDocument, m: &Value) -> Result<(f64, bool), ScenarioError> {
    let path = "spec.advanced.scalingModifiers";
    let target = m.get("target").and_then(num).filter(|t| *t > 0.0).ok_or_else(|| {
        d.error(
            ErrorKind::Invalid,
            format!("{path}.target"),
            "formula is given but target is missing or not a number > 0",
        )
    })?;
    let value_type = match m["metricType"].as_str() {
        None | Some("AverageValue") => false,
        Some("Value") => true,
        Some(other) => {
            return Err(d.error(
                ErrorKind::Invalid,
                format!("{path}.metricType"),
                format!("must be AverageValue or Value for the composite external metric, got {other:?}"),
            ));
        }
    };
    Ok((target, value_type))
}

/// upstream scalers' `GenerateMetricNameWithIndex`: `s<index>-<name>`.
fn metric_name(i: usize, kind: &str, what: &str) -> String {
    let clean: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("s{i}-{kind}-{clean}")
}

/// What an event trigger measures (for its metric's name) and its target.
fn trigger_metric(d: &RawDocument, t: &Value, i: usize) -> Result<(String, f64), ScenarioError> {
    let kind = t["type"].as_str().unwrap_or_default();
    if let Some((q, target, _)) = queue_trigger(d, t, i)? {
        return Ok((q, target));
    }
    match kind {
        "prometheus" => Ok((
            meta_str(t, "query").unwrap_or_default().to_string(),
            meta_num(d, t, i, "threshold", None)?,
        )),
        // cron_scaler.go: an AverageValue target of 1, so the HPA asks desiredReplicas.
        "cron" => Ok((format!("{}-{}", meta_str(t, "start").unwrap_or(""), meta_str(t, "end").unwrap_or("")), 1.0)),
        "" => Err(d.error(ErrorKind::Schema, format!("spec.triggers[{i}].type"), "required field is missing")),
        other => Err(d.error(
            ErrorKind::Invalid,
            format!("spec.triggers[{i}].type"),
            format!(
                "capsim models the cpu, memory, prometheus, cron, aws-sqs-queue, rabbitmq, kafka, redis and redis-streams \
                 scalers; {other:?} is not modelled (its value would decide the replicas)"
            ),
        )),
    }
}

/// Fields of a ScaledObject capsim reads; anything else under `spec` gets a warning.
const SPEC_FIELDS: &[&str] = &[
    "scaleTargetRef",
    "pollingInterval",
    "cooldownPeriod",
    "initialCooldownPeriod",
    "minReplicaCount",
    "maxReplicaCount",
    "idleReplicaCount",
    "triggers",
    "advanced",
    "fallback",
];

/// Fields of `spec.advanced` capsim reads or that do not change a run.
const ADVANCED_FIELDS: &[&str] = &[
    "horizontalPodAutoscalerConfig",
    "scalingModifiers",
    // What KEDA does with the target when the ScaledObject is deleted: never within a run.
    "restoreToOriginalReplicaCount",
];

/// The ScaledObjects, with the named series their triggers' metrics read added to `series`.
pub fn parse<'d>(
    docs: impl Iterator<Item = &'d RawDocument>,
    workloads: &[Workload],
    series: &mut Vec<NamedSeries>,
    warnings: &mut Vec<String>,
) -> Result<Vec<ScaledObject>, ScenarioError> {
    let mut out = Vec::new();
    for d in docs {
        let at = location(d);
        let spec = &d.value["spec"];
        let target_name = spec["scaleTargetRef"]["name"].as_str().unwrap_or_default();
        let target_kind = spec["scaleTargetRef"]["kind"].as_str().unwrap_or("Deployment");
        let target = workloads
            .iter()
            .position(|w| w.name == target_name && w.namespace == d.namespace && w.kind.is_replicated())
            .ok_or_else(|| {
                d.error(
                    ErrorKind::Reference,
                    "spec.scaleTargetRef.name",
                    format!("no {target_kind} {target_name:?} in namespace {:?}", d.namespace),
                )
            })?;
        for k in spec.as_object().into_iter().flat_map(|o| o.keys()) {
            if !SPEC_FIELDS.contains(&k.as_str()) {
                warnings.push(format!("{at}: spec.{k}: not modelled by capsim's KEDA (ignored)"));
            }
        }
        for k in spec["advanced"].as_object().into_iter().flat_map(|o| o.keys()) {
            if !ADVANCED_FIELDS.contains(&k.as_str()) {
                warnings.push(format!(
                    "{at}: spec.advanced.{k}: not modelled by capsim's KEDA (ignored)"
                ));
            }
        }
        let min = count(d, spec, "minReplicaCount")?.unwrap_or(0);
        let max = count(d, spec, "maxReplicaCount")?.unwrap_or(DEFAULT_MAX_REPLICAS);
        let idle = count(d, spec, "idleReplicaCount")?;
        if min > max {
            return Err(d.error(
                ErrorKind::Invalid,
                "spec.minReplicaCount",
                format!("{min} is above maxReplicaCount {max}"),
            ));
        }
        // scaledobject_types.go: idleReplicaCount must be below minReplicaCount.
        if let Some(i) = idle
            && i >= min
        {
            return Err(d.error(
                ErrorKind::Invalid,
                "spec.idleReplicaCount",
                format!("{i} must be below minReplicaCount {min}"),
            ));
        }
        let mut triggers = Vec::new();
        let list = spec["triggers"].as_array().cloned().unwrap_or_default();
        for (i, t) in list.iter().enumerate() {
            let kind = t["type"].as_str().unwrap_or_default().to_string();
            if matches!(kind.as_str(), "cpu" | "memory") {
                continue;
            }
            let (what, target) = trigger_metric(d, t, i)?;
            let metric = metric_name(i, &kind, &what);
            let (source, activation) = if let Some((source, _, activation)) = queue_series(d, t, i, workloads)? {
                (source, activation)
            } else if kind == "prometheus" {
                let query = what.trim().to_string();
                let activation = meta_num(d, t, i, "activationThreshold", Some(0.0))?;
                if let Some(s) = series.iter().find(|s| s.name == query) {
                    (s.source.clone(), activation)
                } else {
                    let ignore_null = meta_str(t, "ignoreNullValues").is_none_or(|v| !v.eq_ignore_ascii_case("false"));
                    let source = super::series::query_source(&query, ignore_null).map_err(|m| {
                        d.error(
                            ErrorKind::Invalid,
                            format!("spec.triggers[{i}].metadata.query"),
                            format!(
                                "{m} (a query is PromQL over capsim's series, or the name of a spec.series entry: {:?})",
                                series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>()
                            ),
                        )
                    })?;
                    (source, activation)
                }
            } else {
                let path = format!("spec.triggers[{i}].metadata");
                let window = super::cron::window(meta_str(t, "start").unwrap_or(""), meta_str(t, "end").unwrap_or(""))
                    .map_err(|(field, m)| d.error(ErrorKind::Invalid, format!("{path}.{field}"), m))?;
                let desired = meta_num(d, t, i, "desiredReplicas", None)?;
                if let Some(tz) = meta_str(t, "timezone") {
                    warnings.push(format!(
                        "{at}: spec.triggers[{i}].metadata.timezone: {tz}: the run's t = 0 is Monday 00:00 in that timezone"
                    ));
                }
                (
                    SeriesSource::Cron {
                        within: Arc::from(window),
                        desired,
                    },
                    0.0,
                )
            };
            series.push(NamedSeries {
                name: metric.clone(),
                source,
            });
            triggers.push(EventTrigger {
                kind,
                name: t["name"].as_str().map(str::to_string),
                metric,
                activation,
                target,
                value_type: t["metricType"].as_str() == Some("Value"),
            });
        }
        let modifiers = scaling_modifiers(d, spec, &triggers)?;
        let fallback = fallback(d, spec, &triggers, modifiers.is_some())?;
        if triggers.is_empty() && min == 0 {
            return Err(d.error(
                ErrorKind::Invalid,
                "spec.minReplicaCount",
                "KEDA scales to zero on event triggers only: with cpu/memory triggers alone minReplicaCount must be at least 1",
            ));
        }
        if spec.get("pollingInterval").and_then(Value::as_u64) == Some(0) {
            return Err(d.error(ErrorKind::Invalid, "spec.pollingInterval", "must be at least 1 second"));
        }
        let hpa_cfg = &spec["advanced"]["horizontalPodAutoscalerConfig"];
        out.push(ScaledObject {
            name: d.name.clone(),
            namespace: d.namespace.clone(),
            target,
            polling_interval: SimDuration::from_secs(seconds(d, spec, "pollingInterval", DEFAULT_POLLING_INTERVAL_S)?),
            cooldown_period: SimDuration::from_secs(seconds(d, spec, "cooldownPeriod", DEFAULT_COOLDOWN_PERIOD_S)?),
            initial_cooldown_period: SimDuration::from_secs(seconds(
                d,
                spec,
                "initialCooldownPeriod",
                DEFAULT_INITIAL_COOLDOWN_PERIOD_S,
            )?),
            min_replicas: min,
            max_replicas: max,
            idle_replicas: idle,
            triggers,
            hpa_name: hpa_cfg["name"]
                .as_str()
                .map_or_else(|| format!("keda-hpa-{}", d.name), str::to_string),
            fallback,
            modifiers,
        });
    }
    Ok(out)
}

/// `spec.advanced.scalingModifiers`, validated as the webhook does
/// (scaledobject_webhook.go `ValidateAndCompileScalingModifiers`: the formula compiles and runs
/// with every named trigger at -1; target > 0; metricType not Utilization).
fn scaling_modifiers(
    d: &RawDocument,
    spec: &Value,
    triggers: &[EventTrigger],
) -> Result<Option<ScalingModifiers>, ScenarioError> {
    let m = &spec["advanced"]["scalingModifiers"];
    if m.is_null() {
        return Ok(None);
    }
    let path = "spec.advanced.scalingModifiers";
    let Some(src) = m["formula"].as_str().filter(|f| !f.trim().is_empty()) else {
        return Err(d.error(ErrorKind::Invalid, format!("{path}.formula"), "is mandatory"));
    };
    let bad = |msg: String| d.error(ErrorKind::Invalid, format!("{path}.formula"), msg);
    let formula =
        super::formula::Formula::parse(src).map_err(|e| bad(format!("{src:?}: capsim does not evaluate {e}")))?;
    let env: std::collections::BTreeMap<String, super::formula::Val> = triggers
        .iter()
        .filter_map(|t| t.name.clone())
        .map(|n| (n, super::formula::Val::Num(-1.0)))
        .collect();
    let mut vars = Vec::new();
    formula.vars(&mut vars);
    if let Some(v) = vars.iter().find(|v| !env.contains_key(*v)) {
        return Err(bad(format!(
            "{src:?} reads {v:?}, which is no trigger's name (triggers[].name: {:?})",
            env.keys().collect::<Vec<_>>()
        )));
    }
    match formula.eval(&env) {
        Ok(super::formula::Val::Num(_) | super::formula::Val::Nil) => {}
        Ok(other) => return Err(bad(format!("{src:?} gives {other:?}, not a number"))),
        Err(e) => return Err(bad(format!("{src:?} fails with every trigger at -1: {e}"))),
    }
    let (target, value_type) = modifier_target(d, m)?;
    let activation = match m.get("activationTarget") {
        None | Some(Value::Null) => 0.0,
        Some(v) => num(v).ok_or_else(|| {
            d.error(
                ErrorKind::Invalid,
                format!("{path}.activationTarget"),
                format!("must be a number, got {v}"),
            )
        })?,
    };
    Ok(Some(ScalingModifiers {
        formula,
        target,
        activation,
        value_type,
    }))
}

/// `spec.fallback`, validated as upstream (scaledobject_types.go `CheckFallbackValid`, the
/// webhook's scalingModifiers-behaviour check).
fn fallback(
    d: &RawDocument,
    spec: &Value,
    triggers: &[EventTrigger],
    modifiers: bool,
) -> Result<Option<Fallback>, ScenarioError> {
    let f = &spec["fallback"];
    if f.is_null() {
        return Ok(None);
    }
    let whole = |key: &str| {
        f.get(key)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                d.error(
                    ErrorKind::Invalid,
                    format!("spec.fallback.{key}"),
                    "is required: a whole number >= 0",
                )
            })
    };
    let behavior = match f["behavior"].as_str().unwrap_or("static") {
        "static" => FallbackBehavior::Static,
        "currentReplicas" => FallbackBehavior::CurrentReplicas,
        "currentReplicasIfHigher" => FallbackBehavior::CurrentReplicasIfHigher,
        "currentReplicasIfLower" => FallbackBehavior::CurrentReplicasIfLower,
        "scalingModifiers" => FallbackBehavior::ScalingModifiers,
        other => {
            return Err(d.error(
                ErrorKind::Invalid,
                "spec.fallback.behavior",
                format!(
                    "expected static, currentReplicas, currentReplicasIfHigher, currentReplicasIfLower or scalingModifiers, got {other:?}"
                ),
            ));
        }
    };
    if behavior == FallbackBehavior::ScalingModifiers && !modifiers {
        return Err(d.error(
            ErrorKind::Invalid,
            "spec.fallback.behavior",
            "scalingModifiers fallback behavior requires scalingModifiers.formula to be defined",
        ));
    }
    if !modifiers && triggers.is_empty() {
        return Err(d.error(
            ErrorKind::Invalid,
            "spec.fallback",
            "at least one trigger (that is not cpu or memory) has to have the `AverageValue` type for the fallback to be enabled",
        ));
    }
    Ok(Some(Fallback {
        failure_threshold: whole("failureThreshold")?,
        replicas: whole("replicas")?,
        behavior,
    }))
}

/// A ScaledJob's `scalingStrategy.strategy` (kedacore/keda pkg/scaling/executor/scale_jobs.go).
#[derive(Clone, Debug, PartialEq)]
pub enum JobStrategy {
    /// `maxScale − running`.
    Default,
    /// `min(maxScale − customScalingQueueLengthDeduction − int(running × customScalingRunningJobPercentage), maxReplicaCount)`.
    Custom { deduction: i64, running_pct: f64 },
    /// `maxReplicaCount − running` when `maxScale + running − pending > maxReplicaCount`, else `maxScale − pending`.
    Accurate,
    /// `min(maxReplicaCount − running − pending, maxScale)`, creating up to `maxReplicaCount`.
    Eager,
}

/// One ScaledJob trigger: the series it reads and its per-job target.
#[derive(Clone, Debug, PartialEq)]
pub struct JobTrigger {
    pub metric: String,
    pub target: f64,
    pub activation: f64,
}

/// A `keda.sh/v1alpha1 ScaledJob`: KEDA creates Jobs (here: pods of the batch workload of the
/// same name, each taking one message off its queue) on its own loop.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaledJob {
    pub name: String,
    /// Index into `Scenario::workloads` (the Job built from `spec.jobTargetRef`).
    pub target: usize,
    pub polling_interval: SimDuration,
    pub min_replicas: i64,
    pub max_replicas: i64,
    pub strategy: JobStrategy,
    /// `scalingStrategy.multipleScalersCalculation`: max (default), min, avg, sum.
    pub combine: String,
    pub triggers: Vec<JobTrigger>,
}

/// The annotation marking a Job document built from a ScaledJob's `jobTargetRef`.
pub const SCALED_JOB_ANNOTATION: &str = "capsim.dev/keda-scaledjob";

/// Each ScaledJob's `jobTargetRef` as a `batch/v1 Job` document of its name, so its pods are
/// built as any Job's are.
pub fn synthesize_jobs(docs: &mut Vec<RawDocument>) -> Result<(), ScenarioError> {
    let mut extra = Vec::new();
    for d in docs.iter().filter(|d| d.is(API_VERSION, "ScaledJob")) {
        let target = &d.value["spec"]["jobTargetRef"];
        if target["template"].is_null() {
            return Err(d.error(
                ErrorKind::Schema,
                "spec.jobTargetRef.template",
                "required field is missing",
            ));
        }
        let value = json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": d.name, "namespace": d.namespace, "annotations": {SCALED_JOB_ANNOTATION: d.name}},
            "spec": {"template": target["template"]},
        });
        extra.push(RawDocument::new(&d.file, d.index, d.item, d.line, value)?);
    }
    docs.extend(extra);
    Ok(())
}

/// The ScaledJobs, with their triggers' series added to `series`.
pub fn parse_jobs<'d>(
    docs: impl Iterator<Item = &'d RawDocument>,
    workloads: &[Workload],
    series: &mut Vec<NamedSeries>,
    warnings: &mut Vec<String>,
) -> Result<Vec<ScaledJob>, ScenarioError> {
    let mut out = Vec::new();
    for d in docs {
        let at = location(d);
        let spec = &d.value["spec"];
        let target = workloads
            .iter()
            .position(|w| w.name == d.name && w.namespace == d.namespace && w.kind == crate::model::WorkloadKind::Batch)
            .ok_or_else(|| d.error(ErrorKind::Reference, "spec.jobTargetRef", "its Job could not be built"))?;
        if workloads[target].service.queue.is_none() {
            return Err(d.error(
                ErrorKind::Reference,
                "metadata.name",
                format!(
                    "ScaledJob {} needs its queue in the Scenario: spec.workloads.{}.queue and traffic (messages/s), \
                     perRequest.cpu (CPU-seconds per message)",
                    d.name, d.name
                ),
            ));
        }
        for k in spec.as_object().into_iter().flat_map(|o| o.keys()) {
            if ![
                "jobTargetRef",
                "pollingInterval",
                "minReplicaCount",
                "maxReplicaCount",
                "triggers",
                "scalingStrategy",
                "successfulJobsHistoryLimit",
                "failedJobsHistoryLimit",
                "rollout",
            ]
            .contains(&k.as_str())
            {
                warnings.push(format!("{at}: spec.{k}: not modelled by capsim's KEDA (ignored)"));
            }
        }
        let st = &spec["scalingStrategy"];
        let strategy = match st["strategy"].as_str().unwrap_or("default") {
            "default" => JobStrategy::Default,
            "accurate" => JobStrategy::Accurate,
            "eager" => JobStrategy::Eager,
            // upstream: an unparsable percentage falls back to the default strategy.
            "custom" => match st["customScalingRunningJobPercentage"]
                .as_str()
                .and_then(|p| p.parse::<f64>().ok())
            {
                Some(running_pct) => JobStrategy::Custom {
                    deduction: st["customScalingQueueLengthDeduction"].as_i64().unwrap_or(0),
                    running_pct,
                },
                None => JobStrategy::Default,
            },
            other => {
                return Err(d.error(
                    ErrorKind::Invalid,
                    "spec.scalingStrategy.strategy",
                    format!("expected default, custom, accurate or eager, got {other:?}"),
                ));
            }
        };
        let combine = st["multipleScalersCalculation"].as_str().unwrap_or("max").to_string();
        if !["max", "min", "avg", "sum"].contains(&combine.as_str()) {
            return Err(d.error(
                ErrorKind::Invalid,
                "spec.scalingStrategy.multipleScalersCalculation",
                format!("expected max, min, avg or sum, got {combine:?}"),
            ));
        }
        let mut triggers = Vec::new();
        for (i, t) in spec["triggers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let kind = t["type"].as_str().unwrap_or_default().to_string();
            let Some((source, target, activation)) = queue_series(d, t, i, workloads)? else {
                return Err(d.error(
                    ErrorKind::Invalid,
                    format!("spec.triggers[{i}].type"),
                    format!("capsim's ScaledJobs read queue triggers (aws-sqs-queue, rabbitmq, kafka, redis, redis-streams), got {kind:?}"),
                ));
            };
            let (what, _) = trigger_metric(d, t, i)?;
            let metric = metric_name(i, &kind, &what);
            series.push(NamedSeries {
                name: format!("{}/{metric}", d.name),
                source,
            });
            triggers.push(JobTrigger {
                metric: format!("{}/{metric}", d.name),
                target,
                activation,
            });
        }
        if triggers.is_empty() {
            return Err(d.error(ErrorKind::Invalid, "spec.triggers", "needs at least one trigger"));
        }
        let polling = seconds(d, spec, "pollingInterval", DEFAULT_POLLING_INTERVAL_S)?;
        if polling == 0 {
            return Err(d.error(ErrorKind::Invalid, "spec.pollingInterval", "must be at least 1 second"));
        }
        out.push(ScaledJob {
            name: d.name.clone(),
            target,
            polling_interval: SimDuration::from_secs(polling),
            min_replicas: i64::from(count(d, spec, "minReplicaCount")?.unwrap_or(0)),
            max_replicas: i64::from(count(d, spec, "maxReplicaCount")?.unwrap_or(DEFAULT_MAX_REPLICAS)),
            strategy,
            combine,
            triggers,
        });
    }
    Ok(out)
}
