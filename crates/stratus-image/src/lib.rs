//! OCI images for container-image functions: fetch an image and unpack it into a root
//! file system.
//!
//! [`ImageStore::prepare`] takes an image reference, resolves it to one image manifest
//! for this host's platform, verifies every blob against its digest, unpacks each layer
//! once (per layer digest) into a directory of its own, and merges the layers, base
//! first, into a root file system (once per manifest digest). Everything is cached
//! under the store's root directory:
//!
//! ```text
//! <root>/layers/<hex>/tree          one layer's files
//! <root>/layers/<hex>/layer.json    its whiteouts, opaque dirs, diff id, notes
//! <root>/images/<hex>/rootfs        the merged root file system
//! <root>/images/<hex>/image.json    digest, parsed config, notes
//! <root>/images/<hex>/manifest.json the manifest, config.json the image config
//! <root>/tmp/                       work in progress, renamed into place when done
//! ```
//!
//! Nothing is removed on its own: [`ImageStore::remove_unused`] removes the images a
//! caller no longer wants and the layers only they used.
//!
//! # Layers are hostile input
//!
//! A layer is refused ([`ImageError::Corrupt`]) when an entry has an absolute path or
//! a `..` component, lies under a symlink or a file of the same layer (writing through
//! it could leave the root), or is a hard link whose target is outside the root, a
//! directory or missing from every layer. Symlinks are created as they are (their
//! targets mean something only inside the container) and are never followed while
//! the tree is written: when layers are merged, paths are taken literally as
//! overlayfs does, so a directory of an upper layer replaces a symlink of a lower one.
//! Modes (with setuid/setgid/sticky bits), owners (when the store runs as root),
//! symlinks and hard links are kept; device nodes and fifos are left out with a note
//! ([`PreparedImage::notes`]). Layers may be uncompressed or gzip tars; zstd layers are
//! refused with a clear error. Whiteouts (`.wh.<name>`) delete from lower layers, and
//! `.wh..wh..opq` hides a directory's lower contents.
//!
//! # Crash and concurrency safety
//!
//! Layers and root file systems are built in `<root>/tmp`, flushed (`syncfs`) and
//! renamed into place; a reader only ever sees complete trees. Concurrent `prepare`
//! calls for the same image in one process wait for each other; across processes both
//! build and the first rename wins. Leftovers of a crash in `tmp` are removed by
//! [`ImageStore::open`] once they are a day old.
//!
//! # Errors
//!
//! Error messages are lowercase, have no trailing period and can be returned by an
//! API as they are: [`ImageError::BadReference`] is the client's mistake (400).

#![warn(missing_docs)]

mod auth;
mod digest;
mod fsutil;
mod gc;
mod merge;
mod oci;
mod reference;
mod registry;
mod source;
mod unpack;

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

pub use crate::auth::RegistryAuth;
use crate::digest::{Digest, HashingReader};
pub use crate::gc::Removed;
use crate::oci::Compression;
use crate::reference::Reference;
use crate::source::{BlobSource, Resolved};
use crate::unpack::{LayerMeta, UnpackError};

/// The default of [`PullOptions::max_bytes`]: 10 GiB, the guide's image size limit.
pub const DEFAULT_MAX_BYTES: u64 = 10 << 30;

/// How many times [`PullOptions::max_bytes`] the layers of an image may unpack to
/// (a guard against decompression bombs).
pub const UNPACKED_FACTOR: u64 = 4;

/// Temp entries older than this are a crashed run's leftovers.
const STALE_TEMP: Duration = Duration::from_secs(24 * 3600);

/// Why an image could not be prepared. Every message is lowercase and can be shown
/// to the user who named the image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The reference is malformed, names an unknown transport, or names something that
    /// is not a container image (answer 400).
    #[error("{0}")]
    BadReference(String),
    /// The layout, archive, repository, tag, manifest or platform does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The registry could not be reached, refused access, or answered an error.
    #[error("{0}")]
    Registry(String),
    /// A blob does not match its digest or size, a document is malformed, or a layer
    /// holds something refused (escaping paths, unsupported compression...).
    #[error("{0}")]
    Corrupt(String),
    /// The image is larger than [`PullOptions::max_bytes`] allows.
    #[error("{0}")]
    TooLarge(String),
    /// Reading or writing the store (or a local layout) failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// How to pull an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOptions {
    /// Registry hosts reached over plain http (`host` or `host:port`). Loopback hosts
    /// (`localhost`, `127.*`, `[::1]`) always are; every other host is reached over
    /// https.
    pub insecure_hosts: Vec<String>,
    /// The most bytes the image's blobs (config and compressed layers) may add up to;
    /// its layers may unpack to at most [`UNPACKED_FACTOR`] times as much.
    pub max_bytes: u64,
    /// Credentials for registries that need them (basic auth, or sent to the token
    /// service of a bearer challenge).
    pub auth: RegistryAuth,
}

