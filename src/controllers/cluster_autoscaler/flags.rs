//! Cluster Autoscaler command-line flags, parsed from the container args users already have.
//!
//! Both `--flag=value` and `--flag value` forms are accepted (and a single leading dash, as Go's
//! `flag` package allows); booleans are `--flag`, `--flag=true` or `--flag=false` and never consume
//! the next argument. Every default lives in [`CaFlags::default`], each naming its flag and
//! upstream source: kubernetes/autoscaler cluster-autoscaler/config/flags/flags.go (and
//! config/const.go for the constants behind it).
//!
//! Flags capsim does not model but that are harmless (`--kubeconfig`, `--cloud-provider`, `--v`,
//! ...) are accepted and listed in [`ParsedFlags::ignored`]; unknown flags and flags whose effect
//! is not modelled produce a warning in [`ParsedFlags::warnings`]; malformed values are a
//! [`FlagError`] naming the flag.

use crate::engine::SimDuration;
use crate::model::units::parse_duration;

/// One expander of the `--expander` chain.
/// upstream: cluster-autoscaler/expander/expander.go `AvailableExpanders`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExpanderKind {
    Random,
    MostPods,
    LeastWaste,
    LeastNodes,
    Price,
    Priority,
}

impl ExpanderKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ExpanderKind::Random => "random",
            ExpanderKind::MostPods => "most-pods",
            ExpanderKind::LeastWaste => "least-waste",
            ExpanderKind::LeastNodes => "least-nodes",
            ExpanderKind::Price => "price",
            ExpanderKind::Priority => "priority",
        }
    }

    pub fn parse(s: &str) -> Option<ExpanderKind> {
        Some(match s {
            "random" => ExpanderKind::Random,
            "most-pods" => ExpanderKind::MostPods,
            "least-waste" => ExpanderKind::LeastWaste,
            "least-nodes" => ExpanderKind::LeastNodes,
            "price" => ExpanderKind::Price,
            "priority" => ExpanderKind::Priority,
            _ => return None,
        })
    }
}

/// Every Cluster Autoscaler setting capsim models.
#[derive(Clone, Debug, PartialEq)]
pub struct CaFlags {
    pub scan_interval: SimDuration,
    pub expanders: Vec<ExpanderKind>,
    pub scale_down_enabled: bool,
    pub scale_down_delay_after_add: SimDuration,
    pub scale_down_delay_after_delete: SimDuration,
    pub scale_down_delay_after_failure: SimDuration,
    pub scale_down_unneeded_time: SimDuration,
    pub scale_down_unready_time: SimDuration,
    pub scale_down_unready_enabled: bool,
    pub scale_down_utilization_threshold: f64,
    /// Non-empty nodes simulated for removal per loop; ≤ 0 turns the limit off.
    pub scale_down_non_empty_candidates_count: i64,
    pub max_scale_down_parallelism: u32,
    pub max_drain_parallelism: u32,
    pub max_graceful_termination_sec: u64,
    pub max_pod_eviction_time: SimDuration,
    pub max_node_provision_time: SimDuration,
    pub new_pod_scale_up_delay: SimDuration,
    /// 0 = unlimited.
    pub max_nodes_total: u32,
    pub max_nodes_per_scaleup: u32,
    /// `--cores-total` as (min, max) cores.
    pub cores_total: (i64, i64),
    /// `--memory-total` as (min, max) GiB (upstream multiplies the flag by `units.GiB`).
    pub memory_total_gib: (i64, i64),
    pub expendable_pods_priority_cutoff: i32,
    pub skip_nodes_with_system_pods: bool,
    pub skip_nodes_with_local_storage: bool,
    pub ignore_daemonsets_utilization: bool,
    pub balance_similar_node_groups: bool,
    pub initial_node_group_backoff_duration: SimDuration,
    pub max_node_group_backoff_duration: SimDuration,
    pub node_group_backoff_reset_timeout: SimDuration,
}

