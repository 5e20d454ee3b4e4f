//! The contract between the world and a node provisioner (Cluster Autoscaler, Karpenter), and
//! the registry that builds the one a scenario names.
//!
//! A provisioner is a pure decision function over a read-only [`ClusterView`]: the world calls
//! [`Provisioner::reconcile`] every [`Provisioner::period`] (and after notable events), applies
//! the returned [`Action`]s — launching nodes through the cloud's latency model, cordoning,
//! draining through the eviction API (PodDisruptionBudgets enforced by the world), terminating —
//! and writes every [`DecisionRecord`] to `autoscaler.csv`.
//!
//! A launch names what it creates: the provisioner gives each [`Action::Launch`] a [`LaunchId`]
//! and the world answers with [`NodeNotice::Launched`], carrying the node's id, before the next
//! reconcile — as Karpenter's `CloudProvider.Create` returns the hydrated NodeClaim
//! (kubernetes-sigs/karpenter pkg/cloudprovider/types.go). Nobody scans the cluster for the node
//! it just asked for.
//!
//! # Adding a provisioner
//! Write its module under `src/controllers/` with a `pub static KIND: ProvisionerKind`, and add
//! it to [`super::PROVISIONERS`] (one line beside its `pub mod`). The scenario loader resolves
//! `spec.provisioner` against that list, `capsim validate` builds it, the world runs it.

use crate::cluster::{ClusterView, NodeId, NodeSpec};
use crate::engine::{Rngs, SimDuration, SimTime};
use crate::model::Resources;
use crate::scenario::{LatencyOverride, NodeLatency, Scenario, ScenarioError};

/// The identity a provisioner gives a node it asks for; the world reports the node's id under it
/// ([`NodeNotice::Launched`]). Unique within one provisioner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LaunchId(pub u64);

/// Hands out [`LaunchId`]s in order.
#[derive(Clone, Debug, Default)]
pub struct LaunchIds(u64);

impl LaunchIds {
    pub fn issue(&mut self) -> LaunchId {
        self.0 += 1;
        LaunchId(self.0)
    }
}

/// What a provisioner asks the world to do. (A handful per loop, so the size of `Launch` does not
/// matter.)
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// Request a node from the cloud. Its stages follow the scenario's latency for its instance
    /// type (`spec.nodeLatency`, `byInstanceType`), with `latency`'s stages (a node group's own)
    /// on top. The world confirms it with [`NodeNotice::Launched`] under `id`.
    Launch {
        id: LaunchId,
        spec: NodeSpec,
        latency: LatencyOverride,
        reason: String,
    },
    /// Stop scheduling onto the node (taint/cordon) without evicting.
    Cordon { node: NodeId, reason: String },
    /// Cordon, evict every evictable pod (respecting PDBs, retrying blocked evictions every 10 s
    /// up to `max_eviction_time`), then terminate the instance once no evictable pod is left.
    /// `force` terminates after `max_eviction_time` even if evictions are still blocked
    /// (Karpenter's expiration, spot reclaims); otherwise the drain is abandoned and the node
    /// uncordoned (Cluster Autoscaler's scale-down failure).
    Drain {
        node: NodeId,
        reason: String,
        max_eviction_time: SimDuration,
        force: bool,
    },
    /// Terminate the instance now; pods on it are deleted (empty-node deletes, failed launches).
    Terminate { node: NodeId, reason: String },
    /// Undo a cordon.
    Uncordon { node: NodeId, reason: String },
}

/// One line of `autoscaler.csv`: a decision and its reason.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DecisionRecord {
    pub time_s: f64,
    /// `cluster-autoscaler` or `karpenter` (or `world` / `cloud` for what they report).
    pub component: &'static str,
    /// The loop or method that decided.
    #[serde(serialize_with = "display")]
    pub activity: Activity,
    /// The decision.
    #[serde(serialize_with = "display")]
    pub decision: Decision,
    /// The object: a node group, NodePool, node or pod.
    pub object: String,
    /// Why, in a few words a person reads (expander result, budget exhausted, ...).
    pub reason: String,
}

fn display<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Declares a closed enum whose `Display` (and `as_str`) is the text `autoscaler.csv` shows, and
/// which compares equal to that text.
macro_rules! record_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The text `autoscaler.csv` shows.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

