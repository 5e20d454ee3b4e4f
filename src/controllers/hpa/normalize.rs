//! Normalization of the metric-based proposal: stabilization, rate limits, min/max.
//!
//! upstream: kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go — `normalizeDesiredReplicas`,
//! `stabilizeRecommendation`, `convertDesiredReplicasWithRules`, `calculateScaleUpLimit` (legacy path, no
//! `spec.behavior`) and `normalizeDesiredReplicasWithBehaviors`, `stabilizeRecommendationWithBehaviors`,
//! `convertDesiredReplicasWithBehaviorRate`, `calculateScaleUpLimitWithScalingRules`,
//! `calculateScaleDownLimitWithBehaviors`, `getReplicasChangePerPeriod`, `storeScaleEvent`,
//! `markScaleEventsOutdated` (behavior path).
//!
//! Time: upstream compares timestamps with `After(now - d)`. With integer time an entry exactly `d` old
//! is treated as outside the window (and "old"), which is what upstream sees in practice: entries are
//! stamped a little before the next sync reads them.

use super::conditions::ConditionReason;
use super::config::LegacyScaleUpLimit;
use super::spec::{Behavior, PolicyType, ScalingPolicy, ScalingRules, SelectPolicy};
use crate::engine::{SimDuration, SimTime};
use std::fmt;

/// A recommendation remembered for stabilization (upstream `timestampedRecommendation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampedRecommendation {
    pub recommendation: i32,
    pub timestamp: SimTime,
}

/// A past scale change (upstream `timestampedScaleEvent`); `replica_change` is positive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleEvent {
    pub replica_change: i32,
    pub timestamp: SimTime,
    pub outdated: bool,
}

/// `true` iff `t` is strictly newer than `d` before `now` (upstream `t.After(now.Add(-d))`).
fn within(t: SimTime, d: SimDuration, now: SimTime) -> bool {
    now.since(t) < d
}

fn secs(s: i32) -> SimDuration {
    SimDuration::from_secs(u64::try_from(s).unwrap_or(0))
}

/// Which rule bound the desired replicas (for explanations and `hpa.csv`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LimitingRule {
    MinReplicas(i32),
    MaxReplicas(i32),
    /// Legacy path: `max(factor × current, minimum)`.
    LegacyScaleUpCap(i32),
    /// A `behavior.scaleUp` policy (or `None` when `selectPolicy: Disabled`) with its resulting limit.
    ScaleUpPolicy {
        policy: Option<ScalingPolicy>,
        limit: i32,
    },
    /// A `behavior.scaleDown` policy (or `None` when `selectPolicy: Disabled`) with its resulting limit.
    ScaleDownPolicy {
        policy: Option<ScalingPolicy>,
        limit: i32,
    },
}

impl fmt::Display for LimitingRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitingRule::MinReplicas(n) => write!(f, "minReplicas={n}"),
            LimitingRule::MaxReplicas(n) => write!(f, "maxReplicas={n}"),
            LimitingRule::LegacyScaleUpCap(n) => write!(f, "legacy cap max(2x,4)={n}"),
            LimitingRule::ScaleUpPolicy { policy: Some(p), limit } => write!(f, "scaleUp {p} -> {limit}"),
            LimitingRule::ScaleUpPolicy { policy: None, .. } => write!(f, "scaleUp Disabled"),
            LimitingRule::ScaleDownPolicy { policy: Some(p), limit } => write!(f, "scaleDown {p} -> {limit}"),
            LimitingRule::ScaleDownPolicy { policy: None, .. } => write!(f, "scaleDown Disabled"),
        }
    }
}

/// Result of a limiting step: replicas, the `ScalingLimited` reason, and the binding rule if any.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limited {
    pub replicas: i32,
    pub reason: ConditionReason,
    pub rule: Option<LimitingRule>,
}

// ---------------------------------------------------------------- legacy path (no spec.behavior)

