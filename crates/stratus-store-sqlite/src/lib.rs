//! The embedded SQLite store (WAL mode). All SQL of the default backend lives here.
//!
//! One connection guarded by a mutex serves every call on the blocking thread pool;
//! SQLite serialises writers anyway, and the invocation hot path never reaches the store.
//! Access keys are the exception that every signed request needs: known keys are kept in
//! memory (write-through), so authentication costs no blocking-pool hop and no SQL.

use anyhow::Context;
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use stratus_store::*;
use stratus_types::FunctionSpec;

mod apps;
mod dependencies;
mod events;
mod queue;
mod triggers;
mod versions;

/// Schema changes in the order they are applied, each named by its file. The list order
/// decides, and every migration applied is recorded by name in `schema_migrations`, so a
/// migration placed before others already applied still runs once. Each migration must
/// therefore stand on its own (not rely on a later one).
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../migrations/0001_init.sql")),
    ("0002_async", include_str!("../migrations/0002_async.sql")),
    (
        "0003_versions",
        include_str!("../migrations/0003_versions.sql"),
    ),
    (
        "0004_triggers",
        include_str!("../migrations/0004_triggers.sql"),
    ),
    (
        "0005_test_events",
        include_str!("../migrations/0005_test_events.sql"),
    ),
    (
        "0006_dependencies",
        include_str!("../migrations/0006_dependencies.sql"),
    ),
    (
        "0007_reserved",
        include_str!("../migrations/0007_reserved.sql"),
    ),
    (
        "0008_app_keys",
        include_str!("../migrations/0008_app_keys.sql"),
    ),
];

/// The migrations that existed while `PRAGMA user_version` was the only record of what
/// had been applied (the first N of this list at that time).
const COUNTED_MIGRATIONS: &[&str] = &[
    "0001_init",
    "0002_async",
    "0003_versions",
    "0004_triggers",
    "0005_test_events",
];

/// SQLite-backed `Store`.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    keys: Arc<RwLock<KeyCache>>,
}

/// Access keys found in the database, by AK. Only hits are kept (an unknown key is looked
/// up again, so a key added later is seen). A write of a key drops its entry and bumps
/// `generation`; a lookup that started before the write does not store what it read.
#[derive(Default)]
struct KeyCache {
    generation: u64,
    map: HashMap<String, AccessKey>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
        let mut conn =
            Connection::open(path).with_context(|| format!("open {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL makes each commit durable on its own (a create that returned survives a crash).
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            keys: Arc::new(RwLock::new(KeyCache::default())),
        })
    }

    fn key_cache(&self) -> std::sync::RwLockWriteGuard<'_, KeyCache> {
        self.keys.write().unwrap_or_else(|p| p.into_inner())
    }

    fn forget_access_key(&self, access_key: &str) {
        let mut cache = self.key_cache();
        cache.generation += 1;
        cache.map.remove(access_key);
    }

    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| anyhow::anyhow!("store connection poisoned"))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Internal(e.into()))?
    }
}

/// `INSERT INTO logs` statements for 64, 32, …, 1 rows: a batch of n lines takes
/// n / 64 + at most 6 statements, and the 7 texts stay in the statement cache.
/// `OR ROLLBACK`: a multi-row statement that may abort half-way needs a statement
/// journal (a temporary file, written page by page); a failure ends the whole batch's
/// transaction anyway, as it did with one row per statement.
static LOG_INSERTS: std::sync::LazyLock<Vec<(usize, String)>> = std::sync::LazyLock::new(|| {
    [64, 32, 16, 8, 4, 2, 1]
        .into_iter()
        .map(|k| {
            let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; k].join(", ");
            (
                k,
                format!(
                    "INSERT OR ROLLBACK INTO logs (project_id, package, function, version, request_id, time_ms, level, text) VALUES {rows}"
                ),
            )
        })
        .collect()
});

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let has_ledger: bool = tx.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has_ledger {
        tx.execute_batch(
            "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        // A database from before the ledger counted its migrations in user_version.
        let counted: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let counted = usize::try_from(counted).unwrap_or(0);
        if counted > COUNTED_MIGRATIONS.len() {
            anyhow::bail!(
                "the database is at schema version {counted}, written by a build with \
                 migrations this one does not know"
            );
        }
        for name in &COUNTED_MIGRATIONS[..counted] {
            tx.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ?2)",
                params![name, now()],
            )?;
        }
    }
    tx.commit()?;
    for (name, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied: bool = tx.query_row(
            "SELECT COUNT(*) FROM schema_migrations WHERE name = ?1",
            params![name],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )?;
        if !applied {
            tx.execute_batch(sql)
                .with_context(|| format!("migration {name}"))?;
            tx.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ?2)",
                params![name, now()],
            )?;
            // user_version keeps counting only the migrations that existed when it was
            // the record, so a build that still reads it neither re-runs those nor
            // mistakes a later migration of this list for one of its own.
            if let Some(i) = COUNTED_MIGRATIONS.iter().position(|m| m == name) {
                tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            }
        }
        tx.commit()?;
    }
    Ok(())
}

