//! `stratus trigger ...`.

use crate::output::{self, Format};
use serde_json::json;
use stratus_api_types::{TriggerBody, TriggerUpdateBody, TriggerView};
use stratus_client::Client;

/// The trigger subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TriggerCommand {
    /// Create a trigger on a function (a timer: --timer 'cron | @every 30s | 5m').
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
    /// Disable a trigger.
    Disable(IdArgs),
    /// Delete a trigger.
    Delete(IdArgs),
}

/// `trigger create`.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Function name (or a URN with a version or alias).
    name: String,
    /// Timer schedule: a six-field cron expression, `@every 1m30s`, or a fixed rate
    /// such as `5m`, `2h`, `1d`.
    #[arg(long)]
    timer: String,
    /// Additional information, passed to the function as `user_event`.
    #[arg(long)]
    data: Option<String>,
    /// Trigger name.
    #[arg(long = "trigger-name")]
    trigger_name: Option<String>,
    /// Create it disabled.
    #[arg(long)]
    disabled: bool,
}

/// A trigger of a function.
#[derive(clap::Args, Debug)]
pub struct IdArgs {
    /// Function name.
    name: String,
    /// Trigger id.
    id: String,
    /// Trigger type.
    #[arg(long = "type", default_value = "TIMER")]
    type_code: String,
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

pub fn run(client: &Client, out: Format, cmd: TriggerCommand) -> anyhow::Result<()> {
    match cmd {
        TriggerCommand::Create(a) => {
            let mut data = json!({
                "schedule_type": schedule_type(&a.timer),
                "schedule": a.timer.trim(),
                "user_event": a.data.clone().unwrap_or_default(),
            });
            if let Some(n) = &a.trigger_name {
                data["name"] = json!(n);
            }
            let body = TriggerBody {
                trigger_type_code: Some("TIMER".into()),
                trigger_status: Some(if a.disabled { "DISABLED" } else { "ACTIVE" }.into()),
                event_type_code: Some("MessageCreated".into()),
                event_data: Some(data),
            };
            show(out, &[client.create_trigger(&a.name, &body)?]);
        }
        TriggerCommand::List { name } => show(out, &client.list_triggers(&name)?),
        TriggerCommand::Get(a) => show(out, &[client.get_trigger(&a.name, &a.type_code, &a.id)?]),
        TriggerCommand::Enable(a) => {
            let body = TriggerUpdateBody {
                trigger_status: Some("ACTIVE".into()),
                event_data: None,
            };
            show(
                out,
                &[client.update_trigger(&a.name, &a.type_code, &a.id, &body)?],
            );
        }
        TriggerCommand::Disable(a) => {
            let body = TriggerUpdateBody {
                trigger_status: Some("DISABLED".into()),
                event_data: None,
            };
            show(
                out,
                &[client.update_trigger(&a.name, &a.type_code, &a.id, &body)?],
            );
        }
        TriggerCommand::Delete(a) => {
            client.delete_trigger(&a.name, &a.type_code, &a.id)?;
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
