//! create, list, get, update, export, concurrency.

use crate::code;
use crate::output::{self, Format};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::PathBuf;
use stratus_api_types::{CodeBody, FuncCode, FunctionBody, FunctionConfig, StrategyConfig};
use stratus_client::Client;

/// `fn create`.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Function name.
    name: String,
    /// Start from a built-in function template (its code, runtime, handler, memory and
    /// timeout; see `fn templates`).
    #[arg(long, conflicts_with_all = ["runtime", "code", "handler"])]
    template: Option<String>,
    /// Runtime id, e.g. Python3.9, Node.js18.15, Custom.
    #[arg(long, required_unless_present = "template")]
    runtime: Option<String>,
    /// Handler (default per runtime: index.handler, bootstrap, ...).
    #[arg(long)]
    handler: Option<String>,
    /// Memory, MB.
    #[arg(long)]
    memory: Option<i64>,
    /// Timeout, seconds.
    #[arg(long)]
    timeout: Option<i64>,
    /// Environment variable KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Code: a directory, a .zip/.jar, or a single source file.
    #[arg(long, required_unless_present = "template")]
    code: Option<PathBuf>,
    /// Description.
    #[arg(long)]
    description: Option<String>,
    /// Function group.
    #[arg(long)]
    package: Option<String>,
    /// Initializer handler.
    #[arg(long)]
    initializer: Option<String>,
    /// Initializer timeout, seconds.
    #[arg(long)]
    initializer_timeout: Option<i64>,
    /// Dependency version to merge into the code, NAME:VERSION (repeatable, in order:
    /// earlier ones win a file-name clash; the function's code wins over all).
    #[arg(long = "dep", value_name = "NAME:VERSION")]
    deps: Vec<String>,
}

/// `fn update-config`.
#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    /// Function name.
    name: String,
    /// Handler.
    #[arg(long)]
    handler: Option<String>,
    /// Memory, MB.
    #[arg(long)]
    memory: Option<i64>,
    /// Timeout, seconds.
    #[arg(long)]
    timeout: Option<i64>,
    /// Environment variables KEY=VALUE; replaces all variables when given.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Description.
    #[arg(long)]
    description: Option<String>,
    /// Initializer handler.
    #[arg(long)]
    initializer: Option<String>,
    /// Initializer timeout, seconds.
    #[arg(long)]
    initializer_timeout: Option<i64>,
    /// Dependency versions, NAME:VERSION (repeatable); replaces the current list.
    #[arg(long = "dep", value_name = "NAME:VERSION", conflicts_with = "no_deps")]
    deps: Vec<String>,
    /// Remove every dependency.
    #[arg(long)]
    no_deps: bool,
}

fn env_json(pairs: &[String]) -> anyhow::Result<Option<String>> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut map = BTreeMap::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .with_context(|| format!("--env {p:?} must be KEY=VALUE"))?;
        map.insert(k.to_string(), v.to_string());
    }
    Ok(Some(serde_json::to_string(&map)?))
}

fn summary_rows(c: &FunctionConfig) -> Vec<Vec<String>> {
    let row = |k: &str, v: String| vec![k.to_string(), v];
    vec![
        row("name", c.func_name.clone()),
        row("urn", c.func_urn.clone()),
        row("runtime", c.runtime.clone()),
        row("handler", c.handler.clone()),
        row("memory", format!("{} MB", c.memory_size)),
        row("timeout", format!("{} s", c.timeout)),
        row(
            "code",
            format!(
                "{} {} ({} bytes)",
                c.code_type, c.code_filename, c.code_size
            ),
        ),
        row(
            "digest",
            c.digest.chars().take(16).collect::<String>() + "…",
        ),
        row(
            "concurrency",
            format!(
                "{} per instance, max instances {}",
                c.strategy_config.concurrent_num.unwrap_or(1),
                c.strategy_config.concurrency.unwrap_or(-1)
            ),
        ),
        row(
            "env",
            if c.user_data.is_empty() {
                "-".into()
            } else {
                c.user_data.clone()
            },
        ),
        row(
            "initializer",
            if c.initializer_handler.is_empty() {
                "-".into()
            } else {
                c.initializer_handler.clone()
            },
        ),
        row("dependencies", crate::deps::summary(&c.dependencies)),
        row("description", c.description.clone()),
        row("modified", c.last_modified.clone()),
    ]
}

fn show_config(out: Format, c: &FunctionConfig) {
    output::show(out, c, &["field", "value"], summary_rows(c));
}

/// What a new function starts from: its runtime, handler, code and defaults.
struct Origin {
    runtime: String,
    handler: Option<String>,
    memory: Option<i64>,
    timeout: Option<i64>,
    code_type: String,
    filename: String,
    file: String,
    description: Option<String>,
    /// The event template to test it with, for the hint after creating.
    test_event: Option<String>,
}

fn origin(client: &Client, a: &CreateArgs) -> anyhow::Result<Origin> {
    if let Some(name) = &a.template {
        let t = client
            .function_template(name)
            .with_context(|| format!("function template {name:?} (see fn templates)"))?;
        return Ok(Origin {
            runtime: t.runtime,
            handler: Some(t.handler),
            memory: Some(t.memory_size),
            timeout: Some(t.timeout),
            code_type: t.code_type,
            filename: format!("{}.zip", t.template_name),
            file: t.code,
            description: Some(t.description),
            test_event: Some(t.temp_detail.input).filter(|s| !s.is_empty()),
        });
    }
    let (Some(runtime), Some(path)) = (&a.runtime, &a.code) else {
        anyhow::bail!("give --runtime and --code, or --template");
    };
    let (code_type, filename, file) = code::from_path(path)?;
    Ok(Origin {
        runtime: runtime.clone(),
        handler: a.handler.clone(),
        memory: None,
        timeout: None,
        code_type,
        filename,
        file,
        description: None,
        test_event: None,
    })
}

