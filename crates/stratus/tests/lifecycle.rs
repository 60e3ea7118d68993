//! End-to-end tests of disabling and enabling functions and of export → import.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use stratus_api_types::PublishBody;
use stratus_client::{Client, ClientError, InvokeOptions};

const SRC: &str = "import os\ndef handler(event, context):\n    return {\"mode\": os.environ.get(\"MODE\"), \"n\": event.get(\"n\")}\n";

fn result(c: &Client, target: &str) -> Result<String, ClientError> {
    c.invoke(target, br#"{"n": 7}"#, &InvokeOptions::default())
        .map(|(r, _)| r.result)
}

fn api_err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api { status, code, msg }) => (status, code, msg),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[test]
fn disabled_functions_cannot_run_and_their_versions_stay_disabled() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "sw",
        "Python3.9",
        "index.handler",
        &[("index.py", SRC, 0o644)],
    );
    assert!(result(&c, "sw").unwrap().contains("7"));
    let (ok, _, err) = s.cli(&["fn", "disable", "sw"]);
    assert!(ok, "{err}");
    let (status, code, msg) = api_err(result(&c, "sw"));
    assert_eq!((status, code.as_str()), (429, "FSS.0429"), "{msg}");
    assert!(msg.contains("Disabled"), "{msg}");
    // Code can still change; a version published now is disabled for good.
    let code = stratus_api_types::CodeBody {
        code_type: Some("zip".into()),
        func_code: Some(stratus_api_types::FuncCode {
            file: Some(b64(&zip(&[("index.py", SRC, 0o644)]))),
            link: None,
        }),
        ..Default::default()
    };
    c.update_code("sw", &code, |_, _| {}).unwrap();
    c.publish_version(
        "sw",
        &PublishBody {
            version: Some("off".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let (ok, _, err) = s.cli(&["fn", "enable", "sw"]);
    assert!(ok, "{err}");
    assert!(result(&c, "sw").unwrap().contains("7"));
    let (status, _, _) = api_err(result(&c, &format!("{}:off", c.urn("sw"))));
    assert_eq!(
        status, 429,
        "a version published while disabled stays disabled"
    );
    let (ok, _, err) = s.cli(&["fn", "enable", "sw", "--max-instances", "0"]);
    assert!(!ok && err.contains("disabled"), "{err}");
}

#[test]
fn export_delete_import_gives_the_same_function() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "moved",
        "Python3.9",
        "index.handler",
        &[("index.py", SRC, 0o644)],
    );
    let mut body: stratus_api_types::FunctionBody = serde_json::from_value(serde_json::json!({
        "runtime": "Python3.9", "handler": "index.handler", "memory_size": 256, "timeout": 20,
        "user_data": "{\"MODE\": \"exported\"}", "description": "round trip"
    }))
    .unwrap();
    body.func_name = None;
    c.update_config("moved", &body).unwrap();
    let before = result(&c, "moved").unwrap();
    let file = s.data_dir().join("moved-export.zip");
    let (ok, _, err) = s.cli(&["fn", "export", "moved", "-o", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    c.delete_function("moved").unwrap();

    let (ok, out, err) = s.cli(&["fn", "import", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("moved"), "{out}");
    assert_eq!(result(&c, "moved").unwrap(), before);
    let cfg = c.get_config("moved").unwrap();
    assert_eq!((cfg.memory_size, cfg.timeout), (256, 20));
    assert_eq!(cfg.description, "round trip");
    assert!(cfg.user_data.contains("exported"), "{}", cfg.user_data);

    // Under another name too; the same name again is a conflict.
    let zip = std::fs::read(&file).unwrap();
    c.import_function(&zip, Some("copy"), None).unwrap();
    assert_eq!(result(&c, "copy").unwrap(), before);
    let (status, _, _) = api_err(c.import_function(&zip, None, None));
    assert_eq!(status, 409);

    // Bad imports change nothing.
    let count = c.list_functions(0, 400).unwrap().count;
    let code_only = zip_files(&[("moved.zip", b"not really".as_slice())]);
    for (bytes, name) in [
        (b"not a zip".to_vec(), "x1"),
        (code_only, "x2"),
        (zip_files(&[("function.json", b"{}".as_slice())]), "x3"),
    ] {
        let (status, _, msg) = api_err(c.import_function(&bytes, Some(name), None));
        assert_eq!(status, 400, "{msg}");
    }
    let raw = c.call(
        "POST",
        "fgs/functions/import",
        &[],
        &[],
        Some(br#"{"file_code": "%%%not base64"}"#),
    );
    assert!(
        matches!(raw, Err(ClientError::Api { status: 400, .. })),
        "{raw:?}"
    );
    assert_eq!(c.list_functions(0, 400).unwrap().count, count);
}

fn zip_files(files: &[(&str, &[u8])]) -> Vec<u8> {
    let v: Vec<(&str, &[u8], u32)> = files.iter().map(|(n, b)| (*n, *b, 0o644)).collect();
    stratus_package::zip_files(&v).unwrap()
}

const MEMORY: &str = r#"import os
INSTANCE = os.urandom(6).hex()
def handler(event, context):
    return {"memory": context.getMemorySize(), "instance": INSTANCE}
"#;

fn memory_call(c: &Client, name: &str, mb: Option<u32>) -> Result<(i64, String), ClientError> {
    let opts = InvokeOptions {
        log: false,
        memory: mb,
    };
    c.invoke(name, b"{}", &opts).map(|(r, _)| {
        let v: serde_json::Value = serde_json::from_str(&r.result).unwrap();
        (
            v["memory"].as_i64().unwrap(),
            v["instance"].as_str().unwrap().to_string(),
        )
    })
}

#[test]
fn dynamic_memory_picks_the_instance_size_per_request() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "dyn",
        "Python3.9",
        "index.handler",
        &[("index.py", MEMORY, 0o644)],
    );
    let (status, code, _) = api_err(memory_call(&c, "dyn", Some(512)));
    assert_eq!(
        (status, code.as_str()),
        (406, "FSS.0406"),
        "dynamic memory is off"
    );
    let mut body: stratus_api_types::FunctionBody = serde_json::from_value(serde_json::json!({
        "runtime": "Python3.9", "handler": "index.handler", "memory_size": 128, "timeout": 10,
        "enable_dynamic_memory": true
    }))
    .unwrap();
    body.func_name = None;
    c.update_config("dyn", &body).unwrap();
    let (base, base_instance) = memory_call(&c, "dyn", None).unwrap();
    assert_eq!(base, 128);
    let (big, big_instance) = memory_call(&c, "dyn", Some(512)).unwrap();
    assert_eq!(big, 512);
    assert_ne!(
        big_instance, base_instance,
        "each memory size has its own pool"
    );
    assert_eq!(memory_call(&c, "dyn", Some(512)).unwrap().1, big_instance);
    assert_eq!(memory_call(&c, "dyn", None).unwrap().1, base_instance);
    for bad in [100, 0, 999_999] {
        let (status, code, _) = api_err(memory_call(&c, "dyn", Some(bad)));
        assert_eq!((status, code.as_str()), (406, "FSS.0406"), "{bad} MB");
    }
}
