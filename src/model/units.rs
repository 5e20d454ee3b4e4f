//! Kubernetes quantities (`250m`, `512Mi`, `129e6`) and Go durations (`90s`, `1h30m`).
//!
//! # Quantities
//!
//! [`Quantity::parse`] follows `ParseQuantity` in k8s.io/apimachinery/pkg/api/resource/quantity.go:
//!
//! ```text
//! <quantity>        ::= <sign>? <number> <suffix>
//! <number>          ::= <digits> | <digits> "." <digits>? | "." <digits>
//! <suffix>          ::= <binarySI> | <decimalSI> | <decimalExponent>
//! <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei              (powers of 1024)
//! <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E   (powers of 1000)
//! <decimalExponent> ::= ("e" | "E") <sign>? <digits>            (129e6, 1E3, 5e-3)
//! ```
//!
//! Values are kept exactly as signed nano-units in an `i128` (upstream keeps at most nano precision
//! and rounds finer values up, away from zero: `inf.RoundUp` in `ParseQuantity`), so `0.1 + 0.2`
//! style values round exactly as upstream. [`Quantity::milli_value`] and [`Quantity::value`] round
//! up like upstream `MilliValue()` / `Value()` (`1.0001m` is 2 millicores; `0.5` bytes is 1 byte).
//!
//! capsim limits (deliberate, documented): at most [`MAX_SIGNIFICANT_DIGITS`] significant digits,
//! magnitude at most `i64::MAX` whole units (so [`Quantity::value`] is exact), and a number must
//! have at least one digit (`"Gi"` and `"."` are rejected).
//!
//! Display prints the canonical form upstream would serialize (`CanonicalizeBytes`): no fractional
//! digits, the largest suffix that loses no precision, in the suffix family it was written in
//! (`1.5` → `1500m`, `1.5Gi` → `1536Mi`, `129e6` → `129e6`; binary values below 1024 or not whole
//! fall back to decimal SI as upstream does).
//!
//! # Durations
//!
//! [`parse_duration`] follows Go's `time.ParseDuration`: a sequence of decimal numbers, each with
//! optional fraction and a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), e.g. `90s`, `1h30m`,
//! `1.5h`, `500ms`; a bare `0` is allowed. capsim adds two rules: durations cannot be negative, and
//! must be a whole number of milliseconds (the simulation clock's resolution), so `1500us` is
//! rejected while `1000us` is `1ms`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::engine::SimDuration;

/// A malformed quantity or duration; the message says what is wrong and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(pub String);

/// At most this many significant digits in a written quantity (capsim limit; keeps arithmetic in
/// `i128` exact; every accepted magnitude needs at most 28 at nano precision).
pub const MAX_SIGNIFICANT_DIGITS: usize = 30;

const NANO: i128 = 1_000_000_000;
/// Largest magnitude accepted, in nano-units: `i64::MAX` whole units.
const MAX_NANOS: i128 = i64::MAX as i128 * NANO;

const QUANTITY_HELP: &str = "expected <number><suffix> such as 250m, 1.5, 2, 512Mi, 1G, 129e6; \
    suffixes: binary Ki Mi Gi Ti Pi Ei, decimal n u m k M G T P E, or a decimal exponent e<N>/E<N>";

/// How a quantity was written; decides its canonical display (upstream `resource.Format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantityFormat {
    /// `Ki`, `Mi`, ... (upstream `BinarySI`).
    BinarySi,
    /// `m`, `k`, `M`, ... or no suffix (upstream `DecimalSI`).
    DecimalSi,
    /// `e3`, `E6`, ... (upstream `DecimalExponent`).
    DecimalExponent,
}

/// A parsed Kubernetes resource quantity: an exact value in nano-units plus the written format.
///
/// Equality, ordering and hashing compare the value only (`1Ki == 1024`).
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    /// The exact value in nano-units.
    nanos: i128,
    format: QuantityFormat,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}
