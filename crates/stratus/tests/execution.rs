//! End-to-end tests of function execution against the compiled binary: the guide's
//! samples, the context object, initializers, error shapes, crashes, timeouts, custom
//! runtimes (bash and Go), multi-concurrency, throttling, idle reaping, payload limits,
//! the official Python SDK, hostile handlers and logs.
//!
//! Every test starts its own server. Nothing waits with a fixed sleep for an event of the
//! platform; `wait_until` polls with a deadline instead.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use stratus_api_types::{FuncCode, FunctionBody, FunctionConfig, InvokeResponseV1, StrategyConfig};
use stratus_client::{Answer, Client, ClientError, InvokeOptions};

const WITH_LOG: InvokeOptions = InvokeOptions {
    log: true,
    memory: None,
};

// ------------------------------------------------------------------------------------
// Helpers

/// A create body like `common::create` (10 s, 128 MB) from an already built zip.
fn body_from_zip(name: &str, runtime: &str, handler: &str, zip: &[u8]) -> FunctionBody {
    FunctionBody {
        func_name: Some(name.into()),
        package: Some("default".into()),
        runtime: Some(runtime.into()),
        handler: Some(handler.into()),
        memory_size: Some(128),
        timeout: Some(10),
        code_type: Some("zip".into()),
        code_filename: Some("index.zip".into()),
        func_code: Some(FuncCode {
            file: Some(b64(zip)),
            link: None,
        }),
        ..Default::default()
    }
}

/// Creates a function from files after letting `tweak` adjust the body.
fn create_with(
    c: &Client,
    name: &str,
    runtime: &str,
    handler: &str,
    files: &[(&str, &str, u32)],
    tweak: impl FnOnce(&mut FunctionBody),
) -> FunctionConfig {
    let mut body = body_from_zip(name, runtime, handler, &zip(files));
    tweak(&mut body);
    c.create_function(&body, |_, _| {}).unwrap()
}

/// Longest an invocation may take before the test calls it hung (the client itself
/// would wait 15 minutes).
const CALL_DEADLINE: Duration = Duration::from_secs(25);

/// Invokes with the log tail on a helper thread; panics when no answer comes within
/// `CALL_DEADLINE`, so a hung platform fails the test instead of stalling the run.
fn invoke(c: &Client, name: &str, event: &[u8]) -> Outcome {
    let client = Client::new(c.credentials().clone());
    let (target, event) = (name.to_string(), event.to_vec());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(client.invoke(&target, &event, &WITH_LOG));
    });
    rx.recv_timeout(CALL_DEADLINE)
        .unwrap_or_else(|_| panic!("invoking {name} got no answer within {CALL_DEADLINE:?}"))
}

/// Invokes with the log tail; panics on an API error.
fn call(c: &Client, name: &str, event: &Value) -> (InvokeResponseV1, Answer) {
    match invoke(c, name, event.to_string().as_bytes()) {
        Ok(r) => r,
        Err(e) => panic!("invoking {name} with {event} failed: {e}"),
    }
}

/// The result string of a v1 envelope parsed as JSON.
fn result_json(r: &InvokeResponseV1) -> Value {
    serde_json::from_str(&r.result)
        .unwrap_or_else(|e| panic!("result is not JSON ({e}): {:?}", r.result))
}

fn header<'a>(a: &'a Answer, name: &str) -> &'a str {
    a.header(name)
        .unwrap_or_else(|| panic!("missing header {name}; headers: {:?}", a.headers))
}

/// Asserts the invocation was a function error and returns the parsed error JSON.
fn function_error(r: &InvokeResponseV1, a: &Answer) -> Value {
    assert_eq!(
        header(a, "x-is-func-err"),
        "true",
        "expected a function error: {r:?}"
    );
    assert_ne!(header(a, "x-func-err-code"), "0", "{r:?}");
    assert_ne!(r.status, 200, "{r:?}");
    assert_eq!(header(a, "x-cff-request-id"), r.request_id);
    result_json(r)
}

/// Asserts a successful invocation.
fn assert_ok(r: &InvokeResponseV1, a: &Answer) {
    assert_eq!(
        a.header("x-is-func-err"),
        Some("false"),
        "expected success: {r:?}"
    );
    assert_eq!(a.header("x-func-err-code"), Some("0"), "{r:?}");
    assert_eq!(r.status, 200, "{r:?}");
}

/// The API error of a call that should have been refused.
fn api_err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api { status, code, msg }) => (status, code, msg),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// `GET /healthz` answers `ok`.
fn healthy(s: &Server) -> bool {
    let (status, body) = raw_http(
        &s.endpoint,
        "GET /healthz HTTP/1.1\r\nHost: stratus\r\nConnection: close\r\n\r\n",
    );
    status == 200 && body.trim() == "ok"
}

/// Host pids of the processes whose environment holds `marker` (a user variable of one
/// function). Works for every sandbox: instances in their own PID namespace report
/// namespace pids from inside, so the host side is found through /proc instead.
fn host_pids_with(marker: &str) -> Vec<u64> {
    let needle = marker.as_bytes();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u64>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.windows(needle.len()).any(|w| w == needle))
        })
        .collect()
}

/// The stored log lines of one request.
fn stored_lines(c: &Client, name: &str, request_id: &str) -> Vec<String> {
    c.logs(
        name,
        &[
            ("request_id", request_id.to_string()),
            ("limit", "10000".to_string()),
        ],
    )
    .unwrap()
    .logs
    .into_iter()
    .map(|l| l.message)
    .collect()
}

/// Waits until the stored log of a request has its Finish line (logs are written
/// asynchronously) and returns the lines.
fn finished_lines(c: &Client, name: &str, request_id: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let done = wait_until(Duration::from_secs(10), || {
        lines = stored_lines(c, name, request_id);
        lines.iter().any(|l| l.contains("Finish invoke request"))
    });
    assert!(done, "no Finish line stored for {request_id}: {lines:?}");
    lines
}

/// A marker unique to this test run, set as a user variable by `with_marker`.
fn new_marker(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("STRATUS_TEST_MARKER={name}-{}-{nanos}", std::process::id())
}

/// Sets `marker` (`KEY=value`) as the function's only user variable.
fn with_marker(b: &mut FunctionBody, marker: &str) {
    let (k, v) = marker.split_once('=').unwrap();
    b.user_data = Some(json!({ k: v }).to_string());
}

/// The random token a handler's process picked when it loaded: one per instance (pids
/// are no good for that, instances may live in PID namespaces of their own).
fn instance_of(v: &Value) -> String {
    v["instance"]
        .as_str()
        .unwrap_or_else(|| panic!("no instance token in {v}"))
        .to_string()
}

fn is_timestamp(s: &str) -> bool {
    // 2024-06-01T11:43:57Z
    let b = s.as_bytes();
    b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && s.chars().filter(char::is_ascii_digit).count() == 14
}

