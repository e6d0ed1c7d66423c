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

/// The browser bundle of the widget's pages: the visitor's widget alone, far smaller
/// than the bundle of the whole app (`.ci/build-widget` builds it).
pub const WIDGET_BUNDLE: &str = "widget";

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
        options
    };
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

/// Every page's head: the stylesheet, the icon and the title's format. Also marks the
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
        <Stylesheet id="baton" href="/pkg/baton.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="color-scheme" content="light"/>
        <Title formatter=|page: String| if page.is_empty() { "Baton".to_owned() } else { format!("{page} · Baton") }/>
    }
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Head/>
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

/// `App` with the widget's route only: what the widget bundle hydrates on the pages
/// `App` rendered on the server for `/widget/{bot_id}`. Nothing else is reachable
/// from it, so the Inbox, Settings and the home page stay out of that bundle.
#[component]
pub fn WidgetApp() -> impl IntoView {
    view! {
        <Head/>
        <Router>
            <Routes fallback=layout::NotFound>
                <Route path=(StaticSegment("widget"), ParamSegment("bot_id")) view=widget::WidgetPage/>
            </Routes>
        </Router>
    }
}
