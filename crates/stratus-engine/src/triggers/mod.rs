//! Triggers: the API's create/list/get/update/delete over stored trigger records, with
//! every trigger kind (timer, API gateway, ...) a module behind [`TriggerKind`]. The
//! service keeps the records in memory, starts the active ones at boot and tells the
//! kind when one starts, changes or stops; a new kind only implements the trait.

pub mod apig;
pub mod timer;

use crate::error::{DeployError, InvokeError};
use crate::invoke::Invoker;
use crate::queue::qualifier_text;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use stratus_store::{FunctionRecord, Store, StoreError, TriggerRecord};
use stratus_types::{Invalid, Qualifier, Urn};

/// `ACTIVE`.
pub const ACTIVE: &str = "ACTIVE";
/// `DISABLED`.
pub const DISABLED: &str = "DISABLED";

/// Codes the API knows but this server has no source for.
const UNAVAILABLE: &[&str] = &[
    "OBS",
    "SMN",
    "DIS",
    "LTS",
    "CTS",
    "DDS",
    "DMS",
    "KAFKA",
    "RABBITMQ",
    "EVENTGRID",
    "DEDICATEDGATEWAY",
];

/// What a trigger kind is told about the function it binds.
pub struct Binding<'a> {
    /// The function's record (`latest`, or the bound version's snapshot).
    pub record: &'a FunctionRecord,
    /// The URN the trigger invokes (with its qualifier).
    pub urn: &'a Urn,
}

/// One kind of trigger.
pub trait TriggerKind: Send + Sync + 'static {
    /// `trigger_type_code`.
    fn code(&self) -> &'static str;
    /// `event_type_code` when the request gives none.
    fn default_event_type(&self) -> &'static str;
    /// Whether `DISABLED` is allowed (guide 7.1: APIG and OBS triggers cannot be disabled).
    fn can_disable(&self) -> bool {
        true
    }
    /// Checks the create-time `event_data` and returns what is stored.
    fn prepare(&self, binding: &Binding<'_>, event_data: &Value) -> Result<Value, Invalid>;
    /// Claims what must be unique across triggers (an API gateway route, say) for the
    /// settings `prepare` returned, before the trigger is stored; the error says what it
    /// collides with. The default claims nothing.
    fn reserve(&self, _binding: &Binding<'_>, _prepared: &Value) -> Result<(), String> {
        Ok(())
    }
    /// The create failed after `reserve`: lets go of what it claimed.
    fn release(&self, _prepared: &Value) {}
    /// Checks and applies a change of `event_data` on update; the default refuses one.
    fn change(&self, _current: &TriggerRecord, event_data: &Value) -> Result<Value, Invalid> {
        if event_data.is_null()
            || event_data.as_array().is_some_and(|a| a.is_empty())
            || event_data.as_object().is_some_and(|o| o.is_empty())
        {
            return Err(Invalid::field("event_data", "nothing to change"));
        }
        Err(Invalid::field(
            "event_data",
            format!(
                "the settings of a {} trigger cannot be changed; delete it and create a new one",
                self.code()
            ),
        ))
    }
    /// A trigger is active with these settings (at boot, on create, enable or change).
    fn start(&self, trigger: &TriggerRecord);
    /// A trigger is disabled or deleted.
    fn stop(&self, trigger_id: &str);
    /// `event_data` as the API shows it (a kind may add fields, e.g. an invoke URL).
    fn shown(&self, trigger: &TriggerRecord) -> Value {
        serde_json::from_str(&trigger.event_data).unwrap_or(Value::Null)
    }
}

/// A create request.
#[derive(Debug, Clone, Default)]
pub struct TriggerInput {
    /// `trigger_type_code`.
    pub type_code: String,
    /// `trigger_status`.
    pub status: Option<String>,
    /// `event_type_code`.
    pub event_type_code: Option<String>,
    /// `event_data`.
    pub event_data: Value,
}

/// Trigger management.
#[derive(Clone)]
pub struct Triggers {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    invoker: Invoker,
    kinds: HashMap<&'static str, Arc<dyn TriggerKind>>,
    records: RwLock<Vec<TriggerRecord>>,
}

fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn not_found(id: &str) -> DeployError {
    DeployError::NotFound(format!("trigger {id} does not exist"))
}

fn status_of(raw: Option<&str>, kind: &dyn TriggerKind) -> Result<&'static str, Invalid> {
    match raw.map(str::trim) {
        None | Some("") => Ok(ACTIVE),
        Some(s) if s.eq_ignore_ascii_case(ACTIVE) => Ok(ACTIVE),
        Some(s) if s.eq_ignore_ascii_case(DISABLED) => {
            if kind.can_disable() {
                Ok(DISABLED)
            } else {
                Err(Invalid::field(
                    "trigger_status",
                    format!("{} triggers cannot be disabled, only deleted", kind.code()),
                ))
            }
        }
        Some(s) => Err(Invalid::field(
            "trigger_status",
            format!("{s:?} is not ACTIVE or DISABLED"),
        )),
    }
}

