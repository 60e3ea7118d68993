//! Content-addressed blobs (code packages) keyed by SHA-256.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::PathBuf;

/// Content-addressed storage. `put` is durable when it returns.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores bytes and returns their lower-case hex SHA-256.
    async fn put(&self, bytes: Vec<u8>) -> anyhow::Result<String>;
    /// Reads a blob; `None` when absent.
    async fn get(&self, sha256: &str) -> anyhow::Result<Option<Vec<u8>>>;
    /// Lists all stored digests.
    async fn list(&self) -> anyhow::Result<Vec<String>>;
    /// Removes a blob (absent is fine).
    async fn delete(&self, sha256: &str) -> anyhow::Result<()>;
}

/// Blobs as files under a directory: `<root>/<first two hex>/<digest>`.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Uses (and creates) `root`, and removes the temporary files of writes that were cut
    /// short by a crash. Open it once per data directory, before any write.
    pub fn open(root: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        let store = Self { root };
        store.remove_temporary_files()?;
        Ok(store)
    }

    fn remove_temporary_files(&self) -> anyhow::Result<()> {
        for dir in std::fs::read_dir(&self.root)? {
            let dir = dir?;
            if !dir.file_type()?.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(dir.path())? {
                let f = f?;
                if f.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                    match std::fs::remove_file(f.path()) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(anyhow::Error::from(e)
                                .context(format!("remove {}", f.path().display())))
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }

    fn path(&self, sha256: &str) -> anyhow::Result<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!("invalid blob digest {sha256:?}");
        }
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put(&self, bytes: Vec<u8>) -> anyhow::Result<String> {
        let digest = hex::encode(Sha256::digest(&bytes));
        let path = self.path(&digest)?;
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            if path.exists() {
                return Ok(());
            }
            let dir = path.parent().expect("blob path has a parent");
            std::fs::create_dir_all(dir)?;
            // Write to a temporary name, fsync, then rename: a crash leaves either the
            // whole blob or a stray temporary file, never a truncated blob.
            let tmp = dir.join(format!("{TMP_PREFIX}{}", uuid_like()));
            let written = (|| -> std::io::Result<()> {
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(&bytes)?;
                f.sync_all()?;
                std::fs::rename(&tmp, &path)
            })();
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.into());
            }
            std::fs::File::open(dir)?.sync_all()?;
            Ok(())
        })
        .await??;
        Ok(digest)
    }

    async fn get(&self, sha256: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let path = self.path(sha256)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn list(&self) -> anyhow::Result<Vec<String>> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
            let mut out = Vec::new();
            for dir in std::fs::read_dir(&root)? {
                let dir = dir?;
                if !dir.file_type()?.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(dir.path())? {
                    let name = f?.file_name().to_string_lossy().into_owned();
                    if name.len() == 64 {
                        out.push(name);
                    }
                }
            }
            Ok(out)
        })
        .await?
    }

    async fn delete(&self, sha256: &str) -> anyhow::Result<()> {
        match tokio::fs::remove_file(self.path(sha256)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// Names of blobs being written start with this.
const TMP_PREFIX: &str = ".tmp-";

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    // Two writes of the same blob in the same nanosecond must not share a file.
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{seq}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_list_delete() {
        let dir = std::env::temp_dir().join(format!("stratus-blob-test-{}", uuid_like()));
        let store = LocalBlobStore::open(&dir).expect("open");
        let d = store.put(b"hello".to_vec()).await.expect("put");
        assert_eq!(
            d,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(store.put(b"hello".to_vec()).await.expect("again"), d);
        assert_eq!(
            store.get(&d).await.expect("get").as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(store.list().await.expect("list"), vec![d.clone()]);
        store.delete(&d).await.expect("delete");
        assert!(store.get(&d).await.expect("get").is_none());
        assert!(store.get("../etc").await.is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn opening_removes_leftover_temporary_files() {
        let dir = std::env::temp_dir().join(format!("stratus-blob-tmp-test-{}", uuid_like()));
        let store = LocalBlobStore::open(&dir).expect("open");
        let d = store.put(b"kept".to_vec()).await.expect("put");
        let sub = dir.join(&d[..2]);
        // What a crash between create and rename leaves behind.
        std::fs::write(sub.join(".tmp-123-456"), b"half a blob").expect("write");
        std::fs::create_dir_all(dir.join("ab")).expect("mkdir");
        std::fs::write(dir.join("ab").join(".tmp-1-2-3"), b"x").expect("write");
        let store = LocalBlobStore::open(&dir).expect("reopen");
        assert!(!sub.join(".tmp-123-456").exists());
        assert!(!dir.join("ab").join(".tmp-1-2-3").exists());
        assert_eq!(store.list().await.expect("list"), vec![d.clone()]);
        assert_eq!(
            store.get(&d).await.expect("get").as_deref(),
            Some(&b"kept"[..])
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
