//! Where each pod's time from creation to Ready went, stage by stage through the pipeline, and
//! the same per workload and per surge ("where the 5 minutes went").
//!
//! A pod's span `[created, first Ready]` is cut at the instants the records hold, in pipeline
//! order; a stage whose instant is before the cut so far (a node that was already launching
//! when the pod appeared) takes 0, so the stages add up exactly to the span:
//!
//! | stage | from → to |
//! |---|---|
//! | `scheduler` | created → the scheduler's first verdict: Unschedulable, a nomination after preemption, or the binding |
//! | `provisioner` | Unschedulable → the provisioner's decision for the node it ends on (CA's scale-up, Karpenter's NodeClaim) |
//! | `launch` | → the instance is running |
//! | `registration` | → the kubelet registered the node |
//! | `initialization` | → the node is Ready (startup taints gone) |
//! | `preemption` | nomination → bound (the victims' graceful exit) |
//! | `binding` | → bound: the scheduler's next cycle after the node is Ready, or room freed on a node that already existed |
//! | `image_pull` | bound → the image is on the node |
//! | `container_start` | → containers started |
//! | `readiness` | → Ready (probes, warm-up; a crash before Ready counts here) |
//!
//! A surge is a run of one workload's pods whose spans overlap (each pod created before the
//! previous ones were all Ready), with at least [`SURGE_MIN_PODS`] pods.

use crate::cluster::{Node, Pod};
use crate::engine::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

/// The stages, in pipeline order (also `pending-breakdown.csv`'s columns, with `_s`).
pub const STAGES: [&str; 10] = [
    "scheduler",
    "provisioner",
    "launch",
    "registration",
    "initialization",
    "preemption",
    "binding",
    "image_pull",
    "container_start",
    "readiness",
];

/// How a stage reads in a sentence.
pub fn stage_words(stage: &str) -> &'static str {
    match stage {
        "scheduler" => "waiting for the scheduler",
        "provisioner" => "waiting for the provisioner's decision",
        "launch" => "node launch",
        "registration" => "node registration",
        "initialization" => "node initialization",
        "preemption" => "preemption victims' exit",
        "binding" => "binding",
        "image_pull" => "image pull",
        "container_start" => "container start",
        _ => "readiness",
    }
}

/// A stage's name in a table cell.
pub fn stage_short(stage: &str) -> &'static str {
    match stage {
        "scheduler" => "scheduler",
        "provisioner" => "provisioner",
        "launch" => "node launch",
        "registration" => "node register",
        "initialization" => "node init",
        "preemption" => "preemption",
        "binding" => "binding",
        "image_pull" => "image pull",
        "container_start" => "start",
        _ => "readiness",
    }
}

/// The fewest pods a surge has.
pub const SURGE_MIN_PODS: usize = 2;
/// The most surges `summary.json` lists per workload (the largest; the CSV has every pod).
pub const SURGES_LISTED: usize = 10;

/// One pod's stages, seconds (indexed like [`STAGES`]).
pub type Stages = [f64; 10];

/// Cuts pod `p`'s span from creation to its first Ready at the pipeline's instants; `None` for a
/// pod never Ready.
pub fn pod_stages(p: &Pod, nodes: &[Node]) -> Option<Stages> {
    let ready = p.first_ready?;
    let bound = p.scheduled?;
    let node = p.node.map(|n| &nodes[n.0 as usize]);
    let mut out = [0.0; 10];
    let mut cursor = p.created;
    let mut cut = |k: usize, at: Option<SimTime>, cursor: &mut SimTime| {
        if let Some(at) = at {
            let at = at.min(ready);
            if at > *cursor {
                out[k] += (at - *cursor).as_secs_f64();
                *cursor = at;
            }
        }
    };
    let verdict = [p.unschedulable_since, p.nominated, Some(bound)]
        .into_iter()
        .flatten()
        .min();
    cut(0, verdict, &mut cursor);
    if let Some(nominated) = p.nominated {
        // The scheduler's retries until it chose to preempt, then the victims' exit.
        cut(0, Some(nominated), &mut cursor);
        cut(5, Some(bound), &mut cursor);
    } else if p.unschedulable_since.is_some()
        && let Some(n) = node
    {
        cut(1, Some(n.requested), &mut cursor);
        cut(2, n.launched, &mut cursor);
        cut(3, n.registered, &mut cursor);
        cut(4, n.ready, &mut cursor);
    }
    cut(6, Some(bound), &mut cursor);
    cut(7, p.pulled, &mut cursor);
    cut(8, p.started.filter(|s| *s <= ready), &mut cursor);
    cut(9, Some(ready), &mut cursor);
    Some(out)
}

/// The stages' means and shares over some pods, and the slowest stage.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct StageSummary {
    pub pods: usize,
    /// Mean seconds per pod in each stage.
    pub mean_s: BTreeMap<&'static str, f64>,
    /// Each stage's share of the time from creation to Ready.
    pub share: BTreeMap<&'static str, f64>,
    /// The stage with the largest share.
    pub slowest: &'static str,
    /// Mean seconds from creation to Ready.
    pub to_ready_mean_s: f64,
}