record_enum! {
    /// The loop or disruption method a decision came from.
    Activity {
        /// Cluster Autoscaler's scale-up (core/scaleup) and failed-provisioning handling.
        ScaleUp => "scale-up",
        /// Cluster Autoscaler's scale-down (core/scaledown).
        ScaleDown => "scale-down",
        /// Karpenter's provisioner (pkg/controllers/provisioning).
        Provisioning => "provisioning",
        /// Karpenter's disruption queue (replacements).
        Disruption => "disruption",
        /// Karpenter's expiration (`expireAfter`).
        Expiration => "expiration",
        /// Karpenter's interruption controller (spot interruption warnings).
        Interruption => "interruption",
        /// Karpenter's NodeClaim liveness (`registrationTTL`).
        Liveness => "liveness",
        /// Karpenter's disruption methods (pkg/controllers/disruption), in the order it tries them.
        Emptiness => "emptiness",
        MultiNodeConsolidation => "multi-node-consolidation",
        SingleNodeConsolidation => "single-node-consolidation",
        /// The world's eviction API applying a drain (component `world`).
        Drain => "drain",
        /// The cloud's spot interruption notices (component `cloud`).
        Spot => "spot",
    }
}

record_enum! {
    /// What a provisioner decided.
    Decision {
        // Cluster Autoscaler
        ScaleUp => "ScaleUp",
        NoScaleUp => "NoScaleUp",
        FailedScaleUp => "FailedScaleUp",
        Backoff => "Backoff",
        Unneeded => "Unneeded",
        DeleteEmpty => "DeleteEmpty",
        Drain => "Drain",
        ScaleDownFailed => "ScaleDownFailed",
        // Karpenter provisioning
        Launch => "Launch",
        InsufficientCapacity => "InsufficientCapacity",
        NoCapacity => "NoCapacity",
        NoCompatibleNodePool => "NoCompatibleNodePool",
        LimitsExceeded => "LimitsExceeded",
        NoInstanceTypeFits => "NoInstanceTypeFits",
        /// Spread or pod (anti-)affinity left no domain for the pod.
        UnsatisfiableTopology => "UnsatisfiableTopology",
        // Karpenter lifecycle and disruption
        CordonAndDrain => "CordonAndDrain",
        RegistrationTimeout => "RegistrationTimeout",
        Expire => "Expire",
        Delete => "Delete",
        Replace => "Replace",
        ReplaceAbandoned => "ReplaceAbandoned",
        Invalidated => "Invalidated",
        DrainReplaced => "DrainReplaced",
        ReplacementFailed => "ReplacementFailed",
        // The world and the cloud
        Uncordon => "Uncordon",
        DrainFailed => "DrainFailed",
        InterruptionWarning => "InterruptionWarning",
    }
}

/// What happened to the nodes a provisioner launched, reported back by the world.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeNotice {
    /// The node asked for by the launch `id` exists, as `node` (state Launching).
    Launched {
        id: LaunchId,
        node: NodeId,
    },
    Registered(NodeId),
    Ready(NodeId),
    Terminated(NodeId),
    /// A spot interruption warning: the instance is reclaimed at `at`.
    InterruptionWarning {
        node: NodeId,
        at: SimTime,
    },
    /// A drain could not finish (evictions blocked) and was abandoned.
    DrainFailed(NodeId),
}

