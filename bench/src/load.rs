//! The load generator: HTTP/1.1 keep-alive clients in closed-loop and open-loop mode,
//! latencies in HDR histograms (nanoseconds).
//!
//! * Closed loop: `concurrency` workers, each with its own connection, send the next request
//!   as soon as the previous answer is in. Latency is measured from just before the request
//!   is built (signing included) to the last byte of the answer.
//! * Open loop: requests are due at a fixed rate whatever the server does. A dispatcher
//!   thread releases each request at its due time; latency is measured from the due time, so
//!   time spent waiting for a free connection or for a slow server is counted (no
//!   coordinated omission).
//!
//! Both modes have a warm-up that is not recorded. Latencies are recorded for requests
//! started inside the measured window; throughput counts the successful answers that arrive
//! inside the window, divided by its length. Failures are counted whenever they happen,
//! warm-up included (a failure is a finding whatever its timing).

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Request body type of every generated request.
pub type Body = Full<Bytes>;

/// Longest a single request may take before it counts as failed, in seconds (a hung
/// platform must not hang the benchmark). Set once by `main`: shorter under `--smoke`.
static REQUEST_TIMEOUT_SECS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(15);

/// Sets the per-request timeout.
pub fn set_request_timeout(d: Duration) {
    REQUEST_TIMEOUT_SECS.store(d.as_secs().max(1), std::sync::atomic::Ordering::Relaxed);
}

fn request_timeout() -> Duration {
    Duration::from_secs(REQUEST_TIMEOUT_SECS.load(std::sync::atomic::Ordering::Relaxed))
}

/// An answer, fully read.
pub struct Answer {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// What to send and how to tell a good answer from a bad one.
pub trait Target: Send + Sync + 'static {
    /// Builds the next request (called inside the timed region).
    fn request(&self) -> Request<Body>;
    /// `Err(reason)` when the answer is not the expected one.
    fn check(&self, answer: &Answer) -> Result<(), String>;
}

/// A fresh latency histogram: 1 ns to 10 min, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000_000, 3).expect("valid histogram bounds")
}

/// Nanoseconds of a duration, for recording.
pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// One keep-alive connection.
pub struct Conn {
    tx: SendRequest<Body>,
}

impl Conn {
    /// Connects (TCP_NODELAY, as every real client here does).
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Conn> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn { tx })
    }

    /// Sends one request and reads the whole answer. After an error (including the
    /// timeout) the connection must not be used again.
    pub async fn send(&mut self, req: Request<Body>) -> anyhow::Result<Answer> {
        let exchange = async {
            self.tx.ready().await?;
            let resp = self.tx.send_request(req).await?;
            let (parts, body) = resp.into_parts();
            let body = body.collect().await?.to_bytes();
            anyhow::Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        let limit = request_timeout();
        match tokio::time::timeout(limit, exchange).await {
            Ok(r) => r,
            Err(_) => anyhow::bail!("no answer within {} s", limit.as_secs()),
        }
    }
}

/// Timing of one load run.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Not recorded.
    pub warmup: Duration,
    /// Recorded.
    pub measure: Duration,
}

impl Window {
    /// A window of `warmup` then `measure` seconds.
    pub fn secs(warmup: f64, measure: f64) -> Window {
        Window {
            warmup: Duration::from_secs_f64(warmup),
            measure: Duration::from_secs_f64(measure),
        }
    }
}

/// Result of a load run.
pub struct Run {
    /// Latencies of the successful requests started in the window, ns.
    pub hist: Histogram<u64>,
    /// Successful answers that arrived in the window.
    pub ok_in_window: u64,
    /// Failed requests in the window (transport errors and bad answers).
    pub errors: u64,
    /// The first failure seen, for the report.
    pub first_error: Option<String>,
    /// Length of the window.
    pub window: Duration,
}

impl Run {
    /// An empty run over `window`.
    pub fn empty(window: Duration) -> Run {
        Run {
            hist: histogram(),
            ok_in_window: 0,
            errors: 0,
            first_error: None,
            window,
        }
    }

    /// Successful answers per second.
    pub fn throughput(&self) -> f64 {
        let secs = self.window.as_secs_f64();
        if secs > 0.0 {
            self.ok_in_window as f64 / secs
        } else {
            0.0
        }
    }

    /// Adds another run (pooling interleaved rounds of the same case).
    pub fn merge(&mut self, other: &Run) {
        let _ = self.hist.add(&other.hist);
        self.ok_in_window += other.ok_in_window;
        self.errors += other.errors;
        self.window += other.window;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
    }

    pub(crate) fn fail(&mut self, why: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(why);
        }
    }
}

