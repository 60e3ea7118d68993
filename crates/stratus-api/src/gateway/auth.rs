//! Security authentication of published APIs: App (AppKey/AppSecret) and IAM (the
//! platform's access keys), both the SDK-HMAC-SHA256 signature of the main API.

use super::GatewayError;
use crate::AppState;
use axum::http::request::Parts;
use axum::http::StatusCode;
use stratus_engine::{Api, ApiAuth};

/// A caller whose key is known and whose date is fine; the signature needs the body.
pub(crate) struct Pending {
    auth: stratus_sign::Authorization,
    secret: String,
    app: bool,
}

fn app_error(msg: String) -> GatewayError {
    GatewayError::new(
        StatusCode::UNAUTHORIZED,
        "APIG.0303",
        format!("Incorrect app authentication information: {msg}"),
    )
}

fn iam_error(msg: String) -> GatewayError {
    GatewayError::new(
        StatusCode::UNAUTHORIZED,
        "APIG.0301",
        format!("Incorrect IAM authentication information: {msg}"),
    )
}

/// The checks that need only the headers. `None` when the API needs no authentication.
pub(crate) async fn check_headers(
    state: &AppState,
    api: &Api,
    parts: &Parts,
) -> Result<Option<Pending>, GatewayError> {
    let fail: fn(String) -> GatewayError = match api.auth {
        ApiAuth::None => return Ok(None),
        ApiAuth::App => app_error,
        ApiAuth::Iam => iam_error,
    };
    let Some(header) = parts.headers.get("authorization") else {
        let what = match api.auth {
            ApiAuth::App => "an AppKey and AppSecret",
            _ => "an access key",
        };
        return Err(fail(format!(
            "missing Authorization header: sign the request with SDK-HMAC-SHA256 and {what}"
        )));
    };
    let header = header
        .to_str()
        .map_err(|_| fail("malformed Authorization header".into()))?;
    let auth = stratus_sign::parse_authorization(header)
        .map_err(|e| fail(format!("malformed Authorization header: {e}")))?;
    let (project, secret) = match api.auth {
        ApiAuth::App => {
            let app = state
                .engine
                .apps
                .find(&auth.access_key)
                .await
                .map_err(|e| GatewayError::internal(&e))?
                .ok_or_else(|| fail("unknown app key".into()))?;
            (app.project_id, app.app_secret)
        }
        _ => {
            let key = state
                .store
                .access_key(&auth.access_key)
                .await
                .map_err(|e| GatewayError::internal(&e))?
                .ok_or_else(|| fail("unknown access key".into()))?;
            (key.project_id, key.secret_key)
        }
    };
    if project != api.project_id {
        return Err(match api.auth {
            ApiAuth::App => GatewayError::new(
                StatusCode::FORBIDDEN,
                "APIG.0304",
                "The app is not authorized to access the API",
            ),
            _ => GatewayError::new(
                StatusCode::FORBIDDEN,
                "APIG.0302",
                "The IAM user is not authorized to access the API",
            ),
        });
    }
    crate::auth::check_date(parts, state.clock_skew).map_err(fail)?;
    Ok(Some(Pending {
        auth,
        secret,
        app: api.auth == ApiAuth::App,
    }))
}

/// The signature over the raw request and its body.
pub(crate) fn verify(
    state: &AppState,
    pending: &Pending,
    parts: &Parts,
    body: &[u8],
) -> Result<(), GatewayError> {
    crate::auth::verify_raw(
        parts,
        body,
        &pending.auth,
        &pending.secret,
        state.debug_auth,
    )
    .map_err(|e| {
        if pending.app {
            app_error(format!("verify signature fail ({e})"))
        } else {
            iam_error(format!("verify aksk signature fail ({e})"))
        }
    })
}
