//! Latency distributions for every stage of the pipeline.
//!
//! A scenario writes a stage latency as a bare duration (`"10s"`, constant) or a one-key map:
//! `{constant: 10s}`, `{uniform: {min: 200s, max: 320s}}`, `{normal: {mean: 30s, stddev: 5s}}`,
//! `{lognormal: {median: 8s, p95: 25s}}`, `{empirical: [20s, 25s, 90s]}`. [`DistributionSpec`] is
//! that raw form; [`Distribution::from_spec`] validates it. Samples are whole milliseconds drawn
//! from a caller-supplied stream (common random numbers: one stream per consumer).

pub mod defaults;

use super::stats::{Z95, normal_cdf, normal_pdf, normal_quantile};
use crate::engine::{SimDuration, StreamRng};
use rand::RngExt;
use rand_distr::StandardNormal;
use std::fmt;

/// A distribution of durations.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    Constant(SimDuration),
    /// Uniform over whole milliseconds in `[min, max]`.
    Uniform {
        min: SimDuration,
        max: SimDuration,
    },
    /// Normal, truncated at zero (negative draws are redrawn).
    Normal {
        mean: SimDuration,
        stddev: SimDuration,
    },
    /// Log-normal with the given median and 95th percentile:
    /// `mu = ln(median)`, `sigma = ln(p95 / median) / 1.645`.
    LogNormal {
        median: SimDuration,
        p95: SimDuration,
    },
    /// One of the listed values, each equally likely.
    Empirical(Vec<SimDuration>),
}

/// Why a written distribution is invalid; names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DistributionError {
    #[error("{field}: {message}")]
    BadDuration { field: String, message: String },
    #[error("{field}: must not be negative, got {value:?}")]
    Negative { field: String, value: String },
    #[error("uniform: min ({min}) must not be greater than max ({max})")]
    MinAboveMax { min: SimDuration, max: SimDuration },
    #[error("lognormal: p95 ({p95}) must not be less than median ({median})")]
    P95BelowMedian { median: SimDuration, p95: SimDuration },
    #[error("lognormal.median: must be greater than 0s")]
    ZeroMedian,
    #[error("empirical: the list must not be empty")]
    EmptyEmpirical,
}

/// Draws are capped here (about 31 years) so that heavy tails cannot overflow time arithmetic.
const MAX_SAMPLE_MS: f64 = 1e12;
/// Truncated-normal redraws before giving up and returning zero. With a non-negative mean each
/// draw is accepted with probability ≥ 1/2, so 64 misses have probability ≤ 2⁻⁶⁴.
const MAX_REDRAWS: usize = 64;

fn ms_f64(d: SimDuration) -> f64 {
    d.as_millis() as f64
}

fn from_ms_f64(ms: f64) -> SimDuration {
    if ms.is_nan() {
        return SimDuration::ZERO;
    }
    SimDuration::from_millis(ms.clamp(0.0, MAX_SAMPLE_MS).round() as u64)
}

impl Distribution {
    pub fn constant(d: SimDuration) -> Self {
        Distribution::Constant(d)
    }

    pub fn uniform(min: SimDuration, max: SimDuration) -> Result<Self, DistributionError> {
        if min > max {
            return Err(DistributionError::MinAboveMax { min, max });
        }
        Ok(Distribution::Uniform { min, max })
    }

    pub fn normal(mean: SimDuration, stddev: SimDuration) -> Self {
        Distribution::Normal { mean, stddev }
    }

    pub fn lognormal(median: SimDuration, p95: SimDuration) -> Result<Self, DistributionError> {
        if median.is_zero() {
            return Err(DistributionError::ZeroMedian);
        }
        if p95 < median {
            return Err(DistributionError::P95BelowMedian { median, p95 });
        }
        Ok(Distribution::LogNormal { median, p95 })
    }

    pub fn empirical(values: Vec<SimDuration>) -> Result<Self, DistributionError> {
        if values.is_empty() {
            return Err(DistributionError::EmptyEmpirical);
        }
        Ok(Distribution::Empirical(values))
    }

    /// `(mu, sigma)` of the underlying normal, in ln-milliseconds.
    fn lognormal_params(median: SimDuration, p95: SimDuration) -> (f64, f64) {
        let m = ms_f64(median).max(1.0);
        let sigma = (ms_f64(p95).max(m) / m).ln() / Z95;
        (m.ln(), sigma)
    }