/// The checks every successful v1 invocation with a log tail must pass.
fn check_envelope(r: &InvokeResponseV1, a: &Answer) {
    assert_ok(r, a);
    assert_eq!(
        r.request_id.len(),
        36,
        "request id should be a UUID: {:?}",
        r.request_id
    );
    assert_eq!(header(a, "x-cff-request-id"), r.request_id);
    assert_eq!(header(a, "x-cff-response-version"), "v1");

    let summary: Value = serde_json::from_str(header(a, "x-cff-invoke-summary")).unwrap();
    let duration = summary["duration"]
        .as_f64()
        .unwrap_or_else(|| panic!("duration in {summary}"));
    let billed = summary["billingDuration"]
        .as_u64()
        .unwrap_or_else(|| panic!("billingDuration in {summary}"));
    assert!(duration >= 0.0, "{summary}");
    assert!(
        billed >= 1 && (billed as f64) >= duration - 0.001 && (billed as f64) < duration + 1.001,
        "{summary}"
    );
    assert_eq!(summary["memorySize"], json!(128), "{summary}");
    let used = summary["memoryUsed"]
        .as_f64()
        .unwrap_or_else(|| panic!("memoryUsed in {summary}"));
    assert!(used > 0.0 && used < 128.0, "{summary}");
    assert_eq!(header(a, "x-cff-billing-duration"), billed.to_string());

    let id = &r.request_id;
    let log = &r.log;
    let first = log.lines().next().unwrap_or_default();
    assert!(
        first.ends_with(&format!(" Start invoke request '{id}', version: latest")),
        "{log}"
    );
    assert!(is_timestamp(first.split(' ').next().unwrap()), "{log}");
    let finish = log.lines().last().unwrap_or_default();
    assert!(
        finish.contains(&format!(" Finish invoke request '{id}', duration: ")),
        "{log}"
    );
    assert!(
        finish.contains("ms, billing duration: ") && finish.contains("MB, billing memory: 128MB"),
        "{log}"
    );
    assert!(
        finish.contains(&format!("billing duration: {billed}ms")),
        "{log}"
    );

    use base64::Engine as _;
    let tail = base64::engine::general_purpose::STANDARD
        .decode(header(a, "x-cff-function-log"))
        .unwrap();
    assert_eq!(String::from_utf8(tail).unwrap(), *log);
}

/// What one invocation gave: the envelope and raw answer, or the API error.
type Outcome = Result<(InvokeResponseV1, Answer), ClientError>;

/// Runs `n` invocations at once; returns each outcome with its wall time.
fn call_concurrently(s: &Server, name: &str, events: Vec<Value>) -> Vec<(Outcome, Duration)> {
    let barrier = std::sync::Barrier::new(events.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = events
            .into_iter()
            .map(|event| {
                let barrier = &barrier;
                let c = s.client();
                scope.spawn(move || {
                    barrier.wait();
                    let t = Instant::now();
                    let r = invoke(&c, name, event.to_string().as_bytes());
                    (r, t.elapsed())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

// ------------------------------------------------------------------------------------
// 1. The guide's HelloWorld and an APIG-style Python handler

/// The Node.js HelloWorld of guide section 2.2, as printed there (without the PDF's
/// trailing blanks).
const NODE_HELLO: &str = "exports.handler = function (event, context, callback) {
  const error = null;
  const output = `Hello message: ${JSON.stringify(event)}`;
  callback(error, output);
}
";

const NODE_CONSOLE: &str = "exports.handler = async (event) => {
  console.log('console says hello to %s', event.hello);
  console.error('and writes to stderr too');
  return 'logged';
};
";

const PY_APIG: &str = r#"import json

def handler(event, context):
    print("apig handler got key=%s" % event.get("key"))
    return {
        "statusCode": 200,
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"key": event.get("key"), "echo": True}),
    }
"#;

#[test]
fn hello_world_node_and_apig_python() {
    let s = Server::start(&[]);
    let c = s.client();

    create(
        &c,
        "HelloWorld",
        "Node.js18.15",
        "index.handler",
        &[("index.js", NODE_HELLO, 0o644)],
    );
    let (r, a) = call(&c, "HelloWorld", &json!({"hello": "function"}));
    check_envelope(&r, &a);
    assert_eq!(r.result, r#"Hello message: {"hello":"function"}"#);
    // A warm call gives the same answer with a new request id.
    let (r2, a2) = call(&c, "HelloWorld", &json!({"hello": "again"}));
    check_envelope(&r2, &a2);
    assert_eq!(r2.result, r#"Hello message: {"hello":"again"}"#);
    assert_ne!(r2.request_id, r.request_id);

    create(
        &c,
        "node-console",
        "Node.js18.15",
        "index.handler",
        &[("index.js", NODE_CONSOLE, 0o644)],
    );
    let (r, a) = call(&c, "node-console", &json!({"hello": "stratus"}));
    check_envelope(&r, &a);
    assert_eq!(r.result, "logged");
    assert!(
        r.log.contains("\nconsole says hello to stratus\n"),
        "{}",
        r.log
    );
    assert!(r.log.contains("\nand writes to stderr too\n"), "{}", r.log);

    create(
        &c,
        "apig-py",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_APIG, 0o644)],
    );
    let (r, a) = call(&c, "apig-py", &json!({"key": "value"}));
    check_envelope(&r, &a);
    let out = result_json(&r);
    assert_eq!(out["statusCode"], json!(200));
    assert_eq!(out["isBase64Encoded"], json!(false));
    assert_eq!(out["headers"]["Content-Type"], json!("application/json"));
    let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"key": "value", "echo": true}));
    // Python's json.dumps layout is kept as the result text.
    assert!(
        r.result.starts_with(r#"{"statusCode": 200, "#),
        "{}",
        r.result
    );
    assert!(
        r.log.contains("\napig handler got key=value\n"),
        "{}",
        r.log
    );
}

// ------------------------------------------------------------------------------------
// 2. The context object

const PY_CONTEXT: &str = r#"import os

def handler(event, context):
    context.getLogger().info("context logger says %s", "hello")
    return {
        "requestId": context.getRequestID(),
        "remaining": context.getRemainingTimeInMilliSeconds(),
        "color": context.getUserData("COLOR"),
        "missing": context.getUserData("NOT_SET"),
        "envColor": os.environ.get("COLOR"),
        "functionName": context.getFunctionName(),
        "version": context.getVersion(),
        "package": context.getPackage(),
        "projectId": context.getProjectID(),
        "memory": context.getMemorySize(),
        "cpu": context.getCPUNumber(),
        "runningTime": context.getRunningTimeInSeconds(),
        "alias": context.getAlias(),
        "accessKey": context.getAccessKey(),
        "secretKey": context.getSecretKey(),
        "securityAccessKey": context.getSecurityAccessKey(),
        "securitySecretKey": context.getSecuritySecretKey(),
        "securityToken": context.getSecurityToken(),
        "token": context.getToken(),
    }
