//! End-to-end tests of the control plane against the compiled binary: function
//! lifecycle, validation, authentication, persistence and crash safety.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::time::Duration;
use stratus_api_types::{CodeBody, FuncCode, FunctionBody, StrategyConfig};
use stratus_client::{Client, ClientError};

const PY: &str = "def handler(event, context):\n    return 'v1'\n";

fn body(name: &str) -> FunctionBody {
    FunctionBody {
        func_name: Some(name.into()),
        package: Some("default".into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(256),
        timeout: Some(30),
        code_type: Some("zip".into()),
        code_filename: Some("index.zip".into()),
        func_code: Some(FuncCode {
            file: Some(b64(&zip(&[("index.py", PY, 0o644)]))),
            link: None,
        }),
        user_data: Some(r#"{"COLOR":"blue"}"#.into()),
        description: Some("first".into()),
        ..Default::default()
    }
}

fn api_err(r: Result<impl std::fmt::Debug, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api { status, code, msg }) => (status, code, msg),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn count(c: &Client) -> i64 {
    c.list_functions(0, 400).unwrap().count
}

/// Every file in the blob store (blobs and temporary files), sorted.
fn blob_files(s: &Server) -> Vec<String> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(s.data_dir().join("blobs")).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).unwrap() {
                out.push(f.unwrap().file_name().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// A body whose code no other test function has.
fn body_with_unique_code(name: &str, marker: &str) -> FunctionBody {
    let mut b = body(name);
    let source = format!("{PY}# {marker}\n");
    b.func_code = Some(FuncCode {
        file: Some(b64(&zip(&[("index.py", &source, 0o644)]))),
        link: None,
    });
    b
}

fn config_path(name: &str) -> String {
    let urn = stratus_sign::encode_component(&format!(
        "urn:fss:local:{PROJECT}:function:default:{name}:latest"
    ));
    format!("fgs/functions/{urn}/config")
}

#[test]
fn lifecycle_through_the_client() {
    let s = Server::start(&[]);
    let c = s.client();
    let created = c.create_function(&body("life"), |_, _| {}).unwrap();
    assert_eq!(created.func_name, "life");
    assert_eq!(
        created.func_urn,
        format!("urn:fss:local:{PROJECT}:function:default:life:latest")
    );
    assert_eq!(created.memory_size, 256);
    assert_eq!(created.cpu, 400);
    assert_eq!(created.version, "latest");
    assert_eq!(created.user_data, r#"{"COLOR":"blue"}"#);
    assert_eq!(created.digest.len(), 128, "sha512 hex");
    assert!(created.code_size > 0);

    let got = c.get_config("life").unwrap();
    assert_eq!(got, created);
    // The unqualified and the percent-encoded forms address the same function.
    let raw = c
        .call(
            "GET",
            &format!("fgs/functions/urn:fss:local:{PROJECT}:function:default:life/config"),
            &[],
            &[],
            None,
        )
        .unwrap();
    assert_eq!(raw.status, 200);

    let mut upd = FunctionBody {
        func_name: Some("life".into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(512),
        timeout: Some(60),
        description: Some("second".into()),
        ..Default::default()
    };
    upd.strategy_config = Some(StrategyConfig {
        concurrency: None,
        concurrent_num: Some(10),
    });
    let updated = c.update_config("life", &upd).unwrap();
    assert_eq!((updated.memory_size, updated.timeout), (512, 60));
    assert_eq!(updated.description, "second");
    assert_eq!(
        updated.user_data, r#"{"COLOR":"blue"}"#,
        "absent fields keep their value"
    );
    assert_eq!(updated.strategy_config.concurrent_num, Some(10));

    let new_code = CodeBody {
        code_type: Some("zip".into()),
        code_filename: Some("index.zip".into()),
        func_code: Some(FuncCode {
            file: Some(b64(&zip(&[(
                "index.py",
                "def handler(e, c):\n    return 'v2'\n",
                0o644,
            )]))),
            link: None,
        }),
        ..Default::default()
    };
    let code = c.update_code("life", &new_code, |_, _| {}).unwrap();
    assert_ne!(code.digest, created.digest);
    let link = code.func_code.link.unwrap();
    assert!(link.ends_with("/code/package"), "{link}");
    let pkg = c
        .call(
            "GET",
            link.split_once(&format!("/v2/{PROJECT}/")).unwrap().1,
            &[],
            &[],
            None,
        )
        .unwrap();
    assert_eq!(
        pkg.body,
        zip(&[("index.py", "def handler(e, c):\n    return 'v2'\n", 0o644)])
    );

    let inst = c.set_max_instances("life", 7).unwrap();
    assert_eq!(inst.strategy_config.concurrency, Some(7));

    let (file, bytes) = c.export_function("life").unwrap();
    assert!(
        file.len() == "life".len() + 32 + 4
            && file.starts_with("life")
            && file[4..36].bytes().all(|b| b.is_ascii_hexdigit())
            && file.ends_with(".zip"),
        "{file}"
    );
    assert!(bytes.starts_with(b"PK"));

    c.delete_function("life").unwrap();
    let (status, code, _) = api_err(c.get_config("life"));
    assert_eq!((status, code.as_str()), (404, "FSS.1051"));
    assert_eq!(api_err(c.delete_function("life")).0, 404);
}

#[test]
fn listing_pages_with_marker_and_filters() {
    let s = Server::start(&[]);
    let c = s.client();
    for i in 0..5 {
        c.create_function(&body(&format!("fn{i}")), |_, _| {})
            .unwrap();
    }
    let page = c.list_functions(0, 2).unwrap();
    assert_eq!(
        (page.functions.len(), page.count, page.next_marker),
        (2, 5, 2)
    );
    let page2 = c.list_functions(2, 2).unwrap();
    assert_eq!(page2.functions[0].func_name, "fn2");
    let last = c.list_functions(4, 2).unwrap();
    assert_eq!(last.functions.len(), 1);
    let filtered = c
        .call(
            "GET",
            "fgs/functions",
            &[("func_name", "fn3".into())],
            &[],
            None,
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&filtered.body).unwrap();
    assert_eq!(v["count"], 1);
    // Per the reference, absent, 0 and values over 400 all mean 400 items.
    for whole in ["", "0", "401", "99999999999999999999999"] {
        let r = c
            .call(
                "GET",
                "fgs/functions",
                &[("maxitems", whole.into())],
                &[],
                None,
            )
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            (v["functions"].as_array().unwrap().len(), &v["count"]),
            (5, &serde_json::json!(5)),
            "maxitems={whole}"
        );
    }
    // Only negative or non-numeric values are refused.
    for bad in ["-1", "x", "1.5", " 3"] {
        let r = c.call(
            "GET",
            "fgs/functions",
            &[("maxitems", bad.into())],
            &[],
            None,
        );
        let (status, code, msg) = api_err(r);
        assert_eq!((status, code.as_str()), (400, "FSS.1001"), "maxitems={bad}");
        assert!(msg.contains("maxitems"), "{msg}");
    }
}

/// Every bad input gets a precise 4xx and changes nothing stored.
#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let s = Server::start(&[]);
    let c = s.client();
    c.create_function(&body("keep"), |_, _| {}).unwrap();
    let before = c.get_config("keep").unwrap();
    let blobs_before = blob_files(&s);

    let with = |f: &dyn Fn(&mut FunctionBody)| {
        let mut b = body("newfn");
        f(&mut b);
        b
    };
    let zipped = |files: &[(&str, &str, u32)]| {
        Some(FuncCode {
            file: Some(b64(&raw_zip(files))),
            link: None,
        })
    };
    let cases: Vec<(&str, FunctionBody, &str, &str)> = vec![
        (
            "name starts with digit",
            with(&|b| b.func_name = Some("1abc".into())),
            "FSS.0400",
            "func_name",
        ),
        (
            "name too long",
            with(&|b| b.func_name = Some("a".repeat(61))),
            "FSS.0400",
            "func_name",
        ),
        (
            "name with dot",
            with(&|b| b.func_name = Some("a.b".into())),
            "FSS.0400",
            "func_name",
        ),
        (
            "missing name",
            with(&|b| b.func_name = None),
            "FSS.0400",
            "func_name",
        ),
        (
            "unknown runtime",
            with(&|b| b.runtime = Some("Cobol9".into())),
            "FSS.1005",
            "runtime",
        ),
        (
            "memory not in list",
            with(&|b| b.memory_size = Some(100)),
            "FSS.0400",
            "memory_size",
        ),
        (
            "timeout too small",
            with(&|b| b.timeout = Some(2)),
            "FSS.0400",
            "timeout",
        ),
        (
            "timeout too large",
            with(&|b| b.timeout = Some(259_201)),
            "FSS.0400",
            "timeout",
        ),
        (
            "bad handler",
            with(&|b| b.handler = Some("nohandler".into())),
            "FSS.0400",
            "handler",
        ),
        (
            "initializer timeout",
            with(&|b| {
                b.initializer_handler = Some("index.init".into());
                b.initializer_timeout = Some(301);
            }),
            "FSS.1405",
            "initializer_timeout",
        ),
        (
            "initializer timeout without an initializer",
            with(&|b| b.initializer_timeout = Some(0)),
            "FSS.1405",
            "initializer_timeout",
        ),
        (
            "description too long",
            with(&|b| b.description = Some("d".repeat(513))),
            "FSS.0400",
            "description",
        ),
        (
            "env key",
            with(&|b| b.user_data = Some(r#"{"1BAD":"x"}"#.into())),
            "FSS.1009",
            "user_data",
        ),
        (
            "env reserved",
            with(&|b| b.user_data = Some(r#"{"RUNTIME_MEMORY":"1"}"#.into())),
            "FSS.1009",
            "RUNTIME_",
        ),
        (
            "env too large",
            with(&|b| b.user_data = Some(format!(r#"{{"A":"{}"}}"#, "x".repeat(4100)))),
            "FSS.1009",
            "4096",
        ),
        (
            "env not json",
            with(&|b| b.user_data = Some("A=1".into())),
            "FSS.1009",
            "user_data",
        ),
        (
            "not base64",
            with(&|b| {
                b.func_code = Some(FuncCode {
                    file: Some("!!!".into()),
                    link: None,
                })
            }),
            "FSS.0400",
            "base64",
        ),
        (
            "not a zip",
            with(&|b| {
                b.func_code = Some(FuncCode {
                    file: Some(b64(b"hello")),
                    link: None,
                })
            }),
            "FSS.0400",
            "zip",
        ),
        (
            "zip slip",
            with(&|b| b.func_code = zipped(&[("../evil.py", "x", 0o644)])),
            "FSS.0400",
            "..",
        ),
        (
            "absolute path",
            with(&|b| b.func_code = zipped(&[("/etc/evil", "x", 0o644)])),
            "FSS.0400",
            "evil",
        ),
        (
            "symlink out",
            with(&|b| {
                b.func_code = zipped(&[("index.py", PY, 0o644), ("link", "/etc/passwd", 0o120777)])
            }),
            "FSS.0400",
            "link",
        ),
        (
            "jar for python",
            with(&|b| b.code_type = Some("jar".into())),
            "FSS.0400",
            "jar",
        ),
        (
            "bad code type",
            with(&|b| b.code_type = Some("tarball".into())),
            "FSS.0400",
            "code_type",
        ),
        (
            "inline for java",
            with(&|b| {
                b.runtime = Some("Java11".into());
                b.handler = Some("a.B.c".into());
                b.code_type = Some("inline".into());
            }),
            "FSS.0400",
            "inline",
        ),
        (
            "concurrent_num",
            with(&|b| {
                b.strategy_config = Some(StrategyConfig {
                    concurrency: None,
                    concurrent_num: Some(0),
                })
            }),
            "FSS.0400",
            "concurrent_num",
        ),
        (
            "bad package",
            with(&|b| b.package = Some("-x".into())),
            "FSS.0400",
            "package",
        ),
        (
            "code url scheme",
            with(&|b| {
                b.code_type = Some("obs".into());
                b.code_url = Some("file:///etc/passwd".into());
            }),
            "FSS.0400",
            "code_url",
        ),
    ];
    for (what, b, code, needle) in cases {
        let (status, got_code, msg) = api_err(c.create_function(&b, |_, _| {}));
        assert_eq!(status, 400, "{what}: {msg}");
        assert_eq!(got_code, code, "{what}: {msg}");
        assert!(
            msg.contains(needle),
            "{what}: message {msg:?} should mention {needle:?}"
        );
    }
    // Raw bodies: malformed JSON and wrong types name the problem.
    for (raw, needle) in [
        (&b"{not json"[..], "malformed JSON"),
        (
            br#"{"func_name":"x","runtime":"Python3.9","memory_size":"big"}"#,
            "memory_size",
        ),
        (br#"{"func_name":5}"#, "func_name"),
        // Unmodelled fields are checked against the SDK model's types too.
        (
            br#"{"func_name":"x","runtime":"Python3.9","func_vpc":5}"#,
            "func_vpc",
        ),
        (
            br#"{"func_name":"x","runtime":"Python3.9","custom_image":{"enabled":"yes"}}"#,
            "custom_image.enabled",
        ),
        (
            br#"{"func_name":"x","runtime":"Python3.9","gpu_memory":"1024"}"#,
            "gpu_memory",
        ),
        (br#"[]"#, "malformed"),
        (b"", "empty"),
    ] {
        let (status, code, msg) = api_err(c.call("POST", "fgs/functions", &[], &[], Some(raw)));
        assert_eq!((status, code.as_str()), (400, "FSS.0400"), "{msg}");
        assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
    }
    // Duplicate name, with code of its own: refused before that code is stored.
    let (status, code, _) =
        api_err(c.create_function(&body_with_unique_code("keep", "duplicate"), |_, _| {}));
    assert_eq!((status, code.as_str()), (409, "FSS.0409"));
    // A package change would orphan the function: refused, naming the field.
    let moved = FunctionBody {
        func_name: Some("keep".into()),
        package: Some("elsewhere".into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(128),
        timeout: Some(3),
        ..Default::default()
    };
    let (status, code, msg) = api_err(c.update_config("keep", &moved));
    assert_eq!((status, code.as_str()), (400, "FSS.0400"), "{msg}");
    assert!(msg.contains("package"), "{msg}");
    // Wrong types of unmodelled fields are refused on update too.
    for (field, value) in [
        ("log_config", serde_json::json!(7)),
        ("func_vpc", serde_json::json!({"security_groups": "sg"})),
        ("is_stateful_function", serde_json::json!("false")),
    ] {
        let mut typed = bad_update_base();
        typed.other.insert(field.to_string(), value);
        let (status, _, msg) = api_err(c.update_config("keep", &typed));
        assert_eq!(status, 400, "{field}: {msg}");
        assert!(msg.contains(field), "{field}: {msg}");
    }
    // Updates that are refused leave the function as it was.
    let bad_update = FunctionBody {
        func_name: Some("keep".into()),
        runtime: Some("Node.js18.15".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(128),
        timeout: Some(3),
        ..Default::default()
    };
    assert_eq!(
        api_err(c.update_config("keep", &bad_update)).0,
        400,
        "runtime is immutable"
    );
    let bad_mem = FunctionBody {
        memory_size: Some(999),
        ..bad_update.clone()
    };
    assert_eq!(
        api_err(c.update_config(
            "keep",
            &FunctionBody {
                runtime: Some("Python3.9".into()),
                ..bad_mem
            }
        ))
        .0,
        400
    );
    let bad_code = CodeBody {
        code_type: Some("zip".into()),
        func_code: Some(FuncCode {
            file: Some(b64(&raw_zip(&[("../x", "y", 0o644)]))),
            link: None,
        }),
        ..Default::default()
    };
    assert_eq!(api_err(c.update_code("keep", &bad_code, |_, _| {})).0, 400);
    assert_eq!(api_err(c.set_max_instances("keep", -5)).0, 400);
    assert_eq!(api_err(c.set_max_instances("keep", 1001)).0, 400);
    // Deleting `latest` is refused.
    let latest = stratus_sign::encode_component(&format!(
        "urn:fss:local:{PROJECT}:function:default:keep:latest"
    ));
    assert_eq!(
        api_err(c.call("DELETE", &format!("fgs/functions/{latest}"), &[], &[], None)).0,
        400
    );
    // Malformed URN.
    assert_eq!(
        api_err(c.call("GET", "fgs/functions/not-a-urn/config", &[], &[], None)).0,
        400
    );

    assert_eq!(c.get_config("keep").unwrap(), before);
    assert_eq!(count(&c), 1);
    assert_eq!(
        blob_files(&s),
        blobs_before,
        "refused requests stored no code"
    );
}

fn bad_update_base() -> FunctionBody {
    FunctionBody {
        func_name: Some("keep".into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(128),
        timeout: Some(3),
        ..Default::default()
    }
}

#[test]
fn oversized_package_gets_413() {
    let s = Server::start(&[]);
    let c = s.client();
    let mut b = body("big");
    // 51 MB of incompressible-looking bytes as base64: refused before unpacking.
    let noise: Vec<u8> = (0..51 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    b.func_code = Some(FuncCode {
        file: Some(b64(&noise)),
        link: None,
    });
    let (status, code, _) = api_err(c.create_function(&b, |_, _| {}));
    assert_eq!((status, code.as_str()), (413, "FSS.0413"));
    assert_eq!(count(&c), 0);
}

#[test]
fn zip_bomb_is_refused() {
    let s = Server::start(&[]);
    let c = s.client();
    // 200 MB of zeros compresses about 1000:1: refused by the ratio rule without expanding it.
    let zeros = vec![0u8; 200 * 1024 * 1024];
    let bomb = stratus_package::zip_files(&[("index.py".to_string(), zeros, 0o644)]).unwrap();
    let mut b = body("bomb");
    b.func_code = Some(FuncCode {
        file: Some(b64(&bomb)),
        link: None,
    });
    let (status, _, msg) = api_err(c.create_function(&b, |_, _| {}));
    assert_eq!(status, 400, "{msg}");
    assert_eq!(count(&c), 0);
}

#[test]
fn function_quota_of_400() {
    let s = Server::start(&[]);
    let c = s.client();
    for i in 0..400 {
        let mut b = body(&format!("q{i}"));
        b.func_code = None; // default code keeps this fast
        b.code_type = None;
        c.create_function(&b, |_, _| {}).unwrap();
    }
    let blobs_before = blob_files(&s);
    let (status, _, msg) =
        api_err(c.create_function(&body_with_unique_code("q400", "over the quota"), |_, _| {}));
    assert_eq!(status, 400);
    assert!(msg.contains("400"), "{msg}");
    assert_eq!(count(&c), 400);
    assert_eq!(
        blob_files(&s),
        blobs_before,
        "the refused create stored no code"
    );
}

#[test]
fn authentication_is_enforced() {
    let s = Server::start(&[]);
    // No auth at all.
    let (status, body) = raw_http(
        &s.endpoint,
        &format!(
            "GET /v2/{PROJECT}/fgs/functions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 401);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error_code"], "FSS.0401");
    assert!(v["error_msg"].as_str().unwrap().len() > 5);
    // Health needs none.
    assert_eq!(
        raw_http(
            &s.endpoint,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .0,
        200
    );
    // Wrong secret.
    let mut creds = s.credentials();
    creds.secret_key = "wrong".into();
    assert_eq!(api_err(Client::new(creds).list_functions(0, 10)).0, 401);
    // Unknown key.
    let mut creds = s.credentials();
    creds.access_key = "UNKNOWNAK00000000000".into();
    assert_eq!(api_err(Client::new(creds).list_functions(0, 10)).0, 401);
    // Another project's path.
    let mut creds = s.credentials();
    creds.project_id = "ffffffffffffffffffffffffffffffff".into();
    let (status, code, _) = api_err(Client::new(creds).list_functions(0, 10));
    assert_eq!((status, code.as_str()), (403, "FSS.0403"));
    // Expired date: sign a request dated 20 minutes ago.
    let old = stratus_sign_request_with_date(&s, "20200101T000000Z");
    let (status, body) = raw_http(&s.endpoint, &old);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("X-Sdk-Date"), "{body}");
    let ok = s.client().list_functions(0, 10).unwrap();
    assert_eq!(ok.count, 0);
}

/// A correctly signed GET with a fixed (old) X-Sdk-Date, as raw HTTP.
fn stratus_sign_request_with_date(s: &Server, date: &str) -> String {
    let host = s.endpoint.trim_start_matches("http://").to_string();
    let path = format!("/v2/{PROJECT}/fgs/functions");
    let headers = [
        ("Host", host.as_str()),
        ("X-Sdk-Date", date),
        ("Content-Type", "application/json"),
    ];
    let raw = stratus_sign::RawRequest {
        method: "GET",
        path: &path,
        query: None,
        headers: &headers,
        body: b"",
    };
    let auth = stratus_sign::sign(&raw, AK, SK).unwrap();
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Sdk-Date: {date}\r\nContent-Type: application/json\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
    )
}

#[test]
fn state_survives_restart_and_credentials_are_private() {
    let s = Server::start(&[]);
    let creds_path = s.data_dir().join("credentials.json");
    let meta = std::fs::metadata(&creds_path).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let creds: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&creds_path).unwrap()).unwrap();
    assert_eq!(creds["access_key"], AK);
    assert_eq!(creds["project_id"], PROJECT);
    assert_eq!(creds["endpoint"], s.endpoint.as_str());
    s.client()
        .create_function(&body("persist"), |_, _| {})
        .unwrap();
    let dir = s.stop();
    // What a crash in the middle of a blob write leaves behind.
    let stray = dir.path().join("blobs").join("ab").join(".tmp-4242-1-0");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"half a package").unwrap();
    let s2 = Server::start_in(dir, &[]);
    assert_eq!(
        s2.client().get_config("persist").unwrap().description,
        "first"
    );
    assert!(
        !stray.exists(),
        "start-up removes stale temporary blob files"
    );
    let code = s2.client().get_code("persist").unwrap();
    assert!(code.code_size > 0);
}

/// `kill -9` while creates, updates and deletes are in flight never leaves a function
/// without its code.
#[test]
fn crash_during_writes_leaves_functions_whole() {
    let s = Server::start(&[]);
    let creds = s.credentials();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..3 {
        let creds = creds.clone();
        let stop = stop.clone();
        workers.push(std::thread::spawn(move || {
            let c = Client::new(creds);
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let name = format!("w{w}n{i}");
                let mut b = body(&name);
                let content = format!(
                    "def handler(e, c):\n    return '{name}'\n# {}\n",
                    "x".repeat(i * 997 % 50_000)
                );
                b.func_code = Some(FuncCode {
                    file: Some(b64(&zip(&[("index.py", &content, 0o644)]))),
                    link: None,
                });
                if c.create_function(&b, |_, _| {}).is_err() {
                    break;
                }
                if i % 3 == 0 && c.delete_function(&name).is_err() {
                    break;
                }
                i += 1;
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let dir = s.kill9();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let s2 = Server::start_in(dir, &[]);
    let c = s2.client();
    let list = c.list_functions(0, 400).unwrap();
    assert!(
        list.count > 0,
        "some functions were created before the crash"
    );
    for f in &list.functions {
        let code = c.get_code(&f.func_name).unwrap();
        let rest = code.func_code.link.unwrap();
        let pkg = c
            .call(
                "GET",
                rest.split_once(&format!("/v2/{PROJECT}/")).unwrap().1,
                &[],
                &[],
                None,
            )
            .unwrap();
        assert_eq!(
            pkg.body.len() as i64,
            code.code_size,
            "{} has its whole package",
            f.func_name
        );
        assert!(pkg.body.starts_with(b"PK"));
    }
}

#[test]
fn cli_manages_functions() {
    let s = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.py"), PY).unwrap();
    let code = dir.path().display().to_string();
    let (ok, out, err) = s.cli(&[
        "fn",
        "create",
        "clifn",
        "--runtime",
        "Python3.9",
        "--code",
        &code,
        "--memory",
        "256",
        "--env",
        "A=1",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("clifn") && out.contains("256 MB"), "{out}");
    let (ok, out, _) = s.cli(&["fn", "list"]);
    assert!(
        ok && out.contains("clifn") && out.contains("Python3.9"),
        "{out}"
    );
    let (ok, out, _) = s.cli(&["fn", "get", "clifn", "--output", "json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["memory_size"], 256);
    assert_eq!(v["user_data"], r#"{"A":"1"}"#);
    // A single file becomes inline code.
    let single = dir.path().join("index.py").display().to_string();
    let (ok, out, err) = s.cli(&["fn", "update-code", "clifn", "--code", &single]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("inline"), "{out}");
    let (ok, out, err) = s.cli(&[
        "fn",
        "update-config",
        "clifn",
        "--timeout",
        "45",
        "--description",
        "via cli",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("45 s"), "{out}");
    // The issue's form: `fn export NAME -o FILE`.
    let export = dir.path().join("out.zip").display().to_string();
    let (ok, out, err) = s.cli(&["fn", "export", "clifn", "-o", &export]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("exported clifn"), "{out}");
    assert!(std::fs::read(&export).unwrap().starts_with(b"PK"));
    // `--output json` still selects the format, next to `-o FILE`.
    let export2 = dir.path().join("again.zip").display().to_string();
    let (ok, out, err) = s.cli(&["fn", "export", "clifn", "-o", &export2, "--output", "json"]);
    assert!(ok, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["result"].as_str().unwrap().contains("again.zip"), "{out}");
    assert_eq!(
        std::fs::read(&export2).unwrap(),
        std::fs::read(&export).unwrap()
    );
    let (ok, _, _) = s.cli(&[
        "fn",
        "concurrency",
        "clifn",
        "--per-instance",
        "4",
        "--max-instances",
        "-1",
    ]);
    assert!(ok);
    assert_eq!(
        s.client()
            .get_config("clifn")
            .unwrap()
            .strategy_config
            .concurrency,
        Some(-1)
    );
    // Failures exit non-zero with the server's message.
    let (ok, _, err) = s.cli(&[
        "fn",
        "create",
        "clifn",
        "--runtime",
        "Python3.9",
        "--code",
        &code,
    ]);
    assert!(!ok);
    assert!(err.contains("FSS.0409"), "{err}");
    let (ok, _, err) = s.cli(&["fn", "update-config", "clifn", "--memory", "100"]);
    assert!(!ok && err.contains("memory_size"), "{err}");
    let (ok, out, _) = s.cli(&["fn", "delete", "clifn"]);
    assert!(ok && out.contains("deleted"));
    let (ok, _, err) = s.cli(&["fn", "get", "clifn"]);
    assert!(!ok && err.contains("FSS.1051"), "{err}");
}

/// Update-code and update-config racing on the same function: each write is based on the
/// revision it read, so neither change is lost.
#[test]
fn concurrent_code_and_config_updates_keep_both() {
    let s = Server::start(&[]);
    let c = s.client();
    c.create_function(&body("race"), |_, _| {}).unwrap();
    for round in 0..8 {
        let code_client = s.client();
        let code = std::thread::spawn(move || {
            // A larger package takes longer to check, widening the window.
            let source = format!("{PY}# round {round}\n# {}\n", "x".repeat(200_000 + round));
            let new_code = CodeBody {
                code_type: Some("zip".into()),
                code_filename: Some("index.zip".into()),
                func_code: Some(FuncCode {
                    file: Some(b64(&zip(&[("index.py", &source, 0o644)]))),
                    link: None,
                }),
                ..Default::default()
            };
            code_client
                .update_code("race", &new_code, |_, _| {})
                .unwrap()
                .digest
        });
        let config_client = s.client();
        let config = std::thread::spawn(move || {
            let mut results = Vec::new();
            for step in 0..4 {
                let upd = FunctionBody {
                    description: Some(format!("round {round} step {step}")),
                    ..Default::default()
                };
                results.push(
                    config_client
                        .update_config("race", &upd)
                        .unwrap()
                        .description,
                );
            }
            results
        });
        let digest = code.join().unwrap();
        let descriptions = config.join().unwrap();
        let now = c.get_config("race").unwrap();
        assert_eq!(
            now.digest, digest,
            "round {round}: the code update was kept"
        );
        assert_eq!(
            Some(&now.description),
            descriptions.last(),
            "round {round}: the config update was kept"
        );
    }
}

/// A tiny HTTP server on 127.0.0.1 for `code_url` tests: answers every connection with
/// `respond` and counts the connections.
struct PackageServer {
    port: u16,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl PackageServer {
    fn start(respond: fn(&mut std::net::TcpStream, &str)) -> PackageServer {
        use std::io::{BufRead, BufReader};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
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
                respond(&mut conn, &path);
            }
        });
        PackageServer { port, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn package_bytes() -> Vec<u8> {
    zip(&[("index.py", PY, 0o644)])
}

/// `/ok.zip` serves a package; `/big` streams 51 MB without a length; `/declared-big`
/// announces 60 MB.
fn serve_packages(conn: &mut std::net::TcpStream, path: &str) {
    use std::io::Write;
    match path {
        "/ok.zip" => {
            let pkg = package_bytes();
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
            for _ in 0..51 {
                if conn.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
        "/declared-big" => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 60000000\r\nConnection: close\r\n\r\nPK",
            );
        }
        _ => {
            let _ = conn.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    }
}

fn obs_body(name: &str, url: &str) -> FunctionBody {
    FunctionBody {
        code_type: Some("obs".into()),
        code_url: Some(url.into()),
        func_code: None,
        ..body(name)
    }
}

#[test]
fn code_url_downloads_from_allowed_hosts_only() {
    let pkg = PackageServer::start(serve_packages);
    let s = Server::start(&["--code-url-hosts", "127.0.0.1"]);
    let c = s.client();
    let url = format!("http://127.0.0.1:{}/ok.zip", pkg.port);
    let created = c
        .create_function(&obs_body("fromurl", &url), |_, _| {})
        .unwrap();
    assert_eq!(created.code_type, "obs");
    assert_eq!(created.code_url, url);
    assert_eq!(created.code_size, package_bytes().len() as i64);
    assert_eq!(pkg.hits(), 1);

    // The host before a backslash is the one connected to: not allowed.
    let sneaky = format!("http://localhost\\@127.0.0.1:{}/ok.zip", pkg.port);
    let (status, code, msg) = api_err(c.create_function(&obs_body("sneaky", &sneaky), |_, _| {}));
    assert_eq!((status, code.as_str()), (400, "FSS.0400"), "{msg}");
    assert!(
        msg.contains("code_url") && msg.contains("\"localhost\" is not in"),
        "{msg}"
    );
    let other = format!("http://example.invalid:{}/ok.zip", pkg.port);
    let (status, _, msg) = api_err(c.create_function(&obs_body("other", &other), |_, _| {}));
    assert_eq!(status, 400, "{msg}");
    assert!(msg.contains("not in"), "{msg}");

    // Over-size packages are refused, streamed or announced.
    for path in ["/big", "/declared-big"] {
        let url = format!("http://127.0.0.1:{}{path}", pkg.port);
        let (status, code, msg) = api_err(c.create_function(&obs_body("big", &url), |_, _| {}));
        assert_eq!((status, code.as_str()), (413, "FSS.0413"), "{path}: {msg}");
    }
    // Redirects are not followed and errors are reported.
    let missing = format!("http://127.0.0.1:{}/missing", pkg.port);
    let (status, _, msg) = api_err(c.create_function(&obs_body("missing", &missing), |_, _| {}));
    assert_eq!(status, 400, "{msg}");
    assert!(msg.contains("download failed"), "{msg}");
    assert_eq!(pkg.hits(), 4, "only allowed URLs were fetched");
    assert_eq!(count(&c), 1);
}

#[test]
fn code_url_refuses_internal_addresses_without_an_allow_list() {
    let pkg = PackageServer::start(serve_packages);
    let s = Server::start(&[]);
    let c = s.client();
    let before = blob_files(&s);
    for (url, kind) in [
        (format!("http://127.0.0.1:{}/ok.zip", pkg.port), "loopback"),
        (format!("http://localhost:{}/ok.zip", pkg.port), "loopback"),
        (format!("http://[::1]:{}/ok.zip", pkg.port), "loopback"),
        (format!("http://0x7f000001:{}/ok.zip", pkg.port), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "link-local",
        ),
        (format!("http://0.0.0.0:{}/ok.zip", pkg.port), "unspecified"),
    ] {
        let (status, code, msg) =
            api_err(c.create_function(&obs_body("internal", &url), |_, _| {}));
        assert_eq!((status, code.as_str()), (400, "FSS.0400"), "{url}: {msg}");
        assert!(msg.contains(&format!("a {kind} address")), "{url}: {msg}");
    }
    assert_eq!(pkg.hits(), 0, "no connection was made");
    assert_eq!(count(&c), 0);
    assert_eq!(blob_files(&s), before);
}

/// Sends only the head of a request (no body) and reads the answer, with a deadline.
fn send_head(endpoint: &str, head: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(endpoint.trim_start_matches("http://")).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(head.as_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    let mut out = Vec::new();
    // Read the status line, the headers and the (small) error body; stop once the body
    // announced by Content-Length is in rather than waiting for the connection to close.
    loop {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&out);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok());
                    if len.is_some_and(|l| body.len() >= l) {
                        break;
                    }
                }
            }
            Err(e) => panic!("no answer before the body was sent: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

/// Requests that cannot authenticate are answered before their body is read: the server
/// does not wait for (or buffer) 70 MB from an unknown caller.
#[test]
fn unauthenticated_requests_are_refused_before_the_body() {
    let s = Server::start(&[]);
    let host = s.endpoint.trim_start_matches("http://").to_string();
    let path = format!("/v2/{PROJECT}/fgs/functions");
    let date = chrono_like_now();
    for auth in [
        String::new(),
        "Authorization: Basic abc\r\n".to_string(),
        "Authorization: SDK-HMAC-SHA256 Access=NOSUCHKEY0000000000, SignedHeaders=host;x-sdk-date, Signature=00\r\n".to_string(),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nX-Sdk-Date: {date}\r\nContent-Type: application/json\r\nContent-Length: 70000000\r\n{auth}Connection: close\r\n\r\n"
        );
        let (status, body) = send_head(&s.endpoint, &head);
        assert_eq!(status, 401, "{auth:?}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error_code"], "FSS.0401");
    }
    assert_eq!(count(&s.client()), 0);
}

/// The current time as `X-Sdk-Date` wants it.
fn chrono_like_now() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y%m%dT%H%M%SZ"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The names and contents of a zip's entries.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        out.push((f.name().to_string(), content));
    }
    out.sort();
    out
}

#[test]
fn export_honours_type_code_and_config() {
    let s = Server::start(&[]);
    let c = s.client();
    c.create_function(&body("exp"), |_, _| {}).unwrap();
    let urn =
        stratus_sign::encode_component(&format!("urn:fss:local:{PROJECT}:function:default:exp"));
    let path = format!("fgs/functions/{urn}/export");
    let export = |query: &[(&str, &str)]| {
        let q: Vec<(&str, String)> = query.iter().map(|(k, v)| (*k, v.to_string())).collect();
        c.call("GET", &path, &q, &[], None)
    };
    let config_json: serde_json::Value = serde_json::from_slice(
        &c.call("GET", &config_path("exp"), &[], &[], None)
            .unwrap()
            .body,
    )
    .unwrap();
    let package = c
        .call(
            "GET",
            &format!("fgs/functions/{urn}/code/package"),
            &[],
            &[],
            None,
        )
        .unwrap()
        .body;

    let both = export(&[]).unwrap();
    assert_eq!(both.header("content-type"), Some("application/zip"));
    let disposition = both.header("content-disposition").unwrap().to_string();
    // `<name><md5 of the package>.zip`, no separator, as the guide names it.
    assert!(disposition.contains("filename=\"exp"), "{disposition}");
    assert!(!disposition.contains("filename=\"exp-"), "{disposition}");
    let entries = unzip(&both.body);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["exp.zip", "function.json"]);
    assert_eq!(entries[0].1, package);
    // function.json is what the get-config API returns, with the API's field names.
    let exported: serde_json::Value = serde_json::from_slice(&entries[1].1).unwrap();
    assert_eq!(exported, config_json);
    assert_eq!(exported["func_name"], "exp");
    assert_eq!(exported["memory_size"], 256);

    let old_style = export(&[("code", "true"), ("config", "true")]).unwrap();
    assert_eq!(old_style.body, both.body);
    let code_only = unzip(&export(&[("type", "code")]).unwrap().body);
    assert_eq!(code_only, vec![("exp.zip".to_string(), package.clone())]);
    assert_eq!(unzip(&export(&[("code", "true")]).unwrap().body), code_only);
    let config_only = unzip(&export(&[("type", "config")]).unwrap().body);
    assert_eq!(config_only.len(), 1);
    assert_eq!(config_only[0].0, "function.json");

    for bad in [
        vec![("type", "everything")],
        vec![("type", "code"), ("config", "true")],
        vec![("code", "false"), ("config", "false")],
        vec![("code", "maybe")],
    ] {
        let (status, code, msg) = api_err(export(&bad));
        assert_eq!((status, code.as_str()), (400, "FSS.1001"), "{bad:?}: {msg}");
    }
}

/// `GET …/config` answers from memory (access key and serialised configuration are
/// cached); every kind of write must still show in the next read.
#[test]
fn config_reads_follow_every_change() {
    let s = Server::start(&[]);
    let c = s.client();
    c.create_function(&body("cached"), |_, _| {}).unwrap();
    for _ in 0..3 {
        assert_eq!(c.get_config("cached").unwrap().memory_size, 256);
    }
    // update-then-get
    let upd = FunctionBody {
        func_name: Some("cached".into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(512),
        timeout: Some(30),
        description: Some("changed".into()),
        ..Default::default()
    };
    c.update_config("cached", &upd).unwrap();
    let got = c.get_config("cached").unwrap();
    assert_eq!(
        (got.memory_size, got.description.as_str()),
        (512, "changed")
    );
    c.set_max_instances("cached", 7).unwrap();
    assert_eq!(
        c.get_config("cached").unwrap().strategy_config.concurrency,
        Some(7)
    );
    let before = c.get_config("cached").unwrap().digest;
    let code = CodeBody {
        code_type: Some("zip".into()),
        code_filename: Some("index.zip".into()),
        func_code: Some(FuncCode {
            file: Some(b64(&zip(&[(
                "index.py",
                "def handler(e, c):\n    return 'other'\n",
                0o644,
            )]))),
            link: None,
        }),
        ..Default::default()
    };
    c.update_code("cached", &code, |_, _| {}).unwrap();
    assert_ne!(c.get_config("cached").unwrap().digest, before);

    // A published version keeps its own answer while latest moves on.
    let path = |q: &str| {
        format!("fgs/functions/urn:fss:local:{PROJECT}:function:default:cached:{q}/config")
    };
    c.publish_version(
        "cached",
        &stratus_api_types::PublishBody {
            version: Some("1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let v1 = |c: &Client| -> serde_json::Value {
        let a = c.call("GET", &path("1"), &[], &[], None).unwrap();
        assert_eq!(a.status, 200);
        serde_json::from_slice(&a.body).unwrap()
    };
    assert_eq!(v1(&c)["memory_size"], 512);
    c.update_config(
        "cached",
        &FunctionBody {
            memory_size: Some(1024),
            ..upd.clone()
        },
    )
    .unwrap();
    assert_eq!(c.get_config("cached").unwrap().memory_size, 1024);
    assert_eq!(v1(&c)["memory_size"], 512);
    assert_eq!(v1(&c)["version"], "1");

    // delete-then-get and delete-then-invoke; a new function of the same name is new.
    c.delete_function("cached").unwrap();
    let (status, code, _) = api_err(c.get_config("cached"));
    assert_eq!((status, code.as_str()), (404, "FSS.1051"));
    let (status, _, _) = api_err(c.invoke("cached", b"{}", &Default::default()));
    assert_eq!(status, 404);
    let (status, _, _) = api_err(c.call("GET", &path("1"), &[], &[], None));
    assert_eq!(status, 404);
    let mut again = body("cached");
    again.memory_size = Some(128);
    c.create_function(&again, |_, _| {}).unwrap();
    let got = c.get_config("cached").unwrap();
    assert_eq!((got.memory_size, got.description.as_str()), (128, "first"));
}
