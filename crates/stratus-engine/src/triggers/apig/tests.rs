#![allow(clippy::unwrap_used)]

use super::*;
use std::collections::BTreeMap;
use stratus_store::FunctionRecord;
use stratus_types::{CodeInfo, FunctionSpec, Strategy};

const PROJECT: &str = "p0123";

fn record(runtime: &str) -> FunctionRecord {
    FunctionRecord {
        id: "f1".into(),
        project_id: PROJECT.into(),
        revision: 1,
        created_at: String::new(),
        latest: FunctionSpec {
            name: "shop-api".into(),
            package: "default".into(),
            runtime: runtime.into(),
            handler: "index.handler".into(),
            memory_size: 128,
            timeout: 3,
            description: String::new(),
            user_data: BTreeMap::new(),
            encrypted_user_data: BTreeMap::new(),
            initializer_handler: String::new(),
            initializer_timeout: 3,
            pre_stop_handler: String::new(),
            pre_stop_timeout: 3,
            ephemeral_storage: 512,
            enable_dynamic_memory: false,
            strategy: Strategy::default(),
            code: CodeInfo::default(),
            func_type: "v2".into(),
            extras: BTreeMap::new(),
            last_modified: String::new(),
            version_description: String::new(),
            dependencies: Default::default(),
        },
    }
}

fn urn(q: Qualifier) -> Urn {
    Urn::of("local", PROJECT, "default", "shop-api", q)
}

fn prepare(runtime: &str, data: Value) -> Result<Value, Invalid> {
    let (kind, _) = ApigKind::new("http://gw", "local");
    let r = record(runtime);
    let u = urn(Qualifier::Latest);
    kind.prepare(
        &Binding {
            record: &r,
            urn: &u,
        },
        &data,
    )
}

fn trigger(id: &str, data: &Value) -> TriggerRecord {
    TriggerRecord {
        id: id.into(),
        function_id: "f1".into(),
        project_id: PROJECT.into(),
        package: "default".into(),
        function: "shop-api".into(),
        qualifier: "latest".into(),
        type_code: "APIG".into(),
        event_type_code: "APICreated".into(),
        status: "ACTIVE".into(),
        event_data: data.to_string(),
        created_at: String::new(),
        updated_at: String::new(),
        anchor_ms: 0,
    }
}

#[test]
fn defaults_fill_what_the_request_leaves_out() {
    let v = prepare("Python3.9", json!({"path": "/users/{id}"})).unwrap();
    assert_eq!(v["name"], "API_shop_api");
    assert_eq!(v["type"], 1);
    assert_eq!(v["protocol"], "HTTP");
    assert_eq!(v["req_method"], "ANY");
    assert_eq!(v["group_id"], PROJECT);
    assert_eq!(v["match_mode"], "NORMAL");
    assert_eq!(v["env_name"], "RELEASE");
    assert_eq!(v["env_id"], "DEFAULT_ENVIRONMENT_RELEASE_ID");
    assert_eq!(v["auth"], "NONE");
    assert_eq!(
        v["func_info"],
        json!({"timeout": 5000, "invocation_type": "sync"})
    );
    assert_eq!(v["api_id"].as_str().unwrap().len(), 32);
}

#[test]
fn given_settings_are_normalised() {
    let v = prepare(
        "Python3.9",
        json!({"name": "API_shop", "type": 2, "path": "/a", "protocol": "https",
               "req_method": "post", "group_id": "shop", "group_name": "Shop APIs",
               "match_mode": "swa", "env_name": "TEST_1", "auth": "app",
               "func_info": {"timeout": 60000, "invocation_type": "ASYNC", "version": "latest",
                             "function_urn": "urn:fss:local:p0123:function:default:shop-api:latest"}}),
    )
    .unwrap();
    assert_eq!(
        (
            &v["protocol"],
            &v["req_method"],
            &v["match_mode"],
            &v["auth"],
            &v["env_id"]
        ),
        (
            &json!("HTTPS"),
            &json!("POST"),
            &json!("SWA"),
            &json!("APP"),
            &json!("TEST_1")
        )
    );
    assert_eq!(v["func_info"]["invocation_type"], "async");
}

