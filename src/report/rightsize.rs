//! `capsim rightsize`: recommend requests from a run's own usage, apply them, run again, and
//! put the cost saved beside the risk taken.
//!
//! The recommendation is the VPA recommender's (the code the simulation runs for
//! VerticalPodAutoscalers). A workload with a VPA of its own gets that VPA's final
//! recommendation; every other service workload is watched by an `updateMode: Off` VPA for the
//! first run, as Goldilocks does in a cluster (an Off VPA recommends and changes nothing — a test
//! holds capsim to that). The second run starts from the scenario as written with each
//! recommended container's requests set to the target, and limits scaled in proportion unless
//! the VPA says `controlledValues: RequestsOnly` — the admission controller's own rule
//! (`admission::apply`). The workloads' own VPAs keep running in it.

use super::files::atomic_write;
use crate::controllers::vpa::admission;
use crate::controllers::vpa::recommender::Amounts;
use crate::controllers::vpa::spec::{Recommendation, UpdateMode, VpaSpec};
use crate::model::WorkloadKind;
use crate::scenario::Scenario;
use crate::scenario::vpa::ScenarioVpa;
use crate::sim::SimResult;
use crate::sim::record::{VpaContainerSummary, WorkloadSummary};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The name of the Off VPA capsim adds to watch a workload that has none.
pub fn observer_name(workload: &str) -> String {
    format!("capsim-rightsize-{workload}")
}

/// The scenario of the first run: the one given, with an Off VPA over every service workload
/// that has no VPA; and the workloads left out, with why.
pub fn observed(sc: &Scenario) -> (Scenario, Vec<(String, &'static str)>) {
    let mut out = sc.clone();
    let mut skipped = Vec::new();
    for (i, w) in sc.workloads.iter().enumerate() {
        if sc.vpas.iter().any(|v| v.target == i) {
            continue;
        }
        let why = match w.kind {
            WorkloadKind::Batch => Some("batch pods: their CPU is the run time they are given, not a usage to size"),
            WorkloadKind::DaemonSet => Some("DaemonSet: node overhead, with no usage of its own in capsim"),
            _ if w.traffic.is_none() => Some("no traffic: placeholder or idle pods are sized on purpose"),
            _ => None,
        };
        if let Some(why) = why {
            skipped.push((w.name.clone(), why));
            continue;
        }
        let kind = match w.kind {
            WorkloadKind::StatefulSet => "StatefulSet",
            _ => "Deployment",
        };
        out.vpas.push(ScenarioVpa {
            spec: VpaSpec {
                name: observer_name(&w.name),
                namespace: w.namespace.clone(),
                target_kind: kind.to_string(),
                target_name: w.name.clone(),
                update_mode: UpdateMode::Off,
                min_replicas: None,
                policies: Vec::new(),
                recommenders: Vec::new(),
            },
            target: i,
        });
    }
    (out, skipped)
}

/// One container's requests and limits, before and after.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestChange {
    pub workload: String,
    pub container: String,
    /// The VPA whose recommendation it is (`capsim-rightsize-*`: the Off VPA capsim added).
    pub vpa: String,
    pub cpu_request_m: (i64, i64),
    pub memory_request: (i64, i64),
    pub cpu_limit_m: (Option<i64>, Option<i64>),
    pub memory_limit: (Option<i64>, Option<i64>),
}

fn recommendation(c: &VpaContainerSummary) -> Option<Recommendation> {
    let cpu = c.cpu_target_m.is_some();
    let memory = c.memory_target_bytes.is_some();
    if !cpu && !memory {
        return None;
    }
    let amounts = |cpu_m: Option<i64>, mem: Option<i64>| Amounts {
        cpu_m: cpu_m.unwrap_or(c.cpu_request_m),
        mem: mem.unwrap_or(c.memory_request_bytes),
    };
    let target = amounts(c.cpu_target_m, c.memory_target_bytes);
    Some(Recommendation {
        target,
        lower: amounts(c.cpu_lower_bound_m, c.memory_lower_bound_bytes),
        upper: amounts(c.cpu_upper_bound_m, c.memory_upper_bound_bytes),
        uncapped_target: target,
        cpu,
        memory,
    })
}

