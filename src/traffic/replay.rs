//! `replay`: request rates read from a CSV file or a Prometheus `query_range` JSON response.
//!
//! The pipeline, in order (each step documented on its [`ReplaySpec`] field):
//! read and check every sample → median step → window → gap check / fill → counts to rates →
//! shift to simulated time 0 and compress → resample → rescale. The result is a [`Trace`]: sample
//! times in simulated milliseconds with a rate (requests/s) each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::TrafficError;
use super::rfc3339::{format_rfc3339, parse_datetime, parse_rfc3339};
use crate::model::units::{Dur, parse_duration};

/// Gaps larger than this many median steps are errors unless `fillGaps` is set (see
/// [`ReplaySpec::max_gap`]). A single missing sample in a regular series is a gap of 2 steps.
pub const DEFAULT_MAX_GAP_STEPS: f64 = 1.5;

/// Largest trace file read. capsim choice: 256 MiB holds tens of millions of CSV rows, more than
/// any replay needs (a month at 1 s is 2.6 M rows); past it memory grows ~9× the file's size.
pub const MAX_TRACE_BYTES: u64 = 256 * 1024 * 1024;

/// Most samples a trace may hold, as read or after `resample`. capsim choice: 5 × 10⁶ is two months
/// at 1 s; each sample costs ~100 bytes while it is read.
pub const MAX_TRACE_SAMPLES: usize = 5_000_000;

/// `traffic.replay` as written in a scenario.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReplaySpec {
    /// Path of the trace, relative to the scenario file's directory.
    pub file: String,
    /// `csv` or `prometheus`; default from the extension (`.json` → prometheus, else csv).
    #[serde(default)]
    pub format: Option<TraceFormat>,
    /// CSV only: header of the time column; default `time`.
    #[serde(default)]
    pub time_column: Option<String>,
    /// CSV only: header of the value column; default `value`.
    #[serde(default)]
    pub value_column: Option<String>,
    /// CSV only: `seconds` (default; numbers, any origin), `unix` (epoch seconds), `unix-ms`
    /// (epoch milliseconds), `rfc3339` (with a zone), or `datetime` (`2024-05-13 09:00:00`, as
    /// Grafana exports it: read as UTC unless it carries an offset). Numbers of 10¹¹ or more read
    /// as seconds are rejected: they are epoch milliseconds (as seconds, the year 5138 or later).
    #[serde(default)]
    pub time_format: Option<TimeFormat>,
    /// `rate` (default: requests per second) or `count` (requests per sample; divided by the
    /// median step in seconds).
    #[serde(default)]
    pub value_kind: Option<ValueKind>,
    /// Prometheus only: keep series whose labels include all these pairs; the kept series are
    /// summed (a series without a point at some timestamp contributes 0 there, as PromQL `sum`).
    /// Required when the response holds more than one series (`selector: {}` sums them all), so
    /// an export of several services is never summed by accident.
    #[serde(default)]
    pub selector: Option<BTreeMap<String, String>>,
    /// Part of the trace to replay; its `from` becomes simulated time 0.
    #[serde(default)]
    pub window: Option<WindowSpec>,
    /// Rescale so the highest sample (after window and resampling) equals this rate.
    #[serde(default)]
    pub scale_to_peak: Option<f64>,
    /// Multiply every sample by this factor.
    #[serde(default)]
    pub scale: Option<f64>,
    /// Time compression: trace time is divided by this (60 plays an hour in a minute). Rates are
    /// not changed.
    #[serde(default)]
    pub compress: Option<f64>,
    /// Resample to a regular grid of this step (simulated time): each grid bin gets the mean of the
    /// interpolated series over the bin, and is held constant.
    #[serde(default)]
    pub resample: Option<Dur>,
    /// Between samples: `hold` (default: a sample's rate holds until the next sample) or `linear`.
    #[serde(default)]
    pub interpolate: Option<Interpolation>,
    /// What to do with gaps longer than `maxGap` median steps: error (default), `hold` (the sample
    /// before the gap holds, or interpolates linearly, across it) or `zero` (the rate is zero from
    /// one median step after the sample before the gap to one step before the sample after it).
    #[serde(default)]
    pub fill_gaps: Option<FillGaps>,
    /// Largest tolerated gap between samples, in median steps; default 1.5.
    #[serde(default)]
    pub max_gap: Option<f64>,
    /// `rate` (default: replay the rate) or `poisson`: the count in each sample bin (the resample
    /// step if set, else the median step after compression, on a grid from time 0) is drawn from
    /// Poisson(rate × bin) and spread over the bin.
    #[serde(default)]
    pub arrivals: Option<Arrivals>,
    /// After the trace ends: `hold` (default) the last rate, `zero`, or `loop` from the start.
    #[serde(default)]
    pub end: Option<EndPolicy>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    Csv,
    Prometheus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeFormat {
    Seconds,
    Unix,
    #[serde(rename = "unix-ms")]
    UnixMs,
    Rfc3339,
    Datetime,
}

