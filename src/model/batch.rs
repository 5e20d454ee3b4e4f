//! Batch workloads: pods that arrive over time, run for a while and leave (Jobs, CI runners,
//! queue consumers).

use super::resources::Resources;
use crate::cloud::Distribution;
use crate::engine::{SimDuration, SimTime};

/// One batch pod as given by a trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchJob {
    pub arrival: SimTime,
    /// CPU millicores and memory bytes (pods = 1).
    pub requests: Resources,
    pub duration: SimDuration,
}

/// Where a batch workload's pods come from.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchArrivals {
    /// A Poisson process of `rate_per_hour` arrivals between `start` and `end`, each pod with the
    /// template's requests scaled by a factor drawn from `size` (1.0 when absent) and a run time
    /// drawn from `runtime`.
    Generated {
        rate_per_hour: f64,
        start: SimTime,
        end: Option<SimTime>,
        runtime: Distribution,
    },
    /// Explicit jobs, sorted by arrival.
    Trace(Vec<BatchJob>),
}
