//! One module per subcommand, each with its clap `Args` and `run(args) -> anyhow::Result<()>`.

pub mod catalog;