/// Numbers read as seconds from this on are epoch milliseconds (10¹¹ s is the year 5138; 10¹¹ ms
/// is 1973): a trace in milliseconds read as seconds would stretch an incident over decades.
pub const EPOCH_MS_THRESHOLD: f64 = 1e11;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    Rate,
    Count,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    Hold,
    Linear,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FillGaps {
    Hold,
    Zero,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    Rate,
    Poisson,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndPolicy {
    Hold,
    Zero,
    Loop,
}

/// `window: {from, to}`: each bound is a Go duration (offset from the trace's first sample, e.g.
/// `12h`) or, for traces with absolute times (`unix`, `rfc3339`, Prometheus), an RFC 3339
/// instant (`1995-07-13T12:00:00Z`). Samples whose bins overlap `[from, to)` are kept.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WindowSpec {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

/// A replayable rate series in simulated time.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Sample times, simulated milliseconds, strictly increasing (the first may be negative when
    /// the window starts inside its bin).
    times: Vec<f64>,
    /// Requests per second from each sample time on.
    values: Vec<f64>,
    linear: bool,
    /// Simulated ms where the trace ends; after it, `policy` applies.
    end: f64,
    policy: EndPolicy,
    /// The sample step in simulated ms (resample step, or median step after compression).
    step: f64,
}

/// Raw samples in trace time (seconds) with the location of each, for messages.
struct Raw {
    times: Vec<f64>,
    values: Vec<f64>,
    locs: Vec<String>,
    absolute: bool,
}

impl Raw {
    fn show_time(&self, t: f64) -> String {
        if self.absolute {
            format_rfc3339(t)
        } else {
            format!("{t}s")
        }
    }
}

