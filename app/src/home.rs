//! The public pages: what Baton is, and a sample host website that embeds the widget.

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

/// A stand-in for a customer's own website, so the widget can be tried as a visitor meets it.
#[component]
pub fn DemoHostPage() -> impl IntoView {
    view! {
        <Title text="Acme Cloud (demo site)"/>
        <div class="demo-host">
            <header class="demo-topbar">
                <span class="demo-logo">"Acme Cloud"</span>
                <nav aria-label="Acme">
                    <a href="/demo">"Pricing"</a>
                    <a href="/demo">"Docs"</a>
                    <a href="/">"About this demo"</a>
                </nav>
            </header>
            <main class="demo-main">
                <h1>"Cloud storage your team will actually like."</h1>
                <p>
                    "This is a sample host website. Its chat widget is served by Baton for the demo "
                    "chatbot; ask it anything, or ask for a person to see the handoff."
                </p>
                <div class="demo-plans">
                    <div class="demo-plan"><h2>"Starter"</h2><p>"$9 / month"</p></div>
                    <div class="demo-plan"><h2>"Team"</h2><p>"$29 / month"</p></div>
                    <div class="demo-plan"><h2>"Business"</h2><p>"$79 / month"</p></div>
                </div>
            </main>
            <iframe class="demo-widget-frame" src="/widget/demo" title="Chat with Acme support"></iframe>
        </div>
    }
}
