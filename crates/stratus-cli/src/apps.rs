//! `stratus app-key ...`: the AppKey/AppSecret pairs of App-authenticated API triggers.

use crate::output::{self, Format};
use stratus_api_types::{AppBody, AppView};
use stratus_client::Client;

/// The app-key subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum AppKeyCommand {
    /// Create an app and print its AppKey and AppSecret (the secret is shown only here).
    Create {
        /// App name: 3 to 64 letters, digits or '_', starting with a letter (default:
        /// generated).
        #[arg(long)]
        name: Option<String>,
        /// Free text.
        #[arg(long)]
        remark: Option<String>,
    },
    /// List the project's apps (without secrets).
    List,
    /// Delete an app: requests signed with its key are refused from then on.
    Delete {
        /// App id (from `app-key list`).
        id: String,
    },
}

fn show(out: Format, apps: &[AppView]) {
    let rows = apps
        .iter()
        .map(|a| {
            let mut row = vec![a.id.clone(), a.name.clone(), a.app_key.clone()];
            if let Some(s) = &a.app_secret {
                row.push(s.clone());
            }
            row
        })
        .collect();
    let header: &[&str] = if apps.iter().any(|a| a.app_secret.is_some()) {
        &["id", "name", "app key", "app secret"]
    } else {
        &["id", "name", "app key"]
    };
    output::show(out, &apps, header, rows);
}

pub fn run(client: &Client, out: Format, cmd: AppKeyCommand) -> anyhow::Result<()> {
    match cmd {
        AppKeyCommand::Create { name, remark } => {
            let app = client.create_app(&AppBody { name, remark })?;
            match out {
                Format::Json => output::show(out, &app, &[], vec![]),
                Format::Table => {
                    println!("app:        {} ({})", app.name, app.id);
                    println!("AppKey:     {}", app.app_key);
                    println!(
                        "AppSecret:  {}",
                        app.app_secret.as_deref().unwrap_or_default()
                    );
                    println!("The secret is shown only now; keep it safe.");
                }
            }
        }
        AppKeyCommand::List => show(out, &client.list_apps()?.apps),
        AppKeyCommand::Delete { id } => {
            client.delete_app(&id)?;
            output::done(out, &format!("deleted app {id}"));
        }
    }
    Ok(())
}