/// Reads and converts a replay spec. `base_dir` resolves a relative `file`.
pub(crate) fn load(spec: &ReplaySpec, base_dir: Option<&Path>) -> Result<Trace, TrafficError> {
    let path: PathBuf = match base_dir {
        Some(dir) if Path::new(&spec.file).is_relative() => dir.join(&spec.file),
        _ => PathBuf::from(&spec.file),
    };
    let file = path.display().to_string();
    let format = spec.format.unwrap_or_else(|| {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            TraceFormat::Prometheus
        } else {
            TraceFormat::Csv
        }
    });
    check_options(spec, format)?;
    let cannot = |e: std::io::Error| TrafficError::File {
        file: file.clone(),
        message: format!("cannot read trace: {e}"),
    };
    let size = std::fs::metadata(&path).map_err(cannot)?.len();
    if size > MAX_TRACE_BYTES {
        return Err(TrafficError::File {
            file: file.clone(),
            message: format!(
                "trace is {} MiB, larger than the {} MiB limit; cut it to the window you replay",
                size >> 20,
                MAX_TRACE_BYTES >> 20
            ),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(cannot)?;
    parse_text(&file, format, &text, spec)
}

/// A trace from its text (`file` names it in messages): what [`load`] does once the file is read.
pub fn from_text(file: &str, text: &str, spec: &ReplaySpec) -> Result<Trace, TrafficError> {
    let format = spec.format.unwrap_or(if file.ends_with(".json") {
        TraceFormat::Prometheus
    } else {
        TraceFormat::Csv
    });
    check_options(spec, format)?;
    parse_text(file, format, text, spec)
}

fn parse_text(file: &str, format: TraceFormat, text: &str, spec: &ReplaySpec) -> Result<Trace, TrafficError> {
    let raw = match format {
        TraceFormat::Csv => read_csv(file, text, spec)?,
        TraceFormat::Prometheus => read_prometheus(file, text, spec)?,
    };
    build(file, raw, spec)
}

fn check_options(spec: &ReplaySpec, format: TraceFormat) -> Result<(), TrafficError> {
    let inv = |f: &str, m: String| Err(TrafficError::invalid(format!("replay.{f}"), m));
    if format == TraceFormat::Prometheus {
        for (name, set) in [
            ("timeColumn", spec.time_column.is_some()),
            ("valueColumn", spec.value_column.is_some()),
            ("timeFormat", spec.time_format.is_some()),
        ] {
            if set {
                return inv(name, "applies to csv traces only (this trace is prometheus)".into());
            }
        }
    } else if spec.selector.is_some() {
        return inv(
            "selector",
            "applies to prometheus traces only (this trace is csv)".into(),
        );
    }
    if spec.scale.is_some() && spec.scale_to_peak.is_some() {
        return inv("scale", "set either scale or scaleToPeak, not both".into());
    }
    for (name, v) in [
        ("scale", spec.scale),
        ("scaleToPeak", spec.scale_to_peak),
        ("compress", spec.compress),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && v > 0.0)
        {
            return inv(name, format!("must be > 0, got {v}"));
        }
    }
    if let Some(g) = spec.max_gap
        && !(g.is_finite() && g >= 1.0)
    {
        return inv("maxGap", format!("must be >= 1 (median steps), got {g}"));
    }
    if spec.resample.is_some_and(|r| r.0.is_zero()) {
        return inv("resample", "must be > 0".into());
    }
    Ok(())
}

fn trace_err(file: &str, loc: impl Into<String>, message: impl Into<String>) -> TrafficError {
    TrafficError::Trace {
        file: file.to_string(),
        location: loc.into(),
        message: message.into(),
    }
}

fn parse_value(file: &str, loc: &str, text: &str, what: &str) -> Result<f64, TrafficError> {
    if text.is_empty() {
        return Err(trace_err(file, loc, format!("empty {what}")));
    }
    let v: f64 = text
        .parse()
        .map_err(|_| trace_err(file, loc, format!("{what} {text:?} is not a number")))?;
    if !v.is_finite() {
        return Err(trace_err(file, loc, format!("{what} {text:?} is not a finite number")));
    }
    if v < 0.0 {
        return Err(trace_err(file, loc, format!("{what} {text} is negative")));
    }
    Ok(v)
}

/// Appends a sample after checking that time increases strictly.
fn push_sample(file: &str, raw: &mut Raw, t: f64, v: f64, loc: String) -> Result<(), TrafficError> {
    if raw.times.len() >= MAX_TRACE_SAMPLES {
        return Err(trace_err(
            file,
            loc,
            format!("more than {MAX_TRACE_SAMPLES} samples; cut the trace to the window you replay"),
        ));
    }
    if let (Some(&prev), Some(prev_loc)) = (raw.times.last(), raw.locs.last()) {
        if t == prev {
            return Err(trace_err(
                file,
                loc,
                format!("duplicate time {} (also at {prev_loc})", raw.show_time(t)),
            ));
        }
        if t < prev {
            return Err(trace_err(
                file,
                loc,
                format!(
                    "time goes backwards: {} comes after {} ({prev_loc}); samples must be in increasing time order",
                    raw.show_time(t),
                    raw.show_time(prev)
                ),
            ));
        }
    }
    raw.times.push(t);
    raw.values.push(v);
    raw.locs.push(loc);
    Ok(())
}

fn read_csv(file: &str, text: &str, spec: &ReplaySpec) -> Result<Raw, TrafficError> {
    let time_format = spec.time_format.unwrap_or(TimeFormat::Seconds);
    let time_col = spec.time_column.as_deref().unwrap_or("time");
    let value_col = spec.value_column.as_deref().unwrap_or("value");
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| trace_err(file, "line 1", format!("cannot read the header: {e}")))?
        .clone();
    let find = |name: &str, field: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            let have: Vec<&str> = headers.iter().collect();
            trace_err(
                file,
                "line 1",
                format!(
                    "no column {name:?} in the header (columns: {}); set replay.{field}",
                    have.join(", ")
                ),
            )
        })
    };
    let ti = find(time_col, "timeColumn")?;
    let vi = find(value_col, "valueColumn")?;
    let mut raw = Raw {
        times: Vec::new(),
        values: Vec::new(),
        locs: Vec::new(),
        absolute: time_format != TimeFormat::Seconds,
    };
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            let msg = match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("row has {len} fields, the header has {expected_len}")
                }
                _ => e.to_string(),
            };
            trace_err(file, format!("line {line}"), msg)
        })?;
        let line = rec.position().map_or(0, csv::Position::line);
        let loc = format!("line {line}");
        let time_text = rec.get(ti).unwrap_or("");
        let t = match time_format {
            TimeFormat::Seconds | TimeFormat::Unix | TimeFormat::UnixMs => {
                if time_text.is_empty() {
                    return Err(trace_err(file, loc, format!("empty time in column {time_col:?}")));
                }
                let unit = if time_format == TimeFormat::UnixMs {
                    "milliseconds"
                } else {
                    "seconds"
                };
                let n = time_text.parse::<f64>().ok().filter(|t| t.is_finite()).ok_or_else(|| {
                    let hint = if parse_rfc3339(time_text).is_ok() {
                        "; it is an RFC 3339 time: set replay.timeFormat: rfc3339"
                    } else if parse_datetime(time_text).is_ok() {
                        "; it is a date and time without a zone (Grafana's export): set replay.timeFormat: datetime (read as UTC)"
                    } else {
                        ""
                    };
                    trace_err(
                        file,
                        &loc,
                        format!("time {time_text:?} in column {time_col:?} is not a number of {unit}{hint}"),
                    )
                })?;
                if time_format == TimeFormat::UnixMs {
                    n / 1000.0
                } else if n.abs() >= EPOCH_MS_THRESHOLD {
                    return Err(trace_err(
                        file,
                        &loc,
                        format!(
                            "time {time_text} in column {time_col:?} looks like epoch milliseconds ({}); read as seconds it would be after the year 5000: set replay.timeFormat: unix-ms",
                            format_rfc3339(n / 1000.0)
                        ),
                    ));
                } else {
                    n
                }
            }
            TimeFormat::Rfc3339 => parse_rfc3339(time_text).map_err(|m| {
                let hint = if parse_datetime(time_text).is_ok() {
                    " (a date and time without a zone, as Grafana exports: set replay.timeFormat: datetime to read it as UTC)"
                } else {
                    ""
                };
                trace_err(
                    file,
                    &loc,
                    format!("time {time_text:?} in column {time_col:?} is not RFC 3339: {m}{hint}"),
                )
            })?,
            TimeFormat::Datetime => parse_datetime(time_text).map_err(|m| {
                trace_err(
                    file,
                    &loc,
                    format!(
                        "time {time_text:?} in column {time_col:?} is not a date and time like 2024-05-13 09:00:00: {m}"
                    ),
                )
            })?,
        };
        let v = parse_value(
            file,
            &loc,
            rec.get(vi).unwrap_or(""),
            &format!("value in column {value_col:?}"),
        )?;
        push_sample(file, &mut raw, t, v, loc)?;
    }
    Ok(raw)
}

