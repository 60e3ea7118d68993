//! End-to-end tests of asynchronous invocation against the compiled binary: durable
//! acceptance, retries, destinations with the exact record, event age, cancel, policy
//! validation, status listing and paging, and a `kill -9` in the middle of a stream.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;
use stratus_api_types::{
    AsyncConfigBody, AsyncInvocation, DestinationConfig, DestinationsConfig, FuncCode,
    FunctionBody, StrategyConfig,
};
use stratus_client::{Client, ClientError};

const ECHO: &str = r#"import json
def handler(event, context):
    print("EVENT " + json.dumps(event, sort_keys=True))
    return {"got": event}
"#;

const FAILS: &str = r#"def handler(event, context):
    raise ValueError("boom")
"#;

const SLOW: &str = r#"import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return "done"
"#;

fn py(c: &Client, name: &str, src: &str, tweak: impl FnOnce(&mut FunctionBody)) {
    let mut body = FunctionBody {
        func_name: Some(name.into()),
        package: Some("default".into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(128),
        timeout: Some(10),
        code_type: Some("zip".into()),
        func_code: Some(FuncCode {
            file: Some(b64(&zip(&[("index.py", src, 0o644)]))),
            link: None,
        }),
        ..Default::default()
    };
    tweak(&mut body);
    c.create_function(&body, |_, _| {}).unwrap();
}

fn one_at_a_time(b: &mut FunctionBody) {
    b.strategy_config = Some(StrategyConfig {
        concurrency: Some(1),
        concurrent_num: Some(1),
    });
}

fn policy(
    retries: i64,
    age: i64,
    ok: Option<DestinationConfig>,
    fail: Option<DestinationConfig>,
) -> AsyncConfigBody {
    AsyncConfigBody {
        max_async_retry_attempts: Some(retries),
        max_async_event_age_in_seconds: Some(age),
        destination_config: Some(DestinationsConfig {
            on_success: ok,
            on_failure: fail,
        }),
        ..Default::default()
    }
}

fn to_fn(c: &Client, name: &str) -> Option<DestinationConfig> {
    Some(DestinationConfig {
        destination: Some("FunctionGraph".into()),
        param: Some(json!({ "func_urn": format!("{}:latest", c.urn(name)) }).to_string()),
    })
}

fn to_bucket(bucket: &str, prefix: &str) -> Option<DestinationConfig> {
    Some(DestinationConfig {
        destination: Some("OBS".into()),
        param: Some(json!({ "bucket": bucket, "prefix": prefix }).to_string()),
    })
}

fn records(c: &Client, name: &str, extra: &[(&str, String)]) -> Vec<AsyncInvocation> {
    let mut q = vec![("limit", "500".to_string())];
    q.extend(extra.iter().cloned());
    c.async_invocations(name, &q).unwrap().invocations
}

fn record(c: &Client, name: &str, id: &str) -> Option<AsyncInvocation> {
    records(c, name, &[("request_id", id.to_string())]).pop()
}

/// Waits until the request has a terminal status and returns its record.
fn settled(c: &Client, name: &str, id: &str, within: Duration) -> AsyncInvocation {
    let mut last = None;
    let done = wait_until(within, || {
        last = record(c, name, id);
        last.as_ref()
            .is_some_and(|r| ["SUCCESS", "FAIL", "DISCARD"].contains(&r.status.as_str()))
    });
    assert!(done, "request {id} of {name} did not finish: {last:?}");
    last.unwrap()
}

fn api_err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api { status, code, msg }) => (status, code, msg),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// The events a function printed (its `EVENT ...` log lines), parsed.
fn printed_events(c: &Client, name: &str) -> Vec<Value> {
    c.logs(name, &[("limit", "1000".into())])
        .unwrap()
        .logs
        .iter()
        .filter_map(|l| l.message.split_once("EVENT ").map(|(_, e)| e.to_string()))
        .map(|e| serde_json::from_str(&e).unwrap())
        .collect()
}

