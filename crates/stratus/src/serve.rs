//! `stratus serve`: configuration, first-start bootstrap, wiring, graceful shutdown.

use anyhow::Context;
use rand::Rng;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use stratus_engine::{Engine, EngineConfig};
use stratus_store::{AccessKey, LocalBlobStore, Store};

/// Flags of `stratus serve`; each has a `STRATUS_*` environment equivalent.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Sandbox (--sandbox): `isolated` (the default when the host allows it) \
gives every instance its own mount, PID, IPC, UTS and network namespaces, a read-only \
root, a size-limited /tmp and uid/gid 1003; it runs container-image functions. It runs in \
one of two modes, logged at start-up: as root (`sandbox: isolated (root)`) with cgroups \
for memory, pids and CPU; without root but with unprivileged user namespaces \
(`sandbox: isolated (user namespaces)`, docs/sandbox-userns.md), where each instance \
also gets its own user namespace, cgroups come from a delegated cgroup v2 subtree when \
the server runs in one (otherwise memory is enforced by a watchdog, processes by \
RLIMIT_NPROC, CPU share not at all, with a warning) and the pre-heated pool is off. \
When neither works, `auto` falls back to `process` (`sandbox: process`) with a warning: \
own process group, rlimits, scrubbed environment and a memory watchdog, but NO \
file-system or network isolation (run only code you trust) and no container images."
)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "STRATUS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Address of the API gateway listener that serves APIG triggers (port 0 picks a
    /// free port).
    #[arg(long, env = "STRATUS_GATEWAY_LISTEN", default_value = "127.0.0.1:8081")]
    gateway_listen: SocketAddr,
    /// The gateway's URL as clients reach it, the start of every API trigger's
    /// `invoke_url` (default: http://<gateway listen address>).
    #[arg(long, env = "STRATUS_GATEWAY_URL")]
    gateway_url: Option<String>,
    /// Data directory (database, code, runtimes, credentials).
    #[arg(long, env = "STRATUS_DATA_DIR", default_value = "./stratus-data")]
    data_dir: PathBuf,
    /// Store URL; default sqlite://<data-dir>/stratus.db.
    #[arg(long, env = "STRATUS_STORE")]
    store: Option<String>,
    /// Region name used in URNs.
    #[arg(long, env = "STRATUS_REGION", default_value = "local")]
    region: String,
    /// Seconds an idle instance is kept before it is released.
    #[arg(long, env = "STRATUS_IDLE_TIMEOUT", default_value_t = 60.0)]
    idle_timeout: f64,
    /// Milliseconds a request waits for a free instance before it is throttled (429).
    #[arg(long, env = "STRATUS_QUEUE_WAIT_MS", default_value_t = 50)]
    queue_wait_ms: u64,
    /// Concurrent executions per project.
    #[arg(long, env = "STRATUS_PROJECT_CONCURRENCY", default_value_t = 100)]
    project_concurrency: usize,
    /// Python interpreter for Python runtimes (default: /usr/bin/python3 if present).
    #[arg(long, env = "STRATUS_PYTHON")]
    python: Option<PathBuf>,
    /// Node.js executable for Node.js runtimes (default: node on PATH).
    #[arg(long, env = "STRATUS_NODE")]
    node: Option<PathBuf>,
    /// Hosts code_url may download from, comma-separated (default: any).
    #[arg(long, env = "STRATUS_CODE_URL_HOSTS", value_delimiter = ',')]
    code_url_hosts: Vec<String>,
    /// Allowed clock difference of signed requests, seconds.
    #[arg(long, env = "STRATUS_CLOCK_SKEW", default_value_t = 900)]
    clock_skew: u64,
    /// Days log lines are kept.
    #[arg(long, env = "STRATUS_LOG_RETENTION_DAYS", default_value_t = 7)]
    log_retention_days: u64,
    /// Log lines kept per function (the newest ones).
    #[arg(long, env = "STRATUS_LOG_MAX_LINES", default_value_t = 1_000_000)]
    log_max_lines: u64,
    /// Include the canonical request in signature errors (debugging clients).
    #[arg(long, env = "STRATUS_DEBUG_AUTH")]
    debug_auth: bool,
    /// Sandbox backend: auto (isolated when possible), isolated, or process.
    #[arg(long, env = "STRATUS_SANDBOX", default_value = "auto")]
    sandbox: SandboxChoice,
    /// Give instances no outbound network access at all.
    #[arg(long, env = "STRATUS_NO_NETWORK")]
    no_network: bool,
    /// Pre-started Python and Node.js instances kept ready per language for fast cold
    /// starts (docs/preheat.md); 0 disables the pre-heated pool.
    #[arg(long, env = "STRATUS_PREWARM", default_value_t = 2)]
    prewarm: usize,
    /// Host directory under which functions may mount shared directories (repeatable).
    #[arg(
        long = "mount-root",
        env = "STRATUS_MOUNT_ROOTS",
        value_delimiter = ','
    )]
    mount_roots: Vec<PathBuf>,
    /// Let isolated instances reach the host's loopback (and so this server's API).
    #[arg(long, env = "STRATUS_ALLOW_INSTANCE_HOST_ACCESS")]
    allow_instance_host_access: bool,
    /// Network and mount namespaces the isolated sandbox (as root) keeps ready for cold
    /// starts (each kind this many); 0 makes each instance's namespaces at its start.
    #[arg(long, env = "STRATUS_NETNS_POOL", default_value_t = 4)]
    netns_pool: usize,
    /// Asynchronous requests run at once (default: half the project concurrency), so
    /// queued work never takes all capacity from synchronous calls.
    #[arg(long, env = "STRATUS_ASYNC_CONCURRENCY")]
    async_concurrency: Option<usize>,
    /// Days finished asynchronous request records are kept.
    #[arg(long, env = "STRATUS_ASYNC_RETENTION_DAYS", default_value_t = 3)]
    async_retention_days: u64,
    /// Host directory under which container-image functions may name local OCI layouts
    /// and archives (`oci:<dir>`, `oci-archive:<file>`) (repeatable; default: none, so
    /// only registry references are accepted).
    #[arg(
        long = "image-layout-root",
        env = "STRATUS_IMAGE_LAYOUT_ROOTS",
        value_delimiter = ','
    )]
    image_layout_roots: Vec<PathBuf>,
    /// Registry (`host[:port]`) pulled from over plain http (repeatable); loopback
    /// registries always are, every other one over https.
    #[arg(
        long = "insecure-registry",
        env = "STRATUS_INSECURE_REGISTRIES",
        value_delimiter = ','
    )]
    insecure_registries: Vec<String>,
    /// Registry credentials for container-image pulls: a docker-style JSON file
    /// (`{"auths":{"host:port":{"auth":"base64(user:password)"}}}`), read again at each
    /// pull (default: <data-dir>/registry-auth.json when it exists).
    #[arg(long = "registry-auth", env = "STRATUS_REGISTRY_AUTH")]
    registry_auth: Option<PathBuf>,
    /// Directory whose subdirectories are the buckets of OBS destinations
    /// (default: <data-dir>/buckets).
    #[arg(long, env = "STRATUS_BUCKET_DIR")]
    bucket_dir: Option<PathBuf>,
}

