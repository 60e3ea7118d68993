//! Dependency records on a real SQLite file: numbering, listing, references from function
//! specs, deletion rules, blob references and the migration ledger.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::tests::{key, open, spec};
use stratus_types::DependencyRef;

fn new_version(project: &str, name: &str, runtime: &str, sha: char) -> NewDependencyVersion {
    NewDependencyVersion {
        project_id: project.into(),
        name: name.into(),
        runtime: runtime.into(),
        description: format!("{name} package"),
        depend_type: "zip".into(),
        source_url: String::new(),
        file_name: format!("{name}.zip"),
        sha256: sha.to_string().repeat(64),
        md5: sha.to_string().repeat(32),
        size: 123,
    }
}

fn reference(v: &DependencyVersionRecord) -> DependencyRef {
    DependencyRef {
        id: v.id.clone(),
        dep_id: v.dep_id.clone(),
        name: v.name.clone(),
        version: v.version,
        runtime: v.runtime.clone(),
        description: v.description.clone(),
        file_name: v.file_name.clone(),
        sha256: v.sha256.clone(),
        etag: v.md5.clone(),
        size: v.size,
        owner: v.project_id.clone(),
        last_modified_ms: v.created_ms,
    }
}

#[tokio::test]
async fn versions_are_numbered_per_dependency_and_listed() {
    let (_dir, store) = open().await;
    store.ensure_project("p2").await.unwrap();
    let a1 = store
        .create_dependency_version(&new_version("p1", "alpha", "Python3.9", 'a'))
        .await
        .unwrap();
    let a2 = store
        .create_dependency_version(&new_version("p1", "alpha", "Python3.9", 'b'))
        .await
        .unwrap();
    let n1 = store
        .create_dependency_version(&new_version("p1", "nodelib", "Node.js18.15", 'c'))
        .await
        .unwrap();
    let other = store
        .create_dependency_version(&new_version("p2", "alpha", "Python3.9", 'd'))
        .await
        .unwrap();
    assert_eq!((a1.version, a2.version, n1.version), (1, 2, 1));
    assert_eq!(a1.dep_id, a2.dep_id);
    assert_ne!(a1.id, a2.id);
    assert_ne!(a1.dep_id, other.dep_id, "names are per project");
    assert_eq!(other.version, 1);

    let all = DependencyQuery {
        project_id: "p1".into(),
        limit: 100,
        ..DependencyQuery::default()
    };
    let (page, total) = store.list_dependencies(&all).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(
        page[0].latest, a2,
        "a dependency is shown with its newest version"
    );
    assert_eq!(page[0].versions, 2);
    assert_eq!(page[1].latest, n1);

    let by_runtime = DependencyQuery {
        runtime: Some("Node.js18.15".into()),
        ..all.clone()
    };
    let (page, total) = store.list_dependencies(&by_runtime).await.unwrap();
    assert_eq!((total, page[0].latest.name.as_str()), (1, "nodelib"));
    let by_name = DependencyQuery {
        name_contains: Some("lph".into()),
        ..all.clone()
    };
    assert_eq!(store.list_dependencies(&by_name).await.unwrap().1, 1);
    let second_page = DependencyQuery {
        offset: 1,
        limit: 1,
        ..all.clone()
    };
    let (page, total) = store.list_dependencies(&second_page).await.unwrap();
    assert_eq!(
        (page.len(), total, page[0].latest.name.as_str()),
        (1, 2, "nodelib")
    );

    let (versions, total) = store
        .list_dependency_versions("p1", &a1.dep_id, 0, 10)
        .await
        .unwrap();
    assert_eq!((versions, total), (vec![a1.clone(), a2.clone()], 2));
    let (versions, _) = store
        .list_dependency_versions("p1", &a1.dep_id, 1, 10)
        .await
        .unwrap();
    assert_eq!(versions, vec![a2.clone()]);
    assert!(matches!(
        store
            .list_dependency_versions("p2", &a1.dep_id, 0, 10)
            .await,
        Err(StoreError::NotFound)
    ));

    assert_eq!(
        store.dependency_version("p1", &a1.dep_id, 2).await.unwrap(),
        Some(a2.clone())
    );
    assert_eq!(
        store.dependency_version("p1", &a1.dep_id, 3).await.unwrap(),
        None
    );
    assert_eq!(
        store.dependency_version("p2", &a1.dep_id, 1).await.unwrap(),
        None
    );
    let found = store
        .dependency_versions_by_id("p1", &[a1.id.clone(), other.id.clone(), "nope".into()])
        .await
        .unwrap();
    assert_eq!(found, vec![a1], "another project's version is not found");
}