fn describe_labels(metric: &serde_json::Map<String, serde_json::Value>) -> String {
    let parts: Vec<String> = metric
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), |s| format!("{s:?}"))))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn read_prometheus(file: &str, text: &str, spec: &ReplaySpec) -> Result<Raw, TrafficError> {
    use serde_json::Value;
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| trace_err(file, format!("line {}", e.line()), format!("invalid JSON: {e}")))?;
    let perr = |loc: &str, m: String| trace_err(file, loc, m);
    match doc.get("status").and_then(Value::as_str) {
        Some("success") => {}
        Some("error") => {
            let msg = doc.get("error").and_then(Value::as_str).unwrap_or("(no message)");
            return Err(perr("status", format!("Prometheus returned an error: {msg}")));
        }
        _ => {
            return Err(perr(
                "status",
                "expected \"success\" (a Prometheus HTTP API response)".into(),
            ));
        }
    }
    let data = doc.get("data").ok_or_else(|| perr("data", "missing".into()))?;
    match data.get("resultType").and_then(Value::as_str) {
        Some("matrix") => {}
        Some(other) => {
            return Err(perr(
                "data.resultType",
                format!("expected \"matrix\" (a query_range response), got {other:?}"),
            ));
        }
        None => return Err(perr("data.resultType", "missing".into())),
    }
    let result = data
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| perr("data.result", "missing or not an array".into()))?;
    if spec.selector.is_none() && result.len() > 1 {
        let shown: Vec<String> = result
            .iter()
            .take(5)
            .map(|series| {
                series
                    .get("metric")
                    .and_then(Value::as_object)
                    .map_or_else(|| "{}".to_string(), describe_labels)
            })
            .collect();
        return Err(perr(
            "data.result",
            format!(
                "{} series in the response and no replay.selector: choose one with a selector of its labels, or set selector: {{}} to sum them all; series: {}{}",
                result.len(),
                shown.join(", "),
                if result.len() > 5 { ", ..." } else { "" }
            ),
        ));
    }
    let selector = spec.selector.clone().unwrap_or_default();
    let empty = serde_json::Map::new();
    // Sum of the chosen series per timestamp (integer milliseconds: Prometheus's resolution).
    let mut sum: BTreeMap<i64, (f64, String)> = BTreeMap::new();
    let mut chosen = 0;
    let mut seen_labels = Vec::new();
    for (si, series) in result.iter().enumerate() {
        let metric = series.get("metric").and_then(Value::as_object).unwrap_or(&empty);
        let labels = describe_labels(metric);
        let matches = selector
            .iter()
            .all(|(k, v)| metric.get(k).and_then(Value::as_str) == Some(v.as_str()));
        if !matches {
            seen_labels.push(labels);
            continue;
        }
        chosen += 1;
        let values = series
            .get("values")
            .and_then(Value::as_array)
            .ok_or_else(|| perr(&format!("data.result[{si}].values"), "missing or not an array".into()))?;
        let mut prev: Option<f64> = None;
        for (j, point) in values.iter().enumerate() {
            let loc = format!("data.result[{si}].values[{j}] (series {labels})");
            let pair = point
                .as_array()
                .filter(|p| p.len() == 2)
                .ok_or_else(|| perr(&loc, "expected [timestamp, \"value\"]".into()))?;
            let t = pair[0]
                .as_f64()
                .filter(|t| t.is_finite())
                .ok_or_else(|| perr(&loc, format!("timestamp {} is not a number", pair[0])))?;
            let vtext = match &pair[1] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // Prometheus writes "NaN" where a query divides 0 by 0 (e.g. a ratio over an idle
            // window): no value at that instant. It is dropped, so it is a gap like a missing
            // sample (maxGap / fillGaps decide). Infinities stay errors.
            if vtext == "NaN" {
                continue;
            }
            let v = parse_value(file, &loc, &vtext, "value")?;
            if let Some(p) = prev {
                if t == p {
                    return Err(perr(&loc, format!("duplicate time {}", format_rfc3339(t))));
                }
                if t < p {
                    return Err(perr(
                        &loc,
                        format!("time goes backwards: {} after {}", format_rfc3339(t), format_rfc3339(p)),
                    ));
                }
            }
            prev = Some(t);
            let key = (t * 1000.0).round() as i64;
            if sum.len() >= MAX_TRACE_SAMPLES && !sum.contains_key(&key) {
                return Err(perr(
                    &loc,
                    format!("more than {MAX_TRACE_SAMPLES} samples; cut the export to the window you replay"),
                ));
            }
            let e = sum.entry(key).or_insert((0.0, loc));
            e.0 += v;
        }
    }
    if chosen == 0 {
        let shown: Vec<String> = seen_labels.into_iter().take(5).collect();
        return Err(perr(
            "data.result",
            if shown.is_empty() {
                "no series in the response".into()
            } else {
                format!(
                    "no series matches the selector {selector:?}; series present: {}",
                    shown.join(", ")
                )
            },
        ));
    }
    let mut raw = Raw {
        times: Vec::with_capacity(sum.len()),
        values: Vec::with_capacity(sum.len()),
        locs: Vec::with_capacity(sum.len()),
        absolute: true,
    };
    for (k, (v, loc)) in sum {
        raw.times.push(k as f64 / 1000.0);
        raw.values.push(v);
        raw.locs.push(loc);
    }
    Ok(raw)
}