fn bucket_object(s: &Server, bucket: &str, prefix: &str, id: &str) -> Value {
    let p = s
        .data_dir()
        .join("buckets")
        .join(bucket)
        .join(prefix)
        .join(format!("{id}.json"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn success_goes_to_the_function_destination_with_the_record() {
    let s = Server::start(&[]);
    let c = s.client();
    py(&c, "worker", ECHO, |_| {});
    py(&c, "sink", ECHO, |_| {});
    c.put_async_config("worker", &policy(0, 600, to_fn(&c, "sink"), None))
        .unwrap();
    let id = c
        .invoke_async("worker", br#"{"order": 42}"#)
        .unwrap()
        .request_id;
    let r = settled(&c, "worker", &id, Duration::from_secs(20));
    assert_eq!(
        (r.status.as_str(), r.error_code, r.attempts),
        ("SUCCESS", 0, 1),
        "{r:?}"
    );
    assert!(!r.end_time.is_empty());

    // The sink ran once with the record of guide table 5-9 as its event.
    let mut got = Vec::new();
    assert!(wait_until(Duration::from_secs(20), || {
        got = printed_events(&c, "sink");
        !got.is_empty()
    }));
    assert_eq!(got.len(), 1, "{got:?}");
    let rec = &got[0];
    let keys: HashSet<&str> = rec
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        HashSet::from([
            "timestamp",
            "request_context",
            "request_payload",
            "response_context",
            "response_payload"
        ])
    );
    assert_eq!(
        rec["request_context"],
        json!({
            "request_id": id,
            "function_urn": format!("{}:latest", c.urn("worker")),
            "condition": "",
            "approximate_invoke_count": 1
        })
    );
    assert_eq!(rec["request_payload"], r#"{"order": 42}"#);
    assert_eq!(
        rec["response_context"],
        json!({"status_code": 200, "function_error": ""})
    );
    let response: Value = serde_json::from_str(rec["response_payload"].as_str().unwrap()).unwrap();
    assert_eq!(response, json!({"got": {"order": 42}}));
    assert!(rec["timestamp"].as_str().unwrap().ends_with('Z'));
    // The worker's own log carries the async request id.
    let lines = c
        .logs("worker", &[("request_id", id.clone())])
        .unwrap()
        .logs;
    assert!(
        lines
            .iter()
            .any(|l| l.message.contains("Start invoke request")),
        "{lines:?}"
    );
}

#[test]
fn failures_are_retried_then_recorded_in_the_bucket() {
    let s = Server::start(&[]);
    let c = s.client();
    py(&c, "flaky", FAILS, |_| {});
    c.put_async_config(
        "flaky",
        &policy(2, 600, None, to_bucket("fail-records", "flaky")),
    )
    .unwrap();
    let id = c.invoke_async("flaky", br#"{"n": 1}"#).unwrap().request_id;
    let r = settled(&c, "flaky", &id, Duration::from_secs(30));
    assert_eq!(r.status, "FAIL", "{r:?}");
    assert_eq!(r.attempts, 3, "one attempt and two retries: {r:?}");
    assert!(r.error_message.contains("boom"), "{r:?}");
    assert_ne!(r.error_code, 0);
    let rec = bucket_object(&s, "fail-records", "flaky", &id);
    assert_eq!(rec["request_context"]["approximate_invoke_count"], 3);
    assert_eq!(rec["request_context"]["condition"], "CodeError");
    assert_eq!(rec["request_payload"], r#"{"n": 1}"#);
    assert!(rec["response_context"]["function_error"]
        .as_str()
        .unwrap()
        .contains("boom"));
    // Three runs of the function, each in the log (written in batches: poll).
    let mut lines = Vec::new();
    let three = wait_until(Duration::from_secs(10), || {
        lines = c.logs("flaky", &[("request_id", id.clone())]).unwrap().logs;
        lines
            .iter()
            .filter(|l| l.message.contains("Start invoke request"))
            .count()
            == 3
    });
    assert!(three, "{lines:?}");
}

#[test]
fn without_a_policy_code_errors_are_not_retried() {
    let s = Server::start(&[]);
    let c = s.client();
    py(&c, "plain", FAILS, |_| {});
    let id = c.invoke_async("plain", b"{}").unwrap().request_id;
    let r = settled(&c, "plain", &id, Duration::from_secs(20));
    assert_eq!((r.status.as_str(), r.attempts), ("FAIL", 1), "{r:?}");
}

#[test]
fn old_events_are_discarded_and_waiting_ones_can_be_cancelled() {
    let s = Server::start(&[]);
    let c = s.client();
    py(&c, "busy", SLOW, one_at_a_time);
    c.put_async_config("busy", &policy(0, 1, None, to_bucket("late", "")))
        .unwrap();
    // The first event holds the only instance for 3 s; the second waits behind it past
    // its 1 s age; the third is cancelled while waiting.
    let first = c
        .invoke_async("busy", br#"{"sleep": 3}"#)
        .unwrap()
        .request_id;
    assert!(wait_until(Duration::from_secs(10), || record(
        &c, "busy", &first
    )
    .is_some_and(|r| r.status == "RUNNING")));
    let second = c
        .invoke_async("busy", br#"{"sleep": 0}"#)
        .unwrap()
        .request_id;
    let third = c
        .invoke_async("busy", br#"{"sleep": 0}"#)
        .unwrap()
        .request_id;
    assert_eq!(record(&c, "busy", &third).unwrap().status, "WAIT");
    c.cancel_async("busy", &third).unwrap();
    let r = settled(&c, "busy", &third, Duration::from_secs(5));
    assert_eq!(r.status, "DISCARD");
    assert!(r.error_message.contains("cancelled"), "{r:?}");

    let r = settled(&c, "busy", &second, Duration::from_secs(20));
    assert_eq!(r.status, "DISCARD", "{r:?}");
    assert_eq!(r.attempts, 0, "a discarded event never runs: {r:?}");
    let rec = bucket_object(&s, "late", "", &second);
    assert_eq!(rec["request_context"]["condition"], "EventAgeExceeded");
    assert_eq!(
        settled(&c, "busy", &first, Duration::from_secs(20)).status,
        "SUCCESS"
    );

    // Only waiting requests can be cancelled; unknown ids are 404.
    let (status, _, msg) = api_err(c.cancel_async("busy", &first));
    assert_eq!(status, 409, "{msg}");
    let (status, _, _) = api_err(c.cancel_async("busy", "no-such-request"));
    assert_eq!(status, 404);
}

#[test]
fn bad_requests_and_policies_are_refused_without_changes() {
    let s = Server::start(&[]);
    let c = s.client();
    py(&c, "a", ECHO, |_| {});
    py(&c, "b", ECHO, |_| {});
    py(&c, "c", ECHO, |_| {});

    // 256 KB limit: one byte more is refused and nothing is queued.
    let big = format!("\"{}\"", "x".repeat(256 * 1024 - 1));
    let (status, code, _) = api_err(c.invoke_async("a", big.as_bytes()));
    assert_eq!((status, code.as_str()), (413, "FSS.1201"));
    assert!(records(&c, "a", &[]).is_empty());
    let (status, _, _) = api_err(c.invoke_async("a", b"{not json"));
    assert_eq!(status, 406);
    let (status, _, _) = api_err(c.invoke_async("missing", b"{}"));
    assert_eq!(status, 404);
    let exact = format!("\"{}\"", "x".repeat(256 * 1024 - 2));
    c.invoke_async("a", exact.as_bytes()).unwrap();

    // Policies: ranges, destinations, cycles.
    c.put_async_config("a", &policy(1, 60, to_fn(&c, "b"), None))
        .unwrap();
    c.put_async_config("b", &policy(1, 60, to_fn(&c, "c"), None))
        .unwrap();
    let before = c.get_async_config("c");
    assert!(matches!(before, Err(ClientError::Api { status: 404, .. })));
    let bad_bodies = [
        (policy(4, 60, None, None), "max_async_retry_attempts"),
        (policy(1, 0, None, None), "max_async_event_age_in_seconds"),
        (
            policy(1, 86_401, None, None),
            "max_async_event_age_in_seconds",
        ),
        (policy(1, 60, to_fn(&c, "a"), None), "cycle"),
        (policy(1, 60, None, to_fn(&c, "c")), "cycle"),
        (policy(1, 60, to_fn(&c, "nobody"), None), "does not exist"),
        (policy(1, 60, to_bucket("Bad_Bucket", ""), None), "bucket"),
        (
            policy(1, 60, to_bucket("ok-bucket", "../x"), None),
            "prefix",
        ),
        (
            policy(
                1,
                60,
                Some(DestinationConfig {
                    destination: Some("SMN".into()),
                    param: Some("{}".into()),
                }),
                None,
            ),
            "SMN",
        ),
    ];
    for (body, want) in bad_bodies {
        let (status, code, msg) = api_err(c.put_async_config("c", &body));
        assert_eq!((status, code.as_str()), (400, "FSS.0400"), "{msg}");
        assert!(msg.contains(want), "{want}: {msg}");
    }
    assert!(matches!(
        c.get_async_config("c"),
        Err(ClientError::Api { status: 404, .. })
    ));
    // A self-destination is a cycle too.
    let (status, _, msg) = api_err(c.put_async_config("a", &policy(1, 60, to_fn(&c, "a"), None)));
    assert_eq!(status, 400, "{msg}");
    assert_eq!(
        c.get_async_config("a")
            .unwrap()
            .max_async_event_age_in_seconds,
        60
    );

    // Wrong JSON types name the field.
    let raw = |body: &str| {
        c.call(
            "PUT",
            &format!(
                "fgs/functions/{}/async-invoke-config",
                stratus_sign::encode_component(&c.urn("c"))
            ),
            &[],
            &[],
            Some(body.as_bytes()),
        )
    };
    let (status, _, msg) = api_err(raw(r#"{"max_async_retry_attempts": "many"}"#));
    assert_eq!(status, 400);
    assert!(msg.contains("max_async_retry_attempts"), "{msg}");

    // Delete, then it is gone.
    c.delete_async_config("a").unwrap();
    assert!(matches!(
        c.get_async_config("a"),
        Err(ClientError::Api { status: 404, .. })
    ));
    let (status, _, _) = api_err(c.delete_async_config("a"));
    assert_eq!(status, 404);

    // Listing filters are checked.
    for (k, v) in [
        ("status", "DONE"),
        ("limit", "501"),
        ("marker", "-1"),
        ("query_begin_time", "yesterday"),
    ] {
        let r = c.async_invocations("a", &[(k, v.to_string())]);
        assert!(
            matches!(r, Err(ClientError::Api { status: 400, .. })),
            "{k}={v}: {r:?}"
        );
    }
}

#[test]
fn http_functions_refuse_asynchronous_invocation() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "web",
        "http",
        "bootstrap",
        &[("bootstrap", "/usr/bin/python3 -m http.server 8000\n", 0o755)],
    );
    let (status, _, msg) = api_err(c.invoke_async("web", b"{}"));
    assert_eq!(status, 400);
    assert!(msg.contains("HTTP functions"), "{msg}");
}

#[test]
fn status_records_page_and_filter() {
    let s = Server::start(&[]);
    let c = s.client();
    py(&c, "many", ECHO, |_| {});
    py(&c, "broken", FAILS, |_| {});
    let ids: Vec<String> = (0..25)
        .map(|i| {
            c.invoke_async("many", format!("{{\"i\": {i}}}").as_bytes())
                .unwrap()
                .request_id
        })
        .collect();
    let bad = c.invoke_async("broken", b"{}").unwrap().request_id;
    for id in &ids {
        settled(&c, "many", id, Duration::from_secs(30));
    }
    settled(&c, "broken", &bad, Duration::from_secs(20));
    let mut seen = Vec::new();
    let mut marker = 0;
    loop {
        let page = c
            .async_invocations(
                "many",
                &[("limit", "10".into()), ("marker", marker.to_string())],
            )
            .unwrap();
        assert_eq!(page.count, 25);
        seen.extend(page.invocations.iter().map(|r| r.request_id.clone()));
        if page.next_marker >= page.count {
            break;
        }
        marker = page.next_marker;
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>(),
        ids.iter().collect::<HashSet<_>>()
    );
    assert_eq!(
        records(&c, "many", &[("status", "SUCCESS".into())]).len(),
        25
    );
    assert!(records(&c, "many", &[("status", "FAIL".into())]).is_empty());
    assert_eq!(records(&c, "broken", &[("status", "FAIL".into())]).len(), 1);
    // A window in the past holds nothing.
    assert!(records(
        &c,
        "many",
        &[
            ("query_begin_time", "2020-01-01T00:00:00".into()),
            ("query_end_time", "2020-01-02T00:00:00".into())
        ]
    )
    .is_empty());

    // The CLI shows them too.
    let (ok, out, err) = s.cli(&["fn", "async-events", "broken", "--status", "FAIL"]);
    assert!(ok, "{err}");
    assert!(out.contains(&bad) && out.contains("FAIL"), "{out}");
    let (ok, out, err) = s.cli(&["fn", "invoke", "many", "--async", "-d", "{\"i\": 99}"]);
    assert!(ok, "{err}");
    let id = out.lines().nth(1).unwrap().trim().to_string();
    assert_eq!(
        settled(&c, "many", &id, Duration::from_secs(20)).status,
        "SUCCESS"
    );
    let (ok, out, err) = s.cli(&[
        "fn",
        "async-config",
        "many",
        "--max-retries",
        "2",
        "--max-age",
        "120",
        "--on-failure",
        "bucket:errs/many",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("OBS") && out.contains("120 s"), "{out}");
    let (ok, _, err) = s.cli(&["fn", "async-config", "many", "--max-retries", "9"]);
    assert!(!ok && err.contains("max_async_retry_attempts"), "{err}");
}

/// The function appends its request id to a file the test reads: the record of what ran.
const RECORDER: &str = r#"import os
def handler(event, context):
    with open(os.path.join(os.environ["RUNS_DIR"], "runs.txt"), "a") as f:
        f.write(context.getRequestID() + "\n")
    return "ok"
"#;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn start_recording_server(dir: tempfile::TempDir, runs: &Path) -> Server {
    let root = runs.display().to_string();
    if is_root() {
        Server::start_in(dir, &["--mount-root", &root])
    } else {
        eprintln!("not root: the crash test runs under the process sandbox");
        Server::start_in(dir, &["--sandbox", "process"])
    }
}

#[test]
fn nothing_accepted_is_lost_across_kill_9() {
    let runs = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        runs.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let s = start_recording_server(tempfile::tempdir().unwrap(), runs.path());
    let c = s.client();
    let runs_inside = if is_root() {
        "/mnt/runs".to_string()
    } else {
        runs.path().display().to_string()
    };
    py(&c, "rec", RECORDER, |b| {
        b.user_data = Some(json!({ "RUNS_DIR": runs_inside }).to_string());
        if is_root() {
            b.other.insert(
                "mount_config".into(),
                json!({"mount_user": {"user_id": -1, "user_group_id": -1},
                       "func_mounts": [{"mount_type": "ecs", "mount_resource": "local",
                                        "mount_share_path": runs.path().display().to_string(),
                                        "local_mount_path": "/mnt/runs"}]}),
            );
        }
    });
    c.put_async_config("rec", &policy(3, 3600, None, None))
        .unwrap();

    // Eight senders stream requests; the server is killed while they run.
    let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let senders: Vec<_> = (0..8)
        .map(|_| {
            let c = s.client();
            let accepted = accepted.clone();
            std::thread::spawn(move || {
                // Stops at the first error: the server is gone.
                while let Ok(r) = c.invoke_async("rec", b"{}") {
                    accepted.lock().unwrap().push(r.request_id);
                }
            })
        })
        .collect();
    assert!(wait_until(Duration::from_secs(60), || accepted
        .lock()
        .unwrap()
        .len()
        >= 2000));
    let dir = s.kill9();
    for t in senders {
        t.join().unwrap();
    }
    let accepted: Vec<String> = accepted.lock().unwrap().clone();
    let s = start_recording_server(dir, runs.path());
    let c = s.client();
    let mut statuses: HashMap<String, AsyncInvocation> = HashMap::new();
    let finished = wait_until(Duration::from_secs(180), || {
        let mut all = Vec::new();
        let mut marker = 0;
        loop {
            let q = [
                ("query_begin_time", "2000-01-01T00:00:00".to_string()),
                ("limit", "500".into()),
                ("marker", marker.to_string()),
            ];
            let page = c.async_invocations("rec", &q).unwrap();
            all.extend(page.invocations);
            if page.next_marker >= page.count {
                break;
            }
            marker = page.next_marker;
        }
        let done = all.len() >= accepted.len()
            && all
                .iter()
                .all(|r| ["SUCCESS", "FAIL", "DISCARD"].contains(&r.status.as_str()));
        statuses = all.into_iter().map(|r| (r.request_id.clone(), r)).collect();
        done
    });
    let open: Vec<&AsyncInvocation> = statuses
        .values()
        .filter(|r| !["SUCCESS", "FAIL", "DISCARD"].contains(&r.status.as_str()))
        .collect();
    assert!(
        finished,
        "{} requests are not terminal, e.g. {:?}",
        open.len(),
        open.first()
    );
    let ran: HashSet<String> = std::fs::read_to_string(runs.path().join("runs.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    for id in &accepted {
        let r = statuses
            .get(id)
            .unwrap_or_else(|| panic!("accepted request {id} has no record"));
        assert_eq!(r.status, "SUCCESS", "{r:?}");
        assert!(ran.contains(id), "{id} is SUCCESS but never ran");
    }
    eprintln!(
        "accepted {} before the crash, {} records, {} distinct runs",
        accepted.len(),
        statuses.len(),
        ran.len()
    );
}
