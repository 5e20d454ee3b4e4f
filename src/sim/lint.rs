//! Lints `capsim validate` prints: settings that parse and validate but make a run answer a
//! different question than the user meant — each drawn from a way real clusters go wrong.

use crate::controllers::hpa::observation::MetricResource;
use crate::controllers::hpa::spec::{HpaSpec, MetricSpec, MetricTarget};
use crate::model::{Resources, WorkloadKind};
use crate::scenario::Scenario;

use super::autoscaling::HpaRuntime;

/// The largest allocatable any node of the scenario can have: static nodes, Cluster Autoscaler
/// node groups, and — under Karpenter — any catalog type. `None` when no node can ever exist.
pub(crate) fn largest_node(sc: &Scenario) -> Option<Resources> {
    let mut all: Vec<Resources> = sc
        .static_nodes
        .iter()
        .filter_map(|n| sc.catalog.get(&n.instance_type))
        .map(|t| t.allocatable())
        .collect();
    if let crate::controllers::provisioner::ProvisionerConfig::Registered { kind, .. } = &sc.provisioner {
        all.extend((kind.possible_nodes)(sc));
    }
    all.into_iter()
        .reduce(|a, b| Resources::new(a.cpu_m.max(b.cpu_m), a.mem.max(b.mem), a.pods.max(b.pods)))
}

/// Every lint for a scenario whose world was built (so its HPAs are validated).
pub fn lints(sc: &Scenario, hpas: &[HpaRuntime]) -> Vec<String> {
    let mut out = Vec::new();
    let has_workloads = sc.workloads.iter().any(|w| w.kind != WorkloadKind::DaemonSet);
    match largest_node(sc) {
        None if has_workloads => out
            .push("no node can ever exist (no static nodes, node groups or NodePools): every pod stays Pending".into()),
        None => {}
        Some(max) => {
            for w in sc.workloads.iter().filter(|w| w.kind != WorkloadKind::DaemonSet) {
                let r = w.template.requests();
                if !r.fits_in(&max) {
                    out.push(format!(
                        "{} requests {}m CPU / {} MiB per pod, more than any node the scenario can have allocates \
                         ({}m / {} MiB): its pods stay Pending",
                        w.name,
                        r.cpu_m,
                        r.mem >> 20,
                        max.cpu_m,
                        max.mem >> 20
                    ));
                }
            }
        }
    }
    for w in sc
        .workloads
        .iter()
        .filter(|w| w.kind.is_replicated() && w.traffic.is_some())
    {
        let svc = &w.service;
        if svc.cpu_per_rps_m > 0.0 && w.template.limit_cpu_m().is_none() && svc.max_rps_per_pod.is_none() {
            let missing: Vec<&str> = w
                .template
                .containers
                .iter()
                .chain(&w.template.sidecars)
                .filter(|c| c.limit_cpu_m.is_none())
                .map(|c| c.name.as_str())
                .collect();
            out.push(format!(
                "{}: container(s) {} set no resources.limits.cpu: a pod's capacity is bounded only by the CPU its node has \
                 left (shared by CFS weight with its neighbours), so how many requests/s it serves depends on what else \
                 runs there",
                w.name,
                missing.join(", ")
            ));
        }
    }
    for h in hpas {
        lint_hpa(sc, h, &h.spec, &mut out);
        lint_hpa_vpa(sc, h, &mut out);
    }
    if let Some(max) = largest_node(sc) {
        for v in &sc.vpas {
            for (i, p) in v.spec.policies.iter().enumerate() {
                let (cpu, mem) = (p.min_allowed.cpu_m.unwrap_or(0), p.min_allowed.mem.unwrap_or(0));
                if cpu > max.cpu_m || mem > max.mem {
                    out.push(format!(
                        "VerticalPodAutoscaler {}: resourcePolicy.containerPolicies[{i}].minAllowed ({cpu}m / {} MiB) \
                         is more than any node the scenario can have allocates ({}m / {} MiB): once it applies, pods \
                         stay Pending",
                        v.spec.name,
                        mem >> 20,
                        max.cpu_m,
                        max.mem >> 20
                    ));
                }
            }
        }
    }
    out
}

