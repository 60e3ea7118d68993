//! A pull-only client of the OCI distribution API (`/v2/...`), anonymous or with the
//! Bearer tokens a registry hands out to anonymous clients.

use std::cell::RefCell;
use std::io::Read;
use std::time::Duration;

use crate::auth::Credential;
use crate::digest::Digest;
use crate::oci::{self, Document};
use crate::reference::{is_loopback, RegistryRef};
use crate::source::{BlobSource, Resolved};
use crate::ImageError;

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// A manifest's bytes, the content type and the digest the registry claims for it.
type FetchedManifest = (Vec<u8>, Option<String>, Option<String>);

/// One repository of one registry.
pub(crate) struct RegistrySource {
    agent: ureq::Agent,
    base: String,
    r: RegistryRef,
    /// Operator-configured credentials for this registry, if any.
    cred: Option<Credential>,
    /// The `Authorization` value earned from the last challenge (`Bearer ...` or
    /// `Basic ...`).
    authorization: RefCell<Option<String>>,
}

/// Whether the registry is reached over plain http.
pub(crate) fn uses_http(r: &RegistryRef, insecure_hosts: &[String]) -> bool {
    is_loopback(&r.host)
        || insecure_hosts
            .iter()
            .any(|h| h == &r.host || h == r.host_name() || h == r.api_host())
}

impl RegistrySource {
    /// A client for `r`; `insecure_hosts` are reached over http; `cred` answers the
    /// registry's challenge (basic) or goes to its token service (bearer).
    pub(crate) fn new(
        r: &RegistryRef,
        insecure_hosts: &[String],
        cred: Option<Credential>,
    ) -> Self {
        let scheme = if uses_http(r, insecure_hosts) {
            "http"
        } else {
            "https"
        };
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(30))
            .timeout_read(Duration::from_secs(120))
            .redirects(5)
            .redirect_auth_headers(ureq::RedirectAuthHeaders::SameHost)
            .user_agent(concat!("stratus-image/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent,
            base: format!("{scheme}://{}", r.api_host()),
            r: r.clone(),
            cred,
            authorization: RefCell::new(None),
        }
    }

    fn name(&self) -> String {
        format!("{}/{}", self.r.host, self.r.repo)
    }

    /// GET `path` on the registry, fetching a token once when challenged.
    fn get(
        &self,
        path: &str,
        accept: Option<&str>,
        what: &str,
    ) -> Result<ureq::Response, ImageError> {
        let url = format!("{}{path}", self.base);
        for attempt in 0..2 {
            let mut req = self.agent.get(&url);
            if let Some(a) = accept {
                req = req.set("Accept", a);
            }
            if let Some(a) = self.authorization.borrow().as_deref() {
                req = req.set("Authorization", a);
            }
            match req.call() {
                Ok(resp) => return Ok(resp),
                Err(ureq::Error::Status(401, resp)) if attempt == 0 => {
                    let challenge = resp.header("www-authenticate").map(str::to_string);
                    self.authenticate(challenge.as_deref())?;
                }
                Err(ureq::Error::Status(code @ (401 | 403), resp)) => {
                    return Err(ImageError::Registry(match &self.cred {
                        Some(c) => format!(
                            "registry {} refused the credentials configured for it (user {:?}) for {} ({code}{})",
                            self.r.host,
                            c.username,
                            self.name(),
                            error_detail(resp)
                        ),
                        None => format!(
                            "registry denied access to {} ({code}{}); no credentials are configured for {} (--registry-auth)",
                            self.name(),
                            error_detail(resp),
                            self.r.host
                        ),
                    }))
                }
                Err(ureq::Error::Status(404, resp)) => {
                    return Err(ImageError::NotFound(format!(
                        "{what} not found in {}{}",
                        self.name(),
                        error_detail(resp)
                    )))
                }
                Err(ureq::Error::Status(code, resp)) => {
                    return Err(ImageError::Registry(format!(
                        "registry {} answered {code} for {what}{}",
                        self.r.host,
                        error_detail(resp)
                    )))
                }
                Err(ureq::Error::Transport(t)) => {
                    return Err(ImageError::Registry(format!(
                        "cannot reach registry {}: {t}",
                        self.r.host
                    )))
                }
            }
        }
        Err(ImageError::Registry(format!(
            "registry denied access to {}",
            self.name()
        )))
    }

