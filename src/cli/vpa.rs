//! `capsim vpa recommend VPA.yaml USAGE.csv`: a VPA recommender dry run over a usage series,
//! with the simulation's own recommender code (`crate::controllers::vpa`).
//!
//! Exit codes: 0 = success, 2 = bad input (unreadable file, invalid manifest or series).

use crate::controllers::vpa::config::RecommenderConfig;
use crate::controllers::vpa::spec::VpaSpec;
use crate::controllers::vpa::{RecommendationRow, UsageSample, recommend_series};
use crate::model::units::{Quantity, parse_duration};
use anyhow::{Context, Result, anyhow, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `capsim vpa ...`
#[derive(Debug, clap::Args)]
pub struct VpaArgs {
    #[command(subcommand)]
    pub command: VpaCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum VpaCommand {
    /// Dry-run the VPA recommender over a CSV of container usage: its recommendation at every
    /// recommender loop (target, lower and upper bound, uncapped target) per container.
    Recommend(RecommendArgs),
}

#[derive(Debug, clap::Args)]
pub struct RecommendArgs {
    /// The VerticalPodAutoscaler manifest (YAML; the first VerticalPodAutoscaler document is used).
    pub vpa: PathBuf,
    /// CSV with columns `time` (seconds or a Go duration like 1h30m), `pod`, `container`, `cpu`
    /// (a quantity like 250m, or plain cores), `memory` (a quantity like 512Mi, or plain bytes)
    /// and optionally `oom` (1 = the container was OOM-killed at that sample).
    pub usage: PathBuf,
    /// Also write the rows as CSV to this file.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// `--recommender-interval` (default 1m).
    #[arg(long, default_value = "1m")]
    pub interval: String,
}

/// Reads the first VerticalPodAutoscaler document of a YAML file.
pub fn read_vpa_manifest(path: &Path) -> Result<VpaSpec> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(&text).map_err(|e| anyhow!("{}: invalid YAML: {e}", path.display()))?;
    let (i, doc) = docs
        .iter()
        .enumerate()
        .find(|(_, d)| d.get("kind").and_then(|k| k.as_str()) == Some("VerticalPodAutoscaler"))
        .ok_or_else(|| anyhow!("{}: no VerticalPodAutoscaler document", path.display()))?;
    let doc_name = |i: usize| format!("{}: document {} (VerticalPodAutoscaler)", path.display(), i + 1);
    match doc.get("apiVersion").and_then(|v| v.as_str()) {
        Some("autoscaling.k8s.io/v1") => {}
        v => bail!(
            "{}: apiVersion {v:?} is not supported (expected autoscaling.k8s.io/v1)",
            doc_name(i)
        ),
    }
    let name = doc["metadata"]["name"].as_str().unwrap_or_default();
    let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
    VpaSpec::from_value(doc, name, ns).map_err(|e| anyhow!("{}: {e}", doc_name(i)))
}

/// Parses a usage CSV (module docs).
pub fn parse_usage(text: &str) -> Result<Vec<UsageSample>> {
    let mut rd = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rd.headers().context("reading the header")?.clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let need = |name: &str| col(name).ok_or_else(|| anyhow!("missing a {name:?} column"));
    let (ct, cp, cc, ccpu, cmem) = (
        need("time")?,
        need("pod")?,
        need("container")?,
        need("cpu")?,
        need("memory")?,
    );
    let coom = col("oom");
    let mut out = Vec::new();
    for (k, rec) in rd.records().enumerate() {
        let line = k + 2;
        let rec = rec.with_context(|| format!("line {line}"))?;
        let field = |i: usize| rec.get(i).unwrap_or("");
        let err = |m: String| anyhow!("line {line}: {m}");
        let t = field(ct);
        let t_s = match t.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => v,
            Ok(_) => return Err(err(format!("time must be >= 0 seconds, got {t:?}"))),
            Err(_) => parse_duration(t).map_err(|e| err(format!("time: {e}")))?.as_secs_f64(),
        };
        let quantity = |i: usize, what: &str| -> Result<Quantity> {
            let q = Quantity::parse(field(i)).map_err(|e| err(format!("{what}: {e}")))?;
            if q.is_negative() {
                return Err(err(format!("{what} must not be negative, got {:?}", field(i))));
            }
            Ok(q)
        };
        let oom = match coom.map(field) {
            None | Some("") | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => return Err(err(format!("oom must be 0 or 1, got {other:?}"))),
        };
        let pod = field(cp);
        let container = field(cc);
        if pod.is_empty() || container.is_empty() {
            return Err(err("pod and container must not be empty".into()));
        }
        out.push(UsageSample {
            t_s,
            pod: pod.to_string(),
            container: container.to_string(),
            cpu_m: quantity(ccpu, "cpu")?.milli_value(),
            mem: quantity(cmem, "memory")?.value(),
            oom,
        });
    }
    if out.is_empty() {
        bail!("no samples");
    }
    // Epoch milliseconds read as seconds would put the series thousands of years ahead:
    // refuse times past 10¹¹ s (year 5138 as epoch seconds), as the trace readers do.
    if let Some(s) = out.iter().find(|s| s.t_s > 1.0e11) {
        bail!(
            "time {} s looks like milliseconds; give seconds or durations (e.g. 90s, 1h30m)",
            s.t_s
        );
    }
    Ok(out)
}

/// Writes the rows as CSV: `time,container,resource,lower_bound,target,upper_bound,uncapped_target`
/// (CPU in millicores with the `m` suffix, memory in bytes).
pub fn write_rows(rows: &[RecommendationRow], mut w: impl Write) -> std::io::Result<()> {
    writeln!(
        w,
        "time,container,resource,lower_bound,target,upper_bound,uncapped_target"
    )?;
    for r in rows {
        let q = |v: i64| {
            if r.resource == "cpu" {
                format!("{v}m")
            } else {
                v.to_string()
            }
        };
        writeln!(
            w,
            "{},{},{},{},{},{},{}",
            r.t_s,
            r.container,
            r.resource,
            q(r.lower_bound),
            q(r.target),
            q(r.upper_bound),
            q(r.uncapped_target)
        )?;
    }
    Ok(())
}

/// `capsim vpa ...`.
pub fn run(args: &VpaArgs, out: &mut dyn Write) -> Result<()> {
    let VpaCommand::Recommend(a) = &args.command;
    let vpa = read_vpa_manifest(&a.vpa)?;
    let interval = parse_duration(&a.interval).map_err(|e| anyhow!("--interval: {e}"))?;
    if interval.is_zero() {
        bail!("--interval must be > 0");
    }
    let text = std::fs::read_to_string(&a.usage).with_context(|| format!("cannot read {}", a.usage.display()))?;
    let samples = parse_usage(&text).with_context(|| a.usage.display().to_string())?;
    let config = RecommenderConfig {
        interval,
        ..RecommenderConfig::default()
    };
    let rows = recommend_series(&vpa, &samples, config);
    let mut buf = Vec::new();
    write_rows(&rows, &mut buf)?;
    if let Some(path) = &a.output {
        crate::report::files::atomic_write(path, &buf).map_err(|e| anyhow!("{e}"))?;
    } else {
        out.write_all(&buf)?;
    }
    Ok(())
}
