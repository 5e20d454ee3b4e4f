//! `spec.faults`: what goes wrong during a run — a zone outage, a window of insufficient
//! capacity for some offerings, a spot interruption storm.
//!
//! ```yaml
//! spec:
//!   faults:
//!     - zoneOutage: {zone: us-east-1a, at: 30m, for: 45m}
//!     - insufficientCapacity: {instanceType: m5.xlarge, capacityType: spot, zone: us-east-1b, at: 0s, for: 2h}
//!     - spotInterruptions: {at: 1h, for: 10m, fraction: 0.5, zone: us-east-1c}
//!     - metricsOutage: {series: s0-aws-sqs-queue-orders, at: 2h, for: 10m}
//! ```
//!
//! A zone outage: the zone's nodes stop reporting; after the node lifecycle controller's grace
//! period they are NotReady (their pods stop serving), and after each pod's not-ready /
//! unreachable toleration (300 s unless the pod says otherwise, as the DefaultTolerationSeconds
//! admission plugin sets) its pods are evicted; no launch succeeds in the zone until it ends.
//! Insufficient capacity: launches of the matching offerings fail for the window (every field
//! but the window is optional: absent matches all). A spot storm: each matching spot node alive
//! during the window is reclaimed with probability `fraction`, at a uniform instant within it
//! (with the usual two-minute warning). A metrics outage: reads of the named metric series
//! (`spec.series`, or a KEDA trigger's metric; absent: every named series) fail for the window,
//! as when Prometheus or the queue's API is unreachable — the HPA gets the metrics API's error
//! and a KEDA ScaledObject counts failures toward its `fallback`.

use super::error::{ErrorKind, ScenarioError};
use super::raw::RawDocument;
use super::schema::{CapacityTypeSpec, DurationField};
use crate::engine::{SimDuration, SimTime};
use crate::model::CapacityType;
use serde::Deserialize;

/// upstream: kube-controller-manager `--node-monitor-grace-period`, 50 s since Kubernetes 1.32
/// (kubernetes/kubernetes#121793; 40 s before): how long a node may stop posting status before
/// the node lifecycle controller marks it NotReady (Unknown) and its pods not Ready.
pub const NODE_MONITOR_GRACE_PERIOD: SimDuration = SimDuration::from_secs(50);

/// A validated fault.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    ZoneOutage {
        zone: String,
        from: SimTime,
        to: SimTime,
    },
    InsufficientCapacity {
        instance_type: Option<String>,
        capacity_type: Option<CapacityType>,
        zone: Option<String>,
        from: SimTime,
        to: SimTime,
    },
    SpotInterruptions {
        instance_type: Option<String>,
        zone: Option<String>,
        fraction: f64,
        from: SimTime,
        to: SimTime,
    },
    MetricsOutage {
        /// The series whose reads fail; `None`: every named series.
        series: Option<String>,
        from: SimTime,
        to: SimTime,
    },
}

impl Fault {
    /// The window `[from, to)`.
    pub fn window(&self) -> (SimTime, SimTime) {
        match self {
            Fault::ZoneOutage { from, to, .. }
            | Fault::InsufficientCapacity { from, to, .. }
            | Fault::SpotInterruptions { from, to, .. }
            | Fault::MetricsOutage { from, to, .. } => (*from, *to),
        }
    }

    pub fn describe(&self) -> String {
        let (from, to) = self.window();
        let span = format!("{:.0}–{:.0} s", from.as_secs_f64(), to.as_secs_f64());
        match self {
            Fault::ZoneOutage { zone, .. } => format!("zone outage {zone} {span}"),
            Fault::InsufficientCapacity {
                instance_type,
                capacity_type,
                zone,
                ..
            } => format!(
                "insufficient capacity {} {} {} {span}",
                instance_type.as_deref().unwrap_or("*"),
                capacity_type.map_or("*", |c| c.as_str()),
                zone.as_deref().unwrap_or("*"),
            ),
            Fault::SpotInterruptions { zone, fraction, .. } => format!(
                "spot interruptions {:.0} % in {} {span}",
                fraction * 100.0,
                zone.as_deref().unwrap_or("every zone")
            ),
            Fault::MetricsOutage { series, .. } => format!(
                "metrics outage {} {span}",
                series.as_deref().unwrap_or("(every named series)")
            ),
        }
    }
}

/// Does some fault make a read of the named series `name` fail at `now`?
pub fn series_unavailable(faults: &[Fault], name: &str, now: SimTime) -> bool {
    faults.iter().any(|f| match f {
        Fault::MetricsOutage { series, from, to } => {
            *from <= now && now < *to && series.as_deref().is_none_or(|s| s == name)
        }
        _ => false,
    })
}

