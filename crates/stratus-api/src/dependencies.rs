//! Dependency routes (reference section 8.15): create a version, list dependencies,
//! list, show and delete versions, and (a Stratus extension behind `link`) download a
//! version's package.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::functions::{base_url, download, json_body, page_size, parse_marker};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use bytes::Bytes;
use std::collections::HashMap;
use stratus_api_types::{
    CreateDependencyBody, DependencySummaryDto, DependencyVersion, ListDependenciesResponse,
    ListDependencyVersionsResponse,
};
use stratus_engine::{DependencyError, DependencyUpload};
use stratus_store::{DependencyQuery, DependencyVersionRecord};

impl From<DependencyError> for ApiError {
    fn from(e: DependencyError) -> Self {
        match e {
            DependencyError::Invalid(i) => i.into(),
            DependencyError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "FSS.0404", m),
            e @ DependencyError::InUse { .. } => {
                ApiError::new(StatusCode::CONFLICT, "FSS.0428", e.to_string())
            }
            DependencyError::TooLarge(m) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "FSS.0413", m)
            }
            DependencyError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// The download path of a version's package (the `link` of every dependency object).
pub fn package_path(project_id: &str, dep_id: &str, version: u32) -> String {
    format!("/v2/{project_id}/fgs/dependencies/{dep_id}/version/{version}/package")
}

fn version_body(r: &DependencyVersionRecord) -> DependencyVersion {
    DependencyVersion {
        id: r.id.clone(),
        owner: r.project_id.clone(),
        link: package_path(&r.project_id, &r.dep_id, r.version),
        runtime: r.runtime.clone(),
        etag: r.md5.clone(),
        size: r.size as i64,
        name: r.name.clone(),
        description: r.description.clone(),
        file_name: r.file_name.clone(),
        version: i64::from(r.version),
        dep_id: r.dep_id.clone(),
        last_modified: r.created_ms,
        download_link: None,
        is_shared: None,
    }
}

/// `POST /v2/{project_id}/fgs/dependencies/version`.
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: Bytes,
) -> Result<Json<DependencyVersion>, ApiError> {
    let body: CreateDependencyBody = json_body(&body)?;
    let record = state
        .engine
        .dependencies
        .create_version(
            &who.project_id,
            DependencyUpload {
                name: body.name,
                runtime: body.runtime,
                description: body.description,
                depend_type: body.depend_type,
                depend_file: body.depend_file,
                depend_link: body.depend_link,
            },
        )
        .await?;
    Ok(Json(version_body(&record)))
}

/// Whether a list asks for public dependencies only (Stratus has none).
fn public_only(q: &HashMap<String, String>) -> Result<bool, ApiError> {
    let bad = |name: &str, v: &str, allowed: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "FSS.1001",
            format!("invalid {name} {v:?}: must be {allowed}"),
        )
    };
    let public = match q.get("ispublic").map(String::as_str) {
        None | Some("") => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => return Err(bad("ispublic", v, "true or false")),
    };
    match q.get("dependency_type").map(String::as_str) {
        None | Some("") | Some("all") | Some("private") => Ok(public),
        Some("public") => Ok(true),
        Some(v) => Err(bad("dependency_type", v, "public, private or all")),
    }
}

/// The page size: `maxitems`, or `limit` when only that is given.
fn list_page(q: &HashMap<String, String>) -> Result<usize, ApiError> {
    let raw = q
        .get("maxitems")
        .filter(|m| !m.is_empty())
        .or_else(|| q.get("limit"));
    page_size(raw.map(String::as_str))
}

fn next_marker(marker: usize, page: usize, total: usize) -> i64 {
    (marker + page).min(total) as i64
}

