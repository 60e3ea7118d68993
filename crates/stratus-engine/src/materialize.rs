//! Unpacking code and dependency packages once per digest into `<data>/code/<sha256>/`,
//! and building a function's code view: its code with its dependency packages merged
//! in, once per combination, under `<data>/code/views/<key>/`.
//!
//! The merge rule: a path is taken from the first layer that has it, the function's own
//! code first and then the dependencies in the order the function lists them;
//! directories that several layers have are merged. So a code file always wins over a
//! dependency file of the same name (guide section 11 warns against such clashes), and
//! an earlier dependency wins over a later one. Python finds dependency modules because
//! the code root is on `sys.path`, Node.js finds `node_modules/<pkg>` by its usual lookup
//! from the code root.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use stratus_store::BlobStore;

/// Unpacks packages on demand and remembers where.
#[derive(Clone)]
pub struct Materializer {
    root: PathBuf,
    blobs: Arc<dyn BlobStore>,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    precompile: Arc<crate::precompile::Precompiler>,
}

/// Which limits an unpack applies.
#[derive(Clone, Copy)]
enum Kind {
    Code,
    Dependency,
}

impl Materializer {
    /// `python` writes the bytecode cache of Python code (`precompile.rs`).
    pub(crate) fn new(root: PathBuf, blobs: Arc<dyn BlobStore>, python: Option<PathBuf>) -> Self {
        Materializer {
            root,
            blobs,
            locks: Arc::new(Mutex::new(HashMap::new())),
            precompile: Arc::new(crate::precompile::Precompiler::start(python)),
        }
    }

    fn lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(key.to_string()).or_default().clone()
    }

    /// The directory holding the unpacked code package `sha256`.
    pub async fn code_dir(&self, sha256: &str) -> anyhow::Result<PathBuf> {
        self.unpacked(sha256, Kind::Code).await
    }

    /// The code view of a function: its code directory when it has no dependencies,
    /// else the merge of its code and the dependency packages `deps` (SHA-256s, in the
    /// function's order). Its Python files get their bytecode cache in the background.
    pub async fn view_dir(&self, code_sha256: &str, deps: &[String]) -> anyhow::Result<PathBuf> {
        let dir = self.merged_view(code_sha256, deps).await?;
        self.precompile.queue(&dir);
        Ok(dir)
    }

    async fn merged_view(&self, code_sha256: &str, deps: &[String]) -> anyhow::Result<PathBuf> {
        let code = self.code_dir(code_sha256).await?;
        if deps.is_empty() {
            return Ok(code);
        }
        let mut layers = vec![code];
        for d in deps {
            layers.push(self.unpacked(d, Kind::Dependency).await?);
        }
        let key = view_key(code_sha256, deps);
        let views = self.root.join("views");
        let dir = views.join(&key);
        if dir.exists() {
            return Ok(dir);
        }
        let lock = self.lock(&format!("view:{key}"));
        let _guard = lock.lock().await;
        if dir.exists() {
            return Ok(dir);
        }
        let tmp = views.join(format!(".tmp-{key}-{}", std::process::id()));
        let final_dir = dir.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            std::fs::create_dir_all(&views)?;
            let _ = std::fs::remove_dir_all(&tmp);
            merge_layers(&layers, &tmp)?;
            std::fs::rename(&tmp, &final_dir)?;
            Ok(())
        })
        .await??;
        Ok(dir)
    }

    async fn unpacked(&self, sha256: &str, kind: Kind) -> anyhow::Result<PathBuf> {
        let dir = self.root.join(sha256);
        if dir.exists() {
            return Ok(dir);
        }
        let lock = self.lock(sha256);
        let _guard = lock.lock().await;
        if dir.exists() {
            return Ok(dir);
        }
        let bytes =
            self.blobs.get(sha256).await?.ok_or_else(|| {
                anyhow::anyhow!("package {sha256} is missing from the blob store")
            })?;
        let tmp = self
            .root
            .join(format!(".tmp-{sha256}-{}", std::process::id()));
        let final_dir = dir.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp)?;
            match kind {
                Kind::Code => crate::code::unpack(&bytes, &tmp)?,
                Kind::Dependency => {
                    stratus_package::unpack(&bytes, &tmp, &crate::code::dependency_limits())?;
                }
            }
            open_to_instances(&tmp)?;
            std::fs::rename(&tmp, &final_dir)?;
            Ok(())
        })
        .await??;
        Ok(dir)
    }
}

