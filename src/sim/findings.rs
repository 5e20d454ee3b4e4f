//! Findings: statements in plain words derived from a run's records, each with the evidence a
//! reader can find in the CSVs and the knob that would change it.
//!
//! | kind | derived from |
//! |---|---|
//! | `hpa-at-max-replicas` | `hpa.csv` syncs limited by `maxReplicas`, and `timeline.csv` errors while pinned |
//! | `pods-never-scheduled` | `pods.csv` pods still Pending at the end, and the provisioner's last word on them in `autoscaler.csv` |
//! | `preemption` | `pods.csv` pods deleted `Preempted`, and the workload of the pods nominated in their place |
//! | `warm-pool-too-small` | placeholders (negative priority) were preempted, yet the surge's pods still waited for new nodes (`pending-breakdown.csv`) |
//! | `cpu-throttling` | `timeline.csv` `cpu_throttled_m` (CPU wanted above the limits) |
//! | `oom-kills` | the workload's OOM kills (`summary.json`) |
//! | `disruption-evictions` | `pods.csv` pods deleted `Drained` or `ScaleDown` by node removals (`nodes.csv` `removed_by`) |
//! | `pages` | `alerts.csv` alerts with `severity: page` that fired |

use super::autoscaling::HpaRecord;
use super::autoscaling::HpaRuntime;
use super::record::{SimResult, TimelineRow};
use crate::cluster::DeleteReason;
use crate::cluster::{Cluster, Pod};
use crate::controllers::hpa::normalize::LimitingRule;
use crate::engine::SimTime;
use crate::scenario::Scenario;
use serde::Serialize;
use std::collections::BTreeMap;

/// One finding.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Finding {
    pub kind: &'static str,
    /// The workload it is about (`None` for the cluster).
    pub workload: Option<String>,
    /// What happened, in a sentence.
    pub statement: String,
    /// Where the records show it: file, object, times, counts.
    pub evidence: Vec<String>,
    /// What to change.
    pub knob: String,
}

/// Throttled CPU below this many core-seconds is not worth a finding.
pub const THROTTLING_MIN_CORE_SECONDS: f64 = 60.0;

/// `s` seconds since the start, rounded, as terminal output shows times ([`SimTime`]'s h:mm:ss).
pub fn clock(s: f64) -> String {
    SimTime::from_secs(s.max(0.0).round() as u64).to_string()
}

/// Was `n` removed by consolidation, emptiness or Cluster Autoscaler's scale-down (its
/// `nodes.csv` `removed_by`)?
fn removed_by_disruption(n: &crate::cluster::Node) -> bool {
    let by = &n.removed_by;
    by.starts_with("single-node-consolidation")
        || by.starts_with("multi-node-consolidation")
        || by.starts_with("scale-down")
        || by.starts_with("emptiness")
}

