//! `throughput`: the no-op custom runtime under closed-loop load at several concurrencies,
//! with 1 and with 100 requests per instance (`strategy_config.concurrent_num`, max
//! instances set so that the concurrency always fits). Each concurrency is compared with
//! the bare loopback round trip at the same concurrency.

use crate::client::Signed;
use crate::ctx::Ctx;
use crate::floor::Floor;
use crate::load::{Run, Target};
use crate::report::{fmt_rate, Row, Table};
use crate::scenarios::deploy;
use crate::server::PROJECT_CONCURRENCY;
use std::sync::Arc;
use stratus_api_types::{FunctionBody, StrategyConfig};

const TARGET_RPS: f64 = 5000.0;
const NAME: &str = "tp-custom";
const PER_INSTANCE: [i64; 2] = [1, 100];

pub fn run(ctx: &Ctx) -> anyhow::Result<Table> {
    let mut t = Table::new(
        "throughput — no-op custom runtime under closed-loop load",
        "Signed sync invokes of the C no-op runtime, c workers each on its own keep-alive connection. \"per inst\" is strategy_config.concurrent_num; max instances = ceil(max c / per inst). Ratios: vs the bare loopback round trip at the same concurrency.",
    );
    let concurrencies: Vec<usize> = ctx.pick(vec![1, 16, 64, 256], vec![1, 16, 64]);
    let max_c = concurrencies.iter().copied().max().unwrap_or(1) as i64;
    let server = ctx.server()?;
    let client = server.client();
    let signer = server.signer();
    deploy(ctx, &client, NAME, crate::fixtures::Lang::Custom, 1)?;

    let floor = Floor::start()?;
    let bare: Arc<dyn Target> = Arc::new(floor.target());
    let mut bare_runs = Vec::new();
    for &c in &concurrencies {
        bare_runs.push(ctx.closed(floor.addr, bare.clone(), c, ctx.window(0.2, 0.8))?);
    }
    drop(floor);

    let target: Arc<dyn Target> = Arc::new(Signed::invoke(&signer, NAME));
    let mut runs: Vec<Vec<Run>> = Vec::new();
    for per in PER_INSTANCE {
        let max_instances = (max_c + per - 1) / per;
        client.update_config(
            NAME,
            &FunctionBody {
                strategy_config: Some(StrategyConfig {
                    concurrency: None,
                    concurrent_num: Some(per),
                }),
                ..Default::default()
            },
        )?;
        client.set_max_instances(NAME, max_instances)?;
        let mut by_c = Vec::new();
        for &c in &concurrencies {
            by_c.push(ctx.closed(server.addr, target.clone(), c, ctx.window(0.3, 1.2))?);
        }
        runs.push(by_c);
        t.notes.push(format!(
            "processes under the server after the per-inst-{per} runs: {}",
            server.process_summary()
        ));
    }

    for (ci, &c) in concurrencies.iter().enumerate() {
        let b = t.push(Row::new(
            "bare loopback round trip",
            format!("closed c={c}"),
            &bare_runs[ci],
        ));
        for (pi, per) in PER_INSTANCE.iter().enumerate() {
            t.push(
                Row::new(
                    format!("invoke custom, per inst {per}"),
                    format!("closed c={c}"),
                    &runs[pi][ci],
                )
                .vs_throughput(b),
            );
        }
    }
    if let Some(ci) = concurrencies.iter().position(|&c| c == 64) {
        for (pi, per) in PER_INSTANCE.iter().enumerate() {
            let rps = runs[pi][ci].throughput();
            t.target(
                &format!("no-op custom invocations/s at c=64, per inst {per}"),
                format!("{}/s", fmt_rate(rps)),
                format!("≥ {}/s", fmt_rate(TARGET_RPS)),
                rps >= TARGET_RPS,
            );
        }
    }
    t.notes.push(format!(
        "the server runs with STRATUS_PROJECT_CONCURRENCY={PROJECT_CONCURRENCY} (default 100) so that c=256 is not throttled by the project quota"
    ));
    t.notes.extend(crate::scenarios::server_notes(&server));
    Ok(t)
}
