//! Synthetic run results for the chart and compare tests: a Monday-style surge with replicas
//! following demand, nodes launching in one or more pools, and pods with known Pending times.
//! Shared by the chart and compare tests as `crate::charts::kit` (it has no tests of its own).
#![allow(dead_code)]

use capsim::engine::SimTime;
use capsim::sim::SimResult;
use capsim::sim::record::{
    ClusterRow, ClusterSummary, Percentiles, PodRecord, PoolCount, Summary, TimelineRow, WorkloadSummary,
};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Requests/s one ready pod serves.
pub const POD_RPS: f64 = 250.0;
pub const STEP_S: u64 = 10;

/// Demand ×4 between 30 min and 70 min (linear 10-minute ramps), `base` otherwise.
pub fn demand(base: f64, t: u64) -> f64 {
    let f = if t < 1800 {
        1.0
    } else if t < 2400 {
        1.0 + 3.0 * (t - 1800) as f64 / 600.0
    } else if t < 4200 {
        4.0
    } else if t < 4800 {
        4.0 - 3.0 * (t - 4200) as f64 / 600.0
    } else {
        1.0
    };
    base * f
}

/// One workload's description: name, base demand, and the seconds each of its scale-up pods
/// waits Pending (one pod per entry, created at 30 min + 20 s × index).
pub struct Wl<'a> {
    pub name: &'a str,
    pub base: f64,
    pub pending: Vec<f64>,
}

