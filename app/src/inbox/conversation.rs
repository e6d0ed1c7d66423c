//! The open conversation: the handoff packet (why, what the visitor needs, who they
//! are) on top, the full transcript with the team's private notes woven in, and the
//! composer (reply or note), with Take over, Suggest a reply and Resolve.

use leptos::prelude::*;

use super::{
    desk::{timeline, visitor_label, ComposerMode, Desk, Entry, Load, OutgoingReply, Suggestion},
    reason_label,
};
use crate::{
    browser,
    domain::{
        clock, redact::has_card_number, text::is_blank, AuthorKind, ConversationSummary, Message, Note, StateKind,
        CHAR_HINT_FROM, MAX_MESSAGE_CHARS,
    },
    layout::{follow_newest, Dialog, JumpToNewest},
};

#[component]
pub fn ConversationPane(desk: Desk) -> impl IntoView {
    move || {
        if desk.selected.with(Option::is_none) {
            return view! {
                <div class="pane-empty">
                    <h2>"No conversation open"</h2>
                    <p class="muted">"Pick one from the list. Press " <kbd>"j"</kbd> " to open the first, " <kbd>"?"</kbd> " for all shortcuts."</p>
                </div>
            }
            .into_any();
        }
        match (desk.open_load.get(), desk.open.with(Option::is_some)) {
            (Load::Failed(why), _) => view! {
                <div class="pane-empty" role="alert">
                    <h2>"This conversation could not open"</h2>
                    <p class="error">{why}</p>
                    <button type="button" on:click=move |_| desk.select(None)>"Back to the list"</button>
                </div>
            }
            .into_any(),
            (_, true) => view! { <Open desk/> }.into_any(),
            _ => view! { <p class="muted pane-empty">"Loading the conversation…"</p> }.into_any(),
        }
    }
}

#[component]
fn Open(desk: Desk) -> impl IntoView {
    let conversation = move || desk.open.get();
    let state = move || desk.open.with(|c| c.as_ref().map(|c| c.state));
    // The visitor's messages carry the name Baton knows, as the header does.
    let visitor_name = move || desk.open.with_untracked(|c| c.as_ref().map(visitor_label)).unwrap_or_default();
    let list = NodeRef::<leptos::html::Ol>::new();
    let follow = follow_newest(list, move || {
        desk.messages.track();
        desk.notes.track();
        desk.outgoing.track();
        desk.typing.track();
        desk.open.track();
    });
    view! {
        <header class="conversation-head">
            <button type="button" class="back" aria-label="Back to the list" on:click=move |_| desk.select(None)>"←"</button>
            <div class="head-who">
                <h2>{move || conversation().map(|c| visitor_label(&c))}</h2>
                <p class="muted">{move || conversation().map(|c| contact_line(&c))}</p>
            </div>
            <span class=move || format!("state-pill state-{}", state().map(|s| s.as_str()).unwrap_or_default())>
                {move || conversation().map(|c| state_line(&c, &desk.my_id(), desk.now_ms.get()))}
            </span>
            <div class="head-actions">
                <Show when=move || desk.allowed().claim>
                    <button type="button" class="primary" disabled=move || desk.claiming.get() on:click=move |_| desk.claim()>
                        {move || if desk.claiming.get() { "Taking over…" } else { "Take over" }}
                    </button>
                </Show>
                <Show when=move || desk.allowed().resolve>
                    <button type="button" on:click=move |_| desk.confirm_resolve.set(true)>"Resolve"</button>
                </Show>
            </div>
        </header>
        {move || desk.notice.get().map(|notice| view! {
            <p class="notice" class:error=notice.error role=if notice.error { "alert" } else { "status" }>{notice.text}</p>
        })}
        {move || conversation().map(|c| view! { <Packet conversation=c/> })}
        // Focusable, so the transcript scrolls from the keyboard too.
        <ol
            class="transcript"
            tabindex="0"
            node_ref=list
            aria-label="Transcript"
            aria-live="polite"
            aria-relevant="additions"
            on:scroll=move |_| follow.scrolled()
        >
            <For
                each=move || timeline(&desk.messages.get(), &desk.notes.get())
                key=|entry| match entry {
                    Entry::Message(m) => format!("m{}", m.seq),
                    Entry::Note(n) => format!("n{}", n.id),
                }
                let:entry
            >
                {match entry {
                    Entry::Message(message) => view! { <MessageLine message visitor=visitor_name()/> }.into_any(),
                    Entry::Note(note) => view! { <NoteLine note/> }.into_any(),
                }}
            </For>
            <For each=move || desk.outgoing.get() key=|o| (o.client_id.clone(), o.failed.clone()) let:reply>
                <PendingLine desk reply/>
            </For>
        </ol>
        <JumpToNewest follow/>
        <p class="typing" aria-live="polite">{move || desk.typing.get().map(|who| format!("{who} is typing…"))}</p>
        <SuggestionCard desk/>
        <Composer desk/>
        <Show when=move || desk.confirm_resolve.get()>
            <ConfirmResolve desk/>
        </Show>
    }
}

