//! Asynchronous invocation routes: accept, status records, cancel, and the per-qualifier
//! policy (`async-invoke-config`).

use crate::auth::Principal;
use crate::error::ApiError;
use crate::functions::parse_urn;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use std::collections::HashMap;
use stratus_api_types::{
    parse_json, AsyncConfigBody, AsyncConfigList, AsyncConfigView, AsyncInvocation,
    AsyncInvocationList, AsyncInvokeResponse, CancelBody, DestinationConfig, DestinationsConfig,
    PageInfo,
};
use stratus_engine::{AsyncConfig, CancelError, Destination, DestinationInput, PolicyInput};
use stratus_store::{AsyncQuery, AsyncRequest, AsyncStatus, FunctionKey, FunctionRecord};
use stratus_types::limits::ASYNC_PAYLOAD_MAX;
use stratus_types::Urn;

/// Default page of status records, and the largest.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 500;

/// The function and qualifier a URN names; 404 when either does not exist.
async fn target(
    state: &AppState,
    who: &Principal,
    raw: &str,
) -> Result<(Urn, std::sync::Arc<FunctionRecord>), ApiError> {
    let urn = parse_urn(&who.project_id, raw)?;
    let (record, _) = state.engine.invoker.target(&who.project_id, &urn).await?;
    Ok((urn, record))
}

/// `POST .../{function_urn}/invocations-async`: 202 once the event is durable.
pub async fn invoke(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    crate::invoke::check_event(&body, ASYNC_PAYLOAD_MAX, "asynchronous")?;
    let memory = headers
        .get("x-cff-instance-memory")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let request_id = state
        .engine
        .queue
        .accept(&who.project_id, &urn, body, memory)
        .await?;
    let mut resp = (
        StatusCode::ACCEPTED,
        Json(AsyncInvokeResponse {
            request_id: request_id.clone(),
        }),
    )
        .into_response();
    if let Ok(v) = request_id.parse() {
        resp.headers_mut().insert("x-cff-request-id", v);
    }
    Ok(resp)
}

fn time_text(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn view(r: &AsyncRequest) -> AsyncInvocation {
    AsyncInvocation {
        request_id: r.request_id.clone(),
        status: r.status.as_str().to_string(),
        error_message: r.error_message.clone(),
        error_code: if r.status == AsyncStatus::Success {
            0
        } else {
            r.error_code
        },
        start_time: time_text(r.start_ms.or(Some(r.accepted_ms))),
        end_time: time_text(r.end_ms),
        attempts: r.attempts,
    }
}

fn parse_time(field: &str, raw: &str) -> Result<i64, ApiError> {
    // The API's form is `YYYY-MM-DDTHH:mm:ss` in UTC; SDKs may add fractions or an offset.
    let t = raw.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(t.timestamp_millis());
    }
    let naive = t.trim_end_matches('Z');
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(naive, f).ok())
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "invalid {field}: {raw:?} is not a UTC time like 2024-01-02T03:04:05"
            ))
        })
}

fn number(q: &HashMap<String, String>, field: &str) -> Result<Option<usize>, ApiError> {
    match q.get(field).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "invalid {field}: {s:?} is not a non-negative integer"
            ))
        }),
    }
}

/// Reads the list query; `active` restricts the statuses to WAIT and RUNNING.
fn query(
    function_id: &str,
    q: &HashMap<String, String>,
    active: bool,
) -> Result<AsyncQuery, ApiError> {
    let limit = match number(q, "limit")? {
        None | Some(0) => DEFAULT_LIMIT,
        Some(n) if n <= MAX_LIMIT => n,
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "invalid limit: {n} is above the maximum of {MAX_LIMIT}"
            )))
        }
    };
    let offset = number(q, "marker")?.unwrap_or(0);
    let mut statuses = Vec::new();
    if let Some(s) = q.get("status").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let st = AsyncStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "invalid status: {s:?}; use WAIT, RUNNING, SUCCESS, FAIL or DISCARD"
            ))
        })?;
        if active && st.is_terminal() {
            return Err(ApiError::bad_request(format!(
                "invalid status: {s:?}; active requests are WAIT or RUNNING"
            )));
        }
        statuses.push(st);
    } else if active {
        statuses = vec![AsyncStatus::Wait, AsyncStatus::Running];
    }
    let begin = q.get("query_begin_time").filter(|s| !s.trim().is_empty());
    let end = q.get("query_end_time").filter(|s| !s.trim().is_empty());
    let until_ms = end.map(|e| parse_time("query_end_time", e)).transpose()?;
    let since_ms = match begin {
        Some(b) => Some(parse_time("query_begin_time", b)?),
        // The API's default window is the last hour.
        None => Some(until_ms.unwrap_or_else(|| chrono::Utc::now().timestamp_millis()) - 3_600_000),
    };
    if let (Some(s), Some(u)) = (since_ms, until_ms) {
        if s > u {
            return Err(ApiError::bad_request(
                "invalid query_begin_time: it is after query_end_time",
            ));
        }
    }
    let id_field = if active { "requests" } else { "request_id" };
    Ok(AsyncQuery {
        function_id: function_id.to_string(),
        request_id: q
            .get(id_field)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        statuses,
        since_ms,
        until_ms,
        offset,
        limit,
    })
}

async fn list_with(
    state: AppState,
    who: Principal,
    urn: String,
    q: HashMap<String, String>,
    active: bool,
) -> Result<Json<AsyncInvocationList>, ApiError> {
    let (_, record) = target(&state, &who, &urn).await?;
    let query = query(&record.id, &q, active)?;
    let (page, count) = state
        .engine
        .queue
        .list(&query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(AsyncInvocationList {
        next_marker: (query.offset + page.len()).min(count),
        invocations: page.iter().map(view).collect(),
        count,
    }))
}

