//! A validated, defaulted HPA spec built from `autoscaling/v2 HorizontalPodAutoscaler`.
//!
//! Parsing is in two stages: the manifest is deserialized into `k8s_openapi` types, then
//! [`HpaSpec::from_manifest`] applies the API server's defaulting (upstream:
//! kubernetes/kubernetes pkg/apis/autoscaling/v2/defaults.go) and validation (upstream:
//! pkg/apis/autoscaling/validation/validation.go). Each error names the field path.

use super::config::HpaControllerConfig;
use super::observation::MetricResource;
use crate::model::units::Quantity;
use k8s_openapi::api::autoscaling::v2;
use std::fmt;
use std::sync::Arc;

/// `spec.scaleTargetRef`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleTargetRef {
    pub api_version: Option<String>,
    pub kind: String,
    pub name: String,
}

/// A metric target after validation (values in milli-units, `Quantity.MilliValue()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricTarget {
    /// `type: Utilization`, `averageUtilization` in percent of the request.
    Utilization(i32),
    /// `type: AverageValue`, per pod.
    AverageValue(i64),
    /// `type: Value`, total.
    Value(i64),
}

/// `spec.metrics[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricSpec {
    Resource {
        resource: MetricResource,
        target: MetricTarget,
    },
    ContainerResource {
        resource: MetricResource,
        container: Arc<str>,
        target: MetricTarget,
    },
    Pods {
        metric: String,
        target: MetricTarget,
    },
    Object {
        metric: String,
        /// `describedObject.kind`, `describedObject.name`.
        kind: String,
        name: String,
        target: MetricTarget,
    },
    External {
        metric: String,
        target: MetricTarget,
    },
    /// A source type the controller does not know. The API server rejects it; the controller handles it
    /// (condition `InvalidMetricSourceType`), and upstream's controller tests exercise that branch.
    Unknown {
        type_name: String,
    },
}

impl MetricSpec {
    /// Upstream's `metricNameProposal` (e.g. `cpu resource utilization (percentage of request)`).
    pub fn describe(&self) -> String {
        match self {
            MetricSpec::Resource { resource, target } => match target {
                MetricTarget::Utilization(_) => format!("{resource} resource utilization (percentage of request)"),
                _ => format!("{resource} resource"),
            },
            MetricSpec::ContainerResource { resource, target, .. } => match target {
                MetricTarget::Utilization(_) => {
                    format!("{resource} container resource utilization (percentage of request)")
                }
                _ => format!("{resource} container resource"),
            },
            MetricSpec::Pods { metric, .. } => format!("pods metric {metric}"),
            MetricSpec::Object { metric, kind, .. } => format!("{kind} metric {metric}"),
            MetricSpec::External { metric, .. } => format!("external metric {metric}"),
            MetricSpec::Unknown { type_name } => format!("unknown metric source {type_name}"),
        }
    }
}

/// `HPAScalingPolicyType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyType {
    Pods,
    Percent,
}

/// `behavior.scaleUp/scaleDown.policies[i]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalingPolicy {
    pub kind: PolicyType,
    pub value: i32,
    pub period_seconds: i32,
}

impl fmt::Display for ScalingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PolicyType::Pods => write!(f, "Pods {}/{}s", self.value, self.period_seconds),
            PolicyType::Percent => write!(f, "Percent {}%/{}s", self.value, self.period_seconds),
        }
    }
}

/// `ScalingPolicySelect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

/// `HPAScalingRules` after API defaulting.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingRules {
    /// `None` only for scale-down when unset: the controller fills it from
    /// `--horizontal-pod-autoscaler-downscale-stabilization`.
    pub stabilization_window_seconds: Option<i32>,
    pub select_policy: SelectPolicy,
    pub policies: Vec<ScalingPolicy>,
    /// Per-direction tolerance (KEP-4951); `None` = the cluster-wide flag.
    pub tolerance: Option<f64>,
}

