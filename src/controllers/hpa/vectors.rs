//! Upstream HPA test vectors (`k8s-autoscaling-sim/hpa-vectors/v1`) evaluated through capsim's HPA code.
//!
//! A thin adapter: each vector's input becomes the same snapshot types the simulation builds
//! ([`HpaObservation`], [`HpaSpec`], [`HpaState`], normalization inputs) and is run through the same
//! functions. Schema and fixture conventions: `../shared/research-notes/semantics.md` §0 and the file's
//! `conventions` key. Times are seconds relative to `now`; `"zero"` is Go's zero time, mapped to
//! `SimTime(0)` with `now` far later ([`NOW`]).

use super::config::{HpaControllerConfig, LegacyScaleUpLimit};
use super::controller::{HpaState, reconcile};
use super::normalize::{
    NormalizationArg, ScaleEvent, TimestampedRecommendation, calculate_scale_down_limit_with_behaviors,
    calculate_scale_up_limit_with_scaling_rules, convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules, get_replicas_change_per_period, stabilize_recommendation,
    stabilize_recommendation_with_behaviors, store_scale_event,
};
use super::observation::{
    ConditionStatus, ContainerUsage, HpaObservation, MetricResource, MetricValues, MetricsError, ObservedContainer,
    ObservedPod, PodId, PodMetricSample, PodPhase, PodResourceSample, ReadyCondition, ResourceAmounts,
};
use super::replica_calculator::{
    PodMetric, PodMetricsInfo, Proposal, ReadinessTiming, ReplicaCalculator, Tolerances, calculate_requests,
    get_external_per_pod_metric_replicas, get_per_pod_metric_replicas, group_pods,
};
use super::spec::{
    Behavior, HpaSpec, MetricSpec, MetricTarget, PolicyType, ScaleTargetRef, ScalingPolicy, ScalingRules, SelectPolicy,
};
use crate::engine::{SimDuration, SimTime};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The schema this adapter reads.
pub const SCHEMA: &str = "k8s-autoscaling-sim/hpa-vectors/v1";
/// The evaluation instant: far enough from `SimTime(0)` (Go's zero time) that every window fits between.
pub const NOW: SimTime = SimTime(1_000_000_000_000);

/// Replica-calculator timing of `replica_calculator_test.go` (`defaultTesting*` constants) when the file
/// does not give them.
const TEST_CPU_INIT_S: f64 = 120.0;
const TEST_READINESS_DELAY_S: f64 = 10.0;
const TEST_TOLERANCE: f64 = 0.1;

/// A vectors file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum VectorFileError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a {SCHEMA} file: {0}")]
    Schema(String),
}

/// One vector.
#[derive(Clone, Debug)]
pub struct Vector {
    pub id: String,
    pub kind: String,
    pub input: Value,
    pub expected: Value,
}

/// A loaded vectors file.
#[derive(Clone, Debug)]
pub struct VectorFile {
    pub vectors: Vec<Vector>,
    /// Replica-calculator timing from `conventions.test_timing_constants` (seconds).
    cpu_init_s: f64,
    readiness_delay_s: f64,
}

/// The result for one vector, as `capsim hpa eval` prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorOutcome {
    pub id: String,
    pub pass: bool,
    pub actual: Value,
}

impl VectorOutcome {
    pub fn to_json_line(&self) -> String {
        json!({"id": self.id, "pass": self.pass, "actual": self.actual}).to_string()
    }
}

