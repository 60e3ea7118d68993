//! Log lines: batched writes off the hot path, retention, and queries.

use std::sync::Arc;
use std::time::Duration;
use stratus_store::{LogLine, LogQuery, Store, StoredLogLine};
use tokio::sync::mpsc;

const BATCH: usize = 1000;
const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// Lines waiting for the writer; beyond this, lines are dropped rather than blocking invocations.
const BACKLOG: usize = 100_000;

/// Sends log lines to the store in batches.
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<LogLine>,
}

impl LogSink {
    /// Starts the writer task, and pruning every ten minutes of lines older than
    /// `retention` and of each function's lines beyond the newest `max_lines`.
    pub fn start(store: Arc<dyn Store>, retention: Duration, max_lines: u64) -> Self {
        let (tx, mut rx) = mpsc::channel::<LogLine>(BACKLOG);
        let writer_store = store.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                let first = rx.recv().await;
                let Some(first) = first else { break };
                batch.push(first);
                let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
                while batch.len() < BATCH {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(line)) => batch.push(line),
                        _ => break,
                    }
                }
                if let Err(e) = writer_store.append_logs(&batch).await {
                    tracing::error!("write {} log lines: {e:#}", batch.len());
                }
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
        LogSink { tx }
    }

    /// Queues lines without waiting; drops them when the writer is far behind.
    pub fn send(&self, lines: Vec<LogLine>) {
        for line in lines {
            if self.tx.try_send(line).is_err() {
                tracing::warn!("log backlog full; dropping log lines");
                return;
            }
        }
    }

    /// Waits until every line queued so far is written (used by tests and shutdown).
    pub async fn flush(&self) {
        while self.tx.capacity() < BACKLOG {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(FLUSH_EVERY).await;
    }
}

/// Log queries.
#[derive(Clone)]
pub struct Logs {
    store: Arc<dyn Store>,
}

impl Logs {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Logs { store }
    }

    /// Reads log lines.
    pub async fn query(&self, query: &LogQuery) -> anyhow::Result<Vec<StoredLogLine>> {
        Ok(self.store.query_logs(query).await?)
    }
}
