//! HTTP/1.1 server of one instance's runtime API.

use crate::mailbox::{Mailbox, Outcome};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a poll for the next event waits before answering 204.
const POLL_WAIT: Duration = Duration::from_secs(30);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-cff-request-id");

/// Serves the runtime API on `listener` until the returned task is aborted.
pub fn serve(listener: TcpListener, mailbox: Arc<Mailbox>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let mailbox = mailbox.clone();
            conns.spawn(async move {
                let service = service_fn(move |req| handle(req, mailbox.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
            // Reap finished connection tasks so the set does not grow.
            while conns.try_join_next().is_some() {}
        }
    })
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: &'static str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r
}

async fn handle(
    req: Request<Incoming>,
    mailbox: Arc<Mailbox>,
) -> Result<Reply, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let method = &parts.method;
    if method == Method::GET && path == "/v1/runtime/invocation/request" {
        return Ok(match mailbox.next(POLL_WAIT).await {
            Some(event) => {
                // The request id comes first, then the event's headers, as before.
                let Ok(id) = HeaderValue::from_str(&event.request_id) else {
                    return Ok(reply(StatusCode::INTERNAL_SERVER_ERROR, "bad event header"));
                };
                let mut resp = Response::new(Full::new(event.body));
                let h = resp.headers_mut();
                h.reserve(event.headers.len() + 1);
                h.insert(REQUEST_ID, id);
                for (name, value) in event.headers {
                    h.append(name, value);
                }
                resp
            }
            None => reply(StatusCode::NO_CONTENT, ""),
        });
    }
    if method != Method::POST {
        return Ok(reply(StatusCode::NOT_FOUND, "unknown runtime API path"));
    }
    let limit = mailbox.max_result;
    let read = Limited::new(body, limit).collect().await;
    if path == "/v1/runtime/init/error" {
        let body = read.map(|b| b.to_bytes()).unwrap_or_default();
        mailbox.init_failed(body);
        return Ok(reply(StatusCode::ACCEPTED, ""));
    }
    let (id, success) = if let Some(id) = path.strip_prefix("/v1/runtime/invocation/response/") {
        (id, true)
    } else if let Some(id) = path.strip_prefix("/v1/runtime/invocation/error/") {
        (id, false)
    } else {
        return Ok(reply(StatusCode::NOT_FOUND, "unknown runtime API path"));
    };
    let outcome = match read {
        Ok(body) if success => Outcome::Success(body.to_bytes()),
        Ok(body) => Outcome::Error(body.to_bytes()),
        Err(_) => Outcome::TooLarge(limit),
    };
    let too_large = matches!(outcome, Outcome::TooLarge(_));
    if !mailbox.complete(id, outcome) {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            "unknown or finished request id",
        ));
    }
    Ok(if too_large {
        reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "result exceeds RUNTIME_MAX_RESP_BODY_SIZE",
        )
    } else {
        reply(StatusCode::ACCEPTED, "")
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::mailbox::{Event, Readiness as ReadyState};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn http(addr: std::net::SocketAddr, raw: String) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(raw.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn event_round_trip() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mailbox = Arc::new(Mailbox::new(16));
        let task = serve(listener, mailbox.clone());
        let result = mailbox.submit(Event {
            request_id: "r1".into(),
            body: Bytes::from_static(b"{\"a\":1}"),
            headers: vec![(
                HeaderName::from_static("x-cff-invoke-type"),
                HeaderValue::from_static("sync"),
            )],
        });
        let got = http(
            addr,
            "GET /v1/runtime/invocation/request HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                .into(),
        )
        .await;
        assert!(got.contains("x-cff-request-id: r1"), "{got}");
        assert!(got.contains("x-cff-invoke-type: sync"), "{got}");
        assert!(got.ends_with("{\"a\":1}"), "{got}");
        assert_eq!(mailbox.wait_ready().await, ReadyState::Ready);

        let post = |path: &str, body: &str| {
            format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
        };
        let got = http(addr, post("/v1/runtime/invocation/response/r1", "done")).await;
        assert!(got.starts_with("HTTP/1.1 202"), "{got}");
        assert_eq!(
            result.await.unwrap(),
            Outcome::Success(Bytes::from_static(b"done"))
        );
        let got = http(addr, post("/v1/runtime/invocation/response/r1", "again")).await;
        assert!(got.starts_with("HTTP/1.1 404"), "{got}");

        let big = mailbox.submit(Event {
            request_id: "r2".into(),
            body: Bytes::new(),
            headers: vec![],
        });
        let got = http(
            addr,
            post("/v1/runtime/invocation/error/r2", &"x".repeat(17)),
        )
        .await;
        assert!(got.starts_with("HTTP/1.1 413"), "{got}");
        assert_eq!(big.await.unwrap(), Outcome::TooLarge(16));
        task.abort();
    }

    #[tokio::test]
    async fn init_error_and_close() {
        let mailbox = Arc::new(Mailbox::new(16));
        mailbox.init_failed(Bytes::from_static(b"boom"));
        assert_eq!(
            mailbox.wait_ready().await,
            ReadyState::Failed(Bytes::from_static(b"boom"))
        );
        let rx = mailbox.submit(Event {
            request_id: "r".into(),
            body: Bytes::new(),
            headers: vec![],
        });
        mailbox.close();
        assert!(rx.await.is_err());
    }
}
