//! Deterministic shape factors: `constant`, `diurnal`, `weekly`, `step`, `level`, `ramp`, `surge`.
//!
//! Internally every time is `f64` milliseconds of simulated time, so integer instants are exact.

use serde::Deserialize;

use super::TrafficError;
use crate::model::units::Dur;

const DAY_MS: f64 = 86_400_000.0;

/// One entry of `traffic.shape`, written as a single-key map (`- step: {at: 30m, factor: 2}`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ShapeSpec {
    /// `constant: {factor: 1.5}` — multiply by a fixed factor.
    Constant(ConstantSpec),
    /// `diurnal: {peak: 14h, min: 0.3, period: 24h}` — cosine over the period: factor 1 at `peak`
    /// (time since the start of the run, modulo the period), `min` half a period later.
    Diurnal(DiurnalSpec),
    /// `weekly: {factors: [1,1,1,1,1,0.6,0.5], start: monday}` — one factor per day, Monday
    /// first; `start` is the weekday at simulated time 0 (the run starts at midnight).
    Weekly(WeeklySpec),
    /// `step: {at: 30m, factor: 2}` — factor 1 before `at`, `factor` from `at` on.
    Step(StepSpec),
    /// `level: {at: 1h, rps: 900}` — from `at` on, replace the value computed so far (source and
    /// earlier shapes) by `rps`; later shapes still apply.
    Level(LevelSpec),
    /// `ramp: {from: 10m, to: 20m, factor: 3}` — 1 before `from`, linear to `factor` at `to`,
    /// held after.
    Ramp(RampSpec),
    /// `surge: {at: 30m, rampUp: 10m, hold: 1h, rampDown: 20m, factor: 4}` — 1 before `at`, linear
    /// to `factor` over `rampUp`, held for `hold`, linear back to 1 over `rampDown` (the ramps
    /// default to 0s: a rectangular surge).
    Surge(SurgeSpec),
    /// `noise: {kind: lognormal, cv: 0.08}` — noise may also be written as a shape entry (as in
    /// the design brief's example); it applies on top of all shapes, exactly like `traffic.noise`.
    Noise(super::NoiseSpec),
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConstantSpec {
    pub factor: f64,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DiurnalSpec {
    pub peak: Dur,
    pub min: f64,
    /// Default 24h.
    #[serde(default)]
    pub period: Option<Dur>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeeklySpec {
    pub factors: Vec<f64>,
    /// Weekday at simulated time 0; default monday.
    #[serde(default)]
    pub start: Option<Weekday>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StepSpec {
    pub at: Dur,
    pub factor: f64,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LevelSpec {
    pub at: Dur,
    pub rps: f64,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RampSpec {
    pub from: Dur,
    pub to: Dur,
    pub factor: f64,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SurgeSpec {
    pub at: Dur,
    #[serde(default)]
    pub ramp_up: Dur,
    pub hold: Dur,
    #[serde(default)]
    pub ramp_down: Dur,
    pub factor: f64,
}

/// A validated shape; times in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Shape {
    Constant {
        factor: f64,
    },
    Diurnal {
        peak: f64,
        min: f64,
        period: f64,
    },
    Weekly {
        factors: [f64; 7],
        start_day: usize,
    },
    Step {
        at: f64,
        factor: f64,
    },
    Level {
        at: f64,
        rps: f64,
    },
    Ramp {
        from: f64,
        to: f64,
        factor: f64,
    },
    Surge {
        at: f64,
        up: f64,
        hold: f64,
        down: f64,
        factor: f64,
    },
}

fn ms(d: Dur) -> f64 {
    d.0.as_millis() as f64
}

fn positive(field: String, v: f64) -> Result<f64, TrafficError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(TrafficError::invalid(field, format!("must be > 0, got {v}")))
    }
}

fn non_negative(field: String, v: f64) -> Result<f64, TrafficError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(TrafficError::invalid(field, format!("must be >= 0, got {v}")))
    }
}

impl Shape {
    /// Validates `shape[i]`; messages name the field, e.g. `shape[2].surge.factor`.
    /// Converts a shape entry; `None` for a `noise` entry (handled by the model).
    pub(crate) fn from_spec(spec: &ShapeSpec, i: usize) -> Result<Option<Shape>, TrafficError> {
        let f = |kind: &str, field: &str| format!("shape[{i}].{kind}.{field}");
        Ok(Some(match spec {
            ShapeSpec::Noise(_) => return Ok(None),
            ShapeSpec::Constant(s) => Shape::Constant {
                factor: non_negative(f("constant", "factor"), s.factor)?,
            },
            ShapeSpec::Diurnal(s) => {
                if !(s.min.is_finite() && (0.0..=1.0).contains(&s.min)) {
                    return Err(TrafficError::invalid(
                        f("diurnal", "min"),
                        format!(
                            "must be between 0 and 1 (the trough as a fraction of the peak), got {}",
                            s.min
                        ),
                    ));
                }
                let period = s.period.map_or(DAY_MS, ms);
                if period <= 0.0 {
                    return Err(TrafficError::invalid(f("diurnal", "period"), "must be > 0"));
                }
                Shape::Diurnal {
                    peak: ms(s.peak),
                    min: s.min,
                    period,
                }
            }
            ShapeSpec::Weekly(s) => {
                let factors: [f64; 7] = s.factors.as_slice().try_into().map_err(|_| {
                    TrafficError::invalid(
                        f("weekly", "factors"),
                        format!("needs exactly 7 factors (Monday first), got {}", s.factors.len()),
                    )
                })?;
                for (d, &v) in factors.iter().enumerate() {
                    non_negative(format!("shape[{i}].weekly.factors[{d}]"), v)?;
                }
                Shape::Weekly {
                    factors,
                    start_day: s.start.unwrap_or(Weekday::Monday) as usize,
                }
            }
            ShapeSpec::Step(s) => Shape::Step {
                at: ms(s.at),
                factor: positive(f("step", "factor"), s.factor)?,
            },
            ShapeSpec::Level(s) => Shape::Level {
                at: ms(s.at),
                rps: non_negative(f("level", "rps"), s.rps)?,
            },
            ShapeSpec::Ramp(s) => {
                if s.to < s.from {
                    return Err(TrafficError::invalid(
                        f("ramp", "to"),
                        format!("must not be before `from` ({} < {})", s.to, s.from),
                    ));
                }
                Shape::Ramp {
                    from: ms(s.from),
                    to: ms(s.to),
                    factor: positive(f("ramp", "factor"), s.factor)?,
                }
            }
            ShapeSpec::Surge(s) => Shape::Surge {
                at: ms(s.at),
                up: ms(s.ramp_up),
                hold: ms(s.hold),
                down: ms(s.ramp_down),
                factor: positive(f("surge", "factor"), s.factor)?,
            },
        }))
    }

    /// Applies the shape at `t` (ms) to the value computed so far.
    pub(crate) fn apply(&self, value: f64, t: f64) -> f64 {
        match *self {
            Shape::Constant { factor } => value * factor,
            Shape::Diurnal { peak, min, period } => {
                let phase = std::f64::consts::TAU * (t - peak) / period;
                value * (min + (1.0 - min) * 0.5 * (1.0 + phase.cos()))
            }
            Shape::Weekly { factors, start_day } => {
                let day = (t / DAY_MS).floor().max(0.0) as u64;
                value * factors[((day + start_day as u64) % 7) as usize]
            }
            Shape::Step { at, factor } => {
                if t >= at {
                    value * factor
                } else {
                    value
                }
            }
            Shape::Level { at, rps } => {
                if t >= at {
                    rps
                } else {
                    value
                }
            }
            Shape::Ramp { from, to, factor } => value * ramp(t, from, to, 1.0, factor),
            Shape::Surge {
                at,
                up,
                hold,
                down,
                factor,
            } => {
                let f = if t < at + up + hold {
                    ramp(t, at, at + up, 1.0, factor)
                } else {
                    ramp(t, at + up + hold, at + up + hold + down, factor, 1.0)
                };
                value * f
            }
        }
    }

    /// Instants in `(a, b)` where the shape is not smooth (steps and corners).
    pub(crate) fn breakpoints(&self, a: f64, b: f64, out: &mut Vec<f64>) {
        let mut push = |x: f64| {
            if x > a && x < b {
                out.push(x);
            }
        };
        match *self {
            Shape::Constant { .. } | Shape::Diurnal { .. } => {}
            Shape::Weekly { .. } => {
                let mut d = (a / DAY_MS).floor() + 1.0;
                while d * DAY_MS < b {
                    push(d * DAY_MS);
                    d += 1.0;
                }
            }
            Shape::Step { at, .. } | Shape::Level { at, .. } => push(at),
            Shape::Ramp { from, to, .. } => {
                push(from);
                push(to);
            }
            Shape::Surge { at, up, hold, down, .. } => {
                push(at);
                push(at + up);
                push(at + up + hold);
                push(at + up + hold + down);
            }
        }
    }
}

/// `v0` before `t0`, linear to `v1` at `t1`, `v1` from `t1` on (a step at `t0` when `t0 == t1`).
fn ramp(t: f64, t0: f64, t1: f64, v0: f64, v1: f64) -> f64 {
    if t < t0 {
        v0
    } else if t >= t1 {
        v1
    } else {
        v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    }
}
