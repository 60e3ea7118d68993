//! Synchronous invocation: resolve, admit, place on an instance (starting one if needed),
//! run under the timeout, and record logs.

use crate::config::EngineConfig;
use crate::error::InvokeError;
use crate::functions::Functions;
use crate::instance::{self, Death, Instance, Launch, StartFailure};
use crate::logs::LogSink;
use crate::materialize::Materializer;
use crate::pools::{PoolEntry, PoolKey, Pools};
use crate::shims::Shims;
use crate::versions::Versions;
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stratus_runtimeapi::{Event, Outcome};
use stratus_sandbox::Sandbox;
use stratus_scheduler::{Acquire, PoolLimits};
use stratus_store::{FunctionKey, FunctionRecord, LogLine};
use stratus_types::limits::{LOG_TAIL_BYTES, MEMORY_SIZES, SYNC_PAYLOAD_MAX};
use stratus_types::{FunctionSpec, Invalid, Urn};

/// Error causes of guide table 9-5; `marker` is what the Finish log line shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The initializer failed or the runtime did not become ready.
    InitializationFailed,
    /// The runtime could not load the handler.
    LoadFailed,
    /// A platform-side failure.
    SystemError,
    /// The invocation ran past its timeout.
    InvocationTimedOut,
    /// The instance exceeded its memory.
    MemoryExceeded,
    /// The function's code raised or returned an error.
    CodeError,
}

impl Cause {
    /// Name used in `(invoke Failed:<marker>)`.
    pub fn marker(self) -> &'static str {
        match self {
            Cause::InitializationFailed => "InitializationFailed",
            Cause::LoadFailed => "LoadFailed",
            Cause::SystemError => "SystemError",
            Cause::InvocationTimedOut => "InvocationTimedOut",
            Cause::MemoryExceeded => "RuntimeMemoryExceedLimit",
            Cause::CodeError => "CodeError",
        }
    }

    /// The guide's description of the cause.
    pub fn description(self) -> &'static str {
        match self {
            Cause::InitializationFailed => "Initialization failed",
            Cause::LoadFailed => "Load failed",
            Cause::SystemError => "System error",
            Cause::InvocationTimedOut => "Invocation timed out",
            Cause::MemoryExceeded => "Memory threshold exceeded",
            Cause::CodeError => "Code error",
        }
    }
}

/// Sync or async.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokeType {
    /// The caller waits.
    Sync,
    /// Queued.
    Async,
}

/// One invocation.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// Project of the caller.
    pub project_id: String,
    /// Target URN.
    pub urn: Urn,
    /// Event bytes.
    pub body: Bytes,
    /// Sync or async.
    pub invoke_type: InvokeType,
    /// Raw `X-Cff-Instance-Memory` value.
    pub memory: Option<String>,
    /// The request id to run under (an asynchronous request keeps its own); `None`
    /// makes a new one.
    pub request_id: Option<String>,
}

/// A function-side failure (the invocation itself succeeded as an API call).
#[derive(Debug, Clone)]
pub struct FunctionError {
    /// Internal error code (`X-Func-Err-Code`).
    pub code: u32,
    /// Cause of table 9-5.
    pub cause: Cause,
}

/// The outcome of an invocation.
#[derive(Debug, Clone)]
pub struct InvokeResult {
    /// Request id.
    pub request_id: String,
    /// Version that ran.
    pub version: String,
    /// Result bytes (the error JSON on failure).
    pub result: Bytes,
    /// Set when the function failed.
    pub error: Option<FunctionError>,
    /// The invocation's log, Start and Finish lines included.
    pub log: String,
    /// Execution time, ms.
    pub duration_ms: f64,
    /// Billed time, ms (duration rounded up).
    pub billed_ms: u64,
    /// Peak memory of the instance, MB.
    pub memory_used_mb: f64,
    /// Memory of the instance, MB.
    pub memory_mb: u32,
}

