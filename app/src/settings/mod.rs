//! The admins' Settings page at `/settings`: sign in (the Inbox's form), pick a
//! chatbot, then its sections in the sidebar. Agents are told it is for admins.

pub mod api;
mod integrations;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    auth::api::{current_member, logout},
    browser,
    domain::{helpdesk::Integrations, MemberView, Role},
    error::AppError,
    inbox::LoginForm,
    layout::{AppFrame, ErrorCard},
};
use api::{get_integrations, list_chatbots, ChatbotItem};

#[component]
pub fn SettingsPage() -> impl IntoView {
    // Bumped after sign-in and sign-out so the page asks again who is signed in.
    let session = RwSignal::new(0u32);
    // The chosen chatbot lives in the address (`?bot=`), so a reload or a shared link
    // opens the same one.
    let bot = RwSignal::new(use_query_map().with_untracked(|q| q.get("bot")));
    // One resource for the whole page: a resource made inside a Suspense's children
    // would be made again on the server when they render a second time.
    let page = Resource::new(move || (session.get(), bot.get()), |(_, bot)| load(bot));
    view! {
        <Title text="Settings"/>
        <AppFrame>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    page.get()
                        .map(|result| match result {
                            Ok(Page::Admin { member, chatbots, integrations }) => {
                                view! { <Console member chatbots integrations session bot/> }.into_any()
                            }
                            Ok(Page::Agent(member)) => view! { <AdminsOnly member/> }.into_any(),
                            Ok(Page::SignedOut) => view! { <LoginForm session/> }.into_any(),
                            Err(err) => view! { <ErrorCard err retry="/settings"/> }.into_any(),
                        })
                }}
            </Transition>
        </AppFrame>
    }
}

/// What the page shows, read in one go: who is signed in and, for an admin, the
/// workspace's chatbots and the chosen one's integrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Page {
    SignedOut,
    Agent(MemberView),
    Admin { member: MemberView, chatbots: Vec<ChatbotItem>, integrations: Option<Integrations> },
}

/// The page for whoever is signed in; for an admin, the integrations of `asked` (if
/// it is one of the workspace's chatbots) or of the first chatbot.
async fn load(asked: Option<String>) -> Result<Page, AppError> {
    let member = match current_member().await?.member {
        None => return Ok(Page::SignedOut),
        Some(member) if member.role != Role::Admin => return Ok(Page::Agent(member)),
        Some(member) => member,
    };
    let chatbots = list_chatbots().await?.chatbots;
    let chosen = asked
        .filter(|id| chatbots.iter().any(|c| &c.bot_id == id))
        .or_else(|| chatbots.first().map(|c| c.bot_id.clone()));
    let integrations = match chosen {
        Some(bot_id) => Some(get_integrations(bot_id).await?.integrations),
        None => None,
    };
    Ok(Page::Admin { member, chatbots, integrations })
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
fn Console(
    member: MemberView,
    chatbots: Vec<ChatbotItem>,
    integrations: Option<Integrations>,
    session: RwSignal<u32>,
    bot: RwSignal<Option<String>>,
) -> impl IntoView {
    let choose = move |id: String| {
        browser::replace_query(&format!("bot={id}"));
        bot.set(Some(id));
    };
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
        {match integrations {
            Some(integrations) => {
                let chosen = integrations.bot_id.clone();
                view! {
                    <div class="settings">
                        <aside class="settings-side">
                            <label for="settings-bot">"Chatbot"</label>
                            <select id="settings-bot" on:change=move |ev| choose(event_target_value(&ev))>
                                {chatbots
                                    .into_iter()
                                    .map(|c| {
                                        let selected = c.bot_id == chosen;
                                        let label = format!("{} ({})", c.name, c.bot_id);
                                        view! { <option value=c.bot_id selected=selected>{label}</option> }
                                    })
                                    .collect_view()}
                            </select>
                            <nav aria-label="Chatbot settings">
                                <ul>
                                    <li>
                                        <a href=format!("/settings?bot={}", integrations.bot_id) aria-current="page">
                                            "Integrations"
                                        </a>
                                    </li>
                                </ul>
                            </nav>
                        </aside>
                        <section class="settings-main" aria-label="Integrations">
                            <integrations::Integrations integrations/>
                        </section>
                    </div>
                }
                    .into_any()
            }
            None => {
                view! {
                    <section class="card">
                        <p>"This workspace has no chatbot yet."</p>
                    </section>
                }
                    .into_any()
            }
        }}
    }
}
