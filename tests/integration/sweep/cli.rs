//! `capsim sweep` and `capsim merge` end to end, through the binary, on tests/data/sweep/.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sweep")
        .join(name)
}

fn capsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsim")).args(args).output().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-sweep-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a sweep that must fail with bad input; returns stderr and checks nothing was written.
fn bad_sweep(grid: &str, extra: &[&str]) -> String {
    let out = tmp(&format!("bad-{grid}"));
    let scenario = data("tiny.yaml");
    let grid = data(grid);
    let mut args = vec!["sweep", s(&scenario), "--grid", s(&grid), "-o", s(&out), "-q"];
    args.extend_from_slice(extra);
    let o = capsim(&args);
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(&o));
    assert!(!out.exists(), "a failed sweep wrote {}", out.display());
    stderr(&o)
}

#[test]
fn a_malformed_grid_is_bad_input() {
    let e = bad_sweep("grid-malformed.yaml", &[]);
    assert!(
        e.contains("grid-malformed.yaml: parameters[0].range.to: 2 is below `from` (10)"),
        "{e}"
    );
}

#[test]
fn bad_flags_are_bad_input() {
    let e = bad_sweep("grid.yaml", &["-j", "0"]);
    assert!(e.contains("-j 0"), "{e}");
    let scenario = data("tiny.yaml");
    let grid = data("grid.yaml");
    let o = capsim(&["sweep", s(&scenario), "--grid", s(&grid), "--shard", "3/3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("I must be less than N"), "{}", stderr(&o));
}

#[test]
fn merge_without_parts_is_bad_input() {
    let dir = tmp("empty");
    std::fs::create_dir_all(&dir).unwrap();
    let o = capsim(&["merge", s(&dir)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no sweep.part-I-of-N.csv files"), "{}", stderr(&o));
    let o = capsim(&["merge", s(&data("grid.yaml"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a capsim sweep runs file"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_grid_path_that_does_not_exist_is_an_error_before_anything_runs() {
    let e = bad_sweep("grid-missing-field.yaml", &[]);
    assert!(e.contains("parameters[1] (typo)") && e.contains("spec.replicaz"), "{e}");
    let e = bad_sweep("grid-missing-object.yaml", &[]);
    assert!(e.contains("parameters[0] (Deployment/web:spec.replicas)"), "{e}");
}

#[test]
fn jobs_and_shards_give_byte_identical_outputs() {
    let scenario = data("tiny.yaml");
    let grid = data("grid.yaml");
    let run = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["sweep", s(&scenario), "--grid", s(&grid), "-o", s(dir), "-q"];
        args.extend_from_slice(extra);
        let o = capsim(&args);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
    };
    let (j1, j2, parts) = (tmp("j1"), tmp("j2"), tmp("parts"));
    run(&j1, &["-j", "1"]);
    run(&j2, &["-j", "2"]);
    for i in 0..3 {
        run(&parts, &["-j", "2", "--shard", &format!("{i}/3")]);
    }
    let o = capsim(&["merge", s(&parts), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [
        "sweep.csv",
        "sweep-runs.csv",
        "sweep-frontier.png",
        "sweep-frontier.svg",
    ] {
        let a = std::fs::read(j1.join(f)).unwrap();
        assert!(a == std::fs::read(j2.join(f)).unwrap(), "{f}: -j 1 and -j 2 differ");
        assert!(a == std::fs::read(parts.join(f)).unwrap(), "{f}: merged shards differ");
    }
    let csv = std::fs::read_to_string(j1.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(
        csv.starts_with("point,replicas,nodes,seeds,unserved_share_mean,"),
        "{csv}"
    );
    // A missing shard.
    std::fs::remove_file(parts.join("sweep.part-1-of-3.csv")).unwrap();
    let o = capsim(&["merge", s(&parts), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing shard 1 of 3"), "{}", stderr(&o));
    for d in [j1, j2, parts] {
        std::fs::remove_dir_all(d).ok();
    }
}

/// Writes a grid into a fresh directory and returns its path.
fn grid_file(name: &str, text: &str) -> PathBuf {
    let dir = tmp(&format!("grid-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("grid.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn an_unset_field_needs_create_and_then_sweeps() {
    let scenario = data("tiny.yaml");
    // tiny.yaml sets no spec.scheduler: without `create: true` that is an error naming the fix.
    let param =
        "  - path: \"Scenario:spec.scheduler\"\n    values: [{scoring: LeastAllocated}, {scoring: MostAllocated}]\n";
    let g = grid_file("no-create", &format!("parameters:\n{param}"));
    let o = capsim(&["sweep", s(&scenario), "--grid", s(&g), "-q", "-o", s(&tmp("nc"))]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("parameters[0] (Scenario:spec.scheduler): spec.scheduler is not set in Scenario")
            && e.contains("create: true"),
        "{e}"
    );
    // With it, the sweep runs; `--seeds 2` overrides the grid's single seed.
    let g = grid_file("create", &format!("parameters:\n{param}    create: true\nseeds: [5]\n"));
    let out = tmp("create-out");
    let o = capsim(&[
        "sweep",
        s(&scenario),
        "--grid",
        s(&g),
        "-q",
        "-o",
        s(&out),
        "--seeds",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let runs = std::fs::read_to_string(out.join("sweep-runs.csv")).unwrap();
    let seeds: Vec<&str> = runs.lines().skip(2).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(seeds, ["1", "2", "1", "2"], "{runs}");
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert!(
        csv.lines()
            .nth(2)
            .unwrap()
            .starts_with("1,\"{\"\"scoring\"\":\"\"MostAllocated\"\"}\",2,"),
        "{csv}"
    );
    std::fs::remove_dir_all(out).ok();
    for d in ["grid-no-create", "grid-create"] {
        std::fs::remove_dir_all(tmp(d)).ok();
    }
}

#[test]
fn a_metric_of_an_unknown_workload_is_bad_input() {
    let scenario = data("tiny.yaml");
    let g = grid_file("metric", "parameters: []\nmetrics: [pending_p95_s@web]\n");
    let o = capsim(&["sweep", s(&scenario), "--grid", s(&g), "-q", "-o", s(&tmp("m"))]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("metrics[0]: pending_p95_s@web: the scenario has no workload \"web\" (it has: api)"),
        "{e}"
    );
    std::fs::remove_dir_all(tmp("grid-metric")).ok();
}
