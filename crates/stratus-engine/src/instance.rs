//! A live instance: its process, runtime API server, log collector and watchdog.

use crate::shims::Shims;
use bytes::Bytes;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stratus_runtimeapi::{Mailbox, Readiness};
use stratus_sandbox::{InstanceHandle, InstanceSpec, Limits, Sandbox, SandboxError, View};
use stratus_types::{FunctionSpec, RuntimeKind};
use tokio::io::unix::AsyncFd;
use tokio::sync::watch;

/// Longest stored log line; longer lines are cut.
const MAX_LINE: usize = 16 * 1024;
/// Most log bytes kept per request; the rest is dropped with one marker line.
const MAX_REQUEST_LOG: usize = 1024 * 1024;
/// Lines kept from before the first request (start-up output).
const MAX_STARTUP_LINES: usize = 200;
/// How long an instance without initializer may take to poll for its first event.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an instance could not take requests.
#[derive(Debug, Clone)]
pub(crate) struct StartFailure {
    pub cause: crate::invoke::Cause,
    pub code: u32,
    pub message: String,
    pub error_type: String,
    pub log: Vec<String>,
}

/// How an instance ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Death {
    /// Killed for exceeding its memory.
    OutOfMemory,
    /// Killed by the platform (timeout, reaping, shutdown).
    Stopped,
    /// Exited on its own.
    Exited(String),
}

/// What an instance needs to start.
pub(crate) struct Launch<'a> {
    pub id: u64,
    pub project_id: &'a str,
    pub region: &'a str,
    /// The request that caused the start; a container image's `POST /init` carries it.
    pub request_id: String,
    pub version: &'a str,
    pub spec: &'a FunctionSpec,
    pub memory_mb: u32,
    pub code_dir: PathBuf,
    pub instances_root: PathBuf,
    pub shims: &'a Shims,
    pub python: &'a std::path::Path,
    pub node: &'a std::path::Path,
    pub java: Option<&'a std::path::Path>,
    pub network: bool,
    pub mount_roots: &'a [PathBuf],
    pub images: &'a Arc<crate::image_fn::Images>,
}

pub(crate) struct Instance {
    pub id: u64,
    pub mailbox: Arc<Mailbox>,
    pub logs: Arc<LogCollector>,
    pub death: watch::Receiver<Option<Death>>,
    pub peak_rss: Arc<AtomicU64>,
    stopping: Arc<AtomicBool>,
    server: Option<tokio::task::JoinHandle<()>>,
    handle: Arc<dyn InstanceHandle>,
    /// Idle-mode freezing (reserved instances).
    pub idle: crate::idle::IdleGate,
    /// `RUNTIME_API_ADDR` as the instance sees it.
    api_addr: String,
    /// Memory limit the platform's watchdog holds the instance to, bytes.
    limit: Arc<AtomicU64>,
    /// Called once when the process has ended; replaced when a pre-started instance
    /// changes owner.
    on_death: DeathHook,
}

type DeathHook = Arc<Mutex<Option<Box<dyn FnOnce(u64) + Send>>>>;

