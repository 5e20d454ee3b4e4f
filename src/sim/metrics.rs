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
//! A pod's mean CPU over a window is a difference of its CPU integral, which the service model
//! keeps ([`super::service::PodLoad`]); its memory is the working set at the scrape.

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
}

impl World<'_> {
    /// Scrapes every running pod of the workloads that an HPA reads.
    pub(super) fn scrape(&mut self, now: SimTime, window: SimDuration) {
        self.advance_service(now);
        for wi in 0..self.workloads.len() {
            if !self.metrics.scraped[wi] {
                continue;
            }
            let from = self.metrics.marks[wi].at;
            for k in 0..self.workloads[wi].active.len() {
                let p = self.workloads[wi].active[k];
                let pod = &self.cluster.pods[p.0 as usize];
                let integral = self.pod_cpu_integral(p, now);
                let mem = self.service.pods.get(p.0 as usize).map_or(0.0, |l| l.mem);
                let sample = match (pod.phase, pod.started) {
                    (PodPhase::Ready | PodPhase::Running, Some(started)) if started < now => {
                        // The window began at the last scrape, or at the container's start.
                        let begin = started.max(from);
                        let span = (now - begin).as_secs_f64();
                        let mark = if started > from { 0.0 } else { pod.usage_mark };
                        let cpu = (integral - mark) / span;
                        Some((cpu, mem))
                    }
                    _ => None,
                };
                self.cluster.pods[p.0 as usize].usage_mark = integral;
                self.metrics.samples[p.0 as usize] = sample.map(|(cpu_m, mem)| ResourceSample {
                    timestamp: now,
                    window,
                    cpu_m,
                    mem,
                });
            }
            self.metrics.marks[wi] = ScrapeMark { at: now };
        }
    }
}
