//! `capsim hpa`: evaluate upstream HPA test vectors, and explain what an HPA would do over a metric series.
//!
//! Exit codes (mapped by `main` from [`HpaOutcome::exit_code`] and errors):
//! 0 = success (every vector passed / explain ran), 1 = some vector failed, 2 = bad input (unreadable
//! file, wrong schema, invalid manifest or series).

use crate::controllers::hpa::config::HpaControllerConfig;
use crate::controllers::hpa::explain::{self, ExplainOptions, ValueKind};
use crate::controllers::hpa::spec::HpaSpec;
use crate::controllers::hpa::vectors::VectorFile;
use crate::model::units::parse_duration;
use anyhow::{Context, Result, anyhow, bail};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `capsim hpa ...`
#[derive(Debug, clap::Args)]
pub struct HpaArgs {
    #[command(subcommand)]
    pub command: HpaCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum HpaCommand {
    /// Run upstream-style HPA test vectors (k8s-autoscaling-sim/hpa-vectors/v1) through capsim's HPA code.
    /// Prints one JSON object per vector, then `N passed, M failed`.
    Eval(EvalArgs),
    /// Dry-run an HPA manifest over a CSV series of its metric: what it decides at each sync, and why.
    Explain(ExplainArgs),
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The vectors file (JSON).
    pub file: PathBuf,
}

/// Whether series values are per ready pod or a total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValueArg {
    PerPod,
    Total,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The HorizontalPodAutoscaler manifest (YAML; the first HorizontalPodAutoscaler document is used).
    pub hpa: PathBuf,
    /// CSV with columns `time` (seconds or Go duration), `value` (or `value_per_pod` / `value_total`)
    /// and optionally `ready_pods`. Values use the target's unit (percent for Utilization targets).
    pub series: PathBuf,
    /// Also write the decisions as CSV to this file.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Replicas at the start of the series (default: minReplicas).
    #[arg(long)]
    pub replicas: Option<i32>,
    /// Whether `value` is per ready pod or the total over ready pods (default: from the column name,
    /// else per-pod).
    #[arg(long, value_enum)]
    pub value: Option<ValueArg>,
    /// Time from pod creation to Ready, as a Go duration (default: 0s, immediately).
    #[arg(long, default_value = "0s")]
    pub ready_delay: String,
    /// Which spec.metrics entry the series is (0-based).
    #[arg(long, default_value_t = 0)]
    pub metric: usize,
    /// Treat the HPA as just created (its first recommendation holds scale-down for one window).
    #[arg(long)]
    pub new_hpa: bool,
    /// Print only the syncs where replicas change or the reason changes.
    #[arg(long)]
    pub changes_only: bool,
    /// kube-controller-manager HPA flags, e.g. `--kcm-flag=--horizontal-pod-autoscaler-sync-period=30s`.
    #[arg(long = "kcm-flag", allow_hyphen_values = true)]
    pub kcm_flags: Vec<String>,
}

/// The result of a successful run; `main` maps it with [`HpaOutcome::exit_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HpaOutcome {
    Success,
    /// `hpa eval`: at least one vector failed.
    VectorsFailed,
}

impl HpaOutcome {
    pub fn exit_code(self) -> i32 {
        match self {
            HpaOutcome::Success => 0,
            HpaOutcome::VectorsFailed => 1,
        }
    }
}

/// Exit code for an error returned by [`run`] (bad input).
pub const EXIT_BAD_INPUT: i32 = 2;

/// Runs `capsim hpa`, writing results to `out`.
pub fn run(args: &HpaArgs, out: &mut dyn Write) -> Result<HpaOutcome> {
    match &args.command {
        HpaCommand::Eval(a) => run_eval(a, out),
        HpaCommand::Explain(a) => run_explain(a, out),
    }
}

