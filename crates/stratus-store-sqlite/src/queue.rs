//! SQL of the asynchronous-invocation queue and its policies.

use crate::{internal, now};
use rusqlite::{params, Connection, OptionalExtension, Row};
use stratus_store::*;

const COLUMNS: &str = "request_id, project_id, function_id, package, function, qualifier, memory, \
     payload, status, attempts, accepted_ms, start_ms, end_ms, error_code, error_message";

fn request(row: &Row<'_>) -> rusqlite::Result<AsyncRequest> {
    let status: String = row.get(8)?;
    Ok(AsyncRequest {
        request_id: row.get(0)?,
        project_id: row.get(1)?,
        function_id: row.get(2)?,
        package: row.get(3)?,
        function: row.get(4)?,
        qualifier: row.get(5)?,
        memory: row.get(6)?,
        payload: row.get(7)?,
        status: AsyncStatus::parse(&status).unwrap_or(AsyncStatus::Fail),
        attempts: row.get(9)?,
        accepted_ms: row.get(10)?,
        start_ms: row.get(11)?,
        end_ms: row.get(12)?,
        error_code: row.get(13)?,
        error_message: row.get(14)?,
    })
}

pub(crate) fn apply(c: &mut Connection, ops: &[AsyncOp]) -> StoreResult<()> {
    let tx = c.transaction().map_err(internal)?;
    {
        let mut insert = tx
            .prepare_cached(&format!(
                "INSERT OR IGNORE INTO async_requests ({COLUMNS}) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15 \
                 WHERE EXISTS (SELECT 1 FROM functions WHERE id = ?3)"
            ))
            .map_err(internal)?;
        let mut start = tx
            .prepare_cached(
                "UPDATE async_requests SET status = 'RUNNING', attempts = ?2, start_ms = ?3 \
                 WHERE request_id = ?1",
            )
            .map_err(internal)?;
        let mut requeue = tx
            .prepare_cached(
                "UPDATE async_requests SET status = 'WAIT', attempts = ?2, error_code = ?3, \
                 error_message = ?4 WHERE request_id = ?1",
            )
            .map_err(internal)?;
        let mut finish = tx
            .prepare_cached(
                "UPDATE async_requests SET status = ?2, end_ms = ?3, error_code = ?4, \
                 error_message = ?5 WHERE request_id = ?1",
            )
            .map_err(internal)?;
        for op in ops {
            match op {
                AsyncOp::Insert(r) => insert.execute(params![
                    r.request_id,
                    r.project_id,
                    r.function_id,
                    r.package,
                    r.function,
                    r.qualifier,
                    r.memory,
                    r.payload,
                    r.status.as_str(),
                    r.attempts,
                    r.accepted_ms,
                    r.start_ms,
                    r.end_ms,
                    r.error_code,
                    r.error_message
                ]),
                AsyncOp::Start {
                    request_id,
                    attempts,
                    start_ms,
                } => start.execute(params![request_id, attempts, start_ms]),
                AsyncOp::Requeue {
                    request_id,
                    attempts,
                    error_code,
                    error_message,
                } => requeue.execute(params![request_id, attempts, error_code, error_message]),
                AsyncOp::Finish {
                    request_id,
                    status,
                    end_ms,
                    error_code,
                    error_message,
                } => finish.execute(params![
                    request_id,
                    status.as_str(),
                    end_ms,
                    error_code,
                    error_message
                ]),
            }
            .map_err(internal)?;
        }
    }
    tx.commit().map_err(internal)
}

pub(crate) fn pending(c: &mut Connection) -> StoreResult<Vec<AsyncRequest>> {
    let mut st = c
        .prepare(&format!(
            "SELECT {COLUMNS} FROM async_requests WHERE status IN ('WAIT', 'RUNNING') ORDER BY seq"
        ))
        .map_err(internal)?;
    let rows = st.query_map([], request).map_err(internal)?;
    rows.collect::<Result<_, _>>().map_err(internal)
}

pub(crate) fn get(c: &mut Connection, request_id: &str) -> StoreResult<Option<AsyncRequest>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM async_requests WHERE request_id = ?1"),
        [request_id],
        request,
    )
    .optional()
    .map_err(internal)
}

