//! Request latency of one pod: an M/M/c queue over the CPU the pod can get.
//!
//! A pod that can use `a` cores (its [`super::cpu::Grant::available_m`] less its idle use) runs
//! `c = ⌈a⌉` requests at a time, each at `a / c` of a core (a 500m quota runs one request at
//! half speed: CFS lets it run 50 ms of every 100 ms period). A request needs an exponentially
//! distributed amount of CPU with mean `s` (the workload's CPU per request), so each of the `c`
//! servers completes at rate `μ = a / (c·s)`. Requests arrive as a Poisson stream of rate `λ`
//! (kube-proxy spreads a service's traffic evenly over its ready endpoints). Then the response
//! time `T = W + S` of the M/M/c FCFS queue is known in closed form (Erlang C; Harchol-Balter,
//! *Performance Modeling and Design of Computer Systems*, 2013, ch. 14; Kleinrock, *Queueing
//! Systems* vol. 1, §3.5): with `P_W` the Erlang C probability of waiting and `δ = cμ − λ`,
//!
//! ```text
//! P(T > t) = (1 − P_W) e^{−μt} + P_W (μ e^{−δt} − δ e^{−μt}) / (μ − δ)      (δ ≠ μ)
//!          = (1 − P_W) e^{−μt} + P_W (1 + μt) e^{−μt}                         (δ = μ)
//! ```
//!
//! A fixed `base` latency (downstream calls, I/O) is added to every request. At `λ ≥ cμ` the
//! queue is unstable: the pod serves `cμ`, its queue grows until requests reach the client's
//! timeout, and every request it serves is counted at the timeout ([`PodQueue::saturated`]).

/// One pod's queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PodQueue {
    /// Servers (requests processed at once).
    pub c: u32,
    /// Completion rate of one server, requests/s.
    pub mu: f64,
    /// Arrival rate, requests/s.
    pub lambda: f64,
    /// Latency every request has besides CPU, seconds.
    pub base: f64,
}

impl PodQueue {
    /// A pod with `cores` cores for requests, `cpu_s` CPU-seconds per request, `lambda`
    /// requests/s and `base` seconds of fixed latency.
    pub fn new(cores: f64, cpu_s: f64, lambda: f64, base: f64) -> PodQueue {
        let cores = cores.max(0.0);
        if cpu_s <= 0.0 {
            return PodQueue {
                c: 1,
                mu: f64::INFINITY,
                lambda,
                base,
            };
        }
        let c = (cores.ceil() as u32).max(1);
        PodQueue {
            c,
            mu: cores / (f64::from(c) * cpu_s),
            lambda,
            base,
        }
    }

    /// Requests/s the pod completes at most.
    pub fn capacity(&self) -> f64 {
        f64::from(self.c) * self.mu
    }

    /// True when arrivals reach the pod's capacity (the queue grows without bound).
    pub fn saturated(&self) -> bool {
        self.lambda >= self.capacity() * (1.0 - 1e-9)
    }

    /// Erlang C: the probability that an arrival waits.
    pub fn p_wait(&self) -> f64 {
        if self.lambda <= 0.0 || !self.mu.is_finite() {
            return 0.0;
        }
        if self.saturated() {
            return 1.0;
        }
        let a = self.lambda / self.mu;
        let c = self.c;
        // Erlang B by its recursion, then C from B (numerically stable for any c).
        let mut b = 1.0;
        for k in 1..=c {
            b = a * b / (f64::from(k) + a * b);
        }
        let rho = a / f64::from(c);
        b / (1.0 - rho + rho * b)
    }

    /// `P(T > t)`, the probability a request's response time exceeds `t` seconds (module docs).
    pub fn survival(&self, t: f64) -> f64 {
        let t = t - self.base;
        if t < 0.0 {
            return 1.0;
        }
        if !self.mu.is_finite() {
            return 0.0;
        }
        if self.saturated() {
            return 1.0;
        }
        let pw = self.p_wait();
        let mu = self.mu;
        let delta = self.capacity() - self.lambda;
        let es = (-mu * t).exp();
        let waited = if (mu - delta).abs() < 1e-9 * mu {
            (1.0 + mu * t) * es
        } else {
            (mu * (-delta * t).exp() - delta * es) / (mu - delta)
        };
        ((1.0 - pw) * es + pw * waited).clamp(0.0, 1.0)
    }

