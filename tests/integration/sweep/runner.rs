//! The sweep runner on scenarios built with the test kit (no scenario files): results do not
//! depend on `-j`, sharded-then-merged files equal the unsharded ones byte for byte, Monte Carlo
//! intervals narrow with more seeds, and a failing point is reported the same way for any `-j`.

use capsim::cli::merge;
use capsim::cli::sweep::{self, Grid, Plan};
use capsim::report::sweep::{RUNS_CSV, SWEEP_CSV, Shard, runs_csv, sweep_csv};
use capsim::scenario::Scenario;
use capsim::testkit::*;
use indicatif::ProgressBar;
use std::path::PathBuf;

/// `api` behind a fixed replica count, each pod serving at most 10 req/s, offered 100 req/s with
/// log-normal noise (cv 0.3): how much goes unserved depends on the replicas and on the seed.
fn noisy(replicas: u32, pool_nodes: u32) -> Scenario {
    let mut sc = scenario();
    sc.duration = secs(1800);
    sc.static_nodes.push(nodes("pool", "m5.large", pool_nodes));
    let mut w = deployment("api", replicas, 200, 128);
    w.service.max_rps_per_pod = Some(10.0);
    w.traffic = Some(traffic(
        serde_json::json!({"base": 100, "noise": {"kind": "lognormal", "cv": 0.3, "interval": "10s"}}),
        "api",
    ));
    sc.workloads.push(w);
    sc
}

const GRID: &str = r#"
parameters:
  - path: "Deployment/api:spec.replicas"
    name: replicas
    values: [9, 11]
  - path: "Scenario:spec.staticNodes[0].count"
    name: nodes
    range: {from: 2, to: 3, step: 1}
seeds: 3
metrics: [unserved_share, overload_s, pending_p95_s, peak_nodes, cost_usd, cost_per_million_requests_usd]
"#;

fn grid(text: &str) -> Grid {
    Grid::parse("grid.yaml", text).unwrap()
}

/// Builds the point's scenario from its grid values (what the loader does with `--set`).
fn loader(g: &Grid) -> impl Fn(usize) -> Result<Scenario, String> + Sync + '_ {
    move |p| {
        let v = g.values(p);
        let replicas = v[0].as_u64().ok_or("replicas")? as u32;
        let pool = v.get(1).and_then(|x| x.as_u64()).unwrap_or(3) as u32;
        Ok(noisy(replicas, pool))
    }
}

