//! Dependency bodies: create version, the version and dependency objects of the list and
//! get responses, and the `Dependency` objects of function configurations
//! (reference section 8.15; SDK models `CreateDependencyRequestBody`,
//! `CreateDependencyVersionResponse`, `ListDependenciesResult`,
//! `ListDependencyVersionsResult`, `ShowDependencyVersionResponse`, `Dependency`).

use serde::{Deserialize, Serialize};

/// Body of `POST /v2/{project_id}/fgs/dependencies/version`. Unknown keys are ignored, as
/// newer SDKs may send more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDependencyBody {
    /// Base64 of the zip package (`depend_type` = `zip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depend_file: Option<String>,
    /// URL of the package (`depend_type` = `obs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depend_link: Option<String>,
    /// `zip` or `obs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depend_type: Option<String>,
    /// Runtime id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Dependency name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description, at most 512 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A dependency version: the create, get and list-versions objects, and (without the
/// last two fields) the `Dependency` objects of function configurations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyVersion {
    /// Dependency-version id.
    pub id: String,
    /// Owner (the project id).
    pub owner: String,
    /// Where the package can be downloaded (a path on this server).
    pub link: String,
    /// Runtime id.
    pub runtime: String,
    /// MD5 of the package.
    pub etag: String,
    /// Package size, bytes.
    pub size: i64,
    /// Dependency name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Package file name.
    pub file_name: String,
    /// Version number.
    pub version: i64,
    /// Dependency id.
    pub dep_id: String,
    /// Creation time, Unix milliseconds.
    pub last_modified: i64,
    /// Absolute download URL (get only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_link: Option<String>,
    /// Deprecated flag (get and list versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_shared: Option<bool>,
}

/// A dependency as list dependencies shows it: its id and its newest version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencySummaryDto {
    /// Dependency id.
    pub id: String,
    /// Owner (the project id).
    pub owner: String,
    /// Download path of the newest version.
    pub link: String,
    /// Runtime of the newest version.
    pub runtime: String,
    /// MD5 of the newest package.
    pub etag: String,
    /// Size of the newest package, bytes.
    pub size: i64,
    /// Dependency name.
    pub name: String,
    /// File name of the newest package.
    pub file_name: String,
    /// Description of the newest version.
    pub description: String,
    /// Newest version number.
    pub version: i64,
    /// Creation time of the newest version, Unix milliseconds.
    pub last_modified: i64,
}

/// Response of list dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListDependenciesResponse {
    /// The page.
    pub dependencies: Vec<DependencySummaryDto>,
    /// Marker of the next page.
    pub next_marker: i64,
    /// Dependencies matching the filter.
    pub count: i64,
}

/// Response of list dependency versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListDependencyVersionsResponse {
    /// The page.
    pub dependencies: Vec<DependencyVersion>,
    /// Marker of the next page.
    pub next_marker: i64,
    /// Versions of the dependency.
    pub count: i64,
}