impl Eq for Quantity {}
impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}
impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.nanos.hash(state);
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity::ZERO
    }
}

fn err(s: &str, what: impl fmt::Display) -> UnitError {
    UnitError(format!("invalid quantity {s:?}: {what}; {QUANTITY_HELP}"))
}

/// Divides rounding away from zero (upstream `inf.RoundUp`); `d > 0`.
fn div_away(n: i128, d: i128) -> i128 {
    let q = n / d;
    if n % d == 0 {
        q
    } else if n > 0 {
        q + 1
    } else {
        q - 1
    }
}

/// `10^e` for `0 <= e <= 38`.
fn pow10(e: u32) -> Option<i128> {
    10i128.checked_pow(e)
}

impl Quantity {
    pub const ZERO: Quantity = Quantity {
        nanos: 0,
        format: QuantityFormat::DecimalSi,
    };

    /// Parses a quantity exactly as Kubernetes `resource.ParseQuantity` does (see module docs).
    pub fn parse(s: &str) -> Result<Quantity, UnitError> {
        if s.is_empty() {
            return Err(err(s, "empty string"));
        }
        if let Some((i, _)) = s.char_indices().find(|(_, c)| c.is_whitespace()) {
            return Err(err(
                s,
                format_args!("unexpected whitespace at byte {i} (spaces are not allowed)"),
            ));
        }
        let bytes = s.as_bytes();
        let mut pos = 0;
        let mut negative = false;
        match bytes[0] {
            b'-' => {
                negative = true;
                pos = 1;
            }
            b'+' => pos = 1,
            _ => {}
        }
        let int_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let int_digits = &s[int_start..pos];
        let mut frac_digits = "";
        if pos < bytes.len() && bytes[pos] == b'.' {
            pos += 1;
            let frac_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            frac_digits = &s[frac_start..pos];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(err(
                s,
                "missing number: a quantity starts with digits (e.g. 1Gi, not Gi)",
            ));
        }
        let suffix = &s[pos..];
        let (base2_exp, exp10, format) = interpret_suffix(s, suffix, pos)?;

        // Significant digits D and decimal scale `scale` with value = D * 10^scale nano-units.
        let all: String = format!("{int_digits}{frac_digits}");
        let trimmed_lead = all.trim_start_matches('0');
        let mut scale: i128 = i128::from(exp10) + 9 - frac_digits.len() as i128;
        let mut digits = trimmed_lead;
        while digits.len() > 1 && digits.ends_with('0') {
            digits = &digits[..digits.len() - 1];
            scale += 1;
        }
        if digits.is_empty() {
            return Ok(Quantity { nanos: 0, format });
        }
        if digits.len() > MAX_SIGNIFICANT_DIGITS {
            return Err(err(
                s,
                format_args!("more than {MAX_SIGNIFICANT_DIGITS} significant digits"),
            ));
        }
        let too_large = || {
            err(
                s,
                format_args!("value too large (capsim accepts at most {} units)", i64::MAX),
            )
        };
        // `digits` are all ASCII digits and at most 30 of them: fits in i128 (max ~1.7e38).
        let d: i128 = digits.parse::<i128>().map_err(|_| err(s, "bad digits"))?;
        let bin: i128 = 1i128 << base2_exp; // base2_exp <= 60, so no overflow
        let nanos = if scale >= 0 {
            if scale as usize + digits.len() > 40 {
                return Err(too_large());
            }
            let p = pow10(scale as u32).ok_or_else(too_large)?;
            d.checked_mul(p)
                .and_then(|v| v.checked_mul(bin))
                .ok_or_else(too_large)?
        } else {
            // A fraction finer than a nano-unit: round up. 10^-scale beyond 1e38 leaves a tiny
            // positive value that rounds up to one nano-unit. d * bin overflows only for a binary
            // suffix on a number with more than ~20 significant digits.
            let num = d
                .checked_mul(bin)
                .ok_or_else(|| err(s, "too many significant digits for a binary suffix with a fraction"))?;
            match u32::try_from(-scale).ok().and_then(pow10) {
                Some(p) => div_away(num, p),
                None => 1,
            }
        };
        if nanos > MAX_NANOS {
            return Err(too_large());
        }
        Ok(Quantity {
            nanos: if negative { -nanos } else { nanos },
            format,
        })
    }

