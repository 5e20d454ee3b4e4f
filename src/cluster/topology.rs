//! The inter-pod placement rules, for one incoming pod template: PodTopologySpread and
//! InterPodAffinity as kube-scheduler runs them, over any set of nodes and placed pods — the
//! cluster's (the scheduler), a snapshot with template nodes added (Cluster Autoscaler's
//! estimator and scale-down simulation), or NodeClaims whose zone is still open (Karpenter's
//! solve). [`super::placement`] holds the rules that look at one node only; this module holds
//! those that count the other pods by topology domain.
//!
//! upstream: kubernetes/kubernetes pkg/scheduler/framework/plugins/podtopologyspread
//! (filtering.go `PreFilter`/`Filter`: counts of matching pods per domain over the nodes the
//! inclusion policies admit, the global minimum with `minDomains`, `selfMatchNum`;
//! scoring.go: `scoreForCount`, `TopologyNormalizingWeight`, `NormalizeScore`) and
//! plugins/interpodaffinity (filtering.go: `existingAntiAffinityCounts`, `affinityCounts`,
//! `antiAffinityCounts`, the first-pod exception of `satisfyPodAffinity`; scoring.go:
//! preferred terms of the incoming and the existing pods, `hardPodAffinityWeight` 1).
//! Karpenter's narrowing of an open domain follows kubernetes-sigs/karpenter
//! pkg/controllers/provisioning/scheduling/topologygroup.go (`nextDomainTopologySpread`: the
//! least-populated admissible domain; anti-affinity blocks every domain a pod may land in,
//! spread and affinity record only a single known domain — topology.go `Record`).

use super::placement::{matches_labels, tolerates};
use super::state::{Node, NodeId, Pod, PodPhase};
use super::templates::Templates;
use crate::model::PodTemplate;
use crate::model::labels::{Labels, Taint};
use crate::model::topology::{AffinityTerm, SpreadConstraint, WhenUnsatisfiable};
use std::collections::{BTreeMap, BTreeSet};

/// upstream: pkg/scheduler/apis/config/v1/defaults.go `HardPodAffinitySymmetricWeight`.
pub const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

/// Why the inter-pod filters rejected a node (upstream's status messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reject {
    /// PodTopologySpread: "node(s) didn't match pod topology spread constraints".
    Spread,
    /// PodTopologySpread: the node lacks the constraint's topology key.
    SpreadMissingLabel,
    /// InterPodAffinity: "node(s) didn't match pod affinity rules".
    Affinity,
    /// InterPodAffinity: "node(s) didn't match pod anti-affinity rules".
    AntiAffinity,
    /// InterPodAffinity: "node(s) didn't satisfy existing pods anti-affinity rules".
    ExistingAntiAffinity,
}

impl Reject {
    pub fn as_str(&self) -> &'static str {
        match self {
            Reject::Spread => "node(s) didn't match pod topology spread constraints",
            Reject::SpreadMissingLabel => {
                "node(s) didn't match pod topology spread constraints (missing required label)"
            }
            Reject::Affinity => "node(s) didn't match pod affinity rules",
            Reject::AntiAffinity => "node(s) didn't match pod anti-affinity rules",
            Reject::ExistingAntiAffinity => "node(s) didn't satisfy existing pods anti-affinity rules",
        }
    }
}

/// One spread constraint of the incoming template with its counts.
#[derive(Clone, Debug)]
struct SpreadState {
    c: SpreadConstraint,
    /// The incoming pod matches its own selector (`selfMatchNum`).
    self_match: i64,
    /// Matching pods per domain, over eligible nodes; every eligible domain is present.
    counts: BTreeMap<String, i64>,
    /// Nodes (by index) whose pods count: the inclusion policies admit them and they carry the key.
    eligible: Vec<bool>,
    /// Eligible nodes per domain (a domain goes when its last node does).
    domain_nodes: BTreeMap<String, i64>,
    /// The key is `kubernetes.io/hostname`: every node is its own domain.
    hostname: bool,
    /// The domains interned, so scoring reads a node's count without a string lookup:
    /// `node_dom[node]` is the node's value of the key (or [`NO_DOMAIN`]), `dom_count[d]`
    /// mirrors `counts` (0 for a value that is not a domain).
    dom_ix: BTreeMap<String, u32>,
    dom_count: Vec<i64>,
    node_dom: Vec<u32>,
}

/// A node without the constraint's key.
const NO_DOMAIN: u32 = u32::MAX;

impl SpreadState {
    /// The global minimum (0 when fewer domains than `minDomains`).
    fn min(&self) -> i64 {
        if self.c.min_domains.is_some_and(|m| (self.counts.len() as i64) < m) {
            return 0;
        }
        self.counts.values().copied().min().unwrap_or(0)
    }

    fn admits_value(&self, value: &str, min: i64) -> bool {
        self.counts.get(value).copied().unwrap_or(0) + self.self_match - min <= self.c.max_skew
    }