/// Max over the window in both directions; stores the prenormalized value, reusing the slot of the
/// last entry older than the window. upstream: horizontal.go `stabilizeRecommendation`.
pub fn stabilize_recommendation(
    recommendations: &mut Vec<TimestampedRecommendation>,
    prenormalized: i32,
    window: SimDuration,
    now: SimTime,
) -> i32 {
    let mut max_recommendation = prenormalized;
    let mut old_index = None;
    for (i, rec) in recommendations.iter().enumerate() {
        if !within(rec.timestamp, window, now) {
            old_index = Some(i);
        } else if rec.recommendation > max_recommendation {
            max_recommendation = rec.recommendation;
        }
    }
    let entry = TimestampedRecommendation {
        recommendation: prenormalized,
        timestamp: now,
    };
    match old_index {
        Some(i) => recommendations[i] = entry,
        None => recommendations.push(entry),
    }
    max_recommendation
}

/// `max(factor × current, minimum)`. upstream: horizontal.go `calculateScaleUpLimit`.
pub fn calculate_scale_up_limit(current_replicas: i32, limit: LegacyScaleUpLimit) -> i32 {
    (limit.factor * f64::from(current_replicas)).max(limit.minimum) as i32
}

/// Clamp to `[minReplicas, min(maxReplicas, scale-up cap)]`; the minimum is checked first.
/// upstream: horizontal.go `convertDesiredReplicasWithRules`.
pub fn convert_desired_replicas_with_rules(
    current_replicas: i32,
    desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
    limit: LegacyScaleUpLimit,
) -> Limited {
    let scale_up_limit = calculate_scale_up_limit(current_replicas, limit);
    let (maximum_allowed, reason, rule) = if max_replicas > scale_up_limit {
        (
            scale_up_limit,
            ConditionReason::ScaleUpLimit,
            LimitingRule::LegacyScaleUpCap(scale_up_limit),
        )
    } else {
        (
            max_replicas,
            ConditionReason::TooManyReplicas,
            LimitingRule::MaxReplicas(max_replicas),
        )
    };
    if desired_replicas < min_replicas {
        return Limited {
            replicas: min_replicas,
            reason: ConditionReason::TooFewReplicas,
            rule: Some(LimitingRule::MinReplicas(min_replicas)),
        };
    }
    if desired_replicas > maximum_allowed {
        return Limited {
            replicas: maximum_allowed,
            reason,
            rule: Some(rule),
        };
    }
    Limited {
        replicas: desired_replicas,
        reason: ConditionReason::DesiredWithinRange,
        rule: None,
    }
}

// ---------------------------------------------------------------- behavior path

/// Raise current to the lowest recommendation within the scale-up window, then cap at the highest
/// within the scale-down window; stores the prenormalized value, reusing the last slot older than both
/// windows. Returns the stabilized value and the reason to report if it differs from the prenormalized one.
/// upstream: horizontal.go `stabilizeRecommendationWithBehaviors`.
pub fn stabilize_recommendation_with_behaviors(
    recommendations: &mut Vec<TimestampedRecommendation>,
    current_replicas: i32,
    prenormalized: i32,
    up_window: SimDuration,
    down_window: SimDuration,
    now: SimTime,
) -> (i32, ConditionReason) {
    let mut up_recommendation = prenormalized;
    let mut down_recommendation = prenormalized;
    let mut old_index = None;
    for (i, rec) in recommendations.iter().enumerate() {
        let in_up = within(rec.timestamp, up_window, now);
        let in_down = within(rec.timestamp, down_window, now);
        if in_up {
            up_recommendation = up_recommendation.min(rec.recommendation);
        }
        if in_down {
            down_recommendation = down_recommendation.max(rec.recommendation);
        }
        if !in_up && !in_down {
            old_index = Some(i);
        }
    }
    let mut recommendation = current_replicas;
    if recommendation < up_recommendation {
        recommendation = up_recommendation;
    }
    if recommendation > down_recommendation {
        recommendation = down_recommendation;
    }
    let entry = TimestampedRecommendation {
        recommendation: prenormalized,
        timestamp: now,
    };
    match old_index {
        Some(i) => recommendations[i] = entry,
        None => recommendations.push(entry),
    }
    let reason = if prenormalized >= current_replicas {
        ConditionReason::ScaleUpStabilized
    } else {
        ConditionReason::ScaleDownStabilized
    };
    (recommendation, reason)
}

