//! SDK-HMAC-SHA256 authentication of every `/v2` request.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use stratus_sign::RawRequest;
use stratus_store::AccessKey;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Project the key belongs to.
    pub project_id: String,
}

fn unauthorized(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "FSS.0401", msg)
}

/// Authenticates in two steps. Everything that needs no body (the Authorization header,
/// the access key, the date) is checked first, so an unsigned or unknown caller cannot
/// make the server buffer up to `MAX_BODY` bytes; then the body is read and the signature
/// verified over the raw request. The request goes on with the buffered body and a
/// `Principal` extension.
pub async fn authenticate(
    State(state): State<AppState>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let (auth, key) = match check_headers(&state, &parts).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let body = match http_body_util::Limited::new(body, crate::MAX_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "FSS.0413",
                format!("request body exceeds {} bytes", crate::MAX_BODY),
            )
            .into_response()
        }
    };
    match verify_signature(&state, &parts, &body, &auth, key) {
        Ok(principal) => {
            if let Some(project) = path_project(parts.uri.path()) {
                if project != principal.project_id {
                    return ApiError::new(
                        StatusCode::FORBIDDEN,
                        "FSS.0403",
                        format!("the access key may not act on project {project:?}"),
                    )
                    .into_response();
                }
            }
            parts.extensions.insert(principal);
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        Err(e) => e.into_response(),
    }
}

fn path_project(path: &str) -> Option<&str> {
    let mut segs = path.trim_start_matches('/').split('/');
    (segs.next() == Some("v2")).then(|| segs.next()).flatten()
}

/// The checks that need only the headers: a well-formed Authorization naming a known
/// access key, and an `X-Sdk-Date` inside the clock window.
async fn check_headers(
    state: &AppState,
    parts: &axum::http::request::Parts,
) -> Result<(stratus_sign::Authorization, AccessKey), ApiError> {
    let Some(auth) = parts.headers.get("authorization") else {
        return Err(unauthorized(
            "missing Authorization header: sign requests with SDK-HMAC-SHA256 and an access key",
        ));
    };
    let auth = auth
        .to_str()
        .map_err(|_| unauthorized("malformed Authorization header"))?;
    let auth = stratus_sign::parse_authorization(auth)
        .map_err(|e| unauthorized(format!("malformed Authorization header: {e}")))?;
    let Some(key) = state
        .store
        .access_key(&auth.access_key)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "FSS.0500",
                format!("look up access key: {e}"),
            )
        })?
    else {
        return Err(unauthorized(
            "Incorrect IAM authentication information: unknown access key",
        ));
    };
    check_date(parts, state.clock_skew).map_err(unauthorized)?;
    Ok((auth, key))
}

/// `X-Sdk-Date` is present, well-formed and within `skew` of the server clock.
pub(crate) fn check_date(
    parts: &axum::http::request::Parts,
    skew: std::time::Duration,
) -> Result<(), String> {
    let date = parts
        .headers
        .get("x-sdk-date")
        .and_then(|v| v.to_str().ok())
        .ok_or("missing X-Sdk-Date header")?;
    let when = stratus_sign::parse_sdk_date(date).map_err(|e| format!("bad X-Sdk-Date: {e}"))?;
    let off = (chrono::Utc::now() - when).num_seconds().unsigned_abs();
    if off > skew.as_secs() {
        return Err(format!(
            "X-Sdk-Date {date} differs from the server clock by {off}s; the limit is {}s",
            skew.as_secs()
        ));
    }
    Ok(())
}

/// Prepared HMAC keys by secret. The entry is a pure function of the secret, so it can
/// never be stale; the map starts over when it gets large.
static VERIFY_KEYS: std::sync::LazyLock<
    std::sync::RwLock<std::collections::HashMap<String, stratus_sign::VerifyKey>>,
> = std::sync::LazyLock::new(Default::default);
const VERIFY_KEYS_MAX: usize = 4096;

/// The prepared key of `secret`: saves hashing the two padded key blocks per request.
fn verify_key(secret: &str) -> stratus_sign::VerifyKey {
    if let Some(k) = VERIFY_KEYS
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(secret)
    {
        return k.clone();
    }
    let key = stratus_sign::VerifyKey::new(secret);
    let mut map = VERIFY_KEYS.write().unwrap_or_else(|p| p.into_inner());
    if map.len() >= VERIFY_KEYS_MAX {
        map.clear();
    }
    map.insert(secret.to_string(), key.clone());
    key
}

/// Verifies the signature of the raw request and body with `secret`; the error names the
/// failure (and, with `debug`, the canonical request the server computed).
pub(crate) fn verify_raw(
    parts: &axum::http::request::Parts,
    body: &[u8],
    auth: &stratus_sign::Authorization,
    secret: &str,
    debug: bool,
) -> Result<(), String> {
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let raw = RawRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &headers,
        body,
    };
    stratus_sign::verify_with(&raw, auth, &verify_key(secret)).map_err(|e| {
        let mut msg = e.to_string();
        if debug {
            if let Ok(c) = stratus_sign::canonical_request(&raw, &auth.signed_headers) {
                msg.push_str(&format!("; canonical request: {}", c.replace('\n', "|")));
            }
        }
        msg
    })
}

/// The signature over the raw request and its body, then the `X-Project-Id` header.
fn verify_signature(
    state: &AppState,
    parts: &axum::http::request::Parts,
    body: &[u8],
    auth: &stratus_sign::Authorization,
    key: AccessKey,
) -> Result<Principal, ApiError> {
    if let Err(e) = verify_raw(parts, body, auth, &key.secret_key, state.debug_auth) {
        return Err(unauthorized(format!(
            "Incorrect IAM authentication information: verify aksk signature fail ({e})"
        )));
    }
    if let Some(p) = parts
        .headers
        .get("x-project-id")
        .and_then(|v| v.to_str().ok())
    {
        if p != key.project_id {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "FSS.0403",
                format!("X-Project-Id {p:?} is not the access key's project"),
            ));
        }
    }
    Ok(Principal {
        project_id: key.project_id,
    })
}