    fn intern(&mut self, value: &str) -> u32 {
        if let Some(&d) = self.dom_ix.get(value) {
            return d;
        }
        let d = self.dom_count.len() as u32;
        self.dom_ix.insert(value.to_string(), d);
        self.dom_count.push(0);
        d
    }

    /// Adds `n` matching pods to domain `value` (which must be a domain); `node` is a node of
    /// it when known (saves the lookup).
    fn add_count(&mut self, value: &str, node: Option<usize>, n: i64) -> bool {
        let Some(c) = self.counts.get_mut(value) else {
            return false;
        };
        *c += n;
        let d = match node.and_then(|x| self.node_dom.get(x).copied()) {
            Some(d) if d != NO_DOMAIN => d,
            _ => self.intern(value),
        };
        self.dom_count[d as usize] += n;
        true
    }
}

/// A required or preferred term of the incoming template, with matching pods per domain.
#[derive(Clone, Debug)]
struct TermState {
    term: AffinityTerm,
    /// Preferred terms: the weight (negative for anti-affinity).
    weight: i64,
    counts: BTreeMap<String, i64>,
}

/// What a placed template means to the incoming one, memoised per template key.
#[derive(Clone, Debug, Default)]
struct Match {
    /// Indices of the spread states whose selector matches it.
    spread: Vec<usize>,
    /// It matches every required affinity term (upstream counts only such pods).
    affinity_all: bool,
    anti: Vec<usize>,
    preferred: Vec<usize>,
    /// Its required anti-affinity terms that match the incoming pod: topology keys.
    existing_anti: Vec<String>,
    /// Its preferred/required affinity terms toward the incoming pod: (key, signed weight).
    existing_score: Vec<(String, i64)>,
}

/// The inter-pod view for one incoming template over a node table (indices chosen by the
/// caller). Build it with [`PodTopology::new`], add nodes with [`PodTopology::add_node`] and
/// placed pods with [`PodTopology::place`]; then ask [`PodTopology::admits`] and the scores.
#[derive(Clone, Debug)]
pub struct PodTopology {
    namespace: String,
    labels: Labels,
    spread: Vec<SpreadState>,
    /// Cached global minima (`None`: recompute).
    spread_min: Vec<Option<i64>>,
    affinity: Vec<TermState>,
    /// Pods matching every required affinity term, anywhere.
    affinity_total: i64,
    /// The incoming pod matches all of its own required affinity terms (first-pod exception).
    affinity_self: bool,
    anti: Vec<TermState>,
    preferred: Vec<TermState>,
    /// (key, value) → placed pods whose required anti-affinity matches the incoming pod.
    existing_anti: BTreeMap<String, BTreeMap<String, i64>>,
    /// (key, value) → score from the placed pods' terms toward the incoming pod.
    existing_score: BTreeMap<String, BTreeMap<String, i64>>,
    memo: Vec<Option<Match>>,
    /// Nodes in the view, by index.
    nodes: Vec<bool>,
    /// The pod's own ScheduleAnyway constraints filter too (Karpenter's first attempt).
    strict: bool,
}

/// Where a pod is recorded: a node's labels, or the values an open node may still take.
enum Where<'x> {
    Labels(&'x Labels),
    Open(&'x dyn Fn(&str) -> Vec<String>),
}

impl Where<'_> {
    /// The one value for `key`, if the node has exactly one.
    fn single(&self, key: &str) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Where::Labels(l) => l.get(key).map(|v| std::borrow::Cow::Borrowed(v.as_str())),
            Where::Open(f) => {
                let mut v = f(key);
                if v.len() == 1 {
                    v.pop().map(std::borrow::Cow::Owned)
                } else {
                    None
                }
            }
        }
    }

    fn each(&self, key: &str, f: &mut dyn FnMut(&str)) {
        match self {
            Where::Labels(l) => {
                if let Some(v) = l.get(key) {
                    f(v)
                }
            }
            Where::Open(g) => g(key).iter().for_each(|v| f(v)),
        }
    }
}

fn bump(counts: &mut BTreeMap<String, i64>, value: &str, n: i64) {
    match counts.get_mut(value) {
        Some(c) => *c += n,
        None => {
            counts.insert(value.to_string(), n);
        }
    }
}

fn admitted_by_policy(c: &SpreadConstraint, tmpl: &PodTemplate, labels: &Labels, taints: &[Taint]) -> bool {
    (!c.honor_node_affinity || matches_labels(tmpl, labels)) && (!c.honor_node_taints || tolerates(tmpl, taints))
}

