//! Versions and aliases routes.

use crate::auth::Principal;
use crate::convert;
use crate::error::ApiError;
use crate::functions::parse_urn;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use bytes::Bytes;
use std::collections::HashMap;
use stratus_api_types::{parse_json, AliasBody, AliasView, ListVersionsResponse, PublishBody};
use stratus_engine::AliasInput;
use stratus_store::{AliasRecord, FunctionKey};
use stratus_types::{Qualifier, Urn};

/// The function a URN names; versions and aliases are addressed through the function.
fn function_key(project_id: &str, raw: &str) -> Result<(Urn, FunctionKey), ApiError> {
    let urn = parse_urn(project_id, raw)?;
    let key = FunctionKey {
        project_id: urn.project_id.clone(),
        package: urn.package.clone(),
        name: urn.name.clone(),
    };
    Ok((urn, key))
}

fn body_of<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(T::default());
    }
    parse_json(body).map_err(ApiError::bad_request)
}

/// `POST .../{function_urn}/versions`: publishes `latest`.
pub async fn publish(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<stratus_api_types::FunctionConfig>, ApiError> {
    let (_, key) = function_key(&who.project_id, &urn)?;
    let body: PublishBody = body_of(&body)?;
    let v = state
        .engine
        .versions
        .publish(&key, body.version.as_deref(), body.description.as_deref())
        .await?;
    Ok(Json(convert::config_at(
        &v.view,
        state.engine.functions.region(),
        &v.version.name,
    )))
}

fn number(q: &HashMap<String, String>, field: &str, default: usize) -> Result<usize, ApiError> {
    match q.get(field).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "invalid {field}: {s:?} is not a non-negative integer"
            ))
        }),
    }
}

/// `GET .../{function_urn}/versions`: `latest` and the published versions.
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<ListVersionsResponse>, ApiError> {
    let (_, key) = function_key(&who.project_id, &urn)?;
    let marker = number(&q, "marker", 0)?;
    let max = match number(&q, "maxitems", 0)? {
        0 => 400,
        n => n.min(400),
    };
    let record = state.engine.functions.get(&key).await?;
    let catalog = state.engine.versions.catalog(&record).await?;
    let region = state.engine.functions.region();
    let all: Vec<stratus_api_types::FunctionConfig> =
        std::iter::once(convert::config(&record, region))
            .chain(
                catalog
                    .versions
                    .iter()
                    .map(|v| convert::config_at(&v.view, region, &v.version.name)),
            )
            .collect();
    let count = all.len();
    let page: Vec<_> = all.into_iter().skip(marker).take(max).collect();
    Ok(Json(ListVersionsResponse {
        next_marker: (marker + page.len()).min(count) as i64,
        versions: page,
        count: count as i64,
    }))
}

fn alias_view(state: &AppState, urn: &Urn, a: &AliasRecord) -> AliasView {
    let unqualified = Urn {
        region: state.engine.functions.region().to_string(),
        ..urn.unqualified()
    };
    AliasView {
        name: a.name.clone(),
        version: a.version.clone(),
        description: a.description.clone(),
        last_modified: a.modified_at.clone(),
        alias_urn: format!("{unqualified}:!{}", a.name),
        additional_version_weights: a
            .weights
            .iter()
            .map(|(k, v)| (k.clone(), i64::from(*v)))
            .collect(),
    }
}

fn alias_input(body: AliasBody) -> AliasInput {
    let has_rules = body
        .additional_version_strategy
        .as_ref()
        .is_some_and(|v| !(v.is_null() || v.as_object().is_some_and(|o| o.is_empty())));
    AliasInput {
        name: body.name,
        version: body.version,
        description: body.description,
        weights: body.additional_version_weights,
        has_rules,
    }
}

/// `POST .../{function_urn}/aliases`.
pub async fn create_alias(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<AliasView>, ApiError> {
    let (urn, key) = function_key(&who.project_id, &urn)?;
    let body: AliasBody = body_of(&body)?;
    let a = state
        .engine
        .versions
        .put_alias(&key, None, &alias_input(body))
        .await?;
    Ok(Json(alias_view(&state, &urn, &a)))
}

/// `PUT .../{function_urn}/aliases/{alias_name}`.
pub async fn update_alias(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn, name)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<AliasView>, ApiError> {
    let (urn, key) = function_key(&who.project_id, &urn)?;
    let body: AliasBody = body_of(&body)?;
    let a = state
        .engine
        .versions
        .put_alias(&key, Some(&name), &alias_input(body))
        .await?;
    Ok(Json(alias_view(&state, &urn, &a)))
}

/// `GET .../{function_urn}/aliases/{alias_name}`.
pub async fn get_alias(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn, name)): Path<(String, String, String)>,
) -> Result<Json<AliasView>, ApiError> {
    let (urn, key) = function_key(&who.project_id, &urn)?;
    let a = state.engine.versions.alias(&key, &name).await?;
    Ok(Json(alias_view(&state, &urn, &a)))
}

/// `GET .../{function_urn}/aliases`: a bare JSON array.
pub async fn list_aliases(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
) -> Result<Json<Vec<AliasView>>, ApiError> {
    let (urn, key) = function_key(&who.project_id, &urn)?;
    let record = state.engine.functions.get(&key).await?;
    let catalog = state.engine.versions.catalog(&record).await?;
    Ok(Json(
        catalog
            .aliases
            .iter()
            .map(|a| alias_view(&state, &urn, a))
            .collect(),
    ))
}

/// `DELETE .../{function_urn}/aliases/{alias_name}`.
pub async fn delete_alias(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn, name)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let (urn, key) = function_key(&who.project_id, &urn)?;
    delete_qualified(&state, &urn.with_qualifier(Qualifier::Alias(name)), &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE` of a qualified function URN: a version (its aliases go with it) or an alias.
pub async fn delete_qualified(
    state: &AppState,
    urn: &Urn,
    key: &FunctionKey,
) -> Result<(), ApiError> {
    match &urn.qualifier {
        Qualifier::Version(v) => {
            let record = state.engine.functions.get(key).await?;
            let catalog = state.engine.versions.catalog(&record).await?;
            state.engine.versions.delete_version(key, v).await?;
            state.engine.invoker.stop_version(&record.id, v);
            // The version's triggers go with it, and so do those of the aliases it took.
            state
                .engine
                .triggers
                .delete_qualifier(&record.id, v)
                .await?;
            state.engine.reserved.forget_qualifier(&record.id, v).await;
            for a in catalog.aliases.iter().filter(|a| a.version == *v) {
                let q = format!("!{}", a.name);
                state
                    .engine
                    .triggers
                    .delete_qualifier(&record.id, &q)
                    .await?;
                state.engine.reserved.forget_qualifier(&record.id, &q).await;
            }
            Ok(())
        }
        Qualifier::Alias(a) => {
            let record = state.engine.functions.get(key).await?;
            state.engine.versions.delete_alias(key, a).await?;
            state
                .engine
                .reserved
                .forget_qualifier(&record.id, &format!("!{a}"))
                .await;
            state
                .engine
                .triggers
                .delete_qualifier(&record.id, &format!("!{a}"))
                .await?;
            Ok(())
        }
        Qualifier::None | Qualifier::Latest => Err(ApiError::bad_request(
            "the latest version cannot be deleted; delete the function with its unqualified URN",
        )),
    }
}
