//! The compact terminal summary.

use crate::sim::record::Summary;

fn secs(x: f64) -> String {
    if x >= 120.0 {
        format!("{:.1}m", x / 60.0)
    } else {
        format!("{x:.1}s")
    }
}

/// Per workload with pods that became Ready: the mean time from creation to Ready, its largest
/// stages and the slowest one ([`crate::sim::attribution`]).
pub fn stage_lines(s: &Summary) -> String {
    use crate::sim::attribution::stage_words;
    let mut out = String::new();
    for w in &s.workloads {
        let Some(b) = &w.pending_breakdown else { continue };
        if b.all.slowest.is_empty() {
            continue;
        }
        if out.is_empty() {
            out.push_str("\nwhere the time from creation to Ready went (mean per pod):\n");
        }
        let mut stages: Vec<(&str, f64)> = b.all.share.iter().map(|(k, v)| (*k, *v)).collect();
        stages.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top: Vec<String> = stages
            .iter()
            .take(3)
            .filter(|(_, v)| *v >= 0.005)
            .map(|(k, v)| format!("{} {:.0}%", stage_words(k), 100.0 * v))
            .collect();
        out.push_str(&format!(
            "  {:<22} {:>7} · slowest stage: {} · {}\n",
            w.name,
            secs(b.all.to_ready_mean_s),
            stage_words(b.all.slowest),
            top.join(", ")
        ));
    }
    out
}

/// A table a person reads in a terminal: one row per workload, then the cluster.
pub fn summary_table(s: &Summary) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "scenario {} · seed {} · {} simulated · {} events\n\n",
        s.scenario,
        s.seed,
        crate::engine::SimDuration::from_secs_f64(s.duration_s),
        s.events
    ));
    out.push_str(&format!(
        "{:<24} {:>6} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>10}\n",
        "workload", "pods", "pend p50", "pend p95", "pend max", "ready p95", "unserved", "overload", "replicas"
    ));
    for w in &s.workloads {
        let pending_note = if w.pods_pending_at_end > 0 {
            format!(" ({} still Pending)", w.pods_pending_at_end)
        } else {
            String::new()
        };
        // Batch workloads: completion delay instead of readiness and replicas.
        let (ready_col, last_col) = match (&w.completion_delay, w.completed) {
            (Some(d), Some(n)) => (format!("delay p95 {}", secs(d.p95)), format!("{n} done")),
            _ => (
                secs(w.time_to_ready.p95),
                format!("{}–{}", w.replicas_min, w.replicas_max),
            ),
        };
        out.push_str(&format!(
            "{:<24} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8.2}% {:>9} {:>10}{}\n",
            w.name,
            w.pods_created,
            secs(w.pending.p50),
            secs(w.pending.p95),
            secs(w.pending.max),
            ready_col,
            100.0 * w.unserved_share,
            secs(w.overload_seconds),
            last_col,
            pending_note
        ));
    }
    out.push_str(&stage_lines(s));
    let c = &s.cluster;
    out.push_str(&format!(
        "\nnodes: peak {} · at end {} · launched {} · terminated {} · {:.1} node-hours\n",
        c.nodes_max, c.nodes_at_end, c.nodes_launched, c.nodes_terminated, c.node_hours
    ));
    let list = |m: &std::collections::BTreeMap<String, f64>| {
        m.iter()
            .map(|(k, v)| format!("{k} ${v:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&format!("cost: ${:.2}", c.cost_total_usd));
    if !c.cost_by_pool.is_empty() {
        out.push_str(&format!(
            " · by pool: {} · by capacity type: {}",
            list(&c.cost_by_pool),
            list(&c.cost_by_capacity_type)
        ));
    }
    if c.cost_by_zone.len() > 1 {
        out.push_str(&format!(" · by zone: {}", list(&c.cost_by_zone)));
    }
    out.push('\n');
    if let Some(f) = &s.faults {
        out.push_str(&format!(
            "faults: {}
  cost of the faults (vs the same run without them): +{:.0} pod-seconds Pending, \
             Pending p95 {:.0} s → {:.0} s, +{:.0} requests unserved (errors {:.2} % → {:.2} %), pages {} → {}, \
             +{} nodes launched, cost ${:+.2}\n",
            f.faults.join("; "),
            f.extra.pod_pending_seconds,
            f.baseline.pending_p95_s,
            f.with_faults.pending_p95_s,
            f.extra.requests_unserved,
            f.baseline.error_share * 100.0,
            f.with_faults.error_share * 100.0,
            f.baseline.pages,
            f.with_faults.pages,
            f.extra.nodes_launched,
            f.extra.cost_total_usd,
        ));
    }
    if c.cost_total_usd > 0.0 {
        out.push_str(&format!(
            "cost by workload (request share): {}{}idle ${:.2}\n",
            list(&c.cost_by_workload),
            if c.cost_by_workload.is_empty() { "" } else { " · " },
            c.cost_idle_usd
        ));
    }
    if c.spot_interruptions > 0 {
        out.push_str(&format!("spot interruptions: {}\n", c.spot_interruptions));
    }
    out.push_str(&findings_lines(&s.findings));
    out
}

/// The findings, each with its evidence and knob ([`crate::sim::findings`]).
pub fn findings_lines(findings: &[crate::sim::findings::Finding]) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        return out;
    }
    out.push_str("\nfindings:\n");
    for f in findings {
        out.push_str(&format!("- {}\n", f.statement));
        for e in &f.evidence {
            out.push_str(&format!("    {e}\n"));
        }
        out.push_str(&format!("    → {}\n", f.knob));
    }
    out
}
