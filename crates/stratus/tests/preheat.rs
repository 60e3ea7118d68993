//! The pre-heated pool: functions served by pre-started instances see exactly what a
//! normal cold start gives them (environment, arguments, code, /tmp, limits), nothing
//! of another function or of the server, and the pool refills. Needs root (isolated
//! sandbox); without it the tests print why they are skipped.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;
use stratus_client::{Client, InvokeOptions};

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let ok = unsafe { libc::geteuid() } == 0;
    if !ok {
        eprintln!("SKIP: the pre-heated pool tests use the isolated sandbox, which needs root");
    }
    ok
}

fn node_found() -> bool {
    let ok = std::process::Command::new("node")
        .arg("-e")
        .arg("0")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIP (node part): node is not installed");
    }
    ok
}

fn server(prewarm: &str) -> Server {
    let s = Server::start(&["--sandbox", "isolated", "--prewarm", prewarm]);
    assert!(wait_until(Duration::from_secs(5), || s
        .stderr
        .lock()
        .unwrap()
        .contains("sandbox: isolated")));
    s
}

fn status(s: &Server) -> Value {
    let (code, body) = raw_http(
        &s.endpoint,
        "GET /healthz/prewarm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn wait_ready(s: &Server, lang: &str, n: u64) {
    let ok = wait_until(Duration::from_secs(30), || {
        status(s)[lang]["ready"].as_u64() == Some(n)
    });
    assert!(ok, "pool never reached {n} ready {lang}: {}", status(s));
}

const PY_DUMP: &str = r#"
import os, sys, socket
def handler(event, context):
    marker = event.get("marker")
    if marker:
        open(os.path.join(os.environ["TMPDIR"], marker), "w").write("x")
    root = os.environ["RUNTIME_CODE_ROOT"]
    return {
        "env": dict(os.environ),
        "argv": sys.argv,
        "path0": sys.path[0],
        "cwd": os.getcwd(),
        # The platform may have added the bytecode cache (docs/python-bytecode.md).
        "code": sorted(f for f in os.listdir(root) if f != "__pycache__"),
        "tmp": sorted(os.listdir(os.environ["TMPDIR"])),
        "tmp_mb": os.statvfs("/tmp").f_blocks * os.statvfs("/tmp").f_frsize // (1 << 20),
        "uid": os.getuid(),
        "memory": context.getMemorySize(),
        "writable_code": os.access(root, os.W_OK),
    }
"#;

const JS_DUMP: &str = r#"
const fs = require('fs');
exports.handler = async (event, context) => {
  if (event.marker) fs.writeFileSync('/tmp/' + event.marker, 'x');
  const root = process.env.RUNTIME_CODE_ROOT;
  return {
    env: Object.assign({}, process.env),
    argv: process.argv,
    cwd: process.cwd(),
    code: fs.readdirSync(root).sort(),
    tmp: fs.readdirSync('/tmp').sort(),
    uid: process.getuid(),
    memory: context.getMemorySize(),
  };
};
"#;

/// A custom runtime (bash + curl, as in the guide) answering with its environment, the
/// environment its process was started with (/proc), working directory and code view.
const SH_DUMP: &str = r#"#!/bin/bash
set -euo pipefail
while true; do
  HEADERS="$(mktemp)"
  curl -sS -o /dev/null -D "$HEADERS" "http://$RUNTIME_API_ADDR/v1/runtime/invocation/request"
  RID=$(grep -Fi x-cff-request-id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  BODY=$(/usr/bin/python3 -c 'import json, os
root = os.environ["RUNTIME_CODE_ROOT"]
proc = open("/proc/%d/environ" % os.getppid(), "rb").read().decode().split("\0")
status = open("/proc/%d/status" % os.getppid()).read().splitlines()
sig = [l for l in status if l.startswith(("SigIgn", "SigBlk"))]
print(json.dumps({"env": dict(os.environ), "procenv": proc, "cwd": os.getcwd(), "sig": sig,
                  "code": sorted(os.listdir(root)), "uid": os.getuid()}))')
  curl -sS -o /dev/null -X POST "http://$RUNTIME_API_ADDR/v1/runtime/invocation/response/$RID" -d "$BODY"
done
"#;

fn deploy(
    c: &Client,
    name: &str,
    runtime: &str,
    files: &[(&str, &str, u32)],
    env: &[(&str, &str)],
    memory: i64,
) {
    deploy_with(c, name, runtime, files, env, memory, |_| {});
}

fn deploy_with(
    c: &Client,
    name: &str,
    runtime: &str,
    files: &[(&str, &str, u32)],
    env: &[(&str, &str)],
    memory: i64,
    edit: impl FnOnce(&mut stratus_api_types::FunctionBody),
) {
    let user: serde_json::Map<String, Value> = env
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let body = stratus_api_types::FunctionBody {
        func_name: Some(name.into()),
        package: Some("default".into()),
        runtime: Some(runtime.into()),
        handler: Some("index.handler".into()),
        memory_size: Some(memory),
        timeout: Some(10),
        code_type: Some("zip".into()),
        code_filename: Some("index.zip".into()),
        user_data: Some(Value::Object(user).to_string()),
        func_code: Some(stratus_api_types::FuncCode {
            file: Some(b64(&zip(files))),
            link: None,
        }),
        ..Default::default()
    };
    let mut body = body;
    edit(&mut body);
    c.create_function(&body, |_, _| {}).unwrap();
}

fn call(c: &Client, name: &str, event: &str) -> Value {
    let (resp, raw) = c
        .invoke(
            name,
            event.as_bytes(),
            &InvokeOptions {
                log: true,
                memory: None,
            },
        )
        .unwrap();
    assert_eq!(
        raw.header("x-is-func-err"),
        Some("false"),
        "{}\n{}",
        resp.result,
        resp.log
    );
    serde_json::from_str(&resp.result).unwrap()
}

/// The same function, once on a server without the pool and once served from it: the
/// dumped environment, arguments, working directory and code view are identical.
#[test]
fn pooled_start_matches_normal_start() {
    if !root() {
        return;
    }
    let mut langs: Vec<(&str, &str, &str, &str)> =
        vec![("python", "Python3.9", "index.py", PY_DUMP)];
    if node_found() {
        langs.push(("nodejs", "Node.js18.15", "index.js", JS_DUMP));
    }
    if std::path::Path::new("/usr/bin/curl").exists() {
        langs.push(("custom", "Custom", "bootstrap", SH_DUMP));
    } else {
        eprintln!("SKIP (custom part): /usr/bin/curl is not installed");
    }
    let plain = server("0");
    let pooled = server("1");
    for (lang, _, _, _) in &langs {
        wait_ready(&pooled, lang, 1);
    }
    assert_eq!(status(&plain)["python"]["ready"], 0);
    let env = [("GREETING", "hello"), ("EMPTY", "")];
    for (lang, runtime, file, src) in &langs {
        let name = format!("dump-{lang}");
        let mut seen = Vec::new();
        for s in [&plain, &pooled] {
            let c = s.client();
            let mode = if *lang == "custom" { 0o755 } else { 0o644 };
            deploy(&c, &name, runtime, &[(file, src, mode)], &env, 256);
            seen.push(call(&c, &name, "{}"));
        }
        assert_eq!(status(&pooled)[lang]["served"], 1, "{lang} was not pooled");
        assert_eq!(status(&plain)[lang]["served"], 0);
        let (a, b) = (&seen[0], &seen[1]);
        assert_eq!(a["env"], b["env"], "{lang}: environment differs");
        for k in [
            "argv", "path0", "cwd", "code", "tmp", "uid", "memory", "procenv",
        ] {
            assert_eq!(a[k], b[k], "{lang}: {k} differs");
        }
        let env = b["env"].as_object().unwrap();
        assert_eq!(env["GREETING"], "hello");
        assert_eq!(env["RUNTIME_MEMORY"], "256");
        assert_eq!(env["RUNTIME_FUNC_NAME"], name.as_str());
        // Nothing of the server's own environment reaches the function.
        assert!(
            !env.keys()
                .any(|k| k.starts_with("STRATUS_") || k == "CARGO"),
            "{lang}: server environment leaked: {env:?}"
        );
        assert_eq!(b["uid"], 1003);
        if *lang == "python" {
            assert_eq!(b["writable_code"], false);
        }
    }
}

/// Two functions served from the pool see only their own code, variables and /tmp, get
/// their own memory limit, and the pool refills behind them.
#[test]
fn pooled_functions_are_isolated_and_pool_refills() {
    if !root() {
        return;
    }
    let s = server("2");
    wait_ready(&s, "python", 2);
    let c = s.client();
    deploy(
        &c,
        "alpha",
        "Python3.9",
        &[("index.py", PY_DUMP, 0o644), ("alpha.txt", "a", 0o644)],
        &[("ONLY_ALPHA", "1")],
        128,
    );
    deploy(
        &c,
        "beta",
        "Python3.9",
        &[("index.py", PY_DUMP, 0o644), ("beta.txt", "b", 0o644)],
        &[("ONLY_BETA", "2")],
        512,
    );
    let a = call(&c, "alpha", r#"{"marker":"alpha-was-here"}"#);
    let b = call(&c, "beta", r#"{"marker":"beta-was-here"}"#);
    assert_eq!(status(&s)["python"]["served"], 2, "{}", status(&s));

    assert_eq!(a["tmp_mb"], 512, "the default ephemeral storage");
    assert_eq!(a["code"], serde_json::json!(["alpha.txt", "index.py"]));
    assert_eq!(b["code"], serde_json::json!(["beta.txt", "index.py"]));
    assert_eq!(a["tmp"], serde_json::json!(["alpha-was-here"]));
    assert_eq!(b["tmp"], serde_json::json!(["beta-was-here"]));
    let (ea, eb) = (a["env"].as_object().unwrap(), b["env"].as_object().unwrap());
    assert!(ea.contains_key("ONLY_ALPHA") && !ea.contains_key("ONLY_BETA"));
    assert!(eb.contains_key("ONLY_BETA") && !eb.contains_key("ONLY_ALPHA"));
    assert_eq!(a["memory"], 128);
    assert_eq!(b["memory"], 512);

    // The memory limit was applied to the cgroup (read on the host side).
    let pid = s.child.as_ref().unwrap().id();
    let limits: Vec<u64> = std::fs::read_dir("/sys/fs/cgroup/memory/stratus")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{pid}-"))
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("memory.limit_in_bytes")).ok())
        .filter_map(|t| t.trim().parse().ok())
        .collect();
    assert!(limits.contains(&(128 << 20)), "{limits:?}");
    assert!(limits.contains(&(512 << 20)), "{limits:?}");

    // Warm again: the same instance, its own /tmp still there.
    let a2 = call(&c, "alpha", "{}");
    assert_eq!(a2["tmp"], serde_json::json!(["alpha-was-here"]));
    assert_eq!(status(&s)["python"]["served"], 2);

    // The pool tops itself up again.
    wait_ready(&s, "python", 2);
    assert!(status(&s)["python"]["started"].as_u64().unwrap() >= 4);
}

/// A function whose variables the interpreter would read before the shim runs
/// (PYTHONPATH here) is started the normal way; an initializer failure behind the pool
/// is reported like any other.
#[test]
fn pool_falls_back_and_reports_init_failures() {
    if !root() {
        return;
    }
    let s = server("1");
    wait_ready(&s, "python", 1);
    let c = s.client();
    deploy(
        &c,
        "pathy",
        "Python3.9",
        &[("index.py", PY_DUMP, 0o644)],
        &[("PYTHONPATH", "/opt/function/code")],
        128,
    );
    let v = call(&c, "pathy", "{}");
    assert_eq!(v["env"]["PYTHONPATH"], "/opt/function/code");
    assert_eq!(status(&s)["python"]["served"], 0);

    deploy(
        &c,
        "broken",
        "Python3.9",
        &[("index.py", "import nothing_here\n", 0o644)],
        &[],
        128,
    );
    let (resp, raw) = c
        .invoke(
            "broken",
            b"{}",
            &InvokeOptions {
                log: true,
                memory: None,
            },
        )
        .unwrap();
    assert_eq!(raw.header("x-is-func-err"), Some("true"), "{}", resp.result);
    assert!(resp.result.contains("nothing_here"), "{}", resp.result);
    assert_eq!(status(&s)["python"]["served"], 1);
}

/// The `process` backend (no namespaces) also serves from the pool: the code link is
/// swapped to the function's code and the environment is the function's.
#[test]
fn process_backend_serves_from_pool() {
    let s = Server::start(&["--sandbox", "process", "--prewarm", "1"]);
    wait_ready(&s, "python", 1);
    let c = s.client();
    deploy(
        &c,
        "plain",
        "Python3.9",
        &[("index.py", PY_DUMP, 0o644), ("own.txt", "x", 0o644)],
        &[("MINE", "yes")],
        128,
    );
    let v = call(&c, "plain", "{}");
    assert_eq!(status(&s)["python"]["served"], 1);
    // The process backend leaves the code writable, so Python may add its cache.
    let code: Vec<&str> = v["code"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .filter(|f| *f != "__pycache__")
        .collect();
    assert_eq!(code, ["index.py", "own.txt"]);
    assert_eq!(v["env"]["MINE"], "yes");
    assert!(!v["env"]
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.starts_with("STRATUS_")));
}

/// A pooled instance's /tmp gets the function's ephemeral storage size when it is not
/// the default the pool starts with.
#[test]
fn pooled_instance_gets_the_functions_tmp_size() {
    if !root() {
        return;
    }
    let s = server("1");
    wait_ready(&s, "python", 1);
    let c = s.client();
    deploy_with(
        &c,
        "bigtmp",
        "Python3.9",
        &[("index.py", PY_DUMP, 0o644)],
        &[],
        128,
        |b| b.ephemeral_storage = Some(1024),
    );
    let v = call(&c, "bigtmp", "{}");
    assert_eq!(status(&s)["python"]["served"], 1, "{}", status(&s));
    assert_eq!(v["tmp_mb"], 1024, "{v}");
}
