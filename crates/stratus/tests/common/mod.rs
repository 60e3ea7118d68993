//! Test harness: starts the compiled `stratus` binary on port 0 in a temporary data
//! directory with fixed credentials, reads the ready line, and stops it on drop.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stratus_client::{Client, Credentials};

pub const AK: &str = "TESTAK00000000000001";
pub const SK: &str = "TESTSK0000000000000000000000000000000001";
pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// A running server.
pub struct Server {
    pub child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub endpoint: String,
    /// The API gateway listener (`http://127.0.0.1:PORT`).
    pub gateway: String,
    pub stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts a server with extra flags.
    pub fn start(args: &[&str]) -> Server {
        Self::start_in(tempfile::tempdir().unwrap(), args)
    }

    /// Starts a server on an existing data directory.
    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Server {
        Self::start_as(&[], Path::new(env!("CARGO_BIN_EXE_stratus")), dir, args)
    }

    /// Starts `binary` (a copy of the server) behind a `wrapper` command line (e.g.
    /// `setpriv --reuid=...`), on an existing data directory.
    pub fn start_as(
        wrapper: &[&str],
        binary: &Path,
        dir: tempfile::TempDir,
        args: &[&str],
    ) -> Server {
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--gateway-listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("STRATUS_ROOT_ACCESS_KEY", AK)
            .env("STRATUS_ROOT_SECRET_KEY", SK)
            .env("STRATUS_PROJECT_ID", PROJECT)
            // Tests exercise the normal start path unless they ask for the pre-heated
            // pool with `--prewarm N` (tests/preheat.rs): some find instances by the
            // variables in /proc/PID/environ, which a pooled instance does not have.
            .env("STRATUS_PREWARM", "0")
            .env(
                "STRATUS_LOG",
                std::env::var("STRATUS_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start stratus");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let err_buf = Arc::new(Mutex::new(String::new()));
        {
            let err_buf = err_buf.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(stderr);
                let mut line = String::new();
                while r.read_line(&mut line).unwrap_or(0) > 0 {
                    err_buf.lock().unwrap().push_str(&line);
                    line.clear();
                }
            });
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(addr) = line.trim().strip_prefix("stratus listening on ") {
                    let _ = tx.send(addr.to_string());
                }
                if let Some(addr) = line.trim().strip_prefix("stratus gateway listening on ") {
                    let _ = tx.send(addr.to_string());
                }
                line.clear();
            }
        });
        // The main ready line comes first, the gateway's right after it.
        let mut ready = || match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(e) => e,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not start: {}", err_buf.lock().unwrap());
            }
        };
        let endpoint = ready();
        let gateway = ready();
        Server {
            child: Some(child),
            dir,
            endpoint,
            gateway,
            stderr: err_buf,
        }
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            endpoint: self.endpoint.clone(),
            project_id: PROJECT.into(),
            access_key: AK.into(),
            secret_key: SK.into(),
            region: "local".into(),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(self.credentials())
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the CLI against this server; returns (success, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_stratus"))
            .args(args)
            .env("STRATUS_DATA_DIR", self.dir.path())
            .env_remove("STRATUS_ENDPOINT")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    /// Stops with SIGTERM and waits; returns the data directory for a restart.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.terminate();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    /// Kills with SIGKILL (crash).
    pub fn kill9(mut self) -> tempfile::TempDir {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: plain kill(2) on our own child.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
        if std::thread::panicking() {
            // The server's own log is what explains a failed test.
            let log = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
            eprintln!("---- server log ----\n{log}---- end of server log ----");
        }
    }
}

