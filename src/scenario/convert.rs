//! Older API versions users still have, converted as the apiserver converts them, each with a
//! warning naming the conversion.
//!
//! - `autoscaling/v2beta2 HorizontalPodAutoscaler`: the v2 schema under its beta name (removed in
//!   Kubernetes 1.26); only the apiVersion changes.
//! - `autoscaling/v2beta1`: metrics in the older shape (`targetAverageUtilization`,
//!   `targetAverageValue`, `metricName`), rewritten into v2's `target`/`metric` objects
//!   (upstream pkg/apis/autoscaling/v2beta1/conversion.go).
//! - `autoscaling/v1`: `spec.targetCPUUtilizationPercentage` becomes a CPU Utilization metric; the
//!   v2 fields a v1 object carries in annotations — `autoscaling.alpha.kubernetes.io/metrics`
//!   (v2beta1-shaped metric specs) and `autoscaling.alpha.kubernetes.io/behavior` (the internal
//!   type's JSON, Go field names) — become `spec.metrics` and `spec.behavior`; without any
//!   metric, v2's default of 80 % CPU applies (upstream pkg/apis/autoscaling/v1/conversion.go,
//!   pkg/apis/autoscaling/v2/defaults.go).
//! - `policy/v1beta1 PodDisruptionBudget`: an empty selector selected *no* pods in v1beta1 and
//!   selects every pod in v1, so the apiserver rewrites it to one that matches nothing; capsim
//!   drops the selector (v1: a null selector selects no pods), keeping v1beta1's meaning.

use super::error::{ErrorKind, ScenarioError};
use super::manifests::location;
use super::raw::RawDocument;
use serde_json::{Map, Value, json};

const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
const HPA: &str = "HorizontalPodAutoscaler";

