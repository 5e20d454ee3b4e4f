//! Exponential node-group backoff after failed scale-ups.
//!
//! upstream: kubernetes/autoscaler cluster-autoscaler/utils/backoff/exponential_backoff.go
//! (read at 5f4d5836): the first failure backs a group off for the initial duration; a failure
//! while the group is still backed off keeps the current duration ("multiple concurrent
//! scale-ups failing shouldn't cause backoff duration to increase exponentially"); a failure after
//! the backoff expired doubles the previous duration, capped at the maximum; the record is dropped
//! (so the next failure starts again at the initial duration) once the last failure is older than
//! the reset timeout (`RemoveStaleBackoffData`, called every loop from clusterstate).

use crate::engine::{SimDuration, SimTime};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffInfo {
    pub duration: SimDuration,
    pub until: SimTime,
    pub last_failed: SimTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    initial: SimDuration,
    max: SimDuration,
    reset_timeout: SimDuration,
    info: BTreeMap<String, BackoffInfo>,
}

impl Backoff {
    pub fn new(initial: SimDuration, max: SimDuration, reset_timeout: SimDuration) -> Backoff {
        Backoff {
            initial,
            max,
            reset_timeout,
            info: BTreeMap::new(),
        }
    }

    /// Records a failure of `group` at `now`; returns when the backoff ends.
    pub fn backoff(&mut self, group: &str, now: SimTime) -> SimTime {
        let mut duration = self.initial;
        if let Some(prev) = self.info.get(group) {
            duration = prev.duration;
            // upstream: `backoffInfo.backoffUntil.Before(currentTime)`: not backed off now.
            if prev.until < now {
                duration = SimDuration(prev.duration.0.saturating_mul(2)).min(self.max);
            }
        }
        let until = now + duration;
        self.info.insert(
            group.to_string(),
            BackoffInfo {
                duration,
                until,
                last_failed: now,
            },
        );
        until
    }

    /// upstream: `IsBackedOff`: `backoffUntil.After(currentTime)`.
    pub fn is_backed_off(&self, group: &str, now: SimTime) -> bool {
        self.info.get(group).is_some_and(|b| b.until > now)
    }

    pub fn info(&self, group: &str) -> Option<&BackoffInfo> {
        self.info.get(group)
    }

    /// upstream: `RemoveStaleBackoffData`: `lastFailedExecution + resetTimeout` before now.
    pub fn remove_stale(&mut self, now: SimTime) {
        let reset = self.reset_timeout;
        self.info.retain(|_, b| b.last_failed + reset >= now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: u64) -> SimTime {
        SimTime::from_secs(min * 60)
    }

    #[test]
    fn doubles_after_expiry_holds_during_backoff_caps_and_resets() {
        let mut b = Backoff::new(
            SimDuration::from_mins(5),
            SimDuration::from_mins(30),
            SimDuration::from_mins(180),
        );
        // first failure at 0: 5 m
        assert_eq!(b.backoff("g", t(0)), t(5));
        assert!(b.is_backed_off("g", t(4)));
        assert!(!b.is_backed_off("g", t(5)));
        // failure at 3 m, still backed off: duration stays 5 m, until 8 m
        assert_eq!(b.backoff("g", t(3)), t(8));
        // failure at 10 m (expired): 10 m → until 20 m; then 20 m; then capped at 30 m
        assert_eq!(b.backoff("g", t(10)), t(20));
        assert_eq!(b.backoff("g", t(21)), t(41));
        assert_eq!(b.backoff("g", t(42)), t(72));
        assert_eq!(b.info("g").map(|i| i.duration), Some(SimDuration::from_mins(30)));
        // 3 h after the last failure (42 m) the record survives; one ms later it is gone
        b.remove_stale(t(42 + 180));
        assert!(b.info("g").is_some());
        b.remove_stale(t(42 + 180) + SimDuration(1));
        assert!(b.info("g").is_none());
        assert_eq!(b.backoff("g", t(300)), t(305));
        assert!(!b.is_backed_off("other", t(300)));
    }
}
