//! App key routes (`/v2/{project_id}/apigw/apps`): create (the only answer with the
//! AppSecret), list, delete.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use stratus_api_types::{parse_json, AppBody, AppList, AppView};
use stratus_engine::{AppInput, DeployError};
use stratus_store::AppKeyRecord;

fn view(a: &AppKeyRecord, secret: bool) -> AppView {
    AppView {
        id: a.id.clone(),
        name: a.name.clone(),
        remark: a.remark.clone(),
        app_key: a.app_key.clone(),
        app_secret: secret.then(|| a.app_secret.clone()),
        register_time: a.created_at.clone(),
    }
}

/// `POST /apigw/apps`: 201 with the new key pair.
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: AppBody = if body.iter().all(|b| b.is_ascii_whitespace()) {
        AppBody::default()
    } else {
        parse_json(&body).map_err(ApiError::bad_request)?
    };
    let app = state
        .engine
        .apps
        .create(
            &who.project_id,
            &AppInput {
                name: body.name,
                remark: body.remark,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view(&app, true))).into_response())
}

/// `GET /apigw/apps`.
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<AppList>, ApiError> {
    let apps: Vec<AppView> = state
        .engine
        .apps
        .list(&who.project_id)
        .await?
        .iter()
        .map(|a| view(a, false))
        .collect();
    Ok(Json(AppList {
        total: apps.len(),
        size: apps.len(),
        apps,
    }))
}

/// `DELETE /apigw/apps/{app_id}`: 204.
pub async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    match state.engine.apps.delete(&who.project_id, &id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(DeployError::NotFound(m)) => Err(ApiError::new(StatusCode::NOT_FOUND, "APIG.3004", m)),
        Err(e) => Err(e.into()),
    }
}