impl VectorFile {
    /// Parses and checks the schema (top-level `schema`, `vectors` with `id`, `kind`, `input`, `expected`).
    pub fn parse(text: &str) -> Result<VectorFile, VectorFileError> {
        let root: Value = serde_json::from_str(text)?;
        let obj = root
            .as_object()
            .ok_or_else(|| VectorFileError::Schema("top level is not an object".into()))?;
        match obj.get("schema").and_then(Value::as_str) {
            Some(SCHEMA) => {}
            Some(other) => return Err(VectorFileError::Schema(format!("schema is {other:?}"))),
            None => return Err(VectorFileError::Schema("missing \"schema\" key".into())),
        }
        let list = obj
            .get("vectors")
            .and_then(Value::as_array)
            .ok_or_else(|| VectorFileError::Schema("missing \"vectors\" array".into()))?;
        let mut vectors = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            let field = |k: &str| {
                v.get(k)
                    .ok_or_else(|| VectorFileError::Schema(format!("vectors[{i}]: missing {k:?}")))
            };
            let text_field = |k: &str| {
                field(k)?
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| VectorFileError::Schema(format!("vectors[{i}].{k}: expected a string")))
            };
            vectors.push(Vector {
                id: text_field("id")?,
                kind: text_field("kind")?,
                input: field("input")?.clone(),
                expected: field("expected")?.clone(),
            });
        }
        let timing = obj.get("conventions").and_then(|c| c.get("test_timing_constants"));
        let get = |k: &str, d: f64| timing.and_then(|t| t.get(k)).and_then(Value::as_f64).unwrap_or(d);
        Ok(VectorFile {
            vectors,
            cpu_init_s: get("cpu_initialization_period_s", TEST_CPU_INIT_S),
            readiness_delay_s: get("initial_readiness_delay_s", TEST_READINESS_DELAY_S),
        })
    }

    /// Evaluates every vector, in file order.
    pub fn evaluate_all(&self) -> Vec<VectorOutcome> {
        self.vectors.iter().map(|v| self.evaluate(v)).collect()
    }

    /// Evaluates one vector; never panics on bad input (it becomes a failed outcome with an error).
    pub fn evaluate(&self, v: &Vector) -> VectorOutcome {
        let result = match v.kind.as_str() {
            "replica_calc.resource_utilization" => self.resource_utilization(&v.input),
            "replica_calc.pods_metric" => self.pods_metric(&v.input),
            "replica_calc.object_value" => self.object_value(&v.input),
            "replica_calc.object_average_value" => object_average_value(&v.input),
            "replica_calc.external_value" => self.external_value(&v.input),
            "replica_calc.external_average_value" => external_average_value(&v.input),
            "replica_calc.group_pods" => self.group_pods(&v.input),
            "replica_calc.calculate_requests" => calculate_requests_vector(&v.input),
            "normalize.legacy_rules" => legacy_rules(&v.input),
            "normalize.scale_up_limit" => scale_limit(&v.input, true),
            "normalize.scale_down_limit" => scale_limit(&v.input, false),
            "normalize.legacy_stabilization" => legacy_stabilization(&v.input),
            "normalize.behavior_rate" => behavior_rate(&v.input),
            "normalize.behavior_stabilization" => behavior_stabilization(&v.input),
            "normalize.store_scale_event" => store_scale_event_vector(&v.input),
            "controller.reconcile" => controller_reconcile(&v.input),
            other => Err(Outcome::Unsupported(format!("unsupported kind {other:?}"))),
        };
        let (actual, pass) = match result {
            Ok(actual) => {
                let pass = v.expected.get("error_contains").is_none() && matches(&v.kind, &v.expected, &actual);
                (actual, pass)
            }
            Err(Outcome::CalcError(msg)) => {
                // An error vector passes when capsim reports an error.
                let pass = v.expected.get("error_contains").is_some();
                (json!({"error": msg}), pass)
            }
            Err(Outcome::BadInput(msg)) => (json!({"error": format!("bad vector input: {msg}")}), false),
            Err(Outcome::Unsupported(msg)) => (json!({"error": msg}), false),
        };
        VectorOutcome {
            id: v.id.clone(),
            pass,
            actual,
        }
    }

    fn calculator(&self, input: &Value) -> ReplicaCalculator {
        let s = |k: &str, d: f64| input.get(k).and_then(Value::as_f64).unwrap_or(d);
        ReplicaCalculator {
            timing: ReadinessTiming {
                now: NOW,
                cpu_initialization_period: SimDuration::from_secs_f64(s(
                    "cpu_initialization_period_s",
                    self.cpu_init_s,
                )),
                initial_readiness_delay: SimDuration::from_secs_f64(s(
                    "initial_readiness_delay_s",
                    self.readiness_delay_s,
                )),
            },
            pod_level_resources: input
                .get("pod_level_resources_feature")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        }
    }

    fn resource_utilization(&self, input: &Value) -> Result<Value, Outcome> {
        let (pods, ids) = pods(input)?;
        let samples = resource_samples(input, "resource_metrics", &ids)?;
        let container = container_name(input);
        let calc = self.calculator(input);
        let resource = resource(input)?;
        let tol = tolerances(input)?;
        let current = int32(input, "current_replicas")?;
        let result = if let Some(avg) = input.get("target_average_value_milli").filter(|v| !v.is_null()) {
            let t = avg
                .as_i64()
                .ok_or_else(|| bad("target_average_value_milli: expected an integer"))?;
            calc.get_raw_resource_replicas(current, t, resource, tol, container.as_deref(), &pods, &samples)
        } else {
            let t = int32(input, "target_average_utilization_percent")?;
            calc.get_resource_replicas(current, t, resource, tol, container.as_deref(), &pods, &samples)
        };
        let p = result.map_err(|e| Outcome::CalcError(e.to_string()))?;
        Ok(json!({
            "replicas": p.replicas,
            "utilization_percent": p.usage,
            "raw_average_milli": p.raw_average,
            "usage_milli": p.raw_average.unwrap_or(p.usage),
        }))
    }

    fn pods_metric(&self, input: &Value) -> Result<Value, Outcome> {
        let (pods, ids) = pods(input)?;
        let samples = pod_metric_samples(input, &ids)?;
        let p = self
            .calculator(input)
            .get_metric_replicas(
                int32(input, "current_replicas")?,
                int64(input, "target_average_value_milli")?,
                "qps",
                tolerances(input)?,
                &pods,
                &samples,
            )
            .map_err(|e| Outcome::CalcError(e.to_string()))?;
        Ok(replicas_usage(&p))
    }

    fn object_value(&self, input: &Value) -> Result<Value, Outcome> {
        let (pods, _) = pods(input)?;
        let p = self
            .calculator(input)
            .get_object_metric_replicas(
                int32(input, "current_replicas")?,
                int64(input, "target_value_milli")?,
                int64(input, "object_metric_value_milli")?,
                tolerances(input)?,
                &pods,
            )
            .map_err(|e| Outcome::CalcError(e.to_string()))?;
        Ok(replicas_usage(&p))
    }

    fn external_value(&self, input: &Value) -> Result<Value, Outcome> {
        let (pods, _) = pods(input)?;
        let values = int64_list(input, "external_metric_values_milli")?;
        if values.is_empty() {
            return Err(Outcome::CalcError(MetricsError::no_external_metrics().to_string()));
        }
        let p = self
            .calculator(input)
            .get_external_metric_replicas(
                int32(input, "current_replicas")?,
                int64(input, "target_value_milli")?,
                &values,
                tolerances(input)?,
                &pods,
            )
            .map_err(|e| Outcome::CalcError(e.to_string()))?;
        Ok(replicas_usage(&p))
    }

    fn group_pods(&self, input: &Value) -> Result<Value, Outcome> {
        let (pods, ids) = pods(input)?;
        let mut metrics = PodMetricsInfo::new();
        if let Some(m) = input.get("metrics").and_then(Value::as_object) {
            for (name, s) in m {
                let id = ids.get(name).copied().unwrap_or(u64::MAX - metrics.len() as u64);
                metrics.insert(
                    id,
                    PodMetric {
                        value: int64(s, "value")?,
                        timestamp: time(s.get("timestamp"))?.unwrap_or(NOW),
                        window: secs(s.get("window_s"), 60.0)?,
                    },
                );
            }
        }
        let res = match input.get("resource").and_then(Value::as_str) {
            Some("cpu") => Some(MetricResource::Cpu),
            Some("memory") => Some(MetricResource::Memory),
            _ => None,
        };
        let g = group_pods(&pods, &metrics, res, &self.calculator(input).timing);
        let names = |set: &std::collections::BTreeSet<PodId>| {
            let mut v: Vec<String> = pods
                .iter()
                .filter(|p| set.contains(&p.id))
                .map(|p| p.name.to_string())
                .collect();
            v.sort();
            v
        };
        Ok(json!({
            "ready_count": g.ready_count,
            "unready": names(&g.unready),
            "missing": names(&g.missing),
            "ignored": names(&g.ignored),
        }))
    }
}

