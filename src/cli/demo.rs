//! `capsim demo`: the Monday-morning surge under Cluster Autoscaler, Karpenter, and Karpenter with
//! a warm pool — scenarios embedded in the binary, so it needs no files.

use super::{Failure, bad_input, failed};
use crate::report::compare;
use clap::Args;
use std::path::PathBuf;

/// The built-in scenarios (also in scenarios/), with the names the comparison shows.
pub const DEMO_SCENARIOS: [(&str, &str, &str); 3] = [
    (
        "cluster-autoscaler",
        "monday-surge-ca.yaml",
        include_str!("../../scenarios/monday-surge-ca.yaml"),
    ),
    (
        "karpenter",
        "monday-surge-karpenter.yaml",
        include_str!("../../scenarios/monday-surge-karpenter.yaml"),
    ),
    (
        "karpenter+warm-pool",
        "monday-surge-karpenter-warm.yaml",
        include_str!("../../scenarios/monday-surge-karpenter-warm.yaml"),
    ),
];

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output directory.
    #[arg(short, long, default_value = "out/demo")]
    pub output: PathBuf,
    /// Skip the PNG/SVG charts.
    #[arg(long)]
    pub no_charts: bool,
}

pub fn run(args: &DemoArgs) -> Result<(), Failure> {
    outln!("capsim demo: checkout-api's Monday-morning surge (traffic ×4 in ten minutes) with the same HPA,");
    outln!("on Cluster Autoscaler, on Karpenter, and on Karpenter with a warm pool and a faster HPA scale-up.\n");
    super::run::check_output_dir(&args.output)?;
    let mut variants = Vec::new();
    for (name, file, text) in DEMO_SCENARIOS {
        let sc = crate::scenario::load_str(file, text, None, &[]).map_err(bad_input)?;
        variants.push((name.to_string(), sc));
    }
    let results = compare::run_variants(variants).map_err(bad_input)?;
    out!("{}", compare::compare_table(&compare::compare_rows(&results)));
    let written = compare::write_compare(
        &args.output,
        &results,
        "Monday surge: CA vs Karpenter vs warm pool",
        !args.no_charts,
    )
    .map_err(failed)?;
    outln!("\nwrote {} files under {}", written.len(), args.output.display());
    Ok(())
}
