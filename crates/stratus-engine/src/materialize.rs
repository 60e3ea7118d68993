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
            std::fs::rename(&tmp, &final_dir)?;
            Ok(())
        })
        .await??;
        Ok(dir)
    }
}