/// Why a vector produced no result.
enum Outcome {
    /// capsim's code returned an error (what error vectors expect).
    CalcError(String),
    /// The vector's input does not fit the schema.
    BadInput(String),
    Unsupported(String),
}

fn bad(msg: impl Into<String>) -> Outcome {
    Outcome::BadInput(msg.into())
}

// ------------------------------------------------------------------------------------------ comparison

fn sorted(v: &Value) -> Value {
    match v.as_array() {
        Some(a) => {
            let mut a = a.clone();
            a.sort_by_key(|x| x.to_string());
            Value::Array(a)
        }
        None => v.clone(),
    }
}

fn num_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => match (a.as_i64(), b.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x == y,
        },
        _ => a == b,
    }
}

/// `actual` matches when every expected key (but `error_contains`) is equal; `conditions` compares only
/// the condition types the vector asserts; group_pods' name lists compare as sets.
fn matches(kind: &str, expected: &Value, actual: &Value) -> bool {
    let Some(exp) = expected.as_object() else { return false };
    exp.iter()
        .filter(|(k, _)| k.as_str() != "error_contains")
        .all(|(k, want)| {
            let Some(got) = actual.get(k) else { return false };
            match k.as_str() {
                "conditions" => want
                    .as_object()
                    .is_none_or(|w| w.iter().all(|(t, r)| got.get(t).is_some_and(|g| g == r))),
                "unready" | "missing" | "ignored" if kind == "replica_calc.group_pods" => sorted(want) == sorted(got),
                _ => num_eq(want, got),
            }
        })
}

// ------------------------------------------------------------------------------------------ input helpers

fn int64(v: &Value, k: &str) -> Result<i64, Outcome> {
    v.get(k)
        .and_then(Value::as_i64)
        .ok_or_else(|| bad(format!("{k}: expected an integer")))
}
fn int32(v: &Value, k: &str) -> Result<i32, Outcome> {
    let x = int64(v, k)?;
    i32::try_from(x).map_err(|_| bad(format!("{k}: {x} is out of the int32 range")))
}
fn int64_list(v: &Value, k: &str) -> Result<Vec<i64>, Outcome> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_i64().ok_or_else(|| bad(format!("{k}: expected integers"))))
            .collect(),
        Some(_) => Err(bad(format!("{k}: expected a list"))),
    }
}
fn array<'a>(v: &'a Value, k: &str) -> Result<&'a [Value], Outcome> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(bad(format!("{k}: expected a list"))),
    }
}