fn contact_line(conversation: &ConversationSummary) -> String {
    let email = conversation.visitor.email.clone().unwrap_or_else(|| "no email given".to_owned());
    format!("{email} · chatbot {}", conversation.bot_id)
}

fn state_line(conversation: &ConversationSummary, me: &str, now_ms: i64) -> String {
    match conversation.state {
        StateKind::NeedsHuman => {
            let waited =
                conversation.escalated_at.as_deref().and_then(clock::epoch_ms).map(|at| clock::waited(at, now_ms));
            match waited {
                Some(waited) => format!("Needs human · waiting {waited}"),
                None => "Needs human".to_owned(),
            }
        }
        StateKind::Claimed => match &conversation.agent {
            Some(agent) if agent.id == me => "You are handling this".to_owned(),
            Some(agent) => format!("{} is handling this", agent.name),
            None => "Claimed".to_owned(),
        },
        StateKind::Resolved => "Resolved · the AI answers again".to_owned(),
        StateKind::Bot => "The AI is answering".to_owned(),
        StateKind::HandedOff => match &conversation.dispatch {
            Some(dispatch) => dispatch.describe(),
            None => "Sent to the help desk".to_owned(),
        },
    }
}

/// The handoff packet: why it was escalated, what the visitor needs, who they are.
#[component]
fn Packet(conversation: ConversationSummary) -> impl IntoView {
    let escalated = conversation.reason.is_some() || conversation.summary.is_some();
    escalated.then(|| {
        view! {
            <section class="packet" aria-label="Handoff summary">
                {conversation.reason.map(|reason| view! { <span class="reason">{reason_label(reason)}</span> })}
                <p class="packet-summary">{conversation.summary.clone().unwrap_or_else(|| "No summary was written.".to_owned())}</p>
                <p class="muted small">
                    {conversation.visitor.name.clone().map(|name| format!("{name} · "))}
                    {conversation.visitor.email.clone().unwrap_or_else(|| "no email given".to_owned())}
                </p>
                {conversation.dispatch.clone().map(|dispatch| {
                    let failed = dispatch.failed();
                    view! {
                        <div class="dispatch" class:failed=failed role=failed.then_some("alert")>
                            <p>{dispatch.describe()}</p>
                            {failed.then(|| view! {
                                <p class="muted small">"An admin can send it again from Settings → Integrations."</p>
                            })}
                            {dispatch.ticket_url.map(|url| view! {
                                <a href=url target="_blank" rel="noopener noreferrer">"Open the ticket"</a>
                            })}
                        </div>
                    }
                })}
            </section>
        }
    })
}

