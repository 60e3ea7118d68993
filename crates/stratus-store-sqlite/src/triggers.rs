//! SQL of triggers.

use crate::internal;
use rusqlite::{params, Connection, OptionalExtension};
use stratus_store::*;

const COLUMNS: &str = "id, function_id, project_id, package, function, qualifier, type_code, \
     event_type_code, status, event_data, created_at, updated_at, anchor_ms";

pub(crate) fn create(c: &mut Connection, t: &TriggerRecord) -> StoreResult<()> {
    let tx = c.transaction().map_err(internal)?;
    let exists = tx
        .query_row(
            "SELECT 1 FROM functions WHERE id = ?1",
            [&t.function_id],
            |_| Ok(()),
        )
        .optional()
        .map_err(internal)?
        .is_some();
    if !exists {
        return Err(StoreError::NotFound);
    }
    tx.execute(
        &format!("INSERT INTO triggers ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
        params![
            t.id,
            t.function_id,
            t.project_id,
            t.package,
            t.function,
            t.qualifier,
            t.type_code,
            t.event_type_code,
            t.status,
            t.event_data,
            t.created_at,
            t.updated_at,
            t.anchor_ms
        ],
    )
    .map_err(internal)?;
    tx.commit().map_err(internal)
}

pub(crate) fn update(c: &mut Connection, t: &TriggerRecord) -> StoreResult<()> {
    let n = c
        .execute(
            "UPDATE triggers SET status = ?2, event_data = ?3, updated_at = ?4, anchor_ms = ?5 \
             WHERE id = ?1",
            params![t.id, t.status, t.event_data, t.updated_at, t.anchor_ms],
        )
        .map_err(internal)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) fn delete(c: &mut Connection, ids: &[String]) -> StoreResult<u64> {
    let tx = c.transaction().map_err(internal)?;
    let mut n = 0;
    for id in ids {
        n += tx
            .execute("DELETE FROM triggers WHERE id = ?1", [id])
            .map_err(internal)? as u64;
    }
    tx.commit().map_err(internal)?;
    Ok(n)
}

pub(crate) fn all(c: &mut Connection) -> StoreResult<Vec<TriggerRecord>> {
    let mut st = c
        .prepare(&format!("SELECT {COLUMNS} FROM triggers ORDER BY seq"))
        .map_err(internal)?;
    let rows = st
        .query_map([], |r| {
            Ok(TriggerRecord {
                id: r.get(0)?,
                function_id: r.get(1)?,
                project_id: r.get(2)?,
                package: r.get(3)?,
                function: r.get(4)?,
                qualifier: r.get(5)?,
                type_code: r.get(6)?,
                event_type_code: r.get(7)?,
                status: r.get(8)?,
                event_data: r.get(9)?,
                created_at: r.get(10)?,
                updated_at: r.get(11)?,
                anchor_ms: r.get(12)?,
            })
        })
        .map_err(internal)?;
    rows.collect::<Result<_, _>>().map_err(internal)
}
