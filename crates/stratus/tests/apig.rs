//! End-to-end tests of API gateway (APIG) triggers against the compiled binary: the APIG
//! event and response mapping (path parameters, query strings, binary bodies, the 500 of
//! a non-APIG result), None/App/IAM authentication, HTTP functions (Python and Node.js
//! servers) behind the gateway, async APIs, timeouts, conflicts, deleted and disabled
//! triggers, restarts, and the CLI.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use stratus_api_types::{AppBody, TriggerBody, TriggerUpdateBody, TriggerView};
use stratus_client::{Client, ClientError};

/// Event handlers, one per entry point of the same file.
const HANDLERS: &str = r#"import json, time
def echo(event, context):
    return {"statusCode": 200,
            "headers": {"Content-Type": "application/json", "X-Echo": "yes",
                        "Set-Cookie": ["a=1", "b=2"]},
            "body": json.dumps(event), "isBase64Encoded": False}
def binary(event, context):
    return {"statusCode": 201, "headers": {"Content-Type": "application/octet-stream"},
            "body": event["body"], "isBase64Encoded": event["isBase64Encoded"]}
def plain(event, context):
    return "hello"
def boom(event, context):
    raise ValueError("boom")
def slow(event, context):
    time.sleep(5)
    return {"statusCode": 200, "body": "late"}
"#;

const PY_SERVER: &str = r#"import base64, http.server, json
class H(http.server.BaseHTTPRequestHandler):
    def any(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else b''
        out = json.dumps({'server': 'python', 'method': self.command, 'path': self.path,
                          'custom': self.headers.get('X-Custom'),
                          'body': base64.b64encode(body).decode()}).encode()
        self.send_response(201 if self.command == 'POST' else 200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Set-Cookie', 'a=1')
        self.send_header('Set-Cookie', 'b=2')
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PUT = do_DELETE = any
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', 8000), H).serve_forever()
"#;

const NODE_SERVER: &str = r#"const http = require('http');
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.statusCode = req.method === 'POST' ? 201 : 200;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.end(JSON.stringify({server: 'node', method: req.method, path: req.url,
                            custom: req.headers['x-custom'] || null, body: body.toString('base64')}));
  });
}).listen(8000, '127.0.0.1');
"#;

/// An answer of the gateway.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn error_code(&self) -> String {
        self.json()["error_code"].as_str().unwrap_or("").to_string()
    }
}

/// Sends a request to the gateway; `path` includes the query.
fn send(s: &Server, method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let mut req = agent.request(method, &format!("{}{path}", s.gateway));
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("host") {
            req = req.set(k, v);
        }
    }
    let resp = match req.send_bytes(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("gateway request failed: {e}"),
    };
    let status = resp.status();
    let mut headers = Vec::new();
    let mut names = resp.headers_names();
    names.dedup();
    names.sort();
    names.dedup();
    for name in names {
        for v in resp.all(&name) {
            headers.push((name.clone(), v.to_string()));
        }
    }
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

fn get(s: &Server, path: &str) -> Reply {
    send(s, "GET", path, &[], b"")
}

/// Signs like the SDK does (stratus-sign's signer): Content-Type, Host and X-Sdk-Date,
/// the body hashed; `date` overrides the signing time.
fn signed(
    s: &Server,
    method: &str,
    path: &str,
    key: &str,
    secret: &str,
    body: &[u8],
    date: Option<String>,
) -> Reply {
    let (p, q) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let host = s.gateway.trim_start_matches("http://").to_string();
    let date = date.unwrap_or_else(|| chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string());
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("Host", host),
        ("X-Sdk-Date", date),
    ];
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let auth = stratus_sign::sign(
        &stratus_sign::RawRequest {
            method,
            path: p,
            query: q,
            headers: &refs,
            body,
        },
        key,
        secret,
    )
    .unwrap();
    headers.push(("Authorization", auth));
    send(s, method, path, &headers, body)
}

fn apig(c: &Client, name: &str, data: Value) -> Result<TriggerView, ClientError> {
    c.create_trigger(
        name,
        &TriggerBody {
            trigger_type_code: Some("APIG".into()),
            trigger_status: Some("ACTIVE".into()),
            event_type_code: Some("APICreated".into()),
            event_data: Some(data),
        },
    )
}

