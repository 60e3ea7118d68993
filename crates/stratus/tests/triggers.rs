//! End-to-end tests of the trigger API and timer triggers against the compiled binary:
//! CRUD and bad input, the timer event, firing on schedule without doubles across a
//! restart, triggers of versions, aliases and deleted functions.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;
use stratus_api_types::{FuncCode, FunctionBody, TriggerBody, TriggerUpdateBody};
use stratus_client::{Client, ClientError};

/// Appends the timer event and the wall-clock start to a file in a host directory.
const RECORDER: &str = r#"import json, os, time
def handler(event, context):
    with open(os.path.join(os.environ["RUNS_DIR"], "fires.jsonl"), "a") as f:
        f.write(json.dumps({"event": event, "started": time.time()}) + "\n")
    return "ok"
"#;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn server_in(dir: tempfile::TempDir, runs: &Path) -> Server {
    if is_root() {
        Server::start_in(dir, &["--mount-root", &runs.display().to_string()])
    } else {
        eprintln!("not root: the timer test runs under the process sandbox");
        Server::start_in(dir, &["--sandbox", "process"])
    }
}

fn recorder(c: &Client, name: &str, runs: &Path) {
    let inside = if is_root() {
        "/mnt/runs".to_string()
    } else {
        runs.display().to_string()
    };
    let mut body = FunctionBody {
        func_name: Some(name.into()),
        package: Some("default".into()),
        runtime: Some("Python3.9".into()),
        handler: Some("index.handler".into()),
        memory_size: Some(128),
        timeout: Some(10),
        code_type: Some("zip".into()),
        func_code: Some(FuncCode {
            file: Some(b64(&zip(&[("index.py", RECORDER, 0o644)]))),
            link: None,
        }),
        user_data: Some(json!({ "RUNS_DIR": inside }).to_string()),
        ..Default::default()
    };
    if is_root() {
        body.other.insert(
            "mount_config".into(),
            json!({"mount_user": {"user_id": -1, "user_group_id": -1},
                   "func_mounts": [{"mount_type": "ecs", "mount_resource": "local",
                                    "mount_share_path": runs.display().to_string(),
                                    "local_mount_path": "/mnt/runs"}]}),
        );
    }
    c.create_function(&body, |_, _| {}).unwrap();
}

