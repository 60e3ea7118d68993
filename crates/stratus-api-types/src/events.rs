//! Wire format of saved test events (`.../functions/{function_urn}/events`) and of the
//! event template catalogue (`.../fgs/event-templates`, a Stratus addition).

use serde::{Deserialize, Serialize};

/// Body of `POST .../events` (`CreateEventRequestBody`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEventBody {
    /// Event name (guide table 6-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Base64 of the event's JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// Body of `PUT .../events/{event_id}` (`UpdateEventRequestBody`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateEventBody {
    /// Base64 of the event's new JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Not in the SDK's model; accepted only when it is the event's current name
    /// (events cannot be renamed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Answer of create and update (`CreateEventResponse`, `UpdateEventResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    /// Event id.
    pub id: String,
    /// Event name.
    pub name: String,
}

/// One entry of `GET .../events` (`ListEventsResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    /// Event id.
    pub id: String,
    /// Event name.
    pub name: String,
    /// Last change, Unix seconds.
    pub last_modified: i64,
}

/// Body of `GET .../events` (`ListEventsResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventList {
    /// The function's events, oldest first.
    pub events: Vec<EventSummary>,
    /// Number of events.
    pub count: usize,
    /// Where a next page would start (all events fit in one page).
    pub next_marker: usize,
}

/// Body of `GET .../events/{event_id}` (`ShowEventResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    /// Event id.
    pub id: String,
    /// Event name.
    pub name: String,
    /// Base64 of the event's JSON text.
    pub content: String,
    /// Last change, Unix seconds.
    pub last_modified: i64,
}

/// One event template (Stratus addition; FunctionGraph has them only in its console).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventTemplateView {
    /// Name, e.g. `apig-event-template`.
    pub name: String,
    /// What the event simulates.
    pub description: String,
    /// The event itself, as written (key order kept).
    pub content: Box<serde_json::value::RawValue>,
}

/// Body of `GET .../fgs/event-templates`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventTemplateList {
    /// Every template.
    pub templates: Vec<EventTemplateView>,
    /// Number of templates.
    pub count: usize,
}
