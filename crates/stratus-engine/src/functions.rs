//! Function management use cases: create, read, list, update config and code, delete,
//! export. Keeps an in-memory cache of function records for the invocation hot path.

use crate::code::{self, CodeUpload};
use crate::config::EngineConfig;
use crate::error::DeployError;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use stratus_store::{BlobStore, FunctionKey, FunctionRecord, ListQuery, Store, StoreError};
use stratus_types::{env, name, FunctionSpec, Invalid, Runtime, Strategy};

/// How often a read-modify-write of `latest` is retried when another change committed
/// between the read and the write.
const UPDATE_ATTEMPTS: usize = 8;

/// Largest export (guide 1.6: exported resources are at most 50 MB).
pub const EXPORT_MAX: u64 = stratus_types::limits::CODE_PACKAGE_MAX;

/// Configuration fields of a create or update request; `None` means "not given".
#[derive(Debug, Clone, Default)]
pub struct FunctionDraft {
    /// Function name.
    pub func_name: Option<String>,
    /// Function group.
    pub package: Option<String>,
    /// Runtime id.
    pub runtime: Option<String>,
    /// Entry point.
    pub handler: Option<String>,
    /// Memory, MB.
    pub memory_size: Option<u32>,
    /// Timeout, seconds.
    pub timeout: Option<u32>,
    /// Description.
    pub description: Option<String>,
    /// Environment variables as JSON text.
    pub user_data: Option<String>,
    /// Secret environment variables as JSON text.
    pub encrypted_user_data: Option<String>,
    /// Initializer.
    pub initializer_handler: Option<String>,
    /// Initializer timeout.
    pub initializer_timeout: Option<u32>,
    /// Pre-stop hook.
    pub pre_stop_handler: Option<String>,
    /// Pre-stop timeout.
    pub pre_stop_timeout: Option<u32>,
    /// `/tmp` size, MB.
    pub ephemeral_storage: Option<u32>,
    /// Dynamic memory switch.
    pub enable_dynamic_memory: Option<bool>,
    /// Max instances.
    pub max_instances: Option<i32>,
    /// Requests per instance.
    pub concurrent_num: Option<u32>,
    /// `v2` / `v1`.
    pub func_type: Option<String>,
    /// Ids of the dependency versions to merge into the code view; replaces the list when
    /// given.
    pub depend_version_list: Option<Vec<String>>,
    /// Fields echoed back but not acted upon.
    pub extras: BTreeMap<String, serde_json::Value>,
}

/// What an export holds: the code package, the configuration, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportParts {
    /// Include `<name>.zip`, the code package.
    pub code: bool,
    /// Include `function.json`, the configuration.
    pub config: bool,
}

/// An exported function: a zip holding the code package and/or the configuration.
pub struct ExportedFunction {
    /// File name: `<name>-<md5 of the code package>.zip`.
    pub file_name: String,
    /// The zip.
    pub bytes: Vec<u8>,
}

/// Function management.
#[derive(Clone)]
pub struct Functions {
    config: Arc<EngineConfig>,
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    cache: Arc<RwLock<HashMap<FunctionKey, Arc<FunctionRecord>>>>,
    /// Blobs written for a create or code update whose row is not committed yet, with the
    /// number of such writers. A failed write deletes its blob only when no other writer
    /// holds it and no function references it.
    pending_blobs: Arc<tokio::sync::Mutex<HashMap<String, usize>>>,
    /// Wakes the image garbage collector (after deletes and updates).
    image_gc: Arc<tokio::sync::Notify>,
}

fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Functions {
    pub(crate) fn new(
        config: Arc<EngineConfig>,
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
    ) -> Self {
        Functions {
            config,
            store,
            blobs,
            cache: Arc::new(RwLock::new(HashMap::new())),
            pending_blobs: Arc::new(tokio::sync::Mutex::new(HashMap::new())),
            image_gc: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// What wakes the image garbage collector.
    pub(crate) fn image_gc_signal(&self) -> Arc<tokio::sync::Notify> {
        self.image_gc.clone()
    }

    /// Asks the image garbage collector to run (a configuration naming an image may be
    /// gone).
    pub(crate) fn poke_image_gc(&self) {
        self.image_gc.notify_one();
    }

    /// Every stored configuration that names a container image.
    pub(crate) async fn image_specs(&self) -> Result<Vec<FunctionSpec>, StoreError> {
        self.store.specs_with_extra("custom_image").await
    }

    /// The region used in URNs.
    pub fn region(&self) -> &str {
        &self.config.region
    }

    /// Creates a function from a draft and its code.
    pub async fn create(
        &self,
        project_id: &str,
        draft: FunctionDraft,
        upload: Option<CodeUpload>,
    ) -> Result<Arc<FunctionRecord>, DeployError> {
        let Some(func_name) = draft.func_name.clone() else {
            return Err(Invalid::field("func_name", "is required").into());
        };
        name::check_function_name(&func_name)?;
        let Some(runtime_id) = draft.runtime.clone() else {
            return Err(Invalid::field("runtime", "is required").into());
        };
        let runtime = Runtime::parse(&runtime_id)?;
        let handler = draft
            .handler
            .clone()
            .unwrap_or_else(|| runtime.default_handler().to_string());
        let mut spec = FunctionSpec {
            name: func_name,
            package: draft.package.clone().unwrap_or_else(|| "default".into()),
            runtime: runtime.id().to_string(),
            handler: handler.clone(),
            memory_size: runtime.default_memory(),
            timeout: runtime.default_timeout(),
            description: String::new(),
            user_data: BTreeMap::new(),
            encrypted_user_data: BTreeMap::new(),
            initializer_handler: String::new(),
            initializer_timeout: 3,
            pre_stop_handler: String::new(),
            pre_stop_timeout: 3,
            ephemeral_storage: 512,
            enable_dynamic_memory: false,
            strategy: Strategy::default(),
            code: Default::default(),
            func_type: "v2".into(),
            extras: BTreeMap::new(),
            last_modified: now_rfc3339(),
            version_description: String::new(),
            dependencies: Vec::new(),
        };
        apply(&mut spec, &draft)?;
        if let Some(ids) = &draft.depend_version_list {
            spec.dependencies =
                crate::dependencies::resolve(&*self.store, project_id, &spec.runtime, ids).await?;
        }
        spec.validate()?;
        self.check_extras(&spec)?;
        // Refuse a taken name or a full project before any code is fetched or stored. The
        // store checks both again in the creating transaction.
        self.check_can_create(project_id, &spec).await?;
        let package = match upload {
            Some(u)
                if u.file.as_deref().is_some_and(|f| !f.is_empty())
                    || u.code_url.as_deref().is_some_and(|f| !f.is_empty())
                    || u.code_type.as_deref() == Some("Custom-Image-Swr") =>
            {
                self.prepare(&runtime, &handler, u).await?
            }
            _ => {
                let bytes = code::default_code(&runtime, &handler).ok_or_else(|| {
                    Invalid::field(
                        "func_code",
                        format!("code is required for {} functions", runtime.id()),
                    )
                })?;
                self.prepare(
                    &runtime,
                    &handler,
                    CodeUpload {
                        code_type: Some(
                            if runtime.kind() == stratus_types::RuntimeKind::CustomImage {
                                "Custom-Image-Swr"
                            } else {
                                "zip"
                            }
                            .into(),
                        ),
                        file: Some(base64_encode(&bytes)),
                        ..CodeUpload::default()
                    },
                )
                .await?
            }
        };
        spec.code = self.store_package(package).await?;
        let created = self
            .store
            .create_function(project_id, &spec, self.config.max_functions)
            .await;
        self.settle_blob(&spec.code.sha256, created.is_ok()).await;
        Ok(self.remember(created?))
    }

    /// The checks of `create_function` done early: name free, project below its quota.
    async fn check_can_create(
        &self,
        project_id: &str,
        spec: &FunctionSpec,
    ) -> Result<(), DeployError> {
        let key = FunctionKey {
            project_id: project_id.to_string(),
            package: spec.package.clone(),
            name: spec.name.clone(),
        };
        if self.store.get_function(&key).await?.is_some() {
            return Err(DeployError::Conflict(format!(
                "function {:?} already exists in package {:?}",
                spec.name, spec.package
            )));
        }
        let (_, total) = self
            .store
            .list_functions(&ListQuery {
                project_id: project_id.to_string(),
                limit: 0,
                ..ListQuery::default()
            })
            .await?;
        let max = self.config.max_functions;
        if total >= max {
            return Err(DeployError::Quota(format!(
                "the project already has {total} functions; the limit is {max}"
            )));
        }
        Ok(())
    }

    /// Reads a function's latest configuration.
    pub async fn get(&self, key: &FunctionKey) -> Result<Arc<FunctionRecord>, DeployError> {
        if let Some(rec) = self.cached(key) {
            return Ok(rec);
        }
        match self.store.get_function(key).await? {
            Some(rec) => Ok(self.remember(rec)),
            None => Err(not_found(key)),
        }
    }

    /// Reads a function from the cache only (hot path); falls back to the store.
    pub(crate) fn cached(&self, key: &FunctionKey) -> Option<Arc<FunctionRecord>> {
        self.cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// Lists functions with paging.
    pub async fn list(
        &self,
        query: &ListQuery,
    ) -> Result<(Vec<FunctionRecord>, usize), DeployError> {
        Ok(self.store.list_functions(query).await?)
    }

    /// Updates the configuration of `latest`. Absent fields keep their value; the name,
    /// package and runtime cannot change. The write is based on the revision that was read;
    /// when another change committed first, the draft is applied again to the new state.
    pub async fn update_config(
        &self,
        key: &FunctionKey,
        draft: FunctionDraft,
    ) -> Result<Arc<FunctionRecord>, DeployError> {
        let mut current = self.get(key).await?;
        // The runtime cannot change, so the references are checked once for all attempts.
        let dependencies = match &draft.depend_version_list {
            Some(ids) => Some(
                crate::dependencies::resolve(
                    &*self.store,
                    &key.project_id,
                    &current.latest.runtime,
                    ids,
                )
                .await?,
            ),
            None => None,
        };
        for _ in 0..UPDATE_ATTEMPTS {
            let spec = self.reconfigured(&current.latest, &draft, dependencies.as_deref())?;
            match self.store.update_latest(key, &spec, current.revision).await {
                Ok(rec) => {
                    if current.latest.extras.contains_key("custom_image") {
                        self.poke_image_gc();
                    }
                    return Ok(self.remember(rec));
                }
                Err(StoreError::Stale { .. }) => current = self.reload(key).await?,
                Err(StoreError::NotFound) => return Err(self.forget(key)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale {
            expected: current.revision,
            current: current.revision + 1,
        }
        .into())
    }

    /// `current` with a config draft applied and checked.
    fn reconfigured(
        &self,
        current: &FunctionSpec,
        draft: &FunctionDraft,
        dependencies: Option<&[stratus_types::DependencyRef]>,
    ) -> Result<FunctionSpec, DeployError> {
        let immutable = [
            (
                "func_name",
                &draft.func_name,
                &current.name,
                "cannot be changed",
            ),
            (
                "package",
                &draft.package,
                &current.package,
                "cannot be changed after creation",
            ),
            (
                "runtime",
                &draft.runtime,
                &current.runtime,
                "cannot be changed after creation",
            ),
        ];
        for (field, given, stored, why) in immutable {
            if let Some(v) = given {
                if v != stored {
                    return Err(Invalid::field(field, format!("{why} (it is {stored:?})")).into());
                }
            }
        }
        let mut spec = current.clone();
        apply(&mut spec, draft)?;
        if let Some(d) = dependencies {
            spec.dependencies = d.to_vec();
        }
        spec.last_modified = now_rfc3339();
        spec.validate()?;
        self.check_extras(&spec)?;
        Ok(spec)
    }

    /// Reads `latest` from the store (not the cache), after a lost compare-and-set.
    async fn reload(&self, key: &FunctionKey) -> Result<Arc<FunctionRecord>, DeployError> {
        match self.store.get_function(key).await? {
            Some(rec) => Ok(self.remember(rec)),
            None => Err(self.forget(key)),
        }
    }

    /// Drops a function that has vanished from the cache; the error to return.
    fn forget(&self, key: &FunctionKey) -> DeployError {
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
        not_found(key)
    }

    /// Sets max instances (-1 unlimited, 0 disabled).
    pub async fn set_max_instances(
        &self,
        key: &FunctionKey,
        n: i32,
    ) -> Result<Arc<FunctionRecord>, DeployError> {
        stratus_types::function::check_max_instances(n)?;
        self.update_config(
            key,
            FunctionDraft {
                max_instances: Some(n),
                ..FunctionDraft::default()
            },
        )
        .await
    }

    /// Replaces the code of `latest`.
    pub async fn update_code(
        &self,
        key: &FunctionKey,
        upload: CodeUpload,
    ) -> Result<Arc<FunctionRecord>, DeployError> {
        let mut current = self.get(key).await?;
        let runtime = current.latest.runtime()?;
        let dependencies = match &upload.depend_version_list {
            Some(ids) => Some(
                crate::dependencies::resolve(&*self.store, &key.project_id, runtime.id(), ids)
                    .await?,
            ),
            None => None,
        };
        let package = self
            .prepare(&runtime, &current.latest.handler, upload)
            .await?;
        let code = self.store_package(package).await?;
        let mut outcome = Err(StoreError::NotFound);
        for _ in 0..UPDATE_ATTEMPTS {
            let mut spec = current.latest.clone();
            spec.code = code.clone();
            if let Some(d) = &dependencies {
                spec.dependencies = d.clone();
            }
            spec.last_modified = now_rfc3339();
            outcome = self.store.update_latest(key, &spec, current.revision).await;
            match &outcome {
                Err(StoreError::Stale { .. }) => match self.reload(key).await {
                    Ok(rec) => current = rec,
                    Err(e) => {
                        self.settle_blob(&code.sha256, false).await;
                        return Err(e);
                    }
                },
                _ => break,
            }
        }
        self.settle_blob(&code.sha256, outcome.is_ok()).await;
        match outcome {
            Ok(rec) => Ok(self.remember(rec)),
            Err(StoreError::NotFound) => Err(self.forget(key)),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a function.
    pub async fn delete(&self, key: &FunctionKey) -> Result<(), DeployError> {
        self.store.delete_function(key).await.map_err(|e| match e {
            stratus_store::StoreError::NotFound => not_found(key),
            e => e.into(),
        })?;
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
        self.poke_image_gc();
        Ok(())
    }

    /// The stored code package of a function.
    pub async fn package(&self, key: &FunctionKey) -> Result<Vec<u8>, DeployError> {
        let rec = self.get(key).await?;
        self.blobs
            .get(&rec.latest.code.sha256)
            .await?
            .ok_or_else(|| {
                DeployError::Internal(anyhow::anyhow!(
                    "code blob {} is missing",
                    rec.latest.code.sha256
                ))
            })
    }

    /// Exports the code package and/or the configuration as one zip named
    /// `<name>-<md5 of the code package>.zip` (guide section 10). The configuration is
    /// rendered by the caller, which owns the wire format (`function.json` holds what the
    /// get-config API returns).
    pub async fn export(
        &self,
        key: &FunctionKey,
        parts: ExportParts,
        render_config: impl FnOnce(&FunctionRecord) -> anyhow::Result<Vec<u8>>,
    ) -> Result<ExportedFunction, DeployError> {
        let rec = self.get(key).await?;
        let package = self.package(key).await?;
        let config = if parts.config {
            Some(render_config(&rec)?)
        } else {
            None
        };
        assemble_export(&rec.latest.name, package, parts.code, config, EXPORT_MAX)
    }

    /// Reads an export zip for import (its code is checked again when the function is
    /// created from it).
    pub async fn read_export(&self, bytes: Vec<u8>) -> Result<code::ExportContents, DeployError> {
        let scratch = self
            .config
            .data_dir
            .join(format!("import-{}", uuid::Uuid::new_v4().simple()));
        tokio::task::spawn_blocking(move || code::read_export(&bytes, &scratch))
            .await
            .map_err(anyhow::Error::from)?
    }

    /// Deletes blobs no function references (left behind by deletes, updates and crashes).
    pub(crate) async fn collect_garbage(&self) {
        let (Ok(used), Ok(stored)) = (self.store.referenced_blobs().await, self.blobs.list().await)
        else {
            return;
        };
        for digest in stored.iter().filter(|d| !used.contains(d)) {
            if let Err(e) = self.blobs.delete(digest).await {
                tracing::warn!("delete unreferenced blob {digest}: {e:#}");
            }
        }
    }

    /// Checks the settings kept in `extras` that the engine acts upon.
    fn check_extras(&self, spec: &FunctionSpec) -> Result<(), DeployError> {
        if let Some(m) = spec.extras.get("mount_config") {
            crate::mounts::parse(m, &self.config.mount_roots)?;
        }
        crate::image_fn::settings(spec, &self.config.image_layout_roots)?;
        if let Some(n) = spec.extras.get("network_controller") {
            if !n.is_object() {
                return Err(Invalid::field("network_controller", "must be an object").into());
            }
        }
        Ok(())
    }

    async fn prepare(
        &self,
        runtime: &Runtime,
        handler: &str,
        upload: CodeUpload,
    ) -> Result<code::Package, DeployError> {
        let runtime = runtime.clone();
        let handler = handler.to_string();
        let hosts = self.config.code_url_hosts.clone();
        tokio::task::spawn_blocking(move || code::prepare(&runtime, &handler, &upload, &hosts))
            .await
            .map_err(anyhow::Error::from)?
    }

    /// Writes a package's blob and marks it pending; every call is followed by one
    /// `settle_blob` once the row naming it is committed or refused.
    async fn store_package(
        &self,
        package: code::Package,
    ) -> Result<stratus_types::CodeInfo, DeployError> {
        let mut info = package.info;
        info.sha256 = self.put_blob(package.bytes).await?;
        Ok(info)
    }

    /// Writes a blob (a code or dependency package) and marks it pending; returns its
    /// SHA-256. Every successful call is followed by one `settle_blob` once the row naming
    /// the blob is committed or refused. Pending blobs are shared by functions and
    /// dependencies, so neither deletes a blob the other is about to reference.
    pub(crate) async fn put_blob(&self, bytes: Vec<u8>) -> Result<String, DeployError> {
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(&bytes));
        *self
            .pending_blobs
            .lock()
            .await
            .entry(digest.clone())
            .or_default() += 1;
        // The blob is durable before the row that names it is committed, so a crash
        // never leaves a function without its code.
        match self.blobs.put(bytes).await {
            Ok(stored) if stored == digest => Ok(stored),
            Ok(stored) => {
                self.settle_blob(&digest, false).await;
                Err(
                    anyhow::anyhow!("blob store returned digest {stored}, expected {digest}")
                        .into(),
                )
            }
            Err(e) => {
                self.settle_blob(&digest, false).await;
                Err(e.into())
            }
        }
    }

    /// Reads a stored blob; a missing one is an internal error (rows name only stored
    /// blobs).
    pub(crate) async fn blob(&self, digest: &str) -> Result<Vec<u8>, DeployError> {
        self.blobs.get(digest).await?.ok_or_else(|| {
            DeployError::Internal(anyhow::anyhow!(
                "blob {digest} is missing from the blob store"
            ))
        })
    }

    /// After a row naming `digest` was deleted: deletes the blob unless a write is about
    /// to reference it or a row still does.
    pub(crate) async fn release_blob(&self, digest: &str) {
        let pending = self.pending_blobs.lock().await;
        if pending.contains_key(digest) {
            return;
        }
        match self.store.referenced_blobs().await {
            Ok(used) if !used.iter().any(|d| d == digest) => {
                if let Err(e) = self.blobs.delete(digest).await {
                    tracing::warn!("delete unused blob {digest}: {e:#}");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("check blob {digest}: {e:#}"),
        }
    }

    /// Ends one pending use of a blob; `committed` tells whether a row naming it was
    /// written. When the use was the last one, its write was refused and no row
    /// references the blob, the blob is deleted.
    pub(crate) async fn settle_blob(&self, digest: &str, committed: bool) {
        let mut pending = self.pending_blobs.lock().await;
        match pending.get_mut(digest) {
            Some(n) if *n > 1 => {
                *n -= 1;
                return;
            }
            Some(_) => {
                pending.remove(digest);
            }
            None => return,
        }
        if committed {
            return;
        }
        // Still holding the lock: no other create or update can start using this digest
        // between the check and the delete.
        match self.store.referenced_blobs().await {
            Ok(used) if !used.iter().any(|d| d == digest) => {
                if let Err(e) = self.blobs.delete(digest).await {
                    tracing::warn!("delete unused blob {digest}: {e:#}");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("check blob {digest}: {e:#}"),
        }
    }

    fn remember(&self, rec: FunctionRecord) -> Arc<FunctionRecord> {
        let rec = Arc::new(rec);
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        let keep = match cache.get(&rec.key()) {
            Some(old) if old.id == rec.id && old.revision > rec.revision => old.clone(),
            _ => rec,
        };
        cache.insert(keep.key(), keep.clone());
        keep
    }
}

/// Builds the export zip from its parts, refusing one larger than `limit` bytes.
fn assemble_export(
    name: &str,
    package: Vec<u8>,
    with_code: bool,
    config: Option<Vec<u8>>,
    limit: u64,
) -> Result<ExportedFunction, DeployError> {
    use md5::Digest;
    let md5 = hex::encode(md5::Md5::digest(&package));
    let mut files = Vec::new();
    if with_code {
        files.push((format!("{name}.zip"), package, 0o644));
    }
    if let Some(config) = config {
        files.push(("function.json".to_string(), config, 0o644));
    }
    if files.is_empty() {
        return Err(Invalid::field("type", "choose the code, the configuration or both").into());
    }
    let bytes = stratus_package::zip_files(&files).map_err(anyhow::Error::from)?;
    if bytes.len() as u64 > limit {
        return Err(DeployError::TooLarge(format!(
            "the export of {name:?} would be {} bytes; exports are limited to {limit} bytes",
            bytes.len()
        )));
    }
    Ok(ExportedFunction {
        file_name: format!("{name}{md5}.zip"),
        bytes,
    })
}

fn not_found(key: &FunctionKey) -> DeployError {
    DeployError::NotFound(format!(
        "function {:?} in package {:?} does not exist",
        key.name, key.package
    ))
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn apply(spec: &mut FunctionSpec, d: &FunctionDraft) -> Result<(), DeployError> {
    if let Some(p) = &d.package {
        name::check_package_name(p)?;
        spec.package = p.clone();
    }
    if let Some(h) = &d.handler {
        spec.handler = h.clone();
    }
    if let Some(v) = d.memory_size {
        spec.memory_size = v;
    }
    if let Some(v) = d.timeout {
        spec.timeout = v;
    }
    if let Some(v) = &d.description {
        spec.description = v.clone();
    }
    if let Some(v) = &d.user_data {
        spec.user_data = env::parse_user_data("user_data", v)?;
    }
    if let Some(v) = &d.encrypted_user_data {
        spec.encrypted_user_data = env::parse_user_data("encrypted_user_data", v)?;
    }
    if let Some(v) = &d.initializer_handler {
        spec.initializer_handler = v.clone();
    }
    if let Some(v) = d.initializer_timeout {
        spec.initializer_timeout = v;
    }
    if let Some(v) = &d.pre_stop_handler {
        spec.pre_stop_handler = v.clone();
    }
    if let Some(v) = d.pre_stop_timeout {
        spec.pre_stop_timeout = v;
    }
    if let Some(v) = d.ephemeral_storage {
        spec.ephemeral_storage = v;
    }
    if let Some(v) = d.enable_dynamic_memory {
        spec.enable_dynamic_memory = v;
    }
    if let Some(v) = d.max_instances {
        spec.strategy.max_instances = v;
    }
    if let Some(v) = d.concurrent_num {
        spec.strategy.concurrent_num = v;
    }
    if let Some(v) = &d.func_type {
        if v != "v1" && v != "v2" {
            return Err(Invalid::field("type", format!("{v:?} is not v1 or v2")).into());
        }
        spec.func_type = v.clone();
    }
    for (k, v) in &d.extras {
        if v.is_null() {
            continue;
        }
        spec.extras.insert(k.clone(), v.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the zip holds exactly the named files.
    fn holds(zip: &[u8], names: &[&str]) -> bool {
        stratus_package::inspect(zip, &stratus_package::Limits::default())
            .is_ok_and(|m| m.entries == names.len() && names.iter().all(|n| m.contains(n)))
    }

    fn package() -> Vec<u8> {
        stratus_package::zip_single("index.py", b"x = 1\n", 0o644).unwrap_or_default()
    }

    #[test]
    fn export_holds_the_parts_asked_for() {
        use md5::Digest;
        let md5 = hex::encode(md5::Md5::digest(package()));
        let both = assemble_export("f", package(), true, Some(b"{}".to_vec()), EXPORT_MAX);
        assert!(both
            .as_ref()
            .is_ok_and(|e| e.file_name == format!("f{md5}.zip")
                && holds(&e.bytes, &["f.zip", "function.json"])));
        let code = assemble_export("f", package(), true, None, EXPORT_MAX);
        assert!(code.is_ok_and(|e| holds(&e.bytes, &["f.zip"])));
        let config = assemble_export("f", package(), false, Some(b"{}".to_vec()), EXPORT_MAX);
        assert!(config.is_ok_and(|e| holds(&e.bytes, &["function.json"])));
        assert!(matches!(
            assemble_export("f", package(), false, None, EXPORT_MAX),
            Err(DeployError::Invalid(_))
        ));
    }

    #[test]
    fn export_over_the_limit_is_refused() {
        // Incompressible bytes (xorshift), so the zip is about as large as its content.
        let mut x = 0x2545_f491_u32;
        let big: Vec<u8> = (0..8192)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect();
        let refused = assemble_export("f", big.clone(), true, None, 4096);
        assert!(matches!(refused, Err(DeployError::TooLarge(m)) if m.contains("4096")));
        assert!(assemble_export("f", big, true, None, 64 * 1024).is_ok());
    }
}
