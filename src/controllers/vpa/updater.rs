//! The VPA updater's decisions: which pods are worth updating, in which order, and whether the
//! replica group can spare one more.
//!
//! upstream: vertical-pod-autoscaler/pkg/updater/priority/priority_processor.go
//! (`GetUpdatePriority`), priority/update_priority_calculator.go (`AddPod`, `GetSortedPods`,
//! `PodPriority.Less`), restriction/pods_restriction_factory.go (`GetCreatorMaps`,
//! `isPodDisruptable`), restriction/pods_eviction_restriction.go (`CanEvict`) and
//! restriction/pods_inplace_restriction.go (`CanEvictInPlacingPod`, the resize timeouts).
//! The world ([`crate::sim`]) observes pods, calls these, and evicts or resizes.

use super::config::UpdaterConfig;
use super::recommender::Amounts;
use super::spec::Recommendation;
use crate::engine::{SimDuration, SimTime};

/// upstream: pods_inplace_restriction.go `DeferredResizeUpdateTimeout`: a resize the kubelet
/// deferred this long falls back to eviction.
pub const DEFERRED_RESIZE_TIMEOUT: SimDuration = SimDuration::from_mins(5);
/// upstream: pods_inplace_restriction.go `InProgressResizeUpdateTimeout`.
pub const IN_PROGRESS_RESIZE_TIMEOUT: SimDuration = SimDuration::from_secs(3600);

/// How much a pod wants an update. upstream: priority_processor.go `PodPriority`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PodPriority {
    /// Some request is below the lower bound or above the upper bound (or missing).
    pub outside_range: bool,
    /// Some target is above its request.
    pub scale_up: bool,
    /// Σ over resources of |Σ requests − Σ targets| / Σ requests.
    pub resource_diff: f64,
}

impl PodPriority {
    /// upstream: `PodPriority.Less`: scale-ups before scale-downs, then the larger difference.
    pub fn less(&self, other: &PodPriority) -> bool {
        if self.scale_up != other.scale_up {
            return other.scale_up;
        }
        self.resource_diff < other.resource_diff
    }
}

/// A pod's priority from its containers' requests (a 0 request counts as none, as a container
/// without a request) and the recommendation. upstream: `GetUpdatePriority`, in millis.
pub fn update_priority(requests: &[(&str, Amounts)], recs: &[(String, Recommendation)]) -> PodPriority {
    let mut p = PodPriority::default();
    let (mut req_cpu, mut req_mem, mut rec_cpu, mut rec_mem) = (0f64, 0f64, 0f64, 0f64);
    let (mut any_cpu, mut any_mem) = (false, false);
    for (name, req) in requests {
        let Some((_, r)) = recs.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let mut one = |request: i64, target: i64, lower: i64, upper: i64, total_req: &mut f64, total_rec: &mut f64| {
            *total_rec += target as f64;
            if request > 0 {
                *total_req += request as f64;
                if target > request {
                    p.scale_up = true;
                }
                if request < lower || request > upper {
                    p.outside_range = true;
                }
            } else {
                p.scale_up = true;
                p.outside_range = true;
            }
        };
        if r.cpu {
            any_cpu = true;
            one(
                req.cpu_m,
                r.target.cpu_m,
                r.lower.cpu_m,
                r.upper.cpu_m,
                &mut req_cpu,
                &mut rec_cpu,
            );
        }
        if r.memory {
            any_mem = true;
            // Memory in millis, as upstream's MilliValue: the ratio is the same.
            one(
                req.mem,
                r.target.mem,
                r.lower.mem,
                r.upper.mem,
                &mut req_mem,
                &mut rec_mem,
            );
        }
    }
    // upstream divides by max(totalRequest, 1) in millis: 1 milli is 1/1000 of a unit here.
    if any_cpu {
        let total = req_cpu.max(1.0);
        p.resource_diff += (total - rec_cpu).abs() / total;
    }
    if any_mem {
        let total = (req_mem * 1000.0).max(1.0);
        p.resource_diff += (total - rec_mem * 1000.0).abs() / total;
    }
    p
}

/// What the updater knows about one pod when it decides.
#[derive(Clone, Copy, Debug)]
pub struct PodFacts {
    /// `status.startTime` (the kubelet accepted it).
    pub start_time: Option<SimTime>,
    /// The last OOM kill: when, and how long the container had run before it.
    pub last_oom: Option<(SimTime, SimDuration)>,
}

/// Whether the pod joins the update queue. upstream: update_priority_calculator.go `AddPod`.
pub fn accepts(p: &PodPriority, facts: &PodFacts, now: SimTime, cfg: &UpdaterConfig) -> bool {
    // A container OOM-killed after running less than the threshold ("quick OOM").
    let quick_oom = facts
        .last_oom
        .is_some_and(|(_, ran)| ran < cfg.evict_after_oom_threshold);
    if !p.outside_range && !quick_oom {
        let Some(start) = facts.start_time else {
            return false;
        };
        if now < start + cfg.pod_lifetime_update_threshold {
            return false; // a short-lived pod within its bounds
        }
        if p.resource_diff < cfg.pod_update_threshold {
            return false;
        }
    }
    !(quick_oom && p.resource_diff == 0.0)
}

