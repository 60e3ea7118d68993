//! Unpacking one layer tar into a directory of its own, against hostile input.
//!
//! The layer's files land in a fresh `tree` directory; its whiteouts, opaque
//! directories and hard links to files of lower layers are not files but entries of
//! [`LayerMeta`], applied when layers are merged (`merge.rs`).

use std::collections::BTreeSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tar::EntryType;

use crate::fsutil::{self, ctx, lstat, lstat_literal, mkdir, remove_existing};

/// The most notes one layer keeps; the rest are counted.
const MAX_NOTES: usize = 20;

/// What a layer does besides adding its files. Paths are relative to the root, as
/// raw bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct LayerMeta {
    /// `sha256:` of the uncompressed tar.
    pub(crate) diff_id: String,
    /// Bytes of the uncompressed tar.
    pub(crate) unpacked_bytes: u64,
    /// Paths this layer deletes from the layers below (`.wh.<name>`).
    pub(crate) whiteouts: Vec<Vec<u8>>,
    /// Directories whose lower-layer contents this layer hides (`.wh..wh..opq`).
    pub(crate) opaque: Vec<Vec<u8>>,
    /// Directories the tar did not list but that hold its entries: they take the
    /// metadata of a lower layer's directory when there is one.
    pub(crate) implicit_dirs: Vec<Vec<u8>>,
    /// Hard links (path, target) whose target is not in this layer.
    pub(crate) links: Vec<(Vec<u8>, Vec<u8>)>,
    /// What was left out, for the operator.
    pub(crate) notes: Vec<String>,
}

/// Why a layer could not be unpacked.
#[derive(Debug)]
pub(crate) enum UnpackError {
    /// The layer holds something refused (escaping paths, links out of the root...).
    Bad(String),
    /// The tar stream could not be read.
    Read(io::Error),
    /// Writing the tree failed.
    Write(io::Error),
}

impl From<io::Error> for UnpackError {
    fn from(e: io::Error) -> Self {
        UnpackError::Write(e)
    }
}

struct Notes<'a> {
    notes: &'a mut Vec<String>,
    dropped: usize,
}

impl Notes<'_> {
    fn add(&mut self, note: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(note);
        } else {
            self.dropped += 1;
        }
    }
}

fn show(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).chars().take(512).collect()
}

/// Owner and mode of an entry, with pax `uid`/`gid` overrides applied.
fn owner_mode<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<(u32, u32, u32, u64), UnpackError> {
    let h = entry.header();
    let mode = h.mode().map_err(UnpackError::Read)? & 0o7777;
    let mut uid = h.uid().map_err(UnpackError::Read)?;
    let mut gid = h.gid().map_err(UnpackError::Read)?;
    let mtime = h.mtime().unwrap_or(0);
    if let Some(exts) = entry.pax_extensions().map_err(UnpackError::Read)? {
        for ext in exts {
            let ext = ext.map_err(UnpackError::Read)?;
            let value = || ext.value().ok().and_then(|v| v.trim().parse::<u64>().ok());
            match ext.key() {
                Ok("uid") => uid = value().unwrap_or(uid),
                Ok("gid") => gid = value().unwrap_or(gid),
                _ => {}
            }
        }
    }
    let id = |v: u64| u32::try_from(v).unwrap_or(65534);
    Ok((mode, id(uid), id(gid), mtime))
}