    /// True when `P(T > t)` is below e⁻⁶⁰ ≈ 10⁻²⁶ for certain: both exponential rates of the
    /// survival function (μ and cμ − λ) times the time beyond the base latency exceed 60, with
    /// margin for the polynomial factor. A cheap test that spares the exponentials.
    pub fn negligible_beyond(&self, t: f64) -> bool {
        if self.saturated() {
            return false;
        }
        let rate = self.mu.min(self.capacity() - self.lambda);
        rate * (t - self.base) > 80.0
    }

    /// Mean response time, seconds (`base + 1/μ + P_W/δ`).
    pub fn mean(&self) -> f64 {
        if !self.mu.is_finite() {
            return self.base;
        }
        if self.saturated() {
            return f64::INFINITY;
        }
        self.base + 1.0 / self.mu + self.p_wait() / (self.capacity() - self.lambda)
    }
}

/// A class of identical pods in a mixture: `weight` is its share of the served requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weighted {
    pub queue: PodQueue,
    pub weight: f64,
}

/// The `q`-quantile (0 < q < 1) of the response time of a request served by the mixture,
/// capped at `timeout` (a saturated pod's requests count at the timeout). Bisection on the
/// mixture's survival function to a relative precision of 1e-4.
pub fn quantile(mix: &[Weighted], q: f64, timeout: f64) -> f64 {
    let total: f64 = mix.iter().map(|m| m.weight).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let survival = |t: f64| mix.iter().map(|m| m.weight * m.queue.survival(t)).sum::<f64>() / total;
    let target = 1.0 - q;
    if survival(timeout) > target {
        return timeout;
    }
    let mut lo = mix.iter().map(|m| m.queue.base).fold(f64::INFINITY, f64::min).max(0.0);
    let mut hi = timeout;
    for _ in 0..60 {
        if hi - lo <= 1e-4 * hi.max(1e-6) {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if survival(mid) > target { lo = mid } else { hi = mid }
    }
    hi
}

/// The fraction of the mixture's requests slower than `timeout` (errors to the client).
pub fn timed_out(mix: &[Weighted], timeout: f64) -> f64 {
    let total: f64 = mix.iter().map(|m| m.weight).sum();
    if total <= 0.0 {
        return 0.0;
    }
    mix.iter().map(|m| m.weight * m.queue.survival(timeout)).sum::<f64>() / total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mm1_matches_its_textbook_form() {
        // M/M/1: T ~ Exp(μ − λ).
        let q = PodQueue::new(1.0, 0.01, 50.0, 0.0);
        assert_eq!(q.c, 1);
        assert!((q.p_wait() - 0.5).abs() < 1e-12);
        for t in [0.001, 0.01, 0.05, 0.2] {
            assert!((q.survival(t) - (-(100.0 - 50.0) * t).exp()).abs() < 1e-9);
        }
        assert!((q.mean() - 0.02).abs() < 1e-12);
    }

    #[test]
    fn erlang_c_of_a_known_case() {
        // c = 2, a = λ/μ = 1: P_W = 1/3.
        let q = PodQueue {
            c: 2,
            mu: 1.0,
            lambda: 1.0,
            base: 0.0,
        };
        assert!((q.p_wait() - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn saturated_pods_are_at_the_timeout() {
        let q = PodQueue::new(0.5, 0.01, 60.0, 0.0);
        assert!(q.saturated());
        let mix = [Weighted { queue: q, weight: 1.0 }];
        assert_eq!(quantile(&mix, 0.5, 15.0), 15.0);
        assert_eq!(timed_out(&mix, 15.0), 1.0);
    }

    #[test]
    fn quantile_inverts_survival() {
        let q = PodQueue::new(2.0, 0.02, 80.0, 0.005);
        let mix = [Weighted { queue: q, weight: 1.0 }];
        let t = quantile(&mix, 0.95, 30.0);
        assert!((q.survival(t) - 0.05).abs() < 1e-3);
    }
}
