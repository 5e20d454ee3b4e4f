//! The shipped scenarios tell the stories they claim (run from the repository's scenarios/), and
//! end-to-end behaviours through the whole pipeline on small YAML scenarios.

mod bench;
mod hpa_pipeline;
mod monday;
mod pdb_drain;
mod pending_breakdown;
pub(crate) mod preemption;
mod provision_failure;
mod rightsizing;
mod shipped;
mod spot;
mod spot_interruptions_off;
mod vpa_world;

/// Loads `scenarios/<file>` with `--set` overrides and runs it.
pub fn run(file: &str, overrides: &[&str]) -> capsim::sim::SimResult {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let sc = capsim::scenario::load(&path, &overrides).unwrap_or_else(|e| panic!("{file}: {e}"));
    capsim::sim::run(&sc).unwrap_or_else(|e| panic!("{file}: {e}"))
}