fn parse_bound(file: &str, raw: &Raw, text: &str, field: &str) -> Result<f64, TrafficError> {
    if let Ok(d) = parse_duration(text) {
        return Ok(raw.times[0] + d.as_secs_f64());
    }
    match parse_rfc3339(text) {
        Ok(t) if raw.absolute => Ok(t),
        Ok(_) => Err(TrafficError::invalid(
            format!("replay.window.{field}"),
            format!(
                "{text:?} is an absolute time but {file} has relative times (timeFormat: seconds); use an offset such as \"2h\""
            ),
        )),
        Err(m) => Err(TrafficError::invalid(
            format!("replay.window.{field}"),
            format!(
                "{text:?} is neither a Go duration (offset from the first sample, e.g. \"2h\") nor an RFC 3339 time ({m})"
            ),
        )),
    }
}

fn build(file: &str, raw: Raw, spec: &ReplaySpec) -> Result<Trace, TrafficError> {
    let n = raw.times.len();
    if n < 2 {
        return Err(trace_err(
            file,
            "data",
            format!("a trace needs at least 2 samples, found {n}"),
        ));
    }
    // Median step between samples (trace seconds): the sampling interval.
    let mut diffs: Vec<f64> = raw.times.windows(2).map(|w| w[1] - w[0]).collect();
    diffs.sort_by(f64::total_cmp);
    let step = diffs[diffs.len() / 2];
    let bin_end = |i: usize| {
        if i + 1 < n {
            raw.times[i + 1]
        } else {
            raw.times[i] + step
        }
    };

    // Window.
    let (from, to) = match &spec.window {
        Some(w) => (
            w.from
                .as_deref()
                .map(|s| parse_bound(file, &raw, s, "from"))
                .transpose()?,
            w.to.as_deref().map(|s| parse_bound(file, &raw, s, "to")).transpose()?,
        ),
        None => (None, None),
    };
    let origin = from.unwrap_or(raw.times[0]);
    let to = to.unwrap_or(f64::INFINITY);
    if to <= origin {
        return Err(TrafficError::invalid(
            "replay.window.to",
            format!(
                "must be after window.from ({} <= {})",
                raw.show_time(to),
                raw.show_time(origin)
            ),
        ));
    }
    let kept: Vec<usize> = (0..n).filter(|&i| raw.times[i] < to && bin_end(i) > origin).collect();
    let (Some(&first), Some(&last)) = (kept.first(), kept.last()) else {
        return Err(TrafficError::invalid(
            "replay.window",
            format!(
                "no samples of {file} in [{}, {}); the trace covers {} to {}",
                raw.show_time(origin),
                if to.is_finite() {
                    raw.show_time(to)
                } else {
                    "end".into()
                },
                raw.show_time(raw.times[0]),
                raw.show_time(bin_end(n - 1)),
            ),
        ));
    };
    let end_trace = to.min(bin_end(last));

    // Gaps.
    let max_gap = spec.max_gap.unwrap_or(DEFAULT_MAX_GAP_STEPS);
    let count_div = if spec.value_kind == Some(ValueKind::Count) {
        step
    } else {
        1.0
    };
    let mut times = Vec::with_capacity(kept.len());
    let mut values = Vec::with_capacity(kept.len());
    for i in first..=last {
        times.push(raw.times[i]);
        values.push(raw.values[i] / count_div);
        if i < last {
            let gap = raw.times[i + 1] - raw.times[i];
            if gap > max_gap * step {
                match spec.fill_gaps {
                    None => {
                        return Err(trace_err(
                            file,
                            raw.locs[i + 1].clone(),
                            format!(
                                "gap of {}s between {} ({}) and {}: more than {max_gap} × the median step {step}s; \
                                 set replay.fillGaps to hold or zero, or raise replay.maxGap",
                                gap,
                                raw.show_time(raw.times[i]),
                                raw.locs[i],
                                raw.show_time(raw.times[i + 1]),
                            ),
                        ));
                    }
                    Some(FillGaps::Hold) => {}
                    Some(FillGaps::Zero) => {
                        times.push(raw.times[i] + step);
                        values.push(0.0);
                        let before_next = raw.times[i + 1] - step;
                        if before_next > raw.times[i] + step {
                            times.push(before_next);
                            values.push(0.0);
                        }
                    }
                }
            }
        }
    }

    // Simulated time: origin → 0, compressed.
    let compress = spec.compress.unwrap_or(1.0);
    let to_sim = |t: f64| (t - origin) * 1000.0 / compress;
    let mut trace = Trace {
        times: times.into_iter().map(to_sim).collect(),
        values,
        linear: spec.interpolate == Some(Interpolation::Linear),
        end: to_sim(end_trace),
        policy: spec.end.unwrap_or(EndPolicy::Hold),
        step: step * 1000.0 / compress,
    };

    if let Some(r) = spec.resample {
        let r = r.0.as_millis() as f64;
        let bins_f = (trace.end / r).ceil().max(1.0);
        if bins_f > MAX_TRACE_SAMPLES as f64 {
            return Err(TrafficError::invalid(
                "replay.resample",
                format!(
                    "{} over the trace's {:.0} s makes {bins_f:.0} samples, more than the limit of {MAX_TRACE_SAMPLES}",
                    spec.resample.expect("set").0,
                    trace.end / 1000.0
                ),
            ));
        }
        let bins = bins_f as usize;
        let mut t2 = Vec::with_capacity(bins);
        let mut v2 = Vec::with_capacity(bins);
        for k in 0..bins {
            let a = k as f64 * r;
            let b = ((k + 1) as f64 * r).min(trace.end);
            t2.push(a);
            v2.push(if b > a {
                trace.integral(a, b) / (b - a)
            } else {
                trace.value(a)
            });
        }
        trace.times = t2;
        trace.values = v2;
        trace.linear = false;
        trace.step = r;
    }

    let peak = trace.values.iter().copied().fold(0.0, f64::max);
    let factor = match (spec.scale, spec.scale_to_peak) {
        (Some(s), _) => s,
        (None, Some(p)) => {
            if peak <= 0.0 {
                return Err(TrafficError::invalid(
                    "replay.scaleToPeak",
                    format!("cannot rescale: every sample of {file} in the window is 0"),
                ));
            }
            p / peak
        }
        (None, None) => 1.0,
    };
    for v in &mut trace.values {
        *v *= factor;
    }
    Ok(trace)
}

