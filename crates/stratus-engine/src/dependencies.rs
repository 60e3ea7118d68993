//! Dependency packages (guide section 11 and FAQ 14.4): creating a version from an
//! uploaded zip or a URL, listing, reading, deleting, and checking the dependency
//! versions a function references. Packages are blobs (content-addressed); their
//! metadata lives in the store.

use crate::code;
use crate::config::EngineConfig;
use crate::error::DeployError;
use crate::functions::Functions;
use std::sync::Arc;
use stratus_store::{
    DependencyDeletion, DependencyQuery, DependencySummary, DependencyUser,
    DependencyVersionRecord, NewDependencyVersion, Store, StoreError,
};
use stratus_types::dependency::{self, DependencyRef};
use stratus_types::limits::DESCRIPTION_MAX;
use stratus_types::{Invalid, Runtime, RuntimeKind};

/// A create-version request as the API sends it; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct DependencyUpload {
    /// Dependency name; a new name creates the dependency.
    pub name: Option<String>,
    /// Runtime id the package is for.
    pub runtime: Option<String>,
    /// Description of the version.
    pub description: Option<String>,
    /// `zip` (package in `depend_file`) or `obs` (package at `depend_link`).
    pub depend_type: Option<String>,
    /// Base64 of the zip.
    pub depend_file: Option<String>,
    /// URL of the zip.
    pub depend_link: Option<String>,
}

/// Failures of dependency management.
#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    /// Bad input.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// The dependency or version does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The version cannot be deleted: function versions reference it.
    #[error("{}", in_use_message(.name, *.version, .users))]
    InUse {
        /// Dependency name.
        name: String,
        /// Version number.
        version: u32,
        /// The function versions that reference it.
        users: Vec<DependencyUser>,
    },
    /// The package is too large.
    #[error("{0}")]
    TooLarge(String),
    /// Anything unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn in_use_message(name: &str, version: u32, users: &[DependencyUser]) -> String {
    let named: Vec<String> = users
        .iter()
        .map(|u| {
            let function = if u.package == "default" {
                u.function.clone()
            } else {
                format!("{}:{}", u.package, u.function)
            };
            format!("{function} ({})", u.version)
        })
        .collect();
    format!(
        "dependency {name:?} version {version} is used by {} function version(s): {}; remove it \
         from their dependencies or delete them first",
        named.len(),
        named.join(", ")
    )
}

impl From<StoreError> for DependencyError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => {
                DependencyError::NotFound("the dependency does not exist".into())
            }
            StoreError::Conflict(m) | StoreError::Quota(m) => {
                DependencyError::Internal(anyhow::anyhow!("unexpected store answer: {m}"))
            }
            StoreError::Stale { .. } => {
                DependencyError::Internal(anyhow::anyhow!("unexpected stale write"))
            }
            StoreError::Internal(e) => DependencyError::Internal(e),
        }
    }
}

/// The failures of fetching and decoding a package, which `code` reports as deploy errors.
fn from_deploy(e: DeployError) -> DependencyError {
    match e {
        DeployError::Invalid(i) => DependencyError::Invalid(i),
        DeployError::TooLarge(m) => DependencyError::TooLarge(m),
        DeployError::NotFound(m)
        | DeployError::VersionNotFound(m)
        | DeployError::AliasNotFound(m) => DependencyError::NotFound(m),
        DeployError::Conflict(m) | DeployError::Quota(m) => {
            DependencyError::Internal(anyhow::anyhow!("{m}"))
        }
        DeployError::Internal(e) => DependencyError::Internal(e),
    }
}

/// Dependency management.
#[derive(Clone)]
pub struct Dependencies {
    config: Arc<EngineConfig>,
    store: Arc<dyn Store>,
    functions: Functions,
}

/// A checked package: its bytes and the file name it is shown under.
struct Checked {
    bytes: Vec<u8>,
    file_name: String,
}