impl Default for PullOptions {
    fn default() -> Self {
        Self {
            insecure_hosts: Vec::new(),
            max_bytes: DEFAULT_MAX_BYTES,
            auth: RegistryAuth::default(),
        }
    }
}

/// What a container-image function runs, from the image config's `config` object.
/// Empty fields were not set by the image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// `Entrypoint`: the program and its first arguments.
    pub entrypoint: Vec<String>,
    /// `Cmd`: arguments after the entrypoint, or the whole command without one.
    pub cmd: Vec<String>,
    /// `Env`: `NAME=value` entries.
    pub env: Vec<String>,
    /// `WorkingDir`: absolute directory to start in; empty means `/`.
    pub working_dir: String,
    /// `User`: `user`, `uid`, `user:group` or `uid:gid` as the image wrote it.
    pub user: String,
    /// `ExposedPorts` keys, sorted (`8000/tcp`).
    pub exposed_ports: Vec<String>,
}

/// Where a checked image reference points (see [`check_reference`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `oci:<dir>`: an OCI image layout directory on this machine.
    Layout(PathBuf),
    /// `oci-archive:<file>`: a tar of an OCI layout on this machine.
    Archive(PathBuf),
    /// A registry (`host` or `host:port`, `docker.io` when the reference names none).
    Registry(String),
}

/// Checks the syntax of an image reference without reading or fetching anything, and
/// says where it points, so an API can refuse a bad one (400) or one it does not allow.
pub fn check_reference(reference: &str) -> Result<Location, ImageError> {
    match reference::parse(reference).map_err(ImageError::BadReference)? {
        Reference::Layout { dir, .. } => Ok(Location::Layout(dir)),
        Reference::Archive { file, .. } => Ok(Location::Archive(file)),
        Reference::Registry(r) => Ok(Location::Registry(r.host)),
    }
}

/// An image ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedImage {
    /// The digest (`sha256:...`) of the image manifest for this host's platform (not of
    /// an index that pointed at it).
    pub digest: String,
    /// The merged root file system. Its regular files are hard links shared with the
    /// layer cache and other images: use it read-only (bind-mount it read-only).
    pub rootfs: PathBuf,
    /// The image config.
    pub config: ImageConfig,
    /// What was left out or added while unpacking (device nodes, fifos, mount points
    /// created for the sandbox, ownership not kept), for the operator's log.
    pub notes: Vec<String>,
}

/// The on-disk record of a prepared image.
#[derive(Serialize, Deserialize)]
struct ImageRecord {
    digest: String,
    config: ImageConfig,
    notes: Vec<String>,
}

