#![allow(clippy::unwrap_used)]

use super::*;
use std::collections::BTreeMap;
use stratus_types::{CodeInfo, Strategy};

pub(crate) fn spec(name: &str) -> FunctionSpec {
    FunctionSpec {
        name: name.into(),
        package: "default".into(),
        runtime: "Python3.9".into(),
        handler: "index.handler".into(),
        memory_size: 128,
        timeout: 3,
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
        code: CodeInfo {
            sha256: "a".repeat(64),
            ..CodeInfo::default()
        },
        func_type: "v2".into(),
        extras: BTreeMap::new(),
        last_modified: String::new(),
        version_description: String::new(),
        dependencies: Vec::new(),
    }
}

pub(crate) fn key(name: &str) -> FunctionKey {
    FunctionKey {
        project_id: "p1".into(),
        package: "default".into(),
        name: name.into(),
    }
}

pub(crate) async fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("stratus.db")).unwrap();
    store.ensure_project("p1").await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn function_lifecycle() {
    let (_dir, store) = open().await;
    let rec = store.create_function("p1", &spec("a"), 400).await.unwrap();
    assert_eq!(rec.revision, 1);
    let got = store.get_function(&key("a")).await.unwrap().unwrap();
    assert_eq!(got.latest, spec("a"));

    let mut changed = spec("a");
    changed.timeout = 30;
    let upd = store.update_latest(&key("a"), &changed, 1).await.unwrap();
    assert_eq!(upd.revision, 2);
    assert_eq!(
        store
            .get_function(&key("a"))
            .await
            .unwrap()
            .unwrap()
            .latest
            .timeout,
        30
    );

    store.delete_function(&key("a")).await.unwrap();
    assert!(store.get_function(&key("a")).await.unwrap().is_none());
    assert!(matches!(
        store.delete_function(&key("a")).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.update_latest(&key("a"), &changed, 2).await,
        Err(StoreError::NotFound)
    ));
}

