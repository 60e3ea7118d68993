//! Storage interfaces: the metadata `Store` (projects, keys, functions, versions,
//! aliases, triggers, the async queue, logs, and through `TestEventStore` and
//! `DependencyStore` test events and dependency packages) and the content-addressed
//! `BlobStore` for code and dependency packages. No SQL here; backends live in
//! `stratus-store-*` crates. `LocalBlobStore` is the embedded blob backend.
#![deny(missing_docs)]

mod apps;
mod blob;
mod dependencies;
mod events;
mod queue;
mod records;
mod triggers;
mod versions;

pub use apps::AppKeyRecord;
pub use blob::{BlobStore, LocalBlobStore};
pub use dependencies::*;
pub use events::{TestEventRecord, TestEventStore};
pub use queue::*;
pub use records::*;
pub use triggers::*;
pub use versions::*;

use async_trait::async_trait;
use stratus_types::FunctionSpec;

/// Failures of a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed record does not exist.
    #[error("not found")]
    NotFound,
    /// A record with the same identity exists.
    #[error("already exists: {0}")]
    Conflict(String),
    /// A quota would be exceeded.
    #[error("quota exceeded: {0}")]
    Quota(String),
    /// A compare-and-set write found another revision than the one it was based on.
    #[error("the function is at revision {current}, not {expected}")]
    Stale {
        /// The revision the caller read.
        expected: i64,
        /// The revision in the store.
        current: i64,
    },
    /// Anything unexpected from the backend.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Metadata store. Every method is one transaction. Test events are in their own trait