/// The findings of run `r` of scenario `sc`, whose world ended with `hpas` and `cluster`.
pub(super) fn derive(sc: &Scenario, hpas: &[HpaRuntime], cluster: &Cluster, r: &SimResult) -> Vec<Finding> {
    let step = sc.resolution.as_secs_f64();
    let mut out = Vec::new();
    // One pass over each record set, grouped by workload (or HPA): the checks below look up.
    let n = sc.workloads.len();
    let mut rows: Vec<Vec<&TimelineRow>> = vec![Vec::new(); n];
    for t in &r.timeline {
        rows[t.workload as usize].push(t);
    }
    let mut pinned_by_hpa: BTreeMap<&str, Vec<&HpaRecord>> = BTreeMap::new();
    for rec in r
        .hpa
        .iter()
        .filter(|rec| matches!(rec.limiting_rule, Some(LimitingRule::MaxReplicas(_))))
    {
        pinned_by_hpa.entry(&*rec.hpa).or_default().push(rec);
    }
    let mut stuck: Vec<Vec<&Pod>> = vec![Vec::new(); n];
    let mut preempted: Vec<Vec<&Pod>> = vec![Vec::new(); n];
    let mut drained: Vec<Vec<&Pod>> = vec![Vec::new(); n];
    let mut priority: Vec<Option<i32>> = vec![None; n];
    // Workloads whose pods were nominated at an instant (a preemption's victims go then).
    let mut nominated_at: BTreeMap<SimTime, Vec<usize>> = BTreeMap::new();
    for p in &cluster.pods {
        let wi = p.workload as usize;
        priority[wi].get_or_insert(p.priority);
        if p.phase == crate::cluster::PodPhase::Pending {
            stuck[wi].push(p);
        }
        if let Some(t) = p.nominated {
            nominated_at.entry(t).or_default().push(wi);
        }
        match p.delete_reason {
            Some(DeleteReason::Preempted) => preempted[wi].push(p),
            Some(DeleteReason::Drained)
                if p.node
                    .is_some_and(|n| removed_by_disruption(&cluster.nodes[n.0 as usize])) =>
            {
                drained[wi].push(p)
            }
            _ => {}
        }
    }

    // An HPA pinned at maxReplicas while requests failed.
    for h in hpas {
        let Some(pinned) = pinned_by_hpa.get(h.name.as_str()) else {
            continue;
        };
        let (Some(first), Some(last)) = (pinned.first(), pinned.last()) else {
            continue;
        };
        let (from, to) = (first.time_ms as f64 / 1000.0, last.time_ms as f64 / 1000.0 + step);
        let failed: f64 = rows[h.target]
            .iter()
            .filter(|t| (from..=to).contains(&t.time.as_secs_f64()))
            .map(|t| t.errors_rps * step)
            .sum();
        if failed < 1.0 {
            continue;
        }
        let max = match first.limiting_rule {
            Some(LimitingRule::MaxReplicas(m)) => m,
            _ => 0,
        };
        let wanted = pinned.iter().filter_map(|p| p.proposal).max().unwrap_or(max);
        let wl = &sc.workloads[h.target].name;
        out.push(Finding {
            kind: "hpa-at-max-replicas",
            workload: Some(wl.clone()),
            statement: format!(
                "HorizontalPodAutoscaler {} was held at maxReplicas {max} for {} syncs while {wl}'s requests failed: \
                 the pipeline's bottleneck was the HPA's ceiling, not the nodes",
                h.name,
                pinned.len()
            ),
            evidence: vec![
                format!(
                    "hpa.csv: {} limiting rule maxReplicas={max} in {} syncs between {} and {}; largest proposal {wanted}",
                    h.name,
                    pinned.len(),
                    clock(from),
                    clock(last.time_ms as f64 / 1000.0)
                ),
                format!("timeline.csv: {wl} {failed:.0} requests unserved or timed out in that span"),
            ],
            knob: format!("raise spec.maxReplicas of HorizontalPodAutoscaler {} (it proposed up to {wanted})", h.name),
        });
    }

    // Pods still Pending at the end, with the provisioner's last word on them.
    for (wl, stuck) in sc.workloads.iter().zip(&stuck) {
        if stuck.is_empty() {
            continue;
        }
        let end = r.summary.duration_s;
        let longest = stuck.iter().map(|p| end - p.created.as_secs_f64()).fold(0.0, f64::max);
        let prefix = format!("pod/{}-", wl.name);
        let why = r.decisions.iter().rev().find(|d| {
            use crate::controllers::provisioner::Decision as D;
            matches!(
                d.decision,
                D::NoCompatibleNodePool
                    | D::NoInstanceTypeFits
                    | D::UnsatisfiableTopology
                    | D::LimitsExceeded
                    | D::NoCapacity
                    | D::NoScaleUp
                    | D::FailedScaleUp
            ) && (d.object.starts_with(&prefix) || d.object == "*")
        });
        let mut evidence = vec![format!(
            "pods.csv: {} pod(s) of {} state_at_end Pending, the longest for {:.0} s",
            stuck.len(),
            wl.name,
            longest
        )];
        let knob = match why {
            Some(d) => {
                evidence.push(format!(
                    "autoscaler.csv: {} {} {} at {}: {}",
                    d.component,
                    d.decision,
                    d.object,
                    clock(d.time_s),
                    d.reason
                ));
                "make some node group or NodePool able to take the pod (its requirements, taints, limits, instance types), or relax the pod's constraints".to_string()
            }
            None if matches!(
                sc.provisioner,
                crate::controllers::provisioner::ProvisionerConfig::Static
            ) =>
            {
                evidence.push("the scenario has no node autoscaler (static nodes)".into());
                "add nodes or a node autoscaler".to_string()
            }
            None => {
                evidence.push("autoscaler.csv: no decision names them".into());
                "check the pod's constraints against the provisioner's node groups".to_string()
            }
        };
        out.push(Finding {
            kind: "pods-never-scheduled",
            workload: Some(wl.name.clone()),
            statement: format!(
                "{} pod(s) of {} were never scheduled: no node the run had or could add took them",
                stuck.len(),
                wl.name
            ),
            evidence,
            knob,
        });
    }

    // Preemptions of one workload's pods by another's.
    let mut placeholders_preempted = 0u32;
    for (wi, (wl, victims)) in sc.workloads.iter().zip(&preempted).enumerate() {
        if victims.is_empty() {
            continue;
        }
        let mut by: Vec<&str> = Vec::new();
        for &p in victims
            .iter()
            .filter_map(|v| v.deleted.and_then(|t| nominated_at.get(&t)))
            .flatten()
        {
            let name = sc.workloads[p].name.as_str();
            if p != wi && !by.contains(&name) {
                by.push(name);
            }
        }
        let prio = victims[0].priority;
        let (from, to) = (
            victims
                .iter()
                .filter_map(|p| p.deleted)
                .min()
                .map_or(0.0, |t| t.as_secs_f64()),
            victims
                .iter()
                .filter_map(|p| p.deleted)
                .max()
                .map_or(0.0, |t| t.as_secs_f64()),
        );
        let placeholder = prio < 0;
        if placeholder {
            placeholders_preempted += victims.len() as u32;
        }
        out.push(Finding {
            kind: "preemption",
            workload: Some(wl.name.clone()),
            statement: if placeholder {
                format!(
                    "{} placeholder pod(s) of {} (priority {prio}) were preempted to make room for {}: the warm pool did its job",
                    victims.len(),
                    wl.name,
                    by.join(", ")
                )
            } else {
                format!(
                    "{} pod(s) of {} (priority {prio}) were preempted by {}'s higher-priority pods",
                    victims.len(),
                    wl.name,
                    if by.is_empty() { "other workloads".to_string() } else { by.join(", ") }
                )
            },
            evidence: vec![format!(
                "pods.csv: {} pod(s) of {} delete_reason Preempted between {} and {}",
                victims.len(),
                wl.name,
                clock(from),
                clock(to)
            )],
            knob: if placeholder {
                "size the placeholder Deployment to the surge (see warm-pool-too-small)".into()
            } else {
                format!("give {} a PriorityClass at least its preemptors', or capacity of its own", wl.name)
            },
        });
    }

    // A warm pool too small: placeholders were preempted, yet other pods waited for new nodes.
    if placeholders_preempted > 0 {
        for wsum in &r.summary.workloads {
            let Some(b) = &wsum.pending_breakdown else { continue };
            let waited: Vec<_> = r
                .pod_stages
                .iter()
                .filter(|p| p.workload == wsum.name && p.stages[2] > 0.0)
                .collect();
            let wi = sc.workloads.iter().position(|x| x.name == wsum.name);
            let prio = wi.and_then(|i| priority[i]).unwrap_or(0);
            if waited.is_empty() || prio < 0 {
                continue;
            }
            let launch = waited.iter().map(|p| p.stages[2]).sum::<f64>() / waited.len() as f64;
            out.push(Finding {
                kind: "warm-pool-too-small",
                workload: Some(wsum.name.clone()),
                statement: format!(
                    "the warm pool absorbed {placeholders_preempted} pod(s), but {} more of {} waited for new nodes (node launch {:.0} s on average)",
                    waited.len(),
                    wsum.name,
                    launch
                ),
                evidence: vec![
                    format!("pods.csv: {placeholders_preempted} placeholder pod(s) delete_reason Preempted"),
                    format!(
                        "pending-breakdown.csv: {} pod(s) of {} with launch_s > 0 (slowest stage overall: {})",
                        waited.len(),
                        wsum.name,
                        b.all.slowest
                    ),
                ],
                knob: format!("add about {} placeholder replicas (their requests like {}'s)", waited.len(), wsum.name),
            });
        }
    }

    // CPU throttling and OOM kills.
    for wsum in &r.summary.workloads {
        let wi = sc.workloads.iter().position(|x| x.name == wsum.name);
        // A queue worker with a backlog always wants more CPU: its finding is the backlog.
        if wsum.cpu_throttled_core_seconds >= THROTTLING_MIN_CORE_SECONDS
            && wsum.queue.is_none()
            && let Some(wi) = wi
        {
            let peak = rows[wi]
                .iter()
                .max_by(|a, b| a.cpu_throttled_m.total_cmp(&b.cpu_throttled_m));
            let mut evidence = vec![format!(
                "summary.json: {} cpu_throttled_core_seconds {:.0}",
                wsum.name, wsum.cpu_throttled_core_seconds
            )];
            if let Some(p) = peak {
                evidence.push(format!(
                    "timeline.csv: {} cpu_throttled_m peaks at {:.0} at {}",
                    wsum.name,
                    p.cpu_throttled_m,
                    clock(p.time.as_secs_f64())
                ));
            }
            out.push(Finding {
                kind: "cpu-throttling",
                workload: Some(wsum.name.clone()),
                statement: format!(
                    "{}'s pods wanted {:.0} core-seconds of CPU above their limits and were throttled (CFS quota)",
                    wsum.name, wsum.cpu_throttled_core_seconds
                ),
                evidence,
                knob: format!(
                    "raise or remove {}'s CPU limit, or scale out earlier (a lower HPA target)",
                    wsum.name
                ),
            });
        }
        if wsum.oom_kills > 0 {
            out.push(Finding {
                kind: "oom-kills",
                workload: Some(wsum.name.clone()),
                statement: format!(
                    "{} container(s) of {} were OOM-killed above their memory limit",
                    wsum.oom_kills, wsum.name
                ),
                evidence: vec![format!(
                    "summary.json: {} oom_kills {}, container_restarts {}",
                    wsum.name, wsum.oom_kills, wsum.container_restarts
                )],
                knob: format!(
                    "raise {}'s memory limit and request (capsim rightsize shows a safe value)",
                    wsum.name
                ),
            });
        }
    }

    // Evictions by node removals (consolidation, scale-down).
    let days = r.summary.duration_s / 86_400.0;
    for (wl, evicted) in sc.workloads.iter().zip(&drained) {
        if evicted.is_empty() {
            continue;
        }
        let rate = if days >= 1.0 {
            format!("{:.1} per day", evicted.len() as f64 / days)
        } else {
            format!("in {:.1} h", days * 24.0)
        };
        out.push(Finding {
            kind: "disruption-evictions",
            workload: Some(wl.name.clone()),
            statement: format!(
                "{} pod(s) of {} were evicted when their nodes were consolidated or scaled down ({rate})",
                evicted.len(),
                wl.name
            ),
            evidence: vec![format!(
                "pods.csv: {} pod(s) of {} delete_reason Drained on nodes whose removed_by is a consolidation or scale-down",
                evicted.len(),
                wl.name
            )],
            knob: "a PodDisruptionBudget, karpenter.sh/do-not-disrupt, a longer consolidateAfter or --scale-down-unneeded-time".into(),
        });
    }

    // Pages.
    for a in r.summary.alerts.iter().filter(|a| a.pages && a.fired > 0) {
        out.push(Finding {
            kind: "pages",
            workload: None,
            statement: format!(
                "on-call would have been paged: {} fired {} time(s), first at {}",
                a.alert,
                a.fired,
                clock(a.first_firing_s.unwrap_or(0.0))
            ),
            evidence: vec![format!(
                "alerts.csv: {} firing for {:.0} s in all (group {})",
                a.alert, a.firing_seconds, a.group
            )],
            knob: "the capacity that failed (see the findings above), or the alert's threshold and for:".into(),
        });
    }
    out
}
