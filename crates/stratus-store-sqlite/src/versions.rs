//! SQL of published versions and aliases.

use crate::{internal, now};
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::BTreeMap;
use stratus_store::*;
use stratus_types::FunctionSpec;

fn function_exists(tx: &rusqlite::Transaction<'_>, id: &str) -> StoreResult<bool> {
    Ok(tx
        .query_row("SELECT 1 FROM functions WHERE id = ?1", [id], |_| Ok(()))
        .optional()
        .map_err(internal)?
        .is_some())
}

fn version_exists(
    tx: &rusqlite::Transaction<'_>,
    function_id: &str,
    name: &str,
) -> StoreResult<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM function_versions WHERE function_id = ?1 AND version = ?2",
            params![function_id, name],
            |_| Ok(()),
        )
        .optional()
        .map_err(internal)?
        .is_some())
}

pub(crate) fn publish(
    c: &mut Connection,
    function_id: &str,
    name: &str,
    spec: &FunctionSpec,
    max: usize,
) -> StoreResult<VersionRecord> {
    let json = serde_json::to_string(spec).map_err(internal)?;
    let tx = c.transaction().map_err(internal)?;
    if !function_exists(&tx, function_id)? {
        return Err(StoreError::NotFound);
    }
    if version_exists(&tx, function_id, name)? {
        return Err(StoreError::Conflict(format!(
            "version {name:?} already exists"
        )));
    }
    let count: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM function_versions WHERE function_id = ?1 AND version != 'latest'",
            [function_id],
            |r| r.get(0),
        )
        .map_err(internal)?;
    if count as usize >= max {
        return Err(StoreError::Quota(format!(
            "a function has at most {max} published versions; delete one first"
        )));
    }
    let seq: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM function_versions",
            [],
            |r| r.get(0),
        )
        .map_err(internal)?;
    let t = now();
    tx.execute(
        "INSERT INTO function_versions (function_id, version, spec, code_sha256, created_at, seq) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![function_id, name, json, spec.code.sha256, t, seq],
    )
    .map_err(internal)?;
    tx.commit().map_err(internal)?;
    Ok(VersionRecord {
        function_id: function_id.to_string(),
        name: name.to_string(),
        seq,
        spec: spec.clone(),
        created_at: t,
    })
}

