//! Karpenter's operator settings, as written in the Scenario under `spec.provisioner.karpenter`.
//!
//! Every default names its upstream option. Durations are Go durations (`"1s"`, `"3m"`), parsed by
//! [`crate::model::units::parse_duration`].

use super::KarpenterError;
use crate::engine::{SimDuration, SimTime};
use crate::model::CapacityType;
use crate::model::units::Dur;
use serde::Deserialize;

/// upstream: kubernetes-sigs/karpenter pkg/operator/options/options.go `--batch-idle-duration`
/// (`BATCH_IDLE_DURATION`, default 1s).
pub const DEFAULT_BATCH_IDLE_DURATION: SimDuration = SimDuration::from_secs(1);
/// upstream: options.go `--batch-max-duration` (`BATCH_MAX_DURATION`, default 10s).
pub const DEFAULT_BATCH_MAX_DURATION: SimDuration = SimDuration::from_secs(10);
/// upstream: aws/karpenter-provider-aws pkg/cache/cache.go `UnavailableOfferingsTTL` (3m).
pub const DEFAULT_ICE_CACHE_TTL: SimDuration = SimDuration::from_mins(3);
/// upstream: kubernetes-sigs/karpenter pkg/controllers/disruption/controller.go `pollingPeriod` (10s).
pub const DEFAULT_DISRUPTION_POLL: SimDuration = SimDuration::from_secs(10);
/// upstream: pkg/controllers/nodeclaim/lifecycle/liveness.go `registrationTTL` (15m).
pub const DEFAULT_REGISTRATION_TTL: SimDuration = SimDuration::from_mins(15);
/// upstream: pkg/controllers/disruption/validation.go `commandValidationDelay` (15s).
pub const DEFAULT_COMMAND_VALIDATION_DELAY: SimDuration = SimDuration::from_secs(15);
/// upstream: options.go feature gate `SpotToSpotConsolidation` (default false).
pub const DEFAULT_SPOT_TO_SPOT_CONSOLIDATION: bool = false;
/// capsim: the zone offered when the scenario names none (the catalog carries no zones); matches
/// the scenario loader's default zone.
pub const DEFAULT_ZONE: &str = "us-east-1a";
/// capsim: the wall-clock instant (Unix seconds, UTC) of simulated time zero, used only to evaluate
/// disruption-budget cron schedules. 2024-01-01T00:00:00Z, a Monday.
pub const DEFAULT_EPOCH_UNIX_SECONDS: u64 = 1_704_067_200;

/// One offering that has no capacity during `[from, to)`: a launch into it fails with
/// InsufficientInstanceCapacity.
#[derive(Clone, Debug, PartialEq)]
pub struct UnavailableOffering {
    pub instance_type: String,
    pub capacity_type: CapacityType,
    /// `None` means every zone.
    pub zone: Option<String>,
    pub from: SimTime,
    pub to: SimTime,
}

impl UnavailableOffering {
    pub fn covers(&self, instance_type: &str, capacity_type: CapacityType, zone: &str, now: SimTime) -> bool {
        self.instance_type == instance_type
            && self.capacity_type == capacity_type
            && self.zone.as_deref().is_none_or(|z| z == zone)
            && self.from <= now
            && now < self.to
    }
}

/// Validated Karpenter settings.
#[derive(Clone, Debug, PartialEq)]
pub struct KarpenterSettings {
    pub batch_idle_duration: SimDuration,
    pub batch_max_duration: SimDuration,
    pub ice_cache_ttl: SimDuration,
    pub disruption_poll: SimDuration,
    pub registration_ttl: SimDuration,
    pub command_validation_delay: SimDuration,
    pub spot_to_spot_consolidation: bool,
    /// Zones the cloud offers, in preference order for equal prices.
    pub zones: Vec<String>,
    pub epoch_unix_seconds: u64,
    pub unavailable_offerings: Vec<UnavailableOffering>,
    /// The scenario's `spec.faults`: a zone outage or capacity window fails launches there.
    pub faults: Vec<crate::scenario::faults::Fault>,
}

