//! The agents' Inbox at `/inbox`. Team members sign in first.

pub mod api;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    auth::api::{current_member, login, logout, SessionResponse},
    domain::{ConversationSummary, EscalationReason, MemberView},
    error::AppError,
    layout::AppFrame,
};
use api::{list_conversations, InboxFilter};

#[component]
pub fn InboxPage() -> impl IntoView {
    // Bumped after sign-in and sign-out so the page asks the server again.
    let session = RwSignal::new(0u32);
    let member = Resource::new(move || session.get(), |_| current_member());
    view! {
        <Title text="Inbox"/>
        <AppFrame>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    member
                        .get()
                        .map(|result| match result {
                            Ok(SessionResponse { member: Some(member) }) => {
                                view! { <SignedIn member session/> }.into_any()
                            }
                            Ok(SessionResponse { member: None }) => view! { <LoginForm session/> }.into_any(),
                            Err(err) => view! { <ErrorCard err/> }.into_any(),
                        })
                }}
            </Transition>
        </AppFrame>
    }
}

#[component]
fn ErrorCard(err: AppError) -> impl IntoView {
    view! {
        <section class="card narrow" role="alert">
            <h1>"Something went wrong"</h1>
            <p class="error">{err.to_string()}</p>
        </section>
    }
}

/// Sign-in card for team members.
#[component]
pub fn LoginForm(session: RwSignal<u32>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let ready = move || email.with(|e| looks_like_email(e)) && password.with(|p| !p.is_empty());
    let sign_in = Action::new(|(email, password): &(String, String)| login(email.clone(), password.clone()));
    let pending = sign_in.pending();
    Effect::new(move |_| {
        if let Some(Ok(_)) = sign_in.value().get() {
            session.update(|n| *n += 1);
        }
    });
    let error = move || match sign_in.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    };
    view! {
        <section class="card narrow login">
            <h1>"Sign in to Baton"</h1>
            <p class="muted">"Team members only. Your admin creates your account."</p>
            <form on:submit=move |ev| {
                ev.prevent_default();
                if ready() && !pending.get() {
                    sign_in.dispatch((email.get(), password.get()));
                }
            }>
                <label for="login-email">"Email"</label>
                <input
                    id="login-email"
                    type="email"
                    autocomplete="username"
                    required
                    prop:value=move || email.get()
                    on:input=move |ev| email.set(event_target_value(&ev))
                />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    type="password"
                    autocomplete="current-password"
                    required
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                <p class="error" role="alert">{error}</p>
                <button type="submit" class="primary" disabled=move || !ready() || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </section>
    }
}

/// The signed-in view: who you are, and the queue of conversations waiting for a person.
#[component]
fn SignedIn(member: MemberView, session: RwSignal<u32>) -> impl IntoView {
    let sign_out = Action::new(|_: &()| logout());
    Effect::new(move |_| {
        if sign_out.value().get().is_some() {
            session.update(|n| *n += 1);
        }
    });
    let queue = Resource::new(|| (), |_| list_conversations(InboxFilter::NeedsHuman));
    view! {
        <div class="inbox-head">
            <h1>"Needs human"</h1>
            <p class="muted">
                "Signed in as " <strong>{member.name.clone()}</strong> " (" {member.role.as_str()} ") · "
                <button class="link" on:click=move |_| { sign_out.dispatch(()); }>"Sign out"</button>
            </p>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading the queue…"</p> }>
            {move || {
                queue
                    .get()
                    .map(|result| match result {
                        Ok(list) if list.conversations.is_empty() => {
                            view! {
                                <section class="card empty">
                                    <p>"No one is waiting for a person right now."</p>
                                </section>
                            }
                                .into_any()
                        }
                        Ok(list) => view! { <QueueTable conversations=list.conversations/> }.into_any(),
                        Err(err) => view! { <ErrorCard err/> }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn QueueTable(conversations: Vec<ConversationSummary>) -> impl IntoView {
    view! {
        <table class="card queue">
            <thead>
                <tr>
                    <th scope="col">"Visitor"</th>
                    <th scope="col">"Why"</th>
                    <th scope="col">"What they need"</th>
                    <th scope="col">"Waiting since"</th>
                </tr>
            </thead>
            <tbody>
                {conversations
                    .into_iter()
                    .map(|c| {
                        let visitor = c.visitor.name.clone().or(c.visitor.email.clone()).unwrap_or_else(|| "Anonymous visitor".into());
                        view! {
                            <tr>
                                <td>{visitor}</td>
                                <td>{c.reason.map(reason_label).unwrap_or("")}</td>
                                <td>{c.summary.clone().unwrap_or_default()}</td>
                                <td><time datetime=c.escalated_at.clone()>{c.escalated_at.clone().map(|at| at.replace('T', " ").chars().take(16).collect::<String>())}" UTC"</time></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

pub fn reason_label(reason: EscalationReason) -> &'static str {
    match reason {
        EscalationReason::ExplicitRequest => "Asked for a person",
        EscalationReason::Frustration => "Frustrated",
        EscalationReason::CannotResolve => "AI could not resolve",
    }
}

/// A cheap shape check so the button only lights up for plausible input;
/// the server does the real validation.
fn looks_like_email(text: &str) -> bool {
    let text = text.trim();
    matches!(text.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::looks_like_email;

    #[test]
    fn plausible_addresses_enable_sign_in_and_others_do_not() {
        assert!(looks_like_email("jordan@acme.com"));
        assert!(looks_like_email("  a@b.co "));
        assert!(!looks_like_email(""));
        assert!(!looks_like_email("jordan"));
        assert!(!looks_like_email("@acme.com"));
        assert!(!looks_like_email("jordan@acme"));
        assert!(!looks_like_email("jordan@acme."));
    }
}