/// Configurations naming a setting: the latest and published versions of every
/// function, and only those that hold the key itself (not a look-alike).
#[tokio::test]
async fn specs_with_extra_finds_latest_and_versions() {
    let (_dir, store) = open().await;
    let with = |name: &str, image: &str| {
        let mut s = spec(name);
        s.extras
            .insert("custom_image".into(), serde_json::json!({"image": image}));
        s
    };
    let a = store
        .create_function("p1", &with("a", "r/a:v1"), 400)
        .await
        .unwrap();
    store
        .publish_version(&a.id, "1", &a.latest, 100)
        .await
        .unwrap();
    store
        .update_latest(&key("a"), &with("a", "r/a:v2"), a.revision)
        .await
        .unwrap();
    let mut lookalike = spec("b");
    lookalike
        .extras
        .insert("customXimage".into(), serde_json::json!({}));
    lookalike.description = "\"custom_image\" in the text".into();
    store.create_function("p1", &lookalike, 400).await.unwrap();
    store.ensure_project("p2").await.unwrap();
    store
        .create_function("p2", &with("c", "r/c:v1"), 400)
        .await
        .unwrap();
    let mut images: Vec<String> = store
        .specs_with_extra("custom_image")
        .await
        .unwrap()
        .iter()
        .map(|s| {
            s.extras["custom_image"]["image"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    images.sort();
    assert_eq!(images, vec!["r/a:v1", "r/a:v2", "r/c:v1"]);
    store.delete_function(&key("a")).await.unwrap();
    assert_eq!(
        store.specs_with_extra("custom_image").await.unwrap().len(),
        1
    );
}

/// Two writers that read the same revision: the second write is refused and the first
/// one's change survives (no lost update).
#[tokio::test]
async fn update_latest_is_compare_and_set() {
    let (_dir, store) = open().await;
    let rec = store.create_function("p1", &spec("a"), 400).await.unwrap();

    let mut code_change = rec.latest.clone();
    code_change.code.sha256 = "b".repeat(64);
    let mut config_change = rec.latest.clone();
    config_change.timeout = 60;

    let first = store
        .update_latest(&key("a"), &code_change, rec.revision)
        .await
        .unwrap();
    assert_eq!(first.revision, 2);
    assert!(matches!(
        store
            .update_latest(&key("a"), &config_change, rec.revision)
            .await,
        Err(StoreError::Stale {
            expected: 1,
            current: 2
        })
    ));
    let stored = store.get_function(&key("a")).await.unwrap().unwrap();
    assert_eq!(stored.revision, 2);
    assert_eq!(
        stored.latest, code_change,
        "the refused write changed nothing"
    );
    assert_eq!(
        store.referenced_blobs().await.unwrap(),
        vec!["b".repeat(64)]
    );

    // Re-read and re-apply: both changes are kept.
    let mut merged = stored.latest.clone();
    merged.timeout = 60;
    let second = store
        .update_latest(&key("a"), &merged, stored.revision)
        .await
        .unwrap();
    assert_eq!(second.revision, 3);
    let stored = store.get_function(&key("a")).await.unwrap().unwrap();
    assert_eq!(
        (stored.latest.timeout, stored.latest.code.sha256.as_str()),
        (60, "b".repeat(64).as_str())
    );
}

/// A spec naming another package or name would orphan the function row: refused.
#[tokio::test]
async fn update_latest_keeps_the_identity() {
    let (_dir, store) = open().await;
    let rec = store.create_function("p1", &spec("a"), 400).await.unwrap();
    let mut moved = rec.latest.clone();
    moved.package = "other".into();
    assert!(store
        .update_latest(&key("a"), &moved, rec.revision)
        .await
        .is_err());
    let stored = store.get_function(&key("a")).await.unwrap().unwrap();
    assert_eq!(
        (stored.revision, stored.latest.package.as_str()),
        (1, "default")
    );
}

#[tokio::test]
async fn names_are_unique_and_quota_holds() {
    let (_dir, store) = open().await;
    store.create_function("p1", &spec("a"), 2).await.unwrap();
    assert!(matches!(
        store.create_function("p1", &spec("a"), 2).await,
        Err(StoreError::Conflict(_))
    ));
    store.create_function("p1", &spec("b"), 2).await.unwrap();
    assert!(matches!(
        store.create_function("p1", &spec("c"), 2).await,
        Err(StoreError::Quota(_))
    ));
}

#[tokio::test]
async fn listing_pages_and_filters() {
    let (_dir, store) = open().await;
    for n in ["alpha", "beta", "gamma", "alphabet"] {
        store.create_function("p1", &spec(n), 400).await.unwrap();
    }
    let q = |offset, limit, name: Option<&str>| ListQuery {
        project_id: "p1".into(),
        package: None,
        name_contains: name.map(String::from),
        offset,
        limit,
    };
    let (page, total) = store.list_functions(&q(0, 2, None)).await.unwrap();
    assert_eq!(total, 4);
    assert_eq!(
        page.iter()
            .map(|f| f.latest.name.as_str())
            .collect::<Vec<_>>(),
        ["alpha", "beta"]
    );
    let (page, _) = store.list_functions(&q(2, 2, None)).await.unwrap();
    assert_eq!(
        page.iter()
            .map(|f| f.latest.name.as_str())
            .collect::<Vec<_>>(),
        ["gamma", "alphabet"]
    );
    let (page, total) = store
        .list_functions(&q(0, 10, Some("alpha")))
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(page.len(), 2);
}

#[tokio::test]
async fn reopening_keeps_data_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stratus.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.ensure_project("p1").await.unwrap();
        store
            .ensure_access_key(&AccessKey {
                access_key: "AK".into(),
                secret_key: "SK".into(),
                project_id: "p1".into(),
            })
            .await
            .unwrap();
        store.create_function("p1", &spec("a"), 400).await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert!(store.get_function(&key("a")).await.unwrap().is_some());
    assert_eq!(
        store.root_access_key().await.unwrap().unwrap().secret_key,
        "SK"
    );
    assert_eq!(
        store.referenced_blobs().await.unwrap(),
        vec!["a".repeat(64)]
    );
}

#[tokio::test]
async fn logs_many_rows_keep_their_order() {
    // 103 = 64 + 32 + 4 + 2 + 1: every multi-row statement size but 16 and 8.
    let (_dir, store) = open().await;
    let lines: Vec<LogLine> = (0..103)
        .map(|i| LogLine {
            project_id: "p1".into(),
            package: "default".into(),
            function: "many".into(),
            version: "latest".into(),
            request_id: format!("r{}", i % 7),
            time_ms: 1000 + i,
            level: if i % 2 == 0 { "INFO" } else { "WARN" }.into(),
            text: format!("line {i}"),
        })
        .collect();
    store.append_logs(lines.clone()).await.unwrap();
    store.append_logs(lines[..9].to_vec()).await.unwrap();
    let got = store
        .query_logs(&LogQuery {
            project_id: "p1".into(),
            package: "default".into(),
            function: "many".into(),
            limit: 1000,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    let want: Vec<&LogLine> = lines.iter().chain(&lines[..9]).collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(&g.line, *w);
    }
    assert!(got.windows(2).all(|p| p[0].seq < p[1].seq));
}

#[tokio::test]
async fn logs_append_query_prune() {
    let (_dir, store) = open().await;
    let line = |rid: &str, t: i64, text: &str| LogLine {
        project_id: "p1".into(),
        package: "default".into(),
        function: "a".into(),
        version: "latest".into(),
        request_id: rid.into(),
        time_ms: t,
        level: "INFO".into(),
        text: text.into(),
    };
    store
        .append_logs(vec![
            line("r1", 10, "one"),
            line("r1", 20, "two"),
            line("r2", 30, "three"),
        ])
        .await
        .unwrap();
    let base = LogQuery {
        project_id: "p1".into(),
        package: "default".into(),
        function: "a".into(),
        limit: 100,
        ..LogQuery::default()
    };
    let all = store.query_logs(&base).await.unwrap();
    assert_eq!(
        all.iter().map(|l| l.line.text.as_str()).collect::<Vec<_>>(),
        ["one", "two", "three"]
    );
    let r1 = store
        .query_logs(&LogQuery {
            request_id: Some("r1".into()),
            ..base.clone()
        })
        .await
        .unwrap();
    assert_eq!(r1.len(), 2);
    let newest = store
        .query_logs(&LogQuery {
            limit: 1,
            ..base.clone()
        })
        .await
        .unwrap();
    assert_eq!(newest[0].line.text, "three");
    let after = store
        .query_logs(&LogQuery {
            after_seq: Some(all[0].seq),
            ..base.clone()
        })
        .await
        .unwrap();
    assert_eq!(after.len(), 2);
    assert_eq!(store.prune_logs(25).await.unwrap(), 2);
    assert_eq!(store.query_logs(&base).await.unwrap().len(), 1);
}

#[tokio::test]
async fn logs_cap_keeps_the_newest_per_function() {
    let (_dir, store) = open().await;
    let line = |function: &str, t: i64| LogLine {
        project_id: "p1".into(),
        package: "default".into(),
        function: function.into(),
        version: "latest".into(),
        request_id: "r".into(),
        time_ms: t,
        level: "INFO".into(),
        text: format!("{function}-{t}"),
    };
    let mut lines: Vec<LogLine> = (0..10).map(|t| line("noisy", t)).collect();
    lines.extend((0..2).map(|t| line("quiet", t)));
    store.append_logs(lines).await.unwrap();
    assert_eq!(store.cap_logs(3).await.unwrap(), 7);
    let query = |function: &str| LogQuery {
        project_id: "p1".into(),
        package: "default".into(),
        function: function.into(),
        limit: 100,
        ..Default::default()
    };
    let noisy: Vec<String> = store
        .query_logs(&query("noisy"))
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line.text)
        .collect();
    assert_eq!(noisy, ["noisy-7", "noisy-8", "noisy-9"]);
    assert_eq!(store.query_logs(&query("quiet")).await.unwrap().len(), 2);
    assert_eq!(store.cap_logs(3).await.unwrap(), 0);
}

fn queued(id: &str, function_id: &str, accepted_ms: i64) -> AsyncRequest {
    AsyncRequest {
        request_id: id.into(),
        project_id: "p1".into(),
        function_id: function_id.into(),
        package: "default".into(),
        function: "a".into(),
        qualifier: "latest".into(),
        memory: None,
        payload: b"{}".to_vec(),
        status: AsyncStatus::Wait,
        attempts: 0,
        accepted_ms,
        start_ms: None,
        end_ms: None,
        error_code: 0,
        error_message: String::new(),
    }
}

#[tokio::test]
async fn async_queue_survives_reopen_and_follows_its_ops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stratus.db");
    let fid = {
        let store = SqliteStore::open(&path).unwrap();
        store.ensure_project("p1").await.unwrap();
        let rec = store.create_function("p1", &spec("a"), 400).await.unwrap();
        let ops = (0..5)
            .map(|i| AsyncOp::Insert(Box::new(queued(&format!("r{i}"), &rec.id, 1000 + i))))
            .chain([
                AsyncOp::Start {
                    request_id: "r0".into(),
                    attempts: 1,
                    start_ms: 2000,
                },
                AsyncOp::Finish {
                    request_id: "r0".into(),
                    status: AsyncStatus::Success,
                    end_ms: 2100,
                    error_code: 0,
                    error_message: String::new(),
                },
                AsyncOp::Start {
                    request_id: "r1".into(),
                    attempts: 1,
                    start_ms: 2000,
                },
                AsyncOp::Start {
                    request_id: "r2".into(),
                    attempts: 1,
                    start_ms: 2000,
                },
                AsyncOp::Requeue {
                    request_id: "r2".into(),
                    attempts: 1,
                    error_code: 4002,
                    error_message: "boom".into(),
                },
                // A request of a function that does not exist is not stored.
                AsyncOp::Insert(Box::new(queued("ghost", "no-such-function", 1))),
            ])
            .collect();
        store.async_apply(ops).await.unwrap();
        rec.id
    };
    let store = SqliteStore::open(&path).unwrap();
    let pending = store.async_pending().await.unwrap();
    let ids: Vec<&str> = pending.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2", "r3", "r4"], "in order of acceptance");
    assert_eq!(pending[0].status, AsyncStatus::Running);
    assert_eq!(
        (pending[1].status, pending[1].attempts),
        (AsyncStatus::Wait, 1)
    );
    assert_eq!(pending[1].error_message, "boom");
    assert!(store.async_get("ghost").await.unwrap().is_none());
    let done = store.async_get("r0").await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.end_ms),
        (AsyncStatus::Success, Some(2100))
    );

    let q = |statuses: Vec<AsyncStatus>, offset, limit| AsyncQuery {
        function_id: fid.clone(),
        statuses,
        offset,
        limit,
        ..Default::default()
    };
    let (page, total) = store.async_list(&q(vec![], 0, 2)).await.unwrap();
    assert_eq!(total, 5);
    assert_eq!(page[0].request_id, "r4", "newest first");
    let (page, _) = store.async_list(&q(vec![], 4, 2)).await.unwrap();
    assert_eq!(page.len(), 1);
    let (_, waiting) = store
        .async_list(&q(vec![AsyncStatus::Wait], 0, 10))
        .await
        .unwrap();
    assert_eq!(waiting, 3);

    assert_eq!(store.async_prune(2101).await.unwrap(), 1);
    assert_eq!(
        store.async_prune(i64::MAX).await.unwrap(),
        0,
        "only terminal records go"
    );

    // Policies: put keeps the creation time, delete of a missing one is NotFound, and
    // deleting the function takes its requests and policies with it.
    let first = store
        .put_async_config(&fid, "latest", "{\"a\":1}")
        .await
        .unwrap();
    let second = store
        .put_async_config(&fid, "latest", "{\"a\":2}")
        .await
        .unwrap();
    assert_eq!(first.created_at, second.created_at);
    assert_eq!(store.async_configs().await.unwrap()[0].config, "{\"a\":2}");
    assert!(matches!(
        store
            .put_async_config("no-such-function", "latest", "{}")
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_async_config(&fid, "v1").await,
        Err(StoreError::NotFound)
    ));
    store.delete_function(&key("a")).await.unwrap();
    assert!(store.async_pending().await.unwrap().is_empty());
    assert!(store.async_configs().await.unwrap().is_empty());
}

