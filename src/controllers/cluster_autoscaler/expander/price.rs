//! The price expander.
//!
//! upstream: cluster-autoscaler/expander/price/price.go and preferred.go (design:
//! cluster-autoscaler/proposals/pricing.md). For each option:
//!
//! ```text
//! priceSubScore = (nodeCount × nodePrice + stabilizationPrice) / (Σ podPrice + stabilizationPrice)
//! unfitness     = max(preferredCpu / nodeCpu, nodeCpu / preferredCpu)      (SimpleNodeUnfitness)
//! suppressed    = (unfitness − 1) × (1 − tanh((nodeCount − 1) / 15)) + 1
//! score         = suppressed × priceSubScore                               (lowest wins)
//! ```
//!
//! Prices are per hour. Node prices come from the catalog (spot price for spot groups). Pod prices
//! follow upstream's GCE pricing model (cloudprovider/gce/gce_price_model.go: `cpuPricePerHour`
//! 0.033174 per core, `memoryPricePerHourPerGb` 0.004446 per GiB), the only reference pod-price
//! model upstream ships; only the ratio of node price to pod price matters. GPU groups and the
//! not-yet-existing-group penalty (×2) do not arise in capsim (no GPUs; every group exists).

use super::ScaleUpOption;
use crate::model::resources::GIB;
use crate::model::{Resources, resources::MIB};

/// upstream: gce_price_model.go `cpuPricePerHour`.
pub const CPU_PRICE_PER_HOUR: f64 = 0.033174;
/// upstream: gce_price_model.go `memoryPricePerHourPerGb` (per GiB of request).
pub const MEMORY_PRICE_PER_HOUR_PER_GIB: f64 = 0.004446;
/// upstream: price.go `priceStabilizationPod`: 0.5 CPU, 500 MiB.
pub const STABILIZATION_POD: Resources = Resources::new(500, 500 * MIB, 1);

/// Hourly price of a pod's requests.
pub fn pod_price_hr(req: &Resources) -> f64 {
    req.cpu_m as f64 / 1000.0 * CPU_PRICE_PER_HOUR + req.mem as f64 / GIB as f64 * MEMORY_PRICE_PER_HOUR_PER_GIB
}

/// upstream: preferred.go `SimplePreferredNodeProvider.Node`: the preferred node doubles in size
/// every time the cluster triples. Returns its CPU in millicores.
pub fn preferred_node_cpu_m(cluster_nodes: usize) -> i64 {
    let cores = match cluster_nodes {
        0..=2 => 1,
        3..=6 => 2,
        7..=20 => 4,
        21..=60 => 8,
        61..=200 => 16,
        _ => 32,
    };
    cores * 1000
}

/// upstream: preferred.go `SimpleNodeUnfitness`.
pub fn node_unfitness(preferred_cpu_m: i64, node_cpu_m: i64) -> f64 {
    if preferred_cpu_m <= 0 || node_cpu_m <= 0 {
        return f64::INFINITY;
    }
    let (p, n) = (preferred_cpu_m as f64, node_cpu_m as f64);
    (p / n).max(n / p)
}

/// The option's score (lower is better).
pub fn option_score(o: &ScaleUpOption, preferred_cpu_m: i64) -> f64 {
    let stabilization = pod_price_hr(&STABILIZATION_POD);
    let nodes = o.node_price_hr * f64::from(o.node_count);
    // Σ per-pod prices equals the price of the summed requests (the model is linear).
    let pods = pod_price_hr(&o.pod_requests);
    let price_sub_score = (nodes + stabilization) / (pods + stabilization);
    let unfitness = node_unfitness(preferred_cpu_m, o.node_capacity.cpu_m);
    let suppressed = (unfitness - 1.0) * (1.0 - ((f64::from(o.node_count) - 1.0) / 15.0).tanh()) + 1.0;
    suppressed * price_sub_score
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_score() {
        // 2 nodes of 4 CPU / 16 GiB at $0.192/h hosting pods totalling 6 CPU / 12 GiB; cluster of
        // 10 nodes → preferred 4 CPU → unfitness 1 → score = price ratio.
        // stabilization = 0.5×0.033174 + (500/1024)×0.004446 = 0.016587 + 0.0021709 = 0.0187579
        // pods = 6×0.033174 + 12×0.004446 = 0.199044 + 0.053352 = 0.252396
        // score = (0.384 + 0.0187579) / (0.252396 + 0.0187579) = 0.4027579 / 0.2711539 = 1.48535
        let o = ScaleUpOption {
            group: "g".into(),
            node_count: 2,
            pods: vec![],
            pod_requests: Resources::new(6000, 12 * GIB, 6),
            node_capacity: Resources::new(4000, 16 * GIB, 58),
            node_price_hr: 0.192,
        };
        let s = option_score(&o, preferred_node_cpu_m(10));
        assert!((s - 1.48535).abs() < 1e-4, "{s}");
        // An 8-CPU node against a 2-CPU preference: unfitness 4, one node → suppressed 4.
        assert_eq!(node_unfitness(2000, 8000), 4.0);
        let one = ScaleUpOption {
            node_count: 1,
            node_capacity: Resources::new(8000, 32 * GIB, 58),
            ..o
        };
        let ratio = (0.192 + 0.0187579) / (0.252396 + 0.0187579);
        assert!((option_score(&one, 2000) - 4.0 * ratio).abs() < 1e-4);
    }
}