"#;

const NODE_CONTEXT: &str = r#"exports.handler = async (event, context) => {
  context.getLogger().info('context logger says %s', 'hello');
  const missing = context.getUserData('NOT_SET');
  return {
    requestId: context.getRequestID(),
    remaining: context.getRemainingTimeInMilliSeconds(),
    color: context.getUserData('COLOR'),
    missing: missing === undefined ? null : missing,
    envColor: process.env.COLOR,
    functionName: context.getFunctionName(),
    version: context.getVersion(),
    package: context.getPackage(),
    projectId: context.getProjectID(),
    memory: context.getMemorySize(),
    cpu: context.getCPUNumber(),
    runningTime: context.getRunningTimeInSeconds(),
    alias: context.getAlias(),
    accessKey: context.getAccessKey(),
    secretKey: context.getSecretKey(),
    securityAccessKey: context.getSecurityAccessKey(),
    securitySecretKey: context.getSecuritySecretKey(),
    securityToken: context.getSecurityToken(),
    token: context.getToken(),
  };
};
"#;

fn check_context(c: &Client, name: &str) {
    let (r, a) = call(c, name, &json!({}));
    assert_ok(&r, &a);
    let v = result_json(&r);
    let id = r.request_id.as_str();
    assert_eq!(v["requestId"], json!(id), "{v}");
    let remaining = v["remaining"]
        .as_i64()
        .unwrap_or_else(|| panic!("remaining in {v}"));
    assert!(
        remaining > 0 && remaining <= 10_000,
        "remaining time {remaining} ms, timeout is 10 s"
    );
    assert_eq!(v["color"], json!("blue"), "{v}");
    assert_eq!(v["missing"], Value::Null, "{v}");
    assert_eq!(
        v["envColor"],
        json!("blue"),
        "user variables are plain env vars too: {v}"
    );
    assert_eq!(v["functionName"], json!(name), "{v}");
    assert_eq!(v["version"], json!("latest"), "{v}");
    assert_eq!(v["package"], json!("default"), "{v}");
    assert_eq!(v["projectId"], json!(PROJECT), "{v}");
    assert_eq!(v["memory"], json!(128), "{v}");
    assert_eq!(v["cpu"], json!(300), "{v}");
    assert_eq!(v["runningTime"], json!(10), "{v}");
    assert_eq!(v["alias"], json!(""), "{v}");
    for k in [
        "accessKey",
        "secretKey",
        "securityAccessKey",
        "securitySecretKey",
        "securityToken",
        "token",
    ] {
        assert_eq!(v[k], json!(""), "{k} without an agency: {v}");
    }
    // The context logger: `<ISO-8601 ms>Z <request id> INFO <message>`, filed under the request.
    let line = r
        .log
        .lines()
        .find(|l| l.contains("context logger says hello"))
        .unwrap_or_else(|| panic!("logger line missing: {}", r.log));
    let (stamp, rest) = line.split_once(' ').unwrap();
    assert_eq!(
        rest,
        format!("{id} INFO context logger says hello"),
        "{line}"
    );
    assert!(
        stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[19] == b'.',
        "{line}"
    );
}

#[test]
fn context_methods_python_and_node() {
    let s = Server::start(&[]);
    let c = s.client();
    let env = |b: &mut FunctionBody| b.user_data = Some(r#"{"COLOR":"blue"}"#.into());
    create_with(
        &c,
        "ctx-py",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_CONTEXT, 0o644)],
        env,
    );
    create_with(
        &c,
        "ctx-node",
        "Node.js18.15",
        "index.handler",
        &[("index.js", NODE_CONTEXT, 0o644)],
        env,
    );
    check_context(&c, "ctx-py");
    check_context(&c, "ctx-node");
}

// ------------------------------------------------------------------------------------
// 3. Initializers

const PY_INIT: &str = r#"import os

INSTANCE = os.urandom(8).hex()

INIT_CALLS = 0
MARKER = os.path.join(os.environ.get("TMPDIR") or "/tmp", "initialized.txt")

def init(context):
    global INIT_CALLS
    INIT_CALLS += 1
    with open(MARKER, "a") as f:
        f.write("init\n")
    print("initializer ran")

def handler(event, context):
    with open(MARKER) as f:
        runs = f.read().count("init")
    return {"initCalls": INIT_CALLS, "markerLines": runs, "instance": INSTANCE}
"#;

const NODE_INIT: &str = r#"const instance = require('crypto').randomBytes(8).toString('hex');
let initCalls = 0;
exports.init = function (context, callback) {
  initCalls += 1;
  callback(null, '');
};
exports.handler = async () => ({ initCalls, instance });
"#;

const PY_INIT_FAILS: &str = r#"def init(context):
    print("connecting to the database")
    raise ValueError("database unreachable")

def handler(event, context):
    return "never"
"#;

#[test]
fn initializer_runs_once_per_instance() {
    let s = Server::start(&[]);
    let c = s.client();
    let init = |b: &mut FunctionBody| {
        b.initializer_handler = Some("index.init".into());
        b.initializer_timeout = Some(10);
    };
    create_with(
        &c,
        "init-py",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_INIT, 0o644)],
        init,
    );
    create_with(
        &c,
        "init-node",
        "Node.js18.15",
        "index.handler",
        &[("index.js", NODE_INIT, 0o644)],
        init,
    );

    for name in ["init-py", "init-node"] {
        let mut ids = Vec::new();
        for _ in 0..4 {
            let (r, a) = call(&c, name, &json!({}));
            assert_ok(&r, &a);
            let v = result_json(&r);
            assert_eq!(v["initCalls"], json!(1), "{name}: {v}");
            if name == "init-py" {
                assert_eq!(v["markerLines"], json!(1), "{name}: {v}");
            }
            ids.push(instance_of(&v));
        }
        assert!(
            ids.iter().all(|p| *p == ids[0]),
            "{name}: one warm instance expected, pids {ids:?}"
        );
    }
}

#[test]
fn initializer_failure_is_a_function_error() {
    let s = Server::start(&[]);
    let c = s.client();
    create_with(
        &c,
        "init-fails",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_INIT_FAILS, 0o644)],
        |b| {
            b.initializer_handler = Some("index.init".into());
            b.initializer_timeout = Some(5);
        },
    );
    for attempt in 0..2 {
        let t = Instant::now();
        let (r, a) = call(&c, "init-fails", &json!({}));
        assert!(
            t.elapsed() < Duration::from_secs(8),
            "attempt {attempt} took {:?}",
            t.elapsed()
        );
        let e = function_error(&r, &a);
        assert_eq!(e["errorType"], json!("ValueError"), "{e}");
        let msg = e["errorMessage"].as_str().unwrap();
        assert!(msg.contains("database unreachable"), "{msg}");
        assert!(r.log.contains("InitializationFailed"), "{}", r.log);
        assert!(
            r.log.contains(&format!(
                "Finish invoke request '{}'(invoke Failed:InitializationFailed)",
                r.request_id
            )),
            "{}",
            r.log
        );
        assert!(
            r.log.contains("connecting to the database"),
            "initializer output belongs in the log: {}",
            r.log
        );
    }
    assert!(healthy(&s));
}