pub fn create(client: &Client, out: Format, a: CreateArgs) -> anyhow::Result<()> {
    let from = origin(client, &a)?;
    let body = FunctionBody {
        func_name: Some(a.name.clone()),
        package: Some(a.package.unwrap_or_else(|| "default".into())),
        runtime: Some(from.runtime),
        handler: from.handler,
        memory_size: a.memory.or(from.memory),
        timeout: a.timeout.or(from.timeout),
        code_type: Some(from.code_type),
        code_filename: Some(from.filename),
        func_code: Some(FuncCode {
            file: Some(from.file),
            link: None,
        }),
        user_data: env_json(&a.env)?,
        description: a.description.or(from.description),
        initializer_handler: a.initializer,
        initializer_timeout: a.initializer_timeout,
        func_type: Some("v2".into()),
        depend_version_list: if a.deps.is_empty() {
            None
        } else {
            Some(crate::deps::resolve_refs(client, &a.deps)?)
        },
        ..FunctionBody::default()
    };
    let c = client.create_function(&body, code::progress())?;
    show_config(out, &c);
    if let (Format::Table, Some(event)) = (out, from.test_event) {
        println!(
            "\ntest it with: stratus fn test {} --template {event}",
            a.name
        );
    }
    Ok(())
}

pub fn list(client: &Client, out: Format) -> anyhow::Result<()> {
    let mut all = Vec::new();
    let mut marker = 0usize;
    loop {
        let page = client.list_functions(marker, 400)?;
        let n = page.functions.len();
        all.extend(page.functions);
        if n == 0 || all.len() as i64 >= page.count {
            break;
        }
        marker = page.next_marker as usize;
    }
    let rows = all
        .iter()
        .map(|c| {
            vec![
                c.func_name.clone(),
                c.runtime.clone(),
                format!("{}", c.memory_size),
                format!("{}", c.timeout),
                c.handler.clone(),
                c.last_modified.clone(),
            ]
        })
        .collect();
    output::show(
        out,
        &all,
        &[
            "NAME", "RUNTIME", "MEMORY", "TIMEOUT", "HANDLER", "MODIFIED",
        ],
        rows,
    );
    Ok(())
}

pub fn get(client: &Client, out: Format, name: &str) -> anyhow::Result<()> {
    show_config(out, &client.get_config(name)?);
    Ok(())
}

pub fn update_code(
    client: &Client,
    out: Format,
    name: &str,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let (code_type, filename, file) = code::from_path(path)?;
    let body = CodeBody {
        code_type: Some(code_type),
        code_filename: Some(filename),
        func_code: Some(FuncCode {
            file: Some(file),
            link: None,
        }),
        ..CodeBody::default()
    };
    let c = client.update_code(name, &body, code::progress())?;
    let rows = vec![
        vec!["name".into(), c.func_name.clone()],
        vec![
            "code".into(),
            format!(
                "{} {} ({} bytes)",
                c.code_type, c.code_filename, c.code_size
            ),
        ],
        vec!["digest".into(), c.digest.clone()],
    ];
    output::show(out, &c, &["field", "value"], rows);
    Ok(())
}

pub fn update_config(client: &Client, out: Format, a: UpdateArgs) -> anyhow::Result<()> {
    let current = client.get_config(&a.name)?;
    // The SDK-required fields are always sent, as the official SDKs do.
    let body = FunctionBody {
        func_name: Some(current.func_name.clone()),
        runtime: Some(current.runtime.clone()),
        handler: Some(a.handler.unwrap_or(current.handler)),
        memory_size: Some(a.memory.unwrap_or(current.memory_size)),
        timeout: Some(a.timeout.unwrap_or(current.timeout)),
        user_data: env_json(&a.env)?,
        description: a.description,
        initializer_handler: a.initializer,
        initializer_timeout: a.initializer_timeout,
        depend_version_list: if a.no_deps {
            Some(Vec::new())
        } else if a.deps.is_empty() {
            None
        } else {
            Some(crate::deps::resolve_refs(client, &a.deps)?)
        },
        ..FunctionBody::default()
    };
    show_config(out, &client.update_config(&a.name, &body)?);
    Ok(())
}

pub fn export(
    client: &Client,
    out: Format,
    name: &str,
    file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let (server_name, bytes) = client.export_function(name)?;
    let path = file.unwrap_or_else(|| PathBuf::from(server_name));
    std::fs::write(&path, &bytes).with_context(|| format!("write {}", path.display()))?;
    output::done(
        out,
        &format!(
            "exported {name} to {} ({} bytes)",
            path.display(),
            bytes.len()
        ),
    );
    Ok(())
}

pub fn concurrency(
    client: &Client,
    out: Format,
    name: &str,
    per_instance: Option<i64>,
    max_instances: Option<i64>,
) -> anyhow::Result<()> {
    if per_instance.is_none() && max_instances.is_none() {
        anyhow::bail!("give --per-instance and/or --max-instances");
    }
    let mut c = client.get_config(name)?;
    if let Some(n) = per_instance {
        let body = FunctionBody {
            func_name: Some(c.func_name.clone()),
            runtime: Some(c.runtime.clone()),
            handler: Some(c.handler.clone()),
            memory_size: Some(c.memory_size),
            timeout: Some(c.timeout),
            strategy_config: Some(StrategyConfig {
                concurrency: None,
                concurrent_num: Some(n),
            }),
            ..FunctionBody::default()
        };
        c = client.update_config(name, &body)?;
    }
    if let Some(m) = max_instances {
        c = client.set_max_instances(name, m)?;
    }
    show_config(out, &c);
    Ok(())
}