#[component]
fn MessageLine(message: Message, visitor: String) -> impl IntoView {
    let kind = message.author.kind;
    let who = match kind {
        AuthorKind::Visitor => message.author.name.clone().unwrap_or(visitor),
        AuthorKind::Bot => format!("{} (AI)", message.author.name.clone().unwrap_or_else(|| "Assistant".to_owned())),
        AuthorKind::Agent => message.author.name.clone().unwrap_or_else(|| "Agent".to_owned()),
        AuthorKind::System => String::new(),
    };
    let time = browser::time_of(&message.at);
    let delivered = (kind == AuthorKind::Agent).then_some("Sent");
    let card = kind == AuthorKind::Visitor && has_card_number(&message.text);
    view! {
        <li class=format!("line {}", kind.as_str()) data-seq=message.seq>
            {(kind != AuthorKind::System).then(|| view! { <span class="line-who">{who}</span> })}
            <span class="bubble">{message.text}</span>
            {(kind != AuthorKind::System).then(|| view! {
                <span class="line-meta">
                    <time datetime=message.at.clone()>{time}</time>
                    {delivered.map(|d| view! { <span class="delivery sent">" · " {d}</span> })}
                    {card.then(|| view! {
                        <span class="line-flag">" · card number: removed before the help desk and the AI see it"</span>
                    })}
                </span>
            })}
        </li>
    }
}

/// An internal note: unmistakably private.
#[component]
fn NoteLine(note: Note) -> impl IntoView {
    let time = browser::time_of(&note.at);
    view! {
        <li class="line note" data-note=note.id.clone()>
            <span class="line-who">
                <Lock/>
                " Internal note · " {note.author.name.clone()} " · only your team sees this"
            </span>
            <span class="bubble">{note.text}</span>
            <span class="line-meta"><time datetime=note.at.clone()>{time}</time></span>
        </li>
    }
}

/// The padlock that marks what only the team sees (drawn, so no emoji font is needed).
#[component]
fn Lock() -> impl IntoView {
    view! {
        <svg class="lock" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
            <path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" stroke-width="1.8"/>
            <rect x="3" y="7" width="10" height="8" rx="1.5" fill="currentColor"/>
        </svg>
    }
}

/// A reply on its way, or one that failed (with Retry).
#[component]
fn PendingLine(desk: Desk, reply: OutgoingReply) -> impl IntoView {
    let (retry_id, discard_id) = (reply.client_id.clone(), reply.client_id.clone());
    let failed = reply.failed.is_some();
    view! {
        <li class="line agent pending" class:failed=failed>
            <span class="bubble">{reply.text}</span>
            <span class="line-meta">
                {match reply.failed {
                    None => view! { <span class="delivery">"Sending…"</span> }.into_any(),
                    Some(why) => view! {
                        <span class="delivery failed" role="alert">"Not sent: " {why} " "</span>
                        <button type="button" class="link" on:click=move |_| desk.retry(retry_id.clone())>"Retry"</button>
                        " "
                        <button type="button" class="link" on:click=move |_| desk.discard(discard_id.clone())>"Edit"</button>
                    }
                    .into_any(),
                }}
            </span>
        </li>
    }
}

/// The AI's draft, offered when the conversation opened.
#[component]
fn SuggestionCard(desk: Desk) -> impl IntoView {
    move || {
        match desk.suggestion.get() {
        Suggestion::Offered(text) => Some(
            view! {
                <aside class="suggestion" aria-label="Suggested reply">
                    <p class="suggestion-label">"Suggested reply"</p>
                    <p class="suggestion-text">{text}</p>
                    <div class="suggestion-actions">
                        <button type="button" class="primary" on:click=move |_| desk.use_suggestion()>"Use suggestion"</button>
                        <button type="button" on:click=move |_| desk.suggestion.set(Suggestion::None)>"Dismiss"</button>
                    </div>
                </aside>
            }
            .into_any(),
        ),
        Suggestion::Failed(why) => Some(
            view! { <p class="notice error suggestion-failed" role="alert">"No suggestion: " {why}</p> }.into_any(),
        ),
        Suggestion::None | Suggestion::Drafting => None,
    }
    }
}

