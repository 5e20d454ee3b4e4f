//! `capsim compare A.yaml B.yaml ... [--variant NAME=OVERRIDES]... [--set ...] [--seed N] [-o DIR]`
//!
//! Runs several scenarios, or one scenario under several named override sets, with one shared
//! seed (common random numbers), in parallel, and writes a side-by-side table (`compare.txt`,
//! also printed), `compare.csv`, overlay charts and each run's own outputs in a subdirectory.
//!
//! # Variants
//!
//! `--variant NAME=OVERRIDE[;OVERRIDE...]` names a set of `--set` overrides
//! (`Kind/name:field.path=value`). Several overrides go in one flag separated by `;`, or in
//! repeated flags with the same NAME (they add up, in order). NAME is letters, digits, `.`, `_`
//! and `-`. `NAME=` with no overrides is the unmodified scenario under another name.
//!
//! ```text
//! capsim compare monday.yaml \
//!   --variant 'fast=HorizontalPodAutoscaler/checkout-api:spec.behavior.scaleUp.stabilizationWindowSeconds=0' \
//!   --variant 'fast=HorizontalPodAutoscaler/checkout-api:spec.minReplicas=6' \
//!   --variant 'big=HorizontalPodAutoscaler/checkout-api:spec.maxReplicas=80;HorizontalPodAutoscaler/checkout-api:spec.minReplicas=10'
//! ```
//!
//! Each scenario runs once unmodified (as `baseline`, unless `--no-baseline`) and once per
//! variant. With several scenario files the runs are named by scenario (`monday`, or
//! `monday/fast` with variants). Overrides given with `--set` apply to every run, before the
//! variant's own. A value containing `;` cannot be written inside `--variant`.
//!
//! The seed is `--seed` if given, else the first scenario's own seed, for every run.

use super::{Failure, bad_input, failed};
use crate::report::compare;
use crate::scenario::Scenario;
use clap::Args;
use std::path::{Path, PathBuf};

/// The name the unmodified scenario runs under when variants are given.
pub const BASELINE: &str = "baseline";

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  capsim compare ca.yaml karpenter.yaml
  capsim compare monday.yaml \\
    --variant 'fast=HorizontalPodAutoscaler/checkout-api:spec.behavior.scaleUp.stabilizationWindowSeconds=0' \\
    --variant 'big=HorizontalPodAutoscaler/checkout-api:spec.maxReplicas=80;HorizontalPodAutoscaler/checkout-api:spec.minReplicas=10'

Each variant is the scenario plus its overrides (after any --set); the unmodified scenario runs
as 'baseline' unless --no-baseline. Overrides within one --variant are separated by ';', and
repeating a NAME adds to that variant. Every run uses one seed: --seed, else the first scenario's.")]
pub struct CompareArgs {
    /// Scenario files (two or more, or one with --variant).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// A named set of overrides, `NAME=Kind/name:path=value[;...]` (repeatable; repeating a NAME
    /// adds to its set).
    #[arg(long = "variant", value_name = "NAME=OVERRIDES")]
    pub variants: Vec<String>,
    /// An override applied to every run: `Kind/name:field.path=value` (repeatable).
    #[arg(long = "set", value_name = "OVERRIDE")]
    pub set: Vec<String>,
    /// The seed of every run [default: the first scenario's seed].
    #[arg(long, allow_hyphen_values = true, value_parser = super::run::parse_seed)]
    pub seed: Option<u64>,
    /// With --variant: leave out the unmodified scenario.
    #[arg(long)]
    pub no_baseline: bool,
    /// Output directory [default: out/compare-<first scenario name>].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write no PNG/SVG charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// A named set of overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    pub name: String,
    pub overrides: Vec<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VariantError {
    #[error(
        "--variant {given:?}: expected NAME=OVERRIDE[;OVERRIDE...], e.g. \
         'fast=HorizontalPodAutoscaler/api:spec.behavior.scaleUp.stabilizationWindowSeconds=0'"
    )]
    MissingName { given: String },
    #[error("--variant {given:?}: the name {name:?} may only hold letters, digits, '.', '_' and '-'")]
    BadName { given: String, name: String },
    #[error("--variant {given:?}: override {part:?} has no '=' (expected Kind/name:field.path=value)")]
    BadOverride { given: String, part: String },
    #[error("--variant {given:?}: {BASELINE:?} names the unmodified scenario; pick another name or pass --no-baseline")]
    Reserved { given: String },
}

/// Parses `--variant` flags into named override sets, in order of first appearance; flags
/// repeating a name add to its set. `baseline_reserved` rejects the name `baseline`.
pub fn parse_variants(flags: &[String], baseline_reserved: bool) -> Result<Vec<Variant>, VariantError> {
    let mut out: Vec<Variant> = Vec::new();
    for given in flags {
        let Some((name, rest)) = given.split_once('=') else {
            return Err(VariantError::MissingName { given: given.clone() });
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(VariantError::MissingName { given: given.clone() });
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(VariantError::BadName {
                given: given.clone(),
                name: name.to_string(),
            });
        }
        if baseline_reserved && name == BASELINE {
            return Err(VariantError::Reserved { given: given.clone() });
        }
        let mut overrides = Vec::new();
        for part in rest.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            if !part.contains('=') {
                return Err(VariantError::BadOverride {
                    given: given.clone(),
                    part: part.to_string(),
                });
            }
            overrides.push(part.to_string());
        }
        match out.iter_mut().find(|v| v.name == name) {
            Some(v) => v.overrides.extend(overrides),
            None => out.push(Variant {
                name: name.to_string(),
                overrides,
            }),
        }
    }
    Ok(out)
}

