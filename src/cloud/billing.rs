//! What the cluster costs: per-second billing with a 60-second minimum, a ledger of node intervals,
//! cost by node group / instance type / capacity type, and cost per workload by request share.
//!
//! upstream: aws.amazon.com/about-aws/whats-new/2017/10/announcing-amazon-ec2-per-second-billing
//! ("usage of Linux based instances that are launched in On-Demand, Reserved and Spot form will be
//! billed on one second increments, with a minimum of 60 seconds"). Billing runs from instance
//! running to termination (the node lifecycle's launch and terminate stages). Partial seconds are
//! rounded up to the next whole second. Interrupted spot instances are charged like any other: a
//! refund AWS may grant for an interruption it initiates is not modelled.

use crate::engine::SimTime;
use crate::model::{CapacityType, Resources};
use std::collections::BTreeMap;

/// The shortest billed interval, in seconds.
pub const MINIMUM_BILLED_SECONDS: u64 = 60;

/// Billed seconds for an instance running from `start` to `end`: whole seconds rounded up,
/// at least [`MINIMUM_BILLED_SECONDS`] (also when `end` is not after `start`).
pub fn billed_seconds(start: SimTime, end: SimTime) -> u64 {
    let ms = end.since(start).as_millis();
    ms.div_ceil(1000).max(MINIMUM_BILLED_SECONDS)
}

/// Cost in USD of an instance at `price_per_hour` from `start` to `end`.
pub fn instance_cost(price_per_hour: f64, start: SimTime, end: SimTime) -> f64 {
    price_per_hour * billed_seconds(start, end) as f64 / 3600.0
}

/// What the ledger needs to know about a node when its billing starts.
#[derive(Clone, Debug, PartialEq)]
pub struct BilledNode {
    pub node: String,
    /// Node group (Cluster Autoscaler), NodePool (Karpenter) or static-node set.
    pub group: String,
    pub instance_type: String,
    pub capacity_type: CapacityType,
    pub price_per_hour: f64,
    /// Allocatable (after DaemonSets or not, as the caller chooses): the denominator of request shares.
    pub allocatable: Resources,
}

/// One node's billed interval; `end` is `None` while it is still running.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInterval {
    pub node: BilledNode,
    pub start: SimTime,
    pub end: Option<SimTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    #[error("node {0:?} is already being billed")]
    AlreadyRunning(String),
    #[error("node {0:?} is not being billed")]
    NotRunning(String),
    #[error("node {node:?}: price must be a non-negative number of USD per hour, got {price}")]
    BadPrice { node: String, price: String },
}

/// Records when each node's billing starts and ends.
#[derive(Clone, Debug, Default)]
pub struct CostLedger {
    intervals: Vec<NodeInterval>,
    running: BTreeMap<String, usize>,
}

/// One node's cost in a report.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeCost {
    pub node: String,
    pub group: String,
    pub instance_type: String,
    pub capacity_type: CapacityType,
    pub price_per_hour: f64,
    pub allocatable: Resources,
    pub start: SimTime,
    /// The end of billing, or the end of the run for a node still running.
    pub end: SimTime,
    pub still_running: bool,
    pub billed_seconds: u64,
    pub cost: f64,
}

/// Costs of a run, every map ordered by key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CostReport {
    pub total: f64,
    pub by_group: BTreeMap<String, f64>,
    pub by_instance_type: BTreeMap<String, f64>,
    /// Keyed `on-demand` / `spot`.
    pub by_capacity_type: BTreeMap<String, f64>,
    /// Billed node-hours, keyed like `by_group`.
    pub node_hours_by_group: BTreeMap<String, f64>,
    /// In the order nodes started.
    pub nodes: Vec<NodeCost>,
}

impl CostLedger {
    pub fn new() -> Self {
        CostLedger::default()
    }

