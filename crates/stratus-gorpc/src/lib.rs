//! Client for the RPC interface of FunctionGraph Go 1.x function binaries.
//!
//! A Go function calls `runtime.Register(handler)` from FunctionGraph's Go
//! SDK, which serves Go's `net/rpc` over HTTP on `$RUNTIME_API_ADDR`: the
//! client sends `CONNECT /_goRPC_ HTTP/1.0`, the server answers
//! `HTTP/1.0 200 Connected to Go RPC`, and from then on the connection
//! carries a gob stream in each direction. Every call is a request header
//! (`rpc.Request{ServiceMethod, Seq}`) followed by the argument; every answer
//! is a response header (`rpc.Response{ServiceMethod, Seq, Error}`) followed
//! by the reply (or by an empty struct when `Error` is set).
//!
//! The service is named `Function` and has two methods:
//!
//! * `Invoke(InvokeRequest{Payload []byte; Header http.Header}) →
//!   InvokeResponse{StatusCode int; Payload []byte}`; failures come back as
//!   the RPC error string, which the SDK fills with an indented JSON document
//!   (`{"errorMessage", "errorType", "stackTrace"}`).
//! * `HealthCheck(HealthCheckRequest{}) → HealthCheckResponse{}`.
//!
//! [`GoRpc`] does one call at a time on a connection; open several
//! connections for concurrent invocations (the Go server serves each
//! connection, and each call, on its own goroutine).

mod gob;

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::{TcpStream, ToSocketAddrs};

use gob::{
    put_bytes, put_int, put_message, put_uint, put_wire_type, GobError, Scalar, StructWriter,
    TypeTable, Value, WireType, T_BYTES, T_STRING, T_UINT,
};

/// Path and answer of Go's RPC-over-HTTP handshake.
const CONNECT_REQUEST: &[u8] = b"CONNECT /_goRPC_ HTTP/1.0\n\n";
const CONNECTED_STATUS: &str = "200 Connected to Go RPC";

/// Upper bound for the HTTP answer to the handshake.
const MAX_HANDSHAKE_BYTES: u64 = 8 * 1024;

/// Default upper bound for one incoming gob message.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// The RPC method that runs the handler once.
pub const INVOKE_METHOD: &str = "Function.Invoke";
/// The RPC method that answers liveness probes.
pub const HEALTH_CHECK_METHOD: &str = "Function.HealthCheck";

/// The Go SDK rejects a nil payload and gob sends an empty byte slice as
/// nothing at all, so an empty event is replaced by this.
pub const EMPTY_PAYLOAD_SUBSTITUTE: &[u8] = b"{}";

/// What `Function.Invoke` returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeReply {
    /// 200 on success. The SDK never sends anything else on success, so a
    /// different value (notably 0 with an empty payload, which is what a
    /// handler panic during an asynchronous call looks like with
    /// FunctionGraph's own SDK) should be treated as a failed invocation.
    pub status_code: i64,
    /// The result bytes (JSON, a string or raw bytes, as the handler chose);
    /// always empty for asynchronous invocations.
    pub payload: Vec<u8>,
}

/// Errors of a Go RPC connection.
#[derive(Debug, thiserror::Error)]
pub enum GoRpcError {
    /// Connecting, reading or writing failed; `UnexpectedEof` means the
    /// process closed the connection (typically because it exited).
    #[error("go runtime connection: {0}")]
    Io(#[from] std::io::Error),
    /// The peer does not speak the expected protocol, or the connection is
    /// no longer usable after an earlier failure.
    #[error("go runtime protocol: {0}")]
    Protocol(String),
    /// The call reached the function and failed there; the string is the RPC
    /// error text (for the SDK's own failures an indented JSON document with
    /// `errorMessage`, `errorType` and for panics `stackTrace`). The
    /// connection stays usable.
    #[error("{0}")]
    Remote(String),
}

impl From<GobError> for GoRpcError {
    fn from(e: GobError) -> Self {
        GoRpcError::Protocol(e.0)
    }
}

/// Where a connection stands between calls.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Ready,
    /// A call started and has not finished; if this is seen at the start of
    /// the next call, the previous call's future was dropped midway and the
    /// stream position is unknown.
    InCall,
    Broken(String),
}

