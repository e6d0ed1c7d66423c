//! The headers every response carries: a Content-Security-Policy, `nosniff` and a
//! referrer policy.
//!
//! Pages get a fresh script nonce per response (`'nonce-…'`, also handed to Leptos
//! through the request so every script it writes carries it): only Baton's own
//! scripts run, so text that slipped through as markup could not execute.
//! `frame-ancestors` says who may frame a page: for `/widget/{bot_id}` the chatbot's
//! allowed websites, for every other page Baton itself. Everything that is not a page
//! (API answers, the embed script, static files) gets `default-src 'none'`.

use std::sync::Arc;

use app::CspNonce;
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{header, HeaderValue};
use rand::RngCore;

use crate::store::Store;

/// The policy of a page whose scripts carry `nonce`. `'self'` loads the WASM bundle's
/// JavaScript (imported by the nonced hydration script); `'wasm-unsafe-eval'` lets it
/// compile the WASM. Styles stay open: the widget's brand colour is an inline style.
pub fn page_policy(nonce: &str, frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
         form-action 'self'; {frame_ancestors}"
    )
}

/// What is not a page runs nothing and embeds nothing.
const RESOURCE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// A new nonce: 128 random bits, hex.
fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `frame-ancestors` source list for a chatbot's allowed origins.
pub fn frame_ancestors(allowed_origins: &str) -> String {
    let origins: Vec<&str> = allowed_origins.split_whitespace().collect();
    if origins.contains(&"*") {
        return "frame-ancestors *".into();
    }
    let mut sources = vec!["'self'"];
    sources.extend(origins);
    format!("frame-ancestors {}", sources.join(" "))
}

async fn frame_ancestors_for(store: &Store, bot_id: Option<&str>) -> String {
    let Some(bot_id) = bot_id else { return frame_ancestors("") };
    match store.chatbot_by_public_id(bot_id).await {
        Ok(Some(chatbot)) => frame_ancestors(&chatbot.allowed_origins),
        Ok(None) => frame_ancestors(""),
        Err(err) => {
            tracing::error!(error = %err, "cannot read a chatbot's allowed origins");
            frame_ancestors("")
        }
    }
}

/// Whether a response is an HTML page (by its `Content-Type`).
pub fn is_page(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("text/html"))
}

pub async fn security_headers(State(store): State<Store>, mut request: Request, next: Next) -> Response {
    let nonce: Arc<str> = new_nonce().into();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let bot_id = request
        .uri()
        .path()
        .strip_prefix("/widget/")
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
        .map(str::to_owned);
    let mut response = next.run(request).await;
    let policy = if is_page(response.headers()) {
        page_policy(&nonce, &frame_ancestors_for(&store, bot_id.as_deref()).await)
    } else {
        RESOURCE_POLICY.to_owned()
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_policy_lists_the_allowed_origins() {
        assert_eq!(frame_ancestors(""), "frame-ancestors 'self'");
        assert_eq!(
            frame_ancestors("https://a.com https://b.com"),
            "frame-ancestors 'self' https://a.com https://b.com"
        );
        assert_eq!(frame_ancestors("*"), "frame-ancestors *");
    }

    #[test]
    fn a_page_policy_allows_only_nonced_inline_scripts() {
        let policy = page_policy("abc123", "frame-ancestors 'self'");
        let scripts = policy.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap();
        assert_eq!(scripts, "script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'");
        assert!(policy.contains("object-src 'none'") && policy.contains("base-uri 'none'"));
        assert!(policy.ends_with("frame-ancestors 'self'"));
    }

    #[test]
    fn nonces_are_long_and_differ() {
        let (a, b) = (new_nonce(), new_nonce());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
