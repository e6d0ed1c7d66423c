use crate::helpers::{spawn_app, Db, TestDatabase};

#[tokio::test]
async fn every_page_is_server_rendered_with_its_heading_and_the_hydration_script() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let app = spawn_app(&database).await;
    let pages = [
        ("/", "Hand the chat to a human"),
        ("/widget/demo", "Acme support"),
        ("/inbox", "Sign in to Baton"),
        ("/settings", "Settings"),
    ];
    for (path, heading) in pages {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/html"), "{path}: {content_type}");
        let html = response.text().await.unwrap();
        assert!(html.contains(heading), "{path} shows {heading:?}");
        // Widget pages hydrate with the widget's own, smaller bundle.
        let bundle = if path.starts_with("/widget/") { "/pkg/widget.js" } else { "/pkg/baton.js" };
        assert!(html.contains(bundle), "{path} loads {bundle}");
        assert!(html.contains(r#"href="/pkg/baton.css""#), "{path} loads the stylesheet");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_path_is_a_404_page() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let app = spawn_app(&database).await;

    let response = app.get("/definitely/not/here").await;

    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
    app.stop().await;
}
