//! The `isolated` backend: each instance is cloned into new mount, PID, IPC, UTS and
//! network namespaces, joins its own memory/pids/cpu cgroups, sees a read-only root
//! built from the host's system directories (or a container image), its code read-only
//! at `/opt/function/code`, a size-limited `/tmp`, and runs as uid/gid 1003. The
//! runtime API socket is created inside the instance's network namespace, so the
//! instance needs no route to the host; outbound access goes through slirp4netns.
//!
//! As root the namespaces hang off the host's user namespace. Without root the backend
//! runs in user-namespace mode (docs/sandbox-userns.md): each instance also gets its own
//! user namespace in which uid/gid 1003 map to the server's own ids, cgroups come from a
//! delegated v2 subtree when there is one (else rlimits and the engine's memory
//! watchdog), and the netns set-up is done by a forked helper that joins the instance's
//! user namespace first.

mod cgroup;
mod child;
mod dynmods;
mod inject;
mod links;
mod mntpool;
mod netns;
mod netpool;
mod ready;
mod slirp;

use crate::{InstanceHandle, InstanceSpec, Sandbox, SandboxError, Started, View};
use async_trait::async_trait;
use child::{Op, Plan};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Port of the runtime API inside every instance's own loopback.
pub const API_PORT: u16 = 9000;

/// Host directories made visible (read-only) when an instance does not bring an image.
const SYSTEM_DIRS: &[&str] = &[
    "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
];
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// How the backend gets its privileges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The server runs as root.
    Root,
    /// Unprivileged: every instance gets its own user namespace as well.
    UserNamespace,
}

/// Starts instances in namespaces and cgroups.
pub struct IsolatedSandbox {
    state_dir: PathBuf,
    slirp: Option<PathBuf>,
    allow_host_loopback: bool,
    mode: Mode,
    /// Why instances run without cgroups (user-namespace mode without a delegated
    /// subtree); `None` when they get cgroups.
    no_cgroups: Option<String>,
    /// Why instances get no outbound network on this host, when they do not.
    no_network: Option<String>,
    /// Network namespaces made ahead of cold starts (root mode; None: each clone makes
    /// its own).
    net_pool: Option<Arc<netpool::NetPool>>,
    /// Mount namespaces with the shared part of a root, made ahead of cold starts (root
    /// mode, code packages; None: each child builds and pivots into its root).
    mnt_pool: Option<Arc<mntpool::MntPool>>,
}

