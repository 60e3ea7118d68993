//! The isolated sandbox in user-namespace mode: the real `stratus serve` binary run as
//! uid 65534 (nobody) with `--sandbox isolated`, real user/mount/PID/net namespaces.
//! Needs root (to become nobody), setpriv and a host that allows unprivileged user
//! namespaces; otherwise the test prints why it is skipped.
#![allow(clippy::unwrap_used)]

mod common;

use common::nobody::*;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use stratus_client::{Client, InvokeOptions};

fn invoke(c: &Client, name: &str, event: &str) -> serde_json::Value {
    let (resp, _) = c
        .invoke(
            name,
            event.as_bytes(),
            &InvokeOptions {
                log: true,
                memory: None,
            },
        )
        .unwrap();
    serde_json::from_str(&resp.result)
        .unwrap_or_else(|_| panic!("not JSON: {} (log: {})", resp.result, resp.log))
}

const PY: &str = r#"import os, socket
def handler(event, context):
    out = {"uid": os.getuid(), "gid": os.getgid()}
    out["procs"] = len([p for p in os.listdir("/proc") if p.isdigit()])
    out["data_visible"] = os.path.exists(event["data_dir"])
    try:
        open("/opt/function/x", "w")
        out["root_write"] = "ok"
    except OSError as e:
        out["root_write"] = e.strerror
    with open("/tmp/probe", "w") as f:
        f.write("ok")
    out["tmp_write"] = open("/tmp/probe").read()
    st = os.statvfs("/tmp")
    out["tmp_mb"] = st.f_blocks * st.f_frsize // (1 << 20)
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect(("10.0.2.2", event["port"]))
        out["outside"] = "connected"
    except OSError as e:
        out["outside"] = str(e)
    finally:
        s.close()
    return out
"#;

/// A custom runtime in bash that answers every request with what it sees.
const BOOTSTRAP: &str = r#"#!/bin/bash
while true; do
  H=$(mktemp)
  curl -sS -D "$H" -o /dev/null "http://$RUNTIME_API_ADDR/v1/runtime/invocation/request"
  ID=$(grep -Fi x-cff-request-id "$H" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$H"
  [ -z "$ID" ] && continue
  N=$(ls /proc | grep -c '^[0-9]')
  if (echo x > /bin/x) 2>/dev/null; then RW=ok; else RW=refused; fi
  if echo x > /tmp/x; then TW=ok; else TW=refused; fi
  curl -sS -X POST "http://$RUNTIME_API_ADDR/v1/runtime/invocation/response/$ID" \
    -d "{\"uid\":$(id -u),\"procs\":$N,\"root_write\":\"$RW\",\"tmp_write\":\"$TW\"}"
done
"#;

#[test]
fn unprivileged_server_runs_isolated_instances_in_user_namespaces() {
    let bin_dir = tempfile::tempdir().unwrap();
    let Some(bin) = prepare(
        "unprivileged_server_runs_isolated_instances_in_user_namespaces",
        bin_dir.path(),
    ) else {
        return;
    };
    let data = data_dir_for_nobody();
    let data_dir = data.path().to_path_buf();

    // A listener on the host's loopback stands for "the outside": with host access
    // allowed, slirp4netns maps 10.0.2.2 to it.
    let outside = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = outside.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in outside.incoming().flatten() {
            drop(s);
        }
    });

    let s = start_nobody(&bin, data, &["--allow-instance-host-access"]);
    let log = || s.stderr.lock().unwrap().clone();
    let no_network = log().contains("isolated instances have no outbound network");
    let c = s.client();

    create(
        &c,
        "py",
        "Python3.9",
        "index.handler",
        &[("index.py", PY, 0o644)],
    );
    let event = serde_json::json!({"data_dir": data_dir, "port": port}).to_string();
    let mut v = invoke(&c, "py", &event);
    // slirp4netns configures the instance's tap shortly after it starts.
    for _ in 0..30 {
        if no_network || v["outside"] == "connected" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        v = invoke(&c, "py", &event);
    }
    assert_eq!(v["uid"], 1003, "{v}");
    assert_eq!(v["gid"], 1003, "{v}");
    let procs = v["procs"].as_u64().unwrap();
    assert!((1..=3).contains(&procs), "own PID namespace: {v}");
    assert_eq!(v["data_visible"], false, "{v}");
    assert_eq!(v["root_write"], "Read-only file system", "{v}");
    assert_eq!(v["tmp_write"], "ok", "{v}");
    assert_eq!(v["tmp_mb"], 512, "the default ephemeral size: {v}");
    if no_network {
        assert_ne!(v["outside"], "connected", "logged no network: {v}");
        eprintln!("outbound network absent as logged: {}", v["outside"]);
    } else {
        assert_eq!(
            v["outside"], "connected",
            "outbound through slirp4netns: {v}"
        );
    }

    create(
        &c,
        "sh",
        "Custom",
        "bootstrap",
        &[("bootstrap", BOOTSTRAP, 0o755)],
    );
    for _ in 0..2 {
        let v = invoke(&c, "sh", "{}");
        assert_eq!(v["uid"], 1003, "{v}");
        let procs = v["procs"].as_u64().unwrap();
        assert!((1..=8).contains(&procs), "own PID namespace: {v}");
        assert_eq!(v["root_write"], "refused", "{v}");
        assert_eq!(v["tmp_write"], "ok", "{v}");
    }
    // The server itself runs as nobody.
    let pid = s.child.as_ref().unwrap().id();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(uid_line.contains("65534"), "{uid_line}");
    drop(s);
    if no_network {
        eprintln!("SKIP host-address blocking in user-namespace mode: instances have no outbound network here");
        return;
    }
    host_addresses_are_unreachable(&bin);
}

