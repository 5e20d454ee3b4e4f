//! Whole-scenario benchmarks: parse the scenario files, simulate, write the CSV/JSON outputs
//! (what `capsim run -q --no-charts` does, minus process start-up). Run:
//! `cargo bench --bench scenarios` (a few minutes on 2 cores).
//!
//! | bench | target (issue 7) |
//! |---|---|
//! | `monday-surge-ca` | < 10 ms |
//! | `peer-w1` | ≥ 1.6 × 10⁶ simulated s per wall s (5 h in ≤ 11.25 ms) |
//! | `peer-w2` | ≥ 2.6 × 10⁴ simulated s per wall s (5 h in ≤ 0.69 s) |
//! | `fleet-24h` | < 0.9 s (≥ 100,000× real time) |
//!
//! Criterion's throughput is in simulated seconds ("elements") per wall second.

use capsim::scenario;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Parse, simulate and write the outputs; returns the number of events (so nothing is elided).
fn whole_run(file: &Path, out: &Path) -> u64 {
    let sc = scenario::load(file, &[]).expect("bench scenario loads");
    let r = capsim::sim::run(&sc).expect("bench scenario runs");
    capsim::report::write_run_outputs(out, &r).expect("outputs written");
    r.summary.events
}

fn bench(c: &mut Criterion) {
    let out = std::env::temp_dir().join(format!("capsim-bench-{}", std::process::id()));
    let cases: &[(&str, &str, usize, u64)] = &[
        // name, file, samples, simulated seconds
        ("monday-surge-ca", "scenarios/monday-surge-ca.yaml", 30, 3 * 3600),
        ("peer-w1", "scenarios/bench/peer-w1.yaml", 10, 18_000),
        ("peer-w2", "scenarios/bench/peer-w2.yaml", 10, 18_000),
        ("fleet-24h", "scenarios/bench/fleet-24h.yaml", 10, 86_400),
        ("fleet-24h-ca", "scenarios/bench/fleet-24h-ca.yaml", 10, 86_400),
    ];
    let mut g = c.benchmark_group("scenarios");
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_millis(500));
    for &(name, file, samples, sim_s) in cases {
        let file = path(file);
        g.sample_size(samples);
        g.measurement_time(Duration::from_secs(5));
        g.throughput(Throughput::Elements(sim_s));
        g.bench_function(name, |b| b.iter(|| black_box(whole_run(&file, &out.join(name)))));
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group!(benches, bench);
criterion_main!(benches);