impl Dependencies {
    pub(crate) fn new(
        config: Arc<EngineConfig>,
        store: Arc<dyn Store>,
        functions: Functions,
    ) -> Self {
        Dependencies {
            config,
            store,
            functions,
        }
    }

    /// Creates a version of the dependency named in the upload (version 1 of a new
    /// dependency when the name is new). Nothing is stored when any check fails.
    pub async fn create_version(
        &self,
        project_id: &str,
        upload: DependencyUpload,
    ) -> Result<DependencyVersionRecord, DependencyError> {
        let name = upload
            .name
            .clone()
            .ok_or_else(|| Invalid::field("name", "is required"))?;
        dependency::check_name(&name)?;
        let runtime_id = upload
            .runtime
            .clone()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| Invalid::field("runtime", "is required"))?;
        let runtime = Runtime::parse(&runtime_id)?;
        if runtime.kind() == RuntimeKind::CustomImage {
            return Err(Invalid::field(
                "runtime",
                "container-image functions cannot use dependencies; choose the runtime of the functions that will use it",
            )
            .into());
        }
        let description = upload.description.clone().unwrap_or_default();
        let chars = description.chars().count();
        if chars > DESCRIPTION_MAX {
            return Err(Invalid::field(
                "description",
                format!("is {chars} characters; the limit is {DESCRIPTION_MAX}"),
            )
            .into());
        }
        let depend_type = upload
            .depend_type
            .clone()
            .ok_or_else(|| Invalid::field("depend_type", "is required: zip or obs"))?;
        if depend_type != "zip" && depend_type != "obs" {
            return Err(Invalid::field(
                "depend_type",
                format!("{depend_type:?} is not zip or obs"),
            )
            .into());
        }
        let hosts = self.config.code_url_hosts.clone();
        let fetch = upload.clone();
        let (name_for_file, kind) = (name.clone(), depend_type.clone());
        let checked = tokio::task::spawn_blocking(move || {
            check_package(&kind, &fetch, &hosts, &name_for_file)
        })
        .await
        .map_err(anyhow::Error::from)??;
        let md5 = {
            use md5::Digest;
            hex::encode(md5::Md5::digest(&checked.bytes))
        };
        let size = checked.bytes.len() as u64;
        let sha256 = self
            .functions
            .put_blob(checked.bytes)
            .await
            .map_err(from_deploy)?;
        let created = self
            .store
            .create_dependency_version(&NewDependencyVersion {
                project_id: project_id.to_string(),
                name,
                runtime: runtime.id().to_string(),
                description,
                source_url: if depend_type == "obs" {
                    upload.depend_link.clone().unwrap_or_default()
                } else {
                    String::new()
                },
                depend_type,
                file_name: checked.file_name,
                sha256: sha256.clone(),
                md5,
                size,
            })
            .await;
        self.functions.settle_blob(&sha256, created.is_ok()).await;
        Ok(created?)
    }

    /// A page of the project's dependencies, each with its newest version, and the total.
    pub async fn list(
        &self,
        query: &DependencyQuery,
    ) -> Result<(Vec<DependencySummary>, usize), DependencyError> {
        Ok(self.store.list_dependencies(query).await?)
    }

    /// A page of a dependency's versions, oldest first, and their total.
    pub async fn versions(
        &self,
        project_id: &str,
        dep_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<DependencyVersionRecord>, usize), DependencyError> {
        self.store
            .list_dependency_versions(project_id, dep_id, offset, limit)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => no_dependency(dep_id),
                e => e.into(),
            })
    }

    /// One version; `version` is the number as the path gives it.
    pub async fn get(
        &self,
        project_id: &str,
        dep_id: &str,
        version: &str,
    ) -> Result<DependencyVersionRecord, DependencyError> {
        let n = parse_version(version)?;
        self.store
            .dependency_version(project_id, dep_id, n)
            .await?
            .ok_or_else(|| no_version(dep_id, n))
    }

    /// One version with its package bytes.
    pub async fn package(
        &self,
        project_id: &str,
        dep_id: &str,
        version: &str,
    ) -> Result<(DependencyVersionRecord, Vec<u8>), DependencyError> {
        let record = self.get(project_id, dep_id, version).await?;
        let bytes = self
            .functions
            .blob(&record.sha256)
            .await
            .map_err(from_deploy)?;
        Ok((record, bytes))
    }

    /// Deletes a version unless a function version references it (guide section 11:
    /// "Dependencies referenced by functions cannot be deleted"). Deleting the last
    /// version deletes the dependency.
    pub async fn delete(
        &self,
        project_id: &str,
        dep_id: &str,
        version: &str,
    ) -> Result<(), DependencyError> {
        let n = parse_version(version)?;
        match self
            .store
            .delete_dependency_version(project_id, dep_id, n)
            .await
        {
            Ok(DependencyDeletion::Deleted { record, .. }) => {
                self.functions.release_blob(&record.sha256).await;
                Ok(())
            }
            Ok(DependencyDeletion::InUse(users)) => {
                let name = self
                    .store
                    .dependency_version(project_id, dep_id, n)
                    .await?
                    .map_or_else(|| dep_id.to_string(), |r| r.name);
                Err(DependencyError::InUse {
                    name,
                    version: n,
                    users,
                })
            }
            Err(StoreError::NotFound) => Err(no_version(dep_id, n)),
            Err(e) => Err(e.into()),
        }
    }
}