fn fires(runs: &Path) -> Vec<Value> {
    std::fs::read_to_string(runs.join("fires.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn timer(schedule_type: &str, schedule: &str, user_event: &str) -> TriggerBody {
    TriggerBody {
        trigger_type_code: Some("TIMER".into()),
        trigger_status: Some("ACTIVE".into()),
        event_type_code: Some("MessageCreated".into()),
        event_data: Some(json!({
            "name": "every-second", "schedule_type": schedule_type,
            "schedule": schedule, "user_event": user_event
        })),
    }
}

fn api_err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api { status, code, msg }) => (status, code, msg),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn runs_dir() -> tempfile::TempDir {
    let runs = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        runs.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    runs
}

#[test]
fn trigger_api_and_bad_input() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "t",
        "Python3.9",
        "index.handler",
        &[("index.py", "def handler(e, c):\n    return 1\n", 0o644)],
    );
    let t = c
        .create_trigger("t", &timer("Rate", "3m", "hello"))
        .unwrap();
    assert_eq!(
        (t.trigger_type_code.as_str(), t.trigger_status.as_str()),
        ("TIMER", "ACTIVE")
    );
    assert_eq!(t.event_data["schedule"], "3m");
    assert_eq!(t.event_data["user_event"], "hello");
    assert_eq!(t.event_type_code, "MessageCreated");
    let listed = c.list_triggers(&format!("{}:latest", c.urn("t"))).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(c.get_trigger("t", "TIMER", &t.trigger_id).unwrap(), t);

    let off = c
        .update_trigger(
            "t",
            "TIMER",
            &t.trigger_id,
            &TriggerUpdateBody {
                trigger_status: Some("DISABLED".into()),
                event_data: None,
            },
        )
        .unwrap();
    assert_eq!(off.trigger_status, "DISABLED");
    let bad_updates = [
        TriggerUpdateBody {
            trigger_status: Some("PAUSED".into()),
            event_data: None,
        },
        TriggerUpdateBody {
            trigger_status: None,
            event_data: None,
        },
        TriggerUpdateBody {
            trigger_status: None,
            event_data: Some(json!([{"polling_interval": 3}])),
        },
    ];
    for b in bad_updates {
        let (status, _, msg) = api_err(c.update_trigger("t", "TIMER", &t.trigger_id, &b));
        assert_eq!(status, 400, "{msg}");
    }
    assert_eq!(
        c.get_trigger("t", "TIMER", &t.trigger_id)
            .unwrap()
            .trigger_status,
        "DISABLED"
    );

    let bad = [
        (
            TriggerBody {
                trigger_type_code: Some("NOPE".into()),
                ..timer("Rate", "3m", "")
            },
            "trigger_type_code",
        ),
        (
            TriggerBody {
                trigger_type_code: Some("OBS".into()),
                ..timer("Rate", "3m", "")
            },
            "not available",
        ),
        (
            TriggerBody {
                trigger_type_code: None,
                ..timer("Rate", "3m", "")
            },
            "trigger_type_code",
        ),
        (timer("Rate", "0m", ""), "schedule"),
        (timer("Rate", "61m", ""), "schedule"),
        (timer("Rate", "31d", ""), "schedule"),
        (timer("Cron", "0 0 25 * * ?", ""), "hours"),
        (timer("Cron", "0 0 8 ? FOO *", ""), "month"),
        (timer("Cron", "* * *", ""), "schedule"),
        (timer("Cron", "@every 0s", ""), "schedule"),
        (timer("Weekly", "1d", ""), "schedule"),
        (timer("Rate", "", ""), "schedule"),
        (
            TriggerBody {
                trigger_status: Some("SLEEPING".into()),
                ..timer("Rate", "3m", "")
            },
            "trigger_status",
        ),
        (
            TriggerBody {
                event_data: Some(json!({"name": "x", "schedule_type": 5, "schedule": "3m"})),
                ..timer("Rate", "3m", "")
            },
            "schedule_type",
        ),
        (
            TriggerBody {
                event_data: Some(
                    json!({"name": "bad name!", "schedule_type": "Rate", "schedule": "3m"}),
                ),
                ..timer("Rate", "3m", "")
            },
            "name",
        ),
    ];
    for (body, want) in bad {
        let (status, code, msg) = api_err(c.create_trigger("t", &body));
        assert_eq!((status, code.as_str()), (400, "FSS.0400"), "{want}: {msg}");
        assert!(msg.contains(want), "{want}: {msg}");
    }
    assert_eq!(
        c.list_triggers("t").unwrap().len(),
        1,
        "refused triggers are not stored"
    );
    let (status, _, _) = api_err(c.create_trigger("missing", &timer("Rate", "3m", "")));
    assert_eq!(status, 404);
    let (status, _, _) = api_err(c.get_trigger("t", "TIMER", "no-such-id"));
    assert_eq!(status, 404);

    // Version and alias triggers are listed under their qualifier; the function lists all.
    c.publish_version(
        "t",
        &stratus_api_types::PublishBody {
            version: Some("v1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    c.create_trigger(
        &format!("{}:v1", c.urn("t")),
        &timer("Cron", "0 30 8 ? * MON-FRI", ""),
    )
    .unwrap();
    assert_eq!(
        c.list_triggers(&format!("{}:v1", c.urn("t")))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        c.list_triggers(&format!("{}:latest", c.urn("t")))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(c.list_triggers("t").unwrap().len(), 2);
    let (status, _, _) =
        api_err(c.create_trigger(&format!("{}:v9", c.urn("t")), &timer("Rate", "3m", "")));
    assert_eq!(status, 404);
    // Deleting the version deletes its trigger.
    c.delete_function(&format!("{}:v1", c.urn("t"))).unwrap();
    assert_eq!(c.list_triggers("t").unwrap().len(), 1);

    // The CLI.
    let (ok, out, err) = s.cli(&[
        "trigger",
        "create",
        "t",
        "--timer",
        "@every 1h",
        "--data",
        "x",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("@every 1h"), "{out}");
    let (ok, out, _) = s.cli(&["trigger", "list", "t"]);
    assert!(ok && out.lines().count() == 3, "{out}");
    let (ok, _, err) = s.cli(&["trigger", "create", "t", "--timer", "0 0 99 * * ?"]);
    assert!(!ok && err.contains("hours"), "{err}");
    let (ok, _, err) = s.cli(&["trigger", "delete", "t", &t.trigger_id]);
    assert!(ok, "{err}");
    assert_eq!(c.list_triggers("t").unwrap().len(), 1);

    // Deleting the function deletes its triggers; a new function of that name has none.
    c.delete_function("t").unwrap();
    create(
        &c,
        "t",
        "Python3.9",
        "index.handler",
        &[("index.py", "def handler(e, c):\n    return 1\n", 0o644)],
    );
    assert!(c.list_triggers("t").unwrap().is_empty());
}

#[test]
fn timers_fire_on_schedule_once_across_a_restart() {
    let runs = runs_dir();
    let s = server_in(tempfile::tempdir().unwrap(), runs.path());
    let c = s.client();
    recorder(&c, "tick", runs.path());
    let t = c
        .create_trigger("tick", &timer("Cron", "@every 1s", "{\"note\": \"tick\"}"))
        .unwrap();
    assert!(wait_until(Duration::from_secs(15), || fires(runs.path())
        .len()
        >= 3));
    let dir = s.stop();
    let before = fires(runs.path()).len();
    // Down for a while: the missed fires are not replayed after the restart.
    std::thread::sleep(Duration::from_secs(3));
    let s = server_in(dir, runs.path());
    assert!(wait_until(Duration::from_secs(15), || fires(runs.path())
        .len()
        >= before + 3));
    // Disabled: no more fires.
    let c = s.client();
    c.update_trigger(
        "tick",
        "TIMER",
        &t.trigger_id,
        &TriggerUpdateBody {
            trigger_status: Some("DISABLED".into()),
            event_data: None,
        },
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let settled = fires(runs.path()).len();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(fires(runs.path()).len(), settled, "a disabled timer fired");
    drop(s);

    let all = fires(runs.path());
    let times: Vec<i64> = all
        .iter()
        .map(|f| {
            let e = &f["event"];
            assert_eq!(e["version"], "v1.0");
            assert_eq!(e["trigger_type"], "TIMER");
            assert_eq!(e["trigger_name"], "every-second");
            assert_eq!(e["user_event"], "{\"note\": \"tick\"}");
            chrono::DateTime::parse_from_rfc3339(e["time"].as_str().unwrap())
                .unwrap()
                .timestamp()
        })
        .collect();
    let distinct: HashSet<i64> = times.iter().copied().collect();
    assert_eq!(distinct.len(), times.len(), "a fire was doubled: {times:?}");
    let mut sorted = times.clone();
    sorted.sort_unstable();
    // No burst after the restart: no two fires share a second, and the gap while the server
    // was down holds no fires.
    let gaps: Vec<i64> = sorted.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().any(|g| *g >= 3),
        "no gap for the downtime: {sorted:?}"
    );
    // Each fire started close to its scheduled second (loose bound: tests are not timings).
    for f in &all {
        let at = chrono::DateTime::parse_from_rfc3339(f["event"]["time"].as_str().unwrap())
            .unwrap()
            .timestamp() as f64;
        let late = f["started"].as_f64().unwrap() - at;
        assert!(
            (0.0..5.0).contains(&late),
            "a fire started {late:.3}s after its second"
        );
    }
}
