//! The physics the controllers act on: how a node's CPU is divided among its pods, how a pod's
//! granted CPU turns into request latency, and the kubelet's memory rules. Pure functions of
//! numbers, with no knowledge of the world; [`crate::sim`] applies them every service tick.
//!
//! * [`cpu`] — the kernel's CFS as Kubernetes configures it: weights from requests
//!   (`cpu.shares` / `cpu.weight`), limits as quota, water-filling under contention.
//! * [`queueing`] — request latency of one pod as an M/M/c queue (Erlang C) over the CPU the pod
//!   can get, and percentiles of a mixture of pods.
//! * [`probes`] — when readiness and startup probes let a started container be Ready.
//! * [`memory`] — OOM kills against limits, the kubelet's CrashLoopBackOff, and the ranking of
//!   node-pressure eviction.

pub mod cpu;
pub mod memory;
pub mod probes;
pub mod queueing;
