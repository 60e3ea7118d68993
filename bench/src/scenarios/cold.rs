//! `cold`: the first invocation of a freshly created function (no instance exists, so one
//! is started), compared with a bare spawn→exit of the same program.
//!
//! Cold starts are forced by creating N separate functions per runtime and invoking each
//! once. One extra function per runtime is invoked first and not recorded, so unpacking the
//! (shared) code package is not charged to the first sample. Each iteration runs every bare
//! spawn and every cold invoke once, in a rotating order; the per-iteration differences
//! (cold − bare) are reported too, since they cancel background load that drifts.

use crate::client::{check, Expect, Signed};
use crate::ctx::Ctx;
use crate::fixtures::{spawn_once, Lang};
use crate::load::{Conn, Samples, Target};
use crate::report::{fmt_ns, Row, Table};
use crate::scenarios::first_invoke;
use std::time::{Duration, Instant};

const PYTHON_BUDGET_NS: u64 = 15_000_000;

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
    let server = ctx.server()?;
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
    drop(server);
    crate::scenarios::cold_sandbox::add_rows(ctx, &mut t)?;
    Ok(t)
}