fn no_dependency(dep_id: &str) -> DependencyError {
    DependencyError::NotFound(format!("dependency {dep_id:?} does not exist"))
}

fn no_version(dep_id: &str, version: u32) -> DependencyError {
    DependencyError::NotFound(format!(
        "version {version} of dependency {dep_id:?} does not exist"
    ))
}

fn parse_version(raw: &str) -> Result<u32, DependencyError> {
    raw.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        Invalid::with_code(
            "FSS.1001",
            "version",
            format!("{raw:?} is not a dependency version; versions are numbered 1, 2, ..."),
        )
        .into()
    })
}

/// Fetches (or decodes) the package and checks it against the guide's rules.
fn check_package(
    depend_type: &str,
    upload: &DependencyUpload,
    hosts: &[String],
    name: &str,
) -> Result<Checked, DependencyError> {
    let (field, bytes, file_name) = if depend_type == "zip" {
        let Some(file) = upload.depend_file.as_deref().filter(|f| !f.is_empty()) else {
            return Err(Invalid::field(
                "depend_file",
                "is required when depend_type is zip: base64 of the zip package",
            )
            .into());
        };
        let bytes =
            code::decode_limited(file, "depend_file", dependency::ZIP_MAX).map_err(from_deploy)?;
        ("depend_file", bytes, format!("{name}.zip"))
    } else {
        let Some(link) = upload.depend_link.as_deref().filter(|l| !l.is_empty()) else {
            return Err(
                Invalid::field("depend_link", "is required when depend_type is obs").into(),
            );
        };
        let bytes = code::download(link, hosts, "depend_link", dependency::LINK_MAX)
            .map_err(from_deploy)?;
        ("depend_link", bytes, link_file_name(link, name))
    };
    let manifest = stratus_package::inspect(&bytes, &code::dependency_limits())
        .map_err(|e| Invalid::field(field, format!("bad dependency package: {e}")))?;
    let files = manifest.files();
    dependency::check_files(field, files.iter().map(String::as_str))?;
    Ok(Checked { bytes, file_name })
}

/// The file name of a package fetched from a URL: the last path segment when it names a
/// zip, else `<name>.zip`.
fn link_file_name(link: &str, name: &str) -> String {
    url::Url::parse(link)
        .ok()
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next_back().map(str::to_string))
        })
        .filter(|last| last.to_ascii_lowercase().ends_with(".zip") && last.len() > 4)
        .unwrap_or_else(|| format!("{name}.zip"))
}