// ------------------------------------------------------------------------------------
// 4. Node.js handler styles and error shapes

const NODE_STYLES: &str = r#"exports.callbackStyle = function (event, context, callback) {
  setTimeout(() => callback(null, { style: 'callback', n: event.n }), 5);
};
exports.asyncStyle = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { style: 'async', n: event.n };
};
exports.callbackError = function (event, context, callback) {
  callback(new TypeError('the input is not acceptable'));
};
exports.thrownError = function (event, context) {
  throw new RangeError('value out of range');
};
exports.rejected = async () => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  throw new SyntaxError('the promise was rejected');
};
"#;

#[test]
fn node_callback_and_async_styles() {
    let s = Server::start(&[]);
    let c = s.client();
    let files = [("index.js", NODE_STYLES, 0o644)];
    for h in [
        "callbackStyle",
        "asyncStyle",
        "callbackError",
        "thrownError",
        "rejected",
    ] {
        create(
            &c,
            &h.to_lowercase(),
            "Node.js18.15",
            &format!("index.{h}"),
            &files,
        );
    }

    let (r, a) = call(&c, "callbackstyle", &json!({"n": 7}));
    assert_ok(&r, &a);
    assert_eq!(r.result, r#"{"style":"callback","n":7}"#);
    let (r, a) = call(&c, "asyncstyle", &json!({"n": 8}));
    assert_ok(&r, &a);
    assert_eq!(r.result, r#"{"style":"async","n":8}"#);

    // callback(err): "function entry exception".
    let (r, a) = call(&c, "callbackerror", &json!({}));
    let e = function_error(&r, &a);
    assert_eq!(e["errorType"], json!("TypeError"), "{e}");
    assert_eq!(
        e["errorMessage"],
        json!("function entry exception, error: the input is not acceptable"),
        "{e}"
    );
    assert!(e.get("stackTrace").is_none_or(Value::is_array), "{e}");

    // A thrown error and a rejected promise: "function invocation exception" with a stack.
    for (name, ty, text) in [
        ("thrownerror", "RangeError", "value out of range"),
        ("rejected", "SyntaxError", "the promise was rejected"),
    ] {
        let (r, a) = call(&c, name, &json!({}));
        let e = function_error(&r, &a);
        assert_eq!(e["errorType"], json!(ty), "{e}");
        assert_eq!(
            e["errorMessage"],
            json!(format!("function invocation exception, error: {text}")),
            "{e}"
        );
        let stack = e["stackTrace"]
            .as_array()
            .unwrap_or_else(|| panic!("stackTrace in {e}"));
        if name == "thrownerror" {
            assert!(
                stack
                    .iter()
                    .any(|f| f.as_str().is_some_and(|f| f.contains("index.js"))),
                "{e}"
            );
        }
        assert!(
            stack
                .iter()
                .all(|f| f.as_str().is_some_and(|f| !f.contains("server.js"))),
            "shim frames leak: {e}"
        );
        assert!(r.log.contains("(invoke Failed:"), "{}", r.log);
    }
}

// ------------------------------------------------------------------------------------
// 5. A Python handler that raises

const PY_RAISES: &str = r#"class QuotaExceeded(Exception):
    pass

def check(limit):
    raise QuotaExceeded("quota of %d reached" % limit)

def handler(event, context):
    print("about to fail")
    check(event["limit"])
"#;

#[test]
fn python_exception_is_reported() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "raises",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_RAISES, 0o644)],
    );
    let (r, a) = call(&c, "raises", &json!({"limit": 5}));
    let e = function_error(&r, &a);
    assert_eq!(header(&a, "x-cff-response-version"), "v1");
    assert_eq!(e["errorType"], json!("QuotaExceeded"), "{e}");
    assert_eq!(
        e["errorMessage"],
        json!("function invocation exception, error: quota of 5 reached"),
        "{e}"
    );
    let stack: Vec<&str> = e["stackTrace"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(stack.iter().any(|l| l.contains("in handler")), "{stack:?}");
    assert!(stack.iter().any(|l| l.contains("in check")), "{stack:?}");
    assert!(
        !stack
            .iter()
            .any(|l| l.contains("server.py") || l.contains("_stratus_runtime")),
        "shim frames leak: {stack:?}"
    );
    assert!(r.log.contains("\nabout to fail\n"), "{}", r.log);
    let finish = r.log.lines().last().unwrap();
    assert!(
        finish.contains(&format!(
            "Finish invoke request '{}'(invoke Failed:",
            r.request_id
        )),
        "{finish}"
    );
    // The instance survives a handler exception.
    let (r2, a2) = call(&c, "raises", &json!({"limit": 6}));
    assert_eq!(
        function_error(&r2, &a2)["errorMessage"],
        json!("function invocation exception, error: quota of 6 reached")
    );
}

// ------------------------------------------------------------------------------------
// 6. A process that exits mid-request

const PY_EXITS: &str = r#"import os, sys

INSTANCE = os.urandom(8).hex()

def handler(event, context):
    if event.get("die"):
        print("exiting now")
        sys.stdout.flush()
        os._exit(3)
    return {"instance": INSTANCE}
"#;

#[test]
fn process_exit_mid_request() {
    let s = Server::start(&[]);
    let c = s.client();
    let marker = new_marker("exits");
    create_with(
        &c,
        "exits",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_EXITS, 0o644)],
        |b| with_marker(b, &marker),
    );
    let (r, a) = call(&c, "exits", &json!({}));
    assert_ok(&r, &a);
    let first = instance_of(&result_json(&r));
    let first_pids = host_pids_with(&marker);
    assert!(
        !first_pids.is_empty(),
        "no process of the warm instance found"
    );

    let t = Instant::now();
    let (r, a) = call(&c, "exits", &json!({"die": true}));
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "the crash must be noticed at once: {:?}",
        t.elapsed()
    );
    let e = function_error(&r, &a);
    let msg = e["errorMessage"].as_str().unwrap();
    assert!(msg.contains("runtime process is exited"), "{e}");
    assert!(msg.contains('3'), "exit status should be shown: {e}");
    assert!(r.log.contains("(invoke Failed:"), "{}", r.log);

    let (r, a) = call(&c, "exits", &json!({}));
    assert_ok(&r, &a);
    let second = instance_of(&result_json(&r));
    assert_ne!(first, second, "a new instance must serve the next request");
    for pid in &first_pids {
        assert!(
            wait_until(Duration::from_secs(5), || !Path::new(&format!(
                "/proc/{pid}"
            ))
            .exists()),
            "process {pid} of the exited instance still runs"
        );
    }
    assert!(healthy(&s));
}