impl IsolatedSandbox {
    /// Checks that this host allows the backend (root with memory/pids/cpu cgroups in
    /// v2 or v1, or unprivileged user namespaces) and prepares `state_dir`. The error
    /// says why not.
    pub fn new(
        state_dir: &Path,
        allow_host_loopback: bool,
        netns_pool: usize,
    ) -> Result<Self, String> {
        // SAFETY: geteuid has no preconditions.
        let mode = if unsafe { libc::geteuid() } == 0 {
            Mode::Root
        } else {
            probe_userns().map_err(|e| {
                format!(
                    "the isolated sandbox needs root or unprivileged user namespaces \
                     (a user namespace could not be used here: {e})"
                )
            })?;
            Mode::UserNamespace
        };
        let mut no_cgroups = None;
        match mode {
            Mode::Root => {
                cgroup::available()?;
                cgroup::remove_stale();
            }
            Mode::UserNamespace => match cgroup::delegated() {
                Ok(_) => cgroup::remove_stale(),
                Err(why) => no_cgroups = Some(why),
            },
        }
        std::fs::create_dir_all(state_dir.join("root"))
            .map_err(|e| format!("create {}: {e}", state_dir.display()))?;
        if mode == Mode::Root && std::env::var_os("STRATUS_CGROUP_KEEP_DEFAULTS").is_none() {
            match dynmods::enable(state_dir) {
                Ok(dynmods::Outcome::AlreadySet) => {}
                Ok(dynmods::Outcome::Remounted(at)) => tracing::info!(
                    "cgroups: remounted {at} with favordynmods (cheap instance attach; \
                     STRATUS_CGROUP_KEEP_DEFAULTS=1 leaves the host as it is)"
                ),
                Ok(dynmods::Outcome::Mounted(at)) => {
                    tracing::info!("cgroups: mounted cgroup2 with favordynmods at {at}")
                }
                Err(e) => tracing::warn!(
                    "cgroups: could not set favordynmods ({e}); each cold start may wait \
                     ~15 ms for the kernel's cgroup attach"
                ),
            }
        }
        std::fs::write(state_dir.join("resolv.conf"), "nameserver 10.0.2.3\n")
            .map_err(|e| e.to_string())?;
        // Container images get this /etc/hosts, as container engines give theirs.
        std::fs::write(
            state_dir.join("hosts"),
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
        )
        .map_err(|e| e.to_string())?;
        let found = ["/usr/bin/slirp4netns", "/bin/slirp4netns"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        let tun = Path::new("/dev/net/tun");
        let no_network = if found.is_none() {
            Some("slirp4netns is not installed".to_string())
        } else if !tun.exists() {
            Some("/dev/net/tun is missing".to_string())
        } else if mode == Mode::UserNamespace && !can_read_write(tun) {
            // slirp4netns opens it with the server's own uid (many hosts make it 0666).
            Some(format!(
                "/dev/net/tun is not readable and writable by uid {}",
                // SAFETY: geteuid has no preconditions.
                unsafe { libc::geteuid() }
            ))
        } else {
            None
        };
        let slirp = found.filter(|_| no_network.is_none());
        let mut sandbox = IsolatedSandbox {
            state_dir: state_dir.to_path_buf(),
            slirp,
            allow_host_loopback,
            mode,
            no_cgroups,
            no_network,
            net_pool: None,
            mnt_pool: None,
        };
        if mode == Mode::Root {
            sandbox.self_test()?;
            // Namespaces made by the server belong to its user namespace, which the
            // instances of user-namespace mode cannot join.
            let pool_size = netns_pool;
            if pool_size > 0 {
                let block_host = sandbox.slirp.is_some() && !allow_host_loopback;
                let slirp = sandbox.slirp.clone().map(|bin| slirp::SlirpCmd {
                    bin,
                    allow_host_loopback,
                });
                match netpool::NetPool::start(pool_size, API_PORT, block_host, slirp) {
                    Ok(p) => sandbox.net_pool = Some(Arc::new(p)),
                    Err(e) => {
                        tracing::warn!("netns pool not started ({e}); cold starts make their own")
                    }
                }
                let root = state_dir.join("template");
                let started = template_ops(&root)
                    .and_then(|o| mntpool::MntPool::start(pool_size, root, o.ops, o.names));
                match started {
                    Ok(p) => sandbox.mnt_pool = Some(Arc::new(p)),
                    Err(e) => tracing::warn!(
                        "mount namespace pool not started ({e}); cold starts build their own root"
                    ),
                }
            }
        }
        Ok(sandbox)
    }

    /// Root or user-namespace mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Why instances run without cgroups, when they do (user-namespace mode without a
    /// delegated cgroup v2 subtree): memory is then enforced by the engine's watchdog,
    /// processes by `RLIMIT_NPROC`, and CPU share and freezing not at all.
    pub fn without_cgroups(&self) -> Option<&str> {
        self.no_cgroups.as_deref()
    }

    /// Whether pre-started instances can be specialised (the pre-heated pool): it
    /// attaches host mounts into the instance's mount namespace, which takes privileges
    /// over the host's mount namespace that an unprivileged server does not have.
    pub fn can_specialise(&self) -> bool {
        self.mode == Mode::Root
    }

    /// Whether instances can get outbound network access on this host.
    pub fn has_network(&self) -> bool {
        self.slirp.is_some()
    }

    /// Why instances cannot get outbound network access, when they cannot.
    pub fn why_no_network(&self) -> Option<&str> {
        self.no_network.as_deref()
    }

    fn self_test(&self) -> Result<(), String> {
        // A namespace clone that execs nothing proves the kernel allows it.
        let mut stack = vec![0u8; 64 * 1024];
        extern "C" fn noop(_: *mut libc::c_void) -> libc::c_int {
            0
        }
        let flags = libc::CLONE_NEWNS
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWNET;
        // SAFETY: the child runs `noop` on its own copy of `stack` and exits.
        let pid = unsafe {
            let top = stack.as_mut_ptr().add(stack.len());
            libc::clone(
                noop,
                top.cast(),
                flags | libc::SIGCHLD,
                std::ptr::null_mut(),
            )
        };
        if pid < 0 {
            return Err(format!(
                "namespaces are not allowed here: {}",
                std::io::Error::last_os_error()
            ));
        }
        let mut status = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        Ok(())
    }
}

/// Whether this unprivileged process may create a user namespace with mount, PID, IPC,
/// UTS and network namespaces and use it: the probe child maps itself, makes its mounts
/// private, mounts a proc (refused where the host hides parts of /proc) and a tmpfs.
fn probe_userns() -> Result<(), String> {
    struct Probe {
        sync_fd: i32,
        err_fd: i32,
    }
    extern "C" fn probe(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the parent's Probe, copied by clone (no CLONE_VM); only raw
        // syscalls follow.
        unsafe {
            let p = &*(arg as *const Probe);
            let mut b = 0u8;
            if libc::read(p.sync_fd, (&mut b as *mut u8).cast(), 1) != 1 {
                libc::_exit(1);
            }
            let fail = |step: u32| -> ! {
                let msg = [step, *libc::__errno_location() as u32];
                libc::write(p.err_fd, msg.as_ptr().cast(), 8);
                libc::_exit(1)
            };
            let (nul, none) = (std::ptr::null(), std::ptr::null());
            if libc::mount(
                nul,
                c"/".as_ptr(),
                nul,
                libc::MS_REC | libc::MS_PRIVATE,
                none,
            ) != 0
            {
                fail(0);
            }
            let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
            if libc::mount(
                c"proc".as_ptr(),
                c"/proc".as_ptr(),
                c"proc".as_ptr(),
                flags,
                none,
            ) != 0
            {
                fail(1);
            }
            if libc::mount(
                c"tmpfs".as_ptr(),
                c"/tmp".as_ptr(),
                c"tmpfs".as_ptr(),
                flags,
                none,
            ) != 0
            {
                fail(2);
            }
            0
        }
    }
    let (sync_r, sync_w) = pipe().map_err(|e| e.to_string())?;
    let (err_r, err_w) = pipe().map_err(|e| e.to_string())?;
    let p = Probe {
        sync_fd: sync_r.as_raw_fd(),
        err_fd: err_w.as_raw_fd(),
    };
    let mut stack = vec![0u8; 64 * 1024];
    // SAFETY: the child runs `probe` on its own copy of `stack` and `p`, then exits.
    let pid = unsafe {
        let top = stack.as_mut_ptr().add(stack.len() - 64);
        let top = (top as usize & !15) as *mut libc::c_void;
        libc::clone(
            probe,
            top,
            USERNS_FLAGS | libc::SIGCHLD,
            (&p as *const Probe).cast_mut().cast(),
        )
    };
    if pid < 0 {
        return Err(format!("clone: {}", std::io::Error::last_os_error()));
    }
    drop((sync_r, err_w));
    let mapped = write_maps(pid as u32, 0, 0);
    if mapped.is_ok() {
        // SAFETY: one byte from a valid buffer to our pipe.
        unsafe { libc::write(sync_w.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
    }
    drop(sync_w);
    let mut buf = [0u32; 2];
    // SAFETY: reading into a valid buffer from our pipe.
    let n = unsafe { libc::read(err_r.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
    let mut status = 0;
    // SAFETY: reaping our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    mapped.map_err(|e| format!("write the id maps: {e}"))?;
    if n == 8 {
        let what = ["make mounts private", "mount proc", "mount tmpfs"]
            .get(buf[0] as usize)
            .copied()
            .unwrap_or("set-up");
        return Err(format!(
            "{what}: {}",
            std::io::Error::from_raw_os_error(buf[1] as i32)
        ));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("probe child ended with status {status}"));
    }
    Ok(())
}

const NS_FLAGS: libc::c_int = libc::CLONE_NEWNS
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWNET;
const USERNS_FLAGS: libc::c_int = NS_FLAGS | libc::CLONE_NEWUSER;

/// Maps `inside_uid`/`inside_gid` of the new user namespace of `pid` to this server's
/// own ids, the one mapping an unprivileged process may write (after denying
/// `setgroups`, which the kernel requires for an unprivileged `gid_map`).
fn write_maps(pid: u32, inside_uid: u32, inside_gid: u32) -> std::io::Result<()> {
    // SAFETY: geteuid and getegid have no preconditions.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let ctx = |what: &str, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("write /proc/{pid}/{what}: {e}"))
    };
    std::fs::write(format!("/proc/{pid}/setgroups"), "deny").map_err(|e| ctx("setgroups", e))?;
    std::fs::write(
        format!("/proc/{pid}/uid_map"),
        format!("{inside_uid} {uid} 1\n"),
    )
    .map_err(|e| ctx("uid_map", e))?;
    std::fs::write(
        format!("/proc/{pid}/gid_map"),
        format!("{inside_gid} {gid} 1\n"),
    )
    .map_err(|e| ctx("gid_map", e))
}

fn can_read_write(p: &Path) -> bool {
    c(p.as_os_str().as_bytes())
        // SAFETY: access(2) on a valid C string.
        .map(|p| unsafe { libc::access(p.as_ptr(), libc::R_OK | libc::W_OK) } == 0)
        .unwrap_or(false)
}

/// The mount flags of the file system holding `host` that a bind of it keeps locked in a
/// user namespace: a remount of the bind that drops one of them fails with EPERM.
fn locked_flags(host: &Path) -> std::io::Result<libc::c_ulong> {
    let p = c(host.as_os_str().as_bytes())?;
    // SAFETY: statvfs on a valid C string into a zeroed struct.
    let st = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(p.as_ptr(), &mut st) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        st
    };
    let pairs = [
        (libc::ST_RDONLY, libc::MS_RDONLY),
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ];
    Ok(pairs
        .iter()
        .filter(|(st_flag, _)| st.f_flag & *st_flag != 0)
        .fold(0, |acc, (_, ms)| acc | *ms))
}

fn c(s: impl AsRef<[u8]>) -> std::io::Result<CString> {
    CString::new(s.as_ref()).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "NUL byte in a path or argument",
        )
    })
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

