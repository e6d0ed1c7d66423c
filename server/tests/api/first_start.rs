use server::{auth::password, demo::Seeded};
use sqlx::Row;

use crate::helpers::{inspect, spawn_app, spawn_app_with, Db, TestDatabase, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::on_both_databases;

async fn an_empty_database_gets_the_demo_workspace_chatbot_and_admin(db: Db) {
    let database = TestDatabase::new(db).await;

    let app = spawn_app(&database).await;

    assert_eq!(
        app.seeded,
        Seeded::Created { admin_email: ADMIN_EMAIL.to_owned(), generated_password: None }
    );
    let store = inspect(&database).await;
    let bot = sqlx::query("SELECT workspace_id, live_handoff FROM chatbots WHERE public_id = 'demo'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(bot.get::<i32, _>("live_handoff"), 1, "Live Agent Handoff is on for the demo bot");
    let admin = sqlx::query("SELECT workspace_id, role, password_hash FROM members WHERE email = $1")
        .bind(ADMIN_EMAIL)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(admin.get::<String, _>("role"), "admin");
    assert_eq!(admin.get::<String, _>("workspace_id"), bot.get::<String, _>("workspace_id"));
    let hash: String = admin.get("password_hash");
    assert!(hash.starts_with("$argon2id$"), "stored hashed, never in clear: {hash}");
    assert!(password::verify(ADMIN_PASSWORD, &hash));
    app.stop().await;
}

async fn without_a_configured_password_a_generated_one_is_returned_once_and_works(db: Db) {
    let database = TestDatabase::new(db).await;
    let mut settings =
        server::Settings::for_database(database.url.clone(), database.dir.path().to_path_buf());
    settings.admin_password = None;

    let app = spawn_app_with(settings.clone()).await;

    let Seeded::Created { generated_password: Some(generated), .. } = app.seeded.clone() else {
        panic!("expected a generated password, got {:?}", app.seeded);
    };
    let store = inspect(&database).await;
    let hash: String = sqlx::query("SELECT password_hash FROM members WHERE role = 'admin'")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert!(password::verify(generated.expose(), &hash));
    app.stop().await;

    let again = spawn_app_with(settings).await;
    assert_eq!(again.seeded, Seeded::AlreadyThere { admin_email: Some("admin@baton.local".to_owned()) });
    again.stop().await;
}

async fn a_second_start_on_the_same_database_changes_nothing(db: Db) {
    let database = TestDatabase::new(db).await;
    spawn_app(&database).await.stop().await;
    let store = inspect(&database).await;
    let hash_before: String =
        sqlx::query("SELECT password_hash FROM members").fetch_one(store.pool()).await.unwrap().get(0);

    let app = spawn_app(&database).await;

    assert_eq!(app.seeded, Seeded::AlreadyThere { admin_email: Some(ADMIN_EMAIL.to_owned()) });
    for table in ["workspaces", "chatbots", "members"] {
        let count: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(count, 1, "{table} holds exactly one row");
    }
    let hash_after: String =
        sqlx::query("SELECT password_hash FROM members").fetch_one(store.pool()).await.unwrap().get(0);
    assert_eq!(hash_before, hash_after);
    app.stop().await;
}

on_both_databases!(
    an_empty_database_gets_the_demo_workspace_chatbot_and_admin,
    without_a_configured_password_a_generated_one_is_returned_once_and_works,
    a_second_start_on_the_same_database_changes_nothing,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_on_one_postgres_seed_exactly_once() {
    if crate::helpers::postgres_admin_url().is_none() {
        eprintln!("skipped: needs PostgreSQL (DATABASE_URL_TEST or CI)");
        return;
    }
    let database = TestDatabase::new(Db::Postgres).await;

    let starts = (0..4).map(|_| spawn_app(&database));
    let apps = futures_util::future::join_all(starts).await;

    let created = apps.iter().filter(|app| matches!(app.seeded, Seeded::Created { .. })).count();
    assert_eq!(created, 1, "exactly one instance seeds the empty database");
    let store = inspect(&database).await;
    let members: i64 =
        sqlx::query("SELECT COUNT(*) FROM members").fetch_one(store.pool()).await.unwrap().get(0);
    assert_eq!(members, 1);
    for app in apps {
        app.stop().await;
    }
}

#[tokio::test]
async fn an_admin_email_that_is_not_an_address_stops_start_up_with_a_clear_error() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let mut settings =
        server::Settings::for_database(database.url.clone(), database.dir.path().to_path_buf());
    settings.admin_email = "admin".to_owned();

    let err = server::Application::build(&settings).await.err().expect("start-up refuses");

    assert!(err.to_string().contains("BATON_ADMIN_EMAIL"), "{err}");
}
