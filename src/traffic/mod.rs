//! Demand generators: requests per second per workload over time.
//! OWNER: traffic helper — placeholder, to be replaced by the full implementation.

use crate::engine::{Rngs, SimTime};

#[derive(Clone, Debug, PartialEq)]
pub struct TrafficModel {
    pub base: f64,
}

impl TrafficModel {
    /// Requests per second at `t`.
    pub fn rps_at(&self, _t: SimTime, _rngs: &Rngs) -> f64 {
        self.base
    }
}

/// Traffic as written in a scenario's `workloads.<name>.traffic`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSpec {
    pub base: f64,
}

impl TrafficModel {
    /// Validates a written traffic spec. `key` names the workload, so each workload gets its own
    /// noise stream.
    pub fn from_spec(spec: &TrafficSpec, _key: &str) -> Result<TrafficModel, String> {
        Ok(TrafficModel { base: spec.base })
    }
}
