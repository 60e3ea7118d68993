//! The `stratus fn ...`, `trigger ...`, `dep ...` and `app-key ...` commands. Reaches the
//! server only through `stratus-client`.

mod apps;
mod asyncs;
mod code;
mod deps;
mod events;
mod invoke;
mod manage;
mod output;
mod triggers;
mod versions;

use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use stratus_client::{Client, Credentials};

/// Top-level CLI commands.
#[derive(Subcommand, Debug)]
pub enum Cli {
    /// Manage and invoke functions.
    #[command(name = "fn")]
    Fn(FnArgs),
    /// Manage triggers (timers, API gateway).
    Trigger(TriggerArgs),
    /// Manage dependency packages and their versions.
    Dep(DepArgs),
    /// Manage the AppKey/AppSecret pairs of App-authenticated API triggers.
    #[command(name = "app-key")]
    AppKey(AppKeyArgs),
}

/// Options shared by every `app-key` command, plus the command.
#[derive(Args, Debug)]
pub struct AppKeyArgs {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "table")]
    output: output::Format,
    /// Credentials file (default: STRATUS_* variables, then ./stratus-data/credentials.json).
    #[arg(long, global = true, env = "STRATUS_PROFILE")]
    profile: Option<PathBuf>,
    #[command(subcommand)]
    command: apps::AppKeyCommand,
}

/// Options shared by every `trigger` command, plus the command.
#[derive(Args, Debug)]
pub struct TriggerArgs {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "table")]
    output: output::Format,
    /// Credentials file (default: STRATUS_* variables, then ./stratus-data/credentials.json).
    #[arg(long, global = true, env = "STRATUS_PROFILE")]
    profile: Option<PathBuf>,
    #[command(subcommand)]
    command: triggers::TriggerCommand,
}

/// Options shared by every `dep` command, plus the command.
#[derive(Args, Debug)]
pub struct DepArgs {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "table")]
    output: output::Format,
    /// Credentials file (default: STRATUS_* variables, then ./stratus-data/credentials.json).
    #[arg(long, global = true, env = "STRATUS_PROFILE")]
    profile: Option<PathBuf>,
    #[command(subcommand)]
    command: deps::DepCommand,
}

/// Options shared by every `fn` command, plus the command.
#[derive(Args, Debug)]
pub struct FnArgs {
    /// Output format. Long form only: `-o` is the output file of `fn export`.
    #[arg(long, global = true, value_enum, default_value = "table")]
    output: output::Format,
    /// Credentials file (default: STRATUS_* variables, then ./stratus-data/credentials.json).
    #[arg(long, global = true, env = "STRATUS_PROFILE")]
    profile: Option<PathBuf>,
    #[command(subcommand)]
    command: FnCommand,
}

