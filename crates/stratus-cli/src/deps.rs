//! `stratus dep ...`: dependency packages and their versions, and the `--dep NAME:VERSION`
//! references of `fn create` / `fn update-config`.

use crate::output::{self, Format};
use anyhow::Context;
use base64::Engine as _;
use std::path::{Path, PathBuf};
use stratus_api_types::{CreateDependencyBody, DependencyVersion};
use stratus_client::Client;

/// The `dep` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum DepCommand {
    /// Upload a package as a new version (version 1 when the name is new).
    Create(CreateArgs),
    /// List dependencies with their newest version.
    List,
    /// List the versions of a dependency.
    Versions {
        /// Dependency name.
        name: String,
    },
    /// Delete one version (refused while a function uses it); deleting the last version
    /// deletes the dependency.
    Delete {
        /// Dependency name.
        name: String,
        /// Version number.
        version: u32,
    },
}

/// `dep create`.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Dependency name (1-96 characters: letters, digits, '-', '.', '_').
    name: String,
    /// Runtime the package is for, e.g. Python3.9 or Node.js18.15.
    #[arg(long)]
    runtime: String,
    /// The package: a .zip file or a directory (zipped as it is).
    #[arg(long, conflicts_with = "url", required_unless_present = "url")]
    file: Option<PathBuf>,
    /// Or a URL the server downloads the zip from.
    #[arg(long)]
    url: Option<String>,
    /// Description.
    #[arg(long)]
    description: Option<String>,
}

fn package_bytes(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_dir() {
        return stratus_package::zip_dir(path).with_context(|| format!("zip {}", path.display()));
    }
    std::fs::read(path).with_context(|| format!("read {}", path.display()))
}

fn version_rows(versions: &[DependencyVersion]) -> Vec<Vec<String>> {
    versions
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                v.version.to_string(),
                v.runtime.clone(),
                v.size.to_string(),
                v.id.clone(),
                v.description.clone(),
            ]
        })
        .collect()
}

const VERSION_HEADER: &[&str] = &["NAME", "VERSION", "RUNTIME", "SIZE", "ID", "DESCRIPTION"];

/// Runs a `dep` command.
pub fn run(client: &Client, out: Format, command: DepCommand) -> anyhow::Result<()> {
    match command {
        DepCommand::Create(a) => {
            let body = match (&a.file, &a.url) {
                (Some(file), _) => CreateDependencyBody {
                    depend_type: Some("zip".into()),
                    depend_file: Some(
                        base64::engine::general_purpose::STANDARD.encode(package_bytes(file)?),
                    ),
                    ..CreateDependencyBody::default()
                },
                (None, Some(url)) => CreateDependencyBody {
                    depend_type: Some("obs".into()),
                    depend_link: Some(url.clone()),
                    ..CreateDependencyBody::default()
                },
                (None, None) => anyhow::bail!("give --file or --url"),
            };
            let body = CreateDependencyBody {
                name: Some(a.name),
                runtime: Some(a.runtime),
                description: a.description,
                ..body
            };
            let v = client.create_dependency_version(&body, crate::code::progress())?;
            output::show(
                out,
                &v,
                VERSION_HEADER,
                version_rows(std::slice::from_ref(&v)),
            );
        }
        DepCommand::List => {
            let mut all = Vec::new();
            loop {
                let page = client.list_dependencies(&[
                    ("marker", all.len().to_string()),
                    ("maxitems", "400".into()),
                ])?;
                let n = page.dependencies.len();
                all.extend(page.dependencies);
                if n == 0 || all.len() as i64 >= page.count {
                    break;
                }
            }
            let rows = all
                .iter()
                .map(|d| {
                    vec![
                        d.name.clone(),
                        d.version.to_string(),
                        d.runtime.clone(),
                        d.size.to_string(),
                        d.id.clone(),
                        d.description.clone(),
                    ]
                })
                .collect();
            output::show(
                out,
                &all,
                &[
                    "NAME",
                    "LATEST",
                    "RUNTIME",
                    "SIZE",
                    "DEPENDENCY ID",
                    "DESCRIPTION",
                ],
                rows,
            );
        }
        DepCommand::Versions { name } => {
            let dep = client
                .find_dependency(&name)?
                .with_context(|| format!("dependency {name:?} does not exist"))?;
            let versions = client.all_dependency_versions(&dep.id)?;
            output::show(out, &versions, VERSION_HEADER, version_rows(&versions));
        }
        DepCommand::Delete { name, version } => {
            let dep = client
                .find_dependency(&name)?
                .with_context(|| format!("dependency {name:?} does not exist"))?;
            client.delete_dependency_version(&dep.id, version)?;
            output::done(out, &format!("deleted {name} version {version}"));
        }
    }
    Ok(())
}

/// The dependency-version ids of `--dep` arguments: `NAME:VERSION`, or a version id as
/// the API shows it.
pub fn resolve_refs(client: &Client, refs: &[String]) -> anyhow::Result<Vec<String>> {
    refs.iter()
        .map(|r| match r.rsplit_once(':') {
            Some((name, version)) => {
                let n: u32 = version
                    .parse()
                    .with_context(|| format!("--dep {r:?}: the version must be a number"))?;
                let v = client
                    .dependency_version_named(name, n)
                    .with_context(|| format!("--dep {r:?}"))?;
                Ok(v.id)
            }
            None => Ok(r.clone()),
        })
        .collect()
}

/// `fn get`'s summary of a configuration's `dependencies`: `name:version, ...`.
pub fn summary(dependencies: &[serde_json::Value]) -> String {
    if dependencies.is_empty() {
        return "-".into();
    }
    dependencies
        .iter()
        .map(|d| {
            format!(
                "{}:{}",
                d.get("name").and_then(|n| n.as_str()).unwrap_or("?"),
                d.get("version").and_then(|v| v.as_i64()).unwrap_or(0)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
