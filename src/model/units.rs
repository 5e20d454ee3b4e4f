//! Kubernetes quantities (`250m`, `512Mi`, `129e6`) and Go durations (`90s`, `1h30m`).
//! OWNER: units helper — placeholder signatures, to be replaced by the full implementation.

use crate::engine::SimDuration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(pub String);

/// A parsed Kubernetes resource quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantity {
    /// The exact value in nano-units.
    nanos: i128,
}

impl Quantity {
    pub fn parse(s: &str) -> Result<Quantity, UnitError> {
        s.trim()
            .parse::<i64>()
            .map(|v| Quantity {
                nanos: i128::from(v) * 1_000_000_000,
            })
            .map_err(|_| UnitError(format!("invalid quantity {s:?}")))
    }
    /// Value in thousandths, rounded up (Kubernetes `MilliValue`): CPU in millicores.
    pub fn milli_value(&self) -> i64 {
        (self.nanos.div_euclid(1_000_000) + i128::from(self.nanos.rem_euclid(1_000_000) != 0)) as i64
    }
    /// Whole value, rounded up (Kubernetes `Value`): memory in bytes.
    pub fn value(&self) -> i64 {
        (self.nanos.div_euclid(1_000_000_000) + i128::from(self.nanos.rem_euclid(1_000_000_000) != 0)) as i64
    }
    pub fn as_f64(&self) -> f64 {
        self.nanos as f64 / 1e9
    }
}

/// Parses a Go duration (`time.ParseDuration` syntax) into milliseconds.
pub fn parse_duration(s: &str) -> Result<SimDuration, UnitError> {
    s.strip_suffix('s')
        .and_then(|v| v.parse::<u64>().ok())
        .map(SimDuration::from_secs)
        .ok_or_else(|| UnitError(format!("invalid duration {s:?}")))
}

/// A duration field in a capsim document: a Go-duration string such as `"90s"` or `"1h30m"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dur(pub SimDuration);

impl<'de> serde::Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s).map(Dur).map_err(serde::de::Error::custom)
    }
}

/// A quantity field in a capsim document: `"250m"`, `"512Mi"`, or a bare number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Qty(pub Quantity);

impl<'de> serde::Deserialize<'de> for Qty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Quantity::parse(&s).map(Qty).map_err(serde::de::Error::custom)
    }
}
