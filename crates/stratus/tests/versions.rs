//! End-to-end tests of versions and aliases against the compiled binary: snapshots that
//! keep running after `latest` changes, the limits of 10, immutability, deletion rules,
//! alias validation and weighted traffic splitting.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use stratus_api_types::{AliasBody, CodeBody, FuncCode, FunctionBody, PublishBody};
use stratus_client::{Client, ClientError, InvokeOptions};

fn handler(tag: &str) -> String {
    format!(
        "import os\ndef handler(event, context):\n    return {{\"tag\": \"{tag}\", \"env\": os.environ.get(\"MODE\", \"\")}}\n"
    )
}

fn set_code(c: &Client, name: &str, tag: &str) {
    let body = CodeBody {
        code_type: Some("zip".into()),
        code_filename: Some("index.zip".into()),
        func_code: Some(FuncCode {
            file: Some(b64(&zip(&[("index.py", &handler(tag), 0o644)]))),
            link: None,
        }),
        ..Default::default()
    };
    c.update_code(name, &body, |_, _| {}).unwrap();
}

fn set_env(c: &Client, name: &str, mode: &str) {
    let mut body: FunctionBody = serde_json::from_value(json!({
        "runtime": "Python3.9", "handler": "index.handler", "memory_size": 128, "timeout": 10
    }))
    .unwrap();
    body.user_data = Some(json!({ "MODE": mode }).to_string());
    c.update_config(name, &body).unwrap();
}

fn tag_of(c: &Client, target: &str) -> (String, String) {
    let (r, a) = c.invoke(target, b"{}", &InvokeOptions::default()).unwrap();
    assert_eq!(a.header("x-is-func-err"), Some("false"), "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.result).unwrap();
    (
        v["tag"].as_str().unwrap().to_string(),
        v["env"].as_str().unwrap().to_string(),
    )
}

fn publish(c: &Client, name: &str, version: Option<&str>) -> Result<String, ClientError> {
    c.publish_version(
        name,
        &PublishBody {
            version: version.map(str::to_string),
            description: Some("test".into()),
            digest: None,
        },
    )
    .map(|v| v.version)
}

fn api_err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api { status, code, msg }) => (status, code, msg),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn alias(version: &str, extra: Option<(&str, i64)>) -> AliasBody {
    AliasBody {
        name: None,
        version: Some(version.into()),
        description: None,
        additional_version_weights: extra.map(|(v, w)| BTreeMap::from([(v.to_string(), w)])),
        additional_version_strategy: None,
    }
}

fn named(name: &str, body: AliasBody) -> AliasBody {
    AliasBody {
        name: Some(name.into()),
        ..body
    }
}

#[test]
fn versions_are_snapshots_of_code_and_configuration() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "snap",
        "Python3.9",
        "index.handler",
        &[("index.py", &handler("one"), 0o644)],
    );
    set_env(&c, "snap", "first");
    assert_eq!(publish(&c, "snap", Some("v1")).unwrap(), "v1");
    set_code(&c, "snap", "two");
    set_env(&c, "snap", "second");

    let v1 = format!("{}:v1", c.urn("snap"));
    assert_eq!(tag_of(&c, &v1), ("one".into(), "first".into()));
    assert_eq!(tag_of(&c, "snap"), ("two".into(), "second".into()));

    // The version's own configuration, and it is immutable.
    let cfg = c.get_config(&v1).unwrap();
    assert_eq!(cfg.version, "v1");
    assert!(cfg.func_urn.ends_with(":v1"), "{}", cfg.func_urn);
    assert_eq!(cfg.version_description, "test");
    assert!(cfg.user_data.contains("first"), "{}", cfg.user_data);
    let (status, _, msg) = api_err(c.update_config(&v1, &FunctionBody::default()));
    assert_eq!(status, 400, "{msg}");
    assert!(msg.contains("immutable"), "{msg}");

    // A generated name, then the list: latest first.
    let generated = publish(&c, "snap", None).unwrap();
    assert!(
        generated.len() == "v20240102-030405".len() && generated.starts_with('v'),
        "{generated}"
    );
    let list = c.list_versions("snap").unwrap();
    let names: Vec<&str> = list.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(names, ["latest", "v1", generated.as_str()]);
    assert_eq!(list.count, 3);

    // Names are unique and valid; ten at most.
    let (status, _, _) = api_err(publish(&c, "snap", Some("v1")));
    assert_eq!(status, 409);
    for bad in ["latest", "-x", "has space", "a:b"] {
        let (status, code, msg) = api_err(publish(&c, "snap", Some(bad)));
        assert_eq!((status, code.as_str()), (400, "FSS.0400"), "{bad}: {msg}");
    }
    for i in 3..=10 {
        publish(&c, "snap", Some(&format!("v{i}"))).unwrap();
    }
    let (status, _, msg) = api_err(publish(&c, "snap", Some("v11")));
    assert_eq!(status, 400, "{msg}");
    assert!(msg.contains("10"), "{msg}");
    assert_eq!(c.list_versions("snap").unwrap().count, 11);

    // Unknown versions are FSS.1052.
    let (status, code, _) = api_err(c.invoke(
        &format!("{}:nope", c.urn("snap")),
        b"{}",
        &InvokeOptions::default(),
    ));
    assert_eq!((status, code.as_str()), (404, "FSS.1052"));

    // The CLI publishes and lists too.
    c.delete_function(&format!("{}:v10", c.urn("snap")))
        .unwrap();
    let (ok, out, err) = s.cli(&["fn", "publish", "snap", "--version", "cli-1"]);
    assert!(ok, "{err}");
    assert!(out.contains("cli-1"), "{out}");
    let (ok, out, err) = s.cli(&["fn", "versions", "snap"]);
    assert!(
        ok && out.contains("cli-1") && out.contains("latest"),
        "{out}{err}"
    );
    let (ok, out, err) = s.cli(&["fn", "invoke", "snap", "--version", "v1"]);
    assert!(ok && out.contains("\"one\""), "{out}{err}");
}

