//! Pulling over the distribution API: a real `docker-registry` on loopback fed by
//! `skopeo`, and a small in-test registry that insists on Bearer tokens.

mod common;

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use stratus_image::{ImageError, ImageStore, PullOptions};

/// A `docker-registry` child bound to 127.0.0.1, killed on drop.
struct Registry {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn start_registry(dir: &Path) -> Registry {
    for attempt in 0..5 {
        let port = free_port();
        let config = dir.join(format!("config-{attempt}.yml"));
        let data = dir.join("data");
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                data.display()
            ),
        )
        .expect("config");
        let log = dir.join(format!("registry-{attempt}.log"));
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).expect("log"))
            .stderr(fs::File::create(dir.join(format!("registry-{attempt}.err"))).expect("log"))
            .spawn()
            .expect("spawn docker-registry");
        let mut reg = Registry { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = reg.child.try_wait() {
                break; // port taken, most likely: try another
            }
            if ureq::get(&format!("http://127.0.0.1:{port}/v2/"))
                .call()
                .is_ok()
            {
                return reg;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = reg.child.kill();
        eprintln!(
            "docker-registry attempt {attempt} failed: {}",
            fs::read_to_string(&reg.log).unwrap_or_default()
        );
    }
    panic!("docker-registry did not start");
}

fn skopeo_copy(args: &[&str]) {
    let out = Command::new("skopeo").args(args).output().expect("skopeo");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A second manifest for another architecture, and an index over both, tagged `multi`.
fn add_multi_arch_index(layout: &Path, amd64_manifest: &str) {
    let mut t = Tar::new();
    t.file("arm-only", 0o644, b"arm");
    let layers = vec![Layer::gz(t.finish())];
    let mut cfg = image_config(json!({"Cmd": ["arm"]}), &layers);
    cfg["architecture"] = json!("arm64");
    let w = write_image(layout, "arm-tmp", &cfg, &layers);
    let manifest_size = |d: &str| fs::metadata(blob_path(layout, d)).expect("m").len();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": w.manifest_digest,
             "size": manifest_size(&w.manifest_digest), "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd64_manifest,
             "size": manifest_size(amd64_manifest), "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    });
    let desc = put_blob(
        layout,
        "application/vnd.oci.image.index.v1+json",
        &serde_json::to_vec(&index).expect("index"),
    );
    add_to_index(layout, desc, "multi");
}

#[test]
fn pull_from_docker_registry() {
    const T: &str = "pull_from_docker_registry";
    let Some(bb) = busybox(T) else { return };
    if !have("skopeo", T) || !have("docker-registry", T) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let layers = busybox_layers(&bb);
    let w = write_image(
        &layout,
        "latest",
        &image_config(busybox_config(), &layers),
        &layers,
    );
    add_multi_arch_index(&layout, &w.manifest_digest);
    let reg = start_registry(tmp.path());
    let host = format!("127.0.0.1:{}", reg.port);
    let l = layout.display().to_string();
    skopeo_copy(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{l}:latest"),
        &format!("docker://{host}/test/busy:1"),
    ]);
    skopeo_copy(&[
        "copy",
        "--dest-tls-verify=false",
        "--format",
        "v2s2",
        &format!("oci:{l}:latest"),
        &format!("docker://{host}/test/busy:docker"),
    ]);
    skopeo_copy(&[
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &format!("oci:{l}:multi"),
        &format!("docker://{host}/test/busy:multi"),
    ]);

    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let opts = PullOptions {
        insecure_hosts: vec![host.clone()],
        ..PullOptions::default()
    };
    let img = store
        .prepare(&format!("{host}/test/busy:1"), &opts)
        .expect("pull tag 1");
    assert!(img.rootfs.join("bin/busybox").is_file());
    assert!(!img.rootfs.join("etc/remove-me").exists());
    assert_eq!(fs::read(img.rootfs.join("opq/new")).expect("new"), b"new");
    assert_eq!(img.config.user, "1003:1003");
    assert_eq!(img.config.entrypoint, vec!["/bin/sh", "-c"]);
    let out = Command::new(img.rootfs.join("bin/sh"))
        .args(["-c", "echo pulled"])
        .output()
        .expect("sh");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "pulled\n");

    // By digest: same image; and once prepared, no network is needed for it.
    let by_digest = format!("{host}/test/busy@{}", img.digest);
    assert_eq!(store.prepare(&by_digest, &opts).expect("by digest"), img);

    // Docker v2 schema 2 manifest.
    let docker = store
        .prepare(&format!("{host}/test/busy:docker"), &opts)
        .expect("pull v2s2");
    assert!(docker.rootfs.join("bin/busybox").is_file());
    assert_eq!(docker.config.working_dir, "/home/custom_container");
    let manifest = fs::read_to_string(docker.rootfs.parent().expect("dir").join("manifest.json"))
        .expect("manifest");
    assert!(
        manifest.contains("application/vnd.docker.distribution.manifest.v2+json"),
        "{manifest}"
    );
    assert!(
        manifest.contains("application/vnd.docker.image.rootfs.diff.tar.gzip"),
        "{manifest}"
    );

    // An index picks linux/amd64.
    // (skopeo may have compressed the uncompressed layer on the way, so the digest
    // is not the layout's.)
    let multi = store
        .prepare(&format!("{host}/test/busy:multi"), &opts)
        .expect("pull index");
    assert!(multi.rootfs.join("bin/busybox").is_file());
    assert!(!multi.rootfs.join("arm-only").exists());
    assert_eq!(multi.config, img.config);
    // The same index from the layout.
    let from_layout = store
        .prepare(&format!("oci:{l}:multi"), &opts)
        .expect("layout index");
    assert_eq!(from_layout.digest, w.manifest_digest);

    // Missing tag, missing repository.
    let r = store.prepare(&format!("{host}/test/busy:nope"), &opts);
    assert!(
        matches!(&r, Err(ImageError::NotFound(m)) if m.contains("manifest \"nope\" not found")),
        "{r:?}"
    );
    let r = store.prepare(&format!("{host}/test/absent:1"), &opts);
    assert!(matches!(&r, Err(ImageError::NotFound(_))), "{r:?}");
    let missing_digest = format!("{host}/test/busy@sha256:{}", "0".repeat(64));
    assert!(matches!(
        store.prepare(&missing_digest, &opts),
        Err(ImageError::NotFound(_))
    ));

    drop(reg);
    // Registry gone: the digest-pinned image is still served from the store; a tag
    // needs the registry and says it cannot reach it.
    assert_eq!(
        store.prepare(&by_digest, &opts).expect("offline by digest"),
        img
    );
    let r = store.prepare(&format!("{host}/test/busy:1"), &opts);
    assert!(
        matches!(&r, Err(ImageError::Registry(m)) if m.contains("cannot reach")),
        "{r:?}"
    );
}

