//! Protocol tests against scripted fake servers (no Go toolchain needed):
//! handshake failures, well-formed answers built by hand, and hostile input.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use stratus_gorpc::{GoRpc, GoRpcError, InvokeReply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// Minimal gob writers for building server answers by hand.

fn uint(out: &mut Vec<u8>, v: u64) {
    if v < 128 {
        out.push(v as u8);
    } else {
        let be = v.to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        out.push((256 - (8 - skip)) as u8);
        out.extend_from_slice(&be[skip..]);
    }
}

fn int(out: &mut Vec<u8>, v: i64) {
    let u = if v < 0 {
        ((!v as u64) << 1) | 1
    } else {
        (v as u64) << 1
    };
    uint(out, u);
}

fn string(out: &mut Vec<u8>, s: &[u8]) {
    uint(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn message(out: &mut Vec<u8>, body: &[u8]) {
    uint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// Definition message of a struct type with the given (name, type id)
/// fields: wireType{StructT: structType{CommonType{Name, Id}, Field: [...]}}.
fn struct_def(id: i64, name: &str, fields: &[(&str, i64)]) -> Vec<u8> {
    let mut b = Vec::new();
    int(&mut b, -id);
    b.push(3); // wireType field 2 (StructT)
    b.push(1); // structType field 0 (CommonType)
    b.push(1); // CommonType field 0 (Name)
    string(&mut b, name.as_bytes());
    b.push(1); // CommonType field 1 (Id)
    int(&mut b, id);
    b.push(0); // end CommonType
    if !fields.is_empty() {
        b.push(1); // structType field 1 (Field)
        uint(&mut b, fields.len() as u64);
        for (n, t) in fields {
            b.push(1);
            string(&mut b, n.as_bytes());
            b.push(1);
            int(&mut b, *t);
            b.push(0);
        }
    }
    b.push(0); // end structType
    b.push(0); // end wireType
    let mut out = Vec::new();
    message(&mut out, &b);
    out
}

const RESPONSE_ID: i64 = 65;
const REPLY_ID: i64 = 66;
const EMPTY_ID: i64 = 67;

/// Type definitions a Go server sends before its first answer.
fn response_defs() -> Vec<u8> {
    let mut out = struct_def(
        RESPONSE_ID,
        "Response",
        &[("ServiceMethod", 6), ("Seq", 3), ("Error", 6)],
    );
    out.extend(struct_def(
        REPLY_ID,
        "InvokeResponse",
        &[("StatusCode", 2), ("Payload", 5)],
    ));
    out.extend(struct_def(EMPTY_ID, "", &[]));
    out
}

fn response_header(seq: u64, error: &str) -> Vec<u8> {
    let mut b = Vec::new();
    int(&mut b, RESPONSE_ID);
    b.push(1);
    string(&mut b, b"Function.Invoke");
    let mut next = 1;
    if seq != 0 {
        b.push(next);
        uint(&mut b, seq);
        next = 1;
    } else {
        next += 1;
    }
    if !error.is_empty() {
        b.push(next);
        string(&mut b, error.as_bytes());
    }
    b.push(0);
    let mut out = Vec::new();
    message(&mut out, &b);
    out
}

fn invoke_reply(status: i64, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    int(&mut b, REPLY_ID);
    b.push(1);
    int(&mut b, status);
    if !payload.is_empty() {
        b.push(1);
        string(&mut b, payload);
    }
    b.push(0);
    let mut out = Vec::new();
    message(&mut out, &b);
    out
}

fn empty_reply() -> Vec<u8> {
    let mut b = Vec::new();
    int(&mut b, EMPTY_ID);
    b.push(0);
    let mut out = Vec::new();
    message(&mut out, &b);
    out
}

/// Starts a one-connection server running `script` and returns its address.
async fn serve<F, Fut>(script: F) -> String
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        if let Ok((s, _)) = listener.accept().await {
            script(s).await;
        }
    });
    addr
}

