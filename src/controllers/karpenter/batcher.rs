//! The provisioning batcher: waits for pending pods to stop arriving before solving, so pods that
//! arrive together share NodeClaims.
//!
//! upstream: kubernetes-sigs/karpenter pkg/controllers/provisioning/batcher.go: the window opens on
//! the first trigger, is extended by each new trigger, and closes after `batchIdleDuration`
//! without a trigger or `batchMaxDuration` after it opened, whichever comes first. The world
//! calls [`Batcher::observe`] at every reconcile (1 s), so window edges land on whole seconds.

use crate::engine::{SimDuration, SimTime};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batcher {
    /// When the open window started, and when the last trigger arrived.
    window: Option<(SimTime, SimTime)>,
}

impl Batcher {
    /// Records whether a trigger (a newly pending pod) arrived at `now`, and returns true when
    /// the window closes now (time to solve).
    pub fn observe(&mut self, now: SimTime, triggered: bool, idle: SimDuration, max: SimDuration) -> bool {
        match (&mut self.window, triggered) {
            (None, false) => false,
            (None, true) => {
                self.window = Some((now, now));
                false
            }
            (Some((start, last)), trig) => {
                if trig {
                    *last = now;
                }
                let (start, last) = (*start, *last);
                if now.since(last) >= idle || now.since(start) >= max {
                    self.window = None;
                    true
                } else {
                    false
                }
            }
        }
    }

    pub fn is_open(&self) -> bool {
        self.window.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds triggers at the given seconds and returns the seconds at which the window closed.
    fn closes(triggers: &[u64], until: u64, idle: u64, max: u64) -> Vec<u64> {
        let mut b = Batcher::default();
        (0..=until)
            .filter(|&s| {
                b.observe(
                    SimTime::from_secs(s),
                    triggers.contains(&s),
                    SimDuration::from_secs(idle),
                    SimDuration::from_secs(max),
                )
            })
            .collect()
    }

    #[test]
    fn windows() {
        // One pod at t=3: idle 1 s → closes at 4.
        assert_eq!(closes(&[3], 20, 1, 10), vec![4]);
        // Pods every second from 0 to 4: last trigger at 4 → closes at 5.
        assert_eq!(closes(&[0, 1, 2, 3, 4], 20, 1, 10), vec![5]);
        // A steady stream: the max duration cuts the window at 10, a new one opens at 11 and is
        // cut at 21.
        let stream: Vec<u64> = (0..=30).collect();
        assert_eq!(closes(&stream, 30, 1, 10), vec![10, 21]);
        // Idle 3 s: triggers at 0 and 2 → closes at 5.
        assert_eq!(closes(&[0, 2], 20, 3, 10), vec![5]);
    }
}
