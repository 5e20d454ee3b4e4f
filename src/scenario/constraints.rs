//! Stage 2 for the placement constraints of a pod template that depend on other pods:
//! `topologySpreadConstraints`, `affinity.podAffinity`, `affinity.podAntiAffinity`, and the
//! preferred terms of `affinity.nodeAffinity` → [`crate::model::topology::PodConstraints`].
//!
//! Validation follows kubernetes/kubernetes pkg/apis/core/validation/validation.go
//! (`validateTopologySpreadConstraints`, `validatePodAffinityTerm`,
//! `validateWeightedPodAffinityTerm`, `validatePreferredSchedulingTerms`).

use super::error::{ErrorKind, ScenarioError};
use super::manifests::{check_operator_values, label_selector_requirements, location};
use super::raw::RawDocument;
use crate::model::Labels;
use crate::model::labels::{Requirement, SelectorOperator};
use crate::model::topology::{
    AffinityTerm, AffinityTerms, LabelSelector, Namespaces, PodConstraints, SpreadConstraint, WhenUnsatisfiable,
};
use k8s_openapi::api::core::v1 as core;

/// The label every namespace carries with its own name (upstream: the NamespaceDefaultLabelName
/// feature, GA in 1.22): the one namespace label capsim knows, since it reads no Namespace objects.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Parses the constraints of pod spec `spec` (at field path `base`) of a pod in `namespace`
/// with `labels`.
pub fn pod_constraints(
    doc: &RawDocument,
    base: &str,
    spec: &core::PodSpec,
    namespace: &str,
    labels: &Labels,
    warnings: &mut Vec<String>,
) -> Result<PodConstraints, ScenarioError> {
    unmodelled_placement_fields(doc, base, spec, warnings);
    let mut out = PodConstraints::default();
    for (i, c) in spec.topology_spread_constraints.iter().flatten().enumerate() {
        out.spread.push(spread(
            doc,
            &format!("{base}.topologySpreadConstraints[{i}]"),
            c,
            labels,
        )?);
    }
    let Some(aff) = spec.affinity.as_ref() else {
        return Ok(out);
    };
    for (field, pa, slot) in [
        (
            "podAffinity",
            aff.pod_affinity.as_ref().map(|p| {
                (
                    &p.required_during_scheduling_ignored_during_execution,
                    &p.preferred_during_scheduling_ignored_during_execution,
                )
            }),
            &mut out.affinity,
        ),
        (
            "podAntiAffinity",
            aff.pod_anti_affinity.as_ref().map(|p| {
                (
                    &p.required_during_scheduling_ignored_during_execution,
                    &p.preferred_during_scheduling_ignored_during_execution,
                )
            }),
            &mut out.anti_affinity,
        ),
    ] {
        if let Some((required, preferred)) = pa {
            *slot = terms(
                doc,
                &format!("{base}.affinity.{field}"),
                required.as_deref(),
                preferred.as_deref(),
                namespace,
                labels,
                warnings,
            )?;
        }
    }
    if let Some(pref) = aff
        .node_affinity
        .as_ref()
        .and_then(|n| n.preferred_during_scheduling_ignored_during_execution.as_ref())
    {
        let path = format!("{base}.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution");
        for (i, t) in pref.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let weight = weight(doc, &format!("{p}.weight"), t.weight)?;
            if t.preference.match_fields.as_ref().is_some_and(|f| !f.is_empty()) {
                warnings.push(format!(
                    "{}: {p}.preference.matchFields: node-name terms are not modelled; the term scores no node",
                    location(doc)
                ));
                continue;
            }
            let mut reqs = Vec::new();
            for (j, e) in t.preference.match_expressions.iter().flatten().enumerate() {
                reqs.push(node_requirement(
                    doc,
                    &format!("{p}.preference.matchExpressions[{j}]"),
                    e,
                )?);
            }
            // An empty preference term matches no node (core/v1 NodeSelectorTerm).
            if !reqs.is_empty() {
                out.preferred_nodes.push((weight, reqs));
            }
        }
    }
    Ok(out)
}

fn node_requirement(
    doc: &RawDocument,
    path: &str,
    e: &core::NodeSelectorRequirement,
) -> Result<Requirement, ScenarioError> {
    let op = SelectorOperator::parse(&e.operator).ok_or_else(|| {
        doc.error(
            ErrorKind::Invalid,
            format!("{path}.operator"),
            format!(
                "must be In, NotIn, Exists, DoesNotExist, Gt or Lt, got {:?}",
                e.operator
            ),
        )
    })?;
    let values = e.values.clone().unwrap_or_default();
    check_operator_values(doc, path, op, &values)?;
    Ok(Requirement {
        key: e.key.clone(),
        operator: op,
        values,
    })
}

