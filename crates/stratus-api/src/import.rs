//! `POST /fgs/functions/import`: a function from the zip that export produces.

use crate::auth::Principal;
use crate::convert;
use crate::error::ApiError;
use crate::functions::json_body;
use crate::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use stratus_api_types::{parse_json, FuncCode, FunctionBody};

/// The import body (`ImportFunctionRequestBody`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    func_name: Option<String>,
    file_name: Option<String>,
    file_type: Option<String>,
    file_code: Option<String>,
    package: Option<String>,
}

/// Keys of an exported configuration that describe the stored function rather than set
/// it; they are dropped before the configuration is used as a create body.
const READ_ONLY: &[&str] = &[
    "func_id",
    "resource_id",
    "func_urn",
    "domain_id",
    "namespace",
    "project_name",
    "cpu",
    "code_type",
    "code_url",
    "code_filename",
    "code_size",
    "digest",
    "version",
    "image_name",
    "last_modified",
    "long_time",
    "is_stateful_function",
    "allow_ephemeral_storage",
    "depend_version_list",
    "dependencies",
    "version_description",
    "func_code",
    "function_async_config",
];

pub async fn import(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: Bytes,
) -> Result<Json<stratus_api_types::FunctionConfig>, ApiError> {
    let body: ImportBody = json_body(&body)?;
    if let Some(t) = body.file_type.as_deref() {
        if !t.eq_ignore_ascii_case("zip") {
            return Err(ApiError::bad_request(format!(
                "invalid file_type: {t:?}; an export is a zip"
            )));
        }
    }
    let code = body
        .file_code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("invalid file_code: the base64 of the export zip is required")
        })?;
    let zip = base64::engine::general_purpose::STANDARD
        .decode(code.trim())
        .map_err(|e| ApiError::bad_request(format!("invalid file_code: not base64 ({e})")))?;
    let contents = state.engine.functions.read_export(zip).await?;
    let mut config: serde_json::Value = serde_json::from_slice(&contents.config).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid file_code: function.json is not JSON ({e})"
        ))
    })?;
    let obj = config.as_object_mut().ok_or_else(|| {
        ApiError::bad_request("invalid file_code: function.json is not an object")
    })?;
    for k in READ_ONLY {
        obj.remove(*k);
    }
    if let Some(name) = body.func_name.filter(|n| !n.is_empty()) {
        obj.insert("func_name".into(), name.into());
    }
    if let Some(p) = body.package.filter(|p| !p.is_empty()) {
        obj.insert("package".into(), p.into());
    }
    let mut create: FunctionBody = parse_json(config.to_string().as_bytes())
        .map_err(|e| ApiError::bad_request(format!("invalid file_code: function.json: {e}")))?;
    create.code_type = Some(
        if contents.code_filename.ends_with(".jar") {
            "jar"
        } else {
            "zip"
        }
        .into(),
    );
    create.code_filename = Some(contents.code_filename.clone());
    create.func_code = Some(FuncCode {
        file: Some(base64::engine::general_purpose::STANDARD.encode(&contents.code)),
        link: None,
    });
    let _ = body.file_name;
    let upload = convert::create_upload(&create);
    let draft = convert::draft(create)?;
    let rec = state
        .engine
        .functions
        .create(&who.project_id, draft, upload)
        .await?;
    Ok(Json(convert::config(&rec, state.engine.functions.region())))
}
