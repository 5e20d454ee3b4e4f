//! Property tests of the HPA normalization (small case counts: the whole suite must stay fast).

use capsim::controllers::hpa::config::LegacyScaleUpLimit;
use capsim::controllers::hpa::normalize::{
    NormalizationArg, ScaleEvent, convert_desired_replicas_with_behavior_rate, convert_desired_replicas_with_rules,
};
use capsim::controllers::hpa::spec::{PolicyType, ScalingPolicy, ScalingRules, SelectPolicy};
use capsim::engine::SimTime;
use proptest::prelude::*;

const NOW: SimTime = SimTime(10_000_000);

fn rules_strategy() -> impl Strategy<Value = ScalingRules> {
    (
        prop_oneof![
            Just(SelectPolicy::Max),
            Just(SelectPolicy::Min),
            Just(SelectPolicy::Disabled)
        ],
        prop::collection::vec((any::<bool>(), 1i32..500, 1i32..1800), 1..4),
    )
        .prop_map(|(select_policy, ps)| ScalingRules {
            stabilization_window_seconds: Some(0),
            select_policy,
            policies: ps
                .into_iter()
                .map(|(pods, value, period_seconds)| ScalingPolicy {
                    kind: if pods { PolicyType::Pods } else { PolicyType::Percent },
                    value,
                    period_seconds,
                })
                .collect(),
            tolerance: None,
        })
}

fn events_strategy() -> impl Strategy<Value = Vec<ScaleEvent>> {
    prop::collection::vec((1i32..50, 0u64..2000), 0..5).prop_map(|v| {
        v.into_iter()
            .map(|(c, age)| ScaleEvent {
                replica_change: c,
                timestamp: SimTime(NOW.0 - age * 1000),
                outdated: false,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Legacy path: with current in [min, max] (the reconcile pre-checks guarantee it), the result is
    /// within [minReplicas, maxReplicas] and never above max(2 x current, 4).
    #[test]
    fn legacy_rules_stay_in_bounds(min in 1i32..20, span in 0i32..50, cur_off in 0i32..50, desired in 0i32..1000) {
        let max = min + span;
        let current = min + cur_off.min(span);
        let l = convert_desired_replicas_with_rules(current, desired, min, max, LegacyScaleUpLimit::default());
        prop_assert!(l.replicas >= min && l.replicas <= max);
        prop_assert!(l.replicas <= (2 * current).max(4).max(min));
    }

    /// Behavior path: with current in [min, max], the result lies between current and desired (the rate
    /// limits never overshoot and never move the other way), and within [min, max] when it moves.
    #[test]
    fn behavior_rate_moves_towards_desired(
        min in 1i32..20, span in 0i32..80, cur_off in 0i32..80, desired in 0i32..500,
        up in rules_strategy(), down in rules_strategy(),
        up_events in events_strategy(), down_events in events_strategy(),
    ) {
        let max = min + span;
        let current = min + cur_off.min(span);
        let args = NormalizationArg {
            scale_up: &up,
            scale_down: &down,
            min_replicas: min,
            max_replicas: max,
            current_replicas: current,
            desired_replicas: desired,
        };
        let l = convert_desired_replicas_with_behavior_rate(&args, &up_events, &down_events, NOW);
        let (lo, hi) = if desired >= current { (current, desired) } else { (desired, current) };
        prop_assert!(l.replicas >= lo.max(min) || l.replicas == current, "{l:?}");
        prop_assert!(l.replicas <= hi.min(max) || l.replicas == current, "{l:?}");
        if up.select_policy == SelectPolicy::Disabled && desired > current {
            prop_assert_eq!(l.replicas, current);
        }
        if down.select_policy == SelectPolicy::Disabled && desired < current {
            prop_assert_eq!(l.replicas, current);
        }
    }
}
