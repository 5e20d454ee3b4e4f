//! One reconcile of one HPA: pre-checks, a proposal per metric, the max, normalization, conditions.
//!
//! upstream: kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go `reconcileAutoscaler`,
//! `computeReplicasForMetrics`, `computeReplicasForMetric`, `computeStatusFor*Metric`,
//! `recordInitialRecommendation`, `normalizeDesiredReplicas`, `normalizeDesiredReplicasWithBehaviors`.

use super::conditions::{ConditionMessage, ConditionReason, ConditionType, Conditions};
use super::config::HpaControllerConfig;
use super::normalize::{
    LimitingRule, NormalizationArg, ScaleEvent, TimestampedRecommendation, convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules, stabilize_recommendation, stabilize_recommendation_with_behaviors,
    store_scale_event,
};
use super::observation::{ConditionStatus, HpaObservation, MetricValues, MetricsError};
use super::replica_calculator::{
    Proposal, ProposalRule, ReadinessTiming, ReplicaCalcError, ReplicaCalculator, Tolerances,
    get_external_per_pod_metric_replicas, get_per_pod_metric_replicas,
};
use super::spec::{HpaSpec, MetricSpec, MetricTarget};
use crate::engine::{SimDuration, SimTime};
use std::fmt;
use std::sync::Arc;

/// What the controller remembers about one HPA between reconciles (upstream keeps these in maps keyed
/// by the HPA: `recommendations`, `scaleUpEvents`, `scaleDownEvents`; `lastScaleTime` is in its status).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HpaState {
    /// `None` until the first reconcile, which records an initial recommendation of the current replicas.
    pub recommendations: Option<Vec<TimestampedRecommendation>>,
    pub scale_up_events: Vec<ScaleEvent>,
    pub scale_down_events: Vec<ScaleEvent>,
    pub last_scale_time: Option<SimTime>,
    /// `spec.metrics` and their names (`MetricSpec::describe`), kept between syncs: naming each
    /// metric formatted strings on every reconcile.
    pub described: Option<(Vec<MetricSpec>, Vec<Arc<str>>)>,
}

/// The names of `metrics`, formatted once while the metrics stay the same (`described` is the
/// state's cache).
fn metric_names<'a>(
    described: &'a mut Option<(Vec<MetricSpec>, Vec<Arc<str>>)>,
    metrics: &[MetricSpec],
) -> &'a [Arc<str>] {
    if described.as_ref().is_none_or(|(m, _)| m.as_slice() != metrics) {
        let names = metrics.iter().map(|m| Arc::from(m.describe())).collect();
        *described = Some((metrics.to_vec(), names));
    }
    described.as_ref().map(|(_, n)| n.as_slice()).unwrap_or_default()
}

/// Why a metric gave no proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricFailure {
    /// The `ScalingActive` reason upstream sets for it (`FailedGetResourceMetric`, ...).
    pub reason: ConditionReason,
    /// Upstream's error chain, e.g. `failed to get cpu resource metric value: failed to get cpu utilization: ...`.
    pub message: String,
}

/// The outcome for one `spec.metrics[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricProposal {
    /// Upstream's metric name (`cpu resource utilization (percentage of request)`, `pods metric qps`, ...).
    pub metric: Arc<str>,
    pub result: Result<Proposal, MetricFailure>,
}

/// The reason recorded for a decision in `hpa.csv`: the rule that determined the desired replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionReason {
    /// `spec.replicas == 0` and `minReplicas > 0`: autoscaling is disabled.
    ScalingDisabled,
    /// Pre-check: current replicas above `maxReplicas`, set to the maximum without reading metrics.
    AboveMaxReplicas,
    /// Pre-check: current replicas below `minReplicas`, set to the minimum without reading metrics.
    BelowMinReplicas,
    /// No usable proposal (all metrics failed, or some failed and the rest would scale down).
    MetricsUnavailable(ConditionReason),
    /// Limited by a rule (`ScaleUpLimit`, `ScaleDownLimit`, `TooManyReplicas`, `TooFewReplicas`).
    Limited(ConditionReason),
    /// Held by a stabilization window (`ScaleUpStabilized`, `ScaleDownStabilized`).
    Stabilized(ConditionReason),
    /// Every metric is within tolerance.
    WithinTolerance,
    /// No change because of missing or unready pods: counting them (at 0 on a scale-up, at the target on
    /// a scale-down) brings the ratio within tolerance or reverses its direction.
    MissingOrUnreadyPods,
    /// The proposal was applied as is.
    DesiredWithinRange,
}

