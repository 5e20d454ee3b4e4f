//! Node capacity and allocatable, estimated before a node exists.
//!
//! Kubelet rule: `allocatable = capacity − kube-reserved − system-reserved − hard eviction threshold`
//! (upstream: kubernetes/kubernetes pkg/kubelet/cm/node_container_manager_linux.go
//! `GetNodeAllocatableAbsolute`; CPU has no eviction threshold). The reservations follow Karpenter's
//! AWS estimate, the figures Karpenter itself bin-packs with and publishes in its instance-type
//! reference (the catalog's `alloc_*` columns, reproduced exactly on all 144 bundled rows):
//!
//! * capacity memory = EC2 memory − 64 MiB on arm64 (Graviton CMA) − `ceil(7.5 % × memory)`
//!   (upstream: aws/karpenter-provider-aws pkg/providers/instancetype/types.go `memory`, operator
//!   setting `--vm-memory-overhead-percent`, default 0.075);
//! * pods = `kubelet.maxPods` if set, else the ENI-limited count (catalog `max_pods`), capped by
//!   `podsPerCore × vCPU` when set (types.go `pods`);
//! * kube-reserved CPU: 6 % of the first core, 1 % of the second, 0.5 % of cores 3–4, 0.25 % of
//!   the rest, each band truncated to whole millicores; kube-reserved memory `11 × pods + 255` MiB
//!   with the ENI-limited pod count even when `maxPods` is overridden (AL2/AL2023)
//!   (types.go `kubeReservedResources`, AMI feature flag `UsesENILimitedMemoryOverhead`);
//! * system-reserved: only if configured;
//! * eviction threshold: `memory.available` 100 Mi unless `evictionHard` says otherwise, percentages
//!   as `ceil(capacity / 100 × p)` of capacity memory (types.go `evictionThreshold`,
//!   `computeEvictionSignal`; kubelet default `memory.available<100Mi`). `evictionSoft` does not
//!   reduce allocatable in current Karpenter, so it is not modelled.
//!
//! See /work/shared/research-notes/semantics.md §6. DaemonSet overhead is subtracted by the
//! simulation, not here.

use super::catalog::{Arch, InstanceType};
use crate::model::Resources;
use crate::model::resources::MIB;

/// `--vm-memory-overhead-percent` default.
/// upstream: aws/karpenter-provider-aws pkg/operator/options/options.go (`VMMemoryOverheadPercent` 0.075).
pub const VM_MEMORY_OVERHEAD_PERCENT: f64 = 0.075;
/// Graviton instances reserve 64 MiB of CMA memory the OS cannot use.
/// upstream: aws/karpenter-provider-aws pkg/providers/instancetype/types.go `memory`.
pub const ARM64_CMA_MIB: i64 = 64;
/// Default hard eviction threshold for memory (`memory.available<100Mi`).
/// upstream: kubernetes/kubernetes pkg/kubelet/eviction/defaults_linux.go; Karpenter types.go `evictionThreshold`.
pub const DEFAULT_EVICTION_MEMORY: i64 = 100 * MIB;

/// kube-reserved CPU bands: (start millicores, end millicores, fraction).
/// upstream: aws/karpenter-provider-aws pkg/providers/instancetype/types.go `kubeReservedResources`
/// (itself from bottlerocket-os/bottlerocket PR 1388).
const KUBE_RESERVED_CPU_BANDS: [(i64, i64, f64); 4] = [
    (0, 1000, 0.06),
    (1000, 2000, 0.01),
    (2000, 4000, 0.005),
    (4000, 1 << 31, 0.0025),
];

/// An explicit reservation (`kubeReserved` / `systemReserved`): each resource replaces the
/// computed value only when set (Karpenter merges them key by key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reserved {
    /// Millicores.
    pub cpu_m: Option<i64>,
    /// Bytes.
    pub memory: Option<i64>,
}

/// A `memory.available` eviction threshold: an absolute quantity or a percentage of capacity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EvictionThreshold {
    /// Bytes.
    Quantity(i64),
    /// Percentage points of capacity memory (`"10%"` is `Percent(10.0)`); `100%` disables the
    /// threshold (kubelet config API), so it counts as zero.
    Percent(f64),
}

impl EvictionThreshold {
    /// `"500Mi"`, `"10%"`, as written in `evictionHard`.
    pub fn parse(s: &str) -> Result<EvictionThreshold, String> {
        let s = s.trim();
        if let Some(p) = s.strip_suffix('%') {
            return match p.trim().parse::<f64>() {
                Ok(v) if (0.0..=100.0).contains(&v) => Ok(EvictionThreshold::Percent(v)),
                _ => Err(format!("expected a percentage between 0% and 100%, got {s:?}")),
            };
        }
        let q = crate::model::units::Quantity::parse(s).map_err(|e| e.to_string())?;
        match q.value() {
            v if v >= 0 => Ok(EvictionThreshold::Quantity(v)),
            _ => Err(format!("must not be negative, got {s:?}")),
        }
    }