impl Triggers {
    /// Loads the stored triggers and starts the active ones.
    pub(crate) async fn start(
        store: Arc<dyn Store>,
        invoker: Invoker,
        kinds: Vec<Arc<dyn TriggerKind>>,
    ) -> anyhow::Result<Self> {
        let records = store.triggers().await?;
        let kinds: HashMap<&'static str, Arc<dyn TriggerKind>> =
            kinds.into_iter().map(|k| (k.code(), k)).collect();
        for t in &records {
            match kinds.get(t.type_code.as_str()) {
                Some(k) if t.status == ACTIVE => k.start(t),
                Some(_) => {}
                None => {
                    tracing::warn!(trigger = %t.id, code = %t.type_code, "trigger of an unknown kind ignored")
                }
            }
        }
        Ok(Triggers {
            inner: Arc::new(Inner {
                store,
                invoker,
                kinds,
                records: RwLock::new(records),
            }),
        })
    }

    fn kind(&self, code: &str) -> Result<Arc<dyn TriggerKind>, Invalid> {
        let upper = code.trim().to_ascii_uppercase();
        if let Some(k) = self.inner.kinds.get(upper.as_str()) {
            return Ok(k.clone());
        }
        let mut known: Vec<&str> = self.inner.kinds.keys().copied().collect();
        known.sort_unstable();
        if UNAVAILABLE.contains(&upper.as_str()) {
            return Err(Invalid::field(
                "trigger_type_code",
                format!(
                    "{upper} triggers are not available on this server; available: {}",
                    known.join(", ")
                ),
            ));
        }
        Err(Invalid::field(
            "trigger_type_code",
            format!(
                "{code:?} is not a trigger type; available: {}",
                known.join(", ")
            ),
        ))
    }

