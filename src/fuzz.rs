//! A fuzz harness for capsim's input parsers and a short simulation: seeded, in-process, every
//! input run under `catch_unwind`, so a panic is caught, counted and reported with the input
//! that caused it. Bad input must give an error, never a panic.
//!
//! Inputs come two ways, alternating at random:
//! - **mutation** of a corpus of valid inputs (the shipped Monday-surge scenarios, traces,
//!   overrides, grids): bytes flipped, inserted, deleted, chunks duplicated or spliced, tokens
//!   from a dictionary of values parsers get wrong (`-1`, `1e309`, `NaN`, `.inf`, `~`, huge counts,
//!   unit typos);
//! - **grammar-aware generation**: a valid input with one scalar replaced by a dictionary value,
//!   or a structure (a YAML flow map or list) put where a scalar was, so inputs get past the
//!   syntax and into the checks behind it.
//!
//! Run it with `cargo bench --bench fuzz -- [TARGET ...] [--inputs N] [--seed S]` (release build;
//! README "Bad input" gives the counts measured); the test suite runs a few thousand inputs of each
//! target.

use crate::engine::SimDuration;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What is fuzzed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A whole scenario file (YAML, every document kind) through `scenario::load_str`.
    Scenario,
    /// Go durations (`parse_duration`).
    Duration,
    /// Kubernetes quantities (`Quantity::parse`).
    Quantity,
    /// CSV traces through the replay pipeline.
    TraceCsv,
    /// Prometheus `query_range` exports through the replay pipeline.
    TracePrometheus,
    /// `--set` overrides (`parse_override`).
    Set,
    /// Sweep grid files (`Grid::parse`).
    Grid,
    /// Scenarios that load are run for five simulated minutes.
    Simulation,
}

impl Target {
    pub const ALL: &'static [Target] = &[
        Target::Scenario,
        Target::Duration,
        Target::Quantity,
        Target::TraceCsv,
        Target::TracePrometheus,
        Target::Set,
        Target::Grid,
        Target::Simulation,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Target::Scenario => "scenario",
            Target::Duration => "duration",
            Target::Quantity => "quantity",
            Target::TraceCsv => "trace-csv",
            Target::TracePrometheus => "trace-prometheus",
            Target::Set => "set",
            Target::Grid => "grid",
            Target::Simulation => "simulation",
        }
    }

    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.iter().copied().find(|t| t.name() == name)
    }
}

/// What a fuzz run found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub inputs: u64,
    /// Inputs the parser accepted (the rest were refused with an error).
    pub accepted: u64,
    /// Inputs that panicked (up to [`MAX_KEPT_PANICS`] kept, with their message).
    pub panics: u64,
    pub examples: Vec<(String, String)>,
}

/// Panicking inputs kept for the report.
pub const MAX_KEPT_PANICS: usize = 5;

const SCENARIOS: &[&str] = &[
    include_str!("../scenarios/monday-surge-ca.yaml"),
    include_str!("../scenarios/monday-surge-karpenter.yaml"),
    include_str!("../scenarios/monday-surge-karpenter-warm.yaml"),
];

const DURATIONS: &[&str] = &[
    "90s",
    "10m",
    "1h30m",
    "500ms",
    "2h45m30.5s",
    "0s",
    "1.5h",
    "300us",
    "-5m",
];
const QUANTITIES: &[&str] = &[
    "250m", "1.5", "512Mi", "1G", "129e6", "0", "2Ki", "100n", "1E3", "0.5Ti",
];
const TRACE_CSV: &[&str] = &[
    "time,value\n0,10\n60,20\n120,15\n180,30\n",
    "time,value\n1715590800,1\n1715590860,2\n1715590920,3\n",
    "time,value\n2024-05-13T09:00:00Z,4\n2024-05-13T09:01:00Z,5\n2024-05-13T09:02:00Z,6\n",
];
const TRACE_PROM: &[&str] = &[
    r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"api"},"values":[[1700000000,"10"],[1700000015,"20"],[1700000030,"NaN"],[1700000045,"40"]]}]}}"#,
];
const SETS: &[&str] = &[
    "Deployment/checkout-api:spec.replicas=6",
    "HorizontalPodAutoscaler/checkout-api:spec.metrics[0].resource.target.averageUtilization=50",
    "Scenario:spec.provisioner.clusterAutoscaler.args[1]=--expander=price",
    "Scenario:spec.workloads.checkout-api.traffic.base=1500",
    "Deployment/x:spec.template.spec.nodeSelector.\"kubernetes.io/arch\"=arm64",
];
const GRIDS: &[&str] = &[
    "parameters:\n  - path: \"Deployment/checkout-api:spec.replicas\"\n    range: {from: 2, to: 10, step: 2}\n  - path: \"Scenario:spec.resolution\"\n    values: [5s, 10s]\n    create: true\nseeds: 3\nmetrics: [pending_p95_s, cost_usd]\n",
];

