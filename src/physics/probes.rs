//! When the kubelet's probes let a started container be Ready.
//!
//! The prober runs one worker per probe from the container's start (pkg/kubelet/prober/
//! worker.go): it probes at once and then every `periodSeconds`, skipping every probe earlier
//! than `initialDelaySeconds` after the start; `successThreshold` consecutive successes make
//! the result a success, `failureThreshold` consecutive failures a failure. Readiness results
//! count only once the startup probe (if any) has succeeded; a startup probe that fails
//! `failureThreshold` times has the container killed and restarted. A container without a
//! readiness probe is Ready as soon as it runs (pkg/kubelet/prober/prober_manager.go: no probe
//! ⇒ the result defaults to success).
//!
//! The application answers its probes once it has warmed up (`startup.warmup` in the Scenario).

use crate::engine::SimDuration;

/// A probe's timing fields (`core/v1 Probe`), defaulted as the API server does
/// (pkg/apis/core/v1/defaults.go `SetDefaults_Probe`: period 10 s, success 1, failure 3;
/// `initialDelaySeconds` 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub initial_delay: SimDuration,
    pub period: SimDuration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

/// `periodSeconds` when unset.
pub const DEFAULT_PERIOD: SimDuration = SimDuration::from_secs(10);
/// `successThreshold` when unset.
pub const DEFAULT_SUCCESS_THRESHOLD: u32 = 1;
/// `failureThreshold` when unset.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;

impl Probe {
    /// The `k`-th probe that counts (k = 0, 1, ...): the first tick of the worker's ticker at or
    /// after the initial delay, then every period.
    fn tick(&self, k: u64) -> SimDuration {
        let period = self.period.as_millis().max(1);
        let first = self.initial_delay.as_millis().div_ceil(period);
        SimDuration::from_millis((first + k) * period)
    }

    /// The first counted probe at or after `t`.
    fn first_at_or_after(&self, t: SimDuration) -> u64 {
        let period = self.period.as_millis().max(1);
        let first = self.initial_delay.as_millis().div_ceil(period);
        t.as_millis().div_ceil(period).saturating_sub(first)
    }
}

/// A container's probes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContainerProbes {
    pub readiness: Option<Probe>,
    pub startup: Option<Probe>,
}

/// What the probes make of one start of the containers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Ready this long after the start.
    Ready(SimDuration),
    /// A startup probe failed its threshold: the container is killed this long after the start.
    Killed(SimDuration),
}

/// When a pod whose containers have `probes` is Ready after its containers start, for an
/// application that answers `warmup` after its start. The pod is Ready when every container is.
pub fn outcome<'a>(probes: impl IntoIterator<Item = &'a ContainerProbes>, warmup: SimDuration) -> Outcome {
    let mut ready = SimDuration::ZERO;
    let mut killed: Option<SimDuration> = None;
    for p in probes {
        let started = match p.startup {
            None => SimDuration::ZERO,
            Some(s) => {
                let k = s.first_at_or_after(warmup);
                if k >= u64::from(s.failure_threshold.max(1)) {
                    let at = s.tick(u64::from(s.failure_threshold.max(1)) - 1);
                    killed = Some(killed.map_or(at, |k: SimDuration| k.min(at)));
                    continue;
                }
                s.tick(k)
            }
        };
        let r = match p.readiness {
            None => started,
            Some(r) => {
                let k = r.first_at_or_after(warmup.max(started));
                r.tick(k + u64::from(r.success_threshold.max(1)) - 1)
            }
        };
        ready = ready.max(r);
    }
    match killed {
        Some(at) => Outcome::Killed(at),
        None => Outcome::Ready(ready),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(delay: u64, period: u64, success: u32, failure: u32) -> Probe {
        Probe {
            initial_delay: SimDuration::from_secs(delay),
            period: SimDuration::from_secs(period),
            success_threshold: success,
            failure_threshold: failure,
        }
    }

    fn s(x: u64) -> SimDuration {
        SimDuration::from_secs(x)
    }

    #[test]
    fn no_probe_is_ready_at_start() {
        assert_eq!(outcome(&[ContainerProbes::default()], s(30)), Outcome::Ready(s(0)));
    }

    #[test]
    fn readiness_waits_for_the_tick_after_warmup_and_the_threshold() {
        let p = ContainerProbes {
            readiness: Some(probe(5, 10, 1, 3)),
            startup: None,
        };
        // Ticks at 0, 10, 20...; the 0 s tick is before the initial delay: first counted at 10 s.
        assert_eq!(outcome(&[p], s(0)), Outcome::Ready(s(10)));
        assert_eq!(outcome(&[p], s(12)), Outcome::Ready(s(20)));
        let p2 = ContainerProbes {
            readiness: Some(probe(0, 5, 3, 3)),
            startup: None,
        };
        // First success at 15 s, then two more periods.
        assert_eq!(outcome(&[p2], s(13)), Outcome::Ready(s(25)));
    }

    #[test]
    fn a_slow_app_fails_its_startup_probe() {
        let p = ContainerProbes {
            readiness: Some(probe(0, 10, 1, 3)),
            startup: Some(probe(0, 10, 1, 3)),
        };
        assert_eq!(outcome(&[p], s(15)), Outcome::Ready(s(20)));
        // Startup probes at 0, 10, 20 fail for an app that needs 25 s: killed at 20 s.
        assert_eq!(outcome(&[p], s(25)), Outcome::Killed(s(20)));
    }
}