impl Default for CaFlags {
    /// The single place where Cluster Autoscaler defaults live.
    /// upstream: kubernetes/autoscaler cluster-autoscaler/config/flags/flags.go (flag defaults)
    /// and config/const.go (the constants they reference), as of f7bb0c36 (2026-07).
    fn default() -> Self {
        CaFlags {
            // --scan-interval=10s
            scan_interval: SimDuration::from_secs(10),
            // --expander=least-waste (default changed from random to least-waste in CA 1.30+)
            expanders: vec![ExpanderKind::LeastWaste],
            // --scale-down-enabled=true
            scale_down_enabled: true,
            // --scale-down-delay-after-add=10m
            scale_down_delay_after_add: SimDuration::from_mins(10),
            // --scale-down-delay-after-delete=0s
            scale_down_delay_after_delete: SimDuration::ZERO,
            // --scale-down-delay-after-failure=3m
            scale_down_delay_after_failure: SimDuration::from_mins(3),
            // --scale-down-unneeded-time=10m (config.DefaultScaleDownUnneededTime)
            scale_down_unneeded_time: SimDuration::from_mins(10),
            // --scale-down-unready-time=20m (config.DefaultScaleDownUnreadyTime)
            scale_down_unready_time: SimDuration::from_mins(20),
            // --scale-down-unready-enabled=true
            scale_down_unready_enabled: true,
            // --scale-down-utilization-threshold=0.5 (config.DefaultScaleDownUtilizationThreshold)
            scale_down_utilization_threshold: 0.5,
            // --scale-down-non-empty-candidates-count=30
            scale_down_non_empty_candidates_count: 30,
            // --max-scale-down-parallelism=10
            max_scale_down_parallelism: 10,
            // --max-drain-parallelism=1
            max_drain_parallelism: 1,
            // --max-graceful-termination-sec=600
            max_graceful_termination_sec: 600,
            // --max-pod-eviction-time=2m
            max_pod_eviction_time: SimDuration::from_mins(2),
            // --max-node-provision-time=15m (config.DefaultMaxNodeProvisionTime)
            max_node_provision_time: SimDuration::from_mins(15),
            // --new-pod-scale-up-delay=0s
            new_pod_scale_up_delay: SimDuration::ZERO,
            // --max-nodes-total=0 (unlimited)
            max_nodes_total: 0,
            // --max-nodes-per-scaleup=1000
            max_nodes_per_scaleup: 1000,
            // --cores-total=0:320000 (config.DefaultMaxClusterCores)
            cores_total: (0, 320_000),
            // --memory-total=0:6400000 GiB (config.DefaultMaxClusterMemory)
            memory_total_gib: (0, 6_400_000),
            // --expendable-pods-priority-cutoff=-10
            expendable_pods_priority_cutoff: -10,
            // --skip-nodes-with-system-pods=true
            skip_nodes_with_system_pods: true,
            // --skip-nodes-with-local-storage=true
            skip_nodes_with_local_storage: true,
            // --ignore-daemonsets-utilization=false
            ignore_daemonsets_utilization: false,
            // --balance-similar-node-groups=false
            balance_similar_node_groups: false,
            // --initial-node-group-backoff-duration=5m
            initial_node_group_backoff_duration: SimDuration::from_mins(5),
            // --max-node-group-backoff-duration=30m
            max_node_group_backoff_duration: SimDuration::from_mins(30),
            // --node-group-backoff-reset-timeout=3h
            node_group_backoff_reset_timeout: SimDuration::from_mins(180),
        }
    }
}

/// The outcome of parsing: the flags plus what the user should hear about.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedFlags {
    pub flags: CaFlags,
    /// Unknown flags, flags set to something capsim does not model, stray arguments.
    pub warnings: Vec<String>,
    /// Recognised flags with no effect on a simulation (`--kubeconfig`, `--v`, ...).
    pub ignored: Vec<String>,
}

/// A malformed flag value. Every variant names the flag.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FlagError {
    #[error("--{flag}: invalid duration {value:?}: {message}")]
    BadDuration {
        flag: String,
        value: String,
        message: String,
    },
    #[error("--{flag}: expected true or false, got {value:?}")]
    BadBool { flag: String, value: String },
    #[error("--{flag}: expected a whole number, got {value:?}")]
    BadInt { flag: String, value: String },
    #[error("--{flag}: expected a number, got {value:?}")]
    BadFloat { flag: String, value: String },
    #[error("--{flag}: {value} is outside [{min}, {max}]")]
    OutOfRange {
        flag: String,
        value: String,
        min: String,
        max: String,
    },
    #[error(
        "--expander: unknown expander {name:?}; expected a comma-separated list of random, most-pods, least-waste, least-nodes, price, priority"
    )]
    UnknownExpander { name: String },
    #[error("--{flag}: needs a value (write --{flag}=VALUE)")]
    MissingValue { flag: String },
    #[error("--{flag}: {message}")]
    Invalid { flag: String, message: String },
}

