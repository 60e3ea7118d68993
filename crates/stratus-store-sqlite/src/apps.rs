//! SQL of app keys.

use crate::internal;
use rusqlite::{params, Connection, OptionalExtension};
use stratus_store::*;

const COLUMNS: &str = "id, project_id, name, remark, app_key, app_secret, created_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AppKeyRecord> {
    Ok(AppKeyRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        remark: r.get(3)?,
        app_key: r.get(4)?,
        app_secret: r.get(5)?,
        created_at: r.get(6)?,
    })
}

pub(crate) fn create(c: &mut Connection, a: &AppKeyRecord) -> StoreResult<()> {
    let tx = c.transaction().map_err(internal)?;
    let taken = tx
        .query_row(
            "SELECT 1 FROM app_keys WHERE project_id = ?1 AND name = ?2",
            params![a.project_id, a.name],
            |_| Ok(()),
        )
        .optional()
        .map_err(internal)?
        .is_some();
    if taken {
        return Err(StoreError::Conflict(format!(
            "the project already has an app named {:?}",
            a.name
        )));
    }
    tx.execute(
        &format!("INSERT INTO app_keys ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            a.id,
            a.project_id,
            a.name,
            a.remark,
            a.app_key,
            a.app_secret,
            a.created_at
        ],
    )
    .map_err(internal)?;
    tx.commit().map_err(internal)
}

pub(crate) fn by_key(c: &mut Connection, app_key: &str) -> StoreResult<Option<AppKeyRecord>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM app_keys WHERE app_key = ?1"),
        [app_key],
        row,
    )
    .optional()
    .map_err(internal)
}

pub(crate) fn of_project(c: &mut Connection, project_id: &str) -> StoreResult<Vec<AppKeyRecord>> {
    let mut st = c
        .prepare(&format!(
            "SELECT {COLUMNS} FROM app_keys WHERE project_id = ?1 ORDER BY seq"
        ))
        .map_err(internal)?;
    let rows = st.query_map([project_id], row).map_err(internal)?;
    rows.collect::<Result<_, _>>().map_err(internal)
}

pub(crate) fn delete(c: &mut Connection, project_id: &str, id: &str) -> StoreResult<()> {
    let n = c
        .execute(
            "DELETE FROM app_keys WHERE project_id = ?1 AND id = ?2",
            params![project_id, id],
        )
        .map_err(internal)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