impl InvokeResult {
    /// The last `LOG_TAIL_BYTES` of the log, cut at a character boundary.
    pub fn log_tail(&self) -> &str {
        let s = self.log.as_str();
        if s.len() <= LOG_TAIL_BYTES {
            return s;
        }
        let mut start = s.len() - LOG_TAIL_BYTES;
        while !s.is_char_boundary(start) {
            start += 1;
        }
        &s[start..]
    }
}

/// Runs invocations.
#[derive(Clone)]
pub struct Invoker {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<EngineConfig>,
    functions: Functions,
    versions: Versions,
    sandbox: Arc<dyn Sandbox>,
    materializer: Materializer,
    sink: LogSink,
    shims: Shims,
    pools: Pools,
    images: Arc<crate::image_fn::Images>,
    prewarm: Arc<crate::prewarm::Prewarm>,
    shutting_down: AtomicBool,
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    // Same text as `%Y-%m-%dT%H:%M:%SZ`, without parsing a format string on every line.
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn error_json(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({"errorMessage": message, "errorType": error_type}).to_string())
}

impl Invoker {
    pub(crate) fn start(
        config: Arc<EngineConfig>,
        functions: Functions,
        versions: Versions,
        sandbox: Arc<dyn Sandbox>,
        materializer: Materializer,
        sink: LogSink,
        shims: Shims,
    ) -> Self {
        let _ = std::fs::remove_dir_all(config.data_dir.join("instances"));
        let pools = Pools::new(config.project_concurrency);
        let prewarm = crate::prewarm::Prewarm::start(crate::prewarm::PrewarmConfig {
            per_lang: config.prewarm,
            sandbox: sandbox.clone(),
            shims: shims.clone(),
            python: config.python.clone(),
            node: config.node.clone(),
            java: config.java.clone(),
            instances_root: config.data_dir.join("instances"),
            empty_code: config.data_dir.join("instances").join("empty-code"),
            network: config.network,
            ids: pools.id_source(),
        });
        let images = Arc::new(crate::image_fn::Images::new(
            config.data_dir.join("images"),
            config.image_insecure_registries.clone(),
            config.image_layout_roots.clone(),
            config.image_registry_auth.clone(),
            functions.image_gc_signal(),
        ));
        crate::image_gc::spawn_collector(
            functions.clone(),
            Arc::downgrade(&images),
            functions.image_gc_signal(),
        );
        let inner = Arc::new(Inner {
            pools,
            images,
            prewarm,
            config,
            functions,
            versions,
            sandbox,
            materializer,
            sink,
            shims,
            shutting_down: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { return };
                let idle = inner.config.idle_timeout;
                inner.pools.reap(idle);
                drop(inner);
                tokio::time::sleep(
                    (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(5)),
                )
                .await;
            }
        });
        Invoker { inner }
    }

    /// The log sink (for flushing in tests and on shutdown).
    pub fn sink(&self) -> &LogSink {
        &self.inner.sink
    }

    /// Stops every instance and refuses new invocations.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        self.inner.prewarm.stop_all();
        self.inner.pools.stop_function(None);
        if !instance::cleaned_up(Duration::from_secs(5)).await {
            tracing::warn!("shutdown: some stopped instances were not cleaned up within 5 s");
        }
        self.inner.sink.flush().await;
    }

    /// Stops the instances of a function (after delete or when told).
    pub fn stop_function(&self, function_id: &str) {
        self.inner.pools.stop_function(Some(function_id));
    }

    /// Stops the instances of one version (after it is deleted).
    pub fn stop_version(&self, function_id: &str, version: &str) {
        self.inner.pools.stop_version(function_id, version);
    }

    /// State of the pre-heated pool (ready, served and started counts per language).
    pub fn prewarm_status(&self) -> serde_json::Value {
        self.inner.prewarm.status()
    }

    /// Live instances of a function.
    pub fn instance_count(&self, function_id: &str) -> usize {
        self.inner.pools.instance_count(function_id)
    }

    /// Runs one invocation to its end. The work runs on its own task, so a caller that
    /// goes away (a client disconnect drops the API handler) cannot leave a quota unit,
    /// an instance slot or a start reservation taken.
    pub async fn invoke(&self, req: InvokeRequest) -> Result<InvokeResult, InvokeError> {
        let this = self.clone();
        tokio::spawn(async move { this.invoke_here(req).await })
            .await
            .map_err(|e| InvokeError::Internal(anyhow::anyhow!("invocation task failed: {e}")))?
    }

    async fn invoke_here(&self, req: InvokeRequest) -> Result<InvokeResult, InvokeError> {
        let inner = &self.inner;
        if inner.shutting_down.load(Ordering::Acquire) {
            return Err(InvokeError::ShuttingDown);
        }
        if req.body.len() > SYNC_PAYLOAD_MAX {
            return Err(InvokeError::PayloadTooLarge(format!(
                "the request body is {} bytes; the limit for synchronous invocation is {SYNC_PAYLOAD_MAX} bytes",
                req.body.len()
            )));
        }
        let (record, version) = self.target(&req.project_id, &req.urn).await?;
        let spec = &record.latest;
        let memory_mb = memory_for(spec, req.memory.as_deref())?;
        if spec.strategy.max_instances == 0 {
            return Err(InvokeError::Disabled);
        }
        let limits = PoolLimits {
            max_instances: u32::try_from(spec.strategy.max_instances).ok(),
            per_instance: spec.strategy.concurrent_num,
        };
        let key = PoolKey {
            function_id: record.id.clone(),
            version: version.clone(),
            memory_mb,
        };
        let pool = inner.pools.entry(key, record.revision, limits);
        if !inner
            .pools
            .take_quota(&record.project_id, inner.config.queue_wait)
            .await
        {
            return Err(InvokeError::Throttled(format!(
                "Your request has been controlled by overload sdk, please retry later. (the project's limit of {} concurrent executions is reached)",
                inner.config.project_concurrency
            )));
        }
        let result = self.run(&record, &version, memory_mb, &pool, &req).await;
        inner.pools.give_quota(&record.project_id);
        result
    }

    /// Keeps `n` reserved instances of (`record`, `version`) at the configured memory:
    /// starts missing ones (initialized, idle, never reaped) and releases extra ones;
    /// with `idle_mode` the idle reserved ones are frozen. Returns how many are reserved now.
    pub async fn keep_reserved(
        &self,
        record: &Arc<FunctionRecord>,
        version: &str,
        n: usize,
        idle_mode: bool,
    ) -> usize {
        let inner = &self.inner;
        if inner.shutting_down.load(Ordering::Acquire) {
            return 0;
        }
        let spec = &record.latest;
        if spec.strategy.max_instances == 0 {
            return 0;
        }
        let limits = PoolLimits {
            max_instances: u32::try_from(spec.strategy.max_instances).ok(),
            per_instance: spec.strategy.concurrent_num,
        };
        let key = PoolKey {
            function_id: record.id.clone(),
            version: version.to_string(),
            memory_mb: spec.memory_size,
        };
        let pool = inner.pools.entry(key, record.revision, limits);
        let have = pool.reserved_count();
        if have > n {
            pool.unreserve(have - n);
            pool.set_idle_mode(idle_mode);
            return n;
        }
        for _ in have..n {
            if pool.crash_loop().is_some() || !pool.begin_reserved_start() {
                break;
            }
            match self
                .cold_start(record, version, spec.memory_size, &pool, None)
                .await
            {
                Ok(i) => {
                    pool.note_start(None);
                    pool.started_reserved(i);
                }
                Err(f) => {
                    tracing::warn!(function = %spec.name, version, "reserved instance failed to start: {}", f.message);
                    pool.note_start(Some(&f));
                    pool.start_failed();
                    break;
                }
            }
        }
        pool.set_idle_mode(idle_mode);
        pool.reserved_count()
    }

    /// The function and version a URN names in a project, without invoking it.
    pub async fn target(
        &self,
        project_id: &str,
        urn: &Urn,
    ) -> Result<(Arc<FunctionRecord>, String), InvokeError> {
        if urn.project_id != project_id {
            return Err(InvokeError::NotFound(format!(
                "function {urn} does not exist in this project"
            )));
        }
        let key = FunctionKey {
            project_id: urn.project_id.clone(),
            package: urn.package.clone(),
            name: urn.name.clone(),
        };
        let record = match self.inner.functions.cached(&key) {
            Some(r) => r,
            None => self.inner.functions.get(&key).await.map_err(|e| match e {
                crate::DeployError::NotFound(m) => InvokeError::NotFound(m),
                other => InvokeError::Internal(anyhow::anyhow!("{other}")),
            })?,
        };
        self.inner.versions.resolve(record, &urn.qualifier).await
    }

    async fn run(
        &self,
        record: &Arc<FunctionRecord>,
        version: &str,
        memory_mb: u32,
        pool: &Arc<PoolEntry>,
        req: &InvokeRequest,
    ) -> Result<InvokeResult, InvokeError> {
        let inner = &self.inner;
        let spec = &record.latest;
        let request_id = req.request_id.clone().unwrap_or_else(new_request_id);
        let deadline = tokio::time::Instant::now() + inner.config.queue_wait;
        let mut startup_log = Vec::new();
        let instance: Arc<Instance> = loop {
            let notified = pool.freed.notified();
            match pool.acquire() {
                Acquire::Use(id) => match pool.instance(id) {
                    Some(i) if !i.is_dead() => break i,
                    _ => {
                        pool.remove(id);
                        continue;
                    }
                },
                Acquire::Start => {
                    if let Some(f) = pool.crash_loop() {
                        pool.start_failed();
                        return Ok(self.failed_start(record, version, memory_mb, &request_id, f));
                    }
                    match self
                        .cold_start(record, version, memory_mb, pool, Some(&request_id))
                        .await
                    {
                        Ok(i) => {
                            pool.note_start(None);
                            startup_log = i.logs.startup_lines();
                            pool.started(i.clone());
                            break i;
                        }
                        Err(f) => {
                            pool.note_start(Some(&f));
                            pool.start_failed();
                            return Ok(self.failed_start(
                                record,
                                version,
                                memory_mb,
                                &request_id,
                                f,
                            ));
                        }
                    }
                }
                Acquire::Wait => {
                    // Every start ends in `started` or `start_failed`, which wake us; the
                    // guard also counts a caller that goes away while waiting.
                    let _waiting = StopWaiting(pool);
                    notified.await;
                }
                Acquire::Throttle => {
                    if tokio::time::timeout_at(deadline, notified).await.is_err() {
                        return Err(InvokeError::Throttled(format!(
                            "Your request has been controlled by overload sdk, please retry later. (function {:?} is at its limit of {} instances)",
                            spec.name, spec.strategy.max_instances
                        )));
                    }
                }
            }
        };
        instance.idle.enter();
        let result = self
            .execute(
                record,
                version,
                memory_mb,
                &instance,
                request_id,
                startup_log,
                req,
            )
            .await;
        if instance.idle.enabled() {
            // Freezing is a cgroup write: keep it off the response's path.
            let i = instance.clone();
            tokio::spawn(async move { i.idle.leave() });
        } else {
            instance.idle.leave();
        }
        if instance.is_dead() {
            pool.remove(instance.id);
        } else {
            pool.release(instance.id);
        }
        Ok(result)
    }

    async fn cold_start(
        &self,
        record: &Arc<FunctionRecord>,
        version: &str,
        memory_mb: u32,
        pool: &Arc<PoolEntry>,
        request_id: Option<&str>,
    ) -> Result<Arc<Instance>, StartFailure> {
        let inner = &self.inner;
        let dependencies: Vec<String> = record
            .latest
            .dependencies
            .iter()
            .map(|d| d.sha256.clone())
            .collect();
        let code_dir = inner
            .materializer
            .view_dir(&record.latest.code.sha256, &dependencies)
            .await
            .map_err(|e| StartFailure {
                cause: Cause::SystemError,
                code: 4024,
                error_type: "SystemError".into(),
                message: format!("prepare code: {e:#}"),
                log: vec![],
            })?;
        let id = inner.pools.next_instance_id();
        let weak_pool = Arc::downgrade(pool);
        let on_death = move |id| {
            if let Some(pool) = weak_pool.upgrade() {
                pool.remove(id);
            }
        };
        let launch = Launch {
            id,
            project_id: &record.project_id,
            region: &inner.config.region,
            // A start ahead of any request (reserved instances) gets an id of its own.
            request_id: request_id.map_or_else(new_request_id, str::to_string),
            version,
            spec: &record.latest,
            memory_mb,
            code_dir,
            instances_root: inner.config.data_dir.join("instances"),
            shims: &inner.shims,
            python: &inner.config.python,
            node: &inner.config.node,
            java: inner.config.java.as_deref(),
            mount_roots: &inner.config.mount_roots,
            images: &inner.images,
            network: inner.config.network && !network_disabled(&record.latest),
        };
        let mut on_death = on_death;
        if let Some(lang) = instance::poolable(&launch, inner.prewarm.network()) {
            if let Some(warm) = inner.prewarm.take(lang) {
                match instance::specialise(warm, lang, &launch, inner.sandbox.as_ref(), on_death)
                    .await
                {
                    instance::Specialised::Done(r) => return r,
                    instance::Specialised::Unusable(hook) => on_death = hook,
                }
            }
        }
        instance::start(launch, inner.sandbox.clone(), on_death).await
    }

    fn failed_start(
        &self,
        record: &FunctionRecord,
        version: &str,
        memory_mb: u32,
        request_id: &str,
        f: StartFailure,
    ) -> InvokeResult {
        let start = chrono::Utc::now();
        let mut lines = vec![format!(
            "{} Start invoke request '{request_id}', version: {version}",
            ts(start)
        )];
        lines.extend(f.log);
        lines.push(format!("{}: {}", f.cause.description(), f.message));
        lines.push(finish_line(
            request_id,
            Some(f.cause),
            0.0,
            0,
            0.0,
            memory_mb,
        ));
        let log = lines.join("\n");
        self.record_logs(record, version, request_id, lines);
        InvokeResult {
            request_id: request_id.to_string(),
            version: version.to_string(),
            result: error_json(&f.error_type, &f.message),
            error: Some(FunctionError {
                code: f.code,
                cause: f.cause,
            }),
            log,
            duration_ms: 0.0,
            billed_ms: 0,
            memory_used_mb: 0.0,
            memory_mb,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn execute(
        &self,
        record: &FunctionRecord,
        version: &str,
        memory_mb: u32,
        instance: &Arc<Instance>,
        request_id: String,
        startup_log: Vec<String>,
        req: &InvokeRequest,
    ) -> InvokeResult {
        let spec = &record.latest;
        let timeout = Duration::from_secs(u64::from(spec.timeout));
        let started_at = chrono::Utc::now();
        let deadline_ms = started_at.timestamp_millis() + timeout.as_millis() as i64;
        instance.logs.begin(&request_id);
        let body = if req.body.is_empty() {
            Bytes::from_static(b"{}")
        } else {
            req.body.clone()
        };
        let event = Event {
            request_id: request_id.clone(),
            body,
            headers: event_headers(
                req.invoke_type,
                deadline_ms,
                version,
                memory_mb,
                &record.project_id,
                spec,
                &self.inner.config.region,
            ),
        };
        let t0 = Instant::now();
        let rx = instance.mailbox.submit(event);
        let outcome = tokio::time::timeout(timeout, rx).await;
        let duration = t0.elapsed();
        let (result, error) = match outcome {
            Ok(Ok(Outcome::Success(b))) => (b, None),
            Ok(Ok(Outcome::Error(b))) => (b, Some((4002, Cause::CodeError))),
            Ok(Ok(Outcome::TooLarge(limit))) => (
                error_json(
                    "FunctionResponseTooLarge",
                    &format!("response body size exceeds the limit of {limit} bytes"),
                ),
                Some((4008, Cause::CodeError)),
            ),
            Ok(Err(_)) => {
                // The instance died with the request in flight.
                let death = instance.died().await;
                match death {
                    Death::OutOfMemory => (
                        error_json("RuntimeMemoryExceedLimit", "runtime memory limit exceeded"),
                        Some((4205, Cause::MemoryExceeded)),
                    ),
                    Death::Exited(status) => (
                        error_json(
                            "RuntimeExited",
                            &format!("runtime process is exited ({status})"),
                        ),
                        Some((4204, Cause::SystemError)),
                    ),
                    Death::Stopped => (
                        error_json("RuntimeStopped", "the instance was stopped"),
                        Some((4204, Cause::SystemError)),
                    ),
                }
            }
            Err(_) => {
                instance.mailbox.forget(&request_id);
                instance.stop();
                (
                    error_json(
                        "InvokeTimeout",
                        &format!(
                            "invocation timed out: call invoke timeout {}s",
                            spec.timeout
                        ),
                    ),
                    Some((4010, Cause::InvocationTimedOut)),
                )
            }
        };
        instance.logs.settle().await;
        let mut user_lines = instance.logs.end(&request_id);
        let duration_ms = duration.as_secs_f64() * 1000.0;
        let billed_ms = duration_ms.ceil().max(1.0) as u64;
        let memory_used_mb = instance.peak_memory() as f64 / (1024.0 * 1024.0);
        let mut lines = Vec::with_capacity(user_lines.len() + 3);
        lines.push(format!(
            "{} Start invoke request '{request_id}', version: {version}",
            ts(started_at)
        ));
        lines.extend(startup_log);
        lines.append(&mut user_lines);
        if let Some((_, cause)) = error {
            if cause != Cause::CodeError {
                lines.push(format!(
                    "{}: {}",
                    cause.description(),
                    String::from_utf8_lossy(&result)
                ));
            }
        }
        lines.push(finish_line(
            &request_id,
            error.map(|e| e.1),
            duration_ms,
            billed_ms,
            memory_used_mb,
            memory_mb,
        ));
        let log = lines.join("\n");
        self.record_logs(record, version, &request_id, lines);
        InvokeResult {
            request_id,
            version: version.to_string(),
            result,
            error: error.map(|(code, cause)| FunctionError { code, cause }),
            log,
            duration_ms,
            billed_ms,
            memory_used_mb,
            memory_mb,
        }
    }

    fn record_logs(
        &self,
        record: &FunctionRecord,
        version: &str,
        request_id: &str,
        lines: Vec<String>,
    ) {
        let now = chrono::Utc::now().timestamp_millis();
        let spec: &FunctionSpec = &record.latest;
        let out = lines
            .into_iter()
            .map(|text| LogLine {
                project_id: record.project_id.clone(),
                package: spec.package.clone(),
                function: spec.name.clone(),
                version: version.to_string(),
                request_id: request_id.to_string(),
                time_ms: now,
                level: level_of(&text).to_string(),
                text,
            })
            .collect();
        self.inner.sink.send(out);
    }
}

/// A random (v4) UUID from the thread's CSPRNG: `Uuid::new_v4` asks the kernel
/// (`getrandom`) on every call, one syscall per invocation.
fn new_request_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

/// Ends a request's wait for a starting instance, however the wait ends.
struct StopWaiting<'a>(&'a PoolEntry);