impl fmt::Display for DecisionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecisionReason::ScalingDisabled => f.write_str("ScalingDisabled"),
            DecisionReason::AboveMaxReplicas => f.write_str("AboveMaxReplicas"),
            DecisionReason::BelowMinReplicas => f.write_str("BelowMinReplicas"),
            DecisionReason::MetricsUnavailable(r) | DecisionReason::Limited(r) | DecisionReason::Stabilized(r) => {
                write!(f, "{r}")
            }
            DecisionReason::WithinTolerance => f.write_str("WithinTolerance"),
            DecisionReason::MissingOrUnreadyPods => f.write_str("MissingOrUnreadyPods"),
            DecisionReason::DesiredWithinRange => f.write_str("DesiredWithinRange"),
        }
    }
}

/// The result of one reconcile.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaDecision {
    /// `scale.spec.replicas` when the reconcile started.
    pub current_replicas: i32,
    /// The replicas the scale target should have (= current when not rescaling).
    pub desired_replicas: i32,
    /// The controller updates the scale subresource.
    pub scale_updated: bool,
    /// One entry per `spec.metrics[i]` (empty when a pre-check decided).
    pub proposals: Vec<MetricProposal>,
    /// Max of the proposals (prenormalized), when metrics were usable.
    pub metric_replicas: Option<i32>,
    /// After stabilization, before rate limits and min/max.
    pub stabilized_replicas: Option<i32>,
    pub reason: DecisionReason,
    /// The rule that bound the result, if one did.
    pub limiting_rule: Option<LimitingRule>,
    pub conditions: Conditions,
    /// The error the reconcile returns upstream (also when it proceeds with partial metrics).
    pub error: Option<String>,
}

/// Per-direction tolerance of an HPA: the behavior's value if set (feature `HPAConfigurableTolerance`),
/// else the cluster flag. upstream: horizontal.go `tolerancesForHpa` (v1.33+).
pub fn tolerances_for_hpa(spec: &HpaSpec, config: &HpaControllerConfig) -> Tolerances {
    let mut t = Tolerances::both(config.tolerance);
    if config.feature_gates.hpa_configurable_tolerance
        && let Some(b) = &spec.behavior
    {
        t.scale_down = b.scale_down.tolerance.unwrap_or(t.scale_down);
        t.scale_up = b.scale_up.tolerance.unwrap_or(t.scale_up);
    }
    t
}

fn unable_message(err: &str) -> String {
    format!("the HPA was unable to compute the replica count: {err}")
}

fn fail(reason: ConditionReason, message: String) -> Result<Proposal, MetricFailure> {
    Err(MetricFailure { reason, message })
}

