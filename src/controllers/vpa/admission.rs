//! The VPA admission controller: a new pod's containers get the recommendation's target as
//! requests, and limits scaled in proportion (`controlledValues: RequestsAndLimits`).
//!
//! upstream: vertical-pod-autoscaler/pkg/admission-controller/resource/pod/recommendation/
//! recommendation_provider.go (`GetContainersResources`) and pkg/utils/vpa/limit_and_request_scaling.go
//! (`GetProportionalLimit`: limit × newRequest / originalRequest).

use super::spec::{Recommendation, VpaSpec};
use crate::model::PodTemplate;

/// upstream: limit_and_request_scaling.go `scaleQuantityProportionally` (integer arithmetic,
/// rounded down; a container without a request keeps its limit).
fn proportional(limit: Option<i64>, original_request: i64, new_request: i64) -> Option<i64> {
    let l = limit?;
    if original_request == 0 {
        return Some(l);
    }
    Some(((l as i128 * new_request as i128) / original_request as i128) as i64)
}

/// The recommendation as it applies to a pod of `template`: under `controlledValues:
/// RequestsOnly` target and bounds are capped at the container's limit (a request may not
/// exceed it). upstream: pkg/utils/vpa/capping.go `getCappedRecommendationForContainer` →
/// `capRecommendationToContainerLimit`, applied by both the admission controller and the
/// updater's priority calculator (LimitRanges are not modelled).
pub fn for_pod(
    template: &PodTemplate,
    vpa: &VpaSpec,
    recs: &[(String, Recommendation)],
) -> Vec<(String, Recommendation)> {
    recs.iter()
        .map(|(name, r)| {
            let mut r = *r;
            let limits_too = vpa.policy(name).is_none_or(|p| p.limits_too);
            if let (false, Some(c)) = (limits_too, template.containers.iter().find(|c| c.name == *name)) {
                for a in [&mut r.target, &mut r.lower, &mut r.upper] {
                    if let Some(l) = c.limit_cpu_m {
                        a.cpu_m = a.cpu_m.min(l);
                    }
                    if let Some(l) = c.limit_mem {
                        a.mem = a.mem.min(l);
                    }
                }
            }
            (name.clone(), r)
        })
        .collect()
}

/// The template with the recommendations applied to the containers they name. Returns `None`
/// when nothing changes.
pub fn apply(template: &PodTemplate, vpa: &VpaSpec, recs: &[(String, Recommendation)]) -> Option<PodTemplate> {
    let recs = for_pod(template, vpa, recs);
    let recs = recs.as_slice();
    let mut t = template.clone();
    let mut changed = false;
    for c in t.containers.iter_mut() {
        let Some((_, r)) = recs.iter().find(|(n, _)| *n == c.name) else {
            continue;
        };
        let limits_too = vpa.policy(&c.name).is_none_or(|p| p.limits_too);
        if r.cpu && c.requests.cpu_m != r.target.cpu_m {
            if limits_too {
                c.limit_cpu_m = proportional(c.limit_cpu_m, c.requests.cpu_m, r.target.cpu_m);
            }
            c.requests.cpu_m = r.target.cpu_m;
            changed = true;
        }
        if r.memory && c.requests.mem != r.target.mem {
            if limits_too {
                c.limit_mem = proportional(c.limit_mem, c.requests.mem, r.target.mem);
            }
            c.requests.mem = r.target.mem;
            changed = true;
        }
    }
    changed.then_some(t)
}
