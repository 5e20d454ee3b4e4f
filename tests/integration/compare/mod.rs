mod cli;
mod numbers;
