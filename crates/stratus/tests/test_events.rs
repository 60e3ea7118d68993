//! End-to-end tests of saved test events, event templates, function templates and
//! `stratus fn test` against the compiled binary.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use stratus_client::{event_content, Client, ClientError};

const ECHO: &str = "import json\n\ndef handler(event, context):\n    print('got ' + json.dumps(event))\n    return {'echo': event}\n";

fn api_err(r: Result<impl std::fmt::Debug, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api { status, code, msg }) => (status, code, msg),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn events_path(c: &Client, name: &str, tail: &str) -> String {
    format!(
        "fgs/functions/{}/events{tail}",
        stratus_sign::encode_component(&c.urn(name))
    )
}

/// Sends a raw body to `.../events[tail]`.
fn raw(
    c: &Client,
    method: &str,
    name: &str,
    tail: &str,
    body: &Value,
) -> Result<Value, ClientError> {
    let bytes = serde_json::to_vec(body).unwrap();
    c.call(method, &events_path(c, name, tail), &[], &[], Some(&bytes))
        .map(|a| serde_json::from_slice(&a.body).unwrap_or(Value::Null))
}

fn names(c: &Client, name: &str) -> Vec<String> {
    c.list_events(name)
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.name)
        .collect()
}

fn content_of(c: &Client, name: &str, id: &str) -> Value {
    serde_json::from_slice(&event_content(&c.get_event(name, id).unwrap()).unwrap()).unwrap()
}

