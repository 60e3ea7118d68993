//! End-to-end tests of dependency packages against the compiled binary: versions created
//! from a zip or a URL, listing, showing and deleting, the guide's limits and bad input,
//! functions that import a Python module or require a Node.js package from a dependency,
//! the merge rule (function code first, then dependencies in order), reference checks,
//! deletion refused while referenced, and a restart.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use stratus_api_types::{
    CodeBody, CreateDependencyBody, DependencyVersion, FuncCode, FunctionBody,
};
use stratus_client::{Client, ClientError, InvokeOptions};

// ------------------------------------------------------------------------------------
// Helpers

fn zip_body(name: &str, runtime: &str, package: &[u8]) -> CreateDependencyBody {
    CreateDependencyBody {
        name: Some(name.into()),
        runtime: Some(runtime.into()),
        depend_type: Some("zip".into()),
        depend_file: Some(b64(package)),
        description: Some(format!("{name} for tests")),
        ..CreateDependencyBody::default()
    }
}

/// Creates a version of `name` holding `files`.
fn dep(c: &Client, name: &str, runtime: &str, files: &[(&str, &str, u32)]) -> DependencyVersion {
    c.create_dependency_version(&zip_body(name, runtime, &zip(files)), |_, _| {})
        .unwrap()
}

fn api_err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api { status, code, msg }) => (status, code, msg),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn function_body(
    name: &str,
    runtime: &str,
    handler: &str,
    files: &[(&str, &str, u32)],
) -> FunctionBody {
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
            file: Some(b64(&zip(files))),
            link: None,
        }),
        ..FunctionBody::default()
    }
}

/// Invokes and returns the function's result parsed as JSON; panics on a failure.
fn result_of(c: &Client, name: &str) -> Value {
    let opts = InvokeOptions {
        log: true,
        memory: None,
    };
    let (resp, _) = c.invoke(name, b"{}", &opts).unwrap();
    assert_eq!(
        resp.status, 200,
        "{name}: {} / log: {}",
        resp.result, resp.log
    );
    serde_json::from_str(&resp.result).unwrap_or(Value::String(resp.result))
}

fn dependency_count(c: &Client) -> i64 {
    c.list_dependencies(&[]).unwrap().count
}

fn blob_count(s: &Server) -> usize {
    let root = s.data_dir().join("blobs");
    let mut n = 0;
    for dir in std::fs::read_dir(root).unwrap() {
        let dir = dir.unwrap();
        if dir.file_type().unwrap().is_dir() {
            n += std::fs::read_dir(dir.path()).unwrap().count();
        }
    }
    n
}

// ------------------------------------------------------------------------------------
// Versions

