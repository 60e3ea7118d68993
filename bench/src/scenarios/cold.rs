//! `cold`: the first invocation of a freshly created function (no instance exists, so one
//! is started), compared with a bare spawn→exit of the same program.
//!
//! Cold starts are forced by creating N separate functions per runtime and invoking each
//! once. One extra function per runtime is invoked first and not recorded, so unpacking the
//! (shared) code package is not charged to the first sample. Each iteration runs every bare
//! spawn and every cold invoke once, in a rotating order; the per-iteration differences
//! (cold − bare) are reported too, since they cancel background load that drifts.
//!
//! These rows run on a server without the pre-heated pool (`--prewarm 0`). A second
//! server with the pool then serves the same kind of first invocations from pre-started
//! instances ("cold with pre-heated pool"); before each sample the harness waits until
//! the pool is full again, so every sample is a pooled start (docs/preheat.md).

use crate::client::{check, Expect, Signed};
use crate::ctx::Ctx;
use crate::fixtures::{spawn_once, Lang};
use crate::load::{Conn, Samples, Target};
use crate::report::{fmt_ns, Row, Table};
use crate::scenarios::first_invoke;
use std::time::{Duration, Instant};

const PYTHON_BUDGET_NS: u64 = 15_000_000;
/// Issue 8: cold start with the pre-heated pool, Python and Node.js.
const POOLED_BUDGET_NS: u64 = 10_000_000;
/// Issue 8: cold start with the pre-heated pool, custom `bootstrap`.
const POOLED_CUSTOM_BUDGET_NS: u64 = 5_000_000;
/// Pre-started instances per language on the pooled server.
const POOL_SIZE: &str = "2";

enum Step {
    Bare(usize),
    Cold(usize),
}

pub fn run(ctx: &Ctx) -> anyhow::Result<Table> {
    let mut t = Table::new(
        "cold — cold start vs bare spawn of the same program",
        "First signed sync invoke of a just-created no-op function (a new instance must start), on an open keep-alive connection; vs a bare spawn→exit of the same program (C no-op binary, python3 -c pass, node -e 0) in the same iterations.",
    );
    let n = ctx.pick(25, 3);
    let mut server = ctx.server_with(&["--prewarm", "0"])?;
    let client = server.client();
    let signer = server.signer();
    let name = |lang: Lang, i: usize| format!("cold-{}-{i}", lang.label());
    let mut langs = Vec::new();
    for lang in ctx.tools.langs() {
        for i in 0..=n {
            let body = ctx.tools.function_body(&name(lang, i), lang, 1);
            client.create_function(&body, |_, _| {})?;
        }
        // Index 0 primes the code cache; not recorded.
        match first_invoke(&client, &name(lang, 0)) {
            Ok(()) => langs.push(lang),
            Err(e) => t.failed(format!("{} skipped: {e:#}", lang.label())),
        }
    }
    let mut conn = ctx.block_on(Conn::open(server.addr))?;
    let mut bare: Vec<Samples> = langs.iter().map(|_| Samples::new()).collect();
    let mut cold: Vec<Samples> = langs.iter().map(|_| Samples::new()).collect();
    let mut diffs: Vec<Vec<i64>> = langs.iter().map(|_| Vec::new()).collect();
    let mut steps: Vec<Step> = Vec::new();
    for k in 0..langs.len() {
        steps.push(Step::Bare(k));
        steps.push(Step::Cold(k));
    }
    for i in 1..=n {
        let mut this_bare = vec![None; langs.len()];
        let mut this_cold = vec![None; langs.len()];
        for s in 0..steps.len() {
            match steps[(s + i) % steps.len()] {
                Step::Bare(k) => {
                    if let Some((p, a)) = ctx.tools.bare_command(langs[k]) {
                        match spawn_once(&p, &a) {
                            Ok(d) => {
                                bare[k].ok(d);
                                this_bare[k] = Some(d);
                            }
                            Err(e) => bare[k].failed(format!("{e:#}")),
                        }
                    }
                }
                Step::Cold(k) => {
                    let target = Signed::invoke(&signer, &name(langs[k], i));
                    let t0 = Instant::now();
                    let answer = ctx.block_on(conn.send(target.request()));
                    let d = t0.elapsed();
                    match answer
                        .map_err(|e| e.to_string())
                        .and_then(|a| check(Expect::InvokeOk, &a))
                    {
                        Ok(()) => {
                            cold[k].ok(d);
                            this_cold[k] = Some(d);
                        }
                        Err(e) => {
                            cold[k].failed(e);
                            conn = ctx.block_on(Conn::open(server.addr))?;
                        }
                    }
                }
            }
            // Let the new instance's start-up tail (log readers, first poll) settle.
            std::thread::sleep(Duration::from_millis(10));
        }
        for k in 0..langs.len() {
            if let (Some(b), Some(c)) = (this_bare[k], this_cold[k]) {
                diffs[k].push(c.as_nanos() as i64 - b.as_nanos() as i64);
            }
        }
    }
    let mut python_gap = None;
    let mut bare_rows = Vec::new();
    for (k, lang) in langs.iter().enumerate() {
        let b_run = std::mem::take(&mut bare[k]).finish();
        let c_run = std::mem::take(&mut cold[k]).finish();
        let b = t.push(
            Row::new(
                format!("bare spawn: {}", ctx.tools.bare_label(*lang)),
                format!("{n} samples"),
                &b_run,
            )
            .no_throughput(),
        );
        let c = t.push(
            Row::new(
                format!("cold invoke: {}", lang.label()),
                format!("{n} samples"),
                &c_run,
            )
            .no_throughput()
            .vs(b),
        );
        bare_rows.push((*lang, b));
        let d = &mut diffs[k];
        d.sort_unstable();
        if let Some(mid) = d.get(d.len() / 2) {
            let sign = if *mid < 0 { "−" } else { "+" };
            t.notes.push(format!(
                "{}: median of per-iteration (cold − bare) = {sign}{} over {} pairs",
                lang.label(),
                fmt_ns(mid.unsigned_abs()),
                d.len()
            ));
        }
        if *lang == Lang::Python {
            python_gap = Some((t.row(c).p50(), t.row(b).p50()));
        }
    }
    if let Some((cold_p50, bare_p50)) = python_gap {
        t.target(
            "Python cold start p50",
            format!(
                "{} = bare {} + {}",
                fmt_ns(cold_p50),
                fmt_ns(bare_p50),
                fmt_ns(cold_p50.saturating_sub(bare_p50))
            ),
            format!("≤ bare python3 + {}", fmt_ns(PYTHON_BUDGET_NS)),
            cold_p50 > 0 && cold_p50 <= bare_p50 + PYTHON_BUDGET_NS,
        );
    }
    t.notes.extend(crate::scenarios::server_notes(&server));
    drop(conn);
    server.stop();
    if let Err(e) = pooled(ctx, &mut t, n, &bare_rows) {
        t.failed(format!("cold with pre-heated pool: {e:#}"));
    }
    crate::scenarios::cold_sandbox::add_rows(ctx, &mut t)?;
    Ok(t)
}

