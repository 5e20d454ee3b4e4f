//! The catalog: bundled table, allocatable formula against Karpenter's own figures, CSV errors, labels.

use capsim::cloud::allocatable::{KubeletConfig, estimate};
use capsim::cloud::catalog::{self, CatalogError};
use capsim::cloud::{Arch, Catalog, InterruptionBand};
use capsim::model::CapacityType;
use capsim::model::resources::MIB;

const HEADER: &str = "name,family,vcpu,memory_gib,max_pods,arch,od_price_usd_hr,spot_price_usd_hr,source,\
spot_savings_pct,spot_interruption_band,alloc_cpu_millicores,alloc_memory_mib,cpu_manufacturer,burstable";
const M5_LARGE: &str = "m5.large,m5,2,8.0,29,amd64,0.096,0.0326,src,66,15-20%,1930,6903,intel,false";

#[test]
fn formula_reproduces_karpenter_allocatable_on_every_row() {
    // The catalog's alloc_* columns are Karpenter's published figures (AL2023). The formula in
    // cloud::allocatable must reproduce them exactly: 144 of 144 rows.
    let c = Catalog::bundled();
    let mut exact = 0;
    let mut mismatches = Vec::new();
    for it in &c {
        let a = estimate(it, &KubeletConfig::default()).allocatable;
        let want_cpu = it
            .alloc_cpu_millicores
            .expect("bundled rows carry alloc_cpu_millicores");
        let want_mem = it.alloc_memory_mib.expect("bundled rows carry alloc_memory_mib");
        if a.cpu_m == want_cpu && a.mem == want_mem * MIB {
            exact += 1;
        } else {
            mismatches.push(format!(
                "{}: {} m / {} MiB vs {want_cpu} m / {want_mem} MiB",
                it.name,
                a.cpu_m,
                a.mem / MIB
            ));
        }
    }
    assert_eq!(exact, 144, "mismatches: {mismatches:?}");
}

#[test]
fn bundled_rows_keep_every_column() {
    let c = Catalog::bundled();
    assert_eq!(c.name(), catalog::BUNDLED_NAME);
    let t = c.get("t4g.medium").expect("t4g.medium");
    assert_eq!(t.arch, Arch::Arm64);
    assert!(t.burstable);
    assert_eq!(t.manufacturer, "aws");
    assert_eq!(t.family, "t4g");
    let r = c.get("r7i.16xlarge").expect("r7i.16xlarge");
    assert_eq!((r.vcpu, r.memory_mib), (64, 524_288));
    assert!(r.spot_savings_pct.is_some() && r.source.contains("karpenter-provider-aws"));
    // Every row has a band and a spot price.
    assert!(
        c.iter()
            .all(|t| t.interruption_band.is_some() && t.spot_price_hr.is_some())
    );
    // Index agrees with order.
    for t in c.types() {
        assert_eq!(c.get(&t.name).map(|x| &x.name), Some(&t.name));
    }
}

#[test]
fn karpenter_and_managed_node_group_labels() {
    let c = Catalog::bundled();
    let it = c.get("m6i.2xlarge").expect("m6i.2xlarge");
    let l = it.labels(CapacityType::Spot, "us-east-1b");
    let get = |k: &str| l.get(k).map(String::as_str);
    assert_eq!(get("node.kubernetes.io/instance-type"), Some("m6i.2xlarge"));
    assert_eq!(get("kubernetes.io/arch"), Some("amd64"));
    assert_eq!(get("kubernetes.io/os"), Some("linux"));
    assert_eq!(get("topology.kubernetes.io/zone"), Some("us-east-1b"));
    assert_eq!(get("topology.kubernetes.io/region"), Some("us-east-1"));
    assert_eq!(get("karpenter.sh/capacity-type"), Some("spot"));
    assert_eq!(get("karpenter.k8s.aws/instance-category"), Some("m"));
    assert_eq!(get("karpenter.k8s.aws/instance-family"), Some("m6i"));
    assert_eq!(get("karpenter.k8s.aws/instance-generation"), Some("6"));
    assert_eq!(get("karpenter.k8s.aws/instance-size"), Some("2xlarge"));
    assert_eq!(get("karpenter.k8s.aws/instance-cpu"), Some("8"));
    assert_eq!(get("karpenter.k8s.aws/instance-memory"), Some("32768"));
    assert_eq!(get("karpenter.k8s.aws/instance-cpu-manufacturer"), Some("intel"));
    assert_eq!(get("eks.amazonaws.com/capacityType"), None);

    let m = it.managed_node_group_labels(CapacityType::OnDemand, "us-east-1a", "general");
    assert_eq!(
        m.get("eks.amazonaws.com/capacityType").map(String::as_str),
        Some("ON_DEMAND")
    );
    assert_eq!(
        m.get("eks.amazonaws.com/nodegroup").map(String::as_str),
        Some("general")
    );
    assert!(!m.contains_key("karpenter.sh/capacity-type"));
    assert_eq!(it.price(CapacityType::Spot), it.spot_price_hr);
}