/// Values parsers get wrong.
const DICTIONARY: &[&str] = &[
    "-1",
    "0",
    "1e309",
    "NaN",
    ".inf",
    "-.inf",
    "~",
    "null",
    "",
    "\"\"",
    "[]",
    "{}",
    "[1",
    "{a:",
    "9999999999999999999",
    "-9223372036854775808",
    "1000000000",
    "0.0000001",
    "10m",
    "1h30m",
    "250m",
    "512Mi",
    "1.5Gi",
    "5Mb",
    "1x",
    "µs",
    "1e-9",
    "true",
    "yes",
    "*a",
    "&a x",
    "!!binary",
    "'",
    "\\u0000",
    "0x10",
    "00:00",
    "2024-13-45T99:99:99Z",
    "1715590800000",
    "---",
    "...",
    "#",
    "- - -",
    "{cpu: -1}",
    "[[[[[[[[",
    "%",
    "Always",
    "Never",
    "karpenter",
];

fn pick<'a>(rng: &mut Xoshiro256PlusPlus, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

/// One byte- or token-level mutation of `s`.
fn mutate_once(rng: &mut Xoshiro256PlusPlus, s: &mut Vec<u8>) {
    let len = s.len();
    let at = if len == 0 { 0 } else { rng.random_range(0..len) };
    match rng.random_range(0..6u8) {
        0 if len > 0 => s[at] ^= 1 << rng.random_range(0..8u32),
        1 => s.insert(at, rng.random()),
        2 if len > 0 => {
            let n = rng.random_range(1..=len.min(16));
            s.drain(at..(at + n).min(len));
        }
        3 if len > 0 => {
            let n = rng.random_range(1..=(len - at).min(64));
            let chunk: Vec<u8> = s[at..at + n].to_vec();
            let to = rng.random_range(0..=s.len());
            s.splice(to..to, chunk);
        }
        _ => {
            let tok = pick(rng, DICTIONARY).as_bytes();
            s.splice(at..at, tok.iter().copied());
        }
    }
}

/// A corpus input with 1–4 mutations.
fn mutated(rng: &mut Xoshiro256PlusPlus, corpus: &[&str]) -> String {
    let mut s = pick(rng, corpus).as_bytes().to_vec();
    for _ in 0..rng.random_range(1..=4) {
        mutate_once(rng, &mut s);
    }
    String::from_utf8_lossy(&s).into_owned()
}

/// A corpus input with one scalar (a value after `": "`, or a list item) replaced by a dictionary
/// value or a small structure: valid syntax around a bad value.
fn generated(rng: &mut Xoshiro256PlusPlus, corpus: &[&str]) -> String {
    let text = pick(rng, corpus);
    let spots: Vec<usize> = text.match_indices(": ").map(|(i, _)| i + 2).collect();
    let Some(&at) = spots.get(rng.random_range(0..spots.len().max(1))) else {
        return pick(rng, DICTIONARY).to_string();
    };
    let end = text[at..].find(['\n', ',', '}', ']']).map_or(text.len(), |e| at + e);
    let value = match rng.random_range(0..4u8) {
        0 => format!("{{{}: {}}}", pick(rng, DICTIONARY), pick(rng, DICTIONARY)),
        1 => format!("[{}, {}]", pick(rng, DICTIONARY), pick(rng, DICTIONARY)),
        _ => pick(rng, DICTIONARY).to_string(),
    };
    format!("{}{}{}", &text[..at], value, &text[end..])
}