/// Builds the list of set-up steps and their descriptions.
struct Ops {
    ops: Vec<Op>,
    names: Vec<String>,
    root: PathBuf,
    /// Host addresses made unreachable inside the instance's network.
    blocked: Vec<std::net::Ipv4Addr>,
    /// User-namespace mode: read-only remounts keep the source's locked flags.
    userns: bool,
    /// Extra flags of the root's final read-only remount.
    root_flags: libc::c_ulong,
    /// Directories already created by earlier steps (and not covered by a mount since).
    made: std::collections::HashSet<String>,
    /// Binds are detached copies made before joining a prepared mount namespace
    /// (`pre`) and moved into it (`ops`).
    detached: bool,
    pre: Vec<Op>,
    pre_names: Vec<String>,
}

impl Ops {
    fn at(&self, inside: &str) -> PathBuf {
        self.root.join(inside.trim_start_matches('/'))
    }
    fn push(&mut self, op: Op, name: String) {
        self.ops.push(op);
        self.names.push(name);
    }
    fn mkdirs(&mut self, inside: &str, mode: u32) -> std::io::Result<()> {
        let mut cur = String::new();
        for part in inside.split('/').filter(|p| !p.is_empty()) {
            cur.push('/');
            cur.push_str(part);
            if !self.made.insert(cur.clone()) {
                continue;
            }
            let p = self.at(&cur);
            self.push(
                Op::Mkdir(c(p.as_os_str().as_bytes())?, mode),
                format!("create {cur}"),
            );
        }
        Ok(())
    }
    fn mount(
        &mut self,
        src: &[u8],
        inside: &str,
        fstype: &str,
        flags: libc::c_ulong,
        data: &str,
    ) -> std::io::Result<()> {
        // What was made below a new mount point is hidden by the mount.
        let under = format!("{}/", inside.trim_end_matches('/'));
        self.made.retain(|d| !d.starts_with(&under));
        let dst = self.at(inside);
        self.push(
            Op::Mount {
                src: c(src)?,
                dst: c(dst.as_os_str().as_bytes())?,
                fstype: c(fstype)?,
                flags,
                data: c(data)?,
            },
            format!("mount {} on {inside}", String::from_utf8_lossy(src)),
        );
        Ok(())
    }
    fn bind(&mut self, host: &Path, inside: &str, read_only: bool) -> std::io::Result<()> {
        if self.detached {
            let slot = self.pre.len();
            let attrs = if read_only {
                child::MOUNT_ATTR_RDONLY | child::MOUNT_ATTR_NOSUID | child::MOUNT_ATTR_NODEV
            } else {
                0
            };
            self.pre.push(Op::OpenTree {
                src: c(host.as_os_str().as_bytes())?,
                attrs,
                slot,
            });
            self.pre_names.push(format!("clone {}", host.display()));
            let under = format!("{}/", inside.trim_end_matches('/'));
            self.made.retain(|d| !d.starts_with(&under));
            let dst = self.at(inside);
            self.push(
                Op::MoveMount {
                    slot,
                    dst: c(dst.as_os_str().as_bytes())?,
                },
                format!("mount {} on {inside}", host.display()),
            );
            return Ok(());
        }
        self.mount(
            host.as_os_str().as_bytes(),
            inside,
            "",
            libc::MS_BIND | libc::MS_REC,
            "",
        )?;
        if read_only {
            let locked = if self.userns { locked_flags(host)? } else { 0 };
            let flags = libc::MS_BIND
                | libc::MS_REMOUNT
                | libc::MS_RDONLY
                | libc::MS_NOSUID
                | libc::MS_NODEV
                | locked;
            self.mount(b"", inside, "", flags, "")?;
        }
        Ok(())
    }
}

