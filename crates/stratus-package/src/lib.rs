//! Code packages for Stratus functions.
//!
//! Functions are deployed as zip (or jar) archives uploaded by users, so every
//! archive is treated as hostile input. This crate
//!
//! * checks an archive without touching the disk ([`inspect`]),
//! * unpacks it into a fresh directory with the same checks applied while the
//!   bytes are written ([`unpack`]),
//! * builds archives from a directory tree or from in-memory files
//!   ([`zip_dir`], [`zip_single`], [`zip_files`]), and
//! * hashes package bytes ([`sha256_hex`], [`sha512_hex`]).
//!
//! # What an archive may contain
//!
//! An archive is refused (see [`PackageError`]) when any entry
//!
//! * has an empty name, a NUL byte in its name, a name longer than 4096
//!   bytes or a path component longer than 255 bytes,
//! * has an absolute name (leading `/` or `\`, or a drive prefix such as `C:`),
//! * has a `..` component anywhere in its name (`\` counts as a separator for
//!   this check, and names are unpacked with `\` turned into `/`),
//! * is encrypted, uses a compression method other than store or deflate, or
//!   is a device, fifo or socket,
//! * is a symlink whose target is absolute or resolves (following the other
//!   symlinks of the archive) to a place outside the archive root,
//! * lies underneath a symlink of the archive (`link/file` where `link` is a
//!   symlink entry), which would let a later entry write through the link,
//! * names the same path as another entry, or clashes with one (a file where
//!   another entry needs a directory),
//! * declares or produces more data than [`Limits`] allow, or expands more
//!   than [`Limits::max_ratio`] times its compressed size,
//! * holds a different amount of data than its header declares, or fails its
//!   CRC check.
//!
//! Archives with no entries at all are accepted; whether an empty package
//! makes sense is up to the caller.
//!
//! # Permissions
//!
//! Unix permission bits stored in the archive are kept (masked to `0o777`),
//! so an executable `bootstrap` of a custom runtime stays executable. Entries
//! without unix permission information (archives made on Windows or by most
//! jar tools, or a mode of zero) get `0o644` for files and `0o755` for
//! directories. Directories always keep owner `rwx` so the tree can be
//! managed and removed later.
//!
//! Error messages are lowercase, have no trailing period and name the entry
//! at fault, so a server can hand them to clients as they are.

#![warn(missing_docs)]

mod names;
mod read;
mod tree;
mod write;

use std::path::Path;

use sha2::Digest;

pub use write::{zip_dir, zip_files, zip_single};

/// Resource limits applied by [`inspect`] and [`unpack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest total number of decompressed bytes (file contents plus symlink
    /// targets). Default: 1.5 GiB (`1_610_612_736`).
    pub max_unpacked_bytes: u64,
    /// Largest number of entries (files, directories and symlinks) in the
    /// central directory. Default: `20_000`.
    pub max_entries: usize,
    /// Largest ratio between an entry's decompressed and compressed size.
    /// Deflate cannot exceed roughly 1032:1, so the default of `1000` only
    /// catches long runs of identical bytes. Use `u64::MAX` to turn the check
    /// off.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_unpacked_bytes: 1_610_612_736,
            max_entries: 20_000,
            max_ratio: 1000,
        }
    }
}

/// What a checked archive contains.
///
/// Paths are relative to the archive root, use `/` as separator and are
/// normalised: `./a//b/` and `a\b` both become `a/b`.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// Number of entries in the archive's central directory, directories and
    /// symlinks included.
    pub entries: usize,
    /// Number of bytes actually decompressed: file contents plus symlink
    /// targets.
    pub unpacked_bytes: u64,
    tree: tree::Tree,
}

impl Manifest {
    /// Whether `path` is an entry of the archive, or a directory implied by
    /// one (`a` when the archive holds `a/b`). Symlinks are not followed: a
    /// symlink entry is itself contained, paths beneath it are not. A leading
    /// `./` and trailing `/` are ignored; the empty path is not contained.
    pub fn contains(&self, path: &str) -> bool {
        match query_components(path) {
            Some(comps) if !comps.is_empty() => self.tree.lookup(&comps).is_some(),
            _ => false,
        }
    }

    /// The paths of every file and symlink of the archive (directories left out),
    /// normalised and `/`-separated, in name order.
    pub fn files(&self) -> Vec<String> {
        self.tree.leaves()
    }

    /// Whether `path` is a regular file with at least one execute bit set,
    /// following symlinks of the archive (so a `bootstrap` symlink to an
    /// executable counts). Directories and missing paths are not executable.
    pub fn is_executable(&self, path: &str) -> bool {
        match query_components(path) {
            Some(comps) if !comps.is_empty() => self
                .tree
                .file_mode(&comps)
                .is_some_and(|mode| mode & 0o111 != 0),
            _ => false,
        }
    }
}

