pub mod cli;
mod numbers;
