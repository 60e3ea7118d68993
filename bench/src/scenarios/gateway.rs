//! `gateway`: gateway → event function → response, next to a direct invoke of the same
//! function in the same run.
//!
//! The function is the C no-op custom runtime answering the APIG response shape
//! (`NOOP_RESULT`), so the gateway's own work (routing, the APIG event, parsing the
//! response shape) is what separates the rows. Three cases: the signed invoke API
//! (`POST …/invocations`, v1 envelope), the gateway with no authentication, and the
//! gateway with App authentication (signed with an AppKey/AppSecret, as an SDK would).
//! At concurrency 1 the cases run in interleaved rounds, pooled; at 64 once each.

use crate::client::{Signed, Signer};
use crate::ctx::Ctx;
use crate::load::{Answer, Body, Run, Target};
use crate::report::{fmt_ns, Row, Table};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use std::sync::Arc;
use stratus_api_types::{AppBody, TriggerBody};

const NAME: &str = "gw-custom";
const RESULT: &str = r#"{"statusCode":200,"headers":{"content-type":"text/plain"},"body":"ok","isBase64Encoded":false}"#;
/// What the gateway may add to the p50 of the invoke API.
const TARGET_EXTRA_NS: i64 = 100_000;
/// Requests one instance serves at once (so c=64 needs one instance).
const PER_INSTANCE: i64 = 64;

/// A request to a published API; `app` signs it with an AppKey/AppSecret.
struct Gateway {
    host: String,
    path: String,
    app: Option<(String, String)>,
}

impl Target for Gateway {
    fn request(&self) -> Request<Body> {
        let body = Bytes::from_static(b"{}");
        let mut b = Request::builder()
            .method("POST")
            .uri(&self.path)
            .header("Host", &self.host)
            .header("Content-Type", "application/json");
        if let Some((key, secret)) = &self.app {
            let date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
            let headers = [
                ("Content-Type", "application/json"),
                ("Host", self.host.as_str()),
                ("X-Sdk-Date", date.as_str()),
            ];
            let raw = stratus_sign::RawRequest {
                method: "POST",
                path: &self.path,
                query: None,
                headers: &headers,
                body: &body,
            };
            let auth = stratus_sign::sign(&raw, key, secret).unwrap_or_default();
            b = b.header("X-Sdk-Date", date).header("Authorization", auth);
        }
        b.body(Full::new(body))
            .unwrap_or_else(|_| Request::new(Full::new(Bytes::new())))
    }

    fn check(&self, a: &Answer) -> Result<(), String> {
        if a.status == hyper::StatusCode::OK && a.body.as_ref() == b"ok" {
            return Ok(());
        }
        let body = String::from_utf8_lossy(&a.body);
        let cut: String = body.chars().take(300).collect();
        Err(format!("HTTP {}: {cut}", a.status.as_u16()))
    }
}

fn deploy(ctx: &Ctx, client: &stratus_client::Client) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut body = ctx
        .tools
        .function_body(NAME, crate::fixtures::Lang::Custom, PER_INSTANCE);
    body.user_data = Some(serde_json::json!({ "NOOP_RESULT": RESULT }).to_string());
    client
        .create_function(&body, |_, _| {})
        .with_context(|| format!("create function {NAME}"))?;
    let (env, _) = client
        .invoke(NAME, b"{}", &stratus_client::InvokeOptions::default())
        .with_context(|| format!("invoke {NAME}"))?;
    anyhow::ensure!(
        env.status == 200 && env.result == RESULT,
        "invoke {NAME}: expected the APIG response, got status {} and {:?}",
        env.status,
        env.result
    );
    Ok(())
}

