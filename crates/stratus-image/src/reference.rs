//! Parsing of image references.

use std::path::PathBuf;

use crate::digest::Digest;

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reference {
    /// `oci:<dir>[:<tag>]`.
    Layout { dir: PathBuf, tag: Option<String> },
    /// `oci-archive:<file>[:<tag>]`.
    Archive { file: PathBuf, tag: Option<String> },
    /// `host[:port]/repo[:tag][@sha256:...]`.
    Registry(RegistryRef),
}

/// A reference to an image in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistryRef {
    /// The registry as written (`host` or `host:port`), `docker.io` when none was.
    pub(crate) host: String,
    /// The repository path (`library/busybox`, `team/app`).
    pub(crate) repo: String,
    /// The tag; `latest` when neither a tag nor a digest was given.
    pub(crate) tag: Option<String>,
    /// The manifest digest when the reference pins one (it wins over the tag).
    pub(crate) digest: Option<Digest>,
}

impl RegistryRef {
    /// The host that serves the distribution API (`docker.io` is served elsewhere).
    pub(crate) fn api_host(&self) -> &str {
        if self.host == "docker.io" || self.host == "index.docker.io" {
            "registry-1.docker.io"
        } else {
            &self.host
        }
    }

    /// The host without its port (brackets of an IPv6 literal kept).
    pub(crate) fn host_name(&self) -> &str {
        host_without_port(&self.host)
    }

    /// The tag or digest to ask the registry for.
    pub(crate) fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }
}

fn host_without_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        match rest.find(']') {
            Some(end) => &host[..end + 2],
            None => host,
        }
    } else {
        match host.rsplit_once(':') {
            Some((h, _)) => h,
            None => host,
        }
    }
}

/// Whether `host` (with or without port) names this machine's loopback interface.
pub(crate) fn is_loopback(host: &str) -> bool {
    let name = host_without_port(host);
    name == "localhost"
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn bad(reference: &str, why: &str) -> String {
    format!("invalid image reference \"{reference}\": {why}")
}

/// Whether `t` is a valid tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub(crate) fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-')
}

fn valid_repo_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    !b.is_empty()
        && alnum(b[0])
        && alnum(b[b.len() - 1])
        && b.iter()
            .all(|&x| alnum(x) || x == b'.' || x == b'_' || x == b'-')
        && !c.contains("..")
}

fn valid_host(h: &str) -> bool {
    let (name, port) = if let Some(rest) = h.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return false;
        };
        let inner = &rest[..end];
        if inner.is_empty() || !inner.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
            return false;
        }
        let after = &rest[end + 1..];
        match after.strip_prefix(':') {
            Some(p) => ("ipv6", Some(p)),
            None if after.is_empty() => ("ipv6", None),
            None => return false,
        }
    } else {
        match h.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (h, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
        if p.parse::<u32>().map_or(true, |n| n == 0 || n > 65535) {
            return false;
        }
    }
    !name.is_empty()
        && name.len() <= 253
        && name
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
}

/// Splits `rest` of an `oci:`/`oci-archive:` reference into a path and an optional tag:
/// the text after the last `:` is a tag when it is a valid one (so it has no `/`).
fn split_path_tag(rest: &str) -> (String, Option<String>) {
    if let Some((path, tag)) = rest.rsplit_once(':') {
        if valid_tag(tag) {
            return (path.to_string(), Some(tag.to_string()));
        }
    }
    (rest.to_string(), None)
}

