//! Specialising a pre-started instance: the function's code is attached at
//! `/opt/function/code` inside the running instance's mount namespace, on top of the
//! empty placeholder it was started with, and `/tmp` gets the function's size.
//!
//! The code tree is cloned on the host side (`open_tree`), made read-only while still
//! detached (`mount_setattr`), and moved into place from a short-lived thread that has
//! joined the instance's mount namespace. Nothing of the host namespace changes and the
//! instance gets no way to reach host paths.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::child::{
    MountAttr, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY, MOVE_MOUNT_F_EMPTY_PATH,
    OPEN_TREE_CLONE,
};

fn last() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn ctx(what: &str, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("specialise: {what}: {e}"))
}

/// Attaches `code_dir` read-only at the instance's code root and, given a size, resizes
/// its `/tmp`.
pub fn code_and_tmp(pid: u32, code_dir: &Path, tmp_mb: Option<u32>) -> std::io::Result<()> {
    let src = CString::new(code_dir.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("NUL byte in the code path"))?;
    // SAFETY: open_tree on a valid path; the returned fd is owned below.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            src.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(ctx("clone the code tree", last()));
    }
    // SAFETY: the kernel just returned this fd; nobody else owns it.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: mount_setattr on our detached tree with a valid, sized attribute struct.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if rc != 0 {
        return Err(ctx("make the code tree read-only", last()));
    }
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/mnt"))
        .map_err(|e| ctx("open the mount namespace", e))?;
    let tmp_data = tmp_mb
        .map(|mb| CString::new(format!("size={}m", mb.max(1))))
        .transpose()
        .map_err(|_| std::io::Error::other("bad tmp size"))?;
    std::thread::spawn(move || -> std::io::Result<()> {
        // SAFETY: this thread gets its own fs context (required by setns into a mount
        // namespace), joins the instance's namespace and exits afterwards; no other
        // thread is affected. All pointers are valid C strings.
        unsafe {
            if libc::unshare(libc::CLONE_FS) != 0 {
                return Err(ctx("unshare the fs context", last()));
            }
            if libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNS) != 0 {
                return Err(ctx("join the mount namespace", last()));
            }
            if libc::syscall(
                libc::SYS_move_mount,
                tree.as_raw_fd(),
                c"".as_ptr(),
                libc::AT_FDCWD,
                c"/opt/function/code".as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH,
            ) != 0
            {
                return Err(ctx("attach the code", last()));
            }
            if let Some(data) = &tmp_data {
                if libc::mount(
                    std::ptr::null(),
                    c"/tmp".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REMOUNT | libc::MS_NOSUID | libc::MS_NODEV,
                    data.as_ptr().cast(),
                ) != 0
                {
                    return Err(ctx("resize /tmp", last()));
                }
            }
        }
        Ok(())
    })
    .join()
    .map_err(|_| std::io::Error::other("specialise thread panicked"))?
}
