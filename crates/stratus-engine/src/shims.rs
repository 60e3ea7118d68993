//! The language shims shipped inside the binary, written out once per content version.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const PYTHON: &str = include_str!("../../../runtimes/python/server.py");
const NODE: &str = include_str!("../../../runtimes/nodejs/server.js");

/// Where the shims are on disk.
#[derive(Debug, Clone)]
pub struct Shims {
    /// `RUNTIME_ROOT`.
    pub root: PathBuf,
}

/// Writes the shims under `<data>/runtimes/<content hash>/` unless already there.
pub fn write_shims(data_dir: &Path) -> anyhow::Result<Shims> {
    let mut h = Sha256::new();
    h.update(PYTHON);
    h.update(NODE);
    let version = &hex::encode(h.finalize())[..16];
    let root = data_dir.join("runtimes").join(version);
    if !root.join(".complete").exists() {
        let tmp = data_dir
            .join("runtimes")
            .join(format!(".tmp-{version}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("python"))?;
        std::fs::create_dir_all(tmp.join("nodejs"))?;
        std::fs::write(tmp.join("python/server.py"), PYTHON)?;
        std::fs::write(tmp.join("nodejs/server.js"), NODE)?;
        std::fs::write(tmp.join(".complete"), version)?;
        if std::fs::rename(&tmp, &root).is_err() {
            // Another server wrote it first; theirs is identical.
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    Ok(Shims { root })
}
