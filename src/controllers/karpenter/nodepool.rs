//! `karpenter.sh/v1 NodePool`, parsed from the raw document in two stages: serde structs (field
//! paths in errors through serde_path_to_error), then validation against the catalog.
//!
//! upstream: kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go, nodeclaim.go (types, defaults
//! and CEL validation rules).

use super::KarpenterError;
use super::cron::Cron;
use super::offerings::{self, TypeInfo, WELL_KNOWN_KEYS};
use super::settings::KarpenterSettings;
use crate::engine::SimDuration;
use crate::model::labels::{Requirement, SelectorOperator};
use crate::model::units::{Qty, parse_duration};
use crate::model::{Labels, Taint, TaintEffect};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// upstream: nodepool.go `ExpireAfter` default `720h`.
pub const DEFAULT_EXPIRE_AFTER: SimDuration = SimDuration::from_mins(720 * 60);
/// upstream: nodepool.go `ConsolidateAfter` default `0s`.
pub const DEFAULT_CONSOLIDATE_AFTER: SimDuration = SimDuration::ZERO;
/// upstream: nodepool.go `Budgets` default `[{nodes: "10%"}]`.
pub const DEFAULT_BUDGET_PERCENT: u32 = 10;
/// upstream: nodepool.go `Budgets` `+kubebuilder:validation:MaxItems=50`.
pub const MAX_BUDGETS: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsolidationPolicy {
    WhenEmpty,
    WhenEmptyOrUnderutilized,
}

/// Why a node is disrupted; budgets may be restricted to some reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DisruptionReason {
    Underutilized,
    Empty,
    Drifted,
}

impl DisruptionReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            DisruptionReason::Underutilized => "Underutilized",
            DisruptionReason::Empty => "Empty",
            DisruptionReason::Drifted => "Drifted",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetNodes {
    Count(u64),
    Percent(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    pub nodes: BudgetNodes,
    /// With `duration`: active for `duration` after each time the schedule fires.
    pub schedule: Option<(Cron, SimDuration)>,
    /// `None` applies to every reason.
    pub reasons: Option<Vec<DisruptionReason>>,
}

/// `spec.limits`: `None` where unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub cpu_m: Option<i64>,
    pub memory: Option<i64>,
    pub nodes: Option<i64>,
}

/// A validated NodePool.
#[derive(Clone, Debug, PartialEq)]
pub struct NodePool {
    pub name: String,
    pub weight: i32,
    /// template.metadata.labels plus single-valued `In` requirements on non-well-known keys.
    pub labels: Labels,
    /// Every requirement, as written.
    pub requirements: Vec<Requirement>,
    /// The requirements on keys an offering carries (well-known labels and any other label the
    /// catalog gives instance types): these select offerings.
    pub offering_requirements: Vec<Requirement>,
    pub taints: Vec<Taint>,
    /// Applied at launch, removed by the node's initialisation (not modelled: see module docs).
    pub startup_taints: Vec<Taint>,
    /// `None` = `Never`.
    pub expire_after: Option<SimDuration>,
    pub termination_grace_period: Option<SimDuration>,
    pub node_class: Option<String>,
    pub consolidation_policy: ConsolidationPolicy,
    /// `None` = `Never`.
    pub consolidate_after: Option<SimDuration>,
    pub budgets: Vec<Budget>,
    pub limits: Limits,
}

impl NodePool {
    /// Does an offering with these labels satisfy the pool's offering requirements?
    /// (Requirements on other keys describe labels the node will carry; they do not filter
    /// instance types.)
    pub fn admits(&self, offering_labels: &Labels) -> bool {
        self.offering_requirements.iter().all(|r| r.matches(offering_labels))
    }
}

// ----- raw ---------------------------------------------------------------------------------

#[derive(Deserialize)]
struct RawDoc {
    metadata: RawMeta,
    spec: RawSpec,
}

