//! The discrete-event engine: clock, event queue and seeded random streams.
//!
//! It knows nothing of Kubernetes. The simulation (`crate::sim`) owns one [`EventQueue`] of its
//! closed `Event` enum, asks [`Rngs`] for named streams, and is the only place time advances.
//! See [`queue`] for the ordering contract: `(time, insertion sequence)`, FIFO at equal times.

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::{Rngs, StreamRng};
pub use time::{SimDuration, SimTime};
