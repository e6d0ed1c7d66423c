//! The built site's files under `/pkg/`, served once per visitor.
//!
//! At start the server hashes every file in the site's `pkg` directory and names it
//! `/pkg/{stem}.{hash}.{ext}` in the pages it renders. A request for a hashed name gets
//! `Cache-Control: public, max-age=31536000, immutable`: a new build has new names, so
//! a browser never asks again for what it has. The build compresses each file ahead of
//! time (`.ci/precompress` writes `.br` and `.gz` beside it) and the server sends the
//! smallest the browser accepts, without compressing anything per request. A file asked
//! for by its plain name (a page rendered by an older build, or a file the pages do
//! not name) is still served, with `no-cache`: the browser revalidates it.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::Arc,
};

use app::AssetUrls;
use axum::{
    body::Body,
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header, HeaderValue, StatusCode, Uri};
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::security::headers::is_page;

/// Where every built file is served from.
pub const PREFIX: &str = "/pkg/";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Hex digits of the content hash in a file's name.
const HASH_CHARS: usize = 16;

/// Marks a built file sent from its precompressed copies: the on-the-fly compression
/// leaves it alone (and compresses a file that has none).
#[derive(Debug, Clone, Copy)]
pub struct Built;

#[derive(Clone)]
pub struct Assets {
    dir: PathBuf,
    /// Hashed file name → the file's own name.
    hashed: Arc<HashMap<String, String>>,
    /// Files whose `.br` and `.gz` are at least as new as they are: only those are sent
    /// compressed (a build that skipped `.ci/precompress` leaves stale copies behind).
    fresh: Arc<HashSet<String>>,
    urls: AssetUrls,
}

impl Assets {
    /// Hashes the files in `site_root/pkg` (a missing directory gives no hashed names:
    /// the pages then name the plain files).
    pub fn scan(site_root: &Path) -> Assets {
        let dir = site_root.join("pkg");
        // A bundle's `.js` and `.wasm` share one hash (Leptos loads both by one name):
        // the hash of both, so a change to either renames both.
        let mut groups: HashMap<String, (Sha256, Vec<String>)> = HashMap::new();
        for (name, bytes) in files(&dir) {
            let group = match name.rsplit_once('.') {
                Some((stem, "js" | "wasm")) => stem.to_owned(),
                _ => name.clone(),
            };
            let (hasher, names) = groups.entry(group).or_insert_with(|| (Sha256::new(), Vec::new()));
            hasher.update(&bytes);
            names.push(name);
        }
        let mut hashed = HashMap::new();
        let mut urls = HashMap::new();
        for (hasher, names) in groups.into_values() {
            let hash = format!("{:x}", hasher.finalize());
            let hash = &hash[..HASH_CHARS];
            for name in names {
                let versioned = match name.rsplit_once('.') {
                    Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                    None => format!("{name}.{hash}"),
                };
                urls.insert(name.clone(), format!("{PREFIX}{versioned}"));
                hashed.insert(versioned, name);
            }
        }
        if urls.is_empty() {
            tracing::warn!(dir = %dir.display(), "no built files to serve (run `make build`)");
        }
        let fresh = urls.keys().filter(|name| copies_are_fresh(&dir, name)).cloned().collect();
        Assets { dir, hashed: Arc::new(hashed), fresh: Arc::new(fresh), urls: AssetUrls::new(urls) }
    }

    /// What the pages name each file by.
    pub fn urls(&self) -> AssetUrls {
        self.urls.clone()
    }

    /// Answers a request under `/pkg/`.
    pub async fn serve(&self, request: Request) -> Response {
        let name = request.uri().path().strip_prefix(PREFIX).unwrap_or_default().to_owned();
        let (file, cache) = match self.hashed.get(&name) {
            Some(file) => (file.clone(), IMMUTABLE),
            None => (name, "no-cache"),
        };
        let (mut parts, body) = request.into_parts();
        parts.uri = match Uri::builder().path_and_query(format!("/{file}")).build() {
            Ok(uri) => uri,
            Err(_) => return StatusCode::NOT_FOUND.into_response(),
        };
        let precompressed = self.fresh.contains(&file);
        let files = ServeDir::new(&self.dir);
        let files = if precompressed { files.precompressed_br().precompressed_gzip() } else { files };
        let served = files.oneshot(Request::from_parts(parts, body)).await;
        let mut response = match served {
            Ok(response) => response.map(Body::new),
            Err(never) => match never {},
        };
        if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        }
        if precompressed {
            response.extensions_mut().insert(Built);
        }
        response
    }
}

/// How long a browser keeps what has no rule of its own: a page is revalidated every
/// time (`no-cache`: its file names change with each build), an API answer is never
/// stored, and the files outside `/pkg/` (the embed script, which host pages name by a
/// fixed URL, and the icon) for five minutes.
pub async fn cache_policy(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if response.headers().contains_key(header::CACHE_CONTROL) || response.status() == StatusCode::SWITCHING_PROTOCOLS {
        return response;
    }
    let rule = match (api, is_page(response.headers())) {
        (true, _) => "no-store",
        (false, true) => "no-cache",
        (false, false) => "public, max-age=300",
    };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(rule));
    response
}

fn copies_are_fresh(dir: &Path, name: &str) -> bool {
    let modified = |name: &str| std::fs::metadata(dir.join(name)).and_then(|meta| meta.modified()).ok();
    let Some(original) = modified(name) else { return false };
    let copies = [".br", ".gz"].map(|ext| modified(&format!("{name}{ext}")));
    let fresh = copies.iter().all(|copy| copy.is_some_and(|copy| copy >= original));
    if !fresh && copies.iter().any(Option::is_some) {
        tracing::warn!(
            file = name,
            "its compressed copies are older than it: sending it uncompressed (run `make build`)"
        );
    }
    fresh
}

/// The servable files of `dir` (not its precompressed copies), with their bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok().map(|name| (name, entry.path())))
        .filter(|(name, _)| !name.ends_with(".br") && !name.ends_with(".gz"))
        .filter_map(|(name, path)| std::fs::read(path).ok().map(|bytes| (name, bytes)))
        .collect();
    files.sort();
    files
}

/// The handler behind `/pkg/{*file}`.
pub async fn serve(axum::extract::State(assets): axum::extract::State<Assets>, request: Request) -> Response {
    assets.serve(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_is_named_by_its_content() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let pkg = dir.path().join("pkg");
        std::fs::create_dir(&pkg).expect("pkg");
        std::fs::write(pkg.join("widget.js"), "one").expect("write");
        std::fs::write(pkg.join("widget.js.br"), "compressed").expect("write");
        let first = Assets::scan(dir.path()).urls().url("widget.js");
        assert!(first.starts_with("/pkg/widget.") && first.ends_with(".js"), "{first}");
        assert_eq!(first.len(), "/pkg/widget..js".len() + HASH_CHARS);
        std::fs::write(pkg.join("widget.js"), "two").expect("write");
        let second = Assets::scan(dir.path()).urls().url("widget.js");
        assert_ne!(first, second, "new content, new name");
        assert_eq!(Assets::scan(dir.path()).urls().url("widget.js.br"), "/pkg/widget.js.br", "no name for copies");
        std::fs::write(pkg.join("widget.wasm"), "bytes").expect("write");
        let urls = Assets::scan(dir.path()).urls();
        assert_eq!(urls.url("widget.js").replace(".js", ".wasm"), urls.url("widget.wasm"), "one hash per bundle");
        assert_eq!(format!("/pkg/{}.js", urls.bundle("widget")), urls.url("widget.js"));
    }
}