/// The scenario of the second run: `sc` (as given, without the added Off VPAs) with the first
/// run's final recommendations applied to the workloads' templates.
pub fn rightsized(sc: &Scenario, observed: &Scenario, first: &SimResult) -> (Scenario, Vec<RequestChange>) {
    let mut out = sc.clone();
    let mut changes = Vec::new();
    for v in &observed.vpas {
        let Some(summary) = first.summary.vpa.iter().find(|s| s.name == v.spec.name) else {
            continue;
        };
        let recs: Vec<(String, Recommendation)> = summary
            .recommendation
            .iter()
            .filter_map(|c| recommendation(c).map(|r| (c.container.clone(), r)))
            .collect();
        let w = &mut out.workloads[v.target];
        let Some(t) = admission::apply(&w.template, &v.spec, &recs) else {
            continue;
        };
        for (before, after) in w.template.containers.iter().zip(&t.containers) {
            if before == after {
                continue;
            }
            changes.push(RequestChange {
                workload: w.name.clone(),
                container: before.name.clone(),
                vpa: v.spec.name.clone(),
                cpu_request_m: (before.requests.cpu_m, after.requests.cpu_m),
                memory_request: (before.requests.mem, after.requests.mem),
                cpu_limit_m: (before.limit_cpu_m, after.limit_cpu_m),
                memory_limit: (before.limit_mem, after.limit_mem),
            });
        }
        w.template = t;
    }
    (out, changes)
}

/// One workload's figures in both runs.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskRow {
    pub workload: String,
    /// The workload's share of node cost, by the allocatable its pods requested.
    pub cost_usd: (f64, f64),
    pub replicas_max: (u32, u32),
    pub pending_p95_s: (f64, f64),
    pub unserved_share: (f64, f64),
    pub error_share: (f64, f64),
    pub cpu_throttled_core_seconds: (f64, f64),
    pub oom_kills: (u32, u32),
    pub pressure_evictions: (u32, u32),
}

/// The whole comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Rightsizing {
    pub changes: Vec<RequestChange>,
    pub skipped: Vec<(String, &'static str)>,
    pub rows: Vec<RiskRow>,
    pub cluster_cost_usd: (f64, f64),
    pub node_hours: (f64, f64),
    pub nodes_max: (u32, u32),
    /// Times a paging alert started firing.
    pub pages: (u32, u32),
}

