//! The pre-heated pool: generic Python, Node.js and custom-runtime instances started
//! ahead of demand (sandbox, cgroup, runtime API, interpreter and shim all up), each
//! waiting to be specialised to the first function that needs a cold start. A taken instance belongs
//! to that function for good; the pool refills in the background.

use crate::instance::{self, Instance, Lang, Prestart};
use crate::shims::Shims;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use stratus_sandbox::Sandbox;

const LANGS: [Lang; 3] = [Lang::Python, Lang::NodeJs, Lang::Custom];
/// A refill waits this long after a take, so the new instance's first request does not
/// compete with the replacement's start-up for the CPU.
const REFILL_DELAY: Duration = Duration::from_millis(100);
/// Pause after a failed pre-start; doubled up to `MAX_BACKOFF` while failures repeat.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the pool starts instances with.
pub(crate) struct PrewarmConfig {
    /// Ready instances kept per language; 0 disables the pool.
    pub per_lang: usize,
    pub sandbox: Arc<dyn Sandbox>,
    pub shims: Shims,
    pub python: PathBuf,
    pub node: PathBuf,
    pub java: Option<PathBuf>,
    pub instances_root: PathBuf,
    pub empty_code: PathBuf,
    pub network: bool,
    pub ids: Arc<AtomicU64>,
}

#[derive(Default)]
struct Counters {
    started: AtomicU64,
    served: AtomicU64,
    failed: AtomicU64,
}

pub(crate) struct Prewarm {
    cfg: PrewarmConfig,
    ready: Mutex<HashMap<Lang, VecDeque<Arc<Instance>>>>,
    filling: Mutex<HashMap<Lang, bool>>,
    counters: HashMap<Lang, Counters>,
    stopped: AtomicBool,
}

fn name(lang: Lang) -> &'static str {
    match lang {
        Lang::Python => "python",
        Lang::NodeJs => "nodejs",
        Lang::Custom => "custom",
    }
}

impl Prewarm {
    /// Creates the pool and starts filling it (when enabled).
    pub fn start(cfg: PrewarmConfig) -> Arc<Prewarm> {
        if cfg.per_lang > 0 {
            if let Err(e) = std::fs::create_dir_all(&cfg.empty_code) {
                tracing::warn!(
                    "pre-heated pool disabled: {}: {e}",
                    cfg.empty_code.display()
                );
            }
        }
        let this = Arc::new(Prewarm {
            counters: LANGS.iter().map(|l| (*l, Counters::default())).collect(),
            cfg,
            ready: Mutex::new(HashMap::new()),
            filling: Mutex::new(HashMap::new()),
            stopped: AtomicBool::new(false),
        });
        if this.cfg.per_lang > 0 {
            for lang in LANGS {
                this.refill(lang, Duration::ZERO);
            }
        }
        this
    }

    /// Network setting the pooled instances were started with.
    pub fn network(&self) -> bool {
        self.cfg.network
    }

    fn ready(&self) -> std::sync::MutexGuard<'_, HashMap<Lang, VecDeque<Arc<Instance>>>> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A ready instance of `lang`, removed from the pool; `None` when the pool is empty
    /// (the caller starts an instance the normal way).
    pub fn take(self: &Arc<Self>, lang: Lang) -> Option<Arc<Instance>> {
        if self.cfg.per_lang == 0 || self.stopped.load(Ordering::Acquire) {
            return None;
        }
        let got = {
            let mut ready = self.ready();
            let q = ready.entry(lang).or_default();
            loop {
                match q.pop_front() {
                    Some(i) if i.is_dead() => continue,
                    other => break other,
                }
            }
        };
        if got.is_some() {
            self.counters[&lang].served.fetch_add(1, Ordering::Relaxed);
        }
        self.refill(lang, REFILL_DELAY);
        got
    }

    /// Starts a filler for `lang` unless one runs already; it tops the pool up one
    /// instance at a time.
    fn refill(self: &Arc<Self>, lang: Lang, delay: Duration) {
        {
            let mut f = self.filling.lock().unwrap_or_else(|p| p.into_inner());
            if *f.get(&lang).unwrap_or(&false) {
                return;
            }
            f.insert(lang, true);
        }
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let mut backoff = FIRST_BACKOFF;
            loop {
                let Some(this) = weak.upgrade() else { return };
                // Counted before the stop flag is read, so a shutdown waits for this start.
                let busy = instance::busy();
                let have = this.ready().get(&lang).map_or(0, |q| q.len());
                if this.stopped.load(Ordering::SeqCst) || have >= this.cfg.per_lang {
                    this.filling
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(lang, false);
                    return;
                }
                match this.prestart_one(lang).await {
                    Ok(inst) => {
                        backoff = FIRST_BACKOFF;
                        this.counters[&lang].started.fetch_add(1, Ordering::Relaxed);
                        if this.stopped.load(Ordering::Acquire) {
                            inst.stop();
                        } else {
                            this.ready().entry(lang).or_default().push_back(inst);
                        }
                    }
                    Err(e) => {
                        this.counters[&lang].failed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            "pre-heated pool: {} instance failed to start: {e}",
                            name(lang)
                        );
                        drop((this, busy));
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        });
    }

    async fn prestart_one(self: &Arc<Self>, lang: Lang) -> Result<Arc<Instance>, String> {
        let c = &self.cfg;
        let id = c.ids.fetch_add(1, Ordering::Relaxed);
        let weak: Weak<Prewarm> = Arc::downgrade(self);
        instance::prestart(
            Prestart {
                id,
                lang,
                empty_code: c.empty_code.clone(),
                instances_root: c.instances_root.clone(),
                shims: &c.shims,
                python: &c.python,
                node: &c.node,
                network: c.network,
                links: instance::runtime_links_for(&c.python, &c.node, c.java.as_deref()),
            },
            c.sandbox.clone(),
            move |id| {
                // Died while waiting in the pool: drop it and start a replacement.
                if let Some(this) = weak.upgrade() {
                    if let Some(q) = this.ready().get_mut(&lang) {
                        q.retain(|i| i.id != id);
                    }
                    if !this.stopped.load(Ordering::Acquire) {
                        this.refill(lang, FIRST_BACKOFF);
                    }
                }
            },
        )
        .await
    }

    /// Stops every waiting instance and starts no more.
    pub fn stop_all(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let all: Vec<Arc<Instance>> = self.ready().drain().flat_map(|(_, q)| q).collect();
        for i in all {
            i.stop();
        }
    }

    /// Counts per language, for `/healthz/prewarm` and the benchmark.
    pub fn status(&self) -> serde_json::Value {
        let ready = self.ready();
        let mut out = serde_json::Map::new();
        for lang in LANGS {
            let c = &self.counters[&lang];
            let n = ready
                .get(&lang)
                .map_or(0, |q| q.iter().filter(|i| !i.is_dead()).count());
            out.insert(
                name(lang).into(),
                serde_json::json!({
                    "ready": n,
                    "target": self.cfg.per_lang,
                    "started": c.started.load(Ordering::Relaxed),
                    "served": c.served.load(Ordering::Relaxed),
                    "failed": c.failed.load(Ordering::Relaxed),
                }),
            );
        }
        serde_json::Value::Object(out)
    }
}