/// An HPA scaling on CPU or memory utilization of a workload whose VPA sets that resource's
/// requests: each changes the other's input (kubernetes/autoscaler#6060, #8493; the VPA README's
/// "Known limitations" says not to combine them on CPU or memory).
fn lint_hpa_vpa(sc: &Scenario, h: &HpaRuntime, out: &mut Vec<String>) {
    use crate::controllers::vpa::spec::UpdateMode;
    let Some(v) = sc.vpas.iter().find(|v| v.target == h.target) else {
        return;
    };
    if v.spec.update_mode == UpdateMode::Off {
        return;
    }
    let w = &sc.workloads[h.target];
    let controls = |r: MetricResource| {
        w.template.containers.iter().any(|c| {
            v.spec.policy(&c.name).is_none_or(|p| {
                !p.off
                    && match r {
                        MetricResource::Cpu => p.cpu,
                        MetricResource::Memory => p.memory,
                    }
            })
        })
    };
    for m in &h.spec.metrics {
        let resource = match m {
            MetricSpec::Resource {
                resource,
                target: MetricTarget::Utilization(_),
            }
            | MetricSpec::ContainerResource {
                resource,
                target: MetricTarget::Utilization(_),
                ..
            } => *resource,
            _ => continue,
        };
        if controls(resource) {
            out.push(format!(
                "HorizontalPodAutoscaler {} scales {} on {resource} utilization while VerticalPodAutoscaler {} sets its \
                 {resource} requests: the VPA lowers requests toward usage, the HPA reads higher utilization and adds \
                 replicas, per-pod usage falls and the VPA lowers requests again (kubernetes/autoscaler#6060); scale the \
                 HPA on a Pods/External metric, or give the VPA controlledResources without {resource}",
                h.name, w.name, v.spec.name
            ));
        }
    }
}

fn lint_hpa(sc: &Scenario, h: &HpaRuntime, spec: &HpaSpec, out: &mut Vec<String>) {
    let w = &sc.workloads[h.target];
    if spec.min_replicas == spec.max_replicas {
        out.push(format!(
            "HorizontalPodAutoscaler {}: minReplicas == maxReplicas ({}): it never scales",
            h.name, spec.max_replicas
        ));
    }
    for m in &spec.metrics {
        let (resource, target) = match m {
            MetricSpec::Resource { resource, target } => (*resource, target),
            MetricSpec::ContainerResource { resource, target, .. } => (*resource, target),
            _ => continue,
        };
        if matches!(target, MetricTarget::Utilization(_)) {
            // upstream: replica_calculator.go calculateRequests fails on a container without a request.
            let missing: Vec<&str> = w
                .template
                .containers
                .iter()
                .filter(|c| match resource {
                    MetricResource::Cpu => c.requests.cpu_m == 0,
                    MetricResource::Memory => c.requests.mem == 0,
                })
                .map(|c| c.name.as_str())
                .collect();
            if !missing.is_empty() {
                out.push(format!(
                    "HorizontalPodAutoscaler {}: container(s) {} of {} have no {resource} request, so {resource} \
                     utilization cannot be computed (FailedGetResourceMetric) and the HPA never scales",
                    h.name,
                    missing.join(", "),
                    w.name
                ));
            }
        }
        let per_request = match resource {
            MetricResource::Cpu => w.service.cpu_per_rps_m,
            MetricResource::Memory => w.service.mem_per_rps,
        };
        if w.traffic.is_some() && per_request == 0.0 {
            out.push(format!(
                "HorizontalPodAutoscaler {}: scales on {resource} but spec.workloads.{}.perRequest.{resource} is 0, \
                 so {resource} does not grow with traffic",
                h.name, w.name
            ));
        }
    }
}
