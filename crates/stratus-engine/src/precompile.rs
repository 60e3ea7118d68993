//! Cached bytecode for the Python files of function code, written on a background
//! thread once per code directory and server run.
//!
//! The isolated sandbox mounts code read-only, so Python cannot write `__pycache__` and
//! would compile every module of the package at every cold start. The host writes the
//! cache instead, with the interpreter the instances run (its version tag is in the file
//! names). Python checks each cached file against its source's size and modification
//! time and compiles the source when they differ, so a missing, stale or half-written
//! cache only makes a start slower. Code directories never change once unpacked.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest a compile of one directory may run before it is killed.
const TIMEOUT: Duration = Duration::from_secs(120);
/// Address space a compile may use: a hostile package cannot exhaust the host's memory.
const MEMORY_LIMIT: u64 = 2 << 30;

/// Queues directories for the compile thread; each is queued once per server run.
pub struct Precompiler {
    tx: Option<Mutex<mpsc::Sender<PathBuf>>>,
    seen: Mutex<HashSet<PathBuf>>,
}

impl Precompiler {
    /// Starts the compile thread for `python` (none: every `queue` is a no-op).
    pub fn start(python: Option<PathBuf>) -> Precompiler {
        let tx = python.and_then(|python| {
            let (tx, rx) = mpsc::channel::<PathBuf>();
            let spawned = std::thread::Builder::new()
                .name("code-precompile".into())
                .spawn(move || {
                    for dir in rx {
                        compile_dir(&python, &dir);
                    }
                });
            match spawned {
                Ok(_) => Some(Mutex::new(tx)),
                Err(e) => {
                    tracing::warn!("code precompile thread: {e}; Python code is compiled at load");
                    None
                }
            }
        });
        Precompiler {
            tx,
            seen: Mutex::new(HashSet::new()),
        }
    }

    /// Queues `dir` when it holds Python files and was not queued before.
    pub fn queue(&self, dir: &Path) {
        let Some(tx) = &self.tx else { return };
        if !self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dir.to_path_buf())
        {
            return;
        }
        if has_python(dir, 0) {
            let _ = tx
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .send(dir.to_path_buf());
        }
    }
}

/// Whether `dir` or a directory below it holds a `.py` file (symlinks not followed).
fn has_python(dir: &Path, depth: u32) -> bool {
    if depth > 32 {
        return false;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        let Ok(kind) = e.file_type() else {
            return false;
        };
        if kind.is_dir() {
            has_python(&e.path(), depth + 1)
        } else {
            kind.is_file() && e.path().extension().is_some_and(|x| x == "py")
        }
    })
}

fn compile_dir(python: &Path, dir: &Path) {
    use std::os::unix::process::CommandExt;
    let started = Instant::now();
    let mut cmd = std::process::Command::new(python);
    // -I: no PYTHON* variables, no user site; -q: list only errors (files that do not
    // compile stay as they are: the instance reports them at load, as without a cache).
    cmd.args(["-I", "-m", "compileall", "-q"])
        .arg(dir)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: the closure only makes async-signal-safe calls (setrlimit, setpriority,
    // umask) on values it owns.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            // Lowest CPU priority: a cold start running beside it keeps the CPU.
            libc::setpriority(libc::PRIO_PROCESS, 0, 19);
            // Instances run as another user: the cache must be readable by all.
            libc::umask(0o022);
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!("precompile {}: {e}", dir.display());
            return;
        }
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    tracing::debug!(
        "precompiled {} in {:?} ({})",
        dir.display(),
        started.elapsed(),
        status.map_or_else(|| "killed or lost".to_string(), |s| s.to_string())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> Option<PathBuf> {
        ["/usr/bin/python3", "/usr/local/bin/python3"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    }

    fn wait_for(p: &Path) -> bool {
        for _ in 0..500 {
            if p.exists() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    #[test]
    fn python_files_get_a_readable_cache_and_broken_ones_none() {
        let Some(py) = python() else {
            eprintln!("SKIP: no python3 to compile with");
            return;
        };
        let tmp = tempfile::tempdir().unwrap();
        let code = tmp.path().join("code");
        std::fs::create_dir_all(code.join("pkg")).unwrap();
        std::fs::write(code.join("index.py"), "def handler(e, c):\n    return 1\n").unwrap();
        std::fs::write(code.join("pkg/mod.py"), "X = 2\n").unwrap();
        std::fs::write(code.join("broken.py"), "def (:\n").unwrap();
        let p = Precompiler::start(Some(py));
        p.queue(&code);
        let cache = code.join("__pycache__");
        assert!(
            wait_for(&code.join("pkg/__pycache__")),
            "no cache below pkg/"
        );
        assert!(wait_for(&cache));
        // The thread handles one directory at a time: once a second queued directory
        // has its cache, the first is finished.
        let other = tmp.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("a.py"), "A = 1\n").unwrap();
        p.queue(&other);
        assert!(wait_for(&other.join("__pycache__")));
        let names: Vec<String> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().any(|n| n.starts_with("index.")), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with("broken.")), "{names:?}");
        use std::os::unix::fs::PermissionsExt;
        for n in &names {
            let mode = std::fs::metadata(cache.join(n))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o044, 0o044, "{n} is not readable by all: {mode:o}");
        }
    }

    #[test]
    fn directories_without_python_are_not_queued() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("index.js"), "exports.handler = 1;\n").unwrap();
        std::fs::create_dir(tmp.path().join("lib")).unwrap();
        assert!(!has_python(tmp.path(), 0));
        std::fs::write(tmp.path().join("lib/x.py"), "").unwrap();
        assert!(has_python(tmp.path(), 0));
    }
}
