//! Turning a code upload (inline source, base64 zip/jar, or a package URL) into a checked
//! package and its `CodeInfo`.

use crate::error::DeployError;
use base64::Engine as _;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use stratus_types::limits::{CODE_ENTRIES_MAX, CODE_PACKAGE_MAX, CODE_UNPACKED_MAX};
use stratus_types::{CodeInfo, Invalid, Runtime, RuntimeKind};

/// Code as the API sends it.
#[derive(Debug, Clone, Default)]
pub struct CodeUpload {
    /// `inline`, `zip`, `jar`, `obs` or `Custom-Image-Swr`.
    pub code_type: Option<String>,
    /// Package file name.
    pub code_filename: Option<String>,
    /// Package URL (`obs`).
    pub code_url: Option<String>,
    /// Base64 of the package, or of the source for inline code.
    pub file: Option<String>,
    /// Dependency versions to reference from now on (update code only; a create takes
    /// them from the configuration). `None` keeps the current ones.
    pub depend_version_list: Option<Vec<String>>,
}

/// A checked package ready to store.
pub struct Package {
    /// The zip (or jar) bytes.
    pub bytes: Vec<u8>,
    /// Its description (digests filled in, `sha256` set by the caller after storing).
    pub info: CodeInfo,
}

fn invalid(field: &str, msg: impl Into<String>) -> DeployError {
    DeployError::Invalid(Invalid::field(field, msg))
}

fn limits() -> stratus_package::Limits {
    stratus_package::Limits {
        max_unpacked_bytes: CODE_UNPACKED_MAX,
        max_entries: CODE_ENTRIES_MAX,
        ..stratus_package::Limits::default()
    }
}

/// Decodes and checks an upload for a runtime and handler. `allowed_hosts` limits
/// package URLs (empty allows any).
pub fn prepare(
    runtime: &Runtime,
    handler: &str,
    upload: &CodeUpload,
    allowed_hosts: &[String],
) -> Result<Package, DeployError> {
    let code_type = upload.code_type.clone().unwrap_or_else(|| "zip".into());
    let bytes = match code_type.as_str() {
        "inline" => {
            if !runtime.allows_inline() {
                return Err(invalid(
                    "code_type",
                    format!(
                        "inline code is not supported for {}; upload a zip",
                        runtime.id()
                    ),
                ));
            }
            let source = decode(upload.file.as_deref().unwrap_or(""))?;
            let name = runtime.inline_file_name(handler);
            let mode = if name == "bootstrap" { 0o755 } else { 0o644 };
            stratus_package::zip_single(&name, &source, mode).map_err(anyhow::Error::from)?
        }
        "zip" | "jar" => {
            if code_type == "jar" && runtime.kind() != RuntimeKind::Java {
                return Err(invalid(
                    "code_type",
                    "jar packages are only accepted for Java runtimes",
                ));
            }
            let Some(file) = upload.file.as_deref().filter(|f| !f.is_empty()) else {
                return Err(invalid(
                    "func_code.file",
                    "is required for zip and jar code: base64 of the package",
                ));
            };
            decode(file)?
        }
        "obs" => {
            let Some(url) = upload.code_url.as_deref().filter(|u| !u.is_empty()) else {
                return Err(invalid("code_url", "is required when code_type is obs"));
            };
            download(url, allowed_hosts, "code_url", CODE_PACKAGE_MAX)?
        }
        "Custom-Image-Swr" => {
            if runtime.kind() != RuntimeKind::CustomImage {
                return Err(invalid(
                    "code_type",
                    format!(
                        "Custom-Image-Swr is only for the runtime \"Custom Image\" (not {})",
                        runtime.id()
                    ),
                ));
            }
            image_placeholder()
        }
        other => {
            return Err(invalid(
                "code_type",
                format!("{other:?} is not one of inline, zip, jar, obs, Custom-Image-Swr"),
            ));
        }
    };
    if bytes.len() as u64 > CODE_PACKAGE_MAX {
        return Err(DeployError::TooLarge(format!(
            "the code package is {} bytes; the limit is {CODE_PACKAGE_MAX} bytes",
            bytes.len()
        )));
    }
    stratus_package::inspect(&bytes, &limits())
        .map_err(|e| invalid("func_code.file", format!("bad code package: {e}")))?;
    let filename = match upload.code_filename.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => f.to_string(),
        None if code_type == "jar" => "index.jar".into(),
        None => "index.zip".into(),
    };
    Ok(Package {
        info: CodeInfo {
            code_type,
            code_filename: filename,
            code_url: upload.code_url.clone().unwrap_or_default(),
            sha256: String::new(),
            sha512: stratus_package::sha512_hex(&bytes),
            size: bytes.len() as u64,
        },
        bytes,
    })
}

