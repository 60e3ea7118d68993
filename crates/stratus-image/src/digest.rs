//! Content digests (`sha256:<hex>`) and readers that hash what passes through them.

use std::fmt;
use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

/// A validated `sha256:<64 lowercase hex>` content digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `sha256:<hex>`; any other algorithm or a malformed value is refused with
    /// a lowercase reason.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let Some((alg, hex)) = s.split_once(':') else {
            return Err(format!("digest \"{s}\" has no algorithm"));
        };
        if alg != "sha256" {
            return Err(format!(
                "digest \"{s}\" uses algorithm \"{alg}\"; only sha256 is supported"
            ));
        }
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!("digest \"{s}\" is not 64 lowercase hex digits"));
        }
        Ok(Self {
            hex: hex.to_string(),
        })
    }

    /// The digest of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> Self {
        Self {
            hex: hex::encode(Sha256::digest(bytes)),
        }
    }

    /// The 64 hex digits, safe to use as a file name.
    pub(crate) fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

/// A reader that hashes and counts every byte read through it, and stops with an error
/// once more than `limit` bytes went through (the flag [`HashingReader::over_limit`]
/// tells that case apart from other errors, which callers further up may have wrapped).
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
    limit: u64,
    over_limit: bool,
    source_error: Option<String>,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
            limit,
            over_limit: false,
            source_error: None,
        }
    }

    /// Bytes read so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Whether reading stopped because the limit was passed.
    pub(crate) fn over_limit(&self) -> bool {
        self.over_limit
    }

    /// The error the inner reader returned, if it failed.
    pub(crate) fn source_error(&self) -> Option<&str> {
        self.source_error.as_deref()
    }

    /// Reads the rest of the stream (hashing it) and discards it.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }

    /// The digest of everything read.
    pub(crate) fn digest(&self) -> Digest {
        Digest {
            hex: hex::encode(self.hasher.clone().finalize()),
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.over_limit {
            return Err(io::Error::other("size limit exceeded"));
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                self.source_error = Some(e.to_string());
                return Err(e);
            }
        };
        self.count += n as u64;
        if self.count > self.limit {
            self.over_limit = true;
            return Err(io::Error::other("size limit exceeded"));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let d = Digest::of(b"");
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Digest::parse(&d.to_string()).ok(), Some(d));
        assert!(Digest::parse("sha512:abcd").is_err());
        assert!(Digest::parse("sha256:ABCD").is_err());
        assert!(Digest::parse("sha256:../../etc/passwd").is_err());
        assert!(Digest::parse("nocolon").is_err());
    }

    #[test]
    fn hashing_reader_limits() {
        let mut r = HashingReader::new(&b"hello world"[..], 5);
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
        assert!(r.over_limit());
        let mut r = HashingReader::new(&b"hello"[..], 5);
        r.drain().expect("drain");
        assert_eq!(r.count(), 5);
        assert_eq!(r.digest(), Digest::of(b"hello"));
    }
}
