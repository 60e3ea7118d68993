//! Container-image functions end to end: an OCI image built in the test from Debian's
//! busybox-static (with umoci), run from its layout directory and from a loopback
//! `docker-registry` (pushed with skopeo), under the isolated sandbox. Tests that lack
//! root or a tool print why they are skipped.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use stratus_client::{Client, ClientError, InvokeOptions};

const BUSYBOX: &str = "/bin/busybox";

/// The image's server: `nc -ll -e` runs this once per connection. It answers `/init`
/// (counted in /tmp, its context headers kept there) and `/invoke` (echoes the event,
/// the context headers, those /init got and what the instance sees), and fails on an
/// event holding "fail".
const HANDLER: &str = r#"#!/bin/sh
read -r method path proto
len=0; rid=""; mem=""; fname=""; tmo=""; fver=""; proj=""; itype=""; dl=""
while read -r line; do
  line=$(printf '%s' "$line" | tr -d '\r')
  [ -z "$line" ] && break
  name=$(printf '%s' "${line%%:*}" | tr 'A-Z' 'a-z')
  value="${line#*: }"
  case "$name" in
    content-length) len=$value ;;
    x-cff-request-id) rid=$value ;;
    x-cff-memory) mem=$value ;;
    x-cff-func-name) fname=$value ;;
    x-cff-timeout) tmo=$value ;;
    x-cff-func-version) fver=$value ;;
    x-cff-project-id) proj=$value ;;
    x-cff-invoke-type) itype=$value ;;
    x-cff-deadline-ms) dl=$value ;;
  esac
done
body=""
if [ "$len" -gt 0 ]; then body=$(head -c "$len"); fi
reply() {
  printf 'HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' "$1" "$(printf '%s' "$2" | wc -c)" "$2"
}
case "$path" in
  /init)
    if [ -n "$FAIL_INIT" ]; then reply "503 Service Unavailable" "not today"; exit 0; fi
    echo init >> /tmp/inits
    printf 'id=%s mem=%s func=%s timeout=%s version=%s project=%s type=%s deadline=%s' \
      "$rid" "$mem" "$fname" "$tmo" "$fver" "$proj" "$itype" "$dl" > /tmp/init-ctx
    reply "200 OK" "init done"
    ;;
  /invoke)
    echo "image handling $rid" >&2
    case "$body" in
      *fail*) reply "500 Internal Server Error" '{"errorMessage":"asked to fail"}'; exit 0 ;;
      *sleep*) sleep 30 ;;
      *hog*) hog=$(head -c 400000000 /dev/zero | tr '\0' a); echo "${#hog}" >&2 ;;
    esac
    if touch /written 2>/dev/null; then rootw=yes; else rootw=no; fi
    if touch /bin/written 2>/dev/null; then binw=yes; else binw=no; fi
    if touch /tmp/written 2>/dev/null; then tmpw=yes; else tmpw=no; fi
    inits=$(cat /tmp/inits 2>/dev/null | wc -l)
    hosts=$(grep -c localhost /etc/hosts)
    ictx=$(cat /tmp/init-ctx 2>/dev/null)
    resp=$(printf '{"event":%s,"request_id":"%s","memory":"%s","func":"%s","timeout":"%s","uid":"%s","gid":"%s","cwd":"%s","greeting":"%s","image_env":"%s","root_writable":"%s","bin_writable":"%s","tmp_writable":"%s","inits":%s,"hosts":%s,"init_ctx":"%s"}' \
      "$body" "$rid" "$mem" "$fname" "$tmo" "$(id -u)" "$(id -g)" "$(pwd)" "$GREETING" "$FROM_IMAGE" "$rootw" "$binw" "$tmpw" "$inits" "$hosts" "$ictx")
    reply "200 OK" "$resp"
    ;;
  *) reply "404 Not Found" "no such path" ;;
esac
"#;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether this host can run the tests; prints why not.
fn ready(tools: &[&str]) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIP: container images need the isolated sandbox, which needs root");
        return false;
    }
    if !Path::new(BUSYBOX).exists() {
        eprintln!("SKIP: {BUSYBOX} is missing (Debian package busybox-static)");
        return false;
    }
    for t in tools {
        if !have(t) {
            eprintln!("SKIP: {t} is not installed (Debian package {t})");
            return false;
        }
    }
    true
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the busybox image as an OCI layout at `<dir>/layout`, tag `latest`.
fn build_image(dir: &Path) -> PathBuf {
    build_image_as(dir, "layout", |_| {})
}

