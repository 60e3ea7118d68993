//! `api`: the control plane with a full project (400 functions, the per-project limit).
//!
//! * Create-function throughput: the 400 functions are created through the blocking
//!   `stratus-client`, the first half one at a time, the second half from 8 threads.
//! * GET config of one function and list functions (one page of 400, as the client asks
//!   by default, and a page of 10), closed loop at concurrency 1, interleaved with the
//!   bare loopback round trip; GET config also at concurrency 16.

use crate::client::Signed;
use crate::ctx::Ctx;
use crate::floor::Floor;
use crate::load::{Run, Samples, Target};
use crate::report::{fmt_ns, Row, Table};
use crate::server::Server;
use std::sync::Arc;
use std::time::Instant;

const CONFIG_RATIO_TARGET: f64 = 3.0;
const CREATE_THREADS: usize = 8;

fn create_all(ctx: &Ctx, server: &Server, names: &[String], threads: usize) -> Run {
    let began = Instant::now();
    let chunks: Vec<Vec<String>> = (0..threads)
        .map(|k| names.iter().skip(k).step_by(threads).cloned().collect())
        .collect();
    let results: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let client = server.client();
                s.spawn(move || {
                    let mut samples = Samples::new();
                    for name in chunk {
                        let body = ctx
                            .tools
                            .function_body(&name, crate::fixtures::Lang::Python, 1);
                        let t0 = Instant::now();
                        match client.create_function(&body, |_, _| {}) {
                            Ok(_) => samples.ok(t0.elapsed()),
                            Err(e) => samples.failed(format!("create {name}: {e}")),
                        }
                    }
                    samples.finish()
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut total = Run::empty(began.elapsed());
    for r in &results {
        let _ = total.hist.add(&r.hist);
        total.ok_in_window += r.ok_in_window;
        total.errors += r.errors;
        if total.first_error.is_none() {
            total.first_error.clone_from(&r.first_error);
        }
    }
    total
}

pub fn run(ctx: &Ctx) -> anyhow::Result<Table> {
    let mut t = Table::new(
        "api — control plane with 400 functions deployed",
        "Signed GET …/config and GET /fgs/functions (list) on a keep-alive connection with the project full (400 functions); create-function through stratus-client (Python package, 1 KB). Ratios: vs the bare loopback round trip at the same concurrency.",
    );
    let total = ctx.pick(400, 24);
    let server = ctx.server()?;
    let names: Vec<String> = (0..total).map(|i| format!("api-fn-{i:03}")).collect();
    let half = total / 2;
    let serial = create_all(ctx, &server, &names[..half], 1);
    let parallel = create_all(ctx, &server, &names[half..], CREATE_THREADS);
    let listed = server.client().list_functions(0, 400)?;
    anyhow::ensure!(
        listed.count as usize == total,
        "list_functions reports {} functions, {total} were created",
        listed.count
    );

    let signer = server.signer();
    let probe = &names[half];
    let floor = Floor::start()?;
    let bare: Arc<dyn Target> = Arc::new(floor.target());
    let cases: Vec<(&str, Arc<dyn Target>, std::net::SocketAddr)> = vec![
        ("bare loopback round trip", bare.clone(), floor.addr),
        (
            "GET config",
            Arc::new(Signed::get_config(&signer, probe)),
            server.addr,
        ),
        (
            "list functions, page of 400",
            Arc::new(Signed::list(&signer, 400)),
            server.addr,
        ),
        (
            "list functions, page of 10",
            Arc::new(Signed::list(&signer, 10)),
            server.addr,
        ),
    ];
    let rounds = ctx.pick(2, 1);
    let mut pooled: Vec<Option<Run>> = cases.iter().map(|_| None).collect();
    for _ in 0..rounds {
        for (i, (_, target, addr)) in cases.iter().enumerate() {
            let r = ctx.closed(*addr, target.clone(), 1, ctx.window(0.1, 0.8))?;
            match &mut pooled[i] {
                Some(p) => p.merge(&r),
                slot => *slot = Some(r),
            }
        }
    }
    let mut base = 0;
    let mut config_row = None;
    for (i, ((label, _, _), run)) in cases.iter().zip(pooled).enumerate() {
        let Some(run) = run else { continue };
        let row = Row::new(*label, format!("closed c=1, {rounds} rounds"), &run);
        if i == 0 {
            base = t.push(row);
        } else {
            let idx = t.push(row.vs(base));
            if i == 1 {
                config_row = Some(idx);
            }
        }
    }
    let r = ctx.closed(floor.addr, bare, 16, ctx.window(0.2, 0.8))?;
    let b16 = t.push(Row::new("bare loopback round trip", "closed c=16", &r));
    let r = ctx.closed(
        server.addr,
        Arc::new(Signed::get_config(&signer, probe)),
        16,
        ctx.window(0.2, 1.0),
    )?;
    t.push(Row::new("GET config", "closed c=16", &r).vs_throughput(b16));
    drop(floor);

    t.push(Row::new(
        format!("create function ({half})"),
        "closed c=1",
        &serial,
    ));
    t.push(Row::new(
        format!("create function ({})", total - half),
        format!("closed c={CREATE_THREADS}"),
        &parallel,
    ));

    t.notes.extend(crate::scenarios::bimodal_note(&t, base));
    if let Some(c) = config_row {
        let (cfg, bare) = (t.row(c).p50(), t.row(base).p50());
        let ratio = if bare > 0 {
            cfg as f64 / bare as f64
        } else {
            f64::INFINITY
        };
        t.target(
            "authenticated GET config p50",
            format!("{} = {ratio:.2}× bare {}", fmt_ns(cfg), fmt_ns(bare)),
            format!("≤ {CONFIG_RATIO_TARGET:.0}× bare round trip"),
            ratio <= CONFIG_RATIO_TARGET,
        );
    }
    t.notes.push(
        "create rows: req/s is functions created per second of wall time for that batch".into(),
    );
    t.notes.extend(crate::scenarios::server_notes(&server));
    Ok(t)
}