/// Instance starts and death watchers of this process that have not finished (a start
/// makes cgroups, namespaces and a work directory; its death watcher removes them).
static BUSY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Counts one start or death watcher until it is dropped (done, or its runtime shut
/// down). SeqCst: a pool refill that takes one and then reads its stop flag, and a
/// shutdown that sets the flag and then reads the count, cannot both miss the other.
pub(crate) struct Busy;

pub(crate) fn busy() -> Busy {
    BUSY.fetch_add(1, Ordering::SeqCst);
    Busy
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Waits up to `limit` until every start in flight has ended and every stopped
/// instance was cleaned up, so that a server shutting down leaves no cgroups or work
/// directories behind.
pub(crate) async fn cleaned_up(limit: Duration) -> bool {
    let until = std::time::Instant::now() + limit;
    while BUSY.load(Ordering::SeqCst) > 0 {
        if std::time::Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

impl Instance {
    /// Kills the instance; its death watcher cleans up.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.handle.kill();
        self.mailbox.close();
    }

    /// Whether the process has ended or is being killed (a stopped instance must never
    /// be handed another request, even before its death watcher has run).
    pub fn is_dead(&self) -> bool {
        self.stopping.load(Ordering::Acquire) || self.death.borrow().is_some()
    }

    /// Peak memory so far, bytes (from the cgroup when the sandbox has one).
    pub fn peak_memory(&self) -> u64 {
        if let Some(p) = self.handle.peak_memory_bytes() {
            self.peak_rss.fetch_max(p, Ordering::Relaxed);
        }
        self.peak_rss.load(Ordering::Relaxed)
    }

    /// Waits until the process has ended and returns how.
    pub async fn died(&self) -> Death {
        let mut rx = self.death.clone();
        loop {
            if let Some(d) = rx.borrow_and_update().clone() {
                return d;
            }
            if rx.changed().await.is_err() {
                return Death::Stopped;
            }
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(s) = &self.server {
            s.abort();
        }
    }
}

/// Where a shim lives inside the instance's view.
fn in_root(view: &View, shims: &Shims, rel: &str) -> String {
    if view.runtime_root.is_empty() {
        shims.root.join(rel).display().to_string()
    } else {
        format!("{}/{rel}", view.runtime_root)
    }
}

fn bootstrap_failure(message: String) -> StartFailure {
    StartFailure {
        cause: crate::invoke::Cause::InitializationFailed,
        code: 4202,
        error_type: "BootstrapNotFound".into(),
        message,
        log: vec![],
    }
}

/// How to start a package's `bootstrap`: directly when it is a binary or has `#!`, else
/// through `/bin/sh` (the guide's HTTP examples are plain command lines).
fn bootstrap(
    l: &Launch<'_>,
    view: &View,
    need_exec_bit: bool,
) -> Result<(String, Vec<String>), StartFailure> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let host = l.code_dir.join("bootstrap");
    let inside = format!("{}/bootstrap", view.code_root);
    let meta = std::fs::metadata(&host).map_err(|_| {
        bootstrap_failure("runtime bootstrap file is not found: the code package must contain a file named bootstrap at its root".into())
    })?;
    if !meta.is_file() {
        return Err(bootstrap_failure("bootstrap is not a regular file".into()));
    }
    if need_exec_bit && meta.permissions().mode() & 0o111 == 0 {
        return Err(bootstrap_failure(
            "runtime bootstrap file is not executable: set its execute permission (chmod +x bootstrap) before zipping".into(),
        ));
    }
    let mut head = [0u8; 16];
    let n = std::fs::File::open(&host)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let head = &head[..n];
    let executable = meta.permissions().mode() & 0o111 != 0;
    if executable && is_sh_script(head) && Path::new(BASH).exists() {
        // FunctionGraph's /bin/sh is bash and the guide's bootstraps rely on it
        // (`set -o pipefail`); Debian's dash would refuse them.
        return Ok((BASH.into(), vec![inside]));
    }
    let direct = (head.starts_with(b"#!") || head.starts_with(b"\x7fELF")) && executable;
    if direct {
        Ok((inside, vec![]))
    } else {
        Ok(("/bin/sh".into(), vec![inside]))
    }
}

const BASH: &str = "/bin/bash";

/// `#!/bin/sh` followed by the end of the line or by arguments.
fn is_sh_script(head: &[u8]) -> bool {
    head.strip_prefix(b"#!/bin/sh")
        .or_else(|| head.strip_prefix(b"#! /bin/sh"))
        .is_some_and(|rest| matches!(rest.first(), None | Some(b'\n' | b'\r' | b' ' | b'\t')))
}

fn program(l: &Launch<'_>, view: &View) -> Result<(String, Vec<String>), StartFailure> {
    let kind = l
        .spec
        .runtime()
        .map(|r| r.kind())
        .unwrap_or(RuntimeKind::Custom);
    match kind {
        RuntimeKind::Python => Ok((
            l.python.display().to_string(),
            vec![
                in_root(view, l.shims, "python/server.py"),
                "{RUNTIME_API_ADDR}".into(),
                view.code_root.clone(),
            ],
        )),
        RuntimeKind::NodeJs => Ok((
            l.node.display().to_string(),
            vec![in_root(view, l.shims, "nodejs/server.js")],
        )),
        RuntimeKind::Custom => bootstrap(l, view, true),
        RuntimeKind::Http => bootstrap(l, view, false),
        RuntimeKind::Java => java_program(l, view),
        RuntimeKind::Go => go_program(l, view),
        other => Err(StartFailure {
            cause: crate::invoke::Cause::SystemError,
            code: 4024,
            error_type: "RuntimeNotSupported".into(),
            message: format!(
                "runtime {} ({other:?}) is not supported by this server yet",
                l.spec.runtime
            ),
            log: vec![],
        }),
    }
}

fn handler_failure(error_type: &str, message: String) -> StartFailure {
    StartFailure {
        cause: crate::invoke::Cause::InitializationFailed,
        code: 4202,
        error_type: error_type.into(),
        message,
        log: vec![],
    }
}

/// The JVM running the Java shim (compiled beforehand by `shims::ensure_java`); the shim
/// loads the user's classes and jars from the code root itself.
fn java_program(l: &Launch<'_>, view: &View) -> Result<(String, Vec<String>), StartFailure> {
    let Some(java) = l.java else {
        return Err(StartFailure {
            cause: crate::invoke::Cause::SystemError,
            code: 4024,
            error_type: "RuntimeNotSupported".into(),
            message: format!(
                "runtime {} needs a Java installation (java and javac), and this server has none",
                l.spec.runtime
            ),
            log: vec![],
        });
    };
    // The heap gets 70% of the memory; the rest is metaspace, code cache and stacks.
    let heap = (u64::from(l.memory_mb) * 7 / 10).max(16);
    Ok((
        java.display().to_string(),
        vec![
            "-XX:+UseSerialGC".into(),
            "-XX:TieredStopAtLevel=1".into(),
            "-Xshare:auto".into(),
            "-XX:-UsePerfData".into(),
            format!("-Xmx{heap}m"),
            "-cp".into(),
            in_root(view, l.shims, crate::shims::JAVA_CLASSES),
            crate::shims::JAVA_MAIN.into(),
        ],
    ))
}

/// A Go function is the executable the handler names, relative to the code root.
fn go_program(l: &Launch<'_>, view: &View) -> Result<(String, Vec<String>), StartFailure> {
    use std::os::unix::fs::PermissionsExt;
    let handler = l.spec.handler.trim();
    let rel = Path::new(handler);
    let plain = !handler.is_empty()
        && rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain {
        return Err(handler_failure(
            "HandlerNotFound",
            format!("handler {handler:?} must name the function's executable, relative to the code package root"),
        ));
    }
    let meta = std::fs::metadata(l.code_dir.join(rel)).map_err(|_| {
        handler_failure(
            "HandlerNotFound",
            format!("the executable {handler:?} named by the handler is not in the code package"),
        )
    })?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(handler_failure(
            "HandlerNotFound",
            format!("{handler:?} is not an executable file: build it with GOOS=linux and set its execute permission before zipping"),
        ));
    }
    Ok((format!("{}/{handler}", view.code_root), vec![]))
}

/// The guide's runtime paths (table 4-5) inside an isolated instance, pointing at the
/// host interpreters, so HTTP-function bootstraps written for FunctionGraph run as is.
fn runtime_links(l: &Launch<'_>) -> Vec<(String, String)> {
    runtime_links_for(l.python, l.node, l.java)
}

pub(crate) fn runtime_links_for(
    python: &Path,
    node: &Path,
    java: Option<&Path>,
) -> Vec<(String, String)> {
    let py = python.display().to_string();
    let node = node.display().to_string();
    let mut links = vec![
        (
            "/opt/function/runtime/python2.7/rtsp/python/bin/python".to_string(),
            py.clone(),
        ),
        (
            "/opt/function/runtime/python3.6/rtsp/python/bin/python3".to_string(),
            py.clone(),
        ),
        (
            "/opt/function/runtime/python3.9/rtsp/python/bin/python3".to_string(),
            py,
        ),
    ];
    for v in ["6.10", "8.10", "10.16", "12.13", "14.18", "16.17", "18.15"] {
        links.push((
            format!("/opt/function/runtime/nodejs{v}/rtsp/nodejs/bin/node"),
            node.clone(),
        ));
    }
    if let Some(java) = java {
        for v in ["java8", "java11"] {
            links.push((
                format!("/opt/function/runtime/{v}/rtsp/jre/bin/java"),
                java.display().to_string(),
            ));
        }
    }
    links
}

/// The part of every instance's environment that does not depend on the function
/// (a pre-started instance runs with only this until it is specialised).
pub(crate) fn base_environment(view: &View) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("HOME".into(), view.tmp.clone()),
        ("TMPDIR".into(), view.tmp.clone()),
        ("LANG".into(), "C.UTF-8".into()),
        ("TZ".into(), "UTC".into()),
    ]
}

