//! Log lines: batched writes off the hot path, retention, and queries.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use stratus_store::{LogLine, LogQuery, Store, StoredLogLine};
use tokio::sync::{mpsc, watch, Notify};

const BATCH: usize = 1000;
const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// Lines waiting for the writer; beyond this, lines are dropped rather than blocking invocations.
const BACKLOG: usize = 100_000;

/// Sends log lines to the store in batches.
#[derive(Clone)]
pub struct LogSink {
    /// One message per invocation (its lines), so a send is one channel operation and
    /// at most one wake-up of the writer, whatever the number of lines.
    tx: mpsc::UnboundedSender<Vec<LogLine>>,
    /// Lines sent and not yet taken by the writer (bounded by `BACKLOG`).
    queued: Arc<AtomicUsize>,
    /// Lines queued so far (dropped ones not counted).
    sent: Arc<AtomicU64>,
    /// Lines written so far, as the writer reports them.
    written: watch::Receiver<u64>,
    /// Asks the writer to end its current batch now instead of at the flush interval.
    hurry: Arc<Notify>,
}

impl LogSink {
    /// Starts the writer task, and pruning every ten minutes of lines older than
    /// `retention` and of each function's lines beyond the newest `max_lines`.
    pub fn start(store: Arc<dyn Store>, retention: Duration, max_lines: u64) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<LogLine>>();
        let queued = Arc::new(AtomicUsize::new(0));
        let writer_queued = queued.clone();
        let (written_tx, written) = watch::channel(0u64);
        let hurry = Arc::new(Notify::new());
        let writer_store = store.clone();
        let writer_hurry = hurry.clone();
        tokio::spawn(async move {
            let mut batch: Vec<LogLine> = Vec::with_capacity(BATCH);
            let mut total = 0u64;
            let take = |batch: &mut Vec<LogLine>, mut lines: Vec<LogLine>| {
                writer_queued.fetch_sub(lines.len(), Ordering::Relaxed);
                batch.append(&mut lines);
            };
            loop {
                let first = rx.recv().await;
                let Some(first) = first else { break };
                take(&mut batch, first);
                let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
                while batch.len() < BATCH {
                    tokio::select! {
                        lines = tokio::time::timeout_at(deadline, rx.recv()) => match lines {
                            Ok(Some(lines)) => take(&mut batch, lines),
                            _ => break,
                        },
                        _ = writer_hurry.notified() => {
                            while batch.len() < BATCH {
                                match rx.try_recv() {
                                    Ok(lines) => take(&mut batch, lines),
                                    Err(_) => break,
                                }
                            }
                            break;
                        }
                    }
                }
                let n = batch.len();
                let lines = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if let Err(e) = writer_store.append_logs(lines).await {
                    tracing::error!("write {n} log lines: {e:#}");
                }
                // Counted even when the write failed: waiters must not hang on lost lines.
                total += n as u64;
                let _ = written_tx.send(total);
            }
        });
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                let cutoff = chrono::Utc::now().timestamp_millis() - retention.as_millis() as i64;
                if let Err(e) = store.prune_logs(cutoff).await {
                    tracing::warn!("prune logs: {e:#}");
                }
                match store.cap_logs(max_lines).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("dropped {n} log lines over the per-function cap"),
                    Err(e) => tracing::warn!("cap logs: {e:#}"),
                }
            }
        });
        LogSink {
            tx,
            queued,
            sent: Arc::new(AtomicU64::new(0)),
            written,
            hurry,
        }
    }

    /// Queues lines without waiting; drops them when the writer is far behind.
    pub fn send(&self, lines: Vec<LogLine>) {
        let n = lines.len();
        if n == 0 {
            return;
        }
        if self.queued.fetch_add(n, Ordering::Relaxed) + n > BACKLOG {
            self.queued.fetch_sub(n, Ordering::Relaxed);
            tracing::warn!("log backlog full; dropping log lines");
            return;
        }
        if self.tx.send(lines).is_err() {
            self.queued.fetch_sub(n, Ordering::Relaxed);
            return;
        }
        self.sent.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Waits (at most two seconds) until every line queued so far is written, so a log
    /// query right after an invocation sees its lines.
    pub async fn flush(&self) {
        let target = self.sent.load(Ordering::Relaxed);
        let mut written = self.written.clone();
        if *written.borrow() >= target {
            return;
        }
        self.hurry.notify_one();
        let _ =
            tokio::time::timeout(Duration::from_secs(2), written.wait_for(|w| *w >= target)).await;
    }
}

/// Log queries.
#[derive(Clone)]
pub struct Logs {
    store: Arc<dyn Store>,
    sink: LogSink,
}

impl Logs {
    pub(crate) fn new(store: Arc<dyn Store>, sink: LogSink) -> Self {
        Logs { store, sink }
    }

    /// Reads log lines, after writing out those still queued.
    pub async fn query(&self, query: &LogQuery) -> anyhow::Result<Vec<StoredLogLine>> {
        self.sink.flush().await;
        Ok(self.store.query_logs(query).await?)
    }
}
