//! Log lines: batched writes off the hot path, retention, and queries.

use std::sync::atomic::{AtomicU64, Ordering};
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
    tx: mpsc::Sender<LogLine>,
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
        let (tx, mut rx) = mpsc::channel::<LogLine>(BACKLOG);
        let (written_tx, written) = watch::channel(0u64);
        let hurry = Arc::new(Notify::new());
        let writer_store = store.clone();
        let writer_hurry = hurry.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut total = 0u64;
            loop {
                let first = rx.recv().await;
                let Some(first) = first else { break };
                batch.push(first);
                let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
                while batch.len() < BATCH {
                    tokio::select! {
                        line = tokio::time::timeout_at(deadline, rx.recv()) => match line {
                            Ok(Some(line)) => batch.push(line),
                            _ => break,
                        },
                        _ = writer_hurry.notified() => {
                            while batch.len() < BATCH {
                                match rx.try_recv() {
                                    Ok(line) => batch.push(line),
                                    Err(_) => break,
                                }
                            }
                            break;
                        }
                    }
                }
                if let Err(e) = writer_store.append_logs(&batch).await {
                    tracing::error!("write {} log lines: {e:#}", batch.len());
                }
                // Counted even when the write failed: waiters must not hang on lost lines.
                total += batch.len() as u64;
                let _ = written_tx.send(total);
                batch.clear();
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
            sent: Arc::new(AtomicU64::new(0)),
            written,
            hurry,
        }
    }

    /// Queues lines without waiting; drops them when the writer is far behind.
    pub fn send(&self, lines: Vec<LogLine>) {
        for line in lines {
            if self.tx.try_send(line).is_err() {
                tracing::warn!("log backlog full; dropping log lines");
                return;
            }
            self.sent.fetch_add(1, Ordering::Relaxed);
        }
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
