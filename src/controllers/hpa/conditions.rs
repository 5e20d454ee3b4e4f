//! HPA status conditions and their reasons.
//! upstream: kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go (`setCondition` calls).

use super::observation::ConditionStatus;
use std::fmt;
use std::sync::Arc;

/// `HorizontalPodAutoscalerConditionType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConditionType {
    AbleToScale,
    ScalingActive,
    ScalingLimited,
}

impl fmt::Display for ConditionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Every condition reason the controller sets (the subset that a simulation can reach).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConditionReason {
    // AbleToScale
    SucceededRescale,
    ReadyForNewScale,
    ScaleUpStabilized,
    ScaleDownStabilized,
    // ScalingActive
    ValidMetricFound,
    ScalingDisabled,
    FailedGetResourceMetric,
    FailedGetContainerResourceMetric,
    FailedGetPodsMetric,
    FailedGetObjectMetric,
    FailedGetExternalMetric,
    InvalidMetricSourceType,
    // ScalingLimited
    DesiredWithinRange,
    TooFewReplicas,
    TooManyReplicas,
    ScaleUpLimit,
    ScaleDownLimit,
}

impl fmt::Display for ConditionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One status condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HpaCondition {
    pub type_: ConditionType,
    pub status: ConditionStatus,
    pub reason: ConditionReason,
    pub message: ConditionMessage,
}

/// A condition's message, formatted only when read: every reconcile sets three conditions, and
/// the simulation reads none of their messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConditionMessage {
    Static(&'static str),
    Text(String),
    /// upstream: horizontal.go, `ValidMetricFound` on ScalingActive.
    ValidMetricFound(Arc<str>),
    /// upstream: horizontal.go, `SucceededRescale` on AbleToScale.
    SucceededRescale(i32),
}

impl fmt::Display for ConditionMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConditionMessage::Static(s) => f.write_str(s),
            ConditionMessage::Text(s) => f.write_str(s),
            ConditionMessage::ValidMetricFound(metric) => {
                write!(
                    f,
                    "the HPA was able to successfully calculate a replica count from {metric}"
                )
            }
            ConditionMessage::SucceededRescale(n) => {
                write!(f, "the HPA controller was able to update the target scale to {n}")
            }
        }
    }
}

impl From<&'static str> for ConditionMessage {
    fn from(s: &'static str) -> Self {
        ConditionMessage::Static(s)
    }
}

impl From<String> for ConditionMessage {
    fn from(s: String) -> Self {
        ConditionMessage::Text(s)
    }
}

/// The conditions set by one reconcile, at most one per type (last write wins, as `setCondition`),
/// held inline by type (a reconcile sets up to three; no allocation per sync).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions([Option<HpaCondition>; 3]);

impl Conditions {
    /// The conditions set, in type order (AbleToScale, ScalingActive, ScalingLimited).
    pub fn iter(&self) -> impl Iterator<Item = &HpaCondition> {
        self.0.iter().flatten()
    }
    pub fn set(
        &mut self,
        type_: ConditionType,
        status: ConditionStatus,
        reason: ConditionReason,
        message: impl Into<ConditionMessage>,
    ) {
        self.0[type_ as usize] = Some(HpaCondition {
            type_,
            status,
            reason,
            message: message.into(),
        });
    }
    pub fn get(&self, type_: ConditionType) -> Option<&HpaCondition> {
        self.0[type_ as usize].as_ref()
    }
}