/// Reads the client's CONNECT request.
async fn read_connect(s: &mut TcpStream) {
    let mut buf = vec![0u8; 27];
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(buf, b"CONNECT /_goRPC_ HTTP/1.0\n\n");
}

const CONNECTED: &[u8] = b"HTTP/1.0 200 Connected to Go RPC\n\n";

/// Drains what the client sends for a while (the server scripts do not
/// parse requests).
async fn drain(s: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await;
}

#[tokio::test]
async fn handshake_rejects_other_servers() {
    let addr = serve(|mut s| async move {
        read_connect(&mut s).await;
        s.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\n\r\n405 must CONNECT\n")
            .await
            .unwrap();
    })
    .await;
    let err = GoRpc::connect(&addr).await.unwrap_err();
    assert!(
        matches!(&err, GoRpcError::Protocol(m) if m.contains("405")),
        "{err:?}"
    );

    // Closing without an answer.
    let addr = serve(|mut s| async move {
        read_connect(&mut s).await;
    })
    .await;
    let err = GoRpc::connect(&addr).await.unwrap_err();
    assert!(matches!(err, GoRpcError::Io(_)), "{err:?}");

    // An endless status line.
    let addr = serve(|mut s| async move {
        read_connect(&mut s).await;
        let _ = s.write_all(&vec![b'H'; 64 * 1024]).await;
    })
    .await;
    let err = GoRpc::connect(&addr).await.unwrap_err();
    assert!(matches!(err, GoRpcError::Protocol(_)), "{err:?}");

    // connect_with_retry does not keep retrying a wrong server.
    let addr = serve(|mut s| async move {
        read_connect(&mut s).await;
        let _ = s.write_all(b"HTTP/1.0 404 Not Found\n\n").await;
    })
    .await;
    let err = GoRpc::connect_with_retry(&addr, Duration::from_secs(5), Duration::from_millis(10))
        .await
        .unwrap_err();
    assert!(matches!(err, GoRpcError::Protocol(_)), "{err:?}");
}

#[tokio::test]
async fn hand_built_answers_are_decoded() {
    let addr = serve(|mut s| async move {
        read_connect(&mut s).await;
        s.write_all(CONNECTED).await.unwrap();
        drain(&mut s).await;
        // Call 0 succeeds; call 1 fails remotely; call 2 succeeds again.
        let mut out = response_defs();
        out.extend(response_header(0, ""));
        out.extend(invoke_reply(200, b"{\"ok\":true}"));
        s.write_all(&out).await.unwrap();
        drain(&mut s).await;
        let mut out = response_header(1, "{\n    \"errorMessage\": \"x\"\n}");
        out.extend(empty_reply());
        s.write_all(&out).await.unwrap();
        drain(&mut s).await;
        let mut out = response_header(2, "");
        out.extend(invoke_reply(0, b""));
        s.write_all(&out).await.unwrap();
        drain(&mut s).await;
    })
    .await;
    let mut rpc = GoRpc::connect(&addr).await.unwrap();
    let reply = rpc.invoke(b"{}", &[]).await.unwrap();
    assert_eq!(
        reply,
        InvokeReply {
            status_code: 200,
            payload: b"{\"ok\":true}".to_vec()
        }
    );
    let err = rpc.invoke(b"{}", &[]).await.unwrap_err();
    assert!(
        matches!(&err, GoRpcError::Remote(m) if m.contains("errorMessage")),
        "{err:?}"
    );
    assert!(rpc.is_usable());
    // An empty error string with a zero reply reads as status 0.
    let reply = rpc.invoke(b"{}", &[]).await.unwrap();
    assert_eq!(
        reply,
        InvokeReply {
            status_code: 0,
            payload: vec![]
        }
    );
}

