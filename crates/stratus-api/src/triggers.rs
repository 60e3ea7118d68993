//! Trigger routes (`/v2/{project_id}/fgs/triggers/...`).

use crate::auth::Principal;
use crate::error::ApiError;
use crate::functions::parse_urn;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use stratus_api_types::{parse_json, TriggerBody, TriggerUpdateBody, TriggerView};
use stratus_engine::TriggerInput;
use stratus_store::TriggerRecord;

fn view(state: &AppState, t: &TriggerRecord) -> TriggerView {
    TriggerView {
        trigger_id: t.id.clone(),
        trigger_type_code: t.type_code.clone(),
        trigger_status: t.status.clone(),
        event_type_code: t.event_type_code.clone(),
        event_data: state.engine.triggers.shown(t),
        last_updated_time: t.updated_at.clone(),
        created_time: t.created_at.clone(),
    }
}

fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request(
            "the request body is empty; a JSON object is required",
        ));
    }
    parse_json(body).map_err(ApiError::bad_request)
}

/// `POST /fgs/triggers/{function_urn}`: 201 with the trigger.
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    let body: TriggerBody = json_body(&body)?;
    let Some(code) = body.trigger_type_code.filter(|c| !c.trim().is_empty()) else {
        return Err(ApiError::bad_request(
            "invalid trigger_type_code: it is required",
        ));
    };
    let input = TriggerInput {
        type_code: code,
        status: body.trigger_status,
        event_type_code: body.event_type_code,
        event_data: body.event_data.unwrap_or(serde_json::Value::Null),
    };
    let t = state
        .engine
        .triggers
        .create(&who.project_id, &urn, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(view(&state, &t))).into_response())
}

/// `GET /fgs/triggers/{function_urn}`: a bare array.
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
) -> Result<Json<Vec<TriggerView>>, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    let all = state.engine.triggers.list(&who.project_id, &urn).await?;
    Ok(Json(all.iter().map(|t| view(&state, t)).collect()))
}

/// `GET /fgs/triggers/{function_urn}/{type}/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn, code, id)): Path<(String, String, String, String)>,
) -> Result<Json<TriggerView>, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    let t = state
        .engine
        .triggers
        .get(&who.project_id, &urn, &code, &id)
        .await?;
    Ok(Json(view(&state, &t)))
}

/// `PUT /fgs/triggers/{function_urn}/{type}/{id}`: enable, disable or change.
pub async fn update(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn, code, id)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Result<Json<TriggerView>, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    let body: TriggerUpdateBody = json_body(&body)?;
    let t = state
        .engine
        .triggers
        .update(
            &who.project_id,
            &urn,
            &code,
            &id,
            body.trigger_status.as_deref(),
            body.event_data.as_ref(),
        )
        .await?;
    Ok(Json(view(&state, &t)))
}

/// `DELETE /fgs/triggers/{function_urn}/{type}/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn, code, id)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    state
        .engine
        .triggers
        .delete(&who.project_id, &urn, &code, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /fgs/triggers/{function_urn}`: all triggers of the function or qualifier.
pub async fn delete_all(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    state
        .engine
        .triggers
        .delete_all(&who.project_id, &urn)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