/// The `/healthz/prewarm` counts of a server.
fn pool_status(addr: std::net::SocketAddr) -> anyhow::Result<serde_json::Value> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.write_all(b"GET /healthz/prewarm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok(serde_json::from_str(body)?)
}

pub(crate) fn pool_key(lang: Lang) -> Option<&'static str> {
    match lang {
        Lang::Python => Some("python"),
        Lang::Node => Some("nodejs"),
        Lang::Custom => Some("custom"),
    }
}

/// Waits until every pool in `keys` holds its target number of ready instances.
pub(crate) fn wait_full(addr: std::net::SocketAddr, keys: &[&str]) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let st = pool_status(addr)?;
        let full = keys.iter().all(|k| {
            let p = &st[*k];
            p["ready"].as_u64().is_some() && p["ready"] == p["target"]
        });
        if full {
            return Ok(());
        }
        if Instant::now() > until {
            anyhow::bail!("pre-heated pool did not fill within 30 s: {st}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// First invocations served by pre-started instances, next to the bare spawn rows.
fn pooled(ctx: &Ctx, t: &mut Table, n: usize, bare_rows: &[(Lang, usize)]) -> anyhow::Result<()> {
    let langs: Vec<(Lang, usize, &str)> = bare_rows
        .iter()
        .filter_map(|(l, b)| pool_key(*l).map(|k| (*l, *b, k)))
        .collect();
    if langs.is_empty() {
        return Ok(());
    }
    let mut server = ctx.server_with(&["--prewarm", POOL_SIZE])?;
    let client = server.client();
    let signer = server.signer();
    let name = |lang: Lang, i: usize| format!("pooled-{}-{i}", lang.label());
    for (lang, _, _) in &langs {
        for i in 0..=n {
            let body = ctx.tools.function_body(&name(*lang, i), *lang, 1);
            client.create_function(&body, |_, _| {})?;
        }
    }
    let keys: Vec<&str> = langs.iter().map(|(_, _, k)| *k).collect();
    wait_full(server.addr, &keys)?;
    for (lang, _, _) in &langs {
        // Primes the code cache (and the specialisation path); not recorded.
        first_invoke(&client, &name(*lang, 0))?;
    }
    let mut conn = ctx.block_on(Conn::open(server.addr))?;
    let mut samples: Vec<Samples> = langs.iter().map(|_| Samples::new()).collect();
    let served_before = pool_status(server.addr)?;
    for i in 1..=n {
        for k in 0..langs.len() {
            let k = (k + i) % langs.len();
            wait_full(server.addr, &keys)?;
            let target = Signed::invoke(&signer, &name(langs[k].0, i));
            let t0 = Instant::now();
            let answer = ctx.block_on(conn.send(target.request()));
            let d = t0.elapsed();
            match answer
                .map_err(|e| e.to_string())
                .and_then(|a| check(Expect::InvokeOk, &a))
            {
                Ok(()) => samples[k].ok(d),
                Err(e) => {
                    samples[k].failed(e);
                    conn = ctx.block_on(Conn::open(server.addr))?;
                }
            }
        }
    }
    let served_after = pool_status(server.addr)?;
    for (k, (lang, bare, key)) in langs.iter().enumerate() {
        let run = std::mem::take(&mut samples[k]).finish();
        let served = served_after[*key]["served"].as_u64().unwrap_or(0)
            - served_before[*key]["served"].as_u64().unwrap_or(0);
        let row = t.push(
            Row::new(
                format!("cold with pre-heated pool: {}", lang.label()),
                format!("{n} samples, {served} served by the pool"),
                &run,
            )
            .no_throughput()
            .vs(*bare),
        );
        let p50 = t.row(row).p50();
        let budget = if *lang == Lang::Custom {
            POOLED_CUSTOM_BUDGET_NS
        } else {
            POOLED_BUDGET_NS
        };
        t.target(
            &format!("{} cold start p50 with the pre-heated pool", lang.label()),
            fmt_ns(p50),
            format!("≤ {}", fmt_ns(budget)),
            p50 > 0 && p50 <= budget && served as usize == n,
        );
    }
    t.notes.push(format!(
        "pooled rows: a second server with --prewarm {POOL_SIZE}; each sample waits until the pool is full, so every sample is specialised from a pre-started instance"
    ));
    drop(conn);
    server.stop();
    Ok(())
}