    /// Billing starts (instance running).
    pub fn start(&mut self, node: BilledNode, at: SimTime) -> Result<(), BillingError> {
        if !node.price_per_hour.is_finite() || node.price_per_hour < 0.0 {
            return Err(BillingError::BadPrice {
                node: node.node,
                price: node.price_per_hour.to_string(),
            });
        }
        if self.running.contains_key(&node.node) {
            return Err(BillingError::AlreadyRunning(node.node));
        }
        self.running.insert(node.node.clone(), self.intervals.len());
        self.intervals.push(NodeInterval {
            node,
            start: at,
            end: None,
        });
        Ok(())
    }

    /// Billing ends (instance terminated). A node name may be billed again after it stopped.
    pub fn stop(&mut self, node: &str, at: SimTime) -> Result<(), BillingError> {
        let i = self
            .running
            .remove(node)
            .ok_or_else(|| BillingError::NotRunning(node.to_string()))?;
        self.intervals[i].end = Some(at);
        Ok(())
    }

    pub fn is_running(&self, node: &str) -> bool {
        self.running.contains_key(node)
    }

    pub fn intervals(&self) -> &[NodeInterval] {
        &self.intervals
    }

    /// Costs with nodes still running billed up to `run_end`.
    pub fn report(&self, run_end: SimTime) -> CostReport {
        let mut r = CostReport::default();
        for iv in &self.intervals {
            let end = iv.end.unwrap_or(run_end);
            let billed = billed_seconds(iv.start, end);
            let cost = iv.node.price_per_hour * billed as f64 / 3600.0;
            r.total += cost;
            *r.by_group.entry(iv.node.group.clone()).or_default() += cost;
            *r.by_instance_type.entry(iv.node.instance_type.clone()).or_default() += cost;
            *r.by_capacity_type
                .entry(iv.node.capacity_type.as_str().to_string())
                .or_default() += cost;
            *r.node_hours_by_group.entry(iv.node.group.clone()).or_default() += billed as f64 / 3600.0;
            r.nodes.push(NodeCost {
                node: iv.node.node.clone(),
                group: iv.node.group.clone(),
                instance_type: iv.node.instance_type.clone(),
                capacity_type: iv.node.capacity_type,
                price_per_hour: iv.node.price_per_hour,
                allocatable: iv.node.allocatable,
                start: iv.start,
                end,
                still_running: iv.end.is_none(),
                billed_seconds: billed,
                cost,
            });
        }
        r
    }
}

/// Requests integrated over time: millicore-seconds and byte-seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RequestSeconds {
    pub cpu_m_s: f64,
    pub mem_b_s: f64,
}

impl std::ops::AddAssign for RequestSeconds {
    fn add_assign(&mut self, o: RequestSeconds) {
        self.cpu_m_s += o.cpu_m_s;
        self.mem_b_s += o.mem_b_s;
    }
}

/// How much CPU and memory count in a request share; the two weights sum to 1.
/// capsim's choice (not an upstream rule): equal weights by default, as in a node whose price is
/// half CPU, half memory. OpenCost-style tools split by the instance's CPU/RAM price ratio instead.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShareWeights {
    pub cpu: f64,
    pub memory: f64,
}

impl Default for ShareWeights {
    fn default() -> Self {
        ShareWeights { cpu: 0.5, memory: 0.5 }
    }
}

/// Node cost split between workloads and idle capacity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkloadCosts {
    pub by_workload: BTreeMap<String, f64>,
    /// The share of node cost no pod requested (including boot time and the billing minimum).
    pub idle: f64,
}