impl Drop for StopWaiting<'_> {
    fn drop(&mut self) {
        self.0.stop_waiting();
    }
}

/// `network_controller.disable_public_network` turns outbound access off.
fn network_disabled(spec: &FunctionSpec) -> bool {
    spec.extras
        .get("network_controller")
        .and_then(|n| n.get("disable_public_network"))
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

fn level_of(text: &str) -> &'static str {
    let mut words = text.split_whitespace().skip(2);
    match words.next() {
        Some("ERROR") => "ERROR",
        Some("WARN") | Some("WARNING") => "WARN",
        Some("DEBUG") => "DEBUG",
        _ => "INFO",
    }
}

/// Names of the event headers, built at compile time; the casing is what the Go bridge
/// passes on ([`event_header_display`]), HTTP sends them lower-cased.
const EVENT_HEADERS: [(HeaderName, &str); 16] = [
    (
        HeaderName::from_static("x-cff-invoke-type"),
        "X-CFF-Invoke-Type",
    ),
    (
        HeaderName::from_static("x-cff-access-key"),
        "X-CFF-Access-Key",
    ),
    (
        HeaderName::from_static("x-cff-secret-key"),
        "X-CFF-Secret-Key",
    ),
    (
        HeaderName::from_static("x-cff-auth-token"),
        "X-CFF-Auth-Token",
    ),
    (
        HeaderName::from_static("x-cff-security-access-key"),
        "X-CFF-Security-Access-Key",
    ),
    (
        HeaderName::from_static("x-cff-security-secret-key"),
        "X-CFF-Security-Secret-Key",
    ),
    (
        HeaderName::from_static("x-cff-security-token"),
        "X-CFF-Security-Token",
    ),
    (
        HeaderName::from_static("x-cff-origin-version-tag"),
        "X-Cff-Origin-Version-Tag",
    ),
    (
        HeaderName::from_static("x-cff-deadline-ms"),
        "X-Cff-Deadline-Ms",
    ),
    (
        HeaderName::from_static("x-cff-func-version"),
        "X-CFF-Func-Version",
    ),
    (HeaderName::from_static("x-cff-memory"), "X-CFF-Memory"),
    (HeaderName::from_static("x-cff-timeout"), "X-CFF-Timeout"),
    (
        HeaderName::from_static("x-cff-func-name"),
        "X-CFF-Func-Name",
    ),
    (
        HeaderName::from_static("x-cff-project-id"),
        "X-CFF-Project-Id",
    ),
    (HeaderName::from_static("x-cff-package"), "X-CFF-Package"),
    (HeaderName::from_static("x-cff-region"), "X-CFF-Region"),
];