    /// The stored triggers that `keep` selects.
    fn matching(&self, keep: impl Fn(&TriggerRecord) -> bool) -> Vec<TriggerRecord> {
        self.inner
            .records
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|t| keep(t))
            .cloned()
            .collect()
    }

    /// `event_data` as the API shows it.
    pub fn shown(&self, t: &TriggerRecord) -> Value {
        match self.inner.kinds.get(t.type_code.as_str()) {
            Some(k) => k.shown(t),
            None => serde_json::from_str(&t.event_data).unwrap_or(Value::Null),
        }
    }

    /// Creates a trigger on the function (or version, or alias) `urn` names.
    pub async fn create(
        &self,
        project_id: &str,
        urn: &Urn,
        input: &TriggerInput,
    ) -> Result<TriggerRecord, DeployError> {
        let kind = self.kind(&input.type_code)?;
        let (record, _) = self.target(project_id, urn).await?;
        let status = status_of(input.status.as_deref(), kind.as_ref())?;
        let qualified = match &urn.qualifier {
            Qualifier::None => urn.with_qualifier(Qualifier::Latest),
            _ => urn.clone(),
        };
        let binding = Binding {
            record: &record,
            urn: &qualified,
        };
        let data = kind.prepare(&binding, &input.event_data)?;
        kind.reserve(&binding, &data)
            .map_err(DeployError::Conflict)?;
        let now = now_rfc3339();
        let t = TriggerRecord {
            id: uuid::Uuid::new_v4().to_string(),
            function_id: record.id.clone(),
            project_id: record.project_id.clone(),
            package: record.latest.package.clone(),
            function: record.latest.name.clone(),
            qualifier: qualifier_text(&urn.qualifier),
            type_code: kind.code().to_string(),
            event_type_code: input
                .event_type_code
                .clone()
                .filter(|e| !e.trim().is_empty())
                .unwrap_or_else(|| kind.default_event_type().to_string()),
            status: status.to_string(),
            event_data: data.to_string(),
            created_at: now.clone(),
            updated_at: now,
            anchor_ms: chrono::Utc::now().timestamp_millis(),
        };
        if let Err(e) = self.inner.store.create_trigger(&t).await {
            kind.release(&data);
            return Err(match e {
                StoreError::NotFound => DeployError::NotFound("the function does not exist".into()),
                e => e.into(),
            });
        }
        self.inner
            .records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(t.clone());
        if t.status == ACTIVE {
            kind.start(&t);
        }
        Ok(t)
    }

    async fn target(
        &self,
        project_id: &str,
        urn: &Urn,
    ) -> Result<(Arc<FunctionRecord>, String), DeployError> {
        self.inner
            .invoker
            .target(project_id, urn)
            .await
            .map_err(|e| match e {
                InvokeError::NotFound(m) => DeployError::NotFound(m),
                InvokeError::VersionNotFound(m) => DeployError::VersionNotFound(m),
                InvokeError::AliasNotFound(m) => DeployError::AliasNotFound(m),
                other => DeployError::Internal(anyhow::anyhow!("{other}")),
            })
    }

    /// The triggers of a function (unqualified URN) or of one qualifier.
    pub async fn list(
        &self,
        project_id: &str,
        urn: &Urn,
    ) -> Result<Vec<TriggerRecord>, DeployError> {
        let (record, _) = self.target(project_id, urn).await?;
        let q = (urn.qualifier != Qualifier::None).then(|| qualifier_text(&urn.qualifier));
        Ok(self.matching(|t| {
            t.function_id == record.id && q.as_ref().is_none_or(|q| *q == t.qualifier)
        }))
    }

    /// One trigger of the function.
    pub async fn get(
        &self,
        project_id: &str,
        urn: &Urn,
        type_code: &str,
        id: &str,
    ) -> Result<TriggerRecord, DeployError> {
        let (record, _) = self.target(project_id, &urn.unqualified()).await?;
        self.inner
            .records
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|t| {
                t.id == id
                    && t.function_id == record.id
                    && t.type_code.eq_ignore_ascii_case(type_code)
            })
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    /// Enables, disables or changes a trigger.
    pub async fn update(
        &self,
        project_id: &str,
        urn: &Urn,
        type_code: &str,
        id: &str,
        status: Option<&str>,
        event_data: Option<&Value>,
    ) -> Result<TriggerRecord, DeployError> {
        let current = self.get(project_id, urn, type_code, id).await?;
        let kind = self.kind(&current.type_code)?;
        let mut next = current.clone();
        if let Some(s) = status {
            next.status = status_of(Some(s), kind.as_ref())?.to_string();
        }
        let data_given = event_data.is_some_and(|d| {
            !(d.is_null()
                || d.as_array().is_some_and(|a| a.is_empty())
                || d.as_object().is_some_and(|o| o.is_empty()))
        });
        if let (Some(d), true) = (event_data, data_given) {
            next.event_data = kind.change(&current, d)?.to_string();
        }
        if status.is_none() && !data_given {
            return Err(Invalid::field(
                "trigger_status",
                "give trigger_status or event_data to change",
            )
            .into());
        }
        if next.status == ACTIVE && current.status != ACTIVE {
            // Fixed rates count again from the moment a trigger is enabled.
            next.anchor_ms = chrono::Utc::now().timestamp_millis();
        }
        next.updated_at = now_rfc3339();
        self.inner
            .store
            .update_trigger(&next)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => not_found(id),
                e => e.into(),
            })?;
        {
            let mut all = self
                .inner
                .records
                .write()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(slot) = all.iter_mut().find(|t| t.id == id) {
                *slot = next.clone();
            }
        }
        kind.stop(id);
        if next.status == ACTIVE {
            kind.start(&next);
        }
        Ok(next)
    }

    async fn remove(&self, victims: Vec<TriggerRecord>) -> Result<(), DeployError> {
        let ids: Vec<String> = victims.iter().map(|t| t.id.clone()).collect();
        self.inner.store.delete_triggers(&ids).await?;
        self.forget(&victims);
        Ok(())
    }

    fn forget(&self, victims: &[TriggerRecord]) {
        for t in victims {
            if let Some(k) = self.inner.kinds.get(t.type_code.as_str()) {
                k.stop(&t.id);
            }
        }
        self.inner
            .records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|t| !victims.iter().any(|v| v.id == t.id));
    }

    /// Deletes one trigger.
    pub async fn delete(
        &self,
        project_id: &str,
        urn: &Urn,
        type_code: &str,
        id: &str,
    ) -> Result<(), DeployError> {
        let t = self.get(project_id, urn, type_code, id).await?;
        self.remove(vec![t]).await
    }

    /// Deletes every trigger of a function (unqualified or `latest` URN) or of one version
    /// or alias.
    pub async fn delete_all(&self, project_id: &str, urn: &Urn) -> Result<(), DeployError> {
        let (record, _) = self.target(project_id, &urn.unqualified()).await?;
        let q = match &urn.qualifier {
            Qualifier::None | Qualifier::Latest => None,
            other => Some(qualifier_text(other)),
        };
        let victims: Vec<TriggerRecord> = self.matching(|t| {
            t.function_id == record.id && q.as_ref().is_none_or(|q| *q == t.qualifier)
        });
        self.remove(victims).await
    }

    /// Drops the triggers of a deleted function (the store deleted their rows with it).
    pub fn forget_function(&self, function_id: &str) {
        let victims: Vec<TriggerRecord> = self.matching(|t| t.function_id == function_id);
        self.forget(&victims);
    }

    /// Deletes the triggers of a deleted version or alias (`qualifier` as stored).
    pub async fn delete_qualifier(
        &self,
        function_id: &str,
        qualifier: &str,
    ) -> Result<(), DeployError> {
        let victims: Vec<TriggerRecord> =
            self.matching(|t| t.function_id == function_id && t.qualifier == qualifier);
        self.remove(victims).await
    }
}