pub(crate) fn list(c: &mut Connection, function_id: &str) -> StoreResult<Vec<VersionRecord>> {
    let mut st = c
        .prepare(
            "SELECT version, seq, spec, created_at FROM function_versions \
             WHERE function_id = ?1 AND version != 'latest' ORDER BY seq",
        )
        .map_err(internal)?;
    let rows = st
        .query_map([function_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(internal)?;
    let mut out = Vec::new();
    for row in rows {
        let (name, seq, spec, created_at) = row.map_err(internal)?;
        out.push(VersionRecord {
            function_id: function_id.to_string(),
            name,
            seq,
            spec: serde_json::from_str(&spec).map_err(internal)?,
            created_at,
        });
    }
    Ok(out)
}

pub(crate) fn delete(c: &mut Connection, function_id: &str, name: &str) -> StoreResult<()> {
    let tx = c.transaction().map_err(internal)?;
    let n = tx
        .execute(
            "DELETE FROM function_versions WHERE function_id = ?1 AND version = ?2 AND version != 'latest'",
            params![function_id, name],
        )
        .map_err(internal)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    let gone: Vec<String> = {
        let mut st = tx
            .prepare("SELECT name FROM aliases WHERE function_id = ?1 AND version = ?2")
            .map_err(internal)?;
        let rows = st
            .query_map(params![function_id, name], |r| r.get(0))
            .map_err(internal)?;
        rows.collect::<Result<_, _>>().map_err(internal)?
    };
    for alias in &gone {
        tx.execute(
            "DELETE FROM async_configs WHERE function_id = ?1 AND qualifier = ?2",
            params![function_id, format!("!{alias}")],
        )
        .map_err(internal)?;
    }
    tx.execute(
        "DELETE FROM aliases WHERE function_id = ?1 AND version = ?2",
        params![function_id, name],
    )
    .map_err(internal)?;
    tx.execute(
        "DELETE FROM async_configs WHERE function_id = ?1 AND qualifier = ?2",
        params![function_id, name],
    )
    .map_err(internal)?;
    // Other aliases lose it as their additional version.
    let rest = aliases_in(&tx, function_id)?;
    for mut a in rest {
        if a.weights.remove(name).is_some() {
            tx.execute(
                "UPDATE aliases SET weights = ?3, modified_at = ?4 WHERE function_id = ?1 AND name = ?2",
                params![
                    function_id,
                    a.name,
                    serde_json::to_string(&a.weights).map_err(internal)?,
                    now()
                ],
            )
            .map_err(internal)?;
        }
    }
    tx.commit().map_err(internal)
}

fn alias_row(r: &Row<'_>) -> rusqlite::Result<(String, String, String, String, String, String)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn to_alias(
    (name, version, description, weights, created_at, modified_at): (
        String,
        String,
        String,
        String,
        String,
        String,
    ),
) -> StoreResult<AliasRecord> {
    let weights: BTreeMap<String, u32> = serde_json::from_str(&weights).map_err(internal)?;
    Ok(AliasRecord {
        name,
        version,
        description,
        weights,
        created_at,
        modified_at,
    })
}

fn aliases_in(c: &Connection, function_id: &str) -> StoreResult<Vec<AliasRecord>> {
    let mut st = c
        .prepare(
            "SELECT name, version, description, weights, created_at, modified_at FROM aliases \
             WHERE function_id = ?1 ORDER BY created_at, rowid",
        )
        .map_err(internal)?;
    let rows = st.query_map([function_id], alias_row).map_err(internal)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(to_alias(row.map_err(internal)?)?);
    }
    Ok(out)
}

pub(crate) fn aliases(c: &mut Connection, function_id: &str) -> StoreResult<Vec<AliasRecord>> {
    aliases_in(c, function_id)
}

pub(crate) fn put_alias(
    c: &mut Connection,
    function_id: &str,
    alias: &AliasRecord,
    create: bool,
    max: usize,
) -> StoreResult<AliasRecord> {
    let tx = c.transaction().map_err(internal)?;
    if !function_exists(&tx, function_id)? {
        return Err(StoreError::NotFound);
    }
    for v in std::iter::once(&alias.version).chain(alias.weights.keys()) {
        if v != "latest" && !version_exists(&tx, function_id, v)? {
            return Err(StoreError::Conflict(format!(
                "version {v:?} does not exist"
            )));
        }
    }
    let existing = tx
        .query_row(
            "SELECT name, version, description, weights, created_at, modified_at FROM aliases \
             WHERE function_id = ?1 AND name = ?2",
            params![function_id, alias.name],
            alias_row,
        )
        .optional()
        .map_err(internal)?;
    let t = now();
    let weights = serde_json::to_string(&alias.weights).map_err(internal)?;
    let created_at = match (create, existing) {
        (true, Some(_)) => {
            return Err(StoreError::Conflict(format!(
                "alias {:?} already exists",
                alias.name
            )))
        }
        (false, None) => return Err(StoreError::NotFound),
        (true, None) => {
            let count: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM aliases WHERE function_id = ?1",
                    [function_id],
                    |r| r.get(0),
                )
                .map_err(internal)?;
            if count as usize >= max {
                return Err(StoreError::Quota(format!(
                    "a function has at most {max} aliases; delete one first"
                )));
            }
            tx.execute(
                "INSERT INTO aliases (function_id, name, version, description, weights, created_at, modified_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![function_id, alias.name, alias.version, alias.description, weights, t],
            )
            .map_err(internal)?;
            t.clone()
        }
        (false, Some(old)) => {
            tx.execute(
                "UPDATE aliases SET version = ?3, description = ?4, weights = ?5, modified_at = ?6 \
                 WHERE function_id = ?1 AND name = ?2",
                params![function_id, alias.name, alias.version, alias.description, weights, t],
            )
            .map_err(internal)?;
            old.4
        }
    };
    tx.commit().map_err(internal)?;
    Ok(AliasRecord {
        created_at,
        modified_at: t,
        ..alias.clone()
    })
}

pub(crate) fn delete_alias(c: &mut Connection, function_id: &str, name: &str) -> StoreResult<()> {
    let tx = c.transaction().map_err(internal)?;
    let n = tx
        .execute(
            "DELETE FROM aliases WHERE function_id = ?1 AND name = ?2",
            params![function_id, name],
        )
        .map_err(internal)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    tx.execute(
        "DELETE FROM async_configs WHERE function_id = ?1 AND qualifier = ?2",
        params![function_id, format!("!{name}")],
    )
    .map_err(internal)?;
    tx.commit().map_err(internal)
}
