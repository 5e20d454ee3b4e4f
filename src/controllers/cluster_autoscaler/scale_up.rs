//! Scale-up: which pending pods need new nodes, and which group to grow by how much.
//!
//! upstream: core/static_autoscaler.go `RunOnce` (pod filtering, upcoming nodes, the 2 s buffer),
//! core/podlistprocessor/filter_out_schedulable.go (pods that fit existing or upcoming capacity in
//! simulation are not counted again; the capacity they take stays taken for the pods after them),
//! core/scaleup/orchestrator/orchestrator.go (per-group options, backoff and max-size skips,
//! resource limits), estimator/binpacking_estimator.go and expander/*.

use super::estimator::{Constraints, estimate, estimate_with};
use super::expander::{self, ExpanderContext, ScaleUpOption};
use super::{ClusterAutoscaler, UNSCHEDULABLE_POD_TIME_BUFFER};
use crate::cluster::Pod;
use crate::cluster::placement::{admits, volume_zone_ok};
use crate::cluster::topology::{self, Views};
use crate::cluster::{ClusterView, NodeId, NodeState, PodId, PodPhase};
use crate::controllers::provisioner::{Action, Activity, Decision, DecisionRecord};
use crate::engine::Rngs;
use crate::model::{Labels, Resources, Taint};
use std::collections::BTreeMap;

/// upstream: static_autoscaler.go `podScaleUpDelayAnnotationKey`.
pub const POD_SCALE_UP_DELAY_ANNOTATION: &str = "cluster-autoscaler.kubernetes.io/pod-scale-up-delay";

/// What the scale-up step tells the rest of the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleUpOutcome {
    pub scaled_up: bool,
    /// False after a successful scale-up and while waiting for more pods (upstream skips
    /// scale-down in both cases).
    pub allows_scale_down: bool,
}

/// A node in the scheduling simulation: its labels, taints and the room left on it.
#[derive(Clone, Debug)]
pub struct SimNode<'a> {
    pub id: NodeId,
    pub labels: &'a Labels,
    pub taints: &'a [Taint],
    pub free: Resources,
    pub upcoming: bool,
}

/// How many pods each filtering step removed (for the decision record).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PodFilterCounts {
    pub expendable: usize,
    pub young: usize,
    pub fit_existing: usize,
    pub fit_upcoming: usize,
}

/// The estimator's view of a group's new template nodes: the group template's labels with a
/// hostname of their own (upstream: `template-node-for-<group>-<n>`), checked against the
/// snapshot's inter-pod views.
struct TemplateNodes<'a, 'v> {
    views: Views<'v>,
    pods: &'v [Pod],
    fitting: &'a [(PodId, Resources)],
    labels: &'a Labels,
    taints: &'a [Taint],
    group: &'a str,
    /// Index of the first template node in the views (above every real node id).
    base: usize,
    hostnames: Vec<Labels>,
}

impl TemplateNodes<'_, '_> {
    fn labels_of(&mut self, node: usize) -> Labels {
        while self.hostnames.len() <= node {
            let mut l = self.labels.clone();
            l.insert(
                crate::model::labels::LABEL_HOSTNAME.into(),
                format!("template-node-for-{}-{}", self.group, self.hostnames.len()),
            );
            self.hostnames.push(l);
        }
        self.hostnames[node].clone()
    }
}

impl Constraints for TemplateNodes<'_, '_> {
    fn admits(&mut self, pod: usize, node: usize, _fresh: bool) -> bool {
        let labels = self.labels_of(node);
        let p = &self.pods[self.fitting[pod].0.0 as usize];
        self.views.admits(p, &labels)
    }

    fn place(&mut self, pod: usize, node: usize, fresh: bool) {
        if fresh {
            let labels = self.labels_of(node);
            self.views.add_node(self.base + node, &labels, self.taints);
        }
        let p = &self.pods[self.fitting[pod].0.0 as usize];
        self.views.place(p, self.base + node, 1);
    }
}

