//! Spot interruptions: the Spot Instance Advisor band → a monthly probability → an hourly rate →
//! a sampled time to interruption.
//!
//! The advisor's "frequency of interruption represents the rate at which Spot has reclaimed
//! capacity during the trailing month", published in bands `<5%`, `5-10%`, `10-15%`, `15-20%`,
//! `>20%` (AWS Spot Instance Advisor, `spot-advisor-data.json`; the catalog's
//! `spot_interruption_band`). capsim reads a band as the probability that one instance is
//! interrupted within a month and models interruptions as a Poisson process (memoryless, constant
//! hazard): `λ = −ln(1 − p) / 730 h`, so that `P(interrupted within 730 h) = p` exactly.
//!
//! Representative value per band (our choice, documented here because the feed gives only bands):
//! the midpoint of each closed band — 2.5 %, 7.5 %, 12.5 %, 17.5 % — and 25 % for the open `>20%`
//! band, i.e. the same 5-point width above its floor. The feed's `ranges` give bucket edges `max`
//! 5, 11, 16, 22, 100 (public copies of spot-advisor-data.json): each value above lies inside its
//! bucket, and nothing public narrows `>20%` further.
//! Scenarios can override the probability.

use crate::engine::{SimDuration, StreamRng};
use rand::RngExt;
use rand_distr::Exp1;
use std::fmt;

/// The notice EC2 gives before it interrupts a spot instance.
/// upstream: docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html
/// ("a warning that is issued two minutes before Amazon EC2 stops or terminates your Spot Instance").
pub const SPOT_INTERRUPTION_NOTICE: SimDuration = SimDuration::from_secs(120);

/// Hours in a month, AWS's billing convention (365 × 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// A Spot Instance Advisor frequency-of-interruption band (per month).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InterruptionBand {
    /// `<5%`
    Under5,
    /// `5-10%`
    From5To10,
    /// `10-15%`
    From10To15,
    /// `15-20%`
    From15To20,
    /// `>20%`
    Over20,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown spot interruption band {0:?} (expected <5%, 5-10%, 10-15%, 15-20% or >20%)")]
pub struct BandError(pub String);

impl InterruptionBand {
    pub const ALL: [InterruptionBand; 5] = [
        InterruptionBand::Under5,
        InterruptionBand::From5To10,
        InterruptionBand::From10To15,
        InterruptionBand::From15To20,
        InterruptionBand::Over20,
    ];

    /// Parses the advisor's label.
    pub fn parse(s: &str) -> Result<InterruptionBand, BandError> {
        match s.trim() {
            "<5%" => Ok(InterruptionBand::Under5),
            "5-10%" => Ok(InterruptionBand::From5To10),
            "10-15%" => Ok(InterruptionBand::From10To15),
            "15-20%" => Ok(InterruptionBand::From15To20),
            ">20%" => Ok(InterruptionBand::Over20),
            other => Err(BandError(other.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InterruptionBand::Under5 => "<5%",
            InterruptionBand::From5To10 => "5-10%",
            InterruptionBand::From10To15 => "10-15%",
            InterruptionBand::From15To20 => "15-20%",
            InterruptionBand::Over20 => ">20%",
        }
    }

    /// Representative probability that an instance is interrupted within a month (see module docs).
    pub fn monthly_probability(self) -> f64 {
        match self {
            InterruptionBand::Under5 => 0.025,
            InterruptionBand::From5To10 => 0.075,
            InterruptionBand::From10To15 => 0.125,
            InterruptionBand::From15To20 => 0.175,
            InterruptionBand::Over20 => 0.25,
        }
    }

    /// Interruptions per instance-hour.
    pub fn rate_per_hour(self) -> f64 {
        rate_per_hour(self.monthly_probability())
    }
}

impl fmt::Display for InterruptionBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Constant hazard rate (per hour) with which an instance is interrupted within
/// [`HOURS_PER_MONTH`] with probability `monthly_probability` (clamped to `[0, 1)`).
pub fn rate_per_hour(monthly_probability: f64) -> f64 {
    let p = if monthly_probability.is_nan() {
        0.0
    } else {
        monthly_probability.clamp(0.0, 1.0 - 1e-12)
    };
    -(1.0 - p).ln() / HOURS_PER_MONTH
}

/// Time from launch until EC2 interrupts the instance (the moment of interruption; the notice
/// arrives [`SPOT_INTERRUPTION_NOTICE`] earlier), exponential with `rate_per_hour`.
/// `None` when the rate is zero (never interrupted). Draws are capped at about 31 years.
pub fn sample_time_to_interruption(rate_per_hour: f64, rng: &mut StreamRng) -> Option<SimDuration> {
    if rate_per_hour.is_nan() || rate_per_hour <= 0.0 {
        return None;
    }
    let e: f64 = rng.sample(Exp1);
    let ms = (e / rate_per_hour * 3_600_000.0).clamp(0.0, 1e12);
    Some(SimDuration::from_millis(ms.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Rngs;

    #[test]
    fn bands_parse_and_print() {
        for b in InterruptionBand::ALL {
            assert_eq!(InterruptionBand::parse(b.as_str()), Ok(b));
        }
        assert!(InterruptionBand::parse("20%").is_err());
    }

    #[test]
    fn band_to_rate() {
        // <5%: p = 0.025 → λ = −ln(0.975)/730 = 0.025318/730 = 3.4682e-5 per hour.
        let r = InterruptionBand::Under5.rate_per_hour();
        assert!((r - 3.4682e-5).abs() < 1e-8, "{r}");
        // >20%: p = 0.25 → λ = −ln(0.75)/730 = 0.287682/730 = 3.9409e-4 per hour.
        let r = InterruptionBand::Over20.rate_per_hour();
        assert!((r - 3.9409e-4).abs() < 1e-7, "{r}");
        // Round trip: 1 − e^(−λ·730) = p.
        for b in InterruptionBand::ALL {
            let back = 1.0 - (-b.rate_per_hour() * HOURS_PER_MONTH).exp();
            assert!((back - b.monthly_probability()).abs() < 1e-12);
        }
        // Bands are ordered.
        let rates: Vec<f64> = InterruptionBand::ALL.iter().map(|b| b.rate_per_hour()).collect();
        assert!(rates.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(rate_per_hour(0.0), 0.0);
    }

    #[test]
    fn sampled_interruptions_match_the_monthly_probability() {
        // 20 000 instances in the >20% band: the share interrupted within 730 h should be 25 %
        // (binomial sd 0.3 %, tolerance 1.5 %).
        let rate = InterruptionBand::Over20.rate_per_hour();
        let mut rng = Rngs::new(11).stream("spot", 0);
        let month = SimDuration::from_secs(730 * 3600);
        let n = 20_000;
        let hit = (0..n)
            .filter(|_| sample_time_to_interruption(rate, &mut rng).is_some_and(|t| t <= month))
            .count();
        let share = hit as f64 / n as f64;
        assert!((share - 0.25).abs() < 0.015, "{share}");
        assert_eq!(sample_time_to_interruption(0.0, &mut rng), None);
    }
}