/// A zip with the given files (name, content, mode).
pub fn zip(files: &[(&str, &str, u32)]) -> Vec<u8> {
    let v: Vec<(String, Vec<u8>, u32)> = files
        .iter()
        .map(|(n, c, m)| (n.to_string(), c.as_bytes().to_vec(), *m))
        .collect();
    stratus_package::zip_files(&v).unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Creates a function from files; returns its config.
pub fn create(
    c: &Client,
    name: &str,
    runtime: &str,
    handler: &str,
    files: &[(&str, &str, u32)],
) -> stratus_api_types::FunctionConfig {
    let body = stratus_api_types::FunctionBody {
        func_name: Some(name.into()),
        package: Some("default".into()),
        runtime: Some(runtime.into()),
        handler: Some(handler.into()),
        memory_size: Some(128),
        timeout: Some(10),
        code_type: Some("zip".into()),
        code_filename: Some("index.zip".into()),
        func_code: Some(stratus_api_types::FuncCode {
            file: Some(b64(&zip(files))),
            link: None,
        }),
        ..Default::default()
    };
    c.create_function(&body, |_, _| {}).unwrap()
}

/// Polls `cond` until true or the deadline.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// Sends a raw HTTP/1.1 request and returns (status, body).
pub fn raw_http(endpoint: &str, request: &str) -> (u16, String) {
    use std::io::Write;
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A zip written without any checks, for hostile inputs: mode 0o120777 makes a symlink
/// whose target is the content.
pub fn raw_zip(files: &[(&str, &str, u32)]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content, mode) in files {
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode & 0o777);
        if mode & 0o170000 == 0o120000 {
            w.add_symlink(*name, *content, opts).unwrap();
        } else {
            w.start_file(*name, opts).unwrap();
            w.write_all(content.as_bytes()).unwrap();
        }
    }
    w.finish().unwrap().into_inner()
}

/// Running the server as uid 65534 (nobody) for the user-namespace mode tests.
pub mod nobody {
    use super::{wait_until, Server};
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::Duration;

    pub const NOBODY: u32 = 65534;
    pub const AS_NOBODY: &[&str] = &[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];

    /// Why the test cannot run here, if it cannot.
    pub fn skip_reason() -> Option<String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Some("needs root to start the server as uid 65534".into());
        }
        let probe = Command::new(AS_NOBODY[0])
            .args(&AS_NOBODY[1..])
            .args(["unshare", "-Urmpf", "--mount-proc", "true"])
            .output();
        match probe {
            Err(e) => Some(format!("setpriv/unshare could not run: {e}")),
            Ok(o) if !o.status.success() => Some(format!(
                "this host does not allow unprivileged user namespaces: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Ok(_) => None,
        }
    }

    pub fn chown(p: &Path, uid: u32) {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: chown(2) on a valid C string.
        assert_eq!(
            unsafe { libc::chown(c.as_ptr(), uid, uid) },
            0,
            "chown {p:?}"
        );
    }

    /// A copy of the server binary that nobody can run (the build tree may not be
    /// reachable for other users); `None` when the temporary directory is not reachable
    /// by nobody either (a private TMPDIR).
    pub fn binary_for_nobody(dir: &Path) -> Option<PathBuf> {
        let bin = dir.join("stratus");
        std::fs::copy(env!("CARGO_BIN_EXE_stratus"), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ok = Command::new(AS_NOBODY[0])
            .args(&AS_NOBODY[1..])
            .arg("test")
            .arg("-x")
            .arg(&bin)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(bin)
    }

    /// The binary copy, or the reason to skip.
    pub fn prepare(test: &str, dir: &Path) -> Option<PathBuf> {
        if let Some(why) = skip_reason() {
            eprintln!("SKIP {test}: {why}");
            return None;
        }
        let bin = binary_for_nobody(dir);
        if bin.is_none() {
            eprintln!(
                "SKIP {test}: {} is not reachable by uid 65534 (set TMPDIR to a directory it can enter)",
                dir.display()
            );
        }
        bin
    }

    /// A data directory the server (as nobody) owns.
    pub fn data_dir_for_nobody() -> tempfile::TempDir {
        let data = tempfile::tempdir().unwrap();
        std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        chown(data.path(), NOBODY);
        data
    }

    /// Starts the server as nobody and waits for the user-namespace mode line.
    pub fn start_nobody(bin: &Path, data: tempfile::TempDir, extra: &[&str]) -> Server {
        let mut args = vec!["--sandbox", "isolated"];
        args.extend_from_slice(extra);
        let s = Server::start_as(AS_NOBODY, bin, data, &args);
        assert!(
            wait_until(Duration::from_secs(5), || s
                .stderr
                .lock()
                .unwrap()
                .contains("sandbox: isolated (user namespaces)")),
            "{}",
            s.stderr.lock().unwrap()
        );
        s
    }
}
