use capsim::sim;
use capsim::testkit::*;

fn busy_scenario(seed: u64) -> capsim::scenario::Scenario {
    let mut sc = scenario();
    sc.seed = seed;
    sc.static_nodes.push(nodes("pool", "m5.large", 3));
    let mut w = deployment("api", 6, 600, 256);
    w.startup.image_pull = Distribution::lognormal(secs(8), secs(25)).unwrap();
    w.traffic = Some(traffic(serde_json::json!({"base": 100}), "api"));
    sc.workloads.push(w);
    sc
}

use capsim::cloud::Distribution;

#[test]
fn same_scenario_and_seed_give_byte_identical_files() {
    let dir = std::env::temp_dir().join(format!("capsim-det-{}", std::process::id()));
    let (a, b) = (dir.join("a"), dir.join("b"));
    for out in [&a, &b] {
        let r = sim::run(&busy_scenario(42)).unwrap();
        capsim::report::write_run_outputs(out, &r).unwrap();
    }
    for f in ["summary.json", "timeline.csv", "pods.csv", "nodes.csv"] {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(!x.is_empty(), "{f} is empty");
        assert_eq!(x, y, "{f} differs between identical runs");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_different_seed_changes_random_draws() {
    let a = sim::run(&busy_scenario(1)).unwrap();
    let b = sim::run(&busy_scenario(2)).unwrap();
    let ta: Vec<_> = a.pods.iter().map(|p| p.started_s).collect();
    let tb: Vec<_> = b.pods.iter().map(|p| p.started_s).collect();
    assert_ne!(ta, tb);
}
