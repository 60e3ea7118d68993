//! Asynchronous invocation: requests are committed durably (group commit) before they
//! are acknowledged, run by a dispatcher in order of arrival per function within a
//! bounded share of capacity, retried by policy, and end in exactly one terminal status
//! whose record goes to the configured destination.

mod journal;
pub mod policy;
mod record;

use crate::config::EngineConfig;
use crate::error::{DeployError, InvokeError};
use crate::functions::Functions;
use crate::invoke::{Cause, InvokeRequest, InvokeResult, InvokeType, Invoker};
use bytes::Bytes;
use journal::Journal;
use policy::{AsyncPolicy, Destination, PolicyInput};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use stratus_store::{
    AsyncConfigRecord, AsyncOp, AsyncQuery, AsyncRequest, AsyncStatus, FunctionKey, Store,
};
use stratus_types::limits::ASYNC_PAYLOAD_MAX;
use stratus_types::{Invalid, Qualifier, RuntimeKind, Urn};
use tokio::sync::{Notify, Semaphore};

/// Wait before a request that found no free capacity is tried again (not an attempt).
const THROTTLE_RETRY: Duration = Duration::from_millis(100);
/// How often finished records past the retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Backoff before retry `n` (1-based): 1 s, 2 s, 4 s, ... at most a minute.
fn backoff(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

/// The qualifier text stored with a request or a policy.
pub fn qualifier_text(q: &Qualifier) -> String {
    match q {
        Qualifier::None | Qualifier::Latest => "latest".into(),
        Qualifier::Version(v) => v.clone(),
        Qualifier::Alias(a) => format!("!{a}"),
    }
}

/// The qualifier a stored text names (the inverse of `qualifier_text`).
pub(crate) fn qualifier_of(text: &str) -> Qualifier {
    match text {
        "latest" => Qualifier::Latest,
        t => match t.strip_prefix('!') {
            Some(a) => Qualifier::Alias(a.to_string()),
            None => Qualifier::Version(t.to_string()),
        },
    }
}

/// A stored policy with its times, as the API shows it.
#[derive(Debug, Clone)]
pub struct AsyncConfig {
    /// URN of the function qualifier it belongs to.
    pub func_urn: String,
    /// The policy.
    pub policy: AsyncPolicy,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last change, RFC 3339.
    pub modified_at: String,
}

/// Why a cancel was refused.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// No such request for this function.
    #[error("{0}")]
    NotFound(String),
    /// The request is running or finished.
    #[error("{0}")]
    NotWaiting(String),
    /// Anything unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

struct Policy {
    /// Unqualified URN of the function the policy belongs to (for cycle checks).
    source: String,
    policy: AsyncPolicy,
    record: AsyncConfigRecord,
}

#[derive(Default)]
struct State {
    /// Ready requests per function id, in order of arrival.
    queues: HashMap<String, VecDeque<AsyncRequest>>,
    /// Function ids with ready requests, served round robin.
    turn: VecDeque<String>,
    /// Retries not yet due.
    delayed: Vec<(Instant, AsyncRequest)>,
    /// Requests running per function id.
    running: HashMap<String, usize>,
}

impl State {
    fn push(&mut self, req: AsyncRequest) {
        let q = self.queues.entry(req.function_id.clone()).or_default();
        if q.is_empty() && !self.turn.contains(&req.function_id) {
            self.turn.push_back(req.function_id.clone());
        }
        q.push_back(req);
    }

    fn push_front(&mut self, req: AsyncRequest) {
        let q = self.queues.entry(req.function_id.clone()).or_default();
        if q.is_empty() && !self.turn.contains(&req.function_id) {
            self.turn.push_back(req.function_id.clone());
        }
        q.push_front(req);
    }
}

/// The asynchronous invocation queue.
#[derive(Clone)]
pub struct AsyncQueue {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<EngineConfig>,
    store: Arc<dyn Store>,
    journal: Journal,
    invoker: Invoker,
    functions: Functions,
    policies: RwLock<HashMap<(String, String), Policy>>,
    state: Mutex<State>,
    wake: Notify,
    permits: Arc<Semaphore>,
    stopping: AtomicBool,
}

impl AsyncQueue {
    /// Loads policies, recovers requests left by an earlier run (a request that was
    /// RUNNING when the server stopped counts as a failed attempt), then starts the
    /// dispatcher.
    pub(crate) async fn start(
        config: Arc<EngineConfig>,
        store: Arc<dyn Store>,
        invoker: Invoker,
        functions: Functions,
    ) -> anyhow::Result<Self> {
        let mut policies = HashMap::new();
        for rec in store.async_configs().await? {
            let Ok(stored) = serde_json::from_str::<StoredPolicy>(&rec.config) else {
                tracing::warn!(function = %rec.function_id, "unreadable async policy ignored");
                continue;
            };
            policies.insert(
                (rec.function_id.clone(), rec.qualifier.clone()),
                Policy {
                    source: stored.source,
                    policy: stored.policy,
                    record: rec,
                },
            );
        }
        let inner = Arc::new(Inner {
            journal: Journal::start(store.clone()),
            permits: Arc::new(Semaphore::new(config.async_concurrency.max(1))),
            config,
            store,
            invoker,
            functions,
            policies: RwLock::new(policies),
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
        });
        inner.recover().await?;
        tokio::spawn(inner.clone().dispatch());
        tokio::spawn(prune(Arc::downgrade(&inner)));
        Ok(AsyncQueue { inner })
    }

    /// Accepts an asynchronous invocation: returns its request id once it is durable.
    pub async fn accept(
        &self,
        project_id: &str,
        urn: &Urn,
        body: Bytes,
        memory: Option<String>,
    ) -> Result<String, InvokeError> {
        self.accept_as(project_id, urn, body, memory, None).await
    }

    /// Like `accept`, under a given request id. A request id that is already stored is
    /// not queued again: triggers derive ids from what fired, so a repeated fire (after a
    /// restart within the same second, say) is dropped instead of doubled.
    pub async fn accept_as(
        &self,
        project_id: &str,
        urn: &Urn,
        body: Bytes,
        memory: Option<String>,
        request_id: Option<String>,
    ) -> Result<String, InvokeError> {
        let inner = &self.inner;
        if let Some(id) = &request_id {
            if inner
                .store
                .async_get(id)
                .await
                .map_err(|e| InvokeError::Internal(e.into()))?
                .is_some()
            {
                return Ok(id.clone());
            }
        }
        if inner.stopping.load(Ordering::Acquire) {
            return Err(InvokeError::ShuttingDown);
        }
        if body.len() > ASYNC_PAYLOAD_MAX {
            return Err(InvokeError::PayloadTooLarge(format!(
                "the request body is {} bytes; the limit for asynchronous invocation is {ASYNC_PAYLOAD_MAX} bytes",
                body.len()
            )));
        }
        let (record, _) = inner.invoker.target(project_id, urn).await?;
        if record.latest.runtime().map(|r| r.kind()).ok() == Some(RuntimeKind::Http) {
            return Err(InvokeError::Invalid(Invalid::field(
                "function_urn",
                "HTTP functions cannot be invoked asynchronously; invoke them synchronously",
            )));
        }
        let req = AsyncRequest {
            request_id: request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            project_id: project_id.to_string(),
            function_id: record.id.clone(),
            package: record.latest.package.clone(),
            function: record.latest.name.clone(),
            qualifier: qualifier_text(&urn.qualifier),
            memory,
            payload: body.to_vec(),
            status: AsyncStatus::Wait,
            attempts: 0,
            accepted_ms: now_ms(),
            start_ms: None,
            end_ms: None,
            error_code: 0,
            error_message: String::new(),
        };
        let id = req.request_id.clone();
        inner
            .journal
            .commit(vec![AsyncOp::Insert(Box::new(req.clone()))])
            .await
            .map_err(|e| InvokeError::Internal(anyhow::anyhow!("queue the request: {e}")))?;
        inner.enqueue(req);
        Ok(id)
    }

    /// A page of a function's requests and the total matching.
    pub async fn list(&self, query: &AsyncQuery) -> anyhow::Result<(Vec<AsyncRequest>, usize)> {
        Ok(self.inner.store.async_list(query).await?)
    }

    /// Cancels a request that is still waiting; it ends as DISCARD.
    pub async fn cancel(&self, function_id: &str, request_id: &str) -> Result<(), CancelError> {
        let inner = &self.inner;
        let taken = {
            let mut st = inner.state.lock().unwrap_or_else(|p| p.into_inner());
            let from_queue = st.queues.get_mut(function_id).and_then(|q| {
                let at = q.iter().position(|r| r.request_id == request_id)?;
                q.remove(at)
            });
            from_queue.or_else(|| {
                let at = st.delayed.iter().position(|(_, r)| {
                    r.request_id == request_id && r.function_id == function_id
                })?;
                Some(st.delayed.remove(at).1)
            })
        };
        if let Some(req) = taken {
            inner
                .journal
                .commit(vec![AsyncOp::Finish {
                    request_id: req.request_id.clone(),
                    status: AsyncStatus::Discard,
                    end_ms: now_ms(),
                    error_code: 0,
                    error_message: "cancelled by the user before it ran".into(),
                }])
                .await
                .map_err(|e| CancelError::Internal(anyhow::anyhow!(e)))?;
            return Ok(());
        }
        match inner
            .store
            .async_get(request_id)
            .await
            .map_err(|e| CancelError::Internal(e.into()))?
        {
            Some(r) if r.function_id == function_id => Err(CancelError::NotWaiting(format!(
                "request {request_id} is {} and can no longer be cancelled; only waiting requests can",
                r.status.as_str()
            ))),
            _ => Err(CancelError::NotFound(format!(
                "asynchronous request {request_id} of this function does not exist"
            ))),
        }
    }

    /// Sets the policy of a function qualifier. Destination functions must exist, and a
    /// destination that would lead back to this function is refused.
    pub async fn put_config(
        &self,
        function: &FunctionKey,
        qualifier: &Qualifier,
        input: &PolicyInput,
    ) -> Result<AsyncConfig, DeployError> {
        let inner = &self.inner;
        let record = inner.functions.get(function).await?;
        let policy = input.validate(&function.project_id)?;
        let region = inner.functions.region().to_string();
        let source = Urn::of(
            &region,
            &function.project_id,
            &function.package,
            &function.name,
            Qualifier::None,
        )
        .to_string();
        let mut targets = Vec::new();
        for (d, field) in [
            (&policy.on_success, "destination_config.on_success"),
            (&policy.on_failure, "destination_config.on_failure"),
        ] {
            let Some(d) = d else { continue };
            let Some(target) = policy::target_function(d) else {
                continue;
            };
            let urn = Urn::parse(&target).map_err(DeployError::Invalid)?;
            let key = FunctionKey {
                project_id: urn.project_id.clone(),
                package: urn.package.clone(),
                name: urn.name.clone(),
            };
            if inner.functions.get(&key).await.is_err() {
                return Err(Invalid::field(
                    format!("{field}.param.func_urn"),
                    format!("function {target} does not exist"),
                )
                .into());
            }
            targets.push(target);
        }
        let q = qualifier_text(qualifier);
        if let Some(path) = inner.cycle(&record.id, &q, &source, &targets) {
            return Err(Invalid::field(
                "destination_config",
                format!(
                    "the destinations would form a cycle ({}); a function must not be its own asynchronous destination, directly or through others",
                    path.join(" -> ")
                ),
            )
            .into());
        }
        let stored = StoredPolicy {
            source: source.clone(),
            policy: policy.clone(),
        };
        let json = serde_json::to_string(&stored).map_err(|e| DeployError::Internal(e.into()))?;
        let rec = inner.store.put_async_config(&record.id, &q, &json).await?;
        let out = AsyncConfig {
            func_urn: format!("{source}:{q}"),
            policy: policy.clone(),
            created_at: rec.created_at.clone(),
            modified_at: rec.modified_at.clone(),
        };
        inner
            .policies
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                (record.id.clone(), q),
                Policy {
                    source,
                    policy,
                    record: rec,
                },
            );
        Ok(out)
    }

    /// The policy of a function qualifier, if one is set.
    pub fn config(&self, function_id: &str, qualifier: &Qualifier) -> Option<AsyncConfig> {
        let q = qualifier_text(qualifier);
        let map = self
            .inner
            .policies
            .read()
            .unwrap_or_else(|p| p.into_inner());
        map.get(&(function_id.to_string(), q.clone()))
            .map(|p| shown(p, &q))
    }

    /// Every policy of a function.
    pub fn configs(&self, function_id: &str) -> Vec<AsyncConfig> {
        let map = self
            .inner
            .policies
            .read()
            .unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<AsyncConfig> = map
            .iter()
            .filter(|((f, _), _)| f == function_id)
            .map(|((_, q), p)| shown(p, q))
            .collect();
        out.sort_by(|a, b| (&a.created_at, &a.func_urn).cmp(&(&b.created_at, &b.func_urn)));
        out
    }

    /// Removes the policy of a function qualifier.
    pub async fn delete_config(
        &self,
        function_id: &str,
        qualifier: &Qualifier,
    ) -> Result<(), DeployError> {
        let q = qualifier_text(qualifier);
        self.inner
            .store
            .delete_async_config(function_id, &q)
            .await
            .map_err(|e| match e {
                stratus_store::StoreError::NotFound => DeployError::NotFound(format!(
                    "no asynchronous invocation config is set for qualifier {q}"
                )),
                e => e.into(),
            })?;
        self.inner
            .policies
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(function_id.to_string(), q));
        Ok(())
    }

    /// Forgets the policies and queued requests of a deleted function (its rows are gone
    /// with it).
    pub fn forget_function(&self, function_id: &str) {
        self.inner
            .policies
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(f, _), _| f != function_id);
        let mut st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        st.queues.remove(function_id);
        st.turn.retain(|f| f != function_id);
        st.delayed.retain(|(_, r)| r.function_id != function_id);
    }

    /// Stops dispatching; requests still waiting stay stored for the next start.
    pub fn shutdown(&self) {
        self.inner.stopping.store(true, Ordering::Release);
        self.inner.wake.notify_one();
    }
}