fn environment(l: &Launch<'_>, view: &View) -> Vec<(String, String)> {
    let s = l.spec;
    let mut user = s.user_data.clone();
    user.extend(s.encrypted_user_data.clone());
    let runtime_root = if view.runtime_root.is_empty() {
        l.shims.root.display().to_string()
    } else {
        view.runtime_root.clone()
    };
    let mut env = base_environment(view);
    env.extend(user.iter().map(|(k, v)| (k.clone(), v.clone())));
    let userdata = serde_json::to_string(&user).unwrap_or_else(|_| "{}".into());
    let preset = [
        ("RUNTIME_PROJECT_ID", l.project_id.to_string()),
        ("RUNTIME_FUNC_NAME", s.name.clone()),
        ("RUNTIME_FUNC_VERSION", l.version.to_string()),
        ("RUNTIME_PACKAGE", s.package.clone()),
        ("RUNTIME_HANDLER", s.handler.clone()),
        ("RUNTIME_TIMEOUT", s.timeout.to_string()),
        ("RUNTIME_USERDATA", userdata),
        (
            "RUNTIME_CPU",
            stratus_types::limits::cpu_for_memory(l.memory_mb).to_string(),
        ),
        ("RUNTIME_MEMORY", l.memory_mb.to_string()),
        (
            "RUNTIME_MAX_RESP_BODY_SIZE",
            stratus_types::limits::SYNC_PAYLOAD_MAX.to_string(),
        ),
        ("RUNTIME_INITIALIZER_HANDLER", s.initializer_handler.clone()),
        (
            "RUNTIME_INITIALIZER_TIMEOUT",
            s.initializer_timeout.to_string(),
        ),
        ("RUNTIME_ROOT", runtime_root),
        ("RUNTIME_CODE_ROOT", view.code_root.clone()),
        ("RUNTIME_LOG_DIR", view.tmp.clone()),
        (
            "RUNTIME_CONCURRENT_NUM",
            s.strategy.concurrent_num.to_string(),
        ),
        ("RUNTIME_ALIAS", String::new()),
    ];
    env.extend(preset.into_iter().map(|(k, v)| (k.to_string(), v)));
    env
}

/// The language of a pre-started instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Lang {
    Python,
    NodeJs,
    /// A custom `bootstrap`: a waiting Python shim holds the sandbox and execs the
    /// function's program at specialisation.
    Custom,
}

/// What a pre-started (generic) instance needs.
pub(crate) struct Prestart<'a> {
    pub id: u64,
    pub lang: Lang,
    /// An empty directory standing in for the code until specialisation.
    pub empty_code: PathBuf,
    pub instances_root: PathBuf,
    pub shims: &'a Shims,
    pub python: &'a Path,
    pub node: &'a Path,
    pub network: bool,
    pub links: Vec<(String, String)>,
}

/// Flag telling a shim to wait for its function instead of loading one.
const PREHEAT_FLAG: &str = "--stratus-preheat";
/// Request id of the message that binds a pre-started instance to its function.
const SPECIALISE_ID: &str = "stratus-specialise";
/// Limits of a pre-started instance until it is specialised.
const GENERIC_MEMORY_MB: u32 = 256;
/// The smallest CPU share until specialised (isolated sandbox): a pre-started instance
/// booting beside running instances (a pool refill right after a cold start) yields the
/// CPU to them. Specialising gives it the function's share.
const GENERIC_CPU_MILLIS: u32 = 2;
/// The default (and smallest) ephemeral storage: most specialisations then keep `/tmp` as it is (a
/// tmpfs size is only a cap; an empty one costs nothing).
const GENERIC_TMP_MB: u32 = stratus_types::limits::EPHEMERAL_STORAGE_RANGE.0;

/// The program and arguments of a shim, exactly as a normal start would run it.
fn shim_program(
    lang: Lang,
    view: &View,
    shims: &Shims,
    python: &Path,
    node: &Path,
) -> (String, Vec<String>) {
    match lang {
        Lang::Python | Lang::Custom => (
            python.display().to_string(),
            vec![
                in_root(view, shims, "python/server.py"),
                "{RUNTIME_API_ADDR}".into(),
                view.code_root.clone(),
            ],
        ),
        Lang::NodeJs => (
            node.display().to_string(),
            vec![in_root(view, shims, "nodejs/server.js")],
        ),
    }
}

