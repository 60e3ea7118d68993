//! async-config, async-events and async-cancel.

use crate::output::{self, Format};
use stratus_api_types::{AsyncConfigBody, AsyncConfigView, DestinationConfig, DestinationsConfig};
use stratus_client::Client;

/// `fn async-config`: with no option it shows the policy.
#[derive(clap::Args, Debug)]
pub struct ConfigArgs {
    /// Function name (or a full URN with a version or alias).
    name: String,
    /// Retries after a failure (0..3).
    #[arg(long)]
    max_retries: Option<i64>,
    /// Oldest event still run, seconds (1..86400).
    #[arg(long)]
    max_age: Option<i64>,
    /// Destination after success: fn:NAME or bucket:NAME[/PREFIX].
    #[arg(long)]
    on_success: Option<String>,
    /// Destination after the last failure: fn:NAME or bucket:NAME[/PREFIX].
    #[arg(long)]
    on_failure: Option<String>,
    /// Remove the policy.
    #[arg(long, conflicts_with_all = ["max_retries", "max_age", "on_success", "on_failure"])]
    delete: bool,
}

/// `fn async-events`.
#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    /// Function name (or a full URN).
    name: String,
    /// Only WAIT, RUNNING, SUCCESS, FAIL or DISCARD.
    #[arg(long)]
    status: Option<String>,
    /// Only this request.
    #[arg(long)]
    request_id: Option<String>,
    /// How far back, in hours (the API's default window is one hour).
    #[arg(long, default_value_t = 24)]
    hours: u32,
    /// At most this many records (1..500).
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

fn destination(client: &Client, spec: &str) -> anyhow::Result<DestinationConfig> {
    if let Some(f) = spec.strip_prefix("fn:") {
        let urn = if f.starts_with("urn:") {
            f.to_string()
        } else {
            format!("{}:latest", client.urn(f))
        };
        return Ok(DestinationConfig {
            destination: Some("FunctionGraph".into()),
            param: Some(serde_json::json!({ "func_urn": urn }).to_string()),
        });
    }
    if let Some(b) = spec.strip_prefix("bucket:") {
        let (bucket, prefix) = b.split_once('/').unwrap_or((b, ""));
        return Ok(DestinationConfig {
            destination: Some("OBS".into()),
            param: Some(serde_json::json!({ "bucket": bucket, "prefix": prefix }).to_string()),
        });
    }
    anyhow::bail!("destination {spec:?}: use fn:NAME or bucket:NAME[/PREFIX]")
}

fn show_config(out: Format, c: &AsyncConfigView) {
    let dest = |d: &Option<DestinationConfig>| {
        d.as_ref()
            .map(|d| {
                format!(
                    "{} {}",
                    d.destination.as_deref().unwrap_or(""),
                    d.param.as_deref().unwrap_or("")
                )
            })
            .unwrap_or_else(|| "-".into())
    };
    output::show(
        out,
        c,
        &["field", "value"],
        vec![
            vec!["urn".into(), c.func_urn.clone()],
            vec!["max retries".into(), c.max_async_retry_attempts.to_string()],
            vec![
                "max age".into(),
                format!("{} s", c.max_async_event_age_in_seconds),
            ],
            vec!["on success".into(), dest(&c.destination_config.on_success)],
            vec!["on failure".into(), dest(&c.destination_config.on_failure)],
            vec!["modified".into(), c.last_modified.clone()],
        ],
    );
}

pub fn config(client: &Client, out: Format, a: ConfigArgs) -> anyhow::Result<()> {
    if a.delete {
        client.delete_async_config(&a.name)?;
        output::done(out, &format!("removed the async policy of {}", a.name));
        return Ok(());
    }
    let changing = a.max_retries.is_some()
        || a.max_age.is_some()
        || a.on_success.is_some()
        || a.on_failure.is_some();
    if !changing {
        show_config(out, &client.get_async_config(&a.name)?);
        return Ok(());
    }
    // Options not given keep their current value.
    let current = client.get_async_config(&a.name).ok();
    let body = AsyncConfigBody {
        max_async_retry_attempts: a
            .max_retries
            .or(current.as_ref().map(|c| c.max_async_retry_attempts)),
        max_async_event_age_in_seconds: a
            .max_age
            .or(current.as_ref().map(|c| c.max_async_event_age_in_seconds)),
        destination_config: Some(DestinationsConfig {
            on_success: match &a.on_success {
                Some(s) => Some(destination(client, s)?),
                None => current
                    .as_ref()
                    .and_then(|c| c.destination_config.on_success.clone()),
            },
            on_failure: match &a.on_failure {
                Some(s) => Some(destination(client, s)?),
                None => current
                    .as_ref()
                    .and_then(|c| c.destination_config.on_failure.clone()),
            },
        }),
        ..Default::default()
    };
    show_config(out, &client.put_async_config(&a.name, &body)?);
    Ok(())
}

pub fn events(client: &Client, out: Format, a: EventsArgs) -> anyhow::Result<()> {
    let since = chrono::Utc::now() - chrono::Duration::hours(i64::from(a.hours.max(1)));
    let mut q: Vec<(&str, String)> = vec![
        ("limit", a.limit.clamp(1, 500).to_string()),
        (
            "query_begin_time",
            since.format("%Y-%m-%dT%H:%M:%S").to_string(),
        ),
    ];
    if let Some(s) = &a.status {
        q.push(("status", s.to_ascii_uppercase()));
    }
    if let Some(r) = &a.request_id {
        q.push(("request_id", r.clone()));
    }
    let page = client.async_invocations(&a.name, &q)?;
    let rows = page
        .invocations
        .iter()
        .map(|i| {
            vec![
                i.request_id.clone(),
                i.status.clone(),
                i.attempts.to_string(),
                i.start_time.clone(),
                i.end_time.clone(),
                if i.error_code == 0 {
                    String::new()
                } else {
                    format!("{}: {}", i.error_code, i.error_message)
                },
            ]
        })
        .collect();
    output::show(
        out,
        &page,
        &["request id", "status", "attempts", "start", "end", "error"],
        rows,
    );
    Ok(())
}

pub fn cancel(client: &Client, out: Format, name: &str, request_id: &str) -> anyhow::Result<()> {
    client.cancel_async(name, request_id)?;
    output::done(out, &format!("cancelled {request_id}"));
    Ok(())
}