impl Trace {
    /// Builds a trace from samples already in simulated ms (tests and programmatic use). The trace
    /// ends one median step after the last sample.
    pub fn from_samples(times_ms: Vec<f64>, rps: Vec<f64>, linear: bool, policy: EndPolicy) -> Option<Trace> {
        if times_ms.len() < 2 || times_ms.len() != rps.len() || times_ms.windows(2).any(|w| w[1] <= w[0]) {
            return None;
        }
        let mut diffs: Vec<f64> = times_ms.windows(2).map(|w| w[1] - w[0]).collect();
        diffs.sort_by(f64::total_cmp);
        let step = diffs[diffs.len() / 2];
        let end = times_ms[times_ms.len() - 1] + step;
        Some(Trace {
            times: times_ms,
            values: rps,
            linear,
            end,
            policy,
            step,
        })
    }

    /// Sample times (simulated ms) and rates, after every conversion.
    pub fn samples(&self) -> (&[f64], &[f64]) {
        (&self.times, &self.values)
    }

    /// Where the trace ends, simulated ms.
    pub fn end_ms(&self) -> f64 {
        self.end
    }

    /// The sample step in simulated ms (the Poisson bin for `arrivals: poisson`).
    pub fn step_ms(&self) -> f64 {
        self.step
    }

