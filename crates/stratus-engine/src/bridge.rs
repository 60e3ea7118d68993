//! Bridges for instances that are HTTP servers rather than runtime-API clients: HTTP
//! functions (`bootstrap` serving 127.0.0.1:8000, fed APIG-style events) and container
//! images (`POST /init` once, `POST /invoke` per event). A bridge takes events from the
//! instance's mailbox and answers them itself, so the invoker treats every instance alike.

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stratus_runtimeapi::{Event, Mailbox, Outcome};
use stratus_sandbox::InstanceHandle;

/// The port HTTP functions and container images listen on.
pub const HTTP_PORT: u16 = 8000;

/// How events reach the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// HTTP function: an APIG event becomes the HTTP request; the answer becomes an APIG response.
    HttpFunction,
    /// Container image: `POST /invoke` with the event as body; the answer body is the result.
    Image,
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

struct Connections {
    handle: Arc<dyn InstanceHandle>,
    idle: Mutex<Vec<Sender>>,
}

impl Connections {
    /// An idle connection (`true`: reused) or a new one.
    async fn take(&self) -> std::io::Result<(Sender, bool)> {
        loop {
            let c = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match c {
                Some(s) if !s.is_closed() => return Ok((s, true)),
                Some(_) => continue,
                None => break,
            }
        }
        let handle = self.handle.clone();
        let stream = tokio::task::spawn_blocking(move || handle.connect(HTTP_PORT))
            .await
            .map_err(std::io::Error::other)??;
        stream.set_nonblocking(true)?;
        let _ = stream.set_nodelay(true);
        let stream = tokio::net::TcpStream::from_std(stream)?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok((sender, false))
    }

    /// Keeps a connection for the next request, unless the server said it closes it
    /// (small servers answer `Connection: close` or speak HTTP/1.0).
    fn give_back(&self, s: Sender, parts: &http::response::Parts) {
        let closing = parts.version < http::Version::HTTP_11
            || parts
                .headers
                .get_all(http::header::CONNECTION)
                .iter()
                .any(|v| {
                    v.to_str()
                        .is_ok_and(|v| v.to_ascii_lowercase().contains("close"))
                });
        if !closing {
            self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(s);
        }
    }
}

