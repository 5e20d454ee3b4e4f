//! Stage 2 for Kubernetes manifests: raw documents → k8s-openapi types (with field paths on error) →
//! validated model types, applying the API server's defaults and validation rules that matter to a
//! simulation.

use super::defaults;
use super::error::{ErrorKind, ScenarioError};
use super::raw::RawDocument;
use crate::engine::SimDuration;
use crate::model::labels::Requirement;
use crate::model::labels::{SelectorOperator, TolerationOperator};
use crate::model::units::Quantity;
use crate::model::{
    Container, DisruptionBudget, IntOrPercent, Labels, NodeAffinity, PodTemplate, TaintEffect, Toleration,
};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// Deserializes a document into a k8s-openapi (or capsim) type; errors carry the field path.
pub fn typed<T: DeserializeOwned>(doc: &RawDocument) -> Result<T, ScenarioError> {
    typed_at(doc, &doc.value, "")
}

/// [`typed`], warning about every field of the document the Kubernetes API type does not have (a
/// typo such as `kontainers`, or a field of a newer Kubernetes): the typed parse would drop it
/// silently, so each is named with its field path.
pub fn typed_checked<T: DeserializeOwned + serde::Serialize>(
    doc: &RawDocument,
    warnings: &mut Vec<String>,
) -> Result<T, ScenarioError> {
    let t: T = typed(doc)?;
    if let Ok(known) = serde_json::to_value(&t) {
        let mut unknown = Vec::new();
        unknown_fields(&doc.value, &known, "", &mut unknown);
        for path in unknown {
            warnings.push(format!(
                "{}: {path}: not a field of {} {} (Kubernetes 1.34 API): ignored",
                location(doc),
                doc.api_version,
                doc.kind
            ));
        }
    }
    Ok(t)
}

/// Field paths present in `raw` (with a non-null value) and absent from `known` (the typed object
/// serialized back): what the typed parse dropped.
fn unknown_fields(raw: &serde_json::Value, known: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    match (raw, known) {
        (Value::Object(r), Value::Object(k)) => {
            for (key, v) in r {
                if v.is_null() {
                    continue;
                }
                let p = join(path, key);
                match k.get(key) {
                    Some(kv) => unknown_fields(v, kv, &p, out),
                    None => out.push(p),
                }
            }
        }
        (Value::Array(r), Value::Array(k)) => {
            for (i, (rv, kv)) in r.iter().zip(k).enumerate() {
                unknown_fields(rv, kv, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Deserializes `value` (found at `prefix` inside `doc`); errors carry `prefix` + the inner path.
pub fn typed_at<T: DeserializeOwned>(
    doc: &RawDocument,
    value: &serde_json::Value,
    prefix: &str,
) -> Result<T, ScenarioError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let inner = if inner == "." { String::new() } else { inner };
        let path = join(prefix, &inner);
        let kind = ErrorKind::Schema;
        doc.error(kind, path, e.into_inner().to_string())
    })
}

/// Joins two dotted paths, either of which may be empty; `[N]` segments need no dot.
pub fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ if b.starts_with('[') => format!("{a}{b}"),
        _ => format!("{a}.{b}"),
    }
}

/// A PriorityClass as the admission plugin needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityClassInfo {
    pub name: String,
    pub value: i32,
    pub global_default: bool,
    pub preempts: bool,
}

/// Parses and validates a `scheduling.k8s.io/v1 PriorityClass`.
pub fn priority_class(doc: &RawDocument) -> Result<PriorityClassInfo, ScenarioError> {
    let pc: k8s_openapi::api::scheduling::v1::PriorityClass = typed(doc)?;
    let name = require_name(doc)?;
    // upstream: kubernetes/kubernetes pkg/apis/scheduling/validation/validation.go
    // `ValidatePriorityClass`: the `system-` prefix is reserved for the built-in classes, and user
    // classes may not exceed HighestUserDefinablePriority.
    if name.starts_with("system-") {
        return Err(doc.error(
            ErrorKind::Invalid,
            "metadata.name",
            "names with the prefix \"system-\" are reserved for the built-in priority classes",
        ));
    }
    if pc.value > defaults::HIGHEST_USER_DEFINABLE_PRIORITY {
        return Err(doc.error(
            ErrorKind::Invalid,
            "value",
            format!(
                "must be <= {} for user-defined classes, got {}",
                defaults::HIGHEST_USER_DEFINABLE_PRIORITY,
                pc.value
            ),
        ));
    }
    let preempts = parse_preemption_policy(doc, "preemptionPolicy", pc.preemption_policy.as_deref())?
        .unwrap_or(defaults::PREEMPTS);
    Ok(PriorityClassInfo {
        name,
        value: pc.value,
        global_default: pc.global_default.unwrap_or(false),
        preempts,
    })
}