/// Names a view by its layers (order matters: it decides who wins a clash).
fn view_key(code: &str, deps: &[String]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"code:");
    h.update(code.as_bytes());
    for d in deps {
        h.update(b"\ndependency:");
        h.update(d.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Builds a code view in `dest` (which must not exist) from unpacked `layers`, first
/// layer first: a path comes from the first layer that has it, and directories are
/// merged. Files are hard links into the unpacked packages (they are never written to:
/// instances see the view read-only), copies where a link cannot be made.
fn merge_layers(layers: &[PathBuf], dest: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir(dest)?;
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o755))?;
    for layer in layers {
        merge_into(layer, dest)?;
    }
    Ok(())
}

fn merge_into(src: &Path, dst: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = from.symlink_metadata()?.file_type();
        match to.symlink_metadata() {
            // An earlier layer has this path. Only two real directories merge; anything
            // else stays as the earlier layer made it.
            Ok(existing) => {
                if existing.is_dir() && kind.is_dir() {
                    merge_into(&from, &to)?;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if kind.is_symlink() {
                    // Package symlinks were checked to stay inside their package, and the
                    // view keeps the package's layout, so they stay inside the view.
                    std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
                } else if kind.is_dir() {
                    std::fs::create_dir(&to)?;
                    std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755))?;
                    merge_into(&from, &to)?;
                } else if std::fs::hard_link(&from, &to).is_err() {
                    std::fs::copy(&from, &to)?;
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Instances run as another user (uid 1003) than the one that unpacked the code, and the
/// code is mounted read-only: every file must be readable by all, directories
/// searchable, and what its owner may execute executable by all. Archives made by tools
/// that write owner-only modes (Python's `zipfile.writestr` gives 0600) then still run.
fn open_to_instances(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.path().symlink_metadata()?;
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode() & 0o7777;
        let wanted = if meta.is_dir() {
            open_to_instances(&entry.path())?;
            mode | 0o555
        } else if mode & 0o100 != 0 {
            mode | 0o555
        } else {
            mode | 0o444
        };
        if wanted != mode {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(wanted))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }

    fn read(root: &Path, rel: &str) -> String {
        std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| format!("<{e}>"))
    }

    #[test]
    fn the_first_layer_wins_and_directories_merge() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (code, dep1, dep2) = (
            tmp.path().join("code"),
            tmp.path().join("dep1"),
            tmp.path().join("dep2"),
        );
        write(&code, "index.py", "code");
        write(&code, "shared.py", "code");
        write(&code, "node_modules/own/index.js", "code");
        write(&code, "lib", "code file");
        write(&dep1, "shared.py", "dep1");
        write(&dep1, "both.py", "dep1");
        write(&dep1, "node_modules/left/index.js", "dep1");
        write(&dep1, "lib/inner.py", "dep1");
        write(&dep2, "both.py", "dep2");
        write(&dep2, "only2.py", "dep2");
        write(&dep2, "node_modules/right/index.js", "dep2");
        std::os::unix::fs::symlink("only2.py", dep2.join("alias.py")).expect("symlink");
        let view = tmp.path().join("view");
        merge_layers(&[code, dep1, dep2], &view).expect("merge");
        assert_eq!(read(&view, "index.py"), "code");
        assert_eq!(
            read(&view, "shared.py"),
            "code",
            "code wins over a dependency"
        );
        assert_eq!(read(&view, "both.py"), "dep1", "an earlier dependency wins");
        assert_eq!(read(&view, "only2.py"), "dep2");
        assert_eq!(read(&view, "alias.py"), "dep2");
        assert_eq!(
            read(&view, "lib"),
            "code file",
            "a file is not replaced by a directory"
        );
        for (m, who) in [("own", "code"), ("left", "dep1"), ("right", "dep2")] {
            assert_eq!(read(&view, &format!("node_modules/{m}/index.js")), who);
        }
        assert_ne!(
            view_key("a", &["b".into(), "c".into()]),
            view_key("a", &["c".into(), "b".into()])
        );
    }
}
