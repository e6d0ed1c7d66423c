//! Baton's isomorphic application: the pages of all three surfaces (visitor widget,
//! Inbox, Settings) plus the public site, rendered on the server and hydrated in the
//! browser. Nothing server-only lives here: the back end reaches this crate through
//! server functions and the context the server provides.

#![recursion_limit = "256"]

pub mod auth;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod browser;
pub mod domain;
pub mod error;
pub mod home;
pub mod inbox;
pub mod layout;
pub mod settings;
pub mod widget;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

pub use error::AppError;

/// The script nonce of one response, put into the request by the server's header
/// layer and written by Leptos into every script it emits.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct CspNonce(pub std::sync::Arc<str>);

/// The browser bundle of the widget's pages: the visitor's widget alone, far smaller
/// than the bundle of the whole app (`.ci/build-widget` builds it).
pub const WIDGET_BUNDLE: &str = "widget";

/// Where the browser finds each built file under `/pkg/`: the content-hashed names
/// the server gives them (it serves those as immutable), or, where it gave none, the
/// plain names.
#[derive(Debug, Clone, Default)]
pub struct AssetUrls(std::sync::Arc<std::collections::HashMap<String, String>>);

impl AssetUrls {
    /// `urls` maps a file's own name (`baton.css`) to its URL.
    pub fn new(urls: std::collections::HashMap<String, String>) -> AssetUrls {
        AssetUrls(urls.into())
    }

    pub fn url(&self, file: &str) -> String {
        self.0.get(file).cloned().unwrap_or_else(|| format!("/pkg/{file}"))
    }

    /// The name Leptos' hydration script loads bundle `name` by: it asks for
    /// `/pkg/{it}.js` and `/pkg/{it}.wasm`, which share one hash.
    pub fn bundle(&self, name: &str) -> String {
        let url = self.url(&format!("{name}.js"));
        url.strip_prefix("/pkg/").and_then(|file| file.strip_suffix(".js")).unwrap_or(name).to_owned()
    }
}

/// The HTML document around every page. The server renders it; the browser hydrates
/// `App`, or on a widget page the widget bundle's `WidgetApp`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let options = {
        let mut options = options;
        let path = use_context::<http::request::Parts>().map(|request| request.uri.path().to_owned());
        if path.is_some_and(|path| path.starts_with("/widget/")) {
            options.output_name = WIDGET_BUNDLE.into();
        }
        let assets = use_context::<AssetUrls>().unwrap_or_default();
        options.output_name = assets.bundle(&options.output_name).into();
        // The nonce the server put in this response's Content-Security-Policy: every
        // script Leptos writes into the page (hydration, resources, streaming) carries it.
        let nonce = use_context::<http::request::Parts>()
            .and_then(|request| request.extensions.get::<CspNonce>().map(|nonce| nonce.0.clone()));
        if let Some(nonce) = nonce {
            provide_context(leptos::nonce::Nonce::from_value(nonce));
        }
        options
    };
    // In the document the server renders, not in `Head`: hydration never touches it.
    let stylesheet = use_context::<AssetUrls>().unwrap_or_default().url("baton.css");
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" id="baton" href=stylesheet/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Every page's head: the icon and the title's format. Also marks the
/// document once the browser has hydrated it (the browser tests wait for that).
#[component]
fn Head() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="color-scheme" content="light"/>
        <Title formatter=document_title/>
    }
}

/// The document's `<title>` for a page's own title (set with `leptos_meta::Title`).
///
/// Every `Title` below `Head` goes through this formatter, which makes it the one place
/// the head's text is escaped: leptos_meta 0.8 writes the title into the server's HTML
/// as it is (the body's text is escaped, the head's is not), so a chatbot titled
/// `</title><script>…` would run its script on every visitor's widget. In the browser
/// the title is set through `document.title`, which takes plain text.
fn document_title(page: String) -> String {
    let title = if page.is_empty() { "Baton".to_owned() } else { format!("{page} · Baton") };
    // The escaping Leptos gives the body's text.
    #[cfg(feature = "ssr")]
    let title = html_escape::encode_text(&title).into_owned();
    title
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_document_title_cannot_close_its_element() {
        let title = document_title("</title><script>window.__x=2</script>".to_owned());
        assert_eq!(title, "&lt;/title&gt;&lt;script&gt;window.__x=2&lt;/script&gt; · Baton");
        assert_eq!(document_title("Fish & Chips".to_owned()), "Fish &amp; Chips · Baton");
        assert_eq!(document_title(String::new()), "Baton");
    }
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Head/>
        <Router>
            <Routes fallback=layout::NotFound>
                <Route path=StaticSegment("") view=home::HomePage/>
                // Rendered whole before the first byte: the status (404 for an unknown
                // chatbot) is only known once the chatbot is read.
                <Route path=(StaticSegment("widget"), ParamSegment("bot_id")) view=widget::WidgetPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("inbox") view=inbox::InboxPage/>
                <Route path=StaticSegment("settings") view=settings::SettingsPage/>
            </Routes>
        </Router>
    }
}

/// `App` with the widget's route only: what the widget bundle hydrates on the pages
/// `App` rendered on the server for `/widget/{bot_id}`. Nothing else is reachable
/// from it, so the Inbox, Settings and the home page stay out of that bundle.
#[component]
pub fn WidgetApp() -> impl IntoView {
    view! {
        <Head/>
        <Router>
            <Routes fallback=layout::NotFound>
                <Route path=(StaticSegment("widget"), ParamSegment("bot_id")) view=widget::WidgetPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
