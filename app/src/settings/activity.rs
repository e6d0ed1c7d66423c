//! Settings → Activity: every settings change and every conversation's move in the
//! workspace, newest first, with who, what and when; narrowed to one chatbot or one
//! member, and read a page at a time ("Show older").

use leptos::prelude::*;

use super::api::{list_activity, ChatbotItem};
use crate::{
    domain::{
        activity::{ActivityEntry, ActivityPage, ActorKind},
        clock,
        team::TeamMember,
    },
    error::AppError,
};

/// What to read: the filters (empty: all) and, for "Show older", where to go on from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ask {
    bot_id: String,
    member_id: String,
    before: Option<String>,
}

fn some(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

#[component]
pub fn Activity(first: ActivityPage, chatbots: Vec<ChatbotItem>, members: Vec<TeamMember>) -> impl IntoView {
    let entries = RwSignal::new(first.entries);
    let next = RwSignal::new(first.next_before);
    let bot_id = RwSignal::new(String::new());
    let member_id = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let fetch = Action::new(|ask: &Ask| {
        let ask = ask.clone();
        async move {
            let more = ask.before.is_some();
            let page = list_activity(some(&ask.bot_id), some(&ask.member_id), ask.before).await;
            (more, page)
        }
    });
    Effect::new(move |_| match fetch.value().get() {
        Some((more, Ok(page))) => {
            if more {
                entries.update(|shown| shown.extend(page.entries));
            } else {
                entries.set(page.entries);
            }
            next.set(page.next_before);
            problem.set(None);
        }
        Some((_, Err(err))) => problem.set(Some(err.to_string())),
        None => {}
    });
    let read = move |before: Option<String>| {
        fetch.dispatch(Ask { bot_id: bot_id.get_untracked(), member_id: member_id.get_untracked(), before });
    };
    let filtered = move || !bot_id.get().is_empty() || !member_id.get().is_empty();
    let bot_options = chatbots
        .into_iter()
        .map(|c| {
            let label = format!("{} ({})", c.name, c.bot_id);
            view! { <option value=c.bot_id>{label}</option> }
        })
        .collect_view();
    let member_options =
        members.into_iter().map(|m| view! { <option value=m.member.id>{m.member.name}</option> }).collect_view();
    view! {
        <h2>"Activity"</h2>
        <p class="muted">
            "Every settings change and every conversation's move in this workspace, newest first: who made it, "
            "what it was and when (times in UTC)."
        </p>
        <div class="activity-filters">
            <div>
                <label for="activity-bot">"Chatbot"</label>
                <select
                    id="activity-bot"
                    on:change=move |ev| {
                        bot_id.set(event_target_value(&ev));
                        read(None);
                    }
                >
                    <option value="">"All chatbots and the team"</option>
                    {bot_options}
                </select>
            </div>
            <div>
                <label for="activity-member">"Member"</label>
                <select
                    id="activity-member"
                    on:change=move |ev| {
                        member_id.set(event_target_value(&ev));
                        read(None);
                    }
                >
                    <option value="">"Everyone, visitors and the bot"</option>
                    {member_options}
                </select>
            </div>
        </div>
        <p class="error" role="alert">{move || problem.get()}</p>
        <Show
            when=move || entries.with(|e| !e.is_empty())
            fallback=move || {
                let text = if filtered() { "Nothing matches these filters." } else { "Nothing has changed yet." };
                view! { <p class="empty" role="status">{text}</p> }
            }
        >
            <table class="activity" aria-busy=move || fetch.pending().get().to_string()>
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Chatbot"</th>
                        <th scope="col">"What"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || entries.get() key=|entry| entry.id.clone() let:entry>
                        <Row entry/>
                    </For>
                </tbody>
            </table>
        </Show>
        <Show when=move || next.with(Option::is_some)>
            <div class="form-actions">
                <button type="button" disabled=move || fetch.pending().get() on:click=move |_| read(next.get_untracked())>
                    {move || if fetch.pending().get() { "Loading…" } else { "Show older" }}
                </button>
            </div>
        </Show>
    }
}

#[component]
fn Row(entry: ActivityEntry) -> impl IntoView {
    let who = match entry.actor.kind {
        ActorKind::Member => entry.actor.name,
        ActorKind::Visitor | ActorKind::Bot => format!("{} (automatic)", entry.actor.name),
    };
    let bot = entry.bot_name.unwrap_or_else(|| "Team".to_owned());
    let what = match entry.conversation_id {
        Some(id) => view! {
            {entry.detail}
            " · "
            <a href=format!("/inbox?view=all&c={id}")>"Open in the Inbox"</a>
        }
        .into_any(),
        None => entry.detail.into_any(),
    };
    view! {
        <tr>
            <td><time datetime=entry.at.clone()>{clock::moment_of(&entry.at)}</time></td>
            <td>{who}</td>
            <td>{bot}</td>
            <td>{what}</td>
        </tr>
    }
}

/// Reads the first page for the Settings page's one resource.
pub async fn first_page() -> Result<ActivityPage, AppError> {
    list_activity(None, None, None).await
}
