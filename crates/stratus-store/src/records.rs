//! Records the store hands out.

use stratus_types::FunctionSpec;

/// An access key pair and the project it may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// Public id (AK).
    pub access_key: String,
    /// Secret (SK).
    pub secret_key: String,
    /// Project the key belongs to.
    pub project_id: String,
}

/// Identity of a function inside a project.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionKey {
    /// Project id.
    pub project_id: String,
    /// Function group.
    pub package: String,
    /// Function name.
    pub name: String,
}

/// A function with its `latest` configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRecord {
    /// Server-generated id.
    pub id: String,
    /// Project id.
    pub project_id: String,
    /// Bumped on every change of `latest`; caches compare it.
    pub revision: i64,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// The editable head.
    pub latest: FunctionSpec,
}

impl FunctionRecord {
    /// The function's key.
    pub fn key(&self) -> FunctionKey {
        FunctionKey {
            project_id: self.project_id.clone(),
            package: self.latest.package.clone(),
            name: self.latest.name.clone(),
        }
    }
}

/// Filter and page for listing functions.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Project id.
    pub project_id: String,
    /// Only this package.
    pub package: Option<String>,
    /// Only names containing this text.
    pub name_contains: Option<String>,
    /// Items to skip.
    pub offset: usize,
    /// Page size.
    pub limit: usize,
}

/// One log line of an invocation or an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Project id.
    pub project_id: String,
    /// Function group.
    pub package: String,
    /// Function name.
    pub function: String,
    /// Version that ran.
    pub version: String,
    /// Request id; empty for instance-level lines.
    pub request_id: String,
    /// Unix time in milliseconds.
    pub time_ms: i64,
    /// `INFO`, `WARN`, `ERROR`, `DEBUG`.
    pub level: String,
    /// The text, without trailing newline.
    pub text: String,
}

/// A stored log line with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogLine {
    /// Increasing sequence number (for `--follow`).
    pub seq: i64,
    /// The line.
    pub line: LogLine,
}

/// Which log lines to read.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Project id.
    pub project_id: String,
    /// Function group.
    pub package: String,
    /// Function name.
    pub function: String,
    /// Only this request.
    pub request_id: Option<String>,
    /// Only lines at or after this Unix time in milliseconds.
    pub since_ms: Option<i64>,
    /// Only lines with a larger sequence number.
    pub after_seq: Option<i64>,
    /// At most this many lines (the newest ones when `after_seq` is unset).
    pub limit: usize,
}
