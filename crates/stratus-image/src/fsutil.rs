//! File system helpers that never follow symlinks.

use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Turns a tar member name into a relative path of plain components. `Ok(None)` is the
/// root itself (`./`, or `/` alone). Other absolute names and `..` components are refused with a reason.
pub(crate) fn normalize(raw: &[u8]) -> Result<Option<PathBuf>, &'static str> {
    // umoci writes the root itself as "/" (`umoci insert DIR /`): that names nothing
    // outside the root, so it is the root like "./".
    if !raw.is_empty()
        && raw.iter().all(|b| *b == b'/' || *b == b'.')
        && !raw.windows(2).any(|w| w == b"..")
    {
        return Ok(None);
    }
    if raw.first() == Some(&b'/') {
        return Err("has an absolute path");
    }
    if raw.contains(&0) {
        return Err("has a nul byte in its name");
    }
    let mut out = PathBuf::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err("has a \"..\" component"),
            c => out.push(OsStr::from_bytes(c)),
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// `lstat`, with a missing path as `None`.
pub(crate) fn lstat(p: &Path) -> io::Result<Option<Metadata>> {
    match fs::symlink_metadata(p) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Looks `rel` up under `root` without following any symlink: every parent must be a
/// real directory. `None` when something on the way is missing or not a directory.
pub(crate) fn lstat_literal(root: &Path, rel: &Path) -> io::Result<Option<Metadata>> {
    let mut cur = root.to_path_buf();
    let mut comps = rel.components().peekable();
    while let Some(c) = comps.next() {
        let Component::Normal(name) = c else {
            return Ok(None);
        };
        cur.push(name);
        let Some(m) = lstat(&cur)? else {
            return Ok(None);
        };
        if comps.peek().is_none() {
            return Ok(Some(m));
        }
        if !m.is_dir() {
            return Ok(None);
        }
    }
    // `rel` is empty: the root.
    lstat(root)
}

/// Removes whatever is at `p` (a directory with everything in it); nothing there is fine.
/// Symlinks are removed, never followed.
pub(crate) fn remove_existing(p: &Path) -> io::Result<()> {
    match lstat(p)? {
        None => Ok(()),
        Some(m) if m.is_dir() => fs::remove_dir_all(p),
        Some(_) => fs::remove_file(p),
    }
}

/// Creates the directory `p` with exactly `mode` (no umask).
pub(crate) fn mkdir(p: &Path, mode: u32) -> io::Result<()> {
    fs::DirBuilder::new().mode(0o700).create(p)?;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
}

/// `lchown`, ignoring failure (an unprivileged store keeps its own ownership). Returns
/// whether it worked.
pub(crate) fn lchown_quiet(p: &Path, uid: u32, gid: u32) -> bool {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).is_ok()
}

/// Adds the path to an i/o error so it can be told where it happened.
pub(crate) fn ctx(p: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// The bytes of a path, for storing in json.
pub(crate) fn path_bytes(p: &Path) -> Vec<u8> {
    p.as_os_str().as_bytes().to_vec()
}

/// A path from stored bytes.
pub(crate) fn bytes_path(b: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(b))
}

/// Flushes the file system holding `p` to disk (`syncfs`), so a rename that follows
/// publishes a tree that survives a power cut.
pub(crate) fn sync_fs(p: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let dir = fs::File::open(p)?;
    // SAFETY: the descriptor is open for the duration of the call.
    let rc = unsafe { libc::syncfs(dir.as_raw_fd()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(normalize(b"./a/b/").ok(), Some(Some(PathBuf::from("a/b"))));
        assert_eq!(normalize(b"./").ok(), Some(None));
        assert_eq!(normalize(b"a//./b").ok(), Some(Some(PathBuf::from("a/b"))));
        assert!(normalize(b"../evil").is_err());
        assert!(normalize(b"a/../../evil").is_err());
        assert!(normalize(b"/etc/passwd").is_err());
        assert_eq!(normalize(b"/").ok(), Some(None));
        assert!(normalize(b"/..").is_err());
    }
}