#[tokio::test]
async fn a_referenced_version_is_not_deleted() {
    let (_dir, store) = open().await;
    let v1 = store
        .create_dependency_version(&new_version("p1", "alpha", "Python3.9", '1'))
        .await
        .unwrap();
    let v2 = store
        .create_dependency_version(&new_version("p1", "alpha", "Python3.9", '2'))
        .await
        .unwrap();
    let mut s = spec("user");
    s.dependencies = vec![reference(&v1)];
    let rec = store.create_function("p1", &s, 400).await.unwrap();

    let refused = store
        .delete_dependency_version("p1", &v1.dep_id, 1)
        .await
        .unwrap();
    assert_eq!(
        refused,
        DependencyDeletion::InUse(vec![DependencyUser {
            package: "default".into(),
            function: "user".into(),
            version: "latest".into(),
        }])
    );
    assert!(store
        .dependency_version("p1", &v1.dep_id, 1)
        .await
        .unwrap()
        .is_some());
    let blobs = store.referenced_blobs().await.unwrap();
    assert!(blobs.contains(&"1".repeat(64)) && blobs.contains(&"2".repeat(64)));

    // The function moves to version 2: version 1 is free, version 2 is held.
    let mut moved = rec.latest.clone();
    moved.dependencies = vec![reference(&v2)];
    store
        .update_latest(&key("user"), &moved, rec.revision)
        .await
        .unwrap();
    let gone = store
        .delete_dependency_version("p1", &v1.dep_id, 1)
        .await
        .unwrap();
    assert!(matches!(
        gone,
        DependencyDeletion::Deleted { ref record, dependency_removed: false } if record.id == v1.id
    ));
    assert!(!store
        .referenced_blobs()
        .await
        .unwrap()
        .contains(&"1".repeat(64)));
    assert!(matches!(
        store.delete_dependency_version("p1", &v1.dep_id, 1).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .delete_dependency_version("p1", &v2.dep_id, 2)
            .await
            .unwrap(),
        DependencyDeletion::InUse(_)
    ));

    // Deleting the function releases version 2; deleting it removes the dependency.
    store.delete_function(&key("user")).await.unwrap();
    let v3 = store
        .create_dependency_version(&new_version("p1", "alpha", "Python3.9", '3'))
        .await
        .unwrap();
    assert_eq!(v3.version, 3, "numbers are not reused");
    for n in [2, 3] {
        store
            .delete_dependency_version("p1", &v2.dep_id, n)
            .await
            .unwrap();
    }
    let all = DependencyQuery {
        project_id: "p1".into(),
        limit: 10,
        ..DependencyQuery::default()
    };
    assert_eq!(store.list_dependencies(&all).await.unwrap().1, 0);
    let again = store
        .create_dependency_version(&new_version("p1", "alpha", "Python3.9", '4'))
        .await
        .unwrap();
    assert_eq!(again.version, 1, "a removed dependency starts over");
    assert_ne!(again.dep_id, v1.dep_id);
}

#[tokio::test]
async fn a_function_cannot_reference_a_deleted_version() {
    let (_dir, store) = open().await;
    let v1 = store
        .create_dependency_version(&new_version("p1", "alpha", "Python3.9", 'a'))
        .await
        .unwrap();
    store
        .delete_dependency_version("p1", &v1.dep_id, 1)
        .await
        .unwrap();
    let mut s = spec("late");
    s.dependencies = vec![reference(&v1)];
    assert!(matches!(
        store.create_function("p1", &s, 400).await,
        Err(StoreError::Conflict(m)) if m.contains("was deleted")
    ));
    assert!(store.get_function(&key("late")).await.unwrap().is_none());

    let rec = store
        .create_function("p1", &spec("late"), 400)
        .await
        .unwrap();
    assert!(matches!(
        store.update_latest(&key("late"), &s, rec.revision).await,
        Err(StoreError::Conflict(_))
    ));
    let stored = store.get_function(&key("late")).await.unwrap().unwrap();
    assert_eq!((stored.revision, stored.latest.dependencies.len()), (1, 0));
}

#[tokio::test]
async fn the_migration_ledger_takes_over_from_user_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // A database as builds before the ledger left it: 0001 and 0002, user_version 2.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0].1).unwrap();
        conn.execute_batch(MIGRATIONS[1].1).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
    }
    drop(SqliteStore::open(&path).unwrap());
    drop(SqliteStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    let applied: Vec<String> = conn
        .prepare("SELECT name FROM schema_migrations ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want: Vec<String> = MIGRATIONS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(applied, want);
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('dependencies', 'dependency_versions')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 2);
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(
        version as usize,
        COUNTED_MIGRATIONS.len(),
        "user_version counts only the pre-ledger migrations"
    );

    // A migration recorded by name is never applied twice, wherever it sits in the list;
    // one that is missing is applied even when later ones are there.
    conn.execute(
        "DELETE FROM schema_migrations WHERE name = '0006_dependencies'",
        [],
    )
    .unwrap();
    conn.execute_batch("DROP TABLE dependency_versions; DROP TABLE dependencies;")
        .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    store.ensure_project("p1").await.unwrap();
    let v = store
        .create_dependency_version(&new_version("p1", "back", "Python3.9", 'e'))
        .await
        .unwrap();
    assert_eq!(v.version, 1, "the missing migration was applied again");
    drop(store);

    // Without a ledger, a user_version beyond the known migrations is refused.
    let path = dir.path().join("unknown.db");
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 7).unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).err().unwrap();
    assert!(format!("{err:#}").contains("schema version 7"), "{err:#}");
}
