//! PrometheusRule alerts: the evaluator's semantics, rejected constructs, and the cross-check
//! against real Prometheus (`promtool test rules` on the series the run exposed).

mod promtool;
mod rules;