/// Directories every prepared template has (mount points of each instance's own mounts).
const TEMPLATE_DIRS: &[(&str, u32)] = &[
    ("/dev/shm", 0o1777),
    ("/proc", 0o555),
    ("/tmp", 0o1777),
    ("/opt/function/code", 0o755),
    ("/home/snuser/runtime", 0o755),
];

fn new_ops(root: PathBuf, userns: bool, detached: bool) -> Ops {
    Ops {
        ops: Vec::new(),
        names: Vec::new(),
        root,
        blocked: Vec::new(),
        userns,
        root_flags: 0,
        made: Default::default(),
        detached,
        pre: Vec::new(),
        pre_names: Vec::new(),
    }
}

/// A tmpfs root with the host's system directories bound read-only.
fn system_root(o: &mut Ops) -> std::io::Result<()> {
    let nosuid = libc::MS_NOSUID | libc::MS_NODEV;
    o.mount(b"tmpfs", "/", "tmpfs", nosuid, "size=4m,mode=755")?;
    for d in SYSTEM_DIRS {
        let host = Path::new("/").join(d);
        let Ok(meta) = std::fs::symlink_metadata(&host) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&host)?;
            let at = o.at(d);
            o.push(
                Op::Symlink(
                    c(target.as_os_str().as_bytes())?,
                    c(at.as_os_str().as_bytes())?,
                ),
                format!("link /{d}"),
            );
        } else if meta.is_dir() {
            o.mkdirs(d, 0o755)?;
            o.bind(&host, d, true)?;
        }
    }
    Ok(())
}

/// `/dev`: a small tmpfs with the usual device nodes and links.
fn dev(o: &mut Ops) -> std::io::Result<()> {
    o.mkdirs("/dev", 0o755)?;
    o.mount(
        b"tmpfs",
        "/dev",
        "tmpfs",
        libc::MS_NOSUID | libc::MS_NOEXEC,
        "size=64k,mode=755",
    )?;
    for d in DEVICES {
        let inside = format!("/dev/{d}");
        let at = o.at(&inside);
        let host = Path::new("/dev").join(d);
        if !o.userns {
            // As root a node of the same device is one mknod instead of a file and a bind.
            use std::os::unix::fs::{FileTypeExt, MetadataExt};
            let meta = std::fs::metadata(&host)?;
            if meta.file_type().is_char_device() {
                o.push(
                    Op::Mknod(c(at.as_os_str().as_bytes())?, meta.rdev()),
                    format!("create {inside}"),
                );
                continue;
            }
        }
        o.push(
            Op::Touch(c(at.as_os_str().as_bytes())?),
            format!("create {inside}"),
        );
        o.bind(&host, &inside, false)?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let at = o.at(&format!("/dev/{name}"));
        o.push(
            Op::Symlink(c(target)?, c(at.as_os_str().as_bytes())?),
            format!("link /dev/{name}"),
        );
    }
    Ok(())
}

/// The steps of a prepared mount namespace's root (`mntpool`), under `root`.
fn template_ops(root: &Path) -> std::io::Result<Ops> {
    let mut o = new_ops(root.to_path_buf(), false, false);
    system_root(&mut o)?;
    dev(&mut o)?;
    for (d, mode) in TEMPLATE_DIRS {
        o.mkdirs(d, *mode)?;
    }
    o.mkdirs("/.old", 0o700)?;
    Ok(o)
}

