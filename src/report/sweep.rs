//! Sweep results: the metrics a sweep records per run, the Monte Carlo statistics over seeds,
//! `sweep.csv` (one row per point), the raw per-run files (`sweep-runs.csv` and the shard files
//! `sweep.part-I-of-N.csv`) and how shard files merge back into exactly what one run writes.
//!
//! # Metrics
//!
//! Each metric is one number per run, read from the run's [`Summary`]. Workload metrics take the
//! *worst* workload (the largest value over every Deployment and batch workload; DaemonSets are not
//! in the summary) unless the metric names one: `pending_p95_s@checkout-api`.
//!
//! | metric | per run |
//! |---|---|
//! | `pending_p50_s`, `pending_p95_s`, `pending_p99_s`, `pending_max_s` | that Pending-time percentile (s), worst workload |
//! | `unserved_share` | unserved ÷ offered requests over all workloads (or of the named one) |
//! | `overload_s` | seconds demand exceeded ready capacity, worst workload |
//! | `peak_nodes` | most nodes billed at once |
//! | `node_hours` | billed node-hours |
//! | `cost_usd` | cluster cost over the run |
//! | `cost_per_million_requests_usd` | `cost_usd` ÷ (offered requests ÷ 10⁶); empty when no requests |
//! | `latency_p95_ms` | request latency p95 (ms), worst workload |
//! | `pages` | times an alert that pages started firing (the scenario's PrometheusRules) |
//!
//! # Statistics over seeds
//!
//! For the n values x₁…xₙ of a metric at one point (one per seed, in seed order):
//! mean x̄ = Σxᵢ / n; sample standard deviation s = √(Σ(xᵢ − x̄)² / (n − 1)); the 95 % interval is
//! x̄ ± t₀.₉₇₅,ₙ₋₁ · s / √n, with t the Student-t quantile (exact table for 1–30 degrees of freedom,
//! Hill's expansion beyond, within 3·10⁻⁸). One seed gives the value and an empty interval. A run
//! whose metric is undefined (cost per million requests with no requests) leaves the point's cells
//! for that metric empty.
//!
//! # Files
//!
//! * `sweep.csv`: `point`, one column per parameter (its value as written in the grid), `seeds`,
//!   then per metric `<metric>_mean`, `<metric>_ci95_low`, `<metric>_ci95_high`. Numbers have at
//!   most 6 decimals, trailing zeros dropped.
//! * `sweep-runs.csv` and `sweep.part-I-of-N.csv`: the raw runs, `point`, `seed`, the parameters,
//!   then each metric with full precision (shortest text that reads back to the same `f64`), so
//!   statistics recompute exactly. Their first line is a comment, `# capsim-sweep {json}`, naming
//!   the shard, the sweep's size, seeds, columns and a fingerprint of the scenario and grid
//!   (pandas: `read_csv(..., comment="#")`).
//!
//! Shards take points round-robin: shard I of N runs points I, I + N, I + 2N, … so that each
//! shard gets a similar mix of cheap and expensive corners of the grid.

use crate::sim::record::Summary;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Version of the raw-runs file format.
pub const RUNS_FORMAT: u32 = 1;
/// First characters of a raw-runs file.
pub const RUNS_MAGIC: &str = "# capsim-sweep ";
/// Name of the one-row-per-point file.
pub const SWEEP_CSV: &str = "sweep.csv";
/// Name of the unsharded raw-runs file.
pub const RUNS_CSV: &str = "sweep-runs.csv";
/// Stem of the frontier chart (`.png` and `.svg`).
pub const FRONTIER_STEM: &str = "sweep-frontier";

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/// What a metric measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricKind {
    PendingP50,
    PendingP95,
    PendingP99,
    PendingMax,
    UnservedShare,
    OverloadSeconds,
    PeakNodes,
    NodeHours,
    CostUsd,
    CostPerMillionRequests,
    LatencyP95,
    Pages,
}

