//! Mount namespaces made ahead of time (root mode, code-package instances). A cold start
//! used to copy the server's mount table (`CLONE_NEWNS`), build a root of ~40 steps and
//! `pivot_root` into it; detaching the old root waits for an RCU grace period, 0.2–1.9 ms
//! on this machine. A background thread now does that part: each namespace it keeps has
//! the shared part of every instance's root (the read-only system directories, `/dev`
//! and the empty mount points) and is already pivoted. The child `setns`es into one and
//! adds only what is its own: code, runtime, `/tmp`, `/proc`, `/dev/shm`, disk mounts.
//! Each namespace serves one instance.

use super::child::{self, Op};
use super::ready::{Failed, Ready};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

/// A prepared mount namespace.
pub struct ReadyMnt {
    pub ns: OwnedFd,
}

/// Keeps `size` namespaces ready until dropped.
pub struct MntPool {
    ready: Ready<ReadyMnt>,
}

/// What the thread builds each namespace from.
struct Template {
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
        let host = std::fs::File::open("/proc/thread-self/ns/mnt")?;
        let t = Template { ops, names, root };
        let ready = Ready::start("stratus-mntpool", "mount namespace pool", size, move || {
            t.make(&host)
        })?;
        Ok(MntPool { ready })
    }

    /// A ready namespace, if one is left.
    pub fn take(&self) -> Option<ReadyMnt> {
        self.ready.take(|_| true, false)
    }
}

impl Template {
    /// Makes one namespace on this thread, then returns the thread to the host's.
    fn make(&self, host: &std::fs::File) -> Result<ReadyMnt, Failed> {
        let last = std::io::Error::last_os_error;
        // SAFETY: unshare gives this thread its own fs context and mount namespace (a
        // copy of the host's); nothing else is affected.
        if unsafe { libc::unshare(libc::CLONE_FS | libc::CLONE_NEWNS) } != 0 {
            return Err(Failed::Retry(last()));
        }
        let made = self.build();
        // SAFETY: setns back to the namespace this thread started in (also resets its
        // root and working directory to that namespace's).
        if unsafe { libc::setns(host.as_raw_fd(), libc::CLONE_NEWNS) } != 0 {
            let e = last();
            return Err(Failed::Broken(std::io::Error::other(format!(
                "return to host mount namespace: {e}"
            ))));
        }
        made.map_err(Failed::Retry)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_namespace_holds_only_the_template() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP: making mount namespaces needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("template");
        let o = super::super::template_ops(&root).unwrap();
        let pool = MntPool::start(1, root.clone(), o.ops, o.names).unwrap();
        let mut got = None;
        for _ in 0..300 {
            got = pool.take();
            if got.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let mnt = got.expect("a namespace within 3 s");
        // The host sees nothing of it: the tmpfs was mounted in the pool's namespace.
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
        // Look from a thread that joins it, as an instance's child does.
        let ns = mnt.ns.as_raw_fd();
        let (entries, usr, data) = std::thread::spawn(move || {
            // SAFETY: this thread gets its own fs context, then joins the namespace; it
            // exits afterwards.
            unsafe {
                assert_eq!(libc::unshare(libc::CLONE_FS), 0);
                assert_eq!(libc::setns(ns, libc::CLONE_NEWNS), 0);
            }
            let mut names: Vec<String> = std::fs::read_dir("/")
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            let usr = std::path::Path::new("/usr/bin").is_dir();
            let data = std::path::Path::new("/work").exists()
                || std::path::Path::new("/root").exists()
                || std::fs::read_dir("/proc").unwrap().count() > 0;
            (names, usr, data)
        })
        .join()
        .unwrap();
        assert!(usr, "the system directories are there: {entries:?}");
        assert!(!data, "nothing else of the host is: {entries:?}");
        for want in ["dev", "etc", "home", "opt", "proc", "tmp", "usr"] {
            assert!(entries.iter().any(|e| e == want), "{want} in {entries:?}");
        }
        assert!(!entries.iter().any(|e| e == ".old"), "{entries:?}");
    }
}
