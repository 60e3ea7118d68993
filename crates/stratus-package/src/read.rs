//! Checking and unpacking archives.
//!
//! Both [`inspect`] and [`unpack`] run in two phases. The first reads only
//! the central directory (and symlink targets, which are tiny) and checks
//! names, kinds, declared sizes and symlinks, building a [`Tree`]. The second
//! decompresses file contents, counting the real bytes against the limits.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Cursor, Read, Write};
use std::path::{Path, PathBuf};

use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

use crate::names;
use crate::tree::{Kind, Tree, DEFAULT_DIR_MODE, DEFAULT_FILE_MODE, MAX_TARGET_BYTES};
use crate::{detail, shown, Limits, Manifest, PackageError};

type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

/// File type bits of a unix mode.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
/// "Version made by" host system value for unix.
const SYSTEM_UNIX: u8 = 3;

/// One entry as planned by the first phase.
struct Planned {
    /// Index in the archive.
    index: usize,
    /// Name for messages.
    name: String,
    /// Normalised path components; empty for the root directory.
    comps: Vec<String>,
    kind: Kind,
    /// Permission bits to apply.
    mode: u32,
    /// Declared decompressed size.
    size: u64,
    /// Compressed size.
    compressed: u64,
}

/// The result of the first phase.
struct Scan<'a> {
    archive: Archive<'a>,
    plan: Vec<Planned>,
    tree: Tree,
    /// Bytes decompressed so far (symlink targets).
    unpacked: u64,
}

/// A central directory record as read by us, for the fields the zip crate
/// does not expose.
struct Record<'a> {
    name: &'a [u8],
    system: u8,
    external: u32,
}

pub(crate) fn inspect(zip_bytes: &[u8], limits: &Limits) -> Result<Manifest, PackageError> {
    let mut scan = scan(zip_bytes, limits)?;
    let mut total = scan.unpacked;
    for p in &scan.plan {
        if p.kind == Kind::File {
            let mut entry = scan
                .archive
                .by_index(p.index)
                .map_err(|e| entry_error(&p.name, e))?;
            copy_limited(&mut entry, &mut io::sink(), p, &mut total, limits)?;
        }
    }
    Ok(Manifest {
        entries: scan.archive.len(),
        unpacked_bytes: total,
        tree: scan.tree,
    })
}

pub(crate) fn unpack(
    zip_bytes: &[u8],
    dest: &Path,
    limits: &Limits,
) -> Result<Manifest, PackageError> {
    // Refuse what can be refused before creating anything.
    let scan = scan(zip_bytes, limits)?;
    let created = prepare_dest(dest)?;
    match write_tree(scan, dest, limits) {
        Ok(manifest) => Ok(manifest),
        Err(e) => {
            clean_up(dest, created.as_deref());
            Err(e)
        }
    }
}

/// Makes sure `dest` is an empty directory. Returns the topmost directory
/// this call created, if any.
fn prepare_dest(dest: &Path) -> Result<Option<PathBuf>, PackageError> {
    match fs::metadata(dest) {
        Ok(meta) if meta.is_dir() => {
            if fs::read_dir(dest)?.next().is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::DirectoryNotEmpty,
                    format!("destination {} is not empty", dest.display()),
                )
                .into());
            }
            Ok(None)
        }
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("destination {} is not a directory", dest.display()),
        )
        .into()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut top = dest;
            while let Some(parent) = top.parent() {
                if parent.as_os_str().is_empty() || parent.exists() {
                    break;
                }
                top = parent;
            }
            fs::create_dir_all(dest)?;
            Ok(Some(top.to_path_buf()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes what a failed unpack wrote. Errors are ignored: the original
/// error matters more.
fn clean_up(dest: &Path, created: Option<&Path>) {
    if let Some(top) = created {
        let _ = fs::remove_dir_all(top);
        return;
    }
    let Ok(dir) = fs::read_dir(dest) else { return };
    for entry in dir.flatten() {
        let path = entry.path();
        // `file_type` does not follow symlinks, and `remove_dir_all` does
        // not follow them either.
        match entry.file_type() {
            Ok(t) if t.is_dir() => {
                let _ = fs::remove_dir_all(&path);
            }
            _ => {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

/// The second phase of [`unpack`].
fn write_tree(mut scan: Scan<'_>, dest: &Path, limits: &Limits) -> Result<Manifest, PackageError> {
    let mut total = scan.unpacked;
    for p in &scan.plan {
        let path = p
            .comps
            .iter()
            .fold(dest.to_path_buf(), |path, c| path.join(c));
        match &p.kind {
            Kind::Dir => fs::create_dir_all(&path)?,
            Kind::File => {
                create_parent(&path)?;
                let file = create_new(&path)?;
                let mut out = BufWriter::with_capacity(64 * 1024, file);
                let mut entry = scan
                    .archive
                    .by_index(p.index)
                    .map_err(|e| entry_error(&p.name, e))?;
                copy_limited(&mut entry, &mut out, p, &mut total, limits)?;
                out.into_inner().map_err(|e| e.into_error())?;
                set_mode(&path, p.mode)?;
            }
            Kind::Symlink(target) => {
                create_parent(&path)?;
                make_symlink(target, &path)?;
            }
        }
    }
    // Directory modes last, so that a read-only directory does not get in the
    // way of its own contents. Owner rwx is always kept.
    for (comps, mode) in scan.tree.dirs() {
        let path = comps
            .iter()
            .fold(dest.to_path_buf(), |path, c| path.join(c));
        set_mode(&path, mode | 0o700)?;
    }
    Ok(Manifest {
        entries: scan.archive.len(),
        unpacked_bytes: total,
        tree: scan.tree,
    })
}

fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) => fs::create_dir_all(parent),
        None => Ok(()),
    }
}

/// Creates a new file, failing if anything (including a symlink) is already
/// there.
fn create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn make_symlink(target: &str, path: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, path)
}

#[cfg(not(unix))]
fn make_symlink(_target: &str, _path: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "symlinks can only be unpacked on unix",
    ))
}