impl MetricKind {
    /// Every metric, in the default column order.
    pub const ALL: [MetricKind; 12] = [
        MetricKind::PendingP50,
        MetricKind::PendingP95,
        MetricKind::PendingP99,
        MetricKind::PendingMax,
        MetricKind::UnservedShare,
        MetricKind::OverloadSeconds,
        MetricKind::PeakNodes,
        MetricKind::NodeHours,
        MetricKind::CostUsd,
        MetricKind::CostPerMillionRequests,
        MetricKind::LatencyP95,
        MetricKind::Pages,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MetricKind::PendingP50 => "pending_p50_s",
            MetricKind::PendingP95 => "pending_p95_s",
            MetricKind::PendingP99 => "pending_p99_s",
            MetricKind::PendingMax => "pending_max_s",
            MetricKind::UnservedShare => "unserved_share",
            MetricKind::OverloadSeconds => "overload_s",
            MetricKind::PeakNodes => "peak_nodes",
            MetricKind::NodeHours => "node_hours",
            MetricKind::CostUsd => "cost_usd",
            MetricKind::CostPerMillionRequests => "cost_per_million_requests_usd",
            MetricKind::LatencyP95 => "latency_p95_ms",
            MetricKind::Pages => "pages",
        }
    }

    /// Whether the metric is measured per workload (and so accepts `@workload`).
    pub fn per_workload(self) -> bool {
        matches!(
            self,
            MetricKind::PendingP50
                | MetricKind::PendingP95
                | MetricKind::PendingP99
                | MetricKind::PendingMax
                | MetricKind::UnservedShare
                | MetricKind::OverloadSeconds
                | MetricKind::LatencyP95
        )
    }
}

/// A metric column: what it measures, of which workload (`None`: worst, or all for
/// `unserved_share`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    pub kind: MetricKind,
    pub workload: Option<String>,
}

/// A metric name that is not one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    #[error("unknown metric {name:?}, expected one of {}", known_metrics())]
    Unknown { name: String },
    #[error(
        "metric {name:?} is cluster-wide and takes no @workload; per-workload metrics are {}",
        per_workload_metrics()
    )]
    NotPerWorkload { name: String },
    #[error("metric {name:?} has an empty workload after '@'")]
    EmptyWorkload { name: String },
}

