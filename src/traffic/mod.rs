//! Demand generators: requests per second per workload, a pure function of simulated time.
//!
//! A workload's `traffic` is a *source* (a constant `base` rate or a `replay`ed trace), then
//! `shape` factors applied in order, then optional `noise`. Every value is a deterministic
//! function of (run seed, workload key, time), so the simulation may evaluate it at any instant
//! in any order and two runs with the same seed see the same demand; two scenarios that differ only
//! in autoscaler settings see the same noise (common random numbers).
//!
//! ```yaml
//! traffic:
//!   base: 400                                   # requests/s (or `replay:`, see below)
//!   shape:                                      # applied in order, each a one-key map
//!     - constant: {factor: 1.2}                 # × 1.2
//!     - diurnal: {peak: 14h, min: 0.3}          # cosine, period 24h (`period:`), 1 at 14:00, 0.3 at 02:00
//!     - weekly: {factors: [1, 1, 1, 1, 1, 0.6, 0.5], start: monday}   # per day, Monday first
//!     - step: {at: 30m, factor: 2}              # × 2 from 30m on
//!     - level: {at: 2h, rps: 900}               # from 2h on the value so far becomes 900
//!     - ramp: {from: 10m, to: 20m, factor: 3}   # linear 1 → 3 over [10m, 20m], then 3
//!     - surge: {at: 30m, rampUp: 10m, hold: 1h, rampDown: 20m, factor: 4}
//!     - square: {period: 1h, high: 24, low: 3, offset: 90s}   # × 24 for 30m, × 3 for 30m, from 90s
//!   noise: {kind: lognormal, cv: 0.08, interval: 10s}   # or {kind: poisson, interval: 1s}
//! ```
//!
//! Times are Go durations since the start of the run; the run starts at midnight, on the
//! weekday given by `weekly.start` (default Monday). Shapes:
//!
//! | shape | factor at time t |
//! |---|---|
//! | `constant {factor}` | `factor` (≥ 0) |
//! | `diurnal {peak, min, period=24h}` | `min + (1 − min)·(1 + cos(2π(t − peak)/period))/2`, `0 ≤ min ≤ 1` |
//! | `weekly {factors[7], start}` | `factors[(day(t) + start) mod 7]`, day boundaries at midnight |
//! | `step {at, factor}` | 1 before `at`, `factor` (> 0) from `at` on |
//! | `level {at, rps}` | replaces the value so far by `rps` (≥ 0) from `at` on |
//! | `ramp {from, to, factor}` | 1 before `from`, linear to `factor` at `to` (≥ `from`), then `factor` |
//! | `surge {at, rampUp, hold, rampDown, factor}` | 1 → `factor` linearly over `rampUp`, held for `hold`, back to 1 over `rampDown` |
//! | `square {period, high, low, offset=0s}` | `high` (≥ 0) when `(t − offset) mod period < period/2`, else `low` (≥ 0); periodic on both sides of `offset` |
//!
//! Noise (one kind per workload):
//! - `lognormal {cv, interval=10s}`: the rate is multiplied, per `interval` bin of simulated time,
//!   by `exp(σZ − σ²/2)` with `σ² = ln(1 + cv²)`, Z standard normal: mean exactly 1, coefficient of
//!   variation `cv` (≥ 0). Z is drawn from the stream `traffic-lognormal/<workload>` keyed by the
//!   bin index.
//! - `poisson {interval=1s}`: the number of arrivals in each bin is drawn from
//!   Poisson(∫ rate over the bin) (stream `traffic-poisson/<workload>`, keyed by the bin index) and
//!   the rate over the bin is that count divided by the bin length.
//!
//! `replay` (see [`replay::ReplaySpec`] for every field) reads a CSV or a Prometheus
//! `query_range` response when the spec is converted ([`TrafficModel::from_spec_in`]); shapes and
//! noise apply on top of it. `replay.arrivals: poisson` is Poisson noise with the trace's sample
//! step as the bin.
//!
//! Validation errors name the field relative to `traffic`, e.g. `shape[2].surge.factor: must be
//! > 0, got -1`; trace errors name the file and the line (CSV) or JSON path (Prometheus).

pub mod replay;
pub mod rfc3339;
pub mod shape;

use std::path::Path;
use std::sync::Arc;

use rand_distr::{Distribution, Poisson, StandardNormal};
use serde::Deserialize;

use crate::engine::{Rngs, SimTime};
use crate::model::units::Dur;
pub use replay::{ReplaySpec, Trace};
use shape::Shape;
pub use shape::ShapeSpec;

