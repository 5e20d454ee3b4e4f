//! The fuzz harness (`capsim::fuzz`) as a command, in a release build:
//!
//!     cargo bench --bench fuzz -- [TARGET ...] [--inputs N] [--seed S]
//!
//! TARGET is one of scenario, duration, quantity, trace-csv, trace-prometheus, set, grid,
//! simulation (default: all). Prints, per target, the inputs run, how many the parser accepted,
//! the panics and the inputs per second; exits 1 if anything panicked, printing the first inputs
//! that did.

use capsim::fuzz::{self, Target};
use std::time::Instant;

fn main() {
    let mut targets = Vec::new();
    let mut inputs: u64 = 100_000;
    let mut seed: u64 = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--inputs" => inputs = args.next().and_then(|v| v.parse().ok()).expect("--inputs N"),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed S"),
            "--bench" => {} // passed by `cargo bench`
            name => match Target::parse(name) {
                Some(t) => targets.push(t),
                None => {
                    eprintln!(
                        "unknown target {name:?}; targets: {}",
                        Target::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                    );
                    std::process::exit(2);
                }
            },
        }
    }
    if targets.is_empty() {
        targets = Target::ALL.to_vec();
    }
    // Panics are caught and reported below; the default hook would print each one.
    std::panic::set_hook(Box::new(|_| {}));
    let mut any = false;
    println!(
        "{:<18} {:>12} {:>12} {:>8} {:>12}",
        "target", "inputs", "accepted", "panics", "inputs/s"
    );
    for t in targets {
        let start = Instant::now();
        let r = fuzz::run(t, seed, inputs);
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<18} {:>12} {:>12} {:>8} {:>12.0}",
            t.name(),
            r.inputs,
            r.accepted,
            r.panics,
            r.inputs as f64 / secs.max(1e-9)
        );
        for (input, msg) in &r.examples {
            any = true;
            println!("  PANIC: {msg}\n  input: {input:?}");
        }
    }
    if any {
        std::process::exit(1);
    }
}
