//! The admins' Settings page at `/settings`.

pub mod api;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::layout::AppFrame;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings"/>
        <AppFrame>
            <section class="card narrow">
                <h1>"Settings"</h1>
                <p>
                    "Chatbots, Live Agent Handoff, help-desk connections, agent instructions, "
                    "the knowledge base and team members are managed here by admins."
                </p>
                <p><a class="button primary" href="/inbox">"Sign in to continue"</a></p>
            </section>
        </AppFrame>
    }
}
