//! The visitor chat widget, served inside an iframe at `/widget/{bot_id}`.

pub mod api;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::domain::{CHAR_HINT_FROM, MAX_MESSAGE_CHARS};

#[component]
pub fn WidgetPage() -> impl IntoView {
    let params = use_params_map();
    let bot_id = move || params.read().get("bot_id").unwrap_or_default();
    view! {
        <Title text="Chat"/>
        <div class="widget" data-bot=bot_id>
            <header class="widget-header">
                <div class="widget-avatar" aria-hidden="true">"A"</div>
                <div>
                    <h1 class="widget-title">"Acme support"</h1>
                    <p class="widget-subtitle">"AI assistant · a person can join when needed"</p>
                </div>
            </header>
            <ol class="messages" aria-live="polite" aria-label="Conversation">
                <li class="message bot">
                    <span class="bubble">"Hi! I'm Acme's assistant. Ask me anything, or ask for a person at any time."</span>
                </li>
            </ol>
            <Composer/>
        </div>
    }
}

/// Text box and send button. Enter sends, Shift+Enter adds a line; empty drafts can't be sent.
#[component]
fn Composer() -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let chars = Memo::new(move |_| draft.with(|d| d.trim().chars().count()));
    let too_long = move || chars.get() > MAX_MESSAGE_CHARS;
    let can_send = move || chars.get() > 0 && !too_long();
    let hint = move || {
        let used = chars.get();
        (used >= CHAR_HINT_FROM).then(|| {
            if used > MAX_MESSAGE_CHARS {
                format!("{} characters too long", used - MAX_MESSAGE_CHARS)
            } else {
                format!("{} characters left", MAX_MESSAGE_CHARS - used)
            }
        })
    };
    view! {
        <form class="composer" on:submit=move |ev| ev.prevent_default()>
            <label class="visually-hidden" for="composer-text">"Message"</label>
            <textarea
                id="composer-text"
                rows="1"
                placeholder="Type your message…"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
            ></textarea>
            <button type="submit" class="send" disabled=move || !can_send() aria-label="Send">
                "Send"
            </button>
            <p class="char-hint" class:over=too_long aria-live="polite">
                {hint}
            </p>
        </form>
    }
}
