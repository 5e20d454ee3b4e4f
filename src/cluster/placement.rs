//! The placement layer: the one home of "this pod template admits this node" and of what
//! DaemonSets take off a node. The scheduler, Cluster Autoscaler's estimator and scale-down
//! simulation, Karpenter's scheduling simulation and disruption, the world at node registration
//! and the lints all call these functions, so a rule changes in one place.
//!
//! upstream: kube-scheduler's filter plugins (pkg/scheduler/framework/plugins):
//! `TaintToleration` (NoSchedule / NoExecute taints must be tolerated; PreferNoSchedule only
//! scores), `NodeAffinity` (`nodeSelector` and required node affinity), `NodeResourcesFit`
//! (cpu, memory, pod count). Cluster Autoscaler and Karpenter run the same predicates on node
//! templates (CA `simulator/predicatechecker`, Karpenter `pkg/scheduling` requirements and
//! taints).
//!
//! # Where the next constraints plug in
//! [`Filter`] is the ordered list of the static (non-resource) filters; [`check`] applies them.
//! Filters that depend on the *other* pods of the cluster (PodTopologySpread, InterPodAffinity)
//! need a view of where pods run by topology domain; they belong here as further [`Filter`]
//! variants taking that view, so every caller gains them at once.

use super::state::Node;
use crate::model::labels::{Labels, Taint, selector_matches, tolerates_all};
use crate::model::{PodTemplate, Resources, Workload, WorkloadKind};

/// The static filters, in the order kube-scheduler's default profile runs them.
/// upstream: pkg/scheduler/apis/config/v1/default_plugins.go (filter order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Filter {
    /// `TaintToleration`: every NoSchedule / NoExecute taint tolerated.
    TaintToleration,
    /// `NodeAffinity`: `nodeSelector` and required node affinity match the node's labels.
    NodeAffinity,
}

/// Does the template tolerate every NoSchedule / NoExecute taint?
/// upstream: plugins/tainttoleration `Filter`.
#[inline]
pub fn tolerates(tmpl: &PodTemplate, taints: &[Taint]) -> bool {
    taints.is_empty() || tolerates_all(&tmpl.tolerations, taints)
}

/// Do the template's `nodeSelector` and required node affinity match these labels?
/// upstream: plugins/nodeaffinity `Filter` (both must hold).
#[inline]
pub fn matches_labels(tmpl: &PodTemplate, labels: &Labels) -> bool {
    selector_matches(&tmpl.node_selector, labels) && tmpl.affinity.matches(labels)
}

/// Whether the template constrains node labels at all (a `nodeSelector` or required node
/// affinity): when it does not, [`matches_labels`] holds on every node and callers may skip it.
#[inline]
pub fn has_label_constraints(tmpl: &PodTemplate) -> bool {
    !tmpl.node_selector.is_empty() || !tmpl.affinity.terms.is_empty()
}

/// The first static filter a node with these labels and taints fails, if any.
#[inline]
pub fn check(tmpl: &PodTemplate, labels: &Labels, taints: &[Taint]) -> Result<(), Filter> {
    if !tolerates(tmpl, taints) {
        return Err(Filter::TaintToleration);
    }
    if !matches_labels(tmpl, labels) {
        return Err(Filter::NodeAffinity);
    }
    Ok(())
}

/// Does a pod of template `tmpl` pass the static filters on a node with these labels and taints?
/// (Readiness is the caller's: simulated upcoming and template nodes count as Ready.)
#[inline]
pub fn admits(tmpl: &PodTemplate, labels: &Labels, taints: &[Taint]) -> bool {
    check(tmpl, labels, taints).is_ok()
}

/// [`admits`] for a node of the cluster.
#[inline]
pub fn admits_node(tmpl: &PodTemplate, node: &Node) -> bool {
    admits(tmpl, &node.labels, &node.taints)
}

/// VolumeZone: a pod whose volume is bound in `zone` fits only nodes of that zone.
/// upstream: pkg/scheduler/framework/plugins/volumezone (the volume's zone label against the
/// node's `topology.kubernetes.io/zone`).
#[inline]
pub fn volume_zone_ok(zone: Option<&str>, labels: &Labels) -> bool {
    zone.is_none_or(|z| labels.get(crate::model::labels::LABEL_ZONE).is_some_and(|v| v == z))
}

/// Requests of the DaemonSet pods that would run on a node with these labels and taints: those
/// whose template the node admits (selector, affinity and tolerations), as the DaemonSet
/// controller places them. upstream: pkg/controller/daemon `NodeShouldRunDaemonPod`.
pub fn daemonset_overhead<'w>(
    workloads: impl IntoIterator<Item = &'w Workload>,
    labels: &Labels,
    taints: &[Taint],
) -> Resources {
    let mut ds = Resources::ZERO;
    for wl in workloads.into_iter().filter(|w| w.kind == WorkloadKind::DaemonSet) {
        if admits(&wl.template, labels, taints) {
            ds += wl.template.requests();
        }
    }
    ds
}

/// Room for ordinary pods on a node: its kubelet allocatable less its DaemonSet pods' requests
/// (never negative).
#[inline]
pub fn allocatable_for_pods(kubelet_allocatable: Resources, daemonsets: Resources) -> Resources {
    kubelet_allocatable.saturating_sub(&daemonsets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TaintEffect;
    use crate::model::labels::{Toleration, TolerationOperator};
    use crate::testkit::pod_template;

    fn taint(key: &str, effect: TaintEffect) -> Taint {
        Taint {
            key: key.into(),
            value: "true".into(),
            effect,
        }
    }

    #[test]
    fn taints_then_labels() {
        let mut t = pod_template(100, 1 << 20);
        let labels: Labels = [("arch".to_string(), "arm64".to_string())].into();
        assert_eq!(check(&t, &labels, &[]), Ok(()));
        // PreferNoSchedule only affects scoring.
        assert_eq!(
            check(&t, &labels, &[taint("gpu", TaintEffect::PreferNoSchedule)]),
            Ok(())
        );
        assert_eq!(
            check(&t, &labels, &[taint("gpu", TaintEffect::NoSchedule)]),
            Err(Filter::TaintToleration)
        );
        t.node_selector.insert("arch".into(), "amd64".into());
        assert!(has_label_constraints(&t));
        // Taints are checked first, as the default profile orders the plugins.
        assert_eq!(
            check(&t, &labels, &[taint("gpu", TaintEffect::NoExecute)]),
            Err(Filter::TaintToleration)
        );
        assert_eq!(check(&t, &labels, &[]), Err(Filter::NodeAffinity));
        t.tolerations.push(Toleration {
            key: "gpu".into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: None,
            seconds: None,
        });
        t.node_selector.insert("arch".into(), "arm64".into());
        assert!(admits(&t, &labels, &[taint("gpu", TaintEffect::NoSchedule)]));
    }

    #[test]
    fn allocatable_for_pods_never_negative() {
        let kubelet = Resources::new(1000, 1 << 30, 10);
        let ds = Resources::new(1500, 1 << 20, 2);
        let a = allocatable_for_pods(kubelet, ds);
        assert_eq!((a.cpu_m, a.mem, a.pods), (0, (1 << 30) - (1 << 20), 8));
    }
}
