//! `capsim merge DIR|FILES... [-o DIR]`: combines the `sweep.part-I-of-N.csv` files of a sharded
//! sweep into exactly the files one unsharded `capsim sweep` writes (`sweep.csv`,
//! `sweep-runs.csv`, the frontier chart), byte for byte.
//!
//! A directory argument stands for every `sweep.part-*-of-*.csv` in it; files are taken as named.
//! Every shard 0..N must be there exactly once, all from the same sweep (same scenario file, grid,
//! seeds and capsim version), each complete; anything else is bad input (exit 2) naming the files.

use super::{Failure, bad_input, failed};
use crate::report::sweep::{self as out, RunsFile};
use clap::Args;
use std::path::{Path, PathBuf};

/// Largest shard file read (a million runs of a dozen metrics is about 200 MB).
pub const MAX_PART_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard files, or directories holding them.
    #[arg(required = true, value_name = "DIR|FILE")]
    pub inputs: Vec<PathBuf>,
    /// Output directory [default: the first input directory, or the directory of the first file].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Whether `name` is a shard file name, `sweep.part-I-of-N.csv`.
pub fn is_part_name(name: &str) -> bool {
    name.strip_prefix("sweep.part-")
        .and_then(|r| r.strip_suffix(".csv"))
        .and_then(|r| r.split_once("-of-"))
        .is_some_and(|(i, n)| {
            !i.is_empty()
                && !n.is_empty()
                && i.bytes().all(|b| b.is_ascii_digit())
                && n.bytes().all(|b| b.is_ascii_digit())
        })
}

/// The shard files named by the inputs: files as given, directories expanded to their shard files
/// in name order.
pub fn part_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let rd = std::fs::read_dir(input).map_err(|e| bad_input(anyhow::anyhow!("{}: {e}", input.display())))?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(is_part_name))
                .collect();
            if found.is_empty() {
                return Err(bad_input(anyhow::anyhow!(
                    "{}: no sweep.part-I-of-N.csv files in this directory",
                    input.display()
                )));
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// Reads and parses shard files.
pub fn read_parts(files: &[PathBuf]) -> Result<Vec<RunsFile>, Failure> {
    let mut parts = Vec::with_capacity(files.len());
    for f in files {
        let name = f.display().to_string();
        let meta = std::fs::metadata(f).map_err(|e| bad_input(anyhow::anyhow!("{name}: {e}")))?;
        if meta.len() > MAX_PART_BYTES {
            return Err(bad_input(anyhow::anyhow!(
                "{name}: {} bytes is larger than the {MAX_PART_BYTES}-byte limit",
                meta.len()
            )));
        }
        let text = std::fs::read_to_string(f).map_err(|e| bad_input(anyhow::anyhow!("{name}: {e}")))?;
        parts.push(out::read_runs(&name, &text).map_err(bad_input)?);
    }
    Ok(parts)
}

/// Merges shard files into `dir`; returns the files written.
pub fn merge_into(files: &[PathBuf], dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let parts = read_parts(files)?;
    let (layout, points) = out::merge(parts).map_err(bad_input)?;
    super::sweep::write_outputs(dir, &layout, &points)
}

pub fn run(args: &MergeArgs) -> Result<(), Failure> {
    let files = part_files(&args.inputs)?;
    let dir = match &args.output {
        Some(o) => o.clone(),
        None => match args.inputs.first() {
            Some(first) if first.is_dir() => first.clone(),
            Some(first) => first
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            None => return Err(failed(anyhow::anyhow!("no inputs"))),
        },
    };
    let written = merge_into(&files, &dir)?;
    if !args.quiet {
        outln!(
            "merged {} shard files\nwrote {}",
            files.len(),
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names() {
        for (name, ok) in [
            ("sweep.part-0-of-3.csv", true),
            ("sweep.part-12-of-40.csv", true),
            ("sweep.part--of-3.csv", false),
            ("sweep.part-a-of-3.csv", false),
            ("sweep.csv", false),
            ("sweep-runs.csv", false),
            ("sweep.part-0-of-3.csv.tmp", false),
        ] {
            assert_eq!(is_part_name(name), ok, "{name}");
        }
    }
}