/// upstream: pkg/apis/autoscaling/v2/defaults.go — default scale-up policies: 4 pods or 100 % per 15 s.
pub const DEFAULT_SCALE_UP_POLICIES: [ScalingPolicy; 2] = [
    ScalingPolicy {
        kind: PolicyType::Pods,
        value: 4,
        period_seconds: 15,
    },
    ScalingPolicy {
        kind: PolicyType::Percent,
        value: 100,
        period_seconds: 15,
    },
];
/// upstream: pkg/apis/autoscaling/v2/defaults.go — default scale-down policy: 100 % per 15 s.
pub const DEFAULT_SCALE_DOWN_POLICIES: [ScalingPolicy; 1] = [ScalingPolicy {
    kind: PolicyType::Percent,
    value: 100,
    period_seconds: 15,
}];
/// upstream: pkg/apis/autoscaling/v2/defaults.go — scale-up stabilization window default 0 s.
pub const DEFAULT_SCALE_UP_STABILIZATION_SECONDS: i32 = 0;

impl ScalingRules {
    /// `GenerateHPAScaleUpRules` with nothing set.
    pub fn default_scale_up() -> Self {
        ScalingRules {
            stabilization_window_seconds: Some(DEFAULT_SCALE_UP_STABILIZATION_SECONDS),
            select_policy: SelectPolicy::Max,
            policies: DEFAULT_SCALE_UP_POLICIES.to_vec(),
            tolerance: None,
        }
    }
    /// `GenerateHPAScaleDownRules` with nothing set (window left to the controller flag).
    pub fn default_scale_down() -> Self {
        ScalingRules {
            stabilization_window_seconds: None,
            select_policy: SelectPolicy::Max,
            policies: DEFAULT_SCALE_DOWN_POLICIES.to_vec(),
            tolerance: None,
        }
    }
    /// The longest `periodSeconds` among the policies (upstream `getLongestPolicyPeriod`).
    pub fn longest_policy_period(&self) -> i32 {
        self.policies.iter().map(|p| p.period_seconds).max().unwrap_or(0)
    }
}

/// `spec.behavior` after defaulting: both directions always present.
#[derive(Clone, Debug, PartialEq)]
pub struct Behavior {
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
}

/// A validated HPA.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaSpec {
    pub name: String,
    pub namespace: String,
    pub scale_target: ScaleTargetRef,
    /// Defaulted to 1 when unset (upstream: horizontal.go `reconcileAutoscaler`).
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub metrics: Vec<MetricSpec>,
    /// `None` = legacy normalization (the API does not default a missing `behavior`).
    pub behavior: Option<Behavior>,
}

/// Default target when `spec.metrics` is empty: cpu at 80 % utilization.
/// upstream: pkg/apis/autoscaling/v2/defaults.go `SetDefaults_HorizontalPodAutoscaler`.
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;
/// upstream: pkg/apis/autoscaling/validation/validation.go `MaxPeriodSeconds`.
pub const MAX_PERIOD_SECONDS: i32 = 1800;
/// upstream: pkg/apis/autoscaling/validation/validation.go `MaxStabilizationWindowSeconds`.
pub const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;

/// One field error, as the API server reports it: `<path>: <message>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// All field errors of one manifest.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("HorizontalPodAutoscaler {name}: {}", .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
pub struct HpaValidationError {
    pub name: String,
    pub errors: Vec<FieldError>,
}

/// The scale target names a Deployment that the scenario does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("HorizontalPodAutoscaler {hpa}: spec.scaleTargetRef: {kind} {name:?} not found (known Deployments: {known})")]
pub struct MissingScaleTarget {
    pub hpa: String,
    pub kind: String,
    pub name: String,
    pub known: String,
}

struct Errs(Vec<FieldError>);

impl Errs {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
}

fn quantity_milli(
    q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity,
    path: &str,
    e: &mut Errs,
) -> Option<i64> {
    match Quantity::parse(&q.0) {
        Ok(v) => Some(v.milli_value()),
        Err(err) => {
            e.push(path, format!("invalid quantity {:?}: {err}", q.0));
            None
        }
    }
}