/// How a flag takes its value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Value,
}

/// Flags of the real binary that change nothing in a simulation, with how they take a value.
/// upstream: cluster-autoscaler/config/flags/flags.go and klog's flags.
const IGNORED: &[(&str, Kind)] = &[
    ("kubeconfig", Kind::Value),
    ("kubernetes", Kind::Value),
    ("kube-api-content-type", Kind::Value),
    ("kube-client-burst", Kind::Value),
    ("kube-client-qps", Kind::Value),
    ("cloud-config", Kind::Value),
    ("cloud-provider", Kind::Value),
    ("namespace", Kind::Value),
    ("cluster-name", Kind::Value),
    ("node-group-auto-discovery", Kind::Value),
    ("nodes", Kind::Value),
    ("address", Kind::Value),
    ("user-agent", Kind::Value),
    ("status-config-map-name", Kind::Value),
    ("write-status-configmap", Kind::Bool),
    ("leader-elect", Kind::Bool),
    ("leader-elect-lease-duration", Kind::Value),
    ("leader-elect-renew-deadline", Kind::Value),
    ("leader-elect-retry-period", Kind::Value),
    ("leader-elect-resource-lock", Kind::Value),
    ("leader-elect-resource-name", Kind::Value),
    ("leader-elect-resource-namespace", Kind::Value),
    ("aws-use-static-instance-list", Kind::Bool),
    ("profiling", Kind::Bool),
    ("v", Kind::Value),
    ("logtostderr", Kind::Bool),
    ("alsologtostderr", Kind::Bool),
    ("stderrthreshold", Kind::Value),
    ("log-file", Kind::Value),
    ("log-dir", Kind::Value),
    ("max-inactivity", Kind::Value),
    ("max-failing-time", Kind::Value),
    ("max-startup-time", Kind::Value),
    ("record-duplicated-events", Kind::Bool),
    ("emit-per-nodegroup-metrics", Kind::Bool),
    ("debugging-snapshot-enabled", Kind::Bool),
    ("regional", Kind::Bool),
    // Binpacking time budgets: capsim's estimator is not time-limited.
    ("max-binpacking-time", Kind::Value),
    ("max-nodegroup-binpacking-duration", Kind::Value),
    ("fastpath-binpacking-enabled", Kind::Bool),
    ("scale-down-simulation-timeout", Kind::Value),
    ("node-deletion-delay-timeout", Kind::Value),
    ("node-deletion-batcher-interval", Kind::Value),
    ("node-delete-delay-after-taint", Kind::Value),
    ("cordon-node-before-terminating", Kind::Bool),
    ("daemonset-eviction-for-empty-nodes", Kind::Bool),
    ("daemonset-eviction-for-occupied-nodes", Kind::Bool),
    // Every capsim pod belongs to a Deployment: custom-controller and replica-count rules never fire.
    ("skip-nodes-with-custom-controller-pods", Kind::Bool),
    ("min-replica-count", Kind::Value),
    ("max-total-unready-percentage", Kind::Value),
    ("ok-total-unready-count", Kind::Value),
    ("scale-down-candidates-pool-ratio", Kind::Value),
    ("scale-down-candidates-pool-min-count", Kind::Value),
    ("unremovable-node-recheck-timeout", Kind::Value),
    ("max-bulk-soft-taint-count", Kind::Value),
    ("max-bulk-soft-taint-time", Kind::Value),
    ("ignore-mirror-pods-utilization", Kind::Bool),
    ("scale-down-gpu-utilization-threshold", Kind::Value),
    ("max-node-startup-time", Kind::Value),
    ("enforce-node-group-min-size", Kind::Bool),
    ("scale-up-from-zero", Kind::Bool),
    ("scale-down-delay-type-local", Kind::Bool),
    ("blocking-system-pod-distruption-timeout", Kind::Value),
    ("node-info-cache-expire-time", Kind::Value),
    ("scale-from-unschedulable", Kind::Bool),
    ("estimator", Kind::Value),
];