/// The header the specialise event of a pre-started instance carries.
pub(crate) const SPECIALISE_HEADER: (HeaderName, &str) = (
    HeaderName::from_static("x-stratus-specialise"),
    "X-Stratus-Specialise",
);

/// The casing an event header had before names were parsed (the Go bridge hands names
/// to the function as they are); unknown names keep their lower-case form.
pub(crate) fn event_header_display(name: &HeaderName) -> &str {
    EVENT_HEADERS
        .iter()
        .chain(std::iter::once(&SPECIALISE_HEADER))
        .find(|(n, _)| n == name)
        .map_or(name.as_str(), |(_, d)| d)
}

/// The headers of an event, in the order the runtime API sends them. A value that is not
/// a valid header value (names and ids are validated, so it cannot happen today) is sent
/// empty rather than failing the event.
fn event_headers(
    invoke_type: InvokeType,
    deadline_ms: i64,
    version: &str,
    memory_mb: u32,
    project_id: &str,
    spec: &FunctionSpec,
    region: &str,
) -> Vec<(HeaderName, HeaderValue)> {
    let text = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    let empty = HeaderValue::from_static("");
    let values: [HeaderValue; 16] = [
        HeaderValue::from_static(if invoke_type == InvokeType::Sync {
            "sync"
        } else {
            "async"
        }),
        empty.clone(),
        empty.clone(),
        empty.clone(),
        empty.clone(),
        empty.clone(),
        empty.clone(),
        empty,
        HeaderValue::from(deadline_ms),
        text(version),
        HeaderValue::from(memory_mb),
        HeaderValue::from(spec.timeout),
        text(&spec.name),
        text(project_id),
        text(&spec.package),
        text(region),
    ];
    EVENT_HEADERS
        .iter()
        .map(|(n, _)| n.clone())
        .zip(values)
        .collect()
}