/// A node provisioner.
pub trait Provisioner {
    /// `cluster-autoscaler` or `karpenter`.
    fn component(&self) -> &'static str;
    /// How often the world calls `reconcile` (CA `--scan-interval`; Karpenter's batching tick).
    fn period(&self) -> SimDuration;
    /// Decide what to do now.
    fn reconcile(&mut self, view: &ClusterView<'_>, rngs: &Rngs) -> (Vec<Action>, Vec<DecisionRecord>);
    /// Learn what happened to nodes since the last call.
    fn notice(&mut self, _notice: &NodeNotice, _now: SimTime) {}
    /// The nodes the pending pods need, for a warm start at t = 0: what `reconcile` would
    /// launch for them, without waiting for batching windows. The world makes them Ready at once
    /// and records no decision. The default is one `reconcile`'s launches.
    fn warm_start(&mut self, view: &ClusterView<'_>, rngs: &Rngs) -> Vec<Action> {
        self.reconcile(view, rngs).0
    }
}

/// A provisioner and the nodes it starts with (present and Ready at time zero).
pub struct ProvisionerSetup {
    pub provisioner: Box<dyn Provisioner>,
    pub initial: Vec<Action>,
    pub warnings: Vec<String>,
}

/// One entry of the provisioner registry ([`super::PROVISIONERS`]).
pub struct ProvisionerKind {
    /// The key under `spec.provisioner` (`clusterAutoscaler`, `karpenter`).
    pub key: &'static str,
    /// Further names accepted in the short form `provisioner: NAME`.
    pub aliases: &'static [&'static str],
    /// The node latencies a scenario gets when it sets none: the figures of the machinery this
    /// provisioner launches through (`crate::cloud::latency::defaults`).
    pub default_node_latency: fn() -> NodeLatency,
    /// Kubelet allocatable of every node it could ever launch (for the lints: pods no node can
    /// fit).
    pub possible_nodes: fn(&Scenario) -> Vec<Resources>,
    /// Builds it from the scenario and its settings map (`Null` when the short form was used).
    pub build: fn(&Scenario, &serde_json::Value) -> Result<ProvisionerSetup, ScenarioError>,
}

impl std::fmt::Debug for ProvisionerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisionerKind").field("key", &self.key).finish()
    }
}

/// `spec.provisioner`, resolved against the registry when the scenario is loaded.
#[derive(Clone, Debug)]
pub enum ProvisionerConfig {
    /// No provisioner: the static nodes only (`static`, `none`, or no `spec.provisioner`).
    Static,
    /// A registered provisioner and its settings map, which its own module validates at build.
    Registered {
        kind: &'static ProvisionerKind,
        settings: serde_json::Value,
    },
}

impl ProvisionerConfig {
    /// Resolves `spec.provisioner` as written: `{KEY: {settings}}`, or the short form `KEY`,
    /// an alias, `static` or `none`. The error is the message for `spec.provisioner[.KEY]`.
    pub fn parse(value: Option<&serde_json::Value>) -> Result<ProvisionerConfig, (String, String)> {
        let registry = super::PROVISIONERS;
        let keys = registry.iter().map(|k| k.key).collect::<Vec<_>>().join(" or ");
        let by_name = |name: &str| {
            registry
                .iter()
                .copied()
                .find(|k| k.key == name || k.aliases.contains(&name))
        };
        let Some(value) = value else {
            return Ok(ProvisionerConfig::Static);
        };
        if let Some(name) = value.as_str() {
            if matches!(name, "static" | "none") {
                return Ok(ProvisionerConfig::Static);
            }
            if let Some(kind) = by_name(name) {
                return Ok(ProvisionerConfig::Registered {
                    kind,
                    settings: serde_json::Value::Null,
                });
            }
        }
        let Some((key, settings)) = value.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next()) else {
            return Err((
                "spec.provisioner".into(),
                format!(
                    "expected exactly one of {keys} (a map of its settings), or the short form {} | static",
                    registry.iter().map(|k| k.key).collect::<Vec<_>>().join(" | ")
                ),
            ));
        };
        match registry.iter().copied().find(|k| k.key == key) {
            Some(kind) => Ok(ProvisionerConfig::Registered {
                kind,
                settings: settings.clone(),
            }),
            None => Err((
                format!("spec.provisioner.{key}"),
                format!("unknown provisioner (expected {keys})"),
            )),
        }
    }

    /// The registered provisioner's key, if any.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            ProvisionerConfig::Static => None,
            ProvisionerConfig::Registered { kind, .. } => Some(kind.key),
        }
    }

    /// Builds the provisioner (`None` for static clusters).
    pub fn build(&self, sc: &Scenario) -> Result<Option<ProvisionerSetup>, ScenarioError> {
        match self {
            ProvisionerConfig::Static => Ok(None),
            ProvisionerConfig::Registered { kind, settings } => (kind.build)(sc, settings).map(Some),
        }
    }
}
