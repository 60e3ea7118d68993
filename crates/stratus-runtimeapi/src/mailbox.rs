//! Events in and results out for one instance.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot, watch};

/// An invocation handed to an instance.
#[derive(Debug, Clone)]
pub struct Event {
    /// Request id.
    pub request_id: String,
    /// The event body.
    pub body: Bytes,
    /// Headers sent with the event (`X-Cff-Request-Id` is added by the server). Names
    /// and values are already parsed so that the server copies them without checks.
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

/// What the instance reported for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Posted to `/response/{id}`.
    Success(Bytes),
    /// Posted to `/error/{id}`.
    Error(Bytes),
    /// The result was larger than allowed.
    TooLarge(usize),
}

/// State of the instance's start-up, as seen through the runtime API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Nothing yet.
    Starting,
    /// The instance polled for its first event.
    Ready,
    /// The instance posted an init error.
    Failed(Bytes),
}

/// The queue and the in-flight table of one instance.
pub struct Mailbox {
    tx: mpsc::UnboundedSender<Event>,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Event>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    ready: watch::Sender<Readiness>,
    polls: watch::Sender<u64>,
    closed: AtomicBool,
    /// Largest accepted result, bytes.
    pub max_result: usize,
}

impl Mailbox {
    /// A new mailbox accepting results up to `max_result` bytes.
    pub fn new(max_result: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready, _) = watch::channel(Readiness::Starting);
        let (polls, _) = watch::channel(0);
        Mailbox {
            tx,
            rx: tokio::sync::Mutex::new(rx),
            in_flight: Mutex::new(HashMap::new()),
            ready,
            polls,
            closed: AtomicBool::new(false),
            max_result,
        }
    }

    /// Queues an event; the receiver resolves when the instance reports, and fails when
    /// the mailbox is closed (the instance died).
    pub fn submit(&self, event: Event) -> oneshot::Receiver<Outcome> {
        let (tx, rx) = oneshot::channel();
        if self.closed.load(Ordering::Acquire) {
            return rx; // dropped sender: the caller sees the instance as gone
        }
        self.lock().insert(event.request_id.clone(), tx);
        if self.tx.send(event).is_err() {
            self.lock().clear();
        }
        rx
    }

    /// Forgets a request (after a timeout) so a late result is refused.
    pub fn forget(&self, request_id: &str) {
        self.lock().remove(request_id);
    }

    /// Fails every request in flight and refuses new ones.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.lock().clear();
    }

    /// Whether the mailbox was closed (the instance is gone).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Number of requests submitted and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.lock().len()
    }

    /// Waits until the instance is ready or failed.
    pub async fn wait_ready(&self) -> Readiness {
        let mut rx = self.ready.subscribe();
        loop {
            let state = rx.borrow_and_update().clone();
            if state != Readiness::Starting {
                return state;
            }
            if rx.changed().await.is_err() {
                return Readiness::Starting;
            }
        }
    }

    /// Waits until the instance posts an init error, whatever its readiness before
    /// (a pre-started instance is already ready when it is specialised).
    pub async fn wait_failed(&self) -> Bytes {
        let mut rx = self.ready.subscribe();
        loop {
            if let Readiness::Failed(body) = rx.borrow_and_update().clone() {
                return body;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Polls for events so far.
    pub fn polls(&self) -> u64 {
        *self.polls.borrow()
    }

    /// Waits until more than `seen` polls for events have been made (a process that
    /// replaced a pre-started one has asked for its first event).
    pub async fn wait_polls_beyond(&self, seen: u64) {
        let mut rx = self.polls.subscribe();
        loop {
            if *rx.borrow_and_update() > seen {
                return;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Waits up to `wait` for the next event (used by the HTTP server and by in-process bridges).
    pub async fn next(&self, wait: std::time::Duration) -> Option<Event> {
        self.polls.send_modify(|n| *n += 1);
        self.ready.send_if_modified(|r| {
            if *r == Readiness::Starting {
                *r = Readiness::Ready;
                true
            } else {
                false
            }
        });
        let mut rx = tokio::time::timeout(wait, self.rx.lock()).await.ok()?;
        loop {
            let event = tokio::time::timeout(wait, rx.recv()).await.ok()??;
            // Skip events whose caller already gave up (timed out or instance replaced).
            if self.lock().contains_key(&event.request_id) {
                return Some(event);
            }
        }
    }

    /// Delivers the outcome of a request; false when the request is unknown or finished.
    pub fn complete(&self, request_id: &str, outcome: Outcome) -> bool {
        match self.lock().remove(request_id) {
            Some(tx) => {
                let _ = tx.send(outcome);
                true
            }
            None => false,
        }
    }

    /// Marks the instance as failed to initialise.
    pub fn init_failed(&self, body: Bytes) {
        self.ready.send_replace(Readiness::Failed(body));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Outcome>>> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }
}