/// A directory in `<root>/tmp` removed on drop unless it was renamed away.
struct TempDir {
    path: PathBuf,
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Ok(Some(_)) = fsutil::lstat(&self.path) {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// A cache of images and unpacked layers in one directory.
///
/// `ImageStore` is `Send + Sync`; share one per root directory.
pub struct ImageStore {
    root: PathBuf,
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Held shared by `prepare`, exclusively by `remove_unused`.
    gc: RwLock<()>,
}

impl std::fmt::Debug for ImageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageStore")
            .field("root", &self.root)
            .finish()
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl ImageStore {
    /// Opens (creating it when needed) the store at `root`, and removes temp entries
    /// that a crashed run left there more than a day ago.
    pub fn open(root: &Path) -> Result<Self, ImageError> {
        for sub in ["layers", "images", "tmp"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(|e| fsutil::ctx(&p, e))?;
        }
        let tmp = root.join("tmp");
        let now = SystemTime::now();
        for entry in fs::read_dir(&tmp).map_err(|e| fsutil::ctx(&tmp, e))? {
            let entry = entry?;
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_TEMP);
            if old {
                let _ = fsutil::remove_existing(&entry.path());
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
            locks: Mutex::new(HashMap::new()),
            gc: RwLock::new(()),
        })
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves an image reference and makes its root file system available; idempotent
    /// and cached per manifest digest; layers unpacked once per layer digest.
    ///
    /// Reference forms:
    ///
    /// * `oci:<dir>[:<tag>]`: an OCI image layout directory. The tag is matched against
    ///   the `org.opencontainers.image.ref.name` annotations of `index.json`; without
    ///   one, the layout's only image (or the one tagged `latest`) is used. The text
    ///   after the last `:` counts as the tag when it is a valid tag.
    /// * `oci-archive:<file.tar>[:<tag>]`: a tar of an OCI layout, read in place.
    /// * `host[:port]/repo[:tag|@sha256:...]` (optionally prefixed `docker://`): pulled
    ///   over the OCI distribution API, over http for loopback hosts and
    ///   [`PullOptions::insecure_hosts`], https otherwise; anonymous, or answering the
    ///   registry's challenge with [`PullOptions::auth`] (basic) or a Bearer token
    ///   (fetched with those credentials when there are some). A name without a registry
    ///   host (`busybox`, `team/app`) means Docker Hub. Without tag or digest, `latest`.
    ///
    /// Docker v2 schema 2 and OCI manifests are read; a manifest list or index picks the
    /// `linux` image of this host's architecture (`amd64` on x86-64). A reference that
    /// pins a digest already prepared needs no network.
    ///
    /// `oci:` and `oci-archive:` read files of the machine this runs on: an API that
    /// takes references from users must decide who may use them.
    pub fn prepare(
        &self,
        reference: &str,
        opts: &PullOptions,
    ) -> Result<PreparedImage, ImageError> {
        let _gate = self.gc.read().unwrap_or_else(|e| e.into_inner());
        match reference::parse(reference).map_err(ImageError::BadReference)? {
            Reference::Layout { dir, tag } => {
                let (src, index) = source::LayoutSource::open(&dir)?;
                let place = format!("oci layout \"{}\"", dir.display());
                let desc = source::pick_tag(&index, tag.as_deref(), &place)?;
                let resolved = source::resolve_descriptor(&src, desc)?;
                self.build(&src, resolved, opts)
            }
            Reference::Archive { file, tag } => {
                let (src, index) = source::ArchiveSource::open(&file)?;
                let place = format!("oci archive \"{}\"", file.display());
                let desc = source::pick_tag(&index, tag.as_deref(), &place)?;
                let resolved = source::resolve_descriptor(&src, desc)?;
                self.build(&src, resolved, opts)
            }
            Reference::Registry(r) => {
                if let Some(d) = &r.digest {
                    if let Some(img) = self.cached(d)? {
                        return Ok(img);
                    }
                }
                let cred = opts.auth.find(&r).cloned();
                let src = registry::RegistrySource::new(&r, &opts.insecure_hosts, cred);
                let resolved = src.resolve()?;
                self.build(&src, resolved, opts)
            }
        }
    }

    /// The in-process lock for one key (a layer or an image being built).
    fn lock(&self, key: String) -> Arc<Mutex<()>> {
        let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key).or_default().clone()
    }

    fn temp_dir(&self, kind: &str) -> Result<TempDir, ImageError> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = self
            .root
            .join("tmp")
            .join(format!("{kind}-{}-{n}-{nanos}", std::process::id()));
        fs::create_dir(&path).map_err(|e| fsutil::ctx(&path, e))?;
        Ok(TempDir { path })
    }

    /// Renames a finished temp dir to `dest`; when another process got there first, its
    /// tree is kept and ours dropped.
    fn publish(&self, tmp: TempDir, dest: &Path, marker: &str) -> Result<(), ImageError> {
        fsutil::sync_fs(&tmp.path).map_err(|e| fsutil::ctx(&tmp.path, e))?;
        match fs::rename(&tmp.path, dest) {
            Ok(()) => Ok(()),
            Err(_) if dest.join(marker).exists() => Ok(()),
            Err(e) => Err(ImageError::Io(fsutil::ctx(dest, e))),
        }
    }

    /// The prepared image with manifest digest `d`, if it is in the store.
    fn cached(&self, d: &Digest) -> Result<Option<PreparedImage>, ImageError> {
        let dir = self.root.join("images").join(d.hex());
        if !dir.join(".complete").exists() {
            return Ok(None);
        }
        let bytes = fs::read(dir.join("image.json"))?;
        let rec: ImageRecord = serde_json::from_slice(&bytes).map_err(|e| {
            ImageError::Corrupt(format!("store record of image {d} is unreadable: {e}"))
        })?;
        Ok(Some(PreparedImage {
            digest: rec.digest,
            rootfs: dir.join("rootfs"),
            config: rec.config,
            notes: rec.notes,
        }))
    }

