//! Timer triggers: a fixed rate or a cron expression (guide 7.2, 7.8), each fire an
//! asynchronous invocation with the timer event of spec 4.3.
//!
//! Policy: fires are computed from the schedule, in UTC. Fixed rates count from the moment
//! the trigger was created or last enabled. A fire's request id is derived from the
//! trigger and the scheduled second, so a fire repeated (a restart in the same second) is
//! stored once and never runs twice. Fires missed while the server was down are not
//! replayed: after a start the next fire is the first scheduled one after that moment.

use super::{Binding, TriggerKind};
use crate::queue::AsyncQueue;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use stratus_cron::Schedule;
use stratus_store::TriggerRecord;
use stratus_types::{Invalid, Urn};
use tokio::sync::Notify;

/// Longest `user_event`.
const USER_EVENT_MAX: usize = 4096;

struct Timer {
    urn: Urn,
    project_id: String,
    name: String,
    user_event: String,
    schedule: Schedule,
    anchor: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
}

/// The timer trigger kind and its scheduler task.
pub struct TimerKind {
    region: String,
    state: Arc<Mutex<HashMap<String, Timer>>>,
    wake: Arc<Notify>,
}

fn settings(data: &Value) -> Result<(String, String, String, String), Invalid> {
    let obj = data
        .as_object()
        .ok_or_else(|| Invalid::field("event_data", "must be an object"))?;
    let text = |k: &str| -> Result<String, Invalid> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(Invalid::field(
                format!("event_data.{k}"),
                format!("must be a string, got {other}"),
            )),
        }
    };
    Ok((
        text("name")?,
        text("schedule_type")?,
        text("schedule")?,
        text("user_event")?,
    ))
}

fn check_name(name: &str) -> Result<(), Invalid> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Invalid::field(
            "event_data.name",
            format!("{name:?} must be 1 to 64 letters, digits, '-' or '_', starting with a letter"),
        ))
    }
}