    /// Bytes for a node with `capacity_memory` bytes: `ceil(capacity / 100 × p)`, 100 % counting as 0.
    /// upstream: aws/karpenter-provider-aws pkg/providers/instancetype/types.go
    /// `computeEvictionSignal`, `mustParsePercentage`.
    pub fn bytes(&self, capacity_memory: i64) -> i64 {
        match *self {
            EvictionThreshold::Quantity(b) => b,
            EvictionThreshold::Percent(p) if p >= 100.0 => 0,
            EvictionThreshold::Percent(p) => (capacity_memory as f64 / 100.0 * p).ceil() as i64,
        }
    }
}

/// The EC2NodeClass `spec.kubelet` settings that change capacity or allocatable.
/// upstream: aws/karpenter-provider-aws pkg/apis/v1/ec2nodeclass.go `KubeletConfiguration`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct KubeletConfig {
    /// `maxPods`: replaces the ENI-limited pod count.
    pub max_pods: Option<u32>,
    /// `podsPerCore`: caps pods at `podsPerCore × vCPU`.
    pub pods_per_core: Option<u32>,
    /// `kubeReserved`.
    pub kube_reserved: Reserved,
    /// `systemReserved`.
    pub system_reserved: Reserved,
    /// `evictionHard["memory.available"]`.
    pub eviction_hard: Option<EvictionThreshold>,
}

/// The estimate with its parts, for reports and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeResources {
    pub capacity: Resources,
    pub kube_reserved: Resources,
    pub system_reserved: Resources,
    /// Memory eviction threshold (CPU and pods are zero).
    pub eviction: Resources,
    /// `capacity − kube_reserved − system_reserved − eviction`, floored at zero per resource.
    pub allocatable: Resources,
}

/// kube-reserved CPU in millicores for `vcpu` cores (2 → 70, 4 → 80, 8 → 90, 16 → 110).
pub fn kube_reserved_cpu_m(vcpu: u32) -> i64 {
    let cpu = i64::from(vcpu) * 1000;
    KUBE_RESERVED_CPU_BANDS
        .iter()
        .filter(|(start, _, _)| cpu >= *start)
        .map(|&(start, end, fraction)| {
            let width = if cpu < end { cpu - start } else { end - start };
            // Each band truncated to whole millicores, as upstream's `int64(r*percentage)`.
            (width as f64 * fraction) as i64
        })
        .sum()
}

/// kube-reserved memory in MiB for a pod count: `11 × pods + 255`.
pub fn kube_reserved_memory_mib(pods: u32) -> i64 {
    11 * i64::from(pods) + 255
}

/// Capacity memory in MiB: EC2 memory less the arm64 CMA and the VM overhead (rounded up).
pub fn capacity_memory_mib(memory_mib: i64, arch: Arch, vm_overhead: f64) -> i64 {
    let mib = if arch == Arch::Arm64 {
        memory_mib - ARM64_CMA_MIB
    } else {
        memory_mib
    };
    mib - (mib as f64 * vm_overhead).ceil() as i64
}

/// Pod capacity: `maxPods` if set, else ENI-limited; then capped by `podsPerCore × vCPU`.
pub fn pod_capacity(it: &InstanceType, kubelet: &KubeletConfig) -> u32 {
    let pods = kubelet.max_pods.unwrap_or(it.max_pods);
    match kubelet.pods_per_core {
        Some(ppc) if ppc > 0 => pods.min(ppc.saturating_mul(it.vcpu)),
        _ => pods,
    }
}

/// Karpenter's estimate of a node of type `it` with `kubelet` settings.
pub fn estimate(it: &InstanceType, kubelet: &KubeletConfig) -> NodeResources {
    estimate_with_overhead(it, kubelet, VM_MEMORY_OVERHEAD_PERCENT)
}