/// The headers of a container image's `POST /init`: those of an event, less the
/// invocation type (an instance serves both kinds), with the request id first. The
/// deadline is the end of the start.
pub(crate) fn init_headers(
    request_id: &str,
    deadline_ms: i64,
    version: &str,
    memory_mb: u32,
    project_id: &str,
    spec: &FunctionSpec,
    region: &str,
) -> Vec<(HeaderName, HeaderValue)> {
    let id = HeaderValue::from_str(request_id).unwrap_or(HeaderValue::from_static(""));
    let mut out = vec![(HeaderName::from_static("x-cff-request-id"), id)];
    out.extend(
        event_headers(
            InvokeType::Sync,
            deadline_ms,
            version,
            memory_mb,
            project_id,
            spec,
            region,
        )
        .into_iter()
        .filter(|(n, _)| n != "x-cff-invoke-type"),
    );
    out
}

/// `{:.3}` of a measured value, through integers: the float formatter's exact mode
/// falls back to a slow bignum algorithm for many values. Rounds half away from zero
/// where `{:.3}` rounds half to even; the two differ only on exact halves of 0.001.
struct Milli(f64);

impl std::fmt::Display for Milli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if !(0.0..1e12).contains(&v) {
            return write!(f, "{v:.3}");
        }
        let m = (v * 1000.0).round() as u64;
        write!(f, "{}.{:03}", m / 1000, m % 1000)
    }
}

