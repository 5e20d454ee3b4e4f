//! metrics-server: per-pod CPU and memory samples, each the mean usage over its window.
//!
//! upstream: kubernetes-sigs/metrics-server. The binary's `--metric-resolution` default is 60 s
//! (cmd/metrics-server/app/options/options.go), but the official manifest
//! (manifests/base/deployment.yaml) — what `kubectl apply -f components.yaml`, the Helm chart and
//! the EKS add-on install — sets `--metric-resolution=15s`. capsim defaults to 15 s because that
//! is what clusters run; set `metricsServer.metricResolution: 60s` to model the bare binary.
//! A sample's window is the resolution and its timestamp the scrape time (pkg/storage/pod.go
//! stores the interval between two consecutive kubelet scrapes).
//!
//! All ready pods of a workload share demand evenly, so they use the same CPU at any instant; the
//! world keeps one integral of per-ready-pod CPU per workload and a pod's mean over a window is a
//! difference of that integral. Pods that are running but not ready receive no traffic and use
//! their idle CPU.

use super::World;
use crate::cluster::PodPhase;
use crate::engine::{SimDuration, SimTime};

/// `--metric-resolution` of the official manifest (see module docs).
pub const DEFAULT_METRIC_RESOLUTION: SimDuration = SimDuration::from_secs(15);

/// One pod's `PodMetrics` item.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResourceSample {
    pub timestamp: SimTime,
    pub window: SimDuration,
    /// Mean CPU over the window, millicores.
    pub cpu_m: f64,
    /// Memory working set at the scrape, bytes.
    pub mem: f64,
}

/// metrics-server's state in the world.
#[derive(Clone, Debug, Default)]
pub struct MetricsServer {
    /// The latest sample per pod (indexed by pod id).
    pub samples: Vec<Option<ResourceSample>>,
    /// Workloads whose pods it scrapes (those an HPA reads), by workload index.
    pub scraped: Vec<bool>,
    /// Per workload: the integral at the last scrape.
    pub marks: Vec<ScrapeMark>,
}

impl MetricsServer {
    pub fn new(workloads: usize) -> MetricsServer {
        MetricsServer {
            samples: Vec::new(),
            scraped: vec![false; workloads],
            marks: vec![ScrapeMark::default(); workloads],
        }
    }
}

/// Per-workload bookkeeping between scrapes.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScrapeMark {
    pub at: SimTime,
    pub cpu_integral: f64,
}

impl World<'_> {
    /// Scrapes every running pod of the workloads that an HPA reads.
    pub(super) fn scrape(&mut self, now: SimTime, window: SimDuration) {
        for wi in 0..self.workloads.len() {
            if !self.metrics.scraped[wi] {
                continue;
            }
            super::integrate(&mut self.workloads[wi], now);
            let ws = &self.workloads[wi];
            let svc = &self.sc.workloads[wi].service;
            let mark = self.metrics.marks[wi];
            let from = mark.at;
            for &p in &ws.active {
                let pod = &self.cluster.pods[p.0 as usize];
                let sample = match (pod.phase, pod.started, pod.ready) {
                    (PodPhase::Ready, _, Some(ready)) if ready <= from => {
                        let span = (now - from).as_secs_f64();
                        let cpu = if span > 0.0 {
                            (ws.cpu_integral - mark.cpu_integral) / span
                        } else {
                            ws.cpu_per_pod
                        };
                        Some((cpu, ws.mem_per_pod))
                    }
                    (PodPhase::Ready, started, Some(ready)) => {
                        // Idle from the later of (start, window start) to Ready, loaded since.
                        let begin = started.unwrap_or(ready).max(from);
                        let span = (now - begin).as_secs_f64();
                        let idle_part = (ready - begin).as_secs_f64() * svc.idle_cpu_m;
                        let loaded = ws.cpu_integral - pod.usage_mark;
                        let cpu = if span > 0.0 {
                            (idle_part + loaded) / span
                        } else {
                            ws.cpu_per_pod
                        };
                        Some((cpu, ws.mem_per_pod))
                    }
                    (PodPhase::Running, Some(started), _) if started < now => Some((svc.idle_cpu_m, svc.idle_mem)),
                    _ => None,
                };
                self.metrics.samples[p.0 as usize] = sample.map(|(cpu_m, mem)| ResourceSample {
                    timestamp: now,
                    window,
                    cpu_m,
                    mem,
                });
            }
            self.metrics.marks[wi] = ScrapeMark {
                at: now,
                cpu_integral: ws.cpu_integral,
            };
        }
    }
}
