//! `capsim rightsize SCENARIO [--set ...] [--seed N] [-o DIR]`: requests recommended by the VPA
//! recommender from the run's own usage, applied, and the scenario run again; cost saved beside
//! risk taken (`crate::report::rightsize`).
//!
//! Exit codes: 0 = success, 2 = bad input, 1 = an output could not be written.

use super::{Failure, bad_input, failed};
use crate::report::{compare, rightsize};
use clap::Args;
use std::path::PathBuf;

/// The names of the two runs (and their output subdirectories).
pub const AS_WRITTEN: &str = "as-written";
pub const RIGHTSIZED: &str = "rightsized";

#[derive(Debug, Args)]
#[command(after_help = "\
Each service workload's requests are set to the VPA recommender's final target from the first
run (its own VerticalPodAutoscaler's, else an updateMode: Off VPA capsim adds to watch it), limits
scaled in proportion unless the VPA says controlledValues: RequestsOnly; then the scenario runs
again with the same seed. Writes rightsize.txt (also printed), rightsize.csv,
rightsize-requests.csv, compare.txt/.csv, overlay charts, and each run's outputs in as-written/
and rightsized/.

Example:
  capsim rightsize scenarios/rightsizing.yaml -o out/rightsizing")]
pub struct RightsizeArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// An override applied to both runs: `Kind/name:field.path=value` (repeatable).
    #[arg(long = "set", value_name = "OVERRIDE")]
    pub set: Vec<String>,
    /// The seed of both runs [default: the scenario's seed].
    #[arg(long, allow_hyphen_values = true, value_parser = super::run::parse_seed)]
    pub seed: Option<u64>,
    /// Output directory [default: out/rightsize-<scenario name>].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write no PNG/SVG charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: &RightsizeArgs) -> Result<(), Failure> {
    let sc = super::run::load(&args.scenario, args.seed, &args.set)?;
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(format!("rightsize-{}", sc.name)));
    super::run::check_output_dir(&out)?;
    for w in &sc.warnings {
        eprintln!("warning: {w}");
    }
    let (observed, skipped) = rightsize::observed(&sc);
    if !args.quiet {
        eprintln!(
            "run 1 of 2: the scenario as written (seed {}), recommender watching every service",
            sc.seed
        );
    }
    let first = crate::sim::run(&observed).map_err(|e| bad_input(anyhow::Error::new(e).context(AS_WRITTEN)))?;
    let (second_sc, changes) = rightsize::rightsized(&sc, &observed, &first);
    if !args.quiet {
        eprintln!("run 2 of 2: {} containers rightsized", changes.len());
    }
    let second = crate::sim::run(&second_sc).map_err(|e| bad_input(anyhow::Error::new(e).context(RIGHTSIZED)))?;
    let report = rightsize::compare(&first, &second, changes, skipped);
    let results = vec![(AS_WRITTEN.to_string(), first), (RIGHTSIZED.to_string(), second)];
    for (name, r) in &results {
        for w in &r.warnings {
            eprintln!("warning: {name}: {w}");
        }
    }
    let mut written = compare::write_compare(&out, &results, &sc.name, !args.no_charts).map_err(failed)?;
    written.extend(rightsize::write(&out, &report).map_err(failed)?);
    if !args.quiet {
        out!("{}", rightsize::table(&report));
        outln!(
            "\nwrote {} files under {} (rightsize.txt, rightsize.csv, rightsize-requests.csv, compare.*, {AS_WRITTEN}/, {RIGHTSIZED}/)",
            written.len(),
            out.display()
        );
    }
    Ok(())
}
