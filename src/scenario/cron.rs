//! The KEDA cron scaler's schedules (`start`, `end`: five-field cron, robfig/cron's standard
//! parser), as the minutes of a week in which the trigger is active. The run's t = 0 is Monday
//! 00:00 (as `weekly` traffic's default start), in the trigger's timezone.
//!
//! upstream kedacore/keda pkg/scalers/cron_scaler.go: active when the next `start` is not before
//! the next `end` — that is, the latest of the two to have fired is `start`.

/// Minutes in a week.
pub const WEEK_MINUTES: usize = 7 * 24 * 60;

/// One field's allowed values.
fn field(spec: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<bool>, String> {
    let mut allowed = vec![false; (hi + 1) as usize];
    let value = |s: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(i as u32 + lo);
        }
        s.parse::<u32>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .ok_or_else(|| format!("{s:?} is not a value in {lo}..={hi}"))
    };
    for part in spec.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("bad step in {part:?}"))?,
            ),
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" | "?" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None => {
                    let v = value(r)?;
                    (v, if step > 1 { hi } else { v })
                }
            },
        };
        if a > b {
            return Err(format!("range {range:?} runs backwards"));
        }
        let mut v = a;
        while v <= b {
            allowed[v as usize] = true;
            v += step;
        }
    }
    Ok(allowed)
}

/// The minutes of the week (Monday 00:00 = 0) a schedule fires in.
fn schedule(spec: &str) -> Result<Vec<bool>, String> {
    let f: Vec<&str> = spec.split_whitespace().collect();
    if f.len() != 5 {
        return Err(format!(
            "expected five fields (minute hour day-of-month month day-of-week), got {spec:?}"
        ));
    }
    if f[2] != "*" && f[2] != "?" || f[3] != "*" {
        return Err(format!(
            "capsim runs weeks, not calendar dates: day-of-month and month must be '*', got {spec:?}"
        ));
    }
    let minute = field(f[0], 0, 59, &[])?;
    let hour = field(f[1], 0, 23, &[])?;
    let mut dow = field(f[4], 0, 7, &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])?;
    if dow[7] {
        dow[0] = true; // 7 is Sunday too
    }
    let mut out = vec![false; WEEK_MINUTES];
    for (m, fires) in out.iter_mut().enumerate() {
        let day = m / 1440; // 0 = Monday
        let weekday = (day + 1) % 7; // cron: 0 = Sunday
        *fires = dow[weekday] && hour[(m % 1440) / 60] && minute[m % 60];
    }
    Ok(out)
}

/// Per minute of the week, whether a `start`..`end` cron trigger is active.
pub fn window(start: &str, end: &str) -> Result<Vec<bool>, (&'static str, String)> {
    let s = schedule(start).map_err(|m| ("start", m))?;
    let e = schedule(end).map_err(|m| ("end", m))?;
    // Two passes over the week so the state at Monday 00:00 is what the week before left.
    let mut active = false;
    let mut out = vec![false; WEEK_MINUTES];
    for pass in 0..2 {
        for m in 0..WEEK_MINUTES {
            if e[m] {
                active = false;
            }
            // A start and an end in the same minute: next start == next end, which upstream
            // counts as within (not Before).
            if s[m] {
                active = true;
            }
            if pass == 1 {
                out[m] = active;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_working_hours() {
        let w = window("0 8 * * 1-5", "30 18 * * 1-5").unwrap();
        let at = |day: usize, h: usize, m: usize| w[day * 1440 + h * 60 + m];
        assert!(!at(0, 7, 59) && at(0, 8, 0) && at(0, 18, 29) && !at(0, 18, 30));
        assert!(at(4, 12, 0), "Friday");
        assert!(!at(5, 12, 0) && !at(6, 12, 0), "the weekend");
        // Spanning midnight: every day 22:00 to 06:00.
        let n = window("0 22 * * *", "0 6 * * *").unwrap();
        assert!(n[0] && n[5 * 60 + 59] && !n[6 * 60] && n[22 * 60]);
        assert!(window("0 8 1 * *", "0 9 * * *").is_err());
        assert!(window("0 25 * * *", "0 9 * * *").is_err());
    }
}
