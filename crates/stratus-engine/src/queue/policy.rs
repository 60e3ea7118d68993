//! Asynchronous-invocation policies: retries, event age and destinations, validated from
//! the API's fields, stored as JSON per function qualifier.

use serde::{Deserialize, Serialize};
use stratus_types::{Invalid, InvalidResult, Qualifier, Urn};

/// Default when a function has no policy: the API reference's default event age.
pub const DEFAULT_MAX_AGE_S: u32 = 3600;
/// Default retries (guide table 5-8). Without a policy they apply to system errors only:
/// guide 5.7 says code errors are not retried unless retries are configured.
pub const DEFAULT_MAX_RETRIES: u32 = 1;
/// Longest event age the guide allows.
pub const MAX_AGE_LIMIT_S: i64 = 86_400;
/// Most retries the guide allows.
pub const MAX_RETRIES_LIMIT: i64 = 3;

/// Where a result goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Destination {
    /// Another function, invoked asynchronously with the record as its event.
    Function {
        /// The target function (any qualifier).
        urn: String,
    },
    /// An object in a bucket directory.
    Bucket {
        /// Bucket name.
        bucket: String,
        /// Object key prefix (may be empty).
        prefix: String,
        /// Days the object is kept; 0 keeps it.
        expires: u32,
    },
}

/// A validated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncPolicy {
    /// Oldest event that is still run, seconds.
    pub max_age_s: u32,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// After success.
    pub on_success: Option<Destination>,
    /// After the last failed attempt or a discard.
    pub on_failure: Option<Destination>,
    /// The API's `enable_async_status_log` (records are always kept; this is echoed).
    pub status_log: bool,
    /// False for the built-in default (then code errors are not retried).
    #[serde(default = "yes")]
    pub configured: bool,
}

fn yes() -> bool {
    true
}

impl Default for AsyncPolicy {
    fn default() -> Self {
        AsyncPolicy {
            max_age_s: DEFAULT_MAX_AGE_S,
            max_retries: DEFAULT_MAX_RETRIES,
            on_success: None,
            on_failure: None,
            status_log: false,
            configured: false,
        }
    }
}

/// A destination as the API gives it: the service name and its JSON `param` string.
#[derive(Debug, Clone, Default)]
pub struct DestinationInput {
    /// `FunctionGraph`, `OBS`, `SMN` or `DIS`.
    pub destination: Option<String>,
    /// JSON object as a string.
    pub param: Option<String>,
}

/// The fields of `PUT .../async-invoke-config`.
#[derive(Debug, Clone, Default)]
pub struct PolicyInput {
    /// `max_async_event_age_in_seconds`.
    pub max_age_s: Option<i64>,
    /// `max_async_retry_attempts`.
    pub max_retries: Option<i64>,
    /// `destination_config.on_success`.
    pub on_success: Option<DestinationInput>,
    /// `destination_config.on_failure`.
    pub on_failure: Option<DestinationInput>,
    /// `enable_async_status_log`.
    pub status_log: Option<bool>,
}

impl PolicyInput {
    /// Checks every field; `project_id` is the owner of the function being configured.
    pub fn validate(&self, project_id: &str) -> InvalidResult<AsyncPolicy> {
        let max_age_s = match self.max_age_s {
            None => DEFAULT_MAX_AGE_S,
            Some(n) if (1..=MAX_AGE_LIMIT_S).contains(&n) => n as u32,
            Some(n) => {
                return Err(Invalid::field(
                    "max_async_event_age_in_seconds",
                    format!("{n} is out of range; allowed 1 to {MAX_AGE_LIMIT_S} seconds"),
                ))
            }
        };
        let max_retries = match self.max_retries {
            None => DEFAULT_MAX_RETRIES,
            Some(n) if (0..=MAX_RETRIES_LIMIT).contains(&n) => n as u32,
            Some(n) => {
                return Err(Invalid::field(
                    "max_async_retry_attempts",
                    format!("{n} is out of range; allowed 0 to {MAX_RETRIES_LIMIT}"),
                ))
            }
        };
        let dest = |d: &Option<DestinationInput>, field: &str| match d {
            None => Ok(None),
            Some(d) => destination(d, field, project_id),
        };
        Ok(AsyncPolicy {
            max_age_s,
            max_retries,
            on_success: dest(&self.on_success, "destination_config.on_success")?,
            on_failure: dest(&self.on_failure, "destination_config.on_failure")?,
            status_log: self.status_log.unwrap_or(false),
            configured: true,
        })
    }
}