fn internal(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Internal(e.into())
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn spec_json(spec: &FunctionSpec) -> StoreResult<String> {
    serde_json::to_string(spec).map_err(internal)
}

fn record_from_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, i64, String, String)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn to_record(
    (id, project_id, revision, created_at, spec): (String, String, i64, String, String),
) -> StoreResult<FunctionRecord> {
    let latest: FunctionSpec = serde_json::from_str(&spec).map_err(internal)?;
    Ok(FunctionRecord {
        id,
        project_id,
        revision,
        created_at,
        latest,
    })
}

const SELECT_FUNCTION: &str = "SELECT f.id, f.project_id, f.revision, f.created_at, v.spec \
     FROM functions f JOIN function_versions v ON v.function_id = f.id AND v.version = 'latest'";

#[async_trait]
impl Store for SqliteStore {
    async fn ensure_project(&self, project_id: &str) -> StoreResult<()> {
        let id = project_id.to_string();
        self.run(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO projects (id, created_at) VALUES (?1, ?2)",
                params![id, now()],
            )
            .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn ensure_access_key(&self, key: &AccessKey) -> StoreResult<()> {
        let ak = key.access_key.clone();
        let key = key.clone();
        let out = self.run(move |c| {
            let root: i64 = c
                .query_row("SELECT COUNT(*) FROM access_keys WHERE root = 1", [], |r| r.get(0))
                .map_err(internal)?;
            c.execute(
                "INSERT OR IGNORE INTO access_keys (access_key, secret_key, project_id, root, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key.access_key, key.secret_key, key.project_id, (root == 0) as i64, now()],
            )
            .map_err(internal)?;
            Ok(())
        })
        .await;
        self.forget_access_key(&ak);
        out
    }

    async fn access_key(&self, access_key: &str) -> StoreResult<Option<AccessKey>> {
        let generation = {
            let cache = self.keys.read().unwrap_or_else(|p| p.into_inner());
            if let Some(k) = cache.map.get(access_key) {
                return Ok(Some(k.clone()));
            }
            cache.generation
        };
        let ak = access_key.to_string();
        let found = self
            .run(move |c| {
                c.query_row(
                "SELECT access_key, secret_key, project_id FROM access_keys WHERE access_key = ?1",
                params![ak],
                |r| {
                    Ok(AccessKey {
                        access_key: r.get(0)?,
                        secret_key: r.get(1)?,
                        project_id: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(internal)
            })
            .await?;
        if let Some(k) = &found {
            let mut cache = self.key_cache();
            if cache.generation == generation {
                cache.map.insert(k.access_key.clone(), k.clone());
            }
        }
        Ok(found)
    }

    async fn root_access_key(&self) -> StoreResult<Option<AccessKey>> {
        self.run(|c| {
            c.query_row(
                "SELECT access_key, secret_key, project_id FROM access_keys WHERE root = 1 LIMIT 1",
                [],
                |r| {
                    Ok(AccessKey {
                        access_key: r.get(0)?,
                        secret_key: r.get(1)?,
                        project_id: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(internal)
        })
        .await
    }

    async fn create_function(
        &self,
        project_id: &str,
        spec: &FunctionSpec,
        max_functions: usize,
    ) -> StoreResult<FunctionRecord> {
        let project_id = project_id.to_string();
        let spec = spec.clone();
        let json = spec_json(&spec)?;
        self.run(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            let count: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM functions WHERE project_id = ?1",
                    params![project_id],
                    |r| r.get(0),
                )
                .map_err(internal)?;
            if count as usize >= max_functions {
                return Err(StoreError::Quota(format!(
                    "the project already has {count} functions; the limit is {max_functions}"
                )));
            }
            let exists: Option<String> = tx
                .query_row(
                    "SELECT id FROM functions WHERE project_id = ?1 AND package = ?2 AND name = ?3",
                    params![project_id, spec.package, spec.name],
                    |r| r.get(0),
                )
                .optional()
                .map_err(internal)?;
            if exists.is_some() {
                return Err(StoreError::Conflict(format!(
                    "function {:?} already exists in package {:?}",
                    spec.name, spec.package
                )));
            }
            dependencies::check_references(&tx, &project_id, &spec)?;
            let id = uuid::Uuid::new_v4().to_string();
            let created = now();
            tx.execute(
                "INSERT INTO functions (id, project_id, package, name, revision, created_at) VALUES (?1, ?2, ?3, ?4, 1, ?5)",
                params![id, project_id, spec.package, spec.name, created],
            )
            .map_err(internal)?;
            tx.execute(
                "INSERT INTO function_versions (function_id, version, spec, code_sha256, created_at) VALUES (?1, 'latest', ?2, ?3, ?4)",
                params![id, json, spec.code.sha256, created],
            )
            .map_err(internal)?;
            tx.commit().map_err(internal)?;
            Ok(FunctionRecord {
                id,
                project_id,
                revision: 1,
                created_at: created,
                latest: spec,
            })
        })
        .await
    }

    async fn get_function(&self, key: &FunctionKey) -> StoreResult<Option<FunctionRecord>> {
        let key = key.clone();
        self.run(move |c| {
            let sql = format!(
                "{SELECT_FUNCTION} WHERE f.project_id = ?1 AND f.package = ?2 AND f.name = ?3"
            );
            let row = c
                .query_row(
                    &sql,
                    params![key.project_id, key.package, key.name],
                    record_from_row,
                )
                .optional()
                .map_err(internal)?;
            row.map(to_record).transpose()
        })
        .await
    }

    async fn list_functions(&self, query: &ListQuery) -> StoreResult<(Vec<FunctionRecord>, usize)> {
        let q = query.clone();
        self.run(move |c| {
            let filter = "f.project_id = ?1 AND (?2 IS NULL OR f.package = ?2) AND (?3 IS NULL OR instr(f.name, ?3) > 0)";
            let total: i64 = c
                .query_row(
                    &format!("SELECT COUNT(*) FROM functions f WHERE {filter}"),
                    params![q.project_id, q.package, q.name_contains],
                    |r| r.get(0),
                )
                .map_err(internal)?;
            let sql = format!("{SELECT_FUNCTION} WHERE {filter} ORDER BY f.created_at, f.rowid LIMIT ?4 OFFSET ?5");
            let mut stmt = c.prepare(&sql).map_err(internal)?;
            let rows = stmt
                .query_map(
                    params![q.project_id, q.package, q.name_contains, q.limit as i64, q.offset as i64],
                    record_from_row,
                )
                .map_err(internal)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(to_record(row.map_err(internal)?)?);
            }
            Ok((out, total as usize))
        })
        .await
    }

    async fn update_latest(
        &self,
        key: &FunctionKey,
        spec: &FunctionSpec,
        expected_revision: i64,
    ) -> StoreResult<FunctionRecord> {
        if spec.package != key.package || spec.name != key.name {
            // The functions row holds the identity; a spec that disagrees would orphan it.
            return Err(internal(anyhow::anyhow!(
                "update_latest cannot move {}/{} to {}/{}",
                key.package,
                key.name,
                spec.package,
                spec.name
            )));
        }
        let key = key.clone();
        let spec = spec.clone();
        let json = spec_json(&spec)?;
        self.run(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            let row: Option<(String, i64, String)> = tx
                .query_row(
                    "SELECT id, revision, created_at FROM functions WHERE project_id = ?1 AND package = ?2 AND name = ?3",
                    params![key.project_id, key.package, key.name],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(internal)?;
            let Some((id, revision, created_at)) = row else {
                return Err(StoreError::NotFound);
            };
            if revision != expected_revision {
                return Err(StoreError::Stale {
                    expected: expected_revision,
                    current: revision,
                });
            }
            dependencies::check_references(&tx, &key.project_id, &spec)?;
            tx.execute(
                "UPDATE functions SET revision = ?2 WHERE id = ?1",
                params![id, revision + 1],
            )
            .map_err(internal)?;
            tx.execute(
                "UPDATE function_versions SET spec = ?2, code_sha256 = ?3 WHERE function_id = ?1 AND version = 'latest'",
                params![id, json, spec.code.sha256],
            )
            .map_err(internal)?;
            tx.commit().map_err(internal)?;
            Ok(FunctionRecord {
                id,
                project_id: key.project_id,
                revision: revision + 1,
                created_at,
                latest: spec,
            })
        })
        .await
    }

    async fn delete_function(&self, key: &FunctionKey) -> StoreResult<()> {
        let key = key.clone();
        self.run(move |c| {
            let n = c
                .execute(
                    "DELETE FROM functions WHERE project_id = ?1 AND package = ?2 AND name = ?3",
                    params![key.project_id, key.package, key.name],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn referenced_blobs(&self) -> StoreResult<Vec<String>> {
        self.run(|c| {
            let mut stmt = c
                .prepare("SELECT code_sha256 FROM function_versions UNION SELECT sha256 FROM dependency_versions")
                .map_err(internal)?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(internal)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(internal)
        })
        .await
    }

    async fn specs_with_extra(&self, key: &str) -> StoreResult<Vec<FunctionSpec>> {
        let key = key.to_string();
        self.run(move |c| {
            // LIKE only narrows the rows to parse (its wildcards `_`, `%` in the key
            // match more, never less); the parsed spec decides.
            let pattern = format!("%\"{key}\"%");
            let mut stmt = c
                .prepare("SELECT spec FROM function_versions WHERE spec LIKE ?1")
                .map_err(internal)?;
            let rows = stmt
                .query_map([pattern], |r| r.get::<_, String>(0))
                .map_err(internal)?;
            let mut out = Vec::new();
            for row in rows {
                let spec: FunctionSpec =
                    serde_json::from_str(&row.map_err(internal)?).map_err(internal)?;
                if spec.extras.contains_key(&key) {
                    out.push(spec);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn append_logs(&self, lines: Vec<LogLine>) -> StoreResult<()> {
        if lines.is_empty() {
            return Ok(());
        }
        self.run(move |c| {
            let tx = c.transaction().map_err(internal)?;
            let mut rest = &lines[..];
            while !rest.is_empty() {
                // Several rows per statement: AUTOINCREMENT updates sqlite_sequence once
                // per statement, and the statement's setup and halt are paid once.
                let (k, sql) = LOG_INSERTS
                    .iter()
                    .find(|(k, _)| *k <= rest.len())
                    .expect("a statement for one row exists");
                let (chunk, tail) = rest.split_at(*k);
                let mut stmt = tx.prepare_cached(sql).map_err(internal)?;
                let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(8 * k);
                for l in chunk {
                    values.extend_from_slice(&[
                        &l.project_id,
                        &l.package,
                        &l.function,
                        &l.version,
                        &l.request_id,
                        &l.time_ms,
                        &l.level,
                        &l.text,
                    ]);
                }
                stmt.execute(values.as_slice()).map_err(internal)?;
                rest = tail;
            }
            tx.commit().map_err(internal)
        })
        .await
    }

    async fn query_logs(&self, query: &LogQuery) -> StoreResult<Vec<StoredLogLine>> {
        let q = query.clone();
        self.run(move |c| {
            let filter = "project_id = ?1 AND package = ?2 AND function = ?3 \
                 AND (?4 IS NULL OR request_id = ?4) AND (?5 IS NULL OR time_ms >= ?5) AND (?6 IS NULL OR seq > ?6)";
            // Without a cursor the newest lines are wanted; with one, the next ones.
            let sql = if q.after_seq.is_some() {
                format!("SELECT seq, project_id, package, function, version, request_id, time_ms, level, text FROM logs WHERE {filter} ORDER BY seq LIMIT ?7")
            } else {
                format!("SELECT * FROM (SELECT seq, project_id, package, function, version, request_id, time_ms, level, text FROM logs WHERE {filter} ORDER BY seq DESC LIMIT ?7) ORDER BY seq")
            };
            let mut stmt = c.prepare(&sql).map_err(internal)?;
            let rows = stmt
                .query_map(
                    params![q.project_id, q.package, q.function, q.request_id, q.since_ms, q.after_seq, q.limit as i64],
                    |r| {
                        Ok(StoredLogLine {
                            seq: r.get(0)?,
                            line: LogLine {
                                project_id: r.get(1)?,
                                package: r.get(2)?,
                                function: r.get(3)?,
                                version: r.get(4)?,
                                request_id: r.get(5)?,
                                time_ms: r.get(6)?,
                                level: r.get(7)?,
                                text: r.get(8)?,
                            },
                        })
                    },
                )
                .map_err(internal)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(internal)
        })
        .await
    }

    async fn prune_logs(&self, older_than_ms: i64) -> StoreResult<u64> {
        self.run(move |c| {
            let n = c
                .execute(
                    "DELETE FROM logs WHERE time_ms < ?1",
                    params![older_than_ms],
                )
                .map_err(internal)?;
            Ok(n as u64)
        })
        .await
    }

    async fn cap_logs(&self, keep: u64) -> StoreResult<u64> {
        let keep = keep.max(1) as i64;
        self.run(move |c| {
            let over: Vec<(String, String, String)> = {
                let mut stmt = c
                    .prepare(
                        "SELECT project_id, package, function FROM logs \
                         GROUP BY project_id, package, function HAVING COUNT(*) > ?1",
                    )
                    .map_err(internal)?;
                let rows = stmt
                    .query_map(params![keep], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(internal)?;
                rows.collect::<Result<_, _>>().map_err(internal)?
            };
            let mut deleted = 0u64;
            for (project, package, function) in over {
                // The seq of the oldest line to keep; everything before it goes.
                let cutoff: i64 = c
                    .query_row(
                        "SELECT seq FROM logs WHERE project_id = ?1 AND package = ?2 AND function = ?3 \
                         ORDER BY seq DESC LIMIT 1 OFFSET ?4",
                        params![project, package, function, keep - 1],
                        |r| r.get(0),
                    )
                    .map_err(internal)?;
                deleted += c
                    .execute(
                        "DELETE FROM logs WHERE project_id = ?1 AND package = ?2 AND function = ?3 AND seq < ?4",
                        params![project, package, function, cutoff],
                    )
                    .map_err(internal)? as u64;
            }
            Ok(deleted)
        })
        .await
    }

    async fn publish_version(
        &self,
        function_id: &str,
        name: &str,
        spec: &FunctionSpec,
        max_versions: usize,
    ) -> StoreResult<VersionRecord> {
        let (f, n, spec) = (function_id.to_string(), name.to_string(), spec.clone());
        self.run(move |c| versions::publish(c, &f, &n, &spec, max_versions))
            .await
    }

    async fn versions(&self, function_id: &str) -> StoreResult<Vec<VersionRecord>> {
        let f = function_id.to_string();
        self.run(move |c| versions::list(c, &f)).await
    }

    async fn delete_version(&self, function_id: &str, name: &str) -> StoreResult<()> {
        let (f, n) = (function_id.to_string(), name.to_string());
        self.run(move |c| versions::delete(c, &f, &n)).await
    }

    async fn put_alias(
        &self,
        function_id: &str,
        alias: &AliasRecord,
        create: bool,
        max_aliases: usize,
    ) -> StoreResult<AliasRecord> {
        let (f, a) = (function_id.to_string(), alias.clone());
        self.run(move |c| versions::put_alias(c, &f, &a, create, max_aliases))
            .await
    }

    async fn aliases(&self, function_id: &str) -> StoreResult<Vec<AliasRecord>> {
        let f = function_id.to_string();
        self.run(move |c| versions::aliases(c, &f)).await
    }

    async fn delete_alias(&self, function_id: &str, name: &str) -> StoreResult<()> {
        let (f, n) = (function_id.to_string(), name.to_string());
        self.run(move |c| versions::delete_alias(c, &f, &n)).await
    }

    async fn create_trigger(&self, trigger: &TriggerRecord) -> StoreResult<()> {
        let t = trigger.clone();
        self.run(move |c| triggers::create(c, &t)).await
    }

    async fn update_trigger(&self, trigger: &TriggerRecord) -> StoreResult<()> {
        let t = trigger.clone();
        self.run(move |c| triggers::update(c, &t)).await
    }

    async fn delete_triggers(&self, ids: &[String]) -> StoreResult<u64> {
        let ids = ids.to_vec();
        self.run(move |c| triggers::delete(c, &ids)).await
    }

    async fn triggers(&self) -> StoreResult<Vec<TriggerRecord>> {
        self.run(triggers::all).await
    }

    async fn put_reserved(
        &self,
        function_id: &str,
        qualifier: &str,
        config: &str,
    ) -> StoreResult<String> {
        let (f, q, cfg) = (
            function_id.to_string(),
            qualifier.to_string(),
            config.to_string(),
        );
        self.run(move |c| {
            let tx = c.transaction().map_err(internal)?;
            let exists = tx
                .query_row("SELECT 1 FROM functions WHERE id = ?1", [&f], |_| Ok(()))
                .optional()
                .map_err(internal)?
                .is_some();
            if !exists {
                return Err(StoreError::NotFound);
            }
            let t = now();
            tx.execute(
                "INSERT INTO reserved_configs (function_id, qualifier, config, updated_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (function_id, qualifier) \
                 DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at",
                params![f, q, cfg, t],
            )
            .map_err(internal)?;
            tx.commit().map_err(internal)?;
            Ok(t)
        })
        .await
    }

    async fn delete_reserved(&self, function_id: &str, qualifier: &str) -> StoreResult<()> {
        let (f, q) = (function_id.to_string(), qualifier.to_string());
        self.run(move |c| {
            let n = c
                .execute(
                    "DELETE FROM reserved_configs WHERE function_id = ?1 AND qualifier = ?2",
                    params![f, q],
                )
                .map_err(internal)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn reserved_configs(&self) -> StoreResult<Vec<(String, String, String, String)>> {
        self.run(|c| {
            let mut st = c
                .prepare(
                    "SELECT function_id, qualifier, config, updated_at FROM reserved_configs \
                     ORDER BY rowid",
                )
                .map_err(internal)?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(internal)?;
            rows.collect::<Result<_, _>>().map_err(internal)
        })
        .await
    }

    async fn async_apply(&self, ops: Vec<AsyncOp>) -> StoreResult<()> {
        self.run(move |c| queue::apply(c, &ops)).await
    }

    async fn async_pending(&self) -> StoreResult<Vec<AsyncRequest>> {
        self.run(queue::pending).await
    }

    async fn async_get(&self, request_id: &str) -> StoreResult<Option<AsyncRequest>> {
        let id = request_id.to_string();
        self.run(move |c| queue::get(c, &id)).await
    }

    async fn async_list(&self, query: &AsyncQuery) -> StoreResult<(Vec<AsyncRequest>, usize)> {
        let q = query.clone();
        self.run(move |c| queue::list(c, &q)).await
    }

    async fn async_prune(&self, ended_before_ms: i64) -> StoreResult<u64> {
        self.run(move |c| queue::prune(c, ended_before_ms)).await
    }

    async fn put_async_config(
        &self,
        function_id: &str,
        qualifier: &str,
        config: &str,
    ) -> StoreResult<AsyncConfigRecord> {
        let (f, q, cfg) = (
            function_id.to_string(),
            qualifier.to_string(),
            config.to_string(),
        );
        self.run(move |c| queue::put_config(c, &f, &q, &cfg)).await
    }

    async fn delete_async_config(&self, function_id: &str, qualifier: &str) -> StoreResult<()> {
        let (f, q) = (function_id.to_string(), qualifier.to_string());
        self.run(move |c| queue::delete_config(c, &f, &q)).await
    }

    async fn async_configs(&self) -> StoreResult<Vec<AsyncConfigRecord>> {
        self.run(queue::configs).await
    }

    async fn create_app_key(&self, app: &AppKeyRecord) -> StoreResult<()> {
        let a = app.clone();
        self.run(move |c| apps::create(c, &a)).await
    }

    async fn app_key(&self, app_key: &str) -> StoreResult<Option<AppKeyRecord>> {
        let k = app_key.to_string();
        self.run(move |c| apps::by_key(c, &k)).await
    }

    async fn app_keys(&self, project_id: &str) -> StoreResult<Vec<AppKeyRecord>> {
        let p = project_id.to_string();
        self.run(move |c| apps::of_project(c, &p)).await
    }

    async fn delete_app_key(&self, project_id: &str, id: &str) -> StoreResult<()> {
        let (p, i) = (project_id.to_string(), id.to_string());
        self.run(move |c| apps::delete(c, &p, &i)).await
    }
}

#[cfg(test)]
mod dependency_tests;
#[cfg(test)]
mod tests;
