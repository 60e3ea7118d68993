//! `burst`: 0 → N concurrent requests on a function that has no instance yet (custom
//! runtime, one request per instance, max instances above N). Reports the time until every
//! request is answered, the latency of each, how many instances the burst created and how
//! many requests were throttled; the baseline is N bare spawns of the C no-op started at
//! once and waited for, the physical floor of creating that many processes here.

use crate::client::{check, Expect, Signed};
use crate::ctx::Ctx;
use crate::fixtures::Lang;
use crate::load::{Conn, Samples, Target};
use crate::report::{Row, Table};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bare_burst(ctx: &Ctx, n: usize) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    let mut children = Vec::with_capacity(n);
    for _ in 0..n {
        children.push(
            Command::new(&ctx.tools.noop)
                .env_clear()
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?,
        );
    }
    for mut c in children {
        c.wait()?;
    }
    Ok(t0.elapsed())
}

pub fn run(ctx: &Ctx) -> anyhow::Result<Table> {
    let n = ctx.pick(200, 20);
    let rounds = ctx.pick(3, 1);
    let mut t = Table::new(
        format!("burst — 0 → {n} concurrent requests on a cold function"),
        format!("{n} connections are opened, then one signed sync invoke is sent on each at once to a just-created no-op custom-runtime function (concurrent_num 1, max instances 400): the burst time is from the first send to the last answer. Baseline: {n} bare spawns of the C no-op started at once, then waited for. {rounds} round(s), a new function each."),
    );
    let server = ctx.server()?;
    let client = server.client();
    let signer = server.signer();
    let mut bare = Samples::new();
    let mut whole = Samples::new();
    let mut each = Samples::new();
    let mut created = Vec::new();
    let mut throttled = 0u64;
    let mut helpers = 0usize;
    for r in 0..rounds {
        match bare_burst(ctx, n) {
            Ok(d) => bare.ok(d),
            Err(e) => bare.failed(format!("{e:#}")),
        }
        let name = format!("burst-{r}");
        let body = ctx.tools.function_body(&name, Lang::Custom, 1);
        client.create_function(&body, |_, _| {})?;
        let before = server.descendants().len();
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            conns.push(ctx.block_on(Conn::open(server.addr))?);
        }
        let target = Signed::invoke(&signer, &name);
        let reqs: Vec<_> = (0..n).map(|_| target.request()).collect();
        let t0 = Instant::now();
        let answers = ctx.block_on(async move {
            let tasks: Vec<_> = conns
                .into_iter()
                .zip(reqs)
                .map(|(mut c, req)| {
                    tokio::spawn(async move {
                        let a = c.send(req).await;
                        (a, t0.elapsed())
                    })
                })
                .collect();
            let mut out = Vec::with_capacity(tasks.len());
            for task in tasks {
                out.push(task.await);
            }
            out
        });
        let mut last = Duration::ZERO;
        for a in answers {
            let Ok((answer, at)) = a else {
                each.failed("load task panicked".into());
                continue;
            };
            last = last.max(at);
            match answer {
                Ok(a) if a.status.as_u16() == 429 => {
                    throttled += 1;
                    each.failed("HTTP 429 (throttled)".into());
                }
                Ok(a) => match check(Expect::InvokeOk, &a) {
                    Ok(()) => each.ok(at),
                    Err(e) => each.failed(e),
                },
                Err(e) => each.failed(format!("{e:#}")),
            }
        }
        whole.ok(last);
        let procs = server.descendants();
        created.push(procs.iter().filter(|(_, c)| c == "bootstrap").count());
        helpers = helpers.max(procs.len().saturating_sub(before));
        client.delete_function(&client.urn(&name)).ok();
        std::thread::sleep(Duration::from_millis(ctx.pick(1000, 200)));
    }
    let b = t.push(
        Row::new(
            format!("{n} bare spawns of the C no-op, at once"),
            format!("{rounds} bursts"),
            &bare.finish(),
        )
        .no_throughput(),
    );
    t.push(
        Row::new(
            format!("burst of {n} cold invokes: last answer"),
            format!("{rounds} bursts"),
            &whole.finish(),
        )
        .no_throughput()
        .vs(b),
    );
    t.push(
        Row::new(
            "each request of the burst: answer time from the first send",
            format!("{} requests", n * rounds),
            &each.finish(),
        )
        .no_throughput(),
    );
    t.notes.push(format!(
        "instances created per burst: {:?} (bootstrap processes under the server right after the burst; {} processes in all, helpers such as slirp4netns included); throttled (429): {throttled}",
        created, helpers
    ));
    let per: Vec<String> = created
        .iter()
        .map(|c| format!("{:.2}", n as f64 / (*c).max(1) as f64))
        .collect();
    t.notes.push(format!(
        "requests per instance, per burst: {} (one request per instance at a time: a request waits for a starting instance or takes one that has just finished, so fewer than {n} may start)",
        per.join(", ")
    ));
    t.notes.extend(crate::scenarios::server_notes(&server));
    Ok(t)
}