#[test]
fn bad_settings_name_the_field() {
    for (data, field_name, needle) in [
        (json!([]), "event_data", "object"),
        (json!({}), "event_data.path", "required"),
        (json!({"path": "users"}), "event_data.path", "start with"),
        (json!({"path": 5}), "event_data.path", "string"),
        (
            json!({"path": "/a", "req_method": "FETCH"}),
            "event_data.req_method",
            "not one of",
        ),
        (
            json!({"path": "/a", "auth": "TOKEN"}),
            "event_data.auth",
            "IAM, APP, NONE",
        ),
        (
            json!({"path": "/a", "protocol": "FTP"}),
            "event_data.protocol",
            "not one of",
        ),
        (
            json!({"path": "/a", "type": 3}),
            "event_data.type",
            "public",
        ),
        (
            json!({"path": "/a", "type": "1"}),
            "event_data.type",
            "integer",
        ),
        (
            json!({"path": "/a", "group_id": "a/b"}),
            "event_data.group_id",
            "URL",
        ),
        (
            json!({"path": "/a", "env_name": "x"}),
            "event_data.env_name",
            "3 to 64",
        ),
        (
            json!({"path": "/a", "name": "1api"}),
            "event_data.name",
            "letter",
        ),
        (
            json!({"path": "/a", "match_mode": "REGEX"}),
            "event_data.match_mode",
            "NORMAL",
        ),
        (
            json!({"path": "/a", "func_info": {"timeout": 0}}),
            "event_data.func_info.timeout",
            "1 to 60000",
        ),
        (
            json!({"path": "/a", "func_info": {"timeout": 60001}}),
            "event_data.func_info.timeout",
            "1 to 60000",
        ),
        (
            json!({"path": "/a", "func_info": {"invocation_type": "later"}}),
            "event_data.func_info.invocation_type",
            "sync or async",
        ),
        (
            json!({"path": "/a", "func_info": {"version": "v1"}}),
            "event_data.func_info.version",
            "qualifier",
        ),
        (
            json!({"path": "/a", "func_info": {"function_urn": "urn:fss:local:p0123:function:default:other"}}),
            "event_data.func_info.function_urn",
            "not the function",
        ),
        (
            json!({"path": "/a", "func_info": "fast"}),
            "event_data.func_info",
            "object",
        ),
    ] {
        let e = prepare("Python3.9", data.clone()).unwrap_err();
        assert_eq!(e.field, field_name, "{data}: {e}");
        assert!(e.message.contains(needle), "{data}: {e}");
    }
    let e = prepare(
        "http",
        json!({"path": "/a", "func_info": {"invocation_type": "async"}}),
    )
    .unwrap_err();
    assert!(e.message.contains("HTTP functions"), "{e}");
}

#[test]
fn routes_conflict_and_are_served_after_start() {
    let (kind, gw) = ApigKind::new("http://gw:8081/", "local");
    let r = record("Python3.9");
    let u = urn(Qualifier::Latest);
    let b = Binding {
        record: &r,
        urn: &u,
    };
    let get = kind
        .prepare(&b, &json!({"path": "/users/{id}", "req_method": "GET"}))
        .unwrap();
    kind.reserve(&b, &get).unwrap();
    // Reserved but not yet started: it conflicts, it does not serve.
    assert!(gw.find(PROJECT, "RELEASE", "GET", "/users/1").is_none());
    let same = kind
        .prepare(&b, &json!({"path": "/users/{name}", "req_method": "GET"}))
        .unwrap();
    let why = kind.reserve(&b, &same).unwrap_err();
    assert!(why.contains("GET /users/{id}"), "{why}");
    // Another method, or the same path in another group, is fine.
    let post = kind
        .prepare(&b, &json!({"path": "/users/{id}", "req_method": "POST"}))
        .unwrap();
    kind.reserve(&b, &post).unwrap();
    let other = kind
        .prepare(
            &b,
            &json!({"path": "/users/{id}", "req_method": "GET", "group_id": "g2"}),
        )
        .unwrap();
    kind.reserve(&b, &other).unwrap();
    // A failed create gives its route back.
    kind.release(&post);
    kind.reserve(&b, &post).unwrap();

    kind.start(&trigger("t1", &get));
    let m = gw.find(PROJECT, "release", "GET", "/users/42").unwrap();
    assert_eq!(m.api.trigger_id, "t1");
    assert_eq!(m.params, vec![("id".to_string(), "42".to_string())]);
    assert_eq!(m.api.urn.to_string(), format!("{}:latest", u.unqualified()));
    assert!(gw.find(PROJECT, "TEST", "GET", "/users/42").is_none());
    assert!(gw.find("g2", "RELEASE", "GET", "/users/42").is_none());

    let shown = kind.shown(&trigger("t1", &get));
    assert_eq!(
        shown["invoke_url"],
        format!("http://gw:8081/{PROJECT}/users/{{id}}")
    );
    assert_eq!(shown["triggerid"], "t1");
    assert_eq!(shown["api_name"], "API_shop_api");
    assert_eq!(shown["func_info"]["version"], "latest");

    kind.stop("t1");
    assert!(gw.find(PROJECT, "RELEASE", "GET", "/users/42").is_none());
    // Stopped: the route is free again.
    kind.reserve(&b, &same).unwrap();
}