/// Starts a generic runtime instance: sandbox, runtime API, interpreter and shim, all
/// up and waiting for the function it will serve. It runs with the base environment
/// only and an empty code root.
pub(crate) async fn prestart(
    p: Prestart<'_>,
    sandbox: Arc<dyn Sandbox>,
    on_death: impl FnOnce(u64) + Send + 'static,
) -> Result<Arc<Instance>, String> {
    let work_dir = p.instances_root.join(p.id.to_string());
    std::fs::create_dir_all(&work_dir).map_err(|e| format!("create instance directory: {e}"))?;
    let view = sandbox.view(&work_dir);
    let (program, mut args) = shim_program(p.lang, &view, p.shims, p.python, p.node);
    args.push(PREHEAT_FLAG.into());
    let spec = InstanceSpec {
        id: p.id,
        program,
        args,
        env: base_environment(&view),
        code_dir: p.empty_code.clone(),
        runtime_dir: p.shims.root.clone(),
        work_dir: work_dir.clone(),
        image_root: None,
        cwd: None,
        uid: 1003,
        gid: 1003,
        mounts: Vec::new(),
        links: p.links,
        network: p.network,
        serve_runtime_api: true,
        limits: Limits {
            memory_mb: GENERIC_MEMORY_MB,
            nofile: 1024,
            nproc: 1024,
            tmp_mb: GENERIC_TMP_MB,
            cpu_millis: GENERIC_CPU_MILLIS,
        },
    };
    let (instance, _) = launch(
        sandbox.as_ref(),
        &spec,
        false,
        false,
        work_dir,
        GENERIC_MEMORY_MB,
        Box::new(on_death),
    )
    .await
    .map_err(|f| f.message)?;
    let outcome = tokio::select! {
        biased;
        r = instance.mailbox.wait_ready() => Some(r),
        _ = instance.died() => None,
        _ = tokio::time::sleep(START_TIMEOUT) => Some(Readiness::Starting),
    };
    if outcome == Some(Readiness::Ready) {
        return Ok(instance);
    }
    instance.stop();
    let _ = instance.died().await;
    instance.logs.settle().await;
    Err(format!(
        "pre-started {:?} runtime did not become ready ({outcome:?}): {}",
        p.lang,
        instance.logs.startup_lines().join(" | ")
    ))
}

/// Whether a function may be served by a pre-started instance: only when the result is
/// indistinguishable from a normal start (same program, user, mounts, network, and no
/// variable the interpreter reads before the shim runs).
pub(crate) fn poolable(l: &Launch<'_>, pool_network: bool) -> Option<Lang> {
    let lang = match l.spec.runtime().map(|r| r.kind()) {
        Ok(RuntimeKind::Python) => Lang::Python,
        Ok(RuntimeKind::NodeJs) => Lang::NodeJs,
        Ok(RuntimeKind::Custom) => {
            use std::os::unix::fs::PermissionsExt;
            // A missing or non-executable bootstrap gets its error from a normal start.
            let ok = std::fs::metadata(l.code_dir.join("bootstrap"))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            if !ok {
                return None;
            }
            Lang::Custom
        }
        _ => return None,
    };
    if l.network != pool_network || l.spec.extras.contains_key("mount_config") {
        return None;
    }
    let view_free = View {
        code_root: String::new(),
        runtime_root: String::new(),
        cwd: String::new(),
        tmp: String::new(),
    };
    let base: Vec<String> = base_environment(&view_free)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let read_at_start = |k: &str| {
        base.iter().any(|b| b == k)
            || [
                "PYTHON", "NODE_", "UV_", "LD_", "LC_", "MALLOC_", "GLIBC_", "OPENSSL_",
            ]
            .iter()
            .any(|p| k.starts_with(p))
            || k == "RUNTIME_API_ADDR"
    };
    let s = l.spec;
    if s.user_data
        .keys()
        .chain(s.encrypted_user_data.keys())
        .any(|k| read_at_start(k))
    {
        return None;
    }
    Some(lang)
}

/// Binds a pre-started instance to the function `l` describes: code mounted at the
/// code root, limits applied, the environment and arguments a normal start would have
/// given sent to the shim, which then imports the handler and runs the initializer.
/// The instance serves this function only, for the rest of its life.
pub(crate) async fn specialise<F: FnOnce(u64) + Send + 'static>(
    instance: Arc<Instance>,
    lang: Lang,
    l: &Launch<'_>,
    sandbox: &dyn Sandbox,
    on_death: F,
) -> Specialised<F> {
    let work_dir = l.instances_root.join(instance.id.to_string());
    let view = sandbox.view(&work_dir);
    let limits = Limits {
        memory_mb: l.memory_mb,
        nofile: 1024,
        nproc: 1024,
        tmp_mb: l.spec.ephemeral_storage,
        cpu_millis: stratus_types::limits::cpu_for_memory(l.memory_mb),
    };
    let to = stratus_sandbox::Specialise {
        code_dir: l.code_dir.clone(),
        work_dir,
        limits,
    };
    let handle = instance.handle.clone();
    let t0 = std::time::Instant::now();
    let bound = tokio::task::spawn_blocking(move || handle.specialise(&to))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|r| r);
    if let Err(e) = bound {
        // Nothing of the function ran yet: drop this instance, start one normally.
        tracing::warn!("pre-started instance {} unusable: {e}", instance.id);
        instance.stop();
        return Specialised::Unusable(on_death);
    }
    // From here on, the function's pool is told when the instance dies. If it died in
    // between, its old hook has run already and this one is called here.
    *instance.on_death.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(on_death));
    if instance.is_dead() {
        let hook = instance
            .on_death
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(f) = hook {
            f(instance.id);
        }
    }
    instance
        .limit
        .store(u64::from(l.memory_mb) * 1024 * 1024, Ordering::Relaxed);
    let mut env = environment(l, &view);
    env.push(("RUNTIME_API_ADDR".into(), instance.api_addr.clone()));
    let deadline = if l.spec.initializer_handler.is_empty() {
        START_TIMEOUT
    } else {
        Duration::from_secs(u64::from(l.spec.initializer_timeout)) + Duration::from_secs(10)
    };
    if lang == Lang::Custom {
        return Specialised::Done(exec_custom(instance, l, &view, env, deadline).await);
    }
    let (_, args) = shim_program(lang, &view, l.shims, l.python, l.node);
    let args: Vec<String> = args
        .into_iter()
        .map(|a| {
            if a == "{RUNTIME_API_ADDR}" {
                instance.api_addr.clone()
            } else {
                a
            }
        })
        .collect();
    let body = serde_json::json!({ "env": env, "args": args }).to_string();
    let reply = instance.mailbox.submit(stratus_runtimeapi::Event {
        request_id: SPECIALISE_ID.into(),
        body: Bytes::from(body),
        headers: vec![(
            crate::invoke::SPECIALISE_HEADER.0,
            http::HeaderValue::from_static("1"),
        )],
    });
    let mailbox = instance.mailbox.clone();
    let outcome = tokio::select! {
        biased;
        r = reply => match r {
            Ok(stratus_runtimeapi::Outcome::Success(_)) => Some(Readiness::Ready),
            Ok(stratus_runtimeapi::Outcome::Error(b)) => Some(Readiness::Failed(b)),
            Ok(stratus_runtimeapi::Outcome::TooLarge(_)) => Some(Readiness::Failed(Bytes::new())),
            Err(_) => None,
        },
        b = mailbox.wait_failed() => Some(Readiness::Failed(b)),
        _ = instance.died() => None,
        _ = tokio::time::sleep(deadline) => Some(Readiness::Starting),
    };
    tracing::debug!("specialised {} in {:?}", instance.id, t0.elapsed());
    Specialised::Done(finish(instance, outcome, deadline).await)
}