    /// One draw, in whole milliseconds. Never panics, even for hand-built invalid variants
    /// (a reversed uniform is read as its sorted bounds, an empty list gives zero).
    pub fn sample(&self, rng: &mut StreamRng) -> SimDuration {
        match self {
            Distribution::Constant(d) => *d,
            Distribution::Uniform { min, max } => {
                let (lo, hi) = if min <= max { (*min, *max) } else { (*max, *min) };
                SimDuration::from_millis(rng.random_range(lo.as_millis()..=hi.as_millis()))
            }
            Distribution::Normal { mean, stddev } => {
                let (m, s) = (ms_f64(*mean), ms_f64(*stddev));
                for _ in 0..MAX_REDRAWS {
                    let z: f64 = rng.sample(StandardNormal);
                    let x = m + s * z;
                    if x >= 0.0 {
                        return from_ms_f64(x);
                    }
                }
                SimDuration::ZERO
            }
            Distribution::LogNormal { median, p95 } => {
                if median.is_zero() {
                    return SimDuration::ZERO;
                }
                let (mu, sigma) = Self::lognormal_params(*median, *p95);
                let z: f64 = rng.sample(StandardNormal);
                from_ms_f64((mu + sigma * z).exp())
            }
            Distribution::Empirical(values) => {
                if values.is_empty() {
                    return SimDuration::ZERO;
                }
                values[rng.random_range(0..values.len())]
            }
        }
    }

    /// The mean, rounded to the millisecond (the truncated normal's mean is above `mean`).
    pub fn mean(&self) -> SimDuration {
        match self {
            Distribution::Constant(d) => *d,
            Distribution::Uniform { min, max } => from_ms_f64((ms_f64(*min) + ms_f64(*max)) / 2.0),
            Distribution::Normal { mean, stddev } => {
                let (m, s) = (ms_f64(*mean), ms_f64(*stddev));
                if s == 0.0 {
                    return *mean;
                }
                // Truncated at 0: E = m + s·φ(α)/(1 − Φ(α)), α = −m/s.
                let alpha = -m / s;
                from_ms_f64(m + s * normal_pdf(alpha) / (1.0 - normal_cdf(alpha)))
            }
            Distribution::LogNormal { median, p95 } => {
                if median.is_zero() {
                    return SimDuration::ZERO;
                }
                let (mu, sigma) = Self::lognormal_params(*median, *p95);
                from_ms_f64((mu + sigma * sigma / 2.0).exp())
            }
            Distribution::Empirical(values) => {
                if values.is_empty() {
                    return SimDuration::ZERO;
                }
                from_ms_f64(values.iter().map(|v| ms_f64(*v)).sum::<f64>() / values.len() as f64)
            }
        }
    }

    /// The `p`-quantile (`p` clamped to 0..=1), rounded to the millisecond. Unbounded tails at
    /// `p = 1` give the 31-year sample cap. For an empirical list: the smallest value with at
    /// least a `p` share of the list at or below it.
    pub fn quantile(&self, p: f64) -> SimDuration {
        let p = if p.is_nan() { 0.5 } else { p.clamp(0.0, 1.0) };
        match self {
            Distribution::Constant(d) => *d,
            Distribution::Uniform { min, max } => {
                let (lo, hi) = (ms_f64(*min.min(max)), ms_f64(*min.max(max)));
                from_ms_f64(lo + p * (hi - lo))
            }
            Distribution::Normal { mean, stddev } => {
                let (m, s) = (ms_f64(*mean), ms_f64(*stddev));
                if s == 0.0 {
                    return *mean;
                }
                // Truncated at 0: Q(p) = m + s·Φ⁻¹(Φ(α) + p(1 − Φ(α))).
                let base = normal_cdf(-m / s);
                from_ms_f64(m + s * normal_quantile(base + p * (1.0 - base)))
            }
            Distribution::LogNormal { median, p95 } => {
                if median.is_zero() {
                    return SimDuration::ZERO;
                }
                let (mu, sigma) = Self::lognormal_params(*median, *p95);
                from_ms_f64((mu + sigma * normal_quantile(p)).exp())
            }
            Distribution::Empirical(values) => {
                if values.is_empty() {
                    return SimDuration::ZERO;
                }
                let mut sorted = values.clone();
                sorted.sort_unstable();
                let rank = (p * sorted.len() as f64).ceil() as usize;
                sorted[rank.clamp(1, sorted.len()) - 1]
            }
        }
    }

