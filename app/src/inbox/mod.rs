//! The agents' Inbox at `/inbox`: sign in, then the views (Needs human, Mine, Open,
//! Resolved, All) beside the open conversation, all kept live by `/live/inbox`.

mod account;
pub mod api;
mod conversation;
pub mod desk;
mod list;
#[cfg(feature = "hydrate")]
mod live;
mod login;

use leptos::{ev, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::api::{current_member, logout, SessionResponse},
    domain::{EscalationReason, MemberView},
    layout::{AppFrame, Dialog, ErrorCard},
};
use api::InboxFilter;
use desk::{ComposerMode, Connection, Desk};
pub use login::LoginForm;

#[component]
pub fn InboxPage() -> impl IntoView {
    // Bumped after sign-in and sign-out (or an ended session) so the page asks again.
    let session = RwSignal::new(0u32);
    let member = Resource::new(move || session.get(), |_| current_member());
    view! {
        <AppFrame wide=true>
            <Transition fallback=|| view! { <p class="muted inbox-loading">"Loading…"</p> }>
                {move || {
                    member
                        .get()
                        .map(|result| match result {
                            Ok(SessionResponse { member: Some(member) }) => {
                                view! { <SignedIn member session/> }.into_any()
                            }
                            Ok(SessionResponse { member: None }) => {
                                view! {
                                    <Title text="Sign in"/>
                                    <LoginForm session/>
                                }
                                    .into_any()
                            }
                            Err(err) => view! { <ErrorCard err retry="/inbox"/> }.into_any(),
                        })
                }}
            </Transition>
        </AppFrame>
    }
}

/// The signed-in Inbox: views and list on the left, the open conversation on the right
/// (one at a time on a narrow screen).
#[component]
fn SignedIn(member: MemberView, session: RwSignal<u32>) -> impl IntoView {
    let query = use_query_map();
    let (view, selected) = query.with_untracked(|q| {
        let view = q.get("view").as_deref().and_then(InboxFilter::parse).unwrap_or(InboxFilter::NeedsHuman);
        (view, q.get("c").filter(|id| !id.is_empty()))
    });
    let desk = Desk::new(member.clone(), view, selected, session);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        live::start(desk, session);
    });
    let shortcuts_open = RwSignal::new(false);
    let password_open = RwSignal::new(false);
    Effect::new(move |_| {
        let handle = window_event_listener(ev::keydown, move |event| shortcut(desk, shortcuts_open, &event));
        on_cleanup(move || handle.remove());
    });
    let sign_out = Action::new(|_: &()| logout());
    Effect::new(move |_| {
        if sign_out.value().get().is_some() {
            session.update(|n| *n += 1);
        }
    });
    let title = move || match desk.counts.get().map(|c| c.needs_human) {
        Some(waiting) if waiting > 0 => format!("({waiting}) Inbox"),
        _ => "Inbox".to_owned(),
    };
    view! {
        <Title text=title/>
        <div class="inbox" class:showing=move || desk.selected.with(Option::is_some)>
            <aside class="inbox-side" aria-label="Conversations">
                <div class="inbox-me">
                    <div>
                        <strong>{member.name.clone()}</strong>
                        <span class="muted">" · " {member.role.as_str()}</span>
                    </div>
                    <ConnectionBadge desk/>
                </div>
                <div class="inbox-tools">
                    <NotificationToggle desk/>
                    <button type="button" class="link" on:click=move |_| shortcuts_open.update(|open| *open = !*open)>
                        "Shortcuts"
                    </button>
                    <button type="button" class="link" on:click=move |_| password_open.set(true)>"Change password"</button>
                    <button type="button" class="link" on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
                </div>
                <list::Views desk/>
                <list::ConversationList desk/>
            </aside>
            <section class="inbox-main" aria-label="Conversation">
                <conversation::ConversationPane desk/>
            </section>
        </div>
        <Show when=move || shortcuts_open.get()>
            <Shortcuts close=move || shortcuts_open.set(false)/>
        </Show>
        <Show when=move || password_open.get()>
            <account::ChangePassword close=move || password_open.set(false)/>
        </Show>
    }
}

