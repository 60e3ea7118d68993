//! The FunctionGraph v2 wire format as the official SDKs send and parse it: request
//! bodies, response bodies, the error body. Field names and JSON types follow
//! `api/functiongraph-v2.md`; this crate is shared by the server and the client.
#![deny(missing_docs)]

mod apps;
mod asyncs;
mod dependency;
mod events;
mod extras;
mod function;
mod reserved;
mod templates;
mod triggers;
mod versions;

pub use apps::*;
pub use asyncs::*;
pub use dependency::*;
pub use events::*;
pub use extras::check_extra_types;
pub use function::*;
pub use reserved::*;
pub use templates::*;
pub use triggers::*;
pub use versions::*;

use serde::{Deserialize, Serialize};

/// Every API error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code, e.g. `FSS.1051`.
    pub error_code: String,
    /// What is wrong, for people.
    pub error_msg: String,
}

/// Parses a JSON body, naming the offending field on failure
/// (`memory_size: invalid type: string "x", expected u32`).
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let syntax = matches!(
            inner.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        );
        if syntax || path.is_empty() || path == "." || path == "?" {
            format!("malformed JSON body: {inner}")
        } else {
            format!("invalid field {path}: {inner}")
        }
    })
}

/// Body of `PUT .../config-max-instance`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MaxInstanceBody {
    /// -1 unlimited, 0 disabled, else 1..1000.
    pub max_instance_num: Option<i64>,
}

/// The v1 envelope of a synchronous invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeResponseV1 {
    /// Request id.
    pub request_id: String,
    /// The function's result as text.
    pub result: String,
    /// Log tail when asked for.
    pub log: String,
    /// 200 on success, 500 on a function error.
    pub status: i64,
}

/// The `X-Cff-Invoke-Summary` header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvokeSummary {
    /// Execution time, ms.
    pub duration: f64,
    /// Billed time, ms.
    #[serde(rename = "billingDuration")]
    pub billing_duration: u64,
    /// Memory of the instance, MB.
    #[serde(rename = "memorySize")]
    pub memory_size: u32,
    /// Peak memory used, MB.
    #[serde(rename = "memoryUsed")]
    pub memory_used: f64,
}

/// One log line as `GET .../logs` returns it (Stratus extension for the CLI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLineDto {
    /// Sequence number for following.
    pub seq: i64,
    /// Request id.
    pub request_id: String,
    /// Version that ran.
    pub version: String,
    /// RFC 3339 time with milliseconds.
    pub time: String,
    /// Level.
    pub level: String,
    /// Text.
    pub message: String,
}

/// Body of `GET .../logs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsResponse {
    /// Lines in order.
    pub logs: Vec<LogLineDto>,
    /// Pass as `after` to get the next lines.
    pub next_seq: i64,
}
