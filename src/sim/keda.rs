//! KEDA's scale loop for each ScaledObject (`Periodic::Keda`, every `pollingInterval`): the
//! 0 → 1 and N → 0 steps the HPA KEDA created cannot take (an HPA never scales to or from zero:
//! at 0 replicas it is ScalingDisabled). upstream kedacore/keda
//! pkg/scaling/executor/scale_scaledobjects.go `RequestScale`:
//! - active (some event trigger's value above its activation threshold): from 0 — or below
//!   `minReplicaCount` with an `idleReplicaCount` — to `max(minReplicaCount, 1)`; otherwise only
//!   `lastActiveTime` moves to now;
//! - inactive, above `idleReplicaCount` or above 0 with `minReplicaCount` 0: to
//!   `idleReplicaCount` (else 0) once `lastActiveTime + cooldownPeriod` is past (strictly), or,
//!   never active yet, once `creation + initialCooldownPeriod` is;
//! - inactive, no `idleReplicaCount`, below `minReplicaCount`: to `minReplicaCount`.

use super::World;
use crate::engine::SimTime;
use serde::Serialize;

/// A ScaledObject's loop state.
#[derive(Clone, Debug, Default)]
pub struct KedaRuntime {
    pub last_active: Option<SimTime>,
    pub activations: u32,
    pub deactivations: u32,
}

/// One action of KEDA's loop, for `keda.csv`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KedaRecord {
    pub time_s: f64,
    pub scaled_object: String,
    /// `Activated` (from 0 or idle), `Deactivated` (to 0 or idle), `SetMinReplicas`.
    pub action: &'static str,
    pub from: u32,
    pub to: u32,
    /// The triggers' values at the poll, `metric=value` separated by `;`.
    pub triggers: String,
}

impl World<'_> {
    pub(super) fn keda_poll(&mut self, now: SimTime, i: usize) {
        let so = &self.sc.scaled_objects[i];
        let values: Vec<(String, f64, bool)> = so
            .triggers
            .iter()
            .map(|t| {
                let v = self.series_value(&t.metric, now).unwrap_or(0.0);
                (t.metric.clone(), v, v > t.activation)
            })
            .collect();
        let active = values.iter().any(|v| v.2);
        let current = self.workloads[so.target].desired;
        let min = so.min_replicas;
        let rt = &mut self.keda[i];
        let mut to = None;
        let mut action = "";
        if active {
            if (so.idle_replicas.is_some() && current < min) || current == 0 {
                to = Some(min.max(1));
                action = "Activated";
                rt.activations += 1;
            }
            rt.last_active = Some(now);
        } else if so.idle_replicas.is_some_and(|idle| current > idle) || (current > 0 && min == 0) {
            let due = match rt.last_active {
                None => SimTime::ZERO + so.initial_cooldown_period < now,
                Some(t) => t + so.cooldown_period < now,
            };
            if due {
                to = Some(so.idle_replicas.unwrap_or(min));
                action = "Deactivated";
                rt.deactivations += 1;
            }
        } else if so.idle_replicas.is_none() && current < min {
            to = Some(min);
            action = "SetMinReplicas";
        }
        let Some(to) = to.filter(|t| *t != current) else {
            return;
        };
        self.keda_records.push(KedaRecord {
            time_s: now.as_secs_f64(),
            scaled_object: so.name.clone(),
            action,
            from: current,
            to,
            triggers: values
                .iter()
                .map(|(m, v, _)| format!("{m}={v:.3}"))
                .collect::<Vec<_>>()
                .join(";"),
        });
        let target = so.target;
        self.workloads[target].desired = to;
        self.reconcile_replicas(target);
    }
}

