//! `capsim demo`: runs a scenario embedded in the binary; needs no files.

use super::{Failure, bad_input};
use clap::Args;
use std::path::PathBuf;

/// The built-in scenario (also at scenarios/demo.yaml).
pub const DEMO_SCENARIO: &str = include_str!("../../scenarios/demo.yaml");

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output directory.
    #[arg(short, long, default_value = "out/demo")]
    pub output: PathBuf,
}

pub fn run(args: &DemoArgs) -> Result<(), Failure> {
    println!("capsim demo: a checkout service's Monday-morning surge (traffic ×4 in ten minutes) on a fixed cluster.");
    println!("It shows how long new pods sit Pending, how much traffic goes unserved, and what the nodes cost.\n");
    let sc = crate::scenario::load_str("demo.yaml", DEMO_SCENARIO, None, &[]).map_err(bad_input)?;
    super::run::run_loaded(&sc, &args.output, false).map(|_| ())
}
