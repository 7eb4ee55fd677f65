//! The gatewayc binary: parse the command line, run, map the result to an exit code.

use clap::Parser;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = gatewayc::cli::Cli::parse();
    let color = std::io::stderr().is_terminal();
    let report = gatewayc::cli::run(cli, &mut std::io::stdin().lock(), color);
    let _ = std::io::stderr().write_all(report.stderr.as_bytes());
    // Output that did not reach stdout (a closed descriptor, a closed pipe, a full disk,
    // /dev/full) is a failure.
    if !report.stdout.is_empty()
        && let Err(e) = write_stdout(report.stdout.as_bytes())
    {
        let _ = writeln!(std::io::stderr(), "error[output::write]: cannot write standard output: {e}");
        return ExitCode::from(1);
    }
    let _ = std::io::stderr().write_all(report.summary.as_bytes());
    ExitCode::from(match report.exit {
        gatewayc::cli::Exit::Ok => 0,
        gatewayc::cli::Exit::Invalid => 1,
        gatewayc::cli::Exit::Usage => 2,
    })
}

/// Write to file descriptor 1 directly: Rust's `stdout()` silently discards writes when the
/// descriptor is closed, and a closed stdout must fail the run.
fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    use std::os::fd::AsFd;
    if stdout_was_closed() {
        return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "standard output is closed"));
    }
    let fd = std::io::stdout().as_fd().try_clone_to_owned()?;
    let mut f = std::fs::File::from(fd);
    f.write_all(bytes)?;
    f.flush()
}

/// Rust's runtime opens /dev/null read-write on a standard descriptor that was closed when the
/// process started (`gatewayc ... >&-`). A shell redirection to /dev/null opens it write-only, so
/// a read-write /dev/null on descriptor 1 means stdout was closed (Linux; elsewhere, false).
fn stdout_was_closed() -> bool {
    let target = std::fs::read_link("/proc/self/fd/1");
    let info = std::fs::read_to_string("/proc/self/fdinfo/1").unwrap_or_default();
    let flags = info.lines().find_map(|l| l.strip_prefix("flags:")).and_then(|f| u32::from_str_radix(f.trim(), 8).ok());
    target.is_ok_and(|t| t == std::path::Path::new("/dev/null")) && flags.is_some_and(|f| f & 0o3 == 0o2)
}