/// As [`estimate`] with an explicit `--vm-memory-overhead-percent`.
pub fn estimate_with_overhead(it: &InstanceType, kubelet: &KubeletConfig, vm_overhead: f64) -> NodeResources {
    let pods = pod_capacity(it, kubelet);
    let capacity = Resources::new(
        i64::from(it.vcpu) * 1000,
        capacity_memory_mib(it.memory_mib, it.arch, vm_overhead) * MIB,
        i64::from(pods),
    );
    // AL2023 computes the memory reservation from the ENI-limited pod count even with maxPods set.
    let kube_reserved = Resources::new(
        kubelet
            .kube_reserved
            .cpu_m
            .unwrap_or_else(|| kube_reserved_cpu_m(it.vcpu)),
        kubelet
            .kube_reserved
            .memory
            .unwrap_or_else(|| kube_reserved_memory_mib(it.max_pods) * MIB),
        0,
    );
    let system_reserved = Resources::new(
        kubelet.system_reserved.cpu_m.unwrap_or(0),
        kubelet.system_reserved.memory.unwrap_or(0),
        0,
    );
    let eviction_memory = kubelet
        .eviction_hard
        .map_or(DEFAULT_EVICTION_MEMORY, |t| t.bytes(capacity.mem));
    let eviction = Resources::new(0, eviction_memory, 0);
    let allocatable = capacity
        .saturating_sub(&kube_reserved)
        .saturating_sub(&system_reserved)
        .saturating_sub(&eviction);
    NodeResources {
        capacity,
        kube_reserved,
        system_reserved,
        eviction,
        allocatable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Catalog;

    #[test]
    fn kube_reserved_cpu_tiers() {
        // 1 core: 6 % of 1000 = 60; 2: +1 % of 1000 = 70; 4: +0.5 % of 2000 = 80;
        // 8: +0.25 % of 4000 = 90; 16: +0.25 % of 12000 = 110; 64: 80 + 0.25 % of 60000 = 230.
        for (vcpu, want) in [(1, 60), (2, 70), (4, 80), (8, 90), (16, 110), (64, 230)] {
            assert_eq!(kube_reserved_cpu_m(vcpu), want, "{vcpu} vCPU");
        }
    }

    #[test]
    fn m5_large_by_hand() {
        // m5.large: 8192 MiB − ceil(614.4) = 7577 MiB capacity; kube-reserved 11×29+255 = 574 MiB;
        // eviction 100 MiB → 6903 MiB. CPU 2000 − 70 = 1930 m. Karpenter publishes 1930 m / 6903 MiB.
        let c = Catalog::bundled();
        let it = c.get("m5.large").expect("m5.large");
        let r = estimate(it, &KubeletConfig::default());
        assert_eq!(r.capacity, Resources::new(2000, 7577 * MIB, 29));
        assert_eq!(r.allocatable, Resources::new(1930, 6903 * MIB, 29));
        assert_eq!(it.allocatable(), r.allocatable);
    }

    #[test]
    fn graviton_loses_cma_memory() {
        // m6g.large: (8192 − 64) = 8128; ceil(8128 × 0.075 = 609.6) = 610 → 7518 MiB capacity.
        let c = Catalog::bundled();
        let it = c.get("m6g.large").expect("m6g.large");
        assert_eq!(it.capacity().mem, 7518 * MIB);
    }

    #[test]
    fn kubelet_overrides() {
        let c = Catalog::bundled();
        let it = c.get("m5.xlarge").expect("m5.xlarge"); // 4 vCPU, 16384 MiB, 58 pods
        let cap_mib = 16384 - 1229; // ceil(1228.8)
        // maxPods 110 changes pod capacity but not the memory reservation (ENI-limited 58 pods).
        let k = KubeletConfig {
            max_pods: Some(110),
            ..Default::default()
        };
        let r = estimate(it, &k);
        assert_eq!(r.capacity.pods, 110);
        assert_eq!(r.kube_reserved.mem, (11 * 58 + 255) * MIB);
        // podsPerCore 10 caps at 40.
        let k = KubeletConfig {
            pods_per_core: Some(10),
            ..Default::default()
        };
        assert_eq!(pod_capacity(it, &k), 40);
        // Explicit reservations and a percentage eviction threshold.
        let k = KubeletConfig {
            kube_reserved: Reserved {
                cpu_m: Some(200),
                memory: None,
            },
            system_reserved: Reserved {
                cpu_m: Some(100),
                memory: Some(500 * MIB),
            },
            eviction_hard: Some(EvictionThreshold::Percent(10.0)),
            ..Default::default()
        };
        let r = estimate(it, &k);
        let cap = cap_mib * MIB;
        let evict = (cap as f64 / 100.0 * 10.0).ceil() as i64;
        assert_eq!(r.allocatable.cpu_m, 4000 - 200 - 100);
        assert_eq!(r.allocatable.mem, cap - (11 * 58 + 255) * MIB - 500 * MIB - evict);
    }

    #[test]
    fn reservations_larger_than_capacity_floor_at_zero() {
        let c = Catalog::bundled();
        let it = c.get("t3.medium").expect("t3.medium");
        let k = KubeletConfig {
            system_reserved: Reserved {
                cpu_m: Some(1_000_000),
                memory: Some(1 << 50),
            },
            ..Default::default()
        };
        let a = it.allocatable_with(&k);
        assert_eq!((a.cpu_m, a.mem), (0, 0));
    }

    #[test]
    fn eviction_threshold_parsing() {
        assert_eq!(EvictionThreshold::parse("10%"), Ok(EvictionThreshold::Percent(10.0)));
        assert_eq!(EvictionThreshold::parse("1000"), Ok(EvictionThreshold::Quantity(1000)));
        assert!(EvictionThreshold::parse("150%").is_err());
        assert!(EvictionThreshold::parse("x%").is_err());
        assert!(EvictionThreshold::parse("lots").is_err());
        // ceil(1001 / 100 × 10) = ceil(100.1) = 101; 100 % disables the threshold.
        assert_eq!(EvictionThreshold::Percent(10.0).bytes(1001), 101);
        assert_eq!(EvictionThreshold::Percent(100.0).bytes(1001), 0);
    }

    #[test]
    fn eviction_threshold_binary_suffix() {
        assert_eq!(
            EvictionThreshold::parse("500Mi"),
            Ok(EvictionThreshold::Quantity(500 * MIB))
        );
    }
}