impl Default for KarpenterSettings {
    fn default() -> Self {
        KarpenterSettings {
            batch_idle_duration: DEFAULT_BATCH_IDLE_DURATION,
            batch_max_duration: DEFAULT_BATCH_MAX_DURATION,
            ice_cache_ttl: DEFAULT_ICE_CACHE_TTL,
            disruption_poll: DEFAULT_DISRUPTION_POLL,
            registration_ttl: DEFAULT_REGISTRATION_TTL,
            command_validation_delay: DEFAULT_COMMAND_VALIDATION_DELAY,
            spot_to_spot_consolidation: DEFAULT_SPOT_TO_SPOT_CONSOLIDATION,
            zones: vec![DEFAULT_ZONE.to_string()],
            epoch_unix_seconds: DEFAULT_EPOCH_UNIX_SECONDS,
            unavailable_offerings: Vec::new(),
            faults: Vec::new(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSettings {
    batch_idle_duration: Option<Dur>,
    batch_max_duration: Option<Dur>,
    ice_cache_ttl: Option<Dur>,
    disruption_poll: Option<Dur>,
    registration_ttl: Option<Dur>,
    command_validation_delay: Option<Dur>,
    spot_to_spot_consolidation: Option<bool>,
    zones: Option<Vec<String>>,
    epoch_unix_seconds: Option<u64>,
    #[serde(default)]
    unavailable_offerings: Vec<RawUnavailable>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawUnavailable {
    instance_type: String,
    capacity_type: String,
    zone: Option<String>,
    from: Option<Dur>,
    to: Option<Dur>,
}

pub(crate) fn parse_capacity_type(s: &str) -> Option<CapacityType> {
    match s {
        "spot" => Some(CapacityType::Spot),
        "on-demand" => Some(CapacityType::OnDemand),
        _ => None,
    }
}

impl KarpenterSettings {
    /// Parses the `spec.provisioner.karpenter` map (`null` gives the defaults).
    pub fn from_value(value: &serde_json::Value) -> Result<KarpenterSettings, KarpenterError> {
        let err = |path: String, message: String| KarpenterError::Settings { path, message };
        if value.is_null() {
            return Ok(KarpenterSettings::default());
        }
        let raw: RawSettings =
            serde_path_to_error::deserialize(value).map_err(|e| err(e.path().to_string(), e.inner().to_string()))?;
        let d = KarpenterSettings::default();
        let mut s = KarpenterSettings {
            batch_idle_duration: raw.batch_idle_duration.map_or(d.batch_idle_duration, |x| x.0),
            batch_max_duration: raw.batch_max_duration.map_or(d.batch_max_duration, |x| x.0),
            ice_cache_ttl: raw.ice_cache_ttl.map_or(d.ice_cache_ttl, |x| x.0),
            disruption_poll: raw.disruption_poll.map_or(d.disruption_poll, |x| x.0),
            registration_ttl: raw.registration_ttl.map_or(d.registration_ttl, |x| x.0),
            command_validation_delay: raw.command_validation_delay.map_or(d.command_validation_delay, |x| x.0),
            spot_to_spot_consolidation: raw.spot_to_spot_consolidation.unwrap_or(d.spot_to_spot_consolidation),
            zones: raw.zones.unwrap_or(d.zones),
            epoch_unix_seconds: raw.epoch_unix_seconds.unwrap_or(d.epoch_unix_seconds),
            unavailable_offerings: Vec::new(),
            faults: Vec::new(),
        };
        if s.batch_idle_duration.is_zero() {
            return Err(err("batchIdleDuration".into(), "must be greater than 0s".into()));
        }
        if s.batch_max_duration < s.batch_idle_duration {
            return Err(err(
                "batchMaxDuration".into(),
                format!(
                    "must be >= batchIdleDuration ({}), got {}",
                    s.batch_idle_duration, s.batch_max_duration
                ),
            ));
        }
        if s.disruption_poll.is_zero() {
            return Err(err("disruptionPoll".into(), "must be greater than 0s".into()));
        }
        if s.zones.is_empty() || s.zones.iter().any(|z| z.is_empty()) {
            return Err(err("zones".into(), "must list at least one non-empty zone name".into()));
        }
        for (i, u) in raw.unavailable_offerings.into_iter().enumerate() {
            let path = format!("unavailableOfferings[{i}]");
            let capacity_type = parse_capacity_type(&u.capacity_type).ok_or_else(|| {
                err(
                    format!("{path}.capacityType"),
                    format!("expected `spot` or `on-demand`, got `{}`", u.capacity_type),
                )
            })?;
            if let Some(z) = u.zone.as_ref().filter(|z| !s.zones.contains(z)) {
                return Err(err(
                    format!("{path}.zone"),
                    format!("unknown zone `{z}` (zones: {})", s.zones.join(", ")),
                ));
            }
            let from = SimTime::ZERO + u.from.map_or(SimDuration::ZERO, |x| x.0);
            let to = u.to.map_or(SimTime::MAX, |x| SimTime::ZERO + x.0);
            if to <= from {
                return Err(err(format!("{path}.to"), format!("must be after `from` ({from})")));
            }
            s.unavailable_offerings.push(UnavailableOffering {
                instance_type: u.instance_type,
                capacity_type,
                zone: u.zone,
                from,
                to,
            });
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(
            KarpenterSettings::from_value(&serde_json::Value::Null),
            Ok(KarpenterSettings::default())
        );
        let s = KarpenterSettings::from_value(&json!({"batchIdleDuration": "2s", "spotToSpotConsolidation": true}))
            .expect("valid");
        assert_eq!(s.batch_idle_duration, SimDuration::from_secs(2));
        assert_eq!(s.batch_max_duration, SimDuration::from_secs(10));
        assert!(s.spot_to_spot_consolidation);
    }

    #[test]
    fn errors_name_the_field() {
        let e = KarpenterSettings::from_value(&json!({"batchIdleDuration": "soon"})).expect_err("bad");
        assert!(e.to_string().contains("batchIdleDuration"), "{e}");
        let e = KarpenterSettings::from_value(&json!({"unavailableOfferings": [
            {"instanceType": "m5.large", "capacityType": "spotty"}]}))
        .expect_err("bad");
        assert!(e.to_string().contains("unavailableOfferings[0].capacityType"), "{e}");
        let e = KarpenterSettings::from_value(&json!({"batchMaxDuration": "500ms"})).expect_err("bad");
        assert!(e.to_string().contains("batchMaxDuration"), "{e}");
    }
}
