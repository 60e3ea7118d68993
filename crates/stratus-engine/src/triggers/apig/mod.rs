//! API gateway (APIG) triggers: each trigger publishes one API (group, path with
//! parameters, method, environment, authentication, backend timeout, sync or async) on the
//! gateway listener. This module validates the settings and keeps the routing table; the
//! HTTP side (events, authentication, responses) lives in `stratus-api`.
//!
//! URL scheme: the gateway serves every group under one listener, so an API's URL is
//! `<gateway base URL>/<group_id><path>`, for example
//! `http://127.0.0.1:8081/0123abcd.../users/{id}`. The group id defaults to the project id;
//! a named group belongs to the first project that publishes in it. Environments other
//! than `RELEASE` are selected with the `X-Stage` request header, as on APIG.

pub mod routes;

use super::{Binding, TriggerKind};
use crate::queue::qualifier_text;
pub use routes::RouteMatch;
use routes::{PathPattern, Table};
use serde_json::{json, Map, Value};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use stratus_store::TriggerRecord;
use stratus_types::{Invalid, Qualifier, RuntimeKind, Urn};

/// Backend timeout when `func_info.timeout` is not given, ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 5000;
/// Longest backend timeout, ms (APIG's limit).
pub const MAX_TIMEOUT_MS: u64 = 60_000;
/// The environment an API is published to by default.
pub const RELEASE: &str = "RELEASE";
/// APIG's id of the `RELEASE` environment.
const RELEASE_ENV_ID: &str = "DEFAULT_ENVIRONMENT_RELEASE_ID";
/// Request methods an API may have.
const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY",
];

/// Security authentication of an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiAuth {
    /// Anyone may call it.
    None,
    /// Requests signed (SDK-HMAC-SHA256) with an AppKey/AppSecret of the project.
    App,
    /// Requests signed with one of the platform's access keys of the project.
    Iam,
}

impl ApiAuth {
    fn parse(s: &str) -> Option<ApiAuth> {
        match s.to_ascii_uppercase().as_str() {
            "NONE" => Some(ApiAuth::None),
            "APP" => Some(ApiAuth::App),
            "IAM" => Some(ApiAuth::Iam),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ApiAuth::None => "NONE",
            ApiAuth::App => "APP",
            ApiAuth::Iam => "IAM",
        }
    }
}

/// A published API, as the gateway serves it.
#[derive(Debug)]
pub struct Api {
    /// The trigger that published it (empty while a create is in flight).
    pub trigger_id: String,
    /// API id.
    pub api_id: String,
    /// API name.
    pub name: String,
    /// Project of the function.
    pub project_id: String,
    /// The function (with its qualifier) the API invokes.
    pub urn: Urn,
    /// Group id (the first segment of the URL).
    pub group_id: String,
    /// Environment (`RELEASE` unless the request names another in `X-Stage`).
    pub env: String,
    /// Request method, or `ANY`.
    pub method: String,
    /// The API's path as defined (with `{parameters}`).
    pub path: String,
    /// The parsed path.
    pub pattern: PathPattern,
    /// Match mode SWA: the path is a prefix.
    pub prefix: bool,
    /// Security authentication.
    pub auth: ApiAuth,
    /// Backend timeout.
    pub timeout: Duration,
    /// Invocation mode async: accept and answer at once.
    pub asynchronous: bool,
    active: bool,
}

/// The gateway's view of the published APIs.
#[derive(Clone)]
pub struct Gateway {
    shared: Arc<Shared>,
}

struct Shared {
    base_url: String,
    region: String,
    table: RwLock<Table>,
}

impl Gateway {
    /// The URL the gateway listener is reached at (no trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The API that answers a request: `group` is the URL's first segment, `path` the
    /// raw rest of the path (starting with `/`), `stage` the environment.
    pub fn find(&self, group: &str, stage: &str, method: &str, path: &str) -> Option<RouteMatch> {
        self.shared
            .table
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .find(group, stage, method, path)
    }

    fn invoke_url(&self, group: &str, path: &str) -> String {
        format!("{}/{group}{path}", self.shared.base_url)
    }
}

/// The APIG trigger kind.
pub struct ApigKind {
    gateway: Gateway,
}

impl ApigKind {
    /// The kind and the gateway's view of its routes; `base_url` is where the gateway
    /// listener is reached.
    pub fn new(base_url: &str, region: &str) -> (Arc<Self>, Gateway) {
        let gateway = Gateway {
            shared: Arc::new(Shared {
                base_url: base_url.trim_end_matches('/').to_string(),
                region: region.to_string(),
                table: RwLock::new(Table::default()),
            }),
        };
        (
            Arc::new(ApigKind {
                gateway: gateway.clone(),
            }),
            gateway,
        )
    }

