//! SQL of dependency packages and their versions (migration 0005).

use crate::{internal, SqliteStore};
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use stratus_store::*;
use stratus_types::FunctionSpec;

const SELECT_VERSION: &str = "SELECT v.id, v.dependency_id, v.project_id, d.name, v.version, \
     v.runtime, v.description, v.depend_type, v.source_url, v.file_name, v.sha256, v.md5, \
     v.size, v.created_ms FROM dependency_versions v JOIN dependencies d ON d.id = v.dependency_id";

fn version_from_row(r: &Row<'_>) -> rusqlite::Result<DependencyVersionRecord> {
    Ok(DependencyVersionRecord {
        id: r.get(0)?,
        dep_id: r.get(1)?,
        project_id: r.get(2)?,
        name: r.get(3)?,
        version: r.get(4)?,
        runtime: r.get(5)?,
        description: r.get(6)?,
        depend_type: r.get(7)?,
        source_url: r.get(8)?,
        file_name: r.get(9)?,
        sha256: r.get(10)?,
        md5: r.get(11)?,
        size: r.get::<_, i64>(12)? as u64,
        created_ms: r.get(13)?,
    })
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Inside a function write: every dependency version the spec references still exists in
/// the project. Runs in the writing transaction, so a concurrent delete of the version
/// either sees the new reference or makes this write fail.
pub(crate) fn check_references(
    tx: &Connection,
    project_id: &str,
    spec: &FunctionSpec,
) -> StoreResult<()> {
    for dep in &spec.dependencies {
        let found: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM dependency_versions WHERE id = ?1 AND project_id = ?2",
                params![dep.id, project_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(internal)?;
        if found.is_none() {
            return Err(StoreError::Conflict(format!(
                "dependency {:?} version {} ({}) was deleted",
                dep.name, dep.version, dep.id
            )));
        }
    }
    Ok(())
}

/// Function versions whose spec references the dependency version `id`.
fn users(c: &Connection, id: &str) -> StoreResult<Vec<DependencyUser>> {
    let mut stmt = c
        .prepare(
            "SELECT DISTINCT f.package, f.name, v.version FROM function_versions v \
             JOIN functions f ON f.id = v.function_id, json_each(v.spec, '$.dependencies') d \
             WHERE json_extract(d.value, '$.id') = ?1 ORDER BY f.package, f.name, v.version",
        )
        .map_err(internal)?;
    let rows = stmt
        .query_map(params![id], |r| {
            Ok(DependencyUser {
                package: r.get(0)?,
                function: r.get(1)?,
                version: r.get(2)?,
            })
        })
        .map_err(internal)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(internal)
}

fn find_version(
    c: &Connection,
    project_id: &str,
    dep_id: &str,
    version: u32,
) -> StoreResult<Option<DependencyVersionRecord>> {
    c.query_row(
        &format!(
            "{SELECT_VERSION} WHERE v.project_id = ?1 AND v.dependency_id = ?2 AND v.version = ?3"
        ),
        params![project_id, dep_id, version],
        version_from_row,
    )
    .optional()
    .map_err(internal)
}

#[async_trait]
impl DependencyStore for SqliteStore {
    async fn create_dependency_version(
        &self,
        new: &NewDependencyVersion,
    ) -> StoreResult<DependencyVersionRecord> {
        let new = new.clone();
        self.run(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            let now = now_ms();
            let existing: Option<(String, u32)> = tx
                .query_row(
                    "SELECT id, next_version FROM dependencies WHERE project_id = ?1 AND name = ?2",
                    params![new.project_id, new.name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(internal)?;
            let (dep_id, version) = match existing {
                Some(found) => found,
                None => {
                    let id = uuid::Uuid::new_v4().to_string();
                    tx.execute(
                        "INSERT INTO dependencies (id, project_id, name, next_version, created_ms) \
                         VALUES (?1, ?2, ?3, 1, ?4)",
                        params![id, new.project_id, new.name, now],
                    )
                    .map_err(internal)?;
                    (id, 1)
                }
            };
            tx.execute(
                "UPDATE dependencies SET next_version = ?2 WHERE id = ?1",
                params![dep_id, version + 1],
            )
            .map_err(internal)?;
            let record = DependencyVersionRecord {
                id: uuid::Uuid::new_v4().to_string(),
                dep_id,
                project_id: new.project_id,
                name: new.name,
                version,
                runtime: new.runtime,
                description: new.description,
                depend_type: new.depend_type,
                source_url: new.source_url,
                file_name: new.file_name,
                sha256: new.sha256,
                md5: new.md5,
                size: new.size,
                created_ms: now,
            };
            tx.execute(
                "INSERT INTO dependency_versions (id, dependency_id, project_id, version, runtime, \
                 description, depend_type, source_url, file_name, sha256, md5, size, created_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    record.id,
                    record.dep_id,
                    record.project_id,
                    record.version,
                    record.runtime,
                    record.description,
                    record.depend_type,
                    record.source_url,
                    record.file_name,
                    record.sha256,
                    record.md5,
                    record.size as i64,
                    record.created_ms
                ],
            )
            .map_err(internal)?;
            tx.commit().map_err(internal)?;
            Ok(record)
        })
        .await
    }

    async fn dependency_version(
        &self,
        project_id: &str,
        dep_id: &str,
        version: u32,
    ) -> StoreResult<Option<DependencyVersionRecord>> {
        let (p, d) = (project_id.to_string(), dep_id.to_string());
        self.run(move |c| find_version(c, &p, &d, version)).await
    }

    async fn dependency_versions_by_id(
        &self,
        project_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<DependencyVersionRecord>> {
        let (p, ids) = (project_id.to_string(), ids.to_vec());
        self.run(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "{SELECT_VERSION} WHERE v.project_id = ?1 AND v.id = ?2"
                ))
                .map_err(internal)?;
            let mut out = Vec::new();
            for id in &ids {
                if let Some(r) = stmt
                    .query_row(params![p, id], version_from_row)
                    .optional()
                    .map_err(internal)?
                {
                    out.push(r);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn list_dependencies(
        &self,
        query: &DependencyQuery,
    ) -> StoreResult<(Vec<DependencySummary>, usize)> {
        let q = query.clone();
        self.run(move |c| {
            // Each dependency with its newest version; a dependency always has one (the
            // last delete removes the dependency).
            let from = "FROM dependencies d JOIN dependency_versions v ON v.dependency_id = d.id \
                 AND v.version = (SELECT MAX(version) FROM dependency_versions WHERE dependency_id = d.id) \
                 WHERE d.project_id = ?1 AND (?2 IS NULL OR instr(d.name, ?2) > 0) \
                 AND (?3 IS NULL OR v.runtime = ?3)";
            let total: i64 = c
                .query_row(
                    &format!("SELECT COUNT(*) {from}"),
                    params![q.project_id, q.name_contains, q.runtime],
                    |r| r.get(0),
                )
                .map_err(internal)?;
            let sql = format!(
                "SELECT v.id, v.dependency_id, v.project_id, d.name, v.version, v.runtime, \
                 v.description, v.depend_type, v.source_url, v.file_name, v.sha256, v.md5, v.size, \
                 v.created_ms, (SELECT COUNT(*) FROM dependency_versions WHERE dependency_id = d.id) \
                 {from} ORDER BY d.created_ms, d.rowid LIMIT ?4 OFFSET ?5"
            );
            let mut stmt = c.prepare(&sql).map_err(internal)?;
            let rows = stmt
                .query_map(
                    params![
                        q.project_id,
                        q.name_contains,
                        q.runtime,
                        q.limit as i64,
                        q.offset as i64
                    ],
                    |r| {
                        Ok(DependencySummary {
                            latest: version_from_row(r)?,
                            versions: r.get::<_, i64>(14)? as usize,
                        })
                    },
                )
                .map_err(internal)?;
            let page = rows.collect::<Result<Vec<_>, _>>().map_err(internal)?;
            Ok((page, total as usize))
        })
        .await
    }

    async fn list_dependency_versions(
        &self,
        project_id: &str,
        dep_id: &str,
        offset: usize,
        limit: usize,
    ) -> StoreResult<(Vec<DependencyVersionRecord>, usize)> {
        let (p, d) = (project_id.to_string(), dep_id.to_string());
        self.run(move |c| {
            let total: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM dependency_versions WHERE project_id = ?1 AND dependency_id = ?2",
                    params![p, d],
                    |r| r.get(0),
                )
                .map_err(internal)?;
            if total == 0 {
                return Err(StoreError::NotFound);
            }
            let mut stmt = c
                .prepare(&format!(
                    "{SELECT_VERSION} WHERE v.project_id = ?1 AND v.dependency_id = ?2 \
                     ORDER BY v.version LIMIT ?3 OFFSET ?4"
                ))
                .map_err(internal)?;
            let rows = stmt
                .query_map(
                    params![p, d, limit as i64, offset as i64],
                    version_from_row,
                )
                .map_err(internal)?;
            let page = rows.collect::<Result<Vec<_>, _>>().map_err(internal)?;
            Ok((page, total as usize))
        })
        .await
    }

    async fn delete_dependency_version(
        &self,
        project_id: &str,
        dep_id: &str,
        version: u32,
    ) -> StoreResult<DependencyDeletion> {
        let (p, d) = (project_id.to_string(), dep_id.to_string());
        self.run(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(internal)?;
            let Some(record) = find_version(&tx, &p, &d, version)? else {
                return Err(StoreError::NotFound);
            };
            let users = users(&tx, &record.id)?;
            if !users.is_empty() {
                return Ok(DependencyDeletion::InUse(users));
            }
            tx.execute(
                "DELETE FROM dependency_versions WHERE id = ?1",
                params![record.id],
            )
            .map_err(internal)?;
            let left: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM dependency_versions WHERE dependency_id = ?1",
                    params![d],
                    |r| r.get(0),
                )
                .map_err(internal)?;
            // "To delete a dependency, just delete all of its versions" (guide section 11).
            if left == 0 {
                tx.execute("DELETE FROM dependencies WHERE id = ?1", params![d])
                    .map_err(internal)?;
            }
            tx.commit().map_err(internal)?;
            Ok(DependencyDeletion::Deleted {
                record: Box::new(record),
                dependency_removed: left == 0,
            })
        })
        .await
    }
}