/// A custom runtime behind the pool: the waiting shim execs the program a normal start
/// would run, with its environment; ready at the program's first poll, as usual.
async fn exec_custom(
    instance: Arc<Instance>,
    l: &Launch<'_>,
    view: &View,
    env: Vec<(String, String)>,
    deadline: Duration,
) -> Result<Arc<Instance>, StartFailure> {
    let (program, args) = match bootstrap(l, view, true) {
        Ok(p) => p,
        Err(f) => {
            instance.stop();
            return Err(f);
        }
    };
    let mut argv = vec![program];
    argv.extend(args);
    let body = serde_json::json!({ "env": env, "exec": argv }).to_string();
    let mailbox = instance.mailbox.clone();
    let seen = mailbox.polls();
    let _reply = mailbox.submit(stratus_runtimeapi::Event {
        request_id: SPECIALISE_ID.into(),
        body: Bytes::from(body),
        headers: vec![(
            crate::invoke::SPECIALISE_HEADER.0,
            http::HeaderValue::from_static("1"),
        )],
    });
    let outcome = tokio::select! {
        biased;
        b = mailbox.wait_failed() => Some(Readiness::Failed(b)),
        _ = mailbox.wait_polls_beyond(seen) => Some(Readiness::Ready),
        _ = instance.died() => None,
        _ = tokio::time::sleep(deadline) => Some(Readiness::Starting),
    };
    mailbox.forget(SPECIALISE_ID);
    finish(instance, outcome, deadline).await
}

/// Result of specialising a pre-started instance.
pub(crate) enum Specialised<F> {
    /// The function was loaded (or failed to load, as it would in a normal start).
    Done(Result<Arc<Instance>, StartFailure>),
    /// The instance could not be bound (it died in the pool, the kernel refused the
    /// mount or the limit); nothing of the function ran. The death hook is handed back
    /// for a normal start.
    Unusable(F),
}