/// Default bin of log-normal noise.
pub const DEFAULT_LOGNORMAL_INTERVAL_MS: u64 = 10_000;
/// Default bin of Poisson noise.
pub const DEFAULT_POISSON_INTERVAL_MS: u64 = 1_000;
/// Pieces longer than this are split when averaging smooth shapes (diurnal): 3-point
/// Gauss–Legendre on 15 minutes of a 24 h cosine is exact to ~1e-12.
const MAX_PIECE_MS: f64 = 900_000.0;

/// A traffic spec that cannot be used: which field or which trace line, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrafficError {
    /// A field of the spec is invalid; `field` is relative to `traffic` (`shape[2].surge.factor`).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The trace file cannot be read.
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// A trace's content is malformed; `location` is `line N` (CSV) or a JSON path.
    #[error("{file}: {location}: {message}")]
    Trace {
        file: String,
        location: String,
        message: String,
    },
}

impl TrafficError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> TrafficError {
        TrafficError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<TrafficError> for String {
    fn from(e: TrafficError) -> String {
        e.to_string()
    }
}

/// Traffic as written in a scenario's `workloads.<name>.traffic` (see the module docs).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrafficSpec {
    /// Constant source rate, requests/s. Exactly one of `base` and `replay`.
    #[serde(default)]
    pub base: Option<f64>,
    /// A recorded trace as the source.
    #[serde(default)]
    pub replay: Option<ReplaySpec>,
    #[serde(default)]
    pub shape: Vec<ShapeSpec>,
    #[serde(default)]
    pub noise: Option<NoiseSpec>,
}

/// `traffic.noise`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum NoiseSpec {
    /// `{kind: lognormal, cv: 0.08, interval: 10s}`
    Lognormal {
        cv: f64,
        #[serde(default)]
        interval: Option<Dur>,
    },
    /// `{kind: poisson, interval: 1s}`
    Poisson {
        #[serde(default)]
        interval: Option<Dur>,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Source {
    Constant(f64),
    Replay(Arc<Trace>),
}

#[derive(Clone, Debug, PartialEq)]
struct LogNormal {
    sigma: f64,
    interval_ms: u64,
    stream: String,
}

/// What [`TrafficModel::rps_at_memo`] keeps between calls: (bin, value) of the last bin drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NoiseMemo(Option<(u64, f64)>);

#[derive(Clone, Debug, PartialEq)]
struct PoissonBins {
    interval_ms: u64,
    stream: String,
}

/// A validated traffic model: requests per second of one workload as a function of time.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficModel {
    source: Source,
    shapes: Vec<Shape>,
    lognormal: Option<LogNormal>,
    poisson: Option<PoissonBins>,
}

fn interval_ms(d: Option<Dur>, default: u64, field: &str) -> Result<u64, TrafficError> {
    match d {
        None => Ok(default),
        Some(d) if d.0.is_zero() => Err(TrafficError::invalid(field, "must be > 0")),
        Some(d) => Ok(d.0.as_millis()),
    }
}

impl TrafficModel {
    /// A constant rate with no shape or noise.
    pub fn constant(rps: f64) -> TrafficModel {
        TrafficModel {
            source: Source::Constant(rps.max(0.0)),
            shapes: Vec::new(),
            lognormal: None,
            poisson: None,
        }
    }

    /// Validates a written traffic spec that reads no file (a `replay` is read relative to the
    /// current directory). `key` names the workload, so each workload gets its own noise stream.
    pub fn from_spec(spec: &TrafficSpec, key: &str) -> Result<TrafficModel, String> {
        TrafficModel::from_spec_in(spec, key, None).map_err(String::from)
    }

