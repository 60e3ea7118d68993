//! Finding (and building) the `stratus` binary, and running it on a temporary data dir.

use crate::fixtures::Tools;
use anyhow::Context as _;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use stratus_client::{Client, Credentials};

const ACCESS_KEY: &str = "BENCHAK0000000000001";
const SECRET_KEY: &str = "BENCHSK000000000000000000000000000000001";
const PROJECT_ID: &str = "be0c0000000000000000000000000001";

/// Concurrent executions per project given to the server. The default (100, the
/// FunctionGraph quota) would throttle the concurrency-256 runs; a benchmark of speed
/// lifts it. Every other setting is the default.
pub const PROJECT_CONCURRENCY: usize = 1000;

/// The workspace root (this crate lives in `<root>/bench`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Finds the `stratus` binary next to this executable (same target dir and profile) and
/// runs `cargo build -p stratus` for that profile first, so the numbers are never those of
/// a stale build. `explicit` skips all of that.
pub fn locate(explicit: Option<PathBuf>, build: bool) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        anyhow::ensure!(p.is_file(), "--stratus-bin {} does not exist", p.display());
        return Ok(p);
    }
    let exe = std::env::current_exe().context("locate the benchmark executable")?;
    let profile_dir = exe
        .parent()
        .context("the benchmark executable has no directory")?
        .to_path_buf();
    let bin = profile_dir.join("stratus");
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("release")
        .to_string();
    if profile != "release" {
        eprintln!(
            "warning: the benchmark runs from a {profile:?} build; numbers are only meaningful with --release"
        );
    }
    if build {
        let target_dir = profile_dir
            .parent()
            .context("the profile directory has no parent")?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace_root())
            .args(["build", "--quiet", "-p", "stratus", "--bin", "stratus"])
            .env("CARGO_TARGET_DIR", target_dir);
        match profile.as_str() {
            "release" => {
                cmd.arg("--release");
            }
            "debug" => {}
            other => {
                cmd.args(["--profile", other]);
            }
        }
        eprint!("building stratus ({profile}) ... ");
        let t0 = Instant::now();
        let status = cmd.status().context("run cargo build -p stratus")?;
        anyhow::ensure!(status.success(), "cargo build -p stratus failed");
        eprintln!("done in {:.1} s", t0.elapsed().as_secs_f64());
    }
    anyhow::ensure!(
        bin.is_file(),
        "{} does not exist; build it with cargo build --release -p stratus",
        bin.display()
    );
    Ok(bin)
}

/// A running `stratus serve` on a temporary data directory; stopped (SIGTERM, which stops
/// its instances too) on drop.
pub struct Server {
    child: Option<Child>,
    watchdog: Option<std::sync::mpsc::Sender<()>>,
    stop_grace: Duration,
    dir: tempfile::TempDir,
    /// Listening address.
    pub addr: SocketAddr,
    /// The API gateway listener's address.
    pub gateway: SocketAddr,
    /// Root credentials.
    pub creds: Credentials,
}