/// Sorts the queue: highest priority first. upstream sorts with `slices.SortFunc` (unstable);
/// capsim keeps equal pods in the order given (creation order), so runs are reproducible.
pub fn sort_queue<T>(queue: &mut [(PodPriority, T)]) {
    queue.sort_by(|a, b| {
        if b.0.less(&a.0) {
            std::cmp::Ordering::Less
        } else if a.0.less(&b.0) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
}

/// A replica group (the pods of one ReplicaSet or StatefulSet under a VPA), as the updater
/// counts it in one loop. upstream: pods_restriction_factory.go `singleGroupStats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupStats {
    /// The owner's `spec.replicas`.
    pub configured: u32,
    /// `int(configured × --eviction-tolerance)`, truncated.
    pub tolerance: u32,
    pub running: u32,
    pub pending: u32,
    /// Evicted this loop (pending pods not counted).
    pub evicted: u32,
    /// In-place resizes started this loop.
    pub in_place_initiated: u32,
}

impl GroupStats {
    /// The group, or `None` when it has fewer live pods than `minReplicas` (upstream leaves it
    /// out of the creator maps, so none of its pods may be evicted or resized).
    pub fn new(configured: u32, live: u32, pending: u32, min_replicas: u32, cfg: &UpdaterConfig) -> Option<GroupStats> {
        if live < min_replicas {
            return None;
        }
        Some(GroupStats {
            configured,
            tolerance: (f64::from(configured) * cfg.eviction_tolerance) as u32,
            running: live - pending,
            pending,
            evicted: 0,
            in_place_initiated: 0,
        })
    }

    /// upstream: `isPodDisruptable`.
    pub fn disruptable(&self) -> bool {
        let should_be_alive = i64::from(self.configured) - i64::from(self.tolerance);
        let alive = i64::from(self.running) - i64::from(self.evicted + self.in_place_initiated);
        alive > should_be_alive
            || (self.configured == self.running
                && self.tolerance == 0
                && self.evicted == 0
                && self.in_place_initiated == 0)
    }
}

/// The kubelet's answer to a resize (`PodResizePending` reasons, or accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizeStatus {
    /// The node has no room now; the kubelet retries when room frees.
    Deferred,
    /// More than the node's allocatable: never possible on this node.
    Infeasible,
}

/// Whether a pod stuck in a resize falls back to eviction. upstream: `CanEvictInPlacingPod`
/// (the group must be disruptable; Infeasible at once, Deferred after 5 minutes).
pub fn evict_stuck_resize(status: ResizeStatus, since: SimTime, now: SimTime, group: &GroupStats) -> bool {
    if !group.disruptable() {
        return false;
    }
    match status {
        ResizeStatus::Infeasible => true,
        ResizeStatus::Deferred => now - since > DEFERRED_RESIZE_TIMEOUT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(target: i64, lower: i64, upper: i64) -> Recommendation {
        let a = |c| Amounts { cpu_m: c, mem: 0 };
        Recommendation {
            target: a(target),
            lower: a(lower),
            upper: a(upper),
            uncapped_target: a(target),
            cpu: true,
            memory: false,
        }
    }

    #[test]
    fn priority_as_upstream() {
        // priority_processor_test.go-like: request 2 cores, target 4 → scale up, diff 1.0.
        let recs = vec![("c".to_string(), rec(4000, 3000, 5000))];
        let p = update_priority(&[("c", Amounts { cpu_m: 2000, mem: 0 })], &recs);
        assert!(p.scale_up && p.outside_range);
        assert!((p.resource_diff - 1.0).abs() < 1e-12);
        let p = update_priority(&[("c", Amounts { cpu_m: 4000, mem: 0 })], &recs);
        assert!(!p.scale_up && !p.outside_range && p.resource_diff == 0.0);
        let p = update_priority(&[("c", Amounts { cpu_m: 0, mem: 0 })], &recs);
        assert!(p.scale_up && p.outside_range, "no request: scale up, outside");
    }

    #[test]
    fn disruption_budget_as_upstream() {
        let cfg = UpdaterConfig::default();
        // 3 configured, tolerance int(1.5) = 1: alive must stay above 2.
        let mut g = GroupStats::new(3, 3, 0, 2, &cfg).unwrap();
        assert!(g.disruptable());
        g.evicted = 1;
        assert!(!g.disruptable());
        // 1 configured: tolerance 0, every pod running and none evicted yet.
        let mut g = GroupStats::new(1, 1, 0, 1, &cfg).unwrap();
        assert!(g.disruptable());
        g.evicted = 1;
        assert!(!g.disruptable());
        assert!(GroupStats::new(3, 1, 0, 2, &cfg).is_none(), "below minReplicas");
    }
}
