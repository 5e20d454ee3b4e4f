//! Expanders: which node group to grow when several could help.
//!
//! upstream: cluster-autoscaler/expander/factory/chain.go: `--expander=a,b,c` applies each
//! expander as a filter in turn and stops as soon as one option is left; upstream breaks the ties
//! that remain at random. capsim breaks them by node-group name instead, so a run does not depend
//! on an extra dice roll (name `random` explicitly to get a seeded random choice).

pub mod pattern;
pub mod price;
pub mod priority;

use super::flags::ExpanderKind;
use crate::cluster::PodId;
use crate::engine::{Rngs, SimTime};
use crate::model::Resources;
use priority::PriorityConfig;
use rand::RngExt;

/// One way to scale up: grow `group` by `node_count` nodes, which would host `pods`.
/// upstream: cluster-autoscaler/expander/expander.go `Option`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleUpOption {
    pub group: String,
    pub node_count: u32,
    pub pods: Vec<PodId>,
    /// Σ requests of `pods`.
    pub pod_requests: Resources,
    /// The template node's capacity (not allocatable: least-waste and price use capacity).
    pub node_capacity: Resources,
    /// Hourly price of one node.
    pub node_price_hr: f64,
}

/// What expanders may look at besides the options.
pub struct ExpanderContext<'a> {
    pub now: SimTime,
    pub rngs: &'a Rngs,
    /// Nodes in the cluster (the price expander's preferred node size depends on it).
    pub cluster_nodes: usize,
    pub priorities: Option<&'a PriorityConfig>,
}

/// The chain's outcome: the chosen option (index into the input) and what each stage saw.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpanderChoice {
    pub chosen: usize,
    /// One line per stage, e.g. `least-waste: general=0.412 spot=0.550 → general`.
    pub trace: Vec<String>,
}

/// Runs the expander chain over `options` (non-empty, else `None`).
pub fn choose(chain: &[ExpanderKind], options: &[ScaleUpOption], ctx: &ExpanderContext<'_>) -> Option<ExpanderChoice> {
    if options.is_empty() {
        return None;
    }
    let mut left: Vec<usize> = (0..options.len()).collect();
    let mut trace = Vec::new();
    for kind in chain {
        if left.len() == 1 {
            break;
        }
        let (kept, line) = best_options(*kind, options, &left, ctx);
        trace.push(line);
        // An expander that keeps nothing (cannot happen with the built-in ones) leaves the set as is.
        if !kept.is_empty() {
            left = kept;
        }
    }
    if left.len() > 1 {
        left.sort_by(|&a, &b| options[a].group.cmp(&options[b].group));
        trace.push(format!(
            "tie between {} broken by name",
            left.iter()
                .map(|&i| options[i].group.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Some(ExpanderChoice { chosen: left[0], trace })
}

fn names(options: &[ScaleUpOption], idx: &[usize]) -> String {
    idx.iter()
        .map(|&i| options[i].group.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Keeps the options whose key equals the best (smallest) one.
fn keep_min<K: PartialOrd + Copy>(left: &[usize], key: impl Fn(usize) -> K) -> Vec<usize> {
    let mut best: Option<K> = None;
    for &i in left {
        let k = key(i);
        if best.is_none_or(|b| k < b) {
            best = Some(k);
        }
    }
    left.iter().copied().filter(|&i| Some(key(i)) == best).collect()
}

/// One expander as a filter (upstream: each package's `BestOptions`).
pub fn best_options(
    kind: ExpanderKind,
    options: &[ScaleUpOption],
    left: &[usize],
    ctx: &ExpanderContext<'_>,
) -> (Vec<usize>, String) {
    match kind {
        ExpanderKind::Random => {
            // upstream: expander/random/random.go: uniform choice. Seeded by the loop time so a
            // run is a function of its seed.
            let mut rng = ctx
                .rngs
                .stream("cluster-autoscaler/expander-random", ctx.now.as_millis());
            let pick = left[rng.random_range(0..left.len())];
            (
                vec![pick],
                format!("random: {} → {}", names(options, left), options[pick].group),
            )
        }
        ExpanderKind::MostPods => {
            // upstream: expander/mostpods/mostpods.go: the options that schedule the most pods.
            let kept = keep_min(left, |i| std::cmp::Reverse(options[i].pods.len()));
            let scores: Vec<String> = left
                .iter()
                .map(|&i| format!("{}={}", options[i].group, options[i].pods.len()))
                .collect();
            let line = format!("most-pods: {} → {}", scores.join(" "), names(options, &kept));
            (kept, line)
        }
        ExpanderKind::LeastNodes => {
            // upstream: expander/leastnodes/leastnodes.go: the fewest new nodes.
            let kept = keep_min(left, |i| options[i].node_count);
            let scores: Vec<String> = left
                .iter()
                .map(|&i| format!("{}={}", options[i].group, options[i].node_count))
                .collect();
            let line = format!("least-nodes: {} → {}", scores.join(" "), names(options, &kept));
            (kept, line)
        }
        ExpanderKind::LeastWaste => {
            let kept = keep_min(left, |i| wasted_score(&options[i]));
            let scores: Vec<String> = left
                .iter()
                .map(|&i| format!("{}={:.3}", options[i].group, wasted_score(&options[i])))
                .collect();
            let line = format!("least-waste: {} → {}", scores.join(" "), names(options, &kept));
            (kept, line)
        }
        ExpanderKind::Price => {
            let pref = price::preferred_node_cpu_m(ctx.cluster_nodes);
            let kept = keep_min(left, |i| price::option_score(&options[i], pref));
            let scores: Vec<String> = left
                .iter()
                .map(|&i| format!("{}={:.4}", options[i].group, price::option_score(&options[i], pref)))
                .collect();
            let line = format!("price: {} → {}", scores.join(" "), names(options, &kept));
            (kept, line)
        }
        ExpanderKind::Priority => match ctx.priorities {
            Some(cfg) => {
                let (kept, scores) = cfg.best_options(options, left);
                let line = format!("priority: {scores} → {}", names(options, &kept));
                (kept, line)
            }
            None => (
                left.to_vec(),
                "priority: no priority configuration; all options kept".to_string(),
            ),
        },
    }
}

/// upstream: cluster-autoscaler/expander/waste/waste.go: the fraction of the new nodes' CPU plus
/// the fraction of their memory that the pods would leave unrequested, against node *capacity*
/// times the node count. A smaller score wastes less.
pub fn wasted_score(o: &ScaleUpOption) -> f64 {
    let n = i64::from(o.node_count);
    let avail_cpu = (o.node_capacity.cpu_m * n) as f64;
    let avail_mem = (o.node_capacity.mem * n) as f64;
    let frac = |avail: f64, req: i64| {
        if avail <= 0.0 {
            1.0
        } else {
            (avail - req as f64) / avail
        }
    };
    frac(avail_cpu, o.pod_requests.cpu_m) + frac(avail_mem, o.pod_requests.mem)
}