impl PodTopology {
    /// An empty view for pods of `tmpl` (callers ask [`needed`] first).
    pub fn new(tmpl: &PodTemplate) -> PodTopology {
        let k = &tmpl.constraints;
        let spread: Vec<SpreadState> = k
            .spread
            .iter()
            .map(|c| SpreadState {
                c: c.clone(),
                self_match: i64::from(c.selector.as_ref().is_some_and(|s| s.matches(&tmpl.labels))),
                counts: BTreeMap::new(),
                eligible: Vec::new(),
                domain_nodes: BTreeMap::new(),
                hostname: c.topology_key == crate::model::labels::LABEL_HOSTNAME,
                dom_ix: BTreeMap::new(),
                dom_count: Vec::new(),
                node_dom: Vec::new(),
            })
            .collect();
        let term = |t: &AffinityTerm, weight: i64| TermState {
            term: t.clone(),
            weight,
            counts: BTreeMap::new(),
        };
        let preferred = k
            .affinity
            .preferred
            .iter()
            .map(|(w, t)| term(t, *w))
            .chain(k.anti_affinity.preferred.iter().map(|(w, t)| term(t, -w)))
            .collect();
        PodTopology {
            namespace: tmpl.namespace.clone(),
            labels: tmpl.labels.clone(),
            spread_min: vec![None; spread.len()],
            spread,
            affinity: k.affinity.required.iter().map(|t| term(t, 0)).collect(),
            affinity_total: 0,
            affinity_self: k
                .affinity
                .required
                .iter()
                .all(|t| t.matches(&tmpl.namespace, &tmpl.labels)),
            anti: k.anti_affinity.required.iter().map(|t| term(t, 0)).collect(),
            preferred,
            existing_anti: BTreeMap::new(),
            existing_score: BTreeMap::new(),
            memo: Vec::new(),
            nodes: Vec::new(),
            strict: false,
        }
    }

    /// Whether spread constraint `i` filters: DoNotSchedule, or in strict mode any of the pod's
    /// own (not the cluster defaults, which Karpenter does not see).
    fn hard(&self, i: usize) -> bool {
        let c = &self.spread[i].c;
        c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule || (self.strict && !c.system_default)
    }

    /// Treats the pod's ScheduleAnyway spread constraints as DoNotSchedule (or not).
    /// Karpenter's scheduler does so first and relaxes them only for a pod that cannot be
    /// placed (kubernetes-sigs/karpenter scheduling/preferences.go `Relax`).
    pub fn set_strict(&mut self, strict: bool) {
        self.strict = strict;
    }

    /// Adds node `idx` with these labels and taints (a hypothetical node too); `tmpl` is the
    /// incoming template (for the inclusion policies). Registers its domains.
    pub fn add_node(&mut self, idx: usize, tmpl: &PodTemplate, labels: &Labels, taints: &[Taint]) {
        let all_keys = self
            .spread
            .iter()
            .filter(|s| !s.c.system_default)
            .all(|s| labels.contains_key(&s.c.topology_key));
        for (i, s) in self.spread.iter_mut().enumerate() {
            if s.eligible.len() <= idx {
                s.eligible.resize(idx + 1, false);
                s.node_dom.resize(idx + 1, NO_DOMAIN);
            }
            s.node_dom[idx] = match labels.get(&s.c.topology_key) {
                Some(v) => s.intern(v),
                None => NO_DOMAIN,
            };
            // upstream: filtering.go counts only nodes with every constraint's key
            // (`nodeLabelsMatchSpreadConstraints`) that the inclusion policies admit.
            let ok = (all_keys || s.c.system_default)
                && admitted_by_policy(&s.c, tmpl, labels, taints)
                && labels.contains_key(&s.c.topology_key);
            s.eligible[idx] = ok;
            if ok {
                let v = &labels[&s.c.topology_key];
                s.counts.entry(v.clone()).or_insert(0);
                bump(&mut s.domain_nodes, v, 1);
                self.spread_min[i] = None;
            }
        }
        if self.nodes.len() <= idx {
            self.nodes.resize(idx + 1, false);
        }
        self.nodes[idx] = true;
    }

    /// Takes node `idx` out of the snapshot (its pods must have been removed first): a domain
    /// with no node left stops counting toward the minimum.
    pub fn remove_node(&mut self, idx: usize, labels: &Labels) {
        if !self.nodes.get(idx).copied().unwrap_or(false) {
            return;
        }
        self.nodes[idx] = false;
        for (i, s) in self.spread.iter_mut().enumerate() {
            if !s.eligible.get(idx).copied().unwrap_or(false) {
                continue;
            }
            s.eligible[idx] = false;
            let v = &labels[&s.c.topology_key];
            bump(&mut s.domain_nodes, v, -1);
            if s.domain_nodes.get(v).is_some_and(|&c| c <= 0) {
                s.domain_nodes.remove(v);
                if s.counts.get(v).is_some_and(|&c| c <= 0) {
                    s.counts.remove(v);
                    let d = s.intern(v);
                    s.dom_count[d as usize] = 0;
                }
            }
            self.spread_min[i] = None;
        }
    }