/// Reply (to the visitor, once you hold the chat) or Internal note (any time).
#[component]
fn Composer(desk: Desk) -> impl IntoView {
    let text_box = NodeRef::<leptos::html::Textarea>::new();
    // Focus on request (take over, a suggestion used, a shortcut, a tab), not on
    // opening: the list's keyboard shortcuts keep working until the agent writes.
    Effect::new(move |asked_before: Option<()>| {
        desk.focus_composer.track();
        desk.mode.track();
        if asked_before.is_some() {
            if let Some(input) = text_box.get_untracked() {
                let _ = input.focus();
            }
        }
    });
    // Invisible-only text counts as empty, as the server reads it.
    let chars = Memo::new(move |_| desk.draft.with(|d| if is_blank(d) { 0 } else { d.trim().chars().count() }));
    let too_long = move || chars.get() > MAX_MESSAGE_CHARS;
    let note = move || desk.mode.get() == ComposerMode::Note;
    let state = move || desk.open.with(|c| c.as_ref().map(|c| c.state));
    let locked = move || !note() && !desk.allowed().reply;
    let can_send = move || chars.get() > 0 && !too_long() && !locked();
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
    let locked_text = move || match state() {
        Some(StateKind::NeedsHuman) => "Take over to reply to the visitor. Notes are open to everyone on the team.",
        Some(StateKind::Claimed) => "Another team member is handling this chat. You can still add a note.",
        _ => "The AI is handling this chat. You can still add a note.",
    };
    let placeholder = move || if note() { "Write a note for your team…" } else { "Reply to the visitor…" };
    view! {
        <form
            class=move || if note() { "inbox-composer note-mode" } else { "inbox-composer" }
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                if can_send() {
                    desk.send_draft();
                }
            }
        >
            <div class="composer-tabs">
                // The tab list holds the two tabs only; the suggestion button sits beside it.
                <div class="tab-list" role="tablist" aria-label="Write">
                    <button
                        type="button"
                        role="tab"
                        aria-selected=move || (!note()).to_string()
                        on:click=move |_| desk.mode.set(ComposerMode::Reply)
                    >
                        "Reply"
                    </button>
                    <button
                        type="button"
                        role="tab"
                        aria-selected=move || note().to_string()
                        on:click=move |_| desk.mode.set(ComposerMode::Note)
                    >
                        <Lock/>
                        " Internal note"
                    </button>
                </div>
                <span class="spacer"></span>
                <button
                    type="button"
                    class="link"
                    disabled=move || desk.suggestion.get() == Suggestion::Drafting
                    on:click=move |_| desk.draft_suggestion(true)
                >
                    {move || if desk.suggestion.get() == Suggestion::Drafting { "Drafting…" } else { "Suggest a reply" }}
                </button>
            </div>
            <Show when=locked>
                <p class="composer-locked muted">{locked_text}</p>
            </Show>
            <Show when=note>
                <p class="note-warning">"Only your team sees notes. They never reach the visitor."</p>
            </Show>
            <label class="visually-hidden" for="inbox-composer-text">
                {move || if note() { "Internal note" } else { "Reply" }}
            </label>
            <textarea
                id="inbox-composer-text"
                node_ref=text_box
                rows="3"
                placeholder=placeholder
                prop:value=move || desk.draft.get()
                on:input=move |ev| {
                    desk.draft.set(event_target_value(&ev));
                    desk.typed();
                }
                on:keydown=move |ev| {
                    // Enter sends; Shift+Enter is a new line.
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        if can_send() {
                            desk.send_draft();
                        }
                    }
                }
            ></textarea>
            <div class="composer-foot">
                <span class="char-hint" class:over=too_long aria-live="polite">{hint}</span>
                <button type="submit" class="primary" disabled=move || !can_send()>
                    {move || if note() { "Add note" } else { "Send" }}
                </button>
            </div>
        </form>
    }
}

/// Resolve asks first, and says what happens next.
#[component]
fn ConfirmResolve(desk: Desk) -> impl IntoView {
    let who = desk.open.with_untracked(|c| c.as_ref().map(visitor_label)).unwrap_or_default();
    view! {
        <Dialog title="Resolve this conversation?" close=move || desk.confirm_resolve.set(false)>
            <p>
                "The AI assistant takes the chat back: it answers " {who} "'s next message. "
                "The conversation moves to Resolved, with its transcript and notes."
            </p>
            <div class="dialog-actions">
                <button type="button" on:click=move |_| desk.confirm_resolve.set(false)>"Cancel"</button>
                <button type="button" class="primary" disabled=move || desk.resolving.get() on:click=move |_| desk.resolve()>
                    {move || if desk.resolving.get() { "Resolving…" } else { "Resolve and hand back to the AI" }}
                </button>
            </div>
        </Dialog>
    }
}
