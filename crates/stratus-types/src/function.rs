//! The stored configuration of one function version.

use crate::dependency::DependencyRef;
use crate::error::{Invalid, InvalidResult};
use crate::limits::*;
use crate::runtime::Runtime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Scaling limits (`strategy_config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strategy {
    /// Max instances: -1 unlimited, 0 disabled, else 1..1000.
    pub max_instances: i32,
    /// Requests one instance serves at once.
    pub concurrent_num: u32,
}

impl Default for Strategy {
    fn default() -> Self {
        Strategy {
            max_instances: DEFAULT_MAX_INSTANCES,
            concurrent_num: 1,
        }
    }
}

impl Strategy {
    /// Checks both values.
    pub fn validate(&self) -> InvalidResult<()> {
        check_max_instances(self.max_instances)?;
        let (lo, hi) = CONCURRENT_NUM_RANGE;
        if self.concurrent_num < lo || self.concurrent_num > hi {
            return Err(Invalid::field(
                "strategy_config.concurrent_num",
                format!("{} is outside {lo}..{hi}", self.concurrent_num),
            ));
        }
        Ok(())
    }
}

/// Checks a max-instances value.
pub fn check_max_instances(n: i32) -> InvalidResult<()> {
    if !(-1..=MAX_INSTANCES_MAX).contains(&n) {
        return Err(Invalid::field(
            "max_instance_num",
            format!(
                "{n} is not allowed; use -1 (unlimited), 0 (disabled) or 1..{MAX_INSTANCES_MAX}"
            ),
        ));
    }
    Ok(())
}

/// Where a version's code is and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CodeInfo {
    /// `inline`, `zip`, `jar`, `obs` (package URL) or `Custom-Image-Swr`.
    pub code_type: String,
    /// File name of the package as uploaded.
    pub code_filename: String,
    /// Source URL when the package was fetched from a URL.
    pub code_url: String,
    /// SHA-256 of the stored package (blob key); empty for custom images.
    pub sha256: String,
    /// SHA-512 of the package, the API's `digest`.
    pub sha512: String,
    /// Package size in bytes.
    pub size: u64,
}

/// Configuration of one function version (`latest` or a published one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionSpec {
    /// Function name.
    pub name: String,
    /// Function group.
    pub package: String,
    /// Runtime id.
    pub runtime: String,
    /// Entry point.
    pub handler: String,
    /// Memory, MB.
    pub memory_size: u32,
    /// Execution timeout, seconds.
    pub timeout: u32,
    /// Free text.
    pub description: String,
    /// Environment variables.
    pub user_data: BTreeMap<String, String>,
    /// Secret environment variables (kept apart so they are never echoed in logs).
    pub encrypted_user_data: BTreeMap<String, String>,
    /// Initializer entry point, empty when none.
    pub initializer_handler: String,
    /// Initializer timeout, seconds.
    pub initializer_timeout: u32,
    /// Pre-stop entry point, empty when none.
    pub pre_stop_handler: String,
    /// Pre-stop timeout, seconds.
    pub pre_stop_timeout: u32,
    /// `/tmp` size, MB.
    pub ephemeral_storage: u32,
    /// Whether `X-Cff-Instance-Memory` may choose the memory per call.
    pub enable_dynamic_memory: bool,
    /// Scaling limits.
    pub strategy: Strategy,
    /// Code package.
    pub code: CodeInfo,
    /// Function generation, `v2`.
    pub func_type: String,
    /// Settings accepted and echoed back but not acted upon yet (VPC, mounts, custom
    /// image, log config, network control, agencies...), keyed by their API name.
    pub extras: BTreeMap<String, serde_json::Value>,
    /// Last change, RFC 3339 UTC.
    pub last_modified: String,
    /// Description given when this version was published.
    pub version_description: String,
    /// Dependency versions merged into the code view, in the order given (earlier ones
    /// win a file-name clash with later ones; the function's own code wins over all).
    #[serde(default)]
    pub dependencies: Vec<DependencyRef>,
}

impl FunctionSpec {
    /// The parsed runtime (validated at creation, so it is known).
    pub fn runtime(&self) -> InvalidResult<Runtime> {
        Runtime::parse(&self.runtime)
    }

    /// Checks every field against the platform limits.
    pub fn validate(&self) -> InvalidResult<()> {
        crate::name::check_function_name(&self.name)?;
        crate::name::check_package_name(&self.package)?;
        let runtime = self.runtime()?;
        runtime.check_handler("handler", &self.handler)?;
        check_memory("memory_size", self.memory_size)?;
        check_range("timeout", self.timeout, TIMEOUT_RANGE)?;
        if !self.initializer_handler.is_empty() {
            runtime
                .check_handler("initializer_handler", &self.initializer_handler)
                .map_err(|e| Invalid::with_code("FSS.1404", e.field, e.message))?;
        }
        // Checked with or without an initializer: a stored value must be usable the day an
        // initializer is set without a new timeout.
        check_range(
            "initializer_timeout",
            self.initializer_timeout,
            INITIALIZER_TIMEOUT_RANGE,
        )
        .map_err(|e| Invalid::with_code("FSS.1405", e.field, e.message))?;
        if !self.pre_stop_handler.is_empty() {
            runtime.check_handler("pre_stop_handler", &self.pre_stop_handler)?;
            check_range(
                "pre_stop_timeout",
                self.pre_stop_timeout,
                PRE_STOP_TIMEOUT_RANGE,
            )?;
        }
        if self.description.chars().count() > DESCRIPTION_MAX {
            return Err(Invalid::field(
                "description",
                format!(
                    "is {} characters; the limit is {DESCRIPTION_MAX}",
                    self.description.chars().count()
                ),
            ));
        }
        let mut all = self.user_data.clone();
        all.extend(self.encrypted_user_data.clone());
        crate::env::check_vars("user_data", &all)?;
        check_range(
            "ephemeral_storage",
            self.ephemeral_storage,
            EPHEMERAL_STORAGE_RANGE,
        )?;
        self.strategy.validate()?;
        let max = crate::dependency::PER_FUNCTION_MAX;
        if self.dependencies.len() > max {
            return Err(Invalid::field(
                "depend_version_list",
                format!(
                    "{} dependency versions given; a function may reference at most {max}",
                    self.dependencies.len()
                ),
            ));
        }
        Ok(())
    }

    /// CPU share in millicores.
    pub fn cpu(&self) -> u32 {
        cpu_for_memory(self.memory_size)
    }
}

/// Checks a memory size against the guide's list.
pub fn check_memory(field: &str, mb: u32) -> InvalidResult<()> {
    if MEMORY_SIZES.contains(&mb) {
        return Ok(());
    }
    let list: Vec<String> = MEMORY_SIZES.iter().map(u32::to_string).collect();
    Err(Invalid::field(
        field,
        format!("{mb} MB is not allowed; use one of {}", list.join(", ")),
    ))
}

fn check_range(field: &str, v: u32, (lo, hi): (u32, u32)) -> InvalidResult<()> {
    if v < lo || v > hi {
        return Err(Invalid::field(field, format!("{v} is outside {lo}..{hi}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FunctionSpec {
        FunctionSpec {
            name: "hello".into(),
            package: "default".into(),
            runtime: "Python3.9".into(),
            handler: "index.handler".into(),
            memory_size: 128,
            timeout: 3,
            description: String::new(),
            user_data: BTreeMap::new(),
            encrypted_user_data: BTreeMap::new(),
            initializer_handler: String::new(),
            initializer_timeout: 3,
            pre_stop_handler: String::new(),
            pre_stop_timeout: 3,
            ephemeral_storage: 512,
            enable_dynamic_memory: false,
            strategy: Strategy::default(),
            code: CodeInfo::default(),
            func_type: "v2".into(),
            extras: BTreeMap::new(),
            last_modified: String::new(),
            version_description: String::new(),
            dependencies: Vec::new(),
        }
    }

    #[test]
    fn valid_spec_passes() {
        assert!(spec().validate().is_ok());
    }

    #[test]
    fn each_limit_is_checked() {
        type Change = Box<dyn Fn(&mut FunctionSpec)>;
        let cases: Vec<(&str, Change)> = vec![
            ("memory_size", Box::new(|s| s.memory_size = 100)),
            ("timeout", Box::new(|s| s.timeout = 2)),
            ("timeout", Box::new(|s| s.timeout = 259_201)),
            ("description", Box::new(|s| s.description = "x".repeat(513))),
            (
                "initializer_timeout",
                Box::new(|s| {
                    s.initializer_handler = "index.init".into();
                    s.initializer_timeout = 301;
                }),
            ),
            (
                "initializer_handler",
                Box::new(|s| s.initializer_handler = "init".into()),
            ),
            (
                "initializer_timeout",
                Box::new(|s| s.initializer_timeout = 0),
            ),
            (
                "initializer_timeout",
                Box::new(|s| s.initializer_timeout = 301),
            ),
            (
                "strategy_config.concurrent_num",
                Box::new(|s| s.strategy.concurrent_num = 1001),
            ),
            (
                "max_instance_num",
                Box::new(|s| s.strategy.max_instances = -2),
            ),
            (
                "ephemeral_storage",
                Box::new(|s| s.ephemeral_storage = 10_241),
            ),
        ];
        for (field, change) in cases {
            let mut s = spec();
            change(&mut s);
            let err = s.validate().unwrap_err();
            assert_eq!(err.field, field);
        }
    }
}