/// A result of `duration_s` seconds with the given workloads on the given pools.
/// `cost_scale` multiplies every price (so variants can differ in cost).
pub fn synthetic(name: &str, wls: &[Wl<'_>], pools: &[&str], duration_s: u64, cost_scale: f64) -> SimResult {
    let mut timeline = Vec::new();
    let mut cluster_timeline = Vec::new();
    let mut pods = Vec::new();
    let mut workloads = Vec::new();
    let mut totals = vec![(0.0f64, 0.0f64); wls.len()];
    let mut replicas = vec![(u32::MAX, 0u32); wls.len()];
    for t in (0..=duration_s).step_by(STEP_S as usize) {
        let time = SimTime::from_secs(t);
        let mut nodes_needed = 0u32;
        for (i, w) in wls.iter().enumerate() {
            let d = demand(w.base, t);
            let desired = (d / (0.7 * POD_RPS)).ceil() as u32;
            // Ready lags desired by the Pending wait of the scale-up pods (a crude 4-minute lag).
            let lagged = demand(w.base, t.saturating_sub(240));
            let ready = ((lagged / (0.7 * POD_RPS)).ceil() as u32).min(desired);
            let starting = desired.saturating_sub(ready) / 2;
            let pending = desired - ready - starting;
            let capacity = f64::from(ready) * POD_RPS;
            let served = d.min(capacity);
            if t < duration_s {
                totals[i].0 += d * STEP_S as f64;
                totals[i].1 += served * STEP_S as f64;
            }
            replicas[i].0 = replicas[i].0.min(desired);
            replicas[i].1 = replicas[i].1.max(desired);
            nodes_needed += desired.div_ceil(4);
            timeline.push(TimelineRow {
                time,
                workload: i as u32,
                demand_rps: d,
                served_rps: served,
                capacity_rps: capacity,
                latency_ms: Some([20.0, 60.0, 90.0]),
                errors_rps: d - served,
                cpu_throttled_m: 0.0,
                cpu_starved_m: 0.0,
                desired,
                pending,
                starting,
                ready,
                cpu_per_pod_m: 500.0,
                cpu_utilization: 70.0,
                hpa_metric: None,
                nodes_ready: 0,
                nodes_upcoming: 0,
                cost_rate_hr: 0.0,
            });
        }
        let per_pool = nodes_needed.div_ceil(pools.len().max(1) as u32);
        let pool_counts: Vec<PoolCount> = pools
            .iter()
            .map(|p| PoolCount {
                pool: (*p).to_string(),
                ready: per_pool.saturating_sub(1),
                upcoming: u32::from(t > 1800 && t < 2600),
                leaving: u32::from(t > 4800 && t < 5400),
            })
            .collect();
        let n: u32 = pool_counts.iter().map(|p| p.ready + p.upcoming + p.leaving).sum();
        cluster_timeline.push(ClusterRow {
            time,
            pools: pool_counts,
            cost_rate_hr: f64::from(n) * 0.192 * cost_scale,
            pods_pending: 0,
        });
    }
    for (i, w) in wls.iter().enumerate() {
        for (k, p) in w.pending.iter().enumerate() {
            let created = 1800.0 + 20.0 * k as f64;
            pods.push(PodRecord {
                pod: format!("{}-{k:05}", w.name),
                workload: w.name.to_string(),
                priority: 0,
                node: "n".into(),
                created_s: created,
                unschedulable_s: Some(created),
                scheduled_s: Some(created + p),
                started_s: Some(created + p + 8.0),
                ready_s: Some(created + p + 20.0),
                deleted_s: None,
                pending_s: *p,
                image_cached: false,
                state_at_end: "Ready".into(),
                delete_reason: String::new(),
                zone: "us-east-1a".into(),
            });
        }
        let (total, served) = totals[i];
        workloads.push(WorkloadSummary {
            name: w.name.to_string(),
            pods_created: w.pending.len() as u32,
            pods_pending_at_end: 0,
            pending: Percentiles::of(w.pending.clone()),
            time_to_ready: Percentiles::of(w.pending.iter().map(|p| p + 20.0).collect()),
            pod_pending_seconds: w.pending.iter().sum(),
            requests_total: total,
            requests_unserved: total - served,
            unserved_share: if total > 0.0 { (total - served) / total } else { 0.0 },
            overload_seconds: 0.0,
            latency_ms: Default::default(),
            requests_timed_out: 0.0,
            error_share: 0.0,
            cpu_throttled_core_seconds: 0.0,
            cpu_starved_core_seconds: 0.0,
            oom_kills: 0,
            pressure_evictions: 0,
            container_restarts: 0,
            replicas_min: replicas[i].0,
            replicas_max: replicas[i].1,
            completion_delay: None,
            completed: None,
            queue: None,
            pending_breakdown: None,
            pods_evicted: 0,
            replacement_pending: Percentiles::default(),
        });
    }
    let cost: f64 = cluster_timeline
        .iter()
        .map(|c| c.cost_rate_hr * STEP_S as f64 / 3600.0)
        .sum();
    let nodes_max = cluster_timeline
        .iter()
        .map(|c| c.pools.iter().map(|p| p.ready + p.upcoming + p.leaving).sum::<u32>())
        .max()
        .unwrap_or(0);
    SimResult {
        summary: Summary {
            scenario: name.to_string(),
            seed: 7,
            duration_s: duration_s as f64,
            events: 0,
            workloads,
            cluster: ClusterSummary {
                nodes_max,
                nodes_at_end: 0,
                nodes_launched: 0,
                nodes_terminated: 0,
                node_hours: 0.0,
                cost_total_usd: cost,
                cost_by_pool: BTreeMap::new(),
                cost_by_instance_type: BTreeMap::new(),
                cost_by_capacity_type: BTreeMap::new(),
                cost_by_zone: BTreeMap::new(),
                nodes_launched_by_zone: BTreeMap::new(),
                cost_by_workload: BTreeMap::new(),
                cost_idle_usd: 0.0,
                decisions: BTreeMap::new(),
                spot_interruptions: 0,
            },
            alerts: Vec::new(),
            pages: 0,
            faults: None,
            vpa: Vec::new(),
            keda: Vec::new(),
            findings: Vec::new(),
        },
        timeline,
        cluster_timeline,
        workload_names: wls.iter().map(|w| w.name.to_string()).collect(),
        pods,
        nodes: Vec::new(),
        decisions: Vec::new(),
        hpa: Vec::new(),
        vpa: Vec::new(),
        vpa_updates: Vec::new(),
        queue: Vec::new(),
        keda: Vec::new(),
        pod_stages: Vec::new(),
        warnings: Vec::new(),
        alerts: Default::default(),
        series: Default::default(),
    }
}

/// The standard single-workload result: checkout-api at 400 req/s base for 2 h on pool `general`.
pub fn checkout(cost_scale: f64) -> SimResult {
    let pending = (0..30)
        .map(|k| if k < 10 { 0.0 } else { 150.0 + 7.0 * f64::from(k) })
        .collect();
    synthetic(
        "demo",
        &[Wl {
            name: "checkout-api",
            base: 400.0,
            pending,
        }],
        &["general"],
        7200,
        cost_scale,
    )
}

/// A fresh empty directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}
