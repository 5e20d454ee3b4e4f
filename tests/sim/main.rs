//! Simulation behaviour on static clusters: one file per behaviour.

mod batch;
mod determinism;
mod invariants;
mod scheduling;
