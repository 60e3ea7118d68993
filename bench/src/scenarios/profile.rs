//! `profile`: a fixed number of warm invokes of the no-op custom runtime, bracketed by
//! hook commands, for instruction and syscall counts of the server (not part of `all`).
//!
//! Run it with `--stratus-bin` pointing at a wrapper that `exec`s valgrind (so the
//! server's pid is valgrind's) and hooks such as
//! `STRATUS_PROFILE_BEFORE='callgrind_control -z $PID'` and
//! `STRATUS_PROFILE_AFTER='callgrind_control -d $PID'`. The hooks run with `sh -c` and
//! `PID` set to the server's pid. `STRATUS_PROFILE_N` (default 300) invokes are sent by
//! `STRATUS_PROFILE_C` (default 1) workers, each on its own keep-alive connection.

use crate::client::Signed;
use crate::ctx::Ctx;
use crate::load::{Conn, Target};
use crate::report::Table;
use crate::scenarios::deploy;
use anyhow::Context as _;
use std::sync::Arc;

const NAME: &str = "prof-custom";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn hook(var: &str, pid: u32) -> anyhow::Result<()> {
    let Ok(cmd) = std::env::var(var) else {
        return Ok(());
    };
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .env("PID", pid.to_string())
        .status()
        .with_context(|| format!("run {var}"))?;
    anyhow::ensure!(status.success(), "{var} ({cmd}) failed: {status}");
    Ok(())
}

pub fn run(ctx: &Ctx) -> anyhow::Result<Table> {
    let n = env_usize("STRATUS_PROFILE_N", 300);
    let c = env_usize("STRATUS_PROFILE_C", 1).max(1);
    let mut t = Table::new(
        "profile — fixed number of warm invokes between two hooks",
        format!("{n} signed sync invokes of the C no-op runtime by {c} workers (1 request per instance)"),
    );
    let server = ctx.server()?;
    let client = server.client();
    let signer = server.signer();
    deploy(ctx, &client, NAME, crate::fixtures::Lang::Custom, 1)?;
    client.set_max_instances(NAME, c as i64)?;
    let pid = server.pid().context("server pid")?;
    let target: Arc<dyn Target> = Arc::new(Signed::invoke(&signer, NAME));
    let addr = server.addr;
    let per = n.div_ceil(c);
    let failed = ctx.block_on(async {
        let mut conns = Vec::new();
        for _ in 0..c {
            conns.push(Conn::open(addr).await?);
        }
        // Warm-up: 20 invokes per connection, all connections at once, so that every
        // instance exists before the counters are zeroed.
        let mut tasks = Vec::new();
        for mut conn in conns {
            let target = target.clone();
            tasks.push(tokio::spawn(async move {
                let mut bad = 0usize;
                for _ in 0..20 {
                    let a = conn.send(target.request()).await?;
                    bad += usize::from(target.check(&a).is_err());
                }
                anyhow::Ok((conn, bad))
            }));
        }
        let mut conns = Vec::new();
        let mut failed = 0;
        for task in tasks {
            let (conn, bad) = task.await??;
            conns.push(conn);
            failed += bad;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        hook("STRATUS_PROFILE_BEFORE", pid)?;
        let mut tasks = Vec::new();
        for mut conn in conns {
            let target = target.clone();
            tasks.push(tokio::spawn(async move {
                let mut bad = 0usize;
                for _ in 0..per {
                    let a = conn.send(target.request()).await?;
                    bad += usize::from(target.check(&a).is_err());
                }
                anyhow::Ok(bad)
            }));
        }
        for task in tasks {
            failed += task.await??;
        }
        // Let the log writer's batch (every 200 ms) for these invokes run inside the window.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        hook("STRATUS_PROFILE_AFTER", pid)?;
        anyhow::Ok(failed)
    })?;
    anyhow::ensure!(failed == 0, "{failed} invokes did not return ok");
    t.notes
        .push(format!("{} invokes sent, server pid {pid}", per * c));
    Ok(t)
}