// ------------------------------------------------------------------------------------
// 7. Timeout

const PY_SLEEPS: &str = r#"import os, time

INSTANCE = os.urandom(8).hex()

def handler(event, context):
    seconds = event.get("sleep", 0)
    if seconds:
        print("sleeping %s s in instance %s" % (seconds, INSTANCE))
        time.sleep(seconds)
    return {"instance": INSTANCE}
"#;

#[test]
fn timeout_kills_the_instance() {
    let s = Server::start(&[]);
    let c = s.client();
    let marker = new_marker("sleepy");
    create_with(
        &c,
        "sleepy",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_SLEEPS, 0o644)],
        |b| with_marker(b, &marker),
    );
    let cfg = c
        .update_config(
            "sleepy",
            &FunctionBody {
                timeout: Some(3),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(cfg.timeout, 3);
    let (r, a) = call(&c, "sleepy", &json!({}));
    assert_ok(&r, &a);
    let warm = instance_of(&result_json(&r));
    let warm_pids = host_pids_with(&marker);
    assert!(
        !warm_pids.is_empty(),
        "no process of the warm instance found"
    );

    let t = Instant::now();
    let (r, a) = call(&c, "sleepy", &json!({"sleep": 10}));
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(5),
        "took {took:?}"
    );
    let e = function_error(&r, &a);
    assert!(
        e["errorMessage"].as_str().unwrap().contains("timed out"),
        "{e}"
    );
    assert!(
        r.log.contains(&format!("sleeping 10 s in instance {warm}")),
        "{}",
        r.log
    );
    assert!(r.log.contains("(invoke Failed:"), "{}", r.log);
    let summary: Value = serde_json::from_str(header(&a, "x-cff-invoke-summary")).unwrap();
    let duration = summary["duration"].as_f64().unwrap();
    assert!((2900.0..4000.0).contains(&duration), "{summary}");

    let t = Instant::now();
    let (r, a) = call(&c, "sleepy", &json!({}));
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "cold start after a timeout took {:?}",
        t.elapsed()
    );
    assert_ok(&r, &a);
    assert_ne!(
        instance_of(&result_json(&r)),
        warm,
        "the timed-out instance must not be reused"
    );
    for pid in &warm_pids {
        assert!(
            wait_until(Duration::from_secs(5), || !Path::new(&format!(
                "/proc/{pid}"
            ))
            .exists()),
            "process {pid} of the timed-out instance still runs"
        );
    }
}

// ------------------------------------------------------------------------------------
// 8. Custom runtime with the guide's bash bootstrap; missing bootstrap

/// The guide's bootstrap (section 3.3.5): the text as printed, with only the line wraps of
/// the PDF inside the two curl commands joined.
const GUIDE_BOOTSTRAP: &str = include_str!("fixtures/guide-bootstrap.sh");

fn check_echo(c: &Client, name: &str) {
    for _ in 0..2 {
        let (r, a) = call(c, name, &json!({"hello": "world"}));
        assert_ok(&r, &a);
        assert_eq!(r.result, "Echoing request: hello world!", "log: {}", r.log);
    }
}

#[test]
fn custom_runtime_guide_bash_bootstrap() {
    assert!(GUIDE_BOOTSTRAP.starts_with("#!/bin/sh\nset -o pipefail\n"));
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "bash-guide",
        "Custom",
        "bootstrap",
        &[("bootstrap", GUIDE_BOOTSTRAP, 0o755)],
    );
    check_echo(&c, "bash-guide");
}

#[test]
fn custom_runtime_guide_bootstrap_under_bash() {
    // The same script with bash named explicitly: what the guide's script does where
    // /bin/sh understands `set -o pipefail`.
    let script = GUIDE_BOOTSTRAP.replacen("#!/bin/sh", "#!/bin/bash", 1);
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "bash-explicit",
        "Custom",
        "bootstrap",
        &[("bootstrap", &script, 0o755)],
    );
    check_echo(&c, "bash-explicit");
}

#[test]
fn custom_runtime_under_the_process_sandbox() {
    // The same bash bootstrap with the plain-process backend (`--sandbox process`), the one
    // used where namespaces are not available.
    let script = GUIDE_BOOTSTRAP.replacen("#!/bin/sh", "#!/bin/bash", 1);
    let s = Server::start(&["--sandbox", "process"]);
    let c = s.client();
    create(
        &c,
        "bash-process",
        "Custom",
        "bootstrap",
        &[("bootstrap", &script, 0o755)],
    );
    check_echo(&c, "bash-process");
}

#[test]
fn custom_runtime_without_bootstrap() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "no-bootstrap",
        "Custom",
        "bootstrap",
        &[
            ("run.sh", "#!/bin/sh\necho hi\n", 0o755),
            ("README.txt", "no bootstrap here\n", 0o644),
        ],
    );
    for _ in 0..2 {
        let (r, a) = call(&c, "no-bootstrap", &json!({}));
        let e = function_error(&r, &a);
        let msg = e["errorMessage"].as_str().unwrap();
        assert!(
            msg.contains("bootstrap") && msg.contains("not found"),
            "{e}"
        );
        assert!(r.log.contains("(invoke Failed:"), "{}", r.log);
    }
    assert!(healthy(&s));

    // "not found or not executable": a bootstrap without execute permission.
    create(
        &c,
        "plain-bootstrap",
        "Custom",
        "bootstrap",
        &[("bootstrap", "#!/bin/sh\nexit 0\n", 0o644)],
    );
    let (r, a) = call(&c, "plain-bootstrap", &json!({}));
    let e = function_error(&r, &a);
    let msg = e["errorMessage"].as_str().unwrap();
    assert!(
        msg.contains("bootstrap") && msg.contains("not executable"),
        "{e}"
    );
    assert!(healthy(&s));
}

// ------------------------------------------------------------------------------------
// 9. The guide's Go custom runtime

const GO_RUNTIME: &str = include_str!("fixtures/custom-runtime-go/main.go");

