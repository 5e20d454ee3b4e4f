//! The catalog adapter and the unavailable-offerings (ICE) cache.
//!
//! Everything Karpenter needs from `crate::cloud::Catalog` goes through [`TypeInfo`], built once
//! per instance type in [`catalog_types`]: the switch to a new catalog API is this one function.

use super::nodeclass::KubeletOverrides;
use crate::cloud::{Catalog, InstanceType};
use crate::engine::SimTime;
use crate::model::{CapacityType, Labels, Resources};
use std::collections::BTreeMap;

pub const LABEL_INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";
pub const LABEL_ARCH: &str = "kubernetes.io/arch";
pub const LABEL_OS: &str = "kubernetes.io/os";
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
pub const LABEL_CAPACITY_TYPE: &str = "karpenter.sh/capacity-type";
pub const LABEL_NODEPOOL: &str = "karpenter.sh/nodepool";
pub const LABEL_CATEGORY: &str = "karpenter.k8s.aws/instance-category";
pub const LABEL_FAMILY: &str = "karpenter.k8s.aws/instance-family";
pub const LABEL_GENERATION: &str = "karpenter.k8s.aws/instance-generation";
pub const LABEL_SIZE: &str = "karpenter.k8s.aws/instance-size";
pub const LABEL_CPU: &str = "karpenter.k8s.aws/instance-cpu";
pub const LABEL_MEMORY: &str = "karpenter.k8s.aws/instance-memory";
/// capsim: names the NodeClaim a node was launched for, so the provisioner can find the node the
/// world created for a launch (the world assigns node ids and names).
pub const LABEL_NODECLAIM: &str = "capsim.dev/nodeclaim";

/// Well-known label keys a NodePool requirement may constrain, validated against the catalog.
/// upstream: aws/karpenter-provider-aws pkg/apis/v1/labels.go, kubernetes-sigs/karpenter
/// pkg/apis/v1/labels.go `WellKnownLabels`.
pub const WELL_KNOWN_KEYS: [&str; 10] = [
    LABEL_CATEGORY,
    LABEL_FAMILY,
    LABEL_SIZE,
    LABEL_CPU,
    LABEL_MEMORY,
    LABEL_GENERATION,
    LABEL_CAPACITY_TYPE,
    LABEL_ARCH,
    LABEL_ZONE,
    LABEL_INSTANCE_TYPE,
];

/// What Karpenter knows about an instance type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeInfo {
    pub name: String,
    pub vcpu: u32,
    pub memory_mib: i64,
    pub arch: String,
    pub od_price_hr: f64,
    pub spot_price_hr: Option<f64>,
    /// Well-known labels of the type (instance-type, arch, os, karpenter.k8s.aws/instance-*).
    pub labels: Labels,
    base_capacity: Resources,
    base_allocatable: Resources,
}

impl TypeInfo {
    pub fn price(&self, ct: CapacityType) -> Option<f64> {
        match ct {
            CapacityType::OnDemand => Some(self.od_price_hr),
            CapacityType::Spot => self.spot_price_hr,
        }
    }

    /// Capacity with the EC2NodeClass kubelet overrides (maxPods, podsPerCore).
    pub fn capacity(&self, k: &KubeletOverrides) -> Resources {
        let mut c = self.base_capacity;
        if let Some(mp) = k.max_pods {
            c.pods = i64::from(mp);
        }
        if let Some(ppc) = k.pods_per_core.filter(|&p| p > 0) {
            c.pods = c.pods.min(i64::from(ppc) * i64::from(self.vcpu));
        }
        c
    }

    /// Allocatable with the kubelet overrides: where the NodeClass sets kubeReserved,
    /// systemReserved or evictionHard they replace the catalog's estimate of that part.
    /// upstream: aws/karpenter-provider-aws pkg/providers/instancetype/types.go `allocatable`
    /// (capacity − kubeReserved − systemReserved − evictionThreshold).
    pub fn allocatable(&self, k: &KubeletOverrides) -> Resources {
        let cap = self.capacity(k);
        // The catalog's default overhead (kube-reserved + eviction), per resource.
        let default_overhead = self.base_capacity.saturating_sub(&self.base_allocatable);
        let kube_cpu = k.kube_reserved.cpu_m.unwrap_or(default_overhead.cpu_m);
        let sys_cpu = k.system_reserved.cpu_m.unwrap_or(0);
        let mem_overhead = match (k.kube_reserved.memory, k.eviction_hard_memory(cap.mem)) {
            (None, None) => default_overhead.mem,
            (kr, ev) => kr.unwrap_or(0) + ev.unwrap_or(0),
        };
        let sys_mem = k.system_reserved.memory.unwrap_or(0);
        Resources::new(
            (cap.cpu_m - kube_cpu - sys_cpu).max(0),
            (cap.mem - mem_overhead - sys_mem).max(0),
            cap.pods,
        )
    }
}