#[test]
fn events_crud_through_the_api() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "echo",
        "Python3.9",
        "index.handler",
        &[("index.py", ECHO, 0o644)],
    );
    assert_eq!(c.list_events("echo").unwrap().count, 0);

    let created = c
        .create_event("echo", "even-123test", br#"{"hello": "function"}"#)
        .unwrap();
    assert_eq!(created.name, "even-123test");
    assert!(!created.id.is_empty());
    let list = c.list_events("echo").unwrap();
    assert_eq!((list.count, list.next_marker), (1, 1));
    let now = chrono_now();
    assert!(
        (now - 60..=now + 60).contains(&list.events[0].last_modified),
        "last_modified is Unix seconds: {}",
        list.events[0].last_modified
    );
    let detail = c.get_event("echo", &created.id).unwrap();
    assert_eq!(detail.name, "even-123test");
    assert_eq!(
        event_content(&detail).unwrap(),
        br#"{"hello": "function"}"#,
        "the content comes back as it was saved"
    );

    let updated = c
        .update_event("echo", &created.id, br#"{"hello": "again"}"#)
        .unwrap();
    assert_eq!(
        (updated.id.as_str(), updated.name.as_str()),
        (created.id.as_str(), "even-123test")
    );
    assert_eq!(
        content_of(&c, "echo", &created.id),
        json!({"hello": "again"})
    );

    // Raw bodies: the JSON given as is (older API pages) and base64 without padding.
    raw(
        &c,
        "POST",
        "echo",
        "",
        &json!({"name": "plain", "content": "{\"k\":\"v\"}"}),
    )
    .unwrap();
    raw(
        &c,
        "POST",
        "echo",
        "",
        &json!({"name": "nopad", "content": "eyJrIjoidiJ9"}),
    )
    .unwrap();
    let plain = c.find_event("echo", "plain").unwrap().unwrap();
    assert_eq!(content_of(&c, "echo", &plain.id), json!({"k": "v"}));
    // The update body may repeat the event's own name, but not rename it.
    let (status, code, msg) = api_err(raw(
        &c,
        "PUT",
        "echo",
        &format!("/{}", plain.id),
        &json!({"name": "renamed", "content": "e30="}),
    ));
    assert_eq!((status, code.as_str()), (400, "FSS.0400"), "{msg}");
    assert!(
        msg.contains("renamed") || msg.contains("cannot be renamed"),
        "{msg}"
    );
    raw(
        &c,
        "PUT",
        "echo",
        &format!("/{}", plain.id),
        &json!({"name": "plain", "content": "e30="}),
    )
    .unwrap();
    assert_eq!(content_of(&c, "echo", &plain.id), json!({}));

    c.delete_event("echo", &plain.id).unwrap();
    let (status, code, _) = api_err(c.delete_event("echo", &plain.id));
    assert_eq!((status, code.as_str()), (404, "FSS.0404"));
    let (status, _, _) = api_err(c.get_event("echo", &plain.id));
    assert_eq!(status, 404);
    assert_eq!(names(&c, "echo"), ["even-123test", "nopad"]);
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "echo",
        "Python3.9",
        "index.handler",
        &[("index.py", ECHO, 0o644)],
    );
    let good = c.create_event("echo", "good", b"{}").unwrap();

    // Names outside guide table 6-1.
    let long = "e".repeat(26);
    for bad in [
        "",
        "1event",
        "_event",
        "event-",
        "my event",
        "ev.json",
        "événement",
        &long,
    ] {
        let (status, code, msg) = api_err(c.create_event("echo", bad, b"{}"));
        assert_eq!((status, code.as_str()), (400, "FSS.0400"), "{bad:?}: {msg}");
        assert!(msg.contains("name"), "{bad:?}: {msg}");
    }
    let fits = "e".repeat(25);
    c.create_event("echo", &fits, b"{}").unwrap();

    // Content that is not JSON, not base64, missing, or too large.
    let (status, code, msg) = api_err(c.create_event("echo", "broken", b"{not json"));
    assert_eq!((status, code.as_str()), (400, "FSS.0400"));
    assert!(msg.contains("not valid JSON"), "{msg}");
    let (status, _, msg) = api_err(raw(
        &c,
        "POST",
        "echo",
        "",
        &json!({"name": "x", "content": "not base64!"}),
    ));
    assert_eq!(status, 400);
    assert!(msg.contains("base64"), "{msg}");
    let (status, _, msg) = api_err(raw(&c, "POST", "echo", "", &json!({"name": "x"})));
    assert_eq!(status, 400);
    assert!(msg.contains("content"), "{msg}");
    let (status, _, msg) = api_err(raw(&c, "POST", "echo", "", &json!({"content": "e30="})));
    assert_eq!(status, 400);
    assert!(msg.contains("name"), "{msg}");
    let (status, _, msg) = api_err(raw(
        &c,
        "POST",
        "echo",
        "",
        &json!({"name": "x", "content": "e30=", "colour": "red"}),
    ));
    assert_eq!(status, 400);
    assert!(msg.contains("colour"), "{msg}");
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(4096));
    let (status, code, msg) = api_err(c.create_event("echo", "big", big.as_bytes()));
    assert_eq!((status, code.as_str()), (400, "FSS.1069"), "{msg}");
    let (status, code, _) = api_err(c.update_event("echo", &good.id, big.as_bytes()));
    assert_eq!((status, code.as_str()), (400, "FSS.1069"));
    let (status, _, _) = api_err(c.update_event("echo", &good.id, b"[1,"));
    assert_eq!(status, 400);
    let (status, code, msg) = api_err(c.create_event("echo", "good", b"{}"));
    assert_eq!((status, code.as_str()), (409, "FSS.0409"), "{msg}");
    let (status, _, _) = api_err(c.call(
        "POST",
        &events_path(&c, "echo", ""),
        &[],
        &[],
        Some(b"{\"name\": "),
    ));
    assert_eq!(status, 400);

    // Unknown function, unknown event, a version qualifier.
    let (status, code, _) = api_err(c.create_event("ghost", "e", b"{}"));
    assert_eq!((status, code.as_str()), (404, "FSS.1051"));
    let (status, code, _) = api_err(c.list_events("ghost"));
    assert_eq!((status, code.as_str()), (404, "FSS.1051"));
    let (status, code, _) = api_err(c.update_event("echo", "no-such-id", b"{}"));
    assert_eq!((status, code.as_str()), (404, "FSS.0404"));
    let (status, _, _) = api_err(c.list_events(&format!("{}:v9", c.urn("echo"))));
    assert_eq!(status, 404);
    // Events belong to the function: a published version's URN reaches the same ones.
    c.publish_version(
        "echo",
        &stratus_api_types::PublishBody {
            version: Some("v1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let by_version: Vec<String> = c
        .list_events(&format!("{}:v1", c.urn("echo")))
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(by_version, names(&c, "echo"));

    // Nothing above changed what is stored.
    assert_eq!(names(&c, "echo"), ["good".to_string(), fits]);
    assert_eq!(content_of(&c, "echo", &good.id), json!({}));
}

#[test]
fn ten_events_per_function_and_they_go_with_the_function() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "echo",
        "Python3.9",
        "index.handler",
        &[("index.py", ECHO, 0o644)],
    );
    create(
        &c,
        "other",
        "Python3.9",
        "index.handler",
        &[("index.py", ECHO, 0o644)],
    );
    for i in 0..10 {
        c.create_event(
            "echo",
            &format!("event{i}"),
            format!("{{\"i\": {i}}}").as_bytes(),
        )
        .unwrap();
    }
    let (status, code, msg) = api_err(c.create_event("echo", "event10", b"{}"));
    assert_eq!((status, code.as_str()), (400, "FSS.1090"), "{msg}");
    assert!(msg.contains("10"), "{msg}");
    let list = c.list_events("echo").unwrap();
    assert_eq!(list.count, 10);
    let expected: Vec<String> = (0..10).map(|i| format!("event{i}")).collect();
    assert_eq!(names(&c, "echo"), expected, "listed in creation order");
    // The limit is per function.
    c.create_event("other", "event0", b"{}").unwrap();
    // Deleting one makes room for another.
    c.delete_event("echo", &list.events[3].id).unwrap();
    c.create_event("echo", "event10", b"{}").unwrap();
    // The CLI reports the limit too.
    let (ok, _, err) = s.cli(&["fn", "event-save", "echo", "event11", "--data", "{}"]);
    assert!(!ok && err.contains("FSS.1090"), "{err}");

    c.delete_function("echo").unwrap();
    let (status, code, _) = api_err(c.list_events("echo"));
    assert_eq!((status, code.as_str()), (404, "FSS.1051"));
    let (status, _, _) = api_err(c.get_event("echo", &list.events[0].id));
    assert_eq!(status, 404);
    // A new function of the same name starts without events, and survives a restart.
    create(
        &c,
        "echo",
        "Python3.9",
        "index.handler",
        &[("index.py", ECHO, 0o644)],
    );
    assert_eq!(c.list_events("echo").unwrap().count, 0);
    assert_eq!(names(&c, "other"), ["event0"]);
    let dir = s.stop();
    let s = Server::start_in(dir, &[]);
    let c = s.client();
    assert_eq!(c.list_events("echo").unwrap().count, 0);
    assert_eq!(names(&c, "other"), ["event0"]);
}