/// The path part of a trigger's URL on this server's gateway.
fn url_path(s: &Server, t: &TriggerView) -> String {
    let url = t.event_data["invoke_url"].as_str().unwrap();
    url.strip_prefix(&s.gateway)
        .unwrap_or_else(|| panic!("{url} is not on {}", s.gateway))
        .to_string()
}

fn api_err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String) {
    match r {
        Err(ClientError::Api { status, msg, .. }) => (status, msg),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn handlers(c: &Client, name: &str, handler: &str) {
    create(
        c,
        name,
        "Python3.9",
        &format!("index.{handler}"),
        &[("index.py", HANDLERS, 0o644)],
    );
}

#[test]
fn event_functions_get_the_apig_event_and_must_answer_in_its_shape() {
    let s = Server::start(&[]);
    let c = s.client();
    handlers(&c, "echo", "echo");
    let t = apig(
        &c,
        "echo",
        json!({"name": "API_orders", "path": "/users/{id}/orders/{order}", "req_method": "GET"}),
    )
    .unwrap();
    let d = &t.event_data;
    assert_eq!(
        d["invoke_url"],
        format!("{}/{PROJECT}/users/{{id}}/orders/{{order}}", s.gateway)
    );
    assert_eq!(d["triggerid"], t.trigger_id.as_str());
    assert_eq!(d["api_name"], "API_orders");
    assert_eq!(d["api_id"].as_str().unwrap().len(), 32);
    assert_eq!(d["auth"], "NONE");
    assert_eq!(d["env_name"], "RELEASE");
    assert_eq!(d["func_info"]["timeout"], 5000);
    assert_eq!(d["func_info"]["version"], "latest");
    assert_eq!(t.trigger_type_code, "APIG");

    let r = send(
        &s,
        "GET",
        &format!("/{PROJECT}/users/42/orders/a%20b?x=1&y=two%20words&x=3"),
        &[("X-Custom", "hi".into())],
        b"",
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("x-echo"), Some("yes"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.all("set-cookie"), ["a=1", "b=2"]);
    let e = r.json();
    assert_eq!(e["httpMethod"], "GET");
    assert_eq!(e["path"], "/users/42/orders/a%20b");
    assert_eq!(e["pathParameters"], json!({"id": "42", "order": "a b"}));
    assert_eq!(
        e["queryStringParameters"],
        json!({"x": "3", "y": "two words"})
    );
    assert_eq!(e["headers"]["x-custom"], "hi");
    assert_eq!(e["body"], "");
    assert_eq!(e["isBase64Encoded"], false);
    assert_eq!(e["requestContext"]["stage"], "RELEASE");
    assert_eq!(e["requestContext"]["apiId"], d["api_id"]);
    assert_eq!(e["requestContext"]["sourceIp"], "127.0.0.1");
    assert_eq!(
        e["requestContext"]["requestId"].as_str(),
        r.header("x-request-id")
    );
    assert_eq!(
        e["headers"]["x-request-id"],
        e["requestContext"]["requestId"]
    );
    assert!(e.get("rawQuery").is_none(), "{e}");

    // No API answers: another method, path, group or environment.
    for r in [
        send(
            &s,
            "POST",
            &format!("/{PROJECT}/users/42/orders/1"),
            &[],
            b"{}",
        ),
        get(&s, &format!("/{PROJECT}/users/42/orders")),
        get(&s, "/other-group/users/42/orders/1"),
        send(
            &s,
            "GET",
            &format!("/{PROJECT}/users/42/orders/1"),
            &[("X-Stage", "TEST".into())],
            b"",
        ),
        get(&s, "/"),
    ] {
        assert_eq!(r.status, 404, "{r:?}");
        assert_eq!(r.error_code(), "APIG.0101");
        assert!(r.json()["request_id"].is_string());
    }

    // Text bodies arrive as text, binary ones as base64 (and go back out as bytes).
    apig(&c, "echo", json!({"path": "/echo"})).unwrap();
    let e = send(&s, "PUT", &format!("/{PROJECT}/echo"), &[], b"{\"k\": 1}").json();
    assert_eq!(
        (e["body"].as_str(), e["isBase64Encoded"].as_bool()),
        (Some("{\"k\": 1}"), Some(false))
    );
    let bytes = [0u8, 159, 146, 150, 255, 10];
    let e = send(&s, "POST", &format!("/{PROJECT}/echo"), &[], &bytes).json();
    assert_eq!(e["body"], b64(&bytes));
    assert_eq!(e["isBase64Encoded"], true);
    handlers(&c, "bin", "binary");
    apig(&c, "bin", json!({"path": "/bin", "req_method": "POST"})).unwrap();
    let r = send(&s, "POST", &format!("/{PROJECT}/bin"), &[], &bytes);
    assert_eq!((r.status, r.body.as_slice()), (201, &bytes[..]));
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));

    // A result that is not the APIG shape is the guide's 500; a raised error is a 500
    // with the function's error.
    handlers(&c, "plain", "plain");
    apig(&c, "plain", json!({"path": "/plain"})).unwrap();
    let r = get(&s, &format!("/{PROJECT}/plain"));
    assert_eq!(r.status, 500);
    assert_eq!(r.error_code(), "FSS.1206");
    let msg = r.json()["error_msg"].as_str().unwrap().to_string();
    assert!(
        msg.contains("invalid type of APIG trigger invocation result:[hello]")
            && msg.contains("statusCode"),
        "{msg}"
    );
    handlers(&c, "boom", "boom");
    apig(&c, "boom", json!({"path": "/boom"})).unwrap();
    let r = get(&s, &format!("/{PROJECT}/boom"));
    assert_eq!(r.status, 500);
    assert_eq!(r.header("x-is-func-err"), Some("true"));
    assert!(String::from_utf8_lossy(&r.body).contains("boom"), "{r:?}");

    // Conflicts: the same group, method and path, whatever the parameter names and
    // whichever function; another method or group is fine.
    let (status, msg) = api_err(apig(
        &c,
        "bin",
        json!({"path": "/users/{uid}/orders/{oid}", "req_method": "GET"}),
    ));
    assert_eq!(status, 409, "{msg}");
    assert!(msg.contains("GET /users/{id}/orders/{order}"), "{msg}");
    let post = apig(
        &c,
        "bin",
        json!({"path": "/users/{uid}/orders/{oid}", "req_method": "POST"}),
    )
    .unwrap();
    apig(
        &c,
        "bin",
        json!({"path": "/users/{uid}/orders/{oid}", "req_method": "GET", "group_id": "shop"}),
    )
    .unwrap();
    let (status, msg) = api_err(apig(&c, "echo", json!({"req_method": "GET"})));
    assert_eq!(status, 400);
    assert!(msg.contains("path"), "{msg}");
    let (status, msg) = api_err(apig(
        &c,
        "echo",
        json!({"path": "/x", "func_info": {"timeout": 0}}),
    ));
    assert_eq!(status, 400);
    assert!(msg.contains("func_info.timeout"), "{msg}");

    // APIG triggers cannot be disabled, neither at creation nor later.
    let mut off = TriggerBody {
        trigger_type_code: Some("APIG".into()),
        trigger_status: Some("DISABLED".into()),
        event_type_code: None,
        event_data: Some(json!({"path": "/off"})),
    };
    let (status, msg) = api_err(c.create_trigger("echo", &off));
    assert_eq!(status, 400);
    assert!(msg.contains("cannot be disabled"), "{msg}");
    off.trigger_status = None;
    let disable = TriggerUpdateBody {
        trigger_status: Some("DISABLED".into()),
        event_data: None,
    };
    let (status, msg) = api_err(c.update_trigger("echo", "APIG", &t.trigger_id, &disable));
    assert_eq!(status, 400);
    assert!(msg.contains("cannot be disabled"), "{msg}");
    assert_eq!(get(&s, &format!("/{PROJECT}/users/1/orders/2")).status, 200);

    // A deleted trigger stops serving at once.
    c.delete_trigger("bin", "APIG", &post.trigger_id).unwrap();
    let r = send(
        &s,
        "POST",
        &format!("/{PROJECT}/users/1/orders/2"),
        &[],
        b"",
    );
    assert_eq!(r.status, 404);
    // Deleting the function takes its APIs with it.
    c.delete_function("plain").unwrap();
    assert_eq!(get(&s, &format!("/{PROJECT}/plain")).status, 404);

    // Triggers survive a restart (on a new gateway port here).
    let path = url_path(&s, &t);
    let dir = s.stop();
    let s = Server::start_in(dir, &[]);
    let listed = s.client().list_triggers("echo").unwrap();
    let again = listed
        .iter()
        .find(|x| x.trigger_id == t.trigger_id)
        .unwrap();
    assert_eq!(url_path(&s, again), path);
    let r = get(&s, &format!("/{PROJECT}/users/7/orders/8"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["pathParameters"]["id"], "7");
}

#[test]
fn backend_and_function_timeouts_both_apply() {
    let s = Server::start(&[]);
    let c = s.client();
    handlers(&c, "slow", "slow");
    c.create_function(
        &stratus_api_types::FunctionBody {
            func_name: Some("slow3".into()),
            package: Some("default".into()),
            runtime: Some("Python3.9".into()),
            handler: Some("index.slow".into()),
            memory_size: Some(128),
            timeout: Some(3),
            code_type: Some("zip".into()),
            func_code: Some(stratus_api_types::FuncCode {
                file: Some(b64(&zip(&[("index.py", HANDLERS, 0o644)]))),
                link: None,
            }),
            ..Default::default()
        },
        |_, _| {},
    )
    .unwrap();
    apig(
        &c,
        "slow",
        json!({"path": "/gw", "func_info": {"timeout": 300}}),
    )
    .unwrap();
    apig(
        &c,
        "slow3",
        json!({"path": "/fn", "func_info": {"timeout": 20000}}),
    )
    .unwrap();
    let t0 = Instant::now();
    let r = get(&s, &format!("/{PROJECT}/gw"));
    assert_eq!(r.status, 504, "{r:?}");
    assert_eq!(r.error_code(), "APIG.0201");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    // The function's own 3 s timeout ends it long before the API's 20 s.
    let t0 = Instant::now();
    let r = get(&s, &format!("/{PROJECT}/fn"));
    assert_eq!(r.status, 504, "{r:?}");
    assert_eq!(r.header("x-is-func-err"), Some("true"));
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

#[test]
fn none_app_and_iam_authentication() {
    let s = Server::start(&[]);
    let c = s.client();
    handlers(&c, "echo", "echo");
    apig(&c, "echo", json!({"path": "/iam", "auth": "IAM"})).unwrap();
    apig(&c, "echo", json!({"path": "/app", "auth": "app"})).unwrap();
    apig(&c, "echo", json!({"path": "/none", "auth": "NONE"})).unwrap();
    let (iam, app, none) = (
        format!("/{PROJECT}/iam"),
        format!("/{PROJECT}/app?q=1&b=2"),
        format!("/{PROJECT}/none"),
    );
    assert_eq!(get(&s, &none).status, 200);

    // IAM: the platform's own access keys.
    let r = get(&s, &iam);
    assert_eq!((r.status, r.error_code().as_str()), (401, "APIG.0301"));
    let r = signed(&s, "POST", &iam, AK, SK, b"{\"a\":1}", None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["body"], "{\"a\":1}");
    let r = signed(&s, "POST", &iam, AK, "WRONG-SECRET", b"{}", None);
    assert_eq!((r.status, r.error_code().as_str()), (401, "APIG.0301"));
    assert!(r.json()["error_msg"]
        .as_str()
        .unwrap()
        .contains("signature"));

    // App: AppKey/AppSecret pairs made through the API.
    let created = c
        .create_app(&AppBody {
            name: Some("shop_front".into()),
            remark: Some("web shop".into()),
        })
        .unwrap();
    let secret = created.app_secret.clone().unwrap();
    assert_eq!((created.app_key.len(), secret.len()), (32, 32));
    let listed = c.list_apps().unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.apps[0].name, "shop_front");
    assert_eq!(listed.apps[0].app_secret, None, "secrets are shown once");
    let (status, _) = api_err(c.create_app(&AppBody {
        name: Some("shop_front".into()),
        remark: None,
    }));
    assert_eq!(status, 409);
    let (status, msg) = api_err(c.create_app(&AppBody {
        name: Some("no".into()),
        remark: None,
    }));
    assert_eq!(status, 400, "{msg}");

    let r = signed(&s, "GET", &app, &created.app_key, &secret, b"", None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json()["queryStringParameters"],
        json!({"q": "1", "b": "2"})
    );
    for r in [
        get(&s, &app),
        signed(
            &s,
            "GET",
            &app,
            &created.app_key,
            "not-the-secret",
            b"",
            None,
        ),
        // The IAM key is not an app key, and an app key is not an IAM key.
        signed(&s, "GET", &app, AK, SK, b"", None),
        // An hour off the server clock.
        signed(
            &s,
            "GET",
            &app,
            &created.app_key,
            &secret,
            b"",
            Some(
                (chrono::Utc::now() - chrono::Duration::hours(1))
                    .format("%Y%m%dT%H%M%SZ")
                    .to_string(),
            ),
        ),
    ] {
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (401, "APIG.0303"),
            "{r:?}"
        );
    }
    let r = signed(&s, "GET", &iam, &created.app_key, &secret, b"", None);
    assert_eq!((r.status, r.error_code().as_str()), (401, "APIG.0301"));
    // A body other than the signed one is refused.
    let mut h = vec![
        ("Content-Type", "application/json".to_string()),
        ("Host", s.gateway.trim_start_matches("http://").to_string()),
        (
            "X-Sdk-Date",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string(),
        ),
    ];
    let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = format!("/{PROJECT}/app");
    let auth = stratus_sign::sign(
        &stratus_sign::RawRequest {
            method: "POST",
            path: &path,
            query: None,
            headers: &refs,
            body: b"{\"amount\": 1}",
        },
        &created.app_key,
        &secret,
    )
    .unwrap();
    h.push(("Authorization", auth));
    let r = send(&s, "POST", &path, &h, b"{\"amount\": 1000}");
    assert_eq!((r.status, r.error_code().as_str()), (401, "APIG.0303"));
    let r = send(&s, "POST", &path, &h, b"{\"amount\": 1}");
    assert_eq!(r.status, 200);

    // A deleted app's key is refused from then on.
    c.delete_app(&created.id).unwrap();
    let r = signed(&s, "GET", &app, &created.app_key, &secret, b"", None);
    assert_eq!((r.status, r.error_code().as_str()), (401, "APIG.0303"));
    let (status, _) = api_err(c.delete_app(&created.id));
    assert_eq!(status, 404);
}

#[test]
fn http_functions_are_proxied_as_http() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "webpy",
        "http",
        "bootstrap",
        &[
            ("index.py", PY_SERVER, 0o644),
            (
                "bootstrap",
                "/usr/bin/python3 -u $RUNTIME_CODE_ROOT/index.py\n",
                0o755,
            ),
        ],
    );
    create(
        &c,
        "webjs",
        "http",
        "bootstrap",
        &[
            ("server.js", NODE_SERVER, 0o644),
            (
                "bootstrap",
                "/usr/bin/node $RUNTIME_CODE_ROOT/server.js\n",
                0o755,
            ),
        ],
    );
    for (name, group) in [("webpy", "py"), ("webjs", "js")] {
        let t = apig(
            &c,
            name,
            json!({"path": "/web", "match_mode": "SWA", "group_id": group}),
        )
        .unwrap();
        assert_eq!(
            t.event_data["invoke_url"],
            format!("{}/{group}/web", s.gateway)
        );
        let server = if name == "webpy" { "python" } else { "node" };
        let r = send(
            &s,
            "GET",
            &format!("/{group}/web/a/b%20c?x=1&x=2&y=%2B"),
            &[("X-Custom", "hi".into())],
            b"",
        );
        assert_eq!(
            r.status,
            200,
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        assert_eq!(v["server"], server);
        assert_eq!(v["method"], "GET");
        assert_eq!(v["path"], "/web/a/b%20c?x=1&x=2&y=%2B", "{name}");
        assert_eq!(v["custom"], "hi");
        assert_eq!(r.all("set-cookie"), ["a=1", "b=2"], "{name}");
        let bytes = [0u8, 1, 2, 200, 255, 13, 10];
        let r = send(&s, "POST", &format!("/{group}/web"), &[], &bytes);
        assert_eq!(r.status, 201, "{name}");
        assert_eq!(r.json()["body"], b64(&bytes), "{name}");
    }
    // HTTP functions cannot be invoked asynchronously.
    let (status, msg) = api_err(apig(
        &c,
        "webpy",
        json!({"path": "/bg", "func_info": {"invocation_type": "async"}}),
    ));
    assert_eq!(status, 400);
    assert!(msg.contains("HTTP functions"), "{msg}");
}

