//! A warm start: the run begins in the steady state its t = 0 demand implies.
//!
//! Every Deployment starts at the replicas its HPA would hold for that demand (a fixed point of
//! the HPA's usage ratio, [`steady_replicas`]) or at its `spec.replicas` without one; its pods
//! are bound by the scheduler and Ready with their images cached; what does not fit on the
//! initial nodes is placed on nodes the provisioner launches for it, Ready at t = 0
//! ([`crate::controllers::provisioner::Provisioner::warm_start`]). Nothing of this is recorded
//! as a decision and no start-up latency is drawn: the run measures the scenario's traffic, not
//! the minutes an empty cluster takes to fill. `spec.start: cold` keeps the empty start.

use super::World;
use crate::cluster::PodPhase;
use crate::controllers::hpa::observation::MetricResource;
use crate::controllers::hpa::spec::{MetricSpec, MetricTarget};
use crate::controllers::provisioner::Action;
use crate::engine::SimTime;
use crate::model::Workload;

/// Provisioning rounds at most (each places what the previous one launched room for).
const MAX_ROUNDS: usize = 16;

/// The replicas an HPA holds for `demand` requests/s: iterate the HPA's proposal for every
/// metric (`ceil(replicas × ratio)` outside the tolerance, else unchanged; the largest proposal
/// wins, clamped to min/max, as upstream's `computeReplicasForMetrics`) until it stops moving.
/// Usage is the uncontended service model (each pod `idle + demand/replicas × perRequest`, capped
/// by its limit). Metrics the service model does not produce keep the current replicas.
pub fn steady_replicas(
    wl: &Workload,
    spec: &crate::controllers::hpa::spec::HpaSpec,
    tolerance: f64,
    demand: f64,
    start: i32,
) -> i32 {
    let (min, max) = (spec.min_replicas.max(1), spec.max_replicas.max(1));
    let req = wl.template.requests();
    let svc = &wl.service;
    let cap = |v: f64, limit: Option<i64>| limit.map_or(v, |l| v.min(l as f64));
    let mut r = start.clamp(min, max);
    let mut seen = Vec::new();
    for _ in 0..100 {
        let per_pod = demand / f64::from(r);
        let cpu = cap(svc.idle_cpu_m + per_pod * svc.cpu_per_rps_m, wl.template.limit_cpu_m());
        let mem = cap(svc.idle_mem + per_pod * svc.mem_per_rps, wl.template.limit_mem());
        let ratio_of = |usage_milli: f64, target: &MetricTarget, request_milli: f64| -> Option<(f64, bool)> {
            match *target {
                MetricTarget::Utilization(u) if request_milli > 0.0 && u > 0 => {
                    Some((usage_milli / (request_milli * f64::from(u) / 100.0), false))
                }
                MetricTarget::AverageValue(v) if v > 0 => Some((usage_milli / v as f64, false)),
                MetricTarget::Value(v) if v > 0 => Some((usage_milli / v as f64, false)),
                _ => None,
            }
        };
        let mut proposal = None::<i32>;
        for m in &spec.metrics {
            let ratio = match m {
                MetricSpec::Resource { resource, target } | MetricSpec::ContainerResource { resource, target, .. } => {
                    match resource {
                        MetricResource::Cpu => ratio_of(cpu, target, req.cpu_m as f64),
                        MetricResource::Memory => ratio_of(mem * 1000.0, target, req.mem as f64 * 1000.0),
                    }
                }
                MetricSpec::Pods { target, .. } => ratio_of(per_pod * 1000.0, target, 0.0),
                MetricSpec::Object { target, .. } | MetricSpec::External { target, .. } => match *target {
                    // A total divided over the pods: the replicas follow from it directly.
                    MetricTarget::AverageValue(v) if v > 0 => Some((demand * 1000.0 / v as f64, true)),
                    _ => ratio_of(demand * 1000.0, target, 0.0),
                },
                MetricSpec::Unknown { .. } => None,
            };
            let Some((ratio, absolute)) = ratio else { continue };
            let p = if absolute {
                ratio.ceil() as i32
            } else if (ratio - 1.0).abs() <= tolerance {
                r
            } else {
                (ratio * f64::from(r)).ceil() as i32
            };
            proposal = Some(proposal.map_or(p, |q| q.max(p)));
        }
        let next = proposal.unwrap_or(r).clamp(min, max);
        if next == r {
            return r;
        }
        if seen.contains(&next) {
            // An oscillation between two counts: hold the larger.
            return r.max(next);
        }
        seen.push(r);
        r = next;
    }
    r
}

