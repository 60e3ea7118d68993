//! Removing images and layers that are no longer wanted.
//!
//! The caller decides which images to keep (by manifest digest); every other image is
//! removed, then every layer no remaining image lists. Removal first renames a tree
//! into `<root>/tmp`, so a reader never sees half an image.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::oci::{self, Document};
use crate::{fsutil, ImageError, ImageStore};

/// What [`ImageStore::remove_unused`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// Digests (`sha256:...`) of the removed images.
    pub images: Vec<String>,
    /// How many unpacked layers were removed.
    pub layers: usize,
}

impl ImageStore {
    /// The manifest digests (`sha256:...`) of the complete images in the store.
    pub fn image_digests(&self) -> Result<Vec<String>, ImageError> {
        let dir = self.root.join("images");
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir).map_err(|e| fsutil::ctx(&dir, e))? {
            let entry = entry?;
            if entry.path().join(".complete").exists() {
                out.push(format!("sha256:{}", entry.file_name().to_string_lossy()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Removes every image whose digest is not in `keep` (`sha256:...`), then every
    /// unpacked layer that no remaining image uses. Waits for `prepare` calls under way
    /// and holds new ones back until it is done, so nothing is removed under a build.
    ///
    /// A kept image whose manifest cannot be read keeps every layer.
    pub fn remove_unused(&self, keep: &HashSet<String>) -> Result<Removed, ImageError> {
        let _gate = self.gc.write().unwrap_or_else(|e| e.into_inner());
        let mut removed = Removed::default();
        let images = self.root.join("images");
        let mut used_layers: HashSet<String> = HashSet::new();
        let mut layers_known = true;
        for entry in fs::read_dir(&images).map_err(|e| fsutil::ctx(&images, e))? {
            let entry = entry?;
            let hex = entry.file_name().to_string_lossy().into_owned();
            let digest = format!("sha256:{hex}");
            if keep.contains(&digest) {
                match layers_of(&entry.path()) {
                    Some(l) => used_layers.extend(l),
                    None => layers_known = false,
                }
                continue;
            }
            self.discard(&entry.path(), &hex)?;
            removed.images.push(digest);
        }
        if !layers_known {
            return Ok(removed);
        }
        let layers = self.root.join("layers");
        for entry in fs::read_dir(&layers).map_err(|e| fsutil::ctx(&layers, e))? {
            let entry = entry?;
            let hex = entry.file_name().to_string_lossy().into_owned();
            if !used_layers.contains(&hex) {
                self.discard(&entry.path(), &hex)?;
                removed.layers += 1;
            }
        }
        removed.images.sort();
        Ok(removed)
    }

    /// Moves `path` out of sight into `tmp`, then deletes it.
    fn discard(&self, path: &Path, name: &str) -> Result<(), ImageError> {
        let tmp = self.temp_dir("gc")?;
        let aside = tmp.path.join(name);
        fs::rename(path, &aside).map_err(|e| fsutil::ctx(path, e))?;
        remove_tree(&aside).map_err(|e| fsutil::ctx(&aside, e))?;
        Ok(())
    }
}

/// The layer digests (hex) the manifest of an image directory lists.
fn layers_of(image_dir: &Path) -> Option<Vec<String>> {
    let bytes = fs::read(image_dir.join("manifest.json")).ok()?;
    match oci::parse_document(&bytes, None).ok()? {
        Document::Manifest { layers, .. } => layers
            .iter()
            .map(|l| l.digest().ok().map(|d| d.hex().to_string()))
            .collect(),
        Document::Index(_) => None,
    }
}

/// Deletes a tree without following symlinks. Directories an image made read-only
/// (`0555`) are made writable first: an unprivileged store cannot unlink in them
/// otherwise.
fn remove_tree(p: &Path) -> io::Result<()> {
    let Some(meta) = fsutil::lstat(p)? else {
        return Ok(());
    };
    if !meta.is_dir() {
        return fs::remove_file(p);
    }
    if meta.permissions().mode() & 0o700 != 0o700 {
        fs::set_permissions(p, fs::Permissions::from_mode(0o700))?;
    }
    for entry in fs::read_dir(p)? {
        remove_tree(&entry?.path())?;
    }
    fs::remove_dir(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_trees_are_removed_and_symlinks_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let outside = d.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("keep"), b"x").unwrap();
        let t = d.path().join("tree");
        fs::create_dir_all(t.join("a/b")).unwrap();
        fs::write(t.join("a/b/f"), b"y").unwrap();
        std::os::unix::fs::symlink(&outside, t.join("a/link")).unwrap();
        fs::set_permissions(t.join("a/b"), fs::Permissions::from_mode(0o555)).unwrap();
        fs::set_permissions(t.join("a"), fs::Permissions::from_mode(0o555)).unwrap();
        remove_tree(&t).unwrap();
        assert!(!t.exists());
        assert!(outside.join("keep").exists());
    }
}