    fn build(
        &self,
        src: &dyn BlobSource,
        res: Resolved,
        opts: &PullOptions,
    ) -> Result<PreparedImage, ImageError> {
        if let Some(img) = self.cached(&res.digest)? {
            return Ok(img);
        }
        let lock = self.lock(format!("image:{}", res.digest.hex()));
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(img) = self.cached(&res.digest)? {
            return Ok(img);
        }

        let total = res
            .layers
            .iter()
            .fold(res.config.size, |acc, l| acc.saturating_add(l.size));
        if total > opts.max_bytes {
            return Err(ImageError::TooLarge(format!(
                "image {} is {total} bytes, more than the {} allowed",
                res.digest, opts.max_bytes
            )));
        }
        oci::check_config_type(&res.config.media_type)?;
        let config_bytes =
            source::read_verified(src, &res.config, oci::MAX_CONFIG_BYTES, "image config")?;
        let parsed = oci::parse_config(&config_bytes)?;
        if !parsed.diff_ids.is_empty() && parsed.diff_ids.len() != res.layers.len() {
            return Err(ImageError::Corrupt(format!(
                "image {}: the manifest has {} layers, the config lists {}",
                res.digest,
                res.layers.len(),
                parsed.diff_ids.len()
            )));
        }

        let budget = opts.max_bytes.saturating_mul(UNPACKED_FACTOR);
        let mut used = 0u64;
        let mut layers = Vec::with_capacity(res.layers.len());
        for (i, desc) in res.layers.iter().enumerate() {
            let d = desc.digest()?;
            let meta = self.ensure_layer(src, desc, &d, budget.saturating_sub(used))?;
            if let Some(want) = parsed.diff_ids.get(i) {
                if meta.diff_id != want.to_string() {
                    return Err(ImageError::Corrupt(format!(
                        "layer {d} unpacks to {}, the image config says {want}",
                        meta.diff_id
                    )));
                }
            }
            used = used.saturating_add(meta.unpacked_bytes);
            if used > budget {
                return Err(ImageError::TooLarge(format!(
                    "image {} unpacks to more than {budget} bytes",
                    res.digest
                )));
            }
            layers.push((d, meta));
        }

        let tmp = self.temp_dir("image")?;
        let rootfs = tmp.path.join("rootfs");
        fsutil::mkdir(&rootfs, 0o755).map_err(|e| fsutil::ctx(&rootfs, e))?;
        let mut merger = merge::Merger::new(&rootfs);
        let mut notes = Vec::new();
        for (d, meta) in &layers {
            let tree = self.root.join("layers").join(d.hex()).join("tree");
            merger
                .apply(&tree, meta)
                .map_err(|e| unpack_error(e, &format!("merging layer {d}")))?;
            notes.extend(
                meta.notes
                    .iter()
                    .map(|n| format!("layer {}: {n}", short(d))),
            );
        }
        notes.extend(
            merger
                .finish()
                .map_err(|e| unpack_error(e, "finishing the root file system"))?,
        );

        let record = ImageRecord {
            digest: res.digest.to_string(),
            config: parsed.config,
            notes,
        };
        write_file(&tmp.path.join("manifest.json"), &res.manifest)?;
        write_file(&tmp.path.join("config.json"), &config_bytes)?;
        write_file(&tmp.path.join("image.json"), &to_json(&record)?)?;
        write_file(&tmp.path.join(".complete"), b"")?;
        let dest = self.root.join("images").join(res.digest.hex());
        self.publish(tmp, &dest, ".complete")?;
        self.cached(&res.digest)?.ok_or_else(|| {
            ImageError::Io(io::Error::other(format!(
                "image {} vanished from the store",
                res.digest
            )))
        })
    }

