//! Opening: creating, migrating, refusing what cannot be used, and leaving it as it was.

use std::time::Duration;

use inbox_store::{OpenOptions, Store, StoreError};
use sqlx::Connection;

use crate::support::{TempDir, on_both};

#[tokio::test]
async fn a_new_file_is_created_in_wal_mode_and_opens_again() {
    let dir = TempDir::new("create");
    let path = dir.db("inbox.db");
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.messages_count().await.unwrap(), 0);
    store.close().await;
    assert!(std::path::Path::new(&path).exists());
    let again = Store::open(&format!("sqlite:{path}")).await.unwrap();
    assert_eq!(again.journal_mode().await.unwrap(), "wal");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_and_left_as_it_was() {
    let dir = TempDir::new("notadb");
    let path = dir.db("notes.txt");
    let text = "these are my notes, not a database\n".repeat(200);
    std::fs::write(&path, &text).unwrap();
    let err = Store::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{path} is not a database (or it is damaged)")
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "nothing written"
    );
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no journal left beside it: {names:?}");
}

#[tokio::test]
async fn a_database_of_a_newer_schema_is_refused_untouched() {
    let dir = TempDir::new("newer");
    let path = dir.db("inbox.db");
    Store::open(&path).await.unwrap().close().await;
    {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (29991231000000, 'from the future', 1, x'00', 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).await.unwrap_err();
    match &err {
        StoreError::NewerSchema {
            found, supported, ..
        } => {
            assert_eq!(*found, 29_991_231_000_000);
            assert!(supported < found);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("upgrade inbox"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing written");
}

#[tokio::test]
async fn a_database_that_cannot_be_written_is_refused_untouched() {
    let dir = TempDir::new("readonly");
    let path = dir.db("inbox.db");
    // A database that needs its schema, opened read-only: the store must write, and cannot.
    // (Read-only by the URL, not by file permissions: those do not bind root, and CI runs as
    // root.)
    {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}?mode=rwc"))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE theirs (x INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&format!("sqlite:{path}?mode=ro"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("{path} is read-only: the store needs to write it")
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing written");
}

#[tokio::test]
async fn a_database_another_process_holds_is_waited_for_then_refused_in_one_line() {
    let dir = TempDir::new("locked");
    let path = dir.db("inbox.db");
    // Another holder of a new file: an exclusive transaction on its own connection.
    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{path}?mode=rwc"))
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE theirs (x INTEGER)")
        .execute(&mut holder)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let options = OpenOptions::default().lock_timeout(Duration::from_millis(300));
    let err = Store::open_with(&path, options).await.unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "it waited first"
    );
    assert!(
        err.to_string().contains("is locked by another process"),
        "{err}"
    );
    // Released in time, the wait ends in an open store, beside what the other one wrote.
    let waiting = tokio::spawn({
        let path = path.clone();
        async move {
            Store::open_with(
                &path,
                OpenOptions::default().lock_timeout(Duration::from_secs(10)),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
    let store = waiting.await.unwrap().unwrap();
    assert_eq!(store.messages_count().await.unwrap(), 0);
}

on_both! {
async fn two_opening_a_new_database_at_once_both_end_with_the_schema(db: Db) {
    let location = db.location("inbox.db");
    let (a, b) = tokio::join!(Store::open(&location), Store::open(&location));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.messages_count().await.unwrap(), 0);
    assert_eq!(b.messages_count().await.unwrap(), 0);
}
}

#[tokio::test]
async fn a_postgres_database_of_a_newer_schema_is_refused_untouched() {
    let url = inbox_testkit::postgres::Postgres::shared().database("newer");
    Store::open(&url).await.unwrap().close().await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (29991231000000, 'from the future', true, '\\x00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'";
    let before: i64 = sqlx::query_scalar(tables)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let err = Store::open(&url).await.unwrap_err();
    match &err {
        StoreError::NewerSchema { found, .. } => assert_eq!(*found, 29_991_231_000_000),
        other => panic!("{other:?}"),
    }
    let after: i64 = sqlx::query_scalar(tables)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(before, after, "nothing created");
}

#[tokio::test]
async fn a_postgres_server_that_does_not_answer_is_named_without_its_password() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://inbox:hunter2@127.0.0.1:{port}/mirror");
    let options = OpenOptions::default().lock_timeout(Duration::from_secs(5));
    let err = Store::open_with(&url, options).await.unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "cannot open postgres://inbox@127.0.0.1:{port}/mirror: "
        )),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}

#[tokio::test]
async fn a_location_that_is_no_database_url_is_refused() {
    for bad in ["", "mysql://nowhere/db", "sqlite:"] {
        let err = Store::open(bad).await.unwrap_err();
        assert!(matches!(err, StoreError::Location { .. }), "{bad}: {err:?}");
    }
}