/// Ids this side assigned to the types it sends, allocated on first use.
#[derive(Debug)]
struct OutTypes {
    next_id: i64,
    request: Option<i64>,
    string_slice: Option<i64>,
    header: Option<i64>,
    invoke_request: Option<i64>,
    health_request: Option<i64>,
}

impl OutTypes {
    fn new() -> Self {
        OutTypes {
            // Go's own encoders start after the reserved ids as well.
            next_id: gob::FIRST_USER_ID + 1,
            request: None,
            string_slice: None,
            header: None,
            invoke_request: None,
            health_request: None,
        }
    }

    /// Returns the id of a type, writing its definition to `out` the first
    /// time. `make` builds the definition for a freshly assigned id.
    fn ensure(
        next_id: &mut i64,
        slot: &mut Option<i64>,
        out: &mut Vec<u8>,
        make: impl FnOnce(i64) -> WireType,
    ) -> i64 {
        if let Some(id) = *slot {
            return id;
        }
        let id = *next_id;
        *next_id += 1;
        let mut body = Vec::new();
        put_int(&mut body, -id);
        put_wire_type(&mut body, &make(id));
        put_message(out, &body);
        *slot = Some(id);
        id
    }

    /// net/rpc's request header: struct { ServiceMethod string; Seq uint64 }.
    fn request(&mut self, out: &mut Vec<u8>) -> i64 {
        Self::ensure(&mut self.next_id, &mut self.request, out, |id| {
            WireType::Struct {
                name: "Request".into(),
                id,
                fields: vec![("ServiceMethod".into(), T_STRING), ("Seq".into(), T_UINT)],
            }
        })
    }

    /// InvokeRequest { Payload []byte; Header map[string][]string }.
    fn invoke_request(&mut self, out: &mut Vec<u8>) -> i64 {
        if let Some(id) = self.invoke_request {
            return id;
        }
        // Inner types are defined before the struct that refers to them.
        let strings = Self::ensure(&mut self.next_id, &mut self.string_slice, out, |id| {
            WireType::Slice {
                name: "[]string".into(),
                id,
                elem: T_STRING,
            }
        });
        let header = Self::ensure(&mut self.next_id, &mut self.header, out, |id| {
            WireType::Map {
                name: "Header".into(),
                id,
                key: T_STRING,
                elem: strings,
            }
        });
        Self::ensure(&mut self.next_id, &mut self.invoke_request, out, |id| {
            WireType::Struct {
                name: "InvokeRequest".into(),
                id,
                fields: vec![("Payload".into(), T_BYTES), ("Header".into(), header)],
            }
        })
    }

    /// HealthCheckRequest {} (a struct without fields).
    fn health_request(&mut self, out: &mut Vec<u8>) -> i64 {
        Self::ensure(&mut self.next_id, &mut self.health_request, out, |id| {
            WireType::Struct {
                name: "HealthCheckRequest".into(),
                id,
                fields: vec![],
            }
        })
    }
}

/// A handshaken connection to a Go function's RPC server.
#[derive(Debug)]
pub struct GoRpc {
    stream: BufStream<TcpStream>,
    out_types: OutTypes,
    in_types: TypeTable,
    seq: u64,
    max_message: usize,
    state: State,
}

impl GoRpc {
    /// Connects to `addr` and performs the handshake.
    pub async fn connect(addr: impl ToSocketAddrs) -> Result<GoRpc, GoRpcError> {
        let stream = TcpStream::connect(addr).await?;
        GoRpc::handshake(stream).await
    }