#[test]
fn versions_are_created_listed_shown_downloaded_and_deleted() {
    let s = Server::start(&[]);
    let c = s.client();
    let package = zip(&[("alpha.py", "VALUE = 1\n", 0o644)]);
    let v1 = c
        .create_dependency_version(&zip_body("alpha", "Python3.9", &package), |_, _| {})
        .unwrap();
    assert_eq!(
        (v1.name.as_str(), v1.version, v1.runtime.as_str()),
        ("alpha", 1, "Python3.9")
    );
    assert_eq!(v1.owner, PROJECT);
    assert_eq!(v1.size, package.len() as i64);
    assert_eq!(v1.file_name, "alpha.zip");
    assert_eq!(v1.description, "alpha for tests");
    assert_eq!(v1.etag.len(), 32, "etag is the MD5 of the package");
    assert!(
        v1.last_modified > 1_600_000_000_000,
        "milliseconds: {}",
        v1.last_modified
    );
    let v2 = dep(
        &c,
        "alpha",
        "Python3.9",
        &[("alpha.py", "VALUE = 2\n", 0o644)],
    );
    assert_eq!((v2.version, v2.dep_id.as_str()), (2, v1.dep_id.as_str()));
    assert_ne!(v2.id, v1.id);
    let other = dep(
        &c,
        "node.lib_2",
        "Node.js18.15",
        &[("node_modules/x/index.js", "", 0o644)],
    );
    let max_name = "n".repeat(96);
    dep(&c, &max_name, "Custom", &[("lib/x", "", 0o644)]);

    let list = c.list_dependencies(&[]).unwrap();
    assert_eq!(list.count, 3);
    let alpha = list
        .dependencies
        .iter()
        .find(|d| d.name == "alpha")
        .unwrap();
    assert_eq!((alpha.id.as_str(), alpha.version), (v1.dep_id.as_str(), 2));
    let filtered = c
        .list_dependencies(&[("runtime", "Node.js18.15".into())])
        .unwrap();
    assert_eq!(filtered.count, 1);
    assert_eq!(filtered.dependencies[0].id, other.dep_id);
    let by_name = c.list_dependencies(&[("name", "lph".into())]).unwrap();
    assert_eq!(by_name.count, 1);
    let public = c
        .list_dependencies(&[("dependency_type", "public".into())])
        .unwrap();
    assert_eq!((public.count, public.dependencies.len()), (0, 0));
    let paged = c
        .list_dependencies(&[("marker", "1".into()), ("maxitems", "1".into())])
        .unwrap();
    assert_eq!(
        (paged.dependencies.len(), paged.next_marker, paged.count),
        (1, 2, 3)
    );

    let versions = c.list_dependency_versions(&v1.dep_id, 0, 10).unwrap();
    assert_eq!(versions.count, 2);
    let numbers: Vec<i64> = versions.dependencies.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [1, 2]);
    let shown = c.get_dependency_version(&v1.dep_id, 1).unwrap();
    assert_eq!(shown.id, v1.id);
    let link = shown.download_link.clone().unwrap();
    assert!(
        link.starts_with(&s.endpoint) && link.ends_with(&shown.link),
        "{link}"
    );

    // The link downloads the package as uploaded.
    let rest = shown
        .link
        .strip_prefix(&format!("/v2/{PROJECT}/"))
        .unwrap()
        .to_string();
    let got = c.call("GET", &rest, &[], &[], None).unwrap();
    assert_eq!(got.body, package);

    // Errors for what does not exist.
    for (dep_id, version) in [(v1.dep_id.as_str(), 3), ("no-such-dependency", 1)] {
        let (status, code, _) = api_err(c.get_dependency_version(dep_id, version));
        assert_eq!((status, code.as_str()), (404, "FSS.0404"));
    }
    let (status, _, _) = api_err(c.list_dependency_versions("no-such-dependency", 0, 10));
    assert_eq!(status, 404);
    let bad_version = format!("fgs/dependencies/{}/version/one", v1.dep_id);
    let (status, code, msg) = api_err(c.call("GET", &bad_version, &[], &[], None));
    assert_eq!((status, code.as_str()), (400, "FSS.1001"), "{msg}");

    // Deleting every version deletes the dependency.
    c.delete_dependency_version(&v1.dep_id, 1).unwrap();
    let (status, _, _) = api_err(c.delete_dependency_version(&v1.dep_id, 1));
    assert_eq!(status, 404);
    assert_eq!(
        c.list_dependency_versions(&v1.dep_id, 0, 10).unwrap().count,
        1
    );
    let v3 = dep(
        &c,
        "alpha",
        "Python3.9",
        &[("alpha.py", "VALUE = 3\n", 0o644)],
    );
    assert_eq!(v3.version, 3, "version numbers are not reused");
    c.delete_dependency_version(&v1.dep_id, 2).unwrap();
    c.delete_dependency_version(&v1.dep_id, 3).unwrap();
    assert_eq!(dependency_count(&c), 2);
    let (status, _, _) = api_err(c.list_dependency_versions(&v1.dep_id, 0, 10));
    assert_eq!(status, 404);
}

/// `/pkg.zip` serves a dependency package; `/big` streams 301 MB without a length.
fn serve_packages(conn: &mut std::net::TcpStream, path: &str) {
    use std::io::Write;
    match path {
        "/pkg.zip" => {
            let pkg = zip(&[("fromurl.py", "VALUE = 'downloaded'\n", 0o644)]);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                pkg.len()
            );
            let _ = conn.write_all(&pkg);
        }
        "/big" => {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b'x'; 1024 * 1024];
            for _ in 0..301 {
                if conn.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
        _ => {
            let _ = conn.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    }
}

fn start_package_server() -> u16 {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { break };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_string();
            serve_packages(&mut conn, &path);
        }
    });
    port
}