/// A time relative to now: `"zero"` (Go zero time), seconds (negative = past), or null.
fn time(v: Option<&Value>) -> Result<Option<SimTime>, Outcome> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s == "zero" => Ok(Some(SimTime::ZERO)),
        Some(Value::String(s)) => match s.strip_prefix("zero") {
            // "zero+10" = Go zero time plus 10 s
            Some(rest) => rest
                .trim()
                .trim_start_matches('+')
                .trim()
                .parse::<f64>()
                .map(|d| Some(SimTime::ZERO + SimDuration::from_secs_f64(d)))
                .map_err(|_| bad(format!("invalid time {s:?}"))),
            None => Err(bad(format!("invalid time {s:?}"))),
        },
        Some(n) => {
            let s = n.as_f64().ok_or_else(|| bad(format!("invalid time {n}")))?;
            let ms = (s * 1000.0).round() as i64;
            Ok(Some(SimTime(NOW.0.saturating_add_signed(ms))))
        }
    }
}
fn secs(v: Option<&Value>, default: f64) -> Result<SimDuration, Outcome> {
    match v {
        None | Some(Value::Null) => Ok(SimDuration::from_secs_f64(default)),
        Some(n) => n
            .as_f64()
            .map(SimDuration::from_secs_f64)
            .ok_or_else(|| bad(format!("invalid seconds {n}"))),
    }
}
fn ago(v: &Value) -> Result<SimTime, Outcome> {
    let age = v
        .get("age_s")
        .and_then(Value::as_f64)
        .ok_or_else(|| bad("age_s: expected a number"))?;
    Ok(SimTime(NOW.0.saturating_add_signed(-((age * 1000.0).round() as i64))))
}

fn tolerances(input: &Value) -> Result<Tolerances, Outcome> {
    match input.get("tolerance") {
        None | Some(Value::Null) => Ok(Tolerances::both(TEST_TOLERANCE)),
        Some(Value::Object(t)) => {
            let get = |k: &str| {
                t.get(k)
                    .and_then(Value::as_f64)
                    .ok_or_else(|| bad(format!("tolerance.{k}: expected a number")))
            };
            Ok(Tolerances {
                scale_down: get("scale_down")?,
                scale_up: get("scale_up")?,
            })
        }
        Some(n) => n
            .as_f64()
            .map(Tolerances::both)
            .ok_or_else(|| bad("tolerance: expected a number or {scale_down, scale_up}")),
    }
}

fn resource(input: &Value) -> Result<MetricResource, Outcome> {
    match input.get("resource").and_then(Value::as_str) {
        None | Some("cpu") => Ok(MetricResource::Cpu),
        Some("memory") => Ok(MetricResource::Memory),
        Some(other) => Err(bad(format!("resource {other:?} is not cpu or memory"))),
    }
}

fn container_name(input: &Value) -> Option<String> {
    input
        .get("container")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn opt_i64(v: &Value, k: &str) -> Result<Option<i64>, Outcome> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(format!("{k}: expected an integer or null"))),
    }
}

/// Requests/usages of a container. The schema names cpu fields only (`cpu_request_m`, `cpu_usage_m`); a
/// memory vector may use its own keys, else the cpu-named value is taken as the memory amount too (only
/// the resource under test is read).
fn amounts(v: &Value, cpu_key: &str, mem_key: &str) -> Result<ResourceAmounts, Outcome> {
    let cpu = opt_i64(v, cpu_key)?;
    let memory = match v.get(mem_key) {
        Some(_) => opt_i64(v, mem_key)?,
        None => cpu,
    };
    Ok(ResourceAmounts {
        cpu_milli: cpu,
        memory_milli: memory,
    })
}

fn containers(v: &Value, key: &str, sidecars_only: bool) -> Result<Vec<ObservedContainer>, Outcome> {
    let mut out = Vec::new();
    for c in array(v, key)? {
        if sidecars_only {
            let restartable = c.get("restart_policy").and_then(Value::as_str) == Some("Always")
                || c.get("restartPolicy").and_then(Value::as_str) == Some("Always")
                || c.get("restartable").and_then(Value::as_bool) == Some(true)
                || c.get("sidecar").and_then(Value::as_bool) == Some(true);
            if !restartable {
                continue;
            }
        }
        out.push(ObservedContainer {
            name: Arc::from(c.get("name").and_then(Value::as_str).unwrap_or("")),
            requests: amounts(c, "cpu_request_m", "memory_request_milli")?,
        });
    }
    Ok(out)
}

