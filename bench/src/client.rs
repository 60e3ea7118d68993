//! Request builders for the load generator: signed Stratus API calls, built and signed the
//! way `stratus-client` does it (same headers, same `stratus_sign::sign`), and the bare
//! request of the loopback floor.

use crate::load::{Answer, Body, Target};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use std::net::SocketAddr;
use stratus_client::Credentials;

/// Signs requests for one server and key.
#[derive(Clone)]
pub struct Signer {
    creds: Credentials,
    host: String,
}

impl Signer {
    /// A signer for `creds` talking to `addr`.
    pub fn new(creds: Credentials, addr: SocketAddr) -> Signer {
        Signer {
            creds,
            host: addr.to_string(),
        }
    }

    /// The path part of a function URN, percent-encoded as the client sends it.
    pub fn function_path(&self, name: &str, tail: &str) -> String {
        let urn = format!(
            "urn:fss:{}:{}:function:default:{name}",
            self.creds.region, self.creds.project_id
        );
        format!(
            "fgs/functions/{}/{tail}",
            stratus_sign::encode_component(&urn)
        )
    }

    /// A signed request to `/v2/{project}/{rest}`; `query` pairs are encoded and sorted
    /// here. Includes the date formatting and the HMAC, as a real client pays them.
    pub fn request(
        &self,
        method: &str,
        rest: &str,
        query: &[(&str, &str)],
        extra: &[(&str, &str)],
        body: &Bytes,
    ) -> Request<Body> {
        let path = format!("/v2/{}/{rest}", self.creds.project_id);
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| {
                (
                    stratus_sign::encode_component(k),
                    stratus_sign::encode_component(v),
                )
            })
            .collect();
        pairs.sort();
        let qs = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut headers: Vec<(&str, &str)> = vec![
            ("Content-Type", "application/json"),
            ("Host", &self.host),
            ("X-Project-Id", &self.creds.project_id),
            ("X-Sdk-Date", &date),
        ];
        headers.extend_from_slice(extra);
        let raw = stratus_sign::RawRequest {
            method,
            path: &path,
            query: (!qs.is_empty()).then_some(qs.as_str()),
            headers: &headers,
            body,
        };
        let auth = stratus_sign::sign(&raw, &self.creds.access_key, &self.creds.secret_key)
            .unwrap_or_default();
        let uri = if qs.is_empty() {
            path
        } else {
            format!("{path}?{qs}")
        };
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in &headers {
            b = b.header(*k, *v);
        }
        b.header("Authorization", auth)
            .body(Full::new(body.clone()))
            .unwrap_or_else(|_| Request::new(Full::new(Bytes::new())))
    }
}

/// What counts as a good answer of a signed call.
#[derive(Clone, Copy)]
pub enum Expect {
    /// Any 200.
    Ok200,
    /// A 200 invocation whose function did not fail (`X-Is-Func-Err: false`).
    InvokeOk,
    /// A 202 (an accepted asynchronous invocation).
    Accepted,
}

/// Checks an answer against an expectation.
pub fn check(expect: Expect, a: &Answer) -> Result<(), String> {
    let want = match expect {
        Expect::Accepted => hyper::StatusCode::ACCEPTED,
        _ => hyper::StatusCode::OK,
    };
    if a.status != want {
        let body = String::from_utf8_lossy(&a.body);
        let cut: String = body.chars().take(300).collect();
        return Err(format!("HTTP {}: {cut}", a.status.as_u16()));
    }
    if let Expect::InvokeOk = expect {
        let func_err = a
            .headers
            .get("x-is-func-err")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("false");
        if func_err != "false" {
            let body = String::from_utf8_lossy(&a.body);
            let cut: String = body.chars().take(300).collect();
            return Err(format!("function failed: {cut}"));
        }
    }
    Ok(())
}

/// A signed call, the same every time (signed afresh for each request).
pub struct Signed {
    /// The signer.
    pub signer: Signer,
    /// Method.
    pub method: &'static str,
    /// Path after `/v2/{project}/`.
    pub rest: String,
    /// Query pairs.
    pub query: Vec<(&'static str, String)>,
    /// Extra signed headers.
    pub headers: Vec<(&'static str, String)>,
    /// Body.
    pub body: Bytes,
    /// Expected answer.
    pub expect: Expect,
}

impl Signed {
    /// A synchronous invocation of `name` with an empty JSON event, v1 envelope, as
    /// `stratus_client::Client::invoke` sends it.
    pub fn invoke(signer: &Signer, name: &str) -> Signed {
        Signed {
            rest: signer.function_path(name, "invocations"),
            signer: signer.clone(),
            method: "POST",
            query: vec![],
            headers: vec![("X-CFF-Request-Version", "v1".into())],
            body: Bytes::from_static(b"{}"),
            expect: Expect::InvokeOk,
        }
    }

    /// An asynchronous invocation of `name` with a small JSON event.
    pub fn invoke_async(signer: &Signer, name: &str) -> Signed {
        Signed {
            rest: signer.function_path(name, "invocations-async"),
            signer: signer.clone(),
            method: "POST",
            query: vec![],
            headers: vec![],
            body: Bytes::from_static(b"{\"bench\":true}"),
            expect: Expect::Accepted,
        }
    }

    /// `GET .../config` of `name`.
    pub fn get_config(signer: &Signer, name: &str) -> Signed {
        Signed {
            rest: signer.function_path(name, "config"),
            signer: signer.clone(),
            method: "GET",
            query: vec![],
            headers: vec![],
            body: Bytes::new(),
            expect: Expect::Ok200,
        }
    }

    /// `GET /fgs/functions?marker=0&maxitems=N`.
    pub fn list(signer: &Signer, maxitems: usize) -> Signed {
        Signed {
            rest: "fgs/functions".into(),
            signer: signer.clone(),
            method: "GET",
            query: vec![("marker", "0".into()), ("maxitems", maxitems.to_string())],
            headers: vec![],
            body: Bytes::new(),
            expect: Expect::Ok200,
        }
    }
}

impl Target for Signed {
    fn request(&self) -> Request<Body> {
        let q: Vec<(&str, &str)> = self.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let h: Vec<(&str, &str)> = self.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.signer
            .request(self.method, &self.rest, &q, &h, &self.body)
    }

    fn check(&self, a: &Answer) -> Result<(), String> {
        check(self.expect, a)
    }
}

/// `GET /` to the bare floor server: no signing, no routing, a 2-byte answer.
pub struct Bare {
    /// `host:port` of the floor server.
    pub host: String,
}

impl Target for Bare {
    fn request(&self) -> Request<Body> {
        Request::builder()
            .method("GET")
            .uri("/")
            .header("Host", &self.host)
            .body(Full::new(Bytes::new()))
            .unwrap_or_else(|_| Request::new(Full::new(Bytes::new())))
    }

    fn check(&self, a: &Answer) -> Result<(), String> {
        check(Expect::Ok200, a)
    }
}