fn build_ops(sb: &IsolatedSandbox, spec: &InstanceSpec, pooled: bool) -> std::io::Result<Ops> {
    let root = if pooled {
        PathBuf::from("/")
    } else {
        sb.state_dir.join("root")
    };
    let mut o = new_ops(root, sb.mode == Mode::UserNamespace, pooled);
    if pooled {
        // The template has these; mkdir would only answer EEXIST.
        for (d, _) in TEMPLATE_DIRS {
            let mut cur = String::new();
            for part in d.split('/').filter(|p| !p.is_empty()) {
                cur.push('/');
                cur.push_str(part);
                o.made.insert(cur.clone());
            }
        }
    }
    match &spec.image_root {
        _ if pooled => {}
        Some(image) => {
            // Mount points live in the shared image tree and are reached from the host
            // side before pivot_root: a symlink there would point into the host.
            for d in ["proc", "dev", "tmp", ".old"] {
                let p = image.join(d);
                match std::fs::symlink_metadata(&p) {
                    Ok(m) if m.is_dir() => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        std::fs::create_dir(&p)?;
                    }
                    _ => return Err(not_a_dir(&format!("/{d}"))),
                }
            }
            for m in &spec.mounts {
                no_symlinks(image, &m.target)?;
            }
            o.bind(image, "/", false)?;
            if o.userns {
                o.root_flags = locked_flags(image)?;
            }
        }
        None => system_root(&mut o)?,
    }
    if !pooled {
        dev(&mut o)?;
    }
    let nosuid = libc::MS_NOSUID | libc::MS_NODEV;
    o.mkdirs("/dev/shm", 0o1777)?;
    o.mount(b"tmpfs", "/dev/shm", "tmpfs", nosuid, "size=64m,mode=1777")?;
    o.mkdirs("/proc", 0o555)?;
    o.mount(b"proc", "/proc", "proc", nosuid | libc::MS_NOEXEC, "")?;
    o.mkdirs("/tmp", 0o1777)?;
    o.mount(
        b"tmpfs",
        "/tmp",
        "tmpfs",
        nosuid,
        &format!("size={}m,mode=1777", spec.limits.tmp_mb.max(1)),
    )?;
    if spec.image_root.is_none() {
        o.mkdirs("/opt/function/code", 0o755)?;
        o.bind(&spec.code_dir, "/opt/function/code", true)?;
    }
    if spec.runtime_dir.as_os_str().len() > 1 {
        o.mkdirs("/home/snuser/runtime", 0o755)?;
        o.bind(&spec.runtime_dir, "/home/snuser/runtime", true)?;
    }
    if spec.image_root.is_none() && !spec.links.is_empty() {
        match links::tree(&sb.state_dir.join("links"), &spec.links) {
            // One bind of a tree made once instead of ~7 syscalls per link per start.
            Ok(Some((host, inside))) => {
                o.mkdirs(&inside, 0o755)?;
                o.bind(&host, &inside, true)?;
            }
            Ok(None) | Err(_) => {
                for (inside, target) in &spec.links {
                    if let Some((dir, _)) = inside.rsplit_once('/') {
                        o.mkdirs(dir, 0o755)?;
                    }
                    let at = o.at(inside);
                    o.push(
                        Op::Symlink(c(target.as_bytes())?, c(at.as_os_str().as_bytes())?),
                        format!("link {inside}"),
                    );
                }
            }
        }
    }
    for m in &spec.mounts {
        o.mkdirs(&m.target, 0o755)?;
        o.bind(&m.host, &m.target, m.read_only)?;
    }
    let host_resolv = Path::new("/etc/resolv.conf");
    let resolv_is_file = std::fs::symlink_metadata(host_resolv)
        .map(|m| m.is_file())
        .unwrap_or(false);
    let resolv_target = match &spec.image_root {
        None => resolv_is_file,
        // An image's own /etc/resolv.conf (made by the image store when missing) is
        // covered only when it is a plain file under a plain /etc.
        Some(image) => {
            std::fs::symlink_metadata(image.join("etc")).is_ok_and(|m| m.is_dir())
                && std::fs::symlink_metadata(image.join("etc/resolv.conf"))
                    .is_ok_and(|m| m.is_file())
        }
    };
    if spec.network && sb.slirp.is_some() && resolv_target {
        o.bind(&sb.state_dir.join("resolv.conf"), "/etc/resolv.conf", true)?;
    }
    if let Some(image) = &spec.image_root {
        let plain = std::fs::symlink_metadata(image.join("etc")).is_ok_and(|m| m.is_dir())
            && std::fs::symlink_metadata(image.join("etc/hosts")).is_ok_and(|m| m.is_file());
        if plain {
            o.bind(&sb.state_dir.join("hosts"), "/etc/hosts", true)?;
        }
    }
    // slirp4netns connects from the host's own network stack, so without this an
    // instance could reach any service bound to a host address (the API with
    // `--listen 0.0.0.0`, databases, ...). Read per start: addresses can change.
    if spec.network && sb.slirp.is_some() && !sb.allow_host_loopback {
        o.blocked = netns::host_addresses()?;
    }
    if !pooled {
        o.mkdirs("/.old", 0o700)?;
    }
    Ok(o)
}

fn not_a_dir(inside: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("the image's {inside} must be a directory (not a symbolic link or a file)"),
    )
}

/// Refuses a mount target whose existing components in the image tree are not plain
/// directories (the parts that do not exist yet are created as directories).
fn no_symlinks(image: &Path, inside: &str) -> std::io::Result<()> {
    let mut p = image.to_path_buf();
    let mut shown = String::new();
    for part in inside.split('/').filter(|s| !s.is_empty()) {
        p.push(part);
        shown.push('/');
        shown.push_str(part);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            _ => return Err(not_a_dir(&shown)),
        }
    }
    Ok(())
}

struct IsolatedHandle {
    pid: u32,
    /// `None` in user-namespace mode without a delegated cgroup subtree.
    cgroup: Option<cgroup::Cgroup>,
    userns: bool,
    slirp: Arc<Mutex<Slirp>>,
    /// The size of its `/tmp`, in MB.
    tmp_mb: u32,
}

/// The instance's slirp4netns: its pooled namespace's, or one started after it.
struct Slirp {
    child: Option<slirp::SlirpProc>,
    /// The instance was cleaned up: a slirp4netns that starts late stops at once.
    closed: bool,
}

impl Slirp {
    fn stop(&mut self) {
        self.child = None;
    }
}

fn no_freezer() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "instances without cgroups cannot be frozen",
    )
}

impl InstanceHandle for IsolatedHandle {
    fn kill(&self) {
        // The first process is PID 1 of its namespace: when it dies the kernel kills the rest.
        // SAFETY: plain kill(2).
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGKILL);
        }
        // A v1-frozen process does not act on SIGKILL until it is thawed.
        if let Some(cg) = &self.cgroup {
            let _ = cg.thaw();
        }
    }
    fn memory_bytes(&self) -> Option<u64> {
        match &self.cgroup {
            Some(cg) => cg.memory(),
            // Host pids: the whole PID namespace descends from the first process.
            None => crate::procfs::tree_rss_bytes(self.pid),
        }
    }
    fn peak_memory_bytes(&self) -> Option<u64> {
        self.cgroup.as_ref().and_then(|cg| cg.peak())
    }
    fn out_of_memory(&self) -> bool {
        self.cgroup.as_ref().is_some_and(|cg| cg.oom_killed())
    }
    fn enforces_memory(&self) -> bool {
        self.cgroup.is_some()
    }
    fn connect(&self, port: u16) -> std::io::Result<std::net::TcpStream> {
        if self.userns {
            return netns::fork_in(self.pid, netns::InNs::Connect(port))?
                .map(std::net::TcpStream::from)
                .ok_or_else(|| std::io::Error::other("namespace helper returned no socket"));
        }
        netns::run_in(self.pid, move || {
            std::net::TcpStream::connect(("127.0.0.1", port))
        })
    }
    fn cleanup(&self) {
        let mut slirp = self.slirp.lock().unwrap_or_else(|p| p.into_inner());
        slirp.closed = true;
        slirp.stop();
        drop(slirp);
        if let Some(cg) = &self.cgroup {
            cg.remove();
        }
    }
    fn freeze(&self) -> std::io::Result<()> {
        self.cgroup.as_ref().ok_or_else(no_freezer)?.freeze()
    }
    fn thaw(&self) -> std::io::Result<()> {
        self.cgroup.as_ref().map_or(Ok(()), |cg| cg.thaw())
    }
    fn is_frozen(&self) -> bool {
        self.cgroup.as_ref().is_some_and(|cg| cg.is_frozen())
    }
    fn specialise(&self, to: &crate::Specialise) -> std::io::Result<()> {
        let cg = match (&self.cgroup, self.userns) {
            (Some(cg), false) => cg,
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "pre-started instances cannot be specialised in user-namespace mode",
                ))
            }
        };
        let t0 = std::time::Instant::now();
        cg.set_limits(to.limits.memory_mb, to.limits.cpu_millis)?;
        let t1 = std::time::Instant::now();
        // A remount takes the kernel's mount locks, which other starts contend for.
        let resize = (to.limits.tmp_mb != self.tmp_mb).then_some(to.limits.tmp_mb);
        inject::code_and_tmp(self.pid, &to.code_dir, resize)?;
        tracing::debug!(
            "isolated specialise: limits {:?}, code and /tmp {:?}",
            t1 - t0,
            t1.elapsed()
        );
        Ok(())
    }
}

