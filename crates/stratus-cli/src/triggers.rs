//! `stratus trigger ...`.

use crate::output::{self, Format};
use serde_json::json;
use stratus_api_types::{TriggerBody, TriggerUpdateBody, TriggerView};
use stratus_client::Client;

/// The trigger subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TriggerCommand {
    /// Create a trigger on a function: a timer (--timer 'cron | @every 30s | 5m') or an
    /// API gateway trigger (--apig --path /p), whose URL is printed.
    Create(CreateArgs),
    /// List the triggers of a function.
    List {
        /// Function name (or a URN with a version or alias).
        name: String,
    },
    /// Show one trigger.
    Get(IdArgs),
    /// Enable a trigger.
    Enable(IdArgs),
    /// Disable a trigger (API gateway triggers cannot be disabled, only deleted).
    Disable(IdArgs),
    /// Delete a trigger.
    Delete(IdArgs),
}

/// Security authentication of an API.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthArg {
    /// Anyone may call it.
    None,
    /// Requests signed with an AppKey/AppSecret (`stratus app-key create`).
    App,
    /// Requests signed with one of the platform's access keys.
    Iam,
}

/// `trigger create`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("kind").required(true).args(["timer", "apig"])))]
pub struct CreateArgs {
    /// Function name (or a URN with a version or alias).
    name: String,
    /// Timer schedule: a six-field cron expression, `@every 1m30s`, or a fixed rate
    /// such as `5m`, `2h`, `1d`.
    #[arg(long)]
    timer: Option<String>,
    /// Publish an API on the gateway that invokes the function.
    #[arg(long)]
    apig: bool,
    /// Additional information, passed to the function as `user_event` (timers).
    #[arg(long, requires = "timer")]
    data: Option<String>,
    /// Trigger name (timers) or API name (--apig).
    #[arg(long = "trigger-name")]
    trigger_name: Option<String>,
    /// Create it disabled (timers).
    #[arg(long, requires = "timer")]
    disabled: bool,
    /// API path, with `{name}` segments for path parameters (--apig).
    #[arg(long, conflicts_with = "timer", required_if_eq("apig", "true"))]
    path: Option<String>,
    /// Request method: GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY (default ANY).
    #[arg(long, conflicts_with = "timer")]
    method: Option<String>,
    /// Security authentication (default none).
    #[arg(long, value_enum, conflicts_with = "timer")]
    auth: Option<AuthArg>,
    /// Invoke asynchronously: the gateway answers 202 at once.
    #[arg(long = "async", conflicts_with = "timer")]
    asynchronous: bool,
    /// API group, the first segment of the URL (default: the project id).
    #[arg(long, conflicts_with = "timer")]
    group: Option<String>,
    /// Environment (default RELEASE; others are called with the X-Stage header).
    #[arg(long, conflicts_with = "timer")]
    env: Option<String>,
    /// Backend timeout in milliseconds, 1 to 60000 (default 5000).
    #[arg(long = "timeout-ms", conflicts_with = "timer")]
    timeout_ms: Option<u64>,
    /// Match the path as a prefix (match mode SWA) instead of exactly.
    #[arg(long, conflicts_with = "timer")]
    prefix: bool,
}

/// A trigger of a function.
#[derive(clap::Args, Debug)]
pub struct IdArgs {
    /// Function name.
    name: String,
    /// Trigger id.
    id: String,
    /// Trigger type (default: looked up from the function's triggers).
    #[arg(long = "type")]
    type_code: Option<String>,
}

/// A fixed rate is a number and one of m, h, d; everything else is a cron expression.
fn schedule_type(s: &str) -> &'static str {
    let s = s.trim();
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) && matches!(unit, "m" | "h" | "d")
    {
        "Rate"
    } else {
        "Cron"
    }
}

fn show(out: Format, list: &[TriggerView]) {
    let rows = list
        .iter()
        .map(|t| {
            let d = &t.event_data;
            let what = match d.get("schedule").and_then(|s| s.as_str()) {
                Some(s) => s.to_string(),
                None => d
                    .get("invoke_url")
                    .and_then(|s| s.as_str())
                    .unwrap_or("")
                    .to_string(),
            };
            vec![
                t.trigger_id.clone(),
                t.trigger_type_code.clone(),
                t.trigger_status.clone(),
                d.get("name")
                    .and_then(|s| s.as_str())
                    .unwrap_or("")
                    .to_string(),
                what,
            ]
        })
        .collect();
    output::show(
        out,
        &list,
        &["id", "type", "status", "name", "schedule / url"],
        rows,
    );
}

