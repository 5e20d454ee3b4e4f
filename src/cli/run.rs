//! `capsim run SCENARIO [-o DIR] [--seed N] [--set ...]`

use super::{Failure, bad_input, failed};
use crate::scenario::{self, Scenario};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (multi-document YAML).
    pub scenario: PathBuf,
    /// Output directory [default: out/<scenario name>].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Override the scenario's seed (a whole number, 0 or more).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Edit the scenario before it is parsed: `Kind/name:field.path=value` (repeatable).
    #[arg(long = "set", value_name = "OVERRIDE")]
    pub set: Vec<String>,
    /// An instance catalog CSV (the bundled catalog's columns) instead of the scenario's catalog.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Write no PNG/SVG charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Treat every warning (unknown Cluster Autoscaler flags, skipped kinds, ignored fields) as
    /// an error: exit 2 before running. For CI.
    #[arg(long)]
    pub strict: bool,
    /// Also write promtool/rules.yaml and promtool/test.yaml: the scenario's alerting rules, the
    /// series the run exposed and the alerts capsim found firing, for `promtool test rules`.
    #[arg(long)]
    pub promtool_test: bool,
}

/// `--seed`: a whole number from 0 to 2⁶⁴ − 1 (`-5` is read as a value, and refused, not taken
/// for an unknown flag).
pub fn parse_seed(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| format!("expected a whole number from 0 to {}, got {text:?}", u64::MAX))
}

/// With `--strict`, the warnings a run would print are an error.
pub fn check_strict(sc: &Scenario, strict: bool) -> Result<(), Failure> {
    if !strict {
        return Ok(());
    }
    let mut warnings = sc.warnings.clone();
    if let Some(setup) = sc.provisioner.build(sc).map_err(bad_input)? {
        warnings.extend(setup.warnings);
    }
    if warnings.is_empty() {
        return Ok(());
    }
    Err(bad_input(anyhow::anyhow!(
        "--strict: {} warning(s) (see above); fix them or run without --strict:\n  {}",
        warnings.len(),
        warnings.join("\n  ")
    )))
}

/// `-o` must be a directory or not exist yet: an existing file is refused naming `-o`.
pub fn check_output_dir(out: &Path) -> Result<(), Failure> {
    match std::fs::metadata(out) {
        Ok(m) if !m.is_dir() => Err(bad_input(anyhow::anyhow!(
            "-o {}: is a file, not a directory; give a directory to write the outputs into",
            out.display()
        ))),
        _ => Ok(()),
    }
}

/// Loads a scenario with `--seed` folded into the overrides.
pub fn load(path: &Path, seed: Option<u64>, set: &[String]) -> Result<Scenario, Failure> {
    let mut overrides = set.to_vec();
    if let Some(s) = seed {
        overrides.push(format!("Scenario:spec.seed={s}"));
    }
    let sc = scenario::load(path, &overrides).map_err(bad_input)?;
    for w in &sc.warnings {
        eprintln!("warning: {w}");
    }
    Ok(sc)
}

/// Runs a loaded scenario, prints its table and writes its files and charts.
pub fn run_loaded(sc: &Scenario, output: &Path, quiet: bool) -> Result<crate::sim::SimResult, Failure> {
    run_loaded_with(sc, output, quiet, true)
}

/// [`run_loaded`], with the charts optional.
pub fn run_loaded_with(
    sc: &Scenario,
    output: &Path,
    quiet: bool,
    charts: bool,
) -> Result<crate::sim::SimResult, Failure> {
    let result = crate::sim::run(sc).map_err(bad_input)?;
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    // Charts, then the data files, then summary.json: a directory without summary.json holds an
    // incomplete set (a killed run's); temporaries that killed runs left are removed first.
    crate::report::files::begin_outputs(output).map_err(failed)?;
    let mut written = Vec::new();
    if charts {
        let title = format!("{} (seed {})", sc.name, sc.seed);
        written.extend(crate::report::charts::write_run_charts(output, &result, &title).map_err(failed)?);
    }
    written.extend(crate::report::write_run_outputs(output, &result).map_err(failed)?);
    if !quiet {
        out!("{}", crate::report::summary_table(&result.summary));
        outln!(
            "\nwrote {}",
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(result)
}

/// `--catalog FILE` as an override of `spec.catalog` (absolute, so it does not resolve against the
/// scenario's directory).
pub fn catalog_override(file: &Path) -> Result<String, Failure> {
    let abs =
        std::fs::canonicalize(file).map_err(|e| bad_input(anyhow::anyhow!("--catalog {}: {e}", file.display())))?;
    let text = abs
        .to_str()
        .ok_or_else(|| bad_input(anyhow::anyhow!("--catalog {}: not UTF-8", file.display())))?;
    Ok(format!(
        "Scenario:spec.catalog={}",
        serde_json::Value::String(text.to_string())
    ))
}

pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let mut set = args.set.clone();
    if let Some(c) = &args.catalog {
        set.push(catalog_override(c)?);
    }
    let sc = load(&args.scenario, args.seed, &set)?;
    check_strict(&sc, args.strict)?;
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&sc.name));
    check_output_dir(&out)?;
    let result = run_loaded_with(&sc, &out, args.quiet, !args.no_charts)?;
    if args.promtool_test {
        let dir = out.join("promtool");
        std::fs::create_dir_all(&dir).map_err(|e| failed(anyhow::anyhow!("{}: {e}", dir.display())))?;
        let rules = crate::alerts::promtool::rules_file(&sc.rule_groups);
        let test = crate::alerts::promtool::test_file(
            &result.series,
            &result.alerts,
            sc.resolution.as_millis(),
            &sc.rule_groups,
            400,
        );
        for (name, text) in [("rules.yaml", rules), ("test.yaml", test)] {
            crate::report::files::atomic_write(&dir.join(name), text.as_bytes()).map_err(failed)?;
        }
        if !args.quiet {
            outln!(
                "wrote {} (run: promtool test rules {})",
                dir.display(),
                dir.join("test.yaml").display()
            );
        }
    }
    Ok(())
}
