//! The registry of instance pools and the project quota, with waiting for capacity.

use crate::instance::{Instance, StartFailure};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stratus_scheduler::{Acquire, Pool, PoolLimits, Quota};
use tokio::sync::Notify;

/// Identity of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    pub function_id: String,
    pub version: String,
    pub memory_mb: u32,
}

/// Start failures in a row; after `CRASH_LOOP_AFTER` the pool backs off like a
/// Kubernetes CrashLoopBackOff instead of starting again on every request.
#[derive(Default)]
struct Crash {
    failures: u32,
    until: Option<Instant>,
    last: Option<StartFailure>,
}

const CRASH_LOOP_AFTER: u32 = 3;

/// One pool and its live instances.
pub(crate) struct PoolEntry {
    crash: Mutex<Crash>,
    /// Revision of the function configuration the instances were started with.
    pub revision: i64,
    pub state: Mutex<Pool>,
    pub instances: Mutex<HashMap<u64, Arc<Instance>>>,
    pub freed: Notify,
    pub retired: AtomicBool,
}

impl PoolEntry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn acquire(&self) -> Acquire {
        self.lock().acquire(Instant::now())
    }

    pub fn instance(&self, id: u64) -> Option<Arc<Instance>> {
        self.instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    pub fn started(&self, instance: Arc<Instance>) {
        let id = instance.id;
        self.instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, instance);
        self.lock().started(id, Instant::now());
        self.freed.notify_waiters();
    }

    pub fn reserved_count(&self) -> usize {
        self.lock().reserved_count()
    }

    pub fn begin_reserved_start(&self) -> bool {
        self.lock().begin_reserved_start()
    }

    pub fn started_reserved(&self, instance: Arc<Instance>) {
        let id = instance.id;
        self.instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, instance);
        self.lock().started_reserved(id, Instant::now());
        self.freed.notify_waiters();
    }

    /// Freezes idle reserved instances (`on`) or keeps them running; instances that are
    /// not reserved (any more) always run.
    pub fn set_idle_mode(&self, on: bool) {
        let all: Vec<Arc<Instance>> = self
            .instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        for inst in all {
            let reserved = self.lock().is_reserved(inst.id);
            inst.idle.set_enabled(on && reserved && !inst.is_dead());
        }
    }

    pub fn unreserve(&self, n: usize) {
        self.lock().unreserve(n);
    }

    pub fn stop_waiting(&self) {
        self.lock().stop_waiting();
    }

    pub fn start_failed(&self) {
        self.lock().start_failed();
        self.freed.notify_waiters();
    }

    /// Records the result of a start for crash-loop detection.
    pub fn note_start(&self, failure: Option<&StartFailure>) {
        let mut c = self.crash.lock().unwrap_or_else(|p| p.into_inner());
        match failure {
            None => *c = Crash::default(),
            Some(f) => {
                c.failures += 1;
                c.last = Some(f.clone());
                if c.failures >= CRASH_LOOP_AFTER {
                    let secs = (10u64 << (c.failures - CRASH_LOOP_AFTER).min(5)).min(300);
                    c.until = Some(Instant::now() + Duration::from_secs(secs));
                }
            }
        }
    }

    /// While backing off: the failure to report instead of starting again.
    pub fn crash_loop(&self) -> Option<StartFailure> {
        let c = self.crash.lock().unwrap_or_else(|p| p.into_inner());
        let until = c.until?;
        let now = Instant::now();
        if now >= until {
            return None;
        }
        let last = c.last.clone()?;
        Some(StartFailure {
            error_type: "CrashLoopBackOff".into(),
            message: format!(
                "CrashLoopBackOff: the instance failed to start {} times in a row; the next start is tried in {}s. Last failure: {}",
                c.failures,
                (until - now).as_secs().max(1),
                last.message
            ),
            ..last
        })
    }

    /// A request finished on `id`. A retired pool stops instances as they go idle.
    pub fn release(&self, id: u64) {
        let idle = {
            let mut pool = self.lock();
            pool.release(id, Instant::now());
            if self.retired.load(Ordering::Acquire) {
                pool.take_all_idle()
            } else {
                Vec::new()
            }
        };
        for id in idle {
            self.stop(id);
        }
        self.freed.notify_one();
    }

    /// Removes a dead or stopped instance.
    pub fn remove(&self, id: u64) {
        self.lock().remove(id);
        self.instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        self.freed.notify_waiters();
    }

    pub fn stop(&self, id: u64) {
        self.lock().remove(id);
        let inst = self
            .instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        if let Some(inst) = inst {
            inst.stop();
        }
    }

    pub fn reap(&self, idle: Duration) {
        let ids = self.lock().take_idle(Instant::now(), idle);
        for id in ids {
            self.stop(id);
        }
    }

    pub fn stop_all(&self) {
        let all: Vec<Arc<Instance>> = self
            .instances
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, v)| v)
            .collect();
        for inst in all {
            self.lock().remove(inst.id);
            inst.stop();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    pub fn set_limits(&self, limits: PoolLimits) {
        let mut pool = self.lock();
        if pool.limits() != limits {
            pool.set_limits(limits);
        }
    }
}

