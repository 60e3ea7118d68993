//! Registry credentials the operator configures, in the format of docker's
//! `config.json`: `{"auths": {"host[:port]": {"auth": "base64(user:password)"}}}` or
//! `{"username": ..., "password": ...}` in place of `auth`.
//!
//! Secrets stay in memory: `Debug` shows host names only, and no error message quotes
//! an entry's value.

use std::path::Path;

use base64::Engine as _;

use crate::reference::RegistryRef;

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credential {
    pub(crate) username: String,
    password: String,
}

impl Credential {
    /// The value of an `Authorization: Basic` header.
    pub(crate) fn basic(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Credentials per registry host, as read from a docker-style auth file.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RegistryAuth {
    /// (normalised host, credential), in file order.
    entries: Vec<(String, Credential)>,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("hosts", &self.hosts())
            .finish()
    }
}

/// `https://index.docker.io/v1/` → `docker.io`; `Reg.Example:5000/` → `reg.example:5000`.
fn normalise(key: &str) -> String {
    let k = key.trim();
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(k);
    let host = k.split('/').next().unwrap_or("").to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".into()
        }
        _ => host,
    }
}

impl RegistryAuth {
    /// Parses the text of an auth file. Errors name the entry (host), never a secret.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not valid json: {e}"))?;
        let Some(auths) = v.get("auths") else {
            return Err("no \"auths\" object".into());
        };
        let auths = auths
            .as_object()
            .ok_or_else(|| "\"auths\" is not an object".to_string())?;
        let mut entries = Vec::with_capacity(auths.len());
        for (key, entry) in auths {
            let host = normalise(key);
            if host.is_empty() {
                return Err(format!("the entry {key:?} names no registry host"));
            }
            let cred = credential(entry).map_err(|why| format!("entry {key:?}: {why}"))?;
            entries.push((host, cred));
        }
        Ok(Self { entries })
    }

    /// Reads and parses an auth file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("registry credentials {}: {e}", path.display()))?;
        Self::parse(&bytes).map_err(|e| format!("registry credentials {}: {e}", path.display()))
    }

    /// The registry hosts that have credentials.
    pub fn hosts(&self) -> Vec<&str> {
        self.entries.iter().map(|(h, _)| h.as_str()).collect()
    }

    /// Whether no registry has credentials.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The credential for `r`'s registry: an entry for `host:port` wins over one for
    /// the bare host name.
    pub(crate) fn find(&self, r: &RegistryRef) -> Option<&Credential> {
        let full = normalise(&r.host);
        let bare = normalise(r.host_name());
        let get = |want: &str| self.entries.iter().find(|(h, _)| h == want).map(|(_, c)| c);
        get(&full).or_else(|| get(&bare))
    }
}

fn credential(entry: &serde_json::Value) -> Result<Credential, String> {
    let text = |k: &str| entry.get(k).and_then(|v| v.as_str()).unwrap_or("");
    if !text("auth").is_empty() {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text("auth").trim())
            .map_err(|_| "\"auth\" is not valid base64".to_string())?;
        let raw = String::from_utf8(raw).map_err(|_| "\"auth\" is not utf-8".to_string())?;
        let (user, pass) = raw
            .split_once(':')
            .ok_or_else(|| "\"auth\" must encode user:password".to_string())?;
        if user.is_empty() {
            return Err("\"auth\" holds an empty user name".into());
        }
        return Ok(Credential {
            username: user.to_string(),
            password: pass.to_string(),
        });
    }
    if text("username").is_empty() {
        return Err("needs \"auth\" or \"username\" and \"password\"".into());
    }
    Ok(Credential {
        username: text("username").to_string(),
        password: text("password").to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(host: &str) -> RegistryRef {
        RegistryRef {
            host: host.into(),
            repo: "a/b".into(),
            tag: None,
            digest: None,
        }
    }

    #[test]
    fn parses_both_forms_and_matches_hosts() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:pa:ss");
        let file = format!(
            r#"{{"auths":{{"127.0.0.1:5000":{{"auth":"{b64}"}},"https://index.docker.io/v1/":{{"username":"bob","password":"pw"}},"reg.lan":{{"username":"carol","password":"x"}}}},"credsStore":"ignored"}}"#
        );
        let a = RegistryAuth::parse(file.as_bytes()).unwrap();
        let c = a.find(&reg("127.0.0.1:5000")).unwrap();
        assert_eq!(c.username, "alice");
        assert_eq!(c.password, "pa:ss");
        assert_eq!(a.find(&reg("docker.io")).unwrap().username, "bob");
        assert_eq!(a.find(&reg("reg.lan:5000")).unwrap().username, "carol");
        assert!(a.find(&reg("127.0.0.1:5001")).is_none());
        assert_eq!(
            c.basic(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("alice:pa:ss")
            )
        );
        let shown = format!("{a:?} {c:?}");
        assert!(!shown.contains("pa:ss") && !shown.contains("pw"), "{shown}");
    }

    #[test]
    fn bad_files_are_refused_without_secrets() {
        for bad in [
            "not json",
            "{}",
            r#"{"auths":[]}"#,
            r#"{"auths":{"h":{}}}"#,
            r#"{"auths":{"h":{"auth":"!!!"}}}"#,
            r#"{"auths":{"h":{"auth":"bm9jb2xvbg=="}}}"#,
            r#"{"auths":{"":{"username":"u","password":"p"}}}"#,
        ] {
            let e = RegistryAuth::parse(bad.as_bytes()).unwrap_err();
            assert!(!e.contains("nocolon"), "{e}");
        }
    }
}