#[derive(Deserialize)]
struct RawMeta {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpec {
    weight: Option<i64>,
    #[serde(default)]
    template: RawTemplate,
    #[serde(default)]
    disruption: RawDisruption,
    #[serde(default)]
    limits: BTreeMap<String, Qty>,
}

#[derive(Deserialize, Default)]
struct RawTemplate {
    #[serde(default)]
    metadata: RawTemplateMeta,
    #[serde(default)]
    spec: RawTemplateSpec,
}

#[derive(Deserialize, Default)]
struct RawTemplateMeta {
    #[serde(default)]
    labels: Labels,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawTemplateSpec {
    #[serde(default)]
    requirements: Vec<RawRequirement>,
    #[serde(default)]
    taints: Vec<RawTaint>,
    #[serde(default)]
    startup_taints: Vec<RawTaint>,
    expire_after: Option<String>,
    termination_grace_period: Option<String>,
    node_class_ref: Option<RawNodeClassRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequirement {
    key: String,
    operator: String,
    #[serde(default)]
    values: Vec<String>,
    min_values: Option<i64>,
}

#[derive(Deserialize)]
struct RawTaint {
    key: String,
    #[serde(default)]
    value: String,
    effect: String,
}

#[derive(Deserialize)]
struct RawNodeClassRef {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawDisruption {
    consolidation_policy: Option<String>,
    consolidate_after: Option<String>,
    budgets: Option<Vec<RawBudget>>,
}

#[derive(Deserialize)]
struct RawBudget {
    nodes: Option<serde_json::Value>,
    schedule: Option<String>,
    duration: Option<String>,
    reasons: Option<Vec<String>>,
}

/// `Never` or a Go duration.
fn never_or_duration(s: &str) -> Result<Option<SimDuration>, String> {
    if s == "Never" {
        Ok(None)
    } else {
        parse_duration(s).map(Some).map_err(|e| format!("{e} (or `Never`)"))
    }
}

/// Parses and validates one NodePool document. `warnings` collects non-fatal findings (ignored
/// `minValues`, values the catalog does not offer).
pub fn parse_nodepool(
    value: &serde_json::Value,
    types: &[TypeInfo],
    settings: &KarpenterSettings,
    warnings: &mut Vec<String>,
) -> Result<NodePool, KarpenterError> {
    let name = value
        .pointer("/metadata/name")
        .and_then(|v| v.as_str())
        .unwrap_or("<unnamed>")
        .to_string();
    let err = |path: &str, message: String| KarpenterError::NodePool {
        name: name.clone(),
        path: path.to_string(),
        message,
    };
    let raw: RawDoc =
        serde_path_to_error::deserialize(value).map_err(|e| err(&e.path().to_string(), e.inner().to_string()))?;

    let weight = match raw.spec.weight {
        None => 0,
        // upstream: nodepool.go `Weight` +kubebuilder:validation:Minimum=1, Maximum=100.
        Some(w) if (1..=100).contains(&w) => w as i32,
        Some(w) => return Err(err("spec.weight", format!("must be within 1..100, got {w}"))),
    };

    let tspec = raw.spec.template.spec;
    let mut labels = raw.spec.template.metadata.labels;
    let mut requirements = Vec::new();
    let mut offering_requirements = Vec::new();
    let type_keys: BTreeSet<&str> = types.iter().flat_map(|t| t.labels.keys().map(String::as_str)).collect();
    for (i, r) in tspec.requirements.into_iter().enumerate() {
        let path = format!("spec.template.spec.requirements[{i}]");
        let req = validate_requirement(r, &path, types, settings, warnings, &err)?;
        if WELL_KNOWN_KEYS.contains(&req.key.as_str()) || type_keys.contains(req.key.as_str()) {
            offering_requirements.push(req.clone());
        } else if req.key.starts_with("karpenter.k8s.aws/") || req.key.starts_with("karpenter.sh/") {
            // Provider labels the catalog does not carry (hypervisor, GPU, network bandwidth...).
            warnings.push(format!(
                "NodePool {name}: {path}: label {} is not in the catalog, requirement ignored",
                req.key
            ));
        } else if req.operator == SelectorOperator::In && req.values.len() == 1 {
            // A single-valued In on a custom key is a label every node of the pool carries
            // (upstream: NodeClaim labels are derived from single-valued requirements).
            labels.insert(req.key.clone(), req.values[0].clone());
        }
        requirements.push(req);
    }
    let taints = parse_taints(tspec.taints, "spec.template.spec.taints", &err)?;
    let startup_taints = parse_taints(tspec.startup_taints, "spec.template.spec.startupTaints", &err)?;
    let expire_after = match tspec.expire_after.as_deref() {
        None => Some(DEFAULT_EXPIRE_AFTER),
        Some(s) => never_or_duration(s).map_err(|m| err("spec.template.spec.expireAfter", m))?,
    };
    let termination_grace_period = match tspec.termination_grace_period.as_deref() {
        None => None,
        Some(s) => {
            Some(parse_duration(s).map_err(|e| err("spec.template.spec.terminationGracePeriod", e.to_string()))?)
        }
    };

    let d = raw.spec.disruption;
    let consolidation_policy = match d.consolidation_policy.as_deref() {
        None | Some("WhenEmptyOrUnderutilized") => ConsolidationPolicy::WhenEmptyOrUnderutilized,
        Some("WhenEmpty") => ConsolidationPolicy::WhenEmpty,
        Some(other) => {
            return Err(err(
                "spec.disruption.consolidationPolicy",
                format!("expected `WhenEmpty` or `WhenEmptyOrUnderutilized`, got `{other}`"),
            ));
        }
    };
    let consolidate_after = match d.consolidate_after.as_deref() {
        None => Some(DEFAULT_CONSOLIDATE_AFTER),
        Some(s) => never_or_duration(s).map_err(|m| err("spec.disruption.consolidateAfter", m))?,
    };
    let budgets = match d.budgets {
        None => vec![Budget {
            nodes: BudgetNodes::Percent(DEFAULT_BUDGET_PERCENT),
            schedule: None,
            reasons: None,
        }],
        Some(bs) => {
            if bs.len() > MAX_BUDGETS {
                return Err(err(
                    "spec.disruption.budgets",
                    format!("at most {MAX_BUDGETS} budgets are allowed, got {}", bs.len()),
                ));
            }
            bs.into_iter()
                .enumerate()
                .map(|(i, b)| budget(b, &format!("spec.disruption.budgets[{i}]"), &err))
                .collect::<Result<Vec<_>, _>>()?
        }
    };

    let mut limits = Limits::default();
    for (k, q) in &raw.spec.limits {
        let path = format!("spec.limits.{k}");
        if q.0.is_negative() {
            return Err(err(&path, format!("must not be negative, got {q}")));
        }
        match k.as_str() {
            "cpu" => limits.cpu_m = Some(q.0.milli_value()),
            "memory" => limits.memory = Some(q.0.value()),
            "nodes" => limits.nodes = Some(q.0.value()),
            _ => warnings.push(format!(
                "NodePool {name}: {path}: resource not modelled (only cpu, memory and nodes), ignored"
            )),
        }
    }

    Ok(NodePool {
        name: raw.metadata.name,
        weight,
        labels,
        requirements,
        offering_requirements,
        taints,
        startup_taints,
        expire_after,
        termination_grace_period,
        node_class: tspec.node_class_ref.map(|r| r.name),
        consolidation_policy,
        consolidate_after,
        budgets,
        limits,
    })
}

type ErrFn<'a> = dyn Fn(&str, String) -> KarpenterError + 'a;

fn validate_requirement(
    r: RawRequirement,
    path: &str,
    types: &[TypeInfo],
    settings: &KarpenterSettings,
    warnings: &mut Vec<String>,
    err: &ErrFn<'_>,
) -> Result<Requirement, KarpenterError> {
    let operator = SelectorOperator::parse(&r.operator).ok_or_else(|| {
        err(
            &format!("{path}.operator"),
            format!(
                "unknown operator `{}` (expected In, NotIn, Exists, DoesNotExist, Gt or Lt)",
                r.operator
            ),
        )
    })?;
    if r.min_values.is_some() {
        warnings.push(format!("{path}.minValues: not modelled, ignored (key {})", r.key));
    }
    let vpath = format!("{path}.values");
    match operator {
        SelectorOperator::In if r.values.is_empty() => {
            return Err(err(&vpath, "operator In needs at least one value".into()));
        }
        SelectorOperator::Exists | SelectorOperator::DoesNotExist if !r.values.is_empty() => {
            return Err(err(&vpath, format!("operator {} takes no values", r.operator)));
        }
        SelectorOperator::Gt | SelectorOperator::Lt => {
            if r.values.len() != 1 {
                return Err(err(
                    &vpath,
                    format!(
                        "operator {} needs exactly one integer value, got {}",
                        r.operator,
                        r.values.len()
                    ),
                ));
            }
            if r.values[0].trim().parse::<i64>().is_err() {
                return Err(err(
                    &format!("{vpath}[0]"),
                    format!("operator {} needs an integer, got `{}`", r.operator, r.values[0]),
                ));
            }
        }
        _ => {}
    }
    if matches!(operator, SelectorOperator::In | SelectorOperator::NotIn) {
        check_values(&r.key, &r.values, &vpath, types, settings, warnings, err)?;
    }
    Ok(Requirement {
        key: r.key,
        operator,
        values: r.values,
    })
}

/// Values of a well-known key must be ones the cloud can offer. Closed domains (capacity type,
/// architecture) reject any unknown value; catalog-derived keys reject a list with no known value
/// (it could never match) and warn about individual unknown values.
fn check_values(
    key: &str,
    values: &[String],
    path: &str,
    types: &[TypeInfo],
    settings: &KarpenterSettings,
    warnings: &mut Vec<String>,
    err: &ErrFn<'_>,
) -> Result<(), KarpenterError> {
    let known: BTreeSet<String> = match key {
        // upstream: pkg/apis/v1/labels.go capacity types `spot`, `on-demand`, `reserved`.
        offerings::LABEL_CAPACITY_TYPE => ["spot", "on-demand", "reserved"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        offerings::LABEL_ZONE => settings.zones.iter().cloned().collect(),
        k if WELL_KNOWN_KEYS.contains(&k) => types.iter().filter_map(|t| t.labels.get(k).cloned()).collect(),
        _ => return Ok(()),
    };
    let unknown: Vec<&String> = values.iter().filter(|v| !known.contains(*v)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let closed = key == offerings::LABEL_CAPACITY_TYPE || key == offerings::LABEL_ARCH;
    let list = |set: &BTreeSet<String>| {
        let mut v: Vec<&str> = set.iter().map(String::as_str).take(12).collect();
        if set.len() > 12 {
            v.push("...");
        }
        v.join(", ")
    };
    if closed || unknown.len() == values.len() {
        let hint = if key == offerings::LABEL_ZONE {
            "; list the cloud's zones in spec.provisioner.karpenter.zones"
        } else {
            ""
        };
        return Err(err(
            path,
            format!(
                "unknown value `{}` for well-known label {key} (known: {}){hint}",
                unknown[0],
                list(&known)
            ),
        ));
    }
    let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
    warnings.push(format!(
        "{path}: values not offered by the catalog for {key}: {}",
        names.join(", ")
    ));
    Ok(())
}

fn parse_taints(raw: Vec<RawTaint>, path: &str, err: &ErrFn<'_>) -> Result<Vec<Taint>, KarpenterError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, t)| {
            let effect = TaintEffect::parse(&t.effect).ok_or_else(|| {
                err(
                    &format!("{path}[{i}].effect"),
                    format!("expected NoSchedule, PreferNoSchedule or NoExecute, got `{}`", t.effect),
                )
            })?;
            if t.key.is_empty() {
                return Err(err(&format!("{path}[{i}].key"), "must not be empty".into()));
            }
            Ok(Taint {
                key: t.key,
                value: t.value,
                effect,
            })
        })
        .collect()
}

fn budget(b: RawBudget, path: &str, err: &ErrFn<'_>) -> Result<Budget, KarpenterError> {
    // upstream: nodepool.go Budget.Nodes pattern `^((100|[0-9]{1,2})%|[0-9]+)$`, default "10%".
    let nodes = match &b.nodes {
        None => BudgetNodes::Percent(DEFAULT_BUDGET_PERCENT),
        Some(serde_json::Value::Number(n)) => match n.as_u64() {
            Some(c) => BudgetNodes::Count(c),
            None => {
                return Err(err(
                    &format!("{path}.nodes"),
                    format!("must be a non-negative integer, got {n}"),
                ));
            }
        },
        Some(serde_json::Value::String(s)) => {
            let bad = || {
                err(
                    &format!("{path}.nodes"),
                    format!("expected a node count such as `5` or a percentage such as `10%`, got `{s}`"),
                )
            };
            if let Some(p) = s.strip_suffix('%') {
                let p: u32 = p.parse().map_err(|_| bad())?;
                if p > 100 {
                    return Err(bad());
                }
                BudgetNodes::Percent(p)
            } else {
                BudgetNodes::Count(s.parse().map_err(|_| bad())?)
            }
        }
        Some(other) => {
            return Err(err(
                &format!("{path}.nodes"),
                format!("expected a count or a percentage string, got {other}"),
            ));
        }
    };
    // upstream: CEL rule "'schedule' must be set with 'duration'".
    let schedule = match (b.schedule, b.duration) {
        (None, None) => None,
        (Some(s), Some(d)) => {
            let cron = Cron::parse(&s).map_err(|m| err(&format!("{path}.schedule"), m))?;
            let dur = parse_duration(&d).map_err(|e| err(&format!("{path}.duration"), e.to_string()))?;
            Some((cron, dur))
        }
        (Some(_), None) => return Err(err(&format!("{path}.duration"), "must be set with schedule".into())),
        (None, Some(_)) => return Err(err(&format!("{path}.schedule"), "must be set with duration".into())),
    };
    let reasons = match b.reasons {
        None => None,
        Some(rs) => Some(
            rs.iter()
                .enumerate()
                .map(|(i, r)| match r.as_str() {
                    "Underutilized" => Ok(DisruptionReason::Underutilized),
                    "Empty" => Ok(DisruptionReason::Empty),
                    "Drifted" => Ok(DisruptionReason::Drifted),
                    _ => Err(err(
                        &format!("{path}.reasons[{i}]"),
                        format!("expected Underutilized, Empty or Drifted, got `{r}`"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(Budget {
        nodes,
        schedule,
        reasons,
    })
}
