//! The home page: what Baton is. (The sample host website at `/demo` is plain HTML
//! served by `server`, as a customer's own site would be.)

use leptos::prelude::*;
use leptos_meta::Title;

use crate::layout::AppFrame;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text=""/>
        <AppFrame>
            <section class="hero">
                <h1>"Hand the chat to a human, without losing the thread."</h1>
                <p class="lead">
                    "Baton lets your AI support chatbot pass a conversation to a real person: "
                    "live in Baton's own Inbox, or as a ticket in the help desk your team already uses. "
                    "The visitor stays in the same chat the whole time."
                </p>
            </section>
            <section class="cards">
                <a class="card link-card" href="/demo">
                    <h2>"Try the widget"</h2>
                    <p>"A sample company website with the Baton chat widget. Ask for a person and watch the handoff."</p>
                </a>
                <a class="card link-card" href="/inbox">
                    <h2>"Open the Inbox"</h2>
                    <p>"Where your team claims escalated chats, replies live, writes private notes and resolves."</p>
                </a>
                <a class="card link-card" href="/settings">
                    <h2>"Settings"</h2>
                    <p>"Chatbots, Live Agent Handoff, help-desk connections, instructions and team members."</p>
                </a>
            </section>
            <section class="card how">
                <h2>"How a handoff plays out"</h2>
                <ol>
                    <li>"The AI answers on its own, from your knowledge base."</li>
                    <li>"When a visitor asks for a person, is frustrated, or has an issue the AI can't resolve, it collects their email and writes a short summary."</li>
                    <li>"The chat waits in the Inbox as “Needs human”; both sides see that a team member will join shortly."</li>
                    <li>"One agent takes over, replies live, and resolves: the AI answers again from then on."</li>
                </ol>
            </section>
        </AppFrame>
    }
}