/// What the fake registry saw.
#[derive(Default)]
struct Seen {
    token_queries: Vec<String>,
    /// The `Authorization` header of each token request.
    token_auth: Vec<Option<String>>,
    unauthorized: usize,
}

/// The user the fake registry knows: `alice:pw`, as a basic `Authorization` value.
const ALICE: &str = "Basic YWxpY2U6cHc=";

/// A registry that serves one layout's images under `repo`, with Bearer tokens
/// required (anonymous, or for alice's basic credentials) or, with `basic`, alice's
/// basic credentials.
struct FakeRegistry {
    port: u16,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicUsize>,
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(1, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

fn start_fake(layout: PathBuf, repo: &'static str, basic: bool) -> FakeRegistry {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicUsize::new(0));
    let (seen2, stop2) = (seen.clone(), stop.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stop2.load(Ordering::SeqCst) != 0 {
                break;
            }
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut headers = HashMap::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.insert(k.trim().to_lowercase(), v.trim().to_string());
                }
            }
            if let Some(q) = path.strip_prefix("/token?") {
                let auth = headers.get("authorization").cloned();
                {
                    let mut seen = seen2.lock().expect("seen");
                    seen.token_queries.push(q.to_string());
                    seen.token_auth.push(auth.clone());
                }
                if auth.is_some_and(|a| a != ALICE) {
                    respond(
                        &mut stream,
                        "401 Unauthorized",
                        &[],
                        br#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#,
                    );
                    continue;
                }
                respond(
                    &mut stream,
                    "200 OK",
                    &[("Content-Type", "application/json".into())],
                    br#"{"token":"sesame"}"#,
                );
                continue;
            }
            let auth = headers.get("authorization").map(String::as_str);
            let allowed = if basic { ALICE } else { "Bearer sesame" };
            if auth != Some(allowed) {
                seen2.lock().expect("seen").unauthorized += 1;
                let challenge = if basic {
                    "Basic realm=\"fake\"".to_string()
                } else {
                    format!("Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake-registry\",scope=\"repository:{repo}:pull\"")
                };
                respond(
                    &mut stream,
                    "401 Unauthorized",
                    &[("WWW-Authenticate", challenge)],
                    br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                );
                continue;
            }
            let prefix = format!("/v2/{repo}/");
            let Some(rest) = path.strip_prefix(&prefix) else {
                respond(&mut stream, "404 Not Found", &[], br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#);
                continue;
            };
            let index: Value =
                serde_json::from_slice(&fs::read(layout.join("index.json")).expect("index"))
                    .expect("json");
            let lookup = |r: &str| -> Option<(String, String)> {
                index["manifests"].as_array()?.iter().find_map(|d| {
                    let digest = d["digest"].as_str()?.to_string();
                    let tag = d["annotations"]["org.opencontainers.image.ref.name"]
                        .as_str()
                        .unwrap_or("");
                    (tag == r || digest == r)
                        .then(|| (digest, d["mediaType"].as_str().unwrap_or("").to_string()))
                })
            };
            let found = if let Some(r) = rest.strip_prefix("manifests/") {
                lookup(r).or_else(|| {
                    if !r.starts_with("sha256:") || r.len() != 71 {
                        return None;
                    }
                    // A manifest not tagged (an index entry): serve it by digest.
                    let p = blob_path(&layout, r);
                    let bytes = fs::read(&p).ok()?;
                    let v: Value = serde_json::from_slice(&bytes).ok()?;
                    Some((
                        r.to_string(),
                        v["mediaType"].as_str().unwrap_or("").to_string(),
                    ))
                })
            } else {
                rest.strip_prefix("blobs/")
                    .filter(|d| d.starts_with("sha256:") && d.len() == 71)
                    .map(|d| (d.to_string(), "application/octet-stream".to_string()))
            };
            match found
                .and_then(|(d, mt)| fs::read(blob_path(&layout, &d)).ok().map(|b| (d, mt, b)))
            {
                Some((d, mt, body)) => respond(
                    &mut stream,
                    "200 OK",
                    &[("Content-Type", mt), ("Docker-Content-Digest", d)],
                    &body,
                ),
                None => respond(
                    &mut stream,
                    "404 Not Found",
                    &[],
                    br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
                ),
            }
            let _ = reader.read(&mut [0u8; 0]);
        }
    });
    FakeRegistry { port, seen, stop }
}