    /// Registers a domain no node has yet (Karpenter: a zone its NodePools can launch into).
    pub fn add_domain(&mut self, key: &str, value: &str) {
        for (i, s) in self.spread.iter_mut().enumerate() {
            if s.c.topology_key == key {
                s.counts.entry(value.to_string()).or_insert(0);
                self.spread_min[i] = None;
            }
        }
    }

    fn matching(&mut self, key: u32, tmpl: &PodTemplate) {
        let k = key as usize;
        if self.memo.len() <= k {
            self.memo.resize(k + 1, None);
        }
        if self.memo[k].is_none() {
            let ns = tmpl.namespace.as_str();
            let mut m = Match {
                spread: self
                    .spread
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| {
                        ns == self.namespace && s.c.selector.as_ref().is_some_and(|x| x.matches(&tmpl.labels))
                    })
                    .map(|(i, _)| i)
                    .collect(),
                affinity_all: !self.affinity.is_empty()
                    && self.affinity.iter().all(|t| t.term.matches(ns, &tmpl.labels)),
                anti: (0..self.anti.len())
                    .filter(|&i| self.anti[i].term.matches(ns, &tmpl.labels))
                    .collect(),
                preferred: (0..self.preferred.len())
                    .filter(|&i| self.preferred[i].term.matches(ns, &tmpl.labels))
                    .collect(),
                ..Match::default()
            };
            let k2 = &tmpl.constraints;
            for t in &k2.anti_affinity.required {
                if t.matches(&self.namespace, &self.labels) {
                    m.existing_anti.push(t.topology_key.clone());
                }
            }
            for t in &k2.affinity.required {
                if t.matches(&self.namespace, &self.labels) {
                    m.existing_score
                        .push((t.topology_key.clone(), HARD_POD_AFFINITY_WEIGHT));
                }
            }
            for (w, t) in &k2.affinity.preferred {
                if t.matches(&self.namespace, &self.labels) {
                    m.existing_score.push((t.topology_key.clone(), *w));
                }
            }
            for (w, t) in &k2.anti_affinity.preferred {
                if t.matches(&self.namespace, &self.labels) {
                    m.existing_score.push((t.topology_key.clone(), -w));
                }
            }
            self.memo[k] = Some(m);
        }
    }

    /// Records `n` pods (`n` < 0 removes them) of template `tmpl` (key `key`) on node `idx`,
    /// whose labels are `labels`. Terminating pods are passed with `terminating`: spread does
    /// not count them (upstream skips pods with a deletion timestamp), affinity does.
    pub fn place(&mut self, key: u32, tmpl: &PodTemplate, idx: usize, labels: &Labels, n: i64, terminating: bool) {
        if !self.nodes.get(idx).copied().unwrap_or(false) {
            return;
        }
        self.record(key, tmpl, Where::Labels(labels), n, terminating, Some(idx));
    }

    /// [`PodTopology::place`] on a node whose domains may be open: `values(key)` lists the
    /// values the node may take for `key` (one for a real node). Spread and affinity counts
    /// record only a single value; anti-affinity blocks every value (Karpenter's `Record`).
    pub fn place_on(&mut self, key: u32, tmpl: &PodTemplate, values: &dyn Fn(&str) -> Vec<String>, n: i64) {
        self.record(key, tmpl, Where::Open(values), n, false, None);
    }

    fn record(&mut self, key: u32, tmpl: &PodTemplate, at: Where<'_>, n: i64, terminating: bool, idx: Option<usize>) {
        if self.memo.get(key as usize).is_none_or(|m| m.is_none()) {
            self.matching(key, tmpl);
        }
        let m = self.memo[key as usize].as_ref().expect("memoised above");
        if !terminating {
            for &i in &m.spread {
                let s = &mut self.spread[i];
                if idx.is_some_and(|x| !s.eligible.get(x).copied().unwrap_or(false)) {
                    continue;
                }
                if let Some(v) = at.single(&s.c.topology_key)
                    && s.add_count(v.as_ref(), idx, n)
                {
                    self.spread_min[i] = None;
                }
            }
        }
        if m.affinity_all {
            self.affinity_total += n;
            for t in &mut self.affinity {
                if let Some(v) = at.single(&t.term.topology_key) {
                    bump(&mut t.counts, v.as_ref(), n);
                }
            }
        }
        for &i in &m.anti {
            let t = &mut self.anti[i];
            at.each(&t.term.topology_key, &mut |v| bump(&mut t.counts, v, n));
        }
        for &i in &m.preferred {
            let t = &mut self.preferred[i];
            if let Some(v) = at.single(&t.term.topology_key) {
                bump(&mut t.counts, v.as_ref(), n);
            }
        }
        for k in &m.existing_anti {
            let map = self.existing_anti.entry(k.clone()).or_default();
            at.each(k, &mut |v| bump(map, v, n));
        }
        for (k, w) in &m.existing_score {
            if let Some(v) = at.single(k) {
                bump(self.existing_score.entry(k.clone()).or_default(), v.as_ref(), w * n);
            }
        }
    }

    fn min(&mut self, i: usize) -> i64 {
        if let Some(m) = self.spread_min[i] {
            return m;
        }
        let m = self.spread[i].min();
        self.spread_min[i] = Some(m);
        m
    }

    /// Does a node with these labels pass PodTopologySpread (DoNotSchedule) and
    /// InterPodAffinity (required terms, both ways)?
    pub fn admits(&mut self, labels: &Labels) -> Result<(), Reject> {
        for i in 0..self.spread.len() {
            if !self.hard(i) {
                continue;
            }
            let Some(v) = labels.get(&self.spread[i].c.topology_key) else {
                return Err(Reject::SpreadMissingLabel);
            };
            let min = self.min(i);
            if !self.spread[i].admits_value(v, min) {
                return Err(Reject::Spread);
            }
        }
        if !self.existing_anti.is_empty() {
            for (k, v) in labels {
                if self.existing_anti.get(k).and_then(|m| m.get(v)).is_some_and(|&c| c > 0) {
                    return Err(Reject::ExistingAntiAffinity);
                }
            }
        }
        for t in &self.anti {
            if let Some(v) = labels.get(&t.term.topology_key)
                && t.counts.get(v).is_some_and(|&c| c > 0)
            {
                return Err(Reject::AntiAffinity);
            }
        }
        if !self.affinity.is_empty() {
            let all = self.affinity.iter().all(|t| {
                labels
                    .get(&t.term.topology_key)
                    .is_some_and(|v| t.counts.get(v).is_some_and(|&c| c > 0))
            });
            // The first pod of a group that selects itself may go anywhere with the keys.
            let first = self.affinity_total == 0
                && self.affinity_self
                && self.affinity.iter().all(|t| labels.contains_key(&t.term.topology_key));
            if !all && !first {
                return Err(Reject::Affinity);
            }
        }
        Ok(())
    }

    /// For a node whose domains may be open (`values(key)`: the values it may still take),
    /// the values each constrained key must be narrowed to for the pod to go there, or why it
    /// cannot. Spread picks the least-populated admissible value (ties: the first in order).
    pub fn narrow(&mut self, values: &dyn Fn(&str) -> Vec<String>) -> Result<Vec<(String, Vec<String>)>, Reject> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        let restrict = |out: &mut Vec<(String, Vec<String>)>, key: &str, allowed: Vec<String>| match out
            .iter_mut()
            .find(|(k, _)| k == key)
        {
            Some((_, vals)) => vals.retain(|v| allowed.contains(v)),
            None => out.push((key.to_string(), allowed)),
        };
        let current = |out: &Vec<(String, Vec<String>)>, key: &str| -> Vec<String> {
            out.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| values(key))
        };
        for i in 0..self.spread.len() {
            if !self.hard(i) {
                continue;
            }
            let key = self.spread[i].c.topology_key.clone();
            let vals = current(&out, &key);
            if vals.is_empty() {
                return Err(Reject::SpreadMissingLabel);
            }
            let min = self.min(i);
            let s = &self.spread[i];
            let best = vals
                .iter()
                .filter(|v| s.admits_value(v, min))
                .min_by_key(|v| s.counts.get(v.as_str()).copied().unwrap_or(0))
                .cloned();
            match best {
                Some(v) => restrict(&mut out, &key, vec![v]),
                None => return Err(Reject::Spread),
            }
        }
        for t in &self.anti {
            let key = &t.term.topology_key;
            let vals = current(&out, key);
            let free: Vec<String> = vals
                .into_iter()
                .filter(|v| t.counts.get(v).is_none_or(|&c| c <= 0))
                .collect();
            if free.is_empty() {
                return Err(Reject::AntiAffinity);
            }
            restrict(&mut out, key, free);
        }
        if !self.existing_anti.is_empty() {
            let keys: Vec<String> = self.existing_anti.keys().cloned().collect();
            for key in keys {
                let vals = current(&out, &key);
                if vals.is_empty() {
                    continue;
                }
                let free: Vec<String> = vals
                    .into_iter()
                    .filter(|v| {
                        self.existing_anti
                            .get(&key)
                            .and_then(|m| m.get(v))
                            .is_none_or(|&c| c <= 0)
                    })
                    .collect();
                if free.is_empty() {
                    return Err(Reject::ExistingAntiAffinity);
                }
                restrict(&mut out, &key, free);
            }
        }
        if !self.affinity.is_empty() {
            let first = self.affinity_total == 0 && self.affinity_self;
            for t in &self.affinity {
                let key = &t.term.topology_key;
                let vals = current(&out, key);
                let ok: Vec<String> = if first {
                    vals
                } else {
                    vals.into_iter()
                        .filter(|v| t.counts.get(v).is_some_and(|&c| c > 0))
                        .collect()
                };
                if ok.is_empty() {
                    return Err(Reject::Affinity);
                }
                restrict(&mut out, key, ok);
            }
        }
        if out.iter().any(|(_, v)| v.is_empty()) {
            return Err(Reject::Spread);
        }
        Ok(out)
    }

    /// Whether the template has soft spread constraints or preferred terms, or placed pods
    /// have terms toward it: the scores are not all equal.
    pub fn scores(&self) -> bool {
        self.spread
            .iter()
            .any(|s| s.c.when_unsatisfiable == WhenUnsatisfiable::ScheduleAnyway)
            || !self.preferred.is_empty()
            || !self.existing_score.is_empty()
    }

    /// Whether node `idx` is in the view (its domains are interned).
    fn holds(&self, idx: usize) -> bool {
        self.nodes.get(idx).copied().unwrap_or(false)
    }

    /// PodTopologySpread's normalizing weight per soft constraint for a set of feasible nodes
    /// (their indices and labels): `ln(domains among them + 2)`.
    pub fn spread_weights<'l>(&self, feasible: impl Iterator<Item = (usize, &'l Labels)> + Clone) -> Vec<f64> {
        let all_held = feasible.clone().all(|(i, _)| self.holds(i));
        let mut ids: Vec<u32> = Vec::new();
        self.spread
            .iter()
            .map(|s| {
                if s.c.when_unsatisfiable != WhenUnsatisfiable::ScheduleAnyway {
                    return 0.0;
                }
                let key = &s.c.topology_key;
                let domains = if all_held {
                    ids.clear();
                    ids.extend(feasible.clone().map(|(i, _)| s.node_dom[i]).filter(|&d| d != NO_DOMAIN));
                    // Hostnames are unique per node: the domains are the nodes that carry it.
                    if !s.hostname {
                        ids.sort_unstable();
                        ids.dedup();
                    }
                    ids.len()
                } else if s.hostname {
                    feasible.clone().filter(|(_, l)| l.contains_key(key)).count()
                } else {
                    let set: BTreeSet<&String> = feasible.clone().filter_map(|(_, l)| l.get(key)).collect();
                    set.len()
                };
                ((domains + 2) as f64).ln()
            })
            .collect()
    }

    /// PodTopologySpread's raw score of node `idx` (lower is better before normalizing);
    /// `None` when the node lacks a key of the pod's own soft constraints (upstream ignores it).
    pub fn spread_raw(&self, labels: &Labels, idx: usize, weights: &[f64]) -> Option<i64> {
        let held = self.holds(idx);
        let mut score = 0.0;
        for (s, w) in self.spread.iter().zip(weights) {
            if s.c.when_unsatisfiable != WhenUnsatisfiable::ScheduleAnyway {
                continue;
            }
            let cnt = if held {
                match s.node_dom[idx] {
                    NO_DOMAIN => None,
                    d => Some(s.dom_count[d as usize]),
                }
            } else {
                labels
                    .get(&s.c.topology_key)
                    .map(|v| s.counts.get(v).copied().unwrap_or(0))
            };
            match cnt {
                Some(cnt) => score += cnt as f64 * w + (s.c.max_skew - 1) as f64,
                None if s.c.system_default => {}
                None => return None,
            }
        }
        Some(score.round() as i64)
    }

    /// InterPodAffinity's raw score of a node: the incoming pod's preferred terms and the
    /// placed pods' terms toward it, summed over the node's domains.
    pub fn affinity_raw(&self, labels: &Labels) -> i64 {
        let mut s = 0;
        for t in &self.preferred {
            if let Some(v) = labels.get(&t.term.topology_key) {
                s += t.weight * t.counts.get(v).copied().unwrap_or(0);
            }
        }
        if !self.existing_score.is_empty() {
            for (k, v) in labels {
                if let Some(w) = self.existing_score.get(k).and_then(|m| m.get(v)) {
                    s += w;
                }
            }
        }
        s
    }
}