#[async_trait]
impl Sandbox for IsolatedSandbox {
    fn name(&self) -> &'static str {
        "isolated"
    }

    fn view(&self, _work_dir: &Path) -> View {
        View {
            code_root: "/opt/function/code".into(),
            runtime_root: "/home/snuser/runtime".into(),
            cwd: "/opt/function".into(),
            tmp: "/tmp".into(),
        }
    }

    async fn start(&self, spec: &InstanceSpec) -> Result<Started, SandboxError> {
        if spec.image_root.is_none() {
            // Check the program as the instance will see it, before paying for a clone.
            let host = if let Some(rest) = spec.program.strip_prefix("/opt/function/code/") {
                spec.code_dir.join(rest)
            } else if let Some(rest) = spec.program.strip_prefix("/home/snuser/runtime/") {
                spec.runtime_dir.join(rest)
            } else {
                PathBuf::from(&spec.program)
            };
            use std::os::unix::fs::PermissionsExt;
            match std::fs::metadata(&host) {
                Err(_) => return Err(SandboxError::NotFound(spec.program.clone())),
                Ok(m) if !m.is_file() || m.permissions().mode() & 0o111 == 0 => {
                    return Err(SandboxError::NotExecutable(spec.program.clone()))
                }
                Ok(_) => {}
            }
        }
        let t0 = std::time::Instant::now();
        let how = How {
            userns: self.mode == Mode::UserNamespace,
            cgroups: self.no_cgroups.is_none(),
            outbound: spec.network && self.slirp.is_some(),
        };
        // The cgroups (0.4–1.2 ms here, mostly the kernel's mkdir in each hierarchy)
        // are made on another thread, beside the mount plan, the clone and the child's
        // mounts; the child is attached before it may exec.
        let cg_rx = how.cgroups.then(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            let l = spec.limits.clone();
            let id = spec.id;
            tokio::task::spawn_blocking(move || {
                let t = std::time::Instant::now();
                let cg = cgroup::Cgroup::create(id, l.memory_mb, l.nproc, l.cpu_millis);
                tracing::debug!("isolated spawn: cgroup create {:?}", t.elapsed());
                let _ = tx.send(cg);
            });
            rx
        });
        let mnt = match (&self.mnt_pool, &spec.image_root) {
            (Some(p), None) if self.mode == Mode::Root => p.take(),
            _ => None,
        };
        let ops = match build_ops(self, spec, mnt.is_some()) {
            Ok(o) => o,
            Err(e) => {
                discard_cgroup(cg_rx);
                return Err(e.into());
            }
        };
        let t_ops = t0.elapsed();
        let spec2 = spec.clone();
        let root = self.state_dir.join("root");
        let pool = self.net_pool.clone();
        let t_queued = std::time::Instant::now();
        let (pid, stdout, stderr, listener, cg, pooled_slirp) =
            tokio::task::spawn_blocking(move || {
                tracing::debug!(
                    "isolated start: blocking thread after {:?}",
                    t_queued.elapsed()
                );
                spawn(&spec2, ops, &root, how, pool.as_deref(), mnt, cg_rx)
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        let t_spawn = t0.elapsed();
        let needs_slirp = pooled_slirp.is_none();
        let slirp = Arc::new(Mutex::new(Slirp {
            child: pooled_slirp,
            closed: false,
        }));
        if let (Some(bin), true, true) = (&self.slirp, spec.network, needs_slirp) {
            let cmd = slirp::SlirpCmd {
                bin: bin.clone(),
                allow_host_loopback: self.allow_host_loopback,
            };
            // Off the cold start's path: slirp4netns configures tap0 on its own time
            // anyway, so the instance's first packets never waited for it.
            let slot = slirp.clone();
            let userns = how.userns;
            tokio::task::spawn_blocking(move || {
                let child = cmd.for_pid(pid, userns);
                let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
                s.child = child;
                if s.closed {
                    s.stop();
                }
            });
        }
        tracing::debug!(
            "isolated start: ops {:?}, spawn {:?}, total {:?}",
            t_ops,
            t_spawn,
            t0.elapsed()
        );
        Ok(Started {
            pid,
            stdout,
            stderr,
            api_addr: format!("127.0.0.1:{API_PORT}"),
            api_listener: listener,
            exited: Box::pin(crate::wait_pid(pid)),
            handle: Box::new(IsolatedHandle {
                pid,
                cgroup: cg,
                userns: how.userns,
                slirp,
                tmp_mb: spec.limits.tmp_mb,
            }),
        })
    }
}

type Spawned = (
    u32,
    OwnedFd,
    OwnedFd,
    Option<std::net::TcpListener>,
    Option<cgroup::Cgroup>,
    Option<slirp::SlirpProc>,
);

