//! Killed runs (SIGKILL at any moment) never leave a truncated output file, a set without
//! `summary.json` is recognisably incomplete, and the next run into the same directory removes
//! the temporaries a killed run left.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_capsim");

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/monday-surge-karpenter.yaml")
}

fn start(out: &Path) -> std::process::Child {
    Command::new(BIN)
        .arg("run")
        .arg("-q")
        .arg(scenario())
        .arg("-o")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("capsim starts")
}

/// Every final (not hidden) file in `dir` is whole: JSON parses, CSV rows match their header,
/// PNG ends with its IEND chunk, SVG closes its root element.
fn check_whole(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).expect("output dir") {
        let p = e.expect("entry").path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let bytes = std::fs::read(&p).expect("readable");
        let whole = match p.extension().and_then(|x| x.to_str()) {
            Some("json") => serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(),
            Some("csv") => {
                let mut r = csv::Reader::from_reader(bytes.as_slice());
                r.headers().is_ok() && r.records().all(|rec| rec.is_ok()) && bytes.ends_with(b"\n")
            }
            Some("png") => bytes.starts_with(b"\x89PNG") && bytes.ends_with(&[0xAE, 0x42, 0x60, 0x82]),
            Some("svg") => String::from_utf8_lossy(&bytes).trim_end().ends_with("</svg>"),
            _ => true,
        };
        assert!(whole, "{name} is truncated ({} bytes)", bytes.len());
        names.push(name);
    }
    names.sort();
    names
}

#[test]
fn killed_runs_leave_whole_files_and_the_next_run_cleans_up() {
    let out = std::env::temp_dir().join(format!("capsim-durability-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    // A complete run: the full set of files and how long it takes.
    let t0 = Instant::now();
    assert!(start(&out).wait().expect("runs").success());
    let full_time = t0.elapsed();
    let complete = check_whole(&out);
    assert!(complete.contains(&"summary.json".to_string()), "{complete:?}");

    // Kill runs at moments spread over a whole run.
    let kills = 12;
    let mut incomplete_seen = 0;
    for k in 0..kills {
        let delay = full_time.mul_f64(k as f64 / kills as f64 + 0.02);
        let mut child = start(&out);
        std::thread::sleep(delay.min(Duration::from_secs(20)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let names = check_whole(&out);
        if names.contains(&"summary.json".to_string()) {
            assert_eq!(names, complete, "summary.json is there: the set must be complete");
        } else {
            incomplete_seen += 1;
        }
    }
    assert!(incomplete_seen > 0, "some kill landed before summary.json was written");

    // The next run removes what the killed ones left and completes the set.
    assert!(start(&out).wait().expect("runs").success());
    let left: Vec<String> = std::fs::read_dir(&out)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporaries left behind: {left:?}");
    assert_eq!(check_whole(&out), complete);
    let _ = std::fs::remove_dir_all(&out);
}