/// Sum of changes strictly newer than `period_seconds`. upstream: horizontal.go `getReplicasChangePerPeriod`.
pub fn get_replicas_change_per_period(period_seconds: i32, events: &[ScaleEvent], now: SimTime) -> i32 {
    let period = secs(period_seconds);
    events
        .iter()
        .filter(|e| within(e.timestamp, period, now))
        .fold(0i32, |a, e| a.saturating_add(e.replica_change))
}

fn period_start(current: i32, policy: &ScalingPolicy, up: &[ScaleEvent], down: &[ScaleEvent], now: SimTime) -> i32 {
    let added = get_replicas_change_per_period(policy.period_seconds, up, now);
    let deleted = get_replicas_change_per_period(policy.period_seconds, down, now);
    current.saturating_sub(added).saturating_add(deleted)
}

/// The highest replica count the scale-up policies allow, and the index of the policy that set it
/// (`None` when `selectPolicy: Disabled`). upstream: horizontal.go `calculateScaleUpLimitWithScalingRules`.
pub fn calculate_scale_up_limit_with_scaling_rules(
    current_replicas: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: SimTime,
) -> (i32, Option<usize>) {
    let min_change = match rules.select_policy {
        SelectPolicy::Disabled => return (current_replicas, None),
        SelectPolicy::Min => true,
        SelectPolicy::Max => false,
    };
    let mut result = if min_change { i32::MAX } else { i32::MIN };
    let mut chosen = None;
    for (i, policy) in rules.policies.iter().enumerate() {
        let start = period_start(current_replicas, policy, up_events, down_events, now);
        let proposed = match policy.kind {
            PolicyType::Pods => start.saturating_add(policy.value),
            // Rounded up so that a small percentage still adds a pod.
            PolicyType::Percent => (f64::from(start) * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i32,
        };
        // Max: the largest limit (most change); Min: the smallest.
        let better = if min_change {
            proposed < result
        } else {
            proposed > result
        };
        if better || chosen.is_none() {
            result = if min_change {
                result.min(proposed)
            } else {
                result.max(proposed)
            };
            chosen = Some(i);
        }
    }
    (result, chosen)
}

/// The lowest replica count the scale-down policies allow, and the policy that set it.
/// Percent policies truncate. upstream: horizontal.go `calculateScaleDownLimitWithBehaviors`.
pub fn calculate_scale_down_limit_with_behaviors(
    current_replicas: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: SimTime,
) -> (i32, Option<usize>) {
    let min_change = match rules.select_policy {
        SelectPolicy::Disabled => return (current_replicas, None),
        SelectPolicy::Min => true,
        SelectPolicy::Max => false,
    };
    let mut result = if min_change { i32::MIN } else { i32::MAX };
    let mut chosen = None;
    for (i, policy) in rules.policies.iter().enumerate() {
        let start = period_start(current_replicas, policy, up_events, down_events, now);
        let proposed = match policy.kind {
            PolicyType::Pods => start.saturating_sub(policy.value),
            PolicyType::Percent => (f64::from(start) * (1.0 - f64::from(policy.value) / 100.0)) as i32,
        };
        // Max (most change) keeps the lowest limit; Min (least change) the highest.
        let better = if min_change {
            proposed > result
        } else {
            proposed < result
        };
        if better || chosen.is_none() {
            result = if min_change {
                result.max(proposed)
            } else {
                result.min(proposed)
            };
            chosen = Some(i);
        }
    }
    (result, chosen)
}

/// Inputs of the behavior rate limiter (upstream `NormalizationArg`).
#[derive(Clone, Copy, Debug)]
pub struct NormalizationArg<'a> {
    pub scale_up: &'a ScalingRules,
    pub scale_down: &'a ScalingRules,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: i32,
    pub desired_replicas: i32,
}

