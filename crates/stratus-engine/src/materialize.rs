//! Unpacking code packages once per digest into `<data>/code/<sha256>/`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use stratus_store::BlobStore;

/// Unpacks packages on demand and remembers where.
#[derive(Clone)]
pub struct Materializer {
    root: PathBuf,
    blobs: Arc<dyn BlobStore>,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Materializer {
    pub(crate) fn new(root: PathBuf, blobs: Arc<dyn BlobStore>) -> Self {
        Materializer {
            root,
            blobs,
            locks: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The directory holding the unpacked package `sha256`.
    pub async fn code_dir(&self, sha256: &str) -> anyhow::Result<PathBuf> {
        let dir = self.root.join(sha256);
        if dir.exists() {
            return Ok(dir);
        }
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(sha256.to_string()).or_default().clone()
        };
        let _guard = lock.lock().await;
        if dir.exists() {
            return Ok(dir);
        }
        let bytes = self.blobs.get(sha256).await?.ok_or_else(|| {
            anyhow::anyhow!("code package {sha256} is missing from the blob store")
        })?;
        let tmp = self
            .root
            .join(format!(".tmp-{sha256}-{}", std::process::id()));
        let final_dir = dir.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp)?;
            crate::code::unpack(&bytes, &tmp)?;
            open_to_instances(&tmp)?;
            std::fs::rename(&tmp, &final_dir)?;
            Ok(())
        })
        .await??;
        Ok(dir)
    }
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
