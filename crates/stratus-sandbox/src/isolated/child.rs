//! What the cloned child does before `execve`: mounts, pivot_root, identity, limits.
//! Runs between clone and exec in the memory of a multi-threaded process (shared as
//! root, a copy in user-namespace mode), so it only makes raw syscalls on data prepared
//! by the parent; it never allocates.

use std::ffi::CString;

/// One step of the child's set-up.
pub enum Op {
    /// `mkdir(path, mode)`; an existing directory is fine.
    Mkdir(CString, u32),
    /// Create an empty file (bind target for a single file).
    Touch(CString),
    /// A character device node (mode 0666) for the given device number.
    Mknod(CString, u64),
    /// `mount(src, dst, fstype, flags, data)`.
    Mount {
        src: CString,
        dst: CString,
        fstype: CString,
        flags: libc::c_ulong,
        data: CString,
    },
    /// `symlink(target, path)`.
    Symlink(CString, CString),
    /// `open_tree(OPEN_TREE_CLONE | AT_RECURSIVE)` of a host path, with `attrs` set on
    /// the detached copy (`mount_setattr`); the fd goes to slot `slot` of `Plan::fds`.
    OpenTree {
        src: CString,
        attrs: u64,
        slot: usize,
    },
    /// `move_mount` of the tree in slot `slot` onto `dst`.
    MoveMount { slot: usize, dst: CString },
}

pub const OPEN_TREE_CLONE: libc::c_uint = 1;
pub const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
pub struct MountAttr {
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    pub userns_fd: u64,
}

/// Runs one step with raw syscalls only (no allocation): used by the cloned child and
/// by the thread that prepares pooled mount namespaces.
///
/// # Safety
/// The strings are valid C strings; `fds` outlives the call.
pub unsafe fn run_op(op: &Op, fds: &[std::sync::atomic::AtomicI32]) -> bool {
    use std::sync::atomic::Ordering;
    // SAFETY: raw syscalls on valid C strings and buffers (the caller's contract).
    unsafe {
        match op {
            Op::Mkdir(p, mode) => {
                libc::mkdir(p.as_ptr(), *mode) == 0 || *libc::__errno_location() == libc::EEXIST
            }
            Op::Touch(p) => {
                let fd = libc::open(
                    p.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                );
                if fd >= 0 {
                    libc::close(fd);
                }
                fd >= 0 || *libc::__errno_location() == libc::EEXIST
            }
            Op::Mknod(p, dev) => {
                // mknod applies the umask; chmod makes the node 0666 whatever it is.
                libc::mknod(p.as_ptr(), libc::S_IFCHR | 0o666, *dev as libc::dev_t) == 0
                    && libc::chmod(p.as_ptr(), 0o666) == 0
            }
            Op::Mount {
                src,
                dst,
                fstype,
                flags,
                data,
            } => {
                let ptr = |c: &CString| {
                    if c.as_bytes().is_empty() {
                        std::ptr::null()
                    } else {
                        c.as_ptr()
                    }
                };
                libc::mount(
                    ptr(src),
                    dst.as_ptr(),
                    ptr(fstype),
                    *flags,
                    ptr(data).cast(),
                ) == 0
            }
            Op::Symlink(target, path) => {
                libc::symlink(target.as_ptr(), path.as_ptr()) == 0
                    || *libc::__errno_location() == libc::EEXIST
            }
            Op::OpenTree { src, attrs, slot } => {
                let Some(out) = fds.get(*slot) else {
                    return false;
                };
                let fd = libc::syscall(
                    libc::SYS_open_tree,
                    libc::AT_FDCWD,
                    src.as_ptr(),
                    OPEN_TREE_CLONE
                        | libc::AT_RECURSIVE as libc::c_uint
                        | libc::O_CLOEXEC as libc::c_uint,
                );
                if fd < 0 {
                    return false;
                }
                out.store(fd as i32, Ordering::Relaxed);
                let attr = MountAttr {
                    attr_set: *attrs,
                    attr_clr: 0,
                    propagation: 0,
                    userns_fd: 0,
                };
                *attrs == 0
                    || libc::syscall(
                        libc::SYS_mount_setattr,
                        fd as i32,
                        c"".as_ptr(),
                        libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
                        &attr as *const MountAttr,
                        std::mem::size_of::<MountAttr>(),
                    ) == 0
            }
            Op::MoveMount { slot, dst } => {
                let fd = fds.get(*slot).map_or(-1, |f| f.load(Ordering::Relaxed));
                fd >= 0
                    && libc::syscall(
                        libc::SYS_move_mount,
                        fd,
                        c"".as_ptr(),
                        libc::AT_FDCWD,
                        dst.as_ptr(),
                        MOVE_MOUNT_F_EMPTY_PATH,
                    ) == 0
            }
        }
    }
}

