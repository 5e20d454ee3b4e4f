//! Default stage latencies, each derived from /work/shared/research-notes/latency.md (cited as
//! `latency.md:LINE`, with the primary source named). None of these were measured by us; where the
//! notes give a range, the median sits inside it and the p95 covers the reported tail. Scenarios
//! override every stage.
//!
//! Both provisioners launch the same EC2 instances with the same EKS AMI, so the boot stages
//! (running → registered → Ready) share their figures; they differ in the launch step: Cluster
//! Autoscaler changes an Auto Scaling group's desired size and the ASG starts the instance in its
//! own activity, Karpenter calls EC2 CreateFleet directly.

use super::Distribution;
use crate::engine::SimDuration;

/// Node lifecycle stage latencies.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeStages {
    /// Request → instance running (billing starts).
    pub launch: Distribution,
    /// Running → kubelet registered (Node object exists).
    pub register: Distribution,
    /// Registered → Ready (CNI up, DaemonSets).
    pub ready: Distribution,
    /// Terminate call → instance gone (billing ends).
    pub terminate: Distribution,
}

/// Pod start-up stage latencies.
#[derive(Clone, Debug, PartialEq)]
pub struct PodStages {
    /// Image pull on a node that has not pulled the image yet.
    pub image_pull: Distribution,
    /// Image pull when the node already has the image.
    pub image_pull_cached: Distribution,
    /// Container creation and start.
    pub container_start: Distribution,
    /// Container start → the application answers its probes.
    pub warmup: Distribution,
}

const fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

fn lognormal(median: u64, p95: u64) -> Distribution {
    Distribution::LogNormal {
        median: secs(median),
        p95: secs(p95),
    }
}

/// Running → registered, both provisioners.
/// latency.md:44-59 (awslabs/node-latency-for-k8s README, c6a.large, EKS AMI): kubelet registered
/// 19–20 s after RunInstances, i.e. ~15 s after the instance is running (pending→running ~5 s,
/// latency.md:65); latency.md:36 (aws/karpenter-provider-aws#6128) reports 70–80 s with a custom AMI
/// and latency.md:69 bimodal boots "tens vs ~80 s" → median 15 s, p95 60 s.
fn register() -> Distribution {
    lognormal(15, 60)
}

/// Registered → Ready, both provisioners.
/// latency.md:52-56 (node-latency-for-k8s): registered at 19–20 s, VPC CNI initialized at 23–25 s,
/// Node Ready at 24–30 s → 4–11 s; median 8 s, p95 20 s.
fn ready() -> Distribution {
    lognormal(8, 20)
}

/// Terminate call → billing ends. EC2 stops billing when the instance leaves `running` (it enters
/// `shutting-down` at the TerminateInstances call), so the billed tail is negligible at this scale.
/// upstream: docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html (instance
/// states and billing: shutting-down is not billed).
fn terminate() -> Distribution {
    Distribution::Constant(SimDuration::ZERO)
}

/// EKS managed node groups under Cluster Autoscaler.
///
/// Launch (scale-up request → instance running): the ASG activity plus EC2 pending → running.
/// latency.md:25 (secondary, rajatarya.github.io ch. 32): "cloud API 30–60 s" before boot;
/// latency.md:65-66: pending → running 4.9 s (daemonology.net) to ~16.5 s (ec2-coldboot-research);
/// latency.md:97 (our judgement from the above): API + boot-to-Ready 45 s–2 min typical, heavy tail
/// to 3–5 min (latency.md:23-24,26: GCE 3–4 min, EKS + CA 3–5 min end to end) → median 50 s,
/// p95 150 s. With register and ready the stage medians sum to 73 s and a long tail, inside the
/// 45 s–2 min typical band. The CA scan interval and decision time are modelled by the Cluster
/// Autoscaler loop itself, not here.
pub fn eks_managed_node_group() -> NodeStages {
    NodeStages {
        launch: lognormal(50, 150),
        register: register(),
        ready: ready(),
        terminate: terminate(),
    }
}

/// Karpenter (NodeClaim created → instance running via EC2 CreateFleet).
///
/// latency.md:35 (aws/karpenter-provider-aws#6128, maintainer): instance launched ~1 s after the
/// pod was seen; latency.md:65-66: RunInstances API 1.5 s, pending → running 4.9–16.6 s → median
/// 10 s, p95 25 s. Total to Ready median ~33 s, matching latency.md:37 (aws/karpenter-provider-aws#6165,
/// maintainer: "new nodes come up in about 30–40s") and latency.md:98 (~35–90 s typical including
/// batching). Batching (1 s idle, 10 s max) belongs to the Karpenter controller, not here.
pub fn karpenter() -> NodeStages {
    NodeStages {
        launch: lognormal(10, 25),
        register: register(),
        ready: ready(),
        terminate: terminate(),
    }
}

/// Pod start-up stages for a typical service image.
///
/// * image pull (not cached): latency.md:76 (Slacker, FAST '16): pulling is 76 % of container start
///   time; latency.md:77 (Borg): task start-up median ~25 s; latency.md:78-79 (AWS Containers blog):
///   images of a few hundred MB to >1 GiB take minutes → median 10 s, p95 60 s.
/// * image pull (cached): latency.md:80: with the image already on the node containers start
///   immediately → 0 s.
/// * container start: the non-pull 24 % of start-up (latency.md:76) → median 2 s, p95 5 s.
/// * warm-up (container start → the application answers its probes): 0 s; when the pod is Ready
///   then follows from the manifest's probes (`crate::physics::probes`: the first probe tick the
///   application answers, `periodSeconds` default 10 s). Applications with a warm-up set their own.
pub fn pod_startup() -> PodStages {
    PodStages {
        image_pull: lognormal(10, 60),
        image_pull_cached: Distribution::Constant(SimDuration::ZERO),
        container_start: lognormal(2, 5),
        warmup: Distribution::Constant(SimDuration::ZERO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs_f(d: SimDuration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn karpenter_is_faster_than_managed_node_groups() {
        let total = |n: &NodeStages| {
            secs_f(n.launch.quantile(0.5)) + secs_f(n.register.quantile(0.5)) + secs_f(n.ready.quantile(0.5))
        };
        let (ca, k) = (total(&eks_managed_node_group()), total(&karpenter()));
        // Karpenter's medians sum to 33 s (latency.md:37 "30–40 s"); CA's to 73 s (45 s–2 min).
        assert_eq!(k, 33.0);
        assert_eq!(ca, 73.0);
    }

    #[test]
    fn defaults_are_valid_distributions() {
        let n = eks_managed_node_group();
        let p = pod_startup();
        for d in [&n.launch, &n.register, &n.ready, &p.image_pull, &p.container_start] {
            assert!(d.quantile(0.95) >= d.quantile(0.5), "{d}");
        }
        assert_eq!(p.warmup.mean(), SimDuration::ZERO);
    }
}
