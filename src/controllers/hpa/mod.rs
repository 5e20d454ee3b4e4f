//! The HorizontalPodAutoscaler, as kube-controller-manager implements it (autoscaling/v2).
//!
//! ```text
//!  HpaObservation ──► controller::reconcile ──► HpaDecision (desired replicas, reason, conditions)
//!  (scale, pods,        │  pre-checks (0 → disabled, > max, < min)
//!   metrics)            │  replica_calculator: one Proposal per spec.metrics[i]  (max, partial-failure rules)
//!                       │  normalize: stabilization window(s), rate limits / legacy cap, min/max
//!                       └─ HpaState (recommendations, scale events, last scale time) updated in place
//! ```
//!
//! * [`spec`]: validated `HpaSpec` from an `autoscaling/v2` manifest (API defaulting + validation).
//! * [`config`]: kube-controller-manager HPA flags and feature gates.
//! * [`observation`]: the snapshot the simulation fills every sync period.
//! * [`replica_calculator`], [`normalize`], [`controller`]: one-for-one ports of upstream's rules.
//! * [`vectors`]: the adapter that runs upstream test vectors through the same code (`capsim hpa eval`).
//! * [`explain`]: the "HPA dry run" over a metric series (`capsim hpa explain`).
//!
//! Use from the simulation: validate each manifest once with [`HpaSpec::from_manifest`] (and
//! [`HpaSpec::check_scale_target`]), keep one [`HpaState`] per HPA, and every
//! `HpaControllerConfig::sync_period` (staggered per HPA by the caller) fill an [`HpaObservation`] from the
//! pods and the metrics pipeline, call [`reconcile`], and apply `HpaDecision::desired_replicas` when
//! `scale_updated`. `HpaDecision::reason` (Display) and `limiting_rule` go to `hpa.csv`.
//!
//! Time: upstream compares timestamps with `After`/`Before` against `time.Now()`; with integer time an
//! entry exactly one window old counts as outside the window (see [`normalize`]).

pub mod conditions;
pub mod config;
pub mod controller;
pub mod explain;
pub mod normalize;
pub mod observation;
pub mod replica_calculator;
pub mod spec;
pub mod vectors;

pub use conditions::{ConditionReason, ConditionType, Conditions, HpaCondition};
pub use config::HpaControllerConfig;
pub use controller::{DecisionReason, HpaDecision, HpaState, MetricProposal, reconcile};
pub use observation::HpaObservation;
pub use spec::HpaSpec;
