//! Building archives.

use std::fs::{self, File};
use std::io::{self, Cursor, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::names;
use crate::tree::{Kind, Tree, DEFAULT_DIR_MODE, DEFAULT_FILE_MODE};
use crate::PackageError;

/// Entries at least this large are written with zip64 headers.
const ZIP64_THRESHOLD: u64 = u32::MAX as u64;

/// Options shared by all entries: deflate, and a fixed timestamp
/// (1980-01-01) so that the same input always gives the same bytes.
fn options(mode: u32, len: u64) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(mode & 0o777)
        .large_file(len >= ZIP64_THRESHOLD)
}

fn invalid_input(e: PackageError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

/// Checks an entry name with the same rules [`crate::inspect`] applies and
/// returns it normalised (`./a//b` becomes `a/b`).
fn normalise(name: &str) -> io::Result<(String, Vec<&str>)> {
    let comps = names::split(name).map_err(invalid_input)?;
    Ok((comps.join("/"), comps))
}

/// Builds a zip holding one regular file `name` with `content` and the
/// permission bits of `mode` (`0o755` for an executable `bootstrap`, `0o644`
/// otherwise). Used for inline code and exports.
///
/// `name` must pass the same checks as an archive entry (relative, no `..`);
/// it is stored normalised. A mode of zero is stored as is and reads back as
/// the default `0o644`.
pub fn zip_single(name: &str, content: &[u8], mode: u32) -> io::Result<Vec<u8>> {
    zip_files(&[(name, content, mode)])
}

/// Builds a zip of regular files given as `(name, content, mode)`, in the
/// order given. Names follow the rules of [`zip_single`] and must be
/// distinct; parent directories are implied, not stored.
pub fn zip_files<N: AsRef<str>, C: AsRef<[u8]>>(files: &[(N, C, u32)]) -> io::Result<Vec<u8>> {
    let mut tree = Tree::default();
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content, mode) in files {
        let (normal, comps) = normalise(name.as_ref())?;
        tree.insert(name.as_ref(), &comps, Kind::File, *mode)
            .map_err(invalid_input)?;
        let content = content.as_ref();
        zip.start_file(normal, options(*mode, content.len() as u64))?;
        zip.write_all(content)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// One item found while walking a directory.
enum Item {
    Dir { name: String, mode: u32 },
    File { name: String, mode: u32, len: u64 },
    Symlink { name: String, target: String },
}

/// Zips the contents of `dir` (not `dir` itself), recursively.
///
/// * Entries are sorted by name at every level and carry a fixed timestamp,
///   so the same tree always gives the same bytes.
/// * Every subdirectory gets its own entry, so empty directories survive.
/// * Unix permission bits of files and directories are kept.
/// * Symlinks are stored as symlinks, never followed. A symlink that would
///   be refused on upload (absolute target, or resolving outside `dir`) makes
///   this fail with [`io::ErrorKind::InvalidInput`], as do names that the
///   platform would refuse (containing `\` or starting with a drive prefix)
///   and names that are not UTF-8.
/// * Sockets, fifos and devices are skipped.
pub fn zip_dir(dir: &Path) -> io::Result<Vec<u8>> {
    let mut items = Vec::new();
    walk(dir, &mut Vec::new(), &mut items)?;

    // Check the tree with the upload rules before writing anything.
    let mut tree = Tree::default();
    for item in &items {
        let (name, kind, mode) = match item {
            Item::Dir { name, mode } => (name, Kind::Dir, *mode),
            Item::File { name, mode, .. } => (name, Kind::File, *mode),
            Item::Symlink { name, target } => (name, Kind::Symlink(target.clone()), 0o777),
        };
        let (normal, comps) = normalise(name)?;
        if normal != *name {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("file name {name:?} contains a backslash, which the platform treats as a separator"),
            ));
        }
        tree.insert(name, &comps, kind, mode)
            .map_err(invalid_input)?;
    }
    tree.check_symlinks().map_err(invalid_input)?;

    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for item in items {
        match item {
            Item::Dir { name, mode } => zip.add_directory(format!("{name}/"), options(mode, 0))?,
            Item::File { name, mode, len } => {
                let path = name.split('/').fold(dir.to_path_buf(), |p, c| p.join(c));
                let mut file = File::open(&path)?;
                zip.start_file(name, options(mode, len))?;
                io::copy(&mut file, &mut zip)?;
            }
            Item::Symlink { name, target } => zip.add_symlink(name, target, options(0o777, 0))?,
        }
    }
    Ok(zip.finish()?.into_inner())
}

/// Collects the items below `root/rel`, sorted, parents before children.
fn walk(root: &Path, rel: &mut Vec<String>, out: &mut Vec<Item>) -> io::Result<()> {
    let here = rel.iter().fold(root.to_path_buf(), |p, c| p.join(c));
    let mut children = Vec::new();
    for entry in fs::read_dir(&here)? {
        let entry = entry?;
        let name = entry.file_name().into_string().map_err(|raw| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("file name {raw:?} in {} is not utf-8", here.display()),
            )
        })?;
        children.push((name, entry));
    }
    children.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, entry) in children {
        let meta = fs::symlink_metadata(entry.path())?;
        let kind = meta.file_type();
        rel.push(name);
        let full = rel.join("/");
        if kind.is_symlink() {
            let target = fs::read_link(entry.path())?;
            let target = target.into_os_string().into_string().map_err(|raw| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("symlink {full:?} has a target {raw:?} that is not utf-8"),
                )
            })?;
            out.push(Item::Symlink { name: full, target });
        } else if kind.is_dir() {
            out.push(Item::Dir {
                name: full,
                mode: mode_of(&meta, DEFAULT_DIR_MODE),
            });
            walk(root, rel, out)?;
        } else if kind.is_file() {
            out.push(Item::File {
                name: full,
                mode: mode_of(&meta, DEFAULT_FILE_MODE),
                len: meta.len(),
            });
        }
        rel.pop();
    }
    Ok(())
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata, _default: u32) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn mode_of(_meta: &fs::Metadata, default: u32) -> u32 {
    default
}
