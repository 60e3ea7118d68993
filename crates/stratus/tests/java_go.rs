//! End-to-end tests of the Java (Java8/Java11) and Go (Go1.x) runtimes against the
//! compiled binary: a Go function built with the host `go` against the shipped SDK in
//! `runtimes/go`, a Java function compiled with the host `javac` against the shipped
//! `com.huawei.services.runtime` classes. Tests whose toolchain is missing say so and
//! return.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use stratus_api_types::{FuncCode, FunctionBody, InvokeResponseV1};
use stratus_client::{Answer, Client, InvokeOptions};

const WITH_LOG: InvokeOptions = InvokeOptions {
    log: true,
    memory: None,
};

fn skip(test: &str, why: &str) {
    let _ =
        std::io::stderr().write_all(format!("\n******** SKIP {test}: {why} ********\n").as_bytes());
}

fn tool_works(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn body(name: &str, runtime: &str, handler: &str, code_type: &str, pkg: &[u8]) -> FunctionBody {
    FunctionBody {
        func_name: Some(name.into()),
        package: Some("default".into()),
        runtime: Some(runtime.into()),
        handler: Some(handler.into()),
        memory_size: Some(256),
        timeout: Some(15),
        code_type: Some(code_type.into()),
        code_filename: Some(format!("index.{code_type}")),
        func_code: Some(FuncCode {
            file: Some(b64(pkg)),
            link: None,
        }),
        user_data: Some(r#"{"GREETING":"hello"}"#.into()),
        ..Default::default()
    }
}

/// Invokes on a helper thread so a hung platform fails the test instead of stalling it.
fn call(c: &Client, name: &str, event: &Value) -> (InvokeResponseV1, Answer) {
    let client = Client::new(c.credentials().clone());
    let (target, event) = (name.to_string(), event.to_string().into_bytes());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(client.invoke(&target, &event, &WITH_LOG));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("invoking {name} got no answer"))
        .unwrap_or_else(|e| panic!("invoking {name} failed: {e}"))
}

fn is_func_err(a: &Answer) -> bool {
    a.header("x-is-func-err") == Some("true")
}

fn result_json(r: &InvokeResponseV1) -> Value {
    serde_json::from_str(&r.result)
        .unwrap_or_else(|e| panic!("result is not JSON ({e}): {:?}", r.result))
}

// ------------------------------------------------------------------------------------
// Go

const GO_MAIN: &str = r#"package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"huaweicloud.com/go-runtime/go-api/context"
	"huaweicloud.com/go-runtime/pkg/runtime"
)

var instance = fmt.Sprintf("%d", os.Getpid())

type event struct {
	Name string `json:"name"`
	Fail bool   `json:"fail"`
}

func handler(payload []byte, ctx context.RuntimeContext) (interface{}, error) {
	var ev event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	if ev.Fail {
		return "ignored", errors.New("cannot greet " + ev.Name)
	}
	ctx.GetLogger().Logf("greeting %s", ev.Name)
	fmt.Println("plain line from go")
	return map[string]interface{}{
		"message":   ctx.GetUserData("GREETING") + " " + ev.Name,
		"requestId": ctx.GetRequestID(),
		"function":  ctx.GetFunctionName(),
		"remaining": ctx.GetRemainingTimeInMilliSeconds(),
		"instance":  instance,
	}, nil
}

func main() { runtime.Register(handler) }
"#;

