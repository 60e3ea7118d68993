//! Engine settings, resolved by the binary from flags and environment.

use std::path::PathBuf;
use std::time::Duration;

/// Settings of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Data directory (code, runtimes, instance directories).
    pub data_dir: PathBuf,
    /// Region name used in URNs.
    pub region: String,
    /// Python interpreter for the Python runtimes.
    pub python: PathBuf,
    /// Node.js executable for the Node.js runtimes.
    pub node: PathBuf,
    /// Java launcher for Java runtimes, when one is installed.
    pub java: Option<PathBuf>,
    /// Idle time after which an instance is released.
    pub idle_timeout: Duration,
    /// How long a request waits for a free slot before it is throttled.
    pub queue_wait: Duration,
    /// Concurrent executions per project.
    pub project_concurrency: usize,
    /// Functions per project.
    pub max_functions: usize,
    /// Hosts `code_url` may download from; empty allows any host.
    pub code_url_hosts: Vec<String>,
    /// How long log lines are kept.
    pub log_retention: Duration,
    /// Log lines kept per function (the newest); older ones are pruned.
    pub log_max_lines: u64,
    /// Whether instances get outbound network access (unless a function turns it off).
    pub network: bool,
    /// Host directories under which functions may mount shared directories.
    pub mount_roots: Vec<PathBuf>,
    /// Asynchronous requests run at once, server-wide: the share of capacity the queue
    /// may take, so synchronous traffic is never starved.
    pub async_concurrency: usize,
    /// How long finished asynchronous request records are kept.
    pub async_retention: Duration,
    /// Root of the bucket directories that stand in for object storage (destinations).
    pub bucket_dir: PathBuf,
    /// Where the API gateway listener is reached (the start of API trigger URLs).
    pub gateway_url: String,
    /// Host directories under which container-image functions may name OCI layouts and
    /// archives (`oci:`, `oci-archive:`); empty refuses local references.
    pub image_layout_roots: Vec<PathBuf>,
    /// Registries (`host[:port]`) pulled from over plain http besides loopback ones.
    pub image_insecure_registries: Vec<String>,
    /// The docker-style registry credentials file, read at each pull.
    pub image_registry_auth: Option<PathBuf>,
    /// Pre-started instances kept ready per language (Python, Node.js, custom); 0 disables.
    pub prewarm: usize,
}

impl EngineConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: PathBuf) -> Self {
        EngineConfig {
            region: "local".to_string(),
            python: find_python(),
            node: find_in_path("node").unwrap_or_else(|| PathBuf::from("/usr/bin/node")),
            java: find_in_path("java").map(|p| p.canonicalize().unwrap_or(p)),
            idle_timeout: Duration::from_secs(60),
            queue_wait: Duration::from_millis(50),
            project_concurrency: stratus_types::limits::PROJECT_CONCURRENCY,
            max_functions: stratus_types::limits::FUNCTIONS_PER_PROJECT,
            code_url_hosts: Vec::new(),
            log_retention: Duration::from_secs(7 * 24 * 3600),
            log_max_lines: 1_000_000,
            network: true,
            mount_roots: Vec::new(),
            async_concurrency: stratus_types::limits::PROJECT_CONCURRENCY / 2,
            async_retention: Duration::from_secs(3 * 24 * 3600),
            bucket_dir: data_dir.join("buckets"),
            gateway_url: "http://127.0.0.1:8081".to_string(),
            image_layout_roots: Vec::new(),
            image_insecure_registries: Vec::new(),
            image_registry_auth: None,
            prewarm: 0,
            data_dir,
        }
    }
}

/// Debian's interpreter starts several times faster than a pyenv shim, so it wins.
fn find_python() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/python3");
    if debian.exists() {
        return debian;
    }
    find_in_path("python3").unwrap_or(debian)
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