/// One metric's proposal. upstream: horizontal.go `computeReplicasForMetric` and `computeStatusFor*Metric`.
fn compute_replicas_for_metric(
    calc: &ReplicaCalculator,
    spec: &HpaSpec,
    index: usize,
    metric: &MetricSpec,
    obs: &HpaObservation,
    tol: Tolerances,
) -> Result<Proposal, MetricFailure> {
    let spec_replicas = obs.spec_replicas;
    let fetched = || -> Result<&MetricValues, MetricsError> {
        match obs.metric_values.get(index).and_then(Option::as_ref) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e.clone()),
            None => Err(match metric {
                MetricSpec::External { .. } => MetricsError::no_external_metrics(),
                _ => MetricsError::no_custom_metrics(),
            }),
        }
    };
    match metric {
        MetricSpec::Resource { resource, target } | MetricSpec::ContainerResource { resource, target, .. } => {
            let (container, reason, what) = match metric {
                MetricSpec::ContainerResource { container, .. } => (
                    Some(&**container),
                    ConditionReason::FailedGetContainerResourceMetric,
                    "container",
                ),
                _ => (None, ConditionReason::FailedGetResourceMetric, "resource"),
            };
            let r = match *target {
                MetricTarget::AverageValue(v) => calc.get_raw_resource_replicas(
                    spec_replicas,
                    v,
                    *resource,
                    tol,
                    container,
                    &obs.pods,
                    &obs.resource_metrics,
                ),
                MetricTarget::Utilization(u) => calc.get_resource_replicas(
                    spec_replicas,
                    u,
                    *resource,
                    tol,
                    container,
                    &obs.pods,
                    &obs.resource_metrics,
                ),
                MetricTarget::Value(_) => {
                    let e = "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set";
                    return fail(reason, format!("failed to get {resource} {what} metric value: {e}"));
                }
            };
            r.or_else(|e| {
                fail(
                    reason,
                    format!("failed to get {resource} {what} metric value: failed to get {resource} utilization: {e}"),
                )
            })
        }
        MetricSpec::Pods { metric: name, target } => {
            let reason = ConditionReason::FailedGetPodsMetric;
            let MetricTarget::AverageValue(t) = *target else {
                return fail(
                    reason,
                    "failed to get pods metric value: a Pods metric needs an AverageValue target".into(),
                );
            };
            let r = match fetched() {
                Ok(MetricValues::Pods(samples)) => {
                    calc.get_metric_replicas(spec_replicas, t, name, tol, &obs.pods, samples)
                }
                Ok(_) => Err(ReplicaCalcError::PodsMetric {
                    metric: name.clone(),
                    source: MetricsError::no_custom_metrics(),
                }),
                Err(source) => Err(ReplicaCalcError::PodsMetric {
                    metric: name.clone(),
                    source,
                }),
            };
            r.or_else(|e| fail(reason, format!("failed to get pods metric value: {e}")))
        }
        MetricSpec::Object {
            metric: name,
            kind,
            name: object,
            target,
        } => {
            let reason = ConditionReason::FailedGetObjectMetric;
            let value = match fetched() {
                Ok(MetricValues::Object(v)) => Ok(*v),
                Ok(_) => Err(MetricsError::no_custom_metrics()),
                Err(e) => Err(e),
            }
            .map_err(|source| ReplicaCalcError::ObjectMetric {
                metric: name.clone(),
                kind: kind.clone(),
                namespace: spec.namespace.clone(),
                name: object.clone(),
                source,
            });
            match *target {
                MetricTarget::Value(t) => value
                    .and_then(|v| calc.get_object_metric_replicas(spec_replicas, t, v, tol, &obs.pods))
                    .or_else(|e| fail(reason, format!("failed to get object metric value: {e}"))),
                MetricTarget::AverageValue(t) => match value {
                    Ok(v) => Ok(get_per_pod_metric_replicas(obs.status_replicas, t, v, tol)),
                    Err(e) => fail(
                        reason,
                        format!("failed to get object metric value: failed to get {name} object metric: {e}"),
                    ),
                },
                MetricTarget::Utilization(_) => fail(
                    reason,
                    "failed to get object metric value: invalid object metric source: neither a value target nor an average value target was set".into(),
                ),
            }
        }
        MetricSpec::External { metric: name, target } => {
            let reason = ConditionReason::FailedGetExternalMetric;
            let values = match fetched() {
                Ok(MetricValues::External(v)) if !v.is_empty() => Ok(v.as_slice()),
                Ok(_) => Err(MetricsError::no_external_metrics()),
                Err(e) => Err(e),
            }
            .map_err(|source| ReplicaCalcError::ExternalMetric {
                namespace: spec.namespace.clone(),
                metric: name.clone(),
                source,
            });
            let r = match *target {
                MetricTarget::Value(t) => {
                    values.and_then(|v| calc.get_external_metric_replicas(spec_replicas, t, v, tol, &obs.pods))
                }
                MetricTarget::AverageValue(t) => {
                    values.map(|v| get_external_per_pod_metric_replicas(obs.status_replicas, t, v, tol))
                }
                MetricTarget::Utilization(_) => {
                    return fail(
                        reason,
                        format!(
                            "failed to get {name} external metric value: invalid external metric source: neither a value target nor an average value target was set"
                        ),
                    );
                }
            };
            r.or_else(|e| fail(reason, format!("failed to get {name} external metric value: {e}")))
        }
        MetricSpec::Unknown { type_name } => {
            // Rejected by the API server; this is the controller's default branch.
            fail(
                ConditionReason::InvalidMetricSourceType,
                format!("unknown metric source type {type_name:?}"),
            )
        }
    }
}

