//! The isolated sandbox against hostile functions, with real namespaces and cgroups.
//! Needs root; without it every test prints why it is skipped.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::time::{Duration, Instant};
use stratus_client::{Client, ClientError, InvokeOptions};

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let ok = unsafe { libc::geteuid() } == 0;
    if !ok {
        eprintln!("SKIP: the isolated sandbox needs root; these tests did not run");
    }
    ok
}

fn isolated(args: &[&str]) -> Server {
    let mut all = vec!["--sandbox", "isolated"];
    all.extend_from_slice(args);
    let s = Server::start(&all);
    assert!(wait_until(Duration::from_secs(5), || s
        .stderr
        .lock()
        .unwrap()
        .contains("sandbox: isolated")));
    s
}

fn py(c: &Client, name: &str, src: &str, memory: i64, timeout: i64) {
    let body = stratus_api_types::FunctionBody {
        func_name: Some(name.into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(memory),
        timeout: Some(timeout),
        code_type: Some("zip".into()),
        func_code: Some(stratus_api_types::FuncCode {
            file: Some(b64(&zip(&[("index.py", src, 0o644)]))),
            link: None,
        }),
        ..Default::default()
    };
    c.create_function(&body, |_, _| {}).unwrap();
}

fn call(
    c: &Client,
    name: &str,
    event: &str,
) -> (serde_json::Value, stratus_client::Answer, String) {
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
    let v = serde_json::from_str(&resp.result)
        .unwrap_or(serde_json::Value::String(resp.result.clone()));
    (v, raw, resp.log)
}

const CALM: &str = "def handler(event, context):\n    return 'calm'\n";

fn neighbour_ok(c: &Client) {
    let (v, raw, _) = call(c, "calm", "{}");
    assert_eq!(v, "calm");
    assert_eq!(raw.header("x-is-func-err"), Some("false"));
}

#[test]
fn sandbox_view_identity_and_files() {
    // A cold start at the invoke, in a mount namespace prepared by the pool.
    check_view(&["--prewarm", "0"]);
}

#[test]
fn sandbox_view_without_prepared_namespaces() {
    // Each instance builds its root and pivots into it.
    check_view(&["--prewarm", "0", "--netns-pool", "0"]);
}

fn check_view(args: &[&str]) {
    if !root() {
        return;
    }
    let s = isolated(args);
    let c = s.client();
    let data = s.data_dir().display().to_string();
    let src = format!(
        r#"import os, socket
def handler(event, context):
    out = {{"uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(), "host": socket.gethostname(),
           "code": os.environ["RUNTIME_CODE_ROOT"], "files": [f for f in os.listdir("/opt/function/code") if f != "__pycache__"]}}
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    out["pids"] = pids
    out["cmdlines"] = [open("/proc/%s/cmdline" % p, "rb").read().decode(errors="replace") for p in pids]
    for path in ["{data}/stratus.db", "{data}/credentials.json", "/root", "/work"]:
        try:
            os.listdir(path) if not path.endswith((".db", ".json")) else open(path).read(1)
            out[path] = "visible"
        except OSError as e:
            out[path] = e.strerror
    for path in ["/etc/stratus-x", "/opt/function/code/x", "/usr/x", "/x", "/opt/function/x"]:
        try:
            open(path, "w").write("x")
            out[path] = "written"
        except OSError as e:
            out[path] = e.strerror
    open("/tmp/ok", "w").write("fine")
    out["tmp"] = open("/tmp/ok").read()
    open("/dev/null", "w").write("gone")
    out["devices"] = [len(open("/dev/" + d, "rb").read(4)) for d in ["zero", "random", "urandom", "full", "null"]]
    out["runtime_link"] = os.path.realpath("/opt/function/runtime/python3.9/rtsp/python/bin/python3")
    out["mount_points"] = sorted({{l.split()[4] for l in open("/proc/self/mountinfo")}})
    return out
"#
    );
    py(&c, "view", &src, 128, 10);
    let (v, _, _) = call(&c, "view", "{}");
    assert_eq!(v["uid"], 1003, "{v}");
    assert_eq!(v["gid"], 1003);
    assert_eq!(v["cwd"], "/opt/function");
    assert_eq!(v["code"], "/opt/function/code");
    assert_eq!(v["files"], serde_json::json!(["index.py"]));
    assert!(v["host"].as_str().unwrap().starts_with("fn-"));
    // Only the instance's own mounts: none of the host's (/sys, /work, cgroups, ...).
    let allowed = [
        "/",
        "/usr",
        "/etc",
        "/etc/resolv.conf",
        "/etc/hosts",
        "/dev",
        "/dev/shm",
        "/proc",
        "/tmp",
        "/opt/function/code",
        "/home/snuser/runtime",
        "/opt/function/runtime",
    ];
    for m in v["mount_points"].as_array().unwrap() {
        let m = m.as_str().unwrap();
        assert!(allowed.contains(&m), "unexpected mount point {m}: {v}");
    }
    let pids = v["pids"].as_array().unwrap();
    assert!(
        pids.len() <= 3,
        "only the instance's own processes are visible: {v}"
    );
    assert!(
        !v["cmdlines"].to_string().contains("stratus"),
        "the server is invisible: {v}"
    );
    for hidden in [
        format!("{data}/stratus.db"),
        format!("{data}/credentials.json"),
        "/root".into(),
        "/work".into(),
    ] {
        assert_eq!(
            v[hidden.as_str()],
            "No such file or directory",
            "{hidden}: {v}"
        );
    }
    for ro in [
        "/etc/stratus-x",
        "/opt/function/code/x",
        "/usr/x",
        "/x",
        "/opt/function/x",
    ] {
        let e = v[ro].as_str().unwrap();
        assert!(
            e.contains("Read-only") || e.contains("Permission denied"),
            "{ro}: {e}"
        );
    }
    assert_eq!(v["tmp"], "fine");
    assert_eq!(v["devices"], serde_json::json!([4, 4, 4, 4, 0]), "{v}");
    assert!(
        v["runtime_link"].as_str().unwrap().contains("python3"),
        "the guide's runtime path resolves: {v}"
    );
}

const CACHED: &str = r#"import os
def handler(event, context):
    d = "/opt/function/code/__pycache__"
    pyc = [n for n in (os.listdir(d) if os.path.isdir(d) else []) if n.startswith("index.")]
    return {"name": pyc[0] if pyc else None,
            "readable": bool(pyc) and os.access(os.path.join(d, pyc[0]), os.R_OK)}
"#;

#[test]
fn python_code_gets_a_bytecode_cache_the_instance_can_read() {
    if !root() {
        return;
    }
    let s = isolated(&["--prewarm", "0"]);
    let c = s.client();
    py(&c, "cached", CACHED, 128, 10);
    // The instance cannot write the read-only code: the host writes the cache, in the
    // background after the first start unpacked the package (docs/python-bytecode.md).
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let (v, _, _) = call(&c, "cached", "{}");
        if v["readable"] == true {
            let name = v["name"].as_str().unwrap();
            assert!(
                name.starts_with("index.cpython-") && name.ends_with(".pyc"),
                "{v}"
            );
            break;
        }
        assert!(
            Instant::now() < until,
            "no readable bytecode cache in the instance: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Instance cgroups of server `pid`, in every hierarchy (`<root>/[<controller>/]stratus/<pid>-<id>`).
fn instance_cgroups(pid: u32) -> Vec<String> {
    let prefix = format!("{pid}-");
    let mut parents = vec![std::path::PathBuf::from("/sys/fs/cgroup/stratus")];
    if let Ok(d) = std::fs::read_dir("/sys/fs/cgroup") {
        parents.extend(d.flatten().map(|e| e.path().join("stratus")));
    }
    let mut out = Vec::new();
    for p in parents {
        for e in std::fs::read_dir(&p).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                out.push(e.path().display().to_string());
            }
        }
    }
    out
}

#[test]
fn shutdown_removes_instance_cgroups_and_directories() {
    if !root() {
        return;
    }
    let s = isolated(&["--prewarm", "1"]);
    let c = s.client();
    py(&c, "calm", CALM, 128, 10);
    neighbour_ok(&c);
    let pid = s.pid();
    assert!(
        !instance_cgroups(pid).is_empty(),
        "no instance cgroups while serving"
    );
    // The call took the pool's Python instance, and the pool starts its replacement
    // 100 ms later: stop while that start is under way.
    std::thread::sleep(Duration::from_millis(110));
    let dir = s.stop();
    assert_eq!(
        instance_cgroups(pid),
        Vec::<String>::new(),
        "left after SIGTERM"
    );
    let left: Vec<String> = std::fs::read_dir(dir.path().join("instances"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "empty-code")
        .collect();
    assert_eq!(
        left,
        Vec::<String>::new(),
        "instance directories left after SIGTERM"
    );
}

#[test]
fn memory_bomb_is_killed_and_reported() {
    if !root() {
        return;
    }
    let s = isolated(&[]);
    let c = s.client();
    py(&c, "calm", CALM, 128, 10);
    py(&c, "bomb", "def handler(event, context):\n    x = []\n    while True:\n        x.append(bytearray(16 * 1024 * 1024))\n", 128, 30);
    let (v, raw, log) = call(&c, "bomb", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("true"));
    assert_eq!(raw.header("x-func-err-code"), Some("4205"), "{v} {log}");
    assert!(
        log.contains("(invoke Failed:RuntimeMemoryExceedLimit)"),
        "{log}"
    );
    let used: f64 = log
        .split("memory used: ")
        .nth(1)
        .unwrap()
        .split("MB")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(used > 100.0, "memory used comes from the cgroup: {used} MB");
    neighbour_ok(&c);
    // The next call gets a fresh instance.
    let (_, raw, _) = call(&c, "bomb", "{}");
    assert_eq!(raw.header("x-func-err-code"), Some("4205"));
}

#[test]
fn fork_bomb_hits_the_pids_limit() {
    if !root() {
        return;
    }
    let s = isolated(&[]);
    let c = s.client();
    py(&c, "calm", CALM, 128, 10);
    let src = "import os, time\ndef handler(event, context):\n    n = 0\n    try:\n        while True:\n            if os.fork() == 0:\n                time.sleep(60)\n                os._exit(0)\n            n += 1\n    except OSError as e:\n        return {'forked': n, 'error': e.strerror}\n";
    py(&c, "forkbomb", src, 512, 30);
    let (v, _, _) = call(&c, "forkbomb", "{}");
    let n = v["forked"].as_u64().unwrap_or(0);
    assert!(n < 1024, "{v}");
    neighbour_ok(&c);
}

#[test]
fn fd_exhaustion_hits_nofile() {
    if !root() {
        return;
    }
    let s = isolated(&[]);
    let c = s.client();
    py(&c, "fds", "def handler(event, context):\n    fs = []\n    try:\n        while True:\n            fs.append(open('/dev/null'))\n    except OSError as e:\n        return {'opened': len(fs), 'error': e.strerror}\n", 128, 10);
    let (v, _, _) = call(&c, "fds", "{}");
    assert_eq!(v["error"], "Too many open files", "{v}");
    assert!(v["opened"].as_u64().unwrap() < 1024);
}

#[test]
fn tmp_is_limited_to_the_ephemeral_size() {
    if !root() {
        return;
    }
    let s = isolated(&[]);
    let c = s.client();
    py(&c, "fill", "def handler(event, context):\n    n = 0\n    chunk = b'x' * (1 << 20)\n    try:\n        with open('/tmp/fill', 'wb') as f:\n            while True:\n                f.write(chunk)\n                f.flush()\n                n += 1\n    except OSError as e:\n        return {'mb': n, 'error': e.strerror}\n", 1024, 30);
    let (v, _, _) = call(&c, "fill", "{}");
    assert_eq!(v["error"], "No space left on device", "{v}");
    let mb = v["mb"].as_u64().unwrap();
    assert!((500..=512).contains(&mb), "{v}");
}

#[test]
fn endless_loop_and_stdout_flood_are_contained() {
    if !root() {
        return;
    }
    let s = isolated(&[]);
    let c = s.client();
    py(&c, "calm", CALM, 128, 10);
    py(
        &c,
        "spin",
        "def handler(event, context):\n    while True:\n        pass\n",
        128,
        3,
    );
    py(&c, "flood", "import sys\ndef handler(event, context):\n    line = 'y' * 1000\n    for _ in range(30000):\n        print(line)\n    return 'flooded'\n", 128, 30);
    let t = Instant::now();
    let (_, raw, log) = call(&c, "spin", "{}");
    assert_eq!(raw.header("x-func-err-code"), Some("4010"));
    assert!(log.contains("InvocationTimedOut"), "{log}");
    assert!(t.elapsed() < Duration::from_secs(6));
    let (v, _, log) = call(&c, "flood", "{}");
    assert_eq!(v, "flooded");
    assert!(log.len() <= 2048 + 100);
    neighbour_ok(&c);
    assert_eq!(
        raw_http(
            &s.endpoint,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .0,
        200
    );
}

fn connector(port: u16) -> String {
    format!(
        "import socket\ndef handler(event, context):\n    out = {{}}\n    for host in ['127.0.0.1', '10.0.2.2']:\n        s = socket.socket()\n        s.settimeout(2)\n        try:\n            s.connect((host, {port}))\n            out[host] = 'connected'\n        except OSError as e:\n            out[host] = str(e)\n        finally:\n            s.close()\n    return out\n"
    )
}

#[test]
fn instances_cannot_reach_the_platform_api() {
    if !root() {
        return;
    }
    let s = isolated(&[]);
    let c = s.client();
    let port: u16 = s.endpoint.rsplit(':').next().unwrap().parse().unwrap();
    py(&c, "probe", &connector(port), 128, 10);
    let (v, _, _) = call(&c, "probe", "{}");
    assert_ne!(v["127.0.0.1"], "connected", "{v}");
    assert_ne!(v["10.0.2.2"], "connected", "{v}");
}

/// Global IPv4 addresses of this host, from iproute2.
fn host_ipv4() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show", "scope", "global"])
        .output();
    let Ok(out) = out else { return Vec::new() };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .filter_map(|a| a.split('/').next())
        .map(str::to_string)
        .collect()
}

const PROBE_HOSTS: &str = "import socket\ndef handler(event, context):\n    out = {}\n    for host in event['hosts']:\n        s = socket.socket()\n        s.settimeout(2)\n        try:\n            s.connect((host, event['port']))\n            out[host] = 'connected'\n        except OSError as e:\n            out[host] = str(e)\n        finally:\n            s.close()\n    return out\n";

#[test]
fn instances_cannot_reach_host_addresses() {
    if !root() {
        return;
    }
    if !std::path::Path::new("/usr/bin/slirp4netns").exists() {
        eprintln!("SKIP: slirp4netns is not installed; no outbound path to test");
        return;
    }
    let hosts = host_ipv4();
    if hosts.is_empty() {
        eprintln!("SKIP: this host has no global IPv4 address");
        return;
    }
    // A service on every host address stands for the API started with `--listen 0.0.0.0`.
    let service = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = service.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in service.incoming().flatten() {
            drop(s);
        }
    });
    let event = serde_json::json!({"hosts": hosts, "port": port}).to_string();
    // With ready-made network namespaces (the default) and with one made per start.
    for pool in ["4", "0"] {
        let s = isolated(&["--netns-pool", pool]);
        let c = s.client();
        py(&c, "probe", PROBE_HOSTS, 128, 10);
        let (v, _, _) = call(&c, "probe", &event);
        for h in &hosts {
            assert_ne!(
                v[h.as_str()],
                "connected",
                "netns pool {pool}, host address {h}: {v}"
            );
        }
    }
    // The same probe with host access allowed connects, so the check above can fail.
    let s = isolated(&["--allow-instance-host-access"]);
    let c = s.client();
    py(&c, "probe", PROBE_HOSTS, 128, 10);
    let mut reached = false;
    for _ in 0..20 {
        let (v, _, _) = call(&c, "probe", &event);
        if v[hosts[0].as_str()] == "connected" {
            reached = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(reached, "with host access allowed the host address answers");
}

#[test]
fn outbound_network_works_and_can_be_turned_off() {
    if !root() {
        return;
    }
    if !std::path::Path::new("/usr/bin/slirp4netns").exists() {
        eprintln!("SKIP: slirp4netns is not installed (apt-get install slirp4netns); outbound network not tested");
        return;
    }
    // A listener on the host's loopback stands for "the outside": with host access allowed,
    // slirp4netns maps 10.0.2.2 to it, which proves packets leave the instance's namespace.
    let outside = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = outside.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in outside.incoming().flatten() {
            drop(s);
        }
    });
    let s = isolated(&["--allow-instance-host-access"]);
    let c = s.client();
    py(&c, "net", &connector(port), 128, 10);
    let mut reached = false;
    for _ in 0..20 {
        let (v, _, _) = call(&c, "net", "{}");
        if v["10.0.2.2"] == "connected" {
            reached = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        reached,
        "the instance reaches the outside through slirp4netns"
    );
    let off = stratus_api_types::FunctionBody {
        func_name: Some("net".into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(128),
        timeout: Some(10),
        other: [(
            "network_controller".to_string(),
            serde_json::json!({"disable_public_network": true}),
        )]
        .into(),
        ..Default::default()
    };
    c.update_config("net", &off).unwrap();
    let (v, _, _) = call(&c, "net", "{}");
    assert_ne!(v["10.0.2.2"], "connected", "public access off: {v}");
}

#[test]
fn http_functions_each_own_port_8000() {
    if !root() {
        return;
    }
    let s = isolated(&[]);
    let c = s.client();
    let server = "import http.server, json, os, time\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        time.sleep(0.3)\n        body = json.dumps({'path': self.path, 'rid': self.headers.get('X-CFF-Request-Id'), 'host': os.uname().nodename}).encode()\n        self.send_response(200)\n        self.send_header('Content-Type', 'application/json')\n        self.send_header('Content-Length', str(len(body)))\n        self.end_headers()\n        self.wfile.write(body)\nhttp.server.HTTPServer(('127.0.0.1', 8000), H).serve_forever()\n";
    let boot =
        "/opt/function/runtime/python3.6/rtsp/python/bin/python3 -u $RUNTIME_CODE_ROOT/index.py\n";
    create(
        &c,
        "webpy",
        "http",
        "bootstrap",
        &[("index.py", server, 0o644), ("bootstrap", boot, 0o644)],
    );
    let node = "require('http').createServer((req, res) => { setTimeout(() => { res.setHeader('content-type', 'text/plain'); res.end('node ' + req.method + ' ' + req.url + ' ' + require('os').hostname()); }, 300); }).listen(8000, '127.0.0.1');\n";
    let nboot =
        "/opt/function/runtime/nodejs18.15/rtsp/nodejs/bin/node $RUNTIME_CODE_ROOT/server.js\n";
    create(
        &c,
        "webjs",
        "http",
        "bootstrap",
        &[("server.js", node, 0o644), ("bootstrap", nboot, 0o755)],
    );
    let event = r#"{"httpMethod":"GET","path":"/user/get","queryStringParameters":{"q":"1"},"headers":{},"body":""}"#;
    for name in ["webpy", "webjs"] {
        let creds = s.credentials();
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let creds = creds.clone();
                std::thread::spawn(move || {
                    let c = Client::new(creds);
                    let (r, _) = c
                        .invoke(name, event.as_bytes(), &InvokeOptions::default())
                        .unwrap();
                    serde_json::from_str::<serde_json::Value>(&r.result).unwrap()
                })
            })
            .collect();
        let results: Vec<serde_json::Value> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        let mut hosts = std::collections::HashSet::new();
        for r in &results {
            assert_eq!(r["statusCode"], 200, "{r}");
            let body = r["body"].as_str().unwrap();
            assert!(body.contains("/user/get?q=1"), "{body}");
            let host = body
                .split("fn-")
                .nth(1)
                .unwrap()
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>();
            hosts.insert(host);
        }
        assert_eq!(
            hosts.len(),
            3,
            "three instances served in parallel, each on its own port 8000: {results:?}"
        );
    }
}