    /// Answers a `WWW-Authenticate` challenge: `Basic` with the configured credential,
    /// `Bearer` with a token fetched from the realm (with the credential, if any).
    fn authenticate(&self, challenge: Option<&str>) -> Result<(), ImageError> {
        let Some(challenge) = challenge else {
            return Err(ImageError::Registry(format!(
                "registry {} answered 401 without an authentication challenge",
                self.r.host
            )));
        };
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            let Some(c) = &self.cred else {
                return Err(ImageError::Registry(format!(
                    "registry {} requires a user name and password for {}; none are configured for it (--registry-auth)",
                    self.r.host,
                    self.name()
                )));
            };
            *self.authorization.borrow_mut() = Some(c.basic());
            return Ok(());
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ImageError::Registry(format!(
                "registry {} asks for \"{}\" credentials; only basic and bearer-token authentication are supported",
                self.r.host,
                scheme.to_lowercase()
            )));
        }
        let param = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        let Some(realm) = param("realm") else {
            return Err(ImageError::Registry(format!(
                "registry {} sent a bearer challenge without a realm",
                self.r.host
            )));
        };
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(ImageError::Registry(format!(
                "registry {} sent a token realm that is not an http(s) url: {realm}",
                self.r.host
            )));
        }
        let default_scope = format!("repository:{}:pull", self.r.repo);
        let mut req = self.agent.get(realm);
        if let Some(service) = param("service") {
            req = req.query("service", service);
        }
        req = req.query("scope", param("scope").unwrap_or(&default_scope));
        if let Some(c) = &self.cred {
            // A password goes over plain http only to a registry the operator reaches
            // over http anyway.
            if realm.starts_with("http://") && !self.base.starts_with("http://") {
                return Err(ImageError::Registry(format!(
                    "registry {} sent a plain-http token realm ({realm}); its credentials are only sent over https",
                    self.r.host
                )));
            }
            req = req.set("Authorization", &c.basic());
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(code @ (401 | 403), resp)) => {
                let detail = error_detail(resp);
                return Err(ImageError::Registry(match &self.cred {
                    Some(c) => format!(
                        "token service {realm} of registry {} refused the credentials configured for it (user {:?}) ({code}{detail})",
                        self.r.host, c.username
                    ),
                    None => format!(
                        "token service {realm} of registry {} refused anonymous access ({code}{detail}); no credentials are configured for it (--registry-auth)",
                        self.r.host
                    ),
                }));
            }
            Err(e) => {
                return Err(ImageError::Registry(format!(
                    "token request to {realm} failed: {}",
                    describe(e)
                )))
            }
        };
        let mut body = Vec::new();
        resp.into_reader()
            .take(1 << 20)
            .read_to_end(&mut body)
            .map_err(|e| ImageError::Registry(format!("token request to {realm} failed: {e}")))?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ImageError::Registry(format!("token from {realm} is not json: {e}")))?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ImageError::Registry(format!("token answer from {realm} holds no token"))
            })?;
        *self.authorization.borrow_mut() = Some(format!("Bearer {token}"));
        Ok(())
    }

    /// Fetches a manifest by tag or digest; returns its bytes and content type.
    fn manifest(&self, reference: &str) -> Result<FetchedManifest, ImageError> {
        let what = format!("manifest \"{reference}\"");
        let resp = self.get(
            &format!("/v2/{}/manifests/{reference}", self.r.repo),
            Some(MANIFEST_ACCEPT),
            &what,
        )?;
        let content_type = resp.header("content-type").map(str::to_string);
        let claimed = resp.header("docker-content-digest").map(str::to_string);
        let mut body = Vec::new();
        resp.into_reader()
            .take(oci::MAX_MANIFEST_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| {
                ImageError::Registry(format!("reading {what} from {}: {e}", self.name()))
            })?;
        if body.len() as u64 > oci::MAX_MANIFEST_BYTES {
            return Err(ImageError::TooLarge(format!(
                "{what} is larger than {} bytes",
                oci::MAX_MANIFEST_BYTES
            )));
        }
        Ok((body, content_type, claimed))
    }

    /// Resolves the reference down to the image manifest for this host.
    pub(crate) fn resolve(&self) -> Result<Resolved, ImageError> {
        let mut reference = self.r.manifest_ref();
        let mut expected: Option<Digest> = self.r.digest.clone();
        for _ in 0..4 {
            let (bytes, content_type, claimed) = self.manifest(&reference)?;
            let digest = Digest::of(&bytes);
            if let Some(want) = &expected {
                if *want != digest {
                    return Err(ImageError::Corrupt(format!(
                        "manifest {want} from {} does not match its digest (content hashes to {digest})",
                        self.name()
                    )));
                }
            }
            if let Some(Ok(claimed)) = claimed.as_deref().map(Digest::parse) {
                if claimed != digest {
                    return Err(ImageError::Corrupt(format!(
                        "manifest \"{reference}\" from {}: registry says digest {claimed}, content hashes to {digest}",
                        self.name()
                    )));
                }
            }
            match oci::parse_document(&bytes, content_type.as_deref())? {
                Document::Index(entries) => {
                    let d = oci::pick_platform(&entries)?.digest()?;
                    reference = d.to_string();
                    expected = Some(d);
                }
                Document::Manifest { config, layers } => {
                    return Ok(Resolved {
                        digest,
                        manifest: bytes,
                        config,
                        layers,
                    })
                }
            }
        }
        Err(ImageError::Corrupt("image indexes nest too deeply".into()))
    }
}