/// Pods with ids in list order, and a name → id map.
fn pods(input: &Value) -> Result<(Vec<ObservedPod>, BTreeMap<String, PodId>), Outcome> {
    let mut out = Vec::new();
    let mut ids = BTreeMap::new();
    for (i, p) in array(input, "pods")?.iter().enumerate() {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("pods[{i}].name: expected a string")))?;
        let phase = match p.get("phase").and_then(Value::as_str).unwrap_or("Running") {
            "Pending" => PodPhase::Pending,
            "Running" => PodPhase::Running,
            "Succeeded" => PodPhase::Succeeded,
            "Failed" => PodPhase::Failed,
            _ => PodPhase::Unknown,
        };
        let ready = match p.get("ready_condition") {
            None | Some(Value::Null) => None,
            Some(c) => Some(ReadyCondition {
                status: match c.get("status").and_then(Value::as_str) {
                    Some("True") => ConditionStatus::True,
                    Some("False") => ConditionStatus::False,
                    _ => ConditionStatus::Unknown,
                },
                last_transition: time(c.get("last_transition"))?.unwrap_or(SimTime::ZERO),
            }),
        };
        let id = i as PodId;
        ids.insert(name.to_string(), id);
        out.push(ObservedPod {
            id,
            name: Arc::from(name),
            phase,
            deleting: p.get("deleting").and_then(Value::as_bool).unwrap_or(false),
            start_time: time(p.get("start_time"))?,
            ready,
            containers: containers(p, "containers", false)?,
            sidecars: containers(p, "init_containers", true)?,
            pod_requests: amounts(p, "pod_level_request_m", "pod_level_memory_request_milli")?,
        });
    }
    Ok((out, ids))
}

/// Metric samples may name pods that are not listed (superfluous metrics): they get fresh ids.
fn pod_id(ids: &mut BTreeMap<String, PodId>, name: &str) -> PodId {
    let next = ids.len() as PodId + 1_000_000;
    *ids.entry(name.to_string()).or_insert(next)
}

fn resource_samples(
    input: &Value,
    key: &str,
    ids: &BTreeMap<String, PodId>,
) -> Result<Vec<PodResourceSample>, Outcome> {
    let mut ids = ids.clone();
    let mut out = Vec::new();
    for m in array(input, key)? {
        let pod = m
            .get("pod")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("{key}[].pod: expected a string")))?;
        let mut cs = Vec::new();
        for c in array(m, "containers")? {
            cs.push(ContainerUsage {
                name: Arc::from(c.get("name").and_then(Value::as_str).unwrap_or("")),
                usage: amounts(c, "cpu_usage_m", "memory_usage_milli")?,
            });
        }
        out.push(PodResourceSample {
            pod: pod_id(&mut ids, pod),
            timestamp: time(m.get("timestamp"))?.unwrap_or(NOW),
            window: secs(m.get("window_s"), 60.0)?,
            containers: cs,
        });
    }
    Ok(out)
}

fn pod_metric_samples(input: &Value, ids: &BTreeMap<String, PodId>) -> Result<Vec<PodMetricSample>, Outcome> {
    let mut ids = ids.clone();
    let mut out = Vec::new();
    for m in array(input, "pod_metrics")? {
        let pod = m
            .get("pod")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("pod_metrics[].pod: expected a string"))?;
        out.push(PodMetricSample {
            pod: pod_id(&mut ids, pod),
            value_milli: int64(m, "value_m")?,
            timestamp: time(m.get("timestamp"))?.unwrap_or(NOW),
            window: secs(m.get("window_s"), 60.0)?,
        });
    }
    Ok(out)
}

fn replicas_usage(p: &Proposal) -> Value {
    json!({"replicas": p.replicas, "usage_milli": p.usage})
}

// ------------------------------------------------------------------------------------------ kinds

fn object_average_value(input: &Value) -> Result<Value, Outcome> {
    let p = get_per_pod_metric_replicas(
        int32(input, "status_replicas")?,
        int64(input, "target_average_value_milli")?,
        int64(input, "object_metric_value_milli")?,
        tolerances(input)?,
    );
    Ok(replicas_usage(&p))
}

fn external_average_value(input: &Value) -> Result<Value, Outcome> {
    let values = int64_list(input, "external_metric_values_milli")?;
    if values.is_empty() {
        return Err(Outcome::CalcError(MetricsError::no_external_metrics().to_string()));
    }
    let p = get_external_per_pod_metric_replicas(
        int32(input, "status_replicas")?,
        int64(input, "target_average_value_milli")?,
        &values,
        tolerances(input)?,
    );
    Ok(replicas_usage(&p))
}

fn calculate_requests_vector(input: &Value) -> Result<Value, Outcome> {
    let (pods, _) = pods(input)?;
    let feature = input
        .get("pod_level_resources_feature")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let container = container_name(input);
    let r = calculate_requests(&pods, container.as_deref(), resource(input)?, feature)
        .map_err(|e| Outcome::CalcError(e.to_string()))?;
    let mut out = Map::new();
    for p in &pods {
        if let Some(v) = r.get(&p.id) {
            out.insert(p.name.to_string(), json!(v));
        }
    }
    Ok(json!({"requests_milli": out}))
}

fn legacy_rules(input: &Value) -> Result<Value, Outcome> {
    let f = |k: &str, d: f64| input.get(k).and_then(Value::as_f64).unwrap_or(d);
    let defaults = LegacyScaleUpLimit::default();
    let limit = LegacyScaleUpLimit {
        factor: f("scale_up_limit_factor", defaults.factor),
        minimum: f("scale_up_limit_minimum", defaults.minimum),
    };
    let l = convert_desired_replicas_with_rules(
        int32(input, "current_replicas")?,
        int32(input, "desired_replicas")?,
        int32(input, "min_replicas")?,
        int32(input, "max_replicas")?,
        limit,
    );
    Ok(json!({"replicas": l.replicas, "limiting_reason": l.reason.to_string()}))
}