/// Flags capsim models, with how they take a value.
const MODELLED: &[(&str, Kind)] = &[
    ("scan-interval", Kind::Value),
    ("expander", Kind::Value),
    ("scale-down-enabled", Kind::Bool),
    ("scale-down-delay-after-add", Kind::Value),
    ("scale-down-delay-after-delete", Kind::Value),
    ("scale-down-delay-after-failure", Kind::Value),
    ("scale-down-unneeded-time", Kind::Value),
    ("scale-down-unready-time", Kind::Value),
    ("scale-down-unready-enabled", Kind::Bool),
    ("scale-down-utilization-threshold", Kind::Value),
    ("scale-down-non-empty-candidates-count", Kind::Value),
    ("max-scale-down-parallelism", Kind::Value),
    ("max-empty-bulk-delete", Kind::Value),
    ("max-drain-parallelism", Kind::Value),
    ("max-graceful-termination-sec", Kind::Value),
    ("max-pod-eviction-time", Kind::Value),
    ("max-node-provision-time", Kind::Value),
    ("new-pod-scale-up-delay", Kind::Value),
    ("max-nodes-total", Kind::Value),
    ("max-nodes-per-scaleup", Kind::Value),
    ("cores-total", Kind::Value),
    ("memory-total", Kind::Value),
    ("expendable-pods-priority-cutoff", Kind::Value),
    ("skip-nodes-with-system-pods", Kind::Bool),
    ("skip-nodes-with-local-storage", Kind::Bool),
    ("ignore-daemonsets-utilization", Kind::Bool),
    ("balance-similar-node-groups", Kind::Bool),
    ("initial-node-group-backoff-duration", Kind::Value),
    ("max-node-group-backoff-duration", Kind::Value),
    ("node-group-backoff-reset-timeout", Kind::Value),
    ("parallel-drain", Kind::Bool),
    ("parallel-scale-up", Kind::Bool),
];

fn kind_of(name: &str) -> Option<(Kind, bool)> {
    if let Some((_, k)) = MODELLED.iter().find(|(n, _)| *n == name) {
        return Some((*k, true));
    }
    IGNORED.iter().find(|(n, _)| *n == name).map(|(_, k)| (*k, false))
}

/// Parses Cluster Autoscaler container args.
pub fn parse_flags<S: AsRef<str>>(args: &[S]) -> Result<ParsedFlags, FlagError> {
    let mut out = ParsedFlags {
        flags: CaFlags::default(),
        warnings: Vec::new(),
        ignored: Vec::new(),
    };
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_ref();
        i += 1;
        let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            out.warnings.push(format!(
                "cluster-autoscaler arg {arg:?} is not a flag (expected --name=value); ignored"
            ));
            continue;
        };
        if body.is_empty() {
            out.warnings
                .push(format!("cluster-autoscaler arg {arg:?} is not a flag; ignored"));
            continue;
        }
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let next_is_value = |i: usize| i < args.len() && !args[i].as_ref().starts_with('-');
        match kind_of(name) {
            None => {
                // Unknown: guess that a following non-flag argument is its value.
                let shown = if inline.is_none() && next_is_value(i) {
                    let v = args[i].as_ref();
                    i += 1;
                    format!("--{name} {v}")
                } else {
                    arg.to_string()
                };
                out.warnings.push(format!(
                    "unknown cluster-autoscaler flag {shown:?}: not modelled by capsim, ignored"
                ));
            }
            Some((kind, modelled)) => {
                let value = match (kind, inline) {
                    (_, Some(v)) => Some(v.to_string()),
                    (Kind::Bool, None) => None,
                    (Kind::Value, None) => {
                        if i < args.len() {
                            let v = args[i].as_ref().to_string();
                            i += 1;
                            Some(v)
                        } else {
                            return Err(FlagError::MissingValue { flag: name.to_string() });
                        }
                    }
                };
                if modelled {
                    apply(&mut out, name, value.as_deref())?;
                } else {
                    out.ignored.push(match value {
                        Some(v) => format!("--{name}={v}"),
                        None => format!("--{name}"),
                    });
                }
            }
        }
    }
    Ok(out)
}

