//! Subcommands, one module each, with their clap `Args` and a `run`.

/// `println!` that drops output to a closed pipe (`capsim run ... | head`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` that drops output to a closed pipe instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

pub mod catalog;
pub mod compare;
pub mod demo;
pub mod hpa;
pub mod merge;
pub mod rightsize;
pub mod run;
pub mod sweep;
pub mod validate;
pub mod vpa;

use clap::{Parser, Subcommand};
use std::fmt;
use std::process::ExitCode;

/// capsim — simulate the Kubernetes autoscaling pipeline: traffic, HPA, scheduler, Cluster
/// Autoscaler or Karpenter, and what it costs.
#[derive(Debug, Parser)]
#[command(name = "capsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write summary.json, timeline.csv, pods.csv and nodes.csv.
    Run(run::RunArgs),
    /// Run the built-in demo scenario (no files needed).
    Demo(demo::DemoArgs),
    /// Check a scenario without running it.
    Validate(validate::ValidateArgs),
    /// Run a scenario over a grid of settings and seeds; write sweep.csv and the cost-vs-Pending frontier.
    #[command(after_long_help = sweep::GRID_HELP)]
    Sweep(sweep::SweepArgs),
    /// Combine `capsim sweep --shard` outputs into the files one unsharded sweep writes.
    Merge(merge::MergeArgs),
    /// What the HPA would do: evaluate upstream test vectors, or explain decisions over a metric series.
    Hpa(hpa::HpaArgs),
    /// What the VPA would recommend: a recommender dry run over a CSV of container usage.
    Vpa(vpa::VpaArgs),
    /// List and filter the instance catalog (types, allocatable, prices, spot interruption bands).
    Catalog(catalog::CatalogArgs),
    /// Run several scenarios, or one under several `--variant` override sets, with one seed, and
    /// compare them side by side.
    Compare(compare::CompareArgs),
    /// Recommend requests from a run's usage (the VPA recommender), apply them, run again, and
    /// show the cost saved beside the risk taken.
    Rightsize(rightsize::RightsizeArgs),
}

/// Why a command failed, and the exit code that says so.
#[derive(Debug)]
pub enum Failure {
    /// The input was wrong (exit 2).
    BadInput(anyhow::Error),
    /// Something else went wrong (exit 1).
    Failed(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::BadInput(_) => ExitCode::from(2),
            Failure::Failed(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = match self {
            Failure::BadInput(e) | Failure::Failed(e) => e,
        };
        write!(f, "{e}")?;
        for cause in e.chain().skip(1) {
            write!(f, "\n  caused by: {cause}")?;
        }
        Ok(())
    }
}

/// Marks an error as bad input.
pub fn bad_input<E: Into<anyhow::Error>>(e: E) -> Failure {
    Failure::BadInput(e.into())
}

/// Marks an error as a failure.
pub fn failed<E: Into<anyhow::Error>>(e: E) -> Failure {
    Failure::Failed(e.into())
}

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Run(a) => run::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Validate(a) => validate::run(&a),
        Command::Sweep(a) => sweep::run(&a),
        Command::Merge(a) => merge::run(&a),
        Command::Catalog(a) => catalog::run(&a).map_err(bad_input),
        Command::Compare(a) => compare::run(&a),
        Command::Rightsize(a) => rightsize::run(&a),
        Command::Vpa(a) => vpa::run(&a, &mut std::io::stdout().lock()).map_err(bad_input),
        Command::Hpa(a) => {
            let outcome = hpa::run(&a, &mut std::io::stdout().lock()).map_err(bad_input)?;
            return Ok(ExitCode::from(outcome.exit_code() as u8));
        }
    }
    .map(|()| ExitCode::SUCCESS)
}