/// The request id of one fire: the same trigger and second always give the same id.
fn fire_id(trigger_id: &str, at: DateTime<Utc>) -> String {
    let h = Sha256::digest(format!("{trigger_id}@{}", at.timestamp()).as_bytes());
    let x: String = h[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// The timer event of spec 4.3.
pub fn event(name: &str, user_event: &str, at: DateTime<Utc>) -> Value {
    json!({
        "version": "v1.0",
        "time": at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
        "trigger_type": "TIMER",
        "trigger_name": name,
        "user_event": user_event,
    })
}

impl TimerKind {
    /// Starts the scheduler; fires go to `queue`.
    pub fn start(queue: AsyncQueue, region: &str) -> Arc<Self> {
        let kind = Arc::new(TimerKind {
            region: region.to_string(),
            state: Arc::new(Mutex::new(HashMap::new())),
            wake: Arc::new(Notify::new()),
        });
        let (state, wake) = (kind.state.clone(), kind.wake.clone());
        tokio::spawn(async move {
            loop {
                let woken = wake.notified();
                let now = Utc::now();
                let (due, next) = take_due(&state, now);
                for (id, project, urn, body, at) in due {
                    let queue = queue.clone();
                    tokio::spawn(async move {
                        let rid = fire_id(&id, at);
                        if let Err(e) = queue.accept_as(&project, &urn, body, None, Some(rid)).await
                        {
                            tracing::warn!(trigger = %id, "timer fire not queued: {e}");
                        }
                    });
                }
                match next {
                    Some(t) => {
                        let wait = (t - Utc::now()).to_std().unwrap_or_default();
                        tokio::select! {
                            _ = woken => {}
                            _ = tokio::time::sleep(wait) => {}
                        }
                    }
                    None => woken.await,
                }
            }
        });
        kind
    }
}

type Due = (String, String, Urn, Bytes, DateTime<Utc>);

/// The fires due at `now` (each timer advanced past them) and the next due time.
fn take_due(
    state: &Mutex<HashMap<String, Timer>>,
    now: DateTime<Utc>,
) -> (Vec<Due>, Option<DateTime<Utc>>) {
    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
    let mut due = Vec::new();
    for (id, t) in st.iter_mut() {
        if let Some(at) = t.next.filter(|at| *at <= now) {
            let body = Bytes::from(event(&t.name, &t.user_event, at).to_string());
            due.push((id.clone(), t.project_id.clone(), t.urn.clone(), body, at));
            // One fire per due time; a late wake-up never fires a burst.
            t.next = t.schedule.next_after(t.anchor, now.max(at));
        }
    }
    let next = st.values().filter_map(|t| t.next).min();
    (due, next)
}

impl TriggerKind for TimerKind {
    fn code(&self) -> &'static str {
        "TIMER"
    }

    fn default_event_type(&self) -> &'static str {
        "MessageCreated"
    }

    fn prepare(&self, binding: &Binding<'_>, data: &Value) -> Result<Value, Invalid> {
        if binding.record.latest.runtime().map(|r| r.kind()).ok()
            == Some(stratus_types::RuntimeKind::Http)
        {
            return Err(Invalid::field(
                "trigger_type_code",
                "HTTP functions cannot have timer triggers (they are not invoked asynchronously)",
            ));
        }
        let (name, schedule_type, schedule, user_event) = settings(data)?;
        let name = if name.is_empty() {
            format!("Timer-{}", &uuid::Uuid::new_v4().simple().to_string()[..4])
        } else {
            name
        };
        check_name(&name)?;
        if schedule_type.trim().is_empty() {
            return Err(Invalid::field(
                "event_data.schedule_type",
                "is required: Rate or Cron",
            ));
        }
        if schedule.trim().is_empty() {
            return Err(Invalid::field("event_data.schedule", "is required"));
        }
        Schedule::parse(&schedule_type, &schedule).map_err(|e| {
            Invalid::field("event_data.schedule", format!("{}: {}", e.field, e.message))
        })?;
        if user_event.len() > USER_EVENT_MAX {
            return Err(Invalid::field(
                "event_data.user_event",
                format!("is longer than {USER_EVENT_MAX} bytes"),
            ));
        }
        Ok(json!({
            "name": name,
            "schedule_type": schedule_type,
            "schedule": schedule,
            "user_event": user_event,
        }))
    }

    fn start(&self, t: &TriggerRecord) {
        let data: Value = serde_json::from_str(&t.event_data).unwrap_or(Value::Null);
        let Ok((name, schedule_type, schedule, user_event)) = settings(&data) else {
            tracing::warn!(trigger = %t.id, "timer settings unreadable");
            return;
        };
        let Ok(schedule) = Schedule::parse(&schedule_type, &schedule) else {
            tracing::warn!(trigger = %t.id, "timer schedule unreadable");
            return;
        };
        let urn = match Urn::parse(&format!(
            "urn:fss:{}:{}:function:{}:{}:{}",
            self.region, t.project_id, t.package, t.function, t.qualifier
        )) {
            Ok(u) => u,
            Err(_) => return,
        };
        let anchor = DateTime::from_timestamp_millis(t.anchor_ms).unwrap_or_else(Utc::now);
        // Missed fires are not replayed: the first fire is the next one after now.
        let next = schedule.next_after(anchor, Utc::now());
        self.state.lock().unwrap_or_else(|p| p.into_inner()).insert(
            t.id.clone(),
            Timer {
                urn,
                project_id: t.project_id.clone(),
                name,
                user_event,
                schedule,
                anchor,
                next,
            },
        );
        self.wake.notify_one();
    }

    fn stop(&self, trigger_id: &str) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(trigger_id);
        self.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fire_ids_are_stable_per_second() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(fire_id("a", t), fire_id("a", t));
        assert_ne!(fire_id("a", t), fire_id("b", t));
        assert_ne!(
            fire_id("a", t),
            fire_id("a", t + chrono::Duration::seconds(1))
        );
        assert_eq!(fire_id("a", t).len(), 36);
    }

    #[test]
    fn the_event_is_spec_4_3() {
        let t = DateTime::from_timestamp(1_717_230_600, 0).unwrap();
        let e = event("Timer_001", "{\"message\": \"nightly run\"}", t);
        assert_eq!(
            e,
            json!({"version": "v1.0", "time": "2024-06-01T08:30:00+00:00", "trigger_type": "TIMER",
                   "trigger_name": "Timer_001", "user_event": "{\"message\": \"nightly run\"}"})
        );
    }
}
