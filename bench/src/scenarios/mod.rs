//! The scenarios. Each lives in its own module and exposes `run(&Ctx) -> Result<Table>`;
//! adding one means writing the module and listing it in [`ALL`].

use crate::ctx::Ctx;
use crate::report::Table;

mod api;
mod asyncq;
mod baseline;
mod burst;
mod cold;
mod cold_sandbox;
mod density;
mod gateway;
mod profile;
mod throughput;
mod warm;

/// A named scenario.
pub struct Scenario {
    /// Name on the command line.
    pub name: &'static str,
    /// One line for `--list` and the README.
    pub about: &'static str,
    /// Runs it and returns its table.
    pub run: fn(&Ctx) -> anyhow::Result<Table>,
}

/// Every scenario, in the order `all` runs them.
pub const ALL: &[Scenario] = &[
    Scenario {
        name: "baseline",
        about: "bare loopback HTTP/1.1 round trip to a minimal hyper server; bare spawn of each interpreter",
        run: baseline::run,
    },
    Scenario {
        name: "warm",
        about: "warm synchronous invoke of a no-op function (custom, Python, Node.js) through the signed API",
        run: warm::run,
    },
    Scenario {
        name: "throughput",
        about: "no-op custom runtime at concurrency 1/16/64(/256) with 1 and 100 requests per instance",
        run: throughput::run,
    },
    Scenario {
        name: "cold",
        about: "cold-start latency of custom, Python, Node.js against a bare spawn of the same program; isolated vs process backend",
        run: cold::run,
    },
    Scenario {
        name: "burst",
        about: "0 → 200 concurrent requests on a cold custom-runtime function: time until all answered, instances created, throttles",
        run: burst::run,
    },
    Scenario {
        name: "density",
        about: "memory per idle warm Python instance (RSS, PSS, cgroup) and the server's own growth per instance; idle instances per GiB",
        run: density::run,
    },
    Scenario {
        name: "api",
        about: "GET config and list functions with 400 functions deployed; create-function throughput",
        run: api::run,
    },
    Scenario {
        name: "gateway",
        about: "API gateway trigger (auth NONE and APP) → no-op event function → response vs the invoke API of the same function, c=1 and c=64",
        run: gateway::run,
    },
    Scenario {
        name: "async",
        about: "durable async accepts at concurrency 1/16/64 vs a single 4 KB write+fsync loop; drain rate of a no-op function",
        run: asyncq::run,
    },
];

/// Scenarios that `all` leaves out (tools, not measurements).
pub const EXTRA: &[Scenario] = &[Scenario {
    name: "profile",
    about: "a fixed number of warm custom invokes between two hook commands (callgrind, strace); not in all",
    run: profile::run,
}];

/// Looks a scenario up by name.
pub fn find(name: &str) -> Option<&'static Scenario> {
    ALL.iter().chain(EXTRA).find(|s| s.name == name)
}

/// Creates a no-op function and checks that one invocation returns `ok` (which also
/// leaves one warm instance behind).
pub(crate) fn deploy(
    ctx: &Ctx,
    client: &stratus_client::Client,
    name: &str,
    lang: crate::fixtures::Lang,
    concurrent_num: i64,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let body = ctx.tools.function_body(name, lang, concurrent_num);
    client
        .create_function(&body, |_, _| {})
        .with_context(|| format!("create function {name}"))?;
    first_invoke(client, name)
}

/// One invocation through the blocking client; fails unless the result is `ok`.
pub(crate) fn first_invoke(client: &stratus_client::Client, name: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let (env, _) = client
        .invoke(name, b"{}", &stratus_client::InvokeOptions::default())
        .with_context(|| format!("invoke {name}"))?;
    anyhow::ensure!(
        env.status == 200 && env.result == "ok",
        "invoke {name}: expected status 200 and result \"ok\", got status {} and {:?}",
        env.status,
        env.result
    );
    Ok(())
}

/// A note when a baseline's latency is bimodal (on this kind of VM a loopback round trip
/// takes ~17 µs when both ends run on the same vCPU and ~60-90 µs across vCPUs; which one
/// the median lands on decides the ratios).
pub(crate) fn bimodal_note(t: &crate::report::Table, base: usize) -> Option<String> {
    let r = t.row(base);
    let (p50, p90) = (r.lat[0], r.lat[1]);
    (p50 > 0 && p90 > p50 * 5 / 2).then(|| {
        format!(
            "the baseline \"{}\" is bimodal (p50 {}, p90 {}): same-vCPU vs cross-vCPU wake-ups; ratios against its p50 swing with it",
            r.case,
            crate::report::fmt_ns(p50),
            crate::report::fmt_ns(p90)
        )
    })
}

/// The server's warnings and errors, for the notes under a table (at most five).
pub(crate) fn server_notes(server: &crate::server::Server) -> Vec<String> {
    let all = server.complaints();
    let mut out: Vec<String> = server
        .sandbox()
        .map(|s| format!("server sandbox: {s}"))
        .into_iter()
        .collect();
    out.extend(
        all.iter()
            .take(5)
            .map(|l| format!("server log: {}", l.trim())),
    );
    if all.len() > 5 {
        out.push(format!(
            "server log: … and {} more warnings/errors",
            all.len() - 5
        ));
    }
    out
}