    /// Validates a written traffic spec, reading a `replay` trace relative to `base_dir` (the
    /// scenario file's directory).
    pub fn from_spec_in(spec: &TrafficSpec, key: &str, base_dir: Option<&Path>) -> Result<TrafficModel, TrafficError> {
        let source = match (spec.base, &spec.replay) {
            (Some(_), Some(_)) => {
                return Err(TrafficError::invalid("base", "set either base or replay, not both"));
            }
            (None, None) => {
                return Err(TrafficError::invalid(
                    "base",
                    "missing: set base (requests/s) or replay (a trace)",
                ));
            }
            (Some(b), None) => {
                if !(b.is_finite() && b >= 0.0) {
                    return Err(TrafficError::invalid(
                        "base",
                        format!("must be >= 0 requests/s, got {b}"),
                    ));
                }
                Source::Constant(b)
            }
            (None, Some(r)) => Source::Replay(Arc::new(replay::load(r, base_dir)?)),
        };
        let shapes = spec
            .shape
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Shape::from_spec(s, i).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        let mut lognormal = None;
        let mut poisson = None;
        // `traffic.noise`, and noise written as shape entries: at most one of each kind.
        let noises =
            spec.noise
                .iter()
                .map(|n| ("noise".to_string(), n))
                .chain(spec.shape.iter().enumerate().filter_map(|(i, s)| match s {
                    ShapeSpec::Noise(n) => Some((format!("shape[{i}].noise"), n)),
                    _ => None,
                }));
        for (field, noise) in noises {
            match noise {
                NoiseSpec::Lognormal { cv, interval } => {
                    if lognormal.is_some() {
                        return Err(TrafficError::invalid(
                            field,
                            "log-normal noise is given twice; keep one",
                        ));
                    }
                    if !(cv.is_finite() && *cv >= 0.0) {
                        return Err(TrafficError::invalid(
                            format!("{field}.cv"),
                            format!("must be >= 0, got {cv}"),
                        ));
                    }
                    lognormal = Some(LogNormal {
                        sigma: cv.mul_add(*cv, 1.0).ln().sqrt(),
                        interval_ms: interval_ms(
                            *interval,
                            DEFAULT_LOGNORMAL_INTERVAL_MS,
                            &format!("{field}.interval"),
                        )?,
                        stream: format!("traffic-lognormal/{key}"),
                    });
                }
                NoiseSpec::Poisson { interval } => {
                    if poisson.is_some() {
                        return Err(TrafficError::invalid(field, "Poisson noise is given twice; keep one"));
                    }
                    poisson = Some(PoissonBins {
                        interval_ms: interval_ms(*interval, DEFAULT_POISSON_INTERVAL_MS, &format!("{field}.interval"))?,
                        stream: format!("traffic-poisson/{key}"),
                    });
                }
            }
        }
        if let (Some(r), Source::Replay(trace)) = (&spec.replay, &source)
            && r.arrivals == Some(replay::Arrivals::Poisson)
        {
            if poisson.is_some() {
                return Err(TrafficError::invalid(
                    "replay.arrivals",
                    "poisson arrivals are already set by noise.kind: poisson; keep one",
                ));
            }
            poisson = Some(PoissonBins {
                interval_ms: (trace.step_ms().round() as u64).max(1),
                stream: format!("traffic-poisson/{key}"),
            });
        }
        Ok(TrafficModel {
            source,
            shapes,
            lognormal,
            poisson,
        })
    }

    /// The constant source rate, if the source is `base`.
    pub fn base(&self) -> Option<f64> {
        match self.source {
            Source::Constant(b) => Some(b),
            Source::Replay(_) => None,
        }
    }

    /// The replayed trace, if the source is `replay`.
    pub fn trace(&self) -> Option<&Trace> {
        match &self.source {
            Source::Replay(t) => Some(t),
            Source::Constant(_) => None,
        }
    }

    /// Requests per second at `t` without noise (source and shapes): the expected demand.
    pub fn expected_rps_at(&self, t: SimTime) -> f64 {
        self.det(t.as_millis() as f64)
    }

    /// [`rps_at`](Self::rps_at) for a caller asking at increasing times (the service tick):
    /// `memo` keeps the last noise bin's log-normal factor, or the last Poisson bin's rate, so a
    /// bin's draw is made once instead of at every tick inside it. Same values as `rps_at`.
    pub fn rps_at_memo(&self, t: SimTime, rngs: &Rngs, memo: &mut NoiseMemo) -> f64 {
        let t = t.as_millis();
        if let Some(p) = &self.poisson {
            let k = t / p.interval_ms;
            return match memo.0 {
                Some((bin, v)) if bin == k => v,
                _ => {
                    let v = self.poisson_bin_rps(p, k, rngs);
                    memo.0 = Some((k, v));
                    v
                }
            };
        }
        let tf = t as f64;
        let noise = match &self.lognormal {
            Some(ln) if ln.sigma != 0.0 => {
                let bin = (tf.max(0.0) as u64) / ln.interval_ms;
                match memo.0 {
                    Some((b, f)) if b == bin => f,
                    _ => {
                        let f = self.lognormal_factor(tf, rngs);
                        memo.0 = Some((bin, f));
                        f
                    }
                }
            }
            _ => 1.0,
        };
        self.det(tf) * noise
    }

    /// Requests per second at `t`, noise included.
    pub fn rps_at(&self, t: SimTime, rngs: &Rngs) -> f64 {
        let t = t.as_millis();
        match &self.poisson {
            Some(p) => self.poisson_bin_rps(p, t / p.interval_ms, rngs),
            None => self.rate(t as f64, rngs),
        }
    }