/// Parses an image reference (see [`crate::ImageStore::prepare`] for the forms).
pub(crate) fn parse(reference: &str) -> Result<Reference, String> {
    if reference.is_empty() {
        return Err("invalid image reference: it is empty".to_string());
    }
    if reference.len() > 4096 {
        return Err("invalid image reference: longer than 4096 bytes".to_string());
    }
    if reference
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad(reference, "contains whitespace or control characters"));
    }
    if let Some(rest) = reference.strip_prefix("oci:") {
        let (dir, tag) = split_path_tag(rest);
        if dir.is_empty() {
            return Err(bad(reference, "no layout directory after \"oci:\""));
        }
        return Ok(Reference::Layout {
            dir: PathBuf::from(dir),
            tag,
        });
    }
    if let Some(rest) = reference.strip_prefix("oci-archive:") {
        let (file, tag) = split_path_tag(rest);
        if file.is_empty() {
            return Err(bad(reference, "no archive file after \"oci-archive:\""));
        }
        return Ok(Reference::Archive {
            file: PathBuf::from(file),
            tag,
        });
    }
    let name = reference.strip_prefix("docker://").unwrap_or(reference);
    if name.contains("://") {
        return Err(bad(
            reference,
            "unknown transport; use oci:, oci-archive: or host/repo[:tag]",
        ));
    }
    let (name, digest) = match name.split_once('@') {
        Some((n, d)) => {
            let d = Digest::parse(d).map_err(|e| bad(reference, &e))?;
            (n, Some(d))
        }
        None => (name, None),
    };
    let (name, tag) = match name.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => {
            if !valid_tag(t) {
                return Err(bad(reference, &format!("invalid tag \"{t}\"")));
            }
            (n, Some(t.to_string()))
        }
        _ => (name, None),
    };
    let (host, repo) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.')
                || first.contains(':')
                || first.starts_with('[')
                || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        Some(_) => ("docker.io".to_string(), name.to_string()),
        None => ("docker.io".to_string(), format!("library/{name}")),
    };
    if !valid_host(&host) {
        return Err(bad(reference, &format!("invalid registry host \"{host}\"")));
    }
    if repo.is_empty() || repo.len() > 255 || !repo.split('/').all(valid_repo_component) {
        return Err(bad(
            reference,
            &format!(
                "invalid repository \"{repo}\" (lowercase letters, digits and . _ - separated by /)"
            ),
        ));
    }
    let tag = if tag.is_none() && digest.is_none() {
        Some("latest".to_string())
    } else {
        tag
    };
    Ok(Reference::Registry(RegistryRef {
        host,
        repo,
        tag,
        digest,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(s: &str) -> RegistryRef {
        match parse(s) {
            Ok(Reference::Registry(r)) => r,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn layouts() {
        assert_eq!(
            parse("oci:/tmp/img:latest"),
            Ok(Reference::Layout {
                dir: "/tmp/img".into(),
                tag: Some("latest".into())
            })
        );
        assert_eq!(
            parse("oci:rel/dir"),
            Ok(Reference::Layout {
                dir: "rel/dir".into(),
                tag: None
            })
        );
        assert_eq!(
            parse("oci-archive:/tmp/x.tar:v1.2"),
            Ok(Reference::Archive {
                file: "/tmp/x.tar".into(),
                tag: Some("v1.2".into())
            })
        );
        assert_eq!(
            parse("oci:/tmp/a:b/c"),
            Ok(Reference::Layout {
                dir: "/tmp/a:b/c".into(),
                tag: None
            })
        );
        assert!(parse("oci:").is_err());
        assert!(parse("oci-archive::tag").is_err());
    }

    #[test]
    fn registries() {
        let r = reg("127.0.0.1:5000/test/busy:1");
        assert_eq!(r.host, "127.0.0.1:5000");
        assert_eq!(r.repo, "test/busy");
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert!(is_loopback(&r.host));
        assert_eq!(r.host_name(), "127.0.0.1");

        let r = reg("busybox");
        assert_eq!(r.host, "docker.io");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.repo, "library/busybox");
        assert_eq!(r.manifest_ref(), "latest");

        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let r = reg(&format!("swr.example.com/team/app:v1@{d}"));
        assert_eq!(r.manifest_ref(), d);
        assert_eq!(r.tag.as_deref(), Some("v1"));

        let r = reg("localhost/app");
        assert_eq!(r.host, "localhost");
        assert!(is_loopback("localhost:80"));
        let r = reg("[::1]:5000/app:x");
        assert_eq!(r.host_name(), "[::1]");
        assert!(is_loopback(&r.host));
        assert!(!is_loopback("127.example.com:5000"));
        assert!(is_loopback("127.1.2.3"));
        let r = reg("docker://example.com/a/b");
        assert_eq!(r.repo, "a/b");
    }

    #[test]
    fn malformed() {
        for s in [
            "",
            "host.com/Repo",
            "host.com/repo:bad:tag",
            "host.com/repo:-x",
            "host.com/repo@sha256:1234",
            "host.com/repo@md5:1234",
            "host.com//repo",
            "host.com/repo/",
            "host.com:99999/repo",
            "host.com:/repo",
            "http://host.com/repo",
            "a b",
            "host.com/re..po",
            "-host.com/repo",
        ] {
            assert!(parse(s).is_err(), "{s:?} should be refused");
        }
    }
}