/// Does some fault make a launch of this offering fail at `now`?
pub fn launch_fails(
    faults: &[Fault],
    instance_type: &str,
    capacity_type: CapacityType,
    zone: &str,
    now: SimTime,
) -> bool {
    faults.iter().any(|f| {
        let (from, to) = f.window();
        if now < from || now >= to {
            return false;
        }
        match f {
            Fault::ZoneOutage { zone: z, .. } => z == zone,
            Fault::InsufficientCapacity {
                instance_type: t,
                capacity_type: c,
                zone: z,
                ..
            } => {
                t.as_deref().is_none_or(|t| t == instance_type)
                    && c.is_none_or(|c| c == capacity_type)
                    && z.as_deref().is_none_or(|z| z == zone)
            }
            Fault::SpotInterruptions { .. } | Fault::MetricsOutage { .. } => false,
        }
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultSpec {
    zone_outage: Option<ZoneOutageSpec>,
    insufficient_capacity: Option<CapacitySpec>,
    spot_interruptions: Option<StormSpec>,
    metrics_outage: Option<OutageSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OutageSpec {
    series: Option<String>,
    at: DurationField,
    #[serde(rename = "for")]
    span: DurationField,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ZoneOutageSpec {
    zone: String,
    at: DurationField,
    #[serde(rename = "for")]
    span: DurationField,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CapacitySpec {
    instance_type: Option<String>,
    capacity_type: Option<CapacityTypeSpec>,
    zone: Option<String>,
    at: DurationField,
    #[serde(rename = "for")]
    span: DurationField,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StormSpec {
    instance_type: Option<String>,
    zone: Option<String>,
    fraction: f64,
    at: DurationField,
    #[serde(rename = "for")]
    span: DurationField,
}

fn capacity_type(c: CapacityTypeSpec) -> CapacityType {
    match c {
        CapacityTypeSpec::OnDemand => CapacityType::OnDemand,
        CapacityTypeSpec::Spot => CapacityType::Spot,
    }
}

/// Validates `spec.faults`: exactly one kind per entry, a window inside the run, a fraction in
/// (0, 1], an instance type the catalog has.
pub fn parse(
    doc: &RawDocument,
    specs: &[FaultSpec],
    duration: SimDuration,
    catalog: &crate::cloud::Catalog,
) -> Result<Vec<Fault>, ScenarioError> {
    let mut out = Vec::new();
    for (i, f) in specs.iter().enumerate() {
        let path = format!("spec.faults[{i}]");
        let kinds = [
            f.zone_outage.is_some(),
            f.insufficient_capacity.is_some(),
            f.spot_interruptions.is_some(),
            f.metrics_outage.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(doc.error(
                ErrorKind::Invalid,
                path,
                "must set exactly one of zoneOutage, insufficientCapacity, spotInterruptions, metricsOutage",
            ));
        }
        let window =
            |sub: &str, at: &DurationField, span: &DurationField| -> Result<(SimTime, SimTime), ScenarioError> {
                if span.0 == SimDuration::ZERO {
                    return Err(doc.error(ErrorKind::Invalid, format!("{path}.{sub}.for"), "must be > 0"));
                }
                if at.0 >= duration {
                    return Err(doc.error(
                        ErrorKind::Invalid,
                        format!("{path}.{sub}.at"),
                        format!("must be before the end of the run ({duration}), got {}", at.0),
                    ));
                }
                Ok((SimTime::ZERO + at.0, SimTime::ZERO + at.0 + span.0))
            };
        let known_type = |sub: &str, t: &Option<String>| -> Result<(), ScenarioError> {
            match t {
                Some(t) if catalog.get(t).is_none() => Err(doc.error(
                    ErrorKind::Reference,
                    format!("{path}.{sub}.instanceType"),
                    format!("unknown instance type {t:?} (not in the catalog)"),
                )),
                _ => Ok(()),
            }
        };
        if let Some(z) = &f.zone_outage {
            if z.zone.is_empty() {
                return Err(doc.error(
                    ErrorKind::Invalid,
                    format!("{path}.zoneOutage.zone"),
                    "must not be empty",
                ));
            }
            let (from, to) = window("zoneOutage", &z.at, &z.span)?;
            out.push(Fault::ZoneOutage {
                zone: z.zone.clone(),
                from,
                to,
            });
        }
        if let Some(c) = &f.insufficient_capacity {
            known_type("insufficientCapacity", &c.instance_type)?;
            let (from, to) = window("insufficientCapacity", &c.at, &c.span)?;
            out.push(Fault::InsufficientCapacity {
                instance_type: c.instance_type.clone(),
                capacity_type: c.capacity_type.map(capacity_type),
                zone: c.zone.clone(),
                from,
                to,
            });
        }
        if let Some(s) = &f.spot_interruptions {
            known_type("spotInterruptions", &s.instance_type)?;
            if !(s.fraction > 0.0 && s.fraction <= 1.0) {
                return Err(doc.error(
                    ErrorKind::Invalid,
                    format!("{path}.spotInterruptions.fraction"),
                    format!("must be in (0, 1], got {}", s.fraction),
                ));
            }
            let (from, to) = window("spotInterruptions", &s.at, &s.span)?;
            out.push(Fault::SpotInterruptions {
                instance_type: s.instance_type.clone(),
                zone: s.zone.clone(),
                fraction: s.fraction,
                from,
                to,
            });
        }
        if let Some(m) = &f.metrics_outage {
            let (from, to) = window("metricsOutage", &m.at, &m.span)?;
            out.push(Fault::MetricsOutage {
                series: m.series.clone(),
                from,
                to,
            });
        }
    }
    Ok(out)
}

/// Every `metricsOutage.series` names a series the scenario has (after KEDA's triggers added
/// theirs).
pub fn check_series(
    doc: &RawDocument,
    faults: &[Fault],
    series: &[super::series::NamedSeries],
) -> Result<(), ScenarioError> {
    for (i, f) in faults.iter().enumerate() {
        if let Fault::MetricsOutage { series: Some(name), .. } = f
            && !series.iter().any(|s| &s.name == name)
        {
            return Err(doc.error(
                ErrorKind::Reference,
                format!("spec.faults[{i}].metricsOutage.series"),
                format!(
                    "no named series {name:?} (series: {:?}; a KEDA trigger's is s<index>-<type>-<what>)",
                    series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>()
                ),
            ));
        }
    }
    Ok(())
}
