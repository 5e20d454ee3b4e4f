//! What the world exposes as Prometheus series at every timeline instant
//! ([`crate::alerts::series`] lists the families and labels).

use super::World;
use crate::alerts::series::{DEFAULT_BUCKETS, labels};
use crate::cluster::PodPhase;
use crate::engine::SimTime;
use crate::physics::queueing::Weighted;

/// A workload's request-duration histogram so far.
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// Served requests counted so far.
    pub served: f64,
    /// Cumulative counts per bucket of [`DEFAULT_BUCKETS`], then `+Inf`.
    pub buckets: [f64; 12],
    pub sum: f64,
}

/// The mean response time of a mixture, a saturated class counting at `timeout`.
fn mean(mix: &[Weighted], timeout: f64) -> f64 {
    let total: f64 = mix.iter().map(|m| m.weight).sum();
    if total <= 0.0 {
        return 0.0;
    }
    mix.iter().map(|m| m.weight * m.queue.mean().min(timeout)).sum::<f64>() / total
}

impl World<'_> {
    /// Records every wanted series at `now` (called with the timeline sample).
    pub(super) fn expose(&mut self, now: SimTime) {
        if self.recorder.series.wanted.is_empty() {
            return;
        }
        let t = now.as_millis();
        let set = &mut self.recorder.series;
        set.begin(t);
        if self.recorder.histograms.len() < self.workloads.len() {
            self.recorder
                .histograms
                .resize(self.workloads.len(), Histogram::default());
        }
        for (i, wl) in self.sc.workloads.iter().enumerate() {
            if !wl.kind.is_replicated() {
                continue;
            }
            let ws = &self.workloads[i];
            let (ns, name) = (wl.namespace.as_str(), wl.name.as_str());
            if set.wants("http_requests_total") {
                for (code, v) in [
                    ("200", ws.raw_served - ws.raw_timeouts),
                    ("503", ws.raw_unserved),
                    ("504", ws.raw_timeouts),
                ] {
                    set.push(
                        labels(
                            "http_requests_total",
                            &[("namespace", ns), ("job", name), ("code", code)],
                        ),
                        t,
                        v.max(0.0),
                    );
                }
            }
            let hist_wanted = ["bucket", "sum", "count"]
                .iter()
                .any(|s| set.wants(&format!("http_request_duration_seconds_{s}")));
            if hist_wanted {
                let h = &mut self.recorder.histograms[i];
                let delta = (ws.raw_served - h.served).max(0.0);
                h.served = ws.raw_served;
                let mix: Vec<Weighted> = ws.load.classes.iter().map(|c| c.1).collect();
                let total: f64 = mix.iter().map(|m| m.weight).sum();
                if delta > 0.0 && total > 0.0 {
                    for (k, &le) in DEFAULT_BUCKETS.iter().enumerate() {
                        let below = if le >= ws.timeout_s {
                            1.0
                        } else {
                            mix.iter().map(|m| m.weight * (1.0 - m.queue.survival(le))).sum::<f64>() / total
                        };
                        h.buckets[k] += delta * below;
                    }
                    h.buckets[11] += delta;
                    h.sum += delta * mean(&mix, ws.timeout_s);
                }
                for (k, b) in h.buckets.iter().enumerate() {
                    let le = if k < 11 {
                        format!("{}", DEFAULT_BUCKETS[k])
                    } else {
                        "+Inf".into()
                    };
                    set.push(
                        labels(
                            "http_request_duration_seconds_bucket",
                            &[("namespace", ns), ("job", name), ("le", &le)],
                        ),
                        t,
                        *b,
                    );
                }
                set.push(
                    labels("http_request_duration_seconds_sum", &[("namespace", ns), ("job", name)]),
                    t,
                    h.sum,
                );
                set.push(
                    labels(
                        "http_request_duration_seconds_count",
                        &[("namespace", ns), ("job", name)],
                    ),
                    t,
                    h.buckets[11],
                );
            }
            let dep = [("namespace", ns), ("deployment", name)];
            let active = ws.active.len() as f64;
            for (family, v) in [
                ("kube_deployment_spec_replicas", f64::from(ws.desired)),
                ("kube_deployment_status_replicas", active),
                ("kube_deployment_status_replicas_available", f64::from(ws.ready)),
                (
                    "kube_deployment_status_replicas_unavailable",
                    (active - f64::from(ws.ready)).max(0.0),
                ),
            ] {
                if set.wants(family) {
                    set.push(labels(family, &dep), t, v);
                }
            }
            let per_pod = [
                "kube_pod_status_phase",
                "kube_pod_container_status_restarts_total",
                "container_cpu_cfs_periods_total",
                "container_cpu_cfs_throttled_periods_total",
            ]
            .iter()
            .any(|f| set.wants(f));
            if !per_pod {
                continue;
            }
            let container = wl.template.containers.first().map_or("", |c| c.name.as_str());
            for &p in &ws.active {
                let pod = &self.cluster.pods[p.0 as usize];
                let pod_name = pod.name(name);
                if set.wants("kube_pod_status_phase") {
                    let phase = match pod.phase {
                        PodPhase::Pending => "Pending",
                        _ => "Running",
                    };
                    for ph in ["Pending", "Running", "Succeeded", "Failed", "Unknown"] {
                        set.push(
                            labels(
                                "kube_pod_status_phase",
                                &[("namespace", ns), ("pod", &pod_name), ("phase", ph)],
                            ),
                            t,
                            f64::from(u8::from(ph == phase)),
                        );
                    }
                }
                let c = [("namespace", ns), ("pod", pod_name.as_str()), ("container", container)];
                if set.wants("kube_pod_container_status_restarts_total") {
                    set.push(
                        labels("kube_pod_container_status_restarts_total", &c),
                        t,
                        f64::from(pod.restarts),
                    );
                }
                if pod.node.is_some() {
                    let (run, throttled) = self
                        .service
                        .pods
                        .get(p.0 as usize)
                        .map_or((0.0, 0.0), |l| l.cfs_at(now));
                    // 100 ms periods (`--cpu-cfs-quota-period`).
                    let per_s = 1000.0 / crate::physics::cpu::CFS_PERIOD_MS;
                    if set.wants("container_cpu_cfs_periods_total") {
                        set.push(labels("container_cpu_cfs_periods_total", &c), t, (run * per_s).floor());
                    }
                    if set.wants("container_cpu_cfs_throttled_periods_total") {
                        set.push(
                            labels("container_cpu_cfs_throttled_periods_total", &c),
                            t,
                            (throttled * per_s).floor(),
                        );
                    }
                }
            }
        }
        set.end(t);
    }
}
