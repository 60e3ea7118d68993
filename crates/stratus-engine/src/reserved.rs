//! Reserved instances (guide 12): a minimum of warm, initialized instances per version or
//! alias, raised on schedule by cron policies, kept by a background task that starts
//! missing instances and replaces dead ones.

use crate::error::{DeployError, InvokeError};
use crate::invoke::Invoker;
use crate::queue::{qualifier_of, qualifier_text};
use crate::versions::Versions;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use stratus_cron::Cron;
use stratus_store::{FunctionKey, FunctionRecord, Store, StoreError};
use stratus_types::{Invalid, Qualifier, Urn};
use tokio::sync::Notify;

/// Most reserved instances of one version or alias (guide table 12-1).
pub const RESERVED_MAX: i64 = 1000;
/// How often the keeper checks every policy.
const KEEP_EVERY: Duration = Duration::from_secs(1);

/// A scheduled policy: while valid, once its cron has fired, at least `count` instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronPolicy {
    /// Policy name.
    pub name: String,
    /// Cron expression of guide 7.8, UTC.
    pub cron: String,
    /// Instances while the policy holds.
    pub count: u32,
    /// Start of validity, Unix seconds.
    pub start_time: i64,
    /// End of validity, Unix seconds.
    pub expired_time: i64,
}

/// The reserved-instance policy of one function qualifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedPolicy {
    /// Base number of reserved instances.
    pub count: u32,
    /// `idle_mode`: idle reserved instances are frozen until a request comes.
    pub idle_mode: bool,
    /// Scheduled policies.
    pub cron_configs: Vec<CronPolicy>,
}

/// A stored policy and where it applies.
#[derive(Debug, Clone)]
pub struct ReservedConfig {
    /// Unqualified URN of the function.
    pub function_urn: String,
    /// `latest`, a version name, or `!alias`.
    pub qualifier: String,
    /// The policy.
    pub policy: ReservedPolicy,
    /// Last change.
    pub updated_at: String,
}

/// One `cron_configs` entry as given: name, cron, count, start_time, expired_time.
pub type CronInput = (
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// The API's fields of `PUT .../reservedinstances`.
#[derive(Debug, Clone, Default)]
pub struct ReservedInput {
    /// `count`.
    pub count: Option<i64>,
    /// `idle_mode`.
    pub idle_mode: Option<bool>,
    /// `tactics_config.cron_configs`: (name, cron, count, start_time, expired_time).
    pub cron_configs: Vec<CronInput>,
    /// Whether `tactics_config.metric_configs` asked for metric-based scaling.
    pub has_metric_rules: bool,
}

/// Seconds from an SDK timestamp: the unit is not stated, so values that only make sense
/// as milliseconds are read as such.
fn seconds(t: i64) -> i64 {
    if t > 100_000_000_000 {
        t / 1000
    } else {
        t
    }
}

impl ReservedInput {
    /// Checks every field.
    pub fn validate(&self) -> Result<ReservedPolicy, Invalid> {
        let count = self
            .count
            .ok_or_else(|| Invalid::field("count", "is required"))?;
        if !(0..=RESERVED_MAX).contains(&count) {
            return Err(Invalid::field(
                "count",
                format!("{count} is outside 0..{RESERVED_MAX}"),
            ));
        }
        if self.has_metric_rules {
            return Err(Invalid::field(
                "tactics_config.metric_configs",
                "metric-based policies are not offered by this server; use cron_configs",
            ));
        }
        let mut cron_configs = Vec::new();
        for (i, (name, cron, n, start, end)) in self.cron_configs.iter().enumerate() {
            let field = |k: &str| format!("tactics_config.cron_configs[{i}].{k}");
            let name = name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| Invalid::field(field("name"), "is required"))?;
            if cron_configs.iter().any(|c: &CronPolicy| c.name == name) {
                return Err(Invalid::field(
                    field("name"),
                    format!("{name:?} is used twice"),
                ));
            }
            let cron = cron
                .clone()
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| Invalid::field(field("cron"), "is required"))?;
            Cron::parse(&cron).map_err(|e| {
                Invalid::field(field("cron"), format!("{}: {}", e.field, e.message))
            })?;
            let n = n.ok_or_else(|| Invalid::field(field("count"), "is required"))?;
            if n < count || n > RESERVED_MAX {
                return Err(Invalid::field(
                    field("count"),
                    format!("{n} must be from the base count {count} to {RESERVED_MAX}"),
                ));
            }
            let (Some(start), Some(end)) = (*start, *end) else {
                return Err(Invalid::field(
                    field("start_time"),
                    "start_time and expired_time (Unix seconds) are required",
                ));
            };
            let (start, end) = (seconds(start), seconds(end));
            if start < 0 || end <= start {
                return Err(Invalid::field(
                    field("expired_time"),
                    "must be after start_time",
                ));
            }
            cron_configs.push(CronPolicy {
                name,
                cron,
                count: n as u32,
                start_time: start,
                expired_time: end,
            });
        }
        Ok(ReservedPolicy {
            count: count as u32,
            idle_mode: self.idle_mode.unwrap_or(false),
            cron_configs,
        })
    }
}