/// Puts the two runs side by side.
pub fn compare(
    before: &SimResult,
    after: &SimResult,
    changes: Vec<RequestChange>,
    skipped: Vec<(String, &'static str)>,
) -> Rightsizing {
    let cost = |r: &SimResult, w: &str| r.summary.cluster.cost_by_workload.get(w).copied().unwrap_or(0.0);
    let rows = before
        .summary
        .workloads
        .iter()
        .zip(&after.summary.workloads)
        .map(|(b, a): (&WorkloadSummary, &WorkloadSummary)| RiskRow {
            workload: b.name.clone(),
            cost_usd: (cost(before, &b.name), cost(after, &a.name)),
            replicas_max: (b.replicas_max, a.replicas_max),
            pending_p95_s: (b.pending.p95, a.pending.p95),
            unserved_share: (b.unserved_share, a.unserved_share),
            error_share: (b.error_share, a.error_share),
            cpu_throttled_core_seconds: (b.cpu_throttled_core_seconds, a.cpu_throttled_core_seconds),
            oom_kills: (b.oom_kills, a.oom_kills),
            pressure_evictions: (b.pressure_evictions, a.pressure_evictions),
        })
        .collect();
    let (b, a) = (&before.summary.cluster, &after.summary.cluster);
    Rightsizing {
        changes,
        skipped,
        rows,
        cluster_cost_usd: (b.cost_total_usd, a.cost_total_usd),
        node_hours: (b.node_hours, a.node_hours),
        nodes_max: (b.nodes_max, a.nodes_max),
        pages: (before.alerts.pages(), after.alerts.pages()),
    }
}

fn mib(b: i64) -> String {
    format!("{}Mi", b / (1024 * 1024))
}

fn limit(l: Option<i64>, f: impl Fn(i64) -> String) -> String {
    l.map_or("-".to_string(), f)
}

fn pct_change(before: f64, after: f64) -> String {
    if before == 0.0 {
        return "-".to_string();
    }
    format!("{:+.1}%", (after - before) / before * 100.0)
}

/// The report printed and written as `rightsize.txt`.
pub fn table(r: &Rightsizing) -> String {
    let mut s = String::new();
    let (cb, ca) = r.cluster_cost_usd;
    let _ = writeln!(
        s,
        "cluster cost ${cb:.2} -> ${ca:.2} ({}), node-hours {:.1} -> {:.1}, peak nodes {} -> {}, pages {} -> {}",
        pct_change(cb, ca),
        r.node_hours.0,
        r.node_hours.1,
        r.nodes_max.0,
        r.nodes_max.1,
        r.pages.0,
        r.pages.1
    );
    let _ = writeln!(s, "\nrequests (from the VPA recommender's final target)");
    let _ = writeln!(
        s,
        "{:<22} {:<12} {:>16} {:>18} {:>16} {:>18}  vpa",
        "workload", "container", "cpu request", "memory request", "cpu limit", "memory limit"
    );
    let m = |v: i64| format!("{v}m");
    for c in &r.changes {
        let _ = writeln!(
            s,
            "{:<22} {:<12} {:>16} {:>18} {:>16} {:>18}  {}",
            c.workload,
            c.container,
            format!("{} -> {}", m(c.cpu_request_m.0), m(c.cpu_request_m.1)),
            format!("{} -> {}", mib(c.memory_request.0), mib(c.memory_request.1)),
            format!("{} -> {}", limit(c.cpu_limit_m.0, m), limit(c.cpu_limit_m.1, m)),
            format!("{} -> {}", limit(c.memory_limit.0, mib), limit(c.memory_limit.1, mib)),
            c.vpa
        );
    }
    if r.changes.is_empty() {
        let _ = writeln!(s, "(no recommendation differs from the requests as written)");
    }
    for (w, why) in &r.skipped {
        let _ = writeln!(s, "{w}: not rightsized ({why})");
    }
    let _ = writeln!(
        s,
        "\ncost saved and risk taken, per workload (as written -> rightsized)"
    );
    let _ = writeln!(
        s,
        "{:<22} {:>20} {:>10} {:>14} {:>16} {:>16} {:>18} {:>10} {:>10}",
        "workload",
        "cost",
        "max pods",
        "pending p95",
        "unserved",
        "errors",
        "throttled core-s",
        "OOM kills",
        "evictions"
    );
    let share = |v: f64| format!("{:.2}%", v * 100.0);
    for w in &r.rows {
        let _ = writeln!(
            s,
            "{:<22} {:>20} {:>10} {:>14} {:>16} {:>16} {:>18} {:>10} {:>10}",
            w.workload,
            format!("${:.2} -> ${:.2}", w.cost_usd.0, w.cost_usd.1),
            format!("{} -> {}", w.replicas_max.0, w.replicas_max.1),
            format!("{:.0}s -> {:.0}s", w.pending_p95_s.0, w.pending_p95_s.1),
            format!("{} -> {}", share(w.unserved_share.0), share(w.unserved_share.1)),
            format!("{} -> {}", share(w.error_share.0), share(w.error_share.1)),
            format!(
                "{:.0} -> {:.0}",
                w.cpu_throttled_core_seconds.0, w.cpu_throttled_core_seconds.1
            ),
            format!("{} -> {}", w.oom_kills.0, w.oom_kills.1),
            format!("{} -> {}", w.pressure_evictions.0, w.pressure_evictions.1),
        );
    }
    s
}

/// `rightsize.csv`'s header: one row per workload and run.
pub const RIGHTSIZE_CSV_HEADER: &str = "run,workload,cost_usd,replicas_max,pending_p95_s,unserved_share,error_share,\
cpu_throttled_core_seconds,oom_kills,pressure_evictions,cluster_cost_usd,node_hours,nodes_max,pages";

/// `rightsize-requests.csv`'s header: one row per changed container.
pub const REQUESTS_CSV_HEADER: &str = "workload,container,vpa,cpu_request_m_before,cpu_request_m_after,\
memory_request_bytes_before,memory_request_bytes_after,cpu_limit_m_before,cpu_limit_m_after,\
memory_limit_bytes_before,memory_limit_bytes_after";

fn opt(v: Option<i64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

fn csvs(r: &Rightsizing) -> (String, String) {
    let mut runs = format!("{RIGHTSIZE_CSV_HEADER}\n");
    for (run, pick) in [("as-written", false), ("rightsized", true)] {
        let p = |t: (f64, f64)| if pick { t.1 } else { t.0 };
        let u = |t: (u32, u32)| if pick { t.1 } else { t.0 };
        for w in &r.rows {
            let _ = writeln!(
                runs,
                "{run},{},{:.4},{},{:.1},{:.6},{:.6},{:.1},{},{},{:.4},{:.2},{},{}",
                w.workload,
                p(w.cost_usd),
                u(w.replicas_max),
                p(w.pending_p95_s),
                p(w.unserved_share),
                p(w.error_share),
                p(w.cpu_throttled_core_seconds),
                u(w.oom_kills),
                u(w.pressure_evictions),
                p(r.cluster_cost_usd),
                p(r.node_hours),
                u(r.nodes_max),
                u(r.pages),
            );
        }
    }
    let mut reqs = format!("{REQUESTS_CSV_HEADER}\n");
    for c in &r.changes {
        let _ = writeln!(
            reqs,
            "{},{},{},{},{},{},{},{},{},{},{}",
            c.workload,
            c.container,
            c.vpa,
            c.cpu_request_m.0,
            c.cpu_request_m.1,
            c.memory_request.0,
            c.memory_request.1,
            opt(c.cpu_limit_m.0),
            opt(c.cpu_limit_m.1),
            opt(c.memory_limit.0),
            opt(c.memory_limit.1),
        );
    }
    (runs, reqs)
}

/// Writes `rightsize.txt`, `rightsize.csv` and `rightsize-requests.csv` into `dir`.
pub fn write(dir: &Path, r: &Rightsizing) -> Result<Vec<PathBuf>, super::files::OutputError> {
    let (runs, reqs) = csvs(r);
    let files = [
        ("rightsize.txt", table(r)),
        ("rightsize.csv", runs),
        ("rightsize-requests.csv", reqs),
    ];
    let mut written = Vec::new();
    for (name, body) in files {
        let p = dir.join(name);
        atomic_write(&p, body.as_bytes())?;
        written.push(p);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_headers_match_their_rows() {
        let r = Rightsizing {
            changes: vec![RequestChange {
                workload: "api".into(),
                container: "app".into(),
                vpa: observer_name("api"),
                cpu_request_m: (500, 300),
                memory_request: (512 << 20, 256 << 20),
                cpu_limit_m: (Some(1000), Some(600)),
                memory_limit: (None, None),
            }],
            skipped: vec![],
            rows: vec![RiskRow {
                workload: "api".into(),
                cost_usd: (2.0, 1.0),
                replicas_max: (3, 4),
                pending_p95_s: (0.0, 30.0),
                unserved_share: (0.0, 0.01),
                error_share: (0.0, 0.01),
                cpu_throttled_core_seconds: (0.0, 12.0),
                oom_kills: (0, 1),
                pressure_evictions: (0, 0),
            }],
            cluster_cost_usd: (3.0, 2.0),
            node_hours: (10.0, 7.0),
            nodes_max: (3, 2),
            pages: (0, 1),
        };
        let (runs, reqs) = csvs(&r);
        for body in [runs, reqs] {
            let mut lines = body.lines();
            let cols = lines.next().unwrap().split(',').count();
            for l in lines {
                assert_eq!(l.split(',').count(), cols, "{l}");
            }
        }
        let t = table(&r);
        assert!(t.contains("500m -> 300m") && t.contains("-33.3%"), "{t}");
    }
}