/// Whether pods of `tmpl` need a [`PodTopology`]: their own inter-pod constraints, or some
/// template's (anti-)affinity terms that could name them.
pub fn needed(tmpl: &PodTemplate, templates: &Templates) -> bool {
    tmpl.constraints.is_inter_pod() || templates.any_pod_terms()
}

/// Whether a node is in the scheduler's snapshot: registered (a Node object) and not gone.
/// upstream: nodes exist in the API from kubelet registration; NotReady and cordoned nodes
/// stay domains of spread constraints (`nodeTaintsPolicy: Ignore` by default).
#[inline]
pub fn in_snapshot(n: &Node) -> bool {
    n.registered.is_some() && n.state != super::state::NodeState::Terminated
}

/// The view for `tmpl` over the cluster: every node in the snapshot (indexed by node id), and
/// every bound pod on them.
pub fn of_cluster(
    tmpl: &PodTemplate,
    nodes: &[Node],
    live: &[NodeId],
    pods: &[Pod],
    templates: &Templates,
) -> PodTopology {
    let mut t = PodTopology::new(tmpl);
    for &id in live {
        let n = &nodes[id.0 as usize];
        if in_snapshot(n) {
            t.add_node(id.0 as usize, tmpl, &n.labels, &n.taints);
        }
    }
    for &id in live {
        let n = &nodes[id.0 as usize];
        if !in_snapshot(n) {
            continue;
        }
        for &p in &n.pods {
            let pod = &pods[p.0 as usize];
            if pod.phase.is_bound() {
                t.place(
                    templates.key_of(pod),
                    templates.of(pod),
                    id.0 as usize,
                    &n.labels,
                    1,
                    pod.phase == PodPhase::Terminating,
                );
            }
        }
    }
    t
}

