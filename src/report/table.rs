//! The compact terminal summary.

use crate::sim::record::Summary;

fn secs(x: f64) -> String {
    if x >= 120.0 {
        format!("{:.1}m", x / 60.0)
    } else {
        format!("{x:.1}s")
    }
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
        out.push_str(&format!(
            "{:<24} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8.2}% {:>9} {:>10}{}\n",
            w.name,
            w.pods_created,
            secs(w.pending.p50),
            secs(w.pending.p95),
            secs(w.pending.max),
            secs(w.time_to_ready.p95),
            100.0 * w.unserved_share,
            secs(w.overload_seconds),
            format!("{}–{}", w.replicas_min, w.replicas_max),
            pending_note
        ));
    }
    let c = &s.cluster;
    out.push_str(&format!(
        "\nnodes: peak {} · at end {} · launched {} · terminated {} · {:.1} node-hours\n",
        c.nodes_max, c.nodes_at_end, c.nodes_launched, c.nodes_terminated, c.node_hours
    ));
    out.push_str(&format!("cost: ${:.2}", c.cost_total_usd));
    let parts: Vec<String> = c.cost_by_pool.iter().map(|(k, v)| format!("{k} ${v:.2}")).collect();
    if !parts.is_empty() {
        out.push_str(&format!(" ({})", parts.join(", ")));
    }
    out.push('\n');
    out
}
