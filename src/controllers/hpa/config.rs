//! kube-controller-manager flags of the HPA controller, with their defaults in one place.
//!
//! upstream: kubernetes/kubernetes pkg/controller/podautoscaler/config/v1alpha1/defaults.go
//! (`RecommendedDefaultHPAControllerConfiguration`) and cmd/kube-controller-manager/app/options/hpacontroller.go
//! (flag names). Feature gates: pkg/features/kube_features.go.
//!
//! A scenario sets them as a camelCase map (`syncPeriod: 15s`, durations are Go-duration strings) or as the
//! real flags (`--horizontal-pod-autoscaler-sync-period=15s`), see [`HpaControllerConfig::from_flags`].

use crate::engine::SimDuration;
use crate::model::units::parse_duration;
use serde::Deserialize;

/// `--horizontal-pod-autoscaler-sync-period` default (15 s).
pub const DEFAULT_SYNC_PERIOD: SimDuration = SimDuration::from_secs(15);
/// `--horizontal-pod-autoscaler-tolerance` default (0.1).
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// `--horizontal-pod-autoscaler-downscale-stabilization` default (5 m).
pub const DEFAULT_DOWNSCALE_STABILIZATION: SimDuration = SimDuration::from_mins(5);
/// `--horizontal-pod-autoscaler-cpu-initialization-period` default (5 m).
pub const DEFAULT_CPU_INITIALIZATION_PERIOD: SimDuration = SimDuration::from_mins(5);
/// `--horizontal-pod-autoscaler-initial-readiness-delay` default (30 s).
pub const DEFAULT_INITIAL_READINESS_DELAY: SimDuration = SimDuration::from_secs(30);

/// Legacy (no `spec.behavior`) scale-up cap: `max(factor × current, minimum)` per reconcile.
/// upstream: pkg/controller/podautoscaler/horizontal.go `scaleUpLimitFactor = 2.0`. These are package
/// constants, not flags (horizontal_test.go overrides the factor to 8 in `init()`).
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// upstream: pkg/controller/podautoscaler/horizontal.go `scaleUpLimitMinimum = 4.0`.
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

/// The legacy scale-up cap parameters (production: [`SCALE_UP_LIMIT_FACTOR`], [`SCALE_UP_LIMIT_MINIMUM`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LegacyScaleUpLimit {
    pub factor: f64,
    pub minimum: f64,
}

impl Default for LegacyScaleUpLimit {
    fn default() -> Self {
        LegacyScaleUpLimit {
            factor: SCALE_UP_LIMIT_FACTOR,
            minimum: SCALE_UP_LIMIT_MINIMUM,
        }
    }
}

/// Feature gates that change HPA behaviour (`--feature-gates=Name=bool,...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct HpaFeatureGates {
    /// `HPAConfigurableTolerance`: per-HPA `behavior.scaleUp/scaleDown.tolerance` (KEP-4951). Alpha in
    /// v1.33, beta and on by default in v1.35; capsim defaults to on.
    pub hpa_configurable_tolerance: bool,
    /// `HPAScaleToZero`: allows `minReplicas: 0` with an Object or External metric. Alpha, off by default.
    pub hpa_scale_to_zero: bool,
    /// `PodLevelResources`: pod-level `spec.resources.requests` take precedence in utilization (beta, on
    /// by default since v1.34).
    pub pod_level_resources: bool,
}

impl Default for HpaFeatureGates {
    fn default() -> Self {
        HpaFeatureGates {
            hpa_configurable_tolerance: true,
            hpa_scale_to_zero: false,
            pod_level_resources: true,
        }
    }
}