impl BlobSource for RegistrySource {
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, ImageError> {
        let resp = self.get(
            &format!("/v2/{}/blobs/{digest}", self.r.repo),
            None,
            &format!("blob {digest}"),
        )?;
        Ok(Box::new(resp.into_reader()))
    }

    fn read_failed(&self, msg: String) -> ImageError {
        ImageError::Registry(format!("{msg} (from {})", self.name()))
    }
}

fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Status(code, resp) => format!("status {code}{}", error_detail(resp)),
        ureq::Error::Transport(t) => t.to_string(),
    }
}

/// `": <message>"` from a distribution API error body, or nothing.
fn error_detail(resp: ureq::Response) -> String {
    let mut body = Vec::new();
    if resp
        .into_reader()
        .take(64 << 10)
        .read_to_end(&mut body)
        .is_err()
    {
        return String::new();
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return String::new();
    };
    let msgs: Vec<String> = v
        .get("errors")
        .and_then(|e| e.as_array())
        .map(|errs| {
            errs.iter()
                .filter_map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
                    let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
                    let text = match (code.is_empty(), msg.is_empty()) {
                        (true, true) => return None,
                        (false, true) => code.to_lowercase(),
                        (true, false) => msg.to_string(),
                        (false, false) => format!("{}: {msg}", code.to_lowercase()),
                    };
                    Some(text.chars().take(300).collect())
                })
                .collect()
        })
        .unwrap_or_default();
    if msgs.is_empty() {
        String::new()
    } else {
        format!(": {}", msgs.join("; "))
    }
}

/// Splits `Bearer realm="x",service="y"` into the scheme and its parameters.
fn parse_challenge(s: &str) -> (String, Vec<(String, String)>) {
    let s = s.trim();
    let (scheme, rest) = match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    };
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        params.push((key.trim().to_string(), value.trim().to_string()));
    }
    (scheme.to_string(), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(
            params,
            vec![
                (
                    "realm".to_string(),
                    "https://auth.example.com/token".to_string()
                ),
                ("service".to_string(), "registry.example.com".to_string()),
                ("scope".to_string(), "repository:a/b:pull,push".to_string()),
            ]
        );
        let (scheme, params) = parse_challenge(r#"Basic realm="x""#);
        assert_eq!(scheme, "Basic");
        assert_eq!(params.len(), 1);
    }

    #[test]
    fn scheme_choice() {
        let r = |host: &str| RegistryRef {
            host: host.into(),
            repo: "a".into(),
            tag: None,
            digest: None,
        };
        assert!(uses_http(&r("127.0.0.1:5000"), &[]));
        assert!(uses_http(&r("localhost"), &[]));
        assert!(!uses_http(&r("swr.example.com"), &[]));
        assert!(uses_http(&r("reg.lan:5000"), &["reg.lan:5000".into()]));
        assert!(uses_http(&r("reg.lan:5000"), &["reg.lan".into()]));
        assert!(!uses_http(&r("reg.lan:5000"), &["other.lan".into()]));
    }
}
