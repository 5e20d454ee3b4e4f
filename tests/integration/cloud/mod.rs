mod billing;
mod catalog;
mod latency;
