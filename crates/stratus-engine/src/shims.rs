//! The language shims shipped inside the binary, written out once per content version.
//! The Java shim is shipped as source and compiled with the host `javac` on first use.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const PYTHON_ENTRY: &str = include_str!("../../../runtimes/python/server.py");
const PYTHON: &str = include_str!("../../../runtimes/python/_stratus_runtime.py");
/// The Python shim module that the entry script imports.
const PYTHON_MODULE: &str = "python/_stratus_runtime.py";
const NODE: &str = include_str!("../../../runtimes/nodejs/server.js");

include!(concat!(env!("OUT_DIR"), "/java_sources.rs"));

/// The Java shim's main class.
pub(crate) const JAVA_MAIN: &str = "com.huawei.services.runtime.stratus.Bootstrap";
/// Where the compiled Java shim lives, relative to the shims root.
pub(crate) const JAVA_CLASSES: &str = "java/classes";

/// Where the shims are on disk.
#[derive(Debug, Clone)]
pub struct Shims {
    /// `RUNTIME_ROOT`.
    pub root: PathBuf,
}

/// Writes the shims under `<data>/runtimes/<content hash>/` unless already there.
pub fn write_shims(data_dir: &Path) -> anyhow::Result<Shims> {
    let mut h = Sha256::new();
    h.update(PYTHON_ENTRY);
    h.update(PYTHON);
    h.update(NODE);
    for (path, text) in JAVA_SOURCES {
        h.update(path);
        h.update(text);
    }
    let version = &hex::encode(h.finalize())[..16];
    let root = data_dir.join("runtimes").join(version);
    if !root.join(".complete").exists() {
        let tmp = data_dir
            .join("runtimes")
            .join(format!(".tmp-{version}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("python"))?;
        std::fs::create_dir_all(tmp.join("nodejs"))?;
        std::fs::write(tmp.join("python/server.py"), PYTHON_ENTRY)?;
        std::fs::write(tmp.join(PYTHON_MODULE), PYTHON)?;
        std::fs::write(tmp.join("nodejs/server.js"), NODE)?;
        for (path, text) in JAVA_SOURCES {
            let p = tmp.join("java/src").join(path);
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(p, text)?;
        }
        std::fs::write(tmp.join(".complete"), version)?;
        if std::fs::rename(&tmp, &root).is_err() {
            // Another server wrote it first; theirs is identical.
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    Ok(Shims { root })
}

/// Writes the cached bytecode of the Python shim for `python`, on a background thread.
/// Instances may not be able to write `__pycache__` themselves (the isolated sandbox
/// mounts the shims read-only), and compiling the shim costs every cold start ~6 ms.
/// Python checks the cache against the source and the interpreter's version tag, so a
/// missing or stale file only makes a start slower.
pub fn precompile_python(shims: &Shims, python: &Path) {
    let module = shims.root.join(PYTHON_MODULE);
    let python = python.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("python-precompile".into())
        .spawn(move || {
            let out = std::process::Command::new(&python)
                .args([
                    "-c",
                    "import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)",
                ])
                .arg(&module)
                .env_clear()
                .stdin(std::process::Stdio::null())
                .output();
            match out {
                Ok(o) if o.status.success() => {}
                Ok(o) => tracing::info!(
                    "python shim not precompiled for {} ({}): cold starts compile it",
                    python.display(),
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
                Err(e) => tracing::info!(
                    "python shim not precompiled for {} ({e}): cold starts compile it",
                    python.display()
                ),
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("python shim precompile thread: {e}");
    }
}

/// The `javac` next to a Java launcher (a JDK), else the first one on `PATH`.
pub(crate) fn javac_for(java: &Path) -> Option<PathBuf> {
    let sibling = java.with_file_name("javac");
    if sibling.is_file() {
        return Some(sibling);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("javac"))
        .find(|p| p.is_file())
}

/// Compiles the Java shim into `<root>/java/classes` unless that was done already (the
/// root is per content hash, so one compile per shim version). Blocking; callers run it
/// off the async threads. Concurrent callers in this process wait for one compile.
pub(crate) fn ensure_java(shims: &Shims, java: &Path) -> Result<PathBuf, String> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let classes = shims.root.join(JAVA_CLASSES);
    let done = shims.root.join("java/.compiled");
    if done.exists() {
        return Ok(classes);
    }
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if done.exists() {
        return Ok(classes);
    }
    let javac = javac_for(java).ok_or_else(|| {
        format!(
            "no javac found next to {} or on PATH: a JDK is needed to build the Java runtime",
            java.display()
        )
    })?;
    let src = shims.root.join("java/src");
    let tmp = shims
        .root
        .join(format!("java/.classes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("create {}: {e}", tmp.display()))?;
    let files: Vec<PathBuf> = JAVA_SOURCES.iter().map(|(p, _)| src.join(p)).collect();
    let out = std::process::Command::new(&javac)
        .args([
            "--release",
            "8",
            "-nowarn",
            "-Xlint:-options",
            "-encoding",
            "UTF-8",
            "-d",
        ])
        .arg(&tmp)
        .args(&files)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("run {}: {e}", javac.display()))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(format!(
            "compiling the Java runtime with {} failed: {}",
            javac.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    if let Err(e) = std::fs::rename(&tmp, &classes) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another server on the same data directory may have installed it first.
        if !classes.join("com").is_dir() {
            return Err(format!("install Java classes: {e}"));
        }
    }
    std::fs::write(&done, "").map_err(|e| format!("mark Java classes: {e}"))?;
    Ok(classes)
}
