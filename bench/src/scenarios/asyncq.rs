//! `async`: durable acceptance of asynchronous invocations and the drain rate.
//!
//! * Baseline: single 4 KB write + fsync in a loop on the file system of the server's data
//!   directory: one writer committing each request on its own could do no better.
//! * Accept: signed `POST …/invocations-async` in a closed loop at concurrency 1, 16 and
//!   64; every 202 means the event is committed (group commit shares the fsyncs). The
//!   target function's one instance is kept busy by a sleeping event, so the queue only
//!   grows and the rows measure acceptance, not execution competing for the two CPUs.
//! * Drain: wall time from the first of N accepted events to the last SUCCESS record of a
//!   no-op custom-runtime function.

use crate::client::Signed;
use crate::ctx::Ctx;
use crate::fixtures::Lang;
use crate::load::{Conn, Run, Samples, Target};
use crate::report::{fmt_ns, fmt_rate, Row, Table};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCEPT_TARGET: f64 = 10_000.0;
const P99_TARGET: Duration = Duration::from_millis(5);

fn fsync_loop(dir: &std::path::Path, measure: Duration) -> anyhow::Result<Run> {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path)?;
    let block = vec![7u8; 4096];
    let mut s = Samples::new();
    let end = Instant::now() + measure;
    while Instant::now() < end {
        let t0 = Instant::now();
        f.write_all(&block)?;
        f.sync_data()?;
        s.ok(t0.elapsed());
    }
    drop(f);
    let _ = std::fs::remove_file(&path);
    Ok(s.finish())
}

fn successes(client: &stratus_client::Client, name: &str) -> anyhow::Result<usize> {
    Ok(client
        .async_invocations(name, &[("status", "SUCCESS".into()), ("limit", "1".into())])?
        .count)
}

const PARKED: &str = "async-parked";

/// A Python function allowed one instance, which the first event keeps asleep for the
/// rest of the scenario.
fn park(ctx: &Ctx, client: &stratus_client::Client) -> anyhow::Result<()> {
    let mut body = ctx.tools.function_body(PARKED, Lang::Python, 1);
    let src = "import time\ndef handler(event, context):\n    time.sleep(120)\n    return 'ok'\n";
    let zip = stratus_package::zip_files(&[("index.py", src.as_bytes(), 0o644)])?;
    body.timeout = Some(300);
    if let Some(code) = body.func_code.as_mut() {
        code.file = Some(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            zip,
        ));
    }
    client.create_function(&body, |_, _| {})?;
    client.set_max_instances(PARKED, 1)?;
    client.invoke_async(PARKED, b"{}")?;
    // Wait until that event holds the instance.
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        let running = client
            .async_invocations(PARKED, &[("status", "RUNNING".into())])?
            .count;
        if running == 1 {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    anyhow::bail!("the parking event did not start within 30 s")
}

/// Sends exactly `n` requests over `concurrency` keep-alive connections; returns how
/// many were answered as expected.
async fn send_n(
    addr: std::net::SocketAddr,
    target: Arc<dyn Target>,
    concurrency: usize,
    n: usize,
) -> anyhow::Result<usize> {
    let left = Arc::new(AtomicUsize::new(n));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (left, target) = (left.clone(), target.clone());
        tasks.spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut ok = 0usize;
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1))
                .is_ok()
            {
                let a = conn.send(target.request()).await?;
                if target.check(&a).is_ok() {
                    ok += 1;
                }
            }
            anyhow::Ok(ok)
        });
    }
    let mut total = 0;
    while let Some(r) = tasks.join_next().await {
        total += r??;
    }
    Ok(total)
}

pub fn run(ctx: &Ctx) -> anyhow::Result<Table> {
    let mut t = Table::new(
        "async — durable accept and drain",
        "Accept: signed POST …/invocations-async, closed loop, each 202 after the event is committed (fsync). Baseline: one 4 KB write+fsync at a time on the same file system. Drain: N events of a no-op custom function from the first accept to the last SUCCESS. Ratios are throughput vs the fsync loop.",
    );
    let server = ctx.server()?;
    let client = server.client();
    super::deploy(ctx, &client, "async-sink", Lang::Custom, 100)?;
    park(ctx, &client)?;
    let signer = server.signer();

    let fsync = fsync_loop(&server.data_dir(), ctx.window(0.0, 1.0).measure)?;
    let base = t.push(Row::new("4 KB write + fsync", "1 writer", &fsync));

    let parked = Arc::new(Signed::invoke_async(&signer, PARKED));
    let mut best: Option<(f64, u64)> = None;
    for c in [1usize, 16, 64] {
        let r = ctx.closed(server.addr, parked.clone(), c, ctx.window(0.2, 1.0))?;
        let rate = r.throughput();
        let p99 = r.hist.value_at_quantile(0.99);
        if c == 64 {
            best = Some((rate, p99));
        }
        t.push(Row::new("accept async", format!("closed c={c}"), &r).vs_throughput(base));
    }

    // The target is a rate with a latency bound: offer it open-loop.
    let r = ctx.open(
        server.addr,
        parked.clone(),
        ACCEPT_TARGET,
        256,
        ctx.window(0.3, 1.5),
    )?;
    let open_p99 = r.hist.value_at_quantile(0.99);
    let open_rate = r.throughput();
    t.push(
        Row::new(
            "accept async",
            format!("open {} /s", fmt_rate(ACCEPT_TARGET)),
            &r,
        )
        .vs_throughput(base),
    );

    // Drain: a fresh batch for the no-op function, from the first accept to the last
    // SUCCESS.
    let target = Arc::new(Signed::invoke_async(&signer, "async-sink"));
    let before = successes(&client, "async-sink")?;
    let n = ctx.pick(5000usize, 200);
    let began = Instant::now();
    let accepted = ctx.block_on(send_n(server.addr, target, 16, n))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut done = 0;
    while Instant::now() < deadline {
        done = successes(&client, "async-sink")? - before;
        if done >= accepted {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = began.elapsed();
    let mut drain = Run::empty(wall);
    drain.hist.saturating_record(crate::load::nanos(wall));
    drain.ok_in_window = done as u64;
    if done < accepted {
        drain.fail(format!(
            "only {done} of {accepted} events finished within 120 s"
        ));
    }
    t.push(
        Row::new(
            format!("drain {accepted} events"),
            "accepted at c=16",
            &drain,
        )
        .vs_throughput(base),
    );

    if let Some((rate, _)) = best {
        t.target(
            "durable accepts, closed c=64",
            fmt_rate(rate),
            format!("≥ {}", fmt_rate(ACCEPT_TARGET)),
            rate >= ACCEPT_TARGET,
        );
    }
    t.target(
        "accept p99 at an offered 10,000/s",
        format!(
            "{} answered/s, p99 {}",
            fmt_rate(open_rate),
            fmt_ns(open_p99)
        ),
        format!("p99 ≤ {}", fmt_ns(P99_TARGET.as_nanos() as u64)),
        open_p99 <= P99_TARGET.as_nanos() as u64 && open_rate >= ACCEPT_TARGET * 0.95,
    );
    t.notes
        .push("drain row: p50 column is the wall time of the whole batch".into());
    t.notes.extend(crate::scenarios::server_notes(&server));
    Ok(t)
}