fn go_available() -> bool {
    Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds the Go runtime into `dir/bootstrap` (static, stripped).
fn build_go_bootstrap(dir: &Path) -> PathBuf {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-cache");
    std::fs::write(dir.join("main.go"), GO_RUNTIME).unwrap();
    let out = dir.join("bootstrap");
    let res = Command::new("go")
        .args(["build", "-trimpath", "-ldflags=-s -w", "-o"])
        .arg(&out)
        .arg("main.go")
        .current_dir(dir)
        .env("CGO_ENABLED", "0")
        .env("GOCACHE", cache.join("build"))
        .env("GOPATH", cache.join("path"))
        .env("GOFLAGS", "")
        .env("GO111MODULE", "off")
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "go build failed: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    out
}

#[test]
fn custom_runtime_go_program() {
    if !go_available() {
        eprintln!("\n******** SKIP custom_runtime_go_program: `go` is not on PATH (install golang-go) ********\n");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let binary = std::fs::read(build_go_bootstrap(work.path())).unwrap();
    let pkg = stratus_package::zip_files(&[("bootstrap".to_string(), binary, 0o755)]).unwrap();

    let s = Server::start(&[]);
    let c = s.client();
    c.create_function(
        &body_from_zip("go-runtime", "Custom", "bootstrap", &pkg),
        |_, _| {},
    )
    .unwrap();

    let (r, a) = call(&c, "go-runtime", &json!({"type": "test", "name": "gopher"}));
    assert_ok(&r, &a);
    let out = result_json(&r);
    assert_eq!(out["statusCode"], json!(200), "{out}");
    assert_eq!(out["isBase64Encoded"], json!(false), "{out}");
    assert_eq!(out["headers"]["Content-Type"], json!("text/plain"), "{out}");
    assert_eq!(
        out["body"],
        json!(format!(
            "function default:go-runtime:latest greets gopher (test), request id {}",
            r.request_id
        )),
        "{out}"
    );
    assert!(
        r.log.contains(&format!(
            "handling request {} (invoke type \"sync\")",
            r.request_id
        )),
        "{}",
        r.log
    );

    // An event the program cannot decode goes to the error path.
    let (r, a) = call(&c, "go-runtime", &json!("not an object"));
    let e = function_error(&r, &a);
    assert_eq!(e["errorType"], json!("invalid event"), "{e}");
}

// ------------------------------------------------------------------------------------
// 10. Multi-concurrency

const PY_PID_AFTER: &str = r#"import os, time

INSTANCE = os.urandom(8).hex()

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"instance": INSTANCE}
"#;

fn instances_and_wall(s: &Server, name: &str, n: usize) -> (Vec<String>, Duration) {
    let t = Instant::now();
    let outs = call_concurrently(s, name, vec![json!({"sleep": 1}); n]);
    let wall = t.elapsed();
    let ids = outs
        .into_iter()
        .map(|(r, _)| {
            let (r, a) = r.unwrap();
            assert_ok(&r, &a);
            instance_of(&result_json(&r))
        })
        .collect();
    (ids, wall)
}

#[test]
fn multi_concurrency_shares_one_instance() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "shared",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_PID_AFTER, 0o644)],
    );
    let (ok, out, err) = s.cli(&["fn", "concurrency", "shared", "--per-instance", "5"]);
    assert!(ok, "{out}{err}");
    assert_eq!(
        c.get_config("shared")
            .unwrap()
            .strategy_config
            .concurrent_num,
        Some(5)
    );
    // One warm instance first; then five requests at once all fit on it.
    let (r, a) = call(&c, "shared", &json!({}));
    assert_ok(&r, &a);
    let warm = instance_of(&result_json(&r));
    let (ids, wall) = instances_and_wall(&s, "shared", 5);
    assert!(
        ids.iter().all(|p| *p == warm),
        "one instance expected, got {ids:?} (warm {warm})"
    );
    assert!(
        wall < Duration::from_millis(1900),
        "five 1 s requests on one instance took {wall:?}"
    );

    // With one request per instance, five at once need five instances.
    create_with(
        &c,
        "single",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_PID_AFTER, 0o644)],
        |b| {
            b.strategy_config = Some(StrategyConfig {
                concurrency: Some(10),
                concurrent_num: Some(1),
            });
        },
    );
    let (ids, wall) = instances_and_wall(&s, "single", 5);
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "instances {ids:?}");
    assert!(
        wall < Duration::from_secs(4),
        "five cold 1 s requests took {wall:?}"
    );
}

#[test]
fn multi_concurrency_cold_burst_starts_one_instance() {
    // Guide 5.8: with five requests per instance, five requests "are concurrently
    // processed by one instance", with "only one cold start" — also when the function
    // has no instance yet.
    let s = Server::start(&[]);
    let c = s.client();
    create_with(
        &c,
        "burst",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_PID_AFTER, 0o644)],
        |b| {
            b.strategy_config = Some(StrategyConfig {
                concurrency: Some(10),
                concurrent_num: Some(5),
            });
        },
    );
    let (ids, wall) = instances_and_wall(&s, "burst", 5);
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        1,
        "a cold burst of 5 with 5 requests per instance started {} instances: {ids:?}",
        distinct.len()
    );
    assert!(wall < Duration::from_secs(3), "{wall:?}");
}

// ------------------------------------------------------------------------------------
// 11. Throttling

#[test]
fn throttling_and_disabled_function() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "narrow",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_PID_AFTER, 0o644)],
    );
    let cfg = c.set_max_instances("narrow", 1).unwrap();
    assert_eq!(cfg.strategy_config.concurrency, Some(1));
    assert_eq!(cfg.strategy_config.concurrent_num.unwrap_or(1), 1);

    let outs = call_concurrently(&s, "narrow", vec![json!({"sleep": 2}), json!({"sleep": 2})]);
    let mut ok = 0;
    let mut throttled = 0;
    for (r, took) in outs {
        match r {
            Ok((r, a)) => {
                assert_ok(&r, &a);
                assert!(took >= Duration::from_secs(2), "{took:?}");
                ok += 1;
            }
            Err(ClientError::Api { status, code, msg }) => {
                assert_eq!((status, code.as_str()), (429, "FSS.0429"), "{msg}");
                assert!(
                    msg.contains("Your request has been controlled by overload sdk"),
                    "{msg}"
                );
                throttled += 1;
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!((ok, throttled), (1, 1));

    c.set_max_instances("narrow", 0).unwrap();
    let (status, code, msg) = api_err(invoke(&c, "narrow", b"{}"));
    assert_eq!(
        (status, code.as_str(), msg.as_str()),
        (429, "FSS.0429", "Function Disabled")
    );

    c.set_max_instances("narrow", 1).unwrap();
    let (r, a) = call(&c, "narrow", &json!({}));
    assert_ok(&r, &a);
}

// ------------------------------------------------------------------------------------
// 12. Idle reaping

#[test]
fn idle_instances_are_reaped() {
    let s = Server::start(&["--idle-timeout", "1"]);
    let c = s.client();
    let marker = new_marker("idle");
    create_with(
        &c,
        "idle",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_PID_AFTER, 0o644)],
        |b| with_marker(b, &marker),
    );
    let (r, a) = call(&c, "idle", &json!({}));
    assert_ok(&r, &a);
    let first = instance_of(&result_json(&r));
    let pids = host_pids_with(&marker);
    assert!(
        !pids.is_empty(),
        "no process of the warm instance found right after the call"
    );
    assert!(
        wait_until(Duration::from_secs(6), || host_pids_with(&marker)
            .is_empty()),
        "idle instance (host pids {pids:?}) was not reaped"
    );
    let instances = s.data_dir().join("instances");
    let empty = || std::fs::read_dir(&instances).map_or(true, |mut d| d.next().is_none());
    assert!(
        wait_until(Duration::from_secs(5), empty),
        "instance directories left behind in {}",
        instances.display()
    );
    let (r, a) = call(&c, "idle", &json!({}));
    assert_ok(&r, &a);
    assert_ne!(instance_of(&result_json(&r)), first);
}