/// `GET /v2/{project_id}/fgs/dependencies`.
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<ListDependenciesResponse>, ApiError> {
    let marker = parse_marker(q.get("marker").map(String::as_str))?;
    let limit = list_page(&q)?;
    if public_only(&q)? {
        return Ok(Json(ListDependenciesResponse::default()));
    }
    let query = DependencyQuery {
        project_id: who.project_id.clone(),
        name_contains: q.get("name").filter(|s| !s.is_empty()).cloned(),
        runtime: q.get("runtime").filter(|s| !s.is_empty()).cloned(),
        offset: marker,
        limit,
    };
    let (page, total) = state.engine.dependencies.list(&query).await?;
    let next = next_marker(marker, page.len(), total);
    let dependencies = page
        .into_iter()
        .map(|d| {
            let v = d.latest;
            DependencySummaryDto {
                id: v.dep_id.clone(),
                owner: v.project_id.clone(),
                link: package_path(&v.project_id, &v.dep_id, v.version),
                runtime: v.runtime,
                etag: v.md5,
                size: v.size as i64,
                name: v.name,
                file_name: v.file_name,
                description: v.description,
                version: i64::from(v.version),
                last_modified: v.created_ms,
            }
        })
        .collect();
    Ok(Json(ListDependenciesResponse {
        dependencies,
        next_marker: next,
        count: total as i64,
    }))
}

/// `GET /v2/{project_id}/fgs/dependencies/{depend_id}/version`.
pub async fn versions(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, dep_id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<ListDependencyVersionsResponse>, ApiError> {
    let marker = parse_marker(q.get("marker").map(String::as_str))?;
    let limit = list_page(&q)?;
    let (page, total) = state
        .engine
        .dependencies
        .versions(&who.project_id, &dep_id, marker, limit)
        .await?;
    let next = next_marker(marker, page.len(), total);
    Ok(Json(ListDependencyVersionsResponse {
        dependencies: page
            .iter()
            .map(|r| DependencyVersion {
                is_shared: Some(false),
                ..version_body(r)
            })
            .collect(),
        next_marker: next,
        count: total as i64,
    }))
}

/// `GET /v2/{project_id}/fgs/dependencies/{depend_id}/version/{version}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, dep_id, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<DependencyVersion>, ApiError> {
    let record = state
        .engine
        .dependencies
        .get(&who.project_id, &dep_id, &version)
        .await?;
    let body = version_body(&record);
    Ok(Json(DependencyVersion {
        download_link: Some(format!("{}{}", base_url(&headers), body.link)),
        is_shared: Some(false),
        ..body
    }))
}

/// `DELETE /v2/{project_id}/fgs/dependencies/{depend_id}/version/{version}`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, dep_id, version)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .engine
        .dependencies
        .delete(&who.project_id, &dep_id, &version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v2/{project_id}/fgs/dependencies/{depend_id}/version/{version}/package`: the
/// package itself.
pub async fn package(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, dep_id, version)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (record, bytes) = state
        .engine
        .dependencies
        .package(&who.project_id, &dep_id, &version)
        .await?;
    Ok(download(&record.file_name, bytes))
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
    fn public_and_private_filters() {
        for (q, public) in [
            (vec![], false),
            (vec![("ispublic", "false")], false),
            (vec![("ispublic", "TRUE")], true),
            (vec![("dependency_type", "all")], false),
            (vec![("dependency_type", "private")], false),
            (vec![("dependency_type", "public")], true),
        ] {
            assert_eq!(public_only(&query(&q)).ok(), Some(public), "{q:?}");
        }
        for q in [vec![("ispublic", "yes")], vec![("dependency_type", "mine")]] {
            let err = public_only(&query(&q)).err().map(|e| (e.status, e.code));
            assert_eq!(err, Some((StatusCode::BAD_REQUEST, "FSS.1001")), "{q:?}");
        }
    }

    #[test]
    fn page_size_comes_from_maxitems_or_limit() {
        assert_eq!(list_page(&query(&[])).ok(), Some(400));
        assert_eq!(list_page(&query(&[("maxitems", "5")])).ok(), Some(5));
        assert_eq!(list_page(&query(&[("limit", "7")])).ok(), Some(7));
        assert_eq!(
            list_page(&query(&[("maxitems", "5"), ("limit", "7")])).ok(),
            Some(5)
        );
        assert!(list_page(&query(&[("maxitems", "-1")])).is_err());
        assert_eq!(next_marker(0, 2, 5), 2);
        assert_eq!(next_marker(4, 1, 5), 5);
    }
}