fn duration(flag: &str, v: &str) -> Result<SimDuration, FlagError> {
    if v.trim_start().starts_with('-') {
        return Err(FlagError::BadDuration {
            flag: flag.into(),
            value: v.into(),
            message: "must not be negative".into(),
        });
    }
    parse_duration(v).map_err(|e| FlagError::BadDuration {
        flag: flag.into(),
        value: v.into(),
        message: e.to_string(),
    })
}

fn boolean(flag: &str, v: Option<&str>) -> Result<bool, FlagError> {
    // Go's strconv.ParseBool spellings.
    match v {
        None => Ok(true),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(other) => Err(FlagError::BadBool {
            flag: flag.into(),
            value: other.into(),
        }),
    }
}

fn integer(flag: &str, v: &str) -> Result<i64, FlagError> {
    v.trim().parse::<i64>().map_err(|_| FlagError::BadInt {
        flag: flag.into(),
        value: v.into(),
    })
}

fn non_negative_u32(flag: &str, v: &str) -> Result<u32, FlagError> {
    let n = integer(flag, v)?;
    u32::try_from(n).map_err(|_| FlagError::OutOfRange {
        flag: flag.into(),
        value: v.into(),
        min: "0".into(),
        max: u32::MAX.to_string(),
    })
}

/// `<min>:<max>` as upstream's `parseMinMaxFlag`.
fn min_max(flag: &str, v: &str) -> Result<(i64, i64), FlagError> {
    let bad = |message: &str| FlagError::Invalid {
        flag: flag.into(),
        message: format!("{message} (expected <min>:<max>, e.g. 0:320000), got {v:?}"),
    };
    let (a, b) = v.split_once(':').ok_or_else(|| bad("missing ':'"))?;
    let min = a.trim().parse::<i64>().map_err(|_| bad("min is not a whole number"))?;
    let max = b.trim().parse::<i64>().map_err(|_| bad("max is not a whole number"))?;
    if min < 0 || max < 0 {
        return Err(bad("limits must not be negative"));
    }
    if min > max {
        return Err(bad("min is greater than max"));
    }
    Ok((min, max))
}

fn need<'v>(flag: &str, v: Option<&'v str>) -> Result<&'v str, FlagError> {
    v.ok_or_else(|| FlagError::MissingValue { flag: flag.into() })
}