const PROBE_HOSTS: &str = "import socket\ndef handler(event, context):\n    out = {}\n    for host in event['hosts']:\n        s = socket.socket()\n        s.settimeout(2)\n        try:\n            s.connect((host, event['port']))\n            out[host] = 'connected'\n        except OSError as e:\n            out[host] = str(e)\n        finally:\n            s.close()\n    out['tap0'] = 'tap0' in open('/proc/net/dev').read()\n    return out\n";

/// Without host access, the unreachable routes the server (as owner of the instance's
/// user namespace) adds keep the host's own addresses and loopback out of reach.
fn host_addresses_are_unreachable(bin: &Path) {
    let out = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "scope", "global"])
        .output();
    let mut hosts: Vec<String> = out
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().nth(3))
                .filter_map(|a| a.split('/').next())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if hosts.is_empty() {
        eprintln!("SKIP host-address blocking: this host has no global IPv4 address");
        return;
    }
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            drop(s);
        }
    });
    let s = start_nobody(bin, data_dir_for_nobody(), &[]);
    let c = s.client();
    create(
        &c,
        "probe",
        "Python3.9",
        "index.handler",
        &[("index.py", PROBE_HOSTS, 0o644)],
    );
    hosts.push("10.0.2.2".into());
    let event = serde_json::json!({"hosts": hosts, "port": port}).to_string();
    // slirp4netns configures the instance's tap shortly after it starts.
    let mut v = invoke(&c, "probe", &event);
    for _ in 0..30 {
        if v["tap0"] == true {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        v = invoke(&c, "probe", &event);
    }
    assert_eq!(
        v["tap0"], true,
        "slirp4netns never set up the instance's network: {v}"
    );
    for h in &hosts {
        assert_ne!(v[h.as_str()], "connected", "{h} must be unreachable: {v}");
    }
    // The host's own addresses hit the unreachable routes (EHOSTUNREACH), not slirp.
    for h in hosts.iter().filter(|h| h.as_str() != "10.0.2.2") {
        let got = v[h.as_str()].as_str().unwrap_or("");
        assert!(got.contains("No route to host"), "{h}: {v}");
    }
    eprintln!("host addresses unreachable from the instance: {v}");
}