/// Applies the policies of the direction of change, then min/max; unchanged replicas are not clamped.
/// upstream: horizontal.go `convertDesiredReplicasWithBehaviorRate`.
pub fn convert_desired_replicas_with_behavior_rate(
    args: &NormalizationArg<'_>,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    now: SimTime,
) -> Limited {
    let within_range = Limited {
        replicas: args.desired_replicas,
        reason: ConditionReason::DesiredWithinRange,
        rule: None,
    };
    if args.desired_replicas > args.current_replicas {
        let (mut limit, idx) = calculate_scale_up_limit_with_scaling_rules(
            args.current_replicas,
            up_events,
            down_events,
            args.scale_up,
            now,
        );
        // Never below current: wait for old scale-up events to age out.
        limit = limit.max(args.current_replicas);
        let policy = idx.and_then(|i| args.scale_up.policies.get(i).copied());
        let (maximum_allowed, reason, rule) = if args.max_replicas > limit {
            (
                limit,
                ConditionReason::ScaleUpLimit,
                LimitingRule::ScaleUpPolicy { policy, limit },
            )
        } else {
            (
                args.max_replicas,
                ConditionReason::TooManyReplicas,
                LimitingRule::MaxReplicas(args.max_replicas),
            )
        };
        if args.desired_replicas > maximum_allowed {
            return Limited {
                replicas: maximum_allowed,
                reason,
                rule: Some(rule),
            };
        }
    } else if args.desired_replicas < args.current_replicas {
        let (mut limit, idx) = calculate_scale_down_limit_with_behaviors(
            args.current_replicas,
            up_events,
            down_events,
            args.scale_down,
            now,
        );
        limit = limit.min(args.current_replicas);
        let policy = idx.and_then(|i| args.scale_down.policies.get(i).copied());
        let (minimum_allowed, reason, rule) = if args.min_replicas < limit {
            (
                limit,
                ConditionReason::ScaleDownLimit,
                LimitingRule::ScaleDownPolicy { policy, limit },
            )
        } else {
            (
                args.min_replicas,
                ConditionReason::TooFewReplicas,
                LimitingRule::MinReplicas(args.min_replicas),
            )
        };
        if args.desired_replicas < minimum_allowed {
            return Limited {
                replicas: minimum_allowed,
                reason,
                rule: Some(rule),
            };
        }
    }
    within_range
}

/// Marks events older than the longest policy period as reusable. upstream: `markScaleEventsOutdated`.
pub fn mark_scale_events_outdated(events: &mut [ScaleEvent], longest_period_seconds: i32, now: SimTime) {
    let period = secs(longest_period_seconds);
    for e in events.iter_mut() {
        if !within(e.timestamp, period, now) {
            e.outdated = true;
        }
    }
}

