//! Merging unpacked layers, base first, into one root file system.
//!
//! Paths are taken literally, as overlayfs does: a symlink of a lower layer is never
//! followed; where an upper layer has a directory at the symlink's path, the
//! directory replaces it. Regular files are hard links to the layer's own copy (a
//! plain copy where linking fails), so the tree must only be read.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::fsutil::{self, ctx, lstat, lstat_literal, mkdir, remove_existing};
use crate::unpack::{LayerMeta, UnpackError};

/// Builds a root file system in an empty directory.
pub(crate) struct Merger {
    root: PathBuf,
    /// Directory metadata (mode, uid, gid) to apply at the end, by path.
    dirs: BTreeMap<PathBuf, (u32, u32, u32)>,
}

impl Merger {
    /// Starts merging into the empty directory `root`.
    pub(crate) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            dirs: BTreeMap::new(),
        }
    }

    /// Forgets the directory metadata of `rel` and everything under it.
    fn forget_dirs(&mut self, rel: &Path) {
        // Paths order component by component, so `rel` and everything under it are
        // one run of keys.
        let doomed: Vec<PathBuf> = self
            .dirs
            .range(rel.to_path_buf()..)
            .take_while(|(p, _)| p.starts_with(rel))
            .map(|(p, _)| p.clone())
            .collect();
        for p in doomed {
            self.dirs.remove(&p);
        }
    }

    /// Applies one layer: its opaque directories and whiteouts against what is below,
    /// then its files, then its hard links to lower files.
    pub(crate) fn apply(&mut self, tree: &Path, meta: &LayerMeta) -> Result<(), UnpackError> {
        for d in &meta.opaque {
            let rel = fsutil::bytes_path(d);
            if lstat_literal(&self.root, &rel)?.is_some_and(|m| m.is_dir()) {
                let dir = self.root.join(&rel);
                for child in fs::read_dir(&dir).map_err(|e| ctx(&dir, e))? {
                    let child = child?;
                    remove_existing(&child.path()).map_err(|e| ctx(&child.path(), e))?;
                    self.forget_dirs(&rel.join(child.file_name()));
                }
            }
        }
        for w in &meta.whiteouts {
            let rel = fsutil::bytes_path(w);
            if lstat_literal(&self.root, &rel)?.is_some() {
                let p = self.root.join(&rel);
                remove_existing(&p).map_err(|e| ctx(&p, e))?;
                self.forget_dirs(&rel);
            }
        }
        let implicit: BTreeSet<PathBuf> = meta
            .implicit_dirs
            .iter()
            .map(|b| fsutil::bytes_path(b))
            .collect();
        self.copy_tree(tree, Path::new(""), &implicit)?;
        for (path, target) in &meta.links {
            let (rel, target) = (fsutil::bytes_path(path), fsutil::bytes_path(target));
            match lstat_literal(&self.root, &target)? {
                Some(m) if !m.is_dir() => {}
                _ => {
                    return Err(UnpackError::Bad(format!(
                        "hard link \"{}\" points at \"{}\", which no layer provides as a file",
                        rel.display(),
                        target.display()
                    )))
                }
            }
            let parent = rel.parent().unwrap_or(Path::new(""));
            if !lstat_literal(&self.root, parent)?.is_some_and(|m| m.is_dir()) {
                return Err(UnpackError::Bad(format!(
                    "hard link \"{}\" has no directory to live in",
                    rel.display()
                )));
            }
            let dst = self.root.join(&rel);
            remove_existing(&dst).map_err(|e| ctx(&dst, e))?;
            link_or_copy(&self.root.join(&target), &dst)?;
        }
        Ok(())
    }

    /// Copies the layer directory `tree/rel` over `root/rel` (which is a real directory).
    fn copy_tree(
        &mut self,
        tree: &Path,
        rel: &Path,
        implicit: &BTreeSet<PathBuf>,
    ) -> Result<(), UnpackError> {
        let dir = tree.join(rel);
        let mut names: Vec<_> = fs::read_dir(&dir)
            .map_err(|e| ctx(&dir, e))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(|e| ctx(&dir, e))?;
        names.sort();
        for name in names {
            let rel = rel.join(&name);
            let src = tree.join(&rel);
            let dst = self.root.join(&rel);
            let Some(m) = lstat(&src).map_err(|e| ctx(&src, e))? else {
                continue;
            };
            let ft = m.file_type();
            if ft.is_dir() {
                match lstat(&dst).map_err(|e| ctx(&dst, e))? {
                    Some(d) if d.is_dir() => {}
                    Some(_) => {
                        remove_existing(&dst).map_err(|e| ctx(&dst, e))?;
                        self.forget_dirs(&rel);
                        mkdir(&dst, 0o755).map_err(|e| ctx(&dst, e))?;
                    }
                    None => mkdir(&dst, 0o755).map_err(|e| ctx(&dst, e))?,
                }
                if !implicit.contains(&rel) {
                    self.dirs
                        .insert(rel.clone(), (m.mode() & 0o7777, m.uid(), m.gid()));
                }
                self.copy_tree(tree, &rel, implicit)?;
            } else if ft.is_symlink() {
                remove_existing(&dst).map_err(|e| ctx(&dst, e))?;
                self.forget_dirs(&rel);
                let target = fs::read_link(&src).map_err(|e| ctx(&src, e))?;
                std::os::unix::fs::symlink(&target, &dst).map_err(|e| ctx(&dst, e))?;
                fsutil::lchown_quiet(&dst, m.uid(), m.gid());
            } else if ft.is_file() {
                remove_existing(&dst).map_err(|e| ctx(&dst, e))?;
                self.forget_dirs(&rel);
                link_or_copy(&src, &dst)?;
            }
        }
        Ok(())
    }

    /// Adds the mount points a sandbox needs when it uses the tree as a read-only root
    /// (`proc`, `sys`, `dev`, `tmp`, and empty `etc/hosts`, `etc/resolv.conf`,
    /// `etc/hostname`) where the image has nothing at those paths, then applies the
    /// directory metadata of the layers, deepest first.
    pub(crate) fn finish(self) -> Result<Vec<String>, UnpackError> {
        let mut added = Vec::new();
        for (name, mode) in [
            ("proc", 0o555),
            ("sys", 0o555),
            ("dev", 0o755),
            ("tmp", 0o1777),
            ("etc", 0o755),
        ] {
            let p = self.root.join(name);
            if lstat(&p).map_err(|e| ctx(&p, e))?.is_none() {
                mkdir(&p, mode).map_err(|e| ctx(&p, e))?;
                added.push(format!("/{name}"));
            }
        }
        if lstat(&self.root.join("etc"))?.is_some_and(|m| m.is_dir()) {
            for name in ["hosts", "resolv.conf", "hostname"] {
                let p = self.root.join("etc").join(name);
                if lstat(&p).map_err(|e| ctx(&p, e))?.is_none() {
                    OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o644)
                        .open(&p)
                        .map_err(|e| ctx(&p, e))?;
                    fs::set_permissions(&p, fs::Permissions::from_mode(0o644))
                        .map_err(|e| ctx(&p, e))?;
                    added.push(format!("/etc/{name}"));
                }
            }
        }
        let mut dirs: Vec<_> = self.dirs.into_iter().collect();
        dirs.sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
        for (rel, (mode, uid, gid)) in dirs {
            if lstat_literal(&self.root, &rel)?.is_some_and(|m| m.is_dir()) {
                let p = self.root.join(&rel);
                fsutil::lchown_quiet(&p, uid, gid);
                fs::set_permissions(&p, fs::Permissions::from_mode(mode))
                    .map_err(|e| ctx(&p, e))?;
            }
        }
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o755))
            .map_err(|e| ctx(&self.root, e))?;
        let mut notes = Vec::new();
        if !added.is_empty() {
            notes.push(format!(
                "added empty mount points missing from the image: {}",
                added.join(", ")
            ));
        }
        Ok(notes)
    }
}

