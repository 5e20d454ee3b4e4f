//! `capsim compare` end to end: variants of one scenario and two scenario files, checked against
//! `capsim run` of the same inputs, with the seed shared.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn capsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .output()
        .expect("run capsim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-cli-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The CSV as (header → value) maps, one per row.
fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .map(|h| h.to_string())
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

// Past the surge's start (30 m): a warm start serves the base traffic with any replicas.
const SHORT: &str = "Scenario:spec.duration=45m";

#[test]
fn variants_of_one_scenario_equal_single_runs_with_the_same_overrides() {
    let dir = temp_dir("variants");
    let out = dir.join("cmp");
    let (code, stdout, stderr) = capsim(&[
        "compare",
        "scenarios/static-surge.yaml",
        "--set",
        SHORT,
        "--variant",
        "few=Deployment/checkout-api:spec.replicas=2",
        "--variant",
        "many=Deployment/checkout-api:spec.replicas=10",
        "--no-charts",
        "-o",
        p(&out),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("baseline") && stdout.contains("few") && stdout.contains("many"),
        "{stdout}"
    );
    let rows = csv_rows(&out.join("compare.csv"));
    let names: Vec<&str> = rows.iter().map(|r| r["variant"].as_str()).collect();
    assert_eq!(names, ["baseline", "few", "many"]);
    assert!(
        rows.iter().all(|r| r["seed"] == "7"),
        "every run shares the scenario's seed"
    );
    assert!(!out.join("compare-timeline.png").exists(), "--no-charts");

    // Each variant equals `capsim run` with its overrides: byte-identical summary.json.
    for (name, set) in [
        ("baseline", None),
        ("few", Some("Deployment/checkout-api:spec.replicas=2")),
        ("many", Some("Deployment/checkout-api:spec.replicas=10")),
    ] {
        let single = dir.join(format!("run-{name}"));
        let mut args = vec![
            "run",
            "scenarios/static-surge.yaml",
            "--set",
            SHORT,
            "--no-charts",
            "-q",
            "-o",
            p(&single),
        ];
        if let Some(s) = set {
            args.extend(["--set", s]);
        }
        let (code, _, stderr) = capsim(&args);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(
            fs::read(single.join("summary.json")).unwrap(),
            fs::read(out.join(name).join("summary.json")).unwrap(),
            "{name}: compare's run differs from capsim run"
        );
    }
    // The variants differ where they should: two replicas serve less than ten.
    let share = |i: usize| rows[i]["unserved_share"].parse::<f64>().unwrap();
    assert!(share(1) > share(2), "few {} vs many {}", share(1), share(2));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn two_files_share_the_first_files_seed_and_are_named_apart() {
    let dir = temp_dir("files");
    let demo = fs::read_to_string("scenarios/static-surge.yaml").unwrap();
    assert!(demo.contains("seed: 7"));
    let a = dir.join("a.yaml");
    let b = dir.join("b.yaml");
    fs::write(&a, demo.replace("seed: 7", "seed: 11")).unwrap();
    fs::write(
        &b,
        demo.replace("seed: 7", "seed: 99")
            .replace("replicas: 8", "replicas: 3"),
    )
    .unwrap();
    let out = dir.join("cmp");
    let (code, _, stderr) = capsim(&["compare", p(&a), p(&b), "--set", SHORT, "-q", "-o", p(&out)]);
    assert_eq!(code, 0, "{stderr}");
    let rows = csv_rows(&out.join("compare.csv"));
    // Both files are named "static-surge": the file stems tell them apart.
    let names: Vec<&str> = rows.iter().map(|r| r["variant"].as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(rows.iter().all(|r| r["seed"] == "11"), "b runs with a's seed");
    for f in [
        "compare-timeline.svg",
        "compare-pending-cdf.png",
        "a/timeline.png",
        "b/summary.json",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    // --seed overrides both.
    let out2 = dir.join("cmp2");
    let (code, _, stderr) = capsim(&[
        "compare",
        p(&a),
        p(&b),
        "--set",
        SHORT,
        "--seed",
        "5",
        "--no-charts",
        "-q",
        "-o",
        p(&out2),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(csv_rows(&out2.join("compare.csv")).iter().all(|r| r["seed"] == "5"));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_override_in_a_variant_names_the_variant() {
    let (code, _, stderr) = capsim(&[
        "compare",
        "scenarios/static-surge.yaml",
        "--variant",
        "oops=Deployment/no-such-deployment:spec.replicas=2",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("run \"oops\""), "{stderr}");
}
