//! End-to-end tests of reserved instances: kept warm and initialized, served first, never
//! reaped, replaced when they die, raised by scheduled policies; bad input refused.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;
use stratus_api_types::{CronConfigBody, ReservedBody, TacticsConfigBody};
use stratus_client::{Client, ClientError, InvokeOptions};

const SRC: &str = r#"import os, time
STARTED = time.time()
INSTANCE = os.urandom(6).hex()
def handler(event, context):
    if event.get("die"):
        os._exit(3)
    time.sleep(event.get("sleep", 0))
    return {"instance": INSTANCE, "started": STARTED}
"#;

fn call(c: &Client, target: &str, event: Value) -> Value {
    let (r, _) = c
        .invoke(
            target,
            event.to_string().as_bytes(),
            &InvokeOptions::default(),
        )
        .unwrap();
    serde_json::from_str(&r.result).unwrap_or(Value::Null)
}

fn live(c: &Client, name: &str, urn_suffix: &str) -> i64 {
    c.reserved_instances(name)
        .unwrap()
        .reservedinstances
        .iter()
        .find(|r| r.func_urn.ends_with(urn_suffix))
        .map(|r| r.count)
        .unwrap_or(0)
}

fn reserve(c: &Client, target: &str, count: i64) -> Result<ReservedBody, ClientError> {
    c.set_reserved(
        target,
        &ReservedBody {
            count: Some(count),
            ..Default::default()
        },
    )
}

