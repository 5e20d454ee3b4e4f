//! A sweep's grid: the parameters (`--set`-style override paths and their values), the seeds
//! and the metrics of `capsim sweep --grid GRID.yaml`, parsed and checked.
//!
//! ```yaml
//! parameters:
//!   - path: "HorizontalPodAutoscaler/checkout-api:spec.metrics[0].resource.target.averageUtilization"
//!     name: target            # optional column name (default: the path)
//!     values: [50, 60, 70, 80]
//!   - path: "Scenario:spec.provisioner.clusterAutoscaler.args[1]"
//!     values: ["--expander=least-waste", "--expander=price"]
//!   - path: "Deployment/checkout-api:spec.replicas"
//!     range: {from: 2, to: 10, step: 2}    # 2, 4, 6, 8, 10 (`to` included when on a step)
//!   - path: "Scenario:spec.resolution"
//!     values: [5s, 10s]
//!     create: true            # the scenario does not set the field: add it (default: error)
//! seeds: 5                    # seeds 1..=5 at every point; or a list: [3, 7, 11];
//!                             # absent: the scenario's own seed
//! metrics: [pending_p95_s, unserved_share, cost_usd]   # absent: every metric
//! ```
//!
//! Each parameter takes exactly one of `values` (a non-empty list of distinct YAML values, each
//! applied as `--set PATH=VALUE`) or `range` (`from`, `to`, `step > 0`, `from <= to`; integers
//! when all three are, else decimals rounded to 9 places).
//!
//! **Point order** is the Cartesian product with the *first* parameter varying slowest and the
//! last fastest, like nested loops in the order written: with the grid above, point 0 is
//! (50, least-waste, 2), point 1 (50, least-waste, 4), … point 5 (50, price, 2). Point numbers
//! are that order, 0-based; `sweep.csv` lists points in it whatever `-j`, and seeds within a
//! point run in the order given.
//!

use crate::report::sweep::{self as out, Metric, default_metrics};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Largest grid file read. capsim choice: a grid is a handful of lines.
pub const MAX_GRID_BYTES: usize = 1024 * 1024;
/// Most values one parameter may take.
pub const MAX_VALUES: usize = 100_000;
/// Most points a grid may expand to.
pub const MAX_POINTS: usize = 1_000_000;
/// Most seeds per point.
pub const MAX_SEEDS: usize = 100_000;

/// A grid file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{message}", path.as_ref().map(|p| format!("{p}: ")).unwrap_or_default())]
pub struct GridError {
    pub file: String,
    /// Where in the file: `parameters[1].range.step`.
    pub path: Option<String>,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GridFile {
    parameters: Vec<ParameterFile>,
    #[serde(default)]
    seeds: Option<Value>,
    #[serde(default)]
    metrics: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterFile {
    path: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    values: Option<Vec<Value>>,
    #[serde(default)]
    range: Option<RangeFile>,
    #[serde(default)]
    create: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeFile {
    from: Value,
    to: Value,
    step: Value,
}

/// One swept field.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// Column name in the outputs.
    pub name: String,
    /// `Kind/name:field.path`, as `--set` takes it (without `=value`).
    pub path: String,
    /// The values, in order.
    pub values: Vec<Value>,
    /// Add the field when the scenario does not set it.
    pub create: bool,
}

impl Parameter {
    /// The `--set` override giving this parameter `value`. Values are written as JSON, which YAML
    /// reads back unchanged: strings stay strings (`"6"` is not a number), numbers stay numbers.
    pub fn override_for(&self, value: &Value) -> String {
        format!("{}={}", self.path, value)
    }
}

/// A validated grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub parameters: Vec<Parameter>,
    /// `None`: the scenario's own seed.
    pub seeds: Option<Vec<u64>>,
    pub metrics: Vec<Metric>,
}

/// A value as a `sweep.csv` cell: strings as written, everything else as JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 32;
    budget.max_nodes = 200_000;
    budget.max_documents = 1;
    budget.max_aliases = 1_000;
    budget.max_reader_input_bytes = Some(MAX_GRID_BYTES);
    serde_saphyr::options! {
        budget: Some(budget),
        with_snippet: false,
        strict_booleans: true,
    }
}

