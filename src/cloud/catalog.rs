//! The instance catalog.
//! OWNER: cloud helper — placeholder, to be replaced by the full implementation.

use crate::model::Resources;

#[derive(Clone, Debug, PartialEq)]
pub struct InstanceType {
    pub name: String,
    pub vcpu: u32,
    pub memory_mib: i64,
    pub max_pods: u32,
    pub od_price_hr: f64,
    pub spot_price_hr: Option<f64>,
}

impl InstanceType {
    /// Capacity as the kubelet reports it.
    pub fn capacity(&self) -> Resources {
        Resources::new(
            i64::from(self.vcpu) * 1000,
            self.memory_mib * 1024 * 1024,
            i64::from(self.max_pods),
        )
    }
    /// Allocatable: capacity minus kube-reserved and the eviction threshold.
    pub fn allocatable(&self) -> Resources {
        self.capacity()
    }
}

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub types: Vec<InstanceType>,
}

impl Catalog {
    pub fn get(&self, name: &str) -> Option<&InstanceType> {
        self.types.iter().find(|t| t.name == name)
    }
}