/// Makes sure every component of `parent` (relative to `tree`) is a real directory,
/// creating missing ones (recorded in `implicit`). A symlink or a file on the way is
/// refused: writing through it could leave the tree.
fn ensure_dirs(
    tree: &Path,
    parent: &Path,
    implicit: &mut BTreeSet<PathBuf>,
    shown: &str,
) -> Result<(), UnpackError> {
    let mut cur = tree.to_path_buf();
    let mut rel = PathBuf::new();
    for c in parent.components() {
        cur.push(c);
        rel.push(c);
        match lstat(&cur).map_err(|e| ctx(&cur, e))? {
            Some(m) if m.is_dir() => {}
            Some(m) if m.file_type().is_symlink() => {
                return Err(UnpackError::Bad(format!(
                    "entry \"{shown}\" lies under symlink \"{}\"; refusing to write through it",
                    rel.display()
                )))
            }
            Some(_) => {
                return Err(UnpackError::Bad(format!(
                    "entry \"{shown}\" lies under \"{}\", which is not a directory",
                    rel.display()
                )))
            }
            None => {
                mkdir(&cur, 0o755).map_err(|e| ctx(&cur, e))?;
                implicit.insert(rel.clone());
            }
        }
    }
    Ok(())
}

/// Copies an entry's data into a new file at `dst` (which must not exist).
fn write_file(src: &mut impl Read, dst: &Path, buf: &mut [u8]) -> Result<fs::File, UnpackError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(dst)
        .map_err(|e| ctx(dst, e))?;
    loop {
        let n = match src.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(UnpackError::Read(e)),
        };
        f.write_all(&buf[..n]).map_err(|e| ctx(dst, e))?;
    }
    Ok(f)
}