    fn table(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.gateway
            .shared
            .table
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// The validated settings of one API, as stored in `event_data`.
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    name: String,
    api_type: i64,
    path: String,
    protocol: String,
    method: String,
    group_id: String,
    group_name: String,
    match_mode: String,
    env_name: String,
    env_id: String,
    auth: ApiAuth,
    timeout_ms: u64,
    asynchronous: bool,
    api_id: String,
}

fn field(k: &str) -> String {
    format!("event_data.{k}")
}

fn text(obj: &Map<String, Value>, k: &str, prefix: &str) -> Result<Option<String>, Invalid> {
    match obj.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => Err(Invalid::field(
            format!("{prefix}{k}"),
            format!("must be a string, got {other}"),
        )),
    }
}

fn int(obj: &Map<String, Value>, k: &str, prefix: &str) -> Result<Option<i64>, Invalid> {
    match obj.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            Invalid::field(
                format!("{prefix}{k}"),
                format!("must be an integer, got {v}"),
            )
        }),
    }
}

fn ident_ok(s: &str, max: usize, extra: &str) -> bool {
    (1..=max).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

fn one_of(value: &str, allowed: &[&str], k: &str) -> Result<String, Invalid> {
    let upper = value.to_ascii_uppercase();
    if allowed.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(Invalid::field(
            field(k),
            format!("{value:?} is not one of {}", allowed.join(", ")),
        ))
    }
}

impl Settings {
    /// Checks a create request's `event_data` and fills in the defaults.
    fn from_input(binding: &Binding<'_>, data: &Value) -> Result<Settings, Invalid> {
        let empty = Map::new();
        let obj = match data {
            Value::Null => &empty,
            Value::Object(o) => o,
            _ => return Err(Invalid::field("event_data", "must be an object")),
        };
        let t = |k: &str| text(obj, k, "event_data.");
        let spec = &binding.record.latest;
        let http = spec.runtime().map(|r| r.kind()).ok() == Some(RuntimeKind::Http);

        let name = t("name")?.unwrap_or_else(|| {
            let mut n = format!("API_{}", spec.name.replace('-', "_"));
            n.truncate(64);
            n
        });
        if !(name.starts_with(|c: char| c.is_ascii_alphabetic()) && ident_ok(&name, 64, "_-")) {
            return Err(Invalid::field(
                field("name"),
                format!(
                    "{name:?} must be 1 to 64 letters, digits, '-' or '_', starting with a letter"
                ),
            ));
        }
        let api_type = int(obj, "type", "event_data.")?.unwrap_or(1);
        if !(1..=2).contains(&api_type) {
            return Err(Invalid::field(
                field("type"),
                format!("{api_type} is not 1 (public) or 2 (private)"),
            ));
        }
        let Some(path) = t("path")? else {
            return Err(Invalid::field(
                field("path"),
                "is required, e.g. /users/{id}",
            ));
        };
        PathPattern::parse(&path).map_err(|e| Invalid::field(field("path"), e))?;
        let protocol = one_of(
            &t("protocol")?.unwrap_or_else(|| "HTTP".into()),
            &["HTTP", "HTTPS"],
            "protocol",
        )?;
        let method = one_of(
            &t("req_method")?.unwrap_or_else(|| "ANY".into()),
            METHODS,
            "req_method",
        )?;
        let group_id = t("group_id")?.unwrap_or_else(|| binding.record.project_id.clone());
        if !ident_ok(&group_id, 64, "_-") {
            return Err(Invalid::field(
                field("group_id"),
                format!("{group_id:?} must be 1 to 64 letters, digits, '-' or '_' (it is the first segment of the API's URL)"),
            ));
        }
        let group_name = t("group_name")?.unwrap_or_else(|| group_id.clone());
        if group_name.chars().count() > 64 || group_name.chars().any(char::is_control) {
            return Err(Invalid::field(
                field("group_name"),
                "must be at most 64 printable characters",
            ));
        }
        let match_mode = one_of(
            &t("match_mode")?.unwrap_or_else(|| "NORMAL".into()),
            &["NORMAL", "SWA"],
            "match_mode",
        )?;
        let env_name = t("env_name")?.unwrap_or_else(|| RELEASE.into());
        if !(env_name.starts_with(|c: char| c.is_ascii_alphabetic())
            && env_name.len() >= 3
            && ident_ok(&env_name, 64, "_"))
        {
            return Err(Invalid::field(
                field("env_name"),
                format!(
                    "{env_name:?} must be 3 to 64 letters, digits or '_', starting with a letter"
                ),
            ));
        }
        let env_id = t("env_id")?.unwrap_or_else(|| {
            if env_name == RELEASE {
                RELEASE_ENV_ID.into()
            } else {
                env_name.clone()
            }
        });
        if !ident_ok(&env_id, 64, "_-") {
            return Err(Invalid::field(
                field("env_id"),
                format!("{env_id:?} must be 1 to 64 letters, digits, '-' or '_'"),
            ));
        }
        let auth_text = t("auth")?.unwrap_or_else(|| "NONE".into());
        let auth = ApiAuth::parse(&auth_text).ok_or_else(|| {
            Invalid::field(
                field("auth"),
                format!("{auth_text:?} is not one of IAM, APP, NONE"),
            )
        })?;

        let (timeout_ms, asynchronous) = func_info(binding, obj.get("func_info"))?;
        if asynchronous && http {
            return Err(Invalid::field(
                "event_data.func_info.invocation_type",
                "HTTP functions cannot be invoked asynchronously; use sync",
            ));
        }
        Ok(Settings {
            name,
            api_type,
            path,
            protocol,
            method,
            group_id,
            group_name,
            match_mode,
            env_name,
            env_id,
            auth,
            timeout_ms,
            asynchronous,
            api_id: uuid::Uuid::new_v4().simple().to_string(),
        })
    }