/// The registry credentials file. One that exists is checked now, so a broken file
/// stops the start rather than every pull; only its hosts are logged. The default
/// path is used even when it does not exist yet (it is read at each pull).
fn registry_auth(flag: Option<&Path>, data_dir: &Path) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = match flag {
        Some(p) => p.to_path_buf(),
        None => {
            let p = data_dir.join("registry-auth.json");
            if !p.exists() {
                return Ok(p);
            }
            p
        }
    };
    let auth = stratus_image::RegistryAuth::load(&path).map_err(|e| anyhow::anyhow!(e))?;
    let mode = std::fs::metadata(&path)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            "registry credentials {} can be read by other users (mode {:o}); chmod 600 it",
            path.display(),
            mode & 0o777
        );
    }
    tracing::info!(
        "registry credentials from {} for: {}",
        path.display(),
        auth.hosts().join(", ")
    );
    Ok(path)
}

/// Which sandbox backend runs instances.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxChoice {
    /// Isolated when the host allows it, else process (with a warning).
    Auto,
    /// Namespaces (and cgroups); fails to start without root or user namespaces.
    Isolated,
    /// Plain processes.
    Process,
}

/// The backend, and whether it can run the pre-heated pool.
fn choose_sandbox(
    args: &ServeArgs,
    data_dir: &Path,
) -> anyhow::Result<(Arc<dyn stratus_sandbox::Sandbox>, bool)> {
    let process_warning =
        "sandbox: process backend: instances get their own process group, rlimits and a memory \
         watchdog, but NO file-system or network isolation; run only trusted code";
    if args.sandbox == SandboxChoice::Process {
        tracing::warn!("{process_warning}");
        return Ok((Arc::new(stratus_sandbox::ProcessSandbox), true));
    }
    match stratus_sandbox::IsolatedSandbox::new(
        &data_dir.join("sandbox"),
        args.allow_instance_host_access,
        args.netns_pool,
    ) {
        Ok(s) => {
            if let (Some(why), false) = (s.why_no_network(), args.no_network) {
                tracing::warn!("sandbox: {why}: isolated instances have no outbound network");
            }
            match s.mode() {
                stratus_sandbox::IsolatedMode::Root => tracing::info!(
                    "sandbox: isolated (root): namespaces, cgroups, read-only root, uid 1003"
                ),
                stratus_sandbox::IsolatedMode::UserNamespace => {
                    tracing::info!(
                        "sandbox: isolated (user namespaces): unprivileged; namespaces incl. a \
                         user namespace per instance, read-only root, uid 1003 mapped to this \
                         server's uid {}",
                        // SAFETY: geteuid has no preconditions.
                        unsafe { libc::geteuid() }
                    );
                    if let Some(why) = s.without_cgroups() {
                        tracing::warn!(
                            "sandbox: NO cgroups ({why}): memory limits are enforced by the \
                             platform's watchdog (sampled, a burst can overshoot), processes by \
                             RLIMIT_NPROC, CPU share is NOT enforced and idle instances are not \
                             frozen; run the server in a delegated cgroup v2 subtree to get \
                             them (docs/sandbox-userns.md)"
                        );
                    }
                }
            }
            let pool = s.can_specialise();
            Ok((Arc::new(s), pool))
        }
        Err(why) if args.sandbox == SandboxChoice::Auto => {
            tracing::warn!("isolated sandbox unavailable ({why}); {process_warning}");
            Ok((Arc::new(stratus_sandbox::ProcessSandbox), true))
        }
        Err(why) => anyhow::bail!("the isolated sandbox is not available: {why}"),
    }
}

