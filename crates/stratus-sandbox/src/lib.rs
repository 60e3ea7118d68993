//! Starting instance processes. `Sandbox` is the interface the engine uses. Backends:
//! `process` (own process group, rlimits, scrubbed environment, memory watchdog; for
//! development and hosts without namespaces) and `isolated` (mount, PID, IPC, UTS and
//! network namespaces, cgroups, read-only root, uid 1003; needs root or unprivileged
//! user namespaces).
#![deny(missing_docs)]

mod isolated;
mod process;
mod procfs;

pub use isolated::{IsolatedSandbox, Mode as IsolatedMode};
pub use process::ProcessSandbox;
pub use procfs::tree_rss_bytes;

use async_trait::async_trait;
use std::future::Future;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::pin::Pin;

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
    /// CPU share in millicores.
    pub cpu_millis: u32,
}

/// A host directory mounted into the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Directory on the host.
    pub host: PathBuf,
    /// Absolute path inside the instance (`/mnt/...`).
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// Where things are as the instance sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// `RUNTIME_CODE_ROOT`.
    pub code_root: String,
    /// `RUNTIME_ROOT` (the shims).
    pub runtime_root: String,
    /// Working directory.
    pub cwd: String,
    /// Writable scratch directory.
    pub tmp: String,
}

/// What to start.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    /// Unique id of the instance on this server.
    pub id: u64,
    /// Executable, as the instance sees it.
    pub program: String,
    /// Arguments after the program.
    pub args: Vec<String>,
    /// The environment, without `RUNTIME_API_ADDR` (the sandbox adds it).
    pub env: Vec<(String, String)>,
    /// Unpacked code on the host.
    pub code_dir: PathBuf,
    /// Shims on the host.
    pub runtime_dir: PathBuf,
    /// A private directory of this instance on the host (the `process` backend runs in it).
    pub work_dir: PathBuf,
    /// Root file system of a container image instead of the host's system directories.
    pub image_root: Option<PathBuf>,
    /// Working directory override (container images).
    pub cwd: Option<String>,
    /// User and group ids (isolated backend).
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Extra mounts.
    pub mounts: Vec<Mount>,
    /// Symbolic links created inside an isolated instance: (path inside, target).
    pub links: Vec<(String, String)>,
    /// Outbound network access.
    pub network: bool,
    /// Whether the platform serves the runtime API (true) or the instance listens on
    /// `RUNTIME_API_ADDR` itself (Go binaries).
    pub serve_runtime_api: bool,
    /// Limits.
    pub limits: Limits,
}

/// A started instance.
pub struct Started {
    /// Host pid of the instance's first process.
    pub pid: u32,
    /// Its standard output.
    pub stdout: OwnedFd,
    /// Its standard error.
    pub stderr: OwnedFd,
    /// `RUNTIME_API_ADDR` as given to the instance.
    pub api_addr: String,
    /// The runtime API socket, listening inside the instance's network, when
    /// `serve_runtime_api` was set.
    pub api_listener: Option<std::net::TcpListener>,
    /// Resolves with a description of the exit status when the instance has ended.
    pub exited: Pin<Box<dyn Future<Output = String> + Send>>,
    /// Control of the running instance.
    pub handle: Box<dyn InstanceHandle>,
}

/// Control of a running instance.
pub trait InstanceHandle: Send + Sync {
    /// Kills the instance and everything it started.
    fn kill(&self);
    /// Current memory of the instance, bytes.
    fn memory_bytes(&self) -> Option<u64>;
    /// Peak memory of the instance, bytes, when the backend measures it.
    fn peak_memory_bytes(&self) -> Option<u64>;
    /// Whether the kernel (not the platform) killed it for memory.
    fn out_of_memory(&self) -> bool;
    /// Whether the backend enforces the memory limit itself (cgroup).
    fn enforces_memory(&self) -> bool;
    /// Opens a TCP connection to `port` on the instance's loopback.
    fn connect(&self, port: u16) -> std::io::Result<std::net::TcpStream>;
    /// Releases what the instance held once it has exited (cgroups, helper processes).
    fn cleanup(&self);
    /// Stops every process of the instance without ending it (idle mode): the cgroup
    /// freezer in `isolated`, SIGSTOP of the process group in `process`.
    fn freeze(&self) -> std::io::Result<()> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "this sandbox cannot freeze instances",
        ))
    }
    /// Undoes `freeze`; harmless on a running instance.
    fn thaw(&self) -> std::io::Result<()> {
        Ok(())
    }
    /// Whether the instance is frozen now (as the kernel reports it).
    fn is_frozen(&self) -> bool {
        false
    }
    /// Binds a pre-started (generic) instance to one function: its code appears at the
    /// code root and its limits replace the generic ones. Called once, before the
    /// instance has run any of the function's code.
    fn specialise(&self, to: &Specialise) -> std::io::Result<()> {
        let _ = to;
        Err(std::io::Error::other(
            "this sandbox cannot specialise pre-started instances",
        ))
    }
}

/// What a pre-started instance is specialised to.
#[derive(Debug, Clone)]
pub struct Specialise {
    /// Unpacked code of the function on the host.
    pub code_dir: PathBuf,
    /// The instance's host work directory (as given at start).
    pub work_dir: PathBuf,
    /// The function's limits (memory, CPU and `/tmp` size are applied).
    pub limits: Limits,
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
    /// The paths an instance sees, given its host work directory.
    fn view(&self, spec_work_dir: &std::path::Path) -> View;
    /// Starts the process described by `spec`.
    async fn start(&self, spec: &InstanceSpec) -> Result<Started, SandboxError>;
}

/// Exit status as text (`exit status: 3`, `signal: 9 (SIGKILL)`).
pub(crate) fn describe_status(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status: {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        let name = match sig {
            libc::SIGKILL => " (SIGKILL)",
            libc::SIGSEGV => " (SIGSEGV)",
            libc::SIGABRT => " (SIGABRT)",
            libc::SIGTERM => " (SIGTERM)",
            _ => "",
        };
        format!("signal: {sig}{name}")
    } else {
        format!("status {status}")
    }
}

/// Waits for `pid` (a child of this process) to exit without blocking a thread: a pidfd
/// becomes readable on exit, then the status is reaped.
pub(crate) async fn wait_pid(pid: u32) -> String {
    // SAFETY: plain syscall; the result is checked.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd >= 0 {
        // SAFETY: the kernel just returned this fd to us; we own it from here.
        let owned = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
        // SAFETY: the AsyncFd takes ownership of the fd and keeps it open while registered.
        if let Ok(afd) = unsafe { tokio::io::unix::AsyncFd::register(owned) } {
            let _ = afd.readable().await;
        }
    }
    let pid_i = pid as libc::pid_t;
    tokio::task::spawn_blocking(move || {
        let mut status = 0;
        // SAFETY: waiting on our own child with a valid status pointer.
        let rc = unsafe { libc::waitpid(pid_i, &mut status, 0) };
        if rc < 0 {
            return "exited (status unknown)".to_string();
        }
        describe_status(status)
    })
    .await
    .unwrap_or_else(|_| "exited (status unknown)".to_string())
}