    /// Connects and handshakes, retrying until the function answers or
    /// `timeout` has passed. Suitable as a readiness wait after starting the
    /// process: the Go SDK only accepts connections once the handler has been
    /// registered, so a successful handshake means the function can be
    /// invoked.
    pub async fn connect_with_retry(
        addr: &str,
        timeout: Duration,
        interval: Duration,
    ) -> Result<GoRpc, GoRpcError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let attempt = tokio::time::timeout_at(deadline, GoRpc::connect(addr)).await;
            let err = match attempt {
                Ok(Ok(rpc)) => return Ok(rpc),
                Ok(Err(e)) => e,
                Err(_) => GoRpcError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no Go RPC server at {addr} within {timeout:?}"),
                )),
            };
            // A peer that answered with something else is not going to
            // become a Go RPC server by waiting.
            if matches!(err, GoRpcError::Protocol(_))
                || tokio::time::Instant::now() + interval >= deadline
            {
                return Err(err);
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// Sends `CONNECT /_goRPC_ HTTP/1.0` on an already connected stream and
    /// checks for the `HTTP/1.0 200 Connected to Go RPC` answer.
    pub async fn handshake(stream: TcpStream) -> Result<GoRpc, GoRpcError> {
        // Calls are small request/response exchanges; do not let Nagle delay
        // them.
        let _ = stream.set_nodelay(true);
        let mut stream = BufStream::new(stream);
        stream.write_all(CONNECT_REQUEST).await?;
        stream.flush().await?;

        let mut limited = (&mut stream).take(MAX_HANDSHAKE_BYTES);
        let status = read_line(&mut limited).await?;
        let ok = status
            .split_once(' ')
            .is_some_and(|(proto, rest)| proto.starts_with("HTTP/") && rest == CONNECTED_STATUS);
        if !ok {
            let shown: String = status.chars().take(200).collect();
            return Err(GoRpcError::Protocol(format!(
                "unexpected answer to the RPC handshake: {shown:?}"
            )));
        }
        // Skip any header lines up to the blank line that ends the answer.
        while !read_line(&mut limited).await?.is_empty() {}

        Ok(GoRpc {
            stream,
            out_types: OutTypes::new(),
            in_types: TypeTable::new(),
            seq: 0,
            max_message: DEFAULT_MAX_MESSAGE_SIZE,
            state: State::Ready,
        })
    }

    /// Changes the largest incoming gob message accepted (default
    /// [`DEFAULT_MAX_MESSAGE_SIZE`]). A reply above the limit fails the call
    /// with [`GoRpcError::Protocol`] and leaves the connection unusable.
    pub fn set_max_message_size(&mut self, bytes: usize) {
        self.max_message = bytes;
    }

    /// Whether further calls can be made on this connection. It turns false
    /// after an I/O or protocol error, or when a call was abandoned midway
    /// (its future dropped, e.g. by a timeout).
    pub fn is_usable(&self) -> bool {
        self.state == State::Ready
    }

    /// Calls `Function.Invoke`.
    ///
    /// `header` becomes the request's `http.Header`; keys are converted to
    /// Go's canonical form (`x-cff-request-id` → `X-Cff-Request-Id`, as
    /// `http.Header.Get` expects) and repeated keys are merged. An empty
    /// `payload` is sent as `{}` (see [`EMPTY_PAYLOAD_SUBSTITUTE`]).
    ///
    /// Returns the reply, or [`GoRpcError::Remote`] with the error text the
    /// function side produced.
    pub async fn invoke(
        &mut self,
        payload: &[u8],
        header: &[(String, Vec<String>)],
    ) -> Result<InvokeReply, GoRpcError> {
        let payload = if payload.is_empty() {
            EMPTY_PAYLOAD_SUBSTITUTE
        } else {
            payload
        };
        let header = canonical_header(header);
        let reply = self
            .call(INVOKE_METHOD, |types, out| {
                let id = types.invoke_request(out);
                let mut body = Vec::new();
                put_int(&mut body, id);
                let mut s = StructWriter::new(&mut body);
                put_bytes(s.field(0), payload);
                if !header.is_empty() {
                    let map = s.field(1);
                    put_uint(map, header.len() as u64);
                    for (key, values) in &header {
                        put_bytes(map, key.as_bytes());
                        put_uint(map, values.len() as u64);
                        for v in values {
                            put_bytes(map, v.as_bytes());
                        }
                    }
                }
                s.finish();
                put_message(out, &body);
            })
            .await?;
        let status_code = match reply.field("StatusCode") {
            None => 0,
            Some(Scalar::Int(v)) => *v,
            Some(other) => return self.fail(format!("StatusCode has the wrong type: {other:?}")),
        };
        let payload = match reply.field("Payload") {
            None => Vec::new(),
            Some(Scalar::Bytes(b)) => b.clone(),
            Some(other) => return self.fail(format!("Payload has the wrong type: {other:?}")),
        };
        Ok(InvokeReply {
            status_code,
            payload,
        })
    }

    /// Calls `Function.HealthCheck`. Ok means the server process is alive and
    /// serving RPC on this connection.
    pub async fn health_check(&mut self) -> Result<(), GoRpcError> {
        self.call(HEALTH_CHECK_METHOD, |types, out| {
            let id = types.health_request(out);
            let mut body = Vec::new();
            put_int(&mut body, id);
            StructWriter::new(&mut body).finish();
            put_message(out, &body);
        })
        .await
        .map(|_| ())
    }

    /// Marks the connection broken and returns a protocol error.
    fn fail<T>(&mut self, msg: String) -> Result<T, GoRpcError> {
        self.state = State::Broken(msg.clone());
        Err(GoRpcError::Protocol(msg))
    }

    /// Runs one call: writes the header and the argument produced by
    /// `write_arg`, then reads the response header and the reply. Keeps the
    /// connection state up to date.
    async fn call(
        &mut self,
        method: &str,
        write_arg: impl FnOnce(&mut OutTypes, &mut Vec<u8>),
    ) -> Result<Value, GoRpcError> {
        match &self.state {
            State::Ready => {}
            State::InCall => {
                let msg = "an earlier call on this connection was abandoned midway".to_string();
                self.state = State::Broken(msg.clone());
                return Err(GoRpcError::Protocol(msg));
            }
            State::Broken(why) => {
                return Err(GoRpcError::Protocol(format!(
                    "connection unusable after an earlier failure: {why}"
                )))
            }
        }
        self.state = State::InCall;
        let result = self.exchange(method, write_arg).await;
        self.state = match &result {
            Ok(_) | Err(GoRpcError::Remote(_)) => State::Ready,
            Err(e) => State::Broken(e.to_string()),
        };
        result
    }

    async fn exchange(
        &mut self,
        method: &str,
        write_arg: impl FnOnce(&mut OutTypes, &mut Vec<u8>),
    ) -> Result<Value, GoRpcError> {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);

        let mut out = Vec::new();
        let request_id = self.out_types.request(&mut out);
        let mut body = Vec::new();
        put_int(&mut body, request_id);
        let mut s = StructWriter::new(&mut body);
        put_bytes(s.field(0), method.as_bytes());
        if seq != 0 {
            put_uint(s.field(1), seq);
        }
        s.finish();
        put_message(&mut out, &body);
        write_arg(&mut self.out_types, &mut out);
        self.stream.write_all(&out).await?;
        self.stream.flush().await?;

        let header = self.read_value().await?;
        let reply_seq = match header.field("Seq") {
            None => 0,
            Some(Scalar::Uint(v)) => *v,
            Some(other) => {
                return Err(GoRpcError::Protocol(format!(
                    "response Seq has the wrong type: {other:?}"
                )))
            }
        };
        let error = match header.field("Error") {
            None => String::new(),
            Some(Scalar::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(other) => {
                return Err(GoRpcError::Protocol(format!(
                    "response Error has the wrong type: {other:?}"
                )))
            }
        };
        if matches!(header, Value::Other) {
            return Err(GoRpcError::Protocol(
                "response header is not a struct".into(),
            ));
        }
        if reply_seq != seq {
            return Err(GoRpcError::Protocol(format!(
                "response to call {reply_seq} while waiting for call {seq}"
            )));
        }
        // The reply (or the placeholder sent with an error) always follows;
        // read it to keep the stream in step.
        let reply = self.read_value().await?;
        if !error.is_empty() {
            return Err(GoRpcError::Remote(error));
        }
        if matches!(reply, Value::Other) {
            return Err(GoRpcError::Protocol("reply is not a struct".into()));
        }
        Ok(reply)
    }

    /// Reads messages until one carries a value, recording type definitions
    /// on the way.
    async fn read_value(&mut self) -> Result<Value, GoRpcError> {
        loop {
            let msg = self.read_message().await?;
            if let Some(v) = self.in_types.message(&msg)? {
                return Ok(v);
            }
        }
    }

    /// Reads one length-prefixed gob message.
    async fn read_message(&mut self) -> Result<Vec<u8>, GoRpcError> {
        let first = self.stream.read_u8().await?;
        let len = if first < 0x80 {
            u64::from(first)
        } else {
            let n = usize::from(first.wrapping_neg());
            if n > 8 {
                return Err(GoRpcError::Protocol(format!(
                    "invalid gob message length prefix {first:#04x}"
                )));
            }
            let mut be = [0u8; 8];
            self.stream.read_exact(&mut be[8 - n..]).await?;
            u64::from_be_bytes(be)
        };
        if len == 0 {
            return Err(GoRpcError::Protocol("empty gob message".into()));
        }
        let len = match usize::try_from(len) {
            Ok(n) if n <= self.max_message => n,
            _ => {
                return Err(GoRpcError::Protocol(format!(
                    "gob message of {len} bytes exceeds the limit of {} bytes",
                    self.max_message
                )))
            }
        };
        let mut msg = vec![0u8; len];
        self.stream.read_exact(&mut msg).await?;
        Ok(msg)
    }
}