fn publish(client: &stratus_client::Client, path: &str, auth: &str) -> anyhow::Result<String> {
    let t = client.create_trigger(
        NAME,
        &TriggerBody {
            trigger_type_code: Some("APIG".into()),
            trigger_status: Some("ACTIVE".into()),
            event_type_code: None,
            event_data: Some(serde_json::json!({"path": path, "req_method": "POST", "auth": auth})),
        },
    )?;
    let url = t.event_data["invoke_url"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the trigger has no invoke_url: {:?}", t.event_data))?;
    // The path part of http://host:port/group/path.
    let rest = url.splitn(4, '/').nth(3).unwrap_or_default();
    Ok(format!("/{rest}"))
}

pub fn run(ctx: &Ctx) -> anyhow::Result<Table> {
    let mut t = Table::new(
        "gateway — API gateway trigger vs the invoke API, same function",
        "POST of `{}` to an APIG trigger's URL (no auth, and App auth signed with an AppKey/AppSecret) on a keep-alive connection, against a signed POST …/invocations (v1 envelope) of the same no-op custom-runtime function returning the APIG response shape; the instance is already running and takes 64 requests at once. Ratios: vs the invoke API at the same concurrency.",
    );
    let server = ctx.server()?;
    let client = server.client();
    let signer: Signer = server.signer();
    deploy(ctx, &client)?;
    let open_path = publish(&client, "/bench", "NONE")?;
    let app_path = publish(&client, "/bench-app", "APP")?;
    let app = client.create_app(&AppBody {
        name: Some("bench".into()),
        remark: None,
    })?;
    let secret = app
        .app_secret
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the new app has no secret"))?;
    let host = server.gateway.to_string();
    let cases: Vec<(&str, Arc<dyn Target>, std::net::SocketAddr)> = vec![
        (
            "invoke API (signed)",
            Arc::new(Signed::invoke(&signer, NAME)),
            server.addr,
        ),
        (
            "gateway, auth NONE",
            Arc::new(Gateway {
                host: host.clone(),
                path: open_path,
                app: None,
            }),
            server.gateway,
        ),
        (
            "gateway, auth APP (signed)",
            Arc::new(Gateway {
                host,
                path: app_path,
                app: Some((app.app_key.clone(), secret)),
            }),
            server.gateway,
        ),
    ];

    let rounds = ctx.pick(3, 1);
    let mut pooled: Vec<Option<Run>> = cases.iter().map(|_| None).collect();
    for _ in 0..rounds {
        for (i, (_, target, addr)) in cases.iter().enumerate() {
            let r = ctx.closed(*addr, target.clone(), 1, ctx.window(0.2, 1.0))?;
            match &mut pooled[i] {
                Some(p) => p.merge(&r),
                slot => *slot = Some(r),
            }
        }
    }
    let mut at64 = Vec::new();
    for (_, target, addr) in &cases {
        at64.push(ctx.closed(*addr, target.clone(), 64, ctx.window(0.3, 1.5))?);
    }

    let mut base = 0;
    for (i, ((label, _, _), run)) in cases.iter().zip(pooled).enumerate() {
        let Some(run) = run else { continue };
        let row = Row::new(*label, format!("closed c=1, {rounds} rounds"), &run);
        if i == 0 {
            base = t.push(row);
        } else {
            t.push(row.vs(base));
        }
    }
    let mut base64 = 0;
    for (i, ((label, _, _), run)) in cases.iter().zip(&at64).enumerate() {
        let row = Row::new(*label, "closed c=64", run);
        if i == 0 {
            base64 = t.push(row);
        } else {
            t.push(row.vs_throughput(base64));
        }
    }

    for (c, b) in [(1, base), (64, base64)] {
        let invoke = t.row(b).p50();
        let gateway = t.row(b + 1).p50();
        let extra = gateway as i64 - invoke as i64;
        t.target(
            &format!("gateway (auth NONE) p50 minus invoke API p50, c={c}"),
            if extra < 0 {
                format!("−{}", fmt_ns(extra.unsigned_abs()))
            } else {
                format!("+{}", fmt_ns(extra as u64))
            },
            format!("≤ +{}", fmt_ns(TARGET_EXTRA_NS as u64)),
            invoke > 0 && gateway > 0 && extra <= TARGET_EXTRA_NS,
        );
    }
    t.notes.push(
        "the invoke API authenticates every call (HMAC and an access-key lookup); the NONE row does neither, the APP row does the same work with an app key".into(),
    );
    t.notes.push(format!(
        "processes under the server after the runs: {}",
        server.process_summary()
    ));
    t.notes.extend(crate::scenarios::server_notes(&server));
    Ok(t)
}