/// Rules as written in a vector: `{stabilization_window_s, select_policy, policies[{type, value, period_s}]}`,
/// defaulted per direction like the API server. `Ok(None)` for null.
fn rules(v: Option<&Value>, up: bool) -> Result<Option<ScalingRules>, Outcome> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let mut r = if up {
        ScalingRules::default_scale_up()
    } else {
        ScalingRules::default_scale_down()
    };
    if let Some(w) = v.get("stabilization_window_s").filter(|w| !w.is_null()) {
        let w = w
            .as_i64()
            .ok_or_else(|| bad("stabilization_window_s: expected an integer"))?;
        r.stabilization_window_seconds =
            Some(i32::try_from(w).map_err(|_| bad("stabilization_window_s: out of range"))?);
    }
    if let Some(s) = v.get("select_policy").and_then(Value::as_str) {
        r.select_policy = match s {
            "Max" => SelectPolicy::Max,
            "Min" => SelectPolicy::Min,
            "Disabled" => SelectPolicy::Disabled,
            other => return Err(bad(format!("select_policy {other:?}"))),
        };
    }
    let ps = array(v, "policies")?;
    if !ps.is_empty() {
        r.policies = ps
            .iter()
            .map(|p| {
                Ok(ScalingPolicy {
                    kind: match p.get("type").and_then(Value::as_str) {
                        Some("Pods") => PolicyType::Pods,
                        Some("Percent") => PolicyType::Percent,
                        other => return Err(bad(format!("policy type {other:?}"))),
                    },
                    value: int32(p, "value")?,
                    period_seconds: int32(p, "period_s")?,
                })
            })
            .collect::<Result<_, Outcome>>()?;
    }
    if let Some(t) = v.get("tolerance").and_then(Value::as_f64) {
        r.tolerance = Some(t);
    }
    Ok(Some(r))
}

fn events(v: &Value, k: &str) -> Result<Vec<ScaleEvent>, Outcome> {
    array(v, k)?
        .iter()
        .map(|e| {
            Ok(ScaleEvent {
                replica_change: int32(e, "change")?,
                timestamp: ago(e)?,
                outdated: e.get("outdated").and_then(Value::as_bool).unwrap_or(false),
            })
        })
        .collect()
}

fn recommendations(v: &Value, k: &str) -> Result<Vec<TimestampedRecommendation>, Outcome> {
    array(v, k)?
        .iter()
        .map(|r| {
            Ok(TimestampedRecommendation {
                recommendation: int32(r, "replicas")?,
                timestamp: ago(r)?,
            })
        })
        .collect()
}

fn scale_limit(input: &Value, up: bool) -> Result<Value, Outcome> {
    let r = rules(input.get("rules"), up)?.ok_or_else(|| bad("rules: required"))?;
    let (ups, downs) = (events(input, "scale_up_events")?, events(input, "scale_down_events")?);
    let current = int32(input, "current_replicas")?;
    let (limit, _) = if up {
        calculate_scale_up_limit_with_scaling_rules(current, &ups, &downs, &r, NOW)
    } else {
        calculate_scale_down_limit_with_behaviors(current, &ups, &downs, &r, NOW)
    };
    Ok(json!({"limit": limit}))
}

fn legacy_stabilization(input: &Value) -> Result<Value, Outcome> {
    let mut recs = recommendations(input, "recommendations")?;
    let window = secs(input.get("downscale_stabilization_window_s"), 300.0)?;
    let s = stabilize_recommendation(&mut recs, int32(input, "prenormalized_desired_replicas")?, window, NOW);
    Ok(json!({"stabilized_replicas": s, "recommendation_log_length": recs.len()}))
}

fn behavior_rate(input: &Value) -> Result<Value, Outcome> {
    let up = match rules(input.get("scale_up_rules_effective"), true)? {
        Some(r) => r,
        None => rules(input.get("scale_up_rules_spec"), true)?.unwrap_or_else(ScalingRules::default_scale_up),
    };
    let down = match rules(input.get("scale_down_rules_effective"), false)? {
        Some(r) => r,
        None => rules(input.get("scale_down_rules_spec"), false)?.unwrap_or_else(ScalingRules::default_scale_down),
    };
    let args = NormalizationArg {
        scale_up: &up,
        scale_down: &down,
        min_replicas: int32(input, "min_replicas")?,
        max_replicas: int32(input, "max_replicas")?,
        current_replicas: int32(input, "current_replicas")?,
        desired_replicas: int32(input, "prenormalized_desired_replicas")?,
    };
    let l = convert_desired_replicas_with_behavior_rate(
        &args,
        &events(input, "scale_up_events")?,
        &events(input, "scale_down_events")?,
        NOW,
    );
    Ok(json!({"replicas": l.replicas, "limiting_reason": l.reason.to_string()}))
}

