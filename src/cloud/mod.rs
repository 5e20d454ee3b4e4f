//! The cloud: instance catalog, node allocatable, prices and billing, latency distributions and
//! spot interruptions.
//!
//! * [`catalog`]: the bundled AWS table (or `--catalog FILE`), indexed by name, with well-known labels.
//! * [`allocatable`]: capacity − kube-reserved − system-reserved − eviction threshold (Karpenter's
//!   AWS estimate) with EC2NodeClass kubelet overrides.
//! * [`latency`]: stage-latency distributions as scenarios write them, and cited defaults.
//! * [`billing`]: per-second billing with a 60 s minimum, the cost ledger, cost per workload.
//! * [`spot`]: interruption band → rate → sampled time to interruption; the 2-minute notice.

pub mod allocatable;
pub mod billing;
pub mod catalog;
pub mod latency;
pub mod spot;
mod stats;

pub use allocatable::KubeletConfig;
pub use billing::{CostLedger, CostReport, instance_cost};
pub use catalog::{Arch, Catalog, CatalogError, InstanceType};
pub use latency::{Distribution, DistributionSpec};
pub use spot::InterruptionBand;
