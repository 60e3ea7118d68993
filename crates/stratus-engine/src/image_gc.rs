//! Garbage collection of container images: which image each function configuration
//! resolved to (kept on disk so it outlives a restart), which images running instances
//! use, and the task that removes the rest from `<data-dir>/images`.
//!
//! An image stays while a stored configuration (the latest or a published version of a
//! function; aliases point at versions) resolved to it, while the newest resolution of
//! a reference some configuration still names points at it (an update need not pull
//! again), and while an instance runs from it. Collection runs at start-up, after
//! deletes and updates, when the last instance of an image ends, and every few minutes.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use stratus_types::FunctionSpec;
use tokio::sync::Notify;

use crate::functions::Functions;
use crate::image_fn::Images;

/// How often collection runs without being asked.
const EVERY: Duration = Duration::from_secs(600);

/// (image reference, configuration revision).
pub(crate) type Key = (String, String);

/// One resolution of a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    image: String,
    revision: String,
    digest: String,
}

/// Resolutions in the order they happened, saved as `<images>/resolved.json`.
pub(crate) struct ResolvedLog {
    path: PathBuf,
    entries: Vec<Entry>,
}

impl ResolvedLog {
    /// Loads the log; a missing or unreadable file is an empty log (its images then go
    /// at the next collection unless something still uses them).
    pub(crate) fn load(path: PathBuf) -> Self {
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        ResolvedLog { path, entries }
    }

    /// Notes that `key` resolved to `digest`, and saves the log when that is new.
    pub(crate) fn record(&mut self, key: &Key, digest: &str) {
        let known = self
            .entries
            .iter()
            .position(|e| e.image == key.0 && e.revision == key.1);
        if let Some(i) = known {
            if self.entries[i].digest == digest {
                return;
            }
            self.entries.remove(i);
        }
        self.entries.push(Entry {
            image: key.0.clone(),
            revision: key.1.clone(),
            digest: digest.to_string(),
        });
        self.save();
    }

    /// Drops the resolutions nothing needs any more and returns the digests of the
    /// rest: those of live keys, and the newest of each reference still named.
    pub(crate) fn retain(&mut self, live: &HashSet<Key>) -> HashSet<String> {
        let named: HashSet<&str> = live.iter().map(|(i, _)| i.as_str()).collect();
        let mut newest: HashMap<&str, usize> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            newest.insert(e.image.as_str(), i);
        }
        let keep: Vec<bool> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                live.contains(&(e.image.clone(), e.revision.clone()))
                    || (named.contains(e.image.as_str())
                        && newest.get(e.image.as_str()) == Some(&i))
            })
            .collect();
        let before = self.entries.len();
        let mut flags = keep.into_iter();
        self.entries.retain(|_| flags.next().unwrap_or(false));
        if self.entries.len() != before {
            self.save();
        }
        self.entries.iter().map(|e| e.digest.clone()).collect()
    }

    fn save(&self) {
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(&self.entries).unwrap_or_default();
        let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            tracing::warn!("save {}: {e}", self.path.display());
        }
    }
}

/// Images in use by instances, counted per digest.
pub(crate) struct Leases {
    counts: Mutex<HashMap<String, usize>>,
    /// Wakes the collector when an image's last instance ends.
    pub(crate) signal: Arc<Notify>,
}

impl Leases {
    pub(crate) fn new(signal: Arc<Notify>) -> Arc<Self> {
        Arc::new(Leases {
            counts: Mutex::new(HashMap::new()),
            signal,
        })
    }

    /// Marks `digest` in use until the returned lease is dropped.
    pub(crate) fn take(self: &Arc<Self>, digest: &str) -> ImageLease {
        *self.lock().entry(digest.to_string()).or_default() += 1;
        ImageLease {
            leases: self.clone(),
            digest: digest.to_string(),
        }
    }

    /// The digests some instance uses.
    pub(crate) fn in_use(&self) -> HashSet<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One instance's use of an image; dropped when the instance has ended.
pub(crate) struct ImageLease {
    leases: Arc<Leases>,
    digest: String,
}

impl std::fmt::Debug for ImageLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ImageLease({})", self.digest)
    }
}

impl Drop for ImageLease {
    fn drop(&mut self) {
        let mut counts = self.leases.lock();
        let last = match counts.get_mut(&self.digest) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                counts.remove(&self.digest);
                true
            }
            None => false,
        };
        drop(counts);
        if last {
            self.leases.signal.notify_one();
        }
    }
}

/// The (reference, revision) keys of stored configurations that name an image.
pub(crate) fn live_keys(specs: &[FunctionSpec]) -> HashSet<Key> {
    specs
        .iter()
        .filter_map(|s| {
            let image = s.extras.get("custom_image")?.get("image")?.as_str()?.trim();
            (!image.is_empty()).then(|| (image.to_string(), s.last_modified.clone()))
        })
        .collect()
}

/// Runs collection at once, then whenever signalled or every [`EVERY`], until the
/// images are dropped.
pub(crate) fn spawn_collector(functions: Functions, images: Weak<Images>, signal: Arc<Notify>) {
    tokio::spawn(async move {
        loop {
            let Some(imgs) = images.upgrade() else { return };
            match functions.image_specs().await {
                Ok(specs) => {
                    let live = live_keys(&specs);
                    let work = tokio::task::spawn_blocking(move || imgs.collect(&live)).await;
                    if let Err(e) = work {
                        tracing::warn!("image garbage collection: {e}");
                    }
                }
                Err(e) => tracing::warn!("image garbage collection: list functions: {e}"),
            }
            tokio::select! {
                _ = signal.notified() => {}
                _ = tokio::time::sleep(EVERY) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: &str, r: &str) -> Key {
        (i.to_string(), r.to_string())
    }

    #[test]
    fn log_keeps_live_keys_and_newest_resolutions() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("resolved.json");
        let mut log = ResolvedLog::load(path.clone());
        log.record(&key("r/a:v1", "t1"), "sha256:a1");
        log.record(&key("r/a:v1", "t2"), "sha256:a2");
        log.record(&key("r/b:v1", "t1"), "sha256:b1");
        // Reloaded from disk: the same three.
        let mut log = ResolvedLog::load(path.clone());
        assert_eq!(log.entries.len(), 3);

        // a's configuration moved on to t3 (not pulled yet): its newest resolution stays.
        let live: HashSet<Key> = [key("r/a:v1", "t3"), key("r/b:v1", "t1")].into();
        let kept = log.retain(&live);
        assert_eq!(kept, ["sha256:a2", "sha256:b1"].map(String::from).into());

        // Nothing names b any more.
        let live: HashSet<Key> = [key("r/a:v1", "t3")].into();
        let kept = log.retain(&live);
        assert_eq!(kept, ["sha256:a2"].map(String::from).into());
        assert_eq!(ResolvedLog::load(path).entries.len(), 1);
    }

    #[test]
    fn leases_count_and_signal_the_last_release() {
        let signal = Arc::new(Notify::new());
        let leases = Leases::new(signal.clone());
        let a = leases.take("sha256:x");
        let b = leases.take("sha256:x");
        assert_eq!(leases.in_use(), ["sha256:x".to_string()].into());
        drop(a);
        assert_eq!(leases.in_use().len(), 1);
        drop(b);
        assert!(leases.in_use().is_empty());
        // The permit of the last release is waiting.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(1), signal.notified())
                .await
                .expect("signalled");
        });
    }
}