fn known_metrics() -> String {
    MetricKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

fn per_workload_metrics() -> String {
    MetricKind::ALL
        .iter()
        .filter(|k| k.per_workload())
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Metric {
    type Err = MetricError;

    /// `pending_p95_s` or `pending_p95_s@checkout-api`.
    fn from_str(s: &str) -> Result<Metric, MetricError> {
        let (base, workload) = match s.split_once('@') {
            Some((b, w)) => (b.trim(), Some(w.trim())),
            None => (s.trim(), None),
        };
        let kind = MetricKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == base)
            .ok_or_else(|| MetricError::Unknown { name: s.to_string() })?;
        match workload {
            None => Ok(Metric { kind, workload: None }),
            Some("") => Err(MetricError::EmptyWorkload { name: s.to_string() }),
            Some(_) if !kind.per_workload() => Err(MetricError::NotPerWorkload { name: s.to_string() }),
            Some(w) => Ok(Metric {
                kind,
                workload: Some(w.to_string()),
            }),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.name())?;
        if let Some(w) = &self.workload {
            write!(f, "@{w}")?;
        }
        Ok(())
    }
}

/// Every metric, worst-workload form: the columns when a grid names none.
pub fn default_metrics() -> Vec<Metric> {
    MetricKind::ALL
        .iter()
        .map(|&kind| Metric { kind, workload: None })
        .collect()
}

impl Metric {
    /// The metric's value for one run; NaN when undefined (the workload is not in the summary,
    /// or cost per million requests of a run with no requests).
    pub fn value(&self, s: &Summary) -> f64 {
        let wls: Vec<&crate::sim::record::WorkloadSummary> = match &self.workload {
            Some(name) => match s.workloads.iter().find(|w| &w.name == name) {
                Some(w) => vec![w],
                None => return f64::NAN,
            },
            None => s.workloads.iter().collect(),
        };
        let worst = |f: fn(&crate::sim::record::WorkloadSummary) -> f64| wls.iter().map(|w| f(w)).fold(0.0, f64::max);
        let requests: f64 = wls.iter().map(|w| w.requests_total).sum();
        match self.kind {
            MetricKind::PendingP50 => worst(|w| w.pending.p50),
            MetricKind::PendingP95 => worst(|w| w.pending.p95),
            MetricKind::PendingP99 => worst(|w| w.pending.p99),
            MetricKind::PendingMax => worst(|w| w.pending.max),
            MetricKind::UnservedShare => {
                if requests > 0.0 {
                    wls.iter().map(|w| w.requests_unserved).sum::<f64>() / requests
                } else {
                    0.0
                }
            }
            MetricKind::OverloadSeconds => worst(|w| w.overload_seconds),
            MetricKind::PeakNodes => f64::from(s.cluster.nodes_max),
            MetricKind::LatencyP95 => worst(|w| w.latency_ms.p95),
            MetricKind::Pages => f64::from(s.pages),
            MetricKind::NodeHours => s.cluster.node_hours,
            MetricKind::CostUsd => s.cluster.cost_total_usd,
            MetricKind::CostPerMillionRequests => {
                let all: f64 = s.workloads.iter().map(|w| w.requests_total).sum();
                if all > 0.0 {
                    s.cluster.cost_total_usd / (all / 1e6)
                } else {
                    f64::NAN
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// t₀.₉₇₅ for 1..=30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139, 2.200985,
    2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873,
    2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
];

/// The 0.975 quantile of Student's t with `df` degrees of freedom (`df` ≥ 1): the table for
/// df ≤ 30, else Hill's asymptotic expansion around the normal quantile z = 1.959964
/// (Abramowitz & Stegun 26.7.5), which is within 3·10⁻⁸ for df > 30.
pub fn t_975(df: usize) -> f64 {
    if (1..=30).contains(&df) {
        return T_975[df - 1];
    }
    let z: f64 = 1.959_963_984_540_054;
    let v = df.max(1) as f64;
    let z3 = z.powi(3);
    let z5 = z.powi(5);
    let z7 = z.powi(7);
    let z9 = z.powi(9);
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92160.0 * v.powi(4))
}

/// Mean and 95 % interval of one metric at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub n: usize,
    pub mean: f64,
    /// `(low, high)`; `None` for a single value.
    pub interval: Option<(f64, f64)>,
}

impl Estimate {
    /// Half the interval's width (0 for a single value).
    pub fn half_width(&self) -> f64 {
        self.interval.map_or(0.0, |(lo, hi)| (hi - lo) / 2.0)
    }
}

/// The estimate from the values of every seed, in seed order (the order fixes the rounding, so
/// that a merge recomputes the same bits). `None` when there is no value or one is not finite.
pub fn estimate(xs: &[f64]) -> Option<Estimate> {
    if xs.is_empty() || xs.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let n = xs.len();
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Some(Estimate {
            n,
            mean,
            interval: None,
        });
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    let half = t_975(n - 1) * var.sqrt() / (n as f64).sqrt();
    Some(Estimate {
        n,
        mean,
        interval: Some((mean - half, mean + half)),
    })
}

// ---------------------------------------------------------------------------------------------
// Shards
// ---------------------------------------------------------------------------------------------

/// `--shard I/N`: shard I (0-based) of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("shard {text:?}: {message}; expected I/N with 0 <= I < N, e.g. 0/4")]
pub struct ShardError {
    pub text: String,
    pub message: String,
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let err = |message: &str| ShardError {
            text: s.to_string(),
            message: message.to_string(),
        };
        let (i, n) = s.split_once('/').ok_or_else(|| err("missing '/'"))?;
        let index: usize = i.trim().parse().map_err(|_| err("I is not a non-negative integer"))?;
        let count: usize = n.trim().parse().map_err(|_| err("N is not a positive integer"))?;
        if count == 0 {
            return Err(err("N must be at least 1"));
        }
        if index >= count {
            return Err(err("I must be less than N"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether this shard runs `point` (round-robin).
    pub fn owns(&self, point: usize) -> bool {
        point % self.count == self.index
    }

    /// The points of this shard among `points`, ascending.
    pub fn points(&self, points: usize) -> impl Iterator<Item = usize> + use<> {
        (self.index..points).step_by(self.count)
    }

    /// `sweep.part-I-of-N.csv`.
    pub fn file_name(&self) -> String {
        format!("sweep.part-{}-of-{}.csv", self.index, self.count)
    }
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/// What every file of one sweep shares: its columns, size and seeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Parameter column names, in grid order.
    pub parameters: Vec<String>,
    /// Metric column names (`pending_p95_s`, `pending_p95_s@api`), in grid order.
    pub metrics: Vec<String>,
    /// Seeds of every point, in run order.
    pub seeds: Vec<u64>,
    /// Points in the whole grid (all shards).
    pub points: usize,
    /// Hash of the scenario file, the expanded grid and the capsim version: shards of different
    /// sweeps do not merge.
    pub fingerprint: String,
}

/// Every run of one point.
#[derive(Clone, Debug, PartialEq)]
pub struct PointResult {
    /// 0-based index in grid order.
    pub point: usize,
    /// Each parameter's value as written in `sweep.csv`.
    pub values: Vec<String>,
    /// Per seed (in [`Layout::seeds`] order), the value of each metric (in [`Layout::metrics`] order).
    pub runs: Vec<Vec<f64>>,
}

impl PointResult {
    /// The estimate of metric `m` over the seeds.
    pub fn estimate(&self, m: usize) -> Option<Estimate> {
        let xs: Vec<f64> = self
            .runs
            .iter()
            .map(|r| r.get(m).copied().unwrap_or(f64::NAN))
            .collect();
        estimate(&xs)
    }
}

/// A number for `sweep.csv`: at most 6 decimals, trailing zeros dropped.
pub fn fmt6(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// A raw metric value: the shortest text that parses back to the same `f64`; empty when not
/// finite.
fn fmt_exact(x: f64) -> String {
    if x.is_finite() { format!("{x}") } else { String::new() }
}

fn csv_out(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().flexible(false).from_writer(Vec::new());
    for r in rows {
        // Writing strings into memory cannot fail.
        let _ = w.write_record(r);
    }
    w.into_inner().unwrap_or_default()
}

/// `sweep.csv`: one row per point in `points` (which must be in grid order).
pub fn sweep_csv(layout: &Layout, points: &[PointResult]) -> Vec<u8> {
    let mut header = vec!["point".to_string()];
    header.extend(layout.parameters.iter().cloned());
    header.push("seeds".into());
    for m in &layout.metrics {
        header.push(format!("{m}_mean"));
        header.push(format!("{m}_ci95_low"));
        header.push(format!("{m}_ci95_high"));
    }
    let mut rows = vec![header];
    for p in points {
        let mut row = vec![p.point.to_string()];
        row.extend(p.values.iter().cloned());
        row.push(p.runs.len().to_string());
        for m in 0..layout.metrics.len() {
            match p.estimate(m) {
                Some(e) => {
                    row.push(fmt6(e.mean));
                    match e.interval {
                        Some((lo, hi)) => {
                            row.push(fmt6(lo));
                            row.push(fmt6(hi));
                        }
                        None => row.extend([String::new(), String::new()]),
                    }
                }
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        rows.push(row);
    }
    csv_out(&rows)
}

/// The header comment of a raw-runs file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsMeta {
    format: u32,
    shard: usize,
    shards: usize,
    #[serde(flatten)]
    layout: Layout,
}

/// A raw-runs file (`sweep-runs.csv` for [`Shard::ALL`], else `sweep.part-I-of-N.csv`): the
/// comment line, the header, then one row per (point, seed) of the shard, in grid then seed order.
pub fn runs_csv(layout: &Layout, shard: Shard, points: &[PointResult]) -> Vec<u8> {
    let meta = RunsMeta {
        format: RUNS_FORMAT,
        shard: shard.index,
        shards: shard.count,
        layout: layout.clone(),
    };
    // A struct of strings and integers always serializes.
    let json = serde_json::to_string(&meta).unwrap_or_default();
    let mut header = vec!["point".to_string(), "seed".to_string()];
    header.extend(layout.parameters.iter().cloned());
    header.extend(layout.metrics.iter().cloned());
    let mut rows = vec![header];
    for p in points {
        for (seed, run) in layout.seeds.iter().zip(&p.runs) {
            let mut row = vec![p.point.to_string(), seed.to_string()];
            row.extend(p.values.iter().cloned());
            row.extend(run.iter().map(|&x| fmt_exact(x)));
            rows.push(row);
        }
    }
    let mut out = format!("{RUNS_MAGIC}{json}\n").into_bytes();
    out.extend(csv_out(&rows));
    out
}

// ---------------------------------------------------------------------------------------------
// Reading and merging raw-runs files
// ---------------------------------------------------------------------------------------------

/// Why shard files do not merge.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{file}: not a capsim sweep runs file (its first line must start with {RUNS_MAGIC:?})")]
    NotRuns { file: String },
    #[error("{file}: line 1: {message}")]
    Meta { file: String, message: String },
    #[error("{file}: line {line}: {message}")]
    Row { file: String, line: u64, message: String },
    #[error("{file}: the header is {found:?}, expected {expected:?}")]
    Header {
        file: String,
        found: Vec<String>,
        expected: Vec<String>,
    },
    #[error("{file} is from a different sweep than {first} ({what} differ)")]
    Mismatch { file: String, first: String, what: String },
    #[error("{first} and {second} are both shard {shard}")]
    Duplicate {
        first: String,
        second: String,
        shard: Shard,
    },
    #[error("missing shard{} {} of {count} (have: {})", if missing.len() > 1 { "s" } else { "" },
        missing.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", "), have.join(", "))]
    Missing {
        missing: Vec<usize>,
        count: usize,
        have: Vec<String>,
    },
    #[error("no shard files to merge")]
    Nothing,
}

/// One parsed raw-runs file.
#[derive(Clone, Debug, PartialEq)]
pub struct RunsFile {
    /// The file as named (for errors).
    pub file: String,
    pub shard: Shard,
    pub layout: Layout,
    /// The shard's points, ascending, with every seed.
    pub points: Vec<PointResult>,
}

/// Parses a raw-runs file and checks it holds exactly its shard's points, each with every seed.
pub fn read_runs(file: &str, text: &str) -> Result<RunsFile, MergeError> {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let json = first
        .strip_prefix(RUNS_MAGIC)
        .ok_or_else(|| MergeError::NotRuns { file: file.into() })?;
    let meta_err = |message: String| MergeError::Meta {
        file: file.into(),
        message,
    };
    let meta: RunsMeta = serde_json::from_str(json.trim_end_matches('\r')).map_err(|e| meta_err(e.to_string()))?;
    if meta.format != RUNS_FORMAT {
        return Err(meta_err(format!(
            "format {} is not supported by this capsim (it reads format {RUNS_FORMAT})",
            meta.format
        )));
    }
    if meta.shards == 0 || meta.shard >= meta.shards {
        return Err(meta_err(format!(
            "shard {} of {} is not a shard",
            meta.shard, meta.shards
        )));
    }
    if meta.layout.seeds.is_empty() {
        return Err(meta_err("no seeds".into()));
    }
    let shard = Shard {
        index: meta.shard,
        count: meta.shards,
    };
    let layout = meta.layout;
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(rest.as_bytes());
    let row_err = |line: u64, message: String| MergeError::Row {
        file: file.into(),
        line,
        message,
    };
    let mut expected = vec!["point".to_string(), "seed".to_string()];
    expected.extend(layout.parameters.iter().cloned());
    expected.extend(layout.metrics.iter().cloned());
    let found: Vec<String> = rdr
        .headers()
        .map_err(|e| row_err(2, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    if found != expected {
        return Err(MergeError::Header {
            file: file.into(),
            found,
            expected,
        });
    }
    let np = layout.parameters.len();
    let mut want = shard
        .points(layout.points)
        .flat_map(|p| layout.seeds.iter().map(move |&s| (p, s)));
    let mut points: Vec<PointResult> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| row_err(e.position().map_or(0, |p| p.line() + 1), e.to_string()))?;
        // +1: the comment line is not part of what the CSV reader counts.
        let line = rec.position().map_or(0, |p| p.line() + 1);
        let field = |i: usize| rec.get(i).unwrap_or_default();
        let point: usize = field(0)
            .parse()
            .map_err(|_| row_err(line, format!("point {:?} is not an index", field(0))))?;
        let seed: u64 = field(1)
            .parse()
            .map_err(|_| row_err(line, format!("seed {:?} is not a seed", field(1))))?;
        match want.next() {
            Some((p, s)) if (p, s) == (point, seed) => {}
            Some((p, s)) => {
                return Err(row_err(
                    line,
                    format!(
                        "expected point {p} seed {s} (shard {shard} of a {}-point sweep), found point {point} seed {seed}",
                        layout.points
                    ),
                ));
            }
            None => {
                return Err(row_err(
                    line,
                    format!("point {point} seed {seed} is past the end of shard {shard}"),
                ));
            }
        }
        let values: Vec<String> = (2..2 + np).map(|i| field(i).to_string()).collect();
        let mut run = Vec::with_capacity(layout.metrics.len());
        for (k, m) in layout.metrics.iter().enumerate() {
            let t = field(2 + np + k);
            let x = if t.is_empty() {
                f64::NAN
            } else {
                t.parse::<f64>()
                    .map_err(|_| row_err(line, format!("{m}: {t:?} is not a number")))?
            };
            run.push(x);
        }
        match points.last_mut() {
            Some(last) if last.point == point => {
                if last.values != values {
                    return Err(row_err(
                        line,
                        format!("point {point} has different parameter values than on its first row"),
                    ));
                }
                last.runs.push(run);
            }
            _ => points.push(PointResult {
                point,
                values,
                runs: vec![run],
            }),
        }
    }
    if let Some((p, s)) = want.next() {
        return Err(row_err(
            rdr.position().line(),
            format!("the file ends before point {p} seed {s}: it is truncated"),
        ));
    }
    Ok(RunsFile {
        file: file.into(),
        shard,
        layout,
        points,
    })
}

/// Combines every shard of one sweep into its layout and points in grid order: exactly what an
/// unsharded run computes.
pub fn merge(files: Vec<RunsFile>) -> Result<(Layout, Vec<PointResult>), MergeError> {
    let Some(first) = files.first() else {
        return Err(MergeError::Nothing);
    };
    let count = first.shard.count;
    let first_name = first.file.clone();
    let layout = first.layout.clone();
    let mut by_shard: Vec<Option<RunsFile>> = vec![None; count];
    for f in files {
        let what = if f.shard.count != count {
            Some("shard counts")
        } else if f.layout.fingerprint != layout.fingerprint {
            Some("scenario, grid or capsim version")
        } else if f.layout != layout {
            Some("columns, seeds or sizes")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(MergeError::Mismatch {
                file: f.file,
                first: first_name,
                what: what.into(),
            });
        }
        let slot = &mut by_shard[f.shard.index];
        if let Some(prev) = slot {
            return Err(MergeError::Duplicate {
                first: prev.file.clone(),
                second: f.file,
                shard: f.shard,
            });
        }
        *slot = Some(f);
    }
    let missing: Vec<usize> = (0..count).filter(|&i| by_shard[i].is_none()).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing,
            count,
            have: by_shard.iter().flatten().map(|f| f.file.clone()).collect(),
        });
    }
    let mut points: Vec<PointResult> = by_shard.into_iter().flatten().flat_map(|f| f.points).collect();
    points.sort_by_key(|p| p.point);
    Ok((layout, points))
}

/// FNV-1a, 64 bits: a stable fingerprint (not a security hash: it tells sweeps apart, nothing more).
pub fn fnv1a(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        // Length prefix: ["ab","c"] and ["a","bc"] differ.
        for b in (part.len() as u64).to_le_bytes().iter().chain(part.iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The points on the cost / Pending-p95 Pareto frontier: no other point is at most as expensive
/// and at most as slow while strictly better on one. `xy` is `(cost, pending)` per point (NaN:
/// undefined, never on the frontier). Returns indices into `xy`, ascending by cost then pending
/// then index.
pub fn pareto_front(xy: &[(f64, f64)]) -> Vec<usize> {
    let ok = |i: usize| xy[i].0.is_finite() && xy[i].1.is_finite();
    let mut front: Vec<usize> = (0..xy.len())
        .filter(|&i| ok(i))
        .filter(|&i| {
            let (c, p) = xy[i];
            !(0..xy.len()).any(|j| ok(j) && xy[j].0 <= c && xy[j].1 <= p && (xy[j].0 < c || xy[j].1 < p))
        })
        .collect();
    front.sort_by(|&a, &b| {
        xy[a]
            .0
            .total_cmp(&xy[b].0)
            .then(xy[a].1.total_cmp(&xy[b].1))
            .then(a.cmp(&b))
    });
    front
}

/// The Pareto front in groups of points with identical (cost, pending) — several settings often
/// tie (say every replica count that fits on the minimum cluster) — each group in point order.
pub fn pareto_groups(xy: &[(f64, f64)]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in pareto_front(xy) {
        match groups.last_mut() {
            Some(g) if xy[g[0]].0.total_cmp(&xy[i].0).is_eq() && xy[g[0]].1.total_cmp(&xy[i].1).is_eq() => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    groups
}

/// `name=value, name=value` of a point, with each parameter named by `short`.
pub fn point_label(layout: &Layout, p: &PointResult, short: fn(&str) -> &str) -> String {
    layout
        .parameters
        .iter()
        .zip(&p.values)
        .map(|(n, v)| format!("{}={v}", short(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_parse() {
        // (text, expected kind, expected workload) — None: rejected.
        type Case<'a> = (&'a str, Option<(MetricKind, Option<&'a str>)>);
        let cases: &[Case] = &[
            ("pending_p95_s", Some((MetricKind::PendingP95, None))),
            (
                "pending_p95_s@checkout-api",
                Some((MetricKind::PendingP95, Some("checkout-api"))),
            ),
            ("unserved_share@api", Some((MetricKind::UnservedShare, Some("api")))),
            ("cost_usd", Some((MetricKind::CostUsd, None))),
            ("cost_usd@api", None),
            ("pending_p95", None),
            ("pending_p95_s@", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = text.parse::<Metric>().ok().map(|m| (m.kind, m.workload));
            let want = want.map(|(k, w)| (k, w.map(str::to_string)));
            assert_eq!(got, want, "{text}");
            if let Some((k, w)) = want {
                let m = Metric { kind: k, workload: w };
                assert_eq!(m.to_string(), *text);
            }
        }
        let e = "pending".parse::<Metric>().unwrap_err().to_string();
        assert!(
            e.contains("unknown metric \"pending\"") && e.contains("pending_p95_s"),
            "{e}"
        );
    }

    #[test]
    fn t_quantiles() {
        // Table ends, and the expansion beyond it against known values (R: qt(0.975, df)).
        let cases = [
            (1, 12.706205),
            (2, 4.302653),
            (11, 2.200985),
            (30, 2.042272),
            (40, 2.021075),
            (60, 2.000298),
            (120, 1.979930),
            (1000, 1.962339),
        ];
        for (df, t) in cases {
            assert!((t_975(df) - t).abs() < 2e-6, "df {df}: {} vs {t}", t_975(df));
        }
        // Decreasing in df, towards z.
        for df in 1..200 {
            assert!(t_975(df + 1) < t_975(df), "df {df}");
        }
    }

    #[test]
    fn estimates_by_hand() {
        // [2, 4, 6]: mean 4, s² = (4 + 0 + 4) / 2 = 4, s = 2, half = 4.302653 · 2 / √3 = 4.968275.
        let e = estimate(&[2.0, 4.0, 6.0]).unwrap();
        assert_eq!(e.n, 3);
        assert_eq!(e.mean, 4.0);
        let (lo, hi) = e.interval.unwrap();
        assert!(
            (hi - 8.968275).abs() < 1e-5 && (lo + 0.968275).abs() < 1e-5,
            "{lo} {hi}"
        );
        // One value: the value, no interval.
        assert_eq!(
            estimate(&[7.5]),
            Some(Estimate {
                n: 1,
                mean: 7.5,
                interval: None
            })
        );
        // Identical values: a zero-width interval.
        assert_eq!(estimate(&[3.0, 3.0]).unwrap().interval, Some((3.0, 3.0)));
        // Undefined values make the estimate undefined.
        assert_eq!(estimate(&[1.0, f64::NAN]), None);
        assert_eq!(estimate(&[]), None);
    }

    #[test]
    fn shards_parse_and_partition() {
        assert_eq!("1/3".parse::<Shard>().unwrap(), Shard { index: 1, count: 3 });
        assert_eq!("0/1".parse::<Shard>().unwrap(), Shard::ALL);
        for bad in ["3/3", "1", "a/2", "0/0", "-1/2", "1/x", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.to_string().contains("expected I/N"), "{bad}: {e}");
        }
        // Round-robin: 7 points over 3 shards → {0,3,6}, {1,4}, {2,5}.
        let s: Vec<Vec<usize>> = (0..3)
            .map(|i| Shard { index: i, count: 3 }.points(7).collect())
            .collect();
        assert_eq!(s, vec![vec![0, 3, 6], vec![1, 4], vec![2, 5]]);
        assert!(Shard { index: 1, count: 3 }.owns(4));
        assert!(!Shard { index: 1, count: 3 }.owns(5));
        // More shards than points: the extra shards are empty.
        assert_eq!(Shard { index: 4, count: 5 }.points(3).count(), 0);
        assert_eq!(Shard { index: 2, count: 5 }.file_name(), "sweep.part-2-of-5.csv");
    }

    #[test]
    fn numbers_format() {
        let cases = [
            (0.0, "0"),
            (1.5, "1.5"),
            (2.0 / 3.0, "0.666667"),
            (-0.0000001, "0"),
            (12345.0, "12345"),
            (0.0001234, "0.000123"),
        ];
        for (x, s) in cases {
            assert_eq!(fmt6(x), s, "{x}");
        }
        for x in [0.1, 1.0 / 3.0, 1e-9, 123456789.123, 5e300] {
            assert_eq!(fmt_exact(x).parse::<f64>().unwrap(), x);
        }
    }

    fn layout(points: usize) -> Layout {
        Layout {
            parameters: vec!["target".into(), "expander".into()],
            metrics: vec!["pending_p95_s".into(), "cost_usd".into()],
            seeds: vec![1, 2],
            points,
            fingerprint: "0123456789abcdef".into(),
        }
    }

    fn results(points: usize) -> Vec<PointResult> {
        (0..points)
            .map(|p| PointResult {
                point: p,
                values: vec![format!("{}", 50 + 10 * p), "--expander=least-waste,price".into()],
                runs: vec![
                    vec![p as f64 + 0.1, 1.0 / 3.0 + p as f64],
                    vec![p as f64 + 0.2, if p == 1 { f64::NAN } else { 2.0 }],
                ],
            })
            .collect()
    }

    #[test]
    fn sweep_csv_rows() {
        let csv = String::from_utf8(sweep_csv(&layout(2), &results(2))).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "point,target,expander,seeds,pending_p95_s_mean,pending_p95_s_ci95_low,pending_p95_s_ci95_high,cost_usd_mean,cost_usd_ci95_low,cost_usd_ci95_high"
        );
        // Point 0, pending: [0.1, 0.2] → mean 0.15, s = 0.0707107, half = 12.706205 · 0.0707107 / √2 = 0.635310.
        // cost: [1/3, 2] → mean 1.166667, s = 1.178511, half = 12.706205 · 1.178511 / √2 = 10.5885042 (low -9.4218375).
        assert_eq!(
            lines[1],
            "0,50,\"--expander=least-waste,price\",2,0.15,-0.48531,0.78531,1.166667,-9.421838,11.755171"
        );
        // Point 1: the cost of seed 2 is undefined, so the cost cells are empty.
        assert_eq!(
            lines[2],
            "1,60,\"--expander=least-waste,price\",2,1.15,0.51469,1.78531,,,"
        );
    }

    #[test]
    fn runs_files_round_trip_and_merge() {
        let l = layout(5);
        let all = results(5);
        let parts: Vec<RunsFile> = (0..3)
            .map(|i| {
                let shard = Shard { index: i, count: 3 };
                let mine: Vec<PointResult> = all.iter().filter(|p| shard.owns(p.point)).cloned().collect();
                let text = String::from_utf8(runs_csv(&l, shard, &mine)).unwrap();
                read_runs(&shard.file_name(), &text).unwrap()
            })
            .collect();
        // Merge in any order gives the grid-order result; NaN compares unequal, so compare the CSVs.
        let mut shuffled = parts.clone();
        shuffled.reverse();
        let (ml, mp) = merge(shuffled).unwrap();
        assert_eq!(ml, l);
        assert_eq!(sweep_csv(&ml, &mp), sweep_csv(&l, &all));
        assert_eq!(runs_csv(&ml, Shard::ALL, &mp), runs_csv(&l, Shard::ALL, &all));

        // Missing shard.
        let e = merge(vec![parts[0].clone(), parts[2].clone()]).unwrap_err().to_string();
        assert!(e.starts_with("missing shard 1 of 3"), "{e}");
        // Duplicate shard.
        let mut dup = parts[1].clone();
        dup.file = "copy.csv".into();
        let e = merge(vec![parts[0].clone(), parts[1].clone(), dup, parts[2].clone()])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "sweep.part-1-of-3.csv and copy.csv are both shard 1/3");
        // Another sweep's shard.
        let mut other = parts[2].clone();
        other.layout.fingerprint = "ffffffffffffffff".into();
        let e = merge(vec![parts[0].clone(), parts[1].clone(), other])
            .unwrap_err()
            .to_string();
        assert!(e.contains("is from a different sweep"), "{e}");
        assert!(matches!(merge(vec![]), Err(MergeError::Nothing)));
    }

    #[test]
    fn bad_runs_files_name_the_line() {
        let l = layout(3);
        let shard = Shard { index: 0, count: 1 };
        let text = String::from_utf8(runs_csv(&l, shard, &results(3))).unwrap();
        // Truncated: the last row is gone.
        let cut: String = text
            .lines()
            .take(text.lines().count() - 1)
            .map(|l| format!("{l}\n"))
            .collect();
        let e = read_runs("p.csv", &cut).unwrap_err().to_string();
        assert!(e.contains("ends before point 2 seed 2"), "{e}");
        // A row out of place (rows 3 and 4 swapped: line 4 holds point 1 seed 1 instead of point 0 seed 2).
        let mut lines: Vec<&str> = text.lines().collect();
        lines.swap(3, 4);
        let e = read_runs("p.csv", &lines.join("\n")).unwrap_err().to_string();
        assert!(e.starts_with("p.csv: line 4: expected point 0 seed 2"), "{e}");
        // A metric that is not a number.
        let bad = text.replacen("0.1,", "zero,", 1);
        let e = read_runs("p.csv", &bad).unwrap_err().to_string();
        assert!(e.contains("line 3: pending_p95_s: \"zero\" is not a number"), "{e}");
        // Not a runs file at all.
        let e = read_runs("sweep.csv", "point,a\n0,1\n").unwrap_err().to_string();
        assert!(e.contains("not a capsim sweep runs file"), "{e}");
        // A header that does not match the meta line.
        let bad = text.replacen("point,seed,target", "point,seed,tgt", 1);
        let e = read_runs("p.csv", &bad).unwrap_err().to_string();
        assert!(e.contains("the header is"), "{e}");
    }

    #[test]
    fn pareto_by_hand() {
        // (cost, p95): 0 (1, 10) front; 1 (2, 5) front; 2 (2, 6) dominated by 1; 3 (3, 5) dominated
        // by 1; 4 (4, 1) front; 5 NaN; 6 (1, 10) equal to 0, front too.
        let xy = [
            (1.0, 10.0),
            (2.0, 5.0),
            (2.0, 6.0),
            (3.0, 5.0),
            (4.0, 1.0),
            (f64::NAN, 0.0),
            (1.0, 10.0),
        ];
        assert_eq!(pareto_front(&xy), vec![0, 6, 1, 4]);
        assert!(pareto_front(&[]).is_empty());
        // 0 and 6 tie: one group.
        assert_eq!(pareto_groups(&xy), vec![vec![0, 6], vec![1], vec![4]]);
    }

    #[test]
    fn fingerprints_differ() {
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
        assert_eq!(fnv1a(&[b"x"]), fnv1a(&[b"x"]));
        assert_eq!(fnv1a(&[]).len(), 16);
    }
}