fn parse_resource(name: &str, path: &str, e: &mut Errs) -> Option<MetricResource> {
    match name {
        "cpu" => Some(MetricResource::Cpu),
        "memory" => Some(MetricResource::Memory),
        "" => {
            e.push(path, "Required value: must specify a resource name");
            None
        }
        other => {
            e.push(
                path,
                format!("Unsupported value: {other:?}: capsim models metrics-server's cpu and memory"),
            );
            None
        }
    }
}

/// upstream: validation.go `validateMetricTarget` (shared checks); returns the parsed values
/// `(value, averageValue, averageUtilization)` in milli-units / percent.
fn validate_metric_target(t: &v2::MetricTarget, path: &str, e: &mut Errs) -> (Option<i64>, Option<i64>, Option<i32>) {
    match t.type_.as_str() {
        "" => e.push(
            format!("{path}.type"),
            "Required value: must specify a metric target type",
        ),
        "Utilization" | "Value" | "AverageValue" => {}
        other => e.push(
            format!("{path}.type"),
            format!("Invalid value: {other:?}: must be either Utilization, Value, or AverageValue"),
        ),
    }
    let mut positive = |field: &str, q: &Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>| {
        let q = q.as_ref()?;
        let v = quantity_milli(q, &format!("{path}.{field}"), e)?;
        if v <= 0 {
            e.push(
                format!("{path}.{field}"),
                format!("Invalid value: {:?}: must be positive", q.0),
            );
            return None;
        }
        Some(v)
    };
    let value = positive("value", &t.value);
    let average_value = positive("averageValue", &t.average_value);
    if let Some(u) = t.average_utilization
        && u < 1
    {
        e.push(
            format!("{path}.averageUtilization"),
            format!("Invalid value: {u}: must be greater than 0"),
        );
    }
    (value, average_value, t.average_utilization)
}

fn required(v: &str, path: String, what: &str, e: &mut Errs) {
    if v.is_empty() {
        e.push(path, format!("Required value: must specify {what}"));
    }
}

/// upstream: apimachinery `IsValidPathSegmentName` (metric names, described objects).
fn path_segment(v: &str, path: String, what: &str, e: &mut Errs) {
    if v.is_empty() {
        e.push(path, format!("Required value: must specify {what}"));
    } else if v == "." || v == ".." {
        e.push(path, format!("Invalid value: {v:?}: may not be '.' or '..'"));
    } else if v.contains('/') || v.contains('%') {
        e.push(path, format!("Invalid value: {v:?}: may not contain '/' or '%'"));
    }
}

/// Resource/ContainerResource targets: averageUtilization or averageValue, not both. The controller
/// uses averageValue when set (`GetRawResourceReplicas`), else averageUtilization.
/// upstream: validation.go `validateResourceSource`; horizontal.go `computeStatusForResourceMetricGeneric`.
fn resource_target(t: &v2::MetricTarget, path: &str, e: &mut Errs) -> Option<MetricTarget> {
    let (_, avg, util) = validate_metric_target(t, path, e);
    match (t.average_utilization.is_some(), t.average_value.is_some()) {
        (false, false) => {
            e.push(
                format!("{path}.averageUtilization"),
                "Required value: must set either a target raw value or a target utilization",
            );
            None
        }
        (true, true) => {
            e.push(
                format!("{path}.averageValue"),
                "Forbidden: may not set both a target raw value and a target utilization",
            );
            None
        }
        (false, true) => avg.map(MetricTarget::AverageValue),
        (true, false) => util.map(MetricTarget::Utilization),
    }
}

