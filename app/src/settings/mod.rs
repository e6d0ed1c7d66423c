//! The admins' Settings page at `/settings`: sign in (the Inbox's form), pick a
//! chatbot, then its sections in the sidebar. Agents are told it is for admins.

pub mod api;
mod integrations;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    auth::api::{current_member, logout, SessionResponse},
    browser,
    domain::{MemberView, Role},
    inbox::LoginForm,
    layout::{AppFrame, ErrorCard},
};
use api::{list_chatbots, ChatbotItem};

#[component]
pub fn SettingsPage() -> impl IntoView {
    // Bumped after sign-in and sign-out so the page asks again who is signed in.
    let session = RwSignal::new(0u32);
    let member = Resource::new(move || session.get(), |_| current_member());
    view! {
        <Title text="Settings"/>
        <AppFrame>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    member
                        .get()
                        .map(|result| match result {
                            Ok(SessionResponse { member: Some(member) }) if member.role == Role::Admin => {
                                view! { <Console member session/> }.into_any()
                            }
                            Ok(SessionResponse { member: Some(member) }) => view! { <AdminsOnly member/> }.into_any(),
                            Ok(SessionResponse { member: None }) => view! { <LoginForm session/> }.into_any(),
                            Err(err) => view! { <ErrorCard err retry="/settings"/> }.into_any(),
                        })
                }}
            </Transition>
        </AppFrame>
    }
}

#[component]
fn AdminsOnly(member: MemberView) -> impl IntoView {
    view! {
        <section class="card narrow" role="alert">
            <h1>"Settings is for admins"</h1>
            <p>
                "You are signed in as " <strong>{member.name}</strong> ", an agent. "
                "Chatbots, help desks and the team are managed by your workspace's admins: ask one of them "
                "for a change, or to make you an admin."
            </p>
            <p><a class="button primary" href="/inbox">"Go to the Inbox"</a></p>
        </section>
    }
}

/// The signed-in admin's console: the chatbot picker, the sidebar and the section.
#[component]
fn Console(member: MemberView, session: RwSignal<u32>) -> impl IntoView {
    let chatbots = Resource::new(|| (), |_| list_chatbots());
    let asked = use_query_map().with_untracked(|q| q.get("bot"));
    let sign_out = Action::new(|_: &()| logout());
    Effect::new(move |_| {
        if sign_out.value().get().is_some() {
            session.update(|n| *n += 1);
        }
    });
    view! {
        <div class="settings-head">
            <h1>"Settings"</h1>
            <p class="muted">
                {member.name} " · admin · "
                <button type="button" class="link" on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
            </p>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading chatbots…"</p> }>
            {move || {
                chatbots
                    .get()
                    .map(|result| match result {
                        Ok(list) if list.chatbots.is_empty() => {
                            view! {
                                <section class="card">
                                    <p>"This workspace has no chatbot yet."</p>
                                </section>
                            }
                                .into_any()
                        }
                        Ok(list) => view! { <Chatbots chatbots=list.chatbots asked=asked.clone()/> }.into_any(),
                        Err(err) => {
                            view! { <p class="error" role="alert">"The chatbots could not load: " {err.to_string()}</p> }
                                .into_any()
                        }
                    })
            }}
        </Transition>
    }
}

/// The picker and, for the chosen chatbot, its sidebar and section. The choice lives
/// in the address (`?bot=`), so a reload or a shared link opens the same chatbot.
#[component]
fn Chatbots(chatbots: Vec<ChatbotItem>, asked: Option<String>) -> impl IntoView {
    let first = chatbots.first().map(|c| c.bot_id.clone()).unwrap_or_default();
    let start = asked.filter(|id| chatbots.iter().any(|c| &c.bot_id == id)).unwrap_or(first);
    let bot = RwSignal::new(start);
    let choose = move |id: String| {
        browser::replace_query(&format!("bot={id}"));
        bot.set(id);
    };
    view! {
        <div class="settings">
            <aside class="settings-side">
                <label for="settings-bot">"Chatbot"</label>
                <select id="settings-bot" on:change=move |ev| choose(event_target_value(&ev))>
                    {chatbots
                        .into_iter()
                        .map(|c| {
                            let selected = c.bot_id == bot.get_untracked();
                            let label = format!("{} ({})", c.name, c.bot_id);
                            view! { <option value=c.bot_id selected=selected>{label}</option> }
                        })
                        .collect_view()}
                </select>
                <nav aria-label="Chatbot settings">
                    <ul>
                        <li><a href=move || format!("/settings?bot={}", bot.get()) aria-current="page">"Integrations"</a></li>
                    </ul>
                </nav>
            </aside>
            <section class="settings-main" aria-label="Integrations">
                {move || view! { <integrations::Integrations bot_id=bot.get()/> }}
            </section>
        </div>
    }
}