    /// Rate at `t` (simulated ms).
    pub fn value(&self, t: f64) -> f64 {
        let t = if t >= self.end {
            match self.policy {
                EndPolicy::Zero => return 0.0,
                EndPolicy::Hold => self.end,
                EndPolicy::Loop => t.rem_euclid(self.end),
            }
        } else {
            t
        };
        let idx = self.times.partition_point(|&x| x <= t);
        if idx == 0 {
            return self.values[0];
        }
        let i = idx - 1;
        if self.linear && i + 1 < self.times.len() {
            let (t0, t1) = (self.times[i], self.times[i + 1]);
            let (v0, v1) = (self.values[i], self.values[i + 1]);
            v0 + (v1 - v0) * (t - t0) / (t1 - t0)
        } else {
            self.values[i]
        }
    }

    /// Instants in `(a, b)` where the series has a corner or a step.
    pub(crate) fn breakpoints(&self, a: f64, b: f64, out: &mut Vec<f64>) {
        let mut add_period = |base: f64| {
            let lo = self.times.partition_point(|&x| x + base <= a);
            for &x in &self.times[lo..] {
                let x = x + base;
                if x >= b || x - base >= self.end {
                    break;
                }
                out.push(x);
            }
            let e = base + self.end;
            if e > a && e < b {
                out.push(e);
            }
        };
        if self.policy == EndPolicy::Loop && self.end > 0.0 {
            let mut k = (a / self.end).floor().max(0.0);
            while k * self.end < b {
                add_period(k * self.end);
                k += 1.0;
            }
        } else {
            add_period(0.0);
        }
    }

    /// Exact integral of the rate over `[a, b]` (ms × requests/s): the series is linear or
    /// constant between breakpoints, where the midpoint rule is exact.
    pub(crate) fn integral(&self, a: f64, b: f64) -> f64 {
        if b <= a {
            return 0.0;
        }
        let mut pts = vec![a, b];
        self.breakpoints(a, b, &mut pts);
        pts.sort_by(f64::total_cmp);
        pts.windows(2)
            .map(|w| (w[1] - w[0]) * self.value(0.5 * (w[0] + w[1])))
            .sum()
    }
}