/// Waits until the instance accepts connections on port 8000, or `deadline` passes.
pub async fn wait_for_port(
    handle: &Arc<dyn InstanceHandle>,
    deadline: tokio::time::Instant,
) -> bool {
    while tokio::time::Instant::now() < deadline {
        let h = handle.clone();
        if let Ok(Ok(_)) = tokio::task::spawn_blocking(move || h.connect(HTTP_PORT)).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// Runs the bridge until the mailbox closes. Call after `wait_for_port` succeeded.
/// `init_headers` go with an image's `POST /init` (the context headers of an event).
pub fn spawn(
    mode: Mode,
    mailbox: Arc<Mailbox>,
    handle: Arc<dyn InstanceHandle>,
    max_result: usize,
    init_headers: Vec<(http::HeaderName, http::HeaderValue)>,
) {
    let conns = Arc::new(Connections {
        handle,
        idle: Mutex::new(Vec::new()),
    });
    tokio::spawn(async move {
        if mode == Mode::Image {
            if let Err(why) = image_init(&conns, init_headers).await {
                mailbox.init_failed(Bytes::from(
                    serde_json::json!({"errorType": "InitializationFailed", "errorMessage": why})
                        .to_string(),
                ));
                return;
            }
        }
        loop {
            let Some(event) = mailbox.next(Duration::from_secs(30)).await else {
                if mailbox_closed(&mailbox) {
                    return;
                }
                continue;
            };
            let conns = conns.clone();
            let mailbox = mailbox.clone();
            tokio::spawn(async move {
                let id = event.request_id.clone();
                let outcome = forward(mode, &conns, event, max_result).await;
                // An image server may run its handlers as child processes: the kernel
                // killing one for memory leaves the server up, yet the instance went
                // over its memory. End it; its death reports the request as
                // RuntimeMemoryExceedLimit like any other runtime's.
                if mode == Mode::Image && conns.handle.out_of_memory() {
                    conns.handle.kill();
                    return;
                }
                mailbox.complete(&id, outcome);
            });
        }
    });
}

/// Calls the image's optional initializer, `POST /init`, once: a success, 404 or 405
/// (no such endpoint) lets the instance take events; any other answer fails the start.
async fn image_init(
    conns: &Connections,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
) -> Result<(), String> {
    let (mut s, _) = conns
        .take()
        .await
        .map_err(|e| format!("cannot reach the image's HTTP server on port 8000: {e}"))?;
    let mut req = http::Request::post("/init")
        .header("host", "127.0.0.1:8000")
        .header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(name, value);
    }
    let req = req
        .body(Full::new(Bytes::from_static(b"{}")))
        .map_err(|e| e.to_string())?;
    let resp = s
        .send_request(req)
        .await
        .map_err(|e| format!("POST /init failed: {e}"))?;
    let (parts, body) = resp.into_parts();
    let body = Limited::new(body, 64 * 1024)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let status = parts.status;
    conns.give_back(s, &parts);
    if status.is_success()
        || status == http::StatusCode::NOT_FOUND
        || status == http::StatusCode::METHOD_NOT_ALLOWED
    {
        return Ok(());
    }
    Err(format!(
        "POST /init answered {status}: {}",
        String::from_utf8_lossy(&body).trim()
    ))
}

fn mailbox_closed(m: &Mailbox) -> bool {
    m.is_closed()
}

fn error(kind: &str, msg: &str) -> Outcome {
    Outcome::Error(Bytes::from(
        serde_json::json!({"errorType": kind, "errorMessage": msg}).to_string(),
    ))
}

async fn forward(mode: Mode, conns: &Connections, event: Event, max_result: usize) -> Outcome {
    let mut attempt = 0;
    let (sender, resp) = loop {
        let req = match build_request(mode, &event) {
            Ok(r) => r,
            Err(m) => return error("InvalidEvent", &m),
        };
        let (mut sender, reused) = match conns.take().await {
            Ok(s) => s,
            Err(e) => {
                return error(
                    "ConnectionFailed",
                    &format!("cannot reach the function's HTTP server on port 8000: {e}"),
                )
            }
        };
        match sender.send_request(req).await {
            Ok(r) => break (sender, r),
            // An idle connection the server closed meanwhile: the request never
            // reached it, so a fresh connection may carry it.
            Err(e) if reused && attempt == 0 && (e.is_canceled() || e.is_closed()) => {
                attempt += 1;
            }
            Err(e) => {
                return error(
                    "ConnectionFailed",
                    &format!("the function's HTTP server failed: {e}"),
                )
            }
        }
    };
    let (parts, body) = resp.into_parts();
    let body = match Limited::new(body, max_result).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Outcome::TooLarge(max_result),
    };
    conns.give_back(sender, &parts);
    match mode {
        Mode::Image => {
            if parts.status.is_success() {
                Outcome::Success(body)
            } else {
                Outcome::Error(body)
            }
        }
        Mode::HttpFunction => {
            // A header sent more than once (Set-Cookie) becomes an array of its values.
            let mut headers = serde_json::Map::new();
            for (k, v) in &parts.headers {
                let Ok(v) = v.to_str() else { continue };
                let v = serde_json::Value::String(v.to_string());
                match headers.get_mut(k.as_str()) {
                    None => {
                        headers.insert(k.as_str().to_string(), v);
                    }
                    Some(serde_json::Value::Array(a)) => a.push(v),
                    Some(first) => *first = serde_json::Value::Array(vec![first.take(), v]),
                }
            }
            let (text, b64) = match std::str::from_utf8(&body) {
                Ok(t) => (t.to_string(), false),
                Err(_) => (
                    base64::engine::general_purpose::STANDARD.encode(&body),
                    true,
                ),
            };
            let out = serde_json::json!({
                "statusCode": parts.status.as_u16(),
                "headers": headers,
                "body": text,
                "isBase64Encoded": b64,
            });
            Outcome::Success(Bytes::from(out.to_string()))
        }
    }
}

