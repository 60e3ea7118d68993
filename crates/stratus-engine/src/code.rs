//! Turning a code upload (inline source, base64 zip/jar, or a package URL) into a checked
//! package and its `CodeInfo`.

use crate::error::DeployError;
use base64::Engine as _;
use std::io::Read;
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
            download(url, allowed_hosts)?
        }
        "Custom-Image-Swr" => {
            return Err(invalid(
                "code_type",
                "container-image functions are not supported by this server yet",
            ));
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

/// Unpacks a stored package into a directory with the platform limits.
pub fn unpack(bytes: &[u8], dest: &std::path::Path) -> anyhow::Result<()> {
    stratus_package::unpack(bytes, dest, &limits())?;
    Ok(())
}

fn decode(b64: &str) -> Result<Vec<u8>, DeployError> {
    // Base64 is 4/3 of the binary size; refuse before decoding a huge string.
    if b64.len() as u64 > CODE_PACKAGE_MAX / 3 * 4 + 8 {
        return Err(DeployError::TooLarge(format!(
            "the code package exceeds {CODE_PACKAGE_MAX} bytes"
        )));
    }
    let cleaned: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| invalid("func_code.file", format!("is not valid base64: {e}")))
}

fn download(url: &str, allowed_hosts: &[String]) -> Result<Vec<u8>, DeployError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| invalid("code_url", "must be an http:// or https:// URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
            .unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    if host.is_empty() {
        return Err(invalid("code_url", "has no host"));
    }
    if !allowed_hosts.is_empty() && !allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return Err(invalid(
            "code_url",
            format!("host {host:?} is not in the server's allowed code hosts"),
        ));
    }
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(60))
        .redirects(0)
        .build();
    let resp = agent
        .get(url)
        .call()
        .map_err(|e| invalid("code_url", format!("download failed: {e}")))?;
    let mut bytes = Vec::new();
    resp.into_reader()
        .take(CODE_PACKAGE_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid("code_url", format!("download failed: {e}")))?;
    if bytes.len() as u64 > CODE_PACKAGE_MAX {
        return Err(DeployError::TooLarge(format!(
            "the package at code_url exceeds {CODE_PACKAGE_MAX} bytes"
        )));
    }
    Ok(bytes)
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
        _ => return None,
    };
    stratus_package::zip_single(&name, body.as_bytes(), mode).ok()
}