    /// Unpacks layer `d` into `<root>/layers/<hex>` unless it already is there.
    fn ensure_layer(
        &self,
        src: &dyn BlobSource,
        desc: &oci::Descriptor,
        d: &Digest,
        budget: u64,
    ) -> Result<LayerMeta, ImageError> {
        let dest = self.root.join("layers").join(d.hex());
        if let Some(meta) = read_layer_meta(&dest, d)? {
            return Ok(meta);
        }
        let lock = self.lock(format!("layer:{}", d.hex()));
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(meta) = read_layer_meta(&dest, d)? {
            return Ok(meta);
        }
        let compression = oci::layer_compression(&desc.media_type)?;
        let tmp = self.temp_dir("layer")?;
        let tree = tmp.path.join("tree");
        fsutil::mkdir(&tree, 0o755).map_err(|e| fsutil::ctx(&tree, e))?;

        let mut meta = LayerMeta::default();
        let raw = src.open(d)?;
        let mut blob = HashingReader::new(raw, desc.size);
        let (result, diff_id, unpacked, over_budget) = {
            let buffered = BufReader::with_capacity(256 << 10, &mut blob);
            let decompressed: Box<dyn Read + '_> = match compression {
                Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered)),
                Compression::None => Box::new(buffered),
            };
            let mut stream = HashingReader::new(decompressed, budget);
            let result = unpack::extract(&mut stream, &tree, &mut meta)
                .and_then(|()| stream.drain().map_err(UnpackError::Read));
            (result, stream.digest(), stream.count(), stream.over_limit())
        };
        if blob.over_limit() {
            return Err(ImageError::Corrupt(format!(
                "layer {d} is larger than its descriptor says ({} bytes)",
                desc.size
            )));
        }
        if let Some(e) = blob.source_error() {
            return Err(src.read_failed(format!("reading layer {d}: {e}")));
        }
        let drained = blob.drain();
        if drained.is_ok() && (blob.count() != desc.size || blob.digest() != *d) {
            return Err(ImageError::Corrupt(if blob.count() != desc.size {
                format!(
                    "layer {d} is {} bytes, its descriptor says {}",
                    blob.count(),
                    desc.size
                )
            } else {
                format!(
                    "layer {d} does not match its digest (content hashes to {})",
                    blob.digest()
                )
            }));
        }
        if over_budget {
            return Err(ImageError::TooLarge(format!(
                "layer {d} unpacks to more than the {budget} bytes left for this image"
            )));
        }
        if let Err(e) = result {
            return Err(match e {
                UnpackError::Read(e) => ImageError::Corrupt(format!(
                    "layer {d} is not a valid {} stream: {e}",
                    if compression == Compression::Gzip {
                        "gzip tar"
                    } else {
                        "tar"
                    }
                )),
                other => unpack_error(other, &format!("layer {d}")),
            });
        }
        if let Err(e) = drained {
            if let Some(e) = blob.source_error() {
                return Err(src.read_failed(format!("reading layer {d}: {e}")));
            }
            return Err(ImageError::Corrupt(format!(
                "layer {d} could not be read to its end: {e}"
            )));
        }
        meta.diff_id = diff_id.to_string();
        meta.unpacked_bytes = unpacked;
        write_file(&tmp.path.join("layer.json"), &to_json(&meta)?)?;
        self.publish(tmp, &dest, "layer.json")?;
        read_layer_meta(&dest, d)?.ok_or_else(|| {
            ImageError::Io(io::Error::other(format!(
                "layer {d} vanished from the store"
            )))
        })
    }
}

/// The first 12 hex digits of a digest, for notes.
fn short(d: &Digest) -> &str {
    &d.hex()[..12]
}

fn unpack_error(e: UnpackError, what: &str) -> ImageError {
    match e {
        UnpackError::Bad(msg) => ImageError::Corrupt(format!("{what}: {msg}")),
        UnpackError::Read(e) => ImageError::Corrupt(format!("{what}: {e}")),
        UnpackError::Write(e) => ImageError::Io(io::Error::new(e.kind(), format!("{what}: {e}"))),
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, ImageError> {
    serde_json::to_vec_pretty(v).map_err(|e| ImageError::Io(io::Error::other(e)))
}

fn write_file(p: &Path, bytes: &[u8]) -> Result<(), ImageError> {
    let mut f = fs::File::create(p).map_err(|e| fsutil::ctx(p, e))?;
    f.write_all(bytes).map_err(|e| fsutil::ctx(p, e))?;
    Ok(())
}

/// The metadata of an unpacked layer at `dir`, when it is complete.
fn read_layer_meta(dir: &Path, d: &Digest) -> Result<Option<LayerMeta>, ImageError> {
    match fs::read(dir.join("layer.json")) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            ImageError::Corrupt(format!("store record of layer {d} is unreadable: {e}"))
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ImageError::Io(e)),
    }
}