/// The package stored for a container-image function: the code is the image, so this
/// only says so (every function has a package blob).
fn image_placeholder() -> Vec<u8> {
    stratus_package::zip_single(
        "IMAGE.txt",
        b"This function runs a container image; see custom_image.image.\n",
        0o644,
    )
    .unwrap_or_default()
}

/// Unpacks a stored package into a directory with the platform limits.
pub fn unpack(bytes: &[u8], dest: &std::path::Path) -> anyhow::Result<()> {
    stratus_package::unpack(bytes, dest, &limits())?;
    Ok(())
}

/// Limits of a dependency package: like code, but up to 30,000 files (guide 14.4.3)
/// plus the directories that hold them.
pub(crate) fn dependency_limits() -> stratus_package::Limits {
    stratus_package::Limits {
        max_unpacked_bytes: CODE_UNPACKED_MAX,
        max_entries: 2 * stratus_types::dependency::FILES_MAX,
        ..stratus_package::Limits::default()
    }
}

fn decode(b64: &str) -> Result<Vec<u8>, DeployError> {
    decode_limited(b64, "func_code.file", CODE_PACKAGE_MAX)
}

/// Decodes the base64 in `field` into at most `max` bytes.
pub(crate) fn decode_limited(b64: &str, field: &str, max: u64) -> Result<Vec<u8>, DeployError> {
    // Base64 is 4/3 of the binary size; refuse before decoding a huge string.
    let too_large = || DeployError::TooLarge(format!("the package in {field} exceeds {max} bytes"));
    if b64.len() as u64 > max / 3 * 4 + 8 {
        return Err(too_large());
    }
    let cleaned: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| invalid(field, format!("is not valid base64: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Fetches a package of at most `max` bytes from the URL in `field` (`code_url`, or
/// `depend_link` for dependencies). The URL is parsed as a browser would (WHATWG), so
/// the host checked is the host connected to. With an allow-list, only its hosts are
/// reachable; without one, names resolving to loopback, link-local (cloud metadata) or
/// unspecified addresses are refused. The connection goes to the addresses checked, so a
/// second DNS answer cannot swap them.
pub(crate) fn download(
    raw: &str,
    allowed_hosts: &[String],
    field: &str,
    max: u64,
) -> Result<Vec<u8>, DeployError> {
    let url =
        url::Url::parse(raw).map_err(|e| invalid(field, format!("is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(field, "must be an http:// or https:// URL"));
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        _ => return Err(invalid(field, "has no host")),
    };
    let allowed = !allowed_hosts.is_empty();
    if allowed && !allowed_hosts.iter().any(|h| host_matches(h, &host)) {
        return Err(invalid(
            field,
            format!("host {host:?} is not in the server's allowed code hosts (--code-url-hosts)"),
        ));
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        _ => (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| invalid(field, format!("cannot resolve host {host:?}: {e}")))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(invalid(field, format!("host {host:?} has no address")));
    }
    if !allowed {
        for a in &addrs {
            if let Some(kind) = internal_address(a.ip()) {
                return Err(invalid(
                    field,
                    format!(
                        "host {host:?} resolves to {}, a {kind} address; packages are not \
                         downloaded from loopback, link-local or unspecified addresses unless \
                         the host is listed in the server's --code-url-hosts",
                        a.ip()
                    ),
                ));
            }
        }
    }
    let pinned = addrs.clone();
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(60))
        .redirects(0)
        .resolver(move |_: &str| Ok(pinned.clone()))
        .build();
    let resp = agent
        .request_url("GET", &url)
        .call()
        .map_err(|e| invalid(field, format!("download failed: {e}")))?;
    if !(200..300).contains(&resp.status()) {
        return Err(invalid(
            field,
            format!(
                "download failed: the server answered HTTP {} (redirects are not followed)",
                resp.status()
            ),
        ));
    }
    let too_large = || DeployError::TooLarge(format!("the package at {field} exceeds {max} bytes"));
    if resp
        .header("content-length")
        .and_then(|n| n.trim().parse::<u64>().ok())
        .is_some_and(|n| n > max)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    resp.into_reader()
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid(field, format!("download failed: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Whether an allow-list entry names `host` (as `Url` normalises it: lower case, IPv6
/// without brackets).
fn host_matches(entry: &str, host: &str) -> bool {
    let entry = entry.trim();
    let entry = entry
        .strip_prefix('[')
        .and_then(|e| e.strip_suffix(']'))
        .unwrap_or(entry);
    match (entry.parse::<IpAddr>(), host.parse::<IpAddr>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => entry
            .trim_end_matches('.')
            .eq_ignore_ascii_case(host.trim_end_matches('.')),
    }
}

/// The kind of address a download without an allow-list may not reach, if it is one.
fn internal_address(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(a) if a.is_loopback() => Some("loopback"),
        IpAddr::V4(a) if a.is_link_local() => Some("link-local"),
        IpAddr::V4(a) if a.is_unspecified() || a.octets()[0] == 0 => Some("unspecified"),
        IpAddr::V6(a) if a.is_loopback() => Some("loopback"),
        IpAddr::V6(a) if a.is_unspecified() => Some("unspecified"),
        IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => Some("link-local"),
        _ => None,
    }
}

/// A small working package for a runtime, used when a function is created without code.
pub fn default_code(runtime: &Runtime, handler: &str) -> Option<Vec<u8>> {
    let (name, body, mode) = match runtime.kind() {
        RuntimeKind::Python => (
            runtime.inline_file_name(handler),
            format!(
                "import json\n\n\ndef {}(event, context):\n    return {{\"statusCode\": 200, \"body\": json.dumps(event)}}\n",
                handler.rsplit_once('.').map_or("handler", |(_, f)| f)
            ),
            0o644,
        ),
        RuntimeKind::NodeJs => (
            runtime.inline_file_name(handler),
            format!(
                "exports.{} = async (event, context) => ({{ statusCode: 200, body: JSON.stringify(event) }});\n",
                handler.rsplit_once('.').map_or("handler", |(_, f)| f)
            ),
            0o644,
        ),
        RuntimeKind::CustomImage => return Some(image_placeholder()),
        _ => return None,
    };
    stratus_package::zip_single(&name, body.as_bytes(), mode).ok()
}

/// What an export zip holds: the configuration (`function.json`) and the code package.
pub struct ExportContents {
    /// `function.json` as exported (the get-config JSON).
    pub config: Vec<u8>,
    /// The code package (`<name>.zip`).
    pub code: Vec<u8>,
    /// Its file name.
    pub code_filename: String,
}

/// Reads an export zip (as `fn export` writes it) with the same checks as any package:
/// unpacked into `scratch` (removed afterwards), then its two files are read.
pub fn read_export(bytes: &[u8], scratch: &std::path::Path) -> Result<ExportContents, DeployError> {
    let limits = stratus_package::Limits {
        max_unpacked_bytes: CODE_PACKAGE_MAX + 1024 * 1024,
        max_entries: 16,
        ..stratus_package::Limits::default()
    };
    let result = (|| {
        stratus_package::unpack(bytes, scratch, &limits)
            .map_err(|e| invalid("file_code", format!("not a function export: {e}")))?;
        let mut config = None;
        let mut code = None;
        for entry in std::fs::read_dir(scratch).map_err(anyhow::Error::from)? {
            let entry = entry.map_err(anyhow::Error::from)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
            if !is_file {
                continue;
            }
            if name == "function.json" {
                config = Some(std::fs::read(entry.path()).map_err(anyhow::Error::from)?);
            } else if name.ends_with(".zip") || name.ends_with(".jar") {
                if code.is_some() {
                    return Err(invalid(
                        "file_code",
                        "the export holds more than one code package",
                    ));
                }
                code = Some((
                    name,
                    std::fs::read(entry.path()).map_err(anyhow::Error::from)?,
                ));
            }
        }
        let config = config.ok_or_else(|| {
            invalid(
                "file_code",
                "the export has no function.json (export it with its configuration)",
            )
        })?;
        let (code_filename, code) = code.ok_or_else(|| {
            invalid(
                "file_code",
                "the export has no code package (export it with its code)",
            )
        })?;
        Ok(ExportContents {
            config,
            code,
            code_filename,
        })
    })();
    let _ = std::fs::remove_dir_all(scratch);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(url: &str, hosts: &[&str]) -> String {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        match download(url, &hosts, "code_url", CODE_PACKAGE_MAX) {
            Err(DeployError::Invalid(i)) if i.field == "code_url" => i.message,
            Err(e) => format!("other error: {e}"),
            Ok(_) => "downloaded".into(),
        }
    }

    #[test]
    fn the_allow_list_checks_the_host_connected_to() {
        // A backslash ends the authority for http(s): the host is evil.example, not the
        // allowed name after the '@'.
        let msg = refusal(
            "http://evil.example\\@allowed.example/p.zip",
            &["allowed.example"],
        );
        assert!(msg.contains("\"evil.example\" is not in"), "{msg}");
        let msg = refusal("http://user@evil.example/p.zip", &["allowed.example"]);
        assert!(msg.contains("\"evil.example\" is not in"), "{msg}");
        let msg = refusal("http://EVIL.example:8080/", &["allowed.example"]);
        assert!(msg.contains("not in"), "{msg}");
        for bad in [
            "ftp://allowed.example/p.zip",
            "file:///etc/passwd",
            "not a url",
            "http://",
        ] {
            let msg = refusal(bad, &["allowed.example"]);
            assert!(
                !msg.contains("downloaded") && !msg.starts_with("other"),
                "{bad}: {msg}"
            );
        }
        assert!(host_matches("Allowed.Example", "allowed.example"));
        assert!(host_matches("[::1]", "::1"));
        assert!(host_matches("127.0.0.1", "127.0.0.1"));
        assert!(!host_matches("127.0.0.1", "127.0.0.2"));
    }

    #[test]
    fn internal_addresses_are_refused_without_an_allow_list() {
        for (url, kind) in [
            ("http://127.0.0.1:9/p.zip", "loopback"),
            ("http://127.1.2.3/p.zip", "loopback"),
            ("http://2130706433/p.zip", "loopback"),
            ("http://0x7f.1/p.zip", "loopback"),
            ("http://[::1]/p.zip", "loopback"),
            ("http://[::ffff:127.0.0.1]/p.zip", "loopback"),
            ("http://localhost/p.zip", "loopback"),
            ("http://169.254.169.254/latest/meta-data/", "link-local"),
            ("http://[fe80::1]/p.zip", "link-local"),
            ("http://0.0.0.0/p.zip", "unspecified"),
            ("http://[::]/p.zip", "unspecified"),
        ] {
            let msg = refusal(url, &[]);
            assert!(msg.contains(&format!("a {kind} address")), "{url}: {msg}");
        }
        assert_eq!(
            internal_address("10.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]))),
            None
        );
        assert_eq!(
            internal_address("8.8.8.8".parse().unwrap_or(IpAddr::from([0; 4]))),
            None
        );
    }
}
