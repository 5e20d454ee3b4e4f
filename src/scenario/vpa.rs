//! `autoscaling.k8s.io/v1 VerticalPodAutoscaler` documents: validated against the workloads they
//! target, with warnings for what capsim reads differently from a cluster.
//!
//! The object's own semantics (modes, policies, capping) live in
//! [`crate::controllers::vpa::spec`]; here are the cross-checks a single document cannot make.

use super::error::{ErrorKind, ScenarioError};
use super::manifests::{location, require_name};
use super::raw::RawDocument;
use crate::controllers::vpa::spec::VpaSpec;
use crate::model::{Workload, WorkloadKind};
use serde_json::Value;
use std::collections::BTreeMap;

/// A validated VPA and the workload it targets.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioVpa {
    pub spec: VpaSpec,
    /// Index into [`super::Scenario::workloads`].
    pub target: usize,
}

/// The fields capsim reads, as a tree (`*` stands for every element of a list).
const FIELDS: &[&str] = &[
    "spec.targetRef.apiVersion",
    "spec.targetRef.kind",
    "spec.targetRef.name",
    "spec.updatePolicy.updateMode",
    "spec.updatePolicy.minReplicas",
    "spec.resourcePolicy.containerPolicies.*.containerName",
    "spec.resourcePolicy.containerPolicies.*.mode",
    "spec.resourcePolicy.containerPolicies.*.minAllowed",
    "spec.resourcePolicy.containerPolicies.*.maxAllowed",
    "spec.resourcePolicy.containerPolicies.*.controlledResources",
    "spec.resourcePolicy.containerPolicies.*.controlledValues",
    "spec.recommenders.*.name",
];

/// Paths below `spec` that capsim does not read (each would change the answer in a cluster:
/// `evictionRequirements`, `startupBoost`, `evictAfterOOMSeconds`...).
fn unread_fields(v: &Value, path: &str, out: &mut Vec<String>) {
    let known = |p: &str| {
        FIELDS.iter().any(|f| {
            let pattern: Vec<&str> = f.split('.').collect();
            let given: Vec<&str> = p.split('.').collect();
            given.len() <= pattern.len() && given.iter().zip(&pattern).all(|(g, f)| g == f || *f == "*")
        })
    };
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if !known(&p) {
                    out.push(p);
                } else if !FIELDS.contains(&p.as_str()) {
                    unread_fields(child, &p, out);
                }
            }
        }
        Value::Array(items) => {
            for child in items {
                unread_fields(child, &format!("{path}.*"), out);
            }
        }
        _ => {}
    }
}

/// The VPA documents, validated, in document order.
pub fn parse<'d>(
    docs: impl Iterator<Item = &'d RawDocument>,
    workloads: &[Workload],
    warnings: &mut Vec<String>,
) -> Result<Vec<ScenarioVpa>, ScenarioError> {
    let mut out: Vec<ScenarioVpa> = Vec::new();
    let mut by_target: BTreeMap<usize, String> = BTreeMap::new();
    for d in docs {
        require_name(d)?;
        let spec = VpaSpec::from_value(&d.value, &d.name, &d.namespace)
            .map_err(|e| d.error(ErrorKind::Invalid, &e.path, e.message))?;
        let kind = match spec.target_kind.as_str() {
            "Deployment" => WorkloadKind::Deployment,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            other => {
                return Err(d.error(
                    ErrorKind::Invalid,
                    "spec.targetRef.kind",
                    format!("capsim's VPA targets Deployments, StatefulSets and DaemonSets, got {other:?}"),
                ));
            }
        };
        if let Some(api) = d.value["spec"]["targetRef"]["apiVersion"]
            .as_str()
            .filter(|a| *a != "apps/v1")
        {
            return Err(d.error(
                ErrorKind::Invalid,
                "spec.targetRef.apiVersion",
                format!("must be apps/v1 for a {}, got {api:?}", spec.target_kind),
            ));
        }
        let Some(target) = workloads
            .iter()
            .position(|w| w.kind == kind && w.name == spec.target_name && w.namespace == d.namespace)
        else {
            let names: Vec<&str> = workloads
                .iter()
                .filter(|w| w.kind == kind && w.namespace == d.namespace)
                .map(|w| w.name.as_str())
                .collect();
            return Err(d.error(
                ErrorKind::Reference,
                "spec.targetRef.name",
                format!(
                    "no {} named {:?} in namespace {:?}; {}s there: {}",
                    spec.target_kind,
                    spec.target_name,
                    d.namespace,
                    spec.target_kind,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        };
        // upstream: pkg/utils/vpa/api.go GetControllingVPAForPod picks one VPA per pod and
        // logs the others; which one is an accident of listing order, so capsim refuses it.
        if let Some(other) = by_target.insert(target, d.name.clone()) {
            return Err(d.error(
                ErrorKind::Duplicate,
                "spec.targetRef.name",
                format!(
                    "VerticalPodAutoscaler {other} already targets {} {}; upstream would let only one control its pods",
                    spec.target_kind, spec.target_name
                ),
            ));
        }
        let w = &workloads[target];
        let at = location(d);
        if kind == WorkloadKind::DaemonSet {
            warnings.push(format!(
                "{at}: spec.targetRef: DaemonSet {}'s pods are node overhead in capsim, with no usage of their own: \
                 this VPA recommends nothing and changes no requests",
                w.name
            ));
            continue;
        }
        for (i, p) in spec.policies.iter().enumerate() {
            if p.name != "*" && !w.template.containers.iter().any(|c| c.name == p.name) {
                warnings.push(format!(
                    "{at}: spec.resourcePolicy.containerPolicies[{i}].containerName: {} has no container {:?}: \
                     the policy applies to nothing",
                    w.name, p.name
                ));
            }
        }
        if let Some(other) = spec.recommenders.iter().find(|r| *r != "default") {
            warnings.push(format!(
                "{at}: spec.recommenders: names {other:?}; capsim runs the default recommender for it (an \
                 alternative recommender's own algorithm is not modelled)"
            ));
        }
        let mut unread = Vec::new();
        unread_fields(&d.value["spec"], "spec", &mut unread);
        for p in unread {
            warnings.push(format!(
                "{at}: {p}: not modelled by capsim's VPA (ignored; in a cluster it may change what is recommended or evicted)"
            ));
        }
        if w.template.containers.len() > 1 {
            warnings.push(format!(
                "{at}: {} runs {} containers; capsim's usage model is per pod, so each container's usage is the \
                 pod's split in proportion to its requests",
                w.name,
                w.template.containers.len()
            ));
        }
        if !w.template.sidecars.is_empty() {
            warnings.push(format!(
                "{at}: {}'s sidecar (restartable init) containers keep their requests: the VPA recommends for \
                 spec.containers",
                w.name
            ));
        }
        out.push(ScenarioVpa { spec, target });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unread_fields_are_named_by_path() {
        let v = serde_json::json!({
            "targetRef": {"kind": "Deployment", "name": "x"},
            "updatePolicy": {"updateMode": "Recreate", "evictionRequirements": [{"resources": ["cpu"]}]},
            "resourcePolicy": {"containerPolicies": [{"containerName": "*", "maxAllowed": {"cpu": "2"}, "startupBoost": {}}]},
        });
        let mut out = Vec::new();
        unread_fields(&v, "spec", &mut out);
        out.sort();
        assert_eq!(
            out,
            vec![
                "spec.resourcePolicy.containerPolicies.*.startupBoost".to_string(),
                "spec.updatePolicy.evictionRequirements".to_string(),
            ]
        );
    }
}
