//! Stored triggers.

/// One trigger of a function (or of one of its versions or aliases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRecord {
    /// Trigger id (UUID).
    pub id: String,
    /// Id of the function.
    pub function_id: String,
    /// Project id.
    pub project_id: String,
    /// Function group.
    pub package: String,
    /// Function name.
    pub function: String,
    /// `latest`, a version name, or `!alias`.
    pub qualifier: String,
    /// `TIMER`, `APIG`, ...
    pub type_code: String,
    /// `MessageCreated`, ...
    pub event_type_code: String,
    /// `ACTIVE` or `DISABLED`.
    pub status: String,
    /// Type-specific settings as JSON (the kind defines them).
    pub event_data: String,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Last change, RFC 3339 UTC.
    pub updated_at: String,
    /// When the trigger was created or last enabled, Unix ms (fixed-rate schedules count
    /// from here).
    pub anchor_ms: i64,
}