    /// Reads stored settings (written by `to_json`).
    fn from_stored(v: &Value) -> Option<Settings> {
        let o = v.as_object()?;
        let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
        let f = o.get("func_info")?;
        Some(Settings {
            name: s("name")?,
            api_type: o.get("type").and_then(Value::as_i64).unwrap_or(1),
            path: s("path")?,
            protocol: s("protocol")?,
            method: s("req_method")?,
            group_id: s("group_id")?,
            group_name: s("group_name")?,
            match_mode: s("match_mode")?,
            env_name: s("env_name")?,
            env_id: s("env_id")?,
            auth: ApiAuth::parse(&s("auth")?)?,
            timeout_ms: f.get("timeout").and_then(Value::as_u64)?,
            asynchronous: f.get("invocation_type").and_then(Value::as_str) == Some("async"),
            api_id: s("api_id")?,
        })
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.api_type,
            "path": self.path,
            "protocol": self.protocol,
            "req_method": self.method,
            "group_id": self.group_id,
            "group_name": self.group_name,
            "match_mode": self.match_mode,
            "env_name": self.env_name,
            "env_id": self.env_id,
            "auth": self.auth.name(),
            "func_info": {
                "timeout": self.timeout_ms,
                "invocation_type": if self.asynchronous { "async" } else { "sync" },
            },
            "api_id": self.api_id,
        })
    }

    fn api(&self, trigger_id: &str, project_id: &str, urn: Urn, active: bool) -> Option<Api> {
        Some(Api {
            trigger_id: trigger_id.to_string(),
            api_id: self.api_id.clone(),
            name: self.name.clone(),
            project_id: project_id.to_string(),
            urn,
            group_id: self.group_id.clone(),
            env: self.env_name.clone(),
            method: self.method.clone(),
            path: self.path.clone(),
            pattern: PathPattern::parse(&self.path).ok()?,
            prefix: self.match_mode == "SWA",
            auth: self.auth,
            timeout: Duration::from_millis(self.timeout_ms),
            asynchronous: self.asynchronous,
            active,
        })
    }
}

