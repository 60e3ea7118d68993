//! `warm`: a synchronous invoke of a no-op function whose instance is already running,
//! end to end through the signed API, compared with the bare loopback round trip.
//!
//! The bare round trip and the three runtimes are measured in interleaved rounds (closed
//! loop, concurrency 1) and the rounds are pooled. Extra rows: the same call through the
//! blocking `stratus-client` (what the CLI uses), and the custom runtime under open-loop
//! load at two fixed rates.

use crate::client::Signed;
use crate::ctx::Ctx;
use crate::floor::Floor;
use crate::load::{self, Run, Target};
use crate::report::{fmt_ns, Row, Table};
use crate::scenarios::deploy;
use std::sync::Arc;

const TARGET_P50_NS: u64 = 500_000;

pub fn run(ctx: &Ctx) -> anyhow::Result<Table> {
    let mut t = Table::new(
        "warm — warm synchronous invoke of a no-op function",
        "POST …/invocations (signed, v1 envelope, event `{}`) on a keep-alive connection, one request at a time, instance already running (1 request per instance). Ratio: vs the bare loopback round trip measured in the same interleaved rounds.",
    );
    let server = ctx.server()?;
    let client = server.client();
    let signer = server.signer();
    let mut langs = Vec::new();
    for lang in ctx.tools.langs() {
        match deploy(ctx, &client, &format!("warm-{}", lang.label()), lang, 1) {
            Ok(()) => langs.push(lang),
            Err(e) => t.failed(format!("{} skipped: {e:#}", lang.label())),
        }
    }
    let floor = Floor::start()?;
    let mut cases: Vec<(String, Arc<dyn Target>, std::net::SocketAddr)> = vec![(
        "bare loopback round trip".into(),
        Arc::new(floor.target()),
        floor.addr,
    )];
    for lang in &langs {
        cases.push((
            format!("warm invoke: {}", lang.label()),
            Arc::new(Signed::invoke(&signer, &format!("warm-{}", lang.label()))),
            server.addr,
        ));
    }
    let rounds = ctx.pick(3, 1);
    let mut pooled: Vec<Option<Run>> = cases.iter().map(|_| None).collect();
    for _ in 0..rounds {
        for (i, (_, target, addr)) in cases.iter().enumerate() {
            let measure = if i == 0 { 0.6 } else { 1.0 };
            let r = ctx.closed(*addr, target.clone(), 1, ctx.window(0.1, measure))?;
            match &mut pooled[i] {
                Some(p) => p.merge(&r),
                slot => *slot = Some(r),
            }
        }
    }
    let mut base = 0;
    for (i, ((label, _, _), run)) in cases.iter().zip(pooled).enumerate() {
        let Some(run) = run else { continue };
        let row = Row::new(label.clone(), format!("closed c=1, {rounds} rounds"), &run);
        if i == 0 {
            base = t.push(row);
        } else {
            t.push(row.vs(base));
        }
    }

    t.notes.extend(crate::scenarios::bimodal_note(&t, base));
    if !langs.contains(&crate::fixtures::Lang::Custom) {
        t.notes.extend(crate::scenarios::server_notes(&server));
        return Ok(t);
    }
    // The blocking client the CLI uses (ureq; signs with the same crate).
    let name = "warm-custom";
    let r = load::closed_blocking(ctx.window(0.1, 1.0), || {
        client
            .invoke(name, b"{}", &stratus_client::InvokeOptions::default())
            .map_err(|e| e.to_string())
            .and_then(|(env, _)| {
                if env.status == 200 {
                    Ok(())
                } else {
                    Err(format!("status {}: {}", env.status, env.result))
                }
            })
    });
    t.push(
        Row::new(
            "warm invoke: custom via stratus-client (blocking)",
            "closed c=1",
            &r,
        )
        .vs(base),
    );

    // Open loop: latency at a given offered load, queueing included.
    let custom: Arc<dyn Target> = Arc::new(Signed::invoke(&signer, name));
    for rate in ctx.pick(vec![500.0, 2000.0], vec![200.0]) {
        let r = ctx.open(server.addr, custom.clone(), rate, 64, ctx.window(0.3, 1.5))?;
        t.push(Row::new("warm invoke: custom", format!("open {rate:.0}/s"), &r).vs(base));
    }

    t.notes.push(format!(
        "processes under the server after the open-loop rows: {}",
        server.process_summary()
    ));
    let measured: Vec<(String, u64)> = t
        .rows
        .iter()
        .filter(|r| r.mode.starts_with("closed c=1,") && r.case.starts_with("warm invoke"))
        .map(|r| {
            (
                r.case.trim_start_matches("warm invoke: ").to_string(),
                r.p50(),
            )
        })
        .collect();
    for (label, p50) in measured {
        t.target(
            &format!("warm no-op p50 end to end, {label}"),
            fmt_ns(p50),
            format!("≤ {}", fmt_ns(TARGET_P50_NS)),
            p50 > 0 && p50 <= TARGET_P50_NS,
        );
    }
    t.notes.push(
        "open-loop rows: the function allows 1 request per instance, so bursts start extra instances; latency counts from the due time"
            .into(),
    );
    t.notes.extend(crate::scenarios::server_notes(&server));
    Ok(t)
}