impl World<'_> {
    /// A ScaledJob's Job pod `p` of workload `wi` starts: it takes one message off the queue
    /// and runs for the message's CPU-seconds (`perRequest.cpu`) over its CPU (limit, else
    /// request) plus `latency.base`; with the queue empty it finds nothing and completes at once.
    /// `None` for a pod of any other workload.
    pub(super) fn keda_job_claim(&mut self, wi: usize, p: crate::cluster::PodId) -> Option<crate::engine::SimDuration> {
        let wl = &self.sc.workloads[wi];
        if wl.kind != crate::model::WorkloadKind::Batch || wl.batch.is_some() {
            return None;
        }
        let now = self.queue.now();
        super::service::integrate(&mut self.workloads[wi], now, self.measure_from);
        let q = self.workloads[wi].queue.as_mut()?;
        if q.depth < 1.0 {
            return Some(crate::engine::SimDuration::ZERO);
        }
        q.depth -= 1.0;
        q.processed += 1.0;
        q.in_flight += 1.0;
        let tmpl = self.templates.resources_of(&self.cluster.pods[p.0 as usize]);
        let cores = tmpl
            .limit_cpu_m()
            .map_or(self.cluster.pods[p.0 as usize].requests.cpu_m as f64, |l| l as f64)
            .max(1.0)
            / 1000.0;
        let secs = wl.service.cpu_per_rps_m / 1000.0 / cores + wl.service.base_latency_s;
        Some(crate::engine::SimDuration::from_secs_f64(secs.max(0.001)))
    }

    /// A ScaledJob's Job pod finished its message.
    pub(super) fn keda_job_done(&mut self, wi: usize, run_for: crate::engine::SimDuration) {
        let wl = &self.sc.workloads[wi];
        if wl.kind != crate::model::WorkloadKind::Batch || wl.batch.is_some() || run_for.is_zero() {
            return;
        }
        if let Some(q) = self.workloads[wi].queue.as_mut() {
            q.in_flight = (q.in_flight - 1.0).max(0.0);
        }
    }

    /// KEDA's job loop for ScaledJob `i` (kedacore/keda pkg/scaling/executor/scale_jobs.go
    /// `RequestJobScale`, pkg/scaling/scaledjob/metrics.go `IsScaledJobActive`): per trigger
    /// queueLength and maxValue = min(queueLength / target, maxReplicaCount), combined by
    /// `multipleScalersCalculation` over the active triggers; the strategy's effective maximum
    /// from the running and pending Jobs; `min(ceil(queueLength), effectiveMaxScale)` new Jobs.
    pub(super) fn keda_job_poll(&mut self, now: SimTime, i: usize) {
        use crate::scenario::keda::JobStrategy;
        let sj = &self.sc.scaled_jobs[i];
        let metrics: Vec<(f64, f64, bool)> = sj
            .triggers
            .iter()
            .map(|t| {
                let len = self.series_value(&t.metric, now).unwrap_or(0.0);
                let max = if t.target > 0.0 {
                    (len / t.target).min(sj.max_replicas as f64)
                } else {
                    0.0
                };
                (len, max, len > t.activation)
            })
            .collect();
        let active: Vec<&(f64, f64, bool)> = metrics.iter().filter(|m| m.2).collect();
        let (mut queue_len, mut max_value) = (0.0f64, 0.0f64);
        match sj.combine.as_str() {
            "min" => {
                for m in &active {
                    if queue_len == 0.0 || m.0 < queue_len {
                        (queue_len, max_value) = (m.0, m.1);
                    }
                }
            }
            "avg" if !active.is_empty() => {
                queue_len = active.iter().map(|m| m.0).sum::<f64>() / active.len() as f64;
                max_value = active.iter().map(|m| m.1).sum::<f64>() / active.len() as f64;
            }
            "sum" => {
                queue_len = active.iter().map(|m| m.0).sum();
                max_value = active.iter().map(|m| m.1).sum();
            }
            _ => {
                for m in &active {
                    if m.0 > queue_len {
                        (queue_len, max_value) = (m.0, m.1);
                    }
                }
            }
        }
        let is_active = !active.is_empty() || sj.min_replicas > 0;
        let max_scale = max_value.min(sj.max_replicas as f64).ceil() as i64;
        let mut scale_to = queue_len.ceil() as i64;
        let ws = &self.workloads[sj.target];
        let running = ws.active.len() as i64;
        let pending = ws
            .active
            .iter()
            .filter(|p| self.cluster.pods[p.0 as usize].phase == crate::cluster::PodPhase::Pending)
            .count() as i64;
        let effective = if running < sj.min_replicas {
            scale_to = sj.min_replicas - running;
            scale_to
        } else {
            let r = running - sj.min_replicas;
            match &sj.strategy {
                JobStrategy::Default => max_scale - r,
                JobStrategy::Custom { deduction, running_pct } => {
                    (max_scale - deduction - (r as f64 * running_pct) as i64).min(sj.max_replicas)
                }
                JobStrategy::Accurate => {
                    if max_scale + r - pending > sj.max_replicas {
                        sj.max_replicas - r
                    } else {
                        max_scale - pending
                    }
                }
                JobStrategy::Eager => {
                    scale_to = sj.max_replicas;
                    (sj.max_replicas - r - pending).min(max_scale)
                }
            }
        }
        .max(0);
        if !is_active || effective <= 0 {
            return;
        }
        let n = scale_to.min(effective).max(0);
        let target = sj.target;
        for _ in 0..n {
            self.create_pod(target, now);
        }
        if n > 0 {
            self.keda_jobs_created[i] += n as u32;
            self.keda_records.push(KedaRecord {
                time_s: now.as_secs_f64(),
                scaled_object: sj.name.clone(),
                action: "JobsCreated",
                from: running as u32,
                to: (running + n) as u32,
                triggers: sj
                    .triggers
                    .iter()
                    .zip(&metrics)
                    .map(|(t, m)| format!("{}={:.3}", t.metric, m.0))
                    .collect::<Vec<_>>()
                    .join(";"),
            });
            self.request_cycle(now);
        }
    }
}
