//! Versions and aliases: publishing immutable snapshots of `latest`, aliases that point
//! at one version and optionally send a share of traffic to a second one, and resolving
//! a URN qualifier to the configuration that runs.

use crate::error::{DeployError, InvokeError};
use crate::functions::Functions;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use stratus_store::{AliasRecord, FunctionKey, FunctionRecord, Store, StoreError, VersionRecord};
use stratus_types::limits::{ALIASES_PER_FUNCTION, DESCRIPTION_MAX, VERSIONS_PER_FUNCTION};
use stratus_types::name::{check_alias_name, check_version_name};
use stratus_types::{Invalid, Qualifier};

/// A published version and the record the invoker runs it from (the function with the
/// version's snapshot as its configuration).
#[derive(Debug)]
pub struct Published {
    /// The stored version.
    pub version: VersionRecord,
    /// What runs: `latest` replaced by the snapshot, `revision` by the version's sequence.
    pub view: Arc<FunctionRecord>,
}

/// Versions and aliases of one function.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Published versions, oldest first.
    pub versions: Vec<Arc<Published>>,
    /// Aliases, in order of creation.
    pub aliases: Vec<AliasRecord>,
}

impl Catalog {
    fn version(&self, name: &str) -> Option<&Arc<Published>> {
        self.versions.iter().find(|v| v.version.name == name)
    }

    /// An alias by name.
    pub fn alias(&self, name: &str) -> Option<&AliasRecord> {
        self.aliases.iter().find(|a| a.name == name)
    }
}

/// What an alias should point to, as the API gives it.
#[derive(Debug, Clone, Default)]
pub struct AliasInput {
    /// Alias name (create only; update takes it from the path).
    pub name: Option<String>,
    /// Main version (`latest` allowed).
    pub version: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Additional version → weight 0..100.
    pub weights: Option<BTreeMap<String, i64>>,
    /// Whether rule-based routing was asked for (not offered here).
    pub has_rules: bool,
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0 | 1);
}

/// A uniform number in 0..100 (xorshift64*: cheap, and good enough to split traffic).
fn percent() -> u32 {
    RNG.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        ((x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) % 100) as u32
    })
}

/// Picks the version of a request through `alias`: the additional version with its
/// weight in percent, otherwise the main one.
pub fn pick(alias: &AliasRecord, roll: u32) -> &str {
    match alias.weights.iter().next() {
        Some((extra, w)) if roll < *w => extra,
        _ => &alias.version,
    }
}

/// Versions and aliases, cached per function (reads on the invocation path never touch
/// the store after the first).
#[derive(Clone)]
pub struct Versions {
    store: Arc<dyn Store>,
    functions: Functions,
    cache: Arc<RwLock<HashMap<String, Arc<Catalog>>>>,
}

fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn version_not_found(name: &str, function: &str) -> DeployError {
    DeployError::VersionNotFound(format!(
        "version {name:?} of function {function:?} does not exist"
    ))
}

fn alias_not_found(name: &str, function: &str) -> DeployError {
    DeployError::AliasNotFound(format!(
        "alias {name:?} of function {function:?} does not exist"
    ))
}

impl Versions {
    pub(crate) fn new(store: Arc<dyn Store>, functions: Functions) -> Self {
        Versions {
            store,
            functions,
            cache: Arc::new(RwLock::new(HashMap::new())),
        }
    }