/// All pools plus the project quota.
pub(crate) struct Pools {
    map: Mutex<HashMap<PoolKey, Arc<PoolEntry>>>,
    quota: Mutex<Quota>,
    quota_freed: Notify,
    next_id: Arc<AtomicU64>,
}

impl Pools {
    pub fn new(project_concurrency: usize) -> Self {
        Pools {
            map: Mutex::new(HashMap::new()),
            quota: Mutex::new(Quota::new(project_concurrency)),
            quota_freed: Notify::new(),
            next_id: Arc::new(AtomicU64::new(1)),
        }
    }

    pub fn next_instance_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The instance id counter, shared with the pre-heated pool.
    pub fn id_source(&self) -> Arc<AtomicU64> {
        self.next_id.clone()
    }

    /// The pool for `key` at `revision`; a pool of an older revision is retired.
    pub fn entry(&self, key: PoolKey, revision: i64, limits: PoolLimits) -> Arc<PoolEntry> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get(&key) {
            if e.revision >= revision {
                e.set_limits(limits);
                return e.clone();
            }
            e.retired.store(true, Ordering::Release);
            let idle = e.lock().take_all_idle();
            for id in idle {
                e.stop(id);
            }
        }
        let entry = Arc::new(PoolEntry {
            crash: Mutex::new(Crash::default()),
            revision,
            state: Mutex::new(Pool::new(limits)),
            instances: Mutex::new(HashMap::new()),
            freed: Notify::new(),
            retired: AtomicBool::new(false),
        });
        map.insert(key, entry.clone());
        entry
    }

    /// Takes one project execution, waiting up to `wait` for one to free up.
    pub async fn take_quota(&self, project: &str, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.quota_freed.notified();
            if self
                .quota
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .try_take(project)
            {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }

    pub fn give_quota(&self, project: &str) {
        self.quota
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .give_back(project);
        self.quota_freed.notify_one();
    }

    /// Releases idle instances and forgets empty pools.
    pub fn reap(&self, idle: Duration) {
        let entries: Vec<Arc<PoolEntry>> = self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        for e in &entries {
            e.reap(idle);
        }
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, e| !(e.is_empty() && e.retired.load(Ordering::Acquire)));
    }

    /// Stops every instance of a function (deleted) or of everything (`None`, shutdown).
    pub fn stop_function(&self, function_id: Option<&str>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let keys: Vec<PoolKey> = map
            .keys()
            .filter(|k| function_id.is_none_or(|f| k.function_id == f))
            .cloned()
            .collect();
        for k in keys {
            if let Some(e) = map.remove(&k) {
                e.retired.store(true, Ordering::Release);
                e.stop_all();
            }
        }
    }

    /// Stops every instance of one version of a function.
    pub fn stop_version(&self, function_id: &str, version: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let keys: Vec<PoolKey> = map
            .keys()
            .filter(|k| k.function_id == function_id && k.version == version)
            .cloned()
            .collect();
        for k in keys {
            if let Some(e) = map.remove(&k) {
                e.retired.store(true, Ordering::Release);
                e.stop_all();
            }
        }
    }

    /// Number of live instances of a function.
    pub fn instance_count(&self, function_id: &str) -> usize {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(k, _)| k.function_id == function_id)
            .map(|(_, e)| e.instances.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }
}