/// Splits `fn test` output into its sections.
fn sections(out: &str) -> (String, String, String) {
    let output = out
        .split_once("Function Output\n")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no Function Output in {out}"));
    let (output, rest) = output
        .split_once("\n\nLog Output\n")
        .unwrap_or_else(|| panic!("no Log Output in {out}"));
    let (log, summary) = rest
        .split_once("\n\nSummary\n")
        .unwrap_or_else(|| panic!("no Summary in {out}"));
    (output.to_string(), log.to_string(), summary.to_string())
}

fn summary_value<'a>(summary: &'a str, key: &str) -> &'a str {
    summary
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key} in {summary}"))
}

fn check_summary(summary: &str, memory: u32) {
    let id = summary_value(summary, "Request ID");
    assert_eq!(id.len(), 36, "{summary}");
    assert_eq!(
        summary_value(summary, "Memory Configured"),
        format!("{memory} MB")
    );
    let duration = summary_value(summary, "Execution Duration");
    assert!(
        duration.ends_with(" ms") && duration.trim_end_matches(" ms").parse::<f64>().is_ok(),
        "{summary}"
    );
    let used = summary_value(summary, "Memory Used");
    assert!(
        used.ends_with(" MB") && used.trim_end_matches(" MB").parse::<f64>().unwrap() > 0.0,
        "{summary}"
    );
    let billed = summary_value(summary, "Billed Duration");
    assert!(
        billed.trim_end_matches(" ms").parse::<u64>().unwrap() >= 1,
        "{summary}"
    );
    assert_eq!(summary_value(summary, "Status"), "succeeded");
}