fn shown(p: &Policy, q: &str) -> AsyncConfig {
    AsyncConfig {
        func_urn: format!("{}:{q}", p.source),
        policy: p.policy.clone(),
        created_at: p.record.created_at.clone(),
        modified_at: p.record.modified_at.clone(),
    }
}

/// What is stored per qualifier: the policy and the function it belongs to.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredPolicy {
    source: String,
    policy: AsyncPolicy,
}

/// How an attempt ended, for the status record and the destination.
struct Ended {
    status: AsyncStatus,
    error_code: i64,
    error_message: String,
    condition: String,
    status_code: u16,
    response: Vec<u8>,
}

impl Inner {
    fn enqueue(&self, req: AsyncRequest) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(req);
        self.wake.notify_one();
    }

    fn policy(&self, function_id: &str, qualifier: &str) -> AsyncPolicy {
        self.policies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(function_id.to_string(), qualifier.to_string()))
            .map(|p| p.policy.clone())
            .unwrap_or_default()
    }

    /// A path of function URNs from a target back to `source`, if the new destinations
    /// of (`function_id`, `qualifier`) would close a cycle.
    fn cycle(
        &self,
        function_id: &str,
        qualifier: &str,
        source: &str,
        targets: &[String],
    ) -> Option<Vec<String>> {
        let map = self.policies.read().unwrap_or_else(|p| p.into_inner());
        let mut edges: HashMap<&str, Vec<String>> = HashMap::new();
        for ((f, q), p) in map.iter() {
            if f == function_id && q == qualifier {
                continue;
            }
            for d in [&p.policy.on_success, &p.policy.on_failure]
                .into_iter()
                .flatten()
            {
                if let Some(t) = policy::target_function(d) {
                    edges.entry(p.source.as_str()).or_default().push(t);
                }
            }
        }
        // Depth-first from each new target, remembering the way back.
        for t in targets {
            let mut stack = vec![(t.clone(), vec![source.to_string(), t.clone()])];
            let mut seen = HashSet::new();
            while let Some((at, path)) = stack.pop() {
                if at == source {
                    return Some(path);
                }
                if !seen.insert(at.clone()) {
                    continue;
                }
                for next in edges.get(at.as_str()).into_iter().flatten() {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
        None
    }

    async fn recover(&self) -> anyhow::Result<()> {
        let pending = self.store.async_pending().await?;
        let mut ops = Vec::new();
        let mut failed = Vec::new();
        for mut req in pending {
            if req.status == AsyncStatus::Running {
                // The server stopped during this attempt: a system error of that attempt.
                let policy = self.policy(&req.function_id, &req.qualifier);
                req.error_code = 4204;
                req.error_message = "the server stopped while the request was running".into();
                if req.attempts <= policy.max_retries {
                    ops.push(AsyncOp::Requeue {
                        request_id: req.request_id.clone(),
                        attempts: req.attempts,
                        error_code: req.error_code,
                        error_message: req.error_message.clone(),
                    });
                    req.status = AsyncStatus::Wait;
                } else {
                    failed.push(req);
                    continue;
                }
            }
            self.state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(req);
        }
        if !ops.is_empty() {
            self.journal.commit(ops).await.map_err(anyhow::Error::msg)?;
        }
        for req in failed {
            let ended = Ended {
                status: AsyncStatus::Fail,
                error_code: req.error_code,
                error_message: req.error_message.clone(),
                condition: "SystemError".into(),
                status_code: 500,
                response: Vec::new(),
            };
            self.finish(req, ended).await;
        }
        Ok(())
    }

    /// Capacity of a function for concurrent asynchronous runs.
    fn capacity(&self, req: &AsyncRequest) -> usize {
        let key = FunctionKey {
            project_id: req.project_id.clone(),
            package: req.package.clone(),
            name: req.function.clone(),
        };
        match self.functions.cached(&key) {
            Some(r) if r.latest.strategy.max_instances > 0 => {
                r.latest.strategy.max_instances as usize
                    * r.latest.strategy.concurrent_num.max(1) as usize
            }
            _ => usize::MAX,
        }
    }

    /// The next request to run, or when the next delayed one is due.
    fn pick(&self) -> (Option<AsyncRequest>, Option<Instant>) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let mut due = Vec::new();
        st.delayed.retain(|(t, r)| {
            if *t <= now {
                due.push(r.clone());
                false
            } else {
                true
            }
        });
        for r in due.into_iter().rev() {
            st.push_front(r);
        }
        let next_due = st.delayed.iter().map(|(t, _)| *t).min();
        for _ in 0..st.turn.len() {
            let Some(fid) = st.turn.pop_front() else {
                break;
            };
            let Some(head) = st.queues.get(&fid).and_then(|q| q.front()).cloned() else {
                st.queues.remove(&fid);
                continue;
            };
            let running = st.running.get(&fid).copied().unwrap_or(0);
            if running >= self.capacity(&head) {
                st.turn.push_back(fid);
                continue;
            }
            let q = st.queues.get_mut(&fid).expect("queue exists");
            let req = q.pop_front().expect("head exists");
            if q.is_empty() {
                st.queues.remove(&fid);
            } else {
                st.turn.push_back(fid.clone());
            }
            *st.running.entry(fid).or_default() += 1;
            return (Some(req), next_due);
        }
        (None, next_due)
    }

    async fn dispatch(self: Arc<Self>) {
        loop {
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                return;
            };
            let req = loop {
                if self.stopping.load(Ordering::Acquire) {
                    return;
                }
                let woken = self.wake.notified();
                match self.pick() {
                    (Some(r), _) => break r,
                    (None, Some(due)) => {
                        tokio::select! {
                            _ = woken => {}
                            _ = tokio::time::sleep_until(due.into()) => {}
                        }
                    }
                    (None, None) => woken.await,
                }
            };
            let me = self.clone();
            tokio::spawn(async move {
                let fid = req.function_id.clone();
                me.run(req).await;
                {
                    let mut st = me.state.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(n) = st.running.get_mut(&fid) {
                        *n = n.saturating_sub(1);
                        if *n == 0 {
                            st.running.remove(&fid);
                        }
                    }
                }
                drop(permit);
                me.wake.notify_one();
            });
        }
    }

    fn urn(&self, req: &AsyncRequest) -> Urn {
        Urn::of(
            self.functions.region(),
            &req.project_id,
            &req.package,
            &req.function,
            qualifier_of(&req.qualifier),
        )
    }

    /// One attempt of a request and what follows from it.
    async fn run(&self, mut req: AsyncRequest) {
        let policy = self.policy(&req.function_id, &req.qualifier);
        let now = now_ms();
        if now - req.accepted_ms > i64::from(policy.max_age_s) * 1000 {
            let ended = Ended {
                status: AsyncStatus::Discard,
                error_code: 4011,
                error_message: format!(
                    "the event was discarded: it is older than the maximum event age of {}s",
                    policy.max_age_s
                ),
                condition: "EventAgeExceeded".into(),
                status_code: 500,
                response: Vec::new(),
            };
            self.finish(req, ended).await;
            return;
        }
        let attempts = req.attempts + 1;
        if let Err(e) = self
            .journal
            .commit(vec![AsyncOp::Start {
                request_id: req.request_id.clone(),
                attempts,
                start_ms: now,
            }])
            .await
        {
            tracing::error!(request = %req.request_id, "cannot record the start: {e}");
            self.later(req, backoff(1));
            return;
        }
        req.attempts = attempts;
        req.start_ms = Some(now);
        let result = self
            .invoker
            .invoke(InvokeRequest {
                project_id: req.project_id.clone(),
                urn: self.urn(&req),
                body: Bytes::from(req.payload.clone()),
                invoke_type: InvokeType::Async,
                memory: req.memory.clone(),
                request_id: Some(req.request_id.clone()),
            })
            .await;
        let (retryable, ended) = match result {
            Ok(r) => classify(&r, &policy),
            Err(InvokeError::Throttled(_)) | Err(InvokeError::ShuttingDown) => {
                // It did not run: not an attempt.
                let op = AsyncOp::Requeue {
                    request_id: req.request_id.clone(),
                    attempts: attempts - 1,
                    error_code: req.error_code,
                    error_message: req.error_message.clone(),
                };
                req.attempts = attempts - 1;
                if self.journal.commit(vec![op]).await.is_ok()
                    && !self.stopping.load(Ordering::Acquire)
                {
                    self.later(req, THROTTLE_RETRY);
                }
                return;
            }
            Err(InvokeError::Internal(e)) => (
                true,
                Ended {
                    status: AsyncStatus::Fail,
                    error_code: 4024,
                    error_message: format!("system error: {e:#}"),
                    condition: "SystemError".into(),
                    status_code: 500,
                    response: Vec::new(),
                },
            ),
            Err(e) => (
                false,
                Ended {
                    status: AsyncStatus::Fail,
                    error_code: 4000,
                    error_message: e.to_string(),
                    condition: "InvalidRequest".into(),
                    status_code: 400,
                    response: Vec::new(),
                },
            ),
        };
        if ended.status != AsyncStatus::Success && retryable && attempts <= policy.max_retries {
            let op = AsyncOp::Requeue {
                request_id: req.request_id.clone(),
                attempts,
                error_code: ended.error_code,
                error_message: ended.error_message.clone(),
            };
            req.error_code = ended.error_code;
            req.error_message = ended.error_message;
            match self.journal.commit(vec![op]).await {
                Ok(()) => self.later(req, backoff(attempts)),
                Err(e) => tracing::error!(request = %req.request_id, "cannot record a retry: {e}"),
            }
            return;
        }
        self.finish(req, ended).await;
    }

    fn later(&self, req: AsyncRequest, after: Duration) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .delayed
            .push((Instant::now() + after, req));
        self.wake.notify_one();
    }

    /// Records the terminal status and delivers the record to the destination. A
    /// function destination is queued in the same transaction as the status; a bucket
    /// object is written (idempotently) before it.
    async fn finish(&self, req: AsyncRequest, ended: Ended) {
        let policy = self.policy(&req.function_id, &req.qualifier);
        let destination = if ended.status == AsyncStatus::Success {
            policy.on_success.clone()
        } else {
            policy.on_failure.clone()
        };
        let mut ops = vec![AsyncOp::Finish {
            request_id: req.request_id.clone(),
            status: ended.status,
            end_ms: now_ms(),
            error_code: ended.error_code,
            error_message: ended.error_message.clone(),
        }];
        let mut follow_up = None;
        if let Some(d) = destination {
            let rec = record::record(&record::Outcome {
                request_id: &req.request_id,
                function_urn: self.urn(&req).to_string(),
                started_ms: req.start_ms.unwrap_or(req.accepted_ms),
                condition: &ended.condition,
                attempts: req.attempts,
                request_payload: &req.payload,
                status_code: ended.status_code,
                function_error: if ended.status == AsyncStatus::Success {
                    ""
                } else {
                    &ended.error_message
                },
                response_payload: &ended.response,
            });
            let body = serde_json::to_vec(&rec).unwrap_or_default();
            match d {
                Destination::Bucket { bucket, prefix, .. } => {
                    let path = record::object_path(
                        &self.config.bucket_dir,
                        &bucket,
                        &prefix,
                        &req.request_id,
                    );
                    let written =
                        tokio::task::spawn_blocking(move || record::write_object(&path, &body))
                            .await;
                    if !matches!(written, Ok(Ok(()))) {
                        tracing::error!(request = %req.request_id, bucket, "cannot write the destination object: {written:?}");
                    }
                }
                Destination::Function { urn } => match self.destination_request(&urn, body).await {
                    Ok(next) => {
                        ops.push(AsyncOp::Insert(Box::new(next.clone())));
                        follow_up = Some(next);
                    }
                    Err(e) => {
                        tracing::warn!(request = %req.request_id, "destination {urn} skipped: {e}")
                    }
                },
            }
        }
        match self.journal.commit(ops).await {
            Ok(()) => {
                if let Some(next) = follow_up {
                    self.enqueue(next);
                }
            }
            Err(e) => tracing::error!(request = %req.request_id, "cannot record the end: {e}"),
        }
    }

    async fn destination_request(&self, urn: &str, body: Vec<u8>) -> anyhow::Result<AsyncRequest> {
        let urn = Urn::parse(urn)?;
        let (record, _) = self.invoker.target(&urn.project_id, &urn).await?;
        Ok(AsyncRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            project_id: urn.project_id.clone(),
            function_id: record.id.clone(),
            package: urn.package.clone(),
            function: urn.name.clone(),
            qualifier: qualifier_text(&urn.qualifier),
            memory: None,
            payload: body,
            status: AsyncStatus::Wait,
            attempts: 0,
            accepted_ms: now_ms(),
            start_ms: None,
            end_ms: None,
            error_code: 0,
            error_message: String::new(),
        })
    }
}

