//! capsim — a discrete-event simulator of the Kubernetes autoscaling pipeline.
//!
//! ```text
//! traffic ─► service model ─► metrics pipeline ─► HPA ─► ReplicaSet ─► scheduler ─► kubelet
//!  (rps(t))   (rps → CPU per     (scrape every     (desired   (create/     (bind,       (image pull,
//!             ready pod)          resolution)      replicas)  delete pods) preempt)     start, ready)
//!                                                                 │ unschedulable pods
//!                                                                 ▼
//!                              provisioner: Cluster Autoscaler | Karpenter | static
//!                              (launch → register → Ready; scale-down / consolidation)
//!                                                                 │
//!                                             cloud: catalog, prices, billing, spot interruptions
//!                                                                 │
//!                                      recorder ─► summary.json, timeline.csv, pods.csv, nodes.csv
//! ```
//!
//! * [`engine`] owns time, event order and randomness and knows nothing of Kubernetes.
//! * [`cluster`] is the vocabulary the world and the controllers share: pods, nodes, template
//!   revisions, the read-only [`cluster::ClusterView`], and the one placement layer.
//! * [`controllers`] are pure functions from a view to a decision carrying its reason; none
//!   imports [`sim`]. Provisioners register in [`controllers::PROVISIONERS`].
//! * [`sim`] is the world: it gathers snapshots, calls controllers, applies decisions and
//!   schedules the events they cause.

pub mod alerts;
pub mod cli;
pub mod cloud;
pub mod cluster;
pub mod controllers;
pub mod engine;
#[doc(hidden)]
pub mod fuzz;
pub mod model;
pub mod physics;
pub mod report;
pub mod scenario;
pub mod sim;
#[doc(hidden)]
pub mod testkit;
pub mod traffic;
