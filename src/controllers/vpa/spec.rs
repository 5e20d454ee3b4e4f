//! `autoscaling.k8s.io/v1 VerticalPodAutoscaler`, validated, and the capping of a
//! recommendation by its resource policy.
//!
//! upstream: kubernetes/autoscaler vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1/types.go
//! (fields and defaults), pkg/utils/vpa/capping.go (min/maxAllowed, controlledResources, mode
//! Off), pkg/recommender/model/types.go `RoundUpToScale`.

use super::recommender::{Amounts, Estimate};
use crate::model::units::Quantity;
use serde_json::Value;

/// `spec.updatePolicy.updateMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateMode {
    /// Recommend only.
    Off,
    /// Set requests when pods are created, never evict.
    Initial,
    /// Evict pods whose requests are out of line (`Auto`, deprecated, is this).
    Recreate,
    /// Resize in place where the node has room, else evict.
    InPlaceOrRecreate,
}

/// One `resourcePolicy.containerPolicies[]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerPolicy {
    /// `containerName` (`*` is the default for containers with no entry of their own).
    pub name: String,
    /// `mode: Off`.
    pub off: bool,
    pub min_allowed: Limits,
    pub max_allowed: Limits,
    /// `controlledResources` (default both).
    pub cpu: bool,
    pub memory: bool,
    /// `controlledValues: RequestsAndLimits` (default) or `RequestsOnly`.
    pub limits_too: bool,
}

/// A bound per resource, when given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub cpu_m: Option<i64>,
    pub mem: Option<i64>,
}

/// A VerticalPodAutoscaler as capsim models it.
#[derive(Clone, Debug, PartialEq)]
pub struct VpaSpec {
    pub name: String,
    pub namespace: String,
    /// `spec.targetRef` kind and name.
    pub target_kind: String,
    pub target_name: String,
    pub update_mode: UpdateMode,
    /// `spec.updatePolicy.minReplicas` (else the updater's `--min-replicas`).
    pub min_replicas: Option<u32>,
    pub policies: Vec<ContainerPolicy>,
    /// `spec.recommenders[].name`: capsim runs the default recommender; another name is kept
    /// so the caller can warn.
    pub recommenders: Vec<String>,
}

/// A validation error: the field path and what is wrong.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SpecError {
    pub path: String,
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError {
        path: path.into(),
        message: message.into(),
    }
}

fn string<'a>(v: &'a Value, path: &str) -> Result<Option<&'a str>, SpecError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(err(path, format!("must be a string, got {other}"))),
    }
}

fn limits(v: &Value, path: &str) -> Result<Limits, SpecError> {
    let mut out = Limits::default();
    let Some(map) = v.as_object() else {
        return if v.is_null() {
            Ok(out)
        } else {
            Err(err(path, "must be a map of resource quantities"))
        };
    };
    for (k, q) in map {
        let p = format!("{path}.{k}");
        let text = match q {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(err(&p, "must be a quantity like 250m or 512Mi")),
        };
        let q = Quantity::parse(&text).map_err(|e| err(&p, e.to_string()))?;
        if q.is_negative() {
            return Err(err(&p, "must not be negative"));
        }
        match k.as_str() {
            "cpu" => out.cpu_m = Some(q.milli_value()),
            "memory" => out.mem = Some(q.value()),
            other => return Err(err(&p, format!("capsim models cpu and memory, not {other:?}"))),
        }
    }
    Ok(out)
}

