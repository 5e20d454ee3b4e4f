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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_checks_every_dimension() {
        let cap = Resources::new(1000, GIB, 10);
        assert!(Resources::new(1000, GIB, 10).fits_in(&cap));
        assert!(!Resources::new(1001, 0, 0).fits_in(&cap));
        assert!(!Resources::new(0, GIB + 1, 0).fits_in(&cap));
        assert!(!Resources::new(0, 0, 11).fits_in(&cap));
    }
}