    /// A quantity of exactly `nanos` nano-units, displayed in decimal SI.
    pub fn from_nanos(nanos: i128) -> Quantity {
        Quantity {
            nanos: nanos.clamp(-MAX_NANOS, MAX_NANOS),
            format: QuantityFormat::DecimalSi,
        }
    }
    /// `m` thousandths (millicores), decimal SI.
    pub fn from_milli(m: i64) -> Quantity {
        Quantity::from_nanos(i128::from(m) * 1_000_000)
    }
    /// `v` whole units; `binary` selects the `Ki`/`Mi` display family (for memory).
    pub fn from_value(v: i64, binary: bool) -> Quantity {
        Quantity {
            nanos: i128::from(v) * NANO,
            format: if binary {
                QuantityFormat::BinarySi
            } else {
                QuantityFormat::DecimalSi
            },
        }
    }
    /// The exact value in nano-units.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }
    /// How the quantity was written.
    pub fn format(&self) -> QuantityFormat {
        self.format
    }
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }
    /// Value in thousandths, rounded up away from zero (Kubernetes `MilliValue`): CPU in
    /// millicores. Saturates at `i64` bounds (only above ~9.2e15 units).
    pub fn milli_value(&self) -> i64 {
        let m = div_away(self.nanos, 1_000_000);
        m.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
    /// Whole value, rounded up away from zero (Kubernetes `Value`): memory in bytes.
    pub fn value(&self) -> i64 {
        div_away(self.nanos, NANO).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
    pub fn as_f64(&self) -> f64 {
        self.nanos as f64 / 1e9
    }
}

/// Interprets the suffix as upstream `quantitySuffixer.interpret`: returns (binary exponent,
/// decimal exponent, format). `pos` is the suffix's byte offset for messages.
fn interpret_suffix(s: &str, suffix: &str, pos: usize) -> Result<(u32, i64, QuantityFormat), UnitError> {
    use QuantityFormat::*;
    let r = match suffix {
        "" => (0, 0, DecimalSi),
        "n" => (0, -9, DecimalSi),
        "u" => (0, -6, DecimalSi),
        "m" => (0, -3, DecimalSi),
        "k" => (0, 3, DecimalSi),
        "M" => (0, 6, DecimalSi),
        "G" => (0, 9, DecimalSi),
        "T" => (0, 12, DecimalSi),
        "P" => (0, 15, DecimalSi),
        "E" => (0, 18, DecimalSi),
        "Ki" => (10, 0, BinarySi),
        "Mi" => (20, 0, BinarySi),
        "Gi" => (30, 0, BinarySi),
        "Ti" => (40, 0, BinarySi),
        "Pi" => (50, 0, BinarySi),
        "Ei" => (60, 0, BinarySi),
        _ => {
            // Characters upstream's scanner accepts in a suffix: letters of the SI suffixes, then
            // an optional sign and digits of an exponent.
            let mut chars = suffix.char_indices().peekable();
            while let Some(&(_, c)) = chars.peek() {
                if "eEinumkKMGTP".contains(c) {
                    chars.next();
                } else {
                    break;
                }
            }
            if let Some(&(_, c)) = chars.peek()
                && (c == '+' || c == '-')
            {
                chars.next();
            }
            for (i, c) in chars {
                if !c.is_ascii_digit() {
                    let what = if c.is_whitespace() {
                        format!("unexpected whitespace at byte {} (spaces are not allowed)", pos + i)
                    } else {
                        format!("unexpected character {c:?} at byte {}", pos + i)
                    };
                    return Err(err(s, what));
                }
            }
            let exp = suffix
                .strip_prefix(['e', 'E'])
                .filter(|rest| !rest.is_empty())
                .and_then(|rest| rest.parse::<i64>().ok());
            match exp {
                Some(e) if e.abs() <= 1000 => (0, e, DecimalExponent),
                Some(_) => return Err(err(s, format_args!("exponent in {suffix:?} out of range"))),
                None if suffix == "e" || suffix == "E+" || suffix.ends_with(['+', '-']) => {
                    return Err(err(
                        s,
                        format_args!("unknown suffix {suffix:?} (an exponent needs digits, e.g. 1e3)"),
                    ));
                }
                None => return Err(err(s, format_args!("unknown suffix {suffix:?}"))),
            }
        }
    };
    Ok(r)
}

/// Canonical form, as upstream `CanonicalizeBytes`.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0");
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let mag = self.nanos.unsigned_abs();
        // upstream: BinarySI values in (-1024, 1024) or not whole are shown as DecimalSI.
        if self.format == QuantityFormat::BinarySi && mag >= 1024 * NANO as u128 && mag.is_multiple_of(NANO as u128) {
            let mut v = mag / NANO as u128;
            let mut i = 0;
            while i < 6 && v.is_multiple_of(1024) {
                v /= 1024;
                i += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][i];
            return write!(f, "{sign}{v}{suffix}");
        }
        // Decimal: the largest exponent (multiple of 3, from -9) dividing the value exactly.
        let mut v = mag;
        let mut exp: i32 = -9;
        while v.is_multiple_of(1000) && (self.format == QuantityFormat::DecimalExponent || exp < 18) {
            v /= 1000;
            exp += 3;
        }
        if self.format == QuantityFormat::DecimalExponent {
            if exp == 0 {
                write!(f, "{sign}{v}")
            } else {
                write!(f, "{sign}{v}e{exp}")
            }
        } else {
            let suffix = match exp {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                0 => "",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                _ => "E",
            };
            write!(f, "{sign}{v}{suffix}")
        }
    }
}

