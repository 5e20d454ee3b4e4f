//! The layers the README's Layout section draws hold in the code: the engine knows nothing of
//! Kubernetes, the cluster's vocabulary depends on neither the world nor the controllers, and no
//! controller imports the world. The provisioner registry is consistent.

use capsim::controllers::PROVISIONERS;
use capsim::controllers::provisioner::ProvisionerConfig;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Code lines (not comments) of the files under `src/<dir>` that mention one of `needles`.
fn offending(dir: &str, needles: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(!files.is_empty(), "no sources under {}", root.display());
    let mut hits = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable source");
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if needles.iter().any(|n| code.contains(n)) {
                hits.push(format!("{}:{}: {}", f.display(), i + 1, code));
            }
        }
    }
    hits
}

#[test]
fn no_controller_imports_the_world() {
    let hits = offending("controllers", &["crate::sim", "capsim::sim"]);
    assert!(
        hits.is_empty(),
        "controllers must read crate::cluster views only:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_cluster_vocabulary_depends_on_neither_world_nor_controllers() {
    let hits = offending("cluster", &["crate::sim", "crate::controllers"]);
    assert!(hits.is_empty(), "{}", hits.join("\n"));
}

#[test]
fn the_engine_knows_nothing_of_kubernetes() {
    let hits = offending(
        "engine",
        &[
            "crate::sim",
            "crate::controllers",
            "crate::cluster",
            "crate::model",
            "crate::scenario",
        ],
    );
    assert!(hits.is_empty(), "{}", hits.join("\n"));
}

#[test]
fn every_registered_provisioner_resolves_by_key_and_short_form() {
    let mut keys: Vec<&str> = PROVISIONERS.iter().map(|k| k.key).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), PROVISIONERS.len(), "keys are unique");
    for kind in PROVISIONERS {
        let long = serde_json::json!({ kind.key: {} });
        let short = serde_json::json!(kind.key);
        for v in [&long, &short] {
            match ProvisionerConfig::parse(Some(v)) {
                Ok(c) => assert_eq!(c.key(), Some(kind.key)),
                Err(e) => panic!("{v}: {e:?}"),
            }
        }
        for alias in kind.aliases {
            let c = ProvisionerConfig::parse(Some(&serde_json::json!(alias))).expect("alias resolves");
            assert_eq!(c.key(), Some(kind.key));
        }
    }
    for v in [None, Some(serde_json::json!("static")), Some(serde_json::json!("none"))] {
        assert_eq!(ProvisionerConfig::parse(v.as_ref()).expect("static").key(), None);
    }
    // An unknown key names the field and lists every registered provisioner.
    let (path, message) = ProvisionerConfig::parse(Some(&serde_json::json!({"autoscaler9000": {}}))).unwrap_err();
    assert_eq!(path, "spec.provisioner.autoscaler9000");
    for kind in PROVISIONERS {
        assert!(message.contains(kind.key), "{message}");
    }
    let (path, _) =
        ProvisionerConfig::parse(Some(&serde_json::json!({"karpenter": {}, "clusterAutoscaler": {}}))).unwrap_err();
    assert_eq!(path, "spec.provisioner");
}
