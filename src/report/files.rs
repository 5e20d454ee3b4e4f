//! Writing run outputs.

use crate::model::resources::round_i64;
use crate::sim::SimResult;
use crate::sim::autoscaling::HpaRecord;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
}

/// The temporary file an output is written to before its rename: same directory (created if
/// needed), hidden, named after the process so concurrent runs do not collide.
fn temp_path_for(path: &Path) -> std::io::Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(dir.join(format!(".{name}.{}.tmp", std::process::id())))
}

/// Whether process `pid` is running. Linux answers through /proc; elsewhere every process counts
/// as running, so only [`STALE_TEMP_AGE`] decides.
fn process_running(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// A temporary output older than this is stale whatever its process (a day: no run writes for
/// that long).
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Prepares `dir` for a new set of outputs: removes the temporaries (`.<file>.<pid>.tmp`) that a
/// killed run left behind — those of a process no longer running, or older than
/// [`STALE_TEMP_AGE`] — and the previous `summary.json`. `summary.json` is written last, so
/// until a run has written every file the directory has none: a set without `summary.json` is
/// incomplete. Returns the temporaries removed.
pub fn begin_outputs(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    let io = |source| OutputError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut removed = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(io(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".tmp"))
            .and_then(|n| n.rsplit_once('.'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if (pid != std::process::id() && !process_running(pid)) || old {
            let path = entry.path();
            if fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    match fs::remove_file(dir.join("summary.json")) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    Ok(removed)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temp_path_for(path).map_err(io)?;
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Serializes records to CSV in memory.
pub fn csv_bytes<T: serde::Serialize>(path: &Path, rows: &[T]) -> Result<Vec<u8>, OutputError> {
    let err = |source| OutputError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(err)?;
    }
    w.into_inner().map_err(|e| err(e.into_error().into()))
}

/// Formats a float for CSV: fixed precision so output is byte-stable and readable.
pub fn f(x: f64) -> String {
    let mut s = Vec::new();
    push_f(&mut s, x);
    String::from_utf8(s).unwrap_or_default()
}

/// [`f`] appended to `out`: at most three decimals (rounded half to even on the exact binary
/// value, as `format!("{x:.3}")` does), trailing zeros and a trailing point dropped, `-0` as `0`.
pub fn push_f(out: &mut Vec<u8>, x: f64) {
    if x.is_infinite() {
        out.extend_from_slice(b"inf");
        return;
    }
    // Fast path: |x| < 10⁶ makes `x × 1000` exact to within 1.2 × 10⁻⁷, so rounding it to the
    // nearest integer is the exact decimal rounding unless it lies within 10⁻⁶ of a tie — those
    // (and NaN, and large values) take `format!`.
    let scaled = x * 1000.0;
    if scaled.abs() < 1e9 && ((scaled - scaled.floor()) - 0.5).abs() > 1e-6 {
        let n = round_i64(scaled);
        let (int, frac) = (n.unsigned_abs() / 1000, n.unsigned_abs() % 1000);
        if n < 0 {
            out.push(b'-');
        }
        push_int(out, int as i64);
        if frac != 0 {
            out.push(b'.');
            push_thousandths(out, frac);
        }
        return;
    }
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    out.extend_from_slice(if s == "-0" { b"0" } else { s.as_bytes() });
}

/// `pending-breakdown.csv`: one row per measured pod that became Ready, its time from creation
/// to Ready cut into the pipeline's stages ([`crate::sim::attribution`]); `surge` 0 = in none.
fn pending_breakdown_csv(r: &SimResult) -> Vec<u8> {
    use crate::sim::attribution::STAGES;
    let mut out = b"pod,workload,created_s,surge".to_vec();
    for s in STAGES {
        out.extend_from_slice(format!(",{s}_s").as_bytes());
    }
    out.extend_from_slice(b",to_ready_s\n");
    for p in &r.pod_stages {
        out.extend_from_slice(p.pod.as_bytes());
        out.push(b',');
        out.extend_from_slice(p.workload.as_bytes());
        out.push(b',');
        push_f(&mut out, p.created_s);
        out.push(b',');
        push_int(&mut out, p.surge as i64);
        for x in p.stages {
            out.push(b',');
            push_f(&mut out, x);
        }
        out.push(b',');
        push_f(&mut out, p.stages.iter().sum());
        out.push(b'\n');
    }
    out
}

fn timeline_csv(r: &SimResult) -> Vec<u8> {
    let mut out = b"time_s,workload,demand_rps,served_rps,capacity_rps,replicas_desired,pods_pending,pods_starting,pods_ready,cpu_per_pod_m,cpu_utilization_pct,hpa_metric,nodes_ready,nodes_upcoming,cost_rate_usd_hr,latency_p50_ms,latency_p95_ms,latency_p99_ms,errors_rps,cpu_throttled_m,cpu_starved_m\n".to_vec();
    out.reserve(r.timeline.len() * 96);
    for row in &r.timeline {
        let name = &r.workload_names[row.workload as usize];
        push_f(&mut out, row.time.as_secs_f64());
        out.push(b',');
        out.extend_from_slice(name.as_bytes());
        for x in [row.demand_rps, row.served_rps, row.capacity_rps] {
            out.push(b',');
            push_f(&mut out, x);
        }
        for n in [row.desired, row.pending, row.starting, row.ready] {
            out.push(b',');
            push_int(&mut out, i64::from(n));
        }
        out.push(b',');
        push_f(&mut out, row.cpu_per_pod_m);
        out.push(b',');
        push_f(&mut out, row.cpu_utilization);
        out.push(b',');
        if let Some(m) = row.hpa_metric {
            push_f(&mut out, m);
        }
        for n in [row.nodes_ready, row.nodes_upcoming] {
            out.push(b',');
            push_int(&mut out, i64::from(n));
        }
        out.push(b',');
        push_f(&mut out, row.cost_rate_hr);
        for k in 0..3 {
            out.push(b',');
            if let Some(l) = row.latency_ms {
                push_f(&mut out, l[k]);
            }
        }
        for x in [row.errors_rps, row.cpu_throttled_m, row.cpu_starved_m] {
            out.push(b',');
            push_f(&mut out, x);
        }
        out.push(b'\n');
    }
    out
}

/// Streams `hpa.csv` into a temporary file next to `path` (the largest output, so it is never
/// held in memory whole) and returns the temporary file's path; on failure the temporary file is
/// removed. Rows are formatted by hand, byte for byte what `csv::Writer::serialize` writes for
/// the derived `Serialize` (a test checks it): it is one row per HPA sync, and serde's per-field
/// dispatch, csv's per-byte quoting state machine and float formatting were most of the cost of
/// writing a fleet run.
fn hpa_csv_to_temp(path: &Path, rows: &[HpaRecord]) -> Result<PathBuf, OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temp_path_for(path).map_err(io)?;
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        let mut buf = Vec::with_capacity(1 << 17);
        buf.extend_from_slice(HpaRecord::HEADER.join(",").as_bytes());
        buf.push(b'\n');
        let mut text = Vec::new();
        for r in rows {
            push_hpa_row(&mut buf, &mut text, r);
            if buf.len() >= 1 << 16 {
                file.write_all(&buf)?;
                buf.clear();
            }
        }
        file.write_all(&buf)?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(io(e))
        }
    }
}

/// One `hpa.csv` row, newline-terminated.
fn push_hpa_row(out: &mut Vec<u8>, text: &mut Vec<u8>, r: &HpaRecord) {
    use std::io::Write as _;
    push_secs_shortest(out, r.time_ms);
    out.push(b',');
    push_csv_field(out, r.hpa.as_bytes());
    out.push(b',');
    push_int(out, i64::from(r.current_replicas));
    out.push(b',');
    push_int(out, i64::from(r.desired_replicas));
    out.extend_from_slice(if r.scaled { b",true," } else { b",false," });
    text.clear();
    // `HpaMetrics`' Display, without the formatting machinery.
    for (k, c) in r.metrics.cells().iter().enumerate() {
        if k > 0 {
            text.push(b' ');
        }
        text.extend_from_slice(c.name.as_bytes());
        text.push(b'=');
        match &c.value {
            Ok(v) => push_int(text, *v),
            Err(reason) => {
                let _ = write!(text, "<{reason}>");
            }
        }
    }
    push_csv_field(out, text);
    out.push(b',');
    if let Some(v) = r.proposal {
        push_int(out, i64::from(v));
    }
    out.push(b',');
    if let Some(v) = r.stabilized {
        push_int(out, i64::from(v));
    }
    out.push(b',');
    text.clear();
    let _ = write!(text, "{}", r.reason);
    push_csv_field(out, text);
    out.push(b',');
    if let Some(rule) = r.limiting_rule {
        text.clear();
        let _ = write!(text, "{rule}");
        push_csv_field(out, text);
    }
    out.push(b',');
    push_csv_field(out, r.error.as_bytes());
    out.push(b'\n');
}

/// A CSV field as the `csv` crate writes it by default: quoted (with quotes doubled) when it
/// holds a delimiter, a quote or a line break, else as is.
fn push_csv_field(out: &mut Vec<u8>, field: &[u8]) {
    if !needs_quotes(field) {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    for &b in field {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Whether `field` holds a `,`, `"`, `\n` or `\r`: eight bytes at a time (a byte equal to `c`
/// is a zero byte of `word ^ c…c`, found with the classic has-zero-byte bit trick).
fn needs_quotes(field: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    let mut chunks = field.chunks_exact(8);
    for chunk in &mut chunks {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        if has_zero(w ^ (ONES * u64::from(b',')))
            || has_zero(w ^ (ONES * u64::from(b'"')))
            || has_zero(w ^ (ONES * u64::from(b'\n')))
            || has_zero(w ^ (ONES * u64::from(b'\r')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
}

/// A decimal integer, without the formatting machinery.
fn push_int(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    let mut n = v.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Whole milliseconds as seconds in the shortest form that reads back as the same `f64` (what
/// serde's float serialization writes for `ms / 1000`): `15.0`, `15.5`, `15.125`.
fn push_secs_shortest(out: &mut Vec<u8>, ms: u64) {
    push_int(out, (ms / 1000) as i64);
    out.push(b'.');
    push_thousandths(out, ms % 1000);
}

/// `frac` (< 1000) thousandths as the digits after a decimal point, trailing zeros dropped but at
/// least one digit: 500 → `5`, 120 → `12`, 5 → `005`, 0 → `0`.
fn push_thousandths(out: &mut Vec<u8>, frac: u64) {
    let digits = [
        b'0' + (frac / 100 % 10) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ];
    let len = if digits[2] != b'0' {
        3
    } else if digits[1] != b'0' {
        2
    } else {
        1
    };
    out.extend_from_slice(&digits[..len]);
}

/// `autoscaler.csv`'s header: `DecisionRecord`'s fields (checked against its serialization).
pub const AUTOSCALER_CSV_HEADER: &str = "time_s,component,activity,decision,object,reason\n";

/// `vpa.csv`'s header ([`crate::sim::vpa::VpaRecord`]).
pub const VPA_CSV_HEADER: &str = "time_s,vpa,container,resource,lower_bound,target,upper_bound,uncapped_target\n";
/// `vpa-updates.csv`'s header ([`crate::sim::vpa::VpaUpdateRecord`]).
pub const VPA_UPDATES_CSV_HEADER: &str = "time_s,vpa,pod,action,detail\n";

/// Writes `timeline.csv`, `pods.csv`, `nodes.csv`, `pending-breakdown.csv`, `autoscaler.csv`,
/// `hpa.csv` and, last,
/// `summary.json` into `dir`. Every file is rendered before any is put in place, so a failure to
/// render writes nothing: all in memory except `hpa.csv` (one row per HPA sync, the largest by
/// far), which is streamed to a temporary file. `summary.json` comes last: its presence says the
/// set is complete (see [`begin_outputs`]).
pub fn write_run_outputs(dir: &Path, r: &SimResult) -> Result<Vec<PathBuf>, OutputError> {
    let summary_path = dir.join("summary.json");
    let mut summary = serde_json::to_vec_pretty(&r.summary).map_err(|source| OutputError::Json {
        path: summary_path.clone(),
        source,
    })?;
    summary.push(b'\n');
    let pods_path = dir.join("pods.csv");
    let nodes_path = dir.join("nodes.csv");
    let files = vec![
        (dir.join("timeline.csv"), timeline_csv(r)),
        (pods_path.clone(), csv_bytes(&pods_path, &r.pods)?),
        (nodes_path.clone(), csv_bytes(&nodes_path, &r.nodes)?),
        (dir.join("pending-breakdown.csv"), pending_breakdown_csv(r)),
    ];
    let mut files = files;
    // Always written, a header alone when no provisioner decided anything (a static cluster), so a
    // reader never has to tell "no decisions" from "file missing".
    let path = dir.join("autoscaler.csv");
    let decisions = if r.decisions.is_empty() {
        AUTOSCALER_CSV_HEADER.as_bytes().to_vec()
    } else {
        csv_bytes(&path, &r.decisions)?
    };
    files.push((path, decisions));
    // Alert state changes; a header alone when no rule fired (or the scenario has none).
    let path = dir.join("alerts.csv");
    let alerts = if r.alerts.events.is_empty() {
        b"time_s,alert,state,labels\n".to_vec()
    } else {
        csv_bytes(&path, &r.alerts.events)?
    };
    files.push((path, alerts));
    // With VerticalPodAutoscalers: their recommendations and the updater's actions.
    if !r.summary.vpa.is_empty() {
        let path = dir.join("vpa.csv");
        let bytes = if r.vpa.is_empty() {
            VPA_CSV_HEADER.as_bytes().to_vec()
        } else {
            csv_bytes(&path, &r.vpa)?
        };
        files.push((path, bytes));
        let path = dir.join("vpa-updates.csv");
        let bytes = if r.vpa_updates.is_empty() {
            VPA_UPDATES_CSV_HEADER.as_bytes().to_vec()
        } else {
            csv_bytes(&path, &r.vpa_updates)?
        };
        files.push((path, bytes));
    }
    // With KEDA ScaledObjects: what their scale loop did (a header alone if nothing).
    if !r.summary.keda.is_empty() {
        let path = dir.join("keda.csv");
        let bytes = if r.keda.is_empty() {
            b"time_s,scaled_object,action,from,to,triggers\n".to_vec()
        } else {
            csv_bytes(&path, &r.keda)?
        };
        files.push((path, bytes));
    }
    // With queue workers: each queue's depth and oldest message over time.
    if !r.queue.is_empty() {
        let path = dir.join("queue.csv");
        let bytes = csv_bytes(&path, &r.queue)?;
        files.push((path, bytes));
    }
    let hpa = if r.hpa.is_empty() {
        None
    } else {
        let path = dir.join("hpa.csv");
        let tmp = hpa_csv_to_temp(&path, &r.hpa)?;
        Some((path, tmp))
    };
    let mut written = Vec::new();
    for (path, bytes) in files {
        if let Err(e) = atomic_write(&path, &bytes) {
            if let Some((_, tmp)) = &hpa {
                let _ = fs::remove_file(tmp);
            }
            return Err(e);
        }
        written.push(path);
    }
    if let Some((path, tmp)) = hpa {
        if let Err(source) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(OutputError::Io { path, source });
        }
        written.push(path);
    }
    atomic_write(&summary_path, &summary)?;
    written.push(summary_path);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpa_headers_are_the_records_headers() {
        use crate::sim::vpa::{VpaRecord, VpaUpdateRecord};
        let rec = VpaRecord {
            time_s: 60.0,
            vpa: "v".into(),
            container: "c".into(),
            resource: "cpu",
            lower_bound: 1,
            target: 2,
            upper_bound: 3,
            uncapped_target: 2,
        };
        let text = String::from_utf8(csv_bytes(Path::new("vpa.csv"), &[rec]).expect("csv")).expect("utf-8");
        assert!(text.starts_with(VPA_CSV_HEADER), "{text}");
        let up = VpaUpdateRecord {
            time_s: 60.0,
            vpa: "v".into(),
            pod: "p".into(),
            action: "Evicted",
            detail: "d".into(),
        };
        let text = String::from_utf8(csv_bytes(Path::new("u.csv"), &[up]).expect("csv")).expect("utf-8");
        assert!(text.starts_with(VPA_UPDATES_CSV_HEADER), "{text}");
    }

    #[test]
    fn autoscaler_header_is_the_records_header() {
        use crate::controllers::provisioner::{Activity, Decision, DecisionRecord};
        let rec = DecisionRecord {
            time_s: 1.0,
            component: "karpenter",
            activity: Activity::Provisioning,
            decision: Decision::Launch,
            object: "nodepool/default".into(),
            reason: "r".into(),
        };
        let bytes = csv_bytes(Path::new("autoscaler.csv"), &[rec]).expect("csv");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(text.starts_with(AUTOSCALER_CSV_HEADER), "{text}");
        assert!(
            text.ends_with("1.0,karpenter,provisioning,Launch,nodepool/default,r\n"),
            "{text}"
        );
    }

    fn slow(x: f64) -> String {
        if x.is_infinite() {
            return "inf".into();
        }
        let s = format!("{x:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.to_string() }
    }

    #[test]
    fn hpa_rows_match_the_serde_serialization() {
        use crate::controllers::hpa::conditions::ConditionReason;
        use crate::controllers::hpa::controller::DecisionReason;
        use crate::controllers::hpa::normalize::LimitingRule;
        use crate::sim::autoscaling::{HpaMetrics, MetricCell};
        use std::sync::Arc;
        let mut rows = Vec::new();
        for (i, ms) in [
            0u64,
            1,
            10,
            100,
            999,
            1000,
            15_000,
            15_500,
            15_120,
            86_399_999,
            123_456_789_012,
        ]
        .into_iter()
        .enumerate()
        {
            rows.push(HpaRecord {
                time_ms: ms,
                hpa: std::sync::Arc::from(if i % 2 == 0 { "web" } else { "odd,\"name\"" }),
                current_replicas: i as i32,
                desired_replicas: -(i as i32),
                scaled: i % 3 == 0,
                metrics: if i % 2 == 0 {
                    HpaMetrics::Many(Box::new([
                        MetricCell {
                            name: Arc::from("cpu resource utilization (percentage of request)"),
                            value: Ok(57),
                        },
                        MetricCell {
                            name: Arc::from("pods metric rps"),
                            value: Ok(-1200),
                        },
                    ]))
                } else {
                    HpaMetrics::One(MetricCell {
                        name: Arc::from("odd \"metric\", with comma"),
                        value: Err(ConditionReason::FailedGetResourceMetric),
                    })
                },
                proposal: (i % 2 == 0).then_some(7),
                stabilized: (i % 3 == 0).then_some(i32::MIN),
                reason: if i % 2 == 0 {
                    DecisionReason::Limited(ConditionReason::ScaleUpLimit)
                } else {
                    DecisionReason::WithinTolerance
                },
                limiting_rule: Some(if i % 2 == 0 {
                    LimitingRule::MaxReplicas(9)
                } else {
                    LimitingRule::LegacyScaleUpCap(8)
                }),
                error: if i % 4 == 1 {
                    "line\nbreak, comma".into()
                } else {
                    String::new()
                },
            });
        }
        let mut expected = csv::Writer::from_writer(Vec::new());
        for r in &rows {
            expected.serialize(r).unwrap();
        }
        let expected = expected.into_inner().unwrap();
        let mut got = HpaRecord::HEADER.join(",").into_bytes();
        got.push(b'\n');
        let mut text = Vec::new();
        for r in &rows {
            push_hpa_row(&mut got, &mut text, r);
        }
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(expected).unwrap());
    }

    #[test]
    fn quoting_check_finds_every_special_byte_at_every_position() {
        for len in 0..20 {
            let plain = vec![b'a'; len];
            assert!(!needs_quotes(&plain));
            for at in 0..len {
                for special in [b',', b'"', b'\n', b'\r'] {
                    let mut f = plain.clone();
                    f[at] = special;
                    assert!(needs_quotes(&f), "{len} {at} {special}");
                }
                // Neighbours of the special bytes (and high bytes) are not special.
                for other in [b'+', b'-', b'!', b'#', b'\t', 0x0b, 0x0c, 0x0e, 0xac, 0xff, 0x80] {
                    let mut f = plain.clone();
                    f[at] = other;
                    assert!(!needs_quotes(&f), "{len} {at} {other}");
                }
            }
        }
    }

    #[test]
    fn fast_float_format_matches_fixed_precision() {
        // Ties and near-ties (0.0005 is just below its tie in binary, 0.0625 × 1000 = 62.5 exactly),
        // negatives, zero signs, integers, large values, the fallback's domain.
        let cases = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.0005,
            0.0015,
            0.0625,
            -0.0625,
            2.5e-4,
            1.0005,
            123.4565,
            0.1,
            0.2,
            0.3,
            999_999.999_5,
            1e6,
            1e9,
            -1e12,
            3.0e-7,
            -3.0e-7,
            17.125,
            0.0004999,
            f64::INFINITY,
            f64::MAX,
        ];
        for x in cases {
            assert_eq!(f(x), slow(x), "{x}");
        }
        // A deterministic sweep over magnitudes and fractions.
        let mut v = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..200_000 {
            v ^= v << 13;
            v ^= v >> 7;
            v ^= v << 17;
            let mag = 10f64.powi((v % 12) as i32 - 4);
            let x = ((v >> 11) as f64 / (1u64 << 53) as f64 - 0.3) * mag;
            assert_eq!(f(x), slow(x), "{x:e}");
            let ms = (v >> 20) % 100_000_000;
            let t = ms as f64 / 1000.0;
            assert_eq!(f(t), slow(t), "{t}");
        }
        assert_eq!(f(f64::NAN), slow(f64::NAN));
    }
}
