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
    /// `status.health[metric].numberOfFailures` per event trigger: consecutive failed reads.
    pub failures: Vec<u32>,
    /// The last loop saw a trigger served by its fallback (`ScaledObjectFallbackActivated`).
    pub fallback_active: bool,
    pub failed_reads: u32,
    pub fallback_reads: u32,
}

/// One action of KEDA's loop, for `keda.csv`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KedaRecord {
    pub time_s: f64,
    pub scaled_object: String,
    /// `Activated` (from 0 or idle), `Deactivated` (to 0 or idle), `SetMinReplicas`,
    /// `FallbackActivated` / `FallbackDeactivated` (the events upstream emits), `JobsCreated`.
    pub action: &'static str,
    pub from: u32,
    pub to: u32,
    /// The triggers' values at the poll, `metric=value` separated by `;` (`error` for a failed
    /// read, `fallback:<value>` for one the fallback answered).
    pub triggers: String,
}

/// One read of a trigger's metric through KEDA (kedacore/keda pkg/fallback/fallback.go
/// `GetMetricsWithFallback`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KedaRead {
    Value(f64),
    /// The read failed more than `failureThreshold` times in a row: the value that makes the
    /// HPA want the fallback replicas.
    Fallback(f64),
    /// The read failed past the threshold under `behavior: scalingModifiers`: nil in the formula.
    Nil,
    /// The read failed (no fallback, or not yet past the threshold).
    Error,
}

impl KedaRead {
    fn describe(self, metric: &str) -> String {
        match self {
            KedaRead::Value(v) => format!("{metric}={v:.3}"),
            KedaRead::Fallback(v) => format!("{metric}=fallback:{v:.3}"),
            KedaRead::Nil => format!("{metric}=nil"),
            KedaRead::Error => format!("{metric}=error"),
        }
    }
}

/// A quantity's value in milli-units, as `resource.NewMilliQuantity(int64(x*1000))` keeps it.
fn milli(x: f64) -> f64 {
    (x * 1000.0) as i64 as f64 / 1000.0
}