/// Starts an instance and waits until it is ready for events.
pub(crate) async fn start(
    l: Launch<'_>,
    sandbox: Arc<dyn Sandbox>,
    on_death: impl FnOnce(u64) + Send + 'static,
) -> Result<Arc<Instance>, StartFailure> {
    let work_dir = l.instances_root.join(l.id.to_string());
    let fail_sys = |message: String| StartFailure {
        cause: crate::invoke::Cause::SystemError,
        code: 4024,
        error_type: "SystemError".into(),
        message,
        log: vec![],
    };
    std::fs::create_dir_all(&work_dir)
        .map_err(|e| fail_sys(format!("create instance directory: {e}")))?;
    let view = sandbox.view(&work_dir);
    let is_http = l
        .spec
        .runtime()
        .map(|r| r.kind() == RuntimeKind::Http)
        .unwrap_or(false);
    let kind = l
        .spec
        .runtime()
        .map(|r| r.kind())
        .unwrap_or(RuntimeKind::Custom);
    let is_go = kind == RuntimeKind::Go;
    if let (RuntimeKind::Java, Some(java)) = (kind, l.java) {
        let (shims, java) = (l.shims.clone(), java.to_path_buf());
        let built = tokio::task::spawn_blocking(move || crate::shims::ensure_java(&shims, &java))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
        if let Err(message) = built {
            let _ = std::fs::remove_dir_all(&work_dir);
            return Err(StartFailure {
                error_type: "RuntimeNotSupported".into(),
                ..fail_sys(message)
            });
        }
    }
    let mount_cfg = match l.spec.extras.get("mount_config") {
        Some(v) => crate::mounts::parse(v, l.mount_roots)
            .map_err(|e| fail_sys(format!("disk mounts: {e}")))?,
        None => crate::mounts::MountConfig::default(),
    };
    // A container image brings its own root, command line, user and environment.
    let mut image = if kind == RuntimeKind::CustomImage {
        let ids = (mount_cfg.uid, mount_cfg.gid);
        let planned = crate::image_fn::launch(l.images, l.spec, sandbox.name(), ids).await;
        Some(planned.inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&work_dir);
        })?)
    } else {
        None
    };
    let (program, args) = match &image {
        Some(i) => (i.program.clone(), i.args.clone()),
        None => program(&l, &view).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&work_dir);
        })?,
    };
    let env = match &image {
        Some(i) => crate::image_fn::merge_env(&i.env, environment(&l, &view)),
        None => environment(&l, &view),
    };
    let spec = InstanceSpec {
        id: l.id,
        program,
        args,
        env,
        code_dir: l.code_dir.clone(),
        runtime_dir: match &image {
            Some(_) => PathBuf::new(),
            None => l.shims.root.clone(),
        },
        work_dir: work_dir.clone(),
        image_root: image.as_ref().map(|i| i.root.clone()),
        cwd: image.as_ref().map(|i| i.cwd.clone()),
        uid: image
            .as_ref()
            .map_or(mount_cfg.uid.unwrap_or(1003), |i| i.uid),
        gid: image
            .as_ref()
            .map_or(mount_cfg.gid.unwrap_or(1003), |i| i.gid),
        mounts: mount_cfg
            .mounts
            .iter()
            .map(|m| stratus_sandbox::Mount {
                host: m.host.clone(),
                target: m.target.clone(),
                read_only: false,
            })
            .collect(),
        links: runtime_links(&l),
        network: l.network,
        serve_runtime_api: !is_http && !is_go && image.is_none(),
        limits: Limits {
            memory_mb: l.memory_mb,
            nofile: 1024,
            nproc: 1024,
            tmp_mb: l.spec.ephemeral_storage,
            cpu_millis: stratus_types::limits::cpu_for_memory(l.memory_mb),
        },
    };
    let is_custom = kind == RuntimeKind::Custom;
    // The image stays leased (safe from garbage collection) until the instance ended.
    let lease = image.as_mut().and_then(|i| i.lease.take());
    let on_death = move |id| {
        drop(lease);
        on_death(id);
    };
    let (instance, go_port) = launch(
        sandbox.as_ref(),
        &spec,
        is_custom,
        image.is_some(),
        work_dir,
        l.memory_mb,
        Box::new(on_death),
    )
    .await?;
    let mailbox = instance.mailbox.clone();
    let deadline = if l.spec.initializer_handler.is_empty() {
        START_TIMEOUT
    } else {
        Duration::from_secs(u64::from(l.spec.initializer_timeout)) + Duration::from_secs(10)
    };
    if is_http || image.is_some() {
        let until = tokio::time::Instant::now() + deadline;
        let up = tokio::select! {
            up = crate::bridge::wait_for_port(&instance.handle, until) => up,
            _ = instance.died() => false,
        };
        let (mode, what) = match &image {
            Some(_) => (
                crate::bridge::Mode::Image,
                "the container image did not listen on port 8000",
            ),
            None => (
                crate::bridge::Mode::HttpFunction,
                "the HTTP function did not listen on 127.0.0.1:8000",
            ),
        };
        if up {
            // Only an image has a `POST /init` to send them with.
            let init_headers = match &image {
                Some(_) => crate::invoke::init_headers(
                    &l.request_id,
                    chrono::Utc::now().timestamp_millis() + deadline.as_millis() as i64,
                    l.version,
                    l.memory_mb,
                    l.project_id,
                    l.spec,
                    l.region,
                ),
                None => Vec::new(),
            };
            crate::bridge::spawn(
                mode,
                mailbox.clone(),
                instance.handle.clone(),
                mailbox.max_result,
                init_headers,
            );
        } else if !instance.is_dead() {
            mailbox.init_failed(Bytes::from(
                serde_json::json!({"errorType": "InitializationTimeout", "errorMessage": format!("{what} within {}s", deadline.as_secs())}).to_string(),
            ));
        }
    }
    if is_go {
        let until = tokio::time::Instant::now() + deadline;
        let up = tokio::select! {
            up = crate::bridge::go::wait_ready(&instance.handle, go_port, until) => Some(up),
            _ = instance.died() => None,
        };
        match up {
            Some(Ok(first)) => crate::bridge::go::spawn(
                mailbox.clone(),
                instance.handle.clone(),
                go_port,
                first,
                mailbox.max_result,
            ),
            Some(Err(why)) if !instance.is_dead() => mailbox.init_failed(Bytes::from(
                serde_json::json!({"errorType": "InitializationTimeout", "errorMessage": format!("the Go function did not serve its RPC interface on RUNTIME_API_ADDR within {}s (it must call runtime.Register): {why}", deadline.as_secs())}).to_string(),
            )),
            _ => {}
        }
    }
    let outcome = tokio::select! {
        biased;
        r = mailbox.wait_ready() => Some(r),
        _ = instance.died() => None,
        _ = tokio::time::sleep(deadline) => Some(Readiness::Starting),
    };
    finish(instance, outcome, deadline).await
}

/// Turns the outcome of waiting for readiness into the started instance or the failure
/// (stopping the instance on failure).
async fn finish(
    instance: Arc<Instance>,
    outcome: Option<Readiness>,
    deadline: Duration,
) -> Result<Arc<Instance>, StartFailure> {
    let mailbox = instance.mailbox.clone();
    match outcome {
        Some(Readiness::Ready) => {
            instance.peak_rss.fetch_max(
                instance.handle.memory_bytes().unwrap_or(0),
                Ordering::Relaxed,
            );
            Ok(instance)
        }
        Some(Readiness::Failed(body)) => {
            instance.stop();
            let _ = instance.died().await;
            instance.logs.settle().await;
            Err(init_failure(&body, instance.logs.startup_lines()))
        }
        Some(Readiness::Starting) => {
            instance.stop();
            let _ = instance.died().await;
            instance.logs.settle().await;
            Err(StartFailure {
                cause: crate::invoke::Cause::InitializationFailed,
                code: 4211,
                error_type: "InitializationTimeout".into(),
                message: format!(
                    "runtime initialization timed out after {}s",
                    deadline.as_secs()
                ),
                log: instance.logs.startup_lines(),
            })
        }
        None => {
            let death = instance.died().await;
            instance.logs.settle().await;
            // A runtime that reports its init error and exits at once can be seen dead
            // before its report is handled; the report is the better answer.
            let late = tokio::time::timeout(Duration::from_millis(100), mailbox.wait_ready()).await;
            if let Ok(Readiness::Failed(body)) = late {
                return Err(init_failure(&body, instance.logs.startup_lines()));
            }
            let (cause, code, message) = match death {
                Death::OutOfMemory => (
                    crate::invoke::Cause::MemoryExceeded,
                    4205,
                    "runtime memory limit exceeded during initialization".to_string(),
                ),
                Death::Exited(status) => (
                    crate::invoke::Cause::InitializationFailed,
                    4204,
                    format!("runtime process is exited before it was ready ({status})"),
                ),
                Death::Stopped => (
                    crate::invoke::Cause::SystemError,
                    4204,
                    "instance stopped during start".into(),
                ),
            };
            Err(StartFailure {
                cause,
                code,
                error_type: "RuntimeExited".into(),
                message,
                log: instance.logs.startup_lines(),
            })
        }
    }
}

