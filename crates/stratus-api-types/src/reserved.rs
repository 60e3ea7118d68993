//! Wire format of reserved instances.

use serde::{Deserialize, Serialize};

/// `CronConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronConfigBody {
    /// Policy name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Cron expression (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// Instances while the policy holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// Start of validity, Unix seconds (milliseconds accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// End of validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_time: Option<i64>,
}

/// `TacticsConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TacticsConfigBody {
    /// Scheduled policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_configs: Option<Vec<CronConfigBody>>,
    /// Metric policies (refused when not empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_configs: Option<Vec<serde_json::Value>>,
}

/// Body and answer of `PUT .../reservedinstances`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReservedBody {
    /// Reserved instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// Idle mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_mode: Option<bool>,
    /// Scheduled policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tactics_config: Option<TacticsConfigBody>,
}

/// `FuncReservedInstance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuncReservedInstance {
    /// URN of the version or alias.
    pub func_urn: String,
    /// Reserved instances alive now.
    pub count: i64,
}

/// `GET /fgs/functions/reservedinstances`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservedListResponse {
    /// The page.
    pub reservedinstances: Vec<FuncReservedInstance>,
    /// Paging.
    pub page_info: crate::PageInfo,
    /// Entries in total.
    pub count: usize,
}

/// `ReservedInstanceConfigs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservedConfigView {
    /// Unqualified function URN.
    pub function_urn: String,
    /// `version` or `alias`.
    pub qualifier_type: String,
    /// Version or alias name.
    pub qualifier_name: String,
    /// Base reserved instances.
    pub min_count: i64,
    /// Idle mode.
    pub idle_mode: bool,
    /// Scheduled policies.
    pub tactics_config: TacticsConfigBody,
}

/// `GET /fgs/functions/reservedinstanceconfigs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservedConfigList {
    /// The page.
    pub reserved_instances: Vec<ReservedConfigView>,
    /// Paging.
    pub page_info: crate::PageInfo,
    /// Entries in total.
    pub count: usize,
}