/// Everything the child needs, prepared by the parent.
pub struct Plan {
    pub sync_fd: i32,
    /// A ready network namespace to join (-1: clone made a new one).
    pub netns_fd: i32,
    /// A ready mount namespace, already pivoted to a minimal root, to join (-1: clone
    /// made a copy of ours and the child builds and pivots into its root).
    pub mntns_fd: i32,
    /// Steps run before joining `mntns_fd`, while host paths are still visible.
    pub pre_ops: Vec<Op>,
    /// Detached trees passed from `pre_ops` to `ops`.
    pub fds: Vec<std::sync::atomic::AtomicI32>,
    pub err_fd: i32,
    pub stdout_fd: i32,
    pub stderr_fd: i32,
    pub new_root: CString,
    pub put_old: CString,
    /// The root is a bind mount (a container image): its read-only remount must be a
    /// per-mount one (`MS_BIND`), never a remount of the host file system under it.
    pub root_is_bind: bool,
    /// Flags the root's read-only remount must keep (locked flags of a bind source in a
    /// user namespace; 0 as root).
    pub root_flags: libc::c_ulong,
    /// User-namespace mode: supplementary groups cannot be changed (`setgroups` is
    /// denied so that an unprivileged parent may write `gid_map`).
    pub userns: bool,
    /// `RLIMIT_NPROC` to set, when no pids cgroup limits the instance (0: none).
    pub nproc: u64,
    pub ops: Vec<Op>,
    pub hostname: CString,
    pub cwd: CString,
    pub uid: u32,
    pub gid: u32,
    pub nofile: u64,
    pub program: CString,
    pub argv: Vec<*const libc::c_char>,
    pub envp: Vec<*const libc::c_char>,
    /// Debug timing as root (the child shares our memory then): CLOCK_MONOTONIC
    /// nanoseconds after each op, then after pivot_root, the root remount and the wait.
    /// Empty when not wanted.
    pub times: Vec<std::sync::atomic::AtomicU64>,
}