#[test]
fn bearer_token_registry() {
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let mut t = Tar::new();
    t.dir("app/", 0o755)
        .file("app/server", 0o755, b"#!/bin/sh\n");
    let layers = vec![Layer::gz(t.finish())];
    let w = write_image(
        &layout,
        "v1",
        &image_config(
            json!({"Entrypoint": ["/app/server"], "ExposedPorts": {"8000/tcp": {}}}),
            &layers,
        ),
        &layers,
    );
    add_multi_arch_index(&layout, &w.manifest_digest);
    let fake = start_fake(layout.clone(), "team/app", false);
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let opts = PullOptions::default();
    // `localhost` is loopback: plain http without configuration.
    let img = store
        .prepare(&format!("localhost:{}/team/app:v1", fake.port), &opts)
        .expect("pull with token");
    assert_eq!(img.digest, w.manifest_digest);
    assert_eq!(img.config.entrypoint, vec!["/app/server"]);
    assert!(img.rootfs.join("app/server").is_file());
    let multi = store
        .prepare(&format!("localhost:{}/team/app:multi", fake.port), &opts)
        .expect("pull index");
    assert_eq!(multi.digest, w.manifest_digest);
    {
        let seen = fake.seen.lock().expect("seen");
        assert!(seen.unauthorized >= 1);
        assert!(!seen.token_queries.is_empty());
        for q in &seen.token_queries {
            assert!(q.contains("service=fake-registry"), "{q}");
            assert!(q.contains("scope=repository%3Ateam%2Fapp%3Apull"), "{q}");
        }
    }
    let r = store.prepare(&format!("localhost:{}/team/app:v2", fake.port), &opts);
    assert!(
        matches!(&r, Err(ImageError::NotFound(m)) if m.contains("manifest unknown")),
        "{r:?}"
    );
    let r = store.prepare(&format!("localhost:{}/team/other:v1", fake.port), &opts);
    assert!(matches!(&r, Err(ImageError::NotFound(_))), "{r:?}");
}

