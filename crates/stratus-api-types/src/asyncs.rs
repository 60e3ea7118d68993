//! Wire format of asynchronous invocation: the 202 answer, status records, cancel, and
//! the per-qualifier invocation policy (`async-invoke-config`).

use serde::{Deserialize, Serialize};

/// `202` body of `POST .../invocations-async`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncInvokeResponse {
    /// Id of the accepted request.
    pub request_id: String,
}

/// One status record of `GET .../async-invocations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncInvocation {
    /// Request id.
    pub request_id: String,
    /// `WAIT`, `RUNNING`, `SUCCESS`, `FAIL` or `DISCARD`.
    pub status: String,
    /// Error text; empty on success.
    pub error_message: String,
    /// Error code; 0 on success.
    pub error_code: i64,
    /// Start of the last attempt (acceptance when none ran), `YYYY-MM-DDTHH:mm:ssZ`.
    pub start_time: String,
    /// End, same format; empty while not finished.
    pub end_time: String,
    /// Attempts started so far (a Stratus addition; the SDK ignores it).
    #[serde(default)]
    pub attempts: u32,
}

/// `GET .../async-invocations` and `.../active-async-invocations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncInvocationList {
    /// The page.
    pub invocations: Vec<AsyncInvocation>,
    /// Records matching in total.
    pub count: usize,
    /// Marker of the next page (equals `count` after the last one).
    pub next_marker: usize,
}

/// Body of `POST .../cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// The request to stop.
    pub request_id: Option<String>,
    /// `recursive` or `force`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// One destination (`FuncDestinationConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationConfig {
    /// `FunctionGraph` or `OBS` (`SMN`, `DIS` are refused here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// JSON object serialised to a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

/// `destination_config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationsConfig {
    /// After success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<DestinationConfig>,
    /// After the last failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<DestinationConfig>,
}

/// Body of `PUT .../async-invoke-config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncConfigBody {
    /// Oldest event still run, seconds (1–86400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_async_event_age_in_seconds: Option<i64>,
    /// Retries after a failure (0–3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_async_retry_attempts: Option<i64>,
    /// Destinations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_config: Option<DestinationsConfig>,
    /// Keep status records (they are always kept here; echoed back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_async_status_log: Option<bool>,
    /// LTS fields the SDK may send; accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_id: Option<String>,
    /// See `log_group_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stream_id: Option<String>,
    /// See `log_group_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<String>,
    /// See `log_group_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_stream_name: Option<String>,
}

/// A stored policy (`ShowFunctionAsyncInvokeConfigResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncConfigView {
    /// URN of the function qualifier.
    pub func_urn: String,
    /// Oldest event still run, seconds.
    pub max_async_event_age_in_seconds: i64,
    /// Retries after a failure.
    pub max_async_retry_attempts: i64,
    /// Destinations.
    pub destination_config: DestinationsConfig,
    /// Creation time.
    pub created_time: String,
    /// Last change.
    pub last_modified: String,
    /// Echo of `enable_async_status_log`.
    pub enable_async_status_log: bool,
}

/// Paging of the config list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageInfo {
    /// Marker of the next page.
    pub next_marker: i64,
    /// Marker of this page.
    pub previous_marker: i64,
    /// Items in this page.
    pub current_count: i64,
}

/// `GET .../async-invoke-configs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncConfigList {
    /// The page.
    pub async_invoke_configs: Vec<AsyncConfigView>,
    /// Configs in total.
    pub count: usize,
    /// Paging.
    pub page_info: PageInfo,
}
