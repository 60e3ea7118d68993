//! The official Python SDK (`huaweicloudsdkfunctiongraph`) against the real binary.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::process::Command;

fn sdk_python() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import huaweicloudsdkfunctiongraph"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

fn run_script(server: &Server, script: &std::path::Path) -> (bool, String) {
    let Some(python) = sdk_python() else {
        // .ci/run installs the SDK; without it this check cannot run.
        panic!(
            "huaweicloudsdkfunctiongraph is not installed: pip install huaweicloudsdkfunctiongraph"
        );
    };
    let out = Command::new(python)
        .arg(script)
        .env("FGS_ENDPOINT", &server.endpoint)
        .env("FGS_AK", AK)
        .env("FGS_SK", SK)
        .env("FGS_PROJECT_ID", PROJECT)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn official_sdk_manages_and_invokes_functions() {
    let s = Server::start(&[]);
    let script = repo_root().join("crates/stratus/tests/sdk/functions_sdk.py");
    let (ok, out) = run_script(&s, &script);
    assert!(ok, "{out}\nserver log:\n{}", s.stderr.lock().unwrap());
}

#[test]
fn official_sdk_drives_asynchronous_invocation() {
    let s = Server::start(&[]);
    let script = repo_root().join("crates/stratus/tests/sdk/async_sdk.py");
    let (ok, out) = run_script(&s, &script);
    assert!(ok, "{out}\nserver log:\n{}", s.stderr.lock().unwrap());
}

#[test]
fn official_sdk_manages_versions_and_aliases() {
    let s = Server::start(&[]);
    let script = repo_root().join("crates/stratus/tests/sdk/versions_sdk.py");
    let (ok, out) = run_script(&s, &script);
    assert!(ok, "{out}\nserver log:\n{}", s.stderr.lock().unwrap());
}

#[test]
fn official_sdk_manages_timer_triggers() {
    let s = Server::start(&[]);
    let script = repo_root().join("crates/stratus/tests/sdk/triggers_sdk.py");
    let (ok, out) = run_script(&s, &script);
    assert!(ok, "{out}\nserver log:\n{}", s.stderr.lock().unwrap());
}

#[test]
fn official_sdk_manages_api_gateway_triggers() {
    let s = Server::start(&[]);
    let script = repo_root().join("crates/stratus/tests/sdk/apig_sdk.py");
    let (ok, out) = run_script(&s, &script);
    assert!(ok, "{out}\nserver log:\n{}", s.stderr.lock().unwrap());
}

/// The shared conformance flow, when the checkout sits next to it (`../shared`); a clean
/// clone elsewhere has no copy, and the test says so instead of failing.
#[test]
fn shared_conformance_smoke_flow() {
    let script = repo_root().join("../shared/conformance/sdk_smoke.py");
    if !script.exists() {
        eprintln!("skipped: {} is not next to this checkout", script.display());
        return;
    }
    let s = Server::start(&[]);
    let (ok, out) = run_script(&s, &script);
    assert!(ok, "{out}\nserver log:\n{}", s.stderr.lock().unwrap());
    assert!(out.contains(" 0 failed"), "{out}");
}

#[test]
fn official_sdk_manages_test_events() {
    let s = Server::start(&[]);
    let script = repo_root().join("crates/stratus/tests/sdk/test_events_sdk.py");
    let (ok, out) = run_script(&s, &script);
    assert!(ok, "{out}\nserver log:\n{}", s.stderr.lock().unwrap());
}

#[test]
fn official_sdk_manages_dependency_versions() {
    let s = Server::start(&[]);
    let script = repo_root().join("crates/stratus/tests/sdk/dependencies_sdk.py");
    let (ok, out) = run_script(&s, &script);
    assert!(ok, "{out}\nserver log:\n{}", s.stderr.lock().unwrap());
}

#[test]
fn official_sdk_manages_reserved_instances() {
    let s = Server::start(&[]);
    let script = repo_root().join("crates/stratus/tests/sdk/reserved_sdk.py");
    let (ok, out) = run_script(&s, &script);
    assert!(ok, "{out}\nserver log:\n{}", s.stderr.lock().unwrap());
}
