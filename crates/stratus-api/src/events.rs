//! Saved test events of a function (`.../functions/{function_urn}/events`) and the
//! event template catalogue (`.../fgs/event-templates`, a Stratus addition).

use crate::auth::Principal;
use crate::error::ApiError;
use crate::functions::{json_body, key_of, parse_urn};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use base64::Engine as _;
use bytes::Bytes;
use stratus_api_types::{
    CreateEventBody, EventDetail, EventList, EventRef, EventSummary, EventTemplateList,
    EventTemplateView, UpdateEventBody,
};
use stratus_engine::{TestEventError, EVENT_TEMPLATES};
use stratus_store::FunctionKey;
use stratus_store::TestEventRecord;
use stratus_types::limits::TEST_EVENT_CONTENT_MAX;
use stratus_types::Qualifier;

impl From<TestEventError> for ApiError {
    fn from(e: TestEventError) -> Self {
        match e {
            TestEventError::Invalid(i) => i.into(),
            TestEventError::FunctionNotFound(m) => {
                ApiError::new(StatusCode::NOT_FOUND, "FSS.1051", m)
            }
            TestEventError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "FSS.0404", m),
            TestEventError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "FSS.0409", m),
            TestEventError::Quota(m) => ApiError::new(StatusCode::BAD_REQUEST, "FSS.1090", m),
            TestEventError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// Largest request body of these routes: the base64 of the largest event, with room
/// for the name and the JSON around it.
const MAX_EVENT_BODY: usize = 16 * 1024;

fn body_of<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.len() > MAX_EVENT_BODY {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "FSS.1069",
            format!(
                "the request body is {} bytes; a test event may hold at most {TEST_EVENT_CONTENT_MAX} bytes of JSON",
                body.len()
            ),
        ));
    }
    json_body(body)
}

/// The event's JSON text from the wire's `content`: base64 of the JSON, as the SDK
/// documents it. Older API pages show the JSON itself; since base64 never starts with
/// `{` or `[`, an object or array given as is is accepted too.
fn decode_content(content: Option<&str>) -> Result<String, ApiError> {
    let raw = content.map(str::trim).unwrap_or("");
    if raw.is_empty() {
        return Err(ApiError::bad_request(
            "content is required: the base64 of the event's JSON text",
        ));
    }
    if raw.starts_with('{') || raw.starts_with('[') {
        return Ok(raw.to_string());
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(raw).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid content: it must be the base64 of the event's JSON text ({e})"
        ))
    })?;
    String::from_utf8(bytes).map_err(|_| {
        ApiError::bad_request("invalid content: the decoded event is not UTF-8 JSON text")
    })
}

fn encode(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn seconds(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

fn reference(e: &TestEventRecord) -> EventRef {
    EventRef {
        id: e.id.clone(),
        name: e.name.clone(),
    }
}

/// The function whose events a URN addresses. Saved test events belong to the
/// function, so a version or alias URN reaches the same events once it exists.
async fn events_key(
    state: &AppState,
    project_id: &str,
    raw: &str,
) -> Result<FunctionKey, ApiError> {
    let urn = parse_urn(project_id, raw)?;
    let key = key_of(&urn);
    match &urn.qualifier {
        Qualifier::None | Qualifier::Latest => {}
        Qualifier::Version(v) => {
            state.engine.versions.version(&key, v).await?;
        }
        Qualifier::Alias(a) => {
            state.engine.versions.alias(&key, a).await?;
        }
    }
    Ok(key)
}

/// `POST .../{function_urn}/events`.
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<EventRef>, ApiError> {
    let key = events_key(&state, &who.project_id, &urn).await?;
    let body: CreateEventBody = body_of(&body)?;
    let Some(name) = body.name.as_deref() else {
        return Err(ApiError::bad_request("name is required"));
    };
    let content = decode_content(body.content.as_deref())?;
    let event = state
        .engine
        .test_events
        .create(&key, name, &content)
        .await?;
    Ok(Json(reference(&event)))
}

/// `GET .../{function_urn}/events`.
pub async fn list(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn)): Path<(String, String)>,
) -> Result<Json<EventList>, ApiError> {
    let key = events_key(&state, &who.project_id, &urn).await?;
    let events = state.engine.test_events.list(&key).await?;
    Ok(Json(EventList {
        count: events.len(),
        next_marker: events.len(),
        events: events
            .iter()
            .map(|e| EventSummary {
                id: e.id.clone(),
                name: e.name.clone(),
                last_modified: seconds(e.modified_ms),
            })
            .collect(),
    }))
}