/// The `fn` subcommands.
#[derive(Subcommand, Debug)]
enum FnCommand {
    /// Create a function from a directory, a .zip/.jar, or a single source file.
    Create(manage::CreateArgs),
    /// List functions.
    List,
    /// Show a function's configuration.
    Get {
        /// Function name (or `package:name`, or a URN).
        name: String,
    },
    /// Replace a function's code.
    UpdateCode {
        /// Function name.
        name: String,
        /// Directory, .zip/.jar or single file.
        #[arg(long)]
        code: PathBuf,
    },
    /// Change a function's configuration.
    UpdateConfig(manage::UpdateArgs),
    /// Delete a function.
    Delete {
        /// Function name.
        name: String,
    },
    /// Download code and configuration as a zip.
    Export {
        /// Function name.
        name: String,
        /// Output file (default: the server's file name, `<name>-<md5>.zip`, in the
        /// current directory).
        #[arg(short = 'o', long = "out", short_alias = 'O', value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Invoke synchronously and print the result, the log tail and a summary.
    Invoke(invoke::InvokeArgs),
    /// Set requests per instance and max instances.
    Concurrency {
        /// Function name.
        name: String,
        /// Requests one instance serves at once (1..1000).
        #[arg(long)]
        per_instance: Option<i64>,
        /// Max instances (-1 unlimited, 0 disables).
        #[arg(long, allow_hyphen_values = true)]
        max_instances: Option<i64>,
    },
    /// Show stored log lines.
    Logs(invoke::LogsArgs),
    /// Show or set the asynchronous invocation policy (retries, age, destinations).
    AsyncConfig(asyncs::ConfigArgs),
    /// List asynchronous requests and their status.
    AsyncEvents(asyncs::EventsArgs),
    /// Disable a function: it cannot be invoked (max instances 0); versions published
    /// while disabled stay disabled.
    Disable {
        /// Function name.
        name: String,
    },
    /// Enable a disabled function again.
    Enable {
        /// Function name.
        name: String,
        /// Max instances once enabled (-1 unlimited).
        #[arg(long, default_value_t = 400, allow_hyphen_values = true)]
        max_instances: i64,
    },
    /// Create a function from a zip written by `fn export`.
    Import {
        /// The export zip.
        file: PathBuf,
        /// Name of the new function (default: the exported one).
        #[arg(long)]
        name: Option<String>,
        /// Package (function group) of the new function.
        #[arg(long)]
        package: Option<String>,
    },
    /// Keep a number of reserved (always warm) instances; 0 removes the policy.
    Reserve {
        /// Function name.
        name: String,
        /// Reserved instances.
        #[arg(long)]
        count: i64,
        /// For a published version (default: latest).
        #[arg(long, conflicts_with = "alias")]
        version: Option<String>,
        /// For an alias.
        #[arg(long)]
        alias: Option<String>,
    },
    /// Publish the current latest as an immutable version.
    Publish(versions::PublishArgs),
    /// List latest and the published versions.
    Versions {
        /// Function name.
        name: String,
    },
    /// Manage aliases (create, update, get, list, delete).
    #[command(subcommand)]
    Alias(versions::AliasCommand),
    /// Cancel an asynchronous request that is still waiting.
    AsyncCancel {
        /// Function name.
        name: String,
        /// The request id from `fn invoke --async`.
        request_id: String,
    },
    /// Test a function with a saved event, an event template or given JSON; prints the
    /// function output, the log (2 KB tail) and a summary.
    Test(events::TestArgs),
    /// List a function's saved test events, or print one.
    Events {
        /// Function name.
        name: String,
        /// Print this event's JSON.
        event_name: Option<String>,
    },
    /// Save a test event (at most 10 per function); replaces one of the same name.
    EventSave(events::SaveArgs),
    /// Delete a saved test event.
    EventDelete {
        /// Function name.
        name: String,
        /// Event name.
        event_name: String,
    },
    /// List the event and function templates, or show one.
    Templates {
        /// A template name.
        name: Option<String>,
    },
}

/// Runs a CLI command; prints the server's error and exits non-zero on failure.
pub fn run(cli: Cli) -> ExitCode {
    let result =
        match cli {
            Cli::Fn(args) => dispatch(args),
            Cli::Trigger(args) => client(args.profile.as_deref())
                .and_then(|c| triggers::run(&c, args.output, args.command)),
            Cli::Dep(args) => client(args.profile.as_deref())
                .and_then(|c| deps::run(&c, args.output, args.command)),
            Cli::AppKey(args) => client(args.profile.as_deref())
                .and_then(|c| apps::run(&c, args.output, args.command)),
        };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn client(profile: Option<&std::path::Path>) -> anyhow::Result<Client> {
    let creds = Credentials::resolve(profile, |k| std::env::var(k).ok().filter(|v| !v.is_empty()))?;
    Ok(Client::new(creds))
}

fn dispatch(args: FnArgs) -> anyhow::Result<()> {
    let client = client(args.profile.as_deref())?;
    let out = args.output;
    match args.command {
        FnCommand::Create(a) => manage::create(&client, out, a),
        FnCommand::List => manage::list(&client, out),
        FnCommand::Get { name } => manage::get(&client, out, &name),
        FnCommand::UpdateCode { name, code } => manage::update_code(&client, out, &name, &code),
        FnCommand::UpdateConfig(a) => manage::update_config(&client, out, a),
        FnCommand::Delete { name } => {
            client.delete_function(&name)?;
            output::done(out, &format!("deleted {name}"));
            Ok(())
        }
        FnCommand::Export { name, out: file } => manage::export(&client, out, &name, file),
        FnCommand::Invoke(a) => invoke::invoke(&client, out, a),
        FnCommand::Concurrency {
            name,
            per_instance,
            max_instances,
        } => manage::concurrency(&client, out, &name, per_instance, max_instances),
        FnCommand::Logs(a) => invoke::logs(&client, out, a),
        FnCommand::Disable { name } => manage::concurrency(&client, out, &name, None, Some(0)),
        FnCommand::Enable {
            name,
            max_instances,
        } => {
            anyhow::ensure!(
                max_instances != 0,
                "--max-instances 0 would leave the function disabled"
            );
            manage::concurrency(&client, out, &name, None, Some(max_instances))
        }
        FnCommand::Import {
            file,
            name,
            package,
        } => {
            let zip = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("read {}: {e}", file.display()))?;
            let c = client.import_function(&zip, name.as_deref(), package.as_deref())?;
            output::done(
                out,
                &format!("imported {} as {}", file.display(), c.func_urn),
            );
            Ok(())
        }
        FnCommand::Reserve {
            name,
            count,
            version,
            alias,
        } => {
            let target = match (&version, &alias) {
                (Some(v), _) => format!("{}:{v}", client.urn(&name)),
                (_, Some(a)) => format!("{}:!{a}", client.urn(&name)),
                _ => format!("{}:latest", client.urn(&name)),
            };
            let body = stratus_api_types::ReservedBody {
                count: Some(count),
                ..Default::default()
            };
            client.set_reserved(&target, &body)?;
            let live = client.reserved_instances(&name)?;
            let rows = live
                .reservedinstances
                .iter()
                .map(|r| vec![r.func_urn.clone(), r.count.to_string()])
                .collect();
            output::show(out, &live, &["urn", "live reserved instances"], rows);
            Ok(())
        }
        FnCommand::Publish(a) => versions::publish(&client, out, a),
        FnCommand::Versions { name } => versions::versions(&client, out, &name),
        FnCommand::Alias(cmd) => versions::alias(&client, out, cmd),
        FnCommand::AsyncConfig(a) => asyncs::config(&client, out, a),
        FnCommand::AsyncEvents(a) => asyncs::events(&client, out, a),
        FnCommand::AsyncCancel { name, request_id } => {
            asyncs::cancel(&client, out, &name, &request_id)
        }
        FnCommand::Test(a) => events::test(&client, out, a),
        FnCommand::Events { name, event_name } => {
            events::list(&client, out, &name, event_name.as_deref())
        }
        FnCommand::EventSave(a) => events::save(&client, out, a),
        FnCommand::EventDelete { name, event_name } => {
            events::delete(&client, out, &name, &event_name)
        }
        FnCommand::Templates { name } => events::templates(&client, out, name.as_deref()),
    }
}