impl ReservedPolicy {
    /// Instances wanted at `now`: the base count, raised by every scheduled policy that
    /// is within its validity and whose cron has fired since the validity began (the
    /// largest wins). Outside every validity the base count holds (guide 12).
    pub fn wanted(&self, now: DateTime<Utc>) -> u32 {
        let mut n = self.count;
        for p in &self.cron_configs {
            let (Some(start), Some(end)) = (
                DateTime::from_timestamp(p.start_time, 0),
                DateTime::from_timestamp(p.expired_time, 0),
            ) else {
                continue;
            };
            if now < start || now >= end {
                continue;
            }
            let Ok(cron) = Cron::parse(&p.cron) else {
                continue;
            };
            let fired = cron
                .next_after(start - chrono::Duration::seconds(1))
                .is_some_and(|first| first <= now);
            if fired {
                n = n.max(p.count);
            }
        }
        n
    }
}

/// Reserved-instance policies and their keeper.
#[derive(Clone)]
pub struct Reserved {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    invoker: Invoker,
    versions: Versions,
    region: String,
    policies: RwLock<HashMap<(String, String), (ReservedConfig, FunctionKey)>>,
    /// Instances each policy has right now (for the list API and metrics).
    live: RwLock<HashMap<(String, String), usize>>,
    /// Per function: (Unix ms, instances, reserved instances), one sample a minute.
    history: RwLock<HashMap<String, std::collections::VecDeque<Sample>>>,
    wake: Arc<Notify>,
}

/// One point of an instance report: Unix ms, instances, reserved instances.
pub type Sample = (i64, usize, usize);

/// Samples kept per function (an hour at one a minute).
const HISTORY: usize = 60;
/// Time between samples.
const SAMPLE_EVERY_MS: i64 = 60_000;

impl Reserved {
    /// Loads the policies and starts the keeper.
    pub(crate) async fn start(
        store: Arc<dyn Store>,
        invoker: Invoker,
        versions: Versions,
        region: &str,
    ) -> anyhow::Result<Self> {
        let mut policies = HashMap::new();
        for (fid, q, json, updated_at) in store.reserved_configs().await? {
            let Ok(stored) = serde_json::from_str::<Stored>(&json) else {
                tracing::warn!(function = %fid, "unreadable reserved-instance policy ignored");
                continue;
            };
            let key = stored.key();
            policies.insert(
                (fid, q.clone()),
                (
                    ReservedConfig {
                        function_urn: stored.function_urn,
                        qualifier: q,
                        policy: stored.policy,
                        updated_at,
                    },
                    key,
                ),
            );
        }
        let inner = Arc::new(Inner {
            store,
            invoker,
            versions,
            region: region.to_string(),
            policies: RwLock::new(policies),
            live: RwLock::new(HashMap::new()),
            history: RwLock::new(HashMap::new()),
            wake: Arc::new(Notify::new()),
        });
        tokio::spawn(keep(Arc::downgrade(&inner), inner.wake.clone()));
        Ok(Reserved { inner })
    }

