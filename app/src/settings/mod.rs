//! The admins' Settings page at `/settings`: sign in (the Inbox's form), pick a
//! chatbot, then its sections in the sidebar. Agents are told it is for admins.

pub mod api;
mod instructions;
mod integrations;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    auth::api::{current_member, logout, Empty},
    browser,
    domain::{helpdesk::Integrations, instructions::InstructionSettings, MemberView, Role},
    error::AppError,
    inbox::LoginForm,
    layout::{AppFrame, ErrorCard},
};
use api::{get_instructions, get_integrations, list_chatbots, ChatbotItem};

#[component]
pub fn SettingsPage() -> impl IntoView {
    // Bumped after sign-in and sign-out so the page asks again who is signed in.
    let session = RwSignal::new(0u32);
    // The chosen chatbot lives in the address (`?bot=`), so a reload or a shared link
    // opens the same one.
    let (asked_bot, asked_section) = use_query_map().with_untracked(|q| (q.get("bot"), q.get("section")));
    let bot = RwSignal::new(asked_bot);
    let section = RwSignal::new(asked_section.as_deref().and_then(Section::parse).unwrap_or(Section::Integrations));
    // One resource for the whole page: a resource made inside a Suspense's children
    // would be made again on the server when they render a second time.
    let page = Resource::new(move || (session.get(), bot.get(), section.get()), |(_, bot, section)| load(bot, section));
    view! {
        <Title text="Settings"/>
        <AppFrame>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    page.get()
                        .map(|result| match result {
                            Ok(Page::Admin { member, chatbots, shown }) => {
                                view! { <Console member chatbots shown session bot section/> }.into_any()
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

/// The sections of a chatbot's settings, in the sidebar's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Section {
    Instructions,
    Integrations,
}

const SECTIONS: [Section; 2] = [Section::Instructions, Section::Integrations];

impl Section {
    fn as_str(self) -> &'static str {
        match self {
            Section::Instructions => "instructions",
            Section::Integrations => "integrations",
        }
    }

    fn parse(text: &str) -> Option<Section> {
        SECTIONS.into_iter().find(|s| s.as_str() == text)
    }

    fn label(self) -> &'static str {
        match self {
            Section::Instructions => "Instructions",
            Section::Integrations => "Integrations",
        }
    }
}

/// The chosen chatbot's section, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Shown {
    Instructions(InstructionSettings),
    Integrations(Integrations),
}

impl Shown {
    fn bot_id(&self) -> &str {
        match self {
            Shown::Instructions(i) => &i.bot_id,
            Shown::Integrations(i) => &i.bot_id,
        }
    }

    fn section(&self) -> Section {
        match self {
            Shown::Instructions(_) => Section::Instructions,
            Shown::Integrations(_) => Section::Integrations,
        }
    }
}

/// What the page shows, read in one go: who is signed in and, for an admin, the
/// workspace's chatbots and the chosen one's section (`None`: no chatbot yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Page {
    SignedOut,
    Agent(MemberView),
    Admin { member: MemberView, chatbots: Vec<ChatbotItem>, shown: Option<Shown> },
}

/// The page for whoever is signed in; for an admin, `section` of `asked` (if it is
/// one of the workspace's chatbots) or of the first chatbot.
async fn load(asked: Option<String>, section: Section) -> Result<Page, AppError> {
    let member = match current_member().await?.member {
        None => return Ok(Page::SignedOut),
        Some(member) if member.role != Role::Admin => return Ok(Page::Agent(member)),
        Some(member) => member,
    };
    let chatbots = list_chatbots().await?.chatbots;
    let chosen = asked
        .filter(|id| chatbots.iter().any(|c| &c.bot_id == id))
        .or_else(|| chatbots.first().map(|c| c.bot_id.clone()));
    let shown = match (chosen, section) {
        (None, _) => None,
        (Some(bot), Section::Integrations) => Some(Shown::Integrations(get_integrations(bot).await?.integrations)),
        (Some(bot), Section::Instructions) => Some(Shown::Instructions(get_instructions(bot).await?.instructions)),
    };
    Ok(Page::Admin { member, chatbots, shown })
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

/// What is asked before unsaved edits are left behind.
const DISCARD: &str = "You have unsaved changes in this section. Leave without saving them?";

/// The signed-in admin's console: the chatbot picker, the sidebar and the section.
/// Leaving a section with unsaved edits (another section, another chatbot) asks first.
#[component]
fn Console(
    member: MemberView,
    chatbots: Vec<ChatbotItem>,
    shown: Option<Shown>,
    session: RwSignal<u32>,
    bot: RwSignal<Option<String>>,
    section: RwSignal<Section>,
) -> impl IntoView {
    let dirty = RwSignal::new(false);
    let go = move |to_bot: String, to_section: Section| {
        if dirty.get_untracked() && !browser::confirm(DISCARD) {
            return false;
        }
        dirty.set(false);
        browser::replace_query(&format!("bot={to_bot}&section={}", to_section.as_str()));
        bot.set(Some(to_bot));
        section.set(to_section);
        true
    };
    let sign_out = Action::new(|_: &()| logout());
    Effect::new(move |_| {
        if sign_out.value().get().is_some() {
            session.update(|n| *n += 1);
        }
    });
    let Some(shown) = shown else {
        return view! {
            <ConsoleHead member sign_out/>
            <section class="card">
                <p>"This workspace has no chatbot yet."</p>
            </section>
        }
        .into_any();
    };
    let (chosen, current) = (shown.bot_id().to_owned(), shown.section());
    let picker = NodeRef::<leptos::html::Select>::new();
    let options = chatbots
        .into_iter()
        .map(|c| {
            let selected = c.bot_id == chosen;
            let label = format!("{} ({})", c.name, c.bot_id);
            view! { <option value=c.bot_id selected=selected>{label}</option> }
        })
        .collect_view();
    let links = SECTIONS
        .into_iter()
        .map(|to| {
            let href = format!("/settings?bot={chosen}&section={}", to.as_str());
            let bot_id = chosen.clone();
            view! {
                <li>
                    <a
                        href=href
                        aria-current=(to == current).then_some("page")
                        on:click=move |ev| {
                            ev.prevent_default();
                            go(bot_id.clone(), to);
                        }
                    >
                        {to.label()}
                    </a>
                </li>
            }
        })
        .collect_view();
    let body = match shown {
        Shown::Integrations(integrations) => view! { <integrations::Integrations integrations/> }.into_any(),
        Shown::Instructions(settings) => view! { <instructions::Instructions settings dirty/> }.into_any(),
    };
    view! {
        <ConsoleHead member sign_out/>
        <div class="settings">
            <aside class="settings-side">
                <label for="settings-bot">"Chatbot"</label>
                <select
                    id="settings-bot"
                    node_ref=picker
                    on:change=move |ev| {
                        if !go(event_target_value(&ev), current) {
                            if let Some(select) = picker.get_untracked() {
                                select.set_value(&chosen);
                            }
                        }
                    }
                >
                    {options}
                </select>
                <nav aria-label="Chatbot settings">
                    <ul>{links}</ul>
                </nav>
            </aside>
            <section class="settings-main" aria-label=current.label()>
                {body}
            </section>
        </div>
    }
    .into_any()
}

#[component]
fn ConsoleHead(member: MemberView, sign_out: Action<(), Result<Empty, AppError>>) -> impl IntoView {
    view! {
        <div class="settings-head">
            <h1>"Settings"</h1>
            <p class="muted">
                {member.name} " · admin · "
                <button type="button" class="link" on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
            </p>
        </div>
    }
}