fn parse_preemption_policy(doc: &RawDocument, path: &str, p: Option<&str>) -> Result<Option<bool>, ScenarioError> {
    match p {
        None => Ok(None),
        Some("PreemptLowerPriority") => Ok(Some(true)),
        Some("Never") => Ok(Some(false)),
        Some(other) => Err(doc.error(
            ErrorKind::Invalid,
            path,
            format!("must be PreemptLowerPriority or Never, got {other:?}"),
        )),
    }
}

/// Priority resolution as the `Priority` admission plugin does it when the ReplicaSet creates pods.
/// upstream: kubernetes/kubernetes plugin/pkg/admission/priority/admission.go `admitPod`.
pub struct PriorityResolver {
    classes: BTreeMap<String, PriorityClassInfo>,
    /// The `globalDefault` class, if any: with several, the admission plugin takes the lowest value
    /// (`getDefaultPriorityClass`); ties broken by name here.
    global_default: Option<PriorityClassInfo>,
}

impl PriorityResolver {
    pub fn new(classes: Vec<PriorityClassInfo>) -> Self {
        let global_default = classes
            .iter()
            .filter(|c| c.global_default)
            .min_by(|a, b| a.value.cmp(&b.value).then_with(|| a.name.cmp(&b.name)))
            .cloned();
        PriorityResolver {
            classes: classes.into_iter().map(|c| (c.name.clone(), c)).collect(),
            global_default,
        }
    }

    /// Number of classes marked `globalDefault` (more than one is worth a warning).
    pub fn global_default_count(&self) -> usize {
        self.classes.values().filter(|c| c.global_default).count()
    }

    /// Returns (class name, priority, preempts) for a pod naming `class` (empty = none).
    pub fn resolve(&self, class: Option<&str>) -> Result<(Option<String>, i32, bool), String> {
        match class.filter(|c| !c.is_empty()) {
            // No class named: the globalDefault class if one exists, else priority 0.
            None => Ok(match &self.global_default {
                Some(c) => (Some(c.name.clone()), c.value, c.preempts),
                None => (None, defaults::PRIORITY, defaults::PREEMPTS),
            }),
            Some(name) => {
                // Built-in classes exist in every cluster (created by the apiserver).
                if let Some((n, v)) = defaults::SYSTEM_PRIORITY_CLASSES.iter().find(|(n, _)| *n == name) {
                    return Ok((Some((*n).to_string()), *v, true));
                }
                match self.classes.get(name) {
                    Some(c) => Ok((Some(c.name.clone()), c.value, c.preempts)),
                    None => {
                        let mut known: Vec<&str> = self.classes.keys().map(String::as_str).collect();
                        known.extend(defaults::SYSTEM_PRIORITY_CLASSES.iter().map(|(n, _)| *n));
                        Err(format!(
                            "no PriorityClass with name {name:?} was found; known classes: {}",
                            known.join(", ")
                        ))
                    }
                }
            }
        }
    }
}

/// Requires `metadata.name`.
pub fn require_name(doc: &RawDocument) -> Result<String, ScenarioError> {
    if doc.name.is_empty() {
        Err(doc.error(ErrorKind::Schema, "metadata.name", "required field is missing"))
    } else {
        Ok(doc.name.clone())
    }
}

/// Validates a workload's `spec.selector` against its template labels.
/// upstream: kubernetes/kubernetes pkg/apis/apps/validation/validation.go `ValidateDeploymentSpec` /
/// `ValidateDaemonSetSpec`: "empty selector is invalid", "`selector` does not match template `labels`".
pub fn check_selector(
    doc: &RawDocument,
    selector: &LabelSelector,
    labels: &Labels,
) -> Result<crate::model::topology::LabelSelector, ScenarioError> {
    let path = "spec.selector";
    let reqs = label_selector_requirements(doc, path, selector)?;
    if reqs.is_empty() {
        return Err(doc.error(ErrorKind::Invalid, path, "empty selector is invalid for a workload"));
    }
    if !reqs.iter().all(|r| r.matches(labels)) {
        return Err(doc.error(
            ErrorKind::Invalid,
            path,
            "selector does not match template labels (spec.template.metadata.labels)",
        ));
    }
    Ok(crate::model::topology::LabelSelector { requirements: reqs })
}