/// Converts every document in an older apiVersion capsim knows how to convert, in place.
pub fn convert(docs: &mut [RawDocument], warnings: &mut Vec<String>) -> Result<(), ScenarioError> {
    for d in docs.iter_mut() {
        match (d.api_version.as_str(), d.kind.as_str()) {
            ("autoscaling/v2beta2", HPA) => {
                set_api_version(d, "autoscaling/v2");
                warnings.push(format!(
                    "{}: autoscaling/v2beta2 converted to autoscaling/v2 (the same schema; v2beta2 was removed in Kubernetes 1.26)",
                    location(d)
                ));
            }
            ("autoscaling/v2beta1", HPA) => {
                let metrics = d.value["spec"]["metrics"].clone();
                if !metrics.is_null() {
                    d.value["spec"]["metrics"] = v2beta1_metrics(d, &metrics, "spec.metrics")?;
                }
                set_api_version(d, "autoscaling/v2");
                warnings.push(format!(
                    "{}: autoscaling/v2beta1 converted to autoscaling/v2 (metrics rewritten to v2's target objects; v2beta1 was removed in Kubernetes 1.25)",
                    location(d)
                ));
            }
            ("autoscaling/v1", HPA) => {
                let note = v1_hpa(d)?;
                set_api_version(d, "autoscaling/v2");
                warnings.push(format!(
                    "{}: autoscaling/v1 converted to autoscaling/v2 ({note})",
                    location(d)
                ));
            }
            ("policy/v1beta1", "PodDisruptionBudget") => {
                let sel = &d.value["spec"]["selector"];
                let empty = sel.as_object().is_some_and(|o| {
                    o.values().all(|v| {
                        v.is_null()
                            || v.as_object().is_some_and(Map::is_empty)
                            || v.as_array().is_some_and(Vec::is_empty)
                    })
                });
                if empty && let Some(spec) = d.value["spec"].as_object_mut() {
                    spec.remove("selector");
                }
                set_api_version(d, "policy/v1");
                warnings.push(format!(
                    "{}: policy/v1beta1 converted to policy/v1{}",
                    location(d),
                    if empty {
                        " (its empty selector selected no pods in v1beta1, and still selects none)"
                    } else {
                        ""
                    }
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// autoscaling/v1 → v2: what the conversion did, for the warning.
fn v1_hpa(d: &mut RawDocument) -> Result<String, ScenarioError> {
    let annotations = d.value["metadata"]["annotations"].clone();
    let mut notes = Vec::new();
    let mut metrics: Vec<Value> = Vec::new();
    if let Some(text) = annotations[METRICS_ANNOTATION].as_str() {
        let path = format!("metadata.annotations.{METRICS_ANNOTATION}");
        let parsed: Value = serde_json::from_str(text).map_err(|e| {
            d.error(
                ErrorKind::Invalid,
                path.clone(),
                format!("is not a JSON list of metric specs: {e}"),
            )
        })?;
        if let Value::Array(list) = v2beta1_metrics(d, &parsed, &path)? {
            metrics = list;
        }
        notes.push(format!(
            "{} metrics from the {METRICS_ANNOTATION} annotation",
            metrics.len()
        ));
    }
    let spec = d.value["spec"].as_object_mut().map(std::mem::take).unwrap_or_default();
    let mut v2 = Map::new();
    for (k, v) in spec {
        match k.as_str() {
            "targetCPUUtilizationPercentage" => {
                // upstream: the CPU target replaces any CPU Resource metric from the annotation.
                metrics.retain(|m| !(m["type"] == "Resource" && m["resource"]["name"] == "cpu"));
                metrics.push(json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": v}}}));
                notes.push(format!(
                    "targetCPUUtilizationPercentage {v} as a CPU Utilization metric"
                ));
            }
            _ => {
                v2.insert(k, v);
            }
        }
    }
    if metrics.is_empty() {
        metrics.push(json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}));
        notes.push("no target given: v2's default, 80 % CPU utilization".into());
    }
    v2.insert("metrics".into(), Value::Array(metrics));
    if let Some(text) = annotations[BEHAVIOR_ANNOTATION].as_str() {
        let path = format!("metadata.annotations.{BEHAVIOR_ANNOTATION}");
        let parsed: Value = serde_json::from_str(text)
            .map_err(|e| d.error(ErrorKind::Invalid, path, format!("is not a JSON behavior: {e}")))?;
        v2.insert("behavior".into(), lower_camel(parsed));
        notes.push(format!("spec.behavior from the {BEHAVIOR_ANNOTATION} annotation"));
    }
    d.value["spec"] = Value::Object(v2);
    Ok(notes.join("; "))
}

/// The internal type's Go field names (`ScaleUp`, `StabilizationWindowSeconds`) to JSON's.
fn lower_camel(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let k = c.next().map_or(String::new(), |f| f.to_lowercase().chain(c).collect());
                    (k, lower_camel(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(lower_camel).collect()),
        other => other,
    }
}

/// v2beta1-shaped metric specs (also the v1 annotation's) to v2's.
fn v2beta1_metrics(d: &RawDocument, metrics: &Value, path: &str) -> Result<Value, ScenarioError> {
    let Some(list) = metrics.as_array() else {
        return Err(d.error(ErrorKind::Invalid, path, "must be a list of metric specs"));
    };
    let mut out = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let at = |field: &str| format!("{path}[{i}].{field}");
        let ty = m["type"].as_str().unwrap_or_default();
        let target = |src: &Value, avg_value: &str, value: &str, util: Option<&str>| -> Result<Value, ScenarioError> {
            if let Some(u) = util.and_then(|u| src.get(u)) {
                return Ok(json!({"type": "Utilization", "averageUtilization": u}));
            }
            if let Some(v) = src.get(avg_value) {
                return Ok(json!({"type": "AverageValue", "averageValue": v}));
            }
            if let Some(v) = src.get(value) {
                return Ok(json!({"type": "Value", "value": v}));
            }
            Err(d.error(
                ErrorKind::Invalid,
                at(&ty.to_lowercase()),
                "has no target (targetAverageValue, targetValue or targetAverageUtilization)",
            ))
        };
        let converted = match ty {
            "Resource" | "ContainerResource" => {
                let key = if ty == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let r = &m[key];
                let mut body = json!({"name": r["name"], "target": target(r, "targetAverageValue", "targetValue", Some("targetAverageUtilization"))?});
                if ty == "ContainerResource" {
                    body["container"] = r["container"].clone();
                }
                json!({"type": ty, key: body})
            }
            "Pods" => {
                let p = &m["pods"];
                json!({"type": "Pods", "pods": {"metric": metric_id(p, "selector"), "target": target(p, "targetAverageValue", "targetValue", None)?}})
            }
            "Object" => {
                let o = &m["object"];
                json!({"type": "Object", "object": {"describedObject": o["target"], "metric": metric_id(o, "selector"), "target": target(o, "averageValue", "targetValue", None)?}})
            }
            "External" => {
                let e = &m["external"];
                json!({"type": "External", "external": {"metric": metric_id(e, "metricSelector"), "target": target(e, "targetAverageValue", "targetValue", None)?}})
            }
            other => {
                return Err(d.error(
                    ErrorKind::Invalid,
                    at("type"),
                    format!(
                        "unknown metric type {other:?} (expected Resource, ContainerResource, Pods, Object or External)"
                    ),
                ));
            }
        };
        out.push(converted);
    }
    Ok(Value::Array(out))
}

fn metric_id(src: &Value, selector: &str) -> Value {
    let mut id = json!({"name": src["metricName"]});
    if !src[selector].is_null() {
        id["selector"] = src[selector].clone();
    }
    id
}

fn set_api_version(d: &mut RawDocument, v: &str) {
    d.api_version = v.to_string();
    d.value["apiVersion"] = Value::String(v.to_string());
}