#[tokio::test]
async fn test_events_lifecycle_limit_and_cascade() {
    let (dir, store) = open().await;
    let fid = store
        .create_function("p1", &spec("a"), 400)
        .await
        .unwrap()
        .id;
    let other = store
        .create_function("p1", &spec("b"), 400)
        .await
        .unwrap()
        .id;

    let first = store
        .create_test_event(&fid, "first", "{\"k\":1}", 10)
        .await
        .unwrap();
    assert_eq!(first.created_ms, first.modified_ms);
    assert!(matches!(
        store.create_test_event(&fid, "first", "{}", 10).await,
        Err(StoreError::Conflict(m)) if m.contains("first")
    ));
    // The same name is free on another function.
    store
        .create_test_event(&other, "first", "{}", 10)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_test_event("no-such-function", "x", "{}", 10)
            .await,
        Err(StoreError::NotFound)
    ));
    for i in 1..10 {
        store
            .create_test_event(&fid, &format!("e{i}"), "{}", 10)
            .await
            .unwrap();
    }
    assert!(matches!(
        store.create_test_event(&fid, "eleventh", "{}", 10).await,
        Err(StoreError::Quota(m)) if m.contains("10")
    ));
    let names: Vec<String> = store
        .list_test_events(&fid)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    let mut expected = vec!["first".to_string()];
    expected.extend((1..10).map(|i| format!("e{i}")));
    assert_eq!(names, expected, "creation order");

    let updated = store
        .update_test_event(&fid, &first.id, "{\"k\":2}")
        .await
        .unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.content.as_str()),
        ("first", "{\"k\":2}")
    );
    assert!(updated.modified_ms >= first.modified_ms);
    assert_eq!(updated.created_ms, first.created_ms);
    // An event is only reachable through its own function.
    assert!(store
        .get_test_event(&other, &first.id)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        store.update_test_event(&other, &first.id, "{}").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_test_event(&other, &first.id).await,
        Err(StoreError::NotFound)
    ));

    // Survives a reopen of the file.
    drop(store);
    let store = SqliteStore::open(&dir.path().join("stratus.db")).unwrap();
    let got = store
        .get_test_event(&fid, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, updated);

    store.delete_test_event(&fid, &first.id).await.unwrap();
    assert!(matches!(
        store.delete_test_event(&fid, &first.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.list_test_events(&fid).await.unwrap().len(), 9);
    // There is room again for a tenth.
    store
        .create_test_event(&fid, "again", "{}", 10)
        .await
        .unwrap();

    store.delete_function(&key("a")).await.unwrap();
    assert!(store.list_test_events(&fid).await.unwrap().is_empty());
    assert_eq!(store.list_test_events(&other).await.unwrap().len(), 1);
    let c = store.conn.lock().unwrap();
    let left: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM test_events WHERE function_id = ?1",
            params![fid],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "rows of a deleted function are gone");
}