/// Unpacks the tar stream `reader` into the empty directory `tree`, filling `meta`
/// (all but `diff_id` and `unpacked_bytes`, which the caller measures).
pub(crate) fn extract(
    reader: impl Read,
    tree: &Path,
    meta: &mut LayerMeta,
) -> Result<(), UnpackError> {
    let mut archive = tar::Archive::new(reader);
    let mut implicit = BTreeSet::new();
    let mut dirs: Vec<(PathBuf, u32, u32, u32)> = Vec::new();
    let mut notes = Notes {
        notes: &mut meta.notes,
        dropped: 0,
    };
    let mut chown_failed = false;
    let mut buf = vec![0u8; 128 << 10];
    for entry in archive.entries().map_err(UnpackError::Read)? {
        let mut entry = entry.map_err(UnpackError::Read)?;
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            continue;
        }
        let raw = entry.path_bytes().into_owned();
        let shown = show(&raw);
        let rel = match fsutil::normalize(&raw) {
            Ok(Some(p)) => p,
            // The root itself (`./`): its metadata is the store's business.
            Ok(None) => continue,
            Err(why) => {
                return Err(UnpackError::Bad(format!(
                    "entry \"{shown}\" {why}; refusing it"
                )))
            }
        };
        let name = rel
            .file_name()
            .map(|n| n.as_bytes().to_vec())
            .unwrap_or_default();
        let parent = rel.parent().map(Path::to_path_buf).unwrap_or_default();

        if let Some(hidden) = name.strip_prefix(b".wh.") {
            ensure_dirs(tree, &parent, &mut implicit, &shown)?;
            if hidden == b".wh..opq" {
                meta.opaque.push(fsutil::path_bytes(&parent));
            } else if hidden.starts_with(b".wh.") {
                // Other aufs bookkeeping (`.wh..wh.plnk`, ...): nothing to do.
            } else if hidden.is_empty() || hidden == b"." || hidden == b".." {
                return Err(UnpackError::Bad(format!(
                    "whiteout \"{shown}\" names no file"
                )));
            } else {
                meta.whiteouts
                    .push(fsutil::path_bytes(&parent.join(fsutil::bytes_path(hidden))));
            }
            continue;
        }

        ensure_dirs(tree, &parent, &mut implicit, &shown)?;
        let dst = tree.join(&rel);
        let (mode, uid, gid, mtime) = owner_mode(&mut entry)?;
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                remove_existing(&dst).map_err(|e| ctx(&dst, e))?;
                let f = write_file(&mut entry, &dst, &mut buf)?;
                let _ = f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(mtime));
                drop(f);
                chown_failed |= !fsutil::lchown_quiet(&dst, uid, gid);
                fs::set_permissions(&dst, fs::Permissions::from_mode(mode))
                    .map_err(|e| ctx(&dst, e))?;
            }
            EntryType::Directory => {
                match lstat(&dst).map_err(|e| ctx(&dst, e))? {
                    Some(m) if m.is_dir() => {}
                    Some(_) => {
                        remove_existing(&dst).map_err(|e| ctx(&dst, e))?;
                        mkdir(&dst, 0o755).map_err(|e| ctx(&dst, e))?;
                    }
                    None => mkdir(&dst, 0o755).map_err(|e| ctx(&dst, e))?,
                }
                implicit.remove(&rel);
                dirs.push((rel, mode, uid, gid));
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                if target.is_empty() || target.contains(&0) {
                    return Err(UnpackError::Bad(format!(
                        "symlink \"{shown}\" has no valid target"
                    )));
                }
                remove_existing(&dst).map_err(|e| ctx(&dst, e))?;
                std::os::unix::fs::symlink(fsutil::bytes_path(&target), &dst)
                    .map_err(|e| ctx(&dst, e))?;
                chown_failed |= !fsutil::lchown_quiet(&dst, uid, gid);
            }
            EntryType::Link => {
                let raw_target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                let target = match fsutil::normalize(&raw_target) {
                    Ok(Some(t)) => t,
                    Ok(None) => {
                        return Err(UnpackError::Bad(format!(
                            "hard link \"{shown}\" points at the root"
                        )))
                    }
                    Err(why) => {
                        return Err(UnpackError::Bad(format!(
                            "hard link \"{shown}\" points outside the root (its target {why})"
                        )))
                    }
                };
                if target.starts_with(&rel) {
                    return Err(UnpackError::Bad(format!(
                        "hard link \"{shown}\" points at itself or below itself"
                    )));
                }
                match lstat_literal(tree, &target).map_err(UnpackError::Write)? {
                    Some(m) if m.is_dir() => {
                        return Err(UnpackError::Bad(format!(
                            "hard link \"{shown}\" points at directory \"{}\"",
                            target.display()
                        )))
                    }
                    Some(_) => {
                        remove_existing(&dst).map_err(|e| ctx(&dst, e))?;
                        fs::hard_link(tree.join(&target), &dst).map_err(|e| ctx(&dst, e))?;
                    }
                    // A file of a lower layer: linked when the layers are merged.
                    None => {
                        remove_existing(&dst).map_err(|e| ctx(&dst, e))?;
                        meta.links
                            .push((fsutil::path_bytes(&rel), fsutil::path_bytes(&target)));
                    }
                }
            }
            EntryType::Char | EntryType::Block => {
                notes.add(format!(
                    "left out device node \"{shown}\" (device nodes are not created)"
                ));
            }
            EntryType::Fifo => notes.add(format!("left out fifo \"{shown}\"")),
            other => notes.add(format!(
                "left out \"{shown}\" of unsupported tar type {:?}",
                other.as_byte() as char
            )),
        }
    }
    // Directory metadata last, deepest first, so a read-only directory still took its
    // entries.
    dirs.sort_by_key(|(p, ..)| std::cmp::Reverse(p.components().count()));
    for (rel, mode, uid, gid) in dirs {
        let p = tree.join(&rel);
        if lstat(&p)
            .map_err(|e| ctx(&p, e))?
            .is_some_and(|m| m.is_dir())
        {
            chown_failed |= !fsutil::lchown_quiet(&p, uid, gid);
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).map_err(|e| ctx(&p, e))?;
        }
    }
    let dropped = notes.dropped;
    if dropped > 0 {
        meta.notes
            .push(format!("and {dropped} more entries left out"));
    }
    if chown_failed {
        meta.notes.push(
            "file ownership from the image could not be kept (the store is not run as root)".into(),
        );
    }
    meta.implicit_dirs = implicit.iter().map(|p| fsutil::path_bytes(p)).collect();
    Ok(())
}
