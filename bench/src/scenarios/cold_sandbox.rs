//! Rows of the `cold` table that compare sandbox backends: in the same iterations, a bare
//! spawn, a cold start on a server with the `isolated` backend and one on a server with
//! `--sandbox process`, for the custom runtime and Python. Twice: without the pre-heated
//! pool (`--prewarm 0`: each backend's own start-up work), and with it on both servers
//! (the default configuration: what isolation adds to a cold start as users get it).
//! Kept apart from `cold.rs` so that other row groups can be added there independently.

use crate::client::{check, Expect, Signed};
use crate::ctx::Ctx;
use crate::fixtures::{spawn_once, Lang};
use crate::load::{Conn, Samples, Target};
use crate::report::{fmt_ns, Row, Table};
use crate::scenarios::first_invoke;
use crate::server::Server;
use std::time::{Duration, Instant};

/// Issue 4's budget for what isolation may add to a cold start.
const ISOLATION_BUDGET_NS: u64 = 2_000_000;

struct Side {
    label: &'static str,
    server: Server,
    conn: Conn,
}

/// Which servers a comparison runs on.
#[derive(Clone, Copy, PartialEq)]
enum Pools {
    Off,
    On,
}

/// Pre-started instances per language on the pooled servers.
const POOL_SIZE: &str = "2";

fn cold_once(
    ctx: &Ctx,
    side: &mut Side,
    name: &str,
    pool: Option<&str>,
) -> Result<Duration, String> {
    if let Some(key) = pool {
        crate::scenarios::cold::wait_full(side.server.addr, &[key])
            .map_err(|e| format!("{e:#}"))?;
    }
    let target = Signed::invoke(&side.server.signer(), name);
    let t0 = Instant::now();
    let answer = ctx.block_on(side.conn.send(target.request()));
    let d = t0.elapsed();
    let r = answer
        .map_err(|e| e.to_string())
        .and_then(|a| check(Expect::InvokeOk, &a));
    match r {
        Ok(()) => Ok(d),
        Err(e) => {
            if let Ok(c) = ctx.block_on(Conn::open(side.server.addr)) {
                side.conn = c;
            }
            Err(e)
        }
    }
}

/// Adds the backend comparison rows, notes and the ≤ 2 ms targets to `t`.
pub fn add_rows(ctx: &Ctx, t: &mut Table) -> anyhow::Result<()> {
    compare(ctx, t, Pools::Off)?;
    compare(ctx, t, Pools::On)
}

