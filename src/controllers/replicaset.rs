//! The ReplicaSet controller's choice of which pods to delete on scale-down.
//!
//! upstream: kubernetes/kubernetes pkg/controller/replicaset/replica_set.go `getPodsToDelete`,
//! ordering by pkg/controller/controller_utils.go `ActivePodsWithRanks.Less`: unassigned before
//! assigned; Pending before Running; not ready before ready; ready for a shorter time before
//! longer; newer before older. (The co-location rank and restart counts are not modelled: capsim
//! pods do not restart, and every pod of a workload has the same rank weight.)

use crate::engine::SimTime;

/// What the ordering looks at for one pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodRank<P> {
    pub id: P,
    pub assigned: bool,
    /// Containers running (phase Running), as opposed to Pending.
    pub running: bool,
    /// When it became Ready, if it is.
    pub ready_since: Option<SimTime>,
    pub created: SimTime,
}

/// Sorts `pods` into deletion order (first = deleted first) and returns the first `n` ids.
pub fn pods_to_delete<P: Copy + Ord>(pods: &mut [PodRank<P>], n: usize) -> Vec<P> {
    pods.sort_by(|a, b| {
        a.assigned
            .cmp(&b.assigned)
            .then(a.running.cmp(&b.running))
            .then(a.ready_since.is_some().cmp(&b.ready_since.is_some()))
            // ready for a shorter time (later ready_since) first
            .then(b.ready_since.cmp(&a.ready_since))
            // newer first
            .then(b.created.cmp(&a.created))
            .then(b.id.cmp(&a.id))
    });
    pods.iter().take(n).map(|p| p.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(id: u32, assigned: bool, running: bool, ready: Option<u64>, created: u64) -> PodRank<u32> {
        PodRank {
            id,
            assigned,
            running,
            ready_since: ready.map(SimTime),
            created: SimTime(created),
        }
    }

    #[test]
    fn upstream_order() {
        let mut pods = vec![
            rank(1, true, true, Some(100), 10), // ready long ago
            rank(2, true, true, Some(500), 20), // ready recently
            rank(3, true, true, None, 30),      // running, not ready
            rank(4, true, false, None, 40),     // bound, starting
            rank(5, false, false, None, 5),     // unscheduled, oldest
            rank(6, false, false, None, 50),    // unscheduled, newest
        ];
        assert_eq!(pods_to_delete(&mut pods, 6), vec![6, 5, 4, 3, 2, 1]);
        assert_eq!(pods_to_delete(&mut pods, 2), vec![6, 5]);
    }
}