fn link_body(name: &str, url: &str) -> CreateDependencyBody {
    CreateDependencyBody {
        name: Some(name.into()),
        runtime: Some("Python3.9".into()),
        depend_type: Some("obs".into()),
        depend_link: Some(url.into()),
        ..CreateDependencyBody::default()
    }
}

#[test]
fn a_version_can_come_from_an_allowed_url() {
    let port = start_package_server();
    let s = Server::start(&["--code-url-hosts", "127.0.0.1"]);
    let c = s.client();
    let url = format!("http://127.0.0.1:{port}/pkg.zip");
    let v = c
        .create_dependency_version(&link_body("fromurl", &url), |_, _| {})
        .unwrap();
    assert_eq!((v.version, v.file_name.as_str()), (1, "pkg.zip"));
    let f = c
        .create_function(
            &FunctionBody {
                depend_version_list: Some(vec![v.id.clone()]),
                ..function_body(
                    "usesurl",
                    "Python3.9",
                    "index.handler",
                    &[("index.py", "import fromurl\n\ndef handler(event, context):\n    return fromurl.VALUE\n", 0o644)],
                )
            },
            |_, _| {},
        )
        .unwrap();
    assert_eq!(f.depend_version_list, vec![v.id]);
    assert_eq!(result_of(&c, "usesurl"), json!("downloaded"));

    let big = format!("http://127.0.0.1:{port}/big");
    let (status, code, msg) =
        api_err(c.create_dependency_version(&link_body("big", &big), |_, _| {}));
    assert_eq!((status, code.as_str()), (413, "FSS.0413"), "{msg}");
    let missing = format!("http://127.0.0.1:{port}/missing.zip");
    let (status, _, msg) =
        api_err(c.create_dependency_version(&link_body("missing", &missing), |_, _| {}));
    assert_eq!(status, 400);
    assert!(
        msg.contains("depend_link") && msg.contains("download failed"),
        "{msg}"
    );
    let elsewhere = format!("http://localhost:{port}/pkg.zip");
    let (status, _, msg) =
        api_err(c.create_dependency_version(&link_body("elsewhere", &elsewhere), |_, _| {}));
    assert_eq!(status, 400);
    assert!(msg.contains("\"localhost\" is not in"), "{msg}");
    assert_eq!(dependency_count(&c), 1);
}