/// `capsim hpa eval FILE`.
pub fn run_eval(args: &EvalArgs, out: &mut dyn Write) -> Result<HpaOutcome> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let file = VectorFile::parse(&text).with_context(|| format!("{}", args.file.display()))?;
    let outcomes = file.evaluate_all();
    let passed = outcomes.iter().filter(|o| o.pass).count();
    for o in &outcomes {
        writeln!(out, "{}", o.to_json_line())?;
    }
    writeln!(out, "{passed} passed, {} failed", outcomes.len() - passed)?;
    Ok(if passed == outcomes.len() {
        HpaOutcome::Success
    } else {
        HpaOutcome::VectorsFailed
    })
}

/// Reads the first `HorizontalPodAutoscaler` document of a YAML file.
pub fn read_hpa_manifest(path: &Path) -> Result<HorizontalPodAutoscaler> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(&text).map_err(|e| anyhow!("{}: invalid YAML: {e}", path.display()))?;
    let (i, doc) = docs
        .into_iter()
        .enumerate()
        .find(|(_, d)| d.get("kind").and_then(|k| k.as_str()) == Some("HorizontalPodAutoscaler"))
        .ok_or_else(|| anyhow!("{}: no HorizontalPodAutoscaler document", path.display()))?;
    if let Some(v) = doc.get("apiVersion").and_then(|v| v.as_str())
        && v != "autoscaling/v2"
    {
        bail!(
            "{}: document {}: apiVersion {v:?} is not supported (expected autoscaling/v2)",
            path.display(),
            i + 1
        );
    }
    serde_path_to_error::deserialize(doc).map_err(|e| {
        anyhow!(
            "{}: document {} (HorizontalPodAutoscaler): {}: {}",
            path.display(),
            i + 1,
            e.path(),
            e.inner()
        )
    })
}

/// `capsim hpa explain HPA.yaml SERIES.csv`.
pub fn run_explain(args: &ExplainArgs, out: &mut dyn Write) -> Result<HpaOutcome> {
    let config = HpaControllerConfig::from_flags(&args.kcm_flags).context("--kcm-flag")?;
    let manifest = read_hpa_manifest(&args.hpa)?;
    let spec = HpaSpec::from_manifest(&manifest, &config).with_context(|| args.hpa.display().to_string())?;
    let text =
        std::fs::read_to_string(&args.series).with_context(|| format!("cannot read {}", args.series.display()))?;
    let series = explain::parse_series(&text).with_context(|| args.series.display().to_string())?;
    let value_kind = match (args.value, series.kind_from_header) {
        (Some(ValueArg::PerPod), _) => ValueKind::PerPod,
        (Some(ValueArg::Total), _) => ValueKind::Total,
        (None, Some(k)) => k,
        (None, None) => ValueKind::PerPod,
    };
    let ready_delay = parse_duration(&args.ready_delay).map_err(|e| anyhow!("--ready-delay: {e}"))?;
    let opts = ExplainOptions {
        initial_replicas: args.replicas,
        ready_delay,
        value_kind,
        metric_index: args.metric,
        new_hpa: args.new_hpa,
    };
    let rows = explain::explain(&spec, &config, &series, &opts)?;
    let metric = spec.metrics.get(args.metric).map(|m| m.describe()).unwrap_or_default();
    writeln!(
        out,
        "HPA {} -> {} {} (min {}, max {}, {}), metric: {metric} ({}), sync every {}s",
        spec.name,
        spec.scale_target.kind,
        spec.scale_target.name,
        spec.min_replicas,
        spec.max_replicas,
        if spec.behavior.is_some() {
            "behavior"
        } else {
            "no behavior: legacy rules"
        },
        match value_kind {
            ValueKind::PerPod => "value per ready pod",
            ValueKind::Total => "value is the total",
        },
        config.sync_period.as_secs_f64(),
    )?;
    if spec.metrics.len() > 1 {
        writeln!(
            out,
            "note: only spec.metrics[{}] is explained; the other metrics are ignored",
            args.metric
        )?;
    }
    write!(out, "{}", explain::render_table(&rows, args.changes_only))?;
    if let Some(path) = &args.output {
        let tmp = path.with_extension("csv.tmp");
        let f = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        explain::write_csv(&rows, std::io::BufWriter::new(f)).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(HpaOutcome::Success)
}
