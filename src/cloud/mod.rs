//! The cloud: instance catalog, prices and billing, latency distributions.

pub mod catalog;
pub mod latency;

pub use catalog::{Catalog, InstanceType};
pub use latency::Distribution;