/// Starts the sandboxed process and everything that watches it (runtime API server,
/// log readers, memory watchdog, death watcher). Returns the instance and the Go port.
async fn launch(
    sandbox: &dyn Sandbox,
    spec: &InstanceSpec,
    is_custom: bool,
    is_image: bool,
    work_dir: PathBuf,
    memory_mb: u32,
    on_death: Box<dyn FnOnce(u64) + Send>,
) -> Result<(Arc<Instance>, u16), StartFailure> {
    // Held from here to the end of the death watcher (shutdown waits for it).
    let busy = busy();
    let fail_sys = |message: String| StartFailure {
        cause: crate::invoke::Cause::SystemError,
        code: 4024,
        error_type: "SystemError".into(),
        message,
        log: vec![],
    };
    let started = match sandbox.start(spec).await {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&work_dir);
            return Err(match e {
                SandboxError::NotFound(_) | SandboxError::NotExecutable(_) if is_custom => StartFailure {
                    cause: crate::invoke::Cause::InitializationFailed,
                    code: 4202,
                    error_type: "BootstrapNotFound".into(),
                    message: format!(
                        "runtime bootstrap file is not found or not executable: the code package must contain an executable file named bootstrap at its root ({e})"
                    ),
                    log: vec![],
                },
                e if is_image => StartFailure {
                    cause: crate::invoke::Cause::InitializationFailed,
                    code: 4202,
                    error_type: "ImageStartFailed".into(),
                    message: format!("the container image could not be started: {e}"),
                    log: vec![],
                },
                e => fail_sys(e.to_string()),
            });
        }
    };
    let go_port = started
        .api_addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(0);
    let handle: Arc<dyn InstanceHandle> = Arc::from(started.handle);
    let mailbox = Arc::new(Mailbox::new(stratus_types::limits::SYNC_PAYLOAD_MAX));
    let server = match started.api_listener {
        Some(l) => {
            let listener = l
                .set_nonblocking(true)
                .and_then(|_| tokio::net::TcpListener::from_std(l))
                .map_err(|e| {
                    handle.kill();
                    fail_sys(format!("runtime API socket: {e}"))
                })?;
            Some(stratus_runtimeapi::serve(listener, mailbox.clone()))
        }
        None => None,
    };
    let logs = Arc::new(LogCollector::default());
    LogCollector::spawn_reader(logs.clone(), started.stdout);
    LogCollector::spawn_reader(logs.clone(), started.stderr);

    let api_addr = started.api_addr.clone();
    let limit = Arc::new(AtomicU64::new(u64::from(memory_mb) * 1024 * 1024));
    let on_death: DeathHook = Arc::new(Mutex::new(Some(on_death)));
    let (death_tx, death_rx) = watch::channel(None);
    let stopping = Arc::new(AtomicBool::new(false));
    let oom = Arc::new(AtomicBool::new(false));
    let peak_rss = Arc::new(AtomicU64::new(0));
    // Memory watchdog for sandboxes that do not enforce the limit: keeps the peak and
    // kills above the limit. Where the sandbox enforces it, the kernel keeps the peak
    // (`peak_memory` reads it per invocation and the death watcher at exit), so sampling
    // it every 100 ms per instance would only cost file reads.
    if !handle.enforces_memory() {
        let handle = handle.clone();
        let oom = oom.clone();
        let peak = peak_rss.clone();
        let limit = limit.clone();
        let mut death = death_rx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = death.changed() => return,
                }
                let Some(rss) = handle.memory_bytes() else {
                    continue;
                };
                peak.fetch_max(rss, Ordering::Relaxed);
                if rss > limit.load(Ordering::Relaxed) {
                    oom.store(true, Ordering::Release);
                    handle.kill();
                    return;
                }
            }
        });
    }
    // Death watcher: waits for the exit, fails what is in flight, cleans up.
    {
        let exited = started.exited;
        let mailbox = mailbox.clone();
        let stopping = stopping.clone();
        let handle = handle.clone();
        let peak = peak_rss.clone();
        let id = spec.id;
        let hook = on_death.clone();
        tokio::spawn(async move {
            let _busy = busy;
            let status = exited.await;
            if let Some(p) = handle.peak_memory_bytes() {
                peak.fetch_max(p, Ordering::Relaxed);
            }
            let death = if oom.load(Ordering::Acquire) || handle.out_of_memory() {
                Death::OutOfMemory
            } else if stopping.load(Ordering::Acquire) {
                Death::Stopped
            } else {
                Death::Exited(status)
            };
            let _ = death_tx.send(Some(death));
            mailbox.close();
            let hook = hook.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(f) = hook {
                f(id);
            }
            let _ = tokio::task::spawn_blocking(move || handle.cleanup()).await;
            let _ = tokio::fs::remove_dir_all(&work_dir).await;
        });
    }

    let instance = Arc::new(Instance {
        id: spec.id,
        mailbox: mailbox.clone(),
        logs,
        death: death_rx,
        peak_rss,
        stopping,
        server,
        idle: crate::idle::IdleGate::new(handle.clone()),
        handle,
        api_addr,
        limit,
        on_death,
    });
    Ok((instance, go_port))
}

fn init_failure(body: &Bytes, log: Vec<String>) -> StartFailure {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let load = text("phase") == "load";
    let mut message = text("errorMessage");
    if message.is_empty() {
        message = String::from_utf8_lossy(body).into_owned();
    }
    StartFailure {
        cause: if load {
            crate::invoke::Cause::LoadFailed
        } else {
            crate::invoke::Cause::InitializationFailed
        },
        code: if load { 4001 } else { 4201 },
        error_type: text("errorType"),
        message,
        log,
    }
}