#[test]
fn columns_are_found_by_name_in_any_order() {
    let text = "od_price_usd_hr,arch,max_pods,memory_gib,vcpu,name\n0.192,amd64,58,16,4,m5.xlarge\n";
    let c = Catalog::from_csv_str("reordered.csv", text).expect("valid");
    let it = c.get("m5.xlarge").expect("row");
    assert_eq!(
        (it.vcpu, it.memory_mib, it.max_pods, it.od_price_hr),
        (4, 16384, 58, 0.192)
    );
    assert_eq!(
        it.allocatable(),
        Catalog::bundled().get("m5.xlarge").expect("bundled").allocatable()
    );
}

#[test]
fn minimal_catalog_computes_the_rest() {
    let text = "name,vcpu,memory_gib,max_pods,arch,od_price_usd_hr\nx9.large,2,8,29,amd64,0.1\n";
    let c = Catalog::from_csv_str("mine.csv", text).expect("valid");
    let it = c.get("x9.large").expect("row");
    assert_eq!(it.family, "x9");
    assert_eq!(it.spot_price_hr, None);
    assert_eq!(it.interruption_band, None);
    assert_eq!(it.price(CapacityType::Spot), None);
    // Same shape as m5.large → same allocatable.
    assert_eq!(it.allocatable().cpu_m, 1930);
    assert_eq!(it.allocatable().mem, 6903 * MIB);
}

fn err(text: &str) -> String {
    let e = Catalog::from_csv_str("types.csv", text).expect_err("should fail");
    e.to_string()
}

#[test]
fn errors_name_file_line_and_column() {
    // Each case: the text, then fragments the message must contain.
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            "name,vcpu,memory_gib,arch,od_price_usd_hr\nm5.large,2,8,amd64,0.096\n".to_string(),
            vec!["types.csv", "missing required column \"max_pods\""],
        ),
        (
            format!("{HEADER},colour\n{M5_LARGE},red\n"),
            vec!["types.csv", "unknown column \"colour\""],
        ),
        (
            format!("{HEADER}\n{}\n", M5_LARGE.replace(",2,8.0,", ",two,8.0,")),
            vec!["types.csv: line 2, column vcpu", "positive integer", "\"two\""],
        ),
        (
            format!(
                "{HEADER}\n{M5_LARGE}\n{}\n",
                M5_LARGE.replace("0.096", "cheap").replace("m5.large", "m5.xlarge")
            ),
            vec!["line 3, column od_price_usd_hr", "\"cheap\""],
        ),
        (
            format!("{HEADER}\n{M5_LARGE}\n{M5_LARGE}\n"),
            vec!["line 3", "duplicate instance type \"m5.large\"", "first on line 2"],
        ),
        (
            format!("{HEADER}\n{}\n", M5_LARGE.replace("amd64", "x86")),
            vec!["column arch", "amd64 or arm64"],
        ),
        (
            format!("{HEADER}\n{}\n", M5_LARGE.replace("15-20%", "often")),
            vec!["column spot_interruption_band", "\"often\""],
        ),
        (
            format!("{HEADER}\n{}\n", M5_LARGE.replace(",8.0,", ",8.0001,")),
            vec!["column memory_gib", "whole number of MiB"],
        ),
        (
            format!("{HEADER}\n{}\n", M5_LARGE.replace(",false", ",maybe")),
            vec!["column burstable", "true or false"],
        ),
        (
            format!("{HEADER}\n{}\n", M5_LARGE.replace(",1930,", ",-5,")),
            vec!["column alloc_cpu_millicores", "non-negative"],
        ),
        (
            format!("{HEADER}\nm5.large,m5,2\n"),
            vec!["types.csv: line 2", "expected 15 fields"],
        ),
        (format!("{HEADER}\n"), vec!["types.csv", "no instance types"]),
        (
            format!("{HEADER}\n{}\n", M5_LARGE.replace("0.0326", "-0.01")),
            vec!["column spot_price_usd_hr", "non-negative price"],
        ),
        ("name,name,vcpu\n".to_string(), vec!["\"name\" appears twice"]),
    ];
    for (text, fragments) in cases {
        let msg = err(&text);
        for f in fragments {
            assert!(msg.contains(f), "{msg:?} should contain {f:?}");
        }
    }
}

#[test]
fn from_path_reads_and_reports_the_path() {
    let dir = std::env::temp_dir().join(format!("capsim-cloud-catalog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = dir.join("types.csv");
    std::fs::write(&good, format!("{HEADER}\n{M5_LARGE}\n")).expect("write");
    let c = Catalog::from_csv_path(&good).expect("valid file");
    assert_eq!(c.len(), 1);
    assert_eq!(
        c.get("m5.large").and_then(|t| t.interruption_band),
        Some(InterruptionBand::From15To20)
    );
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, format!("{HEADER}\n{}\n", M5_LARGE.replace(",29,", ",0,"))).expect("write");
    let e = Catalog::from_csv_path(&bad).expect_err("max_pods 0");
    assert!(e.to_string().contains("bad.csv: line 2, column max_pods"), "{e}");
    let missing = Catalog::from_csv_path(&dir.join("absent.csv")).expect_err("missing");
    assert!(matches!(missing, CatalogError::Io { .. }) && missing.to_string().contains("absent.csv"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn binary_garbage_is_an_error_not_a_panic() {
    let text = String::from_utf8_lossy(&[0xff, 0xfe, b',', b'\n', 0x00, b'"']).to_string();
    assert!(Catalog::from_csv_str("junk.csv", &text).is_err());
    assert!(Catalog::from_csv_str("quote.csv", &format!("{HEADER}\n\"m5.large,2\n")).is_err());
}
