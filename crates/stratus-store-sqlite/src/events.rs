//! SQL of saved test events.

use crate::{internal, SqliteStore};
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use stratus_store::{StoreError, StoreResult, TestEventRecord, TestEventStore};

const COLUMNS: &str = "id, function_id, name, content, created_ms, modified_ms";

fn record(row: &Row<'_>) -> rusqlite::Result<TestEventRecord> {
    Ok(TestEventRecord {
        id: row.get(0)?,
        function_id: row.get(1)?,
        name: row.get(2)?,
        content: row.get(3)?,
        created_ms: row.get(4)?,
        modified_ms: row.get(5)?,
    })
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn get(c: &Connection, function_id: &str, event_id: &str) -> StoreResult<Option<TestEventRecord>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM test_events WHERE function_id = ?1 AND id = ?2"),
        params![function_id, event_id],
        record,
    )
    .optional()
    .map_err(internal)
}

fn create(
    c: &mut Connection,
    function_id: &str,
    name: &str,
    content: &str,
    max_events: usize,
) -> StoreResult<TestEventRecord> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(internal)?;
    let function: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM functions WHERE id = ?1",
            params![function_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(internal)?;
    if function.is_none() {
        return Err(StoreError::NotFound);
    }
    let taken: Option<String> = tx
        .query_row(
            "SELECT id FROM test_events WHERE function_id = ?1 AND name = ?2",
            params![function_id, name],
            |r| r.get(0),
        )
        .optional()
        .map_err(internal)?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!(
            "the function already has a test event named {name:?}"
        )));
    }
    let count: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM test_events WHERE function_id = ?1",
            params![function_id],
            |r| r.get(0),
        )
        .map_err(internal)?;
    if count as usize >= max_events {
        return Err(StoreError::Quota(format!(
            "the function already has {count} test events; the limit is {max_events}"
        )));
    }
    // Creation times order the list; a second event in the same millisecond still
    // sorts after the first.
    let last: Option<i64> = tx
        .query_row(
            "SELECT MAX(created_ms) FROM test_events WHERE function_id = ?1",
            params![function_id],
            |r| r.get(0),
        )
        .map_err(internal)?;
    let now = now_ms().max(last.map_or(i64::MIN, |l| l + 1));
    let rec = TestEventRecord {
        id: uuid::Uuid::new_v4().to_string(),
        function_id: function_id.to_string(),
        name: name.to_string(),
        content: content.to_string(),
        created_ms: now,
        modified_ms: now,
    };
    tx.execute(
        &format!("INSERT INTO test_events ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            rec.id,
            rec.function_id,
            rec.name,
            rec.content,
            rec.created_ms,
            rec.modified_ms
        ],
    )
    .map_err(internal)?;
    tx.commit().map_err(internal)?;
    Ok(rec)
}

fn list(c: &Connection, function_id: &str) -> StoreResult<Vec<TestEventRecord>> {
    let mut stmt = c
        .prepare(&format!(
            "SELECT {COLUMNS} FROM test_events WHERE function_id = ?1 ORDER BY created_ms, rowid"
        ))
        .map_err(internal)?;
    let rows = stmt
        .query_map(params![function_id], record)
        .map_err(internal)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(internal)
}

fn update(
    c: &mut Connection,
    function_id: &str,
    event_id: &str,
    content: &str,
) -> StoreResult<TestEventRecord> {
    let tx = c.transaction().map_err(internal)?;
    let n = tx
        .execute(
            "UPDATE test_events SET content = ?3, modified_ms = ?4 WHERE function_id = ?1 AND id = ?2",
            params![function_id, event_id, content, now_ms()],
        )
        .map_err(internal)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    let rec = get(&tx, function_id, event_id)?.ok_or(StoreError::NotFound)?;
    tx.commit().map_err(internal)?;
    Ok(rec)
}

fn delete(c: &Connection, function_id: &str, event_id: &str) -> StoreResult<()> {
    let n = c
        .execute(
            "DELETE FROM test_events WHERE function_id = ?1 AND id = ?2",
            params![function_id, event_id],
        )
        .map_err(internal)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[async_trait]
impl TestEventStore for SqliteStore {
    async fn create_test_event(
        &self,
        function_id: &str,
        name: &str,
        content: &str,
        max_events: usize,
    ) -> StoreResult<TestEventRecord> {
        let (f, n, body) = (
            function_id.to_string(),
            name.to_string(),
            content.to_string(),
        );
        self.run(move |c| create(c, &f, &n, &body, max_events))
            .await
    }

    async fn list_test_events(&self, function_id: &str) -> StoreResult<Vec<TestEventRecord>> {
        let f = function_id.to_string();
        self.run(move |c| list(c, &f)).await
    }

    async fn get_test_event(
        &self,
        function_id: &str,
        event_id: &str,
    ) -> StoreResult<Option<TestEventRecord>> {
        let (f, e) = (function_id.to_string(), event_id.to_string());
        self.run(move |c| get(c, &f, &e)).await
    }

    async fn update_test_event(
        &self,
        function_id: &str,
        event_id: &str,
        content: &str,
    ) -> StoreResult<TestEventRecord> {
        let (f, e, body) = (
            function_id.to_string(),
            event_id.to_string(),
            content.to_string(),
        );
        self.run(move |c| update(c, &f, &e, &body)).await
    }

    async fn delete_test_event(&self, function_id: &str, event_id: &str) -> StoreResult<()> {
        let (f, e) = (function_id.to_string(), event_id.to_string());
        self.run(move |c| delete(c, &f, &e)).await
    }
}