/// `func_info`: the backend timeout (ms) and whether the invocation is asynchronous.
fn func_info(binding: &Binding<'_>, v: Option<&Value>) -> Result<(u64, bool), Invalid> {
    let empty = Map::new();
    let obj = match v {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => return Err(Invalid::field("event_data.func_info", "must be an object")),
    };
    let prefix = "event_data.func_info.";
    let timeout = int(obj, "timeout", prefix)?.unwrap_or(DEFAULT_TIMEOUT_MS as i64);
    if !(1..=MAX_TIMEOUT_MS as i64).contains(&timeout) {
        return Err(Invalid::field(
            "event_data.func_info.timeout",
            format!("{timeout} ms is outside 1 to {MAX_TIMEOUT_MS} ms"),
        ));
    }
    let asynchronous = match text(obj, "invocation_type", prefix)?.as_deref() {
        None => false,
        Some(s) if s.eq_ignore_ascii_case("sync") => false,
        Some(s) if s.eq_ignore_ascii_case("async") => true,
        Some(s) => {
            return Err(Invalid::field(
                "event_data.func_info.invocation_type",
                format!("{s:?} is not sync or async"),
            ))
        }
    };
    if let Some(raw) = text(obj, "function_urn", prefix)? {
        let given = Urn::parse(&raw)
            .map_err(|e| Invalid::field("event_data.func_info.function_urn", e.message.clone()))?;
        if given.unqualified().to_string() != binding.urn.unqualified().to_string() {
            return Err(Invalid::field(
                "event_data.func_info.function_urn",
                format!(
                    "{raw:?} is not the function the trigger is created on ({})",
                    binding.urn.unqualified()
                ),
            ));
        }
    }
    if let Some(v) = text(obj, "version", prefix)? {
        let bound = shown_version(&qualifier_text(&binding.urn.qualifier));
        if v != bound {
            return Err(Invalid::field(
                "event_data.func_info.version",
                format!("{v:?} differs from the URN's qualifier {bound:?}; create the trigger on the URN of that version or alias"),
            ));
        }
    }
    Ok((timeout as u64, asynchronous))
}

/// A stored qualifier as `func_info.version` shows it (`latest`, `v1`, `prod`).
fn shown_version(qualifier: &str) -> String {
    qualifier.trim_start_matches('!').to_string()
}

impl TriggerKind for ApigKind {
    fn code(&self) -> &'static str {
        "APIG"
    }

    fn default_event_type(&self) -> &'static str {
        "APICreated"
    }

    fn can_disable(&self) -> bool {
        false
    }

    fn prepare(&self, binding: &Binding<'_>, data: &Value) -> Result<Value, Invalid> {
        Ok(Settings::from_input(binding, data)?.to_json())
    }

    fn reserve(&self, binding: &Binding<'_>, prepared: &Value) -> Result<(), String> {
        let settings = Settings::from_stored(prepared).ok_or("unreadable API settings")?;
        let api = settings
            .api("", &binding.record.project_id, binding.urn.clone(), false)
            .ok_or("unreadable API path")?;
        let mut table = self.table();
        if let Some(why) = table.conflict(&api) {
            return Err(why);
        }
        table.insert(Arc::new(api));
        Ok(())
    }

    fn release(&self, prepared: &Value) {
        if let Some(id) = prepared.get("api_id").and_then(Value::as_str) {
            self.table().remove(|a| a.api_id == id && !a.active);
        }
    }

    fn start(&self, t: &TriggerRecord) {
        let data: Value = serde_json::from_str(&t.event_data).unwrap_or(Value::Null);
        let Some(settings) = Settings::from_stored(&data) else {
            tracing::warn!(trigger = %t.id, "API gateway trigger settings unreadable");
            return;
        };
        let Ok(urn) = Urn::parse(&format!(
            "urn:fss:{}:{}:function:{}:{}:{}",
            self.gateway.shared.region, t.project_id, t.package, t.function, t.qualifier
        )) else {
            return;
        };
        let Some(api) = settings.api(&t.id, &t.project_id, urn, true) else {
            return;
        };
        let mut table = self.table();
        table.remove(|a| a.api_id == api.api_id || a.trigger_id == t.id);
        if let Some(why) = table.conflict(&api) {
            tracing::warn!(trigger = %t.id, "API not published: {why}");
            return;
        }
        table.insert(Arc::new(api));
    }

    fn stop(&self, trigger_id: &str) {
        self.table().remove(|a| a.trigger_id == trigger_id);
    }

    fn shown(&self, t: &TriggerRecord) -> Value {
        let mut data: Value = serde_json::from_str(&t.event_data).unwrap_or(Value::Null);
        let Some(settings) = Settings::from_stored(&data) else {
            return data;
        };
        let urn = Urn::of(
            &self.gateway.shared.region,
            &t.project_id,
            &t.package,
            &t.function,
            Qualifier::None,
        );
        if let Some(o) = data.as_object_mut() {
            o.insert("triggerid".into(), json!(t.id));
            o.insert("api_name".into(), json!(settings.name));
            o.insert(
                "invoke_url".into(),
                json!(self.gateway.invoke_url(&settings.group_id, &settings.path)),
            );
            if let Some(f) = o.get_mut("func_info").and_then(Value::as_object_mut) {
                f.insert(
                    "function_urn".into(),
                    json!(format!("{urn}:{}", t.qualifier)),
                );
                f.insert("version".into(), json!(shown_version(&t.qualifier)));
            }
        }
        data
    }
}

#[cfg(test)]
mod tests;
