//! The binpacking estimator: how many template nodes a group needs for a set of pending pods.
//!
//! upstream: cluster-autoscaler/estimator/binpacking_estimator.go. Pods are sorted by decreasing
//! score `cpu_request / node_cpu + memory_request / node_memory` (estimator/decreasing_pod_orderer.go,
//! against the template's allocatable); each pod goes to the first estimated new node it fits on
//! (first-fit decreasing), else a new node is added if the limiter allows (`PermissionToAddNode`:
//! `--max-nodes-per-scaleup`, the group's remaining size, the cluster's remaining node and resource
//! budget); a pod that fits nowhere once no node may be added is left out of the option.

use crate::cluster::PodId;
use crate::model::Resources;

/// The estimate for one group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate {
    pub node_count: u32,
    /// Pods the new nodes would host, in placement order.
    pub pods: Vec<PodId>,
    pub pod_requests: Resources,
}

/// Pod score for the decreasing order (upstream: `decreasingPodOrderer`).
fn pod_score(req: &Resources, alloc: &Resources) -> f64 {
    let part = |r: i64, a: i64| if a > 0 { r as f64 / a as f64 } else { 0.0 };
    part(req.cpu_m, alloc.cpu_m) + part(req.mem, alloc.mem)
}

/// What the estimator asks beyond resources: the scheduler's inter-pod filters on the estimated
/// nodes (upstream runs the full predicate set on the snapshot with the new template nodes).
/// `pod` indexes the estimator's `pods`, `node` the estimated new nodes in creation order.
pub trait Constraints {
    /// Does pod `pod` pass the filters on estimated node `node` (`fresh`: not added yet)?
    fn admits(&mut self, pod: usize, node: usize, fresh: bool) -> bool;
    /// Pod `pod` goes on estimated node `node` (added first when `fresh`).
    fn place(&mut self, pod: usize, node: usize, fresh: bool);
}

/// No constraint beyond resources.
pub struct Unconstrained;

impl Constraints for Unconstrained {
    fn admits(&mut self, _: usize, _: usize, _: bool) -> bool {
        true
    }
    fn place(&mut self, _: usize, _: usize, _: bool) {}
}

/// First-fit decreasing of `pods` (each already known to fit an empty template node) onto at most
/// `max_nodes` new nodes with `alloc` room each.
pub fn estimate(pods: &[(PodId, Resources)], alloc: Resources, max_nodes: u32) -> Estimate {
    estimate_with(pods, alloc, max_nodes, &mut Unconstrained)
}

/// [`estimate`] with the inter-pod filters: a pod goes on the first estimated node it fits and
/// `constraints` admits; else on a new node if the limiter allows and a fresh node admits it;
/// else it is left out (upstream: binpacking_estimator.go `tryToScheduleOnNewNodes` does not
/// keep a new node the pod cannot use).
pub fn estimate_with(
    pods: &[(PodId, Resources)],
    alloc: Resources,
    max_nodes: u32,
    constraints: &mut dyn Constraints,
) -> Estimate {
    let mut order: Vec<usize> = (0..pods.len()).collect();
    // Stable sort: equal scores keep the scheduling-queue order.
    order.sort_by(|&a, &b| {
        pod_score(&pods[b].1, &alloc)
            .partial_cmp(&pod_score(&pods[a].1, &alloc))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut nodes: Vec<Resources> = Vec::new();
    let mut out = Estimate {
        node_count: 0,
        pods: Vec::new(),
        pod_requests: Resources::ZERO,
    };
    for i in order {
        let (id, req) = pods[i];
        let slot = (0..nodes.len()).find(|&s| req.fits_in(&nodes[s]) && constraints.admits(i, s, false));
        let slot = match slot {
            Some(s) => {
                constraints.place(i, s, false);
                s
            }
            None => {
                let s = nodes.len();
                if s as u32 >= max_nodes || !req.fits_in(&alloc) || !constraints.admits(i, s, true) {
                    continue;
                }
                constraints.place(i, s, true);
                nodes.push(alloc);
                s
            }
        };
        nodes[slot] -= req;
        out.pods.push(id);
        out.pod_requests += req;
    }
    out.node_count = nodes.len() as u32;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::resources::GIB;

    #[test]
    fn first_fit_decreasing_table() {
        let alloc = Resources::new(4000, 16 * GIB, 110);
        let p = |i: u32, cpu: i64| (PodId(i), Resources::new(cpu, GIB, 1));
        // (pods' cpu, max nodes, expected nodes, expected pods placed)
        // 3000,3000,1000,1000 → FFD: 3000+1000 | 3000+1000 = 2 nodes.
        // 2500×3 with max 2 → two nodes, third pod left out.
        // 5000 does not fit a node at all.
        let cases: &[(&[i64], u32, u32, usize)] = &[
            (&[1000, 3000, 1000, 3000], 10, 2, 4),
            (&[2500, 2500, 2500], 2, 2, 2),
            (&[5000, 1000], 10, 1, 1),
            (&[], 10, 0, 0),
            (&[1000], 0, 0, 0),
        ];
        for (cpus, max, nodes, placed) in cases {
            let pods: Vec<_> = cpus.iter().enumerate().map(|(i, &c)| p(i as u32, c)).collect();
            let e = estimate(&pods, alloc, *max);
            assert_eq!((e.node_count, e.pods.len()), (*nodes, *placed), "{cpus:?} max {max}");
        }
        // Pod-count limit: 3 pod slots per node, 7 tiny pods → 3 nodes.
        let small = Resources::new(4000, 16 * GIB, 3);
        let pods: Vec<_> = (0..7).map(|i| p(i, 10)).collect();
        assert_eq!(estimate(&pods, small, 10).node_count, 3);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn estimate_respects_limits_and_places_what_fits(
            cpus in proptest::collection::vec(1i64..5000, 0..40),
            max_nodes in 0u32..12,
        ) {
            let alloc = Resources::new(4000, 16 * GIB, 110);
            let pods: Vec<_> = cpus.iter().enumerate().map(|(i, &c)| (PodId(i as u32), Resources::new(c, GIB / 4, 1))).collect();
            let e = estimate(&pods, alloc, max_nodes);
            proptest::prop_assert!(e.node_count <= max_nodes);
            let cap = alloc.scaled(i64::from(e.node_count));
            proptest::prop_assert!(e.pod_requests.fits_in(&cap));
            let fitting = cpus.iter().filter(|&&c| c <= 4000).count();
            // Enough nodes for one pod each: every pod that fits a node is placed.
            if max_nodes as usize >= fitting {
                proptest::prop_assert_eq!(e.pods.len(), fitting);
            }
            // A node is only opened for a pod that goes on it.
            proptest::prop_assert!(e.node_count as usize <= e.pods.len());
        }
    }
}