fn finish_line(
    request_id: &str,
    failed: Option<Cause>,
    duration_ms: f64,
    billed_ms: u64,
    used_mb: f64,
    memory_mb: u32,
) -> String {
    let marker = failed
        .map(|c| format!("(invoke Failed:{})", c.marker()))
        .unwrap_or_default();
    format!(
        "{} Finish invoke request '{request_id}'{marker}, duration: {}ms, billing duration: {billed_ms}ms, memory used: {}MB, billing memory: {memory_mb}MB",
        ts(chrono::Utc::now()),
        Milli(duration_ms),
        Milli(used_mb),
    )
}

fn memory_for(spec: &FunctionSpec, header: Option<&str>) -> Result<u32, InvokeError> {
    let Some(raw) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(spec.memory_size);
    };
    let mb: u32 = raw.parse().map_err(|_| {
        InvokeError::BadMemory(format!(
            "X-Cff-Instance-Memory {raw:?} is not a number of MB"
        ))
    })?;
    if !MEMORY_SIZES.contains(&mb) {
        return Err(InvokeError::BadMemory(format!(
            "X-Cff-Instance-Memory {mb} is not an allowed memory size"
        )));
    }
    if !spec.enable_dynamic_memory {
        return Err(InvokeError::BadMemory(
            "X-Cff-Instance-Memory needs dynamic memory enabled on the function (enable_dynamic_memory)".into(),
        ));
    }
    Ok(mb)
}

impl From<Invalid> for Box<InvokeError> {
    fn from(i: Invalid) -> Self {
        Box::new(InvokeError::Invalid(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milli_matches_float_formatting() {
        let mut v = 0.0f64;
        while v < 5000.0 {
            assert_eq!(Milli(v).to_string(), format!("{v:.3}"), "{v}");
            v = v * 1.37 + 0.000_731;
        }
        for v in [0.0, 1.0, 0.1234, 12.3456, 999.9996, 1e13, f64::NAN] {
            assert_eq!(Milli(v).to_string(), format!("{v:.3}"), "{v}");
        }
    }

    #[test]
    fn event_header_names_keep_their_casing() {
        for (name, display) in EVENT_HEADERS.iter().chain([&SPECIALISE_HEADER]) {
            assert_eq!(name.as_str(), display.to_ascii_lowercase());
            assert_eq!(event_header_display(name), *display);
        }
        let other = HeaderName::from_static("x-other");
        assert_eq!(event_header_display(&other), "x-other");
    }
}
