//! Seeded randomness split into independent named streams (common random numbers).
//!
//! A run has one seed. Each consumer asks for a stream by a name and a key
//! (`rngs.stream("pod-start", pod_ordinal)`); the stream's state is a fixed hash of
//! (seed, name, key), so the draws one consumer sees do not depend on how many draws any other
//! consumer made. Two scenarios that differ only in autoscaler settings therefore see the same
//! traffic noise and the same latency for the n-th pod of a workload: comparisons measure the
//! settings, not the dice. The generator is Xoshiro256++ (portable, stable across platforms) and
//! the hash is SplitMix64 over FNV-1a of the name, both fixed algorithms, never `std`'s hasher.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// The random generator every stream hands out.
pub type StreamRng = Xoshiro256PlusPlus;

/// The root of all randomness in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rngs {
    seed: u64,
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Rngs {
    pub fn new(seed: u64) -> Self {
        Rngs { seed }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A 64-bit value that depends only on (seed, name, key).
    pub fn derive(&self, name: &str, key: u64) -> u64 {
        self.derive_named(Rngs::key_of(name), key)
    }

    /// [`Rngs::derive`] with the name already hashed by [`Rngs::key_of`] (for hot paths that draw
    /// from the same family of streams again and again).
    pub fn derive_named(&self, name_key: u64, key: u64) -> u64 {
        splitmix64(splitmix64(self.seed ^ name_key) ^ splitmix64(key.wrapping_add(0x5851_F42D)))
    }

    /// An independent generator for `(name, key)`.
    pub fn stream(&self, name: &str, key: u64) -> StreamRng {
        self.stream_named(Rngs::key_of(name), key)
    }

    /// [`Rngs::stream`] with the name already hashed by [`Rngs::key_of`]: the same generator.
    pub fn stream_named(&self, name_key: u64, key: u64) -> StreamRng {
        let mut seed = [0u8; 32];
        let mut x = self.derive_named(name_key, key);
        for chunk in seed.chunks_mut(8) {
            x = splitmix64(x);
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        StreamRng::from_seed(seed)
    }

    /// Hash of a string key, for streams keyed by an object name.
    pub fn key_of(name: &str) -> u64 {
        fnv1a(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn same_seed_same_draws() {
        let a: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(Rngs::new(7).stream("x", 1), |r, _| Some(r.random()))
            .collect();
        let b: Vec<u64> = (0..5)
            .map(|_| 0)
            .scan(Rngs::new(7).stream("x", 1), |r, _| Some(r.random()))
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn streams_are_independent_of_each_other() {
        let r = Rngs::new(7);
        let mut a = r.stream("traffic", 0);
        let first: u64 = a.random();
        // Drawing heavily from another stream does not change stream "traffic".
        let mut other = r.stream("node-launch", 0);
        for _ in 0..1000 {
            let _: u64 = other.random();
        }
        let mut a2 = r.stream("traffic", 0);
        assert_eq!(first, a2.random::<u64>());
        assert_ne!(r.derive("traffic", 0), r.derive("traffic", 1));
        assert_ne!(r.derive("traffic", 0), r.derive("node-launch", 0));
        assert_ne!(Rngs::new(1).derive("a", 0), Rngs::new(2).derive("a", 0));
    }

    #[test]
    fn pre_hashed_names_give_the_same_streams() {
        let r = Rngs::new(9);
        let mut a = r.stream("pod-start/web", 3);
        let mut b = r.stream_named(Rngs::key_of("pod-start/web"), 3);
        assert_eq!(a.random::<u64>(), b.random::<u64>());
    }
}
