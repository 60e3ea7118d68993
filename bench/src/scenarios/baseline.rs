//! `baseline`: the physical floors the other scenarios are compared with.
//!
//! * A loopback HTTP/1.1 keep-alive round trip to a minimal hyper server, in closed loop at
//!   concurrency 1 and 64 and in open loop at a fixed rate.
//! * A bare spawn→exit of the C no-op binary, `python3 -c pass` and `node -e 0`, in the
//!   scrubbed environment instances get, interleaved round by round so drifting background
//!   load hits all three alike.

use crate::ctx::Ctx;
use crate::fixtures::{spawn_once, Lang};
use crate::floor::Floor;
use crate::load::{Samples, Target};
use crate::report::{Row, Table};
use std::sync::Arc;

pub fn run(ctx: &Ctx) -> anyhow::Result<Table> {
    let mut t = Table::new(
        "baseline — physical floors",
        "Bare loopback HTTP/1.1 keep-alive round trips to a minimal hyper server (no auth, no routing), and bare spawn→exit of each program in the instances' scrubbed environment. Ratios: round trips vs the c=1 round trip, spawns vs the C no-op binary.",
    );
    let floor = Floor::start()?;
    let bare: Arc<dyn Target> = Arc::new(floor.target());
    let r = ctx.closed(floor.addr, bare.clone(), 1, ctx.window(0.3, 2.0))?;
    let rtt = t.push(Row::new("loopback HTTP/1.1 round trip", "closed c=1", &r));
    let r = ctx.closed(floor.addr, bare.clone(), 64, ctx.window(0.3, 1.5))?;
    t.push(Row::new("loopback HTTP/1.1 round trip", "closed c=64", &r).vs_throughput(rtt));
    let rate = ctx.pick(5000.0, 500.0);
    let r = ctx.open(floor.addr, bare, rate, 64, ctx.window(0.2, 1.5))?;
    t.push(
        Row::new(
            "loopback HTTP/1.1 round trip",
            format!("open {rate:.0}/s"),
            &r,
        )
        .vs(rtt),
    );
    drop(floor);

    let langs: Vec<Lang> = ctx.tools.langs();
    let mut samples: Vec<Samples> = langs.iter().map(|_| Samples::new()).collect();
    let rounds = ctx.pick(150, 4);
    // One untimed round first: page cache and dynamic loader warm-up.
    for lang in &langs {
        if let Some((p, a)) = ctx.tools.bare_command(*lang) {
            spawn_once(&p, &a)?;
        }
    }
    for round in 0..rounds {
        for k in 0..langs.len() {
            // Rotate the order every round.
            let i = (k + round) % langs.len();
            if let Some((p, a)) = ctx.tools.bare_command(langs[i]) {
                match spawn_once(&p, &a) {
                    Ok(d) => samples[i].ok(d),
                    Err(e) => samples[i].failed(format!("{e:#}")),
                }
            }
        }
    }
    let mut base = None;
    for (lang, s) in langs.iter().zip(samples) {
        let row = Row::new(
            format!("bare spawn: {}", ctx.tools.bare_label(*lang)),
            "samples, interleaved",
            &s.finish(),
        )
        .no_throughput();
        match base {
            None => base = Some(t.push(row)),
            Some(b) => {
                t.push(row.vs(b));
            }
        }
    }
    for lang in Lang::ALL {
        if !ctx.tools.has(lang) {
            t.notes.push(format!(
                "{} is not installed here: its rows are skipped",
                lang.label()
            ));
        }
    }
    t.notes.push(format!(
        "open loop: requests are due at a fixed rate and latency counts from the due time, so queueing is included (no coordinated omission); the rate is {rate:.0}/s"
    ));
    Ok(t)
}
