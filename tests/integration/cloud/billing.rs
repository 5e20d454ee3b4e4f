//! Cost of fixed clusters against hand-computed figures, using the bundled catalog's prices.

use capsim::cloud::billing::{BilledNode, CostLedger, RequestSeconds, ShareWeights, split_by_requests};
use capsim::cloud::spot::{SPOT_INTERRUPTION_NOTICE, sample_time_to_interruption};
use capsim::cloud::{Catalog, InterruptionBand, instance_cost};
use capsim::engine::{Rngs, SimDuration, SimTime};
use capsim::model::CapacityType;
use std::collections::BTreeMap;

fn t(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

#[test]
fn fixed_cluster_costs_the_hand_computed_figure() {
    let c = Catalog::bundled();
    let m5 = c.get("m5.xlarge").expect("m5.xlarge");
    let c6 = c.get("c6i.large").expect("c6i.large");
    let mut ledger = CostLedger::new();
    // Three on-demand m5.xlarge for 2 h: 3 × 2 × 0.192 = 1.152 $.
    for i in 0..3 {
        let node = BilledNode {
            node: format!("general-{i}"),
            group: "general".into(),
            instance_type: m5.name.clone(),
            capacity_type: CapacityType::OnDemand,
            price_per_hour: m5.price(CapacityType::OnDemand).expect("od price"),
            allocatable: m5.allocatable(),
        };
        ledger.start(node, t(0)).expect("start");
    }
    // One spot c6i.large for 30 min at its catalog spot price.
    let spot_price = c6.price(CapacityType::Spot).expect("spot price");
    ledger
        .start(
            BilledNode {
                node: "batch-0".into(),
                group: "batch".into(),
                instance_type: c6.name.clone(),
                capacity_type: CapacityType::Spot,
                price_per_hour: spot_price,
                allocatable: c6.allocatable(),
            },
            t(1800),
        )
        .expect("start spot");
    ledger.stop("batch-0", t(3600)).expect("stop spot");
    let r = ledger.report(t(7200));
    assert!((r.by_group["general"] - 1.152).abs() < 1e-12);
    assert!((r.by_group["batch"] - spot_price / 2.0).abs() < 1e-12);
    assert!((r.total - (1.152 + spot_price / 2.0)).abs() < 1e-12);
    assert!((r.by_capacity_type["on-demand"] - 1.152).abs() < 1e-12);
    assert_eq!(r.nodes.iter().filter(|n| n.still_running).count(), 3);

    // Nothing requested: every dollar is idle.
    let split = split_by_requests(&r, &BTreeMap::new(), ShareWeights::default());
    assert!((split.idle - r.total).abs() < 1e-12);
    // A workload requesting half of one node's CPU and memory for the whole 2 h gets ½ × 0.384.
    let alloc = m5.allocatable();
    let half = RequestSeconds {
        cpu_m_s: alloc.cpu_m as f64 / 2.0 * 7200.0,
        mem_b_s: alloc.mem as f64 / 2.0 * 7200.0,
    };
    let req = BTreeMap::from([("general-0".to_string(), BTreeMap::from([("api".to_string(), half)]))]);
    let split = split_by_requests(&r, &req, ShareWeights::default());
    assert!((split.by_workload["api"] - 0.192).abs() < 1e-12);
    assert!((split.idle + 0.192 - r.total).abs() < 1e-12);
}

#[test]
fn per_second_billing_examples() {
    // m5.xlarge 0.192 $/h for 90 min = 0.288 $.
    assert!((instance_cost(0.192, t(0), t(90 * 60)) - 0.288).abs() < 1e-12);
    // A 20 s node costs its 60 s minimum: 0.192 × 60 / 3600 = 0.0032 $.
    assert!((instance_cost(0.192, t(0), t(20)) - 0.0032).abs() < 1e-12);
}

#[test]
fn catalog_band_drives_interruptions() {
    let c = Catalog::bundled();
    let m5 = c.get("m5.xlarge").expect("m5.xlarge");
    let band = m5.interruption_band.expect("band");
    assert_eq!(band, InterruptionBand::Over20);
    let rate = band.rate_per_hour();
    // Mean time to interruption 1/λ = 730 h / −ln(0.75) = 2537.5 h; the sampled mean of 5000
    // draws lands within 5 %.
    let mut rng = Rngs::new(5).stream("spot-interruption", 0);
    let n = 5000;
    let total: f64 = (0..n)
        .map(|_| {
            sample_time_to_interruption(rate, &mut rng)
                .expect("positive rate")
                .as_secs_f64()
                / 3600.0
        })
        .sum();
    let mean_h = total / n as f64;
    assert!((mean_h - 2537.5).abs() < 0.05 * 2537.5, "{mean_h}");
    assert_eq!(SPOT_INTERRUPTION_NOTICE, SimDuration::from_secs(120));
}