/// A metav1 LabelSelector as ANDed requirements.
/// upstream: k8s.io/apimachinery pkg/apis/meta/v1/helpers.go `LabelSelectorAsSelector`.
pub(super) fn label_selector_requirements(
    doc: &RawDocument,
    path: &str,
    sel: &LabelSelector,
) -> Result<Vec<Requirement>, ScenarioError> {
    let mut reqs: Vec<Requirement> = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| Requirement {
            key: k.clone(),
            operator: SelectorOperator::In,
            values: vec![v.clone()],
        })
        .collect();
    for (i, e) in sel.match_expressions.iter().flatten().enumerate() {
        let p = format!("{path}.matchExpressions[{i}]");
        let op = match e.operator.as_str() {
            "In" => SelectorOperator::In,
            "NotIn" => SelectorOperator::NotIn,
            "Exists" => SelectorOperator::Exists,
            "DoesNotExist" => SelectorOperator::DoesNotExist,
            other => {
                return Err(doc.error(
                    ErrorKind::Invalid,
                    format!("{p}.operator"),
                    format!("must be In, NotIn, Exists or DoesNotExist, got {other:?}"),
                ));
            }
        };
        let values = e.values.clone().unwrap_or_default();
        check_operator_values(doc, &p, op, &values)?;
        reqs.push(Requirement {
            key: e.key.clone(),
            operator: op,
            values,
        });
    }
    Ok(reqs)
}

/// upstream: k8s.io/apimachinery pkg/apis/meta/v1/validation `ValidateLabelSelectorRequirement` and
/// kubernetes/kubernetes pkg/apis/core/validation `ValidateNodeSelectorRequirement`: In/NotIn need
/// values, Exists/DoesNotExist take none, Gt/Lt take exactly one integer.
pub(super) fn check_operator_values(
    doc: &RawDocument,
    path: &str,
    op: SelectorOperator,
    values: &[String],
) -> Result<(), ScenarioError> {
    let msg = match op {
        SelectorOperator::In | SelectorOperator::NotIn if values.is_empty() => {
            Some("must be specified when operator is In or NotIn".to_string())
        }
        SelectorOperator::Exists | SelectorOperator::DoesNotExist if !values.is_empty() => {
            Some("may not be specified when operator is Exists or DoesNotExist".to_string())
        }
        SelectorOperator::Gt | SelectorOperator::Lt if values.len() != 1 || values[0].parse::<i64>().is_err() => Some(
            format!("must be a single integer when operator is Gt or Lt, got {values:?}"),
        ),
        _ => None,
    };
    match msg {
        Some(m) => Err(doc.error(ErrorKind::Invalid, format!("{path}.values"), m)),
        None => Ok(()),
    }
}

