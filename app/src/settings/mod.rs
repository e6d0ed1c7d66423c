//! The admins' Settings page at `/settings`: sign in (the Inbox's form), pick a
//! chatbot, then its sections in the sidebar. Agents are told it is for admins.

mod activity;
pub mod api;
mod general;
mod instructions;
mod integrations;
mod knowledge;
mod look;
mod model;
mod playground;
mod team;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    auth::api::{current_member, logout, Empty},
    browser,
    domain::{
        activity::ActivityPage, helpdesk::Integrations, instructions::InstructionSettings, knowledge::Entry,
        model::ModelSettings, team::TeamMember, MemberView, Role,
    },
    error::AppError,
    inbox::LoginForm,
    layout::{AppFrame, ErrorCard},
};
use api::{
    get_chatbot, get_instructions, get_integrations, get_model, list_chatbots, list_knowledge, list_team, ChatbotItem,
    ChatbotResponse,
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    // Bumped after sign-in and sign-out so the page asks again who is signed in.
    let session = RwSignal::new(0u32);
    // The chosen chatbot lives in the address (`?bot=`), so a reload or a shared link
    // opens the same one.
    let (asked_bot, asked_section) = use_query_map().with_untracked(|q| (q.get("bot"), q.get("section")));
    let bot = RwSignal::new(asked_bot);
    let section = RwSignal::new(asked_section.as_deref().and_then(Section::parse).unwrap_or(Section::General));
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
                            Ok(Page::Admin { member, chatbots, bot: chosen, shown }) => {
                                view! { <Console member chatbots chosen shown session bot section/> }.into_any()
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

/// The sections of Settings: a chatbot's (the picker chooses which chatbot), then the
/// workspace's. The sidebar lists them in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Section {
    General,
    Widget,
    Knowledge,
    Instructions,
    Model,
    Integrations,
    Playground,
    Team,
    Activity,
}

const CHATBOT_SECTIONS: [Section; 7] = [
    Section::General,
    Section::Widget,
    Section::Knowledge,
    Section::Instructions,
    Section::Model,
    Section::Integrations,
    Section::Playground,
];
const WORKSPACE_SECTIONS: [Section; 2] = [Section::Team, Section::Activity];

impl Section {
    fn as_str(self) -> &'static str {
        match self {
            Section::General => "general",
            Section::Widget => "widget",
            Section::Knowledge => "knowledge",
            Section::Instructions => "instructions",
            Section::Model => "model",
            Section::Integrations => "integrations",
            Section::Playground => "playground",
            Section::Team => "team",
            Section::Activity => "activity",
        }
    }

    fn parse(text: &str) -> Option<Section> {
        CHATBOT_SECTIONS.into_iter().chain(WORKSPACE_SECTIONS).find(|s| s.as_str() == text)
    }

    fn label(self) -> &'static str {
        match self {
            Section::General => "General",
            Section::Widget => "Widget",
            Section::Knowledge => "Knowledge",
            Section::Instructions => "Instructions",
            Section::Model => "AI model",
            Section::Integrations => "Integrations",
            Section::Playground => "Playground",
            Section::Team => "Team",
            Section::Activity => "Activity",
        }
    }
}

/// The chosen section, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Shown {
    /// `None`: the workspace has no chatbot yet (General still offers to create one).
    General(Option<ChatbotResponse>),
    Widget(ChatbotResponse),
    /// The chatbot's public id and its entries.
    Knowledge(String, Vec<Entry>),
    Instructions(InstructionSettings),
    Model(ModelSettings),
    Integrations(Integrations),
    /// The chatbot's public id and greeting.
    Playground(String, String),
    Team(Vec<TeamMember>),
    /// The first page, and the team (to filter by member).
    Activity(ActivityPage, Vec<TeamMember>),
}

impl Shown {
    fn section(&self) -> Section {
        match self {
            Shown::General(_) => Section::General,
            Shown::Widget(_) => Section::Widget,
            Shown::Knowledge(..) => Section::Knowledge,
            Shown::Instructions(_) => Section::Instructions,
            Shown::Model(_) => Section::Model,
            Shown::Integrations(_) => Section::Integrations,
            Shown::Playground(..) => Section::Playground,
            Shown::Team(_) => Section::Team,
            Shown::Activity(..) => Section::Activity,
        }
    }
}

/// What a section's Save status line says: saving, unsaved edits, or just saved.
fn save_status(saving: bool, just_saved: bool, dirty: bool) -> &'static str {
    match (saving, just_saved, dirty) {
        (true, _, _) => "Saving…",
        (false, _, true) => "Unsaved changes",
        (false, true, false) => "Saved",
        (false, false, false) => "",
    }
}

/// What the page shows, read in one go: who is signed in and, for an admin, the
/// workspace's chatbots, the chosen one (`None`: no chatbot yet) and the section
/// (`None`: a chatbot's section, and no chatbot to show it for).
// One Page per navigation, moved once into the view: boxing the big variant saves nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Page {
    SignedOut,
    Agent(MemberView),
    Admin { member: MemberView, chatbots: Vec<ChatbotItem>, bot: Option<String>, shown: Option<Shown> },
}

