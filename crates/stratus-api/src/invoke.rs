//! Synchronous invocation route.

use crate::auth::Principal;
use crate::error::ApiError;
use crate::functions::parse_urn;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::Engine as _;
use bytes::Bytes;
use stratus_api_types::{InvokeResponseV1, InvokeSummary};
use stratus_engine::{InvokeRequest, InvokeType};
use stratus_types::limits::SYNC_PAYLOAD_MAX;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks an invocation body: at most `limit` bytes (`413 FSS.1201`) and JSON when not
/// empty (`406 FSS.0406`).
pub(crate) fn check_event(body: &[u8], limit: usize, mode: &str) -> Result<(), ApiError> {
    if body.len() > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "FSS.1201",
            format!(
                "the request body is {} bytes; the limit for {mode} invocation is {limit} bytes",
                body.len()
            ),
        ));
    }
    if !body.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        return Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "FSS.0406",
            "the request body is not valid JSON; the event must be a JSON value",
        ));
    }
    Ok(())
}

/// `POST .../{function_urn}/invocations`.
pub async fn sync(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let urn = parse_urn(&who.project_id, &urn)?;
    check_event(&body, SYNC_PAYLOAD_MAX, "synchronous")?;
    let want_log =
        header(&headers, "x-cff-log-type").is_some_and(|v| v.eq_ignore_ascii_case("tail"));
    let v1 =
        header(&headers, "x-cff-request-version").is_some_and(|v| v.eq_ignore_ascii_case("v1"));
    let out = state
        .engine
        .invoker
        .invoke(InvokeRequest {
            project_id: who.project_id.clone(),
            urn,
            body,
            invoke_type: InvokeType::Sync,
            memory: header(&headers, "x-cff-instance-memory").map(str::to_string),
            request_id: None,
        })
        .await?;
    if out.error.as_ref().is_some_and(|e| e.code == 4008) {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "FSS.0413",
            format!("the function's response exceeds the limit of {SYNC_PAYLOAD_MAX} bytes (request {})", out.request_id),
        ));
    }
    let summary = InvokeSummary {
        duration: (out.duration_ms * 1000.0).round() / 1000.0,
        billing_duration: out.billed_ms,
        memory_size: out.memory_mb,
        memory_used: (out.memory_used_mb * 1000.0).round() / 1000.0,
    };
    let tail = if want_log {
        out.log_tail().to_string()
    } else {
        String::new()
    };
    let mut resp = if v1 {
        let body = InvokeResponseV1 {
            request_id: out.request_id.clone(),
            result: String::from_utf8_lossy(&out.result).into_owned(),
            log: tail.clone(),
            status: if out.error.is_some() { 500 } else { 200 },
        };
        axum::Json(body).into_response()
    } else {
        let looks_json = out
            .result
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{' || *b == b'[');
        let ct = if looks_json {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        ([(axum::http::header::CONTENT_TYPE, ct)], out.result.clone()).into_response()
    };
    let h = resp.headers_mut();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    put("x-cff-request-id", out.request_id.clone());
    put(
        "x-cff-invoke-summary",
        serde_json::to_string(&summary).unwrap_or_default(),
    );
    put("x-cff-billing-duration", out.billed_ms.to_string());
    put(
        "x-cff-response-version",
        if v1 { "v1" } else { "v0" }.to_string(),
    );
    put(
        "x-func-err-code",
        out.error.as_ref().map_or(0, |e| e.code).to_string(),
    );
    put("x-is-func-err", out.error.is_some().to_string());
    if want_log {
        put(
            "x-cff-function-log",
            base64::engine::general_purpose::STANDARD.encode(tail.as_bytes()),
        );
    }
    Ok(resp)
}