/// Converts a pod template (`spec.template` of a Deployment or DaemonSet).
pub fn pod_template(
    doc: &RawDocument,
    tpl: &core::PodTemplateSpec,
    priorities: &PriorityResolver,
    warnings: &mut Vec<String>,
) -> Result<PodTemplate, ScenarioError> {
    let base = "spec.template.spec";
    let meta = tpl.metadata.as_ref();
    let labels: Labels = meta.and_then(|m| m.labels.clone()).unwrap_or_default();
    let annotations: Labels = meta.and_then(|m| m.annotations.clone()).unwrap_or_default();
    let Some(spec) = tpl.spec.as_ref() else {
        return Err(doc.error(ErrorKind::Schema, base, "required field is missing"));
    };
    if spec.containers.is_empty() {
        return Err(doc.error(
            ErrorKind::Invalid,
            format!("{base}.containers"),
            "must have at least one container",
        ));
    }
    // upstream: pkg/apis/core/validation `validateContainers` / `validateInitContainers`: names are
    // required and unique across containers and init containers.
    let mut names = std::collections::BTreeSet::new();
    let all = spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("{base}.containers[{i}]"), c));
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| (format!("{base}.initContainers[{i}]"), c));
    for (path, c) in all.chain(init) {
        if c.name.is_empty() {
            return Err(doc.error(ErrorKind::Schema, format!("{path}.name"), "required field is missing"));
        }
        if !names.insert(c.name.as_str()) {
            return Err(doc.error(
                ErrorKind::Duplicate,
                format!("{path}.name"),
                format!("duplicate container name {:?}", c.name),
            ));
        }
    }
    let mut containers = Vec::new();
    for (i, c) in spec.containers.iter().enumerate() {
        containers.push(container(doc, &format!("{base}.containers[{i}]"), c, warnings)?);
    }
    // Restartable init containers (`restartPolicy: Always`, "sidecars") run for the pod's lifetime and
    // count toward its requests. upstream: kubernetes/kubernetes pkg/api/v1/resource/helpers.go
    // `PodRequests`. Regular init containers run before the app containers; their requests only
    // matter when larger than the app's, which capsim does not model: warn then.
    let mut sidecars = Vec::new();
    let mut regular_init = Vec::new();
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        let path = format!("{base}.initContainers[{i}]");
        let parsed = container(doc, &path, c, warnings)?;
        match c.restart_policy.as_deref() {
            Some("Always") => sidecars.push(parsed),
            None => regular_init.push(parsed),
            Some(other) => {
                return Err(doc.error(
                    ErrorKind::Invalid,
                    format!("{path}.restartPolicy"),
                    format!("init containers support only restartPolicy \"Always\", got {other:?}"),
                ));
            }
        }
    }
    let app_cpu: i64 = containers.iter().chain(&sidecars).map(|c| c.requests.cpu_m).sum();
    let app_mem: i64 = containers.iter().chain(&sidecars).map(|c| c.requests.mem).sum();
    for c in &regular_init {
        if c.requests.cpu_m > app_cpu || c.requests.mem > app_mem {
            warnings.push(format!(
                "{}: init container {:?} requests more than the app containers; capsim counts only app and \
                 sidecar containers toward the pod's request",
                location(doc),
                c.name
            ));
        }
    }

    // Pod-level resources (`spec.resources`, PodLevelResources, beta in 1.34) replace the container
    // sum in the scheduler (upstream: pkg/api/v1/resource/helpers.go `PodRequests`); the model has no
    // place for them yet, so say so rather than silently schedule on a different request.
    if spec
        .resources
        .as_ref()
        .is_some_and(|r| r.requests.is_some() || r.limits.is_some())
    {
        warnings.push(format!(
            "{}: {base}.resources: pod-level resources are not modelled; capsim uses the containers' requests",
            location(doc)
        ));
    }
    let node_selector: Labels = spec.node_selector.clone().unwrap_or_default();
    let mut tolerations = Vec::new();
    for (i, t) in spec.tolerations.iter().flatten().enumerate() {
        tolerations.push(toleration(doc, &format!("{base}.tolerations[{i}]"), t)?);
    }
    add_default_tolerations(&mut tolerations);
    let affinity = node_affinity(doc, &format!("{base}.affinity.nodeAffinity"), spec, warnings)?;
    let constraints = super::constraints::pod_constraints(doc, base, spec, &doc.namespace, &labels, warnings)?;

    let (priority_class, priority, class_preempts) = priorities
        .resolve(spec.priority_class_name.as_deref())
        .map_err(|m| doc.error(ErrorKind::Reference, format!("{base}.priorityClassName"), m))?;
    // upstream admission.go: a pod may not state a priority or preemptionPolicy different from what
    // its class gives.
    if let Some(p) = spec.priority
        && p != priority
    {
        return Err(doc.error(
            ErrorKind::Invalid,
            format!("{base}.priority"),
            format!("must not differ from the priority of the PriorityClass ({priority}), got {p}"),
        ));
    }
    let preempts = match parse_preemption_policy(
        doc,
        &format!("{base}.preemptionPolicy"),
        spec.preemption_policy.as_deref(),
    )? {
        Some(p) if p != class_preempts => {
            return Err(doc.error(
                ErrorKind::Invalid,
                format!("{base}.preemptionPolicy"),
                "must not differ from the preemptionPolicy of the PriorityClass",
            ));
        }
        _ => class_preempts,
    };

    let grace = spec
        .termination_grace_period_seconds
        .unwrap_or(defaults::TERMINATION_GRACE_SECONDS);
    if grace < 0 {
        return Err(doc.error(
            ErrorKind::Invalid,
            format!("{base}.terminationGracePeriodSeconds"),
            format!("must be >= 0, got {grace}"),
        ));
    }
    let termination_grace = SimDuration::from_secs(u64::try_from(grace).unwrap_or(0));

    Ok(PodTemplate {
        labels,
        annotations,
        containers,
        sidecars,
        node_selector,
        tolerations,
        affinity,
        namespace: doc.namespace.clone(),
        constraints,
        priority_class,
        priority,
        preempts,
        termination_grace,
    })
}

/// Tolerations every pod gets when it is created, unless it already tolerates the taint.
/// upstream: kubernetes/kubernetes plugin/pkg/admission/defaulttolerationseconds (not-ready and
/// unreachable, NoExecute, for 300 s; the scheduler's TaintToleration filter ignores the seconds).
pub fn add_default_tolerations(tolerations: &mut Vec<Toleration>) {
    for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
        // upstream checks key (or empty key) and effect (or empty effect), not operator or value.
        let covered = tolerations
            .iter()
            .any(|t| (t.key.is_empty() || t.key == key) && t.effect.is_none_or(|e| e == TaintEffect::NoExecute));
        if !covered {
            tolerations.push(Toleration {
                seconds: Some(defaults::DEFAULT_NOT_READY_TOLERATION_SECONDS),
                ..exists(key, TaintEffect::NoExecute)
            });
        }
    }
}

