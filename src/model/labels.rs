//! Labels, taints, tolerations and node-affinity requirements, with Kubernetes' matching rules.
//!
//! upstream: kubernetes/kubernetes staging/src/k8s.io/api/core/v1 (types), and
//! pkg/scheduler/framework/plugins/{tainttoleration,nodeaffinity} (matching).

use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

/// The well-known node labels topology constraints name most (upstream: k8s.io/api/core/v1
/// well_known_labels.go).
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    pub fn parse(s: &str) -> Option<TaintEffect> {
        match s {
            "NoSchedule" => Some(TaintEffect::NoSchedule),
            "PreferNoSchedule" => Some(TaintEffect::PreferNoSchedule),
            "NoExecute" => Some(TaintEffect::NoExecute),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: TaintEffect,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TolerationOperator {
    Equal,
    Exists,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toleration {
    /// Empty key with `Exists` tolerates every taint.
    pub key: String,
    pub operator: TolerationOperator,
    pub value: String,
    /// `None` tolerates every effect.
    pub effect: Option<TaintEffect>,
    /// `tolerationSeconds` (NoExecute only): how long a pod stays bound after the taint
    /// appears; `None` forever.
    pub seconds: Option<i64>,
}

impl Toleration {
    /// upstream: core/v1 `Toleration.ToleratesTaint`.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if self.effect.is_some_and(|effect| effect != taint.effect) {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        match self.operator {
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => self.value == taint.value,
        }
    }
}

/// How long the taint manager lets a pod stay on a node with these NoExecute taints: `Some(0)`
/// when one is not tolerated, the least `tolerationSeconds` among the matching tolerations that
/// set one, `None` (forever) when none does. upstream: pkg/controller/tainteviction
/// `getMinTolerationTime` over `GetMatchingTolerations`.
pub fn no_execute_grace(tolerations: &[Toleration], taints: &[Taint]) -> Option<i64> {
    let mut min: Option<i64> = None;
    for t in taints.iter().filter(|t| t.effect == TaintEffect::NoExecute) {
        let matching: Vec<&Toleration> = tolerations.iter().filter(|tol| tol.tolerates(t)).collect();
        if matching.is_empty() {
            return Some(0);
        }
        for s in matching.iter().filter_map(|m| m.seconds) {
            if s <= 0 {
                return Some(0);
            }
            min = Some(min.map_or(s, |m| m.min(s)));
        }
    }
    min
}

/// True when every NoSchedule/NoExecute taint is tolerated (PreferNoSchedule only affects scoring).
/// upstream: pkg/scheduler/framework/plugins/tainttoleration `Filter`.
pub fn tolerates_all(tolerations: &[Toleration], taints: &[Taint]) -> bool {
    taints
        .iter()
        .filter(|t| t.effect != TaintEffect::PreferNoSchedule)
        .all(|t| tolerations.iter().any(|tol| tol.tolerates(t)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

impl SelectorOperator {
    pub fn parse(s: &str) -> Option<SelectorOperator> {
        Some(match s {
            "In" => SelectorOperator::In,
            "NotIn" => SelectorOperator::NotIn,
            "Exists" => SelectorOperator::Exists,
            "DoesNotExist" => SelectorOperator::DoesNotExist,
            "Gt" => SelectorOperator::Gt,
            "Lt" => SelectorOperator::Lt,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: SelectorOperator,
    pub values: Vec<String>,
}

impl Requirement {
    /// upstream: k8s.io/apimachinery/pkg/labels `Requirement.Matches` (node selector semantics:
    /// Gt/Lt compare integers, NotIn/DoesNotExist match an absent label).
    pub fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(&self.key);
        match self.operator {
            SelectorOperator::In => v.is_some_and(|v| self.values.iter().any(|x| x == v)),
            SelectorOperator::NotIn => v.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            SelectorOperator::Exists => v.is_some(),
            SelectorOperator::DoesNotExist => v.is_none(),
            SelectorOperator::Gt | SelectorOperator::Lt => {
                let (Some(v), Some(bound)) = (v, self.values.first()) else {
                    return false;
                };
                match (v.parse::<i64>(), bound.parse::<i64>()) {
                    (Ok(v), Ok(b)) if self.operator == SelectorOperator::Gt => v > b,
                    (Ok(v), Ok(b)) => v < b,
                    _ => false,
                }
            }
        }
    }
}

/// Required node affinity: the terms are ORed, the requirements within a term ANDed.
/// An empty term list means "no constraint".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeAffinity {
    pub terms: Vec<Vec<Requirement>>,
}

impl NodeAffinity {
    pub fn matches(&self, labels: &Labels) -> bool {
        self.terms.is_empty() || self.terms.iter().any(|term| term.iter().all(|r| r.matches(labels)))
    }
}

/// `nodeSelector`: every key must be present with exactly that value.
pub fn selector_matches(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(kv: &[(&str, &str)]) -> Labels {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn toleration_rules() {
        let taint = Taint {
            key: "dedicated".into(),
            value: "gpu".into(),
            effect: TaintEffect::NoSchedule,
        };
        let eq = Toleration {
            key: "dedicated".into(),
            operator: TolerationOperator::Equal,
            value: "gpu".into(),
            effect: Some(TaintEffect::NoSchedule),
            seconds: None,
        };
        assert!(eq.tolerates(&taint));
        let wrong = Toleration {
            value: "cpu".into(),
            ..eq.clone()
        };
        assert!(!wrong.tolerates(&taint));
        let all = Toleration {
            key: String::new(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: None,
            seconds: None,
        };
        assert!(all.tolerates(&taint));
        assert!(!tolerates_all(&[], std::slice::from_ref(&taint)));
        let soft = Taint {
            effect: TaintEffect::PreferNoSchedule,
            ..taint
        };
        assert!(tolerates_all(&[], &[soft]));
    }

    #[test]
    fn requirement_operators() {
        let l = labels(&[("zone", "a"), ("cpu", "8")]);
        let r = |key: &str, op, vals: &[&str]| Requirement {
            key: key.into(),
            operator: op,
            values: vals.iter().map(|s| s.to_string()).collect(),
        };
        assert!(r("zone", SelectorOperator::In, &["a", "b"]).matches(&l));
        assert!(!r("zone", SelectorOperator::NotIn, &["a"]).matches(&l));
        assert!(r("missing", SelectorOperator::NotIn, &["a"]).matches(&l));
        assert!(r("cpu", SelectorOperator::Gt, &["4"]).matches(&l));
        assert!(!r("cpu", SelectorOperator::Lt, &["4"]).matches(&l));
        assert!(r("missing", SelectorOperator::DoesNotExist, &[]).matches(&l));
        let aff = NodeAffinity {
            terms: vec![
                vec![r("zone", SelectorOperator::In, &["b"])],
                vec![r("cpu", SelectorOperator::Exists, &[])],
            ],
        };
        assert!(aff.matches(&l));
    }
}
