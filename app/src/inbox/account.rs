//! The signed-in member's own account: changing the password (which signs out their
//! other sessions).

use leptos::prelude::*;

use crate::{
    auth::api::change_password,
    domain::team::{Password, MIN_PASSWORD_CHARS},
    layout::Dialog,
};

#[component]
pub fn ChangePassword(close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let change = Action::new(|(current, new): &(String, String)| change_password(Password::new(current.clone()), Password::new(new.clone())));
    let pending = change.pending();
    let mismatch = move || again.with(|a| !a.is_empty()) && new.get() != again.get();
    let too_short = move || new.with(|n| !n.is_empty() && n.chars().count() < MIN_PASSWORD_CHARS);
    let ready = move || {
        current.with(|c| !c.is_empty())
            && new.with(|n| n.chars().count() >= MIN_PASSWORD_CHARS)
            && new.get() == again.get()
    };
    let done = move || matches!(change.value().get(), Some(Ok(_)));
    let problem = move || match change.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        _ if mismatch() => Some("The two new passwords differ.".to_owned()),
        _ if too_short() => Some(format!("Use at least {MIN_PASSWORD_CHARS} characters.")),
        _ => None,
    };
    view! {
        <Dialog title="Change your password" close>
            <Show
                when=done
                fallback=move || view! {
                    <form on:submit=move |ev| {
                        ev.prevent_default();
                        if ready() && !pending.get() {
                            change.dispatch((current.get(), new.get()));
                        }
                    }>
                        <label for="password-current">"Current password"</label>
                        <input id="password-current" type="password" autocomplete="current-password"
                            prop:value=move || current.get() on:input=move |ev| current.set(event_target_value(&ev))/>
                        <label for="password-new">"New password"</label>
                        <input id="password-new" type="password" autocomplete="new-password"
                            prop:value=move || new.get() on:input=move |ev| new.set(event_target_value(&ev))/>
                        <label for="password-again">"New password, again"</label>
                        <input id="password-again" type="password" autocomplete="new-password"
                            prop:value=move || again.get() on:input=move |ev| again.set(event_target_value(&ev))/>
                        <p class="error" role="alert">{problem}</p>
                        <div class="dialog-actions">
                            <button type="button" on:click=move |_| close()>"Cancel"</button>
                            <button type="submit" class="primary" disabled=move || !ready() || pending.get()>
                                {move || if pending.get() { "Changing…" } else { "Change password" }}
                            </button>
                        </div>
                    </form>
                }
            >
                <p role="status">"Your password is changed. Every other session of yours has been signed out."</p>
                <div class="dialog-actions">
                    <button type="button" class="primary" on:click=move |_| close()>"Done"</button>
                </div>
            </Show>
        </Dialog>
    }
}
