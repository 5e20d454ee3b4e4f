//! Latency distributions for every stage of the pipeline.
//! OWNER: cloud helper — placeholder, to be replaced by the full implementation.

use crate::engine::{SimDuration, StreamRng};

/// A distribution of durations.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    Constant(SimDuration),
}

impl Distribution {
    pub fn constant(d: SimDuration) -> Self {
        Distribution::Constant(d)
    }
    pub fn sample(&self, _rng: &mut StreamRng) -> SimDuration {
        match self {
            Distribution::Constant(d) => *d,
        }
    }
}

/// A distribution as written in a scenario (`"10s"`, `{uniform: {min: 200s, max: 320s}}`, ...).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct DistributionSpec(pub String);

impl Distribution {
    /// Validates a written distribution.
    pub fn from_spec(spec: &DistributionSpec) -> Result<Distribution, String> {
        crate::model::units::parse_duration(&spec.0)
            .map(Distribution::Constant)
            .map_err(|e| e.to_string())
    }
}