/// Notes the time of step `i` when timing is on.
///
/// # Safety
/// Only for the cloned child before exec.
unsafe fn mark(plan: &Plan, i: usize) {
    if let Some(slot) = plan.times.get(i) {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into a valid timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        slot.store(
            ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

/// Reports failure of step `step` with the current errno and exits.
///
/// # Safety
/// Only for the cloned child before exec.
unsafe fn fail(plan: &Plan, step: u32) -> ! {
    // SAFETY: errno location is valid for the calling thread; write and _exit are raw syscalls.
    unsafe {
        let errno = *libc::__errno_location();
        let msg = [step.to_le_bytes(), (errno as u32).to_le_bytes()];
        libc::write(plan.err_fd, msg.as_ptr().cast(), 8);
        libc::_exit(127);
    }
}

/// Waits until the parent has put us into our cgroups and network (and, in a user
/// namespace, mapped our ids).
///
/// # Safety
/// Only for the cloned child before exec.
unsafe fn wait_for_parent(plan: &Plan) {
    let mut byte = 0u8;
    // SAFETY: reading one byte into a valid buffer; _exit is a raw syscall.
    unsafe {
        if libc::read(plan.sync_fd, (&mut byte as *mut u8).cast(), 1) != 1 {
            libc::_exit(126);
        }
    }
}

/// The child's entry point (called by `clone`).
pub extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` points at the parent's Plan, shared with the parent (CLONE_VM, as
    // root) or copied into this process (user-namespace mode); the parent keeps it
    // valid until exec. Only raw syscalls follow.
    unsafe {
        let plan = &*(arg as *const Plan);
        // In a user namespace nothing works before the parent has written our id maps.
        // As root, the mounts below run while the parent sets up the cgroups and the
        // network, which must be in place before exec (see the wait further down).
        if plan.userns {
            wait_for_parent(plan);
        }
        if plan.netns_fd >= 0 && libc::setns(plan.netns_fd, libc::CLONE_NEWNET) != 0 {
            fail(plan, 1008);
        }
        for (i, op) in plan.pre_ops.iter().enumerate() {
            if !run_op(op, &plan.fds) {
                fail(plan, 2000 + i as u32);
            }
        }
        let pooled = plan.mntns_fd >= 0;
        if pooled {
            if libc::setns(plan.mntns_fd, libc::CLONE_NEWNS) != 0 {
                fail(plan, 1009);
            }
        } else if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            fail(plan, 1000);
        }
        for (i, op) in plan.ops.iter().enumerate() {
            if !run_op(op, &plan.fds) {
                fail(plan, i as u32);
            }
            mark(plan, i);
        }
        let n = plan.ops.len();
        // A pooled namespace was pivoted when it was made, off the request's path (the
        // detach of the old root waits for an RCU grace period: 0.2–1.9 ms here).
        if !pooled {
            if libc::syscall(
                libc::SYS_pivot_root,
                plan.new_root.as_ptr(),
                plan.put_old.as_ptr(),
            ) != 0
            {
                fail(plan, 1001);
            }
            if libc::chdir(c"/".as_ptr()) != 0
                || libc::umount2(c"/.old".as_ptr(), libc::MNT_DETACH) != 0
            {
                fail(plan, 1002);
            }
            libc::rmdir(c"/.old".as_ptr());
        }
        mark(plan, n);
        // The root becomes read-only; /tmp and the binds keep their own flags.
        let bind = if plan.root_is_bind { libc::MS_BIND } else { 0 };
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REMOUNT
                | bind
                | libc::MS_RDONLY
                | libc::MS_NOSUID
                | libc::MS_NODEV
                | plan.root_flags,
            std::ptr::null(),
        ) != 0
        {
            fail(plan, 1003);
        }
        mark(plan, n + 1);
        libc::sethostname(plan.hostname.as_ptr(), plan.hostname.as_bytes().len());
        let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if devnull < 0 {
            fail(plan, 1004);
        }
        libc::dup2(devnull, 0);
        libc::dup2(plan.stdout_fd, 1);
        libc::dup2(plan.stderr_fd, 2);
        let lim = libc::rlimit {
            rlim_cur: plan.nofile,
            rlim_max: plan.nofile,
        };
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        let core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &core);
        if plan.nproc > 0 {
            // In a user namespace this counts the instance's own uid there (per
            // namespace since Linux 5.14), not every process of the host user.
            let np = libc::rlimit {
                rlim_cur: plan.nproc,
                rlim_max: plan.nproc,
            };
            libc::setrlimit(libc::RLIMIT_NPROC, &np);
        }
        if libc::chdir(plan.cwd.as_ptr()) != 0 {
            fail(plan, 1005);
        }
        mark(plan, n + 2);
        if !plan.userns {
            wait_for_parent(plan);
        }
        mark(plan, n + 3);
        // Raw syscalls: glibc's set*id wrappers signal every thread the parent had and
        // wait for them (setxid broadcast), which hangs in this single-threaded copy.
        let groups_ok = plan.userns
            || libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) == 0;
        if !groups_ok
            || libc::syscall(libc::SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0
            || libc::syscall(libc::SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0
        {
            fail(plan, 1006);
        }
        if plan.userns {
            // Nothing may carry capabilities of the user namespace across exec.
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL,
                0,
                0,
                0,
            );
        }
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        mark(plan, n + 4);
        libc::execve(
            plan.program.as_ptr(),
            plan.argv.as_ptr(),
            plan.envp.as_ptr(),
        );
        fail(plan, 1007);
    }
}

/// Text for a failed step reported by the child.
pub fn describe(plan_ops: &[String], step: u32, errno: i32) -> String {
    let what = match step {
        1000 => "make mounts private".to_string(),
        1001 => "pivot_root".to_string(),
        1002 => "detach the old root".to_string(),
        1003 => "make the root read-only".to_string(),
        1004 => "open /dev/null".to_string(),
        1005 => "change to the working directory".to_string(),
        1006 => "switch to the function's user".to_string(),
        1007 => "execute the program".to_string(),
        1008 => "join the network namespace".to_string(),
        1009 => "join the prepared mount namespace".to_string(),
        i => plan_ops
            .get(i as usize)
            .cloned()
            .unwrap_or_else(|| format!("step {i}")),
    };
    format!("{what}: {}", std::io::Error::from_raw_os_error(errno))
}