/// Runs one reconcile and updates `state`. Pure: the outcome depends only on the arguments.
/// upstream: horizontal.go `reconcileAutoscaler`.
pub fn reconcile(
    spec: &HpaSpec,
    config: &HpaControllerConfig,
    state: &mut HpaState,
    obs: &HpaObservation,
    now: SimTime,
) -> HpaDecision {
    let current = obs.spec_replicas;
    // A new HPA (or a restarted controller) starts its history with the current replicas.
    let recommendations = state.recommendations.get_or_insert_with(|| {
        vec![TimestampedRecommendation {
            recommendation: current,
            timestamp: now,
        }]
    });
    let min_replicas = spec.min_replicas;
    let mut d = HpaDecision {
        current_replicas: current,
        desired_replicas: current,
        scale_updated: false,
        proposals: Vec::new(),
        metric_replicas: None,
        stabilized_replicas: None,
        reason: DecisionReason::DesiredWithinRange,
        limiting_rule: None,
        conditions: Conditions::default(),
        error: None,
    };

    let desired;
    if current == 0 && min_replicas != 0 {
        // Autoscaling is disabled for this target.
        d.conditions.set(
            ConditionType::ScalingActive,
            ConditionStatus::False,
            ConditionReason::ScalingDisabled,
            "scaling is disabled since the replica count of the target is zero",
        );
        d.reason = DecisionReason::ScalingDisabled;
        return d;
    } else if current > spec.max_replicas {
        // Pre-checks bypass metrics, stabilization and rate limits.
        desired = spec.max_replicas;
        d.reason = DecisionReason::AboveMaxReplicas;
        d.limiting_rule = Some(LimitingRule::MaxReplicas(spec.max_replicas));
    } else if current < min_replicas {
        desired = min_replicas;
        d.reason = DecisionReason::BelowMinReplicas;
        d.limiting_rule = Some(LimitingRule::MinReplicas(min_replicas));
    } else {
        let calc = ReplicaCalculator {
            timing: ReadinessTiming {
                now,
                cpu_initialization_period: config.cpu_initialization_period,
                initial_readiness_delay: config.initial_readiness_delay,
            },
            pod_level_resources: config.feature_gates.pod_level_resources,
        };
        let tol = tolerances_for_hpa(spec, config);

        // computeReplicasForMetrics: max over valid proposals.
        let mut replicas = 0i32;
        let names = metric_names(&mut state.described, &spec.metrics);
        let mut metric_name: Arc<str> = Arc::from("");
        let mut first_invalid: Option<MetricFailure> = None;
        let mut invalid = 0usize;
        for (i, m) in spec.metrics.iter().enumerate() {
            let result = compute_replicas_for_metric(&calc, spec, i, m, obs, tol);
            match &result {
                Err(f) => {
                    invalid += 1;
                    first_invalid.get_or_insert_with(|| f.clone());
                }
                Ok(p) => {
                    if replicas == 0 || p.replicas > replicas {
                        replicas = p.replicas;
                        metric_name = names[i].clone();
                    }
                }
            }
            d.proposals.push(MetricProposal {
                metric: names[i].clone(),
                result,
            });
        }
        let invalid_error = first_invalid.as_ref().map(|f| {
            format!(
                "invalid metrics ({invalid} invalid out of {}), first error is: {}",
                spec.metrics.len(),
                f.message
            )
        });
        // All metrics failed, or some failed and the rest would scale down: no scaling on partial data.
        if invalid >= spec.metrics.len() || (invalid > 0 && replicas < current) {
            let (reason, message) = match first_invalid {
                Some(f) => (f.reason, unable_message(&f.message)),
                None => (
                    ConditionReason::InvalidMetricSourceType,
                    unable_message("no metrics configured"),
                ),
            };
            d.conditions
                .set(ConditionType::ScalingActive, ConditionStatus::False, reason, message);
            d.reason = DecisionReason::MetricsUnavailable(reason);
            d.error = Some(format!(
                "failed to compute desired number of replicas based on listed metrics: {}",
                invalid_error.unwrap_or_else(|| "no metrics".into())
            ));
            return d;
        }
        d.error = invalid_error;
        d.conditions.set(
            ConditionType::ScalingActive,
            ConditionStatus::True,
            ConditionReason::ValidMetricFound,
            ConditionMessage::ValidMetricFound(metric_name),
        );
        let prenormalized = replicas.max(0);
        d.metric_replicas = Some(prenormalized);

        let (stabilized, stabilized_reason, limited) = match &spec.behavior {
            None => {
                let s = stabilize_recommendation(recommendations, prenormalized, config.downscale_stabilization, now);
                let l = convert_desired_replicas_with_rules(
                    current,
                    s,
                    min_replicas,
                    spec.max_replicas,
                    config.scale_up_limit,
                );
                (s, ConditionReason::ScaleDownStabilized, l)
            }
            Some(b) => {
                // maybeInitScaleDownStabilizationWindow: an unset window comes from the controller flag.
                let down_window = match b.scale_down.stabilization_window_seconds {
                    Some(s) => SimDuration::from_secs(u64::try_from(s).unwrap_or(0)),
                    None => config.downscale_stabilization,
                };
                let up_window = SimDuration::from_secs(
                    u64::try_from(b.scale_up.stabilization_window_seconds.unwrap_or(0)).unwrap_or(0),
                );
                let (s, reason) = stabilize_recommendation_with_behaviors(
                    recommendations,
                    current,
                    prenormalized,
                    up_window,
                    down_window,
                    now,
                );
                let args = NormalizationArg {
                    scale_up: &b.scale_up,
                    scale_down: &b.scale_down,
                    min_replicas,
                    max_replicas: spec.max_replicas,
                    current_replicas: current,
                    desired_replicas: s,
                };
                let l = convert_desired_replicas_with_behavior_rate(
                    &args,
                    &state.scale_up_events,
                    &state.scale_down_events,
                    now,
                );
                (s, reason, l)
            }
        };
        d.stabilized_replicas = Some(stabilized);
        if stabilized != prenormalized {
            let message = if stabilized_reason == ConditionReason::ScaleUpStabilized {
                "recent recommendations were lower than current one, applying the lowest recent recommendation"
            } else {
                "recent recommendations were higher than current one, applying the highest recent recommendation"
            };
            d.conditions.set(
                ConditionType::AbleToScale,
                ConditionStatus::True,
                stabilized_reason,
                message,
            );
        } else {
            d.conditions.set(
                ConditionType::AbleToScale,
                ConditionStatus::True,
                ConditionReason::ReadyForNewScale,
                "recommended size matches current size",
            );
        }
        let limited_status = if limited.replicas == stabilized {
            ConditionStatus::False
        } else {
            ConditionStatus::True
        };
        d.conditions.set(
            ConditionType::ScalingLimited,
            limited_status,
            limited.reason,
            limit_message(limited.reason),
        );
        desired = limited.replicas;
        d.limiting_rule = limited.rule;
        d.reason = if limited.reason != ConditionReason::DesiredWithinRange {
            DecisionReason::Limited(limited.reason)
        } else if stabilized != prenormalized {
            DecisionReason::Stabilized(stabilized_reason)
        } else if desired == current && proposals_hold(&d.proposals, &[ProposalRule::WithinTolerance]) {
            DecisionReason::WithinTolerance
        } else if desired == current
            && proposals_hold(
                &d.proposals,
                &[ProposalRule::WithinTolerance, ProposalRule::RebalancedHold],
            )
        {
            DecisionReason::MissingOrUnreadyPods
        } else {
            DecisionReason::DesiredWithinRange
        };
    }

    if desired != current {
        d.desired_replicas = desired;
        d.scale_updated = true;
        d.conditions.set(
            ConditionType::AbleToScale,
            ConditionStatus::True,
            ConditionReason::SucceededRescale,
            ConditionMessage::SucceededRescale(desired),
        );
        store_scale_event(
            spec.behavior.as_ref(),
            &mut state.scale_up_events,
            &mut state.scale_down_events,
            current,
            desired,
            now,
        );
        state.last_scale_time = Some(now);
    }
    d
}