pub(crate) fn list(c: &mut Connection, q: &AsyncQuery) -> StoreResult<(Vec<AsyncRequest>, usize)> {
    let mut filter = String::from("function_id = ?1");
    let mut args: Vec<rusqlite::types::Value> = vec![q.function_id.clone().into()];
    if let Some(id) = &q.request_id {
        args.push(id.clone().into());
        filter.push_str(&format!(" AND request_id = ?{}", args.len()));
    }
    if !q.statuses.is_empty() {
        let mut marks = Vec::new();
        for s in &q.statuses {
            args.push(s.as_str().to_string().into());
            marks.push(format!("?{}", args.len()));
        }
        filter.push_str(&format!(" AND status IN ({})", marks.join(", ")));
    }
    if let Some(t) = q.since_ms {
        args.push(t.into());
        filter.push_str(&format!(" AND accepted_ms >= ?{}", args.len()));
    }
    if let Some(t) = q.until_ms {
        args.push(t.into());
        filter.push_str(&format!(" AND accepted_ms <= ?{}", args.len()));
    }
    let total: i64 = c
        .query_row(
            &format!("SELECT COUNT(*) FROM async_requests WHERE {filter}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )
        .map_err(internal)?;
    args.push((q.limit as i64).into());
    let limit = args.len();
    args.push((q.offset as i64).into());
    let offset = args.len();
    let mut st = c
        .prepare(&format!(
            "SELECT {COLUMNS} FROM async_requests WHERE {filter} \
             ORDER BY seq DESC LIMIT ?{limit} OFFSET ?{offset}"
        ))
        .map_err(internal)?;
    let rows = st
        .query_map(rusqlite::params_from_iter(args.iter()), request)
        .map_err(internal)?;
    let page = rows.collect::<Result<_, _>>().map_err(internal)?;
    Ok((page, total as usize))
}

pub(crate) fn prune(c: &mut Connection, ended_before_ms: i64) -> StoreResult<u64> {
    let n = c
        .execute(
            "DELETE FROM async_requests WHERE end_ms IS NOT NULL AND end_ms < ?1 \
             AND status IN ('SUCCESS', 'FAIL', 'DISCARD')",
            [ended_before_ms],
        )
        .map_err(internal)?;
    Ok(n as u64)
}

fn config_row(row: &Row<'_>) -> rusqlite::Result<AsyncConfigRecord> {
    Ok(AsyncConfigRecord {
        function_id: row.get(0)?,
        qualifier: row.get(1)?,
        config: row.get(2)?,
        created_at: row.get(3)?,
        modified_at: row.get(4)?,
    })
}

pub(crate) fn put_config(
    c: &mut Connection,
    function_id: &str,
    qualifier: &str,
    config: &str,
) -> StoreResult<AsyncConfigRecord> {
    let tx = c.transaction().map_err(internal)?;
    let exists: bool = tx
        .query_row(
            "SELECT 1 FROM functions WHERE id = ?1",
            [function_id],
            |_| Ok(()),
        )
        .optional()
        .map_err(internal)?
        .is_some();
    if !exists {
        return Err(StoreError::NotFound);
    }
    let t = now();
    tx.execute(
        "INSERT INTO async_configs (function_id, qualifier, config, created_at, modified_at) \
         VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (function_id, qualifier) \
         DO UPDATE SET config = excluded.config, modified_at = excluded.modified_at",
        params![function_id, qualifier, config, t],
    )
    .map_err(internal)?;
    let rec = tx
        .query_row(
            "SELECT function_id, qualifier, config, created_at, modified_at FROM async_configs \
             WHERE function_id = ?1 AND qualifier = ?2",
            params![function_id, qualifier],
            config_row,
        )
        .map_err(internal)?;
    tx.commit().map_err(internal)?;
    Ok(rec)
}

pub(crate) fn delete_config(
    c: &mut Connection,
    function_id: &str,
    qualifier: &str,
) -> StoreResult<()> {
    let n = c
        .execute(
            "DELETE FROM async_configs WHERE function_id = ?1 AND qualifier = ?2",
            params![function_id, qualifier],
        )
        .map_err(internal)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) fn configs(c: &mut Connection) -> StoreResult<Vec<AsyncConfigRecord>> {
    let mut st = c
        .prepare(
            "SELECT function_id, qualifier, config, created_at, modified_at FROM async_configs \
             ORDER BY created_at, function_id, qualifier",
        )
        .map_err(internal)?;
    let rows = st.query_map([], config_row).map_err(internal)?;
    rows.collect::<Result<_, _>>().map_err(internal)
}