    /// The versions and aliases of a function.
    pub async fn catalog(&self, record: &FunctionRecord) -> Result<Arc<Catalog>, DeployError> {
        if let Some(c) = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&record.id)
        {
            return Ok(c.clone());
        }
        self.reload(record).await
    }

    async fn reload(&self, record: &FunctionRecord) -> Result<Arc<Catalog>, DeployError> {
        let versions = self.store.versions(&record.id).await?;
        let aliases = self.store.aliases(&record.id).await?;
        let catalog = Arc::new(Catalog {
            versions: versions
                .into_iter()
                .map(|v| {
                    let view = Arc::new(FunctionRecord {
                        latest: v.spec.clone(),
                        revision: v.seq,
                        ..record.clone()
                    });
                    Arc::new(Published { version: v, view })
                })
                .collect(),
            aliases,
        });
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(record.id.clone(), catalog.clone());
        Ok(catalog)
    }

    /// Forgets a deleted function.
    pub fn forget(&self, function_id: &str) {
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(function_id);
    }

    /// Publishes the current `latest` as a new version (`vYYYYMMDD-HHMMSS` when unnamed).
    pub async fn publish(
        &self,
        key: &FunctionKey,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Arc<Published>, DeployError> {
        let record = self.functions.get(key).await?;
        let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => chrono::Utc::now().format("v%Y%m%d-%H%M%S").to_string(),
        };
        check_version_name(&name)?;
        let description = description.unwrap_or("");
        if description.chars().count() > DESCRIPTION_MAX {
            return Err(Invalid::field(
                "description",
                format!("is longer than {DESCRIPTION_MAX} characters"),
            )
            .into());
        }
        let mut spec = record.latest.clone();
        spec.version_description = description.to_string();
        spec.last_modified = now_rfc3339();
        let stored = self
            .store
            .publish_version(&record.id, &name, &spec, VERSIONS_PER_FUNCTION)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) => DeployError::Conflict(m),
                StoreError::Quota(m) => DeployError::Quota(m),
                e => e.into(),
            })?;
        let catalog = self.reload(&record).await?;
        catalog
            .version(&stored.name)
            .cloned()
            .ok_or_else(|| DeployError::Internal(anyhow::anyhow!("published version vanished")))
    }

    /// One published version.
    pub async fn version(
        &self,
        key: &FunctionKey,
        name: &str,
    ) -> Result<Arc<Published>, DeployError> {
        let record = self.functions.get(key).await?;
        let catalog = self.catalog(&record).await?;
        catalog
            .version(name)
            .cloned()
            .ok_or_else(|| version_not_found(name, &key.name))
    }

    /// Deletes a published version (and the aliases that point to it).
    pub async fn delete_version(&self, key: &FunctionKey, name: &str) -> Result<(), DeployError> {
        let record = self.functions.get(key).await?;
        self.store
            .delete_version(&record.id, name)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => version_not_found(name, &key.name),
                e => e.into(),
            })?;
        self.reload(&record).await?;
        self.functions.poke_image_gc();
        Ok(())
    }

    fn check_alias(
        &self,
        catalog: &Catalog,
        name: &str,
        input: &AliasInput,
    ) -> Result<AliasRecord, DeployError> {
        check_alias_name(name)?;
        if input.has_rules {
            return Err(Invalid::field(
                "additional_version_strategy",
                "rule-based routing is not offered by this server; use additional_version_weights",
            )
            .into());
        }
        let version = input
            .version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Invalid::field("version", "is required"))?
            .to_string();
        let exists = |v: &str| v == "latest" || catalog.version(v).is_some();
        if !exists(&version) {
            return Err(
                Invalid::field("version", format!("version {version:?} does not exist")).into(),
            );
        }
        let description = input.description.clone().unwrap_or_default();
        if description.chars().count() > DESCRIPTION_MAX {
            return Err(Invalid::field(
                "description",
                format!("is longer than {DESCRIPTION_MAX} characters"),
            )
            .into());
        }
        let mut weights = BTreeMap::new();
        for (v, w) in input.weights.iter().flatten() {
            let field = "additional_version_weights";
            if v == "latest" {
                return Err(Invalid::field(field, "latest cannot be an additional version").into());
            }
            if *v == version {
                return Err(
                    Invalid::field(field, format!("{v:?} is already the main version")).into(),
                );
            }
            if !exists(v) {
                return Err(Invalid::field(field, format!("version {v:?} does not exist")).into());
            }
            if !(0..=100).contains(w) {
                return Err(Invalid::field(
                    field,
                    format!("weight {w} of {v:?} is outside 0..100"),
                )
                .into());
            }
            weights.insert(v.clone(), *w as u32);
        }
        if weights.len() > 1 {
            return Err(Invalid::field(
                "additional_version_weights",
                "an alias points to at most two versions: give one additional version",
            )
            .into());
        }
        Ok(AliasRecord {
            name: name.to_string(),
            version,
            description,
            weights,
            created_at: String::new(),
            modified_at: String::new(),
        })
    }

    /// Creates (`name` given in `input`) or updates (`update` = the alias in the path) an
    /// alias.
    pub async fn put_alias(
        &self,
        key: &FunctionKey,
        update: Option<&str>,
        input: &AliasInput,
    ) -> Result<AliasRecord, DeployError> {
        let record = self.functions.get(key).await?;
        let catalog = self.catalog(&record).await?;
        let name = match update {
            Some(n) => n.to_string(),
            None => input
                .name
                .clone()
                .ok_or_else(|| Invalid::field("name", "is required"))?,
        };
        if update.is_some() && catalog.alias(&name).is_none() {
            return Err(alias_not_found(&name, &key.name));
        }
        let alias = self.check_alias(&catalog, &name, input)?;
        let stored = self
            .store
            .put_alias(&record.id, &alias, update.is_none(), ALIASES_PER_FUNCTION)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(m) if m.contains("does not exist") => {
                    DeployError::Invalid(Invalid::field("version", m))
                }
                StoreError::Conflict(m) => DeployError::Conflict(m),
                StoreError::Quota(m) => DeployError::Quota(m),
                StoreError::NotFound => alias_not_found(&name, &key.name),
                e => e.into(),
            })?;
        self.reload(&record).await?;
        Ok(stored)
    }

    /// One alias.
    pub async fn alias(&self, key: &FunctionKey, name: &str) -> Result<AliasRecord, DeployError> {
        let record = self.functions.get(key).await?;
        self.catalog(&record)
            .await?
            .alias(name)
            .cloned()
            .ok_or_else(|| alias_not_found(name, &key.name))
    }

    /// Deletes an alias.
    pub async fn delete_alias(&self, key: &FunctionKey, name: &str) -> Result<(), DeployError> {
        let record = self.functions.get(key).await?;
        self.store
            .delete_alias(&record.id, name)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => alias_not_found(name, &key.name),
                e => e.into(),
            })?;
        self.reload(&record).await?;
        Ok(())
    }

    /// The record to run and the version name for a qualifier; an alias picks between
    /// its versions by weight.
    pub async fn resolve(
        &self,
        record: Arc<FunctionRecord>,
        qualifier: &Qualifier,
    ) -> Result<(Arc<FunctionRecord>, String), InvokeError> {
        let (name, alias) = match qualifier {
            Qualifier::None | Qualifier::Latest => return Ok((record, "latest".into())),
            Qualifier::Version(v) => (v.as_str(), false),
            Qualifier::Alias(a) => (a.as_str(), true),
        };
        let catalog = self
            .catalog(&record)
            .await
            .map_err(|e| InvokeError::Internal(anyhow::anyhow!("{e}")))?;
        let function = record.latest.name.clone();
        let version = if alias {
            catalog
                .alias(name)
                .map(|a| pick(a, percent()).to_string())
                .ok_or_else(|| {
                    InvokeError::AliasNotFound(alias_not_found(name, &function).to_string())
                })?
        } else if let Some(v) = catalog.version(name) {
            return Ok((v.view.clone(), v.version.name.clone()));
        } else if let Some(a) = catalog.alias(name) {
            // `…:name` without `!` names an alias when no version has that name.
            pick(a, percent()).to_string()
        } else {
            return Err(InvokeError::VersionNotFound(
                version_not_found(name, &function).to_string(),
            ));
        };
        if version == "latest" {
            return Ok((record, version));
        }
        match catalog.version(&version) {
            Some(v) => Ok((v.view.clone(), version)),
            None => Err(InvokeError::VersionNotFound(
                version_not_found(&version, &function).to_string(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_split_traffic() {
        let alias = AliasRecord {
            name: "a".into(),
            version: "v1".into(),
            description: String::new(),
            weights: BTreeMap::from([("v2".to_string(), 20)]),
            created_at: String::new(),
            modified_at: String::new(),
        };
        assert_eq!(pick(&alias, 0), "v2");
        assert_eq!(pick(&alias, 19), "v2");
        assert_eq!(pick(&alias, 20), "v1");
        assert_eq!(pick(&alias, 99), "v1");
        let n = 100_000;
        let extra = (0..n).filter(|_| pick(&alias, percent()) == "v2").count();
        let share = extra as f64 / n as f64;
        assert!((0.19..0.21).contains(&share), "{share}");
    }
}