/// HPA controller configuration (kube-controller-manager), every field defaulted as upstream.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaControllerConfig {
    /// `--horizontal-pod-autoscaler-sync-period`: each HPA is reconciled once per period.
    pub sync_period: SimDuration,
    /// `--horizontal-pod-autoscaler-tolerance`: cluster-wide tolerance, both directions.
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-downscale-stabilization`: legacy stabilization window and the default
    /// `behavior.scaleDown.stabilizationWindowSeconds`.
    pub downscale_stabilization: SimDuration,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`.
    pub cpu_initialization_period: SimDuration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`.
    pub initial_readiness_delay: SimDuration,
    pub feature_gates: HpaFeatureGates,
    /// Not a flag: the legacy scale-up cap constants (overridable for upstream test vectors only).
    pub scale_up_limit: LegacyScaleUpLimit,
}

impl Default for HpaControllerConfig {
    fn default() -> Self {
        HpaControllerConfig {
            sync_period: DEFAULT_SYNC_PERIOD,
            tolerance: DEFAULT_TOLERANCE,
            downscale_stabilization: DEFAULT_DOWNSCALE_STABILIZATION,
            cpu_initialization_period: DEFAULT_CPU_INITIALIZATION_PERIOD,
            initial_readiness_delay: DEFAULT_INITIAL_READINESS_DELAY,
            feature_gates: HpaFeatureGates::default(),
            scale_up_limit: LegacyScaleUpLimit::default(),
        }
    }
}

/// A bad HPA controller setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("unknown kube-controller-manager HPA flag {0:?} (expected one of {FLAG_NAMES})")]
    UnknownFlag(String),
    #[error("flag {0} needs a value (--flag=value)")]
    MissingValue(String),
}

const FLAG_NAMES: &str = "--horizontal-pod-autoscaler-sync-period, --horizontal-pod-autoscaler-tolerance, \
     --horizontal-pod-autoscaler-downscale-stabilization, --horizontal-pod-autoscaler-cpu-initialization-period, \
     --horizontal-pod-autoscaler-initial-readiness-delay, --feature-gates";

fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

fn duration(field: &str, v: &str) -> Result<SimDuration, ConfigError> {
    parse_duration(v).map_err(|e| invalid(field, format!("expected a Go duration such as 15s, got {v:?} ({e})")))
}

impl HpaControllerConfig {
    /// Parses kube-controller-manager flags (`--name=value` or `--name value`). Flags unrelated to the
    /// HPA are rejected so that typos do not pass silently.
    pub fn from_flags<S: AsRef<str>>(args: &[S]) -> Result<Self, ConfigError> {
        let mut cfg = HpaControllerConfig::default();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_ref();
            let (name, value) = match arg.split_once('=') {
                Some((n, v)) => (n, v.to_string()),
                None => {
                    i += 1;
                    let v = args.get(i).ok_or_else(|| ConfigError::MissingValue(arg.to_string()))?;
                    (arg, v.as_ref().to_string())
                }
            };
            match name {
                "--horizontal-pod-autoscaler-sync-period" => cfg.sync_period = duration(name, &value)?,
                "--horizontal-pod-autoscaler-tolerance" => {
                    cfg.tolerance = value
                        .parse::<f64>()
                        .map_err(|_| invalid(name, format!("expected a number, got {value:?}")))?
                }
                "--horizontal-pod-autoscaler-downscale-stabilization" => {
                    cfg.downscale_stabilization = duration(name, &value)?
                }
                "--horizontal-pod-autoscaler-cpu-initialization-period" => {
                    cfg.cpu_initialization_period = duration(name, &value)?
                }
                "--horizontal-pod-autoscaler-initial-readiness-delay" => {
                    cfg.initial_readiness_delay = duration(name, &value)?
                }
                "--feature-gates" => cfg.feature_gates.apply_flag(&value)?,
                _ => return Err(ConfigError::UnknownFlag(arg.to_string())),
            }
            i += 1;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges: sync period > 0, tolerance finite and >= 0.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.sync_period.is_zero() {
            return Err(invalid("syncPeriod", "must be greater than 0"));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(invalid("tolerance", format!("must be >= 0, got {}", self.tolerance)));
        }
        Ok(())
    }
}

impl HpaFeatureGates {
    /// Applies `Name=bool,Name=bool`; gates that do not concern the HPA are accepted and ignored.
    fn apply_flag(&mut self, value: &str) -> Result<(), ConfigError> {
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, v) = item
                .split_once('=')
                .ok_or_else(|| invalid("--feature-gates", format!("expected Name=true|false, got {item:?}")))?;
            let on = match v.trim() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(invalid(
                        "--feature-gates",
                        format!("{name}: expected true or false, got {other:?}"),
                    ));
                }
            };
            match name.trim() {
                "HPAConfigurableTolerance" => self.hpa_configurable_tolerance = on,
                "HPAScaleToZero" => self.hpa_scale_to_zero = on,
                "PodLevelResources" => self.pod_level_resources = on,
                _ => {}
            }
        }
        Ok(())
    }
}

/// The scenario form: `{syncPeriod: 15s, tolerance: 0.1, downscaleStabilization: 5m, ...}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawConfig {
    sync_period: Option<String>,
    tolerance: Option<f64>,
    downscale_stabilization: Option<String>,
    cpu_initialization_period: Option<String>,
    initial_readiness_delay: Option<String>,
    feature_gates: Option<HpaFeatureGates>,
}

