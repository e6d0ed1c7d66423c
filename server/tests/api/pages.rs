use serde_json::json;

use crate::helpers::{spawn_app, Db, TestDatabase};

/// The content-hashed URL `html` names built file `{stem}.{hash}.{ext}` by.
fn pkg_url(html: &str, stem: &str, ext: &str) -> String {
    let start = format!("/pkg/{stem}.");
    html.match_indices(&start)
        .map(|(at, _)| &html[at..])
        .filter_map(|rest| {
            let hash = rest[start.len()..].split('.').next()?;
            let hashed = hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit());
            (hashed && rest[start.len() + 16..].starts_with(&format!(".{ext}"))).then(|| format!("{start}{hash}.{ext}"))
        })
        .next()
        .unwrap_or_else(|| panic!("the page names no hashed {stem}.*.{ext}"))
}

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
        let bundle = if path.starts_with("/widget/") { "widget" } else { "baton" };
        let script = pkg_url(&html, bundle, "js");
        assert_eq!(pkg_url(&html, bundle, "wasm"), script.replace(".js", ".wasm"), "{path}: one hash per bundle");
        assert!(html.contains(&format!(r#"href="{}""#, pkg_url(&html, "baton", "css"))), "{path} loads the stylesheet");
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

/// Built files are compressed at build time and named by their content: a visitor's
/// browser downloads each once (immutable for a year) and the server never compresses
/// them per request; pages are revalidated each time, API answers never stored.
#[tokio::test]
async fn built_files_are_served_once_precompressed_under_hashed_names() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let app = spawn_app(&database).await;
    let page = app.get("/widget/demo").await;
    assert_eq!(page.headers()["cache-control"], "no-cache", "pages are revalidated");
    let html = page.text().await.unwrap();

    let get = |url: String, encoding: &'static str| {
        let request = app.client.get(app.url(&url));
        async move {
            let request = if encoding.is_empty() { request } else { request.header("accept-encoding", encoding) };
            request.send().await.unwrap()
        }
    };
    for (stem, ext, kind) in [("widget", "wasm", "application/wasm"), ("widget", "js", "javascript"), ("baton", "css", "text/css")] {
        let url = pkg_url(&html, stem, ext);
        let plain = get(url.clone(), "").await;
        assert_eq!(plain.status(), 200, "{url}");
        assert_eq!(plain.headers()["cache-control"], "public, max-age=31536000, immutable", "{url}");
        assert!(plain.headers()["content-type"].to_str().unwrap().contains(kind), "{url}");
        assert!(!plain.headers().contains_key("content-encoding"), "{url}: asked for nothing, gets the file");
        let size = plain.bytes().await.unwrap().len();

        let brotli = get(url.clone(), "gzip, deflate, br").await;
        assert_eq!(brotli.headers()["content-encoding"], "br", "{url}: the brotli copy made at build time");
        assert_eq!(brotli.headers()["cache-control"], "public, max-age=31536000, immutable");
        let compressed = brotli.bytes().await.unwrap().len();
        assert!(compressed < size, "{url}: {compressed} brotli bytes vs {size}");

        let gzip = get(url.clone(), "gzip").await;
        assert_eq!(gzip.headers()["content-encoding"], "gzip", "{url}");
        assert!(gzip.bytes().await.unwrap().len() < size);
    }
    // The plain name still answers (a page of an older build), revalidated each time.
    let plain = get("/pkg/widget.js".into(), "").await;
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()["cache-control"], "no-cache");
    // A hash no build made is not a file.
    assert_eq!(get("/pkg/widget.0123456789abcdef.js".into(), "").await.status(), 404);
    assert_eq!(get("/pkg/../Cargo.toml".into(), "").await.status(), 404);

    let embed = get("/embed.js".into(), "").await;
    assert_eq!(embed.headers()["cache-control"], "public, max-age=300", "host pages name it by a fixed URL");
    let api = app.client.post(app.url("/api/v1/widget/config")).json(&json!({"bot_id": "demo"})).send().await.unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
    app.stop().await;
}