fn build_request(mode: Mode, event: &Event) -> Result<http::Request<Full<Bytes>>, String> {
    let mut builder = http::Request::builder().header("host", "127.0.0.1:8000");
    for (name, value) in &event.headers {
        builder = builder.header(name, value);
    }
    builder = builder.header("X-CFF-Request-Id", &event.request_id);
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&event.body).ok();
    let apig = parsed.as_ref().and_then(|v| v.as_object()).filter(|o| {
        mode == Mode::HttpFunction && (o.contains_key("httpMethod") || o.contains_key("path"))
    });
    let Some(o) = apig else {
        let path = if mode == Mode::Image { "/invoke" } else { "/" };
        return builder
            .method("POST")
            .uri(path)
            .header("content-type", "application/json")
            .body(Full::new(event.body.clone()))
            .map_err(|e| e.to_string());
    };
    let method = o
        .get("httpMethod")
        .and_then(|m| m.as_str())
        .unwrap_or("GET");
    let path = o.get("path").and_then(|p| p.as_str()).unwrap_or("/");
    let mut uri = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    // `rawQuery` (set by the API gateway) is the query exactly as the client sent it.
    let raw_query = o
        .get("rawQuery")
        .and_then(|q| q.as_str())
        .filter(|q| !q.is_empty());
    if let Some(q) = raw_query {
        uri.push('?');
        uri.push_str(q);
    } else if let Some(q) = o.get("queryStringParameters").and_then(|q| q.as_object()) {
        let mut pairs = Vec::new();
        for (k, v) in q {
            let values: Vec<String> = match v {
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect(),
                serde_json::Value::String(s) => vec![s.clone()],
                other => vec![other.to_string()],
            };
            for val in values {
                pairs.push(format!("{}={}", encode(k), encode(&val)));
            }
        }
        if !pairs.is_empty() {
            uri.push('?');
            uri.push_str(&pairs.join("&"));
        }
    }
    if let Some(h) = o.get("headers").and_then(|h| h.as_object()) {
        for (k, v) in h {
            if k.eq_ignore_ascii_case("host") || k.eq_ignore_ascii_case("content-length") {
                continue;
            }
            if let Some(v) = v.as_str() {
                builder = builder.header(k.as_str(), v);
            }
        }
    }
    let body = match o.get("body") {
        Some(serde_json::Value::String(s))
            if o.get("isBase64Encoded")
                .and_then(|b| b.as_bool())
                .unwrap_or(false) =>
        {
            base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_err(|e| format!("body is not valid base64: {e}"))?
        }
        Some(serde_json::Value::String(s)) => s.clone().into_bytes(),
        Some(serde_json::Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    builder
        .method(method)
        .uri(uri)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("cannot build the HTTP request from the event: {e}"))
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Go 1.x functions: the binary serves FunctionGraph's net/rpc-over-HTTP protocol on
/// `RUNTIME_API_ADDR` inside the instance; each event becomes one `Function.Invoke`.
pub mod go {
    use super::error;
    use bytes::Bytes;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use stratus_gorpc::{GoRpc, GoRpcError};
    use stratus_runtimeapi::{Event, Mailbox, Outcome};
    use stratus_sandbox::InstanceHandle;

    /// Idle RPC connections to one instance; a call takes one or opens a new one, so
    /// concurrent events run on their own connections.
    struct Pool {
        handle: Arc<dyn InstanceHandle>,
        port: u16,
        max_result: usize,
        idle: Mutex<Vec<GoRpc>>,
    }

    impl Pool {
        async fn take(&self) -> Result<GoRpc, GoRpcError> {
            let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            if let Some(c) = idle.filter(GoRpc::is_usable) {
                return Ok(c);
            }
            let mut c = connect(&self.handle, self.port).await?;
            c.set_max_message_size(self.max_result + 64 * 1024);
            Ok(c)
        }

        fn give_back(&self, c: GoRpc) {
            if c.is_usable() {
                self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(c);
            }
        }
    }

    /// Opens and handshakes one connection to the function inside the instance.
    pub async fn connect(handle: &Arc<dyn InstanceHandle>, port: u16) -> Result<GoRpc, GoRpcError> {
        let h = handle.clone();
        let stream = tokio::task::spawn_blocking(move || h.connect(port))
            .await
            .map_err(std::io::Error::other)??;
        stream.set_nonblocking(true)?;
        GoRpc::handshake(tokio::net::TcpStream::from_std(stream)?).await
    }

    /// Waits until the function answers the RPC handshake, or `deadline` passes. The Go
    /// SDK listens only once the handler is registered, so a handshake means ready.
    pub async fn wait_ready(
        handle: &Arc<dyn InstanceHandle>,
        port: u16,
        deadline: tokio::time::Instant,
    ) -> Result<GoRpc, String> {
        let mut last = String::from("no answer");
        while tokio::time::Instant::now() < deadline {
            match tokio::time::timeout_at(deadline, connect(handle, port)).await {
                Ok(Ok(c)) => return Ok(c),
                Ok(Err(e @ GoRpcError::Protocol(_))) => return Err(e.to_string()),
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => break,
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(last)
    }

    /// Runs the bridge until the mailbox closes; `first` is the connection that proved
    /// the function ready.
    pub fn spawn(
        mailbox: Arc<Mailbox>,
        handle: Arc<dyn InstanceHandle>,
        port: u16,
        first: GoRpc,
        max_result: usize,
    ) {
        let pool = Arc::new(Pool {
            handle,
            port,
            max_result,
            idle: Mutex::new(vec![first]),
        });
        tokio::spawn(async move {
            loop {
                let Some(event) = mailbox.next(Duration::from_secs(30)).await else {
                    if mailbox.is_closed() {
                        return;
                    }
                    continue;
                };
                let pool = pool.clone();
                let mailbox = mailbox.clone();
                tokio::spawn(async move {
                    let id = event.request_id.clone();
                    let outcome = invoke(&pool, event).await;
                    mailbox.complete(&id, outcome);
                });
            }
        });
    }

    async fn invoke(pool: &Pool, event: Event) -> Outcome {
        let mut conn = match pool.take().await {
            Ok(c) => c,
            Err(e) => {
                return error(
                    "ConnectionFailed",
                    &format!("cannot reach the Go function: {e}"),
                )
            }
        };
        let mut header: Vec<(String, Vec<String>)> = event
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    crate::invoke::event_header_display(k).to_string(),
                    vec![String::from_utf8_lossy(v.as_bytes()).into_owned()],
                )
            })
            .collect();
        if !header
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("x-cff-request-id"))
        {
            header.push(("X-Cff-Request-Id".into(), vec![event.request_id.clone()]));
        }
        let result = conn.invoke(&event.body, &header).await;
        pool.give_back(conn);
        outcome(result, pool.max_result)
    }

    /// Maps an `Invoke` answer to what a runtime-API shim would have posted.
    pub(crate) fn outcome(
        result: Result<stratus_gorpc::InvokeReply, GoRpcError>,
        max_result: usize,
    ) -> Outcome {
        match result {
            Ok(r) if r.status_code == 200 => {
                if r.payload.len() > max_result {
                    Outcome::TooLarge(max_result)
                } else {
                    Outcome::Success(Bytes::from(r.payload))
                }
            }
            Ok(r) => error(
                "FunctionInvokeError",
                &format!(
                    "the Go function answered with status {} and no result",
                    r.status_code
                ),
            ),
            Err(GoRpcError::Remote(text)) => remote_error(&text),
            Err(e) => error(
                "ConnectionFailed",
                &format!("the Go function's RPC connection failed: {e}"),
            ),
        }
    }

    /// The SDK's error text is an indented JSON document; pass its fields on compactly.
    /// Any other text (a handler registered with another SDK) becomes the message.
    fn remote_error(text: &str) -> Outcome {
        let parsed: Option<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(text).ok();
        match parsed {
            Some(mut o) if o.contains_key("errorMessage") || o.contains_key("errorType") => {
                o.entry("errorType")
                    .or_insert_with(|| serde_json::Value::String("FunctionError".into()));
                o.entry("errorMessage")
                    .or_insert_with(|| serde_json::Value::String(String::new()));
                Outcome::Error(Bytes::from(serde_json::Value::Object(o).to_string()))
            }
            _ => error("FunctionError", text),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn json(o: Outcome) -> serde_json::Value {
            match o {
                Outcome::Error(b) => serde_json::from_slice(&b).unwrap_or_default(),
                other => panic!("expected an error, got {other:?}"),
            }
        }

        #[test]
        fn answers_map_to_outcomes() {
            let ok = outcome(
                Ok(stratus_gorpc::InvokeReply {
                    status_code: 200,
                    payload: b"\"hi\"".to_vec(),
                }),
                10,
            );
            assert_eq!(ok, Outcome::Success(Bytes::from_static(b"\"hi\"")));
            let big = outcome(
                Ok(stratus_gorpc::InvokeReply {
                    status_code: 200,
                    payload: vec![b'x'; 11],
                }),
                10,
            );
            assert_eq!(big, Outcome::TooLarge(10));
            let e = json(outcome(
                Err(GoRpcError::Remote(
                    "{\n    \"errorMessage\": \"boom\",\n    \"errorType\": \"FunctionReturnError\"\n}"
                        .into(),
                )),
                10,
            ));
            assert_eq!(e["errorType"], "FunctionReturnError");
            assert_eq!(e["errorMessage"], "boom");
            let e = json(outcome(Err(GoRpcError::Remote("plain".into())), 10));
            assert_eq!(e["errorType"], "FunctionError");
            assert_eq!(e["errorMessage"], "plain");
            let e = json(outcome(
                Ok(stratus_gorpc::InvokeReply {
                    status_code: 0,
                    payload: vec![],
                }),
                10,
            ));
            assert_eq!(e["errorType"], "FunctionInvokeError");
        }
    }
}
