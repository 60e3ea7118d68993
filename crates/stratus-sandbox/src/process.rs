//! The `process` backend: a new process group per instance, rlimits, a scrubbed
//! environment. No file-system or network isolation; meant for development and for
//! hosts without namespaces.

use crate::{InstanceSpec, Sandbox, SandboxError, Started};
use async_trait::async_trait;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

/// Starts instances as plain child processes.
#[derive(Debug, Default, Clone)]
pub struct ProcessSandbox;

#[async_trait]
impl Sandbox for ProcessSandbox {
    fn name(&self) -> &'static str {
        "process"
    }

    async fn start(&self, spec: &InstanceSpec) -> Result<Started, SandboxError> {
        let program = spec.program.display().to_string();
        match std::fs::metadata(&spec.program) {
            Err(_) => return Err(SandboxError::NotFound(program)),
            Ok(m) if !m.is_file() || m.permissions().mode() & 0o111 == 0 => {
                return Err(SandboxError::NotExecutable(program))
            }
            Ok(_) => {}
        }
        let mut cmd = tokio::process::Command::new(&spec.program);
        cmd.args(&spec.args)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&spec.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let nofile = spec.limits.nofile;
        let nproc = spec.limits.nproc;
        // SAFETY: the closure runs between fork and exec and only calls setrlimit, which
        // is async-signal-safe; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                set_limit(libc::RLIMIT_NOFILE, nofile)?;
                set_limit(libc::RLIMIT_NPROC, nproc)?;
                set_limit(libc::RLIMIT_CORE, 0)?;
                Ok(())
            });
        }
        let mut child = cmd.spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| std::io::Error::other("instance exited at once"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        Ok(Started {
            pid,
            child,
            stdout,
            stderr,
        })
    }

    fn kill(&self, pid: u32) {
        // The instance leads its own process group, so this reaches its children too.
        // SAFETY: plain syscall with integer arguments.
        unsafe {
            libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
        }
    }

    fn memory_bytes(&self, pid: u32) -> Option<u64> {
        crate::procfs::tree_rss_bytes(pid)
    }
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> std::io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: `lim` is a valid rlimit for the duration of the call.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
