//! The API gateway listener: serves the APIs that APIG triggers publish. A request
//! `/<group_id><path>` is routed to an API (method, path parameters, `X-Stage`),
//! authenticated (None, App or IAM), turned into the APIG event and answered from the
//! function's APIG-shaped result; HTTP functions get the request itself through the
//! engine's bridge. Async APIs answer 202 once the invocation is durably queued.

mod auth;
mod event;

use crate::error::ApiError;
use crate::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderName, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use std::net::SocketAddr;
use stratus_engine::{InvokeError, InvokeRequest, InvokeType, RouteMatch};
use stratus_types::limits::SYNC_PAYLOAD_MAX;
use stratus_types::RuntimeKind;

/// An error answer of the gateway: `{"error_code", "error_msg", "request_id"}`.
#[derive(Debug)]
pub(crate) struct GatewayError {
    status: StatusCode,
    code: &'static str,
    msg: String,
}

impl GatewayError {
    pub(crate) fn new(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Self {
        GatewayError {
            status,
            code,
            msg: msg.into(),
        }
    }

    pub(crate) fn internal(e: &dyn std::fmt::Display) -> Self {
        tracing::error!("gateway: internal error: {e:#}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "APIG.0500",
            "internal error; see the server log",
        )
    }

    fn respond(self, request_id: &str) -> Response {
        let body = serde_json::json!({
            "error_code": self.code,
            "error_msg": self.msg,
            "request_id": request_id,
        });
        with_request_id((self.status, axum::Json(body)).into_response(), request_id)
    }
}

impl From<InvokeError> for GatewayError {
    fn from(e: InvokeError) -> Self {
        let api = ApiError::from(e);
        GatewayError::new(api.status, api.code, api.msg)
    }
}

fn not_found() -> GatewayError {
    GatewayError::new(
        StatusCode::NOT_FOUND,
        "APIG.0101",
        "The API does not exist or has not been published in the environment",
    )
}

fn with_request_id(mut resp: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// The gateway's router: every path goes to the published APIs.
pub fn router(state: AppState) -> Router {
    Router::new()
        .fallback(handle)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            crate::error::panic_response,
        ))
        .with_state(state)
}

async fn handle(State(state): State<AppState>, req: Request<Body>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    match serve(&state, req, &request_id).await {
        Ok(resp) => with_request_id(resp, &request_id),
        Err(e) => e.respond(&request_id),
    }
}

/// `/<group>/<rest>` → (`group`, `/<rest>`).
fn split_group(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('/')?;
    let (group, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    (!group.is_empty()).then_some((group, tail))
}

async fn serve(
    state: &AppState,
    req: Request<Body>,
    request_id: &str,
) -> Result<Response, GatewayError> {
    let (parts, body) = req.into_parts();
    let (group, path) = split_group(parts.uri.path()).ok_or_else(not_found)?;
    let stage = parts
        .headers
        .get("x-stage")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .unwrap_or("RELEASE")
        .to_string();
    let RouteMatch { api, params } = state
        .engine
        .gateway
        .find(group, &stage, parts.method.as_str(), path)
        .ok_or_else(not_found)?;
    let pending = auth::check_headers(state, &api, &parts).await?;
    let body =
        http_body_util::BodyExt::collect(http_body_util::Limited::new(body, SYNC_PAYLOAD_MAX))
            .await
            .map_err(|_| {
                GatewayError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "FSS.1201",
                    format!("the request body exceeds {SYNC_PAYLOAD_MAX} bytes"),
                )
            })?
            .to_bytes();
    if let Some(p) = &pending {
        auth::verify(state, p, &parts, &body)?;
    }
    let (record, _) = state
        .engine
        .invoker
        .target(&api.project_id, &api.urn)
        .await?;
    let http_function = record.latest.runtime().map(|r| r.kind()).ok() == Some(RuntimeKind::Http);
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let event = Bytes::from(event::build(&event::Request {
        method: parts.method.as_str(),
        path,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
        params: &params,
        api_id: &api.api_id,
        request_id,
        stage: &api.env,
        source_ip: &source_ip,
        http_function,
    }));

    if api.asynchronous {
        let id = state
            .engine
            .queue
            .accept(&api.project_id, &api.urn, event, None)
            .await?;
        let mut resp = (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({ "request_id": id })),
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert("x-cff-request-id", v);
        }
        return Ok(resp);
    }

    let run = state.engine.invoker.invoke(InvokeRequest {
        project_id: api.project_id.clone(),
        urn: api.urn.clone(),
        body: event,
        invoke_type: InvokeType::Sync,
        memory: None,
        request_id: Some(request_id.to_string()),
    });
    let out = match tokio::time::timeout(api.timeout, run).await {
        Ok(r) => r?,
        Err(_) => {
            return Err(GatewayError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "APIG.0201",
                format!(
                "Backend timeout: the function did not answer within the API's timeout of {} ms",
                api.timeout.as_millis()
            ),
            ))
        }
    };
    if let Some(err) = &out.error {
        // The function failed: its error object, with the status that fits the cause.
        let status = if err.cause == stratus_engine::Cause::InvocationTimedOut {
            StatusCode::GATEWAY_TIMEOUT
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        let mut resp = (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            out.result.clone(),
        )
            .into_response();
        resp.headers_mut()
            .insert("x-is-func-err", HeaderValue::from_static("true"));
        if let Ok(v) = HeaderValue::from_str(&err.code.to_string()) {
            resp.headers_mut().insert("x-func-err-code", v);
        }
        return Ok(resp);
    }
    let reply = event::parse_reply(&out.result)
        .map_err(|msg| GatewayError::new(StatusCode::INTERNAL_SERVER_ERROR, "FSS.1206", msg))?;
    let mut resp = Response::new(Body::from(reply.body));
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    for (k, v) in &reply.headers {
        if !event::forwardable(k) {
            continue;
        }
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
            h.append(k, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&out.request_id) {
        h.insert("x-cff-request-id", v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::split_group;

    #[test]
    fn the_first_segment_is_the_group() {
        assert_eq!(split_group("/g/users/1"), Some(("g", "/users/1")));
        assert_eq!(split_group("/g"), Some(("g", "/")));
        assert_eq!(split_group("/g/"), Some(("g", "/")));
        assert_eq!(split_group("/"), None);
        assert_eq!(split_group("//x"), None);
    }
}