fn plan(g: &Grid, seeds: Vec<u64>, shard: Shard, jobs: usize) -> Plan {
    Plan {
        grid: g.clone(),
        seeds,
        shard,
        jobs,
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn any_jobs_give_identical_files_and_shards_merge_to_them() {
    let g = grid(GRID);
    let seeds = g.seeds.clone().unwrap();
    let bar = ProgressBar::hidden();

    let one = plan(&g, seeds.clone(), Shard::ALL, 1);
    let layout = one.layout(b"scenario bytes");
    let r1 = sweep::execute(&one, &bar, loader(&g)).unwrap();
    let r2 = sweep::execute(&plan(&g, seeds.clone(), Shard::ALL, 2), &bar, loader(&g)).unwrap();
    assert_eq!(r1.len(), 4);
    assert_eq!(sweep_csv(&layout, &r1), sweep_csv(&layout, &r2));
    assert_eq!(runs_csv(&layout, Shard::ALL, &r1), runs_csv(&layout, Shard::ALL, &r2));

    // The sweep is not degenerate: replicas change unserved traffic, seeds change it too.
    let unserved = |p: usize, s: usize| r1[p].runs[s][0];
    assert!(unserved(0, 0) > unserved(2, 0), "9 replicas serve less than 11");
    assert_ne!(unserved(0, 0), unserved(0, 1), "seeds differ");

    // Unsharded outputs on disk.
    let whole = tmp("whole");
    sweep::write_outputs(&whole, &layout, &r1).unwrap();

    // Three shards (one of them holds a single point), each written as `--shard` does, then merged.
    let parts = tmp("parts");
    for i in 0..3 {
        let shard = Shard { index: i, count: 3 };
        let p = plan(&g, seeds.clone(), shard, 2);
        assert_eq!(p.layout(b"scenario bytes"), layout);
        let rs = sweep::execute(&p, &bar, loader(&g)).unwrap();
        assert_eq!(
            rs.iter().map(|r| r.point).collect::<Vec<_>>(),
            shard.points(4).collect::<Vec<_>>()
        );
        capsim::report::atomic_write(&parts.join(shard.file_name()), &runs_csv(&layout, shard, &rs)).unwrap();
    }
    let files = merge::part_files(std::slice::from_ref(&parts)).unwrap();
    assert_eq!(files.len(), 3);
    let merged = tmp("merged");
    let written = merge::merge_into(&files, &merged).unwrap();
    assert_eq!(written.len(), 4, "{written:?}");
    for f in [SWEEP_CSV, RUNS_CSV, "sweep-frontier.png", "sweep-frontier.svg"] {
        let a = std::fs::read(whole.join(f)).unwrap();
        let b = std::fs::read(merged.join(f)).unwrap();
        assert!(!a.is_empty(), "{f} is empty");
        assert!(a == b, "{f} differs between the unsharded and the merged sweep");
    }

    // A missing shard and a duplicated shard are errors naming them.
    let two: Vec<PathBuf> = files
        .iter()
        .filter(|f| !f.ends_with("sweep.part-1-of-3.csv"))
        .cloned()
        .collect();
    let e = merge::merge_into(&two, &tmp("x")).unwrap_err().to_string();
    assert!(e.contains("missing shard 1 of 3"), "{e}");
    let mut dup = files.clone();
    dup.push(files[0].clone());
    let e = merge::merge_into(&dup, &tmp("y")).unwrap_err().to_string();
    assert!(e.contains("are both shard 0/3"), "{e}");

    for d in [whole, parts, merged] {
        std::fs::remove_dir_all(d).ok();
    }
}

#[test]
fn intervals_narrow_as_seeds_grow() {
    let g = grid(
        "parameters:\n  - {path: 'Deployment/api:spec.replicas', values: [9, 10]}\nmetrics: [unserved_share, overload_s]\n",
    );
    let bar = ProgressBar::hidden();
    let few = sweep::execute(&plan(&g, (1..=3).collect(), Shard::ALL, 2), &bar, loader(&g)).unwrap();
    let many = sweep::execute(&plan(&g, (1..=12).collect(), Shard::ALL, 2), &bar, loader(&g)).unwrap();
    for (a, b) in few.iter().zip(&many) {
        for m in 0..2 {
            let (ea, eb) = (a.estimate(m).unwrap(), b.estimate(m).unwrap());
            assert!(
                ea.half_width() > 0.0,
                "point {} metric {m}: no noise across seeds",
                a.point
            );
            // Expected ratio ≈ (t(2)/√3) / (t(11)/√12) ≈ 3.9; demand at least 1.5.
            assert!(
                eb.half_width() * 1.5 < ea.half_width(),
                "point {} metric {m}: ±{} with 3 seeds, ±{} with 12",
                a.point,
                ea.half_width(),
                eb.half_width()
            );
            let (lo, hi) = eb.interval.unwrap();
            assert!(lo <= eb.mean && eb.mean <= hi);
        }
    }
}

#[test]
fn the_lowest_failing_point_is_reported_for_any_jobs() {
    let g = grid("parameters:\n  - {path: 'Deployment/api:spec.replicas', range: {from: 1, to: 8, step: 1}}\n");
    let bar = ProgressBar::hidden();
    for jobs in [1, 2, 3] {
        let p = plan(&g, vec![1], Shard::ALL, jobs);
        let e = sweep::execute(&p, &bar, |point| {
            if point % 3 == 2 {
                Err(format!("no good at {point}"))
            } else {
                Ok(noisy(4, 2))
            }
        })
        .unwrap_err()
        .to_string();
        assert_eq!(e, "point 2 (Deployment/api:spec.replicas=3): no good at 2", "-j {jobs}");
        let e = sweep::check_points(&p, |point| if point >= 5 { Err("bad".into()) } else { Ok(()) })
            .unwrap_err()
            .to_string();
        assert_eq!(e, "point 5 (Deployment/api:spec.replicas=6): bad", "-j {jobs}");
    }
}
