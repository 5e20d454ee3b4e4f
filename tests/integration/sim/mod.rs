//! Simulation behaviour on static clusters: one file per behaviour.

mod batch;
mod cost;
mod determinism;
mod invariants;
mod revisions;
mod scheduling;
