//! Resource vectors: CPU in millicores, memory in bytes, pod slots.

use std::ops::{Add, AddAssign, Sub, SubAssign};

/// What a pod requests or a node offers. CPU in millicores, memory in bytes, pods as a count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resources {
    pub cpu_m: i64,
    pub mem: i64,
    pub pods: i64,
}

impl Resources {
    pub const ZERO: Resources = Resources {
        cpu_m: 0,
        mem: 0,
        pods: 0,
    };

    pub const fn new(cpu_m: i64, mem: i64, pods: i64) -> Self {
        Resources { cpu_m, mem, pods }
    }

    /// True when every dimension of `self` is at most the same dimension of `capacity`.
    pub fn fits_in(&self, capacity: &Resources) -> bool {
        self.cpu_m <= capacity.cpu_m && self.mem <= capacity.mem && self.pods <= capacity.pods
    }

    /// Component-wise `max(self - other, 0)`.
    pub fn saturating_sub(&self, other: &Resources) -> Resources {
        Resources {
            cpu_m: (self.cpu_m - other.cpu_m).max(0),
            mem: (self.mem - other.mem).max(0),
            pods: (self.pods - other.pods).max(0),
        }
    }

    pub fn scaled(&self, n: i64) -> Resources {
        Resources {
            cpu_m: self.cpu_m * n,
            mem: self.mem * n,
            pods: self.pods * n,
        }
    }
}

impl Add for Resources {
    type Output = Resources;
    fn add(self, o: Resources) -> Resources {
        Resources {
            cpu_m: self.cpu_m + o.cpu_m,
            mem: self.mem + o.mem,
            pods: self.pods + o.pods,
        }
    }
}
impl AddAssign for Resources {
    fn add_assign(&mut self, o: Resources) {
        *self = *self + o;
    }
}
impl Sub for Resources {
    type Output = Resources;
    fn sub(self, o: Resources) -> Resources {
        Resources {
            cpu_m: self.cpu_m - o.cpu_m,
            mem: self.mem - o.mem,
            pods: self.pods - o.pods,
        }
    }
}
impl SubAssign for Resources {
    fn sub_assign(&mut self, o: Resources) {
        *self = *self - o;
    }
}

pub const MIB: i64 = 1024 * 1024;
pub const GIB: i64 = 1024 * MIB;

/// `x.round() as i64` (half away from zero, saturating, NaN → 0) without the `round` libm call
/// that baseline x86-64 (no SSE4.1) makes: a truncating conversion and an exact remainder. The
/// scheduler's score and the HPA's metric samples round on every node and pod they look at.
#[inline]
pub fn round_i64(x: f64) -> i64 {
    let t = x as i64;
    // Exact: `t` is `x` truncated (or saturated, when the remainder is ≥ 0 anyway).
    let r = x - t as f64;
    if r >= 0.5 {
        t.saturating_add(1)
    } else if r <= -0.5 {
        t.saturating_sub(1)
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_i64_is_f64_round() {
        let cases = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            4503599627370497.0,
            9.3e18,
            -9.3e18,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            123.456,
            -7.5001,
        ];
        for x in cases {
            assert_eq!(round_i64(x), x.round() as i64, "{x:e}");
        }
        let mut v = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..100_000 {
            v ^= v << 13;
            v ^= v >> 7;
            v ^= v << 17;
            let x = (v as i64) as f64 / 2f64.powi((v % 40) as i32);
            assert_eq!(round_i64(x), x.round() as i64, "{x:e}");
            let half = (v % 1000) as f64 + 0.5;
            assert_eq!(round_i64(half), half.round() as i64);
            assert_eq!(round_i64(-half), (-half).round() as i64);
        }
    }

    #[test]
    fn fits_checks_every_dimension() {
        let cap = Resources::new(1000, GIB, 10);
        assert!(Resources::new(1000, GIB, 10).fits_in(&cap));
        assert!(!Resources::new(1001, 0, 0).fits_in(&cap));
        assert!(!Resources::new(0, GIB + 1, 0).fits_in(&cap));
        assert!(!Resources::new(0, 0, 11).fits_in(&cap));
    }
}
