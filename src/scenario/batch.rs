//! `spec.workloads.<job>.batch`: the arrivals of a batch workload, generated or from a trace file.
//!
//! Trace CSV: a header with the columns `arrival`, `cpu`, `memory`, `duration` (others ignored);
//! `arrival` and `duration` are Go durations (`90s`) or plain seconds, `cpu` and `memory` are
//! Kubernetes quantities (`500m`, `2Gi`) or plain numbers (cores, bytes). Rows must be in arrival
//! order. A malformed row is an error naming its line.

use crate::cloud::Distribution;
use crate::cloud::latency::DistributionSpec;
use crate::engine::{SimDuration, SimTime};
use crate::model::batch::{BatchArrivals, BatchJob};
use crate::model::units::{Quantity, parse_duration};
use crate::model::{PodTemplate, Resources};
use serde::Deserialize;
use std::path::Path;

/// Largest trace accepted.
pub const MAX_TRACE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BatchSpec {
    /// Poisson arrivals per hour.
    pub rate_per_hour: Option<f64>,
    pub start: Option<super::schema::DurationField>,
    pub end: Option<super::schema::DurationField>,
    /// Run time of each pod.
    pub runtime: Option<DistributionSpec>,
    /// A CSV of jobs, relative to the scenario file.
    pub trace: Option<String>,
}

/// Validates a batch entry. Errors are `(field suffix, message)`.
pub fn arrivals(
    spec: &BatchSpec,
    _template: &PodTemplate,
    base_dir: Option<&Path>,
) -> Result<BatchArrivals, (String, String)> {
    match (&spec.trace, spec.rate_per_hour) {
        (Some(_), Some(_)) => Err((String::new(), "set either trace or ratePerHour, not both".into())),
        (None, None) => Err((String::new(), "set ratePerHour (with runtime) or trace".into())),
        (Some(file), None) => {
            if spec.runtime.is_some() || spec.start.is_some() || spec.end.is_some() {
                return Err((
                    ".trace".into(),
                    "a trace gives each job's arrival and run time; drop runtime/start/end".into(),
                ));
            }
            let path = base_dir.map_or_else(|| Path::new(file).to_path_buf(), |b| b.join(file));
            read_trace(&path)
                .map(BatchArrivals::Trace)
                .map_err(|m| (".trace".into(), m))
        }
        (None, Some(rate)) => {
            if !(rate.is_finite() && rate >= 0.0) {
                return Err((".ratePerHour".into(), format!("must be >= 0, got {rate}")));
            }
            let runtime = spec
                .runtime
                .as_ref()
                .ok_or((".runtime".to_string(), "required with ratePerHour".to_string()))?;
            let runtime = Distribution::from_spec(runtime).map_err(|m| (".runtime".to_string(), m))?;
            let start = SimTime::ZERO + spec.start.map_or(SimDuration::ZERO, |d| d.0);
            let end = spec.end.map(|d| SimTime::ZERO + d.0);
            if end.is_some_and(|e| e < start) {
                return Err((".end".into(), "must not be before start".into()));
            }
            Ok(BatchArrivals::Generated {
                rate_per_hour: rate,
                start,
                end,
                runtime,
            })
        }
    }
}

fn seconds_or_duration(s: &str) -> Result<SimDuration, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(SimDuration::from_secs_f64(x)),
        Ok(x) => Err(format!("must be >= 0 seconds, got {x}")),
        Err(_) => parse_duration(s).map_err(|e| e.to_string()),
    }
}

/// Reads a jobs trace.
pub fn read_trace(path: &Path) -> Result<Vec<BatchJob>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if meta.len() > MAX_TRACE_BYTES {
        return Err(format!(
            "{shown}: {} bytes is over the {MAX_TRACE_BYTES}-byte limit",
            meta.len()
        ));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("{shown}: {e}"))?;
    let headers = rdr.headers().map_err(|e| format!("{shown}: {e}"))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{shown}: missing column {name:?} (need arrival, cpu, memory, duration)"))
    };
    let (ia, ic, im, id) = (col("arrival")?, col("cpu")?, col("memory")?, col("duration")?);
    let mut jobs = Vec::new();
    let mut last = SimTime::ZERO;
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| format!("{shown}: line {line}: {e}"))?;
        let field = |k: usize, name: &str| {
            rec.get(k)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{shown}: line {line}: {name} is empty"))
        };
        let at = field(ia, "arrival")?;
        let arrival = SimTime::ZERO
            + seconds_or_duration(at).map_err(|m| format!("{shown}: line {line}: arrival {at:?}: {m}"))?;
        if arrival > SimTime::ZERO + super::defaults::MAX_DURATION {
            return Err(format!(
                "{shown}: line {line}: arrival {at:?} is later than any simulated span ({}): arrivals are offsets from the run's start, not epoch times (seconds or milliseconds)",
                super::defaults::MAX_DURATION
            ));
        }
        if arrival < last {
            return Err(format!("{shown}: line {line}: arrival goes back in time ({at})"));
        }
        last = arrival;
        let q = |k: usize, name: &str| -> Result<Quantity, String> {
            let v = field(k, name)?;
            Quantity::parse(v).map_err(|e| format!("{shown}: line {line}: {name} {v:?}: {e}"))
        };
        let cpu = q(ic, "cpu")?;
        let mem = q(im, "memory")?;
        if cpu.milli_value() < 0 || mem.value() < 0 {
            return Err(format!("{shown}: line {line}: requests must be >= 0"));
        }
        let d = field(id, "duration")?;
        let duration = seconds_or_duration(d).map_err(|m| format!("{shown}: line {line}: duration {d:?}: {m}"))?;
        jobs.push(BatchJob {
            arrival,
            requests: Resources::new(cpu.milli_value(), mem.value(), 1),
            duration,
        });
    }
    Ok(jobs)
}
