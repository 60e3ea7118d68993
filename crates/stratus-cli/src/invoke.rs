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

/// `@FILE` read from a file, anything else taken as it is.
pub(crate) fn data_arg(data: &str) -> anyhow::Result<Vec<u8>> {
    match data.strip_prefix('@') {
        Some(path) => std::fs::read(path).with_context(|| format!("read {path}")),
        None => Ok(data.as_bytes().to_vec()),
    }
}

/// The URN to call: `latest`, a version or an alias.
pub(crate) fn target(
    client: &Client,
    name: &str,
    version: Option<&str>,
    alias: Option<&str>,
) -> String {
    match (version, alias) {
        (Some(v), _) => format!("{}:{v}", client.urn(name)),
        (_, Some(al)) => format!("{}:!{al}", client.urn(name)),
        _ => client.urn(name),
    }
}

pub fn invoke(client: &Client, out: Format, a: InvokeArgs) -> anyhow::Result<()> {
    let event = data_arg(&a.data)?;
    let target = target(client, &a.name, a.version.as_deref(), a.alias.as_deref());
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
    call_and_print(client, out, &target, &event, &opts)
}

/// Invokes synchronously and prints what the console's test result shows (guide
/// section 6): the function output, the log tail when asked for, and the summary.
/// Fails when the function failed.
pub(crate) fn call_and_print(
    client: &Client,
    out: Format,
    target: &str,
    event: &[u8],
    opts: &InvokeOptions,
) -> anyhow::Result<()> {
    let (resp, raw) = client.invoke(target, event, opts)?;
    let summary: serde_json::Value = raw
        .header("x-cff-invoke-summary")
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let failed = raw.header("x-is-func-err") == Some("true");
    let error_code = raw.header("x-func-err-code").unwrap_or("0");
    if out == Format::Json {
        let v = serde_json::json!({
            "request_id": resp.request_id,
            "result": resp.result,
            "log": resp.log,
            "status": resp.status,
            "function_error": failed,
            "error_code": error_code,
            "summary": summary,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("Function Output\n{}", pretty(&resp.result));
        if opts.log {
            println!("\nLog Output\n{}", resp.log.trim_end());
        }
        let number = |k: &str| summary[k].as_f64().unwrap_or(0.0);
        let status = if failed {
            format!("failed (error code {error_code})")
        } else {
            "succeeded".into()
        };
        let rows = vec![
            vec!["Request ID".to_string(), resp.request_id.clone()],
            vec![
                "Memory Configured".into(),
                format!("{} MB", number("memorySize")),
            ],
            vec![
                "Execution Duration".into(),
                format!("{:.3} ms", number("duration")),
            ],
            vec![
                "Memory Used".into(),
                format!("{:.3} MB", number("memoryUsed")),
            ],
            vec![
                "Billed Duration".into(),
                format!("{} ms", number("billingDuration")),
            ],
            vec!["Status".into(), status],
        ];
        println!("\nSummary");
        output::print_rows(&rows);
    }
    if failed {
        anyhow::bail!("the function failed");
    }
    Ok(())
}

/// A JSON object or array on one line indented, with its keys in their order; any other
/// text as it came.
pub(crate) fn pretty(text: &str) -> String {
    let compact = text.trim();
    let is_container = compact.starts_with('{') || compact.starts_with('[');
    if !is_container
        || compact.contains('\n')
        || serde_json::from_str::<serde::de::IgnoredAny>(compact).is_err()
    {
        return text.to_string();
    }
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = compact.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // Skip the whitespace inside an empty container and keep it on one line.
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if chars.peek().is_some_and(|n| *n == '}' || *n == ']') {
                    if let Some(close) = chars.next() {
                        out.push(close);
                    }
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_indents_one_line_json_and_keeps_key_order() {
        assert_eq!(
            pretty(r#"{"z":1,"a":[1,{"s":"x, {y}: \"q\""}],"e":{},"l":[ ]}"#),
            "{\n  \"z\": 1,\n  \"a\": [\n    1,\n    {\n      \"s\": \"x, {y}: \\\"q\\\"\"\n    }\n  ],\n  \"e\": {},\n  \"l\": []\n}"
        );
        for as_is in ["hello", "\"text\"", "42", "{not json", "{\n  \"a\": 1\n}"] {
            assert_eq!(pretty(as_is), as_is);
        }
    }
}
