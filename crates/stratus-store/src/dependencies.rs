//! Dependency packages and their versions: records and the store operations on them.
//! The package bytes live in the `BlobStore`; these records name them by SHA-256.

use crate::StoreResult;
use async_trait::async_trait;

/// One stored dependency version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyVersionRecord {
    /// Dependency-version id (what functions reference).
    pub id: String,
    /// Id of the dependency, shared by all its versions.
    pub dep_id: String,
    /// Project that owns it.
    pub project_id: String,
    /// Dependency name.
    pub name: String,
    /// Version number: 1 for the first, then one more than the highest ever given.
    pub version: u32,
    /// Runtime the package was built for.
    pub runtime: String,
    /// Free text.
    pub description: String,
    /// `zip` (uploaded in the request) or `obs` (fetched from a URL).
    pub depend_type: String,
    /// The URL the package was fetched from; empty for uploads.
    pub source_url: String,
    /// File name of the package.
    pub file_name: String,
    /// SHA-256 of the package: its blob key.
    pub sha256: String,
    /// MD5 of the package (the API's `etag`).
    pub md5: String,
    /// Package size, bytes.
    pub size: u64,
    /// Creation time, Unix milliseconds.
    pub created_ms: i64,
}

/// What a new version is made of; the store assigns the ids and the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDependencyVersion {
    /// Owning project.
    pub project_id: String,
    /// Dependency name; a new name creates the dependency.
    pub name: String,
    /// Runtime.
    pub runtime: String,
    /// Description.
    pub description: String,
    /// `zip` or `obs`.
    pub depend_type: String,
    /// Source URL for `obs`.
    pub source_url: String,
    /// Package file name.
    pub file_name: String,
    /// SHA-256 of the stored package.
    pub sha256: String,
    /// MD5 of the package.
    pub md5: String,
    /// Package size, bytes.
    pub size: u64,
}

/// A dependency with its newest version, as listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencySummary {
    /// The newest version (its `dep_id` and `name` identify the dependency).
    pub latest: DependencyVersionRecord,
    /// How many versions the dependency has.
    pub versions: usize,
}

/// Filter and page for listing dependencies.
#[derive(Debug, Clone, Default)]
pub struct DependencyQuery {
    /// Project id.
    pub project_id: String,
    /// Only names containing this text.
    pub name_contains: Option<String>,
    /// Only dependencies whose newest version has this runtime.
    pub runtime: Option<String>,
    /// Items to skip.
    pub offset: usize,
    /// Page size.
    pub limit: usize,
}

/// A function version that references a dependency version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyUser {
    /// Function group.
    pub package: String,
    /// Function name.
    pub function: String,
    /// Function version (`latest` or a published one).
    pub version: String,
}

/// How a delete ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyDeletion {
    /// The version is gone; `dependency_removed` tells whether it was the last one, so
    /// the dependency itself went with it.
    Deleted {
        /// The removed record (its blob may now be unreferenced).
        record: Box<DependencyVersionRecord>,
        /// Whether the dependency had no versions left and was removed too.
        dependency_removed: bool,
    },
    /// Nothing changed: these function versions reference it.
    InUse(Vec<DependencyUser>),
}

/// Store operations on dependencies. Every method is one transaction.
#[async_trait]
pub trait DependencyStore: Send + Sync + 'static {
    /// Adds a version to the dependency named `new.name` in its project, creating the
    /// dependency when the name is new.
    async fn create_dependency_version(
        &self,
        new: &NewDependencyVersion,
    ) -> StoreResult<DependencyVersionRecord>;
    /// One version of a dependency of the project.
    async fn dependency_version(
        &self,
        project_id: &str,
        dep_id: &str,
        version: u32,
    ) -> StoreResult<Option<DependencyVersionRecord>>;
    /// The versions with these ids that belong to the project, in no particular order;
    /// unknown ids are left out.
    async fn dependency_versions_by_id(
        &self,
        project_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<DependencyVersionRecord>>;
    /// A page of the project's dependencies in order of creation, and the total matching.
    async fn list_dependencies(
        &self,
        query: &DependencyQuery,
    ) -> StoreResult<(Vec<DependencySummary>, usize)>;
    /// A page of a dependency's versions, oldest first, and their total; `NotFound` when
    /// the project has no such dependency.
    async fn list_dependency_versions(
        &self,
        project_id: &str,
        dep_id: &str,
        offset: usize,
        limit: usize,
    ) -> StoreResult<(Vec<DependencyVersionRecord>, usize)>;
    /// Deletes a version unless a function version references it; `NotFound` when it
    /// does not exist.
    async fn delete_dependency_version(
        &self,
        project_id: &str,
        dep_id: &str,
        version: u32,
    ) -> StoreResult<DependencyDeletion>;
}