/// `GET .../{function_urn}/async-invocations`.
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<AsyncInvocationList>, ApiError> {
    list_with(state, who, urn, q, false).await
}

/// `GET .../{function_urn}/active-async-invocations`.
pub async fn list_active(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<AsyncInvocationList>, ApiError> {
    list_with(state, who, urn, q, true).await
}

/// `POST .../{function_urn}/cancel`: only a waiting request can be cancelled.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let (_, record) = target(&state, &who, &urn).await?;
    let body: CancelBody = if body.is_empty() {
        CancelBody::default()
    } else {
        parse_json(&body).map_err(ApiError::bad_request)?
    };
    let Some(id) = body.request_id.filter(|s| !s.trim().is_empty()) else {
        return Err(ApiError::bad_request("invalid request_id: it is required"));
    };
    if let Some(k) = body.kind.as_deref() {
        if k != "force" && k != "recursive" {
            return Err(ApiError::bad_request(format!(
                "invalid type: {k:?}; use force or recursive"
            )));
        }
    }
    match state.engine.queue.cancel(&record.id, id.trim()).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(CancelError::NotFound(m)) => Err(ApiError::new(StatusCode::NOT_FOUND, "FSS.1051", m)),
        Err(CancelError::NotWaiting(m)) => Err(ApiError::new(StatusCode::CONFLICT, "FSS.0409", m)),
        Err(CancelError::Internal(e)) => Err(ApiError::internal(e)),
    }
}

fn destination_view(d: &Option<Destination>) -> Option<DestinationConfig> {
    d.as_ref().map(|d| match d {
        Destination::Function { urn } => DestinationConfig {
            destination: Some("FunctionGraph".into()),
            param: Some(serde_json::json!({ "func_urn": urn }).to_string()),
        },
        Destination::Bucket {
            bucket,
            prefix,
            expires,
        } => DestinationConfig {
            destination: Some("OBS".into()),
            param: Some(
                serde_json::json!({ "bucket": bucket, "prefix": prefix, "expires": expires })
                    .to_string(),
            ),
        },
    })
}

fn config_view(c: &AsyncConfig) -> AsyncConfigView {
    AsyncConfigView {
        func_urn: c.func_urn.clone(),
        max_async_event_age_in_seconds: i64::from(c.policy.max_age_s),
        max_async_retry_attempts: i64::from(c.policy.max_retries),
        destination_config: DestinationsConfig {
            on_success: destination_view(&c.policy.on_success),
            on_failure: destination_view(&c.policy.on_failure),
        },
        created_time: c.created_at.clone(),
        last_modified: c.modified_at.clone(),
        enable_async_status_log: c.policy.status_log,
    }
}

fn key_of(urn: &Urn) -> FunctionKey {
    FunctionKey {
        project_id: urn.project_id.clone(),
        package: urn.package.clone(),
        name: urn.name.clone(),
    }
}

/// `PUT .../{function_urn}/async-invoke-config`.
pub async fn put_config(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<AsyncConfigView>, ApiError> {
    let (urn, _) = target(&state, &who, &urn).await?;
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; a JSON object is required",
        ));
    }
    let body: AsyncConfigBody = parse_json(&body).map_err(ApiError::bad_request)?;
    let dest = |d: Option<&DestinationConfig>| {
        d.map(|d| DestinationInput {
            destination: d.destination.clone(),
            param: d.param.clone(),
        })
    };
    let dc = body.destination_config.as_ref();
    let input = PolicyInput {
        max_age_s: body.max_async_event_age_in_seconds,
        max_retries: body.max_async_retry_attempts,
        on_success: dest(dc.and_then(|d| d.on_success.as_ref())),
        on_failure: dest(dc.and_then(|d| d.on_failure.as_ref())),
        status_log: body.enable_async_status_log,
    };
    let c = state
        .engine
        .queue
        .put_config(&key_of(&urn), &urn.qualifier, &input)
        .await?;
    Ok(Json(config_view(&c)))
}

/// `GET .../{function_urn}/async-invoke-config`.
pub async fn get_config(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
) -> Result<Json<AsyncConfigView>, ApiError> {
    let (urn, record) = target(&state, &who, &urn).await?;
    match state.engine.queue.config(&record.id, &urn.qualifier) {
        Some(c) => Ok(Json(config_view(&c))),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "FSS.1051",
            format!("no asynchronous invocation config is set for {urn}"),
        )),
    }
}

/// `DELETE .../{function_urn}/async-invoke-config`.
pub async fn delete_config(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (urn, record) = target(&state, &who, &urn).await?;
    state
        .engine
        .queue
        .delete_config(&record.id, &urn.qualifier)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET .../{function_urn}/async-invoke-configs`: every qualifier's policy.
pub async fn list_configs(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<AsyncConfigList>, ApiError> {
    let (_, record) = target(&state, &who, &urn).await?;
    let all = state.engine.queue.configs(&record.id);
    let offset = number(&q, "marker")?.unwrap_or(0);
    let limit = match number(&q, "limit")? {
        None | Some(0) => DEFAULT_LIMIT,
        Some(n) => n.min(MAX_LIMIT),
    };
    let page: Vec<AsyncConfigView> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(config_view)
        .collect();
    Ok(Json(AsyncConfigList {
        page_info: PageInfo {
            next_marker: (offset + page.len()) as i64,
            previous_marker: offset as i64,
            current_count: page.len() as i64,
        },
        async_invoke_configs: page,
        count: all.len(),
    }))
}