fn behavior_stabilization(input: &Value) -> Result<Value, Outcome> {
    let mut recs = recommendations(input, "recommendations")?;
    let (s, _) = stabilize_recommendation_with_behaviors(
        &mut recs,
        int32(input, "current_replicas")?,
        int32(input, "prenormalized_desired_replicas")?,
        secs(input.get("scale_up_stabilization_window_s"), 0.0)?,
        secs(input.get("scale_down_stabilization_window_s"), 300.0)?,
        NOW,
    );
    let values: Vec<i32> = recs.iter().map(|r| r.recommendation).collect();
    Ok(json!({"stabilized_replicas": s, "stored_recommendation_values": values}))
}

fn store_scale_event_vector(input: &Value) -> Result<Value, Outcome> {
    let r = rules(input.get("rules"), true)?;
    let prev = int32(input, "previous_replicas")?;
    let change = int32(input, "replica_change")?;
    let previous = events(input, "previous_events")?;
    let before = get_replicas_change_per_period(60, &previous, NOW);
    // Upstream runs the same table for a scale-up and a scale-down; both must agree.
    let mut results = Vec::new();
    for up in [true, false] {
        let behavior = r.as_ref().map(|r| Behavior {
            scale_up: r.clone(),
            scale_down: r.clone(),
        });
        let (mut ups, mut downs) = if up {
            (previous.clone(), Vec::new())
        } else {
            (Vec::new(), previous.clone())
        };
        let new = if up {
            prev.saturating_add(change)
        } else {
            prev.saturating_sub(change)
        };
        store_scale_event(behavior.as_ref(), &mut ups, &mut downs, prev, new, NOW);
        let list = if up { ups } else { downs };
        results.push(
            list.iter()
                .map(|e| json!({"change": e.replica_change, "outdated": e.outdated}))
                .collect::<Vec<_>>(),
        );
    }
    if results[0] != results[1] {
        return Err(Outcome::CalcError(format!(
            "scale-up and scale-down bookkeeping differ: {:?} vs {:?}",
            results[0], results[1]
        )));
    }
    Ok(json!({"change_within_last_60s_before_store": before, "events_after": results[0]}))
}

fn target(t: &Value) -> Result<MetricTarget, Outcome> {
    match t.get("type").and_then(Value::as_str) {
        Some("Utilization") => Ok(MetricTarget::Utilization(int32(t, "average_utilization")?)),
        Some("AverageValue") => Ok(MetricTarget::AverageValue(int64(t, "average_value_milli")?)),
        Some("Value") => Ok(MetricTarget::Value(int64(t, "value_milli")?)),
        other => Err(bad(format!("target type {other:?}"))),
    }
}

fn metric_spec(m: &Value) -> Result<MetricSpec, Outcome> {
    let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
    let name = || m.get("metric").and_then(Value::as_str).unwrap_or("qps").to_string();
    let res = || match m.get("name").and_then(Value::as_str) {
        Some("memory") => Ok(MetricResource::Memory),
        Some("cpu") | None => Ok(MetricResource::Cpu),
        Some(other) => Err(bad(format!("resource {other:?}"))),
    };
    // A target with no usable type is still an HPA the controller reconciles: the pre-checks
    // (replicas below min or above max) act before any metric is read, and the metric fails when it
    // is computed, with upstream's "neither ... target was set" error. So it becomes the one target
    // kind this metric type rejects, instead of refusing the vector up front.
    let unusable = match ty {
        "Object" | "External" => MetricTarget::Utilization(0),
        _ => MetricTarget::Value(0),
    };
    let tgt = || match m.get("target") {
        Some(t)
            if matches!(
                t.get("type").and_then(Value::as_str),
                Some("Utilization" | "AverageValue" | "Value")
            ) =>
        {
            target(t)
        }
        _ => Ok(unusable),
    };
    Ok(match ty {
        "Resource" => MetricSpec::Resource {
            resource: res()?,
            target: tgt()?,
        },
        "ContainerResource" => MetricSpec::ContainerResource {
            resource: res()?,
            container: Arc::from(m.get("container").and_then(Value::as_str).unwrap_or("")),
            target: tgt()?,
        },
        "Pods" => MetricSpec::Pods {
            metric: name(),
            target: tgt()?,
        },
        "Object" => {
            // "apps/v1 Deployment some-deployment"
            let described = m.get("described_object").and_then(Value::as_str).unwrap_or("");
            let mut parts = described.split_whitespace().rev();
            let object = parts.next().unwrap_or("").to_string();
            let kind = parts.next().unwrap_or("").to_string();
            MetricSpec::Object {
                metric: name(),
                kind,
                name: object,
                target: tgt()?,
            }
        }
        "External" => MetricSpec::External {
            metric: name(),
            target: tgt()?,
        },
        other => MetricSpec::Unknown {
            type_name: other.to_string(),
        },
    })
}