fn parse_metric(m: &v2::MetricSpec, path: &str, e: &mut Errs) -> Option<MetricSpec> {
    let sources = [
        ("object", "Object", m.object.is_some()),
        ("external", "External", m.external.is_some()),
        ("pods", "Pods", m.pods.is_some()),
        ("resource", "Resource", m.resource.is_some()),
        ("containerResource", "ContainerResource", m.container_resource.is_some()),
    ];
    let Some(&(expected, _, present)) = sources.iter().find(|(_, ty, _)| *ty == m.type_) else {
        if m.type_.is_empty() {
            e.push(
                format!("{path}.type"),
                "Required value: must specify a metric source type",
            );
        }
        e.push(
            format!("{path}.type"),
            format!(
                "Unsupported value: {:?}: supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"",
                m.type_
            ),
        );
        return None;
    };
    if !present {
        e.push(
            format!("{path}.{expected}"),
            "Required value: must populate information for the given metric source",
        );
        return None;
    }
    for (field, _, p) in sources {
        if p && field != expected {
            e.push(
                format!("{path}.{field}"),
                "Forbidden: must populate the given metric source only",
            );
        }
    }
    let before = e.0.len();
    let spec = match (
        &m.resource,
        &m.container_resource,
        &m.pods,
        &m.object,
        &m.external,
        expected,
    ) {
        (Some(r), _, _, _, _, "resource") => {
            let res = parse_resource(&r.name, &format!("{path}.resource.name"), e);
            let target = resource_target(&r.target, &format!("{path}.resource.target"), e);
            res.zip(target)
                .map(|(resource, target)| MetricSpec::Resource { resource, target })
        }
        (_, Some(r), _, _, _, "containerResource") => {
            required(
                &r.container,
                format!("{path}.containerResource.container"),
                "a container",
                e,
            );
            let res = parse_resource(&r.name, &format!("{path}.containerResource.name"), e);
            let target = resource_target(&r.target, &format!("{path}.containerResource.target"), e);
            res.zip(target).map(|(resource, target)| MetricSpec::ContainerResource {
                resource,
                container: Arc::from(r.container.as_str()),
                target,
            })
        }
        (_, _, Some(p), _, _, "pods") => {
            path_segment(&p.metric.name, format!("{path}.pods.metric.name"), "a metric name", e);
            let (_, avg, _) = validate_metric_target(&p.target, &format!("{path}.pods.target"), e);
            if p.target.average_value.is_none() {
                e.push(
                    format!("{path}.pods.target.averageValue"),
                    "Required value: must specify a positive target averageValue",
                );
            }
            avg.map(|v| MetricSpec::Pods {
                metric: p.metric.name.clone(),
                target: MetricTarget::AverageValue(v),
            })
        }
        (_, _, _, Some(o), _, "object") => {
            let tp = format!("{path}.object.target");
            path_segment(
                &o.described_object.kind,
                format!("{path}.object.describedObject.kind"),
                "a kind",
                e,
            );
            path_segment(
                &o.described_object.name,
                format!("{path}.object.describedObject.name"),
                "a name",
                e,
            );
            path_segment(&o.metric.name, format!("{path}.object.metric.name"), "a metric name", e);
            let (value, avg, _) = validate_metric_target(&o.target, &tp, e);
            if o.target.value.is_none() && o.target.average_value.is_none() {
                e.push(
                    format!("{tp}.averageValue"),
                    "Required value: must set either a target value or averageValue",
                );
            }
            // The controller reads `value` only with type Value and `averageValue` only with type
            // AverageValue (horizontal.go `computeStatusForObjectMetric`); anything else fails every sync.
            let target = match (o.target.type_.as_str(), value, avg) {
                ("Value", Some(v), _) => Some(MetricTarget::Value(v)),
                ("AverageValue", _, Some(v)) => Some(MetricTarget::AverageValue(v)),
                (ty, _, _) => {
                    if e.0.len() == before {
                        e.push(
                            format!("{tp}.type"),
                            format!("Invalid value: {ty:?}: the HPA controller needs type Value with value, or AverageValue with averageValue"),
                        );
                    }
                    None
                }
            };
            target.map(|target| MetricSpec::Object {
                metric: o.metric.name.clone(),
                kind: o.described_object.kind.clone(),
                name: o.described_object.name.clone(),
                target,
            })
        }
        (_, _, _, _, Some(x), "external") => {
            let tp = format!("{path}.external.target");
            path_segment(
                &x.metric.name,
                format!("{path}.external.metric.name"),
                "a metric name",
                e,
            );
            let (value, avg, _) = validate_metric_target(&x.target, &tp, e);
            match (x.target.value.is_some(), x.target.average_value.is_some()) {
                (false, false) => {
                    e.push(
                        format!("{tp}.averageValue"),
                        "Required value: must set either a target value for metric or a per-pod target",
                    );
                    None
                }
                (true, true) => {
                    e.push(
                        format!("{tp}.value"),
                        "Forbidden: may not set both a target value for metric and a per-pod target",
                    );
                    None
                }
                // The controller prefers averageValue (horizontal.go `computeStatusForExternalMetric`).
                (_, true) => avg.map(MetricTarget::AverageValue),
                (true, false) => value.map(MetricTarget::Value),
            }
            .map(|target| MetricSpec::External {
                metric: x.metric.name.clone(),
                target,
            })
        }
        _ => None,
    };
    if e.0.len() > before { None } else { spec }
}

