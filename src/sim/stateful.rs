//! The StatefulSet controller: ordinal identities, `podManagementPolicy`, and each ordinal's
//! zonal volume.
//!
//! upstream: kubernetes/kubernetes pkg/controller/statefulset/stateful_set_control.go
//! (`updateStatefulSet`: replicas are ordinals `start..start+replicas`; a missing ordinal is
//! created, one beyond the range deleted; with `OrderedReady` the controller stops at the first
//! ordinal that is not Running and Ready — so ordinal i is created only once 0..i are — and
//! deletes only the highest ordinal, waiting for any terminating pod and for the others to be
//! Ready; `Parallel` creates and deletes at once). A pod's name is its identity, so an ordinal
//! is recreated only after its previous pod is gone. A volume from `volumeClaimTemplates` is
//! bound where the ordinal first runs (WaitForFirstConsumer) and pins it to that zone
//! (pkg/scheduler/framework/plugins/volumebinding, VolumeZone).

use super::World;
use crate::cluster::{DeleteReason, PodId, PodPhase};
use std::collections::BTreeSet;

impl World<'_> {
    pub(super) fn reconcile_stateful(&mut self, i: usize) {
        let Some(st) = self.sc.workloads[i].stateful.clone() else {
            return;
        };
        let now = self.now();
        let desired = self.workloads[i].desired;
        let wanted = st.ordinal_start..st.ordinal_start + desired;
        // Identities held by an active pod, and by a pod still terminating (its name is taken).
        let mut held: BTreeSet<u32> = BTreeSet::new();
        let mut terminating = false;
        for p in self.cluster.pods.iter().filter(|p| p.workload == i as u32) {
            let Some(id) = p.identity else { continue };
            if p.phase.is_active() {
                held.insert(id);
            } else if p.phase == PodPhase::Terminating {
                held.insert(id);
                terminating = true;
            }
        }
        let active: Vec<PodId> = self.workloads[i].active.clone();
        let ready = |w: &World<'_>, p: PodId| w.cluster.pods[p.0 as usize].phase == PodPhase::Ready;
        // Scale down: ordinals past the range, highest first.
        let mut extra: Vec<(u32, PodId)> = active
            .iter()
            .filter_map(|&p| self.cluster.pods[p.0 as usize].identity.map(|id| (id, p)))
            .filter(|(id, _)| !wanted.contains(id))
            .collect();
        extra.sort_by_key(|e| std::cmp::Reverse(e.0));
        if !extra.is_empty() {
            if st.parallel {
                for &(id, p) in &extra {
                    self.delete_pod(now, p, DeleteReason::ScaleDown);
                    if st.delete_when_scaled {
                        self.workloads[i].volume_zones.remove(&id);
                    }
                }
            } else {
                let others_ready = active.iter().filter(|&&p| p != extra[0].1).all(|&p| ready(self, p));
                if !terminating && others_ready {
                    let (id, p) = extra[0];
                    self.delete_pod(now, p, DeleteReason::ScaleDown);
                    if st.delete_when_scaled {
                        self.workloads[i].volume_zones.remove(&id);
                    }
                }
            }
            return;
        }
        // Scale up (and replace lost pods): missing ordinals, lowest first.
        let mut created = false;
        for id in wanted {
            if held.contains(&id) {
                if !st.parallel {
                    let p = active
                        .iter()
                        .copied()
                        .find(|&p| self.cluster.pods[p.0 as usize].identity == Some(id));
                    // OrderedReady: stop at the first ordinal that is not Running and Ready.
                    if p.is_none_or(|p| !ready(self, p)) {
                        break;
                    }
                }
                continue;
            }
            if self.cluster.pods.len() >= crate::scenario::defaults::MAX_PODS_PER_RUN {
                break;
            }
            let p = self.create_pod(i, now);
            let zone = self.workloads[i].volume_zones.get(&id).cloned();
            let pod = &mut self.cluster.pods[p.0 as usize];
            pod.identity = Some(id);
            pod.volume_zone = zone;
            created = true;
            if !st.parallel {
                break;
            }
        }
        if created {
            self.request_cycle(now);
        }
    }

    /// A StatefulSet pod was bound: its ordinal's volume is created in the node's zone if it
    /// has none yet.
    pub(super) fn bind_volume(&mut self, p: PodId) {
        let pod = &self.cluster.pods[p.0 as usize];
        let wi = pod.workload as usize;
        let (Some(id), Some(n)) = (pod.identity, pod.node) else {
            return;
        };
        if !self.sc.workloads[wi].stateful.as_ref().is_some_and(|s| s.zonal_volumes) || pod.volume_zone.is_some() {
            return;
        }
        let zone = self.cluster.nodes[n.0 as usize].zone.clone();
        self.workloads[wi]
            .volume_zones
            .entry(id)
            .or_insert_with(|| zone.clone());
        self.cluster.pods[p.0 as usize].volume_zone = Some(zone);
    }
}
