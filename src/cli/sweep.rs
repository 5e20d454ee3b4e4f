//! `capsim sweep SCENARIO --grid GRID.yaml [-o DIR] [-j N] [--shard I/N] [--seeds K]`
//!
//! Runs a scenario at every point of a grid of `--set`-style overrides, each with one or more
//! seeds, and writes one row per point with the mean and 95 % interval of each metric (see
//! [`crate::report::sweep`] for the metrics, the statistics and the files).
//!
//! The grid file's format and point order: [`crate::scenario::grid`].
//!
//! # Checks before anything runs
//!
//! 1. the grid file (unknown keys, empty lists, bad ranges, duplicate paths or names, sizes);
//! 2. the scenario loads as it is;
//! 3. every parameter path is well formed, its object exists, and the field exists in the scenario
//!    (unless `create: true`; every intermediate key must exist regardless), and each of its values
//!    loads on its own (one dry load per value);
//! 4. with two or more parameters, every point of the shard loads (combinations such as
//!    minReplicas above maxReplicas).
//!
//! Any failure is bad input (exit 2) and names the parameter, value or point.
//!
//! # Running
//!
//! Every (point, seed) is one simulation on a rayon pool of `-j` threads. Each point's scenario
//! is loaded once and its seed set per run (what `--seed` does). Results are gathered in grid
//! order, so the files are byte-identical for any `-j`. If runs fail, the error reported is that of
//! the lowest failing point (points after it are skipped, points before it still run), so the
//! error too is the same for any `-j`.

use super::{Failure, bad_input, failed};
use crate::report::sweep::{self as out, Layout, PointResult, RUNS_CSV, SWEEP_CSV, Shard};
use crate::scenario::Scenario;
pub use crate::scenario::grid::{Grid, GridError, Parameter, cell};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `--seeds K`: a whole number (`-5` is read as a value and refused, not taken for a flag; 0 is
/// refused with the other plan checks).
fn parse_seed_count(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .map_err(|_| format!("expected a count of seeds, 1 or more, got {text:?}"))
}

pub use crate::scenario::grid::{MAX_GRID_BYTES, MAX_POINTS, MAX_SEEDS, MAX_VALUES};

/// The grid format, shown by `capsim sweep --help`.
pub const GRID_HELP: &str = "\
GRID.yaml:
  parameters:                     # Cartesian product; the first parameter varies slowest
    - path: \"HorizontalPodAutoscaler/api:spec.metrics[0].resource.target.averageUtilization\"
      name: target                # column name (default: the path)
      values: [50, 60, 70]
    - path: \"Deployment/api:spec.replicas\"
      range: {from: 2, to: 10, step: 2}
    - path: \"Scenario:spec.resolution\"
      values: [5s, 10s]
      create: true                # the scenario does not set the field: add it
  seeds: 5                        # seeds 1..=5 per point, or [3, 7, 11]; default: the scenario's
  metrics: [pending_p95_s, unserved_share, cost_usd]   # default: all of
    pending_p50_s pending_p95_s pending_p99_s pending_max_s unserved_share overload_s
    (worst workload, or one: pending_p95_s@api), peak_nodes node_hours cost_usd
    cost_per_million_requests_usd

Writes sweep.csv (per point: parameters, seeds, each metric's mean and 95% Student-t interval),
sweep-runs.csv (every run) and sweep-frontier.png/.svg (cost vs Pending p95, Pareto points
labelled). With --shard I/N: sweep.part-I-of-N.csv only; combine the parts with `capsim merge`.";

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file (multi-document YAML).
    pub scenario: PathBuf,
    /// The grid: parameters to vary, seeds, metrics (format below with --help).
    #[arg(long, value_name = "GRID.yaml")]
    pub grid: PathBuf,
    /// Output directory [default: out/<scenario name>-sweep].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Parallel simulations [default: available cores].
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Run only shard I of N (0-based; points I, I+N, I+2N, ...) and write sweep.part-I-of-N.csv
    /// for `capsim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Seeds 1..=K at every point (overrides the grid's `seeds`).
    #[arg(long, value_name = "K", allow_hyphen_values = true, value_parser = parse_seed_count)]
    pub seeds: Option<usize>,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/// A run that failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("point {point} ({values}): {message}")]
    Point {
        point: usize,
        values: String,
        message: String,
    },
    #[error("point {point} ({values}), seed {seed}: {message}")]
    Run {
        point: usize,
        values: String,
        seed: u64,
        message: String,
    },
    #[error("could not start {jobs} worker threads: {message}")]
    Pool { jobs: usize, message: String },
}

/// What to run: the grid, the seeds, the shard.
#[derive(Clone, Debug)]
pub struct Plan {
    pub grid: Grid,
    pub seeds: Vec<u64>,
    pub shard: Shard,
    /// Worker threads.
    pub jobs: usize,
}

impl Plan {
    /// Simulations this shard runs.
    pub fn runs(&self) -> usize {
        self.shard.points(self.grid.points()).count() * self.seeds.len()
    }

    /// The layout of this sweep's files. `scenario_bytes` is the scenario file as read (it and the
    /// grid make the fingerprint).
    pub fn layout(&self, scenario_bytes: &[u8]) -> Layout {
        let canonical = self.grid.canonical(&self.seeds);
        Layout {
            parameters: self.grid.parameters.iter().map(|p| p.name.clone()).collect(),
            metrics: self.grid.metrics.iter().map(|m| m.to_string()).collect(),
            seeds: self.seeds.clone(),
            points: self.grid.points(),
            fingerprint: out::fnv1a(&[
                env!("CARGO_PKG_VERSION").as_bytes(),
                scenario_bytes,
                canonical.as_bytes(),
            ]),
        }
    }
}

fn pool(jobs: usize) -> Result<rayon::ThreadPool, SweepError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| SweepError::Pool {
            jobs,
            message: e.to_string(),
        })
}

