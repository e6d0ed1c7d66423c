//! The frame shared by the team-facing pages: top bar with navigation, and the 404 page.

use leptos::prelude::*;
use leptos_meta::Title;

/// Top bar and page body for the public site, the Inbox and Settings. `wide` pages
/// (the Inbox) use the whole window instead of a centred column.
#[component]
pub fn AppFrame(#[prop(optional)] wide: bool, children: Children) -> impl IntoView {
    view! {
        <div class="frame">
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"B"</span>
                    <span>"Baton"</span>
                </a>
                <nav aria-label="Main">
                    <a href="/demo">"Demo site"</a>
                    <a href="/inbox">"Inbox"</a>
                    <a href="/settings">"Settings"</a>
                </nav>
            </header>
            <main class="page" class:wide=wide>{children()}</main>
        </div>
    }
}

/// A modal dialog over the dimmed page; a click outside it calls `close`.
#[component]
pub fn Dialog(
    title: &'static str,
    close: impl Fn() + Copy + Send + Sync + 'static,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="dialog-backdrop" on:click=move |_| close()>
            <div class="dialog card" role="dialog" aria-modal="true" aria-label=title on:click=|ev| ev.stop_propagation()>
                <h2>{title}</h2>
                {children()}
            </div>
        </div>
    }
}

/// Keeps a scrolling list showing its newest (last) line whenever `changes` (which
/// reads the signals the list is drawn from) reports a change.
pub fn follow_newest(list: NodeRef<leptos::html::Ol>, changes: impl Fn() + 'static) {
    Effect::new(move |_| {
        changes();
        if let Some(list) = list.get() {
            list.set_scroll_top(list.scroll_height());
        }
    });
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <AppFrame>
            <section class="card narrow">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address. "<a href="/">"Back to the start"</a>"."</p>
            </section>
        </AppFrame>
    }
}
