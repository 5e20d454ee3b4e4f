//! The `capsim` command. Thin: parse the command line, call the library, map errors to exit codes
//! (0 ok, 1 failure, 2 bad input).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = capsim::cli::Cli::parse();
    match capsim::cli::dispatch(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}