/// Hard-links `src` (a regular file or symlink, never followed) at `dst`; copies it when
/// linking is not possible (too many links, protected hard links).
fn link_or_copy(src: &Path, dst: &Path) -> Result<(), UnpackError> {
    if fs::hard_link(src, dst).is_ok() {
        return Ok(());
    }
    let m = fs::symlink_metadata(src).map_err(|e| ctx(src, e))?;
    if m.file_type().is_symlink() {
        let target = fs::read_link(src).map_err(|e| ctx(src, e))?;
        std::os::unix::fs::symlink(target, dst).map_err(|e| ctx(dst, e))?;
        fsutil::lchown_quiet(dst, m.uid(), m.gid());
        return Ok(());
    }
    let mut from = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(src)
        .map_err(|e| ctx(src, e))?;
    let mut to = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dst)
        .map_err(|e| ctx(dst, e))?;
    io::copy(&mut from, &mut to).map_err(|e| ctx(dst, e))?;
    if let Ok(t) = m.modified() {
        let _ = to.set_modified(t);
    }
    drop(to);
    fsutil::lchown_quiet(dst, m.uid(), m.gid());
    fs::set_permissions(dst, fs::Permissions::from_mode(m.mode() & 0o7777))
        .map_err(|e| ctx(dst, e))?;
    Ok(())
}