/// upstream: validation.go `validateWeightedPodAffinityTerm` / preferred scheduling terms:
/// weight in 1..=100.
fn weight(doc: &RawDocument, path: &str, w: i32) -> Result<i64, ScenarioError> {
    if !(1..=100).contains(&w) {
        return Err(doc.error(ErrorKind::Invalid, path, format!("must be in the range 1-100, got {w}")));
    }
    Ok(i64::from(w))
}

fn non_empty_key(doc: &RawDocument, path: &str, key: &str) -> Result<(), ScenarioError> {
    if key.is_empty() {
        return Err(doc.error(ErrorKind::Schema, path, "required field is missing (can not be empty)"));
    }
    Ok(())
}

/// `labelSelector` plus `matchLabelKeys` (the pod's values, `In`) and `mismatchLabelKeys`
/// (`NotIn`); a key the pod does not carry is skipped, as upstream does. A key may not also be
/// in the selector (upstream: `ValidateMatchLabelKeysAndMismatchLabelKeys`).
fn selector_with_keys(
    doc: &RawDocument,
    path: &str,
    sel: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    match_keys: Option<&Vec<String>>,
    mismatch_keys: Option<&Vec<String>>,
    labels: &Labels,
) -> Result<Option<LabelSelector>, ScenarioError> {
    let Some(sel) = sel else {
        if match_keys.is_some_and(|k| !k.is_empty()) {
            return Err(doc.error(
                ErrorKind::Invalid,
                format!("{path}.matchLabelKeys"),
                "must not be specified when labelSelector is not set",
            ));
        }
        return Ok(None);
    };
    let mut requirements = label_selector_requirements(doc, &format!("{path}.labelSelector"), sel)?;
    for (field, keys, op) in [
        ("matchLabelKeys", match_keys, SelectorOperator::In),
        ("mismatchLabelKeys", mismatch_keys, SelectorOperator::NotIn),
    ] {
        for (i, k) in keys.into_iter().flatten().enumerate() {
            if requirements.iter().any(|r| &r.key == k) {
                return Err(doc.error(
                    ErrorKind::Invalid,
                    format!("{path}.{field}[{i}]"),
                    format!("{k:?} exists in both {field} and labelSelector"),
                ));
            }
            if let Some(v) = labels.get(k) {
                requirements.push(Requirement {
                    key: k.clone(),
                    operator: op,
                    values: vec![v.clone()],
                });
            }
        }
    }
    Ok(Some(LabelSelector { requirements }))
}

fn spread(
    doc: &RawDocument,
    path: &str,
    c: &core::TopologySpreadConstraint,
    labels: &Labels,
) -> Result<SpreadConstraint, ScenarioError> {
    if c.max_skew <= 0 {
        return Err(doc.error(
            ErrorKind::Invalid,
            format!("{path}.maxSkew"),
            format!("must be greater than zero, got {}", c.max_skew),
        ));
    }
    non_empty_key(doc, &format!("{path}.topologyKey"), &c.topology_key)?;
    let when = match c.when_unsatisfiable.as_str() {
        "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
        "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
        other => {
            return Err(doc.error(
                ErrorKind::Invalid,
                format!("{path}.whenUnsatisfiable"),
                format!("must be DoNotSchedule or ScheduleAnyway, got {other:?}"),
            ));
        }
    };
    if let Some(m) = c.min_domains {
        if m <= 0 {
            return Err(doc.error(
                ErrorKind::Invalid,
                format!("{path}.minDomains"),
                format!("must be greater than zero, got {m}"),
            ));
        }
        if when != WhenUnsatisfiable::DoNotSchedule {
            return Err(doc.error(
                ErrorKind::Invalid,
                format!("{path}.minDomains"),
                "can only be used when whenUnsatisfiable is DoNotSchedule",
            ));
        }
    }
    let policy = |field: &str, v: Option<&str>, default: bool| -> Result<bool, ScenarioError> {
        match v {
            None => Ok(default),
            Some("Honor") => Ok(true),
            Some("Ignore") => Ok(false),
            Some(other) => Err(doc.error(
                ErrorKind::Invalid,
                format!("{path}.{field}"),
                format!("must be Honor or Ignore, got {other:?}"),
            )),
        }
    };
    Ok(SpreadConstraint {
        max_skew: i64::from(c.max_skew),
        topology_key: c.topology_key.clone(),
        when_unsatisfiable: when,
        selector: selector_with_keys(
            doc,
            path,
            c.label_selector.as_ref(),
            c.match_label_keys.as_ref(),
            None,
            labels,
        )?,
        min_domains: c.min_domains.map(i64::from),
        // upstream defaults: nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore (core/v1 types.go).
        honor_node_affinity: policy("nodeAffinityPolicy", c.node_affinity_policy.as_deref(), true)?,
        honor_node_taints: policy("nodeTaintsPolicy", c.node_taints_policy.as_deref(), false)?,
        system_default: false,
    })
}