/// Copies one entry's decompressed bytes to `out`, refusing as soon as the
/// entry produces more than it declared, the archive total passes the limit
/// or the entry's ratio passes the cap. Nothing past a limit is written.
fn copy_limited(
    entry: &mut dyn Read,
    out: &mut dyn Write,
    p: &Planned,
    total: &mut u64,
    limits: &Limits,
) -> Result<u64, PackageError> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut written: u64 = 0;
    let ratio_cap = p.compressed.max(1).saturating_mul(limits.max_ratio);
    loop {
        let n = match entry.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(PackageError::Corrupt(format!(
                    "entry {:?} could not be decompressed: {}",
                    p.name,
                    detail(e)
                )))
            }
        };
        let n64 = n as u64;
        written += n64;
        if written > p.size {
            return Err(PackageError::Corrupt(format!(
                "entry {:?} holds more data than the {} bytes its header declares",
                p.name, p.size
            )));
        }
        if total.saturating_add(n64) > limits.max_unpacked_bytes {
            return Err(PackageError::TooLarge {
                limit: limits.max_unpacked_bytes,
            });
        }
        if written > ratio_cap {
            return Err(ratio_error(p, limits));
        }
        *total += n64;
        out.write_all(&buf[..n])?;
    }
    if written != p.size {
        return Err(PackageError::Corrupt(format!(
            "entry {:?} holds {written} bytes but its header declares {}",
            p.name, p.size
        )));
    }
    Ok(written)
}

fn ratio_error(p: &Planned, limits: &Limits) -> PackageError {
    PackageError::SuspiciousRatio(format!(
        "entry {:?} expands more than {} times its compressed size of {} bytes",
        p.name, limits.max_ratio, p.compressed
    ))
}

/// An error of the zip crate about one entry.
fn entry_error(name: &str, e: ZipError) -> PackageError {
    PackageError::Corrupt(format!("entry {name:?} could not be read: {}", detail(e)))
}

fn open(zip_bytes: &[u8]) -> Result<Archive<'_>, PackageError> {
    if zip_bytes.is_empty() {
        return Err(PackageError::NotAZip("the input is empty".into()));
    }
    ZipArchive::new(Cursor::new(zip_bytes)).map_err(|e| {
        if zip_bytes.starts_with(b"PK") {
            PackageError::Corrupt(format!("archive is truncated or damaged: {}", detail(e)))
        } else {
            PackageError::NotAZip(detail(e))
        }
    })
}

/// Walks the central directory starting at `start`, reading at most
/// `limit + 1` records. Stops at the first thing that is not a record.
fn central_records(bytes: &[u8], start: u64, limit: usize) -> Vec<Record<'_>> {
    let mut records = Vec::new();
    let Ok(mut pos) = usize::try_from(start) else {
        return records;
    };
    while records.len() <= limit {
        let Some(header) = pos.checked_add(46).and_then(|end| bytes.get(pos..end)) else {
            break;
        };
        if &header[..4] != b"PK\x01\x02" {
            break;
        }
        let u16_at = |i: usize| usize::from(u16::from_le_bytes([header[i], header[i + 1]]));
        let name_len = u16_at(28);
        let extra_len = u16_at(30);
        let comment_len = u16_at(32);
        let external = u32::from_le_bytes([header[38], header[39], header[40], header[41]]);
        let Some(name) = bytes.get(pos + 46..pos + 46 + name_len) else {
            break;
        };
        records.push(Record {
            name,
            system: header[5],
            external,
        });
        pos += 46 + name_len + extra_len + comment_len;
    }
    records
}