/// `GET .../{function_urn}/events/{event_id}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn, event_id)): Path<(String, String, String)>,
) -> Result<Json<EventDetail>, ApiError> {
    let key = events_key(&state, &who.project_id, &urn).await?;
    let e = state.engine.test_events.get(&key, &event_id).await?;
    Ok(Json(EventDetail {
        content: encode(&e.content),
        last_modified: seconds(e.modified_ms),
        id: e.id,
        name: e.name,
    }))
}

/// `PUT .../{function_urn}/events/{event_id}`.
pub async fn update(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn, event_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<EventRef>, ApiError> {
    let key = events_key(&state, &who.project_id, &urn).await?;
    let body: UpdateEventBody = body_of(&body)?;
    let content = decode_content(body.content.as_deref())?;
    let events = &state.engine.test_events;
    if let Some(name) = &body.name {
        let current = events.get(&key, &event_id).await?;
        if *name != current.name {
            return Err(ApiError::bad_request(format!(
                "invalid name: test events cannot be renamed (this one is {:?}); create a new event instead",
                current.name
            )));
        }
    }
    let event = events.update(&key, &event_id, &content).await?;
    Ok(Json(reference(&event)))
}

/// `DELETE .../{function_urn}/events/{event_id}`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((_, urn, event_id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let key = events_key(&state, &who.project_id, &urn).await?;
    state.engine.test_events.delete(&key, &event_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn template_view(t: &stratus_engine::EventTemplate) -> Result<EventTemplateView, ApiError> {
    Ok(EventTemplateView {
        name: t.name.to_string(),
        description: t.description.to_string(),
        content: serde_json::value::RawValue::from_string(t.content.trim().to_string())
            .map_err(ApiError::internal)?,
    })
}

/// `GET /v2/{project_id}/fgs/event-templates`.
pub async fn list_templates() -> Result<Json<EventTemplateList>, ApiError> {
    let templates = EVENT_TEMPLATES
        .iter()
        .map(template_view)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(EventTemplateList {
        count: templates.len(),
        templates,
    }))
}

/// `GET /v2/{project_id}/fgs/event-templates/{name}`.
pub async fn show_template(
    Path((_, name)): Path<(String, String)>,
) -> Result<Json<EventTemplateView>, ApiError> {
    let Some(t) = stratus_engine::event_template(&name) else {
        let names: Vec<&str> = EVENT_TEMPLATES.iter().map(|t| t.name).collect();
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "FSS.0404",
            format!(
                "there is no event template {name:?}; the templates are {}",
                names.join(", ")
            ),
        ));
    };
    Ok(Json(template_view(t)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_base64_json_or_json_as_is() {
        let b64 = encode("{\"k\":\"v\"}");
        assert_eq!(decode_content(Some(&b64)).unwrap(), "{\"k\":\"v\"}");
        // Without padding, as some clients send it.
        assert_eq!(
            decode_content(Some(b64.trim_end_matches('='))).unwrap(),
            "{\"k\":\"v\"}"
        );
        assert_eq!(decode_content(Some("{\"k\": 1}")).unwrap(), "{\"k\": 1}");
        for bad in [
            None,
            Some(""),
            Some("   "),
            Some("not base64!"),
            Some("/w=="),
        ] {
            let e = decode_content(bad).unwrap_err();
            assert_eq!((e.status, e.code), (StatusCode::BAD_REQUEST, "FSS.0400"));
        }
    }
}
