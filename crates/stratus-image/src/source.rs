//! Where blobs come from: an OCI layout directory, a tar of one, or a registry.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::digest::{Digest, HashingReader};
use crate::oci::{self, Descriptor, Document};
use crate::ImageError;

/// Something that hands out blobs by digest. The bytes are not verified: callers hash
/// what they read and compare.
pub(crate) trait BlobSource {
    /// Opens the blob `digest` for reading.
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, ImageError>;

    /// The error to report when reading from this source failed with `msg`.
    fn read_failed(&self, msg: String) -> ImageError {
        ImageError::Io(io::Error::other(msg))
    }
}

/// An image manifest, resolved down to one platform.
pub(crate) struct Resolved {
    /// The digest of the manifest's bytes.
    pub(crate) digest: Digest,
    /// The manifest's bytes.
    pub(crate) manifest: Vec<u8>,
    /// The config descriptor.
    pub(crate) config: Descriptor,
    /// The layer descriptors, base first.
    pub(crate) layers: Vec<Descriptor>,
}

/// Reads a small blob whole, checking its size against the descriptor and `limit`
/// and its digest.
pub(crate) fn read_verified(
    src: &dyn BlobSource,
    desc: &Descriptor,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, ImageError> {
    let digest = desc.digest()?;
    if desc.size > limit {
        return Err(ImageError::TooLarge(format!(
            "{what} {digest} is {} bytes, more than the {limit} allowed",
            desc.size
        )));
    }
    let reader = src.open(&digest)?;
    let mut r = HashingReader::new(reader, desc.size);
    let mut buf = Vec::with_capacity(desc.size.min(1 << 20) as usize);
    if let Err(e) = r.read_to_end(&mut buf) {
        if r.over_limit() {
            return Err(ImageError::Corrupt(format!(
                "{what} {digest} is larger than its descriptor says ({} bytes)",
                desc.size
            )));
        }
        return Err(src.read_failed(format!("reading {what} {digest}: {e}")));
    }
    if r.count() != desc.size {
        return Err(ImageError::Corrupt(format!(
            "{what} {digest} is {} bytes, its descriptor says {}",
            r.count(),
            desc.size
        )));
    }
    if r.digest() != digest {
        return Err(ImageError::Corrupt(format!(
            "{what} {digest} does not match its digest (content hashes to {})",
            r.digest()
        )));
    }
    Ok(buf)
}

/// Follows a descriptor from an index down to one image manifest for this host.
pub(crate) fn resolve_descriptor(
    src: &dyn BlobSource,
    mut desc: Descriptor,
) -> Result<Resolved, ImageError> {
    for _ in 0..4 {
        let bytes = read_verified(src, &desc, oci::MAX_MANIFEST_BYTES, "manifest")?;
        let media = (!desc.media_type.is_empty()).then_some(desc.media_type.as_str());
        match oci::parse_document(&bytes, media)? {
            Document::Index(entries) => desc = oci::pick_platform(&entries)?.clone(),
            Document::Manifest { config, layers } => {
                return Ok(Resolved {
                    digest: desc.digest()?,
                    manifest: bytes,
                    config,
                    layers,
                })
            }
        }
    }
    Err(ImageError::Corrupt("image indexes nest too deeply".into()))
}

const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Picks the entry of a layout's `index.json` that `tag` names.
pub(crate) fn pick_tag(
    index: &[u8],
    tag: Option<&str>,
    place: &str,
) -> Result<Descriptor, ImageError> {
    let entries = match oci::parse_document(index, Some(oci::OCI_INDEX))? {
        Document::Index(entries) => entries,
        Document::Manifest { .. } => {
            return Err(ImageError::Corrupt(format!(
                "{place}: index.json is not an image index"
            )))
        }
    };
    let name_of = |d: &Descriptor| {
        d.annotations
            .as_ref()
            .and_then(|a| a.get(REF_NAME))
            .cloned()
    };
    let tags: Vec<String> = entries.iter().filter_map(name_of).collect();
    let matches = |d: &Descriptor, t: &str| {
        name_of(d).is_some_and(|n| {
            n == t
                || n.rsplit_once(':')
                    .is_some_and(|(repo, nt)| nt == t && !nt.contains('/') && !repo.is_empty())
        })
    };
    match tag {
        Some(t) => entries
            .iter()
            .rev()
            .find(|d| matches(d, t))
            .cloned()
            .ok_or_else(|| {
                ImageError::NotFound(format!(
                    "tag \"{t}\" not found in {place} (tags: {})",
                    if tags.is_empty() {
                        "none".to_string()
                    } else {
                        tags.join(", ")
                    }
                ))
            }),
        None if entries.len() == 1 => Ok(entries[0].clone()),
        None => entries
            .iter()
            .rev()
            .find(|d| matches(d, "latest"))
            .cloned()
            .ok_or_else(|| {
                if entries.is_empty() {
                    ImageError::NotFound(format!("{place} holds no image"))
                } else {
                    ImageError::BadReference(format!(
                        "{place} holds {} images; name one with :<tag> (tags: {})",
                        entries.len(),
                        tags.join(", ")
                    ))
                }
            }),
    }
}

/// An OCI image layout directory.
pub(crate) struct LayoutSource {
    dir: PathBuf,
}

impl LayoutSource {
    /// Opens the layout at `dir` and returns it with the bytes of its `index.json`.
    pub(crate) fn open(dir: &Path) -> Result<(Self, Vec<u8>), ImageError> {
        let place = format!("oci layout \"{}\"", dir.display());
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(ImageError::BadReference(format!(
                    "{place} is not a directory"
                )))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ImageError::NotFound(format!("{place} does not exist")))
            }
            Err(e) => {
                return Err(ImageError::Io(io::Error::new(
                    e.kind(),
                    format!("{place}: {e}"),
                )))
            }
        }
        let index = match File::open(dir.join("index.json")) {
            Ok(f) => read_capped(f, oci::MAX_MANIFEST_BYTES, &place)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ImageError::NotFound(format!("{place} has no index.json")))
            }
            Err(e) => return Err(ImageError::Io(e)),
        };
        Ok((
            Self {
                dir: dir.to_path_buf(),
            },
            index,
        ))
    }
}