fn corpus_of(target: Target) -> &'static [&'static str] {
    match target {
        Target::Scenario | Target::Simulation => SCENARIOS,
        Target::Duration => DURATIONS,
        Target::Quantity => QUANTITIES,
        Target::TraceCsv => TRACE_CSV,
        Target::TracePrometheus => TRACE_PROM,
        Target::Set => SETS,
        Target::Grid => GRIDS,
    }
}

/// The next input for `target`.
pub fn input(rng: &mut Xoshiro256PlusPlus, target: Target) -> String {
    let corpus = corpus_of(target);
    let short = matches!(target, Target::Duration | Target::Quantity | Target::Set);
    match rng.random_range(0..3u8) {
        0 if short => pick(rng, DICTIONARY).to_string(),
        0 | 1 => mutated(rng, corpus),
        _ if short => format!("{}{}", pick(rng, corpus), pick(rng, DICTIONARY)),
        _ => generated(rng, corpus),
    }
}

/// The fixed replay settings trace inputs are read with, parsed once per process rather than per
/// input.
fn trace_spec(target: Target) -> (&'static str, &'static crate::traffic::ReplaySpec) {
    use std::sync::OnceLock;
    static CSV: OnceLock<crate::traffic::ReplaySpec> = OnceLock::new();
    static PROM: OnceLock<crate::traffic::ReplaySpec> = OnceLock::new();
    let parse = |yaml: &str| {
        serde_json::from_value(serde_saphyr::from_str::<serde_json::Value>(yaml).expect("fixed spec parses"))
            .expect("fixed spec is valid")
    };
    if target == Target::TraceCsv {
        (
            "fuzz.csv",
            CSV.get_or_init(|| parse("{file: fuzz.csv, timeFormat: seconds, fillGaps: hold}")),
        )
    } else {
        (
            "fuzz.json",
            PROM.get_or_init(|| parse("{file: fuzz.json, selector: {}, fillGaps: zero}")),
        )
    }
}

/// Feeds one input to `target`; `Ok(accepted)` or `Err(panic message)`.
pub fn feed(target: Target, text: &str) -> Result<bool, String> {
    let r = catch_unwind(AssertUnwindSafe(|| match target {
        Target::Scenario => crate::scenario::load_str("fuzz.yaml", text, None, &[]).is_ok(),
        Target::Duration => crate::model::units::parse_duration(text).is_ok(),
        Target::Quantity => crate::model::units::Quantity::parse(text).is_ok(),
        Target::TraceCsv | Target::TracePrometheus => {
            let (file, spec) = trace_spec(target);
            crate::traffic::replay::from_text(file, text, spec).is_ok()
        }
        Target::Set => crate::scenario::parse_override(text).is_ok(),
        Target::Grid => crate::scenario::grid::Grid::parse("fuzz.grid.yaml", text).is_ok(),
        Target::Simulation => {
            let short = ["Scenario:spec.duration=5m".to_string()];
            match crate::scenario::load_str("fuzz.yaml", text, None, &short) {
                Ok(sc) if sc.duration <= SimDuration::from_mins(5) => crate::sim::run(&sc).is_ok(),
                _ => false,
            }
        }
    }));
    r.map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "(non-string panic)".into())
    })
}

/// Runs `inputs` inputs of `target` from `seed`.
pub fn run(target: Target, seed: u64, inputs: u64) -> Report {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ (target as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut report = Report::default();
    for _ in 0..inputs {
        let text = input(&mut rng, target);
        report.inputs += 1;
        match feed(target, &text) {
            Ok(true) => report.accepted += 1,
            Ok(false) => {}
            Err(msg) => {
                report.panics += 1;
                if report.examples.len() < MAX_KEPT_PANICS {
                    report.examples.push((text, msg));
                }
            }
        }
    }
    report
}
