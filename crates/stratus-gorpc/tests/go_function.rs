//! End-to-end tests against real Go binaries built from the Go SDK module in
//! `runtimes/go`. Skipped (loudly) when no Go toolchain is installed.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use stratus_gorpc::{GoRpc, GoRpcError, InvokeReply};

/// The test function: one binary whose behaviour is picked by the payload.
const FUNCTION_MAIN: &str = r#"package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"huaweicloud.com/go-runtime/events/apig"
	"huaweicloud.com/go-runtime/events/timer"
	"huaweicloud.com/go-runtime/go-api/context"
	"huaweicloud.com/go-runtime/pkg/runtime"
)

type info struct {
	RequestID         string `json:"requestId"`
	FunctionName      string `json:"functionName"`
	Version           string `json:"version"`
	Package           string `json:"package"`
	ProjectID         string `json:"projectId"`
	Memory            int    `json:"memory"`
	CPU               int    `json:"cpu"`
	Timeout           int    `json:"timeout"`
	Remaining         int    `json:"remaining"`
	UserData          string `json:"userData"`
	UserDataNumber    string `json:"userDataNumber"`
	Missing           string `json:"missing"`
	Alias             string `json:"alias"`
	Token             string `json:"token"`
	AccessKey         string `json:"accessKey"`
	SecretKey         string `json:"secretKey"`
	SecurityAccessKey string `json:"securityAccessKey"`
	SecuritySecretKey string `json:"securitySecretKey"`
	SecurityToken     string `json:"securityToken"`
	EnvVar            string `json:"envVar"`
}

type command struct {
	Op          string `json:"op"`
	N           int    `json:"n"`
	HttpMethod  string `json:"httpMethod"`
	TriggerType string `json:"trigger_type"`
}

func Handler(payload []byte, ctx context.RuntimeContext) (interface{}, error) {
	var cmd command
	_ = json.Unmarshal(payload, &cmd)
	if cmd.HttpMethod != "" {
		var ev apig.APIGTriggerEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		body := fmt.Sprintf("%s %s id=%s q=%s ua=%s raw=%s stage=%s",
			ev.HttpMethod, ev.Path, ev.PathParameters["id"], ev.QueryStringParameters["q"],
			ev.Headers["user-agent"], ev.GetRawBody(), ev.RequestContext.Stage)
		return apig.APIGTriggerResponse{
			StatusCode: 201,
			Headers:    map[string]string{"Content-Type": "text/plain"},
			Body:       body,
		}, nil
	}
	if cmd.TriggerType == "TIMER" {
		var ev timer.TimerTriggerEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		return "timer " + ev.TriggerName + " " + ev.UserEvent, nil
	}
	switch cmd.Op {
	case "info":
		return info{
			RequestID:         ctx.GetRequestID(),
			FunctionName:      ctx.GetFunctionName(),
			Version:           ctx.GetVersion(),
			Package:           ctx.GetPackage(),
			ProjectID:         ctx.GetProjectID(),
			Memory:            ctx.GetMemorySize(),
			CPU:               ctx.GetCPUNumber(),
			Timeout:           ctx.GetRunningTimeInSeconds(),
			Remaining:         ctx.GetRemainingTimeInMilliSeconds(),
			UserData:          ctx.GetUserData("BUCKET"),
			UserDataNumber:    ctx.GetUserData("N"),
			Missing:           ctx.GetUserData("NOPE"),
			Alias:             ctx.GetAlias(),
			Token:             ctx.GetToken(),
			AccessKey:         ctx.GetAccessKey(),
			SecretKey:         ctx.GetSecretKey(),
			SecurityAccessKey: ctx.GetSecurityAccessKey(),
			SecuritySecretKey: ctx.GetSecuritySecretKey(),
			SecurityToken:     ctx.GetSecurityToken(),
			EnvVar:            os.Getenv("BUCKET"),
		}, nil
	case "string":
		return "plain text result", nil
	case "bytes":
		return []byte{0, 1, 2, 255}, nil
	case "nil":
		return nil, nil
	case "typednil":
		var p *info
		return p, nil
	case "error":
		return "ignored", errors.New("something went wrong")
	case "nilerror":
		return nil, errors.New("this text is lost")
	case "panic":
		panic("deliberate failure")
	case "index":
		var empty []int
		return empty[cmd.N], nil
	case "big":
		return strings.Repeat("x", cmd.N), nil
	case "log":
		ctx.GetLogger().Logf("hello from the logger %d", 42)
		ctx.GetLogger().Logf("first line\nsecond line")
		fmt.Println("plain stdout line")
		return "logged", nil
	case "sleep":
		time.Sleep(time.Duration(cmd.N) * time.Millisecond)
		return ctx.GetRequestID(), nil
	case "exit":
		os.Exit(3)
	}
	return "raw:" + string(payload), nil
}

