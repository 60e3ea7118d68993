//! publish, versions and alias.

use crate::output::{self, Format};
use std::collections::BTreeMap;
use stratus_api_types::{AliasBody, AliasView, PublishBody};
use stratus_client::Client;

/// `fn publish`.
#[derive(clap::Args, Debug)]
pub struct PublishArgs {
    /// Function name.
    name: String,
    /// Version name (default: vYYYYMMDD-HHMMSS).
    #[arg(long)]
    version: Option<String>,
    /// Version description.
    #[arg(long)]
    description: Option<String>,
}

/// `fn alias ...`.
#[derive(clap::Subcommand, Debug)]
pub enum AliasCommand {
    /// Create an alias pointing at a version.
    Create(AliasArgs),
    /// Re-point or re-weight an alias.
    Update(AliasArgs),
    /// Show one alias.
    Get {
        /// Function name.
        name: String,
        /// Alias name.
        alias: String,
    },
    /// List the aliases of a function.
    List {
        /// Function name.
        name: String,
    },
    /// Delete an alias.
    Delete {
        /// Function name.
        name: String,
        /// Alias name.
        alias: String,
    },
}

/// Options of `alias create` and `alias update`.
#[derive(clap::Args, Debug)]
pub struct AliasArgs {
    /// Function name.
    name: String,
    /// Alias name.
    alias: String,
    /// Version the alias points to (latest allowed).
    #[arg(long)]
    version: String,
    /// Send a share of traffic to another version: VERSION=PERCENT (0..100).
    #[arg(long)]
    weight: Option<String>,
    /// Free text.
    #[arg(long)]
    description: Option<String>,
}

fn body(a: &AliasArgs, create: bool) -> anyhow::Result<AliasBody> {
    let weights = match &a.weight {
        None => None,
        Some(w) => {
            let (v, pct) = w
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--weight {w:?}: use VERSION=PERCENT"))?;
            let pct: i64 = pct
                .parse()
                .map_err(|_| anyhow::anyhow!("--weight {w:?}: the percentage is not a number"))?;
            Some(BTreeMap::from([(v.to_string(), pct)]))
        }
    };
    Ok(AliasBody {
        name: create.then(|| a.alias.clone()),
        version: Some(a.version.clone()),
        description: a.description.clone(),
        additional_version_weights: weights,
        additional_version_strategy: None,
    })
}

fn show_aliases(out: Format, aliases: &[AliasView]) {
    let rows = aliases
        .iter()
        .map(|a| {
            let extra = a
                .additional_version_weights
                .iter()
                .map(|(v, w)| format!("{v} {w}%"))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                a.name.clone(),
                a.version.clone(),
                if extra.is_empty() { "-".into() } else { extra },
                a.alias_urn.clone(),
                a.last_modified.clone(),
            ]
        })
        .collect();
    output::show(
        out,
        &aliases,
        &["alias", "version", "additional", "urn", "modified"],
        rows,
    );
}

pub fn publish(client: &Client, out: Format, a: PublishArgs) -> anyhow::Result<()> {
    let v = client.publish_version(
        &a.name,
        &PublishBody {
            digest: None,
            version: a.version,
            description: a.description,
        },
    )?;
    output::show(
        out,
        &v,
        &["version", "urn", "digest"],
        vec![vec![
            v.version.clone(),
            v.func_urn.clone(),
            v.digest.clone(),
        ]],
    );
    Ok(())
}

pub fn versions(client: &Client, out: Format, name: &str) -> anyhow::Result<()> {
    let list = client.list_versions(name)?;
    let rows = list
        .versions
        .iter()
        .map(|v| {
            vec![
                v.version.clone(),
                v.version_description.clone(),
                v.last_modified.clone(),
                v.func_urn.clone(),
            ]
        })
        .collect();
    output::show(
        out,
        &list,
        &["version", "description", "modified", "urn"],
        rows,
    );
    Ok(())
}

pub fn alias(client: &Client, out: Format, cmd: AliasCommand) -> anyhow::Result<()> {
    match cmd {
        AliasCommand::Create(a) => {
            let v = client.create_alias(&a.name, &body(&a, true)?)?;
            show_aliases(out, &[v]);
        }
        AliasCommand::Update(a) => {
            let v = client.update_alias(&a.name, &a.alias, &body(&a, false)?)?;
            show_aliases(out, &[v]);
        }
        AliasCommand::Get { name, alias } => show_aliases(out, &[client.get_alias(&name, &alias)?]),
        AliasCommand::List { name } => show_aliases(out, &client.list_aliases(&name)?),
        AliasCommand::Delete { name, alias } => {
            client.delete_alias(&name, &alias)?;
            output::done(out, &format!("deleted alias {alias} of {name}"));
        }
    }
    Ok(())
}
