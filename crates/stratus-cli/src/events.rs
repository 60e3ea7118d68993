//! Test events and templates: `fn test`, `fn events`, `fn event-save`, `fn event-delete`,
//! `fn templates`.

use crate::invoke::{call_and_print, data_arg, target};
use crate::output::{self, Format};
use anyhow::Context;
use stratus_client::{event_content, Client, ClientError, InvokeOptions};

/// The template used when `fn test` is given no event.
const DEFAULT_TEMPLATE: &str = "blank-template";

/// `fn test`.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Function name.
    name: String,
    /// A saved test event (see `fn events`).
    #[arg(long, group = "source")]
    event: Option<String>,
    /// An event template (see `fn templates`), e.g. apig-event-template.
    #[arg(long, group = "source")]
    template: Option<String>,
    /// Event JSON, or @FILE to read it from a file.
    #[arg(long, short = 'd', group = "source")]
    data: Option<String>,
    /// Test a published version.
    #[arg(long, conflicts_with = "alias")]
    version: Option<String>,
    /// Test through an alias.
    #[arg(long)]
    alias: Option<String>,
}

/// `fn event-save`.
#[derive(clap::Args, Debug)]
pub struct SaveArgs {
    /// Function name.
    name: String,
    /// Event name: 1-25 letters, digits, '-' or '_', starting with a letter and ending
    /// with a letter or digit.
    event_name: String,
    /// Event JSON, or @FILE to read it from a file.
    #[arg(
        long,
        short = 'd',
        group = "source",
        required_unless_present = "template"
    )]
    data: Option<String>,
    /// Start from an event template instead (see `fn templates`).
    #[arg(long, group = "source")]
    template: Option<String>,
}

/// `fn test`: invokes with the log tail and prints output, log and summary.
pub fn test(client: &Client, out: Format, a: TestArgs) -> anyhow::Result<()> {
    let event = match (&a.event, &a.template, &a.data) {
        (Some(e), _, _) => saved_event(client, &a.name, e)?,
        (_, Some(t), _) => template_event(client, t)?,
        (_, _, Some(d)) => data_arg(d)?,
        _ => {
            eprintln!("no event given: testing with {DEFAULT_TEMPLATE}");
            template_event(client, DEFAULT_TEMPLATE)?
        }
    };
    let target = target(client, &a.name, a.version.as_deref(), a.alias.as_deref());
    let opts = InvokeOptions {
        log: true,
        memory: None,
    };
    call_and_print(client, out, &target, &event, &opts)
}

fn saved_event(client: &Client, function: &str, event_name: &str) -> anyhow::Result<Vec<u8>> {
    let Some(found) = client.find_event(function, event_name)? else {
        let names: Vec<String> = client
            .list_events(function)?
            .events
            .into_iter()
            .map(|e| e.name)
            .collect();
        anyhow::bail!(
            "{function} has no test event {event_name:?}; its events: {}",
            if names.is_empty() {
                "none (save one with fn event-save)".to_string()
            } else {
                names.join(", ")
            }
        );
    };
    let detail = client.get_event(function, &found.id)?;
    Ok(event_content(&detail)?)
}

fn template_event(client: &Client, template: &str) -> anyhow::Result<Vec<u8>> {
    let t = client.event_template(template)?;
    Ok(t.content.get().as_bytes().to_vec())
}