/// Runs the server until SIGTERM or SIGINT.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STRATUS_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args))
}

fn random_token(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        return Ok(Arc::new(stratus_store_sqlite::SqliteStore::open(
            Path::new(path),
        )?));
    }
    anyhow::bail!("unsupported store URL {url:?}: this build supports sqlite://PATH")
}

/// Creates the default project and root key on first start; returns the root key.
async fn bootstrap(store: &Arc<dyn Store>) -> anyhow::Result<AccessKey> {
    if let Some(key) = store.root_access_key().await? {
        return Ok(key);
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let project_id =
        env("STRATUS_PROJECT_ID").unwrap_or_else(|| random_token(32, b"0123456789abcdef"));
    if project_id.is_empty()
        || !project_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        anyhow::bail!(
            "STRATUS_PROJECT_ID {project_id:?} may contain only letters, digits, '-' and '_'"
        );
    }
    let key = AccessKey {
        access_key: env("STRATUS_ROOT_ACCESS_KEY")
            .unwrap_or_else(|| random_token(20, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")),
        secret_key: env("STRATUS_ROOT_SECRET_KEY").unwrap_or_else(|| {
            random_token(
                40,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            )
        }),
        project_id,
    };
    store.ensure_project(&key.project_id).await?;
    store.ensure_access_key(&key).await?;
    tracing::info!("created project {} and its root access key", key.project_id);
    Ok(key)
}

fn write_credentials(
    path: &Path,
    endpoint: &str,
    region: &str,
    key: &AccessKey,
) -> anyhow::Result<()> {
    let body = serde_json::json!({
        "endpoint": endpoint,
        "project_id": key.project_id,
        "access_key": key.access_key,
        "secret_key": key.secret_key,
        "region": region,
    });
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("write {}", tmp.display()))?;
    f.write_all(serde_json::to_string_pretty(&body)?.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("create {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;
    let store_url = args
        .store
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("stratus.db").display()));
    let store = open_store(&store_url)?;
    let blobs = Arc::new(LocalBlobStore::open(data_dir.join("blobs"))?);
    let root = bootstrap(&store).await?;

    let mut config = EngineConfig::new(data_dir.clone());
    config.region = args.region.clone();
    config.idle_timeout = Duration::from_secs_f64(args.idle_timeout.max(0.05));
    config.queue_wait = Duration::from_millis(args.queue_wait_ms);
    config.project_concurrency = args.project_concurrency.max(1);
    config.code_url_hosts = args
        .code_url_hosts
        .iter()
        .filter(|h| !h.is_empty())
        .cloned()
        .collect();
    config.log_retention = Duration::from_secs(args.log_retention_days.max(1) * 86_400);
    config.log_max_lines = args.log_max_lines.max(1);
    if let Some(p) = &args.python {
        config.python = p.clone();
    }
    if let Some(n) = &args.node {
        config.node = n.clone();
    }
    config.network = !args.no_network;
    config.prewarm = args.prewarm;
    config.async_concurrency = args
        .async_concurrency
        .unwrap_or(config.project_concurrency / 2)
        .max(1);
    config.async_retention = Duration::from_secs(args.async_retention_days.max(1) * 86_400);
    if let Some(b) = &args.bucket_dir {
        config.bucket_dir = b.clone();
    }
    config.mount_roots = args
        .mount_roots
        .iter()
        .map(|r| {
            r.canonicalize()
                .with_context(|| format!("--mount-root {}", r.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    config.image_layout_roots = args
        .image_layout_roots
        .iter()
        .map(|r| {
            r.canonicalize()
                .with_context(|| format!("--image-layout-root {}", r.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    config.image_insecure_registries = args
        .insecure_registries
        .iter()
        .filter(|h| !h.is_empty())
        .cloned()
        .collect();
    config.image_registry_auth = Some(registry_auth(args.registry_auth.as_deref(), &data_dir)?);
    let gateway_listener = tokio::net::TcpListener::bind(args.gateway_listen)
        .await
        .with_context(|| format!("listen on {} (--gateway-listen)", args.gateway_listen))?;
    let gateway_addr = gateway_listener.local_addr()?;
    let gateway_endpoint = format!("http://{gateway_addr}");
    config.gateway_url = match &args.gateway_url {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
            u.trim_end_matches('/').to_string()
        }
        Some(u) => anyhow::bail!("--gateway-url {u:?} must start with http:// or https://"),
        None => gateway_endpoint.clone(),
    };
    let (sandbox, pool_ok) = choose_sandbox(&args, &data_dir)?;
    if !pool_ok && config.prewarm > 0 {
        tracing::info!(
            "pre-heated pool off: user-namespace mode cannot attach code into a running \
             instance (docs/sandbox-userns.md)"
        );
        config.prewarm = 0;
    }
    let engine = Engine::start(config, store.clone(), blobs, sandbox).await?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let endpoint = format!("http://{addr}");
    let creds_path = data_dir.join("credentials.json");
    write_credentials(&creds_path, &endpoint, &args.region, &root)?;
    tracing::info!(
        "credentials for the CLI and SDKs are in {}",
        creds_path.display()
    );

    let state = stratus_api::AppState::new(stratus_api::ApiState {
        engine: engine.clone(),
        store,
        clock_skew: Duration::from_secs(args.clock_skew),
        debug_auth: args.debug_auth,
        config_json: Default::default(),
    });
    let app = stratus_api::router(state.clone());
    let gateway =
        stratus_api::gateway_router(state).into_make_service_with_connect_info::<SocketAddr>();
    let (stop_gateway, gateway_stopped) = tokio::sync::watch::channel(false);
    let gateway_task = tokio::spawn(async move {
        let mut stopped = gateway_stopped;
        axum::serve(gateway_listener, gateway)
            .with_graceful_shutdown(async move {
                let _ = stopped.changed().await;
            })
            .await
    });
    println!("stratus listening on {endpoint}");
    println!("stratus gateway listening on {gateway_endpoint}");
    std::io::stdout().flush()?;
    axum::serve(nodelay(listener), app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    let _ = stop_gateway.send(true);
    match tokio::time::timeout(Duration::from_secs(5), gateway_task).await {
        Ok(Ok(Err(e))) => tracing::warn!("gateway listener: {e:#}"),
        Ok(_) => {}
        Err(_) => {
            tracing::warn!("gateway listener: requests still running after 5 s; stopping anyway")
        }
    }
    tracing::info!("shutting down: stopping instances");
    engine.shutdown().await;
    Ok(())
}

/// Sets TCP_NODELAY on every accepted connection: answers are small and must not wait
/// for the client's delayed ACK (Nagle).
fn nodelay(
    listener: tokio::net::TcpListener,
) -> impl axum::serve::Listener<Io = tokio::net::TcpStream, Addr = SocketAddr> {
    use axum::serve::ListenerExt;
    listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