impl StageSummary {
    fn of<'a>(pods: impl Iterator<Item = &'a Stages>) -> StageSummary {
        let mut sum = [0.0; 10];
        let mut n = 0;
        for s in pods {
            n += 1;
            for (a, b) in sum.iter_mut().zip(s) {
                *a += b;
            }
        }
        let total: f64 = sum.iter().sum();
        let slowest = (0..10)
            .max_by(|&a, &b| sum[a].total_cmp(&sum[b]).then(b.cmp(&a)))
            .map_or("", |k| STAGES[k]);
        StageSummary {
            pods: n,
            mean_s: STAGES
                .iter()
                .zip(&sum)
                .map(|(k, v)| (*k, if n > 0 { v / n as f64 } else { 0.0 }))
                .collect(),
            share: STAGES
                .iter()
                .zip(&sum)
                .map(|(k, v)| (*k, if total > 0.0 { v / total } else { 0.0 }))
                .collect(),
            slowest: if total > 0.0 { slowest } else { "" },
            to_ready_mean_s: if n > 0 { total / n as f64 } else { 0.0 },
        }
    }
}

/// One surge of a workload.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Surge {
    /// Its number among the workload's surges (`pending-breakdown.csv`'s `surge`), from 1.
    pub surge: usize,
    pub start_s: f64,
    /// When its last pod was Ready.
    pub end_s: f64,
    pub stages: StageSummary,
}

/// A workload's breakdown: over all its pods that became Ready, and per surge.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Breakdown {
    pub all: StageSummary,
    /// The largest surges (by pods), in time order.
    pub surges: Vec<Surge>,
}

impl Breakdown {
    /// The surge whose pods took longest to Ready on average (`None`: no surge, all pods).
    pub fn slowest_surge(&self) -> (Option<&Surge>, &StageSummary) {
        match self
            .surges
            .iter()
            .max_by(|a, b| a.stages.to_ready_mean_s.total_cmp(&b.stages.to_ready_mean_s))
        {
            Some(g) => (Some(g), &g.stages),
            None => (None, &self.all),
        }
    }
}

/// One pod's row of `pending-breakdown.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct PodStages {
    pub pod: String,
    pub workload: String,
    pub created_s: f64,
    /// Its surge's number, 0 when it is in none.
    pub surge: usize,
    pub stages: Stages,
}

/// The surges of one workload's readied pods (`(created, ready, stages)` in creation order):
/// each pod's surge number (0: none) and the surges.
pub fn surges(pods: &[(SimTime, SimTime, Stages)]) -> (Vec<usize>, Vec<Surge>) {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    let mut end = SimTime::ZERO;
    for (i, (c, r, _)) in pods.iter().enumerate() {
        if i > 0 && *c > end {
            runs.push((start, i));
            start = i;
            end = *r;
        } else {
            end = end.max(*r);
        }
    }
    if !pods.is_empty() {
        runs.push((start, pods.len()));
    }
    let mut numbers = vec![0; pods.len()];
    let mut out = Vec::new();
    for (a, b) in runs.into_iter().filter(|(a, b)| b - a >= SURGE_MIN_PODS) {
        let n = out.len() + 1;
        numbers[a..b].iter_mut().for_each(|x| *x = n);
        let slice = &pods[a..b];
        out.push(Surge {
            surge: n,
            start_s: slice[0].0.as_secs_f64(),
            end_s: slice.iter().map(|p| p.1).max().unwrap_or(slice[0].1).as_secs_f64(),
            stages: StageSummary::of(slice.iter().map(|p| &p.2)),
        });
    }
    (numbers, out)
}

/// A workload's breakdown from its readied pods (creation order).
pub fn breakdown(pods: &[(SimTime, SimTime, Stages)]) -> (Vec<usize>, Breakdown) {
    let (numbers, all_surges) = surges(pods);
    // The largest, kept in time order.
    let mut by_size: Vec<usize> = (0..all_surges.len()).collect();
    by_size.sort_by(|&a, &b| {
        all_surges[b]
            .stages
            .pods
            .cmp(&all_surges[a].stages.pods)
            .then(a.cmp(&b))
    });
    by_size.truncate(SURGES_LISTED);
    by_size.sort_unstable();
    let keep: Vec<Surge> = by_size.iter().map(|&i| all_surges[i].clone()).collect();
    (
        numbers,
        Breakdown {
            all: StageSummary::of(pods.iter().map(|p| &p.2)),
            surges: keep,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::ZERO + crate::engine::SimDuration::from_secs(s)
    }

    #[test]
    fn surges_are_runs_of_overlapping_spans() {
        let z = [0.0; 10];
        let pods = [
            (t(0), t(100), z),
            (t(50), t(120), z),
            (t(110), t(130), z),
            (t(500), t(510), z),
            (t(900), t(950), z),
            (t(940), t(960), z),
        ];
        let (numbers, s) = surges(&pods);
        assert_eq!(numbers, vec![1, 1, 1, 0, 2, 2]);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].start_s, s[0].end_s, s[0].stages.pods), (0.0, 130.0, 3));
        assert_eq!((s[1].start_s, s[1].end_s), (900.0, 960.0));
    }

    #[test]
    fn the_slowest_stage_has_the_largest_sum() {
        let mut a = [0.0; 10];
        a[2] = 60.0;
        a[7] = 10.0;
        let mut b = [0.0; 10];
        b[9] = 50.0;
        let s = StageSummary::of([a, b].iter());
        assert_eq!(s.slowest, "launch");
        assert_eq!(s.mean_s["launch"], 30.0);
        assert!((s.share["readiness"] - 50.0 / 120.0).abs() < 1e-12);
        assert_eq!(s.to_ready_mean_s, 60.0);
    }
}