fn read_capped(r: impl Read, limit: u64, place: &str) -> Result<Vec<u8>, ImageError> {
    let mut buf = Vec::new();
    r.take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(ImageError::TooLarge(format!(
            "{place}: index.json is larger than {limit} bytes"
        )));
    }
    Ok(buf)
}

impl BlobSource for LayoutSource {
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, ImageError> {
        let path = self.dir.join("blobs").join("sha256").join(digest.hex());
        match File::open(&path) {
            Ok(f) => Ok(Box::new(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ImageError::Corrupt(format!(
                "blob {digest} is missing from oci layout \"{}\"",
                self.dir.display()
            ))),
            Err(e) => Err(ImageError::Io(io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))),
        }
    }
}

/// A tar file holding an OCI image layout (`skopeo copy ... oci-archive:x.tar`). Blobs
/// are read in place: the archive is scanned once for where each member's data lies.
pub(crate) struct ArchiveSource {
    file: PathBuf,
    members: HashMap<Vec<u8>, (u64, u64)>,
}

/// Drops a leading `./` (and `/`s) from a member name.
fn member_name(raw: &[u8]) -> Vec<u8> {
    let mut s = raw;
    loop {
        if let Some(rest) = s.strip_prefix(b"./") {
            s = rest;
        } else if let Some(rest) = s.strip_prefix(b"/") {
            s = rest;
        } else {
            break;
        }
    }
    s.to_vec()
}

impl ArchiveSource {
    /// Scans the archive at `file` and returns it with the bytes of its `index.json`.
    pub(crate) fn open(file: &Path) -> Result<(Self, Vec<u8>), ImageError> {
        let place = format!("oci archive \"{}\"", file.display());
        let f = match File::open(file) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ImageError::NotFound(format!("{place} does not exist")))
            }
            Err(e) => {
                return Err(ImageError::Io(io::Error::new(
                    e.kind(),
                    format!("{place}: {e}"),
                )))
            }
        };
        if f.metadata()?.is_dir() {
            return Err(ImageError::BadReference(format!(
                "{place} is a directory; use oci:"
            )));
        }
        let mut members = HashMap::new();
        let mut archive = tar::Archive::new(f);
        let bad = |e: io::Error| ImageError::Corrupt(format!("{place} is not a readable tar: {e}"));
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            let kind = entry.header().entry_type();
            if kind.is_file() || kind == tar::EntryType::Continuous {
                members.insert(
                    member_name(&entry.path_bytes()),
                    (entry.raw_file_position(), entry.size()),
                );
            }
        }
        let src = Self {
            file: file.to_path_buf(),
            members,
        };
        let index = match src.member(b"index.json")? {
            Some(r) => read_capped(r, oci::MAX_MANIFEST_BYTES, &place)?,
            None => return Err(ImageError::NotFound(format!("{place} has no index.json"))),
        };
        Ok((src, index))
    }

    fn member(&self, name: &[u8]) -> Result<Option<impl Read>, ImageError> {
        let Some(&(offset, size)) = self.members.get(name) else {
            return Ok(None);
        };
        let mut f = File::open(&self.file)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok(Some(f.take(size)))
    }
}

impl BlobSource for ArchiveSource {
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, ImageError> {
        let name = format!("blobs/sha256/{}", digest.hex());
        match self.member(name.as_bytes())? {
            Some(r) => Ok(Box::new(r)),
            None => Err(ImageError::Corrupt(format!(
                "blob {digest} is missing from oci archive \"{}\"",
                self.file.display()
            ))),
        }
    }
}