// ------------------------------------------------------------------------------------
// 13. 6 MB limits

const PY_SIZES: &str = r#"def handler(event, context):
    if "n" in event:
        return "y" * event["n"]
    return {"padLength": len(event["pad"])}
"#;

const MB: usize = 1024 * 1024;

#[test]
fn six_megabyte_limits() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "sizes",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_SIZES, 0o644)],
    );

    // A JSON string of exactly 6 MB + 1 byte.
    let too_big = format!("\"{}\"", "a".repeat(6 * MB - 1));
    assert_eq!(too_big.len(), 6 * MB + 1);
    let (status, code, _) = api_err(invoke(&c, "sizes", too_big.as_bytes()));
    assert_eq!((status, code.as_str()), (413, "FSS.1201"));

    let (status, code, msg) = api_err(invoke(
        &c,
        "sizes",
        json!({"n": 7 * MB}).to_string().as_bytes(),
    ));
    assert!(
        (400..500).contains(&status) && code.starts_with("FSS."),
        "{status} {code} {msg}"
    );

    let (r, a) = call(&c, "sizes", &json!({"pad": "a".repeat(5 * MB)}));
    assert_ok(&r, &a);
    assert_eq!(result_json(&r), json!({"padLength": 5 * MB}));

    let (r, a) = call(&c, "sizes", &json!({"n": 5 * MB}));
    assert_ok(&r, &a);
    assert_eq!(r.result.len(), 5 * MB);
    assert!(r.result.bytes().all(|b| b == b'y'));
    assert!(healthy(&s));
}

#[test]
fn result_limit_is_exactly_six_megabytes() {
    // docs/runtime-protocol.md: a result body over RUNTIME_MAX_RESP_BODY_SIZE (6291456)
    // "answers 413 and fails the invocation"; one of exactly that size is accepted.
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "edge",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_SIZES, 0o644)],
    );
    let (r, a) = call(&c, "edge", &json!({"n": 6 * MB}));
    assert_ok(&r, &a);
    assert_eq!(r.result.len(), 6 * MB);
    let mut accepted = Vec::new();
    for n in [6 * MB + 1, 6 * MB + 100, 6 * MB + 101, 6 * MB + 1000] {
        match invoke(&c, "edge", json!({"n": n}).to_string().as_bytes()) {
            Err(ClientError::Api { status, code, .. }) => assert!(
                (400..500).contains(&status) && code.starts_with("FSS."),
                "{n} bytes: {status} {code}"
            ),
            Ok((r, a)) if a.header("x-is-func-err") == Some("true") => {
                assert_ne!(r.status, 200)
            }
            Ok((r, _)) => accepted.push(format!("{n} (+{})", r.result.len() - 6 * MB)),
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        accepted.is_empty(),
        "results over 6291456 bytes were accepted as successes: {accepted:?}"
    );
}

// ------------------------------------------------------------------------------------
// 14. The official Python SDK

const SDK_SCRIPT: &str = r#"import json
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkfunctiongraph.v2 import FunctionGraphClient, InvokeFunctionRequest

endpoint, ak, sk, project, urn = sys.argv[1:6]
client = (FunctionGraphClient.new_builder()
          .with_credentials(BasicCredentials(ak, sk, project))
          .with_endpoint(endpoint)
          .build())
resp = client.invoke_function(InvokeFunctionRequest(
    function_urn=urn, x_cff_request_version="v1", x_cff_log_type="tail", body={"name": "sdk"}))

problems = []
def check(ok, what):
    if not ok:
        problems.append(what)

rid = resp.request_id
check(isinstance(rid, str) and len(rid) == 36, "request_id %r" % (rid,))
check(getattr(resp, "x_cff_request_id", rid) == rid, "X-Cff-Request-Id %r" % (getattr(resp, "x_cff_request_id", None),))
check(resp.status == 200, "status %r" % (resp.status,))
check(isinstance(resp.result, str), "result is not a string: %r" % (resp.result,))
try:
    out = json.loads(resp.result)
except Exception as exc:
    out = {}
    problems.append("result is not JSON: %r (%s)" % (resp.result, exc))
check(out.get("greeting") == "hello sdk", "greeting %r" % (out.get("greeting"),))
log = resp.log or ""
check("Start invoke request '%s', version: latest" % rid in log, "no Start line in log %r" % log)
check("Finish invoke request '%s'" % rid in log, "no Finish line in log %r" % log)
check("sdk handler ran for sdk" in log, "handler output missing from log %r" % log)

if problems:
    sys.stderr.write("SDK invocation mismatches:\n  " + "\n  ".join(problems) + "\n")
    sys.exit(1)
print("sdk ok " + rid)
"#;

const PY_GREET: &str = r#"def handler(event, context):
    print("sdk handler ran for %s" % event["name"])
    return {"greeting": "hello " + event["name"]}
"#;