/// One change to a simulated snapshot, replayed into views built after it.
#[derive(Clone, Debug)]
enum Op {
    AddNode(usize, Labels, Vec<Taint>),
    RemoveNode(usize),
    /// (template key, workload, revision, node, count)
    Place(u32, u32, u32, usize, i64),
    /// A pod on a node whose domains are open: the values it may take per key.
    PlaceOpen(u32, u32, u32, std::rc::Rc<BTreeMap<String, Vec<String>>>),
    AddDomain(String, String),
}

/// [`PodTopology`] views for every template a simulation places, over one snapshot, kept in
/// step as it adds nodes, removes them and places pods — the cluster's nodes by id, then
/// hypothetical ones at indices the caller picks above them (Cluster Autoscaler's upcoming and
/// template nodes). A view built late replays the changes made before it.
#[derive(Clone)]
pub struct Views<'a> {
    nodes: &'a [Node],
    live: &'a [NodeId],
    pods: &'a [Pod],
    templates: &'a Templates,
    views: BTreeMap<u32, (&'a PodTemplate, PodTopology)>,
    log: Vec<Op>,
    /// Some template's required anti-affinity could reject any pod.
    any_anti: bool,
    /// Some template has a hard inter-pod constraint: changes must be recorded.
    active: bool,
    strict: bool,
    /// Labels of the nodes added that the cluster's snapshot does not hold (template nodes,
    /// upcoming nodes not registered yet).
    hyp: BTreeMap<usize, Labels>,
}