fn terms(
    doc: &RawDocument,
    path: &str,
    required: Option<&[core::PodAffinityTerm]>,
    preferred: Option<&[core::WeightedPodAffinityTerm]>,
    namespace: &str,
    labels: &Labels,
    warnings: &mut Vec<String>,
) -> Result<AffinityTerms, ScenarioError> {
    let mut out = AffinityTerms::default();
    for (i, t) in required.into_iter().flatten().enumerate() {
        let p = format!("{path}.requiredDuringSchedulingIgnoredDuringExecution[{i}]");
        out.required.push(term(doc, &p, t, namespace, labels, warnings)?);
    }
    for (i, t) in preferred.into_iter().flatten().enumerate() {
        let p = format!("{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
        let w = weight(doc, &format!("{p}.weight"), t.weight)?;
        out.preferred.push((
            w,
            term(
                doc,
                &format!("{p}.podAffinityTerm"),
                &t.pod_affinity_term,
                namespace,
                labels,
                warnings,
            )?,
        ));
    }
    Ok(out)
}

fn term(
    doc: &RawDocument,
    path: &str,
    t: &core::PodAffinityTerm,
    namespace: &str,
    labels: &Labels,
    warnings: &mut Vec<String>,
) -> Result<AffinityTerm, ScenarioError> {
    non_empty_key(doc, &format!("{path}.topologyKey"), &t.topology_key)?;
    let selector = selector_with_keys(
        doc,
        path,
        t.label_selector.as_ref(),
        t.match_label_keys.as_ref(),
        t.mismatch_label_keys.as_ref(),
        labels,
    )?;
    // upstream: pkg/scheduler/framework/types.go `newAffinityTerm`: the listed namespaces, plus
    // those the namespaceSelector selects; neither → the pod's own namespace; an empty
    // namespaceSelector selects every namespace.
    let listed: Vec<String> = t.namespaces.clone().unwrap_or_default();
    let namespaces = match t.namespace_selector.as_ref() {
        None if listed.is_empty() => Namespaces::Listed(vec![namespace.to_string()]),
        None => Namespaces::Listed(listed),
        Some(sel) => {
            let reqs = label_selector_requirements(doc, &format!("{path}.namespaceSelector"), sel)?;
            if reqs.is_empty() {
                Namespaces::All
            } else if reqs
                .iter()
                .all(|r| r.key == NAMESPACE_NAME_LABEL && r.operator == SelectorOperator::In)
            {
                // By name: the intersection of the In lists, plus the listed namespaces.
                let mut names: Vec<String> = reqs[0].values.clone();
                names.retain(|n| reqs.iter().all(|r| r.values.contains(n)));
                names.extend(listed);
                Namespaces::Listed(names)
            } else {
                warnings.push(format!(
                    "{}: {path}.namespaceSelector: selecting namespaces by labels other than \
                     {NAMESPACE_NAME_LABEL} (In) is not modelled (capsim reads no Namespace objects); \
                     the term matches pods in every namespace",
                    location(doc)
                ));
                Namespaces::All
            }
        }
    };
    Ok(AffinityTerm {
        selector,
        namespaces,
        topology_key: t.topology_key.clone(),
    })
}

/// Pod fields that change where a pod may run and that capsim does not model: each is named
/// with its field path, never silently dropped.
fn unmodelled_placement_fields(doc: &RawDocument, base: &str, spec: &core::PodSpec, warnings: &mut Vec<String>) {
    let mut warn = |path: String, what: &str| warnings.push(format!("{}: {path}: {what}", location(doc)));
    if spec.node_name.as_deref().is_some_and(|n| !n.is_empty()) {
        warn(
            format!("{base}.nodeName"),
            "binding to a named node is not modelled; capsim schedules the pods like any other",
        );
    }
    if let Some(s) = spec
        .scheduler_name
        .as_deref()
        .filter(|s| !s.is_empty() && *s != "default-scheduler")
    {
        warn(
            format!("{base}.schedulerName"),
            &format!("scheduler {s:?} is not modelled; capsim places the pods with kube-scheduler's default profile"),
        );
    }
    for (i, c) in spec.containers.iter().enumerate() {
        for (j, p) in c.ports.iter().flatten().enumerate() {
            if p.host_port.is_some_and(|h| h > 0) {
                warn(
                    format!("{base}.containers[{i}].ports[{j}].hostPort"),
                    "host ports (the NodePorts filter: one such pod per node and port) are not modelled",
                );
            }
        }
    }
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        if v.persistent_volume_claim.is_some() {
            warn(
                format!("{base}.volumes[{i}].persistentVolumeClaim"),
                "a claimed volume's zone is not modelled for this kind (StatefulSet volumeClaimTemplates are)",
            );
        }
    }
    if spec.runtime_class_name.is_some() || spec.overhead.is_some() {
        warn(
            format!("{base}.runtimeClassName"),
            "RuntimeClass scheduling and pod overhead are not modelled",
        );
    }
}
