//! Records of asynchronous invocations and their per-qualifier policies.

/// Lifecycle of an asynchronous request (the API's status names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AsyncStatus {
    /// Accepted, waiting to run (or to be retried).
    Wait,
    /// An attempt is running.
    Running,
    /// Finished successfully.
    Success,
    /// Failed after the last allowed attempt.
    Fail,
    /// Dropped without running to the end (too old, cancelled, function gone).
    Discard,
}

impl AsyncStatus {
    /// The API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AsyncStatus::Wait => "WAIT",
            AsyncStatus::Running => "RUNNING",
            AsyncStatus::Success => "SUCCESS",
            AsyncStatus::Fail => "FAIL",
            AsyncStatus::Discard => "DISCARD",
        }
    }

    /// Parses the API's name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "WAIT" => AsyncStatus::Wait,
            "RUNNING" => AsyncStatus::Running,
            "SUCCESS" => AsyncStatus::Success,
            "FAIL" => AsyncStatus::Fail,
            "DISCARD" => AsyncStatus::Discard,
            _ => return None,
        })
    }

    /// Whether the request has reached its end.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            AsyncStatus::Success | AsyncStatus::Fail | AsyncStatus::Discard
        )
    }
}

/// One accepted asynchronous invocation and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncRequest {
    /// Request id returned with 202.
    pub request_id: String,
    /// Project id.
    pub project_id: String,
    /// Id of the target function.
    pub function_id: String,
    /// Function group.
    pub package: String,
    /// Function name.
    pub function: String,
    /// `latest`, a version name, or `!alias`.
    pub qualifier: String,
    /// `X-Cff-Instance-Memory` of the request.
    pub memory: Option<String>,
    /// The event.
    pub payload: Vec<u8>,
    /// Where it stands.
    pub status: AsyncStatus,
    /// Attempts started so far.
    pub attempts: u32,
    /// Acceptance time, Unix ms.
    pub accepted_ms: i64,
    /// Start of the latest attempt, Unix ms.
    pub start_ms: Option<i64>,
    /// End time, Unix ms, once terminal.
    pub end_ms: Option<i64>,
    /// Error code of the latest failure; 0 on success.
    pub error_code: i64,
    /// Error text of the latest failure; empty on success.
    pub error_message: String,
}

/// One change to the queue; a batch of them is one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsyncOp {
    /// A newly accepted request.
    Insert(Box<AsyncRequest>),
    /// An attempt starts (status RUNNING, attempt count, start time).
    Start {
        /// Request id.
        request_id: String,
        /// Attempts including this one.
        attempts: u32,
        /// Start time, Unix ms.
        start_ms: i64,
    },
    /// Back to WAIT (a retry is due, or the attempt did not get to run).
    Requeue {
        /// Request id.
        request_id: String,
        /// Attempts counted so far.
        attempts: u32,
        /// Error code of the failed attempt (0 when none).
        error_code: i64,
        /// Error text of the failed attempt.
        error_message: String,
    },
    /// The request reached a terminal status.
    Finish {
        /// Request id.
        request_id: String,
        /// SUCCESS, FAIL or DISCARD.
        status: AsyncStatus,
        /// End time, Unix ms.
        end_ms: i64,
        /// Error code; 0 on success.
        error_code: i64,
        /// Error text; empty on success.
        error_message: String,
    },
}

/// Filter and page for listing asynchronous requests of one function.
#[derive(Debug, Clone, Default)]
pub struct AsyncQuery {
    /// Id of the function.
    pub function_id: String,
    /// Only this request.
    pub request_id: Option<String>,
    /// Only these statuses (empty: all).
    pub statuses: Vec<AsyncStatus>,
    /// Accepted at or after, Unix ms.
    pub since_ms: Option<i64>,
    /// Accepted at or before, Unix ms.
    pub until_ms: Option<i64>,
    /// Items to skip.
    pub offset: usize,
    /// Page size.
    pub limit: usize,
}

/// The stored asynchronous-invocation policy of one function qualifier (JSON as the
/// engine defines it; the store does not look inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncConfigRecord {
    /// Id of the function.
    pub function_id: String,
    /// `latest`, a version name, or `!alias`.
    pub qualifier: String,
    /// The policy as JSON.
    pub config: String,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Last change, RFC 3339 UTC.
    pub modified_at: String,
}
