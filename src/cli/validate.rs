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
    /// An instance catalog CSV instead of the scenario's catalog.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Exit 2 when there is any warning or lint (for CI).
    #[arg(long)]
    pub strict: bool,
}

pub fn run(args: &ValidateArgs) -> Result<(), Failure> {
    let mut set = args.set.clone();
    if let Some(c) = &args.catalog {
        set.push(super::run::catalog_override(c)?);
    }
    let sc = super::run::load(&args.scenario, None, &set)?;
    // The later stages validate what they read, without building a simulation: the HPAs (with
    // the controller-manager settings) and the provisioner with its node groups or NodePools.
    let autoscaling = crate::sim::autoscaling::Autoscaling::new(&sc).map_err(super::bad_input)?;
    let mut findings = sc.warnings.len();
    if let Some(setup) = sc.provisioner.build(&sc).map_err(super::bad_input)? {
        for w in &setup.warnings {
            eprintln!("warning: {w}");
        }
        findings += setup.warnings.len();
    }
    let lints = crate::sim::lint::lints(&sc, &autoscaling.hpas);
    for l in &lints {
        eprintln!("lint: {l}");
    }
    findings += lints.len();
    if args.strict && findings > 0 {
        return Err(super::bad_input(anyhow::anyhow!(
            "--strict: {findings} warning(s) and lint(s) (see above)"
        )));
    }
    let pods: u32 = sc.workloads.iter().map(|w| w.replicas).sum();
    let nodes: u32 = sc.static_nodes.iter().map(|n| n.count).sum();
    outln!(
        "{}: ok — {} workloads ({} initial pods), {} HPAs, {}{} static nodes, {} simulated",
        args.scenario.display(),
        sc.workloads.len(),
        pods,
        sc.hpas.len(),
        if sc.vpas.is_empty() {
            String::new()
        } else {
            format!("{} VPAs, ", sc.vpas.len())
        },
        nodes,
        sc.duration
    );
    Ok(())
}
