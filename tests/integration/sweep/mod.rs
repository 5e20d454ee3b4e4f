mod cli;
mod runner;
