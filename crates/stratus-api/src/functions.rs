//! Function management routes.

use crate::auth::Principal;
use crate::convert;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use stratus_api_types::{
    parse_json, CodeBody, FunctionBody, ListFunctionsResponse, MaxInstanceBody,
};
use stratus_engine::ExportParts;
use stratus_store::{FunctionKey, FunctionRecord, ListQuery};
use stratus_types::{Qualifier, Urn};

/// Parses the `{function_urn}` path part (already percent-decoded by the router) and
/// checks it belongs to the caller's project.
pub fn parse_urn(project_id: &str, raw: &str) -> Result<Urn, ApiError> {
    let urn = Urn::parse(raw)?;
    if urn.project_id != project_id {
        return Err(ApiError::bad_request(format!(
            "the URN's project {:?} is not the project in the path {project_id:?}",
            urn.project_id
        )));
    }
    Ok(urn)
}

pub(crate) fn key_of(urn: &Urn) -> FunctionKey {
    FunctionKey {
        project_id: urn.project_id.clone(),
        package: urn.package.clone(),
        name: urn.name.clone(),
    }
}

/// The function addressed by a URN whose qualifier must mean `latest`.
pub(crate) fn latest_key(project_id: &str, raw: &str) -> Result<FunctionKey, ApiError> {
    let urn = parse_urn(project_id, raw)?;
    match &urn.qualifier {
        Qualifier::None | Qualifier::Latest => Ok(key_of(&urn)),
        Qualifier::Version(v) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "FSS.1052",
            format!("version {v:?} of function {:?} does not exist", urn.name),
        )),
        Qualifier::Alias(a) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "FSS.1053",
            format!("alias {a:?} of function {:?} does not exist", urn.name),
        )),
    }
}

/// The function a write addresses: only `latest` can change.
fn mutable_key(project_id: &str, raw: &str) -> Result<FunctionKey, ApiError> {
    let urn = parse_urn(project_id, raw)?;
    match &urn.qualifier {
        Qualifier::None | Qualifier::Latest => Ok(key_of(&urn)),
        Qualifier::Version(_) | Qualifier::Alias(_) => Err(ApiError::bad_request(
            "published versions are immutable: change latest, then publish a new version",
        )),
    }
}

/// The record and version name a read of `raw` addresses (`latest`, a version, or the
/// main version of an alias).
async fn readable(
    state: &AppState,
    project_id: &str,
    raw: &str,
) -> Result<(std::sync::Arc<stratus_store::FunctionRecord>, String), ApiError> {
    let urn = parse_urn(project_id, raw)?;
    let key = key_of(&urn);
    let version = match &urn.qualifier {
        Qualifier::None | Qualifier::Latest => {
            return Ok((state.engine.functions.get(&key).await?, "latest".into()))
        }
        Qualifier::Version(v) => v.clone(),
        Qualifier::Alias(a) => state.engine.versions.alias(&key, a).await?.version,
    };
    if version == "latest" {
        return Ok((state.engine.functions.get(&key).await?, version));
    }
    let v = state.engine.versions.version(&key, &version).await?;
    Ok((v.view.clone(), version))
}

pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; a JSON object is required",
        ));
    }
    parse_json(body).map_err(ApiError::bad_request)
}

pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// `POST /v2/{project_id}/fgs/functions`.
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: Bytes,
) -> Result<Json<stratus_api_types::FunctionConfig>, ApiError> {
    let body: FunctionBody = json_body(&body)?;
    let upload = convert::create_upload(&body);
    let draft = convert::draft(body)?;
    let rec = state
        .engine
        .functions
        .create(&who.project_id, draft, upload)
        .await?;
    Ok(Json(convert::config(&rec, state.engine.functions.region())))
}

/// `GET /v2/{project_id}/fgs/functions`.
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<ListFunctionsResponse>, ApiError> {
    let marker = parse_marker(q.get("marker").map(String::as_str))?;
    let maxitems = page_size(q.get("maxitems").map(String::as_str))?;
    let query = ListQuery {
        project_id: who.project_id.clone(),
        package: q.get("package_name").filter(|s| !s.is_empty()).cloned(),
        name_contains: q.get("func_name").filter(|s| !s.is_empty()).cloned(),
        offset: marker,
        limit: maxitems,
    };
    let (page, total) = state.engine.functions.list(&query).await?;
    let region = state.engine.functions.region();
    let next = marker + page.len();
    Ok(Json(ListFunctionsResponse {
        functions: page.iter().map(|r| convert::config(r, region)).collect(),
        next_marker: if next < total {
            next as i64
        } else {
            total as i64
        },
        count: total as i64,
    }))
}

/// A list `marker`: the offset to start at; absent or empty means 0.
pub(crate) fn parse_marker(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None | Some("") => Ok(0),
        Some(m) => m.parse().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "FSS.1001",
                format!("invalid marker {m:?}: must be a non-negative integer"),
            )
        }),
    }
}

