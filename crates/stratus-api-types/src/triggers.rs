//! Wire format of triggers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Body of `POST /fgs/triggers/{function_urn}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriggerBody {
    /// `TIMER`, `APIG`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_type_code: Option<String>,
    /// `ACTIVE` (default) or `DISABLED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_status: Option<String>,
    /// `MessageCreated` for timers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type_code: Option<String>,
    /// Type-specific settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_data: Option<Value>,
}

/// Body of `PUT /fgs/triggers/{function_urn}/{type}/{id}`; the SDK sends `event_data` as
/// an array.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriggerUpdateBody {
    /// `ACTIVE` or `DISABLED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_status: Option<String>,
    /// Settings to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_data: Option<Value>,
}

/// A trigger as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerView {
    /// Trigger id.
    pub trigger_id: String,
    /// Type code.
    pub trigger_type_code: String,
    /// `ACTIVE` or `DISABLED`.
    pub trigger_status: String,
    /// Event type code.
    pub event_type_code: String,
    /// Settings.
    pub event_data: Value,
    /// Last change.
    pub last_updated_time: String,
    /// Creation.
    pub created_time: String,
}