#[test]
fn deleting_versions_and_aliases() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "del",
        "Python3.9",
        "index.handler",
        &[("index.py", &handler("one"), 0o644)],
    );
    publish(&c, "del", Some("v1")).unwrap();
    publish(&c, "del", Some("v2")).unwrap();
    c.create_alias("del", &named("main", alias("v1", None)))
        .unwrap();
    c.create_alias("del", &named("split", alias("v2", Some(("v1", 30)))))
        .unwrap();
    let (status, _, _) = api_err(c.delete_function(&format!("{}:latest", c.urn("del"))));
    assert_eq!(status, 400);
    // Deleting v1 takes the alias that points to it and drops it from the other.
    c.delete_function(&format!("{}:v1", c.urn("del"))).unwrap();
    let aliases = c.list_aliases("del").unwrap();
    assert_eq!(aliases.len(), 1, "{aliases:?}");
    assert_eq!(aliases[0].name, "split");
    assert!(
        aliases[0].additional_version_weights.is_empty(),
        "{aliases:?}"
    );
    let (status, code, _) = api_err(c.get_alias("del", "main"));
    assert_eq!((status, code.as_str()), (404, "FSS.1053"));
    let (status, code, _) = api_err(c.delete_function(&format!("{}:v1", c.urn("del"))));
    assert_eq!((status, code.as_str()), (404, "FSS.1052"));
    // An alias URN deletes the alias; the function stays.
    c.delete_function(&format!("{}:!split", c.urn("del")))
        .unwrap();
    assert!(c.list_aliases("del").unwrap().is_empty());
    assert_eq!(c.list_versions("del").unwrap().count, 2);
    // The whole function goes with everything.
    c.delete_function("del").unwrap();
    create(
        &c,
        "del",
        "Python3.9",
        "index.handler",
        &[("index.py", &handler("again"), 0o644)],
    );
    assert_eq!(c.list_versions("del").unwrap().count, 1);
    let (status, _, _) = api_err(c.invoke(
        &format!("{}:v2", c.urn("del")),
        b"{}",
        &InvokeOptions::default(),
    ));
    assert_eq!(status, 404);
}

