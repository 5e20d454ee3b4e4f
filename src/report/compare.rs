//! Side-by-side comparison of several runs (variants): the terminal table, `compare.csv` and
//! overlay charts, and running the variants in parallel.
//!
//! Variants are compared with common random numbers: the caller gives every variant the same
//! seed, so traffic noise and latency draws line up and differences come from the settings.
//! Results come back in input order whatever order the threads finish in, so every output is
//! deterministic.

use super::charts::{
    self, ChartError, LineKind, Panel, Rendered, Series, cdf_points, palette_color, pending_seconds, plotted_workloads,
    series_color, totals, workload_scope,
};
use super::files::{OutputError, atomic_write, f};
use crate::scenario::Scenario;
use crate::sim::{SimError, SimResult};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("variant {variant:?}: {source}")]
    Run { variant: String, source: SimError },
    #[error("variant {variant:?}: {source}")]
    Output { variant: String, source: OutputError },
    #[error("variant {variant:?}: {source}")]
    Chart { variant: String, source: ChartError },
    #[error(transparent)]
    CompareOutput(#[from] OutputError),
    #[error(transparent)]
    CompareChart(#[from] ChartError),
}

/// Runs every variant, in parallel (rayon), and returns the results in input order.
pub fn run_variants(variants: Vec<(String, Scenario)>) -> Result<Vec<(String, SimResult)>, CompareError> {
    variants
        .into_par_iter()
        .map(|(name, sc)| match crate::sim::run(&sc) {
            Ok(r) => Ok((name, r)),
            Err(source) => Err(CompareError::Run { variant: name, source }),
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// One variant × workload line of the comparison. Cluster figures (nodes, cost) are the
/// variant's and repeat on each of its workloads.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    pub variant: String,
    pub scenario: String,
    pub seed: u64,
    pub workload: String,
    pub pods_created: u32,
    pub pending_p50_s: f64,
    pub pending_p95_s: f64,
    pub pending_max_s: f64,
    pub pods_pending_at_end: u32,
    pub unserved_share: f64,
    pub overload_s: f64,
    pub replicas_max: u32,
    pub workload_requests: f64,
    /// The workload's share of node cost (by requested allocatable over time).
    pub workload_cost_usd: f64,
    pub peak_nodes: u32,
    pub node_hours: f64,
    pub cost_usd: f64,
    /// Cluster cost over all requests of all workloads, per million requests (`None` when the
    /// run served no traffic at all).
    pub cost_per_million_requests: Option<f64>,
    /// The workload's request latency p95, milliseconds, and its failed-request share.
    pub latency_p95_ms: f64,
    pub error_share: f64,
    /// Times an alert that pages started firing (the run's PrometheusRules).
    pub pages: u32,
    /// A queue worker's queue (`None` for other workloads).
    pub queue: Option<crate::sim::record::QueueSummary>,
    /// Its slowest surge's mean time from creation to Ready, and that surge's slowest stage
    /// with its share (`None` when no pod had to wait).
    pub slowest_surge: Option<(f64, &'static str, f64)>,
}

/// The rows of a comparison: for each variant in order, one row per Deployment in order.
pub fn compare_rows(results: &[(String, SimResult)]) -> Vec<CompareRow> {
    let mut rows = Vec::new();
    for (name, r) in results {
        let s = &r.summary;
        let requests: f64 = s.workloads.iter().map(|w| w.requests_total).sum();
        let per_million = (requests > 0.0).then(|| s.cluster.cost_total_usd / requests * 1e6);
        for w in &s.workloads {
            rows.push(CompareRow {
                variant: name.clone(),
                scenario: s.scenario.clone(),
                seed: s.seed,
                workload: w.name.clone(),
                pods_created: w.pods_created,
                pending_p50_s: w.pending.p50,
                pending_p95_s: w.pending.p95,
                pending_max_s: w.pending.max,
                pods_pending_at_end: w.pods_pending_at_end,
                unserved_share: w.unserved_share,
                overload_s: w.overload_seconds,
                replicas_max: w.replicas_max,
                workload_requests: w.requests_total,
                workload_cost_usd: s.cluster.cost_by_workload.get(&w.name).copied().unwrap_or(0.0),
                peak_nodes: s.cluster.nodes_max,
                node_hours: s.cluster.node_hours,
                cost_usd: s.cluster.cost_total_usd,
                cost_per_million_requests: per_million,
                latency_p95_ms: w.latency_ms.p95,
                error_share: w.error_share,
                pages: s.pages,
                queue: w.queue.clone(),
                slowest_surge: w.pending_breakdown.as_ref().and_then(|b| {
                    let (_, st) = b.slowest_surge();
                    (!st.slowest.is_empty()).then(|| (st.to_ready_mean_s, st.slowest, st.share[st.slowest]))
                }),
            });
        }
    }
    rows
}

fn secs(x: f64) -> String {
    if x >= 600.0 {
        format!("{:.1}m", x / 60.0)
    } else {
        format!("{x:.1}s")
    }
}

fn unique<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for s in it {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The side-by-side terminal table: one column per variant, per workload its Pending p50/p95/max
/// and unserved share, then the cluster's peak nodes, cost and cost per million requests.
pub fn compare_table(rows: &[CompareRow]) -> String {
    let variants = unique(rows.iter().map(|r| r.variant.as_str()));
    let workloads = unique(rows.iter().map(|r| r.workload.as_str()));
    let mut seeds: Vec<u64> = rows.iter().map(|r| r.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let width = variants.iter().map(|v| v.chars().count()).max().unwrap_or(0).max(10) + 2;
    let label_w = workloads.iter().map(|w| w.chars().count()).max().unwrap_or(0).max(22);
    let cell = |variant: &str, workload: Option<&str>, get: &dyn Fn(&CompareRow) -> String| {
        rows.iter()
            .find(|r| r.variant == variant && workload.is_none_or(|w| r.workload == w))
            .map(get)
            .unwrap_or_else(|| "–".to_string())
    };
    let mut out = String::new();
    let seed_text = match seeds.as_slice() {
        [one] => format!("seed {one} (shared)"),
        many => format!(
            "seeds {}",
            many.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        ),
    };
    out.push_str(&format!("compare · {} variants · {seed_text}\n\n", variants.len()));
    out.push_str(&format!("{:<label_w$}", ""));
    for v in &variants {
        out.push_str(&format!("{v:>width$}"));
    }
    out.push('\n');
    let mut line = |label: String, workload: Option<&str>, get: &dyn Fn(&CompareRow) -> String| {
        let mut l = format!("{label:<label_w$}");
        for v in &variants {
            l.push_str(&format!("{:>width$}", cell(v, workload, get)));
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    for w in &workloads {
        line(w.to_string(), None, &|_| String::new());
        line("  Pending p50".into(), Some(w), &|r| secs(r.pending_p50_s));
        line("  Pending p95".into(), Some(w), &|r| secs(r.pending_p95_s));
        line("  Pending max".into(), Some(w), &|r| secs(r.pending_max_s));
        line("  unserved".into(), Some(w), &|r| {
            format!("{:.2}%", 100.0 * r.unserved_share)
        });
        line("  errors".into(), Some(w), &|r| {
            format!("{:.2}%", 100.0 * r.error_share)
        });
        // Queue workers: how much waited and for how long (rows only where there is a queue).
        if rows.iter().any(|r| r.workload == *w && r.queue.is_some()) {
            let dash = || "–".to_string();
            line("  backlog p95".into(), Some(w), &|r| {
                r.queue.as_ref().map_or_else(dash, |q| format!("{:.0}", q.depth_p95))
            });
            line("  backlog max".into(), Some(w), &|r| {
                r.queue.as_ref().map_or_else(dash, |q| format!("{:.0}", q.depth_max))
            });
            line("  oldest message max".into(), Some(w), &|r| {
                r.queue.as_ref().map_or_else(dash, |q| secs(q.oldest_age_max_s))
            });
            line("  over age SLO".into(), Some(w), &|r| {
                r.queue
                    .as_ref()
                    .and_then(|q| q.seconds_over_age_slo)
                    .map_or_else(dash, secs)
            });
        }
        if rows.iter().any(|r| r.workload == *w && r.slowest_surge.is_some()) {
            let dash = || "–".to_string();
            line("  worst surge to Ready".into(), Some(w), &|r| {
                r.slowest_surge.map_or_else(dash, |s| secs(s.0))
            });
            line("  its slowest stage".into(), Some(w), &|r| {
                r.slowest_surge.map_or_else(dash, |s| {
                    format!("{} {:.0}%", crate::sim::attribution::stage_short(s.1), 100.0 * s.2)
                })
            });
        }
        line("  latency p95".into(), Some(w), &|r| {
            // A queue worker's messages wait in the queue: their wait is the oldest message's
            // age above, not a request latency.
            if r.workload_requests <= 0.0 || r.queue.is_some() {
                "–".to_string()
            } else if r.latency_p95_ms >= 1000.0 {
                format!("{:.1}s", r.latency_p95_ms / 1000.0)
            } else {
                format!("{:.0}ms", r.latency_p95_ms)
            }
        });
    }
    line("cluster".into(), None, &|_| String::new());
    line("  pages fired".into(), None, &|r| r.pages.to_string());
    line("  peak nodes".into(), None, &|r| r.peak_nodes.to_string());
    line("  cost".into(), None, &|r| format!("${:.2}", r.cost_usd));
    line("  cost / M requests".into(), None, &|r| {
        r.cost_per_million_requests
            .map(|c| format!("${c:.3}"))
            .unwrap_or_else(|| "–".to_string())
    });
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `compare.csv`: one row per variant × workload, seconds and dollars as plain numbers.
pub fn compare_csv(rows: &[CompareRow]) -> Vec<u8> {
    let mut out = String::from(
        "variant,scenario,seed,workload,pods_created,pending_p50_s,pending_p95_s,pending_max_s,pods_pending_at_end,unserved_share,overload_s,replicas_max,workload_requests,workload_cost_usd,peak_nodes,node_hours,cost_usd,cost_per_million_requests_usd,latency_p95_ms,error_share,pages,worst_surge_to_ready_s,worst_surge_slowest_stage\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{:.6},{},{},{},{},{},{},{},{},{},{:.6},{},{},{}\n",
            csv_field(&r.variant),
            csv_field(&r.scenario),
            r.seed,
            csv_field(&r.workload),
            r.pods_created,
            f(r.pending_p50_s),
            f(r.pending_p95_s),
            f(r.pending_max_s),
            r.pods_pending_at_end,
            // Shares need more than three decimals to be useful: {:.6} above.
            r.unserved_share,
            f(r.overload_s),
            r.replicas_max,
            f(r.workload_requests),
            f(r.workload_cost_usd),
            r.peak_nodes,
            f(r.node_hours),
            f(r.cost_usd),
            r.cost_per_million_requests.map(f).unwrap_or_default(),
            f(r.latency_p95_ms),
            r.error_share,
            r.pages,
            r.slowest_surge.map(|s| f(s.0)).unwrap_or_default(),
            r.slowest_surge.map(|s| s.1).unwrap_or_default(),
        ));
    }
    out.into_bytes()
}

/// The overlay panels: one line per variant (demand drawn once when every variant sees the same).
pub fn compare_panels(results: &[(String, SimResult)]) -> Vec<Panel> {
    let sums: Vec<_> = results
        .iter()
        .map(|(_, r)| {
            let wl = plotted_workloads(r);
            (totals(r, &wl), workload_scope(r, &wl))
        })
        .collect();
    let scopes = unique(sums.iter().map(|(_, s)| s.as_str()));
    let scope = match scopes.as_slice() {
        [one] => one.to_string(),
        _ => "each variant's workloads".to_string(),
    };
    let same_demand = sums.windows(2).all(|w| {
        w[0].0
            .iter()
            .map(|t| (t.time_s, t.demand))
            .eq(w[1].0.iter().map(|t| (t.time_s, t.demand)))
    });
    let mut traffic = Vec::new();
    if same_demand && let Some((t, _)) = sums.first() {
        traffic.push(Series {
            width: 6,
            ..Series::new(
                "demand",
                series_color("demand"),
                LineKind::Solid,
                t.iter().map(|x| (x.time_s, x.demand)).collect(),
            )
        });
    }
    let mut ready = Vec::new();
    let mut nodes = Vec::new();
    let mut cost = Vec::new();
    for (i, ((name, r), (t, _))) in results.iter().zip(&sums).enumerate() {
        let c = palette_color(i);
        // Earlier variants are drawn wider, so a line hidden under a later identical one still
        // shows as a border around it.
        let width = 2 + (results.len() - 1 - i).min(3) as u32;
        let line = |label: String, points: Vec<(f64, f64)>| Series {
            width,
            ..Series::new(label, c, LineKind::Solid, points)
        };
        if !same_demand {
            traffic.push(Series {
                width: 1,
                ..Series::new(
                    format!("{name} demand"),
                    c,
                    LineKind::Dashed,
                    t.iter().map(|x| (x.time_s, x.demand)).collect(),
                )
            });
        }
        traffic.push(line(
            format!("{name} served"),
            t.iter().map(|x| (x.time_s, x.served)).collect(),
        ));
        ready.push(line(name.clone(), t.iter().map(|x| (x.time_s, x.ready)).collect()));
        nodes.push(line(
            name.clone(),
            r.cluster_timeline
                .iter()
                .map(|row| {
                    let n: u32 = row.pools.iter().map(|p| p.ready + p.upcoming + p.leaving).sum();
                    (row.time.as_secs_f64(), f64::from(n))
                })
                .collect(),
        ));
        cost.push(line(
            format!("{name} (total ${:.2})", r.summary.cluster.cost_total_usd),
            r.cluster_timeline
                .iter()
                .map(|row| (row.time.as_secs_f64(), row.cost_rate_hr))
                .collect(),
        ));
    }
    vec![
        Panel {
            title: format!("Demand vs served (req/s) — {scope}"),
            series: traffic,
            integer: false,
        },
        Panel {
            title: format!("Ready replicas (pods) — {scope}"),
            series: ready,
            integer: true,
        },
        Panel {
            title: "Nodes, all pools and states (nodes)".to_string(),
            series: nodes,
            integer: true,
        },
        Panel {
            title: "Cost rate ($/h)".to_string(),
            series: cost,
            integer: false,
        },
    ]
}

/// ", 3 still Pending" when pods were still Pending at the end (their wait so far is plotted).
pub fn still_note(still: u32) -> String {
    if still > 0 {
        format!(", {still} still Pending")
    } else {
        String::new()
    }
}

/// One CDF line per variant over the Pending times of all its plotted workloads.
pub fn compare_cdf_series(results: &[(String, SimResult)]) -> Vec<Series> {
    results
        .iter()
        .enumerate()
        .map(|(i, (name, r))| {
            let wl = plotted_workloads(r);
            let v: Vec<f64> = wl
                .iter()
                .filter_map(|w| r.workload_names.get(*w))
                .flat_map(|w| pending_seconds(&r.pods, w))
                .collect();
            let pct = crate::sim::record::Percentiles::of(v.clone());
            let still: u32 = r
                .summary
                .workloads
                .iter()
                .filter(|w| wl.iter().any(|i| r.workload_names.get(*i) == Some(&w.name)))
                .map(|w| w.pods_pending_at_end)
                .sum();
            Series {
                // As on the timeline: earlier variants wider, so identical lines stay visible.
                width: 2 + (results.len() - 1 - i).min(3) as u32,
                ..Series::new(
                    format!(
                        "{name} (n={}, p50 {:.0}s, p95 {:.0}s{})",
                        v.len(),
                        pct.p50,
                        pct.p95,
                        still_note(still)
                    ),
                    palette_color(i),
                    LineKind::Solid,
                    cdf_points(&v),
                )
            }
        })
        .collect()
}

/// Renders `compare-timeline` and `compare-pending-cdf` (PNG and SVG) and writes them to `dir`.
pub fn write_compare_charts(
    dir: &Path,
    results: &[(String, SimResult)],
    title: &str,
) -> Result<Vec<PathBuf>, ChartError> {
    let duration = results.iter().map(|(_, r)| r.summary.duration_s).fold(0.0f64, f64::max);
    let timeline: Rendered = charts::render_time_panels(
        "compare-timeline",
        &format!("{title} — compared"),
        duration,
        &compare_panels(results),
    )?;
    let cdf = charts::render_cdf(
        "compare-pending-cdf",
        &format!("{title} — Pending time CDF by variant"),
        &compare_cdf_series(results),
        Some("all plotted workloads pooled"),
    )?;
    let mut written = charts::write_rendered(dir, "compare-timeline", &timeline)?;
    written.extend(charts::write_rendered(dir, "compare-pending-cdf", &cdf)?);
    Ok(written)
}

/// A directory name for a variant: letters, digits, `.`, `_` and `-` kept, anything else `_`.
pub fn variant_dir_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '.') {
        format!("_{s}")
    } else {
        s
    }
}

/// Writes a whole comparison into `dir`: `compare.txt` (the table), `compare.csv`, the overlay
/// charts (unless `charts` is false), and each variant's run outputs (and charts) in a
/// subdirectory named by [`variant_dir_name`]. Variants are written in parallel.
pub fn write_compare(
    dir: &Path,
    results: &[(String, SimResult)],
    title: &str,
    charts: bool,
) -> Result<Vec<PathBuf>, CompareError> {
    let rows = compare_rows(results);
    let mut written = Vec::new();
    let table = dir.join("compare.txt");
    atomic_write(&table, compare_table(&rows).as_bytes())?;
    written.push(table);
    let csv = dir.join("compare.csv");
    atomic_write(&csv, &compare_csv(&rows))?;
    written.push(csv);
    if charts {
        written.extend(write_compare_charts(dir, results, title)?);
    }
    let per_variant: Vec<Result<Vec<PathBuf>, CompareError>> = results
        .par_iter()
        .map(|(name, r)| {
            let sub = dir.join(variant_dir_name(name));
            let output = |source| CompareError::Output {
                variant: name.clone(),
                source,
            };
            // As for a run: charts, then the data files, summary.json last.
            super::files::begin_outputs(&sub).map_err(output)?;
            let mut files = Vec::new();
            if charts {
                let t = format!("{title} · {name}");
                files.extend(
                    charts::write_run_charts(&sub, r, &t).map_err(|source| CompareError::Chart {
                        variant: name.clone(),
                        source,
                    })?,
                );
            }
            files.extend(super::write_run_outputs(&sub, r).map_err(output)?);
            Ok(files)
        })
        .collect();
    for files in per_variant {
        written.extend(files?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_names_are_safe() {
        for (name, want) in [
            ("aggressive", "aggressive"),
            ("monday/fast", "monday_fast"),
            ("a b", "a_b"),
            ("..", "_.."),
            ("", "_"),
        ] {
            assert_eq!(variant_dir_name(name), want);
        }
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