    /// Sets (count > 0) or removes (count 0) the policy of a version or alias. A version
    /// and an alias pointing at it cannot both have one (guide 12).
    pub async fn put(
        &self,
        project_id: &str,
        urn: &Urn,
        input: &ReservedInput,
    ) -> Result<ReservedConfig, DeployError> {
        let policy = input.validate()?;
        let inner = &self.inner;
        let (record, _) = inner
            .invoker
            .target(project_id, urn)
            .await
            .map_err(to_deploy)?;
        if policy.count as i32 > record.latest.strategy.max_instances
            && record.latest.strategy.max_instances >= 0
        {
            return Err(Invalid::field(
                "count",
                format!(
                    "{} is above the function's max instances ({})",
                    policy.count, record.latest.strategy.max_instances
                ),
            )
            .into());
        }
        let q = qualifier_text(&urn.qualifier);
        let target = self.version_of(&record, &q).await?;
        let others: Vec<String> = inner
            .policies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .filter(|(fid, other)| *fid == record.id && *other != q)
            .map(|(_, other)| other.clone())
            .collect();
        for other in others {
            if self.version_of(&record, &other).await? == target {
                return Err(Invalid::field(
                    "function_urn",
                    format!(
                        "{other} already has reserved instances for version {target}; a version and an alias of it cannot both have them"
                    ),
                )
                .into());
            }
        }
        let key = record.key();
        let function_urn = Urn::of(
            &inner.region,
            &key.project_id,
            &key.package,
            &key.name,
            Qualifier::None,
        )
        .to_string();
        let slot = (record.id.clone(), q.clone());
        if policy.count == 0 && policy.cron_configs.is_empty() {
            match inner.store.delete_reserved(&record.id, &q).await {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
            inner
                .policies
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&slot);
            inner.wake.notify_one();
            return Ok(ReservedConfig {
                function_urn,
                qualifier: q,
                policy,
                updated_at: String::new(),
            });
        }
        let stored = Stored {
            function_urn: function_urn.clone(),
            project_id: key.project_id.clone(),
            package: key.package.clone(),
            name: key.name.clone(),
            policy: policy.clone(),
        };
        let json = serde_json::to_string(&stored).map_err(|e| DeployError::Internal(e.into()))?;
        let updated_at = inner.store.put_reserved(&record.id, &q, &json).await?;
        let config = ReservedConfig {
            function_urn,
            qualifier: q,
            policy,
            updated_at,
        };
        inner
            .policies
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(slot, (config.clone(), key));
        inner.wake.notify_one();
        Ok(config)
    }

    async fn version_of(
        &self,
        record: &FunctionRecord,
        qualifier: &str,
    ) -> Result<String, DeployError> {
        match qualifier.strip_prefix('!') {
            None => Ok(qualifier.to_string()),
            Some(alias) => {
                let catalog = self.inner.versions.catalog(record).await?;
                Ok(catalog
                    .alias(alias)
                    .map(|a| a.version.clone())
                    .unwrap_or_else(|| qualifier.to_string()))
            }
        }
    }

    /// Every policy with its function id, optionally of one function, in a stable order.
    pub fn configs_with_ids(&self, function_id: Option<&str>) -> Vec<(String, ReservedConfig)> {
        let mut out: Vec<(String, ReservedConfig)> = self
            .inner
            .policies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|((fid, _), _)| function_id.is_none_or(|f| f == fid))
            .map(|((fid, _), (c, _))| (fid.clone(), c.clone()))
            .collect();
        out.sort_by(|a, b| {
            (&a.1.function_urn, &a.1.qualifier).cmp(&(&b.1.function_urn, &b.1.qualifier))
        });
        out
    }

    /// Reserved instances alive for a function qualifier now.
    pub fn live(&self, function_id: &str, qualifier: &str) -> usize {
        self.inner
            .live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(function_id.to_string(), qualifier.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Instances and reserved instances of a function over the last hour, one sample a
    /// minute, the current figures last: the `instancereports` (`reservedinstancenum`)
    /// series.
    pub fn report(&self, function_id: &str) -> Vec<Sample> {
        let mut out: Vec<Sample> = self
            .inner
            .history
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(function_id)
            .map(|h| h.iter().copied().collect())
            .unwrap_or_default();
        out.push(self.inner.sample(function_id));
        out
    }

    /// Drops the policies of a deleted function (its rows went with it).
    pub fn forget_function(&self, function_id: &str) {
        self.inner
            .policies
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(f, _), _| f != function_id);
    }

    /// Removes the policy of a deleted version or alias.
    pub async fn forget_qualifier(&self, function_id: &str, qualifier: &str) {
        let _ = self
            .inner
            .store
            .delete_reserved(function_id, qualifier)
            .await;
        self.inner
            .policies
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(function_id.to_string(), qualifier.to_string()));
    }
}

impl Inner {
    fn sample(&self, function_id: &str) -> Sample {
        let reserved = self
            .live
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|((f, _), _)| f == function_id)
            .map(|(_, n)| *n)
            .sum();
        (
            Utc::now().timestamp_millis(),
            self.invoker.instance_count(function_id),
            reserved,
        )
    }

    /// Appends a sample per function with a policy, once a minute.
    fn record_history(&self) {
        let now = Utc::now().timestamp_millis();
        let functions: std::collections::HashSet<String> = self
            .policies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .map(|(f, _)| f.clone())
            .collect();
        let mut h = self.history.write().unwrap_or_else(|p| p.into_inner());
        h.retain(|f, _| functions.contains(f));
        for f in functions {
            let due = h
                .get(&f)
                .and_then(|q| q.back())
                .is_none_or(|(t, _, _)| now - t >= SAMPLE_EVERY_MS);
            if due {
                let s = self.sample(&f);
                let q = h.entry(f).or_default();
                q.push_back(s);
                while q.len() > HISTORY {
                    q.pop_front();
                }
            }
        }
    }
}