fn destination(
    d: &DestinationInput,
    field: &str,
    project_id: &str,
) -> InvalidResult<Option<Destination>> {
    let kind = d.destination.as_deref().unwrap_or("").trim();
    if kind.is_empty() && d.param.as_deref().unwrap_or("").trim().is_empty() {
        return Ok(None);
    }
    let param: serde_json::Value = match d.param.as_deref() {
        None | Some("") => serde_json::json!({}),
        Some(p) => serde_json::from_str(p).map_err(|e| {
            Invalid::field(
                format!("{field}.param"),
                format!("is not a JSON object in a string: {e}"),
            )
        })?,
    };
    let Some(param) = param.as_object() else {
        return Err(Invalid::field(
            format!("{field}.param"),
            "must be a JSON object serialised to a string",
        ));
    };
    let text = |key: &str| param.get(key).and_then(|v| v.as_str()).map(str::trim);
    match kind {
        "FunctionGraph" => {
            let Some(raw) = text("func_urn").filter(|s| !s.is_empty()) else {
                return Err(Invalid::field(
                    format!("{field}.param.func_urn"),
                    "is required for the FunctionGraph destination",
                ));
            };
            let urn = Urn::parse(raw).map_err(|e| {
                Invalid::field(format!("{field}.param.func_urn"), e.message.clone())
            })?;
            if urn.project_id != project_id {
                return Err(Invalid::field(
                    format!("{field}.param.func_urn"),
                    "must name a function of the same project",
                ));
            }
            let urn = match urn.qualifier {
                Qualifier::None => urn.with_qualifier(Qualifier::Latest),
                _ => urn,
            };
            Ok(Some(Destination::Function {
                urn: urn.to_string(),
            }))
        }
        "OBS" => {
            let bucket = text("bucket").unwrap_or("");
            check_bucket(bucket).map_err(|m| Invalid::field(format!("{field}.param.bucket"), m))?;
            let prefix = text("prefix").unwrap_or("").trim_matches('/');
            check_prefix(prefix).map_err(|m| Invalid::field(format!("{field}.param.prefix"), m))?;
            let expires = match param.get("expires") {
                None => 0,
                Some(v) => match v.as_i64() {
                    Some(n) if (0..=365).contains(&n) => n as u32,
                    _ => {
                        return Err(Invalid::field(
                            format!("{field}.param.expires"),
                            "must be an integer from 0 to 365 days (0 keeps the object)",
                        ))
                    }
                },
            };
            Ok(Some(Destination::Bucket {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
                expires,
            }))
        }
        "SMN" | "DIS" => Err(Invalid::field(
            format!("{field}.destination"),
            format!("{kind} is not available on this server; use FunctionGraph or OBS"),
        )),
        other => Err(Invalid::field(
            format!("{field}.destination"),
            format!("{other:?} is not a destination; use FunctionGraph or OBS"),
        )),
    }
}