    /// Mean requests per second over `[from, to)`, noise included (the same values [`rps_at`]
    /// gives, integrated). Equals `rps_at(from)` when `to <= from`.
    ///
    /// [`rps_at`]: TrafficModel::rps_at
    pub fn mean_rps_over(&self, from: SimTime, to: SimTime, rngs: &Rngs) -> f64 {
        if to <= from {
            return self.rps_at(from, rngs);
        }
        let (a, b) = (from.as_millis(), to.as_millis());
        match &self.poisson {
            Some(p) => {
                let i = p.interval_ms;
                let mut sum = 0.0;
                for k in a / i..b.div_ceil(i) {
                    let lo = (k * i).max(a);
                    let hi = ((k + 1) * i).min(b);
                    sum += (hi - lo) as f64 * self.poisson_bin_rps(p, k, rngs);
                }
                sum / (b - a) as f64
            }
            None => self.mean_rate(a as f64, b as f64, rngs),
        }
    }

    /// Source × shapes at `t` ms.
    fn det(&self, t: f64) -> f64 {
        let v = match &self.source {
            Source::Constant(b) => *b,
            Source::Replay(tr) => tr.value(t),
        };
        self.shapes.iter().fold(v, |v, s| s.apply(v, t)).max(0.0)
    }

    fn lognormal_factor(&self, t: f64, rngs: &Rngs) -> f64 {
        match &self.lognormal {
            None => 1.0,
            Some(ln) if ln.sigma == 0.0 => 1.0,
            Some(ln) => {
                let bin = (t.max(0.0) as u64) / ln.interval_ms;
                let z: f64 = StandardNormal.sample(&mut rngs.stream(&ln.stream, bin));
                (ln.sigma * z - 0.5 * ln.sigma * ln.sigma).exp()
            }
        }
    }

    /// Rate before Poisson arrivals: source × shapes × log-normal factor.
    fn rate(&self, t: f64, rngs: &Rngs) -> f64 {
        self.det(t) * self.lognormal_factor(t, rngs)
    }

    /// Mean of [`rate`](Self::rate) over `[a, b)` ms: split at every step, corner and noise bin
    /// edge, then 3-point Gauss–Legendre per piece (exact for the piecewise-polynomial shapes;
    /// its nodes avoid the piece ends, so steps at piece ends need no left/right limits).
    fn mean_rate(&self, a: f64, b: f64, rngs: &Rngs) -> f64 {
        let mut pts = vec![a, b];
        for s in &self.shapes {
            s.breakpoints(a, b, &mut pts);
        }
        if let Source::Replay(tr) = &self.source {
            tr.breakpoints(a, b, &mut pts);
        }
        if let Some(ln) = &self.lognormal {
            let i = ln.interval_ms as f64;
            let mut e = (a / i).floor() * i + i;
            while e < b {
                pts.push(e);
                e += i;
            }
        }
        pts.sort_by(f64::total_cmp);
        pts.dedup();
        const X: f64 = 0.774_596_669_241_483_4; // sqrt(3/5)
        let mut sum = 0.0;
        for w in pts.windows(2) {
            let (lo, hi) = (w[0], w[1]);
            let n = ((hi - lo) / MAX_PIECE_MS).ceil().max(1.0);
            let h = (hi - lo) / n;
            for j in 0..n as usize {
                let c = lo + h * (j as f64 + 0.5);
                let r = 0.5 * h;
                // The pieces split at noise-bin edges, so the three nodes share one log-normal
                // factor: drawn once (the same products as `rate` at each node).
                let noise = self.lognormal_factor(c, rngs);
                let at = |t: f64| self.det(t) * noise;
                let f = 5.0 * (at(c - X * r) + at(c + X * r)) + 8.0 * at(c);
                sum += f / 18.0 * h;
            }
        }
        sum / (b - a)
    }

    /// The rate over Poisson bin `k`: Poisson(∫ rate over the bin) arrivals spread over the bin.
    fn poisson_bin_rps(&self, p: &PoissonBins, k: u64, rngs: &Rngs) -> f64 {
        let i = p.interval_ms as f64;
        let secs = i / 1000.0;
        let lambda = self.mean_rate(k as f64 * i, (k + 1) as f64 * i, rngs) * secs;
        if lambda.is_nan() || lambda <= 0.0 {
            return 0.0;
        }
        match Poisson::new(lambda) {
            Ok(dist) => dist.sample(&mut rngs.stream(&p.stream, k)) / secs,
            // Beyond rand_distr's largest λ (~1e19 arrivals per bin) the count's relative spread
            // is < 1e-9: use the mean.
            Err(_) => lambda / secs,
        }
    }
}