fn to_deploy(e: InvokeError) -> DeployError {
    match e {
        InvokeError::NotFound(m) => DeployError::NotFound(m),
        InvokeError::VersionNotFound(m) => DeployError::VersionNotFound(m),
        InvokeError::AliasNotFound(m) => DeployError::AliasNotFound(m),
        other => DeployError::Internal(anyhow::anyhow!("{other}")),
    }
}

/// What is stored per qualifier.
#[derive(Serialize, Deserialize)]
struct Stored {
    function_urn: String,
    project_id: String,
    package: String,
    name: String,
    policy: ReservedPolicy,
}

impl Stored {
    fn key(&self) -> FunctionKey {
        FunctionKey {
            project_id: self.project_id.clone(),
            package: self.package.clone(),
            name: self.name.clone(),
        }
    }
}

/// Once a second (and on every change): every policy gets its wanted number of reserved
/// instances; dead ones are replaced on the next round.
async fn keep(inner: std::sync::Weak<Inner>, wake: Arc<Notify>) {
    loop {
        let Some(i) = inner.upgrade() else { return };
        let woken = wake.notified();
        let now = Utc::now();
        let work: Vec<((String, String), ReservedConfig, FunctionKey)> = i
            .policies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, (c, key))| (k.clone(), c.clone(), key.clone()))
            .collect();
        for (slot, config, key) in work {
            let wanted = config.policy.wanted(now) as usize;
            let urn = Urn::of(
                &i.region,
                &key.project_id,
                &key.package,
                &key.name,
                qualifier_of(&config.qualifier),
            );
            let live = match i.invoker.target(&key.project_id, &urn).await {
                Ok((record, version)) => {
                    i.invoker
                        .keep_reserved(&record, &version, wanted, config.policy.idle_mode)
                        .await
                }
                Err(_) => 0,
            };
            i.live
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(slot, live);
        }
        i.record_history();
        drop(i);
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(KEEP_EVERY) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(count: i64, crons: Vec<(&str, &str, i64, i64, i64)>) -> ReservedInput {
        ReservedInput {
            count: Some(count),
            idle_mode: None,
            cron_configs: crons
                .into_iter()
                .map(|(n, c, k, s, e)| (Some(n.into()), Some(c.into()), Some(k), Some(s), Some(e)))
                .collect(),
            has_metric_rules: false,
        }
    }

    #[test]
    fn validation() {
        assert_eq!(input(2, vec![]).validate().unwrap().count, 2);
        for bad in [
            input(-1, vec![]),
            input(1001, vec![]),
            input(2, vec![("p", "0 0 8 * * ?", 1, 0, 10)]),
            input(2, vec![("p", "0 0 25 * * ?", 3, 0, 10)]),
            input(2, vec![("p", "0 0 8 * * ?", 3, 10, 5)]),
            input(
                2,
                vec![
                    ("p", "0 0 8 * * ?", 3, 0, 10),
                    ("p", "0 0 9 * * ?", 3, 0, 10),
                ],
            ),
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let mut m = input(1, vec![]);
        m.has_metric_rules = true;
        assert!(m.validate().is_err());
        let ms = input(
            1,
            vec![("p", "0 0 8 * * ?", 3, 1_700_000_000_000, 1_700_000_100_000)],
        );
        assert_eq!(
            ms.validate().unwrap().cron_configs[0].start_time,
            1_700_000_000
        );
    }

    #[test]
    fn scheduled_policies_raise_the_count_inside_their_validity() {
        let day = 1_700_006_400; // 2023-11-15T00:00:00Z
        let p = input(1, vec![("morning", "0 0 8 * * ?", 5, day, day + 86_400)])
            .validate()
            .unwrap();
        let at = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap();
        assert_eq!(p.wanted(at(day - 10)), 1, "before the validity");
        assert_eq!(p.wanted(at(day + 7 * 3600)), 1, "valid, but not fired yet");
        assert_eq!(p.wanted(at(day + 8 * 3600)), 5, "fired at 08:00");
        assert_eq!(p.wanted(at(day + 20 * 3600)), 5);
        assert_eq!(p.wanted(at(day + 86_400)), 1, "expired");
    }
}