/// How instances are started: the mode's differences.
#[derive(Clone, Copy)]
struct How {
    userns: bool,
    cgroups: bool,
    /// The instance gets outbound network (slirp4netns).
    outbound: bool,
}

/// Namespaces taken from the pools for one start.
struct Prepared {
    net: Option<netpool::ReadyNet>,
    mnt: Option<mntpool::ReadyMnt>,
}

/// The cgroups made for a start that failed before it took them: removed.
fn discard_cgroup(rx: Option<CgroupRx>) {
    if let Some(Ok(Ok(cg))) = rx.map(|rx| rx.recv()) {
        cg.remove();
    }
}

/// Where the cgroups made beside a start arrive.
type CgroupRx = std::sync::mpsc::Receiver<std::io::Result<cgroup::Cgroup>>;

fn spawn(
    spec: &InstanceSpec,
    ops: Ops,
    root: &Path,
    how: How,
    pool: Option<&netpool::NetPool>,
    mnt: Option<mntpool::ReadyMnt>,
    cg_rx: Option<CgroupRx>,
) -> std::io::Result<Spawned> {
    let mut rx = cg_rx;
    let make_cg = || match rx.take() {
        None => Ok(None),
        Some(rx) => rx
            .recv()
            .map_err(|_| std::io::Error::other("cgroup set-up thread ended"))?
            .map(Some),
    };
    let mut ready = if how.userns {
        None
    } else {
        pool.and_then(|p| p.take(&ops.blocked, how.outbound))
    };
    // Dropped (ended) if the start fails.
    let pooled_slirp = ready.as_mut().and_then(|r| r.slirp.take());
    let mut cg = None;
    let prepared = Prepared { net: ready, mnt };
    let result = spawn_in(spec, ops, root, make_cg, &mut cg, how, prepared);
    match result {
        Ok((pid, out, err, l)) => Ok((pid, out, err, l, cg, pooled_slirp)),
        Err(e) => {
            if let Some(cg) = &cg {
                cg.remove();
            }
            discard_cgroup(rx);
            Err(e)
        }
    }
}

/// The hard `RLIMIT_NOFILE` of this process (raising past it needs privileges).
fn nofile_hard() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit into a valid struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return u64::MAX;
    }
    lim.rlim_max
}

