//! The gatewayc binary: parse the command line, run, map the result to an exit code.

use clap::Parser;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = gatewayc::cli::Cli::parse();
    let color = std::io::stderr().is_terminal();
    let report = gatewayc::cli::run(cli, &mut std::io::stdin().lock(), color);
    let _ = std::io::stdout().write_all(report.stdout.as_bytes());
    let _ = std::io::stderr().write_all(report.stderr.as_bytes());
    ExitCode::from(match report.exit {
        gatewayc::cli::Exit::Ok => 0,
        gatewayc::cli::Exit::Invalid => 1,
        gatewayc::cli::Exit::Usage => 2,
    })
}