#[component]
fn ConnectionBadge(desk: Desk) -> impl IntoView {
    let label = move || match desk.connection.get() {
        Connection::Connecting => ("Connecting…", "connecting"),
        Connection::Live => ("Live", "live"),
        Connection::Offline => ("Reconnecting…", "offline"),
    };
    view! {
        <span class=move || format!("connection-badge {}", label().1) role="status">{move || label().0}</span>
    }
}

/// Lets the agent turn on system notifications for new escalations.
#[component]
fn NotificationToggle(desk: Desk) -> impl IntoView {
    view! {
        {move || match desk.notifications.get() {
            None => {
                view! {
                    <button type="button" class="link" on:click=move |_| desk.ask_for_notifications()>
                        "Turn on notifications"
                    </button>
                }
                    .into_any()
            }
            Some(true) => view! { <span class="muted small">"Notifications on"</span> }.into_any(),
            Some(false) => {
                view! {
                    <span class="muted small" title="Allow notifications for this site in the browser's settings">
                        "Notifications blocked"
                    </span>
                }
                    .into_any()
            }
        }}
    }
}

/// The keyboard shortcuts, as `?` or the Shortcuts button shows them.
const SHORTCUTS: [(&str, &str); 10] = [
    ("j / k", "Next / previous conversation"),
    ("1 – 5", "Needs human, Mine, Open, Resolved, All"),
    ("t", "Take over"),
    ("r", "Reply"),
    ("n", "Internal note"),
    ("s", "Suggest a reply"),
    ("e", "Resolve"),
    ("Enter", "Send (Shift+Enter: new line)"),
    ("Esc", "Close, or back to the list"),
    ("?", "Show these shortcuts"),
];

#[component]
fn Shortcuts(close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    view! {
        <Dialog title="Keyboard shortcuts" close>
            <dl class="shortcuts">
                {SHORTCUTS.into_iter().map(|(keys, what)| view! { <dt><kbd>{keys}</kbd></dt><dd>{what}</dd> }).collect_view()}
            </dl>
            <button type="button" class="primary" on:click=move |_| close()>"Close"</button>
        </Dialog>
    }
}

/// Keys that work anywhere but in a text field (there, only Escape).
fn shortcut(desk: Desk, shortcuts_open: RwSignal<bool>, event: &leptos::web_sys::KeyboardEvent) {
    if event.ctrl_key() || event.meta_key() || event.alt_key() || event.is_composing() {
        return;
    }
    let key = event.key();
    if key == "Escape" {
        if shortcuts_open.get_untracked() {
            shortcuts_open.set(false);
        } else if desk.confirm_resolve.get_untracked() {
            desk.confirm_resolve.set(false);
        } else if !typing_in_a_field(event) {
            desk.select(None);
        }
        return;
    }
    if typing_in_a_field(event) {
        return;
    }
    let open = desk.selected.with_untracked(Option::is_some);
    match key.as_str() {
        "j" | "ArrowDown" => desk.step(1),
        "k" | "ArrowUp" => desk.step(-1),
        "1" | "2" | "3" | "4" | "5" => {
            let index = key.parse::<usize>().unwrap_or(1) - 1;
            if let Some(view) = InboxFilter::ALL.get(index) {
                desk.show_view(*view);
            }
        }
        "t" if open => desk.claim(),
        "r" if open => {
            desk.mode.set(ComposerMode::Reply);
            desk.focus_composer.update(|n| *n += 1);
        }
        "n" if open => {
            desk.mode.set(ComposerMode::Note);
            desk.focus_composer.update(|n| *n += 1);
        }
        "s" if open => desk.draft_suggestion(true),
        "e" if open => desk.confirm_resolve.set(true),
        "?" => shortcuts_open.set(true),
        _ => return,
    }
    event.prevent_default();
}

fn typing_in_a_field(event: &leptos::web_sys::KeyboardEvent) -> bool {
    use leptos::wasm_bindgen::JsCast;
    event
        .target()
        .and_then(|target| target.dyn_into::<leptos::web_sys::Element>().ok())
        .is_some_and(|element| matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

pub fn reason_label(reason: EscalationReason) -> &'static str {
    match reason {
        EscalationReason::ExplicitRequest => "Asked for a person",
        EscalationReason::Frustration => "Frustrated",
        EscalationReason::CannotResolve => "AI could not resolve",
    }
}
