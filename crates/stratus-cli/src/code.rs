//! Turning a local path into the code fields of a request.

use anyhow::Context;
use base64::Engine as _;
use std::path::Path;

/// `code_type`, `code_filename` and base64 `func_code.file` for a path: a directory is
/// zipped, a .zip/.jar is sent as is, any other single file becomes inline code.
pub fn from_path(path: &Path) -> anyhow::Result<(String, String, String)> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_dir() {
        let bytes =
            stratus_package::zip_dir(path).with_context(|| format!("zip {}", path.display()))?;
        return Ok(("zip".into(), "index.zip".into(), b64(&bytes)));
    }
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".zip") {
        Ok(("zip".into(), name, b64(&bytes)))
    } else if lower.ends_with(".jar") {
        Ok(("jar".into(), name, b64(&bytes)))
    } else {
        Ok(("inline".into(), name, b64(&bytes)))
    }
}

/// A progress reporter on stderr for bodies larger than 1 MB.
pub fn progress() -> impl FnMut(usize, usize) {
    let mut last = 0usize;
    move |sent, total| {
        if total <= 1024 * 1024 {
            return;
        }
        let pct = sent * 100 / total.max(1);
        if pct >= last + 5 || sent == total {
            last = pct;
            let filled = pct / 5;
            eprint!(
                "\rupload [{}{}] {pct:>3}% of {} KB",
                "#".repeat(filled),
                " ".repeat(20 - filled),
                total / 1024
            );
            if sent == total {
                eprintln!();
            }
        }
    }
}