/// Collects an instance's output and attributes lines to requests.
#[derive(Default)]
pub(crate) struct LogCollector {
    state: Mutex<LogState>,
    fds: Mutex<Vec<i32>>,
}

#[derive(Default)]
struct LogState {
    requests: HashMap<String, RequestLog>,
    /// The request begun last: untagged output goes to it when several are in flight
    /// (the guide warns that plain prints are misattributed under concurrency; they are
    /// at least kept).
    latest: String,
    startup: Vec<String>,
}

#[derive(Default)]
struct RequestLog {
    lines: Vec<String>,
    bytes: usize,
    truncated: bool,
}

impl RequestLog {
    fn push(&mut self, text: String) {
        if self.truncated {
            return;
        }
        if self.bytes + text.len() > MAX_REQUEST_LOG {
            self.truncated = true;
            self.lines.push(format!(
                "[log truncated: more than {MAX_REQUEST_LOG} bytes]"
            ));
            return;
        }
        self.bytes += text.len() + 1;
        self.lines.push(text);
    }
}

impl LogCollector {
    /// Starts collecting lines for a request.
    pub fn begin(&self, request_id: &str) {
        let mut state = self.lock();
        state
            .requests
            .insert(request_id.to_string(), RequestLog::default());
        state.latest = request_id.to_string();
    }

    /// Stops collecting for a request and returns its lines.
    pub fn end(&self, request_id: &str) -> Vec<String> {
        self.lock()
            .requests
            .remove(request_id)
            .map(|r| r.lines)
            .unwrap_or_default()
    }

    /// Lines written before the first request (start-up output), taken once.
    pub fn startup_lines(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().startup)
    }

    /// Waits (briefly) until everything the instance has written so far is attributed.
    pub async fn settle(&self) {
        for _ in 0..100 {
            {
                // Holding the state lock means no reader is between reading and storing.
                let _state = self.lock();
                let fds = self.fds.lock().unwrap_or_else(|p| p.into_inner());
                if fds.iter().all(|fd| unread_bytes(*fd) == 0) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spawn_reader(this: Arc<Self>, fd: OwnedFd) {
        let raw = fd.as_raw_fd();
        // SAFETY: fcntl on an fd we own; AsyncFd needs it non-blocking.
        unsafe {
            let flags = libc::fcntl(raw, libc::F_GETFL);
            libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        // SAFETY: the OwnedFd is moved into the AsyncFd, which keeps it open until dropped;
        // nothing else closes it.
        let Ok(afd) = (unsafe { AsyncFd::register(fd) }) else {
            return;
        };
        this.fds.lock().unwrap_or_else(|p| p.into_inner()).push(raw);
        tokio::spawn(async move {
            let mut partial: Vec<u8> = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let Ok(mut guard) = afd.readable().await else {
                    break;
                };
                let mut state = this.lock();
                // SAFETY: `buf` is valid for `buf.len()` bytes and `raw` is owned by `afd`.
                let n = unsafe { libc::read(raw, buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    let err = std::io::Error::last_os_error();
                    drop(state);
                    if err.kind() == std::io::ErrorKind::WouldBlock {
                        guard.clear_ready();
                        continue;
                    }
                    break;
                }
                if n == 0 {
                    if !partial.is_empty() {
                        state.dispatch(&std::mem::take(&mut partial));
                    }
                    break;
                }
                partial.extend_from_slice(&buf[..n as usize]);
                while let Some(pos) = partial.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = partial.drain(..=pos).collect();
                    state.dispatch(&line[..line.len() - 1]);
                }
                if partial.len() > MAX_LINE {
                    state.dispatch(&std::mem::take(&mut partial));
                }
            }
            this.fds
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|f| *f != raw);
        });
    }
}

impl LogState {
    fn dispatch(&mut self, raw: &[u8]) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let (tag, text) = match raw.strip_prefix(b"\x1e") {
            Some(rest) => match rest.iter().position(|b| *b == 0x1f) {
                Some(p) => (Some(&rest[..p]), &rest[p + 1..]),
                None => (None, rest),
            },
            None => (None, raw),
        };
        let mut text = String::from_utf8_lossy(&text[..text.len().min(MAX_LINE)]).into_owned();
        if text.len() >= MAX_LINE {
            text.push_str(" [line truncated]");
        }
        let target = match tag {
            Some(id) => self.requests.get_mut(String::from_utf8_lossy(id).as_ref()),
            None if self.requests.len() == 1 => self.requests.values_mut().next(),
            None if self.requests.contains_key(&self.latest) => self.requests.get_mut(&self.latest),
            None => self.requests.values_mut().next(),
        };
        match target {
            Some(req) => req.push(text),
            None if self.startup.len() < MAX_STARTUP_LINES => self.startup.push(text),
            None => {}
        }
    }
}

fn unread_bytes(fd: i32) -> i32 {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the valid pointer.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if rc < 0 {
        0
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::{is_sh_script, LogCollector};

    #[test]
    fn untagged_output_goes_to_the_latest_request() {
        let logs = LogCollector::default();
        logs.begin("a");
        logs.lock().dispatch(b"only a");
        logs.begin("b");
        logs.lock().dispatch(b"\x1ea\x1ftagged a");
        logs.lock().dispatch(b"plain");
        assert_eq!(logs.end("a"), ["only a", "tagged a"]);
        logs.lock().dispatch(b"b again");
        assert_eq!(logs.end("b"), ["plain", "b again"]);
        logs.lock().dispatch(b"nobody");
        assert_eq!(logs.startup_lines(), ["nobody"]);
    }

    #[test]
    fn sh_scripts_are_recognised() {
        assert!(is_sh_script(b"#!/bin/sh\nset -o pipefail\n"));
        assert!(is_sh_script(b"#! /bin/sh -e\n"));
        assert!(is_sh_script(b"#!/bin/sh"));
        assert!(!is_sh_script(b"#!/bin/shell\n"));
        assert!(!is_sh_script(b"#!/bin/bash\n"));
        assert!(!is_sh_script(b"\x7fELF"));
    }
}
