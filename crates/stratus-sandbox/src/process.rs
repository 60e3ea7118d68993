//! The `process` backend: a new process group per instance, rlimits, a scrubbed
//! environment, a memory watchdog in the engine. No file-system or network isolation;
//! meant for development and for hosts without namespaces.

use crate::{InstanceHandle, InstanceSpec, Sandbox, SandboxError, Started, View};
use async_trait::async_trait;
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;

/// Starts instances as plain child processes.
#[derive(Debug, Default, Clone)]
pub struct ProcessSandbox;

struct ProcessHandle {
    pid: u32,
}

impl InstanceHandle for ProcessHandle {
    fn kill(&self) {
        // The instance leads its own process group, so this reaches its children too.
        // SAFETY: plain syscall with integer arguments.
        unsafe {
            libc::kill(-(self.pid as libc::pid_t), libc::SIGKILL);
        }
    }
    fn memory_bytes(&self) -> Option<u64> {
        crate::procfs::tree_rss_bytes(self.pid)
    }
    fn peak_memory_bytes(&self) -> Option<u64> {
        None
    }
    fn out_of_memory(&self) -> bool {
        false
    }
    fn enforces_memory(&self) -> bool {
        false
    }
    fn connect(&self, port: u16) -> std::io::Result<std::net::TcpStream> {
        std::net::TcpStream::connect(("127.0.0.1", port))
    }
    fn cleanup(&self) {
        self.kill();
    }
    fn freeze(&self) -> std::io::Result<()> {
        signal_group(self.pid, libc::SIGSTOP)
    }
    fn thaw(&self) -> std::io::Result<()> {
        signal_group(self.pid, libc::SIGCONT)
    }
    fn is_frozen(&self) -> bool {
        crate::procfs::stopped(self.pid)
    }
    fn specialise(&self, to: &crate::Specialise) -> std::io::Result<()> {
        // Swap the `<work>/code` link in one rename so the runtime never sees it missing.
        let link = to.work_dir.join("code");
        let next = to.work_dir.join(".code-next");
        let _ = std::fs::remove_file(&next);
        std::os::unix::fs::symlink(&to.code_dir, &next)?;
        std::fs::rename(&next, &link)
    }
}

fn signal_group(pid: u32, sig: libc::c_int) -> std::io::Result<()> {
    // SAFETY: plain syscall with integer arguments.
    if unsafe { libc::kill(-(pid as libc::pid_t), sig) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn cstr(s: &[u8]) -> std::io::Result<CString> {
    CString::new(s)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL byte in argument"))
}

#[async_trait]
impl Sandbox for ProcessSandbox {
    fn name(&self) -> &'static str {
        "process"
    }

    fn view(&self, work_dir: &std::path::Path) -> View {
        View {
            code_root: work_dir.join("code").display().to_string(),
            runtime_root: String::new(),
            cwd: work_dir.display().to_string(),
            tmp: work_dir.join("tmp").display().to_string(),
        }
    }

    async fn start(&self, spec: &InstanceSpec) -> Result<Started, SandboxError> {
        if !spec.mounts.is_empty() || spec.image_root.is_some() {
            return Err(SandboxError::Spawn(std::io::Error::other(
                "disk mounts and container images need the isolated sandbox (run stratus serve as root or where user namespaces are allowed)",
            )));
        }
        // The code is reached through `<work>/code` so relative paths behave as in the
        // isolated backend (`code/...` from the working directory).
        let link = spec.work_dir.join("code");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&spec.code_dir, &link)?;
        for sub in ["tmp", "log"] {
            std::fs::create_dir_all(spec.work_dir.join(sub))?;
        }
        match std::fs::metadata(&spec.program) {
            Err(_) => return Err(SandboxError::NotFound(spec.program.clone())),
            Ok(m) if !m.is_file() || m.permissions().mode() & 0o111 == 0 => {
                return Err(SandboxError::NotExecutable(spec.program.clone()))
            }
            Ok(_) => {}
        }
        let (api_addr, api_listener) = if spec.serve_runtime_api {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            (l.local_addr()?.to_string(), Some(l))
        } else {
            // The instance listens itself: pick a free port (released just before it binds).
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            (l.local_addr()?.to_string(), None)
        };
        let mut env = spec.env.clone();
        env.push(("RUNTIME_API_ADDR".into(), api_addr.clone()));
        let program = cstr(spec.program.as_bytes())?;
        let mut argv = vec![program.clone()];
        for a in &spec.args {
            let a = if a == "{RUNTIME_API_ADDR}" {
                &api_addr
            } else {
                a
            };
            argv.push(cstr(a.as_bytes())?);
        }
        let envp: Vec<CString> = env
            .iter()
            .map(|(k, v)| cstr(format!("{k}={v}").as_bytes()))
            .collect::<Result<_, _>>()?;
        let cwd = cstr(spec.work_dir.as_os_str().as_bytes())?;
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        let (nofile, nproc) = (spec.limits.nofile, spec.limits.nproc);
        let argv_ptrs: Vec<*const libc::c_char> = argv
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        let envp_ptrs: Vec<*const libc::c_char> = envp
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        use std::os::fd::AsRawFd;
        let (ow, ew) = (out_w.as_raw_fd(), err_w.as_raw_fd());
        // SAFETY: between fork and exec the child only makes async-signal-safe syscalls on
        // data prepared before the fork, then execs or exits.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        if pid == 0 {
            // SAFETY: child side, see above.
            unsafe {
                libc::setpgid(0, 0);
                let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
                libc::dup2(devnull, 0);
                libc::dup2(ow, 1);
                libc::dup2(ew, 2);
                let lim = |r, v| {
                    let l = libc::rlimit {
                        rlim_cur: v,
                        rlim_max: v,
                    };
                    libc::setrlimit(r, &l);
                };
                lim(libc::RLIMIT_NOFILE, nofile);
                lim(libc::RLIMIT_NPROC, nproc);
                lim(libc::RLIMIT_CORE, 0);
                libc::chdir(cwd.as_ptr());
                libc::execve(argv_ptrs[0], argv_ptrs.as_ptr(), envp_ptrs.as_ptr());
                libc::_exit(127);
            }
        }
        drop(out_w);
        drop(err_w);
        let pid = pid as u32;
        Ok(Started {
            pid,
            stdout: out_r,
            stderr: err_r,
            api_addr,
            api_listener,
            exited: Box::pin(crate::wait_pid(pid)),
            handle: Box::new(ProcessHandle { pid }),
        })
    }
}
