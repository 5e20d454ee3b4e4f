//! capsim's integration tests: one test binary, one module per area (as ripgrep and NeXosim
//! lay theirs out), so a change relinks one executable instead of thirty.
//!
//! Where a new test goes: into the area's directory below, as a new file named after the
//! behaviour it checks, declared in that directory's `mod.rs`. A new area gets a directory with
//! a `mod.rs` and a line here. Shared builders live in `capsim::testkit` (the library's test kit)
//! or, for one area, in that area's `support`/`kit` module.
//!
//! | module | what it checks |
//! |---|---|
//! | `alerts` | PrometheusRule evaluation, rejected constructs, the promtool cross-check |
//! | `architecture` | the layers (no controller imports the world) and the provisioner registry |
//! | `bad_input` | every bad-input class: exit 2, a message naming file, document and field, nothing written |
//! | `units` | Kubernetes durations and quantities |
//! | `traffic` | demand shapes, noise, trace replay |
//! | `cloud` | catalog, billing, node latency |
//! | `hpa` | upstream HPA vectors, properties, `hpa explain`, HPA scenarios |
//! | `ca` | Cluster Autoscaler flags and scaling decisions |
//! | `karpenter` | Karpenter decisions |
//! | `keda` | KEDA ScaledObjects, queue workers and named series, with upstream timings |
//! | `scenario` | loading scenarios and their error messages |
//! | `physics` | node CPU (CFS), request latency vs a request-level simulation, memory, probes, warm start |
//! | `sim` | simulation behaviour on static clusters |
//! | `scenarios` | the shipped and bench scenarios, end to end |
//! | `charts`, `compare`, `sweep` | outputs, comparisons and sweeps |
//! | `fuzz` | a small run of the fuzz harness on every parser and a short simulation |
//! | `cli` | the binary's exit codes and messages |
//! | `vpa`, `vpa_vectors` | `capsim vpa recommend`; upstream VPA unit tests as vectors through capsim's code |
//! | `durability` | killed runs: no truncated file, incomplete sets recognisable, temporaries cleaned |

mod alerts;
mod architecture;
mod bad_input;
mod ca;
mod charts;
mod cli;
mod cloud;
mod compare;
mod durability;
mod findings;
mod fuzz;
mod hpa;
mod karpenter;
mod keda;
mod physics;
mod scenario;
mod scenarios;
mod sim;
mod sweep;
mod topology;
mod traffic;
mod units;
mod vpa;
mod vpa_vectors;