impl<'a> Views<'a> {
    pub fn new(nodes: &'a [Node], live: &'a [NodeId], pods: &'a [Pod], templates: &'a Templates) -> Views<'a> {
        Views {
            nodes,
            live,
            pods,
            templates,
            views: BTreeMap::new(),
            log: Vec::new(),
            any_anti: templates.any_required_anti_affinity(),
            active: templates.any_hard_inter_pod() || templates.any_own_spread(),
            strict: false,
            hyp: BTreeMap::new(),
        }
    }

    /// [`PodTopology::set_strict`] for every view from now on.
    pub fn set_strict(&mut self, strict: bool) {
        self.strict = strict;
        for (_, v) in self.views.values_mut() {
            v.set_strict(strict);
        }
    }

    /// Whether any filter looks at other pods: when not, every call here is a no-op.
    pub fn active(&self) -> bool {
        self.active
    }

    /// Whether the filters for pods of `tmpl` look at other pods (scores do not matter to a
    /// simulation that only asks where pods fit).
    pub fn needed(&self, tmpl: &PodTemplate) -> bool {
        self.any_anti
            || tmpl.constraints.has_hard_inter_pod()
            || (self.strict && tmpl.constraints.spread.iter().any(|c| !c.system_default))
    }

    /// The labels of node `idx`: a hypothetical node's, else the cluster's node.
    fn labels_of<'l>(nodes: &'l [Node], hyp: &'l BTreeMap<usize, Labels>, idx: usize) -> &'l Labels {
        hyp.get(&idx).unwrap_or_else(|| &nodes[idx].labels)
    }

    fn apply(
        view: &mut PodTopology,
        op: &Op,
        templates: &Templates,
        tmpl: &PodTemplate,
        nodes: &[Node],
        hyp: &BTreeMap<usize, Labels>,
    ) {
        match op {
            Op::AddNode(i, l, t) => view.add_node(*i, tmpl, l, t),
            Op::RemoveNode(i) => view.remove_node(*i, Self::labels_of(nodes, hyp, *i)),
            Op::Place(key, w, r, i, n) => view.place(
                *key,
                templates.get(*w as usize, *r),
                *i,
                Self::labels_of(nodes, hyp, *i),
                *n,
                false,
            ),
            Op::PlaceOpen(key, w, r, d) => view.place_on(
                *key,
                templates.get(*w as usize, *r),
                &|k: &str| d.get(k).cloned().unwrap_or_default(),
                1,
            ),
            Op::AddDomain(k, v) => view.add_domain(k, v),
        }
    }

    fn push(&mut self, op: Op) {
        if !self.active {
            return;
        }
        if let Op::AddNode(i, l, _) = &op
            && *i >= self.nodes.len()
        {
            self.hyp.insert(*i, l.clone());
        }
        for (tmpl, v) in self.views.values_mut() {
            Self::apply(v, &op, self.templates, tmpl, self.nodes, &self.hyp);
        }
        self.log.push(op);
    }

    /// Adds a node at `idx` (above the cluster's ids) with these labels and taints.
    pub fn add_node(&mut self, idx: usize, labels: &Labels, taints: &[Taint]) {
        self.push(Op::AddNode(idx, labels.clone(), taints.to_vec()));
    }

    /// Takes node `idx` out of the snapshot (remove its pods first).
    pub fn remove_node(&mut self, idx: usize) {
        self.push(Op::RemoveNode(idx));
    }

    /// `n` pods of `pod`'s template on node `idx` (negative: removes them).
    pub fn place(&mut self, pod: &Pod, idx: usize, n: i64) {
        let key = self.templates.key_of(pod);
        self.push(Op::Place(key, pod.workload, pod.revision, idx, n));
    }

    /// The pod with id `id`.
    pub fn pod(&self, id: super::PodId) -> &'a Pod {
        &self.pods[id.0 as usize]
    }

    /// Registers a domain no node has yet (Karpenter: a zone its NodePools can launch into).
    pub fn add_domain(&mut self, key: &str, value: &str) {
        self.push(Op::AddDomain(key.to_string(), value.to_string()));
    }

    /// Records `pod` on a node whose domains are open (`domains`: the values it may take).
    pub fn place_open(&mut self, pod: &Pod, domains: BTreeMap<String, Vec<String>>) {
        let key = self.templates.key_of(pod);
        self.push(Op::PlaceOpen(
            key,
            pod.workload,
            pod.revision,
            std::rc::Rc::new(domains),
        ));
    }

    /// [`PodTopology::narrow`] for pods of `pod`'s template (no narrowing when the filters do
    /// not look at other pods).
    pub fn narrow(
        &mut self,
        pod: &Pod,
        values: &dyn Fn(&str) -> Vec<String>,
    ) -> Result<Vec<(String, Vec<String>)>, Reject> {
        if !self.needed(self.templates.of(pod)) {
            return Ok(Vec::new());
        }
        self.view(pod).narrow(values)
    }

    /// The topology keys any template's constraints name (what an open node must report).
    pub fn keys(&self) -> BTreeSet<String> {
        self.templates.topology_keys()
    }

    /// The view for pods of `pod`'s template, built on first use.
    pub fn view(&mut self, pod: &Pod) -> &mut PodTopology {
        let key = self.templates.key_of(pod);
        let tmpl = self.templates.of(pod);
        let (nodes, live, pods, templates, log, strict, hyp) = (
            self.nodes,
            self.live,
            self.pods,
            self.templates,
            &self.log,
            self.strict,
            &self.hyp,
        );
        &mut self
            .views
            .entry(key)
            .or_insert_with(|| {
                let mut v = of_cluster(tmpl, nodes, live, pods, templates);
                v.set_strict(strict);
                for op in log {
                    Self::apply(&mut v, op, templates, tmpl, nodes, hyp);
                }
                (tmpl, v)
            })
            .1
    }

    /// Does a pod of `pod`'s template pass the inter-pod filters on a node with `labels`?
    pub fn admits(&mut self, pod: &Pod, labels: &Labels) -> bool {
        let tmpl = self.templates.of(pod);
        !self.needed(tmpl) || self.view(pod).admits(labels).is_ok()
    }
}