    /// Validates a written distribution.
    pub fn from_spec(spec: &DistributionSpec) -> Result<Distribution, String> {
        Distribution::try_from_spec(spec).map_err(|e| e.to_string())
    }

    /// As [`Distribution::from_spec`], with the typed error.
    pub fn try_from_spec(spec: &DistributionSpec) -> Result<Distribution, DistributionError> {
        match spec {
            DistributionSpec::Constant(d) => Ok(Distribution::Constant(d.parse("constant")?)),
            DistributionSpec::Uniform { min, max } => {
                Distribution::uniform(min.parse("uniform.min")?, max.parse("uniform.max")?)
            }
            DistributionSpec::Normal { mean, stddev } => Ok(Distribution::normal(
                mean.parse("normal.mean")?,
                stddev.parse("normal.stddev")?,
            )),
            DistributionSpec::LogNormal { median, p95 } => {
                Distribution::lognormal(median.parse("lognormal.median")?, p95.parse("lognormal.p95")?)
            }
            DistributionSpec::Empirical(values) => {
                let parsed = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.parse(&format!("empirical[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                Distribution::empirical(parsed)
            }
        }
    }
}

/// Written back in the scenario syntax (`lognormal{median: 8s, p95: 25s}`), for reports.
impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Distribution::Constant(d) => write!(f, "{d}"),
            Distribution::Uniform { min, max } => write!(f, "uniform{{min: {min}, max: {max}}}"),
            Distribution::Normal { mean, stddev } => write!(f, "normal{{mean: {mean}, stddev: {stddev}}}"),
            Distribution::LogNormal { median, p95 } => write!(f, "lognormal{{median: {median}, p95: {p95}}}"),
            Distribution::Empirical(values) => {
                f.write_str("empirical[")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A duration as written (`"30s"`), parsed and checked by [`Distribution::from_spec`] so that the
/// error can name the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationText(pub String);

impl DurationText {
    fn parse(&self, field: &str) -> Result<SimDuration, DistributionError> {
        let s = self.0.trim();
        if s.starts_with('-') {
            return Err(DistributionError::Negative {
                field: field.to_string(),
                value: s.to_string(),
            });
        }
        crate::model::units::parse_duration(s).map_err(|e| DistributionError::BadDuration {
            field: field.to_string(),
            message: e.to_string(),
        })
    }
}

/// A number written where a duration belongs: Go's `time.ParseDuration` accepts a unitless `0`;
/// any other number needs a unit.
fn bare_number<E: serde::de::Error>(v: f64) -> Result<DurationText, E> {
    if v == 0.0 {
        return Ok(DurationText("0s".to_string()));
    }
    Err(E::custom(format!(
        "a bare number ({v}) has no unit; write \"{v}s\" or \"{v}ms\""
    )))
}

impl<'de> serde::Deserialize<'de> for DurationText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DurationText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration with a unit, such as \"30s\" or \"2m\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DurationText, E> {
                Ok(DurationText(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DurationText, E> {
                bare_number(v as f64)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DurationText, E> {
                bare_number(v as f64)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<DurationText, E> {
                bare_number(v)
            }
        }
        d.deserialize_any(V)
    }
}

/// A distribution as written in a scenario (`"10s"`, `{uniform: {min: 200s, max: 320s}}`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DistributionSpec {
    /// `"10s"` or `{constant: 10s}`.
    Constant(DurationText),
    Uniform {
        min: DurationText,
        max: DurationText,
    },
    Normal {
        mean: DurationText,
        stddev: DurationText,
    },
    LogNormal {
        median: DurationText,
        p95: DurationText,
    },
    Empirical(Vec<DurationText>),
}

impl DistributionSpec {
    /// A constant written as text, e.g. `DistributionSpec::constant("10s")`.
    pub fn constant(text: &str) -> Self {
        DistributionSpec::Constant(DurationText(text.to_string()))
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UniformFields {
    min: DurationText,
    max: DurationText,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NormalFields {
    mean: DurationText,
    stddev: DurationText,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LogNormalFields {
    median: DurationText,
    p95: DurationText,
}

const KINDS: &[&str] = &["constant", "uniform", "normal", "lognormal", "empirical"];

impl<'de> serde::Deserialize<'de> for DistributionSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DistributionSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a duration (\"10s\") or one of {constant: D}, {uniform: {min: D, max: D}}, \
                     {normal: {mean: D, stddev: D}}, {lognormal: {median: D, p95: D}}, {empirical: [D, ...]}",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DistributionSpec, E> {
                Ok(DistributionSpec::constant(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DistributionSpec, E> {
                bare_number(v as f64).map(DistributionSpec::Constant)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DistributionSpec, E> {
                bare_number(v as f64).map(DistributionSpec::Constant)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<DistributionSpec, E> {
                bare_number(v).map(DistributionSpec::Constant)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<DistributionSpec, A::Error> {
                use serde::de::Error;
                let Some(kind) = map.next_key::<String>()? else {
                    return Err(A::Error::custom(
                        "empty map: expected one of constant, uniform, normal, lognormal, empirical",
                    ));
                };
                let spec = match kind.as_str() {
                    "constant" => DistributionSpec::Constant(map.next_value()?),
                    "uniform" => {
                        let f: UniformFields = map.next_value()?;
                        DistributionSpec::Uniform { min: f.min, max: f.max }
                    }
                    "normal" => {
                        let f: NormalFields = map.next_value()?;
                        DistributionSpec::Normal {
                            mean: f.mean,
                            stddev: f.stddev,
                        }
                    }
                    "lognormal" | "logNormal" => {
                        let f: LogNormalFields = map.next_value()?;
                        DistributionSpec::LogNormal {
                            median: f.median,
                            p95: f.p95,
                        }
                    }
                    "empirical" => DistributionSpec::Empirical(map.next_value()?),
                    other => return Err(A::Error::unknown_variant(other, KINDS)),
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(A::Error::custom(format!(
                        "a distribution has exactly one kind; found {kind:?} and {extra:?}"
                    )));
                }
                Ok(spec)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Rngs;

    fn s(secs: u64) -> SimDuration {
        SimDuration::from_secs(secs)
    }

    #[test]
    fn constant_ignores_the_stream() {
        let mut rng = Rngs::new(1).stream("t", 0);
        assert_eq!(Distribution::constant(s(10)).sample(&mut rng), s(10));
    }

    #[test]
    fn lognormal_quantiles_hit_median_and_p95() {
        let d = Distribution::lognormal(s(8), s(25)).expect("valid");
        assert_eq!(d.quantile(0.5), s(8));
        assert_eq!(d.quantile(0.95), s(25));
        // mean = exp(mu + sigma²/2): sigma = ln(25/8)/1.6449 = 0.69271, mean = 8 s × e^0.23993 = 10.169 s.
        let mean = d.mean().as_millis();
        assert!((10_160..=10_180).contains(&mean), "{mean}");
    }

    #[test]
    fn truncated_normal_mean() {
        // mean 0, sd 10 s truncated at 0: half-normal mean = sd·√(2/π) = 7.979 s.
        let d = Distribution::normal(SimDuration::ZERO, s(10));
        let m = d.mean().as_millis();
        assert!((7_975..=7_984).contains(&m), "{m}");
        // Its median: Φ⁻¹(0.75) × 10 s = 6.745 s.
        let q = d.quantile(0.5).as_millis();
        assert!((6_740..=6_750).contains(&q), "{q}");
    }

    #[test]
    fn empirical_quantile_is_a_listed_value() {
        let d = Distribution::empirical(vec![s(90), s(20), s(25)]).expect("valid");
        assert_eq!(d.quantile(0.0), s(20));
        assert_eq!(d.quantile(0.34), s(25));
        assert_eq!(d.quantile(0.5), s(25));
        assert_eq!(d.quantile(1.0), s(90));
        assert_eq!(d.mean(), SimDuration::from_millis(45_000));
    }

    #[test]
    fn hand_built_invalid_variants_do_not_panic() {
        let mut rng = Rngs::new(3).stream("t", 0);
        let reversed = Distribution::Uniform { min: s(5), max: s(1) };
        let x = reversed.sample(&mut rng);
        assert!(x >= s(1) && x <= s(5));
        assert_eq!(Distribution::Empirical(vec![]).sample(&mut rng), SimDuration::ZERO);
        assert_eq!(
            Distribution::LogNormal {
                median: SimDuration::ZERO,
                p95: s(1)
            }
            .sample(&mut rng),
            SimDuration::ZERO
        );
    }

    #[test]
    fn display_round_trips_the_syntax() {
        let d = Distribution::uniform(s(200), s(320)).expect("valid");
        assert_eq!(d.to_string(), "uniform{min: 3m20s, max: 5m20s}");
        assert_eq!(
            Distribution::Empirical(vec![s(1), s(2)]).to_string(),
            "empirical[1s, 2s]"
        );
    }
}
