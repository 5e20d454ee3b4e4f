//! Placement constraints that depend on where *other* pods run: topology spread, pod affinity
//! and anti-affinity, and preferred node affinity — validated, as the scheduler, Cluster
//! Autoscaler's simulations and Karpenter's solve read them ([`crate::cluster::topology`]).
//!
//! upstream: kubernetes/kubernetes staging/src/k8s.io/api/core/v1/types.go
//! (`TopologySpreadConstraint`, `PodAffinityTerm`, `WeightedPodAffinityTerm`,
//! `PreferredSchedulingTerm`), k8s.io/apimachinery/pkg/apis/meta/v1 `LabelSelector`.

use super::labels::{Labels, Requirement, SelectorOperator};

/// A `metav1.LabelSelector`: `matchLabels` and `matchExpressions`, ANDed; an empty selector
/// matches every pod (upstream: `metav1.LabelSelectorAsSelector`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// A selector of `matchLabels` only.
    pub fn from_labels(labels: &Labels) -> LabelSelector {
        LabelSelector {
            requirements: labels
                .iter()
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    operator: SelectorOperator::In,
                    values: vec![v.clone()],
                })
                .collect(),
        }
    }

    #[inline]
    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

/// `whenUnsatisfiable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenUnsatisfiable {
    /// A filter: no node whose domain would exceed `maxSkew`.
    DoNotSchedule,
    /// A score: prefer the domains with fewer matching pods.
    ScheduleAnyway,
}

/// One `topologySpreadConstraints[]` entry, with `matchLabelKeys` already merged into the
/// selector (upstream merges the incoming pod's values of those keys; every pod of a template
/// shares its labels, so merging once at load is the same).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpreadConstraint {
    pub max_skew: i64,
    pub topology_key: String,
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// `None`: a nil `labelSelector`, which selects no pod.
    pub selector: Option<LabelSelector>,
    /// `minDomains` (DoNotSchedule only): fewer eligible domains than this count as a global
    /// minimum of 0.
    pub min_domains: Option<i64>,
    /// `nodeAffinityPolicy: Honor` (default): only nodes matching the pod's node selector and
    /// required node affinity are domains and are counted.
    pub honor_node_affinity: bool,
    /// `nodeTaintsPolicy: Honor` (default `Ignore`): only nodes whose taints the pod tolerates.
    pub honor_node_taints: bool,
    /// True for the cluster's default constraints (upstream `systemDefaulted`: nodes missing
    /// the key are scored, not ignored).
    pub system_default: bool,
}

/// Which namespaces an affinity term's selector looks in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespaces {
    /// Listed names (the pod's own when the term names none).
    Listed(Vec<String>),
    /// `namespaceSelector: {}`: every namespace.
    All,
}

impl Namespaces {
    #[inline]
    pub fn contains(&self, ns: &str) -> bool {
        match self {
            Namespaces::All => true,
            Namespaces::Listed(v) => v.iter().any(|n| n == ns),
        }
    }
}

/// A `PodAffinityTerm`, with `matchLabelKeys` / `mismatchLabelKeys` merged into the selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffinityTerm {
    /// `None`: a nil `labelSelector`, which matches no pod.
    pub selector: Option<LabelSelector>,
    pub namespaces: Namespaces,
    pub topology_key: String,
}

impl AffinityTerm {
    /// Does a pod in namespace `ns` with these labels match the term?
    /// upstream: pkg/scheduler/framework/types.go `AffinityTerm.Matches`.
    #[inline]
    pub fn matches(&self, ns: &str, labels: &Labels) -> bool {
        self.namespaces.contains(ns) && self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }
}

/// Required and preferred terms of `podAffinity` or `podAntiAffinity`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AffinityTerms {
    pub required: Vec<AffinityTerm>,
    /// `(weight, term)`, weight 1–100.
    pub preferred: Vec<(i64, AffinityTerm)>,
}

impl AffinityTerms {
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.preferred.is_empty()
    }
}

/// Everything about a pod template that places it relative to other pods, plus the preferred
/// node affinity terms (scoring only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodConstraints {
    /// The manifest's `topologySpreadConstraints`, or the cluster's defaults when it sets none
    /// and the pod belongs to a ReplicaSet or StatefulSet ([`system_default_spread`]).
    pub spread: Vec<SpreadConstraint>,
    pub affinity: AffinityTerms,
    pub anti_affinity: AffinityTerms,
    /// `preferredDuringSchedulingIgnoredDuringExecution` node affinity: `(weight, requirements)`.
    pub preferred_nodes: Vec<(i64, Vec<Requirement>)>,
}

impl PodConstraints {
    /// Any constraint that depends on other pods.
    pub fn is_inter_pod(&self) -> bool {
        !self.spread.is_empty() || !self.affinity.is_empty() || !self.anti_affinity.is_empty()
    }

    /// Placing pods may make a node feasible for this template that was not before (a spread
    /// minimum rises, a required affinity target appears): a failure to place one pod does not
    /// carry to the next cycle. Anti-affinity alone only ever removes nodes.
    pub fn placement_may_enable(&self) -> bool {
        self.spread
            .iter()
            .any(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
            || !self.affinity.required.is_empty()
    }

    /// Any hard constraint (a filter) that depends on other pods.
    pub fn has_hard_inter_pod(&self) -> bool {
        self.spread
            .iter()
            .any(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
            || !self.affinity.required.is_empty()
            || !self.anti_affinity.required.is_empty()
    }
}

/// upstream: pkg/scheduler/framework/plugins/podtopologyspread/plugin.go
/// `systemDefaultConstraints`: `kubernetes.io/hostname` maxSkew 3 and
/// `topology.kubernetes.io/zone` maxSkew 5, both ScheduleAnyway, applied (defaultingType
/// `System`, the default) to pods without constraints of their own that a Service,
/// ReplicationController, ReplicaSet or StatefulSet selects, with the owners' selectors merged
/// (`helper.DefaultSelector`; the ReplicaSet's `pod-template-hash` is the template revision,
/// which capsim does not label).
/// capsim's owner selector is the workload's `spec.selector`.
pub fn system_default_spread(owner_selector: &LabelSelector) -> Vec<SpreadConstraint> {
    // upstream: an empty merged selector gives no default constraints.
    if owner_selector.requirements.is_empty() {
        return Vec::new();
    }
    [
        (crate::model::labels::LABEL_HOSTNAME, 3),
        (crate::model::labels::LABEL_ZONE, 5),
    ]
    .into_iter()
    .map(|(key, skew)| SpreadConstraint {
        max_skew: skew,
        topology_key: key.to_string(),
        when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
        selector: Some(owner_selector.clone()),
        min_domains: None,
        honor_node_affinity: true,
        honor_node_taints: false,
        system_default: true,
    })
    .collect()
}