/// OBS bucket naming: 3–63 characters, lower-case letters, digits, `-` and `.`, starting
/// and ending with a letter or digit.
fn check_bucket(b: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=63).contains(&b.len())
        || !b.chars().all(ok_char)
        || !edge(b.chars().next())
        || !edge(b.chars().last())
        || b.contains("..")
    {
        return Err(format!(
            "{b:?} is not a bucket name: 3 to 63 lower-case letters, digits, '-' or '.', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// A relative object key prefix: no `.`/`..` segments, no empty segments, printable.
fn check_prefix(p: &str) -> Result<(), String> {
    if p.len() > 512 {
        return Err("is longer than 512 characters".into());
    }
    if p.is_empty() {
        return Ok(());
    }
    for seg in p.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." || seg.chars().any(|c| c.is_control()) {
            return Err(format!(
                "{p:?} is not a relative key prefix (no empty, '.' or '..' segments)"
            ));
        }
    }
    Ok(())
}

/// The function (unqualified URN text) a destination invokes, if it is one.
pub fn target_function(d: &Destination) -> Option<String> {
    match d {
        Destination::Function { urn } => Urn::parse(urn).ok().map(|u| u.unqualified().to_string()),
        Destination::Bucket { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "0123456789abcdef0123456789abcdef";

    fn dest(kind: &str, param: &str) -> Option<DestinationInput> {
        Some(DestinationInput {
            destination: Some(kind.into()),
            param: Some(param.into()),
        })
    }

    #[test]
    fn defaults_and_ranges() {
        let p = PolicyInput::default().validate(P).unwrap();
        assert_eq!((p.max_age_s, p.max_retries), (3600, 1));
        for (age, retries, bad) in [
            (0, 1, "max_async_event_age_in_seconds"),
            (86_401, 1, "max_async_event_age_in_seconds"),
            (60, 4, "max_async_retry_attempts"),
            (60, -1, "max_async_retry_attempts"),
        ] {
            let e = PolicyInput {
                max_age_s: Some(age),
                max_retries: Some(retries),
                ..Default::default()
            }
            .validate(P)
            .unwrap_err();
            assert_eq!(e.field, bad);
        }
        let edge = PolicyInput {
            max_age_s: Some(86_400),
            max_retries: Some(0),
            ..Default::default()
        };
        assert_eq!(edge.validate(P).unwrap().max_retries, 0);
    }

    #[test]
    fn destinations() {
        let urn = format!("urn:fss:local:{P}:function:default:other");
        let ok = PolicyInput {
            on_success: dest("FunctionGraph", &format!(r#"{{"func_urn":"{urn}"}}"#)),
            on_failure: dest(
                "OBS",
                r#"{"bucket":"fail-records","prefix":"a/b/","expires":3}"#,
            ),
            ..Default::default()
        }
        .validate(P)
        .unwrap();
        assert_eq!(
            ok.on_success,
            Some(Destination::Function {
                urn: format!("{urn}:latest")
            })
        );
        assert_eq!(
            ok.on_failure,
            Some(Destination::Bucket {
                bucket: "fail-records".into(),
                prefix: "a/b".into(),
                expires: 3
            })
        );
        for (kind, param, field) in [
            ("SMN", "{}", "destination_config.on_success.destination"),
            ("Mail", "{}", "destination_config.on_success.destination"),
            (
                "FunctionGraph",
                "{}",
                "destination_config.on_success.param.func_urn",
            ),
            (
                "FunctionGraph",
                "not json",
                "destination_config.on_success.param",
            ),
            (
                "FunctionGraph",
                r#"{"func_urn":"urn:fss:local:other:function:default:x"}"#,
                "destination_config.on_success.param.func_urn",
            ),
            (
                "OBS",
                r#"{"bucket":"Bad_Name"}"#,
                "destination_config.on_success.param.bucket",
            ),
            (
                "OBS",
                r#"{"bucket":"ok-bucket","prefix":"../up"}"#,
                "destination_config.on_success.param.prefix",
            ),
            (
                "OBS",
                r#"{"bucket":"ok-bucket","expires":400}"#,
                "destination_config.on_success.param.expires",
            ),
        ] {
            let e = PolicyInput {
                on_success: dest(kind, param),
                ..Default::default()
            }
            .validate(P)
            .unwrap_err();
            assert_eq!(e.field, field, "{kind} {param}: {e}");
        }
    }
}
