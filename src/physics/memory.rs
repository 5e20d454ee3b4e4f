//! The kubelet's memory rules: a container above its memory limit is OOM-killed and restarted
//! after the CrashLoopBackOff delay; a node whose pods use more memory than it can hold is under
//! memory pressure and the kubelet evicts pods in its ranking.

use crate::engine::SimDuration;

/// First restart delay of a crashing container (pkg/kubelet/kubelet.go `backOffPeriod`).
pub const BACKOFF_INITIAL: SimDuration = SimDuration::from_secs(10);
/// The delay's ceiling (pkg/kubelet/kubelet.go `MaxContainerBackOff`).
pub const BACKOFF_MAX: SimDuration = SimDuration::from_secs(300);
/// A container that runs this long without crashing starts again from [`BACKOFF_INITIAL`]:
/// the backoff entry expires after twice the maximum (client-go util/flowcontrol/backoff.go
/// `hasExpired`).
pub const BACKOFF_RESET: SimDuration = SimDuration::from_secs(600);

/// How often the kubelet's eviction manager checks node pressure
/// (pkg/kubelet/eviction/eviction_manager.go, `monitoringInterval` = 10 s); it evicts at most one
/// pod per check.
pub const EVICTION_MONITORING_INTERVAL: SimDuration = SimDuration::from_secs(10);

/// The restart delay after the `restarts`-th consecutive crash (1 for the first): 10 s doubling
/// to 5 min.
pub fn backoff(restarts: u32) -> SimDuration {
    let n = restarts.saturating_sub(1).min(16);
    let ms = BACKOFF_INITIAL.as_millis().saturating_mul(1u64 << n);
    SimDuration::from_millis(ms.min(BACKOFF_MAX.as_millis()))
}

/// A pod the eviction manager may choose, for [`eviction_victim`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvictionCandidate {
    pub usage: f64,
    pub request: f64,
    pub priority: i32,
}

/// The pod the kubelet evicts first under memory pressure (pkg/kubelet/eviction/helpers.go
/// `rankMemoryPressure`: `orderedBy(exceedMemoryRequests, priority, memory)`): pods using more
/// than they request before the others, then lower priority first, then the largest usage above
/// request. Ties keep the earlier candidate. `None` for no candidates.
pub fn eviction_victim(candidates: &[EvictionCandidate]) -> Option<usize> {
    let key = |c: &EvictionCandidate| (c.usage > c.request, std::cmp::Reverse(c.priority), c.usage - c.request);
    let mut best: Option<usize> = None;
    for (i, c) in candidates.iter().enumerate() {
        best = match best {
            None => Some(i),
            Some(b) => {
                let (ke, kp, ku) = key(c);
                let (be, bp, bu) = key(&candidates[b]);
                let better = (ke, kp).cmp(&(be, bp)).then(ku.total_cmp(&bu)).is_gt();
                Some(if better { i } else { b })
            }
        };
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_five_minutes() {
        let s: Vec<u64> = (1..=7).map(|k| backoff(k).as_millis() / 1000).collect();
        assert_eq!(s, [10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(backoff(1000), BACKOFF_MAX);
    }

    #[test]
    fn eviction_ranks_over_request_then_priority_then_excess() {
        let c = |usage: f64, request: f64, priority: i32| EvictionCandidate {
            usage,
            request,
            priority,
        };
        // Within its request: evicted last even at low priority.
        assert_eq!(eviction_victim(&[c(100.0, 200.0, -10), c(300.0, 200.0, 100)]), Some(1));
        // Both above request: lower priority first.
        assert_eq!(eviction_victim(&[c(900.0, 200.0, 100), c(300.0, 200.0, 0)]), Some(1));
        // Same priority: larger excess first.
        assert_eq!(eviction_victim(&[c(300.0, 200.0, 0), c(900.0, 200.0, 0)]), Some(1));
        assert_eq!(eviction_victim(&[]), None);
    }
}