/// Splits each node's cost by request share. A workload's share of a node is
/// `w_cpu · cpu_req_s / (alloc_cpu · billed_s) + w_mem · mem_req_s / (alloc_mem · billed_s)`,
/// where `requests[node][workload]` are the request-seconds its pods held on that node; shares are
/// scaled down together if they sum above 1 (requests above allocatable cannot exceed the node's
/// cost), and the rest of the node's cost is idle. Nodes missing from `requests` are wholly idle.
/// A dimension with zero allocatable gives its weight to the other.
pub fn split_by_requests(
    report: &CostReport,
    requests: &BTreeMap<String, BTreeMap<String, RequestSeconds>>,
    weights: ShareWeights,
) -> WorkloadCosts {
    let mut out = WorkloadCosts::default();
    for n in &report.nodes {
        let billed = n.billed_seconds as f64;
        let cpu_cap = n.allocatable.cpu_m as f64 * billed;
        let mem_cap = n.allocatable.mem as f64 * billed;
        let (wc, wm) = match (cpu_cap > 0.0, mem_cap > 0.0) {
            (true, true) => {
                let total = weights.cpu + weights.memory;
                if total > 0.0 {
                    (weights.cpu / total, weights.memory / total)
                } else {
                    (0.5, 0.5)
                }
            }
            (true, false) => (1.0, 0.0),
            (false, true) => (0.0, 1.0),
            (false, false) => (0.0, 0.0),
        };
        let shares: Vec<(&String, f64)> = requests
            .get(&n.node)
            .map(|by_w| {
                by_w.iter()
                    .map(|(w, r)| {
                        let c = if cpu_cap > 0.0 {
                            r.cpu_m_s.max(0.0) / cpu_cap
                        } else {
                            0.0
                        };
                        let m = if mem_cap > 0.0 {
                            r.mem_b_s.max(0.0) / mem_cap
                        } else {
                            0.0
                        };
                        (w, wc * c + wm * m)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let sum: f64 = shares.iter().map(|(_, s)| s).sum();
        let scale = if sum > 1.0 { 1.0 / sum } else { 1.0 };
        let mut used = 0.0;
        for (w, s) in shares {
            let c = n.cost * s * scale;
            used += c;
            *out.by_workload.entry(w.clone()).or_default() += c;
        }
        out.idle += (n.cost - used).max(0.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;
    use crate::model::resources::GIB;

    fn t(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    fn node(name: &str, group: &str, it: &str, ct: CapacityType, price: f64) -> BilledNode {
        BilledNode {
            node: name.into(),
            group: group.into(),
            instance_type: it.into(),
            capacity_type: ct,
            price_per_hour: price,
            allocatable: Resources::new(4000, 16 * GIB, 58),
        }
    }

    #[test]
    fn per_second_with_minimum() {
        // m5.xlarge 0.192 $/h for 90 min = 0.288 $.
        assert!((instance_cost(0.192, t(0), t(5400)) - 0.288).abs() < 1e-12);
        // 20 s costs the 60 s minimum: 0.192 / 60 = 0.0032 $.
        assert!((instance_cost(0.192, t(100), t(120)) - 0.0032).abs() < 1e-12);
        // 61.2 s is billed as 62 s.
        assert_eq!(billed_seconds(t(0), t(0) + SimDuration::from_millis(61_200)), 62);
        assert_eq!(billed_seconds(t(10), t(5)), 60);
    }

    #[test]
    fn ledger_groups_costs() {
        let mut l = CostLedger::new();
        let od = CapacityType::OnDemand;
        let spot = CapacityType::Spot;
        l.start(node("a", "general", "m5.xlarge", od, 0.192), t(0))
            .expect("start a");
        l.start(node("b", "general", "m5.xlarge", spot, 0.0653), t(0))
            .expect("start b");
        l.start(node("c", "batch", "c6i.large", od, 0.085), t(600))
            .expect("start c");
        l.stop("a", t(3600)).expect("stop a");
        l.stop("c", t(610)).expect("stop c");
        assert_eq!(l.stop("c", t(700)), Err(BillingError::NotRunning("c".into())));
        assert_eq!(
            l.start(node("b", "general", "m5.xlarge", spot, 0.0653), t(1)),
            Err(BillingError::AlreadyRunning("b".into()))
        );
        let r = l.report(t(7200));
        // a: 1 h × 0.192 = 0.192; b: still running, 2 h × 0.0653 = 0.1306; c: 10 s → 60 s minimum
        // = 0.085 / 60 = 0.0014167.
        let c_cost = 0.085 / 60.0;
        assert!((r.total - (0.192 + 0.1306 + c_cost)).abs() < 1e-12, "{}", r.total);
        assert!((r.by_group["general"] - 0.3226).abs() < 1e-12);
        assert!((r.by_group["batch"] - c_cost).abs() < 1e-12);
        assert!((r.by_instance_type["m5.xlarge"] - 0.3226).abs() < 1e-12);
        assert!((r.by_capacity_type["spot"] - 0.1306).abs() < 1e-12);
        assert!((r.by_capacity_type["on-demand"] - (0.192 + c_cost)).abs() < 1e-12);
        assert!((r.node_hours_by_group["general"] - 3.0).abs() < 1e-12);
        assert!(r.nodes[1].still_running && !r.nodes[0].still_running);
        assert_eq!(r.nodes[1].end, t(7200));
        let keys: Vec<&String> = r.by_group.keys().collect();
        assert_eq!(keys, ["batch", "general"]);
        // A node can be billed again after it stopped.
        l.start(node("a", "general", "m5.xlarge", od, 0.192), t(4000))
            .expect("restart a");
        assert!(l.is_running("a"));
    }

    #[test]
    fn bad_price_is_refused() {
        let mut l = CostLedger::new();
        let err = l.start(node("x", "g", "m5.large", CapacityType::OnDemand, f64::NAN), t(0));
        assert!(matches!(err, Err(BillingError::BadPrice { .. })));
        let err = l.start(node("x", "g", "m5.large", CapacityType::OnDemand, -1.0), t(0));
        assert!(matches!(err, Err(BillingError::BadPrice { .. })));
    }

    #[test]
    fn workload_split_and_idle() {
        // One node, 4000 m and 16 GiB allocatable, billed 3600 s at 0.192 $/h → 0.192 $.
        let mut l = CostLedger::new();
        l.start(node("n1", "g", "m5.xlarge", CapacityType::OnDemand, 0.192), t(0))
            .expect("start");
        l.stop("n1", t(3600)).expect("stop");
        let report = l.report(t(3600));
        // api requests 1000 m and 4 GiB for the whole hour: share ½·¼ + ½·¼ = ¼ → 0.048 $.
        // worker requests 2000 m and 0 GiB for half the hour: ½·(1000·3600/(4000·3600)) = 0.125 → 0.024 $.
        let mut per_node = BTreeMap::new();
        per_node.insert(
            "api".to_string(),
            RequestSeconds {
                cpu_m_s: 1000.0 * 3600.0,
                mem_b_s: 4.0 * GIB as f64 * 3600.0,
            },
        );
        per_node.insert(
            "worker".to_string(),
            RequestSeconds {
                cpu_m_s: 2000.0 * 1800.0,
                mem_b_s: 0.0,
            },
        );
        let mut req = BTreeMap::new();
        req.insert("n1".to_string(), per_node);
        let split = split_by_requests(&report, &req, ShareWeights::default());
        assert!((split.by_workload["api"] - 0.048).abs() < 1e-12);
        assert!((split.by_workload["worker"] - 0.024).abs() < 1e-12);
        assert!((split.idle - 0.12).abs() < 1e-12);
        // Nothing requested: all idle.
        let empty = split_by_requests(&report, &BTreeMap::new(), ShareWeights::default());
        assert!((empty.idle - 0.192).abs() < 1e-12 && empty.by_workload.is_empty());
    }

    #[test]
    fn oversubscribed_shares_are_scaled_to_the_node_cost() {
        let mut l = CostLedger::new();
        l.start(node("n1", "g", "m5.xlarge", CapacityType::OnDemand, 0.36), t(0))
            .expect("start");
        let report = l.report(t(3600));
        let full = RequestSeconds {
            cpu_m_s: 4000.0 * 3600.0,
            mem_b_s: 16.0 * GIB as f64 * 3600.0,
        };
        let mut per_node = BTreeMap::new();
        per_node.insert("a".to_string(), full);
        per_node.insert("b".to_string(), full);
        let req = BTreeMap::from([("n1".to_string(), per_node)]);
        let split = split_by_requests(&report, &req, ShareWeights::default());
        assert!((split.by_workload["a"] - 0.18).abs() < 1e-12);
        assert!((split.by_workload["b"] - 0.18).abs() < 1e-12);
        assert_eq!(split.idle, 0.0);
    }
}
