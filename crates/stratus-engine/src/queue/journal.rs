//! Group commit of queue changes: callers hand in changes and wait; one writer task
//! takes everything that queued up while the previous commit was on disk and commits
//! it in one transaction, so one fsync acknowledges many requests.

use std::sync::Arc;
use stratus_store::{AsyncOp, Store};
use tokio::sync::{mpsc, oneshot};

/// Most changes in one transaction.
const MAX_BATCH: usize = 2048;

type Reply = oneshot::Sender<Result<(), String>>;

/// Handle to the writer task.
#[derive(Clone)]
pub(crate) struct Journal {
    tx: mpsc::UnboundedSender<(Vec<AsyncOp>, Reply)>,
}

impl Journal {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Vec<AsyncOp>, Reply)>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut ops = first.0;
                let mut replies = vec![first.1];
                while ops.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok((more, reply)) => {
                            ops.extend(more);
                            replies.push(reply);
                        }
                        Err(_) => break,
                    }
                }
                let result = store.async_apply(ops).await.map_err(|e| e.to_string());
                for r in replies {
                    let _ = r.send(result.clone());
                }
            }
        });
        Journal { tx }
    }

    /// Commits `ops` (atomically, with whatever else is in the same batch) and returns
    /// once they are durable.
    pub async fn commit(&self, ops: Vec<AsyncOp>) -> Result<(), String> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send((ops, reply))
            .map_err(|_| "the queue writer has stopped".to_string())?;
        rx.await
            .map_err(|_| "the queue writer has stopped".to_string())?
    }
}