/// The first phase: everything that can be checked without decompressing
/// file contents.
fn scan<'a>(zip_bytes: &'a [u8], limits: &Limits) -> Result<Scan<'a>, PackageError> {
    let mut archive = open(zip_bytes)?;
    let count = archive.len();
    if count > limits.max_entries {
        return Err(PackageError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    // The zip crate keys entries by name and silently keeps one of two
    // entries with the same name, so duplicates are found in our own walk.
    let records = central_records(
        zip_bytes,
        archive.central_directory_start(),
        limits.max_entries,
    );
    if records.len() > limits.max_entries {
        return Err(PackageError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    let mut seen = HashSet::new();
    for record in &records {
        if !seen.insert(record.name) {
            return Err(PackageError::DuplicateEntry(shown(
                &String::from_utf8_lossy(record.name),
            )));
        }
    }
    if records.len() != count {
        return Err(PackageError::Corrupt(format!(
            "archive's central directory is inconsistent: it holds {} records for {count} distinct names",
            records.len()
        )));
    }

    let mut plan = Vec::with_capacity(count);
    let mut tree = Tree::default();
    let mut declared: u64 = 0;
    let mut unpacked: u64 = 0;
    for (index, record) in records.iter().enumerate() {
        let fallback = archive.name_for_index(index).map(shown).unwrap_or_default();
        let entry = archive
            .by_index_raw(index)
            .map_err(|e| entry_error(&fallback, e))?;
        let raw_name = entry.name_raw();
        let name = shown(entry.name());
        if raw_name != record.name {
            return Err(PackageError::Corrupt(format!(
                "entry {name:?} does not match its central directory record"
            )));
        }
        let comps: Vec<String> = names::split(entry.name())?
            .into_iter()
            .map(String::from)
            .collect();
        if entry.encrypted() {
            return Err(PackageError::Corrupt(format!(
                "entry {name:?} is encrypted, which is not supported"
            )));
        }
        match entry.compression() {
            CompressionMethod::Stored | CompressionMethod::Deflated => {}
            other => {
                return Err(PackageError::Corrupt(format!(
                "entry {name:?} uses compression method {}, which is not supported (use deflate)",
                detail(other)
            )))
            }
        }
        let size = entry.size();
        let compressed = entry.compressed_size();
        let dir_name = entry.is_dir();
        drop(entry);

        let unix_mode = if record.system == SYSTEM_UNIX {
            record.external >> 16
        } else {
            0
        };
        let file_type = unix_mode & S_IFMT;
        let perm = unix_mode & 0o777;
        let kind = if dir_name || file_type == S_IFDIR {
            Kind::Dir
        } else if file_type == S_IFLNK {
            // The target is read below; a placeholder until then.
            Kind::Symlink(String::new())
        } else if file_type == 0 || file_type == S_IFREG {
            Kind::File
        } else {
            return Err(PackageError::Corrupt(format!(
                "entry {name:?} is a device, fifo or socket, which is not supported"
            )));
        };
        let mode = match (&kind, perm) {
            (Kind::Dir, 0) => DEFAULT_DIR_MODE,
            (_, 0) => DEFAULT_FILE_MODE,
            (Kind::Dir, perm) => perm | 0o700,
            (_, perm) => perm,
        };
        if kind == Kind::Dir && size != 0 {
            return Err(PackageError::Corrupt(format!(
                "directory entry {name:?} has content"
            )));
        }

        // Declared sizes first: a bomb that admits its size is refused
        // before anything is decompressed. Real sizes are counted later.
        declared = declared.saturating_add(size);
        if declared > limits.max_unpacked_bytes {
            return Err(PackageError::TooLarge {
                limit: limits.max_unpacked_bytes,
            });
        }
        let mut planned = Planned {
            index,
            name,
            comps,
            kind,
            mode,
            size,
            compressed,
        };
        if size > compressed.max(1).saturating_mul(limits.max_ratio) {
            return Err(ratio_error(&planned, limits));
        }

        if let Kind::Symlink(_) = planned.kind {
            let target = read_target(&mut archive, &planned, &mut unpacked, limits)?;
            planned.kind = Kind::Symlink(target);
        }
        let comps: Vec<&str> = planned.comps.iter().map(String::as_str).collect();
        tree.insert(&planned.name, &comps, planned.kind.clone(), planned.mode)?;
        plan.push(planned);
    }
    tree.check_symlinks()?;
    Ok(Scan {
        archive,
        plan,
        tree,
        unpacked,
    })
}

/// Reads a symlink entry's target.
fn read_target(
    archive: &mut Archive<'_>,
    p: &Planned,
    unpacked: &mut u64,
    limits: &Limits,
) -> Result<String, PackageError> {
    if p.size > MAX_TARGET_BYTES as u64 {
        return Err(PackageError::Corrupt(format!(
            "symlink {:?} has a target longer than {MAX_TARGET_BYTES} bytes",
            p.name
        )));
    }
    let mut entry = archive
        .by_index(p.index)
        .map_err(|e| entry_error(&p.name, e))?;
    let mut target = Vec::new();
    copy_limited(&mut entry, &mut target, p, unpacked, limits)?;
    String::from_utf8(target).map_err(|_| {
        PackageError::Corrupt(format!(
            "symlink {:?} has a target that is not utf-8",
            p.name
        ))
    })
}