/// Closed loop: `concurrency` workers, one connection each.
///
/// Every worker first sends one request that is not timed (it may start an instance), and
/// the warm-up begins only when all of them have their answer, so instance start-up stays
/// out of the window even at high concurrency.
pub async fn closed(
    addr: SocketAddr,
    target: Arc<dyn Target>,
    concurrency: usize,
    window: Window,
) -> anyhow::Result<Run> {
    let mut priming = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let target = target.clone();
        priming.spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let first = conn
                .send(target.request())
                .await
                .map_err(|e| format!("transport: {e}"))
                .and_then(|a| target.check(&a));
            anyhow::Ok((conn, first))
        });
    }
    let mut conns = Vec::with_capacity(concurrency);
    let mut total = Run::empty(window.measure);
    while let Some(r) = priming.join_next().await {
        let (conn, first) = r??;
        if let Err(why) = first {
            total.fail(format!("first request: {why}"));
            conns.push(Conn::open(addr).await?);
        } else {
            conns.push(conn);
        }
    }
    let start = Instant::now() + window.warmup;
    let end = start + window.measure;
    let mut workers = tokio::task::JoinSet::new();
    for mut conn in conns {
        let target = target.clone();
        workers.spawn(async move {
            let mut run = Run::empty(window.measure);
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let req = target.request();
                let answer = conn.send(req).await;
                let t1 = Instant::now();
                let counted = t1 >= start && t1 <= end;
                let recorded = t0 >= start;
                match answer {
                    Ok(a) => match target.check(&a) {
                        Ok(()) => {
                            if recorded {
                                run.hist.saturating_record(nanos(t1 - t0));
                            }
                            if counted {
                                run.ok_in_window += 1;
                            }
                        }
                        Err(why) => run.fail(why),
                    },
                    Err(e) => {
                        run.fail(format!("transport: {e}"));
                        // The connection may be unusable now; open another one.
                        match Conn::open(addr).await {
                            Ok(c) => conn = c,
                            Err(e) => {
                                run.fail(format!("reconnect: {e}"));
                                break;
                            }
                        }
                    }
                }
            }
            run
        });
    }
    while let Some(r) = workers.join_next().await {
        let r = r?;
        let _ = total.hist.add(&r.hist);
        total.ok_in_window += r.ok_in_window;
        total.errors += r.errors;
        if total.first_error.is_none() {
            total.first_error = r.first_error;
        }
    }
    Ok(total)
}

/// Open loop: `rate` requests per second, at most `max_conns` connections in use.
pub async fn open(
    addr: SocketAddr,
    target: Arc<dyn Target>,
    rate: f64,
    max_conns: usize,
    window: Window,
) -> anyhow::Result<Run> {
    anyhow::ensure!(rate > 0.0, "open loop needs a positive rate");
    let shared = Arc::new(Mutex::new(Run::empty(window.measure)));
    let idle: Arc<Mutex<Vec<Conn>>> = Arc::new(Mutex::new(Vec::new()));
    let permits = Arc::new(tokio::sync::Semaphore::new(max_conns.max(1)));
    // A few connections ready before the clock starts.
    for _ in 0..max_conns.clamp(1, 4) {
        let c = Conn::open(addr).await?;
        lock(&idle).push(c);
    }
    let t_zero = Instant::now() + Duration::from_millis(5);
    let start = t_zero + window.warmup;
    let end = start + window.measure;
    let (due_tx, mut due_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    // The dispatcher is an OS thread: thread::sleep is precise to tens of µs here, tokio's
    // timer only to 1 ms.
    let dispatcher = std::thread::spawn(move || {
        let period = Duration::from_secs_f64(1.0 / rate);
        let mut k: u32 = 0;
        loop {
            let due = t_zero + period * k;
            if due >= end {
                break;
            }
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if due_tx.send(due).is_err() {
                break;
            }
            k += 1;
        }
    });
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(due) = due_rx.recv().await {
        let target = target.clone();
        let shared = shared.clone();
        let idle = idle.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else {
                return;
            };
            let pooled = lock(&idle).pop();
            let conn = match pooled {
                Some(c) => Ok(c),
                None => Conn::open(addr).await,
            };
            let recorded = due >= start;
            let mut conn = match conn {
                Ok(c) => c,
                Err(e) => {
                    lock(&shared).fail(format!("connect: {e}"));
                    return;
                }
            };
            let answer = conn.send(target.request()).await;
            let t1 = Instant::now();
            let counted = t1 >= start && t1 <= end;
            let mut run = lock(&shared);
            match answer {
                Ok(a) => {
                    match target.check(&a) {
                        Ok(()) => {
                            if recorded {
                                run.hist.saturating_record(nanos(t1 - due));
                            }
                            if counted {
                                run.ok_in_window += 1;
                            }
                        }
                        Err(why) => run.fail(why),
                    }
                    drop(run);
                    lock(&idle).push(conn);
                }
                Err(e) => run.fail(format!("transport: {e}")),
            }
        });
        // Reap finished tasks as we go so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let _ = dispatcher.join();
    let run = std::mem::replace(&mut *lock(&shared), Run::empty(window.measure));
    Ok(run)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Times a blocking closure in a closed loop on the calling thread (used for the blocking
/// `stratus_client` path, which is what the CLI does).
pub fn closed_blocking(window: Window, mut call: impl FnMut() -> Result<(), String>) -> Run {
    let start = Instant::now() + window.warmup;
    let end = start + window.measure;
    let mut run = Run::empty(window.measure);
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        let r = call();
        let t1 = Instant::now();
        let recorded = t0 >= start;
        let counted = t1 >= start && t1 <= end;
        match r {
            Ok(()) => {
                if recorded {
                    run.hist.saturating_record(nanos(t1 - t0));
                }
                if counted {
                    run.ok_in_window += 1;
                }
            }
            Err(why) => run.fail(why),
        }
    }
    run
}

/// A run made of individually timed samples (spawns, cold starts, creates).
pub struct Samples {
    run: Run,
    began: Instant,
}

impl Default for Samples {
    fn default() -> Self {
        Self::new()
    }
}

impl Samples {
    /// Starts collecting; the window is the time until `finish`.
    pub fn new() -> Samples {
        Samples {
            run: Run::empty(Duration::ZERO),
            began: Instant::now(),
        }
    }

    /// Records one successful sample.
    pub fn ok(&mut self, d: Duration) {
        self.run.hist.saturating_record(nanos(d));
        self.run.ok_in_window += 1;
    }

    /// Records one failure.
    pub fn failed(&mut self, why: String) {
        self.run.fail(why);
    }

    /// The run, with the window set to the wall time since `new`.
    pub fn finish(mut self) -> Run {
        self.run.window = self.began.elapsed();
        self.run
    }
}