/// Builds Karpenter's view of every catalog type, sorted by name.
pub fn catalog_types(catalog: &Catalog) -> Vec<TypeInfo> {
    let mut v: Vec<TypeInfo> = catalog.types.iter().map(type_info).collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

fn type_info(it: &InstanceType) -> TypeInfo {
    let arch = infer_arch(&it.name);
    let mut labels = Labels::new();
    labels.insert(LABEL_INSTANCE_TYPE.into(), it.name.clone());
    labels.insert(LABEL_ARCH.into(), arch.clone());
    labels.insert(LABEL_OS.into(), "linux".into());
    if let Some((family, size)) = it.name.split_once('.') {
        labels.insert(LABEL_FAMILY.into(), family.into());
        labels.insert(LABEL_SIZE.into(), size.into());
        let category: String = family.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        let generation: String = family[category.len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if !category.is_empty() && !generation.is_empty() {
            labels.insert(LABEL_CATEGORY.into(), category);
            labels.insert(LABEL_GENERATION.into(), generation);
        }
    }
    labels.insert(LABEL_CPU.into(), it.vcpu.to_string());
    labels.insert(LABEL_MEMORY.into(), it.memory_mib.to_string());
    TypeInfo {
        name: it.name.clone(),
        vcpu: it.vcpu,
        memory_mib: it.memory_mib,
        arch,
        od_price_hr: it.od_price_hr,
        spot_price_hr: it.spot_price_hr,
        labels,
        base_capacity: it.capacity(),
        base_allocatable: it.allocatable(),
    }
}

/// AWS names Graviton families with a `g` among the attribute letters after the generation
/// (`m6g`, `c7gn`, `r8gd`); everything else in the catalog is x86-64.
fn infer_arch(name: &str) -> String {
    let family = name.split('.').next().unwrap_or("");
    let attrs: String = family
        .chars()
        .skip_while(|c| c.is_ascii_alphabetic())
        .skip_while(|c| c.is_ascii_digit())
        .collect();
    if attrs.contains('g') { "arm64" } else { "amd64" }.to_string()
}

/// One launchable offering: an instance type in a zone with a capacity type.
#[derive(Clone, Debug, PartialEq)]
pub struct Offering {
    pub type_idx: usize,
    pub capacity_type: CapacityType,
    pub zone: String,
    pub price_hr: f64,
}

/// upstream: aws/karpenter-provider-aws pkg/cache/unavailableofferings.go: offerings that failed
/// with insufficient capacity (or were interrupted) are skipped until their entry expires.
#[derive(Clone, Debug, Default)]
pub struct IceCache {
    until: BTreeMap<(String, CapacityType, String), SimTime>,
}

impl IceCache {
    pub fn mark(&mut self, instance_type: &str, ct: CapacityType, zone: &str, until: SimTime) {
        let e = self
            .until
            .entry((instance_type.to_string(), ct, zone.to_string()))
            .or_insert(until);
        *e = (*e).max(until);
    }

    pub fn is_unavailable(&self, instance_type: &str, ct: CapacityType, zone: &str, now: SimTime) -> bool {
        self.until
            .get(&(instance_type.to_string(), ct, zone.to_string()))
            .is_some_and(|&t| now < t)
    }

    /// Drops expired entries; returns true when any expired (pending pods deserve a new look).
    pub fn expire(&mut self, now: SimTime) -> bool {
        let before = self.until.len();
        self.until.retain(|_, t| now < *t);
        self.until.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_and_name_parts() {
        assert_eq!(infer_arch("m6g.large"), "arm64");
        assert_eq!(infer_arch("c7gn.xlarge"), "arm64");
        assert_eq!(infer_arch("m5.large"), "amd64");
        assert_eq!(infer_arch("m5dn.large"), "amd64");
        let t = type_info(&InstanceType {
            name: "c6i.2xlarge".into(),
            vcpu: 8,
            memory_mib: 16384,
            max_pods: 58,
            od_price_hr: 0.34,
            spot_price_hr: Some(0.12),
        });
        assert_eq!(t.labels.get(LABEL_CATEGORY).map(String::as_str), Some("c"));
        assert_eq!(t.labels.get(LABEL_GENERATION).map(String::as_str), Some("6"));
        assert_eq!(t.labels.get(LABEL_FAMILY).map(String::as_str), Some("c6i"));
        assert_eq!(t.labels.get(LABEL_SIZE).map(String::as_str), Some("2xlarge"));
        assert_eq!(t.labels.get(LABEL_CPU).map(String::as_str), Some("8"));
    }

    #[test]
    fn ice_cache_expires() {
        let mut c = IceCache::default();
        c.mark("m5.large", CapacityType::Spot, "a", SimTime::from_secs(180));
        assert!(c.is_unavailable("m5.large", CapacityType::Spot, "a", SimTime::from_secs(179)));
        assert!(!c.is_unavailable("m5.large", CapacityType::OnDemand, "a", SimTime::from_secs(1)));
        assert!(!c.expire(SimTime::from_secs(179)));
        assert!(c.expire(SimTime::from_secs(180)));
        assert!(!c.is_unavailable("m5.large", CapacityType::Spot, "a", SimTime::from_secs(179)));
    }
}