fn timer_body(a: &CreateArgs, schedule: &str) -> TriggerBody {
    let mut data = json!({
        "schedule_type": schedule_type(schedule),
        "schedule": schedule.trim(),
        "user_event": a.data.clone().unwrap_or_default(),
    });
    if let Some(n) = &a.trigger_name {
        data["name"] = json!(n);
    }
    TriggerBody {
        trigger_type_code: Some("TIMER".into()),
        trigger_status: Some(if a.disabled { "DISABLED" } else { "ACTIVE" }.into()),
        event_type_code: Some("MessageCreated".into()),
        event_data: Some(data),
    }
}

fn apig_body(a: &CreateArgs) -> TriggerBody {
    let auth = match a.auth.unwrap_or(AuthArg::None) {
        AuthArg::None => "NONE",
        AuthArg::App => "APP",
        AuthArg::Iam => "IAM",
    };
    let mut func_info = json!({
        "invocation_type": if a.asynchronous { "async" } else { "sync" },
    });
    if let Some(t) = a.timeout_ms {
        func_info["timeout"] = json!(t);
    }
    let mut data = json!({
        "path": a.path.clone().unwrap_or_default(),
        "req_method": a.method.clone().unwrap_or_else(|| "ANY".into()),
        "auth": auth,
        "match_mode": if a.prefix { "SWA" } else { "NORMAL" },
        "func_info": func_info,
    });
    for (k, v) in [
        ("name", &a.trigger_name),
        ("group_id", &a.group),
        ("env_name", &a.env),
    ] {
        if let Some(v) = v {
            data[k] = json!(v);
        }
    }
    TriggerBody {
        trigger_type_code: Some("APIG".into()),
        trigger_status: Some("ACTIVE".into()),
        event_type_code: Some("APICreated".into()),
        event_data: Some(data),
    }
}

/// The type of a trigger, from the command line or from the function's triggers.
fn type_of(client: &Client, a: &IdArgs) -> anyhow::Result<String> {
    if let Some(t) = &a.type_code {
        return Ok(t.clone());
    }
    client
        .list_triggers(&a.name)?
        .into_iter()
        .find(|t| t.trigger_id == a.id)
        .map(|t| t.trigger_type_code)
        .ok_or_else(|| anyhow::anyhow!("function {} has no trigger {}", a.name, a.id))
}

pub fn run(client: &Client, out: Format, cmd: TriggerCommand) -> anyhow::Result<()> {
    match cmd {
        TriggerCommand::Create(a) => {
            let body = match &a.timer {
                Some(schedule) => timer_body(&a, schedule),
                None => apig_body(&a),
            };
            let t = client.create_trigger(&a.name, &body)?;
            show(out, std::slice::from_ref(&t));
            if let (Format::Table, Some(url)) =
                (out, t.event_data.get("invoke_url").and_then(|u| u.as_str()))
            {
                println!("URL: {url}");
            }
        }
        TriggerCommand::List { name } => show(out, &client.list_triggers(&name)?),
        TriggerCommand::Get(a) => {
            let code = type_of(client, &a)?;
            show(out, &[client.get_trigger(&a.name, &code, &a.id)?]);
        }
        TriggerCommand::Enable(a) => {
            let code = type_of(client, &a)?;
            let body = TriggerUpdateBody {
                trigger_status: Some("ACTIVE".into()),
                event_data: None,
            };
            show(out, &[client.update_trigger(&a.name, &code, &a.id, &body)?]);
        }
        TriggerCommand::Disable(a) => {
            let code = type_of(client, &a)?;
            let body = TriggerUpdateBody {
                trigger_status: Some("DISABLED".into()),
                event_data: None,
            };
            show(out, &[client.update_trigger(&a.name, &code, &a.id, &body)?]);
        }
        TriggerCommand::Delete(a) => {
            let code = type_of(client, &a)?;
            client.delete_trigger(&a.name, &code, &a.id)?;
            output::done(out, &format!("deleted trigger {}", a.id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::schedule_type;

    #[test]
    fn rates_and_crons_are_told_apart() {
        assert_eq!(schedule_type("5m"), "Rate");
        assert_eq!(schedule_type("24h"), "Rate");
        assert_eq!(schedule_type("3d"), "Rate");
        assert_eq!(schedule_type("@every 30s"), "Cron");
        assert_eq!(schedule_type("0 30 8 ? * MON-FRI"), "Cron");
        assert_eq!(schedule_type("m"), "Cron");
    }
}
