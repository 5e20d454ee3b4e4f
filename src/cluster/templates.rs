//! Pod template revisions. A workload starts with the template its manifest gives (revision 0);
//! a controller that changes what new pods request (VPA's admission controller, a rightsizing
//! what-if) adds a revision, and pods created afterwards record it (`Pod::revision`), as a real
//! pod keeps the spec it was created with while the ReplicaSet's template moves on.
//!
//! Caches that depend on a template are keyed by [`Templates::key`], unique per
//! (workload, revision), so a revision never reads a cache built for another.

use super::state::Pod;
use crate::model::{PodTemplate, Workload};
use std::sync::Arc;

/// Every template revision of every workload, by workload index.
#[derive(Clone, Debug, Default)]
pub struct Templates {
    /// `revisions[w][r]`: revision `r` of workload `w`, with its key.
    revisions: Vec<Vec<(u32, Arc<PodTemplate>)>>,
    next_key: u32,
}

impl Templates {
    /// Revision 0 of each workload: its manifest's template. Its key is the workload's index.
    pub fn new(workloads: &[Workload]) -> Templates {
        Templates {
            revisions: workloads
                .iter()
                .enumerate()
                .map(|(i, w)| vec![(i as u32, Arc::new(w.template.clone()))])
                .collect(),
            next_key: workloads.len() as u32,
        }
    }

    /// The latest revision of workload `w`: what new pods are created from.
    pub fn current(&self, w: usize) -> (u32, &PodTemplate) {
        let revs = &self.revisions[w];
        ((revs.len() - 1) as u32, &revs[revs.len() - 1].1)
    }

    /// Revision `rev` of workload `w`.
    #[inline]
    pub fn get(&self, w: usize, rev: u32) -> &PodTemplate {
        &self.revisions[w][rev as usize].1
    }

    /// The template a pod was created from.
    #[inline]
    pub fn of(&self, pod: &Pod) -> &PodTemplate {
        self.get(pod.workload as usize, pod.revision)
    }

    /// The template whose container requests and limits a pod runs with (its own, unless a VPA
    /// resized it in place).
    #[inline]
    pub fn resources_of(&self, pod: &Pod) -> &PodTemplate {
        self.get(pod.workload as usize, pod.resources_rev)
    }

    /// A key unique per (workload, revision): the workload's index for revision 0.
    #[inline]
    pub fn key(&self, w: usize, rev: u32) -> u32 {
        self.revisions[w][rev as usize].0
    }

    /// [`Templates::key`] of a pod's template.
    #[inline]
    pub fn key_of(&self, pod: &Pod) -> u32 {
        self.key(pod.workload as usize, pod.revision)
    }

    /// How many revisions workload `w` has.
    pub fn revisions(&self, w: usize) -> u32 {
        self.revisions[w].len() as u32
    }

    /// Adds a revision of workload `w`; returns its number.
    pub fn revise(&mut self, w: usize, template: PodTemplate) -> u32 {
        let key = self.next_key;
        self.next_key += 1;
        self.revisions[w].push((key, Arc::new(template)));
        (self.revisions[w].len() - 1) as u32
    }

    /// Whether any revision of any workload has pod affinity or anti-affinity terms (which
    /// could concern pods of any template).
    pub fn any_pod_terms(&self) -> bool {
        self.revisions
            .iter()
            .flatten()
            .any(|(_, t)| !t.constraints.affinity.is_empty() || !t.constraints.anti_affinity.is_empty())
    }

    /// Whether any revision of any workload has a hard inter-pod constraint (DoNotSchedule
    /// spread, required affinity or anti-affinity): without one, no filter looks at other pods.
    pub fn any_hard_inter_pod(&self) -> bool {
        self.revisions
            .iter()
            .flatten()
            .any(|(_, t)| t.constraints.has_hard_inter_pod())
    }

    /// Whether any revision has spread constraints of its own (not the cluster defaults).
    pub fn any_own_spread(&self) -> bool {
        self.revisions
            .iter()
            .flatten()
            .any(|(_, t)| t.constraints.spread.iter().any(|c| !c.system_default))
    }

    /// Whether any revision has required pod anti-affinity (which filters other templates' pods).
    pub fn any_required_anti_affinity(&self) -> bool {
        self.revisions
            .iter()
            .flatten()
            .any(|(_, t)| !t.constraints.anti_affinity.required.is_empty())
    }

    /// Every topology key a spread constraint or affinity term of any revision names.
    pub fn topology_keys(&self) -> std::collections::BTreeSet<String> {
        let mut keys = std::collections::BTreeSet::new();
        for (_, t) in self.revisions.iter().flatten() {
            let k = &t.constraints;
            keys.extend(k.spread.iter().map(|c| c.topology_key.clone()));
            for terms in [&k.affinity, &k.anti_affinity] {
                keys.extend(terms.required.iter().map(|x| x.topology_key.clone()));
                keys.extend(terms.preferred.iter().map(|(_, x)| x.topology_key.clone()));
            }
        }
        keys
    }

    /// The lowest priority any revision of any workload gives its pods.
    pub fn min_priority(&self) -> i32 {
        self.revisions
            .iter()
            .flatten()
            .map(|(_, t)| t.priority)
            .min()
            .unwrap_or(i32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::deployment;

    #[test]
    fn revisions_have_their_own_keys() {
        let wls = vec![deployment("a", 1, 100, 64), deployment("b", 1, 200, 64)];
        let mut t = Templates::new(&wls);
        assert_eq!(t.current(1).0, 0);
        assert_eq!((t.key(0, 0), t.key(1, 0)), (0, 1));
        let mut bigger = t.get(1, 0).clone();
        bigger.containers[0].requests.cpu_m = 400;
        bigger.priority = -5;
        assert_eq!(t.revise(1, bigger), 1);
        let (rev, cur) = t.current(1);
        assert_eq!((rev, cur.requests().cpu_m), (1, 400));
        assert_eq!(t.get(1, 0).requests().cpu_m, 200, "older pods keep their revision");
        assert_eq!(t.key(1, 1), 2, "a new key, never a workload's");
        assert_eq!(t.revisions(1), 2);
        assert_eq!(t.min_priority(), -5);
    }
}