#[test]
fn invoke_through_the_python_sdk() {
    let has_sdk = Command::new("python3")
        .args(["-c", "import huaweicloudsdkfunctiongraph"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_sdk {
        eprintln!("\n******** SKIP invoke_through_the_python_sdk: python3 cannot import huaweicloudsdkfunctiongraph ********\n");
        return;
    }
    let s = Server::start(&[]);
    let c = s.client();
    let cfg = create(
        &c,
        "sdk-greet",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_GREET, 0o644)],
    );
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("sdk_invoke.py");
    std::fs::write(&script, SDK_SCRIPT).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .args([s.endpoint.as_str(), AK, SK, PROJECT, cfg.func_urn.as_str()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "SDK script failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.starts_with("sdk ok "), "{stdout}");
}

// ------------------------------------------------------------------------------------
// 15. Hostile handlers

const PY_FLOOD: &str = r#"import sys

def handler(event, context):
    line = "x" * 1023
    for _ in range(50 * 1024):
        print(line)
    return "flooded"
"#;

const PY_BOMB: &str = r#"import time

def handler(event, context):
    hoard = []
    for _ in range(100):
        hoard.append(b"m" * (10 * 1024 * 1024))
    time.sleep(5)
    return "survived with %d MB" % (10 * len(hoard))
"#;

const PY_QUICK: &str = r#"def handler(event, context):
    return "still here %d" % event["i"]
"#;

#[test]
fn hostile_handlers_do_not_hurt_others() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "flood",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_FLOOD, 0o644)],
    );
    create(
        &c,
        "bomb",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_BOMB, 0o644)],
    );
    create(
        &c,
        "quick",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_QUICK, 0o644)],
    );
    let (r, a) = call(&c, "quick", &json!({"i": 0}));
    assert_ok(&r, &a);

    std::thread::scope(|scope| {
        let flood = scope.spawn(|| {
            let c = s.client();
            let t = Instant::now();
            let out = call(&c, "flood", &json!({}));
            (out, t.elapsed())
        });
        let bomb = scope.spawn(|| call(&s.client(), "bomb", &json!({})));

        // Meanwhile the quick function and the server keep answering.
        let mut i = 1;
        while !(flood.is_finished() && bomb.is_finished()) {
            let t = Instant::now();
            let (r, a) = call(&c, "quick", &json!({"i": i}));
            assert_ok(&r, &a);
            assert_eq!(r.result, format!("still here {i}"));
            assert!(
                t.elapsed() < Duration::from_secs(2),
                "quick call {i} took {:?}",
                t.elapsed()
            );
            assert!(healthy(&s));
            i += 1;
            assert!(i < 10_000, "hostile handlers never finished");
        }
        assert!(i > 1, "no call overlapped the hostile handlers");

        let ((r, a), took) = flood.join().unwrap();
        assert_ok(&r, &a);
        assert_eq!(r.result, "flooded");
        assert!(
            took < Duration::from_secs(10),
            "50 MB of output took {took:?}"
        );
        assert!(r.log.len() <= 2048 + 8, "log tail is {} bytes", r.log.len());
        let lines = finished_lines(&c, "flood", &r.request_id);
        let stored: usize = lines.iter().map(String::len).sum();
        assert!(
            stored < 2 * MB,
            "{stored} bytes of log were stored for one request"
        );
        assert!(
            lines.iter().any(|l| l.contains("truncated")),
            "no truncation marker"
        );

        let (r, a) = bomb.join().unwrap();
        let e = function_error(&r, &a);
        assert_eq!(e["errorType"], json!("RuntimeMemoryExceedLimit"), "{e}");
        assert!(
            e["errorMessage"].as_str().unwrap().contains("memory limit"),
            "{e}"
        );
        assert!(
            r.log.contains("(invoke Failed:RuntimeMemoryExceedLimit)"),
            "{}",
            r.log
        );
    });
    assert!(healthy(&s));
    let (r, a) = call(&c, "bomb", &json!({}));
    assert_eq!(
        function_error(&r, &a)["errorType"],
        json!("RuntimeMemoryExceedLimit")
    );
}

// ------------------------------------------------------------------------------------
// 16. Logs

const PY_TALKS: &str = r#"def handler(event, context):
    print("user line for %s" % event["who"])
    return "ok"
"#;

const PY_INTERLEAVED: &str = r#"import os, time

INSTANCE = os.urandom(8).hex()

def handler(event, context):
    tag = event["tag"]
    for i in range(5):
        print("tag=%s step=%d" % (tag, i))
        context.getLogger().info("logger tag=%s step=%d", tag, i)
        time.sleep(0.05)
    return {"tag": tag, "instance": INSTANCE}
"#;

const NODE_INTERLEAVED: &str = r#"const instance = require('crypto').randomBytes(8).toString('hex');
exports.handler = async (event, context) => {
  const tag = event.tag;
  for (let i = 0; i < 5; i++) {
    console.log(`tag=${tag} step=${i}`);
    context.getLogger().info(`logger tag=${tag} step=${i}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { tag, instance };
};
"#;

#[test]
fn logs_by_request_id() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "talks",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_TALKS, 0o644)],
    );
    let (first, _) = call(&c, "talks", &json!({"who": "first"}));
    let (second, _) = call(&c, "talks", &json!({"who": "second"}));
    // A query right after the invocation sees its lines (the query flushes the batch).
    let now = stored_lines(&c, "talks", &second.request_id);
    assert!(
        now.iter().any(|l| l.contains("Finish invoke request")),
        "lines of the last request at once: {now:?}"
    );
    finished_lines(&c, "talks", &first.request_id);

    let (ok, out, err) = s.cli(&["fn", "logs", "talks", "--request-id", &first.request_id]);
    assert!(ok, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    let id = &first.request_id;
    let start = lines
        .iter()
        .position(|l| l.contains(&format!("Start invoke request '{id}'")));
    let user = lines.iter().position(|l| *l == "user line for first");
    let finish = lines
        .iter()
        .position(|l| l.contains(&format!("Finish invoke request '{id}'")));
    assert!(
        matches!((start, user, finish), (Some(a), Some(b), Some(c)) if a < b && b < c),
        "Start, user line, Finish expected in order:\n{out}"
    );
    assert!(
        !out.contains(&second.request_id) && !out.contains("second"),
        "{out}"
    );

    // Concurrent requests on one instance keep their own lines (Python and Node.js).
    create(
        &c,
        "chatty-py",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_INTERLEAVED, 0o644)],
    );
    create(
        &c,
        "chatty-node",
        "Node.js18.15",
        "index.handler",
        &[("index.js", NODE_INTERLEAVED, 0o644)],
    );
    check_interleaved(&s, &c, "chatty-py");
    check_interleaved(&s, &c, "chatty-node");
}

fn check_interleaved(s: &Server, c: &Client, name: &str) {
    let (ok, out, err) = s.cli(&["fn", "concurrency", name, "--per-instance", "3"]);
    assert!(ok, "{out}{err}");
    let (r, _) = call(c, name, &json!({"tag": "warm"}));
    let warm = instance_of(&result_json(&r));
    let events = ["A", "B", "C"].iter().map(|t| json!({"tag": t})).collect();
    for (r, _) in call_concurrently(s, name, events) {
        let (r, a) = r.unwrap();
        assert_ok(&r, &a);
        let v = result_json(&r);
        assert_eq!(
            instance_of(&v),
            warm,
            "{name}: the three requests should share the warm instance"
        );
        let tag = v["tag"].as_str().unwrap().to_string();
        let id = r.request_id.clone();
        let tail: Vec<String> = r.log.lines().map(str::to_string).collect();
        for (source, lines) in [
            ("log tail", tail),
            ("stored log", finished_lines(c, name, &id)),
        ] {
            let mine = format!("tag={tag} ");
            let foreign: Vec<&String> = lines
                .iter()
                .filter(|l| l.contains("tag=") && !l.contains(&mine))
                .collect();
            assert!(
                foreign.is_empty(),
                "{name}: {source} of {tag} ({id}) holds other requests' lines: {foreign:?}"
            );
            let prints = lines
                .iter()
                .filter(|l| l.starts_with(&format!("tag={tag} step=")))
                .count();
            let logged = lines
                .iter()
                .filter(|l| l.contains(&format!(" {id} INFO logger tag={tag} step=")))
                .count();
            assert_eq!(
                (prints, logged),
                (5, 5),
                "{name}: {source} of {tag} ({id}): {lines:#?}"
            );
        }
    }
}
