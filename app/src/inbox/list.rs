//! The left column of the Inbox: the views with their live counts, and the current
//! view's conversations.

use leptos::prelude::*;

use super::{
    api::InboxFilter,
    desk::{visitor_label, Desk, Load},
    reason_label,
};
use crate::domain::{clock, ConversationSummary, StateKind};

fn view_label(view: InboxFilter) -> &'static str {
    match view {
        InboxFilter::NeedsHuman => "Needs human",
        InboxFilter::Mine => "Mine",
        InboxFilter::Open => "Open",
        InboxFilter::Resolved => "Resolved",
        InboxFilter::All => "All",
    }
}

fn empty_text(view: InboxFilter) -> &'static str {
    match view {
        InboxFilter::NeedsHuman => {
            "No one is waiting for a person right now. New escalations appear here as they happen."
        }
        InboxFilter::Mine => "You are not handling any conversation. Take one over from Needs human.",
        InboxFilter::Open => "No conversation is waiting or being handled.",
        InboxFilter::Resolved => "Nothing has been resolved yet.",
        InboxFilter::All => "No conversations yet. They appear as visitors start chatting.",
    }
}

#[component]
pub fn Views(desk: Desk) -> impl IntoView {
    view! {
        <nav class="views" aria-label="Views">
            {InboxFilter::ALL
                .into_iter()
                .map(|view| {
                    let count = move || desk.counts.get().map(|c| c.of(view));
                    let waiting = move || view == InboxFilter::NeedsHuman && count().is_some_and(|n| n > 0);
                    view! {
                        <button
                            type="button"
                            class="view-tab"
                            aria-pressed=move || (desk.view.get() == view).to_string()
                            on:click=move |_| desk.show_view(view)
                        >
                            <span>{view_label(view)}</span>
                            <span class="count" class:hot=waiting>
                                {move || count().map(|n| n.to_string())}
                            </span>
                        </button>
                    }
                })
                .collect_view()}
        </nav>
    }
}

#[component]
pub fn ConversationList(desk: Desk) -> impl IntoView {
    view! {
        <h1 class="view-title">{move || view_label(desk.view.get())}</h1>
        {move || {
            let empty = desk.list.with(Vec::is_empty);
            match desk.list_load.get() {
                Load::Loading if empty => view! { <p class="muted list-status">"Loading conversations…"</p> }.into_any(),
                Load::Failed(why) if empty => {
                    view! {
                        <div class="list-status" role="alert">
                            <p class="error">"The conversations could not load: " {why}</p>
                            <button type="button" on:click=move |_| desk.refresh()>"Try again"</button>
                        </div>
                    }
                        .into_any()
                }
                _ if empty => view! { <p class="muted list-status empty">{empty_text(desk.view.get())}</p> }.into_any(),
                _ => ().into_any(),
            }
        }}
        <ul class="conversation-list">
            <For each=move || desk.list.get() key=|c| (c.id.clone(), c.state, c.last_message_at.clone(), c.unread) let:conversation>
                <ConversationItem desk conversation/>
            </For>
        </ul>
    }
}

#[component]
fn ConversationItem(desk: Desk, conversation: ConversationSummary) -> impl IntoView {
    let id = conversation.id.clone();
    let active = {
        let id = id.clone();
        move || desk.selected.with(|s| s.as_deref() == Some(id.as_str()))
    };
    let who = visitor_label(&conversation);
    let escalated = conversation.escalated_at.as_deref().and_then(clock::epoch_ms);
    let status = {
        let conversation = conversation.clone();
        move || match conversation.state {
            StateKind::NeedsHuman => {
                format!("Waiting {}", escalated.map(|at| clock::waited(at, desk.now_ms.get())).unwrap_or_default())
            }
            StateKind::Claimed => match &conversation.agent {
                Some(agent) if agent.id == desk.my_id() => "With you".to_owned(),
                Some(agent) => format!("With {}", agent.name),
                None => "Claimed".to_owned(),
            },
            StateKind::Resolved => "Resolved".to_owned(),
            StateKind::Bot => "AI answering".to_owned(),
            StateKind::HandedOff => match &conversation.dispatch {
                Some(dispatch) if dispatch.failed() => format!("{} failed", dispatch.desk.label()),
                Some(dispatch) => dispatch.describe(),
                None => "Sent to help desk".to_owned(),
            },
        }
    };
    let failed = conversation.dispatch.as_ref().is_some_and(|d| d.failed());
    let state_class = format!(
        "conversation-item state-{}{}",
        conversation.state.as_str(),
        if failed { " dispatch-failed" } else { "" }
    );
    // The escalation's reason is a badge only while a person is needed: it belongs to
    // the current state, not to a handoff that is over.
    let reason = conversation.reason.filter(|_| matches!(conversation.state, StateKind::NeedsHuman | StateKind::Claimed));
    // The name Baton knows, with the email beside it.
    let email = conversation.visitor.known_name().and(conversation.visitor.email.clone());
    let unread = conversation.unread;
    view! {
        <li>
            <button
                type="button"
                class=state_class
                aria-current=move || active().then_some("true")
                data-conversation=id.clone()
                on:click=move |_| desk.select(Some(id.clone()))
            >
                <span class="item-top">
                    <span class="item-who">{who}</span>
                    {email.map(|email| view! { <span class="item-email">{email}</span> })}
                    {(unread > 0).then(|| view! { <span class="unread" title="Visitor messages since the team last replied">{unread}</span> })}
                </span>
                <span class="item-meta">
                    {reason.map(|r| view! { <span class="reason">{reason_label(r)}</span> })}
                    <span class="item-status">{status}</span>
                </span>
                {conversation.summary.clone().map(|summary| view! { <span class="item-summary">{summary}</span> })}
            </button>
        </li>
    }
}
