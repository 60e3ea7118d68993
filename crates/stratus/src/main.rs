//! The `stratus` binary: `stratus serve` runs the platform; every other subcommand is the
//! CLI, which talks to a running server through the signed API client.

mod serve;

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "stratus",
    version,
    about = "Self-hosted serverless functions, FunctionGraph-compatible"
)]
#[allow(clippy::large_enum_variant)] // parsed once at start-up
enum Command {
    /// Run the platform (API, instances, logs) on this machine.
    Serve(Box<serve::ServeArgs>),
    /// Manage and invoke functions (talks to a running server).
    #[command(flatten)]
    Cli(stratus_cli::Cli),
}

fn main() -> ExitCode {
    match Command::parse() {
        Command::Serve(args) => match serve::run(*args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("stratus serve: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Cli(cli) => {
            // A CLI piped into `head` should end quietly when the pipe closes, as other
            // command-line tools do, instead of panicking in println!.
            // SAFETY: resetting one signal's disposition before any thread is started.
            unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
            stratus_cli::run(cli)
        }
    }
}
