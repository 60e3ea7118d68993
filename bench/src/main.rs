//! `stratus-bench`: starts the real `stratus` binary on a temporary data directory, deploys
//! its own no-op functions through the API, drives them with a Rust load generator and
//! prints one table per scenario, each with a baseline measured in the same run.
//!
//! ```text
//! cargo run --release -p stratus-bench -- all              # every scenario
//! cargo run --release -p stratus-bench -- warm cold        # some of them
//! cargo run --release -p stratus-bench -- --smoke          # seconds-long version of all (CI)
//! cargo run --release -p stratus-bench -- all --write-results
//! ```

mod client;
mod ctx;
mod fixtures;
mod floor;
mod load;
mod report;
mod scenarios;
mod server;

use clap::Parser;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "stratus-bench",
    about = "Benchmarks of the stratus binary against bare baselines measured in the same run"
)]
struct Args {
    /// Scenarios to run: `all` or names (see --list). Default: all.
    scenarios: Vec<String>,
    /// A seconds-long version of every chosen scenario (for CI; nothing is asserted about
    /// timings, but every scenario must run without errors).
    #[arg(long)]
    smoke: bool,
    /// Append the tables, machine information, date and command to bench/RESULTS.md.
    #[arg(long)]
    write_results: bool,
    /// Where --write-results appends (default: RESULTS.md next to this crate's Cargo.toml).
    #[arg(long)]
    results_file: Option<PathBuf>,
    /// Use this stratus binary instead of building and using the one in this target dir.
    #[arg(long)]
    stratus_bin: Option<PathBuf>,
    /// An extra flag for every `stratus serve` (repeatable), e.g. --server-arg=--sandbox=process.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
    /// Do not run `cargo build -p stratus` first (the binary must exist).
    #[arg(long)]
    no_build: bool,
    /// List the scenarios and exit.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list {
        for s in scenarios::ALL.iter().chain(scenarios::EXTRA) {
            println!("{:<12} {}", s.name, s.about);
        }
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("stratus-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn chosen(args: &Args) -> anyhow::Result<Vec<&'static scenarios::Scenario>> {
    if args.scenarios.is_empty() || args.scenarios.iter().any(|s| s == "all") {
        return Ok(scenarios::ALL.iter().collect());
    }
    args.scenarios
        .iter()
        .map(|name| {
            scenarios::find(name).ok_or_else(|| {
                let names: Vec<&str> = scenarios::ALL.iter().map(|s| s.name).collect();
                anyhow::anyhow!(
                    "unknown scenario {name:?}; choose all or one of: {}",
                    names.join(", ")
                )
            })
        })
        .collect()
}

/// Runs the chosen scenarios; `Ok(false)` when one failed or had failed requests.
fn run(args: &Args) -> anyhow::Result<bool> {
    let list = chosen(args)?;
    load::set_request_timeout(std::time::Duration::from_secs(if args.smoke {
        5
    } else {
        15
    }));
    let stratus = server::locate(args.stratus_bin.clone(), !args.no_build)?;
    let tools = fixtures::Tools::build()?;
    let ctx = ctx::Ctx::new(args.smoke, stratus, tools, args.server_args.clone())?;
    let began = std::time::Instant::now();
    let machine = report::machine_info();
    let mode = if args.smoke { " (smoke)" } else { "" };
    println!("# stratus-bench{mode}\n");
    println!("stratus binary: {}", ctx.stratus.display());
    if !ctx.server_args.is_empty() {
        println!("extra serve flags: {}", ctx.server_args.join(" "));
    }
    for (k, v) in &machine {
        println!("{k}: {v}");
    }
    println!();
    let mut ok = true;
    let mut rendered = Vec::new();
    for s in list {
        eprintln!("running {} ...", s.name);
        let cpu = report::CpuSnapshot::take();
        let t0 = std::time::Instant::now();
        let result = (s.run)(&ctx);
        let secs = t0.elapsed().as_secs_f64();
        match result {
            Ok(mut table) => {
                table.notes.push(cpu.note_since());
                if table.errors() > 0 {
                    ok = false;
                }
                let text = format!("{}\n_{} took {secs:.1} s_\n", table.render(), s.name);
                println!("{text}");
                let _ = std::io::stdout().flush();
                rendered.push(text);
            }
            Err(e) => {
                ok = false;
                let text = format!("### {}\n\nFAILED after {secs:.1} s: {e:#}\n", s.name);
                println!("{text}");
                rendered.push(text);
            }
        }
    }
    let total = began.elapsed().as_secs_f64();
    println!("total {total:.1} s");
    if !ok {
        eprintln!("stratus-bench: a scenario failed or had failed requests (see above)");
    }
    if args.write_results {
        let path = args
            .results_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS.md"));
        let mut info = machine.clone();
        if !args.server_args.is_empty() {
            info.push(("extra serve flags".into(), args.server_args.join(" ")));
        }
        write_results(&path, &info, &rendered, total)?;
        println!("appended to {}", path.display());
    }
    Ok(ok)
}

fn write_results(
    path: &std::path::Path,
    machine: &[(String, String)],
    tables: &[String],
    total: f64,
) -> anyhow::Result<()> {
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let command = format!("cargo run --release -p stratus-bench -- {}", argv.join(" "));
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(server::workspace_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    // Changes outside bench/ change what is measured.
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(server::workspace_root())
        .output()
        .ok()
        .is_some_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| !l.get(3..).unwrap_or("").starts_with("bench/"))
        });
    let commit = if dirty {
        format!("{commit} (with uncommitted changes)")
    } else {
        commit
    };
    let mut text = String::new();
    if !path.exists() {
        text.push_str("# Benchmark results\n\nAppended by `stratus-bench --write-results`; newest last. See README.md for how to read them.\n");
    }
    text.push_str(&format!("\n## {date}\n\n"));
    text.push_str(&format!("- command: `{command}`\n"));
    text.push_str(&format!("- commit: {commit}\n"));
    for (k, v) in machine {
        text.push_str(&format!("- {k}: {v}\n"));
    }
    text.push_str(&format!("- total time: {total:.1} s\n\n"));
    for t in tables {
        text.push_str(t);
        text.push('\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