/// Names for the scenarios: their `metadata.name`, or the file stem where two share a name,
/// with `#2`, `#3` ... where even those collide.
fn scenario_names(paths: &[PathBuf], scenarios: &[Scenario]) -> Vec<String> {
    let mut names: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
    let dup = |names: &[String], i: usize| names.iter().filter(|n| **n == names[i]).count() > 1;
    let stems: Vec<String> = (0..names.len())
        .map(|i| {
            if dup(&names, i) {
                paths[i]
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| names[i].clone())
            } else {
                names[i].clone()
            }
        })
        .collect();
    names = stems;
    let mut out = Vec::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        let before = names[..i].iter().filter(|m| *m == n).count();
        out.push(if before == 0 {
            n.clone()
        } else {
            format!("{n}#{}", before + 1)
        });
    }
    out
}

/// Loads one run, naming it in any error.
fn load_run(path: &Path, seed: u64, set: &[String], extra: &[String], run: &str) -> Result<Scenario, Failure> {
    let mut overrides = set.to_vec();
    overrides.extend_from_slice(extra);
    super::run::load(path, Some(seed), &overrides).map_err(|e| match e {
        Failure::BadInput(e) => Failure::BadInput(e.context(format!("run {run:?}"))),
        Failure::Failed(e) => Failure::Failed(e.context(format!("run {run:?}"))),
    })
}

/// Loads every run of a comparison: (name, scenario) in output order, all with one seed.
pub fn plan(args: &CompareArgs) -> Result<(Vec<(String, Scenario)>, u64), Failure> {
    let variants = parse_variants(&args.variants, !args.no_baseline).map_err(bad_input)?;
    if args.scenarios.len() < 2 && variants.is_empty() {
        return Err(bad_input(anyhow::anyhow!(
            "nothing to compare: give two or more scenario files, or one with --variant NAME=OVERRIDES"
        )));
    }
    if args.no_baseline && variants.is_empty() {
        return Err(bad_input(anyhow::anyhow!("--no-baseline needs at least one --variant")));
    }
    let Some(first_path) = args.scenarios.first() else {
        return Err(bad_input(anyhow::anyhow!("compare needs at least one scenario file")));
    };
    // The first scenario fixes the seed unless --seed does.
    let first = super::run::load(first_path, args.seed, &args.set)?;
    let seed = args.seed.unwrap_or(first.seed);
    let mut bases = vec![first];
    for p in &args.scenarios[1..] {
        bases.push(super::run::load(p, Some(seed), &args.set)?);
    }
    let names = scenario_names(&args.scenarios, &bases);
    let several = args.scenarios.len() > 1;
    let mut runs = Vec::new();
    for ((path, base), sname) in args.scenarios.iter().zip(bases).zip(&names) {
        if variants.is_empty() {
            runs.push((sname.clone(), base));
            continue;
        }
        let label = |v: &str| if several { format!("{sname}/{v}") } else { v.to_string() };
        if !args.no_baseline {
            runs.push((label(BASELINE), base));
        }
        for v in &variants {
            let name = label(&v.name);
            let sc = load_run(path, seed, &args.set, &v.overrides, &name)?;
            runs.push((name, sc));
        }
    }
    Ok((runs, seed))
}

pub fn run(args: &CompareArgs) -> Result<(), Failure> {
    let (runs, seed) = plan(args)?;
    let first_name = runs.first().map(|(_, s)| s.name.clone()).unwrap_or_default();
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(format!("compare-{first_name}")));
    super::run::check_output_dir(&out)?;
    if !args.quiet {
        eprintln!("running {} variants in parallel (seed {seed})", runs.len());
    }
    let results = compare::run_variants(runs).map_err(bad_input)?;
    for (name, r) in &results {
        for w in &r.warnings {
            eprintln!("warning: {name}: {w}");
        }
    }
    let written = compare::write_compare(&out, &results, &first_name, !args.no_charts).map_err(failed)?;
    if !args.quiet {
        out!("{}", compare::compare_table(&compare::compare_rows(&results)));
        outln!(
            "\nwrote {} files under {} (compare.txt, compare.csv{}, one directory per variant)",
            written.len(),
            out.display(),
            if args.no_charts {
                ""
            } else {
                ", compare-timeline, compare-pending-cdf"
            }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str, o: &[&str]) -> Variant {
        Variant {
            name: name.into(),
            overrides: o.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn variants_split_on_semicolons_and_merge_by_name() {
        let flags: Vec<String> = [
            "fast=HorizontalPodAutoscaler/api:spec.minReplicas=6",
            "big=A/x:spec.a=1; A/x:spec.b=2;",
            "fast=A/x:spec.c=3",
            "plain=",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            parse_variants(&flags, true).unwrap(),
            vec![
                v(
                    "fast",
                    &["HorizontalPodAutoscaler/api:spec.minReplicas=6", "A/x:spec.c=3"]
                ),
                v("big", &["A/x:spec.a=1", "A/x:spec.b=2"]),
                v("plain", &[]),
            ]
        );
    }

    #[test]
    fn variant_errors() {
        let err = |s: &str, reserved: bool| parse_variants(&[s.to_string()], reserved).unwrap_err();
        assert!(matches!(err("noequals", true), VariantError::MissingName { .. }));
        assert!(matches!(err("=A/x:spec.a=1", true), VariantError::MissingName { .. }));
        assert!(matches!(err("a b=A/x:spec.a=1", true), VariantError::BadName { .. }));
        assert!(matches!(err("x=A/x:spec.a=1;oops", true), VariantError::BadOverride { part, .. } if part == "oops"));
        assert!(matches!(
            err("baseline=A/x:spec.a=1", true),
            VariantError::Reserved { .. }
        ));
        assert!(parse_variants(&["baseline=A/x:spec.a=1".to_string()], false).is_ok());
    }
}
