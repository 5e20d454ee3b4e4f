//! How a node's CPU is divided among the pods on it.
//!
//! Kubernetes sets, per pod cgroup (pkg/kubelet/cm/helpers_linux.go):
//! * `cpu.shares = MilliCPUToShares(request)` = request × 1024 / 1000, at least 2 (`MinShares`),
//!   at most 262144 (`MaxShares`); on cgroup v2 the runtime writes
//!   `cpu.weight = 1 + ((shares − 2) × 9999) / 262142` (opencontainers/runc
//!   libcontainer/cgroups/utils.go `ConvertCPUSharesToCgroupV2Value`). Both orders are the same;
//!   capsim uses the v2 weight.
//! * `cpu.cfs_quota_us = MilliCPUToQuota(limit, period)` = limit × period / 1000 (period 100 ms):
//!   a pod cannot use more than its limit; what it wants above it is throttled.
//!
//! Burstable pods sit under `kubepods/burstable`, whose own shares are the sum of its pods'
//! requests (pkg/kubelet/cm/qos_container_manager_linux.go `setCPUCgroupConfig`), BestEffort
//! under `kubepods/besteffort` with 2 shares: the hierarchy divides CPU among pods as a flat split
//! by their own weights does, which is what [`share`] computes. Under contention CFS gives every
//! runnable group CPU in proportion to its weight (kernel/sched/fair.c, `calc_group_shares`); a
//! group that wants less than its proportion keeps what it wants and the rest is divided among
//! the others — weighted max-min fairness, computed by water-filling.
//!
//! The CPU the node's pods share is its allocatable CPU after its DaemonSet pods' requests
//! (`kubepods` is sized to allocatable with `--enforce-node-allocatable=pods`, the kubelet's
//! default; system daemons are taken to use their kube-/system-reserved share).

/// kubelet `MinShares` / `MaxShares` (pkg/kubelet/cm/helpers_linux.go).
pub const MIN_SHARES: u64 = 2;
pub const MAX_SHARES: u64 = 262_144;

/// The CFS period the kubelet sets (`--cpu-cfs-quota-period`, default 100 ms).
pub const CFS_PERIOD_MS: f64 = 100.0;

/// `cpu.shares` of a pod requesting `request_m` millicores (kubelet `MilliCPUToShares`).
pub fn shares(request_m: i64) -> u64 {
    if request_m <= 0 {
        return MIN_SHARES;
    }
    ((request_m as u64).saturating_mul(1024) / 1000).clamp(MIN_SHARES, MAX_SHARES)
}

/// cgroup v2 `cpu.weight` of a pod requesting `request_m` millicores (runc's conversion of
/// [`shares`]).
pub fn weight(request_m: i64) -> f64 {
    let s = shares(request_m);
    (1 + ((s - 2) * 9999) / 262_142) as f64
}

/// One pod's claim on its node's CPU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Claim {
    /// CFS weight ([`weight`]).
    pub weight: f64,
    /// CPU it would use with the node to itself, millicores.
    pub want_m: f64,
    /// Its CPU limit (CFS quota), millicores; infinite without one.
    pub limit_m: f64,
}

/// What one pod gets.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Grant {
    /// CPU it uses, millicores.
    pub cpu_m: f64,
    /// CPU it could use if it wanted more now (its headroom for a burst of requests): its limit,
    /// bounded by its fair share and what the node has free. Request latency is computed over it.
    pub available_m: f64,
    /// Wanted above its limit: throttled by CFS quota, millicores.
    pub throttled_m: f64,
    /// Wanted within its limit but not granted because the node is contended, millicores.
    pub starved_m: f64,
}

