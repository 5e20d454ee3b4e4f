//! A DoNotSchedule spread never exceeds maxSkew, over random static clusters: zones with
//! different node counts and sizes, random replica counts and skews. (The scheduler admits a
//! pod only where `count + 1 - min <= maxSkew`; counts only grow in these runs, so the final
//! counts keep the bound over every zone that has a node.)

use super::*;
use capsim::sim;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn spread_never_exceeds_max_skew(
        nodes in proptest::collection::vec((0u32..4, 0usize..3), 1..5),
        replicas in 1u32..30,
        max_skew in 1i32..4,
    ) {
        let types = ["m5.large", "m5.xlarge", "c5.2xlarge"];
        let mut sets = String::new();
        let mut zones = Vec::new();
        for (i, (count, ty)) in nodes.iter().enumerate() {
            let zone = format!("us-east-1{}", (b'a' + i as u8) as char);
            if *count > 0 {
                zones.push(zone.clone());
                sets.push_str(&format!("  - {{name: n{i}, instanceType: {}, count: {count}, zone: {zone}}}\n", types[*ty]));
            }
        }
        prop_assume!(!zones.is_empty());
        let spread = SPREAD_ZONE.replace("maxSkew: 1", &format!("maxSkew: {max_skew}"));
        let text = format!(
            "apiVersion: capsim/v1alpha1\nkind: Scenario\nmetadata: {{name: prop}}\nspec:\n  duration: 5m\n  start: cold\n  nodes:\n{sets}---\n{}",
            web(replicas, &spread)
        );
        let r = sim::run(&load(&text)).unwrap();
        let z = pods_per_zone(&r, "web");
        let counts: Vec<usize> = zones.iter().map(|zn| z.get(zn).copied().unwrap_or(0)).collect();
        let (lo, hi) = (*counts.iter().min().unwrap(), *counts.iter().max().unwrap());
        prop_assert!((hi - lo) as i32 <= max_skew, "zones {:?} counts {:?} skew {}", zones, counts, max_skew);
    }
}