/// Tolerations the DaemonSet controller adds to its pods so they run where ordinary pods may not.
/// upstream: kubernetes/kubernetes pkg/controller/daemon/util/daemonset_util.go
/// `AddOrUpdateDaemonPodTolerations` (network-unavailable only for host-network pods).
pub fn add_daemon_set_tolerations(tolerations: &mut Vec<Toleration>, host_network: bool) {
    let mut wanted = vec![
        exists("node.kubernetes.io/not-ready", TaintEffect::NoExecute),
        exists("node.kubernetes.io/unreachable", TaintEffect::NoExecute),
        exists("node.kubernetes.io/disk-pressure", TaintEffect::NoSchedule),
        exists("node.kubernetes.io/memory-pressure", TaintEffect::NoSchedule),
        exists("node.kubernetes.io/pid-pressure", TaintEffect::NoSchedule),
        exists("node.kubernetes.io/unschedulable", TaintEffect::NoSchedule),
    ];
    if host_network {
        wanted.push(exists(
            "node.kubernetes.io/network-unavailable",
            TaintEffect::NoSchedule,
        ));
    }
    for t in wanted {
        if !tolerations.contains(&t) {
            tolerations.push(t);
        }
    }
}

fn exists(key: &str, effect: TaintEffect) -> Toleration {
    Toleration {
        key: key.to_string(),
        operator: TolerationOperator::Exists,
        value: String::new(),
        effect: Some(effect),
        seconds: None,
    }
}

/// Whether the pod template uses the host network (DaemonSet tolerations depend on it).
pub fn host_network(tpl: &core::PodTemplateSpec) -> bool {
    tpl.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false)
}

/// `file: document N (Kind name)` for warnings.
pub fn location(doc: &RawDocument) -> String {
    match doc.item {
        Some(i) => format!("{}: document {} item {i} ({})", doc.file, doc.index, doc.object()),
        None => format!("{}: document {} ({})", doc.file, doc.index, doc.object()),
    }
}

fn container(
    doc: &RawDocument,
    path: &str,
    c: &core::Container,
    warnings: &mut Vec<String>,
) -> Result<Container, ScenarioError> {
    let image = match c.image.as_deref() {
        Some(i) if !i.trim().is_empty() => i.to_string(),
        // upstream: pkg/apis/core/validation `validateContainers` requires an image for workloads.
        _ => return Err(doc.error(ErrorKind::Schema, format!("{path}.image"), "required field is missing")),
    };
    let res = c.resources.as_ref();
    let requests = quantities(
        doc,
        &format!("{path}.resources.requests"),
        res.and_then(|r| r.requests.as_ref()),
    )?;
    let limits = quantities(
        doc,
        &format!("{path}.resources.limits"),
        res.and_then(|r| r.limits.as_ref()),
    )?;
    for name in requests.keys().chain(limits.keys()) {
        if !matches!(name.as_str(), "cpu" | "memory" | "ephemeral-storage") {
            warnings.push(format!(
                "{}: {path}: resource {name:?} is not modelled; capsim schedules on cpu, memory and pod count",
                location(doc)
            ));
        }
    }
    let limit_cpu_m = limits.get("cpu").map(Quantity::milli_value);
    let limit_mem = limits.get("memory").map(Quantity::value);
    // A container with a limit but no request gets request = limit when its pod is created.
    // upstream: kubernetes/kubernetes pkg/apis/core/v1/defaults.go `SetDefaults_Pod`.
    let cpu_m = requests
        .get("cpu")
        .map(Quantity::milli_value)
        .or(limit_cpu_m)
        .unwrap_or(0);
    let mem = requests.get("memory").map(Quantity::value).or(limit_mem).unwrap_or(0);
    // upstream: pkg/apis/core/validation `ValidateResourceRequirements`: request <= limit.
    if let Some(l) = limit_cpu_m.filter(|l| cpu_m > *l) {
        return Err(doc.error(
            ErrorKind::Invalid,
            format!("{path}.resources.requests.cpu"),
            format!("must be less than or equal to the cpu limit ({l}m), got {cpu_m}m"),
        ));
    }
    if let Some(l) = limit_mem.filter(|l| mem > *l) {
        return Err(doc.error(
            ErrorKind::Invalid,
            format!("{path}.resources.requests.memory"),
            format!("must be less than or equal to the memory limit ({l} bytes), got {mem} bytes"),
        ));
    }
    Ok(Container {
        name: c.name.clone(),
        image,
        requests: crate::model::Resources::new(cpu_m, mem, 0),
        limit_cpu_m,
        limit_mem,
        probes: crate::physics::probes::ContainerProbes {
            readiness: probe(doc, &format!("{path}.readinessProbe"), c.readiness_probe.as_ref())?,
            startup: probe(doc, &format!("{path}.startupProbe"), c.startup_probe.as_ref())?,
        },
    })
}