impl World<'_> {
    /// Reads event trigger `k` of ScaledObject `i`, counting failures toward its fallback as
    /// upstream does on every read (KEDA's loop and the HPA's): a success resets the count; past
    /// `failureThreshold` the fallback answers `target × replicas` (÷ ready replicas for a Value
    /// metric), replicas by `behavior` from the target's `spec.replicas`.
    pub(super) fn keda_read(&mut self, i: usize, k: usize, now: SimTime) -> KedaRead {
        use crate::scenario::keda::FallbackBehavior as B;
        let so = &self.sc.scaled_objects[i];
        let t = &so.triggers[k];
        let read = self.series_read(&t.metric, now);
        let rt = &mut self.keda[i];
        if let Some(Ok(v)) = read {
            rt.failures[k] = 0;
            return KedaRead::Value(v);
        }
        rt.failed_reads += 1;
        let Some(fb) = so.fallback else {
            return KedaRead::Error;
        };
        rt.failures[k] += 1;
        if rt.failures[k] <= fb.failure_threshold {
            return KedaRead::Error;
        }
        let current = self.workloads[so.target].desired;
        let replicas = match fb.behavior {
            B::ScalingModifiers => return KedaRead::Nil,
            B::Static => fb.replicas,
            B::CurrentReplicas => current,
            B::CurrentReplicasIfHigher => current.max(fb.replicas),
            B::CurrentReplicasIfLower => current.min(fb.replicas),
        };
        let mut r = f64::from(replicas);
        let (value_type, target) = so
            .modifiers
            .as_ref()
            .map_or((t.value_type, t.target), |m| (m.value_type, m.target));
        if value_type {
            let ready = self.workloads[so.target].ready;
            if ready == 0 {
                // fallback.go: "readyReplicas is zero, cannot do fallback".
                return KedaRead::Error;
            }
            r /= f64::from(ready);
        }
        self.keda[i].fallback_reads += 1;
        KedaRead::Fallback(milli(target * r))
    }

    /// The composite metric of ScaledObject `i` from its triggers' reads
    /// (pkg/scaling/modifiers/formula.go; scale_handler.go `GetScaledObjectMetrics`): an error
    /// while some read failed and none fell back; a fallback's value while one did; else the
    /// formula on the named triggers, nil → `fallback.replicas × target`.
    fn keda_composite(&self, i: usize, reads: &[KedaRead]) -> Option<f64> {
        use crate::scenario::formula::Val;
        let so = &self.sc.scaled_objects[i];
        let m = so.modifiers.as_ref()?;
        if let Some(v) = reads.iter().find_map(|r| match r {
            KedaRead::Fallback(v) => Some(*v),
            _ => None,
        }) {
            return Some(v);
        }
        if reads.contains(&KedaRead::Error) {
            return None;
        }
        let env = so
            .triggers
            .iter()
            .zip(reads)
            .filter_map(|(t, r)| {
                let v = match r {
                    KedaRead::Value(v) => Val::Num(*v),
                    _ => Val::Nil,
                };
                Some((t.name.clone()?, v))
            })
            .collect();
        match m.formula.eval(&env) {
            Ok(Val::Num(x)) if x.is_finite() => Some(milli(x)),
            Ok(Val::Nil) => so.fallback.map(|f| f64::from(f.replicas) * m.target),
            _ => None,
        }
    }

    /// What KEDA's metrics adapter answers the HPA of ScaledObject `i` for its External metric
    /// `metric`; `None` for a metric that is not the ScaledObject's.
    pub(super) fn keda_hpa_read(&mut self, i: usize, metric: &str, now: SimTime) -> Option<Result<f64, ()>> {
        let so = &self.sc.scaled_objects[i];
        if so.modifiers.is_some() && metric == crate::scenario::keda::COMPOSITE_METRIC {
            let reads: Vec<KedaRead> = (0..so.triggers.len()).map(|k| self.keda_read(i, k, now)).collect();
            return Some(self.keda_composite(i, &reads).ok_or(()));
        }
        let k = so.triggers.iter().position(|t| t.metric == metric)?;
        Some(match self.keda_read(i, k, now) {
            KedaRead::Value(v) | KedaRead::Fallback(v) => Ok(v),
            KedaRead::Nil | KedaRead::Error => Err(()),
        })
    }

    pub(super) fn keda_poll(&mut self, now: SimTime, i: usize) {
        let n = self.sc.scaled_objects[i].triggers.len();
        let reads: Vec<KedaRead> = (0..n).map(|k| self.keda_read(i, k, now)).collect();
        let so = &self.sc.scaled_objects[i];
        // scale_handler.go `getScaledObjectState`: a trigger served by its fallback is active;
        // with a formula, activity is the composite's value against `activationTarget`.
        let is_error = reads.contains(&KedaRead::Error);
        let fallback_active = reads.iter().any(|r| matches!(r, KedaRead::Fallback(_)));
        let mut active = so.triggers.iter().zip(&reads).any(|(t, r)| match r {
            KedaRead::Value(v) => *v > t.activation,
            KedaRead::Fallback(_) => true,
            _ => false,
        });
        if let Some(m) = &so.modifiers {
            active = !is_error && self.keda_composite(i, &reads).is_some_and(|c| c > m.activation);
        }
        // cpu/memory triggers alone: always active (getScaledObjectState: "If all the triggers
        // are only cpu/memory, we enforce the IsActive").
        if so.triggers.is_empty() && !is_error {
            active = true;
        }
        let current = self.workloads[so.target].desired;
        let min = so.min_replicas;
        let describe = || {
            so.triggers
                .iter()
                .zip(&reads)
                .map(|(t, r)| r.describe(&t.metric))
                .collect::<Vec<_>>()
                .join(";")
        };
        let rt = &mut self.keda[i];
        if fallback_active != rt.fallback_active {
            rt.fallback_active = fallback_active;
            self.keda_records.push(KedaRecord {
                time_s: now.as_secs_f64(),
                scaled_object: so.name.clone(),
                action: if fallback_active {
                    "FallbackActivated"
                } else {
                    "FallbackDeactivated"
                },
                from: current,
                to: current,
                triggers: describe(),
            });
        }
        let rt = &mut self.keda[i];
        let mut to = None;
        let mut action = "";
        if active {
            if (so.idle_replicas.is_some() && current < min) || current == 0 {
                to = Some(min.max(1));
                action = "Activated";
                rt.activations += 1;
                rt.last_active = Some(now);
            } else if !is_error {
                // With some trigger failing, lastActiveTime stays ("PartialTriggerError").
                rt.last_active = Some(now);
            }
        } else if is_error && so.fallback.is_none_or(|f| f.replicas != 0) {
            // A failing trigger never scales the target in: with a fallback it will come from
            // the HPA once past the threshold, without one nothing is known.
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
            triggers: describe(),
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
                // A trigger whose read fails is left out (scale_handler.go `getScaledJobMetrics`).
                let len = match self.series_read(&t.metric, now) {
                    Some(Ok(v)) => v,
                    _ => return (0.0, 0.0, false),
                };
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
