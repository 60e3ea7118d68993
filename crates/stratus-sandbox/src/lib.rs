//! Starting instance processes. `Sandbox` is the interface the engine uses; `process` is
//! the unprivileged backend (process group, rlimits, scrubbed environment). Stronger
//! backends (namespaces, cgroups) implement the same trait.
#![deny(missing_docs)]

mod process;
mod procfs;

pub use process::ProcessSandbox;
pub use procfs::tree_rss_bytes;

use async_trait::async_trait;
use std::path::PathBuf;

/// Resource limits of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Memory, MB; exceeding it kills the instance.
    pub memory_mb: u32,
    /// Open files.
    pub nofile: u64,
    /// Processes and threads.
    pub nproc: u64,
    /// Size of `/tmp`, MB.
    pub tmp_mb: u32,
}

/// What to start.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    /// Executable.
    pub program: PathBuf,
    /// Arguments after the program.
    pub args: Vec<String>,
    /// The complete environment (nothing is inherited).
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Limits.
    pub limits: Limits,
}

/// A started instance process.
pub struct Started {
    /// Process id of the instance's main process (also its process group id).
    pub pid: u32,
    /// The child, for waiting on its exit.
    pub child: tokio::process::Child,
    /// Its standard output.
    pub stdout: tokio::process::ChildStdout,
    /// Its standard error.
    pub stderr: tokio::process::ChildStderr,
}

/// Why an instance could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The executable is missing.
    #[error("{0} is not found")]
    NotFound(String),
    /// The executable is not executable.
    #[error("{0} is not executable")]
    NotExecutable(String),
    /// Any other start failure.
    #[error("failed to start instance: {0}")]
    Spawn(#[from] std::io::Error),
}

/// A way of starting instances.
#[async_trait]
pub trait Sandbox: Send + Sync + 'static {
    /// Backend name for logs and `--help` (`process`, `isolated`).
    fn name(&self) -> &'static str;
    /// Starts the process described by `spec`.
    async fn start(&self, spec: &InstanceSpec) -> Result<Started, SandboxError>;
    /// Kills the instance and everything it started.
    fn kill(&self, pid: u32);
    /// Resident memory of the instance's process tree, bytes.
    fn memory_bytes(&self, pid: u32) -> Option<u64>;
}