/// Builds the busybox image as an OCI layout at `<dir>/<name>`; `extra` may add to the
/// staged root first.
fn build_image_as(dir: &Path, name: &str, extra: impl FnOnce(&Path)) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let stage = dir.join(format!("{name}-stage"));
    std::fs::create_dir_all(stage.join("bin")).unwrap();
    std::fs::copy(BUSYBOX, stage.join("bin/busybox")).unwrap();
    for tool in [
        "sh", "cat", "wc", "tr", "head", "id", "pwd", "touch", "printf", "sleep", "grep",
    ] {
        std::os::unix::fs::symlink("busybox", stage.join("bin").join(tool)).unwrap();
    }
    std::fs::write(stage.join("bin/handler"), HANDLER).unwrap();
    std::fs::set_permissions(
        stage.join("bin/handler"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    extra(&stage);
    let layout = dir.join(name);
    let image = format!("{}:latest", layout.display());
    run(Command::new("umoci")
        .args(["init", "--layout"])
        .arg(&layout));
    run(Command::new("umoci").args(["new", "--image", &image]));
    run(Command::new("umoci")
        .args(["insert", "--image", &image])
        .arg(&stage)
        .arg("/"));
    run(Command::new("umoci").args([
        "config",
        "--image",
        &image,
        "--config.entrypoint",
        "/bin/busybox",
        "--config.entrypoint",
        "nc",
        "--config.cmd",
        "-ll",
        "--config.cmd",
        "-p",
        "--config.cmd",
        "8000",
        "--config.cmd",
        "-e",
        "--config.cmd",
        "/bin/handler",
        "--config.env",
        "PATH=/bin",
        "--config.env",
        "FROM_IMAGE=set-by-image",
        "--config.workingdir",
        "/bin",
    ]));
    layout
}

fn server(layouts: &Path, sandbox: &str) -> Server {
    let root = layouts.to_str().unwrap();
    let s = Server::start(&["--sandbox", sandbox, "--image-layout-root", root]);
    let want = format!("sandbox: {sandbox}");
    assert!(wait_until(Duration::from_secs(5), || s
        .stderr
        .lock()
        .unwrap()
        .contains(&want)));
    s
}

fn body(name: &str, custom_image: serde_json::Value) -> stratus_api_types::FunctionBody {
    let mut b = stratus_api_types::FunctionBody {
        func_name: Some(name.into()),
        runtime: Some("Custom Image".into()),
        handler: Some("-".into()),
        memory_size: Some(128),
        timeout: Some(10),
        code_type: Some("Custom-Image-Swr".into()),
        user_data: Some(r#"{"GREETING":"hello from the function"}"#.into()),
        ..Default::default()
    };
    b.other.insert("custom_image".into(), custom_image);
    b
}

fn create_image_fn(
    c: &Client,
    name: &str,
    custom_image: serde_json::Value,
) -> Result<stratus_api_types::FunctionConfig, ClientError> {
    c.create_function(&body(name, custom_image), |_, _| {})
}

fn invoke(
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

fn status_of(e: ClientError) -> (u16, String) {
    match e {
        ClientError::Api { status, msg, .. } => (status, msg),
        other => panic!("expected an API error, got {other}"),
    }
}

#[test]
fn image_from_layout_gets_event_context_and_sandbox() {
    if !ready(&["umoci"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let layout = build_image(&dir_path);
    let s = server(&dir_path, "isolated");
    let c = s.client();
    let image = format!("oci:{}:latest", layout.display());
    let cfg = create_image_fn(
        &c,
        "echo-image",
        serde_json::json!({"enabled": true, "image": image}),
    )
    .unwrap();
    assert_eq!(cfg.runtime, "Custom Image");

    let (v, raw, log) = invoke(&c, "echo-image", r#"{"hello":"image"}"#);
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v} {log}");
    assert_eq!(v["event"], serde_json::json!({"hello": "image"}));
    assert!(!v["request_id"].as_str().unwrap().is_empty(), "{v}");
    assert_eq!(v["memory"], "128");
    assert_eq!(v["timeout"], "10");
    assert_eq!(v["func"], "echo-image");
    assert_eq!(v["uid"], "1003", "guide 4.4: containers run as 1003");
    assert_eq!(v["gid"], "1003");
    assert_eq!(v["cwd"], "/bin", "the image's WorkingDir");
    assert_eq!(v["greeting"], "hello from the function");
    assert_eq!(v["image_env"], "set-by-image");
    assert_eq!(v["root_writable"], "no", "{v}");
    assert_eq!(v["bin_writable"], "no", "{v}");
    assert_eq!(v["tmp_writable"], "yes", "{v}");
    assert_eq!(v["inits"], 1, "POST /init runs once before the first event");
    // /init got the context headers too, with the id of the request that started it.
    let ictx = v["init_ctx"].as_str().unwrap();
    let want = format!(
        "id={} mem=128 func=echo-image timeout=10 version=latest project={} type= deadline=",
        v["request_id"].as_str().unwrap(),
        s.credentials().project_id
    );
    assert!(ictx.starts_with(&want), "{ictx} does not start with {want}");
    let deadline: i64 = ictx.rsplit('=').next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        deadline > now - 60_000 && deadline < now + 60_000,
        "X-Cff-Deadline-Ms at init: {ictx}"
    );
    assert!(log.contains("image handling"), "{log}");
    assert!(
        v["hosts"].as_u64().unwrap() >= 1,
        "/etc/hosts names localhost: {v}"
    );

    // A warm instance: /init is not called again.
    let (v, _, _) = invoke(&c, "echo-image", r#"[1,2,3]"#);
    assert_eq!(v["event"], serde_json::json!([1, 2, 3]));
    assert_eq!(v["inits"], 1);

    // A non-2xx answer of /invoke is a function error with the body as result.
    let (v, raw, _) = invoke(&c, "echo-image", r#"{"fail":true}"#);
    assert_eq!(raw.header("x-is-func-err"), Some("true"));
    assert_eq!(v["errorMessage"], "asked to fail");

    // Overrides: command and args, working dir, user and group.
    create_image_fn(
        &c,
        "override-image",
        serde_json::json!({
            "enabled": true,
            "image": format!("oci:{}", layout.display()),
            "command": "/bin/busybox,nc",
            "args": "-ll,-p,8000,-e,/bin/handler",
            "working_dir": "/tmp",
            "uid": "2000",
            "gid": "2001",
        }),
    )
    .unwrap();
    let (v, raw, log) = invoke(&c, "override-image", r#"{"n":1}"#);
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v} {log}");
    assert_eq!(v["uid"], "2000");
    assert_eq!(v["gid"], "2001");
    assert_eq!(v["cwd"], "/tmp");
    assert_eq!(v["event"]["n"], 1);

    // Limits are reported as for every runtime: the timeout, and memory (the handler
    // process the kernel kills is a child of the server, which itself survives).
    let mut slow = body(
        "slow-image",
        serde_json::json!({"image": format!("oci:{}", layout.display())}),
    );
    slow.timeout = Some(3);
    c.create_function(&slow, |_, _| {}).unwrap();
    let (v, raw, log) = invoke(&c, "slow-image", r#"{"sleep":true}"#);
    assert_eq!(raw.header("x-is-func-err"), Some("true"));
    assert_eq!(v["errorType"], "InvokeTimeout", "{v}");
    assert!(log.contains("InvocationTimedOut"), "{log}");
    let (v, raw, _) = invoke(&c, "slow-image", "{}");
    assert_eq!(
        raw.header("x-is-func-err"),
        Some("false"),
        "a new instance: {v}"
    );
    let (v, raw, log) = invoke(&c, "echo-image", r#"{"hog":true}"#);
    assert_eq!(raw.header("x-is-func-err"), Some("true"), "{v}");
    assert_eq!(v["errorType"], "RuntimeMemoryExceedLimit", "{v}");
    assert!(log.contains("RuntimeMemoryExceedLimit"), "{log}");
    let (v, raw, _) = invoke(&c, "echo-image", r#"{"after":"oom"}"#);
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v}");
    assert_eq!(v["inits"], 1, "a new instance ran /init again: {v}");

    // A command that is not in the image fails the start clearly.
    create_image_fn(
        &c,
        "missing-command",
        serde_json::json!({"image": format!("oci:{}", layout.display()), "command": "node,main.js"}),
    )
    .unwrap();
    let (v, raw, _) = invoke(&c, "missing-command", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("true"));
    assert_eq!(v["errorType"], "ImageCommandNotFound", "{v}");
}

/// The same image under a server run as uid 65534 (user-namespace mode): the image root
/// is bound read-only with its file system's locked flags kept, ids are mapped.
#[test]
fn image_runs_in_user_namespace_mode() {
    if !ready(&["umoci"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let Some(bin) = common::nobody::prepare("image_runs_in_user_namespace_mode", &dir_path) else {
        return;
    };
    let layout = build_image(&dir_path);
    // The server (nobody) reads the layout umoci wrote as root.
    run(Command::new("chmod").args(["-R", "a+rX"]).arg(&dir_path));
    let root = dir_path.to_str().unwrap().to_string();
    let s = common::nobody::start_nobody(
        &bin,
        common::nobody::data_dir_for_nobody(),
        &["--image-layout-root", &root],
    );
    let c = s.client();
    create_image_fn(
        &c,
        "echo-image",
        serde_json::json!({"enabled": true, "image": format!("oci:{}:latest", layout.display())}),
    )
    .unwrap();
    let (v, raw, log) = invoke(&c, "echo-image", r#"{"hello":"userns"}"#);
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v} {log}");
    assert_eq!(v["event"], serde_json::json!({"hello": "userns"}));
    assert_eq!(v["uid"], "1003", "{v}");
    assert_eq!(v["gid"], "1003", "{v}");
    assert_eq!(v["root_writable"], "no", "{v}");
    assert_eq!(v["bin_writable"], "no", "{v}");
    assert_eq!(v["tmp_writable"], "yes", "{v}");
    assert_eq!(v["inits"], 1, "{v}");
    create_image_fn(
        &c,
        "override-image",
        serde_json::json!({
            "enabled": true,
            "image": format!("oci:{}", layout.display()),
            "uid": "2000",
            "gid": "2001",
        }),
    )
    .unwrap();
    let (v, raw, log) = invoke(&c, "override-image", r#"{"n":1}"#);
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v} {log}");
    assert_eq!(v["uid"], "2000", "the image's uid is the one mapped: {v}");
    assert_eq!(v["gid"], "2001", "{v}");
}

#[test]
fn bad_image_settings_are_refused_and_pull_failures_are_clear() {
    if !ready(&["umoci"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let layout = build_image(&dir_path);
    let s = server(&dir_path, "isolated");
    let c = s.client();
    let good = format!("oci:{}", layout.display());
    let cases = [
        serde_json::json!({"image": "no spaces allowed"}),
        serde_json::json!({"image": "ftp://host/repo"}),
        serde_json::json!({}),
        serde_json::json!({"image": "oci:/etc"}),
        serde_json::json!({"image": format!("oci:{}/nothing-here", dir_path.display())}),
        serde_json::json!({"image": good, "uid": "0"}),
        serde_json::json!({"image": good, "gid": "1000"}),
        serde_json::json!({"image": good, "uid": "root"}),
        serde_json::json!({"image": good, "working_dir": "relative"}),
        serde_json::json!({"image": good, "enabled": false}),
        serde_json::json!({"image": good, "uid": 1003}),
    ];
    for (i, ci) in cases.iter().enumerate() {
        let e = create_image_fn(&c, &format!("bad-{i}"), ci.clone()).unwrap_err();
        let (status, msg) = status_of(e);
        assert_eq!(status, 400, "{ci}: {msg}");
        assert!(msg.contains("custom_image"), "{ci}: {msg}");
    }
    // Another runtime cannot take an image.
    let mut py = body(
        "py-image",
        serde_json::json!({"enabled": true, "image": good}),
    );
    py.runtime = Some("Python3.9".into());
    py.code_type = Some("zip".into());
    py.func_code = Some(stratus_api_types::FuncCode {
        file: Some(b64(&zip(&[(
            "index.py",
            "def handler(e, c):\n    return 1\n",
            0o644,
        )]))),
        link: None,
    });
    assert_eq!(
        status_of(c.create_function(&py, |_, _| {}).unwrap_err()).0,
        400
    );
    let mut swr = py.clone();
    swr.other.clear();
    swr.code_type = Some("Custom-Image-Swr".into());
    assert_eq!(
        status_of(c.create_function(&swr, |_, _| {}).unwrap_err()).0,
        400
    );
    // Nothing was stored.
    let (code, listed) = raw_list(&c);
    assert_eq!(code, 200);
    assert_eq!(listed, 0, "a refused create must store nothing");

    // An update with bad settings changes nothing.
    create_image_fn(&c, "ok-image", serde_json::json!({"image": good})).unwrap();
    let mut upd = body("ok-image", serde_json::json!({"image": good, "uid": "0"}));
    upd.code_type = None;
    let e = c.update_config("ok-image", &upd).unwrap_err();
    assert_eq!(status_of(e).0, 400);
    let (v, raw, _) = invoke(&c, "ok-image", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v}");
    assert_eq!(v["uid"], "1003");

    // An initializer that answers an error fails the start, with its answer.
    let mut init = body("bad-init", serde_json::json!({"image": good}));
    init.user_data = Some(r#"{"FAIL_INIT":"1"}"#.into());
    c.create_function(&init, |_, _| {}).unwrap();
    let (v, raw, _) = invoke(&c, "bad-init", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("true"));
    let msg = v["errorMessage"].as_str().unwrap_or_default();
    assert!(
        msg.contains("/init") && msg.contains("503") && msg.contains("not today"),
        "{v}"
    );

    // An image whose /tmp is a symbolic link out of it is refused, never followed.
    let evil = build_image_as(&dir_path, "evil", |stage| {
        std::os::unix::fs::symlink("/etc", stage.join("tmp")).unwrap();
    });
    create_image_fn(
        &c,
        "evil-tmp",
        serde_json::json!({"image": format!("oci:{}", evil.display())}),
    )
    .unwrap();
    let (v, raw, _) = invoke(&c, "evil-tmp", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("true"));
    assert_eq!(v["errorType"], "ImageStartFailed", "{v}");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .contains("/tmp must be a directory"),
        "{v}"
    );

    // A registry that cannot be reached: the reference is fine, the pull fails clearly.
    create_image_fn(
        &c,
        "unreachable",
        serde_json::json!({"image": "127.0.0.1:1/nothing/here:v1"}),
    )
    .unwrap();
    let (v, raw, log) = invoke(&c, "unreachable", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("true"));
    assert_eq!(v["errorType"], "ImagePullFailed", "{v}");
    let msg = v["errorMessage"].as_str().unwrap();
    assert!(msg.contains("127.0.0.1:1/nothing/here:v1"), "{msg}");
    assert!(
        log.contains("ImagePullFailed") || log.contains("cannot get the container image"),
        "{log}"
    );
}

fn raw_list(c: &Client) -> (u16, usize) {
    match c.list_functions(0, 100) {
        Ok(list) => (200, list.functions.len()),
        Err(e) => (status_of(e).0, 0),
    }
}

#[test]
fn process_sandbox_refuses_images() {
    if !Path::new(BUSYBOX).exists() || !have("umoci") {
        eprintln!("SKIP: busybox-static or umoci is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let layout = build_image(&dir_path);
    let s = server(&dir_path, "process");
    let c = s.client();
    create_image_fn(
        &c,
        "needs-isolation",
        serde_json::json!({"image": format!("oci:{}", layout.display())}),
    )
    .unwrap();
    let (v, raw, _) = invoke(&c, "needs-isolation", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("true"));
    assert_eq!(v["errorType"], "RuntimeNotSupported", "{v}");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .contains("isolated sandbox"),
        "{v}"
    );
}

/// A loopback `docker-registry`, killed on drop.
struct Registry {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry() -> Registry {
    start_registry_with("")
}

/// A loopback registry whose config gets `extra` (YAML) appended.
fn start_registry_with(extra: &str) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{extra}",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reg = Registry {
        child,
        port,
        _dir: dir,
    };
    assert!(
        wait_until(Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        }),
        "docker-registry did not listen on {port}"
    );
    reg
}

#[test]
fn image_from_loopback_registry() {
    if !ready(&["umoci", "skopeo", "docker-registry"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let layout = build_image(&dir_path);
    let reg = start_registry();
    let dest = format!("docker://127.0.0.1:{}/stratus/echo:v1", reg.port);
    run(Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(&dest));

    // No layout roots: registry references need none.
    let s = Server::start(&["--sandbox", "isolated"]);
    let c = s.client();
    let image = format!("127.0.0.1:{}/stratus/echo:v1", reg.port);
    create_image_fn(&c, "from-registry", serde_json::json!({"image": image})).unwrap();
    let (v, raw, log) = invoke(&c, "from-registry", r#"{"pulled":true}"#);
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v} {log}");
    assert_eq!(v["event"], serde_json::json!({"pulled": true}));
    assert_eq!(v["uid"], "1003");
    assert_eq!(v["image_env"], "set-by-image");

    // Local layouts are refused on a server that allows none.
    let e = create_image_fn(
        &c,
        "local",
        serde_json::json!({"image": format!("oci:{}", layout.display())}),
    )
    .unwrap_err();
    let (status, msg) = status_of(e);
    assert_eq!(status, 400);
    assert!(msg.contains("--image-layout-root"), "{msg}");

    // A tag the registry does not have: a clear pull error at the first invocation.
    let missing = format!("127.0.0.1:{}/stratus/echo:nope", reg.port);
    create_image_fn(&c, "missing-tag", serde_json::json!({"image": missing})).unwrap();
    let (v, raw, _) = invoke(&c, "missing-tag", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("true"));
    assert_eq!(v["errorType"], "ImagePullFailed", "{v}");
    drop(reg);
}

/// A bcrypt htpasswd line (what `docker-registry`'s htpasswd auth reads), from
/// `htpasswd -B` (apache2-utils) or Python's crypt module; `None` when neither works.
/// Cost 4 (2^4 rounds): the registry checks the password on every request.
fn htpasswd_line(user: &str, password: &str) -> Option<String> {
    let from_htpasswd = Command::new("htpasswd")
        .args(["-nbB", "-C", "4", user, password])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let from_python = || {
        Command::new("python3")
            .args([
                "-W",
                "ignore",
                "-c",
                "import crypt, sys; print(sys.argv[1] + ':' + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))",
                user,
                password,
            ])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    from_htpasswd
        .or_else(from_python)
        .filter(|l| l.starts_with(&format!("{user}:$2")))
}

fn write_auth(path: &Path, json: &serde_json::Value) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, json.to_string()).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn private_registry_needs_the_configured_credentials() {
    if !ready(&["umoci", "skopeo", "docker-registry"]) {
        return;
    }
    let password = "s3cret-pass";
    let Some(line) = htpasswd_line("alice", password) else {
        eprintln!("SKIP: no bcrypt htpasswd generator (apache2-utils or python3 crypt)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let htpasswd = dir_path.join("htpasswd");
    std::fs::write(&htpasswd, format!("{line}\n")).unwrap();
    // Plain http on loopback: the registry takes basic auth without TLS.
    let reg = start_registry_with(&format!(
        "auth:\n  htpasswd:\n    realm: stratus-test\n    path: {}\n",
        htpasswd.display()
    ));
    let layout = build_image(&dir_path);
    let host = format!("127.0.0.1:{}", reg.port);
    run(Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--dest-tls-verify=false"])
        .arg(format!("--dest-creds=alice:{password}"))
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!("docker://{host}/private/echo:v1")));
    let image = format!("{host}/private/echo:v1");

    // No credentials file yet: the default path is read at each pull.
    let s = Server::start(&["--sandbox", "isolated"]);
    let c = s.client();
    let auth_file = s.data_dir().join("registry-auth.json");
    create_image_fn(&c, "anonymous", serde_json::json!({"image": image})).unwrap();
    let (v, raw, _) = invoke(&c, "anonymous", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("true"), "{v}");
    assert_eq!(v["errorType"], "ImagePullFailed", "{v}");
    let msg = v["errorMessage"].as_str().unwrap();
    assert!(
        msg.contains(&host) && msg.contains("none are configured"),
        "{msg}"
    );

    // A wrong password ("auth" form): refused, and the message says which registry.
    write_auth(
        &auth_file,
        &serde_json::json!({"auths": {host.clone(): {"auth": b64(b"alice:wrong-pass")}}}),
    );
    create_image_fn(&c, "wrong-password", serde_json::json!({"image": image})).unwrap();
    let (v, raw, _) = invoke(&c, "wrong-password", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("true"), "{v}");
    assert_eq!(v["errorType"], "ImagePullFailed", "{v}");
    let msg = v["errorMessage"].as_str().unwrap();
    assert!(
        msg.contains(&format!("registry {host} refused the credentials")),
        "{msg}"
    );
    assert!(!msg.contains("wrong-pass"), "the secret leaked: {msg}");

    // The right one ("username"/"password" form, under an http:// key): pulled.
    write_auth(
        &auth_file,
        &serde_json::json!({"auths": {format!("http://{host}"): {"username": "alice", "password": password}}}),
    );
    create_image_fn(&c, "with-password", serde_json::json!({"image": image})).unwrap();
    let (v, raw, log) = invoke(&c, "with-password", r#"{"private":true}"#);
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v} {log}");
    assert_eq!(v["event"], serde_json::json!({"private": true}));
    let stderr = s.stderr.lock().unwrap().clone();
    assert!(
        !stderr.contains(password) && !stderr.contains("wrong-pass"),
        "the server logged a secret: {stderr}"
    );
    drop(s);

    // --registry-auth names a file, checked at start: a broken one stops the server.
    let bad = dir_path.join("bad-auth.json");
    std::fs::write(&bad, r#"{"auths": {"x": {"auth": "!!"}}}"#).unwrap();
    let out = Command::new("timeout")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_stratus"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--gateway-listen",
            "127.0.0.1:0",
        ])
        .arg("--data-dir")
        .arg(dir_path.join("data-bad"))
        .arg("--registry-auth")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad-auth.json") && err.contains("not valid base64"),
        "{err}"
    );

    // A good one given with --registry-auth works like the default file.
    let good = dir_path.join("auth.json");
    write_auth(
        &good,
        &serde_json::json!({"auths": {host.clone(): {"auth": b64(format!("alice:{password}").as_bytes())}}}),
    );
    let s = Server::start(&[
        "--sandbox",
        "isolated",
        "--registry-auth",
        good.to_str().unwrap(),
    ]);
    let c = s.client();
    create_image_fn(&c, "flag-file", serde_json::json!({"image": image})).unwrap();
    let (v, raw, log) = invoke(&c, "flag-file", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v} {log}");
    drop(reg);
}

/// The entries of a directory of the image store.
fn store_entries(data: &Path, sub: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(data.join("images").join(sub))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn ino(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).unwrap().ino()
}

#[test]
fn images_nothing_references_are_removed() {
    if !ready(&["umoci"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    // Markers sort before bin/ (see an_image_in_use_is_kept_until_its_instance_ends).
    let marker = |name: &'static str| {
        move |stage: &Path| std::fs::write(stage.join("a-marker"), name).unwrap()
    };
    let img_a = build_image_as(&dir_path, "a", marker("a"));
    let img_b = build_image_as(&dir_path, "b", marker("b"));
    let root = dir_path.to_str().unwrap().to_string();
    // Idle instances end after a second, and with them their hold on an image.
    let args = [
        "--sandbox",
        "isolated",
        "--image-layout-root",
        &root,
        "--idle-timeout",
        "1",
    ];
    let s = Server::start(&args);
    let c = s.client();
    let a = serde_json::json!({"image": format!("oci:{}", img_a.display())});
    let b = serde_json::json!({"image": format!("oci:{}", img_b.display())});
    for (name, ci) in [("one-a", &a), ("two-a", &a)] {
        create_image_fn(&c, name, ci.clone()).unwrap();
        let (v, raw, _) = invoke(&c, name, "{}");
        assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v}");
    }
    let data = s.data_dir().to_path_buf();
    let only_a = store_entries(&data, "images");
    assert_eq!(only_a.len(), 1, "{only_a:?}");
    let a_root = data.join("images/images").join(&only_a[0]);
    let a_ino = ino(&a_root);
    create_image_fn(&c, "only-b", b.clone()).unwrap();
    let (v, raw, _) = invoke(&c, "only-b", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v}");
    assert_eq!(store_entries(&data, "images").len(), 2);
    assert_eq!(store_entries(&data, "layers").len(), 2);

    // The only function on b goes: so does b, image and layer; a stays.
    c.delete_function("only-b").unwrap();
    assert!(
        wait_until(Duration::from_secs(20), || store_entries(&data, "images")
            == only_a
            && store_entries(&data, "layers").len() == 1),
        "b is still there: {:?} {:?}",
        store_entries(&data, "images"),
        store_entries(&data, "layers")
    );
    assert_eq!(ino(&a_root), a_ino);

    // One of a's two functions goes; a restart collects at start-up: a stays, unpacked
    // once (same directory), since two-a still names it.
    c.delete_function("one-a").unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let s = Server::start_in(s.stop(), &args);
    let c = s.client();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(store_entries(&data, "images"), only_a);
    assert_eq!(ino(&a_root), a_ino, "a was removed and unpacked again");
    let (v, raw, _) = invoke(&c, "two-a", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v}");
    assert_eq!(ino(&a_root), a_ino);

    // The last function on a goes: the store is empty.
    c.delete_function("two-a").unwrap();
    assert!(
        wait_until(Duration::from_secs(20), || store_entries(&data, "images")
            .is_empty()
            && store_entries(&data, "layers").is_empty()),
        "left: {:?} {:?}",
        store_entries(&data, "images"),
        store_entries(&data, "layers")
    );
}

#[test]
fn an_image_in_use_is_kept_until_its_instance_ends() {
    if !ready(&["umoci"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    // The marker sorts before bin/: umoci 0.4.7 truncates a layer whose last entry is
    // a small regular file.
    let img_c = build_image_as(&dir_path, "c", |st| {
        std::fs::write(st.join("a-marker"), "c").unwrap()
    });
    let img_d = build_image_as(&dir_path, "d", |st| {
        std::fs::write(st.join("a-marker"), "d").unwrap()
    });
    let s = server(&dir_path, "isolated");
    let c = s.client();
    let data = s.data_dir().to_path_buf();
    let mut busy = body(
        "busy",
        serde_json::json!({"image": format!("oci:{}", img_c.display())}),
    );
    busy.timeout = Some(6);
    c.create_function(&busy, |_, _| {}).unwrap();
    // An invocation that runs until its timeout.
    let creds = s.credentials();
    let slow = std::thread::spawn(move || {
        let c = Client::new(creds);
        invoke(&c, "busy", r#"{"sleep":true}"#).0
    });
    if !wait_until(Duration::from_secs(20), || {
        store_entries(&data, "images").len() == 1
    }) {
        panic!("c was not pulled: {}", slow.join().unwrap());
    }
    let c_dir = store_entries(&data, "images");
    std::thread::sleep(Duration::from_millis(500));
    // The function moves to image d: nothing names c any more, but an instance runs
    // from it.
    let mut upd = body(
        "busy",
        serde_json::json!({"image": format!("oci:{}", img_d.display())}),
    );
    upd.code_type = None;
    upd.timeout = Some(6);
    c.update_config("busy", &upd).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(store_entries(&data, "images"), c_dir, "c went while in use");
    let v = slow.join().unwrap();
    assert_eq!(v["errorType"], "InvokeTimeout", "{v}");
    // Its instance ended: c goes.
    assert!(
        wait_until(Duration::from_secs(20), || store_entries(&data, "images")
            .is_empty()),
        "c is still there: {:?}",
        store_entries(&data, "images")
    );
    // d is pulled by the next invocation.
    let (v, raw, _) = invoke(&c, "busy", "{}");
    assert_eq!(raw.header("x-is-func-err"), Some("false"), "{v}");
    assert_eq!(store_entries(&data, "images").len(), 1);
}
