//! The sign-in card for team members.

use leptos::prelude::*;

use crate::{auth::api::login, domain::team::Password};

/// Sign-in card for team members.
#[component]
pub fn LoginForm(session: RwSignal<u32>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let ready = move || email.with(|e| looks_like_email(e)) && password.with(|p| !p.is_empty());
    let sign_in = Action::new(|(email, password): &(String, String)| login(email.clone(), Password::new(password.clone())));
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
