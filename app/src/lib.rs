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

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, StaticSegment,
};

pub use error::AppError;

/// The HTML document around every page. The server renders it; the browser hydrates `App`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: this marks the page as live
    // (the browser tests wait for it before they interact).
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="baton" href="/pkg/baton.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="color-scheme" content="light"/>
        <Title formatter=|page: String| if page.is_empty() { "Baton".to_owned() } else { format!("{page} · Baton") }/>
        <Router>
            <Routes fallback=layout::NotFound>
                <Route path=StaticSegment("") view=home::HomePage/>
                <Route path=(StaticSegment("widget"), ParamSegment("bot_id")) view=widget::WidgetPage/>
                <Route path=StaticSegment("inbox") view=inbox::InboxPage/>
                <Route path=StaticSegment("settings") view=settings::SettingsPage/>
            </Routes>
        </Router>
    }
}