fn py(c: &Client, name: &str, src: &str, memory: i64) {
    let body = stratus_api_types::FunctionBody {
        func_name: Some(name.into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(memory),
        timeout: Some(30),
        code_type: Some("zip".into()),
        func_code: Some(stratus_api_types::FuncCode {
            file: Some(b64(&zip(&[("index.py", src, 0o644)]))),
            link: None,
        }),
        ..Default::default()
    };
    c.create_function(&body, |_, _| {}).unwrap();
}

const BOMB: &str = "def handler(event, context):\n    x = []\n    while True:\n        x.append(bytearray(16 * 1024 * 1024))\n";
/// Small children (`sleep`), so the memory watchdog does not end the instance first.
const SPAWNER: &str = "import os\ndef handler(event, context):\n    n = 0\n    try:\n        while n < 5000:\n            os.posix_spawn('/bin/sleep', ['sleep', '60'], {})\n            n += 1\n    except OSError as e:\n        return {'spawned': n, 'error': e.strerror}\n    return {'spawned': n}\n";
const WEB: &str = "import http.server, json, os\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        body = json.dumps({'path': self.path, 'uid': os.getuid()}).encode()\n        self.send_response(200)\n        self.send_header('Content-Type', 'application/json')\n        self.send_header('Content-Length', str(len(body)))\n        self.end_headers()\n        self.wfile.write(body)\nhttp.server.HTTPServer(('127.0.0.1', 8000), H).serve_forever()\n";

/// Without a delegated cgroup subtree (this host) the fallbacks hold: the memory
/// watchdog kills a memory bomb, `RLIMIT_NPROC` stops a process flood, and an HTTP
/// function is reached through the namespace helper's connection.
#[test]
fn limits_and_http_functions_in_user_namespace_mode() {
    let bin_dir = tempfile::tempdir().unwrap();
    let Some(bin) = prepare(
        "limits_and_http_functions_in_user_namespace_mode",
        bin_dir.path(),
    ) else {
        return;
    };
    let s = start_nobody(&bin, data_dir_for_nobody(), &[]);
    let cgroups = !s.stderr.lock().unwrap().contains("sandbox: NO cgroups");
    let c = s.client();

    py(&c, "bomb", BOMB, 128);
    let (resp, raw) = c
        .invoke(
            "bomb",
            b"{}",
            &InvokeOptions {
                log: true,
                memory: None,
            },
        )
        .unwrap();
    assert_eq!(raw.header("x-func-err-code"), Some("4205"), "{resp:?}");
    assert!(
        resp.log.contains("RuntimeMemoryExceedLimit"),
        "{}",
        resp.log
    );

    py(&c, "spawner", SPAWNER, 2048);
    let v = invoke(&c, "spawner", "{}");
    let n = v["spawned"].as_u64().unwrap();
    eprintln!("process flood (cgroups: {cgroups}): {v}");
    assert!(
        n < 1024,
        "the pids limit (cgroups: {cgroups}) stops it: {v}"
    );
    assert_eq!(v["error"], "Resource temporarily unavailable", "{v}");

    let boot =
        "/opt/function/runtime/python3.6/rtsp/python/bin/python3 -u $RUNTIME_CODE_ROOT/index.py\n";
    create(
        &c,
        "web",
        "http",
        "bootstrap",
        &[("index.py", WEB, 0o644), ("bootstrap", boot, 0o644)],
    );
    let event =
        r#"{"httpMethod":"GET","path":"/hello","queryStringParameters":{},"headers":{},"body":""}"#;
    let v = invoke(&c, "web", event);
    assert_eq!(v["statusCode"], 200, "{v}");
    let body: serde_json::Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["path"], "/hello", "{v}");
    assert_eq!(body["uid"], 1003, "{v}");
}