#[test]
fn host_directories_mount_under_mnt() {
    if !root() {
        return;
    }
    let share = tempfile::tempdir().unwrap();
    std::fs::write(share.path().join("hello.txt"), "from the host").unwrap();
    let root_arg = share.path().display().to_string();
    let s = isolated(&["--mount-root", &root_arg]);
    let c = s.client();
    // The share is written by uid 1003 inside.
    std::fs::set_permissions(
        share.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let mut body = stratus_api_types::FunctionBody {
        func_name: Some("mnt".into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(128),
        timeout: Some(10),
        code_type: Some("zip".into()),
        func_code: Some(stratus_api_types::FuncCode {
            file: Some(b64(&zip(&[("index.py", "def handler(e, c):\n    open('/mnt/share/out.txt', 'w').write('from the function')\n    return open('/mnt/share/hello.txt').read()\n", 0o644)]))),
            link: None,
        }),
        ..Default::default()
    };
    let mount = |path: &str, target: &str| {
        serde_json::json!({"mount_user": {"user_id": -1, "user_group_id": -1},
            "func_mounts": [{"mount_type": "ecs", "mount_resource": "local", "mount_share_path": path, "local_mount_path": target}]})
    };
    body.other
        .insert("mount_config".into(), mount("/etc", "/mnt/share"));
    match c.create_function(&body, |_, _| {}) {
        Err(ClientError::Api {
            status: 400, msg, ..
        }) => assert!(msg.contains("allowed mount roots"), "{msg}"),
        other => panic!("{other:?}"),
    }
    body.other
        .insert("mount_config".into(), mount(&root_arg, "/data"));
    assert!(matches!(
        c.create_function(&body, |_, _| {}),
        Err(ClientError::Api { status: 400, .. })
    ));
    body.other
        .insert("mount_config".into(), mount(&root_arg, "/mnt/share"));
    c.create_function(&body, |_, _| {}).unwrap();
    let (v, _, _) = call(&c, "mnt", "{}");
    assert_eq!(v, "from the host");
    assert_eq!(
        std::fs::read_to_string(share.path().join("out.txt")).unwrap(),
        "from the function"
    );
}

/// A bootstrap that looks for its tap device at its first instruction, then answers
/// every request with what it saw.
const SH_TAP_AT_START: &str = r#"#!/bin/sh
SEEN=$(grep -c tap0 /proc/net/dev || true)
while true; do
  RID=$(curl -sS -D - -o /dev/null "http://$RUNTIME_API_ADDR/v1/runtime/invocation/request" \
    | grep -i x-cff-request-id | tr -d '[:space:]' | cut -d: -f2)
  curl -sS -o /dev/null -X POST "http://$RUNTIME_API_ADDR/v1/runtime/invocation/response/$RID" \
    -d "{\"tap0\": $SEEN}"
done
"#;

#[test]
fn pooled_namespaces_have_outbound_network_at_start() {
    if !root() {
        return;
    }
    if !std::path::Path::new("/usr/bin/slirp4netns").exists() {
        eprintln!("SKIP: slirp4netns is not installed; outbound network not tested");
        return;
    }
    let s = isolated(&["--prewarm", "0", "--netns-pool", "2"]);
    // The pool's thread starts a slirp4netns for each namespace it makes.
    let pid = s.pid().to_string();
    let slirps = || {
        let out = std::process::Command::new("pgrep")
            .args(["-c", "-P", &pid, "slirp4netns"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .unwrap_or(0)
    };
    assert!(
        wait_until(Duration::from_secs(10), || slirps() >= 2),
        "the netns pool did not start its slirp4netns"
    );
    let c = s.client();
    create(
        &c,
        "tap",
        "Custom",
        "bootstrap",
        &[("bootstrap", SH_TAP_AT_START, 0o755)],
    );
    let (v, raw, _) = call(&c, "tap", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v}");
    assert_eq!(
        v["tap0"], 1,
        "no configured tap0 at the instance's first instruction: {v}"
    );
}

#[test]
fn instances_that_keep_failing_back_off() {
    if !root() {
        return;
    }
    let s = isolated(&[]);
    let c = s.client();
    create(
        &c,
        "crash",
        "Custom",
        "bootstrap",
        &[("bootstrap", "#!/bin/sh\necho dying >&2\nexit 3\n", 0o755)],
    );
    for _ in 0..3 {
        let (v, raw, _) = call(&c, "crash", "{}");
        assert_eq!(raw.header("x-is-func-err"), Some("true"), "{v}");
    }
    let t = Instant::now();
    let (v, _, log) = call(&c, "crash", "{}");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .contains("CrashLoopBackOff"),
        "{v}"
    );
    assert!(log.contains("InitializationFailed"), "{log}");
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "no new start while backing off"
    );
}
