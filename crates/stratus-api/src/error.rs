//! `ApiError`, the FunctionGraph error body, request ids, panics.

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use stratus_api_types::ErrorBody;
use stratus_engine::{DeployError, InvokeError};

/// An error answer: status, FunctionGraph code and message.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `FSS.xxxx`.
    pub code: &'static str,
    /// Message for people.
    pub msg: String,
}

impl ApiError {
    /// An error with status, code and message.
    pub fn new(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            msg: msg.into(),
        }
    }

    /// `400 FSS.0400`.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "FSS.0400", msg)
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e:#}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "FSS.0500",
            "internal error; see the server log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error_code: self.code.to_string(),
            error_msg: self.msg,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<stratus_types::Invalid> for ApiError {
    fn from(i: stratus_types::Invalid) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, i.code, i.to_string())
    }
}

impl From<DeployError> for ApiError {
    fn from(e: DeployError) -> Self {
        match e {
            DeployError::Invalid(i) => i.into(),
            DeployError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "FSS.1051", m),
            DeployError::VersionNotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "FSS.1052", m),
            DeployError::AliasNotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "FSS.1053", m),
            DeployError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "FSS.0409", m),
            DeployError::Quota(m) => ApiError::new(StatusCode::BAD_REQUEST, "FSS.1090", m),
            DeployError::TooLarge(m) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "FSS.0413", m),
            DeployError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl From<InvokeError> for ApiError {
    fn from(e: InvokeError) -> Self {
        match e {
            InvokeError::Invalid(i) => i.into(),
            InvokeError::BadMemory(m) => ApiError::new(StatusCode::NOT_ACCEPTABLE, "FSS.0406", m),
            InvokeError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "FSS.1051", m),
            InvokeError::VersionNotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "FSS.1052", m),
            InvokeError::AliasNotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "FSS.1053", m),
            InvokeError::PayloadTooLarge(m) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "FSS.1201", m)
            }
            InvokeError::Disabled => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "FSS.0429",
                "Function Disabled",
            ),
            InvokeError::Throttled(m) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "FSS.0429", m)
            }
            InvokeError::ShuttingDown => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "FSS.0503",
                "the server is shutting down",
            ),
            InvokeError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// Answer for paths that exist nowhere.
pub async fn not_found_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "FSS.0404", "no such API path")
}

/// Answer when a handler panicked: logged, generic 500.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    tracing::error!("handler panicked: {what}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "FSS.0500",
        "internal error; see the server log",
    )
    .into_response()
}

/// Gives every response an `X-Request-Id` (the invocation's id when there is one).
pub async fn request_id(req: Request<Body>, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if !resp.headers().contains_key("x-request-id") {
        let id = resp
            .headers()
            .get("x-cff-request-id")
            .cloned()
            .unwrap_or_else(|| {
                HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("uuid is ascii")
            });
        resp.headers_mut().insert("x-request-id", id);
    }
    resp
}