/// upstream: validation.go `validateScalingRules` + defaults.go `GenerateHPAScaleUp/DownRules`.
fn parse_rules(r: Option<&v2::HPAScalingRules>, up: bool, path: &str, e: &mut Errs) -> ScalingRules {
    let mut rules = if up {
        ScalingRules::default_scale_up()
    } else {
        ScalingRules::default_scale_down()
    };
    let Some(r) = r else { return rules };
    if let Some(w) = r.stabilization_window_seconds {
        if w < 0 {
            e.push(
                format!("{path}.stabilizationWindowSeconds"),
                "must be greater than or equal to zero",
            );
        } else if w > MAX_STABILIZATION_WINDOW_SECONDS {
            e.push(
                format!("{path}.stabilizationWindowSeconds"),
                format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            );
        }
        rules.stabilization_window_seconds = Some(w);
    }
    if let Some(s) = &r.select_policy {
        rules.select_policy = match s.as_str() {
            "Max" => SelectPolicy::Max,
            "Min" => SelectPolicy::Min,
            "Disabled" => SelectPolicy::Disabled,
            other => {
                e.push(
                    format!("{path}.selectPolicy"),
                    format!("Unsupported value: {other:?}: supported values: \"Disabled\", \"Max\", \"Min\""),
                );
                SelectPolicy::Max
            }
        };
    }
    // An empty or absent list is defaulted before validation, so "at least one policy" always holds here.
    if let Some(ps) = r.policies.as_ref().filter(|p| !p.is_empty()) {
        rules.policies.clear();
        for (i, p) in ps.iter().enumerate() {
            let pp = format!("{path}.policies[{i}]");
            let kind = match p.type_.as_str() {
                "Pods" => Some(PolicyType::Pods),
                "Percent" => Some(PolicyType::Percent),
                other => {
                    e.push(
                        format!("{pp}.type"),
                        format!("Unsupported value: {other:?}: supported values: \"Percent\", \"Pods\""),
                    );
                    None
                }
            };
            if p.value <= 0 {
                e.push(format!("{pp}.value"), "must be greater than 0");
            }
            if p.period_seconds <= 0 {
                e.push(format!("{pp}.periodSeconds"), "must be greater than 0");
            } else if p.period_seconds > MAX_PERIOD_SECONDS {
                e.push(
                    format!("{pp}.periodSeconds"),
                    format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
                );
            }
            if let Some(kind) = kind {
                rules.policies.push(ScalingPolicy {
                    kind,
                    value: p.value,
                    period_seconds: p.period_seconds,
                });
            }
        }
    }
    if rules.policies.is_empty() {
        e.push(
            format!("{path}.policies"),
            "Required value: must specify at least one Policy",
        );
    }
    if let Some(t) = &r.tolerance {
        match Quantity::parse(&t.0) {
            Ok(q) if q.as_f64() >= 0.0 => rules.tolerance = Some(q.as_f64()),
            Ok(_) => e.push(format!("{path}.tolerance"), "must be greater than or equal to 0"),
            Err(err) => e.push(
                format!("{path}.tolerance"),
                format!("invalid quantity {:?}: {err}", t.0),
            ),
        }
    }
    rules
}