/// Divides `capacity_m` millicores among `claims` as CFS does (module docs) and writes each
/// grant to `out` (same order). `order` is scratch space for the contended case.
pub fn share(capacity_m: f64, claims: &[Claim], out: &mut Vec<Grant>, order: &mut Vec<usize>) {
    out.clear();
    let capacity_m = capacity_m.max(0.0);
    let cap = |c: &Claim| c.want_m.min(c.limit_m).max(0.0);
    let total: f64 = claims.iter().map(cap).sum();
    if total <= capacity_m {
        // Uncontended: everyone gets what its quota allows; the rest of the node is free.
        let free = capacity_m - total;
        out.extend(claims.iter().map(|c| {
            let g = cap(c);
            Grant {
                cpu_m: g,
                available_m: c.limit_m.min(g + free),
                throttled_m: (c.want_m - c.limit_m).max(0.0),
                starved_m: 0.0,
            }
        }));
        return;
    }
    // Contended: water-filling in order of cap per weight.
    order.clear();
    order.extend(0..claims.len());
    let ratio = |i: usize| cap(&claims[i]) / claims[i].weight;
    order.sort_by(|&a, &b| ratio(a).total_cmp(&ratio(b)).then(a.cmp(&b)));
    let mut left = capacity_m;
    let mut weight_left: f64 = claims.iter().map(|c| c.weight).sum();
    let mut level = 0.0;
    out.resize(claims.len(), Grant::default());
    let mut k = 0;
    while k < order.len() {
        let i = order[k];
        level = if weight_left > 0.0 { left / weight_left } else { 0.0 };
        if ratio(i) <= level {
            out[i].cpu_m = cap(&claims[i]);
            left -= out[i].cpu_m;
            weight_left -= claims[i].weight;
            k += 1;
        } else {
            break;
        }
    }
    for &i in &order[k..] {
        out[i].cpu_m = claims[i].weight * level;
    }
    for (c, g) in claims.iter().zip(out.iter_mut()) {
        g.available_m = c.limit_m.min(g.cpu_m.max(c.weight * level));
        g.throttled_m = (c.want_m - c.limit_m).max(0.0);
        g.starved_m = (cap(c) - g.cpu_m).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(request: i64, want: f64, limit: Option<f64>) -> Claim {
        Claim {
            weight: weight(request),
            want_m: want,
            limit_m: limit.unwrap_or(f64::INFINITY),
        }
    }

    #[test]
    fn shares_follow_the_kubelet() {
        assert_eq!(shares(0), 2);
        assert_eq!(shares(1), 2);
        assert_eq!(shares(100), 102);
        assert_eq!(shares(1000), 1024);
        assert_eq!(shares(1_000_000), MAX_SHARES);
        // runc: 1024 shares -> weight 39; 2 -> 1; 262144 -> 10000.
        assert_eq!(weight(1000), 39.0);
        assert_eq!(weight(0), 1.0);
        assert_eq!(weight(1_000_000), 10000.0);
    }

    #[test]
    fn uncontended_pods_get_what_they_want_within_limits() {
        let (mut out, mut o) = (Vec::new(), Vec::new());
        share(
            2000.0,
            &[claim(500, 300.0, Some(1000.0)), claim(500, 1500.0, Some(1000.0))],
            &mut out,
            &mut o,
        );
        assert_eq!(out[0].cpu_m, 300.0);
        assert_eq!(out[1].cpu_m, 1000.0);
        assert_eq!(out[1].throttled_m, 500.0);
        assert_eq!(out[0].available_m, 1000.0);
    }

    #[test]
    fn requests_only_pods_never_exceed_the_node() {
        let (mut out, mut o) = (Vec::new(), Vec::new());
        share(
            1930.0,
            &[claim(250, 40_000.0, None), claim(250, 40_000.0, None)],
            &mut out,
            &mut o,
        );
        let sum: f64 = out.iter().map(|g| g.cpu_m).sum();
        assert!((sum - 1930.0).abs() < 1e-6);
        assert!((out[0].cpu_m - 965.0).abs() < 1e-6);
        assert!(out[0].starved_m > 39_000.0);
    }

    #[test]
    fn contention_splits_by_weight_and_refills_from_small_claims() {
        let (mut out, mut o) = (Vec::new(), Vec::new());
        // Weights 1:3 (requests 250m : 1000m ≈ 10 : 39); the small pod wants little.
        share(
            1000.0,
            &[
                claim(1000, 2000.0, None),
                claim(250, 100.0, None),
                claim(1000, 2000.0, None),
            ],
            &mut out,
            &mut o,
        );
        assert_eq!(out[1].cpu_m, 100.0);
        assert!((out[0].cpu_m - 450.0).abs() < 1e-9);
        assert!((out[2].cpu_m - 450.0).abs() < 1e-9);
    }
}
