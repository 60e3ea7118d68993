//! `GET .../{function_urn}/logs`: the stored log lines of a function (Stratus extension).

use crate::auth::Principal;
use crate::error::ApiError;
use crate::functions::parse_urn;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use std::collections::HashMap;
use stratus_api_types::{LogLineDto, LogsResponse};
use stratus_store::LogQuery;

fn number(q: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    match q.get(name).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!("invalid {name} {v:?}: must be an integer"))
        }),
    }
}

/// Query: `request_id`, `since` (Unix ms), `after` (sequence), `limit` (1..10000, default 1000).
pub async fn query(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<LogsResponse>, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    let limit = number(&q, "limit")?.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "invalid limit {limit}: must be 1..10000"
        )));
    }
    let query = LogQuery {
        project_id: urn.project_id.clone(),
        package: urn.package.clone(),
        function: urn.name.clone(),
        request_id: q.get("request_id").filter(|s| !s.is_empty()).cloned(),
        since_ms: number(&q, "since")?,
        after_seq: number(&q, "after")?,
        limit: limit as usize,
    };
    let lines = state.engine.logs.query(&query).await.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "FSS.0500",
            format!("{e:#}"),
        )
    })?;
    let next_seq = lines.last().map_or(query.after_seq.unwrap_or(0), |l| l.seq);
    Ok(Json(LogsResponse {
        logs: lines
            .into_iter()
            .map(|l| LogLineDto {
                seq: l.seq,
                request_id: l.line.request_id,
                version: l.line.version,
                time: chrono::DateTime::from_timestamp_millis(l.line.time_ms)
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                    .unwrap_or_default(),
                level: l.line.level,
                message: l.line.text,
            })
            .collect(),
        next_seq,
    }))
}
