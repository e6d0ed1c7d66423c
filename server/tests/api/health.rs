use crate::helpers::{spawn_app, Db, TestDatabase};
use crate::on_both_databases;

async fn healthz_answers_200_while_the_process_is_up(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    app.stop().await;
}

async fn readyz_answers_200_when_the_database_answers(db: Db) {
    let database = TestDatabase::new(db).await;
    let app = spawn_app(&database).await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    app.stop().await;
}

on_both_databases!(healthz_answers_200_while_the_process_is_up, readyz_answers_200_when_the_database_answers);

#[tokio::test]
async fn readyz_answers_503_with_a_typed_error_when_the_database_is_gone() {
    // A PostgreSQL database that is dropped under the running server.
    let Some(_) = crate::helpers::postgres_admin_url() else {
        eprintln!("skipped: needs PostgreSQL (DATABASE_URL_TEST or CI)");
        return;
    };
    let database = TestDatabase::new(Db::Postgres).await;
    let app = spawn_app(&database).await;
    drop(database); // DROP DATABASE ... WITH (FORCE) ends the server's connections

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(body["error"]["message"].as_str().unwrap().contains("database"));
}