/// Runs every (point, seed) of the plan's shard. `load` gives the scenario of a point (its seed is
/// then set per run); `progress` is advanced once per simulation. Results are in grid order.
pub fn execute<F>(plan: &Plan, progress: &ProgressBar, load: F) -> Result<Vec<PointResult>, SweepError>
where
    F: Fn(usize) -> Result<Scenario, String> + Sync,
{
    let points: Vec<usize> = plan.shard.points(plan.grid.points()).collect();
    // Lowest point that failed so far: points above it are skipped, points below still run, so the
    // reported error is that of the lowest failing point whatever the scheduling.
    let lowest_failure = AtomicUsize::new(usize::MAX);
    let grid = &plan.grid;
    let run_point = |point: usize| -> Option<Result<PointResult, SweepError>> {
        if point > lowest_failure.load(Ordering::Relaxed) {
            return None;
        }
        let result = (|| {
            let sc = load(point).map_err(|message| SweepError::Point {
                point,
                values: grid.describe(point),
                message,
            })?;
            let runs = plan
                .seeds
                .par_iter()
                .map(|&seed| {
                    let mut run = sc.clone();
                    run.seed = seed;
                    let r = crate::sim::run(&run).map_err(|e| SweepError::Run {
                        point,
                        values: grid.describe(point),
                        seed,
                        message: e.to_string(),
                    });
                    progress.inc(1);
                    r.map(|r| grid.metrics.iter().map(|m| m.value(&r.summary)).collect::<Vec<f64>>())
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(PointResult {
                point,
                values: grid.values(point).into_iter().map(cell).collect(),
                runs,
            })
        })();
        if result.is_err() {
            lowest_failure.fetch_min(point, Ordering::Relaxed);
        }
        Some(result)
    };
    let results: Vec<Option<Result<PointResult, SweepError>>> =
        pool(plan.jobs)?.install(|| points.par_iter().map(|&p| run_point(p)).collect());
    let mut done = Vec::with_capacity(results.len());
    for r in results.into_iter().flatten() {
        done.push(r?);
    }
    Ok(done)
}

/// Loads every point of the shard (no simulation) and reports the lowest that fails.
pub fn check_points<F>(plan: &Plan, load: F) -> Result<(), SweepError>
where
    F: Fn(usize) -> Result<(), String> + Sync,
{
    let points: Vec<usize> = plan.shard.points(plan.grid.points()).collect();
    let lowest = AtomicUsize::new(usize::MAX);
    let errors: Vec<Option<(usize, String)>> = pool(plan.jobs)?.install(|| {
        points
            .par_iter()
            .map(|&p| {
                if p > lowest.load(Ordering::Relaxed) {
                    return None;
                }
                load(p).err().map(|m| {
                    lowest.fetch_min(p, Ordering::Relaxed);
                    (p, m)
                })
            })
            .collect()
    });
    match errors.into_iter().flatten().next() {
        Some((point, message)) => Err(SweepError::Point {
            point,
            values: plan.grid.describe(point),
            message,
        }),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Checking the grid against the scenario
// ---------------------------------------------------------------------------------------------

/// The scenario file. Every point loads it afresh with its overrides, through
/// [`crate::scenario::load`], so includes resolve as in `capsim run` (including a directory that
/// holds the scenario itself).
pub struct Source {
    pub path: PathBuf,
    /// The file's bytes when the sweep started (they, with the grid, make the fingerprint).
    pub bytes: Vec<u8>,
}

impl Source {
    pub fn read(path: &Path) -> Result<Source, Failure> {
        let bytes = std::fs::read(path).map_err(|e| bad_input(anyhow::anyhow!("{}: {e}", path.display())))?;
        Ok(Source {
            path: path.to_path_buf(),
            bytes,
        })
    }

    /// Loads the scenario with `overrides` applied.
    pub fn load(&self, overrides: &[String]) -> Result<Scenario, crate::scenario::ScenarioError> {
        crate::scenario::load(&self.path, overrides)
    }
}

/// Checks the grid against the scenario before anything runs (steps 2–3 of the module docs) and
/// returns the scenario as loaded without overrides.
pub fn check_grid(grid_file: &str, grid: &Grid, src: &Source) -> Result<Scenario, Failure> {
    let base = src.load(&[]).map_err(bad_input)?;
    let workloads: BTreeSet<&str> = base.workloads.iter().map(|w| w.name.as_str()).collect();
    for (k, m) in grid.metrics.iter().enumerate() {
        if let Some(w) = &m.workload
            && !workloads.contains(w.as_str())
        {
            return Err(bad_input(GridError {
                file: grid_file.to_string(),
                path: Some(format!("metrics[{k}]")),
                message: format!(
                    "{m}: the scenario has no workload {w:?} (it has: {})",
                    workloads.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            }));
        }
    }
    for (i, p) in grid.parameters.iter().enumerate() {
        let at = |message: String| {
            bad_input(GridError {
                file: grid_file.to_string(),
                path: Some(format!("parameters[{i}] ({})", p.name)),
                message,
            })
        };
        // Syntax first (no load needed), then every value on its own, then the final key.
        crate::scenario::parse_override(&format!("{}=0", p.path)).map_err(|e| at(e.to_string()))?;
        for v in &p.values {
            src.load(&[p.override_for(v)])
                .map_err(|e| at(format!("value {}: {e}", cell(v))))?;
        }
        field_exists(&base, p).map_err(at)?;
    }
    Ok(base)
}

/// Checks that the parameter's field is set in the scenario as loaded, so that a misspelt final key
/// is an error rather than a sweep of a field nothing reads (`--set` creates a missing final key).
/// Skipped with `create: true`. A path whose object or intermediate keys are missing is left to the
/// dry loads, whose errors list what exists.
fn field_exists(base: &Scenario, p: &Parameter) -> Result<(), String> {
    use crate::scenario::Segment;
    // The value does not matter for the path; `0` parses as YAML.
    let ov = crate::scenario::parse_override(&format!("{}=0", p.path)).map_err(|e| e.to_string())?;
    if p.create {
        return Ok(());
    }
    let docs: Vec<&crate::scenario::RawDocument> = base
        .documents
        .iter()
        .filter(|d| {
            d.kind == ov.kind
                && ov.name.as_ref().is_none_or(|n| &d.name == n)
                && ov.namespace.as_ref().is_none_or(|ns| &d.namespace == ns)
        })
        .collect();
    let [doc] = docs.as_slice() else {
        return Ok(());
    };
    let mut cur = &doc.value;
    for (depth, seg) in ov.path.iter().enumerate() {
        let next = match (seg, cur) {
            (Segment::Key(k), Value::Object(map)) => map.get(k),
            (Segment::Index(i), Value::Array(items)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None if depth + 1 == ov.path.len() => {
                let have = match cur {
                    Value::Object(map) if !map.is_empty() => {
                        format!(" (it has: {})", map.keys().cloned().collect::<Vec<_>>().join(", "))
                    }
                    _ => String::new(),
                };
                return Err(format!(
                    "{} is not set in {}{have}; check the spelling, or add `create: true` to sweep a field the scenario leaves at its default",
                    crate::scenario::overrides::PathDisplay(&ov.path),
                    doc.object()
                ));
            }
            // A missing intermediate key: the dry load reports it with what exists.
            None => return Ok(()),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

fn progress_bar(runs: usize, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(runs as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {elapsed_precise} (eta {eta})") {
        pb.set_style(style);
    }
    pb
}

/// Default worker count: the machine's available parallelism.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn run(args: &SweepArgs) -> Result<(), Failure> {
    let grid_file = args.grid.display().to_string();
    let grid = Grid::read(&args.grid).map_err(bad_input)?;
    let jobs = match args.jobs {
        Some(0) => return Err(bad_input(anyhow::anyhow!("-j 0: at least one job is needed"))),
        Some(j) => j,
        None => default_jobs(),
    };
    let src = Source::read(&args.scenario)?;
    let base = check_grid(&grid_file, &grid, &src)?;
    if !args.quiet {
        for w in &base.warnings {
            eprintln!("warning: {w}");
        }
    }
    let seeds = match (args.seeds, &grid.seeds) {
        (Some(0), _) => return Err(bad_input(anyhow::anyhow!("--seeds 0: at least one seed is needed"))),
        (Some(k), _) if k > MAX_SEEDS => {
            return Err(bad_input(anyhow::anyhow!(
                "--seeds {k}: more than the limit of {MAX_SEEDS}"
            )));
        }
        (Some(k), _) => (1..=k as u64).collect(),
        (None, Some(s)) => s.clone(),
        (None, None) => vec![base.seed],
    };
    let shard = args.shard.unwrap_or(Shard::ALL);
    let plan = Plan {
        grid,
        seeds,
        shard,
        jobs,
    };
    let layout = plan.layout(&src.bytes);
    if plan.grid.parameters.len() >= 2 {
        check_points(&plan, |p| {
            src.load(&plan.grid.overrides(p)).map(|_| ()).map_err(|e| e.to_string())
        })
        .map_err(bad_input)?;
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(format!("{}-sweep", base.name)));
    super::run::check_output_dir(&output)?;
    if !args.quiet {
        outln!(
            "sweep {}: {} points × {} seeds{} = {} runs on {jobs} threads",
            base.name,
            layout.points,
            plan.seeds.len(),
            if args.shard.is_some() {
                format!(", shard {shard}")
            } else {
                String::new()
            },
            plan.runs()
        );
    }
    drop(base);
    let progress = progress_bar(plan.runs(), args.quiet);
    let results = execute(&plan, &progress, |p| {
        src.load(&plan.grid.overrides(p)).map_err(|e| e.to_string())
    });
    progress.finish_and_clear();
    let results = results.map_err(bad_input)?;
    let written = match args.shard {
        Some(shard) => {
            let path = output.join(shard.file_name());
            crate::report::atomic_write(&path, &out::runs_csv(&layout, shard, &results)).map_err(failed)?;
            vec![path]
        }
        None => write_outputs(&output, &layout, &results)?,
    };
    if !args.quiet {
        if args.shard.is_none() {
            out!("{}", frontier_table(&layout, &results));
        }
        outln!(
            "wrote {}",
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// Writes what an unsharded sweep writes (and `capsim merge` too): `sweep.csv`, `sweep-runs.csv`
/// and the frontier chart.
pub fn write_outputs(dir: &Path, layout: &Layout, points: &[PointResult]) -> Result<Vec<PathBuf>, Failure> {
    let sweep = dir.join(SWEEP_CSV);
    let runs = dir.join(RUNS_CSV);
    // Render everything first: a failure to draw writes nothing.
    let chart = crate::report::sweep_chart::render_frontier(layout, points).map_err(failed)?;
    crate::report::atomic_write(&sweep, &out::sweep_csv(layout, points)).map_err(failed)?;
    crate::report::atomic_write(&runs, &out::runs_csv(layout, Shard::ALL, points)).map_err(failed)?;
    let mut written = vec![sweep, runs];
    if let Some(c) = chart {
        written.extend(crate::report::sweep_chart::write(dir, &c).map_err(failed)?);
    }
    Ok(written)
}

/// The Pareto-optimal points (cost vs Pending p95) as a terminal table, points with equal cost
/// and Pending p95 on one line; empty when the metrics lack either.
pub fn frontier_table(layout: &Layout, points: &[PointResult]) -> String {
    use crate::report::sweep_chart::{axes, means, short_name};
    let Some((cx, py)) = axes(layout) else {
        return String::new();
    };
    let xy = means(points, cx, py);
    let groups = out::pareto_groups(&xy);
    if groups.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\nPareto-optimal points ({} vs {}):\n{:>7}  {:>12}  {:>14}  parameters\n",
        layout.metrics[cx], layout.metrics[py], "point", "cost", "pending p95 s"
    );
    for g in groups {
        let first = &points[g[0]];
        let mut line = format!(
            "{:>7}  {:>12}  {:>14}  {}",
            first.point,
            out::fmt6(xy[g[0]].0),
            out::fmt6(xy[g[0]].1),
            out::point_label(layout, first, short_name)
        );
        if g.len() > 1 {
            let more: Vec<String> = g[1..].iter().take(10).map(|&i| points[i].point.to_string()).collect();
            line.push_str(&format!(
                "  (and {} more with the same figures: point{} {}{})",
                g.len() - 1,
                if g.len() > 2 { "s" } else { "" },
                more.join(", "),
                if g.len() > 11 { ", ..." } else { "" }
            ));
        }
        s.push_str(&line);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sweep::default_metrics;

    fn parse(text: &str) -> Result<Grid, String> {
        Grid::parse("grid.yaml", text).map_err(|e| e.to_string())
    }

    const EXAMPLE: &str = r#"
parameters:
  - path: "HorizontalPodAutoscaler/checkout-api:spec.metrics[0].resource.target.averageUtilization"
    name: target
    values: [50, 60, 70, 80]
  - path: "Scenario:spec.provisioner.clusterAutoscaler.args[1]"
    values: ["--expander=least-waste", "--expander=price"]
  - path: "Deployment/checkout-api:spec.replicas"
    range: {from: 2, to: 10, step: 2}
seeds: 5
metrics: [pending_p95_s, unserved_share, cost_usd, pending_p95_s@checkout-api]
"#;

    #[test]
    fn example_grid_expands_in_documented_order() {
        let g = parse(EXAMPLE).unwrap();
        assert_eq!(g.points(), 4 * 2 * 5);
        assert_eq!(g.seeds, Some(vec![1, 2, 3, 4, 5]));
        assert_eq!(g.metrics.len(), 4);
        assert_eq!(g.parameters[0].name, "target");
        assert_eq!(
            g.parameters[1].name,
            "Scenario:spec.provisioner.clusterAutoscaler.args[1]"
        );
        // Last parameter fastest: point 1 moves replicas, point 5 moves the expander, point 10 the
        // target.
        let cases: &[(usize, &str)] = &[
            (0, "50 --expander=least-waste 2"),
            (1, "50 --expander=least-waste 4"),
            (4, "50 --expander=least-waste 10"),
            (5, "50 --expander=price 2"),
            (10, "60 --expander=least-waste 2"),
            (39, "80 --expander=price 10"),
        ];
        for (p, want) in cases {
            let got: Vec<String> = g.values(*p).into_iter().map(cell).collect();
            assert_eq!(got.join(" "), *want, "point {p}");
        }
        assert_eq!(
            g.overrides(5),
            vec![
                "HorizontalPodAutoscaler/checkout-api:spec.metrics[0].resource.target.averageUtilization=50",
                "Scenario:spec.provisioner.clusterAutoscaler.args[1]=\"--expander=price\"",
                "Deployment/checkout-api:spec.replicas=2",
            ]
        );
        assert_eq!(
            g.describe(5),
            "target=50, Scenario:spec.provisioner.clusterAutoscaler.args[1]=--expander=price, Deployment/checkout-api:spec.replicas=2"
        );
    }

    #[test]
    fn values_keep_their_yaml_types() {
        let g =
            parse("parameters:\n  - {path: 'Scenario:spec.duration', values: [30m, \"6\", 6, 0.5, true, {a: 1}]}\n")
                .unwrap();
        let p = &g.parameters[0];
        let ovs: Vec<String> = p.values.iter().map(|v| p.override_for(v)).collect();
        assert_eq!(
            ovs,
            vec![
                "Scenario:spec.duration=\"30m\"",
                "Scenario:spec.duration=\"6\"",
                "Scenario:spec.duration=6",
                "Scenario:spec.duration=0.5",
                "Scenario:spec.duration=true",
                "Scenario:spec.duration={\"a\":1}",
            ]
        );
        let cells: Vec<String> = p.values.iter().map(cell).collect();
        assert_eq!(cells, vec!["30m", "6", "6", "0.5", "true", "{\"a\":1}"]);
    }

    #[test]
    fn ranges() {
        // (range, values)
        let cases = [
            ("{from: 2, to: 10, step: 2}", "2 4 6 8 10"),
            ("{from: 2, to: 9, step: 2}", "2 4 6 8"),
            ("{from: 5, to: 5, step: 1}", "5"),
            ("{from: 0.1, to: 0.3, step: 0.1}", "0.1 0.2 0.3"),
            ("{from: 1, to: 2, step: 0.25}", "1.0 1.25 1.5 1.75 2.0"),
            ("{from: -2, to: 2, step: 2}", "-2 0 2"),
        ];
        for (range, want) in cases {
            let g = parse(&format!(
                "parameters:\n  - path: 'Deployment/a:spec.replicas'\n    range: {range}\n"
            ))
            .unwrap();
            let got: Vec<String> = g.parameters[0].values.iter().map(cell).collect();
            assert_eq!(got.join(" "), want, "{range}");
        }
    }

    #[test]
    fn no_parameters_is_one_point_and_seeds_take_both_forms() {
        let g = parse("parameters: []\nseeds: [3, 7, 11]\n").unwrap();
        assert_eq!(g.points(), 1);
        assert_eq!(g.overrides(0), Vec::<String>::new());
        assert_eq!(g.seeds, Some(vec![3, 7, 11]));
        assert_eq!(g.metrics, default_metrics());
        let g = parse("parameters: []\n").unwrap();
        assert_eq!(g.seeds, None);
    }

    #[test]
    fn malformed_grids_are_errors() {
        let p = "path: 'Deployment/a:spec.replicas'";
        // (grid, expected message fragment)
        let cases = [
            ("".to_string(), "grid.yaml: the grid is empty"),
            ("parameters: [\n".to_string(), "grid.yaml: "),
            (
                format!("parameters:\n  - {{{p}, values: [1], vals: [2]}}\n"),
                "parameters[0].vals: unknown field `vals`",
            ),
            ("paramters: []\n".to_string(), "unknown field `paramters`"),
            ("seeds: 3\n".to_string(), "missing field `parameters`"),
            (
                format!("parameters:\n  - {{{p}, values: []}}\n"),
                "grid.yaml: parameters[0].values: empty",
            ),
            (
                format!("parameters:\n  - {{{p}}}\n"),
                "parameters[0]: needs `values: [...]` or `range",
            ),
            (
                format!("parameters:\n  - {{{p}, values: [1], range: {{from: 1, to: 2, step: 1}}}}\n"),
                "has both",
            ),
            (
                format!("parameters:\n  - {{{p}, values: [1, 2, 1]}}\n"),
                "parameters[0].values[2]: 1 repeats values[0]",
            ),
            (
                format!("parameters:\n  - {{{p}, range: {{from: 1, to: 4, step: 0}}}}\n"),
                "parameters[0].range.step: 0 must be greater than 0",
            ),
            (
                format!("parameters:\n  - {{{p}, range: {{from: 1, to: 4, step: -1}}}}\n"),
                "range.step: -1 must be greater than 0",
            ),
            (
                format!("parameters:\n  - {{{p}, range: {{from: 5, to: 4, step: 1}}}}\n"),
                "parameters[0].range.to: 4 is below `from` (5)",
            ),
            (
                format!("parameters:\n  - {{{p}, range: {{from: a, to: 4, step: 1}}}}\n"),
                "range.from: \"a\" is not a number",
            ),
            (
                format!("parameters:\n  - {{{p}, range: {{from: 1, to: 4}}}}\n"),
                "missing field `step`",
            ),
            (
                format!("parameters:\n  - {{{p}, range: {{from: 0, to: 1000000, step: 1}}}}\n"),
                "more than 100000 values",
            ),
            (
                "parameters:\n  - {path: 'spec.replicas', values: [1]}\n".to_string(),
                "parameters[0].path: \"spec.replicas\" has no ':'",
            ),
            (
                "parameters:\n  - {path: 'Deployment/a:spec.replicas=3', values: [1]}\n".to_string(),
                "contains '='",
            ),
            (
                "parameters:\n  - {path: '  ', values: [1]}\n".to_string(),
                "parameters[0].path: empty",
            ),
            (
                format!("parameters:\n  - {{{p}, values: [1]}}\n  - {{{p}, values: [2]}}\n"),
                "parameters[1].path: \"Deployment/a:spec.replicas\" is already swept by parameters[0]",
            ),
            (
                format!(
                    "parameters:\n  - {{{p}, name: n, values: [1]}}\n  - {{path: 'Deployment/b:spec.replicas', name: n, values: [2]}}\n"
                ),
                "parameters[1].name: \"n\" is already the name",
            ),
            (
                format!("parameters:\n  - {{{p}, name: seed, values: [1]}}\n"),
                "is a column capsim writes itself",
            ),
            ("parameters: []\nseeds: 0\n".to_string(), "seeds: 0 seeds"),
            ("parameters: []\nseeds: []\n".to_string(), "seeds: empty list"),
            (
                "parameters: []\nseeds: [1, -2]\n".to_string(),
                "seeds: [1]: -2 is not a seed",
            ),
            (
                "parameters: []\nseeds: [4, 4]\n".to_string(),
                "seeds: [1]: seed 4 is listed twice",
            ),
            (
                "parameters: []\nseeds: many\n".to_string(),
                "\"many\" is not a count or a list",
            ),
            ("parameters: []\nmetrics: []\n".to_string(), "metrics: empty"),
            (
                "parameters: []\nmetrics: [cost]\n".to_string(),
                "metrics[0]: unknown metric \"cost\"",
            ),
            (
                "parameters: []\nmetrics: [cost_usd, cost_usd]\n".to_string(),
                "metrics[1]: cost_usd is listed twice",
            ),
            (
                "parameters: []\nmetrics: [peak_nodes@api]\n".to_string(),
                "cluster-wide",
            ),
            (
                format!(
                    "parameters:\n{}",
                    (0..7)
                        .map(|i| format!("  - {{path: 'D/a{i}:x', range: {{from: 1, to: 10, step: 1}}}}\n"))
                        .collect::<String>()
                ),
                "more than 1000000 points",
            ),
            (
                "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nparameters: []\n".to_string(),
                "unknown field `a`",
            ),
        ];
        let mut wrong = Vec::new();
        for (text, want) in cases {
            match parse(&text) {
                Err(e) if e.contains(want) => {}
                other => wrong.push(format!("{text:?}\n  got: {other:?}\n  want: {want}")),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn frontier_table_groups_ties() {
        let layout = Layout {
            parameters: vec!["Deployment/api:spec.replicas".into()],
            metrics: vec!["cost_usd".into(), "pending_p95_s".into()],
            seeds: vec![1],
            points: 4,
            fingerprint: String::new(),
        };
        // (cost, p95): points 0 and 1 tie at (1, 0); 2 (2, 0) is dominated; 3 (0.5, 30) is cheaper.
        let xy = [(1.0, 0.0), (1.0, 0.0), (2.0, 0.0), (0.5, 30.0)];
        let points: Vec<PointResult> = xy
            .iter()
            .enumerate()
            .map(|(i, &(c, p))| PointResult {
                point: i,
                values: vec![(4 + i).to_string()],
                runs: vec![vec![c, p]],
            })
            .collect();
        let t = frontier_table(&layout, &points);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[1], "Pareto-optimal points (cost_usd vs pending_p95_s):");
        assert_eq!(lines[3], "      3           0.5              30  replicas=7");
        assert_eq!(
            lines[4],
            "      0             1               0  replicas=4  (and 1 more with the same figures: point 1)"
        );
        assert_eq!(lines.len(), 5, "{t}");
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        text.push_str("parameters: []\n");
        let e = parse(&text).unwrap_err();
        assert!(e.contains("budget"), "the bomb was expanded: {e}");
    }
}