fn api_err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api { status, code, msg }) => (status, code, msg),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[test]
fn reserved_instances_stay_warm_and_come_back() {
    let s = Server::start(&["--idle-timeout", "1"]);
    let c = s.client();
    create(
        &c,
        "warm",
        "Python3.9",
        "index.handler",
        &[("index.py", SRC, 0o644)],
    );
    let latest = format!("{}:latest", c.urn("warm"));
    reserve(&c, &latest, 2).unwrap();
    assert!(wait_until(Duration::from_secs(20), || live(
        &c, "warm", ":latest"
    ) == 2));
    std::thread::sleep(Duration::from_millis(1500));
    // Two requests at once land on the two reserved instances, started well before.
    let asked = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let outs: Vec<Value> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let c = s.client();
                let latest = latest.clone();
                scope.spawn(move || call(&c, &latest, json!({"sleep": 0.5})))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ids: HashSet<String> = outs
        .iter()
        .map(|o| o["instance"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{outs:?}");
    for o in &outs {
        assert!(
            o["started"].as_f64().unwrap() < asked - 1.0,
            "not pre-warmed: {o}"
        );
    }
    // Past the idle timeout they are still there.
    std::thread::sleep(Duration::from_secs(3));
    let again = call(&c, &latest, json!({}));
    assert!(ids.contains(again["instance"].as_str().unwrap()), "{again}");
    // One dies; it is replaced.
    let _ = c.invoke(&latest, br#"{"die": true}"#, &InvokeOptions::default());
    assert!(wait_until(Duration::from_secs(20), || live(
        &c, "warm", ":latest"
    ) == 2));
    // Count 0 removes the policy.
    reserve(&c, &latest, 0).unwrap();
    assert!(c
        .reserved_configs("warm")
        .unwrap()
        .reserved_instances
        .is_empty());
    let (ok, out, err) = s.cli(&["fn", "reserve", "warm", "--count", "1"]);
    assert!(ok, "{err}");
    assert!(out.contains(":latest"), "{out}");
}

#[test]
fn scheduled_policies_and_bad_input() {
    let s = Server::start(&[]);
    let c = s.client();
    create(
        &c,
        "sched",
        "Python3.9",
        "index.handler",
        &[("index.py", SRC, 0o644)],
    );
    let latest = format!("{}:latest", c.urn("sched"));
    let now = chrono::Utc::now().timestamp();
    let policy = |count: i64, cron: &str, n: i64| ReservedBody {
        count: Some(count),
        idle_mode: Some(true),
        tactics_config: Some(TacticsConfigBody {
            cron_configs: Some(vec![CronConfigBody {
                name: Some("busy-hours".into()),
                cron: Some(cron.into()),
                count: Some(n),
                start_time: Some(now - 60),
                expired_time: Some(now + 3600),
            }]),
            metric_configs: None,
        }),
    };
    let shown = c
        .set_reserved(&latest, &policy(1, "* * * * * ?", 3))
        .unwrap();
    assert_eq!(shown.count, Some(1));
    assert!(wait_until(Duration::from_secs(30), || live(
        &c, "sched", ":latest"
    ) == 3));
    let cfg = c.reserved_configs("sched").unwrap();
    assert_eq!(cfg.count, 1);
    let v = &cfg.reserved_instances[0];
    assert_eq!(
        (
            v.qualifier_type.as_str(),
            v.qualifier_name.as_str(),
            v.min_count
        ),
        ("version", "latest", 1)
    );
    assert_eq!(
        v.tactics_config.cron_configs.as_ref().unwrap()[0].count,
        Some(3)
    );

    // Bad input changes nothing.
    c.set_max_instances("sched", 4).unwrap();
    let bad = [
        ReservedBody {
            count: Some(-1),
            ..Default::default()
        },
        ReservedBody {
            count: Some(1001),
            ..Default::default()
        },
        ReservedBody {
            count: Some(5),
            ..Default::default()
        },
        ReservedBody {
            count: None,
            ..Default::default()
        },
        policy(2, "0 0 25 * * ?", 3),
        policy(2, "* * * * * ?", 1),
        ReservedBody {
            count: Some(1),
            idle_mode: None,
            tactics_config: Some(TacticsConfigBody {
                cron_configs: None,
                metric_configs: Some(vec![
                    json!({"name": "m", "type": "Concurrency", "threshold": 60, "min": 1}),
                ]),
            }),
        },
    ];
    for b in bad {
        let (status, _, msg) = api_err(c.set_reserved(&latest, &b));
        assert_eq!(status, 400, "{b:?}: {msg}");
    }
    assert_eq!(
        c.reserved_configs("sched").unwrap().reserved_instances[0].min_count,
        1
    );

    // A version and an alias of it cannot both have reserved instances.
    c.publish_version(
        "sched",
        &stratus_api_types::PublishBody {
            version: Some("v1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    c.create_alias(
        "sched",
        &stratus_api_types::AliasBody {
            name: Some("prod".into()),
            version: Some("v1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    reserve(&c, &format!("{}:v1", c.urn("sched")), 1).unwrap();
    let (status, _, msg) = api_err(reserve(&c, &format!("{}:!prod", c.urn("sched")), 1));
    assert_eq!(status, 400, "{msg}");
    let (status, _, _) = api_err(reserve(&c, &format!("{}:v9", c.urn("sched")), 1));
    assert_eq!(status, 404);
    assert!(wait_until(Duration::from_secs(20), || live(
        &c, "sched", ":v1"
    ) == 1));
    // Deleting the version drops its policy.
    c.delete_alias("sched", "prod").unwrap();
    c.delete_function(&format!("{}:v1", c.urn("sched")))
        .unwrap();
    assert_eq!(c.reserved_configs("sched").unwrap().count, 1);
}

/// Host pids of the instances of function `name` (found by the `RUNTIME_FUNC_NAME` in
/// their environment; the isolated backend hides host pids from the instance itself).
fn instance_pids(name: &str) -> Vec<u32> {
    let want = format!("RUNTIME_FUNC_NAME={name}");
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|v| v == want.as_bytes()) {
            out.push(pid);
        }
    }
    out
}

/// How the kernel sees `pid`: its `State:` line, and its cgroup freezer state when it is
/// in a freezer cgroup (v1 `freezer.state` or v2 `cgroup.events`).
fn frozen_state(pid: u32) -> (String, Option<bool>) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let state = status
        .lines()
        .find_map(|l| l.strip_prefix("State:"))
        .unwrap_or("")
        .trim()
        .to_string();
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mount_of = |kind: &str, opt: Option<&str>| {
        mounts.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 3 && f[2] == kind && opt.is_none_or(|o| f[3].split(',').any(|x| x == o)))
                .then(|| f[1].to_string())
        })
    };
    let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let mut cg = None;
    for line in groups.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctl, path) = (
            parts.next(),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        if !path.starts_with("/stratus/") {
            continue;
        }
        if ctl == "freezer" {
            if let Some(m) = mount_of("cgroup", Some("freezer")) {
                let s =
                    std::fs::read_to_string(format!("{m}{path}/freezer.state")).unwrap_or_default();
                cg = Some(s.trim() == "FROZEN");
            }
        } else if ctl.is_empty() && cg.is_none() {
            if let Some(m) = mount_of("cgroup2", None) {
                if let Ok(s) = std::fs::read_to_string(format!("{m}{path}/cgroup.events")) {
                    cg = Some(s.lines().any(|l| l.trim() == "frozen 1"));
                }
            }
        }
    }
    (state, cg)
}

fn is_frozen(pid: u32) -> bool {
    let (state, cg) = frozen_state(pid);
    cg.unwrap_or(false) || state.starts_with('T')
}

fn idle_mode_case(backend: &[&str], tag: &str) {
    let s = Server::start(backend);
    let c = s.client();
    let name = format!("idle{tag}{}", std::process::id());
    create(
        &c,
        &name,
        "Python3.9",
        "index.handler",
        &[("index.py", SRC, 0o644)],
    );
    let latest = format!("{}:latest", c.urn(&name));
    let policy = |idle: bool| ReservedBody {
        count: Some(1),
        idle_mode: Some(idle),
        tactics_config: None,
    };
    c.set_reserved(&latest, &policy(true)).unwrap();
    assert!(wait_until(Duration::from_secs(20), || live(
        &c, &name, ":latest"
    ) == 1));
    let pids = instance_pids(&name);
    assert!(!pids.is_empty(), "{tag}: no instance process found");
    assert!(
        wait_until(Duration::from_secs(10), || pids
            .iter()
            .all(|p| is_frozen(*p))),
        "{tag}: idle reserved instance not frozen: {:?}",
        pids.iter().map(|p| frozen_state(*p)).collect::<Vec<_>>()
    );
    eprintln!(
        "{tag}: idle reserved instance, kernel view: {:?}",
        frozen_state(pids[0])
    );
    // Requests still succeed, on the same (thawed) instance, which freezes again after.
    let first = call(&c, &latest, json!({}));
    let mut took = Vec::new();
    for _ in 0..10 {
        assert!(wait_until(Duration::from_secs(10), || is_frozen(pids[0])));
        let t = std::time::Instant::now();
        let out = call(&c, &latest, json!({}));
        took.push(t.elapsed());
        assert_eq!(out["instance"], first["instance"], "{tag}: {out}");
    }
    took.sort();
    eprintln!(
        "{tag}: invoke of a frozen reserved instance (thaw included), client-side p50 {:?}",
        took[took.len() / 2]
    );
    assert!(wait_until(Duration::from_secs(10), || is_frozen(pids[0])));

    // Idle mode off: the instance is thawed and stays running between requests.
    c.set_reserved(&latest, &policy(false)).unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || !is_frozen(pids[0])),
        "{tag}: still frozen after idle mode was turned off"
    );
    let out = call(&c, &latest, json!({}));
    assert_eq!(out["instance"], first["instance"], "{tag}: {out}");
    let mut warm = Vec::new();
    for _ in 0..10 {
        let t = std::time::Instant::now();
        call(&c, &latest, json!({}));
        warm.push(t.elapsed());
    }
    warm.sort();
    eprintln!(
        "{tag}: invoke of a running reserved instance, client-side p50 {:?}",
        warm[warm.len() / 2]
    );
    std::thread::sleep(Duration::from_millis(1500));
    for p in &pids {
        assert!(
            !is_frozen(*p),
            "{tag}: frozen without idle mode: {:?}",
            frozen_state(*p)
        );
    }
    // Deleting the function kills the (possibly frozen) instance cleanly.
    c.set_reserved(&latest, &policy(true)).unwrap();
    assert!(wait_until(Duration::from_secs(10), || is_frozen(pids[0])));
    c.delete_function(&c.urn(&name)).unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || instance_pids(&name).is_empty()),
        "{tag}: frozen instance survived its function"
    );
}

#[test]
fn idle_mode_freezes_idle_reserved_instances() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIP idle_mode_freezes_idle_reserved_instances: reading other processes' environment needs root");
        return;
    }
    idle_mode_case(&[], "iso");
    idle_mode_case(&["--sandbox", "process"], "proc");
}