fn spawn_in(
    spec: &InstanceSpec,
    ops: Ops,
    root: &Path,
    make_cg: impl FnOnce() -> std::io::Result<Option<cgroup::Cgroup>>,
    cg: &mut Option<cgroup::Cgroup>,
    how: How,
    prepared: Prepared,
) -> std::io::Result<(u32, OwnedFd, OwnedFd, Option<std::net::TcpListener>)> {
    let Prepared { net: ready, mnt } = prepared;
    let t_enter = std::time::Instant::now();
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (sync_r, sync_w) = pipe()?;
    let (fail_r, fail_w) = pipe()?;
    let mut env = spec.env.clone();
    env.push(("RUNTIME_API_ADDR".into(), format!("127.0.0.1:{API_PORT}")));
    let program = c(spec.program.as_bytes())?;
    let mut args = vec![program.clone()];
    let api_addr = format!("127.0.0.1:{API_PORT}");
    for a in &spec.args {
        let a = if a == "{RUNTIME_API_ADDR}" {
            &api_addr
        } else {
            a
        };
        args.push(c(a.as_bytes())?);
    }
    let envs: Vec<CString> = env
        .iter()
        .map(|(k, v)| c(format!("{k}={v}")))
        .collect::<Result<_, _>>()?;
    let cwd = spec.cwd.clone().unwrap_or_else(|| "/opt/function".into());
    let mut names = ops.names;
    // Steps before the mount namespace is joined report as 2000 + their index.
    let first_pre = names.len();
    names.extend(ops.pre_names);
    let blocked = ops.blocked;
    let plan = Plan {
        sync_fd: sync_r.as_raw_fd(),
        netns_fd: ready.as_ref().map_or(-1, |r| r.ns.as_raw_fd()),
        mntns_fd: mnt.as_ref().map_or(-1, |m| m.ns.as_raw_fd()),
        fds: (0..ops.pre.len()).map(|_| (-1).into()).collect(),
        pre_ops: ops.pre,
        err_fd: fail_w.as_raw_fd(),
        stdout_fd: out_w.as_raw_fd(),
        stderr_fd: err_w.as_raw_fd(),
        new_root: c(root.as_os_str().as_bytes())?,
        put_old: c(root.join(".old").as_os_str().as_bytes())?,
        root_is_bind: spec.image_root.is_some(),
        root_flags: ops.root_flags,
        userns: how.userns,
        nproc: if how.cgroups { 0 } else { spec.limits.nproc },
        times: if !how.userns && tracing::enabled!(tracing::Level::TRACE) {
            (0..ops.ops.len() + 5).map(|_| Default::default()).collect()
        } else {
            Vec::new()
        },
        ops: ops.ops,
        hostname: c(format!("fn-{}", spec.id))?,
        cwd: c(cwd)?,
        uid: spec.uid,
        gid: spec.gid,
        nofile: if how.userns {
            spec.limits.nofile.min(nofile_hard())
        } else {
            spec.limits.nofile
        },
        program: program.clone(),
        argv: args
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect(),
        envp: envs
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect(),
    };
    let mut stack = vec![0u8; 256 * 1024];
    let t_pre = std::time::Instant::now();
    let mut flags = if how.userns { USERNS_FLAGS } else { NS_FLAGS };
    if ready.is_some() {
        flags &= !libc::CLONE_NEWNET;
    }
    if mnt.is_some() {
        // The child joins a prepared mount namespace instead of copying ours.
        flags &= !libc::CLONE_NEWNS;
    }
    if !how.userns {
        // Sharing the address space saves copying the server's page tables (~0.3 ms).
        flags |= libc::CLONE_VM;
    }
    // SAFETY: the child runs `child_main` on `stack` and reads `plan`; both outlive it
    // until exec, since we return only after the failure pipe closed (exec or death) or
    // after killing and reaping it. It makes only raw syscalls and never allocates. With
    // CLONE_VM it shares this thread's errno: until the sync byte this thread's own
    // syscalls are ones that do not fail in normal operation, and when one does, the
    // child is killed.
    let pid = unsafe {
        let top = stack.as_mut_ptr().add(stack.len() - 64);
        let top = (top as usize & !15) as *mut libc::c_void;
        libc::clone(
            child::child_main,
            top,
            flags | libc::SIGCHLD,
            (&plan as *const Plan).cast_mut().cast(),
        )
    };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let pid = pid as u32;
    let t_clone = std::time::Instant::now();
    drop((out_w, err_w, sync_r, fail_w));
    // The child sets up its mounts meanwhile; when one of those failed first, its
    // report explains the failure better than ours.
    let abort = |e: std::io::Error| {
        // SAFETY: killing and reaping our own child.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
            let mut st = 0;
            libc::waitpid(pid as i32, &mut st, 0);
        }
        match read_failure(&fail_r) {
            Some((step, errno)) => child_error(&names, first_pre, step, errno),
            None => e,
        }
    };
    if how.userns {
        // The child waits on the sync pipe until its ids are mapped.
        write_maps(pid, spec.uid, spec.gid).map_err(abort)?;
    }
    // Made after the clone, while the child sets up its mounts: the child is attached
    // before it may exec.
    *cg = make_cg().map_err(abort)?;
    if let Some(cg) = cg.as_ref() {
        cg.attach(pid).map_err(abort)?;
    }
    let t_attach = t_clone.elapsed();
    let serve = spec.serve_runtime_api;
    let pooled_net = ready.is_some();
    let listener = if let Some(r) = ready {
        // The child joins it; our copy of the namespace fd closes here.
        serve.then_some(r.listener)
    } else if how.userns {
        let op = netns::InNs::Setup {
            blocked: &blocked,
            listen: serve.then_some(API_PORT),
        };
        netns::fork_in(pid, op)
            .map(|fd| fd.map(std::net::TcpListener::from))
            .map_err(|e| std::io::Error::new(e.kind(), format!("instance network set-up: {e}")))
            .map_err(abort)?
    } else {
        netns::run_in(pid, move || {
            netns::loopback_up()?;
            netns::block(&blocked)?;
            if serve {
                std::net::TcpListener::bind(("127.0.0.1", API_PORT)).map(Some)
            } else {
                Ok(None)
            }
        })
        .map_err(abort)?
    };
    let t_net = t_clone.elapsed();
    // SAFETY: writing one byte from a valid buffer to our pipe.
    if unsafe { libc::write(sync_w.as_raw_fd(), [1u8].as_ptr().cast(), 1) } != 1 {
        return Err(abort(std::io::Error::last_os_error()));
    }
    drop(sync_w);
    // The failure pipe closes on a successful exec; otherwise it carries (step, errno).
    let failure = read_failure(&fail_r);
    if failure.is_none() && !plan.times.is_empty() {
        trace_steps(&plan, &names[..first_pre], t_pre);
    }
    drop(plan);
    tracing::debug!(
        "isolated spawn: prepare {:?}, clone {:?}, attach {:?}, netns {:?} (pooled: {pooled_net}), child set-up and exec {:?}",
        t_pre - t_enter,
        t_pre.elapsed() - t_clone.elapsed(),
        t_attach,
        t_net,
        t_clone.elapsed()
    );
    if let Some((step, errno)) = failure {
        let e = child_error(&names, first_pre, step, errno);
        // SAFETY: killing and reaping our own child.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
            let mut st = 0;
            libc::waitpid(pid as i32, &mut st, 0);
        }
        return Err(e);
    }
    Ok((pid, out_r, err_r, listener))
}

/// Logs how long each of the child's steps took (`STRATUS_LOG=stratus_sandbox=trace`).
fn trace_steps(plan: &child::Plan, names: &[String], t_pre: std::time::Instant) {
    use std::sync::atomic::Ordering;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into a valid timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let now = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
    let mut prev = now.saturating_sub(t_pre.elapsed().as_nanos() as u64);
    let mut out = String::new();
    let tail = [
        "pivot_root",
        "root read-only",
        "limits and cwd",
        "wait for parent",
        "identity",
    ];
    for (i, t) in plan.times.iter().enumerate() {
        let t = t.load(Ordering::Relaxed);
        let name = names
            .get(i)
            .map(String::as_str)
            .or_else(|| tail.get(i - names.len()).copied())
            .unwrap_or("?");
        out.push_str(&format!("{name} {}µs; ", t.saturating_sub(prev) / 1000));
        prev = t.max(prev);
    }
    out.push_str(&format!("exec {}µs", now.saturating_sub(prev) / 1000));
    tracing::trace!("isolated child steps (from clone): {out}");
}

/// Reads the child's (step, errno) report; None once the pipe closed without one
/// (exec succeeded, or the child was killed before it failed).
fn read_failure(fail_r: &OwnedFd) -> Option<(u32, i32)> {
    let mut buf = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        // SAFETY: reading into a valid buffer from our pipe.
        let n = unsafe { libc::read(fail_r.as_raw_fd(), buf[got..].as_mut_ptr().cast(), 8 - got) };
        if n <= 0 {
            break;
        }
        got += n as usize;
    }
    (got == 8).then(|| {
        (
            u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]),
            i32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]),
        )
    })
}

fn child_error(names: &[String], first_pre: usize, step: u32, errno: i32) -> std::io::Error {
    let step = if step >= 2000 {
        (first_pre + (step - 2000) as usize) as u32
    } else {
        step
    };
    let msg = child::describe(names, step, errno);
    let kind = if step == 1007 && errno == libc::ENOENT {
        std::io::ErrorKind::NotFound
    } else {
        std::io::ErrorKind::Other
    };
    std::io::Error::new(kind, format!("sandbox set-up failed: {msg}"))
}
