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