/// The page for whoever is signed in; for an admin, `section` (of `asked`, if it is
/// one of the workspace's chatbots, or of the first chatbot).
async fn load(asked: Option<String>, section: Section) -> Result<Page, AppError> {
    let member = match current_member().await?.member {
        None => return Ok(Page::SignedOut),
        Some(member) if member.role != Role::Admin => return Ok(Page::Agent(member)),
        Some(member) => member,
    };
    let chatbots = list_chatbots().await?.chatbots;
    let bot = asked
        .filter(|id| chatbots.iter().any(|c| &c.bot_id == id))
        .or_else(|| chatbots.first().map(|c| c.bot_id.clone()));
    let shown = match (section, bot.clone()) {
        (Section::Team, _) => Some(Shown::Team(list_team().await?.members)),
        (Section::Activity, _) => Some(Shown::Activity(activity::first_page().await?, list_team().await?.members)),
        (Section::General, None) => Some(Shown::General(None)),
        (_, None) => None,
        (Section::General, Some(bot)) => Some(Shown::General(Some(get_chatbot(bot).await?))),
        (Section::Widget, Some(bot)) => Some(Shown::Widget(get_chatbot(bot).await?)),
        (Section::Integrations, Some(bot)) => Some(Shown::Integrations(get_integrations(bot).await?.integrations)),
        (Section::Playground, Some(bot)) => {
            let ChatbotResponse { chatbot, .. } = get_chatbot(bot).await?;
            Some(Shown::Playground(chatbot.bot_id, chatbot.greeting))
        }
        (Section::Model, Some(bot)) => Some(Shown::Model(get_model(bot).await?.model)),
        (Section::Knowledge, Some(bot)) => {
            let entries = list_knowledge(bot.clone()).await?.entries;
            Some(Shown::Knowledge(bot, entries))
        }
        (Section::Instructions, Some(bot)) => Some(Shown::Instructions(get_instructions(bot).await?.instructions)),
    };
    Ok(Page::Admin { member, chatbots, bot, shown })
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
    /// The chatbot shown: `None` when the workspace has none yet.
    chosen: Option<String>,
    shown: Option<Shown>,
    session: RwSignal<u32>,
    bot: RwSignal<Option<String>>,
    section: RwSignal<Section>,
) -> impl IntoView {
    let dirty = RwSignal::new(false);
    let go = move |to_bot: Option<String>, to_section: Section| {
        if dirty.get_untracked() && !browser::confirm(DISCARD) {
            return false;
        }
        dirty.set(false);
        browser::replace_query(&query(to_bot.as_deref(), to_section));
        bot.set(to_bot);
        section.set(to_section);
        true
    };
    let sign_out = Action::new(|_: &()| logout());
    Effect::new(move |_| {
        if sign_out.value().get().is_some() {
            session.update(|n| *n += 1);
        }
    });
    let current = shown.as_ref().map_or_else(|| section.get_untracked(), Shown::section);
    let picker = NodeRef::<leptos::html::Select>::new();
    let picked = chosen.clone().unwrap_or_default();
    let all_chatbots = chatbots.clone();
    // The picker's list: General renames, archives and creates chatbots in it.
    let bots = RwSignal::new(chatbots);
    let chosen_id = picked.clone();
    let options = move || {
        bots.get()
            .into_iter()
            .map(|c| {
                let selected = c.bot_id == chosen_id;
                let archived = if c.archived { ", archived" } else { "" };
                let label = format!("{} ({}{archived})", c.name, c.bot_id);
                view! { <option value=c.bot_id selected=selected>{label}</option> }
            })
            .collect_view()
    };
    let open = Callback::new(move |bot_id: String| {
        go(Some(bot_id), Section::General);
    });
    let links = move |sections: &[Section]| {
        sections
            .iter()
            .map(|&to| {
                let href = format!("/settings?{}", query(chosen.as_deref(), to));
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
            .collect_view()
    };
    let (chatbot_links, workspace_links) = (links(&CHATBOT_SECTIONS), links(&WORKSPACE_SECTIONS));
    let body = match shown {
        Some(Shown::General(current)) => view! { <general::General current chatbots=bots dirty open/> }.into_any(),
        Some(Shown::Widget(current)) => view! { <look::Look current dirty/> }.into_any(),
        Some(Shown::Integrations(integrations)) => view! { <integrations::Integrations integrations/> }.into_any(),
        Some(Shown::Knowledge(bot_id, entries)) => view! { <knowledge::Knowledge bot_id entries dirty/> }.into_any(),
        Some(Shown::Instructions(settings)) => view! { <instructions::Instructions settings dirty/> }.into_any(),
        Some(Shown::Playground(bot_id, greeting)) => {
            view! { <playground::Playground bot_id greeting dirty/> }.into_any()
        }
        Some(Shown::Model(settings)) => view! { <model::Model settings dirty/> }.into_any(),
        Some(Shown::Team(members)) => {
            let me = member.clone();
            view! { <team::Team members me dirty/> }.into_any()
        }
        Some(Shown::Activity(first, members)) => {
            view! { <activity::Activity first chatbots=all_chatbots members/> }.into_any()
        }
        None => view! { <p>"This workspace has no chatbot yet."</p> }.into_any(),
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
                        let to = if WORKSPACE_SECTIONS.contains(&current) { Section::Integrations } else { current };
                        if !go(Some(event_target_value(&ev)), to) {
                            if let Some(select) = picker.get_untracked() {
                                select.set_value(&picked);
                            }
                        }
                    }
                >
                    {options}
                </select>
                <nav aria-label="Chatbot settings">
                    <ul>{chatbot_links}</ul>
                </nav>
                <nav aria-label="Workspace settings">
                    <p class="settings-side-head">"Workspace"</p>
                    <ul>{workspace_links}</ul>
                </nav>
            </aside>
            <section class="settings-main" aria-label=current.label()>
                {body}
            </section>
        </div>
    }
}

/// The address's query for a section (of a chatbot, when there is one).
fn query(bot: Option<&str>, section: Section) -> String {
    match bot {
        Some(bot) => format!("bot={bot}&section={}", section.as_str()),
        None => format!("section={}", section.as_str()),
    }
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