/// Largest page of `list_functions`.
const MAX_PAGE: usize = 400;

/// `maxitems` as the reference defines it (section 8.3): absent, empty, `0` or more than
/// 400 mean 400; a negative or non-numeric value is refused.
pub(crate) fn page_size(raw: Option<&str>) -> Result<usize, ApiError> {
    let m = raw.unwrap_or("");
    if m.is_empty() {
        return Ok(MAX_PAGE);
    }
    if !m.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "FSS.1001",
            format!(
                "invalid maxitems {m:?}: must be a non-negative integer (at most 400 are returned)"
            ),
        ));
    }
    // All digits: a value too large for usize is simply "more than 400".
    Ok(match m.parse::<usize>() {
        Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
        _ => MAX_PAGE,
    })
}

/// Serialised `GET …/config` answers by function id and version. An entry answers only
/// while it holds the very record the engine's caches hand out for that read: an update
/// replaces the record and a delete drops it, so a changed function is serialised anew.
/// (The answer depends on nothing but the record, the version and the region.)
#[derive(Default)]
pub struct ConfigJson {
    map: RwLock<HashMap<String, Vec<ConfigEntry>>>,
}

struct ConfigEntry {
    version: String,
    record: Arc<FunctionRecord>,
    body: Bytes,
}

/// Entries kept before the cache starts over (records of deleted functions stay pinned
/// until then).
const CONFIG_JSON_MAX: usize = 4096;

impl ConfigJson {
    fn get(&self, rec: &Arc<FunctionRecord>, version: &str) -> Option<Bytes> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.get(rec.id.as_str())?
            .iter()
            .find(|e| e.version == version && Arc::ptr_eq(&e.record, rec))
            .map(|e| e.body.clone())
    }

    fn put(&self, rec: &Arc<FunctionRecord>, version: &str, body: Bytes) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CONFIG_JSON_MAX {
            map.clear();
        }
        let entries = map.entry(rec.id.clone()).or_default();
        entries.retain(|e| e.version != version);
        entries.push(ConfigEntry {
            version: version.to_string(),
            record: rec.clone(),
            body,
        });
    }
}

/// `GET .../{function_urn}/config`.
pub async fn get_config(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (rec, version) = readable(&state, &who.project_id, &urn).await?;
    let body = match state.config_json.get(&rec, &version) {
        Some(b) => b,
        None => {
            let config = convert::config_at(&rec, state.engine.functions.region(), &version);
            let b = Bytes::from(serde_json::to_vec(&config).map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "FSS.0500",
                    format!("serialise the configuration: {e}"),
                )
            })?);
            state.config_json.put(&rec, &version, b.clone());
            b
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `PUT .../{function_urn}/config`.
pub async fn update_config(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<stratus_api_types::FunctionConfig>, ApiError> {
    let key = mutable_key(&who.project_id, &urn)?;
    let body: FunctionBody = json_body(&body)?;
    let draft = convert::draft(body)?;
    let rec = state.engine.functions.update_config(&key, draft).await?;
    Ok(Json(convert::config(&rec, state.engine.functions.region())))
}

/// `PUT .../{function_urn}/config-max-instance`.
pub async fn max_instances(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<stratus_api_types::FunctionConfig>, ApiError> {
    let key = mutable_key(&who.project_id, &urn)?;
    let body: MaxInstanceBody = json_body(&body)?;
    let Some(n) = body.max_instance_num else {
        return Err(ApiError::bad_request("max_instance_num is required"));
    };
    let n = i32::try_from(n).map_err(|_| {
        ApiError::bad_request(format!("invalid max_instance_num: {n} is out of range"))
    })?;
    let rec = state.engine.functions.set_max_instances(&key, n).await?;
    Ok(Json(convert::config(&rec, state.engine.functions.region())))
}

/// `GET .../{function_urn}/code`.
pub async fn get_code(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<stratus_api_types::FunctionCode>, ApiError> {
    let key = latest_key(&who.project_id, &urn)?;
    let rec = state.engine.functions.get(&key).await?;
    Ok(Json(convert::code(
        &rec,
        state.engine.functions.region(),
        &base_url(&headers),
    )))
}

/// `PUT .../{function_urn}/code`.
pub async fn update_code(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<stratus_api_types::FunctionCode>, ApiError> {
    let key = mutable_key(&who.project_id, &urn)?;
    let body: CodeBody = json_body(&body)?;
    let rec = state
        .engine
        .functions
        .update_code(&key, convert::code_upload(body))
        .await?;
    Ok(Json(convert::code(
        &rec,
        state.engine.functions.region(),
        &base_url(&headers),
    )))
}

/// `GET .../{function_urn}/code/package`: the stored package itself.
pub async fn download_package(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let key = latest_key(&who.project_id, &urn)?;
    let rec = state.engine.functions.get(&key).await?;
    let bytes = state.engine.functions.package(&key).await?;
    Ok(download(&rec.latest.code.code_filename, bytes))
}

/// `GET .../{function_urn}/export?type=code|config` or `?code=true&config=true`.
pub async fn export(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let parts = export_parts(&q)?;
    let key = latest_key(&who.project_id, &urn)?;
    let region = state.engine.functions.region().to_string();
    let out = state
        .engine
        .functions
        .export(&key, parts, |rec| {
            Ok(serde_json::to_vec_pretty(&convert::config(rec, &region))?)
        })
        .await?;
    Ok(download(&out.file_name, out.bytes))
}

/// The export query (ExportFunction): `type=code` or `type=config`, or the older
/// `code`/`config` booleans, which `type` may not be mixed with. Without any of them both
/// parts are exported (a Stratus default; the cloud asks for at least one).
fn export_parts(q: &HashMap<String, String>) -> Result<ExportParts, ApiError> {
    let flag = |name: &str| -> Result<Option<bool>, ApiError> {
        match q.get(name).map(String::as_str) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "FSS.1001",
                format!("invalid {name} {v:?}: must be true or false"),
            )),
        }
    };
    let (code, config) = (flag("code")?, flag("config")?);
    if let Some(t) = q.get("type") {
        if code.is_some() || config.is_some() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "FSS.1001",
                "type cannot be combined with code or config",
            ));
        }
        return match t.as_str() {
            "code" => Ok(ExportParts {
                code: true,
                config: false,
            }),
            "config" => Ok(ExportParts {
                code: false,
                config: true,
            }),
            other => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "FSS.1001",
                format!("invalid type {other:?}: must be code or config"),
            )),
        };
    }
    let parts = match (code, config) {
        (None, None) => ExportParts {
            code: true,
            config: true,
        },
        (code, config) => ExportParts {
            code: code.unwrap_or(false),
            config: config.unwrap_or(false),
        },
    };
    if !parts.code && !parts.config {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "FSS.1001",
            "nothing to export: set code=true, config=true or type",
        ));
    }
    Ok(parts)
}