/// Every metric proposal succeeded with one of `rules`.
fn proposals_hold(proposals: &[MetricProposal], rules: &[ProposalRule]) -> bool {
    proposals
        .iter()
        .all(|p| p.result.as_ref().is_ok_and(|p| rules.contains(&p.rule)))
}

fn limit_message(reason: ConditionReason) -> &'static str {
    match reason {
        ConditionReason::ScaleUpLimit => "the desired replica count is increasing faster than the maximum scale rate",
        ConditionReason::ScaleDownLimit => "the desired replica count is decreasing faster than the maximum scale rate",
        ConditionReason::TooManyReplicas => "the desired replica count is more than the maximum replica count",
        ConditionReason::TooFewReplicas => "the desired replica count is less than the minimum replica count",
        _ => "the desired count is within the acceptable range",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::hpa::observation::{
        ObservedPod, PodMetricSample, PodPhase, ReadyCondition, ResourceAmounts,
    };
    use crate::controllers::hpa::spec::{Behavior, ScaleTargetRef, ScalingRules};
    use std::sync::Arc;

    const NOW: SimTime = SimTime(100_000_000);

    fn spec(min: i32, max: i32, metrics: Vec<MetricSpec>, behavior: Option<Behavior>) -> HpaSpec {
        HpaSpec {
            name: "web".into(),
            namespace: "default".into(),
            scale_target: ScaleTargetRef {
                api_version: None,
                kind: "Deployment".into(),
                name: "web".into(),
            },
            min_replicas: min,
            max_replicas: max,
            metrics,
            behavior,
        }
    }
    fn rps(target: i64) -> MetricSpec {
        MetricSpec::Pods {
            metric: "rps".into(),
            target: MetricTarget::AverageValue(target),
        }
    }
    fn external(target: i64) -> MetricSpec {
        MetricSpec::External {
            metric: "queue".into(),
            target: MetricTarget::Value(target),
        }
    }
    /// `n` ready pods each reporting `per_pod` (milli) for every Pods metric; `external` values for External.
    fn obs(n: i32, per_pod: i64, metrics: &[MetricSpec], external: Option<i64>) -> HpaObservation {
        let pods: Vec<ObservedPod> = (0..n)
            .map(|i| ObservedPod {
                id: i as u64,
                name: Arc::from(format!("p{i}")),
                phase: PodPhase::Running,
                deleting: false,
                start_time: Some(SimTime(0)),
                ready: Some(ReadyCondition {
                    status: ConditionStatus::True,
                    last_transition: SimTime(0),
                }),
                containers: vec![],
                sidecars: vec![],
                pod_requests: ResourceAmounts::NONE,
            })
            .collect();
        let samples: Vec<PodMetricSample> = (0..n)
            .map(|i| PodMetricSample {
                pod: i as u64,
                value_milli: per_pod,
                timestamp: NOW,
                window: SimDuration::from_secs(60),
            })
            .collect();
        HpaObservation {
            spec_replicas: n,
            status_replicas: n,
            pods,
            resource_metrics: vec![],
            metric_values: metrics
                .iter()
                .map(|m| match m {
                    MetricSpec::Pods { .. } => Some(Ok(MetricValues::Pods(samples.clone()))),
                    MetricSpec::External { .. } => Some(
                        external
                            .map(|v| MetricValues::External(vec![v]))
                            .ok_or_else(MetricsError::no_external_metrics),
                    ),
                    _ => None,
                })
                .collect(),
        }
    }
    fn warm() -> HpaState {
        HpaState {
            recommendations: Some(vec![]),
            ..HpaState::default()
        }
    }

    #[test]
    fn pre_checks_bypass_metrics() {
        let cfg = HpaControllerConfig::default();
        let s = spec(2, 5, vec![rps(10_000)], None);
        // (spec replicas, desired, scale_updated, reason)
        let cases = [
            (0, 0, false, DecisionReason::ScalingDisabled),
            (7, 5, true, DecisionReason::AboveMaxReplicas),
            (1, 2, true, DecisionReason::BelowMinReplicas),
        ];
        for (replicas, want, updated, reason) in cases {
            let mut o = obs(replicas, 0, &s.metrics, None);
            o.metric_values.clear(); // metrics are not read
            let d = reconcile(&s, &cfg, &mut warm(), &o, NOW);
            assert_eq!(
                (d.desired_replicas, d.scale_updated, d.reason),
                (want, updated, reason),
                "{replicas}"
            );
        }
    }

    #[test]
    fn metrics_combine_by_max_with_partial_failure_rules() {
        let cfg = HpaControllerConfig::default();
        // rps: 4 pods at 20 vs 10 -> 8 ; external 30 vs 10 over 4 ready pods -> 12 ; max 12, then the
        // legacy cap max(2 x 4, 4) = 8
        let s = spec(1, 50, vec![rps(10_000), external(10_000)], None);
        let d = reconcile(&s, &cfg, &mut warm(), &obs(4, 20_000, &s.metrics, Some(30_000)), NOW);
        assert_eq!(d.metric_replicas, Some(12));
        assert_eq!(
            (d.desired_replicas, d.reason),
            (8, DecisionReason::Limited(ConditionReason::ScaleUpLimit))
        );
        assert_eq!(
            d.conditions.get(ConditionType::ScalingActive).map(|c| c.reason),
            Some(ConditionReason::ValidMetricFound)
        );
        // the external metric fails and the valid one scales up: proceed, with the error reported
        let d = reconcile(&s, &cfg, &mut warm(), &obs(4, 20_000, &s.metrics, None), NOW);
        assert_eq!(d.desired_replicas, 8);
        assert!(
            d.error
                .as_deref()
                .is_some_and(|e| e.contains("invalid metrics (1 invalid out of 2)")),
            "{:?}",
            d.error
        );
        // it fails and the valid one would scale down: no scaling at all
        let d = reconcile(&s, &cfg, &mut warm(), &obs(4, 2_000, &s.metrics, None), NOW);
        assert_eq!((d.desired_replicas, d.scale_updated), (4, false));
        assert_eq!(
            d.reason,
            DecisionReason::MetricsUnavailable(ConditionReason::FailedGetExternalMetric)
        );
        let c = d.conditions.get(ConditionType::ScalingActive).unwrap();
        assert_eq!(c.status, ConditionStatus::False);
        assert!(c.message.to_string().starts_with("the HPA was unable to compute the replica count: failed to get queue external metric value: unable to get external metric default/queue/nil: no metrics returned from external metrics API"), "{}", c.message);
    }

    #[test]
    fn new_hpa_records_an_initial_recommendation() {
        let cfg = HpaControllerConfig::default();
        let s = spec(1, 10, vec![rps(10_000)], None);
        let mut state = HpaState::default();
        // 4 pods at 1 vs 10 -> proposal 1, but the initial recommendation 4 (now) holds it
        let d = reconcile(&s, &cfg, &mut state, &obs(4, 1_000, &s.metrics, None), NOW);
        assert_eq!((d.metric_replicas, d.desired_replicas), (Some(1), 4));
        assert_eq!(
            d.reason,
            DecisionReason::Stabilized(ConditionReason::ScaleDownStabilized)
        );
        let recs = state.recommendations.as_ref().unwrap();
        assert_eq!(recs.iter().map(|r| r.recommendation).collect::<Vec<_>>(), vec![4, 1]);
        // five minutes later the initial entry is outside the window (the slot is reused)
        let later = NOW + SimDuration::from_secs(300);
        let d = reconcile(&s, &cfg, &mut state, &obs(4, 1_000, &s.metrics, None), later);
        assert_eq!(d.desired_replicas, 1);
        assert_eq!(state.last_scale_time, Some(later));
        assert!(state.scale_down_events.is_empty(), "no events without behavior");
    }

    #[test]
    fn behavior_path_stores_scale_events_and_uses_them() {
        let cfg = HpaControllerConfig::default();
        let b = Behavior {
            scale_up: ScalingRules::default_scale_up(),
            scale_down: ScalingRules::default_scale_down(),
        };
        let s = spec(1, 100, vec![rps(10_000)], Some(b));
        let mut state = warm();
        // 2 pods at 100 vs 10 -> 20; default up policies: max(2 + 4, 2 x 2) = 6
        let d = reconcile(&s, &cfg, &mut state, &obs(2, 100_000, &s.metrics, None), NOW);
        assert_eq!(
            (d.desired_replicas, d.reason),
            (6, DecisionReason::Limited(ConditionReason::ScaleUpLimit))
        );
        assert_eq!(state.scale_up_events.len(), 1);
        assert_eq!(state.scale_up_events[0].replica_change, 4);
        // 5 s later (within the 15 s period) the period started at 2: same limit 6 -> no change
        let d = reconcile(
            &s,
            &cfg,
            &mut state,
            &obs(6, 100_000, &s.metrics, None),
            NOW + SimDuration::from_secs(5),
        );
        assert_eq!((d.desired_replicas, d.scale_updated), (6, false));
        // 15 s after the event it no longer counts: max(6 + 4, 12) = 12
        let d = reconcile(
            &s,
            &cfg,
            &mut state,
            &obs(6, 100_000, &s.metrics, None),
            NOW + SimDuration::from_secs(15),
        );
        assert_eq!(d.desired_replicas, 12);
    }

    #[test]
    fn per_direction_tolerance_from_behavior() {
        let mut cfg = HpaControllerConfig::default();
        let mut up = ScalingRules::default_scale_up();
        up.tolerance = Some(0.5);
        let s = spec(
            1,
            100,
            vec![rps(10_000)],
            Some(Behavior {
                scale_up: up,
                scale_down: ScalingRules::default_scale_down(),
            }),
        );
        // 14 vs 10: ratio 1.4 is within the 50 % scale-up tolerance
        let d = reconcile(&s, &cfg, &mut warm(), &obs(4, 14_000, &s.metrics, None), NOW);
        assert_eq!((d.desired_replicas, d.reason), (4, DecisionReason::WithinTolerance));
        // with the feature gate off the cluster tolerance (0.1) applies: ceil(1.4 x 4) = 6
        cfg.feature_gates.hpa_configurable_tolerance = false;
        let d = reconcile(&s, &cfg, &mut warm(), &obs(4, 14_000, &s.metrics, None), NOW);
        assert_eq!(d.desired_replicas, 6);
    }
}