impl std::str::FromStr for Quantity {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

const DURATION_HELP: &str = "expected a Go duration such as 90s, 10m, 1h30m, 500ms, 1.5h \
    (units ns, us, µs, ms, s, m, h)";

fn derr(s: &str, what: impl fmt::Display) -> UnitError {
    UnitError(format!("invalid duration {s:?}: {what}; {DURATION_HELP}"))
}

/// Nanoseconds per unit, as Go's `unitMap`.
fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parses a Go duration (`time.ParseDuration` syntax) into milliseconds; negative durations and
/// durations finer than 1 ms are rejected (see module docs).
pub fn parse_duration(s: &str) -> Result<SimDuration, UnitError> {
    // upstream: go/src/time/format.go ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+
    if s.is_empty() {
        return Err(derr(s, "empty string"));
    }
    if let Some((i, _)) = s.char_indices().find(|(_, c)| c.is_whitespace()) {
        return Err(derr(
            s,
            format_args!("unexpected whitespace at byte {i} (spaces are not allowed)"),
        ));
    }
    let mut rest = s;
    let mut negative = false;
    if let Some(r) = rest.strip_prefix('-') {
        negative = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    // Special case as Go: a bare "0" needs no unit.
    if rest == "0" {
        return Ok(SimDuration::ZERO);
    }
    if rest.is_empty() {
        return Err(derr(s, "missing number"));
    }
    const MAX_NS: u128 = i64::MAX as u128; // Go's Duration is int64 nanoseconds
    let too_large = || derr(s, "too large (at most 2562047h47m16.854s)");
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let b = rest.as_bytes();
        let mut i = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_part = &rest[..i];
        let mut frac_part = "";
        if i < b.len() && b[i] == b'.' {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            frac_part = &rest[start..i];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            let c = rest.chars().next().unwrap_or('?');
            return Err(derr(s, format_args!("expected a number, found {c:?}")));
        }
        let unit_end = rest[i..]
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(j, _)| i + j);
        let unit = &rest[i..unit_end];
        if unit.is_empty() {
            return Err(derr(s, format_args!("missing unit after {:?}", &rest[..i])));
        }
        let per = unit_nanos(unit).ok_or_else(|| derr(s, format_args!("unknown unit {unit:?}")))?;
        let int_v: u128 = if int_part.is_empty() {
            0
        } else if int_part.len() > 20 {
            return Err(too_large());
        } else {
            int_part.parse::<u128>().map_err(|_| too_large())?
        };
        // Fraction: Go truncates below one nanosecond; keep 18 digits, enough for exactness.
        let frac_digits = &frac_part[..frac_part.len().min(18)];
        let frac_ns = if frac_digits.is_empty() {
            0
        } else {
            let fv: u128 = frac_digits.parse::<u128>().map_err(|_| derr(s, "bad fraction"))?;
            fv * per / 10u128.pow(frac_digits.len() as u32)
        };
        total = int_v
            .checked_mul(per)
            .and_then(|v| v.checked_add(frac_ns))
            .and_then(|v| v.checked_add(total))
            .filter(|v| *v <= MAX_NS)
            .ok_or_else(too_large)?;
        rest = &rest[unit_end..];
    }
    if negative && total > 0 {
        return Err(derr(s, "negative durations are not allowed here"));
    }
    if !total.is_multiple_of(1_000_000) {
        return Err(derr(
            s,
            "finer than 1ms, the simulation's time resolution (use a whole number of milliseconds)",
        ));
    }
    Ok(SimDuration::from_millis((total / 1_000_000) as u64))
}