#[test]
fn basic_auth_registry_is_refused_clearly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let layers: Vec<Layer> = Vec::new();
    write_image(&layout, "v1", &image_config(json!({}), &layers), &layers);
    let fake = start_fake(layout, "team/app", true);
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let image = format!("127.0.0.1:{}/team/app:v1", fake.port);
    let r = store.prepare(&image, &PullOptions::default());
    assert!(
        matches!(&r, Err(ImageError::Registry(m)) if m.contains("requires a user name and password") && m.contains("none are configured")),
        "{r:?}"
    );
    // Wrong credentials: refused, naming the registry and user, not the password.
    let r = store.prepare(&image, &with_auth(fake.port, "alice:nope"));
    assert!(
        matches!(&r, Err(ImageError::Registry(m)) if m.contains(&format!("registry 127.0.0.1:{} refused the credentials", fake.port)) && m.contains("\"alice\"") && !m.contains("nope")),
        "{r:?}"
    );
    // Right ones: pulled.
    let img = store
        .prepare(&image, &with_auth(fake.port, "alice:pw"))
        .expect("pull with basic auth");
    assert!(img.rootfs.is_dir());
}

/// Pull options with credentials (`user:password`) for the fake registry.
fn with_auth(port: u16, user_pass: &str) -> PullOptions {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(user_pass);
    let file = json!({"auths": {format!("127.0.0.1:{port}"): {"auth": auth}}});
    PullOptions {
        auth: stratus_image::RegistryAuth::parse(file.to_string().as_bytes()).expect("auth"),
        ..PullOptions::default()
    }
}

#[test]
fn bearer_token_is_fetched_with_the_credentials() {
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let layers: Vec<Layer> = Vec::new();
    write_image(&layout, "v1", &image_config(json!({}), &layers), &layers);
    let fake = start_fake(layout, "team/app", false);
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let image = format!("127.0.0.1:{}/team/app:v1", fake.port);
    let r = store.prepare(&image, &with_auth(fake.port, "alice:nope"));
    assert!(
        matches!(&r, Err(ImageError::Registry(m)) if m.contains("token service") && m.contains("refused the credentials") && !m.contains("nope")),
        "{r:?}"
    );
    store
        .prepare(&image, &with_auth(fake.port, "alice:pw"))
        .expect("pull with a token for alice");
    let seen = fake.seen.lock().expect("seen");
    let basic_nope = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "alice:nope")
    );
    assert_eq!(
        seen.token_auth,
        vec![Some(basic_nope), Some(ALICE.to_string())],
        "the token service got the basic credentials"
    );
}

#[test]
fn registry_serving_the_wrong_blob_is_caught() {
    let tmp = tempfile::tempdir().expect("tmp");
    let layout = tmp.path().join("layout");
    let mut t = Tar::new();
    t.file("a", 0o644, b"aaaa");
    let layers = vec![Layer::plain(t.finish())];
    let w = write_image(&layout, "v1", &image_config(json!({}), &layers), &layers);
    let p = blob_path(&layout, &w.layer_digests[0]);
    let mut bytes = fs::read(&p).expect("blob");
    bytes[600] ^= 1;
    fs::write(&p, bytes).expect("tamper");
    let fake = start_fake(layout, "team/app", false);
    let store = ImageStore::open(&tmp.path().join("store")).expect("open");
    let r = store.prepare(
        &format!("127.0.0.1:{}/team/app:v1", fake.port),
        &PullOptions::default(),
    );
    assert!(
        matches!(&r, Err(ImageError::Corrupt(m)) if m.contains("does not match its digest")),
        "{r:?}"
    );
}