pub(crate) fn download(name: &str, bytes: Vec<u8>) -> Response {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"')
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `DELETE .../{function_urn}`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    if urn.qualifier != Qualifier::None {
        crate::versions::delete_qualified(&state, &urn, &key_of(&urn)).await?;
        return Ok(StatusCode::NO_CONTENT);
    }
    let key = key_of(&urn);
    let rec = state.engine.functions.get(&key).await?;
    state.engine.functions.delete(&key).await?;
    state.engine.invoker.stop_function(&rec.id);
    state.engine.queue.forget_function(&rec.id);
    state.engine.versions.forget(&rec.id);
    state.engine.triggers.forget_function(&rec.id);
    state.engine.reserved.forget_function(&rec.id);
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn export_query_chooses_the_parts() {
        let both = ExportParts {
            code: true,
            config: true,
        };
        let code = ExportParts {
            code: true,
            config: false,
        };
        let config = ExportParts {
            code: false,
            config: true,
        };
        for (q, want) in [
            (vec![], both),
            (vec![("type", "code")], code),
            (vec![("type", "config")], config),
            (vec![("code", "true"), ("config", "true")], both),
            (vec![("code", "true")], code),
            (vec![("config", "TRUE"), ("code", "false")], config),
        ] {
            assert_eq!(export_parts(&query(&q)).ok(), Some(want), "{q:?}");
        }
        for q in [
            vec![("type", "all")],
            vec![("type", "")],
            vec![("type", "code"), ("code", "true")],
            vec![("type", "config"), ("config", "false")],
            vec![("code", "yes")],
            vec![("code", "false"), ("config", "false")],
            vec![("config", "false")],
        ] {
            let err = export_parts(&query(&q)).err().map(|e| (e.status, e.code));
            assert_eq!(err, Some((StatusCode::BAD_REQUEST, "FSS.1001")), "{q:?}");
        }
    }

    #[test]
    fn page_size_follows_the_reference() {
        for (raw, n) in [
            (None, 400),
            (Some(""), 400),
            (Some("0"), 400),
            (Some("1"), 1),
            (Some("400"), 400),
            (Some("401"), 400),
            (Some("123456789012345678901234567890"), 400),
        ] {
            assert_eq!(page_size(raw).ok(), Some(n), "{raw:?}");
        }
        for bad in ["-1", "-0", "x", "1e3", "+5", " 5"] {
            let err = page_size(Some(bad)).err().map(|e| (e.status, e.code));
            assert_eq!(err, Some((StatusCode::BAD_REQUEST, "FSS.1001")), "{bad}");
        }
    }
}
