//! `density`: memory per idle warm Python instance. N reserved instances of a no-op
//! function are started and left idle; then, per instance: resident memory (RSS, which
//! counts shared pages of the interpreter in every process), proportional memory (PSS,
//! which splits them) and the cgroup's own count; the server's RSS growth per instance
//! beyond the first; helper processes (slirp4netns) per instance; and idle instances per
//! GiB from those figures.

use crate::ctx::Ctx;
use crate::fixtures::Lang;
use crate::report::Table;
use std::time::{Duration, Instant};

/// Issue 8's budget of platform memory per idle instance.
const PLATFORM_BUDGET: u64 = 2 * 1024 * 1024;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    kb_field(&text, field)
}

fn kb_field(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn pss_kb(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    kb_field(&text, "Pss:")
}

/// Bytes the memory cgroup of `pid` counts (v1 `memory.usage_in_bytes` or v2
/// `memory.current`), when it is in a cgroup of the platform.
fn cgroup_bytes(pid: u32) -> Option<u64> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    for line in groups.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctl, path) = (parts.next()?, parts.next()?, parts.next()?);
        if !path.starts_with("/stratus/") {
            continue;
        }
        let v1 = ctl.split(',').any(|c| c == "memory");
        let (kind, file) = if v1 {
            ("cgroup", "memory.usage_in_bytes")
        } else if ctl.is_empty() {
            ("cgroup2", "memory.current")
        } else {
            continue;
        };
        let mount = mounts.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let fits =
                f.len() > 3 && f[2] == kind && (!v1 || f[3].split(',').any(|o| o == "memory"));
            fits.then(|| f[1].to_string())
        })?;
        if let Ok(s) = std::fs::read_to_string(format!("{mount}{path}/{file}")) {
            if let Ok(v) = s.trim().parse() {
                return Some(v);
            }
        }
    }
    None
}

fn live(client: &stratus_client::Client, name: &str) -> i64 {
    client
        .reserved_instances(name)
        .map(|r| r.reservedinstances.iter().map(|x| x.count).sum())
        .unwrap_or(0)
}

fn mib(b: f64) -> String {
    format!("{:.2} MiB", b / 1024.0 / 1024.0)
}