/// Splits a query path for [`Manifest`] lookups; `None` for paths that cannot
/// name an entry (a `..` component, a NUL byte).
fn query_components(path: &str) -> Option<Vec<&str>> {
    let mut comps = Vec::new();
    for comp in path.split(['/', '\\']) {
        match comp {
            "" | "." => {}
            ".." => return None,
            c if c.contains('\0') => return None,
            c => comps.push(c),
        }
    }
    Some(comps)
}

/// Why an archive was refused or could not be unpacked.
///
/// Every variant except [`PackageError::Io`] describes a problem with the
/// archive itself, so its message is fit for a "bad request" answer.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The bytes are not a zip archive at all. Holds a description.
    #[error("not a zip archive: {0}")]
    NotAZip(String),
    /// An entry name has a `..` component. Holds the entry name.
    #[error("entry {0:?} has a '..' path component")]
    PathEscapesRoot(String),
    /// An entry name is absolute (`/x`, `\x`, `C:x`). Holds the entry name.
    #[error("entry {0:?} has an absolute path")]
    AbsolutePath(String),
    /// A symlink points outside the archive root, or an entry lies beneath a
    /// symlink. Holds a full description naming the entries.
    #[error("{0}")]
    SymlinkEscapes(String),
    /// The archive has more entries than [`Limits::max_entries`].
    #[error("archive has more than {limit} entries")]
    TooManyEntries {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The archive declares or expands to more than
    /// [`Limits::max_unpacked_bytes`].
    #[error("archive expands to more than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: u64,
    },
    /// An entry expands more than [`Limits::max_ratio`] times its compressed
    /// size. Holds a full description naming the entry.
    #[error("{0}")]
    SuspiciousRatio(String),
    /// Two entries name the same path, or one needs a directory where another
    /// is a file or symlink. Holds the name of the later entry.
    #[error("entry {0:?} appears twice or clashes with an earlier entry")]
    DuplicateEntry(String),
    /// Reading the input or writing the destination failed (an error on our
    /// side, not the archive's).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The archive is damaged or uses something this crate refuses
    /// (encryption, unsupported compression, special files, bad names, size
    /// or CRC mismatches). Holds a full description.
    #[error("{0}")]
    Corrupt(String),
}

/// Reads the whole archive from `zip_bytes` without writing anything,
/// decompressing every entry to check every rule, and returns its manifest.
///
/// Declared sizes are checked first, so an obvious zip bomb is refused before
/// any decompression; the real number of decompressed bytes is counted as
/// well and decompression stops as soon as a limit is crossed.
pub fn inspect(zip_bytes: &[u8], limits: &Limits) -> Result<Manifest, PackageError> {
    read::inspect(zip_bytes, limits)
}

/// Unpacks the archive into `dest`, which is created (with its parents) if
/// missing and must otherwise be an empty directory.
///
/// All name, symlink and declared-size rules are checked before anything is
/// written. While writing, real decompressed bytes are counted (header sizes
/// are never trusted), so a bomb is stopped after writing at most
/// [`Limits::max_unpacked_bytes`] bytes. Files are created with `O_EXCL`
/// semantics and never through a symlink. Permission bits are restored as
/// described in the [crate documentation](crate).
///
/// On error everything written is removed: `dest` itself if this call created
/// it, otherwise its contents (it was empty to begin with).
pub fn unpack(zip_bytes: &[u8], dest: &Path, limits: &Limits) -> Result<Manifest, PackageError> {
    read::unpack(zip_bytes, dest, limits)
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Lowercase hex SHA-512 of `bytes`.
pub fn sha512_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha512::digest(bytes))
}

/// An entry name as shown in messages: at most 200 characters.
pub(crate) fn shown(name: &str) -> String {
    const MAX: usize = 200;
    match name.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &name[..cut]),
        None => name.to_string(),
    }
}

/// An error message from another library in this crate's style: first letter
/// lowercase, no trailing period.
pub(crate) fn detail(e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    let text = text.trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hashes() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(sha512_hex(b"abc").starts_with("ddaf35a193617aba"));
        assert_eq!(sha512_hex(b"").len(), 128);
    }

    #[test]
    fn message_helpers() {
        assert_eq!(detail("Invalid checksum."), "invalid checksum");
        assert_eq!(shown("short"), "short");
        let long = "x".repeat(500);
        assert_eq!(shown(&long).len(), 203);
    }

    #[test]
    fn query_paths() {
        assert_eq!(query_components("./a//b/").unwrap(), vec!["a", "b"]);
        assert!(query_components("a/../b").is_none());
    }
}