fn apply(out: &mut ParsedFlags, name: &str, v: Option<&str>) -> Result<(), FlagError> {
    let f = &mut out.flags;
    match name {
        "scan-interval" => {
            let d = duration(name, need(name, v)?)?;
            if d.is_zero() {
                return Err(FlagError::Invalid {
                    flag: name.into(),
                    message: "must be greater than 0".into(),
                });
            }
            f.scan_interval = d;
        }
        "expander" => f.expanders = parse_expanders(need(name, v)?)?,
        "scale-down-enabled" => f.scale_down_enabled = boolean(name, v)?,
        "scale-down-delay-after-add" => f.scale_down_delay_after_add = duration(name, need(name, v)?)?,
        "scale-down-delay-after-delete" => f.scale_down_delay_after_delete = duration(name, need(name, v)?)?,
        "scale-down-delay-after-failure" => f.scale_down_delay_after_failure = duration(name, need(name, v)?)?,
        "scale-down-unneeded-time" => f.scale_down_unneeded_time = duration(name, need(name, v)?)?,
        "scale-down-unready-time" => f.scale_down_unready_time = duration(name, need(name, v)?)?,
        "scale-down-unready-enabled" => f.scale_down_unready_enabled = boolean(name, v)?,
        "scale-down-utilization-threshold" => {
            let s = need(name, v)?;
            let x = s.trim().parse::<f64>().map_err(|_| FlagError::BadFloat {
                flag: name.into(),
                value: s.into(),
            })?;
            if !(0.0..=1.0).contains(&x) {
                return Err(FlagError::OutOfRange {
                    flag: name.into(),
                    value: s.into(),
                    min: "0".into(),
                    max: "1".into(),
                });
            }
            f.scale_down_utilization_threshold = x;
        }
        "scale-down-non-empty-candidates-count" => {
            f.scale_down_non_empty_candidates_count = integer(name, need(name, v)?)?;
        }
        "max-scale-down-parallelism" => f.max_scale_down_parallelism = non_negative_u32(name, need(name, v)?)?,
        "max-empty-bulk-delete" => {
            // upstream: removed in CA 1.33; earlier a deprecated alias of max-scale-down-parallelism.
            f.max_scale_down_parallelism = non_negative_u32(name, need(name, v)?)?;
            out.warnings.push(
                "--max-empty-bulk-delete was removed in cluster-autoscaler 1.33; treated as --max-scale-down-parallelism"
                    .to_string(),
            );
        }
        "max-drain-parallelism" => f.max_drain_parallelism = non_negative_u32(name, need(name, v)?)?,
        "max-graceful-termination-sec" => {
            f.max_graceful_termination_sec = u64::from(non_negative_u32(name, need(name, v)?)?);
        }
        "max-pod-eviction-time" => f.max_pod_eviction_time = duration(name, need(name, v)?)?,
        "max-node-provision-time" => f.max_node_provision_time = duration(name, need(name, v)?)?,
        "new-pod-scale-up-delay" => f.new_pod_scale_up_delay = duration(name, need(name, v)?)?,
        "max-nodes-total" => f.max_nodes_total = non_negative_u32(name, need(name, v)?)?,
        "max-nodes-per-scaleup" => f.max_nodes_per_scaleup = non_negative_u32(name, need(name, v)?)?,
        "cores-total" => f.cores_total = min_max(name, need(name, v)?)?,
        "memory-total" => f.memory_total_gib = min_max(name, need(name, v)?)?,
        "expendable-pods-priority-cutoff" => {
            let s = need(name, v)?;
            let n = integer(name, s)?;
            f.expendable_pods_priority_cutoff = i32::try_from(n).map_err(|_| FlagError::OutOfRange {
                flag: name.into(),
                value: s.into(),
                min: i32::MIN.to_string(),
                max: i32::MAX.to_string(),
            })?;
        }
        "skip-nodes-with-system-pods" => f.skip_nodes_with_system_pods = boolean(name, v)?,
        "skip-nodes-with-local-storage" => f.skip_nodes_with_local_storage = boolean(name, v)?,
        "ignore-daemonsets-utilization" => f.ignore_daemonsets_utilization = boolean(name, v)?,
        "balance-similar-node-groups" => f.balance_similar_node_groups = boolean(name, v)?,
        "initial-node-group-backoff-duration" => {
            f.initial_node_group_backoff_duration = duration(name, need(name, v)?)?;
        }
        "max-node-group-backoff-duration" => f.max_node_group_backoff_duration = duration(name, need(name, v)?)?,
        "node-group-backoff-reset-timeout" => f.node_group_backoff_reset_timeout = duration(name, need(name, v)?)?,
        "parallel-drain" | "parallel-scale-up" => {
            if boolean(name, v)? {
                out.warnings
                    .push(format!("--{name}=true is parsed but not modelled by capsim"));
            }
        }
        _ => unreachable_flag(out, name),
    }
    Ok(())
}

/// `MODELLED` and `apply` list the same names; a name in one but not the other is a capsim bug,
/// reported as a warning rather than a panic.
fn unreachable_flag(out: &mut ParsedFlags, name: &str) {
    out.warnings.push(format!(
        "capsim bug: flag --{name} is listed as modelled but has no handler; ignored"
    ));
}

/// `--expander=priority,least-waste`: names in chain order, no duplicates.
pub fn parse_expanders(v: &str) -> Result<Vec<ExpanderKind>, FlagError> {
    let mut out = Vec::new();
    for name in v.split(',') {
        let name = name.trim();
        if name == "grpc" {
            return Err(FlagError::Invalid {
                flag: "expander".into(),
                message: "the grpc expander calls an external server and cannot be simulated".into(),
            });
        }
        let kind = ExpanderKind::parse(name).ok_or_else(|| FlagError::UnknownExpander { name: name.into() })?;
        if out.contains(&kind) {
            return Err(FlagError::Invalid {
                flag: "expander".into(),
                message: format!("expander {name:?} is listed twice"),
            });
        }
        out.push(kind);
    }
    Ok(out)
}
