//! The visitor chat widget, served inside an iframe at `/widget/{bot_id}` (the
//! embed script in `public/embed.js` puts it on a website) or opened on its own.

pub mod api;
pub mod chat;
#[cfg(feature = "hydrate")]
mod client;
#[cfg(feature = "hydrate")]
mod frame;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::layout::{follow_newest, JumpToNewest};
use crate::{
    domain::{
        text::{email_in, is_blank, EmailAnswer},
        AuthorKind, Message, StateKind, WidgetLook, CHAR_HINT_FROM, MAX_MESSAGE_CHARS,
    },
    error::AppError,
};
use chat::{Chat, Connection};

#[component]
pub fn WidgetPage() -> impl IntoView {
    let params = use_params_map();
    let bot_id = params.read_untracked().get("bot_id").unwrap_or_default();
    // Blocking: the look (title, colour) is in the first HTML, so nothing repaints.
    let look = Resource::new_blocking(move || bot_id.clone(), api::widget_config);
    view! {
        <Suspense fallback=|| view! { <div class="widget widget-status"><p>"Loading the chat…"</p></div> }>
            {move || Suspend::new(async move {
                match look.await {
                    Ok(look) => view! { <Widget look/> }.into_any(),
                    Err(err) => view! { <Unavailable err/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// No widget to show: an unknown chatbot, or Baton could not be reached.
#[component]
fn Unavailable(err: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let status = match err {
            AppError::NotFound => http::StatusCode::NOT_FOUND,
            _ => http::StatusCode::SERVICE_UNAVAILABLE,
        };
        response.set_status(status);
    }
    let title = "Chat unavailable";
    let text = match err {
        AppError::NotFound => "This chat does not exist. Check the embed tag's data-bot.",
        _ => "The chat could not load. Please try again in a moment.",
    };
    view! {
        <Title text=title/>
        <div class="widget widget-status" role="alert">
            <h1 class="widget-title">{title}</h1>
            <p>{text}</p>
        </div>
    }
}

#[component]
fn Widget(look: WidgetLook) -> impl IntoView {
    let chat = Chat::new(look.bot_id.clone());
    // In the browser only: talk to the host page, pick up this browser's conversation.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            frame::attach(chat);
            client::resume(chat);
        }
    });
    let started = move || chat.messages.with(|m| !m.is_empty());
    let ended = move || chat.state.get() == Some(StateKind::HandedOff);
    let typing = move || {
        chat.typing.get().map(|author| {
            let who = match author.kind {
                AuthorKind::Agent => author.name.unwrap_or_else(|| "The agent".to_owned()),
                _ => "The assistant".to_owned(),
            };
            format!("{who} is typing…")
        })
    };
    let connection = move || match chat.connection.get() {
        Connection::Offline => Some("Connection lost. Reconnecting…"),
        _ => None,
    };
    let brand = format!("--brand: {}; --brand-ink: {};", look.color, look.color_ink);
    let initial = look.title.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default();
    let greeting = look.greeting.clone();
    let closed = look.closed;
    let list = NodeRef::<leptos::html::Ol>::new();
    let follow = follow_newest(list, move || {
        chat.messages.track();
        chat.outgoing.track();
        chat.typing.track();
        chat.state.track();
    });
    // Opened (again): the visitor sees the newest, whatever was read before.
    Effect::new(move |_| {
        if chat.open.get() {
            follow.jump();
        }
    });
    view! {
        <Title text=look.title.clone()/>
        <div class="widget" data-bot=look.bot_id.clone() style=brand>
            <header class="widget-header">
                <div class="widget-avatar" aria-hidden="true">{initial}</div>
                <div class="widget-heading">
                    <h1 class="widget-title">{look.title.clone()}</h1>
                    <p class="widget-subtitle">
                        {move || if closed { "Chat closed" } else { subtitle(chat.state.get()) }}
                    </p>
                </div>
                <Show when=move || chat.embedded.get()>
                    <button type="button" class="widget-close" aria-label="Close chat" on:click=move |_| {
                        #[cfg(feature = "hydrate")]
                        frame::close();
                    }>
                        "×"
                    </button>
                </Show>
            </header>
            // Focusable, so the conversation scrolls from the keyboard too.
            <ol
                class="messages"
                tabindex="0"
                node_ref=list
                aria-live="polite"
                aria-relevant="additions"
                aria-label="Conversation"
                on:scroll=move |_| follow.scrolled()
            >
                <Show when=move || !started() && !greeting.is_empty()>
                    <li class="message bot">
                        <span class="bubble">{look.greeting.clone()}</span>
                    </li>
                </Show>
                <For each=move || chat.messages.get() key=|m| m.seq let:message>
                    <MessageItem message/>
                </For>
                <For each=move || chat.outgoing.get() key=|o| (o.client_id.clone(), o.waiting) let:outgoing>
                    <li class="message visitor pending" class:waiting=outgoing.waiting>
                        <span class="bubble">{outgoing.text}</span>
                        <span class="meta">{if outgoing.waiting { "Waiting to send" } else { "Sending…" }}</span>
                    </li>
                </For>
            </ol>
            <JumpToNewest follow/>
            <p class="typing" aria-live="polite">{typing}</p>
            <p class="notice" role="status">{move || chat.notice.get()}</p>
            <p class="connection" role="status">{connection}</p>
            {if closed {
                view! {
                    <div class="ended" role="status">
                        <p>"This chat is closed: the team no longer takes conversations here."</p>
                    </div>
                }
                    .into_any()
            } else {
                view! {
                    <Show when=ended fallback=move || view! { <Composer chat/> }>
                        <Ended chat/>
                    </Show>
                }
                    .into_any()
            }}
        </div>
    }
}

fn subtitle(state: Option<StateKind>) -> &'static str {
    match state {
        Some(StateKind::NeedsHuman) => "Waiting for a team member to join",
        Some(StateKind::Claimed) => "Chatting with our team",
        Some(StateKind::HandedOff) => "Passed to our support team",
        _ => "AI assistant · a person can join when needed",
    }
}

/// One message: the visitor's own on the right, the bot's and the agent's (with
/// the agent's name) on the left, system notes centred and quiet. Text only, never HTML.
#[component]
fn MessageItem(message: Message) -> impl IntoView {
    let kind = message.author.kind;
    let class = match kind {
        AuthorKind::Visitor => "message visitor",
        AuthorKind::Bot => "message bot",
        AuthorKind::Agent => "message agent",
        AuthorKind::System => "message system",
    };
    let name = (kind == AuthorKind::Agent).then(|| message.author.name.clone().unwrap_or_else(|| "Agent".to_owned()));
    let time = crate::browser::time_of(&message.at);
    view! {
        <li class=class data-seq=message.seq>
            {name.map(|name| view! { <span class="author">{name}</span> })}
            <span class="bubble">{message.text}</span>
            {(kind != AuthorKind::System).then(|| view! { <time class="meta" datetime=message.at.clone()>{time}</time> })}
        </li>
    }
}

/// The conversation went to the help desk: it has ended here; the visitor may start another.
#[component]
fn Ended(chat: Chat) -> impl IntoView {
    let start_over = move |_| {
        #[cfg(feature = "hydrate")]
        client::start_over(chat);
        #[cfg(not(feature = "hydrate"))]
        let _ = chat;
    };
    view! {
        <div class="ended" role="status">
            <p>"This chat has ended. Our support team has your request and will reply by email."</p>
            <button type="button" class="primary" on:click=start_over>"Start a new conversation"</button>
        </div>
    }
}

/// The visitor's input: a text box (Enter sends, Shift+Enter adds a line), or an
/// email field while the bot is asking for the visitor's email.
#[component]
fn Composer(chat: Chat) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    // The ask the visitor chose to answer in words rather than with the email field.
    let declined_ask = RwSignal::new(None::<i64>);
    let asking_email = move || chat.asking_email().is_some_and(|seq| declined_ask.get() != Some(seq));
    // Invisible-only text counts as empty, as the server reads it.
    let chars = Memo::new(move |_| draft.with(|d| if is_blank(d) { 0 } else { d.trim().chars().count() }));
    let too_long = move || chars.get() > MAX_MESSAGE_CHARS;
    let can_send = move || chars.get() > 0 && !too_long();
    let email_error = RwSignal::new(None::<String>);
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
    let text_box = NodeRef::<leptos::html::Textarea>::new();
    let email_box = NodeRef::<leptos::html::Input>::new();
    // Focus follows the widget opening, and the switch between the two inputs.
    Effect::new(move |_| {
        if !chat.open.get() {
            return;
        }
        if asking_email() {
            if let Some(input) = email_box.get() {
                let _ = input.focus();
            }
        } else if let Some(input) = text_box.get() {
            let _ = input.focus();
        }
    });
    let send = move || {
        let text = if asking_email() {
            // Any text holding exactly one address will do ("Sure, it's jordan@acme.com"),
            // as the server reads a message: the address alone is sent.
            let problem = match email_in(&draft.get_untracked()) {
                EmailAnswer::Found(email) => Ok(email.as_str().to_owned()),
                EmailAnswer::Several(_) => Err("Please give just one email address.".to_owned()),
                EmailAnswer::Invalid(why) => Err(format!("Please check the address: {why}.")),
                EmailAnswer::Missing => Err("Please type your email address, like you@example.com.".to_owned()),
            };
            match problem {
                Ok(email) => {
                    email_error.set(None);
                    email
                }
                Err(why) => {
                    email_error.set(Some(why));
                    return;
                }
            }
        } else if can_send() {
            draft.get_untracked().trim().to_owned()
        } else {
            return;
        };
        draft.set(String::new());
        #[cfg(feature = "hydrate")]
        client::submit(chat, text);
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    };
    let typed = move |value: String| {
        draft.set(value);
        #[cfg(feature = "hydrate")]
        client::typing(chat);
    };
    view! {
        <form
            class="composer"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
        >
            <Show
                when=asking_email
                fallback=move || {
                    view! {
                        <label class="visually-hidden" for="composer-text">"Message"</label>
                        <textarea
                            id="composer-text"
                            node_ref=text_box
                            rows="1"
                            placeholder="Type your message…"
                            prop:value=move || draft.get()
                            on:input=move |ev| typed(event_target_value(&ev))
                            on:keydown=move |ev| {
                                // Enter sends; Shift+Enter is a new line.
                                if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                                    ev.prevent_default();
                                    send();
                                }
                            }
                        ></textarea>
                        <button type="submit" class="send" disabled=move || !can_send()>"Send"</button>
                        <p class="char-hint" class:over=too_long aria-live="polite">{hint}</p>
                    }
                }
            >
                <label class="visually-hidden" for="composer-email">"Your email"</label>
                <input
                    id="composer-email"
                    node_ref=email_box
                    type="text"
                    autocomplete="email"
                    inputmode="email"
                    placeholder="you@example.com"
                    aria-invalid=move || email_error.get().is_some().to_string()
                    aria-describedby="composer-email-error"
                    prop:value=move || draft.get()
                    on:input=move |ev| {
                        email_error.set(None);
                        typed(event_target_value(&ev));
                    }
                />
                <button type="submit" class="send" disabled=move || draft.with(|d| d.trim().is_empty())>
                    "Send email"
                </button>
                <p id="composer-email-error" class="char-hint over" role="alert">{move || email_error.get()}</p>
                <button
                    type="button"
                    class="link-button"
                    on:click=move |_| {
                        email_error.set(None);
                        declined_ask.set(chat.asking_email());
                    }
                >
                    "Reply with a message instead"
                </button>
            </Show>
        </form>
    }
}
