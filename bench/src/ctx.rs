//! What every scenario gets: the mode (full or smoke), the load generator's runtime, the
//! `stratus` binary and the fixtures.

use crate::fixtures::Tools;
use crate::load::{self, Run, Target, Window};
use crate::server::Server;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Shared state of a benchmark run.
pub struct Ctx {
    /// Seconds-long version of every scenario.
    pub smoke: bool,
    /// The `stratus` binary.
    pub stratus: PathBuf,
    /// Compiled programs and packages.
    pub tools: Tools,
    /// Extra `stratus serve` flags.
    pub server_args: Vec<String>,
    rt: tokio::runtime::Runtime,
}

impl Ctx {
    /// A context. The load generator runs on one thread (a current-thread tokio runtime),
    /// so that on a small machine it takes as little CPU from the server as possible.
    pub fn new(
        smoke: bool,
        stratus: PathBuf,
        tools: Tools,
        server_args: Vec<String>,
    ) -> anyhow::Result<Ctx> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Ctx {
            smoke,
            stratus,
            tools,
            server_args,
            rt,
        })
    }

    /// `full` normally, `smoke` under `--smoke`.
    pub fn pick<T>(&self, full: T, smoke: T) -> T {
        if self.smoke {
            smoke
        } else {
            full
        }
    }

    /// A load window: `warmup` and `measure` seconds (tiny under `--smoke`).
    pub fn window(&self, warmup: f64, measure: f64) -> Window {
        if self.smoke {
            Window::secs(warmup.min(0.05), measure.min(0.15))
        } else {
            Window::secs(warmup, measure)
        }
    }

    /// Starts a fresh `stratus serve` (killed if it outlives a generous scenario length).
    pub fn server(&self) -> anyhow::Result<Server> {
        self.server_with(&[])
    }

    /// Starts a fresh `stratus serve` with `more` flags after the run's extra flags
    /// (a `--sandbox` in `more` replaces the run's).
    pub fn server_with(&self, more: &[&str]) -> anyhow::Result<Server> {
        let lifetime = std::time::Duration::from_secs(self.pick(180, 60));
        let grace = std::time::Duration::from_secs(self.pick(15, 5));
        // clap refuses a repeated flag: drop the run's own --sandbox when one is given here.
        let overrides = more.iter().any(|m| m.starts_with("--sandbox"));
        let mut args = Vec::new();
        let mut skip = false;
        for a in &self.server_args {
            if skip {
                skip = false;
                continue;
            }
            if overrides && a.starts_with("--sandbox") {
                skip = a == "--sandbox";
                continue;
            }
            args.push(a.clone());
        }
        args.extend(more.iter().map(|s| s.to_string()));
        Server::start(&self.stratus, &self.tools, &args, lifetime, grace)
    }

    /// Runs a closed-loop load.
    pub fn closed(
        &self,
        addr: SocketAddr,
        target: Arc<dyn Target>,
        concurrency: usize,
        window: Window,
    ) -> anyhow::Result<Run> {
        self.rt
            .block_on(load::closed(addr, target, concurrency, window))
    }

    /// Runs an open-loop load.
    pub fn open(
        &self,
        addr: SocketAddr,
        target: Arc<dyn Target>,
        rate: f64,
        max_conns: usize,
        window: Window,
    ) -> anyhow::Result<Run> {
        self.rt
            .block_on(load::open(addr, target, rate, max_conns, window))
    }

    /// Runs a future on the load generator's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}