/// Checks the dependency versions a function of `runtime` asks for and returns their
/// references, in the order given: at most 20, no repeats, at most one version of each
/// dependency, each in the project and built for the same runtime (guide table 11-2:
/// the dependency is chosen for the function's runtime).
pub(crate) async fn resolve(
    store: &dyn Store,
    project_id: &str,
    runtime: &str,
    ids: &[String],
) -> Result<Vec<DependencyRef>, DeployError> {
    const FIELD: &str = "depend_version_list";
    let bad = |msg: String| DeployError::Invalid(Invalid::with_code("FSS.0424", FIELD, msg));
    let max = dependency::PER_FUNCTION_MAX;
    if ids.len() > max {
        return Err(Invalid::field(
            FIELD,
            format!(
                "{} dependency versions given; a function may reference at most {max}",
                ids.len()
            ),
        )
        .into());
    }
    for (i, id) in ids.iter().enumerate() {
        if id.is_empty() {
            return Err(bad("an entry is empty; give dependency-version ids".into()));
        }
        if ids[..i].contains(id) {
            return Err(bad(format!("{id:?} is listed twice")));
        }
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = store.dependency_versions_by_id(project_id, ids).await?;
    let mut refs: Vec<DependencyRef> = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(v) = found.iter().find(|v| &v.id == id) else {
            return Err(bad(format!(
                "dependency version {id:?} does not exist in this project"
            )));
        };
        if v.runtime != runtime {
            return Err(bad(format!(
                "dependency {:?} version {} is built for {}, not for the function's runtime {runtime}",
                v.name, v.version, v.runtime
            )));
        }
        if let Some(other) = refs.iter().find(|r| r.dep_id == v.dep_id) {
            return Err(bad(format!(
                "dependency {:?} is listed in two versions ({} and {}); keep one",
                v.name, other.version, v.version
            )));
        }
        refs.push(DependencyRef {
            id: v.id.clone(),
            dep_id: v.dep_id.clone(),
            name: v.name.clone(),
            version: v.version,
            runtime: v.runtime.clone(),
            description: v.description.clone(),
            file_name: v.file_name.clone(),
            sha256: v.sha256.clone(),
            etag: v.md5.clone(),
            size: v.size,
            owner: v.project_id.clone(),
            last_modified_ms: v.created_ms,
        });
    }
    Ok(refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_of_links() {
        assert_eq!(link_file_name("http://h/dir/pkg.zip", "d"), "pkg.zip");
        assert_eq!(link_file_name("http://h/dir/pkg.ZIP?x=1", "d"), "pkg.ZIP");
        assert_eq!(link_file_name("http://h/download?id=3", "d"), "d.zip");
        assert_eq!(link_file_name("http://h/", "d"), "d.zip");
        assert_eq!(link_file_name("http://h/.zip", "d"), "d.zip");
    }

    #[test]
    fn versions_are_positive_numbers() {
        assert_eq!(parse_version("3").ok(), Some(3));
        for bad in ["0", "-1", "x", "", "1.0", "99999999999"] {
            assert!(
                matches!(parse_version(bad), Err(DependencyError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_in_use_message_names_the_functions() {
        let users = vec![
            DependencyUser {
                package: "default".into(),
                function: "alpha".into(),
                version: "latest".into(),
            },
            DependencyUser {
                package: "team".into(),
                function: "beta".into(),
                version: "v1".into(),
            },
        ];
        let e = DependencyError::InUse {
            name: "pymysql".into(),
            version: 2,
            users,
        };
        assert_eq!(
            e.to_string(),
            "dependency \"pymysql\" version 2 is used by 2 function version(s): alpha (latest), \
             team:beta (v1); remove it from their dependencies or delete them first"
        );
    }
}