/// Success, or a function-side failure and whether the policy retries it.
fn classify(r: &InvokeResult, policy: &AsyncPolicy) -> (bool, Ended) {
    let Some(err) = &r.error else {
        return (
            false,
            Ended {
                status: AsyncStatus::Success,
                error_code: 0,
                error_message: String::new(),
                condition: String::new(),
                status_code: 200,
                response: r.result.to_vec(),
            },
        );
    };
    let message = serde_json::from_slice::<serde_json::Value>(&r.result)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&r.result).into_owned());
    // Code errors are retried only when the user configured retries (guide 5.7).
    let retryable = policy.configured || err.cause != Cause::CodeError;
    (
        retryable,
        Ended {
            status: AsyncStatus::Fail,
            error_code: i64::from(err.code),
            error_message: message,
            condition: err.cause.marker().to_string(),
            status_code: if err.cause == Cause::CodeError {
                200
            } else {
                500
            },
            response: r.result.to_vec(),
        },
    )
}

async fn prune(inner: std::sync::Weak<Inner>) {
    loop {
        let Some(i) = inner.upgrade() else { return };
        let cutoff = now_ms() - i.config.async_retention.as_millis() as i64;
        if let Err(e) = i.store.async_prune(cutoff).await {
            tracing::warn!("pruning async records failed: {e}");
        }
        drop(i);
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(30), Duration::from_secs(60));
    }

    #[test]
    fn qualifiers_round_trip() {
        for q in [
            Qualifier::Latest,
            Qualifier::Version("v1".into()),
            Qualifier::Alias("prod".into()),
        ] {
            assert_eq!(qualifier_of(&qualifier_text(&q)), q);
        }
        assert_eq!(qualifier_text(&Qualifier::None), "latest");
    }
}