impl<'de> Deserialize<'de> for HpaControllerConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = RawConfig::deserialize(d)?;
        let mut cfg = HpaControllerConfig::default();
        let dur = |field: &str, v: &Option<String>, into: &mut SimDuration| -> Result<(), ConfigError> {
            if let Some(s) = v {
                *into = duration(field, s)?;
            }
            Ok(())
        };
        dur("syncPeriod", &raw.sync_period, &mut cfg.sync_period).map_err(D::Error::custom)?;
        dur(
            "downscaleStabilization",
            &raw.downscale_stabilization,
            &mut cfg.downscale_stabilization,
        )
        .map_err(D::Error::custom)?;
        dur(
            "cpuInitializationPeriod",
            &raw.cpu_initialization_period,
            &mut cfg.cpu_initialization_period,
        )
        .map_err(D::Error::custom)?;
        dur(
            "initialReadinessDelay",
            &raw.initial_readiness_delay,
            &mut cfg.initial_readiness_delay,
        )
        .map_err(D::Error::custom)?;
        if let Some(t) = raw.tolerance {
            cfg.tolerance = t;
        }
        if let Some(g) = raw.feature_gates {
            cfg.feature_gates = g;
        }
        cfg.validate().map_err(D::Error::custom)?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_kube_controller_manager() {
        let c = HpaControllerConfig::default();
        assert_eq!(c.sync_period, SimDuration::from_secs(15));
        assert_eq!(c.tolerance, 0.1);
        assert_eq!(c.downscale_stabilization, SimDuration::from_secs(300));
        assert_eq!(c.cpu_initialization_period, SimDuration::from_secs(300));
        assert_eq!(c.initial_readiness_delay, SimDuration::from_secs(30));
        assert_eq!(c.scale_up_limit.factor, 2.0);
        assert_eq!(c.scale_up_limit.minimum, 4.0);
    }

    #[test]
    fn from_flags_both_forms() {
        let c = HpaControllerConfig::from_flags(&[
            "--horizontal-pod-autoscaler-sync-period=30s",
            "--horizontal-pod-autoscaler-tolerance",
            "0.05",
            "--horizontal-pod-autoscaler-downscale-stabilization=60s",
            "--feature-gates=HPAScaleToZero=true,SomethingElse=false",
        ])
        .unwrap();
        assert_eq!(c.sync_period, SimDuration::from_secs(30));
        assert_eq!(c.tolerance, 0.05);
        assert_eq!(c.downscale_stabilization, SimDuration::from_secs(60));
        assert!(c.feature_gates.hpa_scale_to_zero);
        assert_eq!(c.cpu_initialization_period, DEFAULT_CPU_INITIALIZATION_PERIOD);
    }

    #[test]
    fn from_flags_errors_name_the_flag() {
        let e = HpaControllerConfig::from_flags(&["--horizontal-pod-autoscaler-sync-priod=1s"]).unwrap_err();
        assert!(e.to_string().contains("sync-priod"), "{e}");
        let e = HpaControllerConfig::from_flags(&["--horizontal-pod-autoscaler-tolerance=-1"]).unwrap_err();
        assert!(e.to_string().contains("tolerance"), "{e}");
        let e = HpaControllerConfig::from_flags(&["--horizontal-pod-autoscaler-sync-period=abc"]).unwrap_err();
        assert!(e.to_string().contains("horizontal-pod-autoscaler-sync-period"), "{e}");
        let e = HpaControllerConfig::from_flags(&["--horizontal-pod-autoscaler-sync-period"]).unwrap_err();
        assert!(matches!(e, ConfigError::MissingValue(_)));
    }

    #[test]
    fn from_scenario_map() {
        let c: HpaControllerConfig =
            serde_json::from_str(r#"{"syncPeriod": "10s", "tolerance": 0.2, "initialReadinessDelay": "0s"}"#).unwrap();
        assert_eq!(c.sync_period, SimDuration::from_secs(10));
        assert_eq!(c.tolerance, 0.2);
        assert_eq!(c.initial_readiness_delay, SimDuration::ZERO);
        assert_eq!(c.downscale_stabilization, DEFAULT_DOWNSCALE_STABILIZATION);
        let e = serde_json::from_str::<HpaControllerConfig>(r#"{"syncPerod": "10s"}"#).unwrap_err();
        assert!(e.to_string().contains("syncPerod"), "{e}");
        let e = serde_json::from_str::<HpaControllerConfig>(r#"{"syncPeriod": "0s"}"#).unwrap_err();
        assert!(e.to_string().contains("syncPeriod"), "{e}");
    }
}