#[test]
fn fn_test_with_a_saved_event_and_with_a_template() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "echo",
        "Python3.9",
        "index.handler",
        &[("index.py", ECHO, 0o644)],
    );

    let (ok, out, err) = s.cli(&[
        "fn",
        "event-save",
        "echo",
        "hello",
        "--data",
        r#"{"hello": "function"}"#,
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("created test event hello"), "{out}");
    let file = s.data_dir().join("event.json");
    std::fs::write(&file, r#"{"hello": "from a file"}"#).unwrap();
    let (ok, out, err) = s.cli(&[
        "fn",
        "event-save",
        "echo",
        "hello",
        "--data",
        &format!("@{}", file.display()),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("updated test event hello"), "{out}");
    let (ok, out, _) = s.cli(&["fn", "events", "echo"]);
    assert!(
        ok && out.contains("hello") && out.lines().count() == 2,
        "{out}"
    );
    let (ok, out, _) = s.cli(&["fn", "events", "echo", "hello"]);
    assert!(ok, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({"hello": "from a file"})
    );

    let (ok, out, err) = s.cli(&["fn", "test", "echo", "--event", "hello"]);
    assert!(ok, "{out}{err}");
    let (output, log, summary) = sections(&out);
    assert_eq!(
        serde_json::from_str::<Value>(&output).unwrap(),
        json!({"echo": {"hello": "from a file"}})
    );
    let request_id = summary_value(&summary, "Request ID").to_string();
    assert!(
        log.contains(&format!(
            "Start invoke request '{request_id}', version: latest"
        )),
        "{log}"
    );
    assert!(log.contains(r#"got {"hello": "from a file"}"#), "{log}");
    assert!(
        log.contains(&format!("Finish invoke request '{request_id}'")),
        "{log}"
    );
    check_summary(&summary, 128);

    // An event template, as the guide's apig-event-template.
    let (ok, out, err) = s.cli(&["fn", "test", "echo", "--template", "apig-event-template"]);
    assert!(ok, "{out}{err}");
    let (output, _, summary) = sections(&out);
    let echoed = &serde_json::from_str::<Value>(&output).unwrap()["echo"];
    assert_eq!(echoed["httpMethod"], "POST");
    assert_eq!(echoed["requestContext"]["stage"], "RELEASE");
    check_summary(&summary, 128);
    // Saving from a template gives the template's content.
    let (ok, _, err) = s.cli(&[
        "fn",
        "event-save",
        "echo",
        "timer",
        "--template",
        "timer-event-template",
    ]);
    assert!(ok, "{err}");
    let timer = c.find_event("echo", "timer").unwrap().unwrap();
    assert_eq!(content_of(&c, "echo", &timer.id)["trigger_type"], "TIMER");

    // Given JSON, and no event at all (the blank template).
    let (ok, out, _) = s.cli(&["fn", "test", "echo", "-d", "[1, 2]"]);
    assert!(ok && sections(&out).0.contains("\"echo\": [\n"), "{out}");
    let (ok, out, err) = s.cli(&["fn", "test", "echo"]);
    assert!(ok && err.contains("blank-template"), "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&sections(&out).0).unwrap(),
        json!({"echo": {"key": "value"}})
    );
    let (ok, out, _) = s.cli(&["fn", "test", "echo", "--event", "hello", "--output", "json"]);
    assert!(ok, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], 200);
    assert!(v["log"].as_str().unwrap().contains("Finish invoke request"));

    // Unknown events and templates, and conflicting sources.
    let (ok, _, err) = s.cli(&["fn", "test", "echo", "--event", "nope"]);
    assert!(
        !ok && err.contains("no test event \"nope\"") && err.contains("hello"),
        "{err}"
    );
    let (ok, _, err) = s.cli(&["fn", "test", "echo", "--template", "nope-template"]);
    assert!(!ok && err.contains("apig-event-template"), "{err}");
    let (ok, _, err) = s.cli(&[
        "fn",
        "test",
        "echo",
        "--event",
        "hello",
        "--template",
        "blank-template",
    ]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");
    let (ok, _, err) = s.cli(&["fn", "event-save", "echo", "bad name", "--data", "{}"]);
    assert!(
        !ok && err.contains("FSS.0400") && err.contains("name"),
        "{err}"
    );
    let (ok, _, err) = s.cli(&["fn", "event-save", "echo", "broken", "--data", "{oops"]);
    assert!(!ok && err.contains("not valid JSON"), "{err}");

    let (ok, out, err) = s.cli(&["fn", "event-delete", "echo", "hello"]);
    assert!(ok && out.contains("deleted test event hello"), "{err}");
    let (ok, _, err) = s.cli(&["fn", "event-delete", "echo", "hello"]);
    assert!(!ok && err.contains("no test event"), "{err}");
    assert_eq!(names(&c, "echo"), ["timer"]);
}

#[test]
fn fn_test_shows_a_failure_and_only_the_last_2_kb_of_log() {
    let s = Server::start(&[]);
    let c = s.client();
    let noisy = "def handler(event, context):\n    for i in range(200):\n        print('line %03d %s' % (i, 'x' * 40))\n    if event.get('fail'):\n        raise ValueError('asked to fail')\n    return 'done'\n";
    create(
        &c,
        "noisy",
        "Python3.9",
        "index.handler",
        &[("index.py", noisy, 0o644)],
    );
    let (ok, out, err) = s.cli(&["fn", "test", "noisy", "-d", "{}"]);
    assert!(ok, "{out}{err}");
    let (output, log, _) = sections(&out);
    assert_eq!(output, "done");
    assert!(log.len() <= 2048, "the log tail is {} bytes", log.len());
    assert!(
        log.contains("line 199") && !log.contains("line 000"),
        "{log}"
    );
    assert!(
        log.trim_end()
            .lines()
            .last()
            .unwrap()
            .contains("Finish invoke request"),
        "{log}"
    );

    let (ok, out, err) = s.cli(&["fn", "test", "noisy", "-d", r#"{"fail": true}"#]);
    assert!(!ok && err.contains("the function failed"), "{err}");
    let (output, _, summary) = sections(&out);
    assert!(output.contains("asked to fail"), "{output}");
    assert!(
        summary_value(&summary, "Status").starts_with("failed (error code"),
        "{summary}"
    );
}

#[test]
fn templates_are_listed_and_functions_start_from_them() {
    let s = Server::start(&[]);
    let c = s.client();

    let events = c.event_templates().unwrap();
    assert_eq!(events.count, 17);
    for name in [
        "blank-template",
        "apig-event-template",
        "timer-event-template",
        "obs-event-template",
        "smn-event-template",
        "dis-event-template",
        "kafka-event-template",
        "lts-event-template",
        "cts-event-template",
        "image-tag",
    ] {
        assert!(events.templates.iter().any(|t| t.name == name), "{name}");
    }
    let (status, _, msg) = api_err(c.event_template("nope"));
    assert!(
        status == 404 && msg.contains("apig-event-template"),
        "{msg}"
    );
    let functions = c.function_templates().unwrap();
    assert_eq!(functions.func_templates.len(), 7);
    assert_eq!(functions.next_marker, 7);
    let node = c
        .call(
            "GET",
            "fgs/templates",
            &[("runtime", "Node.js18.15".into())],
            &[],
            None,
        )
        .unwrap();
    let node: Value = serde_json::from_slice(&node.body).unwrap();
    assert_eq!(node["func_templates"].as_array().unwrap().len(), 1);
    let page = c
        .call(
            "GET",
            "fgs/templates",
            &[("marker", "5".into()), ("maxitems", "1".into())],
            &[],
            None,
        )
        .unwrap();
    let page: Value = serde_json::from_slice(&page.body).unwrap();
    assert_eq!(
        (
            page["func_templates"].as_array().unwrap().len(),
            page["next_marker"].as_i64()
        ),
        (1, Some(6))
    );
    let (status, _, _) = api_err(c.function_template("nope"));
    assert_eq!(status, 404);

    let (ok, out, _) = s.cli(&["fn", "templates"]);
    assert!(
        ok && out.contains("voice-analyse") && out.contains("obs-processor-python"),
        "{out}"
    );
    let (ok, out, _) = s.cli(&["fn", "templates", "obs-event-template"]);
    assert!(
        ok && serde_json::from_str::<Value>(&out).unwrap()["Records"].is_array(),
        "{out}"
    );
    let (ok, out, _) = s.cli(&["fn", "templates", "timer-job-python"]);
    assert!(
        ok && out.contains("TIMER") && out.contains("timer-event-template"),
        "{out}"
    );

    // Each function template creates a function that passes its own test event.
    let expect: &[(&str, &str, &str)] = &[
        ("hello-python", "blank-template", "Hello, world!"),
        ("hello-nodejs", "blank-template", "Hello, world!"),
        (
            "hello-custom",
            "blank-template",
            "Hello from a custom runtime! You sent: {",
        ),
        (
            "context-class-introduction-python",
            "blank-template",
            "\"function_name\": \"t-context-class-introduction-python\"",
        ),
        (
            "apig-responder-python",
            "apig-event-template",
            "\"statusCode\": 200",
        ),
        (
            "timer-job-python",
            "timer-event-template",
            "\"trigger\": \"Timer_001\"",
        ),
        (
            "obs-processor-python",
            "obs-event-template",
            "\"key\": \"incoming/photo 1.png\"",
        ),
    ];
    for (template, event, shows) in expect {
        let name = format!("t-{template}");
        let (ok, out, err) = s.cli(&["fn", "create", &name, "--template", template]);
        assert!(ok, "{template}: {err}");
        assert!(
            out.contains(&format!("stratus fn test {name} --template {event}")),
            "{out}"
        );
        let cfg = c.get_config(&name).unwrap();
        let t = c.function_template(template).unwrap();
        assert_eq!(
            (cfg.runtime.as_str(), cfg.handler.as_str()),
            (t.runtime.as_str(), t.handler.as_str())
        );
        assert_eq!((cfg.memory_size, cfg.timeout), (t.memory_size, t.timeout));
        let (ok, out, err) = s.cli(&["fn", "test", &name, "--template", event]);
        assert!(ok, "{template}: {out}{err}");
        let (output, _, summary) = sections(&out);
        assert!(output.contains(shows), "{template}: {output}");
        check_summary(&summary, t.memory_size as u32);
    }
    // Overrides on top of a template, and the refusals.
    let (ok, _, err) = s.cli(&[
        "fn",
        "create",
        "big-hello",
        "--template",
        "hello-python",
        "--memory",
        "512",
        "--timeout",
        "20",
    ]);
    assert!(ok, "{err}");
    let cfg = c.get_config("big-hello").unwrap();
    assert_eq!((cfg.memory_size, cfg.timeout), (512, 20));
    let (ok, _, err) = s.cli(&["fn", "create", "x", "--template", "no-such-template"]);
    assert!(
        !ok && err.contains("no-such-template") && err.contains("hello-python"),
        "{err}"
    );
    let (ok, _, err) = s.cli(&[
        "fn",
        "create",
        "x",
        "--template",
        "hello-python",
        "--runtime",
        "Python3.9",
    ]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");
    let (ok, _, err) = s.cli(&["fn", "create", "x"]);
    assert!(!ok && err.contains("--runtime"), "{err}");
    let (ok, _, _) = s.cli(&[
        "fn",
        "create",
        "t-hello-python",
        "--template",
        "hello-python",
    ]);
    assert!(!ok, "the name is taken");
    assert!(c.get_config("x").is_err());
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