#[test]
fn groups_belong_to_one_project() {
    let (kind, _) = ApigKind::new("http://gw", "local");
    let r = record("Python3.9");
    let u = urn(Qualifier::Latest);
    let b = Binding {
        record: &r,
        urn: &u,
    };
    let mine = kind
        .prepare(&b, &json!({"path": "/a", "group_id": "shop"}))
        .unwrap();
    kind.reserve(&b, &mine).unwrap();
    let mut theirs = record("Python3.9");
    theirs.project_id = "someone-else".into();
    let b2 = Binding {
        record: &theirs,
        urn: &u,
    };
    let data = kind
        .prepare(&b2, &json!({"path": "/b", "group_id": "shop"}))
        .unwrap();
    assert!(kind
        .reserve(&b2, &data)
        .unwrap_err()
        .contains("another project"));
}

#[test]
fn the_most_specific_api_answers() {
    let (kind, gw) = ApigKind::new("http://gw", "local");
    let r = record("Python3.9");
    let u = urn(Qualifier::Latest);
    let b = Binding {
        record: &r,
        urn: &u,
    };
    for (id, data) in [
        ("any", json!({"path": "/items/{id}"})),
        ("get", json!({"path": "/items/{id}", "req_method": "GET"})),
        ("lit", json!({"path": "/items/new", "req_method": "GET"})),
        (
            "swa",
            json!({"path": "/static", "match_mode": "SWA", "req_method": "GET"}),
        ),
        (
            "greedy",
            json!({"path": "/static/{rest+}", "req_method": "GET"}),
        ),
        ("root", json!({"path": "/", "req_method": "GET"})),
    ] {
        let v = kind.prepare(&b, &data).unwrap();
        kind.reserve(&b, &v).unwrap();
        kind.start(&trigger(id, &v));
    }
    let who = |method: &str, path: &str| {
        gw.find(PROJECT, RELEASE, method, path)
            .map(|m| m.api.trigger_id.clone())
    };
    assert_eq!(who("GET", "/items/1").as_deref(), Some("get"));
    assert_eq!(who("DELETE", "/items/1").as_deref(), Some("any"));
    assert_eq!(who("GET", "/items/new").as_deref(), Some("lit"));
    assert_eq!(who("GET", "/static").as_deref(), Some("swa"));
    assert_eq!(who("GET", "/static/a/b.css").as_deref(), Some("greedy"));
    assert_eq!(who("GET", "/").as_deref(), Some("root"));
    assert_eq!(who("POST", "/static"), None);
    assert_eq!(who("GET", "/nothing"), None);
}

#[test]
fn boot_reads_what_prepare_stored() {
    let v = prepare(
        "Python3.9",
        json!({"path": "/x", "auth": "IAM", "func_info": {"timeout": 250, "invocation_type": "async"}}),
    )
    .unwrap();
    let s = Settings::from_stored(&v).unwrap();
    assert_eq!(s.auth, ApiAuth::Iam);
    assert_eq!(s.timeout_ms, 250);
    assert!(s.asynchronous);
    assert_eq!(s.to_json(), v);
}
