//! `capsim validate SCENARIO [--set ...]`: parse and check without running.

use super::Failure;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Overrides, as for `capsim run`.
    #[arg(long = "set", value_name = "OVERRIDE")]
    pub set: Vec<String>,
}

pub fn run(args: &ValidateArgs) -> Result<(), Failure> {
    let sc = super::run::load(&args.scenario, None, &args.set)?;
    // Building the world validates the later stages too: HPAs, the provisioner and its node groups
    // or NodePools.
    let world = crate::sim::World::new(&sc).map_err(super::bad_input)?;
    for w in &world.warnings {
        eprintln!("warning: {w}");
    }
    let pods: u32 = sc.workloads.iter().map(|w| w.replicas).sum();
    let nodes: u32 = sc.static_nodes.iter().map(|n| n.count).sum();
    outln!(
        "{}: ok — {} workloads ({} initial pods), {} HPAs, {} static nodes, {} simulated",
        args.scenario.display(),
        sc.workloads.len(),
        pods,
        sc.hpas.len(),
        nodes,
        sc.duration
    );
    Ok(())
}
