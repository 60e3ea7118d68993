//! slirp4netns, the outbound network of isolated instances: started for a running
//! instance (by its pid), or ahead of time for a pooled network namespace (by the
//! namespace's fd), so that a cold start neither waits for it nor shares the CPU with
//! its start-up.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a pooled namespace waits for slirp4netns to configure it.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// A running slirp4netns; dropping it ends it (closing the exit pipe, then SIGKILL).
pub struct SlirpProc {
    child: Child,
    _exit: OwnedFd,
}

impl Drop for SlirpProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The slirp4netns program and the options every instance gets.
#[derive(Clone)]
pub struct SlirpCmd {
    pub bin: PathBuf,
    pub allow_host_loopback: bool,
}

impl SlirpCmd {
    fn base(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--configure", "--mtu=65520"]);
        if !self.allow_host_loopback {
            cmd.arg("--disable-host-loopback");
        }
        cmd.arg("--exit-fd=3")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env_clear();
        cmd
    }

    /// For the network namespace of running process `pid` (in user-namespace mode,
    /// also joining that process's user namespace, which owns the netns).
    pub fn for_pid(&self, pid: u32, userns: bool) -> Option<SlirpProc> {
        let mut cmd = self.base();
        if userns {
            cmd.arg(format!("--userns-path=/proc/{pid}/ns/user"));
        }
        cmd.arg(pid.to_string()).arg("tap0");
        spawn(cmd, None).ok().map(|(p, _)| p)
    }

    /// For the namespace `ns` (the caller's fd), returning once tap0 is configured.
    pub fn for_netns(&self, ns: &OwnedFd) -> std::io::Result<SlirpProc> {
        let mut cmd = self.base();
        cmd.args([
            "--ready-fd=5",
            "--netns-type=path",
            "/proc/self/fd/4",
            "tap0",
        ]);
        let (proc_, ready) = spawn(cmd, Some(ns.as_raw_fd()))?;
        let ready = ready.ok_or_else(|| std::io::Error::other("no ready pipe"))?;
        wait_readable(&ready, READY_TIMEOUT)?;
        let mut b = [0u8; 1];
        // SAFETY: reading one byte into a valid buffer from our pipe.
        let n = unsafe { libc::read(ready.as_raw_fd(), b.as_mut_ptr().cast(), 1) };
        if n != 1 {
            return Err(std::io::Error::other(
                "slirp4netns ended before configuring the namespace",
            ));
        }
        Ok(proc_)
    }
}

fn wait_readable(fd: &OwnedFd, timeout: Duration) -> std::io::Result<()> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: poll on one valid pollfd.
    match unsafe { libc::poll(&mut p, 1, ms) } {
        1 => Ok(()),
        0 => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "slirp4netns did not configure the namespace in time",
        )),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Spawns `cmd` with the read end of a new exit pipe as fd 3 (slirp4netns ends when the
/// write end closes), `ns` as fd 4 and, with `ns`, the write end of a ready pipe as fd 5.
fn spawn(mut cmd: Command, ns: Option<RawFd>) -> std::io::Result<(SlirpProc, Option<OwnedFd>)> {
    use std::os::unix::process::CommandExt;
    let (exit_r, exit_w) = super::pipe()?;
    let ready = ns.map(|_| super::pipe()).transpose()?;
    let exit_fd = exit_r.as_raw_fd();
    let ready_fd = ready.as_ref().map_or(-1, |(_, w)| w.as_raw_fd());
    let ns_fd = ns.unwrap_or(-1);
    // SAFETY: fcntl and dup2 are async-signal-safe. The sources are first moved above
    // the targets, so a source numbered 3–5 is not overwritten before it is copied; the
    // copies made by dup2 are not close-on-exec.
    unsafe {
        cmd.pre_exec(move || {
            let high = |fd: RawFd| -> std::io::Result<RawFd> {
                if fd < 0 {
                    return Ok(-1);
                }
                let h = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10);
                if h < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(h)
            };
            let moved = [(high(exit_fd)?, 3), (high(ns_fd)?, 4), (high(ready_fd)?, 5)];
            for (from, to) in moved {
                if from >= 0 && libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    drop(exit_r);
    let ready_r = ready.map(|(r, w)| {
        drop(w);
        r
    });
    Ok((
        SlirpProc {
            child,
            _exit: exit_w,
        },
        ready_r,
    ))
}