pub fn run(ctx: &Ctx) -> anyhow::Result<Table> {
    let n = ctx.pick(50usize, 5);
    let mut t = Table::new(
        format!("density — memory of {n} idle warm Python instances"),
        format!("A no-op Python3.9 function gets 1 reserved instance, then {n}; once they are up and idle: per instance RSS and PSS (from /proc), the instance cgroup's memory, helper processes, and the server's RSS growth per instance beyond the first."),
    );
    if !ctx.tools.has(Lang::Python) {
        t.failed("python3 is not installed".into());
        return Ok(t);
    }
    let server = ctx.server()?;
    let client = server.client();
    let name = "density-python";
    let body = ctx.tools.function_body(name, Lang::Python, 1);
    client.create_function(&body, |_, _| {})?;
    let reserve = |count: i64| {
        client.set_reserved(
            &format!("{}:latest", client.urn(name)),
            &stratus_api_types::ReservedBody {
                count: Some(count),
                ..Default::default()
            },
        )
    };
    let wait = |count: i64, limit: Duration| {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if live(&client, name) >= count {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    reserve(1)?;
    anyhow::ensure!(
        wait(1, Duration::from_secs(30)),
        "the first reserved instance did not start"
    );
    // One invocation, so the request path's one-time allocations are in the baseline.
    crate::scenarios::first_invoke(&client, name)?;
    std::thread::sleep(Duration::from_millis(500));
    let pid = server.pid().ok_or_else(|| anyhow::anyhow!("server gone"))?;
    let base = status_kb(pid, "VmRSS:").unwrap_or(0) * 1024;
    let started = Instant::now();
    reserve(n as i64)?;
    let up = wait(n as i64, Duration::from_secs(ctx.pick(180, 60)));
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(ctx.pick(2000, 300)));
    let after = status_kb(pid, "VmRSS:").unwrap_or(0) * 1024;
    let got = live(&client, name).max(0) as usize;
    if !up {
        t.failed(format!("only {got} of {n} reserved instances came up"));
    }
    let procs = server.descendants();
    let python: Vec<u32> = procs
        .iter()
        .filter(|(_, c)| c.starts_with("python"))
        .map(|(p, _)| *p)
        .collect();
    let helpers: Vec<u32> = procs
        .iter()
        .filter(|(_, c)| !c.starts_with("python"))
        .map(|(p, _)| *p)
        .collect();
    let count = python.len().max(1) as f64;
    let sum = |pids: &[u32], f: &dyn Fn(u32) -> Option<u64>| -> u64 {
        pids.iter().filter_map(|p| f(*p)).sum()
    };
    let rss = sum(&python, &|p| status_kb(p, "VmRSS:")) as f64 * 1024.0 / count;
    let pss = sum(&python, &pss_kb) as f64 * 1024.0 / count;
    let cg: Vec<u64> = python.iter().filter_map(|p| cgroup_bytes(*p)).collect();
    let cg_mean = (!cg.is_empty()).then(|| cg.iter().sum::<u64>() as f64 / cg.len() as f64);
    let helper_pss = sum(&helpers, &pss_kb) as f64 * 1024.0 / count;
    let growth = (after as f64 - base as f64) / (count - 1.0).max(1.0);
    let mut lines = vec![
        format!(
            "instances up: {} python processes ({got} reserved reported) in {:.1} s",
            python.len(),
            took.as_secs_f64()
        ),
        format!(
            "instance RSS: {} each (shared interpreter pages counted in every one)",
            mib(rss)
        ),
        format!(
            "instance PSS: {} each (shared pages split between the instances)",
            mib(pss)
        ),
    ];
    match cg_mean {
        Some(m) => lines.push(format!(
            "instance cgroup memory: {} each (mean of {} cgroups; counts what the instance touched first, page cache included)",
            mib(m),
            cg.len()
        )),
        None => lines.push("instance cgroup memory: none (process backend, or not readable)".into()),
    }
    lines.push(format!(
        "helper processes: {} ({}), PSS {} per instance",
        helpers.len(),
        {
            let mut names: Vec<&str> = procs
                .iter()
                .filter(|(_, c)| !c.starts_with("python"))
                .map(|(_, c)| c.as_str())
                .collect();
            names.sort_unstable();
            names.dedup();
            names.join(", ")
        },
        mib(helper_pss)
    ));
    lines.push(format!(
        "server RSS: {} with 1 instance, {} with {}: {} per extra instance",
        mib(base as f64),
        mib(after as f64),
        python.len(),
        mib(growth)
    ));
    // Baseline: the same interpreter, idle, started bare (no shim, no platform).
    if let Some(py) = &ctx.tools.python {
        let bare = std::process::Command::new(py)
            .args(["-c", "import sys; sys.stdin.read()"])
            .env_clear()
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn();
        if let Ok(mut child) = bare {
            std::thread::sleep(Duration::from_millis(300));
            let b_rss = status_kb(child.id(), "VmRSS:").unwrap_or(0) as f64 * 1024.0;
            let b_pss = pss_kb(child.id()).unwrap_or(0) as f64 * 1024.0;
            lines.push(format!(
                "baseline, a bare idle {} (same binary, no shim): RSS {}, PSS {}; an instance is {:.2}× its RSS",
                py.display(),
                mib(b_rss),
                mib(b_pss),
                rss / b_rss.max(1.0)
            ));
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    let per = pss + helper_pss + growth.max(0.0);
    lines.push(format!(
        "idle Python instances per GiB: {:.0} (by PSS + helpers + server growth = {} each){}",
        GIB / per,
        mib(per),
        match cg_mean {
            Some(m) => format!(
                "; {:.0} by cgroup memory + helpers + server growth",
                GIB / (m + helper_pss + growth.max(0.0))
            ),
            None => String::new(),
        }
    ));
    t.notes.extend(lines);
    t.target(
        "platform memory per idle instance (server growth + helpers)",
        mib(growth.max(0.0) + helper_pss),
        mib(PLATFORM_BUDGET as f64),
        growth.max(0.0) + helper_pss <= PLATFORM_BUDGET as f64,
    );
    t.target(
        "server's own RSS growth per idle instance",
        mib(growth),
        mib(PLATFORM_BUDGET as f64),
        growth <= PLATFORM_BUDGET as f64,
    );
    let _ = reserve(0);
    t.notes.extend(crate::scenarios::server_notes(&server));
    Ok(t)
}