impl HpaSpec {
    /// Defaults and validates a manifest as the API server would (with the controller's feature gates:
    /// `HPAScaleToZero` allows `minReplicas: 0`, `HPAConfigurableTolerance` keeps `tolerance`).
    pub fn from_manifest(
        hpa: &v2::HorizontalPodAutoscaler,
        config: &HpaControllerConfig,
    ) -> Result<HpaSpec, HpaValidationError> {
        let name = hpa.metadata.name.clone().unwrap_or_default();
        let mut e = Errs(Vec::new());
        if name.is_empty() {
            e.push("metadata.name", "Required value: name or generateName is required");
        }
        let Some(spec) = &hpa.spec else {
            e.push("spec", "Required value");
            return Err(HpaValidationError { name, errors: e.0 });
        };
        let r = &spec.scale_target_ref;
        path_segment(&r.kind, "spec.scaleTargetRef.kind".into(), "a kind", &mut e);
        path_segment(&r.name, "spec.scaleTargetRef.name".into(), "a name", &mut e);

        let scale_to_zero = config.feature_gates.hpa_scale_to_zero;
        let min_bound = if scale_to_zero { 0 } else { 1 };
        let min_replicas = spec.min_replicas.unwrap_or(1);
        if min_replicas < min_bound {
            e.push(
                "spec.minReplicas",
                format!("must be greater than or equal to {min_bound}"),
            );
        }
        if spec.max_replicas < 1 {
            e.push("spec.maxReplicas", "must be greater than 0");
        }
        if spec.min_replicas.is_some() && spec.max_replicas < min_replicas {
            e.push(
                "spec.maxReplicas",
                format!(
                    "must be greater than or equal to `minReplicas` ({min_replicas}), got {}",
                    spec.max_replicas
                ),
            );
        }

        let raw_metrics = spec.metrics.as_deref().unwrap_or(&[]);
        let mut metrics = Vec::new();
        for (i, m) in raw_metrics.iter().enumerate() {
            if let Some(ms) = parse_metric(m, &format!("spec.metrics[{i}]"), &mut e) {
                metrics.push(ms);
            }
        }
        if raw_metrics.is_empty() {
            metrics.push(MetricSpec::Resource {
                resource: MetricResource::Cpu,
                target: MetricTarget::Utilization(DEFAULT_CPU_UTILIZATION),
            });
        }
        // upstream: validation.go `validateMetrics`.
        if min_replicas == 0
            && !metrics
                .iter()
                .any(|m| matches!(m, MetricSpec::Object { .. } | MetricSpec::External { .. }))
        {
            e.push(
                "spec.metrics",
                "Forbidden: must specify at least one Object or External metric to support scaling to zero replicas",
            );
        }
        let behavior = spec.behavior.as_ref().map(|b| {
            let mut scale_up = parse_rules(b.scale_up.as_ref(), true, "spec.behavior.scaleUp", &mut e);
            let mut scale_down = parse_rules(b.scale_down.as_ref(), false, "spec.behavior.scaleDown", &mut e);
            if !config.feature_gates.hpa_configurable_tolerance {
                // The API server drops the field when the gate is off.
                scale_up.tolerance = None;
                scale_down.tolerance = None;
            }
            Behavior { scale_up, scale_down }
        });

        if !e.0.is_empty() {
            return Err(HpaValidationError { name, errors: e.0 });
        }
        Ok(HpaSpec {
            name,
            namespace: hpa.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
            scale_target: ScaleTargetRef {
                api_version: r.api_version.clone(),
                kind: r.kind.clone(),
                name: r.name.clone(),
            },
            min_replicas,
            max_replicas: spec.max_replicas,
            metrics,
            behavior,
        })
    }

