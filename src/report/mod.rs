//! Outputs for people and for tools: the terminal table, JSON summary and CSV records.
//! Every file is written atomically (temp file in the same directory, then rename), so an
//! interrupted run never leaves a truncated result.

pub mod charts;
pub mod compare;
pub mod files;
pub mod rightsize;
pub mod sweep;
pub mod sweep_chart;
pub mod table;
pub mod waterfall;

pub use files::{atomic_write, write_run_outputs};
pub use table::summary_table;