/// `fn events NAME [EVENT_NAME]`: lists the saved events, or prints one.
pub fn list(
    client: &Client,
    out: Format,
    function: &str,
    event_name: Option<&str>,
) -> anyhow::Result<()> {
    if let Some(event_name) = event_name {
        let event = saved_event(client, function, event_name)?;
        let text = String::from_utf8(event).context("the stored event is not UTF-8 JSON")?;
        println!("{}", crate::invoke::pretty(&text));
        return Ok(());
    }
    let list = client.list_events(function)?;
    let rows = list
        .events
        .iter()
        .map(|e| {
            vec![
                e.name.clone(),
                e.id.clone(),
                chrono::DateTime::from_timestamp(e.last_modified, 0)
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    output::show(out, &list, &["NAME", "ID", "MODIFIED"], rows);
    Ok(())
}

/// `fn event-save`: creates the event, or replaces the content of the one of that name.
pub fn save(client: &Client, out: Format, a: SaveArgs) -> anyhow::Result<()> {
    let event = match (&a.data, &a.template) {
        (Some(d), _) => data_arg(d)?,
        (_, Some(t)) => template_event(client, t)?,
        _ => anyhow::bail!("give --data or --template"),
    };
    let (verb, saved) = match client.find_event(&a.name, &a.event_name)? {
        Some(existing) => (
            "updated",
            client.update_event(&a.name, &existing.id, &event)?,
        ),
        None => (
            "created",
            client.create_event(&a.name, &a.event_name, &event)?,
        ),
    };
    match out {
        Format::Json => output::show(out, &saved, &[], Vec::new()),
        Format::Table => println!(
            "{verb} test event {} ({}) of {}",
            saved.name, saved.id, a.name
        ),
    }
    Ok(())
}

/// `fn event-delete`.
pub fn delete(
    client: &Client,
    out: Format,
    function: &str,
    event_name: &str,
) -> anyhow::Result<()> {
    let Some(found) = client.find_event(function, event_name)? else {
        anyhow::bail!("{function} has no test event {event_name:?}");
    };
    client.delete_event(function, &found.id)?;
    output::done(
        out,
        &format!("deleted test event {event_name} of {function}"),
    );
    Ok(())
}

/// `fn templates [NAME]`: lists the event and function templates, or shows one.
pub fn templates(client: &Client, out: Format, name: Option<&str>) -> anyhow::Result<()> {
    let Some(name) = name else {
        let events = client.event_templates()?;
        let functions = client.function_templates()?;
        if out == Format::Json {
            let v = serde_json::json!({
                "event_templates": events.templates,
                "function_templates": functions.func_templates,
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        println!("Event templates (fn test NAME --template T, fn event-save ... --template T)");
        let rows: Vec<Vec<String>> = events
            .templates
            .iter()
            .map(|t| vec![t.name.clone(), t.description.clone()])
            .collect();
        output::print_table(&["NAME", "DESCRIPTION"], &rows);
        println!("\nFunction templates (fn create NAME --template T)");
        let rows: Vec<Vec<String>> = functions
            .func_templates
            .iter()
            .map(|t| {
                vec![
                    t.template_name.clone(),
                    t.runtime.clone(),
                    t.service.clone(),
                    t.description.clone(),
                ]
            })
            .collect();
        output::print_table(&["NAME", "RUNTIME", "SERVICE", "DESCRIPTION"], &rows);
        return Ok(());
    };
    match client.event_template(name) {
        Ok(t) => {
            match out {
                Format::Json => output::show(out, &t, &[], Vec::new()),
                Format::Table => println!("{}", t.content.get()),
            }
            return Ok(());
        }
        Err(ClientError::Api { status: 404, .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let t = match client.function_template(name) {
        Ok(t) => t,
        Err(ClientError::Api { status: 404, .. }) => {
            anyhow::bail!("there is no event or function template {name:?}; see fn templates")
        }
        Err(e) => return Err(e.into()),
    };
    let row = |k: &str, v: String| vec![k.to_string(), v];
    let rows = vec![
        row("name", t.template_name.clone()),
        row("title", t.title.clone()),
        row("runtime", t.runtime.clone()),
        row("handler", t.handler.clone()),
        row("memory", format!("{} MB", t.memory_size)),
        row("timeout", format!("{} s", t.timeout)),
        row(
            "trigger",
            t.trigger_metadata_list
                .iter()
                .map(|m| format!("{} ({})", m.trigger_type, m.event_type))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        row("test event", t.temp_detail.input.clone()),
        row("description", t.description.clone()),
    ];
    let mut shown = t.clone();
    shown.code = format!("<{} bytes of base64 zip>", t.code.len());
    output::show(out, &shown, &["field", "value"], rows);
    Ok(())
}
