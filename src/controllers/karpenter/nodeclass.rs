//! `karpenter.k8s.aws/v1 EC2NodeClass`: only the kubelet settings that change a node's capacity or
//! allocatable are modelled (upstream: aws/karpenter-provider-aws pkg/apis/v1/ec2nodeclass.go
//! `KubeletConfiguration`); AMI, subnets, security groups and the rest are accepted and ignored.

use super::KarpenterError;
use crate::cloud::KubeletConfig;
use crate::cloud::allocatable::{EvictionThreshold, Reserved};
use crate::model::units::Qty;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The EC2NodeClass kubelet settings capsim honours (the cloud's allocatable estimate applies
/// them).
pub type KubeletOverrides = KubeletConfig;

/// A validated EC2NodeClass.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeClass {
    pub name: String,
    pub kubelet: KubeletOverrides,
}

#[derive(Deserialize)]
struct RawDoc {
    metadata: RawMeta,
    #[serde(default)]
    spec: RawSpec,
}

#[derive(Deserialize)]
struct RawMeta {
    name: String,
}

#[derive(Deserialize, Default)]
struct RawSpec {
    #[serde(default)]
    kubelet: Option<RawKubelet>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawKubelet {
    max_pods: Option<i64>,
    pods_per_core: Option<i64>,
    #[serde(default)]
    kube_reserved: BTreeMap<String, Qty>,
    #[serde(default)]
    system_reserved: BTreeMap<String, Qty>,
    #[serde(default)]
    eviction_hard: BTreeMap<String, String>,
}

impl NodeClass {
    pub fn from_value(value: &serde_json::Value) -> Result<NodeClass, KarpenterError> {
        let name = value
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            .unwrap_or("<unnamed>")
            .to_string();
        let err = |path: String, message: String| KarpenterError::NodeClass {
            name: name.clone(),
            path,
            message,
        };
        let raw: RawDoc =
            serde_path_to_error::deserialize(value).map_err(|e| err(e.path().to_string(), e.inner().to_string()))?;
        let mut kubelet = KubeletOverrides::default();
        if let Some(k) = raw.spec.kubelet {
            let count = |v: Option<i64>, field: &str| -> Result<Option<u32>, KarpenterError> {
                match v {
                    None => Ok(None),
                    Some(n) => u32::try_from(n)
                        .map(Some)
                        .map_err(|_| err(format!("spec.kubelet.{field}"), format!("must be >= 0, got {n}"))),
                }
            };
            kubelet.max_pods = count(k.max_pods, "maxPods")?;
            kubelet.pods_per_core = count(k.pods_per_core, "podsPerCore")?;
            kubelet.kube_reserved = reserved(&k.kube_reserved, "kubeReserved", &err)?;
            kubelet.system_reserved = reserved(&k.system_reserved, "systemReserved", &err)?;
            if let Some(v) = k.eviction_hard.get("memory.available") {
                kubelet.eviction_hard = Some(
                    EvictionThreshold::parse(v)
                        .map_err(|m| err("spec.kubelet.evictionHard.memory.available".into(), m))?,
                );
            }
        }
        Ok(NodeClass {
            name: raw.metadata.name,
            kubelet,
        })
    }
}

fn reserved(
    m: &BTreeMap<String, Qty>,
    field: &str,
    err: &dyn Fn(String, String) -> KarpenterError,
) -> Result<Reserved, KarpenterError> {
    let mut r = Reserved::default();
    for (k, q) in m {
        if q.0.is_negative() {
            return Err(err(
                format!("spec.kubelet.{field}.{k}"),
                format!("must not be negative, got {q}"),
            ));
        }
        match k.as_str() {
            "cpu" => r.cpu_m = Some(q.0.milli_value()),
            "memory" => r.memory = Some(q.0.value()),
            _ => {} // ephemeral-storage, pid: not modelled
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_kubelet() {
        let nc = NodeClass::from_value(&json!({
            "apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
            "metadata": {"name": "default"},
            "spec": {"amiSelectorTerms": [{"alias": "al2023@latest"}],
                     "kubelet": {"maxPods": 20, "kubeReserved": {"cpu": "200m", "memory": "1Gi"},
                                 "evictionHard": {"memory.available": "5%"}}}
        }))
        .expect("valid");
        assert_eq!(nc.kubelet.max_pods, Some(20));
        assert_eq!(nc.kubelet.kube_reserved.cpu_m, Some(200));
        assert_eq!(nc.kubelet.kube_reserved.memory, Some(1 << 30));
        // 5% of 1000 bytes = 50
        assert_eq!(nc.kubelet.eviction_hard.map(|e| e.bytes(1000)), Some(50));
    }

    #[test]
    fn negative_max_pods_is_an_error() {
        let e = NodeClass::from_value(&json!({"metadata": {"name": "x"}, "spec": {"kubelet": {"maxPods": -1}}}))
            .expect_err("bad");
        assert!(e.to_string().contains("spec.kubelet.maxPods"), "{e}");
    }
}