/// A probe's timing, defaulted and validated as the API server does
/// (pkg/apis/core/validation `validateProbe`: every field >= 0, period and thresholds >= 1;
/// a startup probe's `successThreshold` must be 1).
fn probe(
    doc: &RawDocument,
    path: &str,
    p: Option<&core::Probe>,
) -> Result<Option<crate::physics::probes::Probe>, ScenarioError> {
    use crate::physics::probes as pr;
    let Some(p) = p else { return Ok(None) };
    let field = |name: &str, v: Option<i32>, min: i32, default: i64| -> Result<i64, ScenarioError> {
        match v {
            None => Ok(default),
            Some(v) if v < min => Err(doc.error(
                ErrorKind::Invalid,
                format!("{path}.{name}"),
                format!("must be >= {min}, got {v}"),
            )),
            Some(v) => Ok(i64::from(v)),
        }
    };
    let success = field(
        "successThreshold",
        p.success_threshold,
        1,
        i64::from(pr::DEFAULT_SUCCESS_THRESHOLD),
    )?;
    if path.ends_with("startupProbe") && success != 1 {
        return Err(doc.error(
            ErrorKind::Invalid,
            format!("{path}.successThreshold"),
            format!("must be 1 for a startup probe, got {success}"),
        ));
    }
    let secs = |s: i64| crate::engine::SimDuration::from_secs(s as u64);
    Ok(Some(pr::Probe {
        initial_delay: secs(field("initialDelaySeconds", p.initial_delay_seconds, 0, 0)?),
        period: secs(field(
            "periodSeconds",
            p.period_seconds,
            1,
            pr::DEFAULT_PERIOD.as_millis() as i64 / 1000,
        )?),
        success_threshold: success as u32,
        failure_threshold: field(
            "failureThreshold",
            p.failure_threshold,
            1,
            i64::from(pr::DEFAULT_FAILURE_THRESHOLD),
        )? as u32,
    }))
}