/// Builds the Go function offline against `runtimes/go` and returns the binary.
fn build_go(dir: &Path) -> PathBuf {
    let sdk = repo_root().join("runtimes/go").canonicalize().unwrap();
    let go_mod = format!(
        "module example.com/greeter\n\ngo 1.19\n\nrequire huaweicloud.com/go-runtime v0.0.0\n\nreplace huaweicloud.com/go-runtime => {}\n",
        sdk.display()
    );
    std::fs::write(dir.join("go.mod"), go_mod).unwrap();
    std::fs::write(dir.join("main.go"), GO_MAIN).unwrap();
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("java-go-gocache");
    let out = dir.join("handler");
    let res = Command::new("go")
        .args(["build", "-trimpath", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(dir)
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GO111MODULE", "on")
        .env("GOCACHE", cache.join("build"))
        .env("GOPATH", cache.join("path"))
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "go build failed: {}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    out
}

#[test]
fn go_function_built_with_the_shipped_sdk() {
    if !tool_works("go", "version") {
        skip(
            "go_function_built_with_the_shipped_sdk",
            "`go` is not on PATH (install golang-go)",
        );
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let binary = std::fs::read(build_go(work.path())).unwrap();
    let pkg = stratus_package::zip_files(&[("handler".to_string(), binary, 0o755)]).unwrap();

    let s = Server::start(&[]);
    let c = s.client();
    c.create_function(&body("greeter", "Go1.x", "handler", "zip", &pkg), |_, _| {})
        .unwrap();

    let (r, a) = call(&c, "greeter", &json!({"name": "gopher"}));
    assert!(!is_func_err(&a), "{r:?}");
    assert_eq!(r.status, 200, "{r:?}");
    let out = result_json(&r);
    assert_eq!(out["message"], json!("hello gopher"), "{out}");
    assert_eq!(out["requestId"], json!(r.request_id), "{out}");
    assert_eq!(out["function"], json!("greeter"), "{out}");
    let remaining = out["remaining"].as_i64().unwrap();
    assert!(remaining > 0 && remaining <= 15_000, "{out}");
    assert!(r.log.contains("greeting gopher"), "{}", r.log);
    assert!(r.log.contains("plain line from go"), "{}", r.log);

    // Warm: the same process answers again.
    let (r2, a2) = call(&c, "greeter", &json!({"name": "again"}));
    assert!(!is_func_err(&a2), "{r2:?}");
    let out2 = result_json(&r2);
    assert_eq!(out2["message"], json!("hello again"), "{out2}");
    assert_eq!(out2["instance"], out["instance"], "not warm: {out} {out2}");
    assert_ne!(out2["requestId"], out["requestId"]);

    // A returned error is a function error with the runtimes' JSON shape.
    let (r3, a3) = call(&c, "greeter", &json!({"name": "nobody", "fail": true}));
    assert!(is_func_err(&a3), "{r3:?}");
    let e = result_json(&r3);
    assert_eq!(e["errorType"], json!("FunctionReturnError"), "{e}");
    assert!(
        e["errorMessage"]
            .as_str()
            .unwrap()
            .contains("cannot greet nobody"),
        "{e}"
    );
    // The instance survives the error.
    let (r4, a4) = call(&c, "greeter", &json!({"name": "after"}));
    assert!(!is_func_err(&a4), "{r4:?}");
    assert_eq!(result_json(&r4)["instance"], out["instance"]);

    // A handler that names no executable in the package is a clear function error.
    c.create_function(&body("nobin", "Go1.x", "missing", "zip", &pkg), |_, _| {})
        .unwrap();
    let (r5, a5) = call(&c, "nobin", &json!({}));
    assert!(is_func_err(&a5), "{r5:?}");
    assert!(r5.result.contains("missing"), "{r5:?}");
    assert_eq!(a5.header("x-func-err-code"), Some("4202"), "{r5:?}");
}

// ------------------------------------------------------------------------------------
// Java

const JAVA_SRC: &str = r#"package com.example;

import com.huawei.services.runtime.Context;
import java.util.LinkedHashMap;
import java.util.Map;

public class Greeter {
    public static class Person {
        private String name;
        public String getName() { return name; }
    }

    public Map<String, Object> handle(Person event, Context context) {
        context.getLogger().log("greeting " + event.getName());
        System.out.println("plain line from java");
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        out.put("message", context.getUserData("GREETING") + " " + event.getName());
        out.put("requestId", context.getRequestID());
        out.put("remaining", context.getRemainingTimeInMilliSeconds());
        out.put("function", context.getFunctionName());
        return out;
    }

    public String fail(String event, Context context) {
        throw new IllegalStateException("refusing " + event);
    }
}
"#;

/// Compiles the shipped API and the test function with the host javac; returns the jar.
fn build_java(dir: &Path) -> Vec<u8> {
    let mut sources = Vec::new();
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "java") {
                out.push(p);
            }
        }
    }
    walk(&repo_root().join("runtimes/java/src"), &mut sources);
    let sdk = dir.join("sdk");
    let res = Command::new("javac")
        .args(["--release", "8", "-nowarn", "-encoding", "UTF-8", "-d"])
        .arg(&sdk)
        .args(&sources)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let src = dir.join("src/com/example");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("Greeter.java"), JAVA_SRC).unwrap();
    let classes = dir.join("classes");
    let res = Command::new("javac")
        .args(["--release", "8", "-nowarn", "-cp"])
        .arg(&sdk)
        .arg("-d")
        .arg(&classes)
        .arg(src.join("Greeter.java"))
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    // A jar is a zip; the function's classes only, as the guide asks.
    let mut files = Vec::new();
    for name in ["Greeter.class", "Greeter$Person.class"] {
        let bytes = std::fs::read(classes.join("com/example").join(name)).unwrap();
        files.push((format!("com/example/{name}"), bytes, 0o644));
    }
    stratus_package::zip_files(&files).unwrap()
}

