//! invoke and logs.

use crate::output::{self, Format};
use anyhow::Context;
use std::time::Duration;
use stratus_client::{Client, InvokeOptions};

/// `fn invoke`.
#[derive(clap::Args, Debug)]
pub struct InvokeArgs {
    /// Function name.
    name: String,
    /// Event JSON, or @FILE to read it from a file.
    #[arg(long, short = 'd', default_value = "{}")]
    data: String,
    /// Invoke a published version.
    #[arg(long, conflicts_with = "alias")]
    version: Option<String>,
    /// Invoke through an alias.
    #[arg(long)]
    alias: Option<String>,
    /// Print the log tail.
    #[arg(long)]
    log: bool,
    /// Instance memory for this call (dynamic memory).
    #[arg(long)]
    memory: Option<u32>,
    /// Queue the event and print its request id instead of waiting for the result.
    #[arg(long = "async", conflicts_with_all = ["log", "memory"])]
    asynchronous: bool,
}

/// `fn logs`.
#[derive(clap::Args, Debug)]
pub struct LogsArgs {
    /// Function name.
    name: String,
    /// Only this request.
    #[arg(long)]
    request_id: Option<String>,
    /// Only lines newer than this (e.g. 30s, 10m, 2h, 1d).
    #[arg(long)]
    since: Option<String>,
    /// Keep printing new lines.
    #[arg(long, short = 'f')]
    follow: bool,
    /// At most this many lines (the newest).
    #[arg(long, default_value_t = 200)]
    limit: usize,
}

pub fn invoke(client: &Client, out: Format, a: InvokeArgs) -> anyhow::Result<()> {
    let event = match a.data.strip_prefix('@') {
        Some(path) => std::fs::read(path).with_context(|| format!("read {path}"))?,
        None => a.data.clone().into_bytes(),
    };
    let target = match (&a.version, &a.alias) {
        (Some(v), _) => format!("{}:{v}", client.urn(&a.name)),
        (_, Some(al)) => format!("{}:!{al}", client.urn(&a.name)),
        _ => client.urn(&a.name),
    };
    if a.asynchronous {
        let accepted = client.invoke_async(&target, &event)?;
        output::show(
            out,
            &accepted,
            &["request id"],
            vec![vec![accepted.request_id.clone()]],
        );
        return Ok(());
    }
    let opts = InvokeOptions {
        log: a.log,
        memory: a.memory,
    };
    let (resp, raw) = client.invoke(&target, &event, &opts)?;
    let summary: serde_json::Value = raw
        .header("x-cff-invoke-summary")
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let failed = raw.header("x-is-func-err") == Some("true");
    if out == Format::Json {
        let v = serde_json::json!({
            "request_id": resp.request_id,
            "result": resp.result,
            "log": resp.log,
            "status": resp.status,
            "function_error": failed,
            "error_code": raw.header("x-func-err-code").unwrap_or("0"),
            "summary": summary,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("{}", resp.result);
        if a.log && !resp.log.is_empty() {
            println!("\n--- log ---\n{}", resp.log);
        }
        println!(
            "\n--- summary ---\nrequest id: {}\nstatus: {}\nduration: {} ms\nbilled duration: {} ms\nmemory used: {} MB of {} MB",
            resp.request_id,
            if failed { format!("failed (error code {})", raw.header("x-func-err-code").unwrap_or("?")) } else { "succeeded".into() },
            summary["duration"],
            summary["billingDuration"],
            summary["memoryUsed"],
            summary["memorySize"],
        );
    }
    if failed {
        anyhow::bail!("the function failed");
    }
    Ok(())
}

fn parse_since(s: &str) -> anyhow::Result<Duration> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .with_context(|| format!("--since {s:?}: expected e.g. 30s, 10m, 2h, 1d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => anyhow::bail!("--since {s:?}: unit must be s, m, h or d"),
    };
    Ok(Duration::from_secs(secs))
}

pub fn logs(client: &Client, out: Format, a: LogsArgs) -> anyhow::Result<()> {
    let mut query: Vec<(&str, String)> = vec![("limit", a.limit.clamp(1, 10_000).to_string())];
    if let Some(r) = &a.request_id {
        query.push(("request_id", r.clone()));
    }
    if let Some(s) = &a.since {
        let since = chrono::Utc::now().timestamp_millis() - parse_since(s)?.as_millis() as i64;
        query.push(("since", since.to_string()));
    }
    let mut after: Option<i64> = None;
    loop {
        let mut q = query.clone();
        if let Some(seq) = after {
            q.push(("after", seq.to_string()));
        }
        let page = client.logs(&a.name, &q)?;
        match out {
            Format::Json => {
                for l in &page.logs {
                    println!("{}", serde_json::to_string(l)?);
                }
            }
            Format::Table => {
                for l in &page.logs {
                    println!("{}", l.message);
                }
            }
        }
        if !a.follow {
            if page.logs.is_empty() && out == Format::Table && after.is_none() {
                output::done(out, "(no log lines)");
            }
            return Ok(());
        }
        after = Some(page.next_seq);
        std::thread::sleep(Duration::from_millis(500));
    }
}