    /// Checks that `scaleTargetRef` names one of the scenario's Deployments (the caller's job upstream:
    /// the controller reports `FailedGetScale`).
    pub fn check_scale_target<S: AsRef<str>>(&self, deployments: &[S]) -> Result<(), MissingScaleTarget> {
        let is_deployment = self.scale_target.kind == "Deployment";
        if is_deployment && deployments.iter().any(|d| d.as_ref() == self.scale_target.name) {
            return Ok(());
        }
        Err(MissingScaleTarget {
            hpa: self.name.clone(),
            kind: self.scale_target.kind.clone(),
            name: self.scale_target.name.clone(),
            known: deployments.iter().map(|d| d.as_ref()).collect::<Vec<_>>().join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<HpaSpec, HpaValidationError> {
        let hpa: v2::HorizontalPodAutoscaler = serde_saphyr::from_str(yaml).expect("yaml");
        HpaSpec::from_manifest(&hpa, &HpaControllerConfig::default())
    }

    const HEAD: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n";

    #[test]
    fn defaults_minimal_manifest() {
        let s = parse(&format!("{HEAD}  maxReplicas: 10\n")).unwrap();
        assert_eq!(s.min_replicas, 1);
        assert_eq!(s.namespace, "default");
        assert_eq!(
            s.metrics,
            vec![MetricSpec::Resource {
                resource: MetricResource::Cpu,
                target: MetricTarget::Utilization(80)
            }]
        );
        assert!(
            s.behavior.is_none(),
            "a missing behavior is not defaulted (legacy path)"
        );
    }

    #[test]
    fn behavior_defaults_per_direction() {
        let s = parse(&format!(
            "{HEAD}  maxReplicas: 10\n  behavior:\n    scaleDown: {{stabilizationWindowSeconds: 60}}\n"
        ))
        .unwrap();
        let b = s.behavior.unwrap();
        assert_eq!(b.scale_up, ScalingRules::default_scale_up());
        assert_eq!(b.scale_down.stabilization_window_seconds, Some(60));
        assert_eq!(b.scale_down.policies, DEFAULT_SCALE_DOWN_POLICIES.to_vec());
        assert_eq!(b.scale_down.select_policy, SelectPolicy::Max);
    }

    #[test]
    fn validation_errors_name_the_field() {
        // (manifest tail, expected substring)
        let cases: &[(&str, &str)] = &[
            (
                "  minReplicas: 5\n  maxReplicas: 2\n",
                "spec.maxReplicas: must be greater than or equal to `minReplicas` (5), got 2",
            ),
            (
                "  minReplicas: 0\n  maxReplicas: 2\n",
                "spec.minReplicas: must be greater than or equal to 1",
            ),
            ("  maxReplicas: 0\n", "spec.maxReplicas: must be greater than 0"),
            (
                "  maxReplicas: 3\n  behavior:\n    scaleUp:\n      policies: [{type: Pods, value: 1, periodSeconds: 0}]\n",
                "spec.behavior.scaleUp.policies[0].periodSeconds: must be greater than 0",
            ),
            (
                "  maxReplicas: 3\n  behavior:\n    scaleUp:\n      policies: [{type: Pods, value: 1, periodSeconds: 1801}]\n",
                "spec.behavior.scaleUp.policies[0].periodSeconds: must be less than or equal to 1800",
            ),
            (
                "  maxReplicas: 3\n  behavior:\n    scaleDown:\n      policies: [{type: Percent, value: 0, periodSeconds: 60}]\n",
                "spec.behavior.scaleDown.policies[0].value: must be greater than 0",
            ),
            (
                "  maxReplicas: 3\n  behavior:\n    scaleDown: {stabilizationWindowSeconds: 3601}\n",
                "spec.behavior.scaleDown.stabilizationWindowSeconds: must be less than or equal to 3600",
            ),
            (
                "  maxReplicas: 3\n  behavior:\n    scaleDown: {stabilizationWindowSeconds: -1}\n",
                "spec.behavior.scaleDown.stabilizationWindowSeconds: must be greater than or equal to zero",
            ),
            (
                "  maxReplicas: 3\n  behavior:\n    scaleUp: {selectPolicy: Fastest}\n",
                "spec.behavior.scaleUp.selectPolicy: Unsupported value: \"Fastest\"",
            ),
            (
                "  maxReplicas: 3\n  behavior:\n    scaleUp:\n      policies: [{type: Nodes, value: 1, periodSeconds: 15}]\n",
                "spec.behavior.scaleUp.policies[0].type: Unsupported value: \"Nodes\"",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Value, value: \"1\"}}\n",
                "spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 0}}\n",
                "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization}}\n",
                "spec.metrics[0].resource.target.averageUtilization: Required value",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Percent, averageUtilization: 5}}\n",
                "spec.metrics[0].resource.target.type: Invalid value: \"Percent\": must be either Utilization, Value, or AverageValue",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: External\n    external: {metric: {name: q}, target: {type: Value, value: \"5\", averageValue: \"1\"}}\n",
                "spec.metrics[0].external.target.value: Forbidden: may not set both",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: Object\n    object: {metric: {name: q}, describedObject: {kind: Service, name: s}, target: {type: AverageValue, value: \"5\"}}\n",
                "spec.metrics[0].object.target.type: Invalid value: \"AverageValue\": the HPA controller needs",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: Object\n    object: {metric: {name: q}, describedObject: {kind: Service, name: \"\"}, target: {type: Value, value: \"5\"}}\n",
                "spec.metrics[0].object.describedObject.name: Required value",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: Pods\n    pods: {metric: {name: rps}, target: {type: Value, value: \"1\"}}\n",
                "spec.metrics[0].pods.target.averageValue: Required value: must specify a positive target averageValue",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: CheddarCheese\n",
                "spec.metrics[0].type: Unsupported value: \"CheddarCheese\"",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: External\n    pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: \"1\"}}\n",
                "spec.metrics[0].external: Required value",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: ContainerResource\n    containerResource: {name: cpu, container: \"\", target: {type: Utilization, averageUtilization: 50}}\n",
                "spec.metrics[0].containerResource.container: Required value",
            ),
            (
                "  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource: {name: gpu, target: {type: Utilization, averageUtilization: 50}}\n",
                "spec.metrics[0].resource.name: Unsupported value: \"gpu\"",
            ),
        ];
        for (tail, want) in cases {
            let err = parse(&format!("{HEAD}{tail}")).expect_err(tail);
            assert!(err.to_string().contains(want), "{tail}\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn scale_to_zero_needs_gate_and_object_or_external_metric() {
        let yaml = format!(
            "{HEAD}  minReplicas: 0\n  maxReplicas: 3\n  metrics:\n  - type: External\n    external: {{metric: {{name: queue}}, target: {{type: Value, value: \"10\"}}}}\n"
        );
        let hpa: v2::HorizontalPodAutoscaler = serde_saphyr::from_str(&yaml).unwrap();
        let mut cfg = HpaControllerConfig::default();
        let err = HpaSpec::from_manifest(&hpa, &cfg).unwrap_err();
        assert!(
            err.to_string()
                .contains("spec.minReplicas: must be greater than or equal to 1"),
            "{err}"
        );
        cfg.feature_gates.hpa_scale_to_zero = true;
        let s = HpaSpec::from_manifest(&hpa, &cfg).unwrap();
        assert_eq!(s.min_replicas, 0);
        assert_eq!(
            s.metrics,
            vec![MetricSpec::External {
                metric: "queue".into(),
                target: MetricTarget::Value(10_000)
            }]
        );

        let cpu_only = format!("{HEAD}  minReplicas: 0\n  maxReplicas: 3\n");
        let hpa: v2::HorizontalPodAutoscaler = serde_saphyr::from_str(&cpu_only).unwrap();
        let err = HpaSpec::from_manifest(&hpa, &cfg).unwrap_err();
        assert!(
            err.to_string()
                .contains("spec.metrics: Forbidden: must specify at least one Object or External metric"),
            "{err}"
        );
    }

    #[test]
    fn scale_target_must_exist() {
        let s = parse(&format!("{HEAD}  maxReplicas: 3\n")).unwrap();
        assert!(s.check_scale_target(&["web", "api"]).is_ok());
        let err = s.check_scale_target(&["api"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("spec.scaleTargetRef: Deployment \"web\" not found"),
            "{err}"
        );
    }
}