#[test]
fn java_function_with_the_context_interface() {
    if !tool_works("javac", "-version") || !tool_works("java", "-version") {
        skip(
            "java_function_with_the_context_interface",
            "`java`/`javac` is not on PATH (install default-jdk-headless)",
        );
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let jar = build_java(work.path());

    let s = Server::start(&[]);
    let c = s.client();
    c.create_function(
        &body(
            "greeter",
            "Java11",
            "com.example.Greeter.handle",
            "jar",
            &jar,
        ),
        |_, _| {},
    )
    .unwrap();
    let (r, a) = call(&c, "greeter", &json!({"name": "duke"}));
    assert!(!is_func_err(&a), "{r:?}");
    assert_eq!(r.status, 200, "{r:?}");
    let out = result_json(&r);
    assert_eq!(out["message"], json!("hello duke"), "{out}");
    assert_eq!(out["requestId"], json!(r.request_id), "{out}");
    assert_eq!(out["function"], json!("greeter"), "{out}");
    let remaining = out["remaining"].as_i64().unwrap();
    assert!(remaining > 0 && remaining <= 15_000, "{out}");
    assert!(r.log.contains("greeting duke"), "{}", r.log);
    assert!(r.log.contains("plain line from java"), "{}", r.log);

    // Warm call.
    let (r2, a2) = call(&c, "greeter", &json!({"name": "again"}));
    assert!(!is_func_err(&a2), "{r2:?}");
    assert_eq!(result_json(&r2)["message"], json!("hello again"));

    // A thrown exception, from a zip holding the jar under lib/.
    let zip_of_jar =
        stratus_package::zip_files(&[("lib/greeter.jar".to_string(), jar.clone(), 0o644)]).unwrap();
    c.create_function(
        &body(
            "fails",
            "Java8",
            "com.example.Greeter.fail",
            "zip",
            &zip_of_jar,
        ),
        |_, _| {},
    )
    .unwrap();
    let (r3, a3) = call(&c, "fails", &json!("x"));
    assert!(is_func_err(&a3), "{r3:?}");
    let e = result_json(&r3);
    assert_eq!(
        e["errorType"],
        json!("java.lang.IllegalStateException"),
        "{e}"
    );
    assert!(
        e["errorMessage"].as_str().unwrap().contains("refusing"),
        "{e}"
    );

    // A class that is not in the package.
    c.create_function(
        &body(
            "noclass",
            "Java11",
            "com.example.Missing.handle",
            "jar",
            &jar,
        ),
        |_, _| {},
    )
    .unwrap();
    let (r4, a4) = call(&c, "noclass", &json!({}));
    assert!(is_func_err(&a4), "{r4:?}");
    assert!(r4.result.contains("com.example.Missing"), "{r4:?}");
    assert_eq!(a4.header("x-func-err-code"), Some("4001"), "{r4:?}");
}