fn controller_reconcile(input: &Value) -> Result<Value, Outcome> {
    let hpa = input.get("hpa").ok_or_else(|| bad("hpa: required"))?;
    let metrics = array(hpa, "metrics")?
        .iter()
        .map(metric_spec)
        .collect::<Result<Vec<_>, _>>()?;
    let behavior = match hpa.get("behavior").filter(|b| !b.is_null()) {
        None => None,
        Some(b) => Some(Behavior {
            scale_up: rules(b.get("scale_up"), true)?.unwrap_or_else(ScalingRules::default_scale_up),
            scale_down: rules(b.get("scale_down"), false)?.unwrap_or_else(ScalingRules::default_scale_down),
        }),
    };
    let spec = HpaSpec {
        name: "test-hpa".into(),
        namespace: "test-namespace".into(),
        scale_target: ScaleTargetRef {
            api_version: Some("apps/v1".into()),
            kind: "Deployment".into(),
            name: "test-rc".into(),
        },
        min_replicas: opt_i64(hpa, "min_replicas")?
            .map_or(Ok(1), |m| i32::try_from(m).map_err(|_| bad("min_replicas")))?,
        max_replicas: int32(hpa, "max_replicas")?,
        metrics,
        behavior,
    };

    let c = input.get("controller").cloned().unwrap_or(Value::Null);
    let f = |k: &str| c.get(k).and_then(Value::as_f64);
    let mut config = HpaControllerConfig::default();
    if let Some(s) = f("sync_period_s") {
        config.sync_period = SimDuration::from_secs_f64(s);
    }
    if let Some(s) = f("downscale_stabilization_window_s") {
        config.downscale_stabilization = SimDuration::from_secs_f64(s);
    }
    if let Some(t) = f("tolerance") {
        config.tolerance = t;
    }
    config.cpu_initialization_period =
        SimDuration::from_secs_f64(f("cpu_initialization_period_s").unwrap_or(TEST_CPU_INIT_S));
    config.initial_readiness_delay =
        SimDuration::from_secs_f64(f("initial_readiness_delay_s").unwrap_or(TEST_READINESS_DELAY_S));
    // horizontal_test.go overrides the package constant; honour the vector's value.
    if let Some(x) = f("scale_up_limit_factor") {
        config.scale_up_limit.factor = x;
    }
    if let Some(x) = f("scale_up_limit_minimum") {
        config.scale_up_limit.minimum = x;
    }

    let scale = input.get("scale").ok_or_else(|| bad("scale: required"))?;
    let (pods, ids) = pods(input)?;
    let mut resource_metrics = resource_samples(input, "resource_metrics", &ids)?;
    // A failing resource metrics API (the fake client errors for every resource metric call): no items.
    let resource_fetch_error = array(hpa, "metrics")?.iter().any(|m| {
        m.get("fetch_error").and_then(Value::as_bool) == Some(true)
            && matches!(
                m.get("type").and_then(Value::as_str),
                Some("Resource" | "ContainerResource")
            )
    });
    if resource_fetch_error {
        resource_metrics.clear();
    }
    let pod_samples = pod_metric_samples(input, &ids)?;
    let object = opt_i64(input, "object_metric_value_milli")?;
    let external = int64_list(input, "external_metric_values_milli")?;
    let metric_values = array(hpa, "metrics")?
        .iter()
        .zip(&spec.metrics)
        .map(|(raw, m)| {
            if raw.get("fetch_error").and_then(Value::as_bool) == Some(true) {
                return Some(Err(MetricsError(
                    "metric fetch failed (injected by the test vector)".into(),
                )));
            }
            match m {
                MetricSpec::Pods { .. } => Some(Ok(MetricValues::Pods(pod_samples.clone()))),
                MetricSpec::Object { .. } => Some(
                    object
                        .map(MetricValues::Object)
                        .ok_or_else(MetricsError::no_custom_metrics),
                ),
                MetricSpec::External { .. } => Some(Ok(MetricValues::External(external.clone()))),
                _ => None,
            }
        })
        .collect();
    let obs = HpaObservation {
        spec_replicas: int32(scale, "spec_replicas")?,
        status_replicas: opt_i64(scale, "status_replicas")?.map_or(int32(scale, "spec_replicas"), |s| {
            i32::try_from(s).map_err(|_| bad("status_replicas"))
        })?,
        pods,
        resource_metrics,
        metric_values,
    };

    let mut state = HpaState {
        recommendations: match input.get("recommendation_history") {
            None | Some(Value::Null) => None,
            Some(_) => Some(recommendations(input, "recommendation_history")?),
        },
        scale_up_events: events(input, "scale_up_events")?,
        scale_down_events: events(input, "scale_down_events")?,
        last_scale_time: None,
        ..Default::default()
    };
    let d = reconcile(&spec, &config, &mut state, &obs, NOW);
    let mut conditions = Map::new();
    for c in d.conditions.iter() {
        conditions.insert(c.type_.to_string(), json!(c.reason.to_string()));
    }
    Ok(json!({
        "desired_replicas": d.desired_replicas,
        "scale_updated": d.scale_updated,
        "conditions": conditions,
    }))
}