/// Records a scale change (behavior path only), reusing the last outdated slot of its direction.
/// upstream: horizontal.go `storeScaleEvent`.
pub fn store_scale_event(
    behavior: Option<&Behavior>,
    up_events: &mut Vec<ScaleEvent>,
    down_events: &mut Vec<ScaleEvent>,
    prev_replicas: i32,
    new_replicas: i32,
    now: SimTime,
) {
    // Without behavior the events would never be read.
    let Some(behavior) = behavior else { return };
    let (events, rules) = if new_replicas > prev_replicas {
        (up_events, &behavior.scale_up)
    } else {
        (down_events, &behavior.scale_down)
    };
    mark_scale_events_outdated(events, rules.longest_policy_period(), now);
    let event = ScaleEvent {
        replica_change: new_replicas.abs_diff(prev_replicas).min(i32::MAX as u32) as i32,
        timestamp: now,
        outdated: false,
    };
    match events.iter().rposition(|e| e.outdated) {
        Some(i) => events[i] = event,
        None => events.push(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: SimTime = SimTime(1_000_000_000);
    fn ago(s: u64) -> SimTime {
        SimTime(NOW.0 - s * 1000)
    }
    fn rec(r: i32, age: u64) -> TimestampedRecommendation {
        TimestampedRecommendation {
            recommendation: r,
            timestamp: ago(age),
        }
    }
    fn ev(change: i32, age: u64) -> ScaleEvent {
        ScaleEvent {
            replica_change: change,
            timestamp: ago(age),
            outdated: false,
        }
    }
    fn pol(kind: PolicyType, value: i32, period_seconds: i32) -> ScalingPolicy {
        ScalingPolicy {
            kind,
            value,
            period_seconds,
        }
    }
    fn rules(select: SelectPolicy, policies: Vec<ScalingPolicy>) -> ScalingRules {
        ScalingRules {
            stabilization_window_seconds: Some(0),
            select_policy: select,
            policies,
            tolerance: None,
        }
    }

    #[test]
    fn legacy_rules_table() {
        let prod = LegacyScaleUpLimit::default();
        // (current, desired, min, max, replicas, reason)
        let cases = [
            // cap max(2*3, 4) = 6 < max 10: 20 -> 6 ScaleUpLimit
            (3, 20, 1, 10, 6, ConditionReason::ScaleUpLimit),
            // cap max(2*1, 4) = 4: the minimum wins for small deployments
            (1, 9, 1, 10, 4, ConditionReason::ScaleUpLimit),
            // cap 2*10 = 20 >= max 12: 15 -> 12 TooManyReplicas
            (10, 15, 1, 12, 12, ConditionReason::TooManyReplicas),
            // min checked first: 1 < 2 -> 2
            (3, 1, 2, 8, 2, ConditionReason::TooFewReplicas),
            (5, 7, 3, 8, 7, ConditionReason::DesiredWithinRange),
        ];
        for (cur, des, min, max, want, reason) in cases {
            let l = convert_desired_replicas_with_rules(cur, des, min, max, prod);
            assert_eq!((l.replicas, l.reason), (want, reason), "{cur} {des} {min} {max}");
        }
    }

    #[test]
    fn legacy_stabilization_takes_max_in_window_and_reuses_old_slot() {
        // window 300 s: 5 (60 s old) is in the window, 10 (600 s) is not -> max(3, 5) = 5
        let mut recs = vec![rec(10, 600), rec(5, 60)];
        assert_eq!(
            stabilize_recommendation(&mut recs, 3, SimDuration::from_secs(300), NOW),
            5
        );
        assert_eq!(recs.iter().map(|r| r.recommendation).collect::<Vec<_>>(), vec![3, 5]);
        // it also raises a scale-up: 8 in the window beats prenormalized 6
        let mut recs = vec![rec(8, 100)];
        assert_eq!(
            stabilize_recommendation(&mut recs, 6, SimDuration::from_secs(300), NOW),
            8
        );
        assert_eq!(recs.len(), 2);
        // an entry exactly one window old is outside the window
        let mut recs = vec![rec(9, 300)];
        assert_eq!(
            stabilize_recommendation(&mut recs, 2, SimDuration::from_secs(300), NOW),
            2
        );
    }

    #[test]
    fn behavior_stabilization_never_moves_against_the_windows() {
        let w300 = SimDuration::from_secs(300);
        // up window 300: min(1 (new), 3) = 1 -> upRec 1; down window 300: max(1, 3) = 3; current 2 stays 2
        let mut recs = vec![rec(2, 6000), rec(3, 180)];
        let (r, reason) = stabilize_recommendation_with_behaviors(&mut recs, 2, 1, w300, w300, NOW);
        assert_eq!((r, reason), (2, ConditionReason::ScaleDownStabilized));
        // slot of the 6000 s entry reused
        assert_eq!(recs.iter().map(|r| r.recommendation).collect::<Vec<_>>(), vec![1, 3]);
        // scale-up window 300 s, recs 6,5,9 in window -> upRec min(100,6,5,9)=5; down window 0 -> 100
        let mut recs = vec![rec(10, 6000), rec(6, 60), rec(5, 120), rec(9, 180)];
        let (r, _) = stabilize_recommendation_with_behaviors(&mut recs, 1, 100, w300, SimDuration::ZERO, NOW);
        assert_eq!(r, 5);
    }

    #[test]
    fn scale_limits_table() {
        let min_rules = rules(
            SelectPolicy::Min,
            vec![pol(PolicyType::Pods, 2, 60), pol(PolicyType::Percent, 50, 60)],
        );
        // up from 1: Pods 1+2=3, Percent ceil(1*1.5)=2; Min -> 2
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(1, &[], &[], &min_rules, NOW).0,
            2
        );
        // down from 5: Pods 5-2=3, Percent trunc(5*0.5)=2; Min (least change) -> 3
        assert_eq!(
            calculate_scale_down_limit_with_behaviors(5, &[], &[], &min_rules, NOW).0,
            3
        );
        let max_rules = rules(
            SelectPolicy::Max,
            vec![pol(PolicyType::Pods, 2, 60), pol(PolicyType::Percent, 50, 60)],
        );
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(1, &[], &[], &max_rules, NOW),
            (3, Some(0))
        );
        assert_eq!(
            calculate_scale_down_limit_with_behaviors(5, &[], &[], &max_rules, NOW),
            (2, Some(1))
        );
        // events within the period shift the period start: up events 1@100s, 5@60s, 9@20s with Pods 150/120s:
        // start = 100 - 15 = 85, limit 235
        let r = rules(SelectPolicy::Max, vec![pol(PolicyType::Pods, 150, 120)]);
        let up = [ev(1, 100), ev(5, 60), ev(9, 20)];
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(100, &up, &[], &r, NOW).0,
            235
        );
        // an event exactly one period old no longer counts: 60 s period -> only 9@20s -> 91 + 150
        let r60 = rules(SelectPolicy::Max, vec![pol(PolicyType::Pods, 150, 60)]);
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(100, &up, &[], &r60, NOW).0,
            241
        );
        let disabled = rules(SelectPolicy::Disabled, vec![pol(PolicyType::Pods, 150, 60)]);
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(7, &up, &[], &disabled, NOW),
            (7, None)
        );
    }

    #[test]
    fn behavior_rate_table() {
        let up = ScalingRules::default_scale_up();
        let down = ScalingRules::default_scale_down();
        let pct = rules(SelectPolicy::Max, vec![pol(PolicyType::Percent, 100, 60)]);
        // (up rules, down rules, current, desired, min, max, replicas, reason)
        let cases = [
            // default up: max(3+4, ceil(3*2)=6) = 7 -> 20 capped at 7
            (&up, &down, 3, 20, 1, 100, 7, ConditionReason::ScaleUpLimit),
            // 100 %/60 s doubles: 10 -> 20
            (&pct, &down, 10, 50, 1, 100, 20, ConditionReason::ScaleUpLimit),
            // max below the policy limit
            (&pct, &down, 10, 50, 1, 15, 15, ConditionReason::TooManyReplicas),
            // default down 100 %: limit trunc(10*0)=0, min 2 binds
            (&up, &down, 10, 1, 2, 100, 2, ConditionReason::TooFewReplicas),
            // unchanged replicas are not clamped even outside [min, max]
            (&up, &down, 10, 10, 12, 100, 10, ConditionReason::DesiredWithinRange),
        ];
        for (u, d, cur, des, min, max, want, reason) in cases {
            let args = NormalizationArg {
                scale_up: u,
                scale_down: d,
                min_replicas: min,
                max_replicas: max,
                current_replicas: cur,
                desired_replicas: des,
            };
            let l = convert_desired_replicas_with_behavior_rate(&args, &[], &[], NOW);
            assert_eq!((l.replicas, l.reason), (want, reason), "{cur}->{des}");
        }
    }

    #[test]
    fn store_scale_event_reuses_last_outdated_slot() {
        let b = Behavior {
            scale_up: rules(
                SelectPolicy::Max,
                vec![pol(PolicyType::Pods, 10, 60), pol(PolicyType::Percent, 100, 30)],
            ),
            scale_down: ScalingRules::default_scale_down(),
        };
        let mut up = vec![ev(8, 29), ev(6, 59), ev(7, 61), ev(9, 61)];
        let mut down = vec![];
        store_scale_event(Some(&b), &mut up, &mut down, 10, 15, NOW);
        let got: Vec<_> = up.iter().map(|e| (e.replica_change, e.outdated)).collect();
        assert_eq!(got, vec![(8, false), (6, false), (7, true), (5, false)]);
        assert!(down.is_empty());
        // no behavior: nothing stored
        store_scale_event(None, &mut up, &mut down, 10, 5, NOW);
        assert!(down.is_empty());
    }
}