fn compare(ctx: &Ctx, t: &mut Table, pools: Pools) -> anyhow::Result<()> {
    // 60 pairs: the median of 25 moved by ±1.5 ms between runs (a Python start varies by
    // a few ms on these machines), which is most of the 2 ms budget.
    let n = ctx.pick(60, 3);
    let prewarm = match pools {
        Pools::Off => "0",
        Pools::On => POOL_SIZE,
    };
    let suffix = match pools {
        Pools::Off => "",
        Pools::On => " with pre-heated pools",
    };
    let iso = ctx.server_with(&["--prewarm", prewarm])?;
    if iso.sandbox().is_none_or(|s| !s.starts_with("isolated")) {
        t.notes.push(format!(
            "isolated vs process rows skipped: the default server runs {:?} (the isolated backend needs root)",
            iso.sandbox()
        ));
        return Ok(());
    }
    let proc_ = ctx.server_with(&["--sandbox", "process", "--prewarm", prewarm])?;
    let mut sides = Vec::new();
    for (label, server) in [("isolated", iso), ("process", proc_)] {
        let conn = ctx.block_on(Conn::open(server.addr))?;
        sides.push(Side {
            label,
            server,
            conn,
        });
    }
    let tag = if pools == Pools::On { "p" } else { "" };
    let name = |lang: Lang, i: usize| format!("coldsb{tag}-{}-{i}", lang.label());
    let mut langs = Vec::new();
    'lang: for lang in [Lang::Custom, Lang::Python] {
        if !ctx.tools.has(lang) {
            continue;
        }
        for side in &sides {
            let client = side.server.client();
            for i in 0..=n {
                let body = ctx.tools.function_body(&name(lang, i), lang, 1);
                client.create_function(&body, |_, _| {})?;
            }
            if let Err(e) = first_invoke(&client, &name(lang, 0)) {
                t.failed(format!("{} on {}: {e:#}", lang.label(), side.label));
                continue 'lang;
            }
        }
        langs.push(lang);
    }
    // [lang][0 = bare, 1 = isolated, 2 = process]
    let mut samples: Vec<[Samples; 3]> = langs
        .iter()
        .map(|_| [Samples::new(), Samples::new(), Samples::new()])
        .collect();
    let mut gaps: Vec<Vec<i64>> = langs.iter().map(|_| Vec::new()).collect();
    for i in 1..=n {
        for (k, lang) in langs.iter().enumerate() {
            let mut got: [Option<Duration>; 3] = [None; 3];
            for s in 0..3 {
                let which = (s + i) % 3;
                let r = match which {
                    0 => match ctx.tools.bare_command(*lang) {
                        Some((p, a)) => spawn_once(&p, &a).map_err(|e| format!("{e:#}")),
                        None => Err("no bare command".into()),
                    },
                    w => {
                        let key = (pools == Pools::On)
                            .then(|| crate::scenarios::cold::pool_key(*lang))
                            .flatten();
                        cold_once(ctx, &mut sides[w - 1], &name(*lang, i), key)
                    }
                };
                match r {
                    Ok(d) => {
                        samples[k][which].ok(d);
                        got[which] = Some(d);
                    }
                    Err(e) => samples[k][which].failed(e),
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if let (Some(a), Some(b)) = (got[1], got[2]) {
                gaps[k].push(a.as_nanos() as i64 - b.as_nanos() as i64);
            }
        }
    }
    let mut worst: Option<(Lang, i64)> = None;
    for (k, lang) in langs.iter().enumerate() {
        let [bare, iso, pro] = std::mem::take(&mut samples[k]);
        let b = t.push(
            Row::new(
                format!(
                    "bare spawn: {} (backend rows{suffix})",
                    ctx.tools.bare_label(*lang)
                ),
                format!("{n} samples"),
                &bare.finish(),
            )
            .no_throughput(),
        );
        t.push(
            Row::new(
                format!("cold invoke, isolated backend{suffix}: {}", lang.label()),
                format!("{n} samples"),
                &iso.finish(),
            )
            .no_throughput()
            .vs(b),
        );
        t.push(
            Row::new(
                format!("cold invoke, process backend{suffix}: {}", lang.label()),
                format!("{n} samples"),
                &pro.finish(),
            )
            .no_throughput()
            .vs(b),
        );
        let g = &mut gaps[k];
        g.sort_unstable();
        if let Some(mid) = g.get(g.len() / 2) {
            let sign = if *mid < 0 { "−" } else { "+" };
            t.notes.push(format!(
                "{}{suffix}: isolation adds {sign}{} p50 (median of per-iteration isolated − process over {} pairs)",
                lang.label(),
                fmt_ns(mid.unsigned_abs()),
                g.len()
            ));
            if worst.is_none_or(|(_, w)| *mid > w) {
                worst = Some((*lang, *mid));
            }
        }
    }
    if let Some((lang, gap)) = worst {
        let sign = if gap < 0 { "−" } else { "+" };
        let what = match pools {
            Pools::Off => "isolation adds ≤ 2 ms p50 to a cold start, no pre-heated pools",
            Pools::On => "isolation adds ≤ 2 ms p50 to a cold start, pre-heated pools (default)",
        };
        t.target(
            what,
            format!(
                "{sign}{} (worst of custom, Python: {})",
                fmt_ns(gap.unsigned_abs()),
                lang.label()
            ),
            format!("≤ {}", fmt_ns(ISOLATION_BUDGET_NS)),
            gap <= ISOLATION_BUDGET_NS as i64,
        );
    }
    if pools == Pools::On {
        t.notes.push(format!(
            "backend rows with pre-heated pools: both servers run --prewarm {POOL_SIZE}, and each sample waits until its pool is full"
        ));
        return Ok(());
    }
    t.notes.push(
        "isolated instances get cpu.shares/cpu.weight from RUNTIME_CPU (300 millicores at 128 MB) under the one `stratus` parent cgroup, which every isolated instance on the host shares (other servers' too), while process-backend instances compete as ordinary tasks: when the CPU note shows other processes busy, the isolated − process gap includes that smaller CPU share, not only the set-up of namespaces, mounts and cgroups".into(),
    );
    for side in &sides {
        for note in crate::scenarios::server_notes(&side.server) {
            t.notes.push(format!("{}: {note}", side.label));
        }
    }
    Ok(())
}
