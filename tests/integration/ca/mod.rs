mod config;
mod scaling;
pub mod support;
