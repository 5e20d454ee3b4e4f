//! The catalog adapter and the unavailable-offerings (ICE) cache.
//!
//! Everything Karpenter needs from `crate::cloud::Catalog` goes through [`TypeInfo`], built once
//! per instance type in [`catalog_types`]: catalog changes touch this file only.

use crate::cloud::{Catalog, InstanceType, KubeletConfig};
use crate::engine::SimTime;
use crate::model::{CapacityType, Labels, Resources};
use std::collections::BTreeMap;

pub const LABEL_INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";
pub const LABEL_ARCH: &str = "kubernetes.io/arch";
pub const LABEL_OS: &str = "kubernetes.io/os";
pub use crate::model::labels::LABEL_ZONE;
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
    pub od_price_hr: f64,
    pub spot_price_hr: Option<f64>,
    /// Well-known labels of the type (instance-type, arch, os, karpenter.k8s.aws/instance-*).
    pub labels: Labels,
    it: InstanceType,
}

impl TypeInfo {
    pub fn price(&self, ct: CapacityType) -> Option<f64> {
        self.it.price(ct)
    }

    /// Capacity with the EC2NodeClass kubelet overrides (maxPods, podsPerCore).
    pub fn capacity(&self, k: &KubeletConfig) -> Resources {
        self.it.capacity_with(k)
    }

    /// Allocatable with the kubelet overrides: capacity − kubeReserved − systemReserved −
    /// evictionHard (upstream: aws/karpenter-provider-aws pkg/providers/instancetype/types.go,
    /// computed by `crate::cloud::allocatable`).
    pub fn allocatable(&self, k: &KubeletConfig) -> Resources {
        self.it.allocatable_with(k)
    }
}

/// Builds Karpenter's view of every catalog type, sorted by name.
pub fn catalog_types(catalog: &Catalog) -> Vec<TypeInfo> {
    let mut v: Vec<TypeInfo> = catalog
        .iter()
        .map(|it| TypeInfo {
            name: it.name.clone(),
            od_price_hr: it.od_price_hr,
            spot_price_hr: it.spot_price_hr,
            labels: it.well_known_labels(),
            it: it.clone(),
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
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

    /// Nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.until.is_empty()
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
