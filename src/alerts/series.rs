//! The simulated Prometheus series: what capsim exposes, under the names and labels of the
//! exporters users already alert on, sampled at every timeline instant (the "scrape").
//!
//! | series | labels | source it imitates |
//! |---|---|---|
//! | `http_requests_total` (counter) | `namespace`, `job`, `code` = `200` · `503` (no capacity) · `504` (slower than the timeout) | an instrumented service / ingress |
//! | `http_request_duration_seconds_bucket`, `_sum`, `_count` | `namespace`, `job`, `le` | a client_golang histogram with the default buckets |
//! | `kube_deployment_spec_replicas`, `kube_deployment_status_replicas`, `kube_deployment_status_replicas_available`, `kube_deployment_status_replicas_unavailable` | `namespace`, `deployment` | kube-state-metrics |
//! | `kube_pod_status_phase` | `namespace`, `pod`, `phase` | kube-state-metrics (1 for the pod's phase, 0 for the others) |
//! | `kube_pod_container_status_restarts_total` | `namespace`, `pod`, `container` | kube-state-metrics |
//! | `container_cpu_cfs_periods_total`, `container_cpu_cfs_throttled_periods_total` | `namespace`, `pod`, `container` | cAdvisor (100 ms CFS periods; a pod that wants more than its limit is throttled in every period) |
//!
//! Only the families a rule reads are recorded. A series that disappears (a deleted pod) gets a
//! stale marker at the next scrape, as Prometheus writes one.

use std::collections::{BTreeMap, HashMap};

/// A series' labels, `__name__` included.
pub type Labels = BTreeMap<String, String>;

/// client_golang's `DefBuckets` (prometheus/histogram.go), seconds.
pub const DEFAULT_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Every family capsim can expose.
pub const FAMILIES: &[&str] = &[
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "http_request_duration_seconds_sum",
    "http_request_duration_seconds_count",
    "kube_deployment_spec_replicas",
    "kube_deployment_status_replicas",
    "kube_deployment_status_replicas_available",
    "kube_deployment_status_replicas_unavailable",
    "kube_pod_status_phase",
    "kube_pod_container_status_restarts_total",
    "container_cpu_cfs_periods_total",
    "container_cpu_cfs_throttled_periods_total",
];

/// One series: its labels and samples (`None` = a stale marker), in time order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<(u64, Option<f64>)>,
}

impl Series {
    /// The value an instant selector sees at `t`: the latest sample in `[t − lookback, t]`,
    /// unless it is a stale marker.
    pub fn instant(&self, t: u64, lookback: u64) -> Option<f64> {
        let k = self.points.partition_point(|p| p.0 <= t);
        let &(ts, v) = self.points.get(k.checked_sub(1)?)?;
        if ts + lookback < t {
            return None;
        }
        v
    }

    /// The samples in `[from, to]`, stale markers left out.
    pub fn range(&self, from: u64, to: u64) -> Vec<(u64, f64)> {
        let a = self.points.partition_point(|p| p.0 < from);
        let b = self.points.partition_point(|p| p.0 <= to);
        self.points[a..b]
            .iter()
            .filter_map(|&(t, v)| v.map(|v| (t, v)))
            .collect()
    }
}

/// Every series of a run.
#[derive(Clone, Debug, Default)]
pub struct SeriesSet {
    pub series: Vec<Series>,
    by_labels: HashMap<Labels, usize>,
    by_name: HashMap<String, Vec<usize>>,
    /// The families to record (those the rules read).
    pub wanted: std::collections::BTreeSet<String>,
    /// Scrape instants so far.
    pub scrapes: Vec<u64>,
}

impl SeriesSet {
    pub fn wants(&self, family: &str) -> bool {
        self.wanted.contains(family)
    }

    /// Series indices of metric `name` (every series for `None`).
    pub fn by_name<'a>(&'a self, name: Option<&str>) -> Box<dyn Iterator<Item = usize> + 'a> {
        match name {
            Some(n) => Box::new(self.by_name.get(n).into_iter().flatten().copied()),
            None => Box::new(0..self.series.len()),
        }
    }

    /// Starts the scrape at `t`.
    pub fn begin(&mut self, t: u64) {
        self.scrapes.push(t);
    }

    /// Records `value` for the series `labels` at `t`.
    pub fn push(&mut self, labels: Labels, t: u64, value: f64) {
        let i = match self.by_labels.get(&labels) {
            Some(&i) => i,
            None => {
                let i = self.series.len();
                let name = labels.get("__name__").cloned().unwrap_or_default();
                self.by_name.entry(name).or_default().push(i);
                self.by_labels.insert(labels.clone(), i);
                self.series.push(Series {
                    labels,
                    points: Vec::new(),
                });
                i
            }
        };
        self.series[i].points.push((t, Some(value)));
    }

    /// Ends the scrape at `t`: series that were not scraped get a stale marker.
    pub fn end(&mut self, t: u64) {
        for s in &mut self.series {
            if let Some(&(last, Some(_))) = s.points.last()
                && last < t
            {
                s.points.push((t, None));
            }
        }
    }
}

/// Labels from pairs.
pub fn labels(name: &str, pairs: &[(&str, &str)]) -> Labels {
    let mut l = Labels::new();
    l.insert("__name__".into(), name.into());
    for (k, v) in pairs {
        l.insert((*k).into(), (*v).into());
    }
    l
}
