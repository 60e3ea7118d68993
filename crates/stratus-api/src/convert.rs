//! Domain records to FunctionGraph response bodies, and request bodies to drafts.

use crate::error::ApiError;
use stratus_api_types::{
    CodeBody, DependencyVersion, FuncCode, FunctionBody, FunctionCode, FunctionConfig,
    StrategyConfig,
};
use stratus_engine::{CodeUpload, FunctionDraft};
use stratus_store::FunctionRecord;
use stratus_types::{Qualifier, Urn};

/// The URN of a record's `latest`.
pub fn urn_of(rec: &FunctionRecord, region: &str, qualifier: Qualifier) -> Urn {
    Urn::of(
        region,
        &rec.project_id,
        &rec.latest.package,
        &rec.latest.name,
        qualifier,
    )
}

fn env_text(map: &std::collections::BTreeMap<String, String>) -> String {
    if map.is_empty() {
        String::new()
    } else {
        serde_json::to_string(map).unwrap_or_default()
    }
}

/// The configuration body of `latest`.
pub fn config(rec: &FunctionRecord, region: &str) -> FunctionConfig {
    config_at(rec, region, "latest")
}

/// The configuration of `rec` as version `version` (`rec` carries that version's snapshot).
pub fn config_at(rec: &FunctionRecord, region: &str, version: &str) -> FunctionConfig {
    let qualifier = if version == "latest" {
        Qualifier::Latest
    } else {
        Qualifier::Version(version.to_string())
    };
    let s = &rec.latest;
    let text = |k: &str| {
        s.extras
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let mut other = s.extras.clone();
    for k in ["xrole", "app_xrole", "enterprise_project_id"] {
        other.remove(k);
    }
    FunctionConfig {
        func_id: rec.id.clone(),
        resource_id: rec.id.clone(),
        func_urn: urn_of(rec, region, qualifier).to_string(),
        func_name: s.name.clone(),
        domain_id: rec.project_id.clone(),
        namespace: rec.project_id.clone(),
        project_name: region.to_string(),
        package: s.package.clone(),
        runtime: s.runtime.clone(),
        timeout: i64::from(s.timeout),
        handler: s.handler.clone(),
        memory_size: i64::from(s.memory_size),
        cpu: i64::from(s.cpu()),
        code_type: s.code.code_type.clone(),
        code_url: s.code.code_url.clone(),
        code_filename: s.code.code_filename.clone(),
        code_size: s.code.size as i64,
        user_data: env_text(&s.user_data),
        encrypted_user_data: env_text(&s.encrypted_user_data),
        digest: s.code.sha512.clone(),
        version: version.to_string(),
        image_name: format!("{version}-{}", &rec.id[..rec.id.len().min(8)]),
        xrole: text("xrole"),
        app_xrole: text("app_xrole"),
        description: s.description.clone(),
        last_modified: s.last_modified.clone(),
        ephemeral_storage: i64::from(s.ephemeral_storage),
        strategy_config: StrategyConfig {
            concurrency: Some(i64::from(s.strategy.max_instances)),
            concurrent_num: Some(i64::from(s.strategy.concurrent_num)),
        },
        initializer_handler: s.initializer_handler.clone(),
        initializer_timeout: i64::from(s.initializer_timeout),
        pre_stop_handler: s.pre_stop_handler.clone(),
        pre_stop_timeout: i64::from(s.pre_stop_timeout),
        enterprise_project_id: match text("enterprise_project_id") {
            e if e.is_empty() => "0".into(),
            e => e,
        },
        long_time: s.timeout > 900,
        func_type: s.func_type.clone(),
        enable_dynamic_memory: s.enable_dynamic_memory,
        is_stateful_function: false,
        allow_ephemeral_storage: true,
        depend_version_list: s.dependencies.iter().map(|d| d.id.clone()).collect(),
        dependencies: dependency_objects(s),
        version_description: s.version_description.clone(),
        other,
    }
}

/// The code body of `latest`, with a download link relative to `base`.
pub fn code(rec: &FunctionRecord, region: &str, base: &str) -> FunctionCode {
    let s = &rec.latest;
    let urn = urn_of(rec, region, Qualifier::Latest);
    FunctionCode {
        func_urn: urn.to_string(),
        func_name: s.name.clone(),
        domain_id: rec.project_id.clone(),
        runtime: s.runtime.clone(),
        code_type: s.code.code_type.clone(),
        code_url: s.code.code_url.clone(),
        code_filename: s.code.code_filename.clone(),
        code_size: s.code.size as i64,
        digest: s.code.sha512.clone(),
        last_modified: s.last_modified.clone(),
        func_code: FuncCode {
            file: None,
            link: Some(format!(
                "{base}/v2/{}/fgs/functions/{}/code/package",
                rec.project_id,
                stratus_sign::encode_component(&urn.to_string())
            )),
        },
        depend_version_list: s.dependencies.iter().map(|d| d.id.clone()).collect(),
        dependencies: dependency_objects(s),
        strategy_config: StrategyConfig {
            concurrency: Some(i64::from(s.strategy.max_instances)),
            concurrent_num: Some(i64::from(s.strategy.concurrent_num)),
        },
    }
}

/// The `Dependency` objects of a configuration, in the function's order.
fn dependency_objects(s: &stratus_types::FunctionSpec) -> Vec<serde_json::Value> {
    s.dependencies
        .iter()
        .map(|d| {
            serde_json::to_value(DependencyVersion {
                id: d.id.clone(),
                owner: d.owner.clone(),
                link: crate::dependencies::package_path(&d.owner, &d.dep_id, d.version),
                runtime: d.runtime.clone(),
                etag: d.etag.clone(),
                size: d.size as i64,
                name: d.name.clone(),
                description: d.description.clone(),
                file_name: d.file_name.clone(),
                version: i64::from(d.version),
                dep_id: d.dep_id.clone(),
                last_modified: d.last_modified_ms,
                download_link: None,
                is_shared: None,
            })
            .unwrap_or_default()
        })
        .collect()
}

fn to_u32(field: &str, v: Option<i64>) -> Result<Option<u32>, ApiError> {
    v.map(|n| {
        u32::try_from(n)
            .map_err(|_| ApiError::bad_request(format!("invalid {field}: {n} is out of range")))
    })
    .transpose()
}

/// Body of create or update config to a draft.
pub fn draft(body: FunctionBody) -> Result<FunctionDraft, ApiError> {
    // Unmodelled fields are stored and echoed back: their JSON types must be the SDK's.
    stratus_api_types::check_extra_types(&body.other).map_err(ApiError::bad_request)?;
    let strategy = body.strategy_config.unwrap_or_default();
    let max_instances = strategy
        .concurrency
        .map(|n| {
            i32::try_from(n).map_err(|_| {
                ApiError::bad_request(format!("invalid strategy_config.concurrency: {n}"))
            })
        })
        .transpose()?;
    let mut extras = body.other;
    // Keys the server computes itself are not echoed from the request.
    for k in [
        "func_urn",
        "func_id",
        "digest",
        "version",
        "code_size",
        "cpu",
        "last_modified",
        "domain_id",
        "namespace",
        "project_name",
        "depend_version_list",
        "depend_list",
        "dependencies",
        "tags",
    ] {
        extras.remove(k);
    }
    Ok(FunctionDraft {
        func_name: body.func_name,
        package: body.package,
        runtime: body.runtime,
        handler: body.handler,
        memory_size: to_u32("memory_size", body.memory_size)?,
        timeout: to_u32("timeout", body.timeout)?,
        description: body.description,
        user_data: body.user_data,
        encrypted_user_data: body.encrypted_user_data,
        initializer_handler: body.initializer_handler,
        initializer_timeout: to_u32("initializer_timeout", body.initializer_timeout)?,
        pre_stop_handler: body.pre_stop_handler,
        pre_stop_timeout: to_u32("pre_stop_timeout", body.pre_stop_timeout)?,
        ephemeral_storage: to_u32("ephemeral_storage", body.ephemeral_storage)?,
        enable_dynamic_memory: body.enable_dynamic_memory,
        max_instances,
        concurrent_num: to_u32("strategy_config.concurrent_num", strategy.concurrent_num)?,
        func_type: body.func_type,
        depend_version_list: body.depend_version_list,
        extras,
    })
}

/// The code part of a create body.
pub fn create_upload(body: &FunctionBody) -> Option<CodeUpload> {
    Some(CodeUpload {
        code_type: body.code_type.clone(),
        code_filename: body.code_filename.clone(),
        code_url: body.code_url.clone(),
        file: body.func_code.as_ref().and_then(|c| c.file.clone()),
        depend_version_list: None,
    })
}

/// An update-code body.
pub fn code_upload(body: CodeBody) -> CodeUpload {
    CodeUpload {
        code_type: body.code_type,
        code_filename: body.code_filename,
        code_url: body.code_url,
        file: body.func_code.and_then(|c| c.file),
        depend_version_list: body.depend_version_list,
    }
}