/// (`TestEventStore`), which every store implements too.
#[async_trait]
pub trait Store: TestEventStore + DependencyStore + Send + Sync + 'static {
    /// Creates the project if it does not exist.
    async fn ensure_project(&self, project_id: &str) -> StoreResult<()>;
    /// Inserts an access key if its id is unknown; an existing key is left untouched.
    async fn ensure_access_key(&self, key: &AccessKey) -> StoreResult<()>;
    /// Looks up an access key.
    async fn access_key(&self, access_key: &str) -> StoreResult<Option<AccessKey>>;
    /// The first root access key, if the store was initialised before.
    async fn root_access_key(&self) -> StoreResult<Option<AccessKey>>;

    /// Creates a function with its `latest` version; `Conflict` when the name is taken or
    /// a dependency version the spec references no longer exists, `Quota` when the
    /// project already has `max_functions`.
    async fn create_function(
        &self,
        project_id: &str,
        spec: &FunctionSpec,
        max_functions: usize,
    ) -> StoreResult<FunctionRecord>;
    /// Reads a function and its `latest` configuration.
    async fn get_function(&self, key: &FunctionKey) -> StoreResult<Option<FunctionRecord>>;
    /// Pages through a project's functions ordered by creation; returns the page and the total.
    async fn list_functions(&self, query: &ListQuery) -> StoreResult<(Vec<FunctionRecord>, usize)>;
    /// Replaces the `latest` configuration and bumps the revision, in one transaction and
    /// only if the function is still at `expected_revision` (compare-and-set); `Stale`
    /// otherwise, `NotFound` when it is gone, `Conflict` when a dependency version the
    /// spec references no longer exists. The spec keeps the key's package and name.
    async fn update_latest(
        &self,
        key: &FunctionKey,
        spec: &FunctionSpec,
        expected_revision: i64,
    ) -> StoreResult<FunctionRecord>;
    /// Deletes a function with everything it owns.
    async fn delete_function(&self, key: &FunctionKey) -> StoreResult<()>;
    /// Every blob digest still referenced (code packages of function versions and
    /// dependency packages), for garbage collection.
    async fn referenced_blobs(&self) -> StoreResult<Vec<String>>;
    /// Every stored configuration (the latest and each published version, of every
    /// function) whose `extras` hold `key`, for garbage collection of what such a
    /// setting references (container images: `custom_image`).
    async fn specs_with_extra(&self, key: &str) -> StoreResult<Vec<FunctionSpec>>;

    /// Appends log lines (one transaction per batch).
    async fn append_logs(&self, lines: Vec<LogLine>) -> StoreResult<()>;
    /// Reads log lines in order of arrival.
    async fn query_logs(&self, query: &LogQuery) -> StoreResult<Vec<StoredLogLine>>;
    /// Deletes log lines older than the given Unix time in milliseconds.
    async fn prune_logs(&self, older_than_ms: i64) -> StoreResult<u64>;
    /// Keeps only the newest `keep` log lines of each function; returns lines deleted.
    async fn cap_logs(&self, keep: u64) -> StoreResult<u64>;

    /// Publishes a version of a function; `Conflict` when the name is taken, `Quota` when
    /// the function already has `max_versions`, `NotFound` without the function.
    async fn publish_version(
        &self,
        function_id: &str,
        name: &str,
        spec: &FunctionSpec,
        max_versions: usize,
    ) -> StoreResult<VersionRecord>;
    /// The published versions of a function, oldest first.
    async fn versions(&self, function_id: &str) -> StoreResult<Vec<VersionRecord>>;
    /// Deletes a version with the aliases that point to it (and drops it from other
    /// aliases' additional versions) and the asynchronous policies of both.
    async fn delete_version(&self, function_id: &str, name: &str) -> StoreResult<()>;
    /// Creates (`create`) or replaces an alias. Its versions must exist (`NotFound`
    /// otherwise, checked in the same transaction); `Conflict` when creating a taken name,
    /// `Quota` past `max_aliases`.
    async fn put_alias(
        &self,
        function_id: &str,
        alias: &AliasRecord,
        create: bool,
        max_aliases: usize,
    ) -> StoreResult<AliasRecord>;
    /// The aliases of a function, in order of creation.
    async fn aliases(&self, function_id: &str) -> StoreResult<Vec<AliasRecord>>;
    /// Deletes an alias and its asynchronous policy; `NotFound` when there is none.
    async fn delete_alias(&self, function_id: &str, name: &str) -> StoreResult<()>;

    /// Stores a new trigger; `NotFound` when its function does not exist.
    async fn create_trigger(&self, trigger: &TriggerRecord) -> StoreResult<()>;
    /// Replaces a trigger's status, settings, anchor and update time; `NotFound` when gone.
    async fn update_trigger(&self, trigger: &TriggerRecord) -> StoreResult<()>;
    /// Deletes triggers by id; returns how many existed.
    async fn delete_triggers(&self, ids: &[String]) -> StoreResult<u64>;
    /// Every trigger, in order of creation (loaded once at start).
    async fn triggers(&self) -> StoreResult<Vec<TriggerRecord>>;

    /// Creates or replaces the reserved-instance policy of a function qualifier (JSON as
    /// the engine defines it); `NotFound` without the function.
    async fn put_reserved(
        &self,
        function_id: &str,
        qualifier: &str,
        config: &str,
    ) -> StoreResult<String>;
    /// Removes a reserved-instance policy; `NotFound` when there is none.
    async fn delete_reserved(&self, function_id: &str, qualifier: &str) -> StoreResult<()>;
    /// Every reserved-instance policy: (function id, qualifier, JSON, update time).
    async fn reserved_configs(&self) -> StoreResult<Vec<(String, String, String, String)>>;

    /// Applies a batch of queue changes in one durable transaction (group commit). Changes
    /// to requests that no longer exist (their function was deleted) are skipped.
    async fn async_apply(&self, ops: Vec<AsyncOp>) -> StoreResult<()>;
    /// Every request not yet terminal (WAIT or RUNNING), in order of acceptance.
    async fn async_pending(&self) -> StoreResult<Vec<AsyncRequest>>;
    /// One request by id.
    async fn async_get(&self, request_id: &str) -> StoreResult<Option<AsyncRequest>>;
    /// A page of a function's requests, newest first, and the total matching.
    async fn async_list(&self, query: &AsyncQuery) -> StoreResult<(Vec<AsyncRequest>, usize)>;
    /// Deletes terminal requests that ended before the given Unix time in milliseconds.
    async fn async_prune(&self, ended_before_ms: i64) -> StoreResult<u64>;
    /// Creates or replaces a policy; keeps the creation time of a replaced one.
    async fn put_async_config(
        &self,
        function_id: &str,
        qualifier: &str,
        config: &str,
    ) -> StoreResult<AsyncConfigRecord>;
    /// Deletes a policy; `NotFound` when there is none.
    async fn delete_async_config(&self, function_id: &str, qualifier: &str) -> StoreResult<()>;
    /// Every stored policy (loaded once at start; the engine keeps them in memory).
    async fn async_configs(&self) -> StoreResult<Vec<AsyncConfigRecord>>;

    /// Stores a new app; `Conflict` when the project has an app of that name.
    async fn create_app_key(&self, app: &AppKeyRecord) -> StoreResult<()>;
    /// Looks an app up by its public key.
    async fn app_key(&self, app_key: &str) -> StoreResult<Option<AppKeyRecord>>;
    /// The apps of a project, in order of creation.
    async fn app_keys(&self, project_id: &str) -> StoreResult<Vec<AppKeyRecord>>;
    /// Deletes an app of a project by id; `NotFound` when there is none.
    async fn delete_app_key(&self, project_id: &str, id: &str) -> StoreResult<()>;
}
