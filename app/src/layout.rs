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

/// A page that could not load: the reason, and a link to try again (`retry`).
#[component]
pub fn ErrorCard(err: crate::AppError, retry: &'static str) -> impl IntoView {
    view! {
        <section class="card narrow" role="alert">
            <h1>"Something went wrong"</h1>
            <p class="error">{err.to_string()}</p>
            <p><a class="button" href=retry>"Try again"</a></p>
        </section>
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

/// A scrolling list that follows its newest (last) line while the reader is at the
/// end, and otherwise offers a jump to what arrived below (`unseen`).
#[derive(Clone, Copy)]
pub struct Follow {
    list: NodeRef<leptos::html::Ol>,
    /// The reader is at the end: new lines scroll into view.
    pinned: StoredValue<bool>,
    /// Where the list was last seen scrolled to: only a move up is the reader leaving.
    last_top: StoredValue<i32>,
    /// Lines arrived below while the reader was scrolled up.
    pub unseen: RwSignal<bool>,
}

/// How close to the end counts as at the end, in pixels.
const AT_END_SLACK: i32 = 24;

/// Follows `list`'s newest line on every change it shows (content, its own size, the
/// frame opening) and on every change `changes` (which reads the signals the list is
/// drawn from) reports, unless the reader scrolled up to read.
pub fn follow_newest(list: NodeRef<leptos::html::Ol>, changes: impl Fn() + 'static) -> Follow {
    let follow =
        Follow { list, pinned: StoredValue::new(true), last_top: StoredValue::new(0), unseen: RwSignal::new(false) };
    Effect::new(move |attached: Option<bool>| {
        if attached == Some(true) {
            return true;
        }
        let Some(element) = list.get() else { return false };
        crate::browser::stick_to_end(&element, move || follow.pinned.try_get_value().unwrap_or(false));
        true
    });
    Effect::new(move |_| {
        changes();
        // The reader's scroll may not have reached `scrolled` yet (scroll events come
        // on the next frame): read where the list is now, so a line arriving right
        // after the reader scrolled up does not pull them back down.
        follow.scrolled();
        if follow.pinned.get_value() {
            if let Some(element) = list.get_untracked() {
                crate::browser::scroll_to_end(&element);
            }
        } else {
            follow.unseen.set(true);
        }
    });
    follow
}

/// "New messages ↓", shown while lines arrived below the part the reader is reading.
#[component]
pub fn JumpToNewest(follow: Follow) -> impl IntoView {
    view! {
        <Show when=move || follow.unseen.get()>
            <button type="button" class="jump-newest" on:click=move |_| follow.jump()>"New messages ↓"</button>
        </Show>
    }
}

impl Follow {
    /// The list scrolled. Back at the end, it follows again; moved up (the reader
    /// scrolling to read), it stops following. Anything else (lines arriving, the
    /// list resizing, our own scroll to the end) changes nothing.
    pub fn scrolled(&self) {
        let Some(list) = self.list.get_untracked() else { return };
        // A hidden list (the widget's frame closed) scrolls to its top by itself:
        // that is not the reader leaving the end.
        if list.client_height() == 0 {
            return;
        }
        let top = list.scroll_top();
        let moved_up = top < self.last_top.get_value();
        self.last_top.set_value(top);
        if top + list.client_height() >= list.scroll_height() - AT_END_SLACK {
            self.pinned.set_value(true);
            self.unseen.set(false);
        } else if moved_up {
            self.pinned.set_value(false);
        }
    }

    /// "New messages": back to the end, following again.
    pub fn jump(&self) {
        self.pinned.set_value(true);
        self.unseen.set(false);
        if let Some(list) = self.list.get_untracked() {
            crate::browser::scroll_to_end(&list);
        }
    }
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