fn quantities(
    doc: &RawDocument,
    path: &str,
    map: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> Result<BTreeMap<String, Quantity>, ScenarioError> {
    let mut out = BTreeMap::new();
    for (name, q) in map.into_iter().flatten() {
        let parsed = Quantity::parse(&q.0).map_err(|e| {
            doc.error(
                ErrorKind::Invalid,
                format!("{path}.{name}"),
                super::schema::unit_error(&q.0, &e, super::schema::QUANTITY_EXAMPLES),
            )
        })?;
        if parsed.as_f64() < 0.0 {
            return Err(doc.error(
                ErrorKind::Invalid,
                format!("{path}.{name}"),
                format!("must be >= 0, got {:?}", q.0),
            ));
        }
        out.insert(name.clone(), parsed);
    }
    Ok(out)
}

/// upstream: kubernetes/kubernetes pkg/apis/core/validation `ValidateTolerations`.
fn toleration(doc: &RawDocument, path: &str, t: &core::Toleration) -> Result<Toleration, ScenarioError> {
    let key = t.key.clone().unwrap_or_default();
    let value = t.value.clone().unwrap_or_default();
    let operator = match t.operator.as_deref() {
        None | Some("") | Some("Equal") => TolerationOperator::Equal,
        Some("Exists") => TolerationOperator::Exists,
        Some(other) => {
            return Err(doc.error(
                ErrorKind::Invalid,
                format!("{path}.operator"),
                format!("must be Equal or Exists, got {other:?}"),
            ));
        }
    };
    if key.is_empty() && operator != TolerationOperator::Exists {
        return Err(doc.error(
            ErrorKind::Invalid,
            format!("{path}.operator"),
            "must be Exists when key is empty (tolerate every taint)",
        ));
    }
    if operator == TolerationOperator::Exists && !value.is_empty() {
        return Err(doc.error(
            ErrorKind::Invalid,
            format!("{path}.value"),
            "must be empty when operator is Exists",
        ));
    }
    let effect = match t.effect.as_deref() {
        None | Some("") => None,
        Some(e) => Some(TaintEffect::parse(e).ok_or_else(|| {
            doc.error(
                ErrorKind::Invalid,
                format!("{path}.effect"),
                format!("must be NoSchedule, PreferNoSchedule or NoExecute, got {e:?}"),
            )
        })?),
    };
    Ok(Toleration {
        key,
        operator,
        value,
        effect,
        seconds: t.toleration_seconds,
    })
}

/// Required node affinity (`requiredDuringSchedulingIgnoredDuringExecution`); the preferred terms
/// are read with the other scoring constraints ([`super::constraints`]).
fn node_affinity(
    doc: &RawDocument,
    path: &str,
    spec: &core::PodSpec,
    warnings: &mut Vec<String>,
) -> Result<NodeAffinity, ScenarioError> {
    let Some(na) = spec.affinity.as_ref().and_then(|a| a.node_affinity.as_ref()) else {
        return Ok(NodeAffinity::default());
    };
    let Some(required) = na.required_during_scheduling_ignored_during_execution.as_ref() else {
        return Ok(NodeAffinity::default());
    };
    let path = format!("{path}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
    if required.node_selector_terms.is_empty() {
        // upstream: pkg/apis/core/validation `ValidateNodeSelector`: "must have at least one node selector term".
        return Err(doc.error(ErrorKind::Invalid, path, "must have at least one node selector term"));
    }
    let mut terms = Vec::new();
    for (i, term) in required.node_selector_terms.iter().enumerate() {
        let tp = format!("{path}[{i}]");
        if term.match_fields.as_ref().is_some_and(|f| !f.is_empty()) {
            return Err(doc.error(
                ErrorKind::Invalid,
                format!("{tp}.matchFields"),
                "matchFields (node names) is not supported by capsim; use matchExpressions on node labels",
            ));
        }
        let mut reqs = Vec::new();
        for (j, e) in term.match_expressions.iter().flatten().enumerate() {
            let ep = format!("{tp}.matchExpressions[{j}]");
            let op = SelectorOperator::parse(&e.operator).ok_or_else(|| {
                doc.error(
                    ErrorKind::Invalid,
                    format!("{ep}.operator"),
                    format!(
                        "must be In, NotIn, Exists, DoesNotExist, Gt or Lt, got {:?}",
                        e.operator
                    ),
                )
            })?;
            let values = e.values.clone().unwrap_or_default();
            check_operator_values(doc, &ep, op, &values)?;
            reqs.push(Requirement {
                key: e.key.clone(),
                operator: op,
                values,
            });
        }
        // "A null or empty node selector term matches no objects" (core/v1 NodeSelectorTerm docs):
        // as the terms are ORed, an empty term contributes nothing and is dropped.
        if !reqs.is_empty() {
            terms.push(reqs);
        }
    }
    if terms.is_empty() {
        warnings.push(format!(
            "{}: {path}: every node selector term is empty, so no node matches and the pods stay Pending",
            location(doc)
        ));
        // A term no node satisfies: `In` with no values never matches.
        terms.push(vec![Requirement {
            key: "kubernetes.io/hostname".into(),
            operator: SelectorOperator::In,
            values: Vec::new(),
        }]);
    }
    Ok(NodeAffinity { terms })
}

/// Parses and validates a `policy/v1 PodDisruptionBudget`. `None` when it selects no pods.
/// upstream: kubernetes/kubernetes pkg/apis/policy/validation/validation.go
/// `ValidatePodDisruptionBudgetSpec`.
pub fn disruption_budget(
    doc: &RawDocument,
    warnings: &mut Vec<String>,
) -> Result<Option<DisruptionBudget>, ScenarioError> {
    let pdb: k8s_openapi::api::policy::v1::PodDisruptionBudget = typed_checked(doc, warnings)?;
    let name = require_name(doc)?;
    let spec = pdb.spec.unwrap_or_default();
    if spec.min_available.is_some() && spec.max_unavailable.is_some() {
        return Err(doc.error(
            ErrorKind::Invalid,
            "spec",
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    let min_available = spec
        .min_available
        .as_ref()
        .map(|v| int_or_percent(doc, "spec.minAvailable", v))
        .transpose()?;
    let max_unavailable = spec
        .max_unavailable
        .as_ref()
        .map(|v| int_or_percent(doc, "spec.maxUnavailable", v))
        .transpose()?;
    let Some(selector) = spec.selector else {
        // policy/v1: "A null selector selects no pods."
        warnings.push(format!(
            "{}: spec.selector is not set, so the budget selects no pods",
            location(doc)
        ));
        return Ok(None);
    };
    if selector.match_expressions.as_ref().is_some_and(|e| !e.is_empty()) {
        return Err(doc.error(
            ErrorKind::Invalid,
            "spec.selector.matchExpressions",
            "is not supported by capsim; use matchLabels",
        ));
    }
    Ok(Some(DisruptionBudget {
        name,
        namespace: doc.namespace.clone(),
        selector: selector.match_labels.unwrap_or_default(),
        min_available,
        max_unavailable,
    }))
}

/// upstream: pkg/apis/policy/validation `ValidatePositiveIntOrPercent` and `IsValidPercent`
/// (`^[0-9]+%$`), and "must not be greater than 100%".
fn int_or_percent(doc: &RawDocument, path: &str, v: &IntOrString) -> Result<IntOrPercent, ScenarioError> {
    match v {
        IntOrString::Int(n) if *n >= 0 => Ok(IntOrPercent::Int(i64::from(*n))),
        IntOrString::Int(n) => Err(doc.error(ErrorKind::Invalid, path, format!("must be >= 0, got {n}"))),
        IntOrString::String(s) => {
            let pct = s
                .strip_suffix('%')
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.parse::<u32>().ok());
            match pct {
                Some(p) if p <= 100 => Ok(IntOrPercent::Percent(f64::from(p))),
                Some(p) => Err(doc.error(
                    ErrorKind::Invalid,
                    path,
                    format!("must not be greater than 100%, got {p}%"),
                )),
                None => Err(doc.error(
                    ErrorKind::Invalid,
                    path,
                    format!("must be an integer or a percentage such as \"50%\", got {s:?}"),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(v: serde_json::Value) -> RawDocument {
        RawDocument::new("m.yaml", 2, None, 1, v).unwrap()
    }

    #[test]
    fn priority_resolution_follows_admission() {
        let c = |name: &str, value, global_default| PriorityClassInfo {
            name: name.into(),
            value,
            global_default,
            preempts: true,
        };
        let none = PriorityResolver::new(vec![c("high", 1000, false)]);
        // no class and no globalDefault → 0 (DefaultPriorityWhenNoDefaultClassExists)
        assert_eq!(none.resolve(None).unwrap(), (None, 0, true));
        assert_eq!(none.resolve(Some("")).unwrap(), (None, 0, true));
        assert_eq!(none.resolve(Some("high")).unwrap(), (Some("high".into()), 1000, true));
        assert_eq!(
            none.resolve(Some("system-node-critical")).unwrap(),
            (Some("system-node-critical".into()), 2_000_001_000, true)
        );
        assert_eq!(none.resolve(Some("system-cluster-critical")).unwrap().1, 2_000_000_000);
        let e = none.resolve(Some("nope")).unwrap_err();
        assert!(e.contains("no PriorityClass with name \"nope\""), "{e}");
        // two globalDefault classes: the lowest value wins
        let two = PriorityResolver::new(vec![c("a", 50, true), c("b", 10, true), c("high", 1000, false)]);
        assert_eq!(two.resolve(None).unwrap(), (Some("b".into()), 10, true));
        assert_eq!(two.global_default_count(), 2);
    }

    #[test]
    fn priority_class_validation() {
        let pc = |name: &str, value: i64| {
            raw(
                json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
                       "value": value, "preemptionPolicy": "Never"}),
            )
        };
        let ok = priority_class(&pc("batch", -5)).unwrap();
        assert_eq!((ok.value, ok.preempts, ok.global_default), (-5, false, false));
        let e = priority_class(&pc("too-high", 1_000_000_001)).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("value"));
        let e = priority_class(&pc("system-mine", 1)).unwrap_err();
        assert!(e.message.contains("reserved"), "{e}");
        let e = priority_class(&raw(
            json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                            "metadata": {"name": "x"}, "value": "high"}),
        ))
        .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("value"));
        assert!(e.message.contains("invalid type: string \"high\""), "{e}");
    }

    #[test]
    fn int_or_percent_rules() {
        let d = raw(json!({"apiVersion": "v1", "kind": "X"}));
        let p = |v: IntOrString| int_or_percent(&d, "spec.minAvailable", &v);
        assert_eq!(p(IntOrString::Int(2)).unwrap(), IntOrPercent::Int(2));
        assert_eq!(
            p(IntOrString::String("50%".into())).unwrap(),
            IntOrPercent::Percent(50.0)
        );
        assert!(p(IntOrString::Int(-1)).is_err());
        assert!(p(IntOrString::String("12.5%".into())).is_err());
        assert!(p(IntOrString::String("101%".into())).is_err());
        assert!(p(IntOrString::String("5".into())).is_err());
    }

    #[test]
    fn default_tolerations_respect_existing_ones() {
        let tol = |key: &str, effect: Option<TaintEffect>| Toleration {
            key: key.into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect,
            seconds: None,
        };
        // Covers not-ready only (key match, any effect): unreachable is added.
        let mut t = vec![tol("node.kubernetes.io/not-ready", None)];
        add_default_tolerations(&mut t);
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].key, "node.kubernetes.io/unreachable");
        // A NoSchedule toleration of not-ready does not cover the NoExecute taint: both added.
        let mut t = vec![tol("node.kubernetes.io/not-ready", Some(TaintEffect::NoSchedule))];
        add_default_tolerations(&mut t);
        assert_eq!(t.len(), 3);
        // Tolerate-everything covers both.
        let mut t = vec![tol("", None)];
        add_default_tolerations(&mut t);
        assert_eq!(t.len(), 1);
        // DaemonSet: idempotent, network-unavailable only with hostNetwork.
        let mut t = Vec::new();
        add_daemon_set_tolerations(&mut t, true);
        add_daemon_set_tolerations(&mut t, true);
        assert_eq!(t.len(), 7);
    }

    #[test]
    fn join_paths() {
        assert_eq!(join("spec", "replicas"), "spec.replicas");
        assert_eq!(join("spec.x", "[0].a"), "spec.x[0].a");
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", ""), "a");
    }
}
