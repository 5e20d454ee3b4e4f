//! Standard 5-field cron schedules (UTC) for disruption budgets, with the `@daily`-style macros.
//!
//! upstream: kubernetes-sigs/karpenter pkg/apis/v1/nodepool.go `Budget.Schedule` ("follows cron
//! syntax ... in UTC", parsed with robfig/cron's standard parser: minute hour day-of-month month
//! day-of-week, `*`, lists, ranges, steps, month and weekday names, and the `@yearly`, `@annually`,
//! `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly` descriptors).

/// A parsed schedule: the allowed values of each field as bit sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    dom: u32,
    months: u16,
    dow: u8,
    /// True when either day field was `*` (cron's rule: if both day fields are restricted, a day
    /// matches when *either* matches; otherwise both must).
    dom_star: bool,
    dow_star: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// A calendar instant in UTC, minute resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilMinute {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

impl CivilMinute {
    /// From Unix minutes (minutes since 1970-01-01T00:00Z), by Howard Hinnant's `civil_from_days`.
    pub fn from_unix_minutes(m: i64) -> CivilMinute {
        let days = m.div_euclid(1440);
        let rem = m.rem_euclid(1440);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        // 1970-01-01 was a Thursday (4).
        let weekday = (days + 4).rem_euclid(7) as u32;
        CivilMinute {
            year,
            month,
            day,
            hour: (rem / 60) as u32,
            minute: (rem % 60) as u32,
            weekday,
        }
    }
}

impl Cron {
    pub fn parse(s: &str) -> Result<Cron, String> {
        let s = s.trim();
        let expanded = match s {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            _ if s.starts_with('@') => return Err(format!("unknown schedule descriptor `{s}`")),
            _ => s,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily, got {} in `{s}`",
                fields.len()
            ));
        }
        let minutes = field(fields[0], 0, 59, &[], "minute")?;
        let hours = field(fields[1], 0, 23, &[], "hour")? as u32;
        let dom = field(fields[2], 1, 31, &[], "day-of-month")? as u32;
        let months = (field(fields[3], 1, 12, &MONTHS, "month")? >> 1) as u16;
        // 7 is Sunday as well as 0.
        let dow_raw = field(fields[4], 0, 7, &DAYS, "day-of-week")?;
        let dow = ((dow_raw | (dow_raw >> 7)) & 0x7f) as u8;
        Ok(Cron {
            minutes,
            hours,
            dom,
            months,
            dow,
            dom_star: fields[2].starts_with('*') || fields[2] == "?",
            dow_star: fields[4].starts_with('*') || fields[4] == "?",
        })
    }

    pub fn matches(&self, t: &CivilMinute) -> bool {
        let dom_ok = self.dom & (1 << t.day) != 0;
        let dow_ok = self.dow & (1 << t.weekday) != 0;
        let day_ok = if self.dom_star || self.dow_star {
            dom_ok && dow_ok
        } else {
            dom_ok || dow_ok
        };
        self.minutes & (1 << t.minute) != 0
            && self.hours & (1 << t.hour) != 0
            && self.months & (1 << (t.month - 1)) != 0
            && day_ok
    }
}

fn value(s: &str, names: &[&str], lo: u32, what: &str) -> Result<u32, String> {
    if let Ok(v) = s.parse::<u32>() {
        return Ok(v);
    }
    let lower = s.to_ascii_lowercase();
    names
        .iter()
        .position(|n| *n == lower)
        .map(|i| i as u32 + lo)
        .ok_or_else(|| format!("invalid {what} value `{s}`"))
}

fn field(s: &str, lo: u32, hi: u32, names: &[&str], what: &str) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => {
                let st: u32 = st.parse().map_err(|_| format!("invalid {what} step `{st}`"))?;
                if st == 0 {
                    return Err(format!("{what} step must be > 0 in `{part}`"));
                }
                (r, st)
            }
            None => (part, 1),
        };
        let (start, end) = if range == "*" || range == "?" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, names, lo, what)?, value(b, names, lo, what)?)
        } else {
            let v = value(range, names, lo, what)?;
            // `5/15` means 5, 20, 35, 50 (robfig/cron: a single start with a step runs to the max).
            (v, if part.contains('/') { hi } else { v })
        };
        if start < lo || end > hi || start > end {
            return Err(format!("{what} `{part}` is outside {lo}-{hi}"));
        }
        let mut v = start;
        while v <= end {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        // 2024-01-01T00:00Z = 1_704_067_200 s = 28_401_120 min, a Monday.
        let t = CivilMinute::from_unix_minutes(28_401_120);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.weekday),
            (2024, 1, 1, 0, 0, 1)
        );
        // + 59 days 13h 7m = 2024-02-29T13:07 (leap day), a Thursday.
        let t = CivilMinute::from_unix_minutes(28_401_120 + 59 * 1440 + 13 * 60 + 7);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.weekday),
            (2024, 2, 29, 13, 7, 4)
        );
    }

    #[test]
    fn schedules() {
        let monday_9 = CivilMinute::from_unix_minutes(28_401_120 + 9 * 60);
        let table = [
            ("@daily", false),
            ("0 9 * * mon-fri", true),
            ("0 9 * * 0,6", false),
            ("*/15 8-10 * * *", true),
            ("5/15 * * * *", false),
            ("0 9 1 jan *", true),
            ("0 9 2 * 1", true), // both day fields restricted: either matches (Monday)
            ("0 9 2 * 7", false),
        ];
        for (s, want) in table {
            assert_eq!(Cron::parse(s).expect(s).matches(&monday_9), want, "{s}");
        }
        assert!(
            Cron::parse("@daily")
                .expect("ok")
                .matches(&CivilMinute::from_unix_minutes(28_401_120))
        );
    }

    #[test]
    fn bad_schedules() {
        for s in ["* * * *", "60 * * * *", "@sometimes", "*/0 * * * *", "0 0 * * funday"] {
            assert!(Cron::parse(s).is_err(), "{s}");
        }
    }
}
