//! Wire format of function templates (`GET .../fgs/templates`,
//! `GET .../fgs/templates/{template_id}`).

use serde::{Deserialize, Serialize};

/// A trigger the template is written for (`TriggerMetadataList`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerMetadata {
    /// Trigger name.
    #[serde(default)]
    pub trigger_name: String,
    /// Trigger type code, e.g. `APIG`, `TIMER`, `OBS`.
    #[serde(default)]
    pub trigger_type: String,
    /// Event type, e.g. `MessageCreated`.
    #[serde(default)]
    pub event_type: String,
    /// Trigger settings as JSON text.
    #[serde(default)]
    pub event_data: String,
}

/// What the template takes and gives (`TempDetail`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateDetail {
    /// The input it expects (for the built-in templates: the name of the event template
    /// to test them with).
    #[serde(default)]
    pub input: String,
    /// What it returns.
    #[serde(default)]
    pub output: String,
    /// Anything to know before using it.
    #[serde(default)]
    pub warning: String,
}

/// One template (`ShowFunctionTemplateResponseBody`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionTemplateView {
    /// Template id.
    pub id: String,
    /// Template type (1: a built-in function template).
    #[serde(rename = "type")]
    pub kind: i64,
    /// Short title.
    pub title: String,
    /// Template name.
    pub template_name: String,
    /// What the function does.
    pub description: String,
    /// Runtime id.
    pub runtime: String,
    /// Handler.
    pub handler: String,
    /// `zip`: `code` is a base64 zip.
    pub code_type: String,
    /// Base64 of the code package.
    pub code: String,
    /// Timeout, seconds.
    pub timeout: i64,
    /// Memory, MB.
    pub memory_size: i64,
    /// Triggers the function is written for.
    pub trigger_metadata_list: Vec<TriggerMetadata>,
    /// Input and output.
    pub temp_detail: TemplateDetail,
    /// Environment variables as JSON text (empty: none).
    pub user_data: String,
    /// Secret environment variables (empty: none).
    pub encrypted_user_data: String,
    /// Dependencies it needs.
    pub dependencies: Vec<String>,
    /// Use case.
    pub scene: String,
    /// Service it works with.
    pub service: String,
}

/// Body of `GET .../fgs/templates` (`ListFunctionTemplateResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionTemplateList {
    /// The page.
    pub func_templates: Vec<FunctionTemplateView>,
    /// Marker of the next page (the number matching after the last one).
    pub next_marker: i64,
}