#[tokio::test]
async fn wrong_sequence_number_is_a_protocol_error() {
    let addr = serve(|mut s| async move {
        read_connect(&mut s).await;
        s.write_all(CONNECTED).await.unwrap();
        drain(&mut s).await;
        let mut out = response_defs();
        out.extend(response_header(7, ""));
        out.extend(invoke_reply(200, b"x"));
        s.write_all(&out).await.unwrap();
        drain(&mut s).await;
    })
    .await;
    let mut rpc = GoRpc::connect(&addr).await.unwrap();
    let err = rpc.invoke(b"{}", &[]).await.unwrap_err();
    assert!(
        matches!(&err, GoRpcError::Protocol(m) if m.contains("call 7")),
        "{err:?}"
    );
    assert!(!rpc.is_usable());
    let err = rpc.invoke(b"{}", &[]).await.unwrap_err();
    assert!(matches!(err, GoRpcError::Protocol(_)), "{err:?}");
}

#[tokio::test]
async fn oversized_and_malformed_messages_are_errors() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // Length prefix of 2^56 bytes: must be refused without allocating.
        ("huge length", vec![0xF8, 1, 0, 0, 0, 0, 0, 0, 0]),
        // Length prefix byte that cannot be valid.
        ("bad prefix", vec![0x80]),
        // Zero-length message.
        ("empty message", vec![0x00]),
        // A value of a type that was never defined.
        ("unknown type", {
            let mut b = Vec::new();
            int(&mut b, 99);
            b.push(0);
            let mut out = Vec::new();
            message(&mut out, &b);
            out
        }),
        // A definition using a reserved id.
        ("reserved id", struct_def(3, "X", &[])),
        // The header arrives, the connection closes before the body.
        ("truncated", {
            let mut out = response_defs();
            out.extend(response_header(0, ""));
            out.extend([0x10, 0x01]);
            out
        }),
        // The reply's StatusCode has the wrong type (string, not int).
        ("wrong field type", {
            let mut out = struct_def(
                RESPONSE_ID,
                "Response",
                &[("ServiceMethod", 6), ("Seq", 3), ("Error", 6)],
            );
            out.extend(struct_def(REPLY_ID, "InvokeResponse", &[("StatusCode", 6)]));
            out.extend(response_header(0, ""));
            let mut b = Vec::new();
            int(&mut b, REPLY_ID);
            b.push(1);
            string(&mut b, b"200");
            b.push(0);
            message(&mut out, &b);
            out
        }),
        // Not gob at all.
        ("text", b"Hello, this is not a gob stream\n".to_vec()),
    ];
    for (name, bytes) in cases {
        let addr = serve(move |mut s| async move {
            read_connect(&mut s).await;
            s.write_all(CONNECTED).await.unwrap();
            drain(&mut s).await;
            let _ = s.write_all(&bytes).await;
        })
        .await;
        let mut rpc = GoRpc::connect(&addr).await.unwrap();
        let r = tokio::time::timeout(Duration::from_secs(5), rpc.invoke(b"{}", &[]))
            .await
            .unwrap_or_else(|_| panic!("{name}: hung"));
        let err = r.expect_err(name);
        assert!(
            matches!(err, GoRpcError::Protocol(_) | GoRpcError::Io(_)),
            "{name}: {err:?}"
        );
        assert!(!rpc.is_usable(), "{name}");
    }
}

#[tokio::test]
async fn random_garbage_never_panics_or_hangs() {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for round in 0..200u32 {
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let len = (next() % 300) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Half the rounds start with valid definitions so the garbage reaches
        // the value decoder.
        if round % 2 == 0 {
            let mut prefix = response_defs();
            prefix.append(&mut bytes);
            bytes = prefix;
        }
        let addr = serve(move |mut s| async move {
            read_connect(&mut s).await;
            s.write_all(CONNECTED).await.unwrap();
            drain(&mut s).await;
            let _ = s.write_all(&bytes).await;
        })
        .await;
        let mut rpc = GoRpc::connect(&addr).await.unwrap();
        let r = tokio::time::timeout(Duration::from_secs(5), rpc.invoke(b"{}", &[])).await;
        assert!(r.is_ok(), "round {round} hung");
    }
}
