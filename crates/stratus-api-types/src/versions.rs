//! Wire format of versions and aliases.

use crate::FunctionConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Body of `POST .../versions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishBody {
    /// Expected code digest (accepted, not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Name of the new version (`vYYYYMMDD-HHMMSS` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Version description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `GET .../versions`: `latest` first, then the published versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListVersionsResponse {
    /// The page.
    pub versions: Vec<FunctionConfig>,
    /// Marker of the next page.
    pub next_marker: i64,
    /// Versions in total (`latest` included).
    pub count: i64,
}

/// Body of `POST .../aliases` and `PUT .../aliases/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AliasBody {
    /// Alias name (create only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Version it points to (`latest` allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Additional version → percentage of traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_version_weights: Option<BTreeMap<String, i64>>,
    /// Rule-based routing (refused by this server when not empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_version_strategy: Option<serde_json::Value>,
}

/// An alias as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasView {
    /// Alias name.
    pub name: String,
    /// Version it points to.
    pub version: String,
    /// Free text.
    pub description: String,
    /// Last change.
    pub last_modified: String,
    /// `<unqualified function URN>:!<alias>`.
    pub alias_urn: String,
    /// Additional version → percentage of traffic.
    #[serde(default)]
    pub additional_version_weights: BTreeMap<String, i64>,
}