/// upstream: podtopologyspread/scoring.go `NormalizeScore` (ignored nodes score 0; fewer
/// matching pods score higher).
pub fn normalize_spread(raw: &[Option<i64>], max_score: i64) -> Vec<i64> {
    let vals = raw.iter().flatten();
    let min = vals.clone().copied().min().unwrap_or(0);
    let max = vals.copied().max().unwrap_or(0);
    raw.iter()
        .map(|r| match r {
            None => 0,
            Some(_) if max == 0 => max_score,
            Some(s) => max_score * (max + min - s) / max,
        })
        .collect()
}

/// upstream: interpodaffinity/scoring.go `NormalizeScore` (min–max to 0..MaxNodeScore; all
/// equal → 0).
pub fn normalize_min_max(raw: &[i64], max_score: i64) -> Vec<i64> {
    let min = raw.iter().copied().min().unwrap_or(0);
    let max = raw.iter().copied().max().unwrap_or(0);
    raw.iter()
        .map(|&s| {
            if max > min {
                max_score * (s - min) / (max - min)
            } else {
                0
            }
        })
        .collect()
}

/// upstream: pkg/scheduler/framework/plugins/helper/normalize_score.go `DefaultNormalizeScore`.
pub fn normalize_default(raw: &[i64], max_score: i64, reverse: bool) -> Vec<i64> {
    let max = raw.iter().copied().max().unwrap_or(0);
    raw.iter()
        .map(|&s| {
            if max == 0 {
                if reverse { max_score } else { 0 }
            } else {
                let v = max_score * s / max;
                if reverse { max_score - v } else { v }
            }
        })
        .collect()
}