/// A duration field in a capsim document: a Go-duration string such as `"90s"` or `"1h30m"`
/// (a bare number `0` is also accepted, as Go accepts `"0"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub SimDuration);

impl<'de> serde::Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Go duration string such as \"90s\", \"10m\" or \"1h30m\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Dur, E> {
                if v == 0 {
                    Ok(Dur(SimDuration::ZERO))
                } else {
                    Err(E::custom(format!(
                        "invalid duration {v}: missing unit (write e.g. \"{v}s\" or \"{v}m\"); {DURATION_HELP}"
                    )))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Dur, E> {
                match u64::try_from(v) {
                    Ok(u) => self.visit_u64(u),
                    Err(_) => Err(E::custom(format!(
                        "invalid duration {v}: negative durations are not allowed here; {DURATION_HELP}"
                    ))),
                }
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Dur, E> {
                if v == 0.0 {
                    Ok(Dur(SimDuration::ZERO))
                } else {
                    Err(E::custom(format!(
                        "invalid duration {v}: missing unit (write e.g. \"{v}s\"); {DURATION_HELP}"
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl serde::Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A quantity field in a capsim document: `"250m"`, `"512Mi"`, or a bare YAML number (`cpu: 1`,
/// `cpu: 0.5`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Qty(pub Quantity);

impl<'de> serde::Deserialize<'de> for Qty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Qty;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Kubernetes quantity such as \"250m\", \"512Mi\" or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Qty, E> {
                Quantity::parse(v).map(Qty).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Qty, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Qty, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Qty, E> {
                if !v.is_finite() {
                    return Err(E::custom(format!("invalid quantity {v}: not a finite number")));
                }
                // Rust prints the shortest decimal that reads back as `v`, never in exponent form:
                // `0.1` stays `0.1`, so the exact decimal parser sees what the user wrote.
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

impl serde::Serialize for Qty {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_forms() {
        assert_eq!(Quantity::parse("250m").map(|q| q.milli_value()), Ok(250));
        assert_eq!(Quantity::parse("512Mi").map(|q| q.value()), Ok(512 << 20));
        assert_eq!(parse_duration("1h30m"), Ok(SimDuration::from_mins(90)));
    }
}