impl VpaSpec {
    /// Reads and validates a VerticalPodAutoscaler document (`name`/`namespace` from its metadata).
    pub fn from_value(doc: &Value, name: &str, namespace: &str) -> Result<VpaSpec, SpecError> {
        let spec = &doc["spec"];
        if !spec.is_object() {
            return Err(err("spec", "required field is missing"));
        }
        let target = &spec["targetRef"];
        let target_kind = string(&target["kind"], "spec.targetRef.kind")?
            .ok_or_else(|| err("spec.targetRef.kind", "required field is missing"))?
            .to_string();
        let target_name = string(&target["name"], "spec.targetRef.name")?
            .ok_or_else(|| err("spec.targetRef.name", "required field is missing"))?
            .to_string();
        let update = &spec["updatePolicy"];
        let update_mode = match string(&update["updateMode"], "spec.updatePolicy.updateMode")? {
            None | Some("Auto") | Some("Recreate") => UpdateMode::Recreate,
            Some("Off") => UpdateMode::Off,
            Some("Initial") => UpdateMode::Initial,
            Some("InPlaceOrRecreate") => UpdateMode::InPlaceOrRecreate,
            Some(other) => {
                return Err(err(
                    "spec.updatePolicy.updateMode",
                    format!("must be Off, Initial, Recreate, InPlaceOrRecreate or Auto, got {other:?}"),
                ));
            }
        };
        let min_replicas = match &update["minReplicas"] {
            Value::Null => None,
            v => Some(
                v.as_u64()
                    .filter(|&n| n >= 1 && n <= u64::from(u32::MAX))
                    .ok_or_else(|| {
                        err(
                            "spec.updatePolicy.minReplicas",
                            format!("must be an integer >= 1, got {v}"),
                        )
                    })? as u32,
            ),
        };
        let mut policies = Vec::new();
        if let Some(list) = spec["resourcePolicy"]["containerPolicies"].as_array() {
            for (i, p) in list.iter().enumerate() {
                let path = format!("spec.resourcePolicy.containerPolicies[{i}]");
                let name = string(&p["containerName"], &format!("{path}.containerName"))?
                    .unwrap_or("*")
                    .to_string();
                let off = match string(&p["mode"], &format!("{path}.mode"))? {
                    None | Some("Auto") => false,
                    Some("Off") => true,
                    Some(other) => {
                        return Err(err(
                            format!("{path}.mode"),
                            format!("must be Auto or Off, got {other:?}"),
                        ));
                    }
                };
                let (cpu, memory) = match p["controlledResources"].as_array() {
                    None => (true, true),
                    Some(rs) => {
                        let mut c = (false, false);
                        for (j, r) in rs.iter().enumerate() {
                            match r.as_str() {
                                Some("cpu") => c.0 = true,
                                Some("memory") => c.1 = true,
                                _ => {
                                    return Err(err(
                                        format!("{path}.controlledResources[{j}]"),
                                        format!("must be cpu or memory, got {r}"),
                                    ));
                                }
                            }
                        }
                        c
                    }
                };
                let limits_too = match string(&p["controlledValues"], &format!("{path}.controlledValues"))? {
                    None | Some("RequestsAndLimits") => true,
                    Some("RequestsOnly") => false,
                    Some(other) => {
                        return Err(err(
                            format!("{path}.controlledValues"),
                            format!("must be RequestsAndLimits or RequestsOnly, got {other:?}"),
                        ));
                    }
                };
                let min_allowed = limits(&p["minAllowed"], &format!("{path}.minAllowed"))?;
                let max_allowed = limits(&p["maxAllowed"], &format!("{path}.maxAllowed"))?;
                for (lo, hi, r) in [
                    (min_allowed.cpu_m, max_allowed.cpu_m, "cpu"),
                    (min_allowed.mem, max_allowed.mem, "memory"),
                ] {
                    if let (Some(lo), Some(hi)) = (lo, hi)
                        && lo > hi
                    {
                        return Err(err(
                            format!("{path}.minAllowed.{r}"),
                            "must not be more than maxAllowed",
                        ));
                    }
                }
                policies.push(ContainerPolicy {
                    name,
                    off,
                    min_allowed,
                    max_allowed,
                    cpu,
                    memory,
                    limits_too,
                });
            }
        }
        let recommenders = spec["recommenders"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| r["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok(VpaSpec {
            name: name.to_string(),
            namespace: namespace.to_string(),
            target_kind,
            target_name,
            update_mode,
            min_replicas,
            policies,
            recommenders,
        })
    }

    /// The policy of a container: its own entry, else `*`. upstream: pkg/utils/vpa/api.go
    /// `GetContainerResourcePolicy`.
    pub fn policy(&self, container: &str) -> Option<&ContainerPolicy> {
        self.policies
            .iter()
            .find(|p| p.name == container)
            .or_else(|| self.policies.iter().find(|p| p.name == "*"))
    }
}

/// A container's recommendation as the VPA status shows it: capped, and the target before
/// capping. `None` for a resource the policy does not control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recommendation {
    pub target: Amounts,
    pub lower: Amounts,
    pub upper: Amounts,
    pub uncapped_target: Amounts,
    pub cpu: bool,
    pub memory: bool,
}

/// upstream: types.go `RoundUpToScale`.
fn round_up(v: i64, scale: i64) -> i64 {
    if scale <= 1 || v == 0 {
        return v;
    }
    ((v as f64 / scale as f64).ceil() as i64) * scale
}

fn clamp(v: i64, lo: Option<i64>, hi: Option<i64>) -> i64 {
    let v = lo.map_or(v, |l| v.max(l));
    hi.map_or(v, |h| v.min(h))
}

/// Caps an estimate by the container's policy (`None`: mode Off, no recommendation) and rounds
/// it up to the recommender's multiples. upstream: capping.go `getCappedRecommendationForContainer`.
pub fn cap(
    est: &Estimate,
    policy: Option<&ContainerPolicy>,
    round_cpu_m: i64,
    round_mem: i64,
) -> Option<Recommendation> {
    if policy.is_some_and(|p| p.off) {
        return None;
    }
    let round = |a: Amounts| Amounts {
        cpu_m: round_up(a.cpu_m, round_cpu_m),
        mem: round_up(a.mem, round_mem),
    };
    let (min, max) = policy.map_or((Limits::default(), Limits::default()), |p| {
        (p.min_allowed, p.max_allowed)
    });
    let capped = |a: Amounts| Amounts {
        cpu_m: clamp(a.cpu_m, min.cpu_m, max.cpu_m),
        mem: clamp(a.mem, min.mem, max.mem),
    };
    let est = Estimate {
        target: round(est.target),
        lower: round(est.lower),
        upper: round(est.upper),
    };
    Some(Recommendation {
        target: capped(est.target),
        lower: capped(est.lower),
        upper: capped(est.upper),
        uncapped_target: est.target,
        cpu: policy.is_none_or(|p| p.cpu),
        memory: policy.is_none_or(|p| p.memory),
    })
}