#[test]
fn alias_rules_and_limits() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "al",
        "Python3.9",
        "index.handler",
        &[("index.py", &handler("one"), 0o644)],
    );
    publish(&c, "al", Some("v1")).unwrap();
    publish(&c, "al", Some("v2")).unwrap();
    let a = c
        .create_alias("al", &named("prod", alias("v1", Some(("v2", 10)))))
        .unwrap();
    assert_eq!(a.alias_urn, format!("{}:!prod", c.urn("al")));
    assert_eq!(
        a.additional_version_weights,
        BTreeMap::from([("v2".to_string(), 10)])
    );
    let bad = [
        (named("1abc", alias("v1", None)), "name"),
        (named("abc-", alias("v1", None)), "name"),
        (named(&"a".repeat(64), alias("v1", None)), "name"),
        (named("x", alias("v9", None)), "v9"),
        (named("x", alias("v1", Some(("latest", 10)))), "latest"),
        (named("x", alias("v1", Some(("v1", 10)))), "main version"),
        (named("x", alias("v1", Some(("v2", 101)))), "0..100"),
        (named("x", alias("v1", Some(("v9", 10)))), "v9"),
    ];
    for (body, want) in bad {
        let (status, _, msg) = api_err(c.create_alias("al", &body));
        assert_eq!(status, 400, "{msg}");
        assert!(msg.contains(want), "{want}: {msg}");
    }
    let rules = AliasBody {
        additional_version_strategy: Some(json!({"v2": {"combine_type": "and", "rules": []}})),
        ..named("x", alias("v1", None))
    };
    let (status, _, _) = api_err(c.create_alias("al", &rules));
    assert_eq!(status, 400);
    let (status, _, _) = api_err(c.create_alias("al", &named("prod", alias("v1", None))));
    assert_eq!(status, 409);
    assert_eq!(
        c.list_aliases("al").unwrap().len(),
        1,
        "refused aliases leave nothing"
    );

    // Update re-points and re-weights; `latest` may be the main version.
    let u = c
        .update_alias("al", "prod", &alias("latest", Some(("v1", 50))))
        .unwrap();
    assert_eq!(u.version, "latest");
    assert_eq!(
        c.get_alias("al", "prod")
            .unwrap()
            .additional_version_weights["v1"],
        50
    );
    let (status, code, _) = api_err(c.update_alias("al", "nobody", &alias("v1", None)));
    assert_eq!((status, code.as_str()), (404, "FSS.1053"));

    for i in 1..10 {
        c.create_alias("al", &named(&format!("a{i}"), alias("v1", None)))
            .unwrap();
    }
    let (status, _, msg) = api_err(c.create_alias("al", &named("a10", alias("v1", None))));
    assert_eq!(status, 400, "{msg}");
    assert_eq!(c.list_aliases("al").unwrap().len(), 10);

    // An async policy binds to an alias.
    let cfg = c
        .put_async_config(
            &format!("{}:!a1", c.urn("al")),
            &stratus_api_types::AsyncConfigBody {
                max_async_retry_attempts: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(cfg.func_urn.ends_with(":!a1"), "{}", cfg.func_urn);

    // The CLI.
    let (ok, out, err) = s.cli(&["fn", "alias", "list", "al"]);
    assert!(
        ok && out.contains("prod") && out.contains("v1 50%"),
        "{out}{err}"
    );
    let (ok, _, err) = s.cli(&[
        "fn",
        "alias",
        "update",
        "al",
        "a1",
        "--version",
        "v2",
        "--weight",
        "v1=5",
    ]);
    assert!(ok, "{err}");
    assert_eq!(c.get_alias("al", "a1").unwrap().version, "v2");
    let (ok, _, err) = s.cli(&["fn", "alias", "delete", "al", "a1"]);
    assert!(ok, "{err}");
    let (ok, out, _) = s.cli(&["fn", "invoke", "al", "--alias", "a2"]);
    assert!(ok && out.contains("\"one\""), "{out}");
}

#[test]
fn alias_weights_split_ten_thousand_invocations() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "canary",
        "Python3.9",
        "index.handler",
        &[("index.py", &handler("stable"), 0o644)],
    );
    publish(&c, "canary", Some("v1")).unwrap();
    set_code(&c, "canary", "canary");
    publish(&c, "canary", Some("v2")).unwrap();
    c.create_alias("canary", &named("live", alias("v1", Some(("v2", 20)))))
        .unwrap();
    let target = format!("{}:!live", c.urn("canary"));
    let total = 10_000;
    let threads = 8;
    let counts: Vec<HashMap<String, usize>> = std::thread::scope(|scope| {
        (0..threads)
            .map(|_| {
                let c = s.client();
                let target = target.clone();
                scope.spawn(move || {
                    let mut seen = HashMap::new();
                    for _ in 0..total / threads {
                        *seen.entry(tag_of(&c, &target).0).or_insert(0) += 1;
                    }
                    seen
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect()
    });
    let mut all: HashMap<String, usize> = HashMap::new();
    for m in counts {
        for (k, v) in m {
            *all.entry(k).or_insert(0) += v;
        }
    }
    let canary = all.get("canary").copied().unwrap_or(0);
    assert_eq!(
        canary + all.get("stable").copied().unwrap_or(0),
        total,
        "{all:?}"
    );
    let share = canary as f64 / total as f64;
    assert!(
        (0.18..=0.22).contains(&share),
        "{share} of traffic went to v2: {all:?}"
    );
}