impl Grid {
    /// Reads and validates a grid file.
    pub fn read(path: &Path) -> Result<Grid, GridError> {
        let file = path.display().to_string();
        let err = |message: String| GridError {
            file: file.clone(),
            path: None,
            message,
        };
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        if meta.len() > MAX_GRID_BYTES as u64 {
            return Err(err(format!(
                "{} bytes is larger than the {MAX_GRID_BYTES}-byte limit for a grid file",
                meta.len()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Grid::parse(&file, &text)
    }

    /// Parses and validates a grid from text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Grid, GridError> {
        let err = |path: Option<String>, message: String| GridError {
            file: file.to_string(),
            path,
            message,
        };
        if text.len() > MAX_GRID_BYTES {
            return Err(err(None, format!("larger than the {MAX_GRID_BYTES}-byte limit")));
        }
        let value: Value =
            serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|e| err(None, e.to_string()))?;
        if value.is_null() {
            return Err(err(
                None,
                "the grid is empty; expected `parameters:` (and optionally `seeds:`, `metrics:`)".into(),
            ));
        }
        let raw: GridFile = serde_path_to_error::deserialize(value).map_err(|e| {
            let p = e.path().to_string();
            err((p != ".").then_some(p), e.into_inner().to_string())
        })?;

        let mut parameters = Vec::new();
        let mut paths: BTreeMap<String, usize> = BTreeMap::new();
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for (i, p) in raw.parameters.into_iter().enumerate() {
            let at = |field: &str| Some(format!("parameters[{i}]{field}"));
            let path = p.path.trim().to_string();
            if path.is_empty() {
                return Err(err(at(".path"), "empty; expected Kind/name:field.path".into()));
            }
            if !path.contains(':') {
                return Err(err(
                    at(".path"),
                    format!(
                        "{path:?} has no ':'; expected Kind/name:field.path, e.g. Deployment/checkout-api:spec.replicas"
                    ),
                ));
            }
            if path.contains('=') && !path.contains(['"', '\'']) {
                return Err(err(
                    at(".path"),
                    format!("{path:?} contains '='; give values under `values:`, not in the path"),
                ));
            }
            if let Some(j) = paths.insert(path.clone(), i) {
                return Err(err(
                    at(".path"),
                    format!("{path:?} is already swept by parameters[{j}]"),
                ));
            }
            let name = p.name.map(|n| n.trim().to_string()).unwrap_or_else(|| path.clone());
            if name.is_empty() {
                return Err(err(at(".name"), "empty".into()));
            }
            if ["point", "seed", "seeds"].contains(&name.as_str()) {
                return Err(err(
                    at(".name"),
                    format!("{name:?} is a column capsim writes itself; choose another name"),
                ));
            }
            if let Some(j) = names.insert(name.clone(), i) {
                return Err(err(
                    at(".name"),
                    format!("{name:?} is already the name of parameters[{j}]"),
                ));
            }
            let values = match (p.values, p.range) {
                (Some(_), Some(_)) => {
                    return Err(err(at(""), "has both `values` and `range`; give one".into()));
                }
                (None, None) => {
                    return Err(err(at(""), "needs `values: [...]` or `range: {from, to, step}`".into()));
                }
                (Some(values), None) => {
                    if values.is_empty() {
                        return Err(err(at(".values"), "empty; give at least one value".into()));
                    }
                    if values.len() > MAX_VALUES {
                        return Err(err(
                            at(".values"),
                            format!("{} values, more than the limit of {MAX_VALUES}", values.len()),
                        ));
                    }
                    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
                    for (k, v) in values.iter().enumerate() {
                        if let Some(j) = seen.insert(v.to_string(), k) {
                            return Err(err(
                                at(&format!(".values[{k}]")),
                                format!("{} repeats values[{j}]", cell(v)),
                            ));
                        }
                    }
                    values
                }
                (None, Some(r)) => expand_range(&r).map_err(|(f, m)| err(at(&format!(".range{f}")), m))?,
            };
            parameters.push(Parameter {
                name,
                path,
                values,
                create: p.create,
            });
        }

        let seeds = match raw.seeds {
            None => None,
            Some(v) => Some(parse_seeds(&v).map_err(|m| err(Some("seeds".into()), m))?),
        };

        let metrics = match raw.metrics {
            None => default_metrics(),
            Some(list) => {
                if list.is_empty() {
                    return Err(err(
                        Some("metrics".into()),
                        "empty; leave it out for every metric".into(),
                    ));
                }
                let mut out: Vec<Metric> = Vec::new();
                for (k, m) in list.iter().enumerate() {
                    let metric: Metric = m
                        .parse()
                        .map_err(|e: out::MetricError| err(Some(format!("metrics[{k}]")), e.to_string()))?;
                    if out.contains(&metric) {
                        return Err(err(Some(format!("metrics[{k}]")), format!("{metric} is listed twice")));
                    }
                    out.push(metric);
                }
                out
            }
        };

        let grid = Grid {
            parameters,
            seeds,
            metrics,
        };
        if grid.checked_points().is_none() {
            return Err(err(
                Some("parameters".into()),
                format!("the grid has more than {MAX_POINTS} points"),
            ));
        }
        Ok(grid)
    }

    fn checked_points(&self) -> Option<usize> {
        self.parameters
            .iter()
            .try_fold(1usize, |n, p| n.checked_mul(p.values.len()))
            .filter(|&n| n <= MAX_POINTS)
    }

    /// Number of points (the product of the value counts; 1 with no parameters).
    pub fn points(&self) -> usize {
        self.checked_points().unwrap_or(MAX_POINTS)
    }

    /// The value index of each parameter at `point` (mixed radix, last parameter fastest).
    pub fn indices(&self, point: usize) -> Vec<usize> {
        let mut rest = point;
        let mut idx = vec![0; self.parameters.len()];
        for (k, p) in self.parameters.iter().enumerate().rev() {
            let n = p.values.len().max(1);
            idx[k] = rest % n;
            rest /= n;
        }
        idx
    }

    /// Each parameter's value at `point`.
    pub fn values(&self, point: usize) -> Vec<&Value> {
        self.indices(point)
            .into_iter()
            .zip(&self.parameters)
            .map(|(i, p)| &p.values[i])
            .collect()
    }

    /// The `--set` overrides of `point`, in parameter order.
    pub fn overrides(&self, point: usize) -> Vec<String> {
        self.values(point)
            .into_iter()
            .zip(&self.parameters)
            .map(|(v, p)| p.override_for(v))
            .collect()
    }

    /// `name=value, name=value` for messages.
    pub fn describe(&self, point: usize) -> String {
        self.values(point)
            .into_iter()
            .zip(&self.parameters)
            .map(|(v, p)| format!("{}={}", p.name, cell(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The grid as canonical text, for the sweep's fingerprint.
    pub fn canonical(&self, seeds: &[u64]) -> String {
        let mut s = String::new();
        for p in &self.parameters {
            s.push_str(&format!("{}\t{}\t{}\n", p.name, p.path, Value::Array(p.values.clone())));
        }
        s.push_str(&format!("seeds {seeds:?}\nmetrics "));
        for m in &self.metrics {
            s.push_str(&format!("{m} "));
        }
        s
    }
}

fn number(v: &Value, field: &str) -> Result<f64, (String, String)> {
    v.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| (format!(".{field}"), format!("{v} is not a number")))
}

/// The values of a `range`.
fn expand_range(r: &RangeFile) -> Result<Vec<Value>, (String, String)> {
    let (from, to, step) = (number(&r.from, "from")?, number(&r.to, "to")?, number(&r.step, "step")?);
    if step <= 0.0 {
        return Err((".step".into(), format!("{step} must be greater than 0")));
    }
    if from > to {
        return Err((".to".into(), format!("{to} is below `from` ({from})")));
    }
    // 1e-9 of a step absorbs binary rounding: from 0.1 to 0.3 by 0.1 has 3 values.
    let span = (to - from) / step + 1e-9;
    if span >= MAX_VALUES as f64 {
        return Err(("".into(), format!("more than {MAX_VALUES} values")));
    }
    let count = span.floor() as usize + 1;
    let ints = [&r.from, &r.to, &r.step].iter().all(|v| v.is_i64());
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        if ints {
            // All three are integers: exact integer steps.
            let (f, s) = (r.from.as_i64().unwrap_or(0), r.step.as_i64().unwrap_or(1));
            out.push(Value::from(f + s * k as i64));
        } else {
            let x = ((from + step * k as f64) * 1e9).round() / 1e9;
            out.push(serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number));
        }
    }
    Ok(out)
}

fn parse_seeds(v: &Value) -> Result<Vec<u64>, String> {
    let expected = "expected a count (seeds: 5 → seeds 1..=5) or a list of seeds ([3, 7, 11])";
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(0) => Err(format!("0 seeds; {expected}")),
            Some(k) if k as usize > MAX_SEEDS => Err(format!("{k} seeds, more than the limit of {MAX_SEEDS}")),
            Some(k) => Ok((1..=k).collect()),
            None => Err(format!("{n} is not a count; {expected}")),
        },
        Value::Array(items) => {
            if items.is_empty() {
                return Err(format!("empty list; {expected}"));
            }
            if items.len() > MAX_SEEDS {
                return Err(format!("{} seeds, more than the limit of {MAX_SEEDS}", items.len()));
            }
            let mut out = Vec::with_capacity(items.len());
            for (k, it) in items.iter().enumerate() {
                let s = it
                    .as_u64()
                    .ok_or_else(|| format!("[{k}]: {it} is not a seed (a non-negative integer)"))?;
                if out.contains(&s) {
                    return Err(format!("[{k}]: seed {s} is listed twice"));
                }
                out.push(s);
            }
            Ok(out)
        }
        other => Err(format!("{other} is not a count or a list; {expected}")),
    }
}