func main() { runtime.Register(Handler) }
"#;

/// A program whose handler has the wrong signature.
const BAD_HANDLER_MAIN: &str = r#"package main

import "huaweicloud.com/go-runtime/pkg/runtime"

func main() { runtime.Register(func(s string) string { return s }) }
"#;

fn go_available() -> bool {
    let ok = Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        // Written straight to stderr so the test harness does not swallow it.
        let _ = std::io::stderr().write_all(
            b"\n==================================================\n\
              SKIP: go not installed; Go runtime tests not run\n\
              ==================================================\n",
        );
    }
    ok
}

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../runtimes/go")
        .canonicalize()
        .expect("runtimes/go exists")
}

/// Builds `main_go` against the SDK module in a fixed directory under the
/// cargo test temp dir (reused across runs, so nothing piles up) and returns
/// the binary path.
fn build(name: &str, main_go: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = root.join(format!("gorpc-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(dir.join("go.sum"));
    let go_mod = format!(
        "module example.com/{name}\n\ngo 1.19\n\nrequire huaweicloud.com/go-runtime v0.0.0\n\nreplace huaweicloud.com/go-runtime => {}\n",
        sdk_dir().display()
    );
    std::fs::write(dir.join("go.mod"), go_mod).unwrap();
    std::fs::write(dir.join("main.go"), main_go).unwrap();
    let mut cmd = Command::new("go");
    cmd.args(["build", "-o", "handler", "."])
        .current_dir(&dir)
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GO111MODULE", "on");
    if std::env::var_os("GOCACHE").is_none() && std::env::var_os("HOME").is_none() {
        cmd.env("GOCACHE", root.join("gocache"));
    }
    let out = cmd.output().expect("run go build");
    assert!(
        out.status.success(),
        "go build failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("handler")
}

/// The test function, built once per test process.
fn function_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| build("fn", FUNCTION_MAIN))
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// A running function process; killed when dropped.
struct Instance {
    child: Child,
    addr: String,
    stdout: Arc<Mutex<Vec<u8>>>,
}

impl Instance {
    fn start(bin: &Path, extra_env: &[(&str, &str)]) -> Instance {
        let addr = free_addr();
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("RUNTIME_API_ADDR", &addr)
            .env("RUNTIME_PROJECT_ID", "proj-123")
            .env("RUNTIME_FUNC_NAME", "demo")
            .env("RUNTIME_FUNC_VERSION", "latest")
            .env("RUNTIME_PACKAGE", "default")
            .env("RUNTIME_HANDLER", "handler")
            .env("RUNTIME_TIMEOUT", "30")
            .env("RUNTIME_MEMORY", "256")
            .env("RUNTIME_CPU", "400")
            .env("RUNTIME_USERDATA", r#"{"BUCKET":"my-bucket","N":5}"#)
            .env("RUNTIME_MAX_RESP_BODY_SIZE", "6291456")
            .env("BUCKET", "my-bucket")
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start function");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stdout.take().unwrap();
        let sink = stdout.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Instance {
            child,
            addr,
            stdout,
        }
    }

    async fn connect(&self) -> GoRpc {
        GoRpc::connect_with_retry(
            &self.addr,
            Duration::from_secs(20),
            Duration::from_millis(20),
        )
        .await
        .expect("function becomes ready")
    }

    /// Waits until stdout contains `needle`, returning everything written.
    fn wait_stdout(&self, needle: &[u8]) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let out = self.stdout.lock().unwrap().clone();
            if out.windows(needle.len()).any(|w| w == needle) || Instant::now() > deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hdr(pairs: &[(&str, &str)]) -> Vec<(String, Vec<String>)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
        .collect()
}

fn ok_json(reply: InvokeReply) -> Value {
    assert_eq!(reply.status_code, 200);
    serde_json::from_slice(&reply.payload).expect("JSON result")
}

fn remote_json(err: GoRpcError) -> Value {
    match err {
        GoRpcError::Remote(text) => {
            // The SDK indents with four spaces.
            assert!(text.contains("\n    \""), "not indented: {text}");
            serde_json::from_str(&text).expect("error text is JSON")
        }
        other => panic!("expected a remote error, got {other:?}"),
    }
}

#[tokio::test]
async fn many_invocations_on_one_connection() {
    if !go_available() {
        return;
    }
    let inst = Instance::start(function_binary(), &[]);
    let mut rpc = inst.connect().await;

    // Struct result, context from env and headers. Header keys are sent in
    // arbitrary case and must still be found.
    let reply = rpc
        .invoke(
            br#"{"op":"info"}"#,
            &hdr(&[
                ("x-cff-request-id", "req-0001"),
                ("X-CFF-Invoke-Type", "sync"),
                ("X-CFF-Auth-Token", "tok"),
                ("X-CFF-Access-Key", "ak"),
                ("X-CFF-Secret-Key", "sk"),
                ("X-CFF-Security-Access-Key", "sak"),
                ("X-CFF-Security-Secret-Key", "ssk"),
                ("X-CFF-Security-Token", "st"),
                ("X-Cff-Origin-Version-Tag", "!prod"),
            ]),
        )
        .await
        .unwrap();
    let v = ok_json(reply);
    assert_eq!(v["requestId"], "req-0001");
    assert_eq!(v["functionName"], "demo");
    assert_eq!(v["version"], "latest");
    assert_eq!(v["package"], "default");
    assert_eq!(v["projectId"], "proj-123");
    assert_eq!(v["memory"], 256);
    assert_eq!(v["cpu"], 400);
    assert_eq!(v["timeout"], 30);
    let remaining = v["remaining"].as_i64().unwrap();
    assert!(
        (25_000..=30_000).contains(&remaining),
        "remaining {remaining}"
    );
    assert_eq!(v["userData"], "my-bucket");
    assert_eq!(v["userDataNumber"], "5");
    assert_eq!(v["missing"], "");
    assert_eq!(v["alias"], "prod");
    assert_eq!(v["token"], "tok");
    assert_eq!(v["accessKey"], "ak");
    assert_eq!(v["secretKey"], "sk");
    assert_eq!(v["securityAccessKey"], "sak");
    assert_eq!(v["securitySecretKey"], "ssk");
    assert_eq!(v["securityToken"], "st");
    assert_eq!(v["envVar"], "my-bucket");

    // String and byte results are sent unchanged.
    let reply = rpc.invoke(br#"{"op":"string"}"#, &hdr(&[])).await.unwrap();
    assert_eq!(
        reply,
        InvokeReply {
            status_code: 200,
            payload: b"plain text result".to_vec()
        }
    );
    let reply = rpc.invoke(br#"{"op":"bytes"}"#, &[]).await.unwrap();
    assert_eq!(reply.payload, vec![0, 1, 2, 255]);

    // A nil result is a failure, as with FunctionGraph's SDK; so is
    // (nil, err), whose error text is lost.
    for op in ["nil", "nilerror"] {
        let err = rpc
            .invoke(format!(r#"{{"op":"{op}"}}"#).as_bytes(), &[])
            .await
            .unwrap_err();
        let e = remote_json(err);
        assert_eq!(e["errorType"], "FunctionReturnError");
        assert_eq!(e["errorMessage"], "response is empty");
    }
    // A typed nil pointer is a value: JSON null.
    let reply = rpc.invoke(br#"{"op":"typednil"}"#, &[]).await.unwrap();
    assert_eq!(reply.payload, b"null");

    // A returned error.
    let err = rpc.invoke(br#"{"op":"error"}"#, &[]).await.unwrap_err();
    let e = remote_json(err);
    assert_eq!(e["errorType"], "FunctionReturnError");
    assert_eq!(e["errorMessage"], "something went wrong");
    assert!(e.get("stackTrace").is_none());

    // Panics, with the user frames in the stack trace.
    let err = rpc.invoke(br#"{"op":"panic"}"#, &[]).await.unwrap_err();
    let e = remote_json(err);
    assert_eq!(e["errorType"], "panic");
    assert_eq!(e["errorMessage"], "deliberate failure");
    let stack: Vec<&str> = e["stackTrace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(stack.first(), Some(&"main.Handler()"), "{stack:?}");
    assert!(stack[1].starts_with("    main.go:"), "{stack:?}");
    let err = rpc
        .invoke(br#"{"op":"index","n":5}"#, &[])
        .await
        .unwrap_err();
    let e = remote_json(err);
    assert_eq!(e["errorType"], "panic");
    assert!(
        e["errorMessage"]
            .as_str()
            .unwrap()
            .contains("index out of range [5] with length 0"),
        "{e}"
    );

    // The connection survives failures.
    let reply = rpc.invoke(br#"{"op":"string"}"#, &[]).await.unwrap();
    assert_eq!(reply.payload, b"plain text result");
    assert!(rpc.is_usable());

    // Asynchronous calls always get an empty payload.
    let reply = rpc
        .invoke(
            br#"{"op":"string"}"#,
            &hdr(&[("X-Cff-Invoke-Type", "async")]),
        )
        .await
        .unwrap();
    assert_eq!(
        reply,
        InvokeReply {
            status_code: 200,
            payload: vec![]
        }
    );

    // An empty event goes out as "{}".
    let reply = rpc.invoke(b"", &[]).await.unwrap();
    assert_eq!(reply.payload, b"raw:{}");

    // Non-JSON events are passed through as bytes.
    let reply = rpc.invoke(b"not json \x00\x01", &[]).await.unwrap();
    assert_eq!(reply.payload, b"raw:not json \x00\x01");

    // Large payloads in both directions (4 MiB out, 5 MiB back).
    let big = vec![b'a'; 4 << 20];
    let reply = rpc.invoke(&big, &[]).await.unwrap();
    assert_eq!(reply.payload.len(), big.len() + 4);
    let reply = rpc
        .invoke(format!(r#"{{"op":"big","n":{}}}"#, 5 << 20).as_bytes(), &[])
        .await
        .unwrap();
    assert_eq!(reply.payload.len(), 5 << 20);

    // APIG event in, APIG response out.
    let apig_event = serde_json::json!({
        "httpMethod": "POST",
        "path": "/items/42",
        "headers": {"user-agent": "curl/8.0.1", "content-type": "application/json"},
        "queryStringParameters": {"q": "term"},
        "pathParameters": {"id": "42"},
        "body": "eyJtZXNzYWdlIjogImhlbGxvIn0=",
        "isBase64Encoded": true,
        "requestContext": {"apiId": "api-1", "requestId": "r-1", "stage": "RELEASE", "sourceIp": "198.51.100.7"},
        "user_data": ""
    });
    let reply = rpc
        .invoke(
            apig_event.to_string().as_bytes(),
            &hdr(&[("X-Cff-Request-Id", "apig-1")]),
        )
        .await
        .unwrap();
    let v = ok_json(reply);
    assert_eq!(v["statusCode"], 201);
    assert_eq!(v["isBase64Encoded"], false);
    assert_eq!(v["headers"]["Content-Type"], "text/plain");
    assert_eq!(
        v["body"],
        r#"POST /items/42 id=42 q=term ua=curl/8.0.1 raw={"message": "hello"} stage=RELEASE"#
    );

    // Timer event.
    let timer_event = serde_json::json!({
        "version": "v1.0", "time": "2024-06-01T08:30:00+08:00", "trigger_type": "TIMER",
        "trigger_name": "Timer_001", "user_event": "nightly run"
    });
    let reply = rpc
        .invoke(timer_event.to_string().as_bytes(), &[])
        .await
        .unwrap();
    assert_eq!(reply.payload, b"timer Timer_001 nightly run");

    // Health check on the same connection.
    rpc.health_check().await.unwrap();
    rpc.health_check().await.unwrap();
    let reply = rpc
        .invoke(br#"{"op":"info"}"#, &hdr(&[("X-Cff-Request-Id", "last")]))
        .await
        .unwrap();
    assert_eq!(ok_json(reply)["requestId"], "last");
}

#[tokio::test]
async fn deadline_header_and_response_limit() {
    if !go_available() {
        return;
    }
    let inst = Instance::start(function_binary(), &[("RUNTIME_MAX_RESP_BODY_SIZE", "1000")]);
    let mut rpc = inst.connect().await;

    // X-Cff-Deadline-Ms overrides start + RUNTIME_TIMEOUT.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let deadline = (now_ms + 5_000).to_string();
    let reply = rpc
        .invoke(
            br#"{"op":"info"}"#,
            &hdr(&[("X-Cff-Deadline-Ms", &deadline)]),
        )
        .await
        .unwrap();
    let remaining = ok_json(reply)["remaining"].as_i64().unwrap();
    assert!(
        (3_000..=5_000).contains(&remaining),
        "remaining {remaining}"
    );
    // A deadline in the past clamps at 0.
    let reply = rpc
        .invoke(br#"{"op":"info"}"#, &hdr(&[("X-Cff-Deadline-Ms", "1000")]))
        .await
        .unwrap();
    assert_eq!(ok_json(reply)["remaining"], 0);

    let reply = rpc.invoke(br#"{"op":"big","n":1000}"#, &[]).await.unwrap();
    assert_eq!(reply.payload.len(), 1000);
    let err = rpc
        .invoke(br#"{"op":"big","n":1001}"#, &[])
        .await
        .unwrap_err();
    let e = remote_json(err);
    assert_eq!(e["errorType"], "FunctionResponseTooLarge");
    assert_eq!(
        e["errorMessage"],
        "Response body size '1001' larger than max value '1000'."
    );

    // A small client-side message limit turns an oversized reply into a
    // protocol error and retires the connection.
    rpc.set_max_message_size(500);
    let err = rpc
        .invoke(br#"{"op":"big","n":900}"#, &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GoRpcError::Protocol(_)), "{err:?}");
    assert!(!rpc.is_usable());
    let err = rpc.invoke(br#"{"op":"string"}"#, &[]).await.unwrap_err();
    assert!(matches!(err, GoRpcError::Protocol(_)), "{err:?}");

    // A new connection works.
    let mut rpc = inst.connect().await;
    rpc.invoke(br#"{"op":"string"}"#, &[]).await.unwrap();
}

#[tokio::test]
async fn logger_lines_are_tagged_with_the_request() {
    if !go_available() {
        return;
    }
    let inst = Instance::start(function_binary(), &[]);
    let mut rpc = inst.connect().await;
    let reply = rpc
        .invoke(
            br#"{"op":"log"}"#,
            &hdr(&[("X-Cff-Request-Id", "rid-log-7")]),
        )
        .await
        .unwrap();
    assert_eq!(reply.payload, b"logged");

    let out = inst.wait_stdout(b"second line\n");
    let text = String::from_utf8_lossy(&out).into_owned();
    let tag = "\u{1e}rid-log-7\u{1f}";
    let lines: Vec<&str> = text.lines().collect();
    let first = lines
        .iter()
        .find(|l| l.contains("hello from the logger 42"))
        .unwrap_or_else(|| panic!("no logger line in {text:?}"));
    let rest = first
        .strip_prefix(tag)
        .unwrap_or_else(|| panic!("untagged: {first:?}"));
    // "2024-06-01T08:30:00.123Z rid-log-7 hello from the logger 42"
    let (stamp, msg) = rest.split_once(' ').unwrap();
    assert_eq!(msg, "rid-log-7 hello from the logger 42");
    assert_eq!(stamp.len(), 24, "{stamp}");
    let shape: String = stamp
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    assert_eq!(shape, "dddd-dd-ddTdd:dd:dd.dddZ");

    // Both lines of a multi-line entry carry the tag.
    let i = lines
        .iter()
        .position(|l| l.ends_with("rid-log-7 first line"))
        .unwrap();
    assert!(lines[i].starts_with(tag));
    assert_eq!(lines[i + 1], format!("{tag}second line"));

    // Plain prints are left alone (the platform attributes them itself).
    assert!(lines.contains(&"plain stdout line"), "{text:?}");
}

#[tokio::test]
async fn concurrent_connections_run_in_parallel() {
    if !go_available() {
        return;
    }
    let inst = Instance::start(function_binary(), &[]);
    let mut a = inst.connect().await;
    let mut b = inst.connect().await;
    let (ha, hb) = (
        hdr(&[("X-Cff-Request-Id", "A")]),
        hdr(&[("X-Cff-Request-Id", "B")]),
    );
    let started = Instant::now();
    let (ra, rb) = tokio::join!(
        a.invoke(br#"{"op":"sleep","n":800}"#, &ha),
        b.invoke(br#"{"op":"sleep","n":800}"#, &hb),
    );
    let elapsed = started.elapsed();
    assert_eq!(ra.unwrap().payload, b"A");
    assert_eq!(rb.unwrap().payload, b"B");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
}

#[tokio::test]
async fn abandoned_call_retires_the_connection() {
    if !go_available() {
        return;
    }
    let inst = Instance::start(function_binary(), &[]);
    let mut rpc = inst.connect().await;
    let r = tokio::time::timeout(
        Duration::from_millis(100),
        rpc.invoke(br#"{"op":"sleep","n":500}"#, &[]),
    )
    .await;
    assert!(r.is_err(), "should have timed out");
    assert!(!rpc.is_usable());
    let err = rpc.invoke(br#"{"op":"string"}"#, &[]).await.unwrap_err();
    assert!(matches!(err, GoRpcError::Protocol(_)), "{err:?}");
}

#[tokio::test]
async fn process_exit_during_a_call_is_an_io_error() {
    if !go_available() {
        return;
    }
    let mut inst = Instance::start(function_binary(), &[]);
    let mut rpc = inst.connect().await;
    let err = rpc.invoke(br#"{"op":"exit"}"#, &[]).await.unwrap_err();
    match &err {
        GoRpcError::Io(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    let status = inst.child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
}

#[tokio::test]
async fn bad_handler_signature_stops_the_process() {
    if !go_available() {
        return;
    }
    let bin = build("badhandler", BAD_HANDLER_MAIN);
    let out = Command::new(&bin)
        .env_clear()
        .env("RUNTIME_API_ADDR", free_addr())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("runtime.Register: handler has type func(string) string"),
        "{stderr}"
    );
}

#[tokio::test]
async fn readiness_wait_gives_up_without_a_server() {
    // No Go needed: nothing listens on this address.
    let addr = free_addr();
    let started = Instant::now();
    let err =
        GoRpc::connect_with_retry(&addr, Duration::from_millis(300), Duration::from_millis(20))
            .await
            .unwrap_err();
    assert!(matches!(err, GoRpcError::Io(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}