impl ClusterAutoscaler {
    /// Existing Ready nodes (id order) then upcoming nodes of CA's groups (id order), as the
    /// simulation sees them. upstream: static_autoscaler.go adds upcoming nodes to the snapshot as
    /// template nodes before running the pod-list processors.
    pub fn simulation_nodes<'a>(&self, view: &ClusterView<'a>) -> Vec<SimNode<'a>> {
        let mut ready = Vec::new();
        let mut upcoming = Vec::new();
        for &id in view.live_nodes {
            let n = &view.nodes[id.0 as usize];
            if self.deleting.contains_key(&id) {
                continue;
            }
            if n.state == NodeState::Ready {
                ready.push(SimNode {
                    id,
                    labels: &n.labels,
                    taints: &n.taints,
                    free: n.free(),
                    upcoming: false,
                });
            } else if n.state.is_upcoming() {
                let Some(gi) = self.node_group(n) else { continue };
                // Registered nodes already had their DaemonSets subtracted by the world.
                let free = if n.registered.is_some() {
                    n.free()
                } else {
                    self.templates[gi].allocatable_for_pods(view.scenario) - n.allocated
                };
                upcoming.push(SimNode {
                    id,
                    labels: &n.labels,
                    taints: &n.taints,
                    free,
                    upcoming: true,
                });
            }
        }
        ready.extend(upcoming);
        ready
    }

    /// The pods that still need new nodes, after upstream's filters, in scheduling-queue order,
    /// and the inter-pod views of the snapshot with the pods that fit placed (the estimator
    /// starts from it, as upstream's runs on the snapshot filter_out_schedulable left).
    pub fn pods_needing_scale_up<'a>(&self, view: &ClusterView<'a>) -> (Vec<PodId>, PodFilterCounts, Views<'a>) {
        let now = view.now;
        let mut counts = PodFilterCounts::default();
        let mut views = Views::new(view.nodes, view.live_nodes, view.pods, view.templates);
        // Built on the first pod that reaches the fit check (most loops have none).
        let mut nodes: Option<Vec<SimNode<'_>>> = None;
        // Where the first-fit search resumes for a pod of this (workload, requests): node room
        // only shrinks during this pass and a workload's pods share one template, so every node
        // before the one an identical pod took (or all nodes, if it fit none) is still no fit.
        let mut resume: BTreeMap<(u32, Resources), usize> = BTreeMap::new();
        let mut out = Vec::new();
        for &p in view.unschedulable {
            let pod = &view.pods[p.0 as usize];
            if pod.phase != PodPhase::Pending || pod.node.is_some() {
                continue;
            }
            // upstream: utils/pod `IsExpendablePod`: priority below the cutoff never triggers scale-up.
            if pod.priority < self.flags.expendable_pods_priority_cutoff {
                counts.expendable += 1;
                continue;
            }
            // upstream: static_autoscaler.go `filterOutYoungPods`: young while created + delay > now;
            // the pod annotation may lengthen the delay, never shorten it.
            let tmpl = view.templates.of(pod);
            let delay = tmpl
                .annotations
                .get(POD_SCALE_UP_DELAY_ANNOTATION)
                .and_then(|v| crate::model::units::parse_duration(v).ok())
                .filter(|d| *d > self.flags.new_pod_scale_up_delay)
                .unwrap_or(self.flags.new_pod_scale_up_delay);
            if pod.created + delay > now {
                counts.young += 1;
                continue;
            }
            let nodes = nodes.get_or_insert_with(|| {
                let nodes = self.simulation_nodes(view);
                // Upcoming nodes not registered yet join the snapshot as template nodes.
                for n in nodes.iter().filter(|n| n.upcoming) {
                    if !topology::in_snapshot(&view.nodes[n.id.0 as usize]) {
                        views.add_node(n.id.0 as usize, n.labels, n.taints);
                    }
                }
                nodes
            });
            // The resume point holds while placing pods only removes nodes for this template.
            let resumable = !tmpl.constraints.placement_may_enable() && pod.volume_zone.is_none();
            let from = if resumable {
                *resume.entry((view.templates.key_of(pod), pod.requests)).or_insert(0)
            } else {
                0
            };
            let slot = nodes[from..]
                .iter()
                .position(|n| {
                    pod.requests.fits_in(&n.free)
                        && admits(tmpl, n.labels, n.taints)
                        && volume_zone_ok(pod.volume_zone.as_deref(), n.labels)
                        && views.admits(pod, n.labels)
                })
                .map(|i| i + from);
            if resumable {
                resume.insert((view.templates.key_of(pod), pod.requests), slot.unwrap_or(nodes.len()));
            }
            match slot {
                Some(i) => {
                    nodes[i].free -= pod.requests;
                    views.place(pod, nodes[i].id.0 as usize, 1);
                    if nodes[i].upcoming {
                        counts.fit_upcoming += 1;
                    } else {
                        counts.fit_existing += 1;
                    }
                }
                None => out.push(p),
            }
        }
        (out, counts, views)
    }

    /// Capacity (cpu millicores, memory bytes) of the cluster's live nodes, for `--cores-total` and
    /// `--memory-total`. CA nodes use their template's capacity; others their kubelet allocatable.
    pub(crate) fn cluster_capacity(&self, view: &ClusterView<'_>) -> (i64, i64, u32) {
        let (mut cpu, mut mem, mut count) = (0i64, 0i64, 0u32);
        for &id in view.live_nodes {
            let n = &view.nodes[id.0 as usize];
            if matches!(n.state, NodeState::Terminated) {
                continue;
            }
            count += 1;
            match self.node_group(n) {
                Some(gi) => {
                    cpu += self.templates[gi].capacity.cpu_m;
                    mem += self.templates[gi].capacity.mem;
                }
                None => {
                    cpu += n.allocatable.cpu_m + n.daemonset.cpu_m;
                    mem += n.allocatable.mem + n.daemonset.mem;
                }
            }
        }
        (cpu, mem, count)
    }

    pub(crate) fn scale_up(
        &mut self,
        view: &ClusterView<'_>,
        rngs: &Rngs,
        actions: &mut Vec<Action>,
        records: &mut Vec<DecisionRecord>,
    ) -> ScaleUpOutcome {
        let now = view.now;
        let no_scale_up = ScaleUpOutcome {
            scaled_up: false,
            allows_scale_down: true,
        };
        let (pods, counts, views) = self.pods_needing_scale_up(view);
        if pods.is_empty() {
            if counts.fit_upcoming > 0 {
                self.no_scale_up(
                    view,
                    records,
                    "*",
                    format!("{} pending pod(s) will fit on upcoming nodes", counts.fit_upcoming),
                );
            }
            return no_scale_up;
        }
        // upstream: static_autoscaler.go: `len(readyNodes) >= MaxNodesTotal` → no scale-up.
        let ready_nodes = view
            .live_nodes
            .iter()
            .filter(|id| view.nodes[id.0 as usize].state == NodeState::Ready)
            .count();
        if self.flags.max_nodes_total > 0 && ready_nodes >= self.flags.max_nodes_total as usize {
            self.no_scale_up(
                view,
                records,
                "*",
                format!(
                    "{} pod(s) pending but the cluster has {ready_nodes} ready nodes, --max-nodes-total={}",
                    pods.len(),
                    self.flags.max_nodes_total
                ),
            );
            return no_scale_up;
        }
        // upstream: static_autoscaler.go `allPodsAreNew`: the oldest pending pod was created less
        // than unschedulablePodTimeBuffer ago → wait one loop for more, and skip scale-down.
        let oldest = pods.iter().map(|p| view.pods[p.0 as usize].created).min();
        if oldest.is_some_and(|t| t + UNSCHEDULABLE_POD_TIME_BUFFER > now) {
            return ScaleUpOutcome {
                scaled_up: false,
                allows_scale_down: false,
            };
        }

        let (cluster_cpu, cluster_mem, cluster_nodes) = self.cluster_capacity(view);
        let mut options = Vec::new();
        // Per option: (group index, current size, how many more nodes it may take).
        let mut room: Vec<(usize, u32, u32)> = Vec::new();
        let mut skipped: Vec<String> = Vec::new();
        for gi in 0..self.groups.len() {
            let g = &self.groups[gi];
            let t = &self.templates[gi];
            if self.backoff.is_backed_off(&g.name, now) {
                skipped.push(format!("{}: backed off", g.name));
                continue;
            }
            let size = self.group_size(view, gi);
            if size >= g.max {
                skipped.push(format!("{}: at max size {}", g.name, g.max));
                continue;
            }
            // The limiter (upstream: estimator thresholds and orchestrator `applyLimits`).
            let mut limit = (g.max - size).min(self.flags.max_nodes_per_scaleup);
            if self.flags.max_nodes_total > 0 {
                limit = limit.min(self.flags.max_nodes_total.saturating_sub(cluster_nodes));
            }
            let cores_left = self.flags.cores_total.1.saturating_mul(1000) - cluster_cpu;
            let mem_left = self
                .flags
                .memory_total_gib
                .1
                .saturating_mul(crate::model::resources::GIB)
                - cluster_mem;
            if t.capacity.cpu_m > 0 {
                limit = limit.min((cores_left.max(0) / t.capacity.cpu_m).min(i64::from(u32::MAX)) as u32);
            }
            if t.capacity.mem > 0 {
                limit = limit.min((mem_left.max(0) / t.capacity.mem).min(i64::from(u32::MAX)) as u32);
            }
            if limit == 0 {
                skipped.push(format!("{}: cluster limits reached", g.name));
                continue;
            }
            let alloc = t.allocatable_for_pods(view.scenario);
            let fitting: Vec<(PodId, Resources)> = pods
                .iter()
                .map(|&p| &view.pods[p.0 as usize])
                .filter(|pod| {
                    let tmpl = view.templates.of(pod);
                    pod.requests.fits_in(&alloc)
                        && admits(tmpl, &t.labels, &t.taints)
                        && volume_zone_ok(pod.volume_zone.as_deref(), &t.labels)
                })
                .map(|pod| (pod.id, pod.requests))
                .collect();
            if fitting.is_empty() {
                skipped.push(format!("{}: no pending pod fits its template node", g.name));
                continue;
            }
            let est = if fitting
                .iter()
                .any(|(p, _)| views.needed(view.templates.of(&view.pods[p.0 as usize])))
            {
                let mut c = TemplateNodes {
                    views: views.clone(),
                    pods: view.pods,
                    fitting: &fitting,
                    labels: &t.labels,
                    taints: &t.taints,
                    group: &g.name,
                    base: view.nodes.len(),
                    // Hypothetical nodes of earlier groups' estimates are not in this clone.
                    hostnames: Vec::new(),
                };
                estimate_with(&fitting, alloc, limit, &mut c)
            } else {
                estimate(&fitting, alloc, limit)
            };
            if est.node_count == 0 {
                skipped.push(format!("{}: no pending pod fits its template node", g.name));
                continue;
            }
            room.push((gi, size, limit));
            options.push(ScaleUpOption {
                group: g.name.clone(),
                node_count: est.node_count,
                pods: est.pods,
                pod_requests: est.pod_requests,
                node_capacity: t.capacity,
                node_price_hr: t.price_hr,
            });
        }
        let ctx = ExpanderContext {
            now,
            rngs,
            cluster_nodes: cluster_nodes as usize,
            priorities: self.priorities.as_ref(),
        };
        let Some(choice) = expander::choose(&self.flags.expanders, &options, &ctx) else {
            self.no_scale_up(
                view,
                records,
                "*",
                format!(
                    "{} pod(s) pending, no group can help: {}",
                    pods.len(),
                    skipped.join("; ")
                ),
            );
            return no_scale_up;
        };
        let opt = &options[choice.chosen];
        let gi = room[choice.chosen].0;
        let chain: Vec<&str> = self.flags.expanders.iter().map(|e| e.as_str()).collect();
        let split = if self.flags.balance_similar_node_groups {
            self.balance(&room, choice.chosen, opt.node_count)
        } else {
            vec![(gi, opt.node_count)]
        };
        for &(g, count) in &split {
            for _ in 0..count {
                actions.push(Action::Launch {
                    id: self.launch_ids.issue(),
                    spec: self.templates[g].node_spec(),
                    latency: self.groups[g].latency.clone(),
                    reason: format!(
                        "scale-up of {} for {} pending pod(s)",
                        self.groups[g].name,
                        opt.pods.len()
                    ),
                });
            }
        }
        let weighed: Vec<String> = options
            .iter()
            .map(|o| format!("{}: {} node(s) for {} pod(s)", o.group, o.node_count, o.pods.len()))
            .collect();
        let mut reason = format!(
            "expander {} chose {} (+{} node(s) for {} of {} pending pod(s)); options [{}]; {}",
            chain.join(","),
            opt.group,
            opt.node_count,
            opt.pods.len(),
            pods.len(),
            weighed.join("; "),
            choice.trace.join("; ")
        );
        if split.len() > 1 {
            let parts: Vec<String> = split
                .iter()
                .map(|&(g, c)| format!("{} +{c}", self.groups[g].name))
                .collect();
            reason.push_str(&format!("; balanced across similar groups [{}]", parts.join(", ")));
        }
        if !skipped.is_empty() {
            reason.push_str(&format!("; skipped [{}]", skipped.join("; ")));
        }
        records.push(self.record(now, Activity::ScaleUp, Decision::ScaleUp, &opt.group, reason));
        self.last_scale_up = super::millis(now);
        self.last_no_scale_up = None;
        ScaleUpOutcome {
            scaled_up: true,
            allows_scale_down: false,
        }
    }

    /// `--balance-similar-node-groups`: the chosen option's node count split across it and the
    /// other options whose groups are similar, filling the smallest group first within each
    /// group's room. upstream: processors/nodegroupset/balancing_processor.go
    /// `BalanceScaleUpBetweenGroups` (groups sorted by current size; nodes added one level at a
    /// time), with the similar groups limited to those that could take part in this scale-up
    /// (orchestrator.go `ComputeSimilarNodeGroups`: not backed off, below max, able to host the
    /// pods). Returns (group index, nodes) in group order; groups given none are left out.
    fn balance(&self, room: &[(usize, u32, u32)], chosen: usize, total: u32) -> Vec<(usize, u32)> {
        let best = room[chosen].0;
        // (size, group, room)
        let groups: Vec<(u32, usize, u32)> = room
            .iter()
            .filter(|(g, _, _)| *g == best || self.templates[*g].similar_to(&self.templates[best]))
            .map(|&(g, size, left)| (size, g, left))
            .collect();
        let mut given = vec![0u32; groups.len()];
        let mut left = total;
        while left > 0 {
            // The smallest group that still has room (ties: group order).
            let Some(i) = (0..groups.len())
                .filter(|&i| groups[i].2 > given[i])
                .min_by_key(|&i| (groups[i].0 + given[i], groups[i].1))
            else {
                break;
            };
            given[i] += 1;
            left -= 1;
        }
        let mut out: Vec<(usize, u32)> = Vec::new();
        for (i, g) in room
            .iter()
            .filter(|(g, _, _)| *g == best || self.templates[*g].similar_to(&self.templates[best]))
            .enumerate()
        {
            if given[i] > 0 {
                out.push((g.0, given[i]));
            }
        }
        out.sort_by_key(|x| x.0);
        out
    }

    /// Records a NoScaleUp unless the same reason was the last one recorded.
    fn no_scale_up(&mut self, view: &ClusterView<'_>, records: &mut Vec<DecisionRecord>, object: &str, reason: String) {
        if self.last_no_scale_up.as_deref() == Some(reason.as_str()) {
            return;
        }
        records.push(self.record(view.now, Activity::ScaleUp, Decision::NoScaleUp, object, reason.clone()));
        self.last_no_scale_up = Some(reason);
    }
}