#[tokio::test]
async fn app_keys_lifecycle() {
    let (dir, store) = open().await;
    store.ensure_project("p2").await.unwrap();
    let app = |id: &str, project: &str, name: &str| AppKeyRecord {
        id: id.into(),
        project_id: project.into(),
        name: name.into(),
        remark: "for the shop".into(),
        app_key: format!("key-{id}"),
        app_secret: format!("secret-{id}"),
        created_at: "2024-01-02T03:04:05Z".into(),
    };
    store.create_app_key(&app("1", "p1", "shop")).await.unwrap();
    store.create_app_key(&app("2", "p1", "crm")).await.unwrap();
    // Names are unique per project, not server-wide.
    store.create_app_key(&app("3", "p2", "shop")).await.unwrap();
    assert!(matches!(
        store.create_app_key(&app("4", "p1", "shop")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.app_key("key-2").await.unwrap(),
        Some(app("2", "p1", "crm"))
    );
    assert_eq!(store.app_key("key-4").await.unwrap(), None);
    let names: Vec<String> = store
        .app_keys("p1")
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["shop", "crm"]);
    // Another project's app cannot be deleted through this one.
    assert!(matches!(
        store.delete_app_key("p1", "3").await,
        Err(StoreError::NotFound)
    ));
    store.delete_app_key("p1", "1").await.unwrap();
    assert_eq!(store.app_key("key-1").await.unwrap(), None);
    drop(store);
    // The table survives a reopen (the migration ran once).
    let again = SqliteStore::open(&dir.path().join("stratus.db")).unwrap();
    assert_eq!(again.app_keys("p1").await.unwrap().len(), 1);
    assert_eq!(again.app_keys("p2").await.unwrap().len(), 1);
}

#[tokio::test]
async fn access_keys_are_cached_and_a_write_drops_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("stratus.db")).unwrap();
    store.ensure_project("p1").await.unwrap();
    let ak = AccessKey {
        access_key: "AK".into(),
        secret_key: "SK1".into(),
        project_id: "p1".into(),
    };
    // A miss is not remembered: the key is found once it is written.
    assert!(store.access_key("AK").await.unwrap().is_none());
    store.ensure_access_key(&ak).await.unwrap();
    assert_eq!(store.access_key("AK").await.unwrap(), Some(ak.clone()));
    // Changed behind the store's back: the cached entry still answers (no SQL per request)...
    store
        .conn
        .lock()
        .unwrap()
        .execute(
            "UPDATE access_keys SET secret_key = 'SK2' WHERE access_key = 'AK'",
            [],
        )
        .unwrap();
    assert_eq!(
        store.access_key("AK").await.unwrap().unwrap().secret_key,
        "SK1"
    );
    // ...until the store writes the key, which drops the entry and reads the row again.
    store.ensure_access_key(&ak).await.unwrap();
    assert_eq!(
        store.access_key("AK").await.unwrap().unwrap().secret_key,
        "SK2"
    );
    assert!(store.access_key("other").await.unwrap().is_none());
}