#[test]
fn bad_input_is_refused_and_stores_nothing() {
    let port = start_package_server();
    let s = Server::start(&[]);
    let c = s.client();
    let blobs_before = blob_count(&s);
    let good = zip(&[("ok.py", "", 0o644)]);
    let with = |f: &dyn Fn(&mut CreateDependencyBody)| {
        let mut b = zip_body("good", "Python3.9", &good);
        f(&mut b);
        b
    };
    let many_files: Vec<(String, Vec<u8>, u32)> = (0..30_001)
        .map(|i| (format!("d{}/f{i}.py", i % 100), Vec::new(), 0o644))
        .collect();
    let too_many = stratus_package::zip_files(&many_files).unwrap();
    let cases: Vec<(&str, CreateDependencyBody, u16, &str, &str)> = vec![
        ("no name", with(&|b| b.name = None), 400, "FSS.0400", "name"),
        (
            "empty name",
            with(&|b| b.name = Some(String::new())),
            400,
            "FSS.0400",
            "1 to 96",
        ),
        (
            "97 characters",
            with(&|b| b.name = Some("a".repeat(97))),
            400,
            "FSS.0400",
            "1 to 96",
        ),
        (
            "starts with a digit",
            with(&|b| b.name = Some("1dep".into())),
            400,
            "FSS.0400",
            "start with a letter",
        ),
        (
            "ends with a hyphen",
            with(&|b| b.name = Some("dep-".into())),
            400,
            "FSS.0400",
            "end with a letter or digit",
        ),
        (
            "a space",
            with(&|b| b.name = Some("my dep".into())),
            400,
            "FSS.0400",
            "only letters",
        ),
        (
            "a slash",
            with(&|b| b.name = Some("my/dep".into())),
            400,
            "FSS.0400",
            "only letters",
        ),
        (
            "no runtime",
            with(&|b| b.runtime = None),
            400,
            "FSS.0400",
            "runtime",
        ),
        (
            "unknown runtime",
            with(&|b| b.runtime = Some("Python3.10".into())),
            400,
            "FSS.1005",
            "not a supported runtime",
        ),
        (
            "image runtime",
            with(&|b| b.runtime = Some("Custom Image".into())),
            400,
            "FSS.0400",
            "container-image",
        ),
        (
            "long description",
            with(&|b| b.description = Some("d".repeat(513))),
            400,
            "FSS.0400",
            "description",
        ),
        (
            "no type",
            with(&|b| b.depend_type = None),
            400,
            "FSS.0400",
            "depend_type",
        ),
        (
            "unknown type",
            with(&|b| b.depend_type = Some("tar".into())),
            400,
            "FSS.0400",
            "not zip or obs",
        ),
        (
            "no file",
            with(&|b| b.depend_file = None),
            400,
            "FSS.0400",
            "depend_file",
        ),
        (
            "bad base64",
            with(&|b| b.depend_file = Some("not base64!".into())),
            400,
            "FSS.0400",
            "base64",
        ),
        (
            "not a zip",
            with(&|b| b.depend_file = Some(b64(b"plain text"))),
            400,
            "FSS.0400",
            "bad dependency package",
        ),
        (
            "escaping path",
            with(&|b| b.depend_file = Some(b64(&raw_zip(&[("../evil.py", "", 0o644)])))),
            400,
            "FSS.0400",
            "'..'",
        ),
        (
            "backup file",
            with(&|b| {
                b.depend_file = Some(b64(&zip(&[
                    ("ok.py", "", 0o644),
                    ("lib/old.py~", "", 0o644),
                ])))
            }),
            400,
            "FSS.0400",
            "ends with '~'",
        ),
        (
            "empty zip",
            with(&|b| b.depend_file = Some(b64(&zip(&[])))),
            400,
            "FSS.0400",
            "no files",
        ),
        (
            "30,001 files",
            with(&|b| b.depend_file = Some(b64(&too_many))),
            400,
            "FSS.0400",
            "more than 30000 files",
        ),
        (
            "no link",
            with(&|b| {
                b.depend_type = Some("obs".into());
                b.depend_file = None;
            }),
            400,
            "FSS.0400",
            "depend_link",
        ),
        (
            "loopback link",
            link_body("good", &format!("http://127.0.0.1:{port}/pkg.zip")),
            400,
            "FSS.0400",
            "loopback",
        ),
        (
            "file link",
            link_body("good", "file:///etc/passwd"),
            400,
            "FSS.0400",
            "http://",
        ),
    ];
    for (what, body, status, code, needle) in cases {
        let (got_status, got_code, msg) = api_err(c.create_dependency_version(&body, |_, _| {}));
        assert_eq!(
            (got_status, got_code.as_str()),
            (status, code),
            "{what}: {msg}"
        );
        assert!(msg.contains(needle), "{what}: {msg:?} lacks {needle:?}");
    }
    for raw in ["", "{", "[]", "{\"name\": 5}"] {
        let (status, code, msg) = api_err(c.call(
            "POST",
            "fgs/dependencies/version",
            &[],
            &[],
            Some(raw.as_bytes()),
        ));
        assert_eq!((status, code.as_str()), (400, "FSS.0400"), "{raw:?}: {msg}");
    }
    let (status, code, _) = api_err(c.list_dependencies(&[("maxitems", "-1".into())]));
    assert_eq!((status, code.as_str()), (400, "FSS.1001"));
    let (status, code, _) = api_err(c.list_dependencies(&[("dependency_type", "mine".into())]));
    assert_eq!((status, code.as_str()), (400, "FSS.1001"));
    assert_eq!(dependency_count(&c), 0, "nothing was stored");
    assert_eq!(blob_count(&s), blobs_before, "no blob was left behind");

    // The limits themselves are allowed: 30,000 files, 512 characters of description.
    let most: Vec<(String, Vec<u8>, u32)> = many_files[..30_000].to_vec();
    let body = CreateDependencyBody {
        description: Some("d".repeat(512)),
        ..zip_body(
            "big.one",
            "Python3.9",
            &stratus_package::zip_files(&most).unwrap(),
        )
    };
    assert_eq!(
        c.create_dependency_version(&body, |_, _| {})
            .unwrap()
            .version,
        1
    );
}