#[test]
fn async_apis_answer_at_once() {
    let s = Server::start(&[]);
    let c = s.client();
    handlers(&c, "slow", "slow");
    let t = apig(
        &c,
        "slow",
        json!({"path": "/jobs", "req_method": "POST", "func_info": {"invocation_type": "async"}}),
    )
    .unwrap();
    assert_eq!(t.event_data["func_info"]["invocation_type"], "async");
    let t0 = Instant::now();
    let r = send(
        &s,
        "POST",
        &format!("/{PROJECT}/jobs"),
        &[],
        b"{\"job\": 1}",
    );
    assert_eq!(r.status, 202, "{r:?}");
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    let id = r.json()["request_id"].as_str().unwrap().to_string();
    assert_eq!(r.header("x-cff-request-id"), Some(id.as_str()));
    assert!(
        wait_until(Duration::from_secs(30), || {
            c.async_invocations("slow", &[])
                .unwrap()
                .invocations
                .iter()
                .any(|i| i.request_id == id && i.status == "SUCCESS")
        }),
        "{:?}",
        c.async_invocations("slow", &[]).unwrap()
    );
}

#[test]
fn cli_creates_api_triggers_and_app_keys() {
    let s = Server::start(&[]);
    let c = s.client();
    handlers(&c, "echo", "echo");
    let (ok, out, err) = s.cli(&[
        "trigger",
        "create",
        "echo",
        "--apig",
        "--path",
        "/cli/{id}",
        "--method",
        "GET",
        "--auth",
        "none",
    ]);
    assert!(ok, "{out}{err}");
    let url = out
        .lines()
        .find_map(|l| l.strip_prefix("URL: "))
        .unwrap_or_else(|| panic!("no URL in {out}"));
    assert_eq!(url, format!("{}/{PROJECT}/cli/{{id}}", s.gateway));
    let r = get(&s, &format!("/{PROJECT}/cli/5"));
    assert_eq!(r.json()["pathParameters"]["id"], "5");

    // --timer and --apig are alternatives; --apig needs a path.
    let (ok, _, err) = s.cli(&["trigger", "create", "echo", "--timer", "5m", "--apig"]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");
    let (ok, _, err) = s.cli(&["trigger", "create", "echo", "--apig"]);
    assert!(!ok && err.contains("--path"), "{err}");
    let (ok, _, err) = s.cli(&["trigger", "create", "echo", "--timer", "5m", "--path", "/x"]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");

    let (ok, out, err) = s.cli(&[
        "trigger",
        "create",
        "echo",
        "--apig",
        "--path",
        "/cli-app",
        "--auth",
        "app",
        "--async",
        "--timeout-ms",
        "1500",
    ]);
    assert!(ok, "{out}{err}");
    let t = c
        .list_triggers("echo")
        .unwrap()
        .into_iter()
        .find(|t| t.event_data["path"] == "/cli-app")
        .unwrap();
    assert_eq!(t.event_data["auth"], "APP");
    assert_eq!(
        t.event_data["func_info"],
        json!({"timeout": 1500, "invocation_type": "async", "version": "latest",
               "function_urn": format!("{}:latest", c.urn("echo"))})
    );
    let (ok, _, err) = s.cli(&["trigger", "disable", "echo", &t.trigger_id]);
    assert!(!ok && err.contains("cannot be disabled"), "{err}");
    let (ok, out, err) = s.cli(&["trigger", "delete", "echo", &t.trigger_id]);
    assert!(ok && out.contains("deleted"), "{out}{err}");

    let (ok, out, err) = s.cli(&["app-key", "create", "--name", "cli_app"]);
    assert!(ok, "{out}{err}");
    let key = out
        .lines()
        .find_map(|l| l.strip_prefix("AppKey:"))
        .unwrap()
        .trim()
        .to_string();
    assert!(out.contains("AppSecret:"), "{out}");
    let (ok, out, _) = s.cli(&["app-key", "list"]);
    assert!(ok && out.contains("cli_app") && out.contains(&key), "{out}");
    let id = c.list_apps().unwrap().apps[0].id.clone();
    let (ok, out, err) = s.cli(&["app-key", "delete", &id]);
    assert!(ok, "{out}{err}");
    assert!(c.list_apps().unwrap().apps.is_empty());
}