impl Server {
    /// The server's data directory (its file system is the one the store fsyncs on).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// Starts the server and waits for its ready line. `extra` are more `serve` flags.
    /// If the server is still running after `lifetime`, it and everything it started are
    /// killed, so that a hung platform fails the scenario instead of hanging the run.
    /// `stop_grace` is how long `stop` waits after SIGTERM before it kills.
    pub fn start(
        bin: &Path,
        tools: &Tools,
        extra: &[String],
        lifetime: Duration,
        stop_grace: Duration,
    ) -> anyhow::Result<Server> {
        let dir = tempfile::Builder::new().prefix("stratus-bench").tempdir()?;
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--gateway-listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(extra)
            .env("STRATUS_ROOT_ACCESS_KEY", ACCESS_KEY)
            .env("STRATUS_ROOT_SECRET_KEY", SECRET_KEY)
            .env("STRATUS_PROJECT_ID", PROJECT_ID)
            .env(
                "STRATUS_PROJECT_CONCURRENCY",
                PROJECT_CONCURRENCY.to_string(),
            )
            .env(
                "STRATUS_LOG",
                std::env::var("STRATUS_BENCH_SERVER_LOG")
                    .unwrap_or_else(|_| "warn,stratus::serve=info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for var in [
            "STRATUS_LISTEN",
            "STRATUS_GATEWAY_LISTEN",
            "STRATUS_GATEWAY_URL",
            "STRATUS_DATA_DIR",
            "STRATUS_STORE",
            "STRATUS_IDLE_TIMEOUT",
            "STRATUS_QUEUE_WAIT_MS",
        ] {
            cmd.env_remove(var);
        }
        if let Some(p) = &tools.python {
            cmd.env("STRATUS_PYTHON", p);
        }
        if let Some(n) = &tools.node {
            cmd.env("STRATUS_NODE", n);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("start {}", bin.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                // The main ready line, then the gateway's.
                let line_t = line.trim();
                if let Some(url) = line_t
                    .strip_prefix("stratus listening on ")
                    .or_else(|| line_t.strip_prefix("stratus gateway listening on "))
                {
                    let _ = tx.send(url.to_string());
                }
                line.clear();
            }
        });
        let pid = child.id();
        let (dog_tx, dog_rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = dog_rx.recv_timeout(lifetime) {
                eprintln!(
                    "watchdog: stratus (pid {pid}) still running after {} s; killing it and its instances",
                    lifetime.as_secs()
                );
                kill_tree(pid);
            }
        });
        let mut server = Server {
            child: Some(child),
            watchdog: Some(dog_tx),
            stop_grace,
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            gateway: SocketAddr::from(([127, 0, 0, 1], 0)),
            creds: Credentials {
                endpoint: String::new(),
                project_id: PROJECT_ID.into(),
                access_key: ACCESS_KEY.into(),
                secret_key: SECRET_KEY.into(),
                region: "local".into(),
            },
        };
        let ready = || -> anyhow::Result<(String, SocketAddr)> {
            let url = match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(u) => u,
                Err(_) => anyhow::bail!(
                    "stratus serve did not print its ready lines within 30 s; its log:\n{}",
                    server.log_tail()
                ),
            };
            let hostport = url.trim_start_matches("http://").trim_end_matches('/');
            let addr = hostport
                .parse()
                .with_context(|| format!("ready line has an unexpected address {url:?}"))?;
            Ok((url, addr))
        };
        let (url, addr) = ready()?;
        let (_, gateway) = ready()?;
        server.addr = addr;
        server.gateway = gateway;
        server.creds.endpoint = url;
        Ok(server)
    }

    /// A blocking signing client (the crate the CLI uses).
    pub fn client(&self) -> Client {
        Client::new(self.creds.clone())
    }

    /// A signer for the async load generator.
    pub fn signer(&self) -> crate::client::Signer {
        crate::client::Signer::new(self.creds.clone(), self.addr)
    }

    /// The last lines of the server's stderr.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Warnings and errors the server logged (it runs with `STRATUS_LOG=warn`, plus info
    /// from its start-up code), minus the start-up notices about the sandbox.
    pub fn complaints(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        text.lines()
            .filter(|l| !l.contains("sandbox:"))
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .map(str::to_string)
            .collect()
    }

    /// The server's start-up line saying which sandbox backend runs the instances.
    pub fn sandbox(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        // "stratus::serve: sandbox: ..." (other modules' lines may name the crate
        // stratus_sandbox, so the module path is part of the match).
        text.lines().find_map(|l| {
            l.split_once(" sandbox: ")
                .filter(|(head, _)| head.contains("serve"))
                .map(|(_, rest)| rest.trim().to_string())
        })
    }

    /// Stops the server and waits for it (and thereby its instances) to exit.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // From here on the pid is ours to manage; the watchdog must not touch it.
        drop(self.watchdog.take());
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: kill(2) on our own child's pid; no memory is involved.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + self.stop_grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!(
            "warning: stratus did not stop within {} s of SIGTERM; killing it and its instances\n{}",
            self.stop_grace.as_secs(),
            self.log_tail()
        );
        kill_tree(child.id());
        let _ = child.wait();
    }
}

impl Server {
    /// Pid of the server process, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Every process under the server now: (pid, program name).
    pub fn descendants(&self) -> Vec<(u32, String)> {
        let Some(root) = self.pid() else {
            return Vec::new();
        };
        let all = parents();
        let mut tree = vec![root];
        let mut i = 0;
        while i < tree.len() {
            let p = tree[i];
            tree.extend(all.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
            i += 1;
        }
        tree[1..]
            .iter()
            .map(|pid| {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .map(|c| c.trim().to_string())
                    .unwrap_or_else(|_| "?".into());
                (*pid, comm)
            })
            .collect()
    }

    /// What runs under the server right now, by program name (`3 bootstrap, 1 python3`).
    pub fn process_summary(&self) -> String {
        let Some(root) = self.child.as_ref().map(Child::id) else {
            return "server stopped".into();
        };
        let all = parents();
        let mut tree = vec![root];
        let mut i = 0;
        while i < tree.len() {
            let p = tree[i];
            tree.extend(all.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
            i += 1;
        }
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for pid in &tree[1..] {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| c.trim().to_string())
                .unwrap_or_else(|_| "?".into());
            *counts.entry(comm).or_default() += 1;
        }
        if counts.is_empty() {
            return "none".into();
        }
        counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Parent pid of every process, from /proc.
fn parents() -> Vec<(u32, u32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect()
}

/// SIGKILLs `root` and all its descendants (found before any of them dies, so that none
/// is lost to re-parenting).
fn kill_tree(root: u32) {
    let all = parents();
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(all.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    for pid in tree {
        if let Ok(pid) = i32::try_from(pid) {
            // SAFETY: kill(2) on a process we started (directly or through the server).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        // For looking into a run: STRATUS_BENCH_KEEP_LOGS=DIR keeps every server's log.
        if let Some(keep) = std::env::var_os("STRATUS_BENCH_KEEP_LOGS") {
            let keep = std::path::PathBuf::from(keep);
            let name = self.dir.path().file_name().unwrap_or_default().to_owned();
            let _ = std::fs::create_dir_all(&keep);
            let _ = std::fs::copy(self.dir.path().join("server.log"), keep.join(name));
        }
    }
}
