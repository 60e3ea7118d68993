//! Function bodies: create, update config, update code, and the configuration responses.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `func_code`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuncCode {
    /// Base64 of the package, or of the source for inline code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Download URL (filled on reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// `strategy_config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategyConfig {
    /// Max instances.
    #[serde(default)]
    pub concurrency: Option<i64>,
    /// Requests per instance.
    #[serde(default)]
    pub concurrent_num: Option<i64>,
}

/// Body of create function and update config; the same keys, all optional on the wire.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FunctionBody {
    /// Function name.
    #[serde(default)]
    pub func_name: Option<String>,
    /// Function group.
    #[serde(default)]
    pub package: Option<String>,
    /// Runtime id.
    #[serde(default)]
    pub runtime: Option<String>,
    /// Timeout, s.
    #[serde(default)]
    pub timeout: Option<i64>,
    /// Entry point.
    #[serde(default)]
    pub handler: Option<String>,
    /// Memory, MB.
    #[serde(default)]
    pub memory_size: Option<i64>,
    /// `inline`, `zip`, `jar`, `obs`, `Custom-Image-Swr`.
    #[serde(default)]
    pub code_type: Option<String>,
    /// Package URL.
    #[serde(default)]
    pub code_url: Option<String>,
    /// Package file name.
    #[serde(default)]
    pub code_filename: Option<String>,
    /// Code.
    #[serde(default)]
    pub func_code: Option<FuncCode>,
    /// Environment variables as JSON text.
    #[serde(default)]
    pub user_data: Option<String>,
    /// Secret environment variables as JSON text.
    #[serde(default)]
    pub encrypted_user_data: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Initializer.
    #[serde(default)]
    pub initializer_handler: Option<String>,
    /// Initializer timeout.
    #[serde(default)]
    pub initializer_timeout: Option<i64>,
    /// Pre-stop hook.
    #[serde(default)]
    pub pre_stop_handler: Option<String>,
    /// Pre-stop timeout.
    #[serde(default)]
    pub pre_stop_timeout: Option<i64>,
    /// `/tmp` size, MB.
    #[serde(default)]
    pub ephemeral_storage: Option<i64>,
    /// Dynamic memory switch.
    #[serde(default)]
    pub enable_dynamic_memory: Option<bool>,
    /// Scaling limits.
    #[serde(default)]
    pub strategy_config: Option<StrategyConfig>,
    /// `v2` or `v1`.
    #[serde(default, rename = "type")]
    pub func_type: Option<String>,
    /// Ids of the dependency versions to use (create; update config accepts it too, as a
    /// Stratus extension). Replaces the list when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depend_version_list: Option<Vec<String>>,
    /// Every other key (VPC, mounts, custom image, agencies, ...), echoed back.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// Body of update code.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CodeBody {
    /// Code type.
    #[serde(default)]
    pub code_type: Option<String>,
    /// Package URL.
    #[serde(default)]
    pub code_url: Option<String>,
    /// Package file name.
    #[serde(default)]
    pub code_filename: Option<String>,
    /// Code.
    #[serde(default)]
    pub func_code: Option<FuncCode>,
    /// Dependency versions.
    #[serde(default)]
    pub depend_version_list: Option<Vec<String>>,
}

/// The configuration of a function version as every config response carries it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionConfig {
    /// Server id.
    pub func_id: String,
    /// Resource id.
    pub resource_id: String,
    /// URN with qualifier.
    pub func_urn: String,
    /// Name.
    pub func_name: String,
    /// Owner domain.
    pub domain_id: String,
    /// Owner project.
    pub namespace: String,
    /// Region name.
    pub project_name: String,
    /// Function group.
    pub package: String,
    /// Runtime id.
    pub runtime: String,
    /// Timeout, s.
    pub timeout: i64,
    /// Entry point.
    pub handler: String,
    /// Memory, MB.
    pub memory_size: i64,
    /// CPU, millicores.
    pub cpu: i64,
    /// Code type.
    pub code_type: String,
    /// Package URL.
    pub code_url: String,
    /// Package file name.
    pub code_filename: String,
    /// Package size, bytes.
    pub code_size: i64,
    /// Environment variables as JSON text.
    pub user_data: String,
    /// Secret environment variables as JSON text.
    pub encrypted_user_data: String,
    /// SHA-512 of the package.
    pub digest: String,
    /// Version name.
    pub version: String,
    /// Internal version id.
    pub image_name: String,
    /// Agency.
    pub xrole: String,
    /// Execution agency.
    pub app_xrole: String,
    /// Description.
    pub description: String,
    /// Last change.
    pub last_modified: String,
    /// `/tmp` size, MB.
    pub ephemeral_storage: i64,
    /// Scaling limits.
    pub strategy_config: StrategyConfig,
    /// Initializer.
    pub initializer_handler: String,
    /// Initializer timeout.
    pub initializer_timeout: i64,
    /// Pre-stop hook.
    pub pre_stop_handler: String,
    /// Pre-stop timeout.
    pub pre_stop_timeout: i64,
    /// Enterprise project.
    pub enterprise_project_id: String,
    /// Long executions allowed.
    pub long_time: bool,
    /// `v2`.
    #[serde(rename = "type")]
    pub func_type: String,
    /// Dynamic memory switch.
    pub enable_dynamic_memory: bool,
    /// Stateful flag.
    pub is_stateful_function: bool,
    /// Whether ephemeral storage may be set.
    pub allow_ephemeral_storage: bool,
    /// Dependency-version ids.
    pub depend_version_list: Vec<String>,
    /// Dependencies (`Dependency` objects, the same order).
    pub dependencies: Vec<Value>,
    /// Description given at publish time.
    pub version_description: String,
    /// Echoed settings.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// Response of list functions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListFunctionsResponse {
    /// Page of functions.
    pub functions: Vec<FunctionConfig>,
    /// Marker of the next page.
    pub next_marker: i64,
    /// Functions matching the filter.
    pub count: i64,
}

/// Response of get and update code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCode {
    /// URN.
    pub func_urn: String,
    /// Name.
    pub func_name: String,
    /// Owner domain.
    pub domain_id: String,
    /// Runtime id.
    pub runtime: String,
    /// Code type.
    pub code_type: String,
    /// Package URL.
    pub code_url: String,
    /// Package file name.
    pub code_filename: String,
    /// Package size.
    pub code_size: i64,
    /// SHA-512 of the package.
    pub digest: String,
    /// Last change.
    pub last_modified: String,
    /// Code with its download link.
    pub func_code: FuncCode,
    /// Dependency ids.
    pub depend_version_list: Vec<String>,
    /// Dependencies (`Dependency` objects).
    #[serde(default)]
    pub dependencies: Vec<Value>,
    /// Scaling limits.
    pub strategy_config: StrategyConfig,
}