impl World<'_> {
    /// Builds the warm start (module docs). Called once, at t = 0, before the first event.
    pub(super) fn warm_start(&mut self) {
        let now = SimTime::ZERO;
        let tolerance = self.autoscaling.config.tolerance;
        for i in 0..self.workloads.len() {
            let wl = &self.sc.workloads[i];
            if !wl.kind.is_replicated() {
                continue;
            }
            let demand = wl.traffic.as_ref().map_or(0.0, |t| {
                let mut memo = Default::default();
                t.rps_at_memo(now, &self.rngs, &mut memo).max(0.0)
            });
            if let Some(h) = self.autoscaling.hpas.iter().find(|h| h.target == i) {
                let r = steady_replicas(wl, &h.spec, tolerance, demand, wl.replicas as i32);
                let ws = &mut self.workloads[i];
                ws.desired = r as u32;
                ws.min_desired = ws.desired;
                ws.max_desired = ws.desired;
            }
            self.reconcile_replicas(i);
        }
        for _ in 0..MAX_ROUNDS {
            self.schedule_cycle(now);
            self.make_bound_pods_ready(now);
            if self.scheduling.pending.is_empty() {
                break;
            }
            if !self.warm_launch(now) {
                break;
            }
        }
        self.make_bound_pods_ready(now);
        let left = self.scheduling.pending.len();
        if left > 0 {
            self.warnings.push(format!(
                "spec.start: warm: {left} pods found no node at t = 0 (node limits or constraints); they start Pending"
            ));
        }
        self.service.touch(now);
    }

    /// Pods the warm start bound are Running and Ready now, their images on their nodes.
    fn make_bound_pods_ready(&mut self, now: SimTime) {
        for i in 0..self.workloads.len() {
            for k in 0..self.workloads[i].active.len() {
                let p = self.workloads[i].active[k];
                let pod = &mut self.cluster.pods[p.0 as usize];
                if pod.phase != PodPhase::Starting || pod.run_for.is_some() {
                    continue;
                }
                pod.phase = PodPhase::Ready;
                pod.started = Some(now);
                pod.ready = Some(now);
                pod.first_ready = Some(now);
                pod.start_due = None;
                pod.ready_due = None;
                pod.image_cached = true;
                if let Some(n) = pod.node {
                    let wi = pod.workload;
                    let node = &mut self.cluster.nodes[n.0 as usize];
                    for img in node.images.iter_mut().filter(|(w, _)| *w == wi) {
                        img.1 = now;
                    }
                }
                self.workloads[i].ready += 1;
            }
        }
    }

    /// Asks the provisioner for nodes for the pending pods; they exist Ready at once. Returns
    /// whether any was launched.
    fn warm_launch(&mut self, now: SimTime) -> bool {
        let Some(mut prov) = self.provisioning.provisioner.take() else {
            return false;
        };
        let unschedulable = self.unschedulable_pods();
        let pdb_allowed = self.pdb_allowed();
        let view = self
            .cluster
            .view(now, self.sc, &unschedulable, &pdb_allowed, &self.templates);
        let actions = prov.warm_start(&view, &self.rngs);
        self.provisioning.provisioner = Some(prov);
        let mut launched = false;
        for a in actions {
            if let Action::Launch { id, spec, reason, .. } = a {
                let node = self.add_node(spec, reason);
                self.notify(crate::controllers::provisioner::NodeNotice::Launched { id, node });
                self.node_launched(node);
                self.node_registered(node);
                self.node_ready(node);
                launched = true;
            }
        }
        launched
    }
}