/// Reads one line of the handshake answer, without its line ending. EOF
/// before a newline is an error.
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> Result<String, GoRpcError> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).await?;
    if line.last() != Some(&b'\n') {
        return Err(if line.is_empty() {
            GoRpcError::Io(std::io::ErrorKind::UnexpectedEof.into())
        } else {
            GoRpcError::Protocol("handshake answer is cut short or too long".into())
        });
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Converts a header key to Go's canonical MIME form: the first letter and
/// every letter after a hyphen upper case, the rest lower case. Keys with
/// characters outside the HTTP token set are left alone, as Go does.
pub fn canonical_header_key(key: &str) -> String {
    let is_token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    if key.is_empty() || !key.bytes().all(is_token) {
        return key.to_string();
    }
    let mut upper = true;
    key.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// Canonicalises keys and merges repeated ones, keeping first-seen order.
fn canonical_header(header: &[(String, Vec<String>)]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::with_capacity(header.len());
    for (key, values) in header {
        let key = canonical_header_key(key);
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => existing.extend(values.iter().cloned()),
            None => out.push((key, values.clone())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_keys_are_canonicalised() {
        assert_eq!(canonical_header_key("x-cff-request-id"), "X-Cff-Request-Id");
        assert_eq!(
            canonical_header_key("X-CFF-Invoke-Type"),
            "X-Cff-Invoke-Type"
        );
        assert_eq!(canonical_header_key("content-type"), "Content-Type");
        assert_eq!(canonical_header_key("bad key"), "bad key");
        let merged = canonical_header(&[
            ("a-b".into(), vec!["1".into()]),
            ("A-B".into(), vec!["2".into()]),
            ("c".into(), vec![]),
        ]);
        assert_eq!(
            merged,
            vec![
                ("A-B".to_string(), vec!["1".to_string(), "2".to_string()]),
                ("C".into(), vec![])
            ]
        );
    }
}