// ------------------------------------------------------------------------------------
// Functions using dependencies

const PY_USES_DEPS: &str = "import greet\nimport mypkg\nfrom mypkg.sub import twice\n\n\
def handler(event, context):\n    return {'greeting': greet.GREETING, 'pkg': mypkg.NAME, 'twice': twice(21)}\n";

#[test]
fn a_python_function_imports_modules_of_a_dependency() {
    let s = Server::start(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let dep_dir = tmp.path().join("dep");
    std::fs::create_dir_all(dep_dir.join("mypkg")).unwrap();
    std::fs::write(
        dep_dir.join("greet.py"),
        "GREETING = 'hello from a dependency'\n",
    )
    .unwrap();
    std::fs::write(dep_dir.join("mypkg/__init__.py"), "NAME = 'mypkg'\n").unwrap();
    std::fs::write(
        dep_dir.join("mypkg/sub.py"),
        "def twice(x):\n    return 2 * x\n",
    )
    .unwrap();
    let code_dir = tmp.path().join("code");
    std::fs::create_dir_all(&code_dir).unwrap();
    std::fs::write(code_dir.join("index.py"), PY_USES_DEPS).unwrap();

    // Through the CLI: a dependency from a directory, a function that names it.
    let dep_path = dep_dir.to_str().unwrap();
    let (ok, out, err) = s.cli(&[
        "dep",
        "create",
        "pylib",
        "--runtime",
        "Python3.9",
        "--file",
        dep_path,
        "--description",
        "greetings",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("pylib") && out.contains("greetings"), "{out}");
    let (ok, out, err) = s.cli(&[
        "dep",
        "create",
        "pylib",
        "--runtime",
        "Python3.9",
        "--file",
        dep_path,
    ]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = s.cli(&[
        "fn",
        "create",
        "pyuser",
        "--runtime",
        "Python3.9",
        "--code",
        code_dir.to_str().unwrap(),
        "--dep",
        "pylib:2",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("pylib:2"), "{out}");
    let (ok, out, err) = s.cli(&["dep", "list"]);
    assert!(ok && out.contains("pylib"), "{out}{err}");
    let (ok, out, err) = s.cli(&["dep", "versions", "pylib"]);
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("pylib")).count(),
        2,
        "{out}"
    );

    let c = s.client();
    assert_eq!(
        result_of(&c, "pyuser"),
        json!({"greeting": "hello from a dependency", "pkg": "mypkg", "twice": 42})
    );
    let cfg = c.get_config("pyuser").unwrap();
    let v2 = c.dependency_version_named("pylib", 2).unwrap();
    assert_eq!(cfg.depend_version_list, vec![v2.id.clone()]);
    let shown = &cfg.dependencies[0];
    assert_eq!(shown["id"], json!(v2.id));
    assert_eq!(shown["name"], json!("pylib"));
    assert_eq!(shown["version"], json!(2));
    assert_eq!(shown["dep_id"], json!(v2.dep_id));
    assert_eq!(shown["etag"], json!(v2.etag));
    assert_eq!(shown["size"], json!(v2.size));
    assert_eq!(shown["runtime"], json!("Python3.9"));
    assert_eq!(shown["owner"], json!(PROJECT));
    let code = c.get_code("pyuser").unwrap();
    assert_eq!(code.depend_version_list, vec![v2.id.clone()]);
    assert_eq!(code.dependencies.len(), 1);

    // A function without the dependency cannot import it.
    create(
        &c,
        "nodeps",
        "Python3.9",
        "index.handler",
        &[("index.py", PY_USES_DEPS, 0o644)],
    );
    let (resp, _) = c
        .invoke("nodeps", b"{}", &InvokeOptions::default())
        .unwrap();
    assert_ne!(resp.status, 200);
    assert!(resp.result.contains("greet"), "{}", resp.result);

    // After a restart (the blob garbage collection runs at start) everything is there.
    let dir = s.stop();
    let s = Server::start_in(dir, &[]);
    let c = s.client();
    assert_eq!(result_of(&c, "pyuser")["twice"], json!(42));
    assert_eq!(
        c.list_dependency_versions(&v2.dep_id, 0, 10).unwrap().count,
        2
    );
    let pkg = c
        .call(
            "GET",
            v2.link.strip_prefix(&format!("/v2/{PROJECT}/")).unwrap(),
            &[],
            &[],
            None,
        )
        .unwrap();
    assert!(!pkg.body.is_empty());
}

#[test]
fn a_nodejs_function_requires_a_package_from_node_modules() {
    node_function_uses_node_modules(&Server::start(&[]));
}

/// The process backend links the code directory into the instance directory instead of
/// mounting it; Python and Node.js still find the dependency files.
#[test]
fn dependencies_work_under_the_process_sandbox() {
    let s = Server::start(&["--sandbox", "process"]);
    node_function_uses_node_modules(&s);
    let c = s.client();
    let lib = dep(
        &c,
        "pyproc",
        "Python3.9",
        &[("procmod.py", "X = 'from procmod'\n", 0o644)],
    );
    let py = "import procmod\n\ndef handler(event, context):\n    return procmod.X\n";
    c.create_function(
        &FunctionBody {
            depend_version_list: Some(vec![lib.id]),
            ..function_body(
                "pyproc",
                "Python3.9",
                "index.handler",
                &[("index.py", py, 0o644)],
            )
        },
        |_, _| {},
    )
    .unwrap();
    assert_eq!(result_of(&c, "pyproc"), json!("from procmod"));
}

fn node_function_uses_node_modules(s: &Server) {
    let c = s.client();
    let lib = dep(
        &c,
        "leftpad",
        "Node.js18.15",
        &[
            (
                "node_modules/leftpad/package.json",
                "{\"name\": \"leftpad\", \"main\": \"lib/pad.js\"}",
                0o644,
            ),
            (
                "node_modules/leftpad/lib/pad.js",
                "module.exports = (s, n) => String(s).padStart(n, '*');\n",
                0o644,
            ),
            (
                "node_modules/shout/index.js",
                "module.exports = (s) => s.toUpperCase() + '!';\n",
                0o644,
            ),
        ],
    );
    let code = "const pad = require('leftpad');\nconst shout = require('shout');\n\
exports.handler = async (event, context) => ({ padded: pad('x', 4), loud: shout('hi') });\n";
    c.create_function(
        &FunctionBody {
            depend_version_list: Some(vec![lib.id.clone()]),
            ..function_body(
                "nodeuser",
                "Node.js18.15",
                "index.handler",
                &[("index.js", code, 0o644)],
            )
        },
        |_, _| {},
    )
    .unwrap();
    assert_eq!(
        result_of(&c, "nodeuser"),
        json!({"padded": "***x", "loud": "HI!"})
    );
}

#[test]
fn function_code_wins_then_the_earlier_dependency() {
    let s = Server::start(&[]);
    let c = s.client();
    let a = dep(
        &c,
        "layer-a",
        "Python3.9",
        &[
            ("shared.py", "WHO = 'layer-a'\n", 0o644),
            ("both.py", "WHO = 'layer-a'\n", 0o644),
            (
                "index.py",
                "def handler(event, context):\n    return 'the dependency ran'\n",
                0o644,
            ),
        ],
    );
    let b = dep(
        &c,
        "layer-b",
        "Python3.9",
        &[
            ("both.py", "WHO = 'layer-b'\n", 0o644),
            ("only_b.py", "WHO = 'layer-b'\n", 0o644),
        ],
    );
    let code = "import shared, both, only_b\n\ndef handler(event, context):\n    \
return [shared.WHO, both.WHO, only_b.WHO, 'code']\n";
    let files = [
        ("index.py", code, 0o644),
        ("shared.py", "WHO = 'code'\n", 0o644),
    ];
    c.create_function(
        &FunctionBody {
            depend_version_list: Some(vec![a.id.clone(), b.id.clone()]),
            ..function_body("layered", "Python3.9", "index.handler", &files)
        },
        |_, _| {},
    )
    .unwrap();
    // index.py and shared.py come from the code; both.py from the first dependency.
    assert_eq!(
        result_of(&c, "layered"),
        json!(["code", "layer-a", "layer-b", "code"])
    );

    // The order is the function's: reversed, layer-b's both.py wins.
    let (ok, out, err) = s.cli(&[
        "fn",
        "update-config",
        "layered",
        "--dep",
        "layer-b:1",
        "--dep",
        "layer-a:1",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("layer-b:1, layer-a:1"), "{out}");
    assert_eq!(
        result_of(&c, "layered"),
        json!(["code", "layer-b", "layer-b", "code"])
    );
}

#[test]
fn references_are_checked() {
    let s = Server::start(&[]);
    let c = s.client();
    let py = "def handler(event, context):\n    return 'ok'\n";
    let files = [("index.py", py, 0o644)];
    let ids: Vec<String> = (0..21)
        .map(|i| {
            dep(
                &c,
                &format!("d{i}"),
                "Python3.9",
                &[(&format!("m{i}.py"), "", 0o644)],
            )
            .id
        })
        .collect();
    let node = dep(
        &c,
        "nodeonly",
        "Node.js18.15",
        &[("node_modules/n/index.js", "", 0o644)],
    );
    let d0v2 = dep(&c, "d0", "Python3.9", &[("m0.py", "X = 2\n", 0o644)]);
    let with_deps = |name: &str, deps: Vec<String>| FunctionBody {
        depend_version_list: Some(deps),
        ..function_body(name, "Python3.9", "index.handler", &files)
    };
    let cases: Vec<(&str, Vec<String>, &str, &str)> = vec![
        ("21 versions", ids.clone(), "FSS.0400", "at most 20"),
        (
            "unknown id",
            vec!["no-such-version".into()],
            "FSS.0424",
            "does not exist",
        ),
        (
            "other runtime",
            vec![node.id.clone()],
            "FSS.0424",
            "Node.js18.15",
        ),
        (
            "twice",
            vec![ids[1].clone(), ids[1].clone()],
            "FSS.0424",
            "twice",
        ),
        (
            "two versions",
            vec![ids[0].clone(), d0v2.id.clone()],
            "FSS.0424",
            "two versions",
        ),
        ("empty id", vec![String::new()], "FSS.0424", "empty"),
    ];
    for (what, deps, code, needle) in &cases {
        let (status, got, msg) =
            api_err(c.create_function(&with_deps("refused", deps.clone()), |_, _| {}));
        assert_eq!((status, got.as_str()), (400, *code), "{what}: {msg}");
        assert!(msg.contains(needle), "{what}: {msg}");
    }
    let (status, _, _) = api_err(c.get_config("refused"));
    assert_eq!(status, 404, "no refused create left a function");

    // Twenty is the limit, and it is allowed.
    let cfg = c
        .create_function(&with_deps("twenty", ids[..20].to_vec()), |_, _| {})
        .unwrap();
    assert_eq!(cfg.depend_version_list, ids[..20].to_vec());
    assert_eq!(cfg.dependencies.len(), 20);
    assert_eq!(result_of(&c, "twenty"), json!("ok"));

    // Update config: refused changes keep the list; absent keeps it; empty clears it.
    for (what, deps, code, _) in &cases {
        let body = FunctionBody {
            depend_version_list: Some(deps.clone()),
            ..FunctionBody::default()
        };
        let (status, got, msg) = api_err(c.update_config("twenty", &body));
        assert_eq!((status, got.as_str()), (400, *code), "{what}: {msg}");
    }
    let keep = c
        .update_config(
            "twenty",
            &FunctionBody {
                description: Some("changed".into()),
                ..FunctionBody::default()
            },
        )
        .unwrap();
    assert_eq!(keep.depend_version_list.len(), 20);
    let cleared = c
        .update_config(
            "twenty",
            &FunctionBody {
                depend_version_list: Some(Vec::new()),
                ..FunctionBody::default()
            },
        )
        .unwrap();
    assert!(cleared.depend_version_list.is_empty() && cleared.dependencies.is_empty());

    // Update code carries depend_version_list as the SDK sends it.
    let code = CodeBody {
        code_type: Some("zip".into()),
        code_filename: Some("index.zip".into()),
        func_code: Some(FuncCode {
            file: Some(b64(&zip(&[(
                "index.py",
                "import m3\n\ndef handler(event, context):\n    return 'with m3'\n",
                0o644,
            )]))),
            link: None,
        }),
        depend_version_list: Some(vec![ids[3].clone()]),
        ..CodeBody::default()
    };
    let updated = c.update_code("twenty", &code, |_, _| {}).unwrap();
    assert_eq!(updated.depend_version_list, vec![ids[3].clone()]);
    assert_eq!(result_of(&c, "twenty"), json!("with m3"));
    let refused = CodeBody {
        depend_version_list: Some(vec![node.id.clone()]),
        ..code
    };
    let (status, got, _) = api_err(c.update_code("twenty", &refused, |_, _| {}));
    assert_eq!((status, got.as_str()), (400, "FSS.0424"));
    assert_eq!(
        c.get_config("twenty").unwrap().depend_version_list,
        vec![ids[3].clone()]
    );
}

#[test]
fn a_referenced_version_cannot_be_deleted() {
    let s = Server::start(&[]);
    let c = s.client();
    let v = dep(&c, "held", "Python3.9", &[("held.py", "X = 1\n", 0o644)]);
    let py = "import held\n\ndef handler(event, context):\n    return held.X\n";
    for name in ["holder-one", "holder-two"] {
        c.create_function(
            &FunctionBody {
                depend_version_list: Some(vec![v.id.clone()]),
                ..function_body(
                    name,
                    "Python3.9",
                    "index.handler",
                    &[("index.py", py, 0o644)],
                )
            },
            |_, _| {},
        )
        .unwrap();
    }
    let (status, code, msg) = api_err(c.delete_dependency_version(&v.dep_id, 1));
    assert_eq!((status, code.as_str()), (409, "FSS.0428"), "{msg}");
    assert!(
        msg.contains("holder-one (latest)") && msg.contains("holder-two (latest)"),
        "{msg}"
    );
    let (ok, out, err) = s.cli(&["dep", "delete", "held", "1"]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("FSS.0428") && err.contains("holder-one"),
        "{err}"
    );
    assert_eq!(
        result_of(&c, "holder-one"),
        json!(1),
        "the refused delete changed nothing"
    );

    // Released by one function's config change and the other's deletion.
    let (ok, out, err) = s.cli(&["fn", "update-config", "holder-one", "--no-deps"]);
    assert!(ok, "{out}{err}");
    let (_, _, msg) = api_err(c.delete_dependency_version(&v.dep_id, 1));
    assert!(
        !msg.contains("holder-one") && msg.contains("holder-two"),
        "{msg}"
    );
    c.delete_function("holder-two").unwrap();
    let blobs = blob_count(&s);
    let (ok, out, err) = s.cli(&["dep", "delete", "held", "1"]);
    assert!(ok, "{out}{err}");
    assert_eq!(dependency_count(&c), 0);
    assert_eq!(blob_count(&s), blobs - 1, "the package blob went with it");
    let again = dep(&c, "held", "Python3.9", &[("held.py", "X = 1\n", 0o644)]);
    assert_eq!(again.version, 1);
}
