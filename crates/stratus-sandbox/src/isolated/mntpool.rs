//! Mount namespaces made ahead of time (root mode, code-package instances). A cold start
//! used to copy the server's mount table (`CLONE_NEWNS`), build a root of ~40 steps and
//! `pivot_root` into it; detaching the old root waits for an RCU grace period, 0.2–1.9 ms
//! on this machine. A background thread now does that part: each namespace it keeps has
//! the shared part of every instance's root (the read-only system directories, `/dev`
//! and the empty mount points) and is already pivoted. The child `setns`es into one and
//! adds only what is its own: code, runtime, `/tmp`, `/proc`, `/dev/shm`, disk mounts.
//! Each namespace serves one instance.

use super::child::{self, Op};
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A prepared mount namespace.
pub struct ReadyMnt {
    pub ns: OwnedFd,
}

struct State {
    ready: VecDeque<ReadyMnt>,
    stopped: bool,
}

/// Keeps `size` namespaces ready until dropped.
pub struct MntPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    wake: Condvar,
    size: usize,
    /// The template's steps, with paths under `root`.
    ops: Vec<Op>,
    names: Vec<String>,
    root: PathBuf,
}

impl MntPool {
    /// Starts the refill thread; `ops` build the template under `root` (a directory the
    /// thread mounts a tmpfs on inside its own namespace, invisible to the host).
    pub fn start(
        size: usize,
        root: PathBuf,
        ops: Vec<Op>,
        names: Vec<String>,
    ) -> std::io::Result<MntPool> {
        std::fs::create_dir_all(&root)?;
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                ready: VecDeque::new(),
                stopped: false,
            }),
            wake: Condvar::new(),
            size,
            ops,
            names,
            root,
        });
        let host = std::fs::File::open("/proc/thread-self/ns/mnt")?;
        let p = inner.clone();
        std::thread::Builder::new()
            .name("stratus-mntpool".into())
            .spawn(move || p.refill(host))?;
        Ok(MntPool { inner })
    }

    /// A ready namespace, if one is left.
    pub fn take(&self) -> Option<ReadyMnt> {
        let mut st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        let got = st.ready.pop_front();
        if got.is_some() {
            self.inner.wake.notify_one();
        }
        got
    }
}

impl Inner {
    fn refill(&self, host: std::fs::File) {
        let mut failures = 0u32;
        loop {
            {
                let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
                while !st.stopped && st.ready.len() >= self.size {
                    st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
                }
                if st.stopped {
                    return;
                }
            }
            match self.make(&host) {
                Ok(m) => {
                    failures = 0;
                    self.state
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .ready
                        .push_back(m);
                }
                Err(e) => {
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(
                            "mount namespace pool: {e}; cold starts build their own root"
                        );
                    }
                    if failures > 20 {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100 * u64::from(failures)));
                }
            }
        }
    }

    /// Makes one namespace on this thread, then returns the thread to the host's.
    fn make(&self, host: &std::fs::File) -> std::io::Result<ReadyMnt> {
        let last = std::io::Error::last_os_error;
        // SAFETY: unshare gives this thread its own fs context and mount namespace (a
        // copy of the host's); nothing else is affected.
        if unsafe { libc::unshare(libc::CLONE_FS | libc::CLONE_NEWNS) } != 0 {
            return Err(last());
        }
        let made = self.build();
        // SAFETY: setns back to the namespace this thread started in (also resets its
        // root and working directory to that namespace's).
        if unsafe { libc::setns(host.as_raw_fd(), libc::CLONE_NEWNS) } != 0 {
            let e = last();
            self.state.lock().unwrap_or_else(|p| p.into_inner()).stopped = true;
            return Err(std::io::Error::other(format!(
                "return to host mount namespace: {e}"
            )));
        }
        made
    }

    /// Inside the new namespace: make mounts private, build the template, pivot into it.
    fn build(&self) -> std::io::Result<ReadyMnt> {
        let last = std::io::Error::last_os_error;
        let c = |p: &std::path::Path| {
            std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()))
                .map_err(|_| std::io::Error::other("NUL byte in a path"))
        };
        // Opened now: the template has no /proc.
        let ns = std::fs::File::open("/proc/thread-self/ns/mnt")?;
        let root = c(&self.root)?;
        let old = c(&self.root.join(".old"))?;
        // SAFETY: raw mount-table calls in this thread's private namespace, on valid C
        // strings; the ops are the same steps a cold start's child runs.
        unsafe {
            if libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return Err(last());
            }
            for (i, op) in self.ops.iter().enumerate() {
                if !child::run_op(op, &[]) {
                    let e = last();
                    let name = self.names.get(i).map_or("?", String::as_str);
                    return Err(std::io::Error::new(e.kind(), format!("{name}: {e}")));
                }
            }
            if libc::syscall(libc::SYS_pivot_root, root.as_ptr(), old.as_ptr()) != 0 {
                return Err(last());
            }
            if libc::chdir(c"/".as_ptr()) != 0
                || libc::umount2(c"/.old".as_ptr(), libc::MNT_DETACH) != 0
            {
                return Err(last());
            }
            libc::rmdir(c"/.old".as_ptr());
        }
        Ok(ReadyMnt {
            ns: OwnedFd::from(ns),
        })
    }
}

impl Drop for MntPool {
    fn drop(&mut self) {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .stopped = true;
        self.inner.wake.notify_all();
    }
}
