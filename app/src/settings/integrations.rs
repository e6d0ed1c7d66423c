//! Settings → Integrations: where a chatbot's escalations go. The Live Agent Handoff
//! card (the Inbox), and one card per help desk with its Connect form: the desk's
//! fields, "Verifying…" while Baton asks the vendor, the vendor's reason inline when
//! it refuses, the choices the verify step read, then "Connected as …".

use std::collections::BTreeMap;

use leptos::prelude::*;

use super::api::{
    connect_helpdesk, disconnect_helpdesk, retry_helpdesk, set_live_handoff, verify_helpdesk, IntegrationsResponse,
};
use crate::{
    domain::{
        clock,
        helpdesk::{Choice, Desk, DeskCard, Field, Integrations, Verified, PRIORITY},
    },
    error::AppError,
    layout::Dialog,
};

#[component]
pub fn Integrations(integrations: Integrations) -> impl IntoView {
    view! {
        <h2>"Integrations"</h2>
        <p class="muted">
            "Where conversations go when the bot hands them to a person: your team's Inbox, "
            "or a ticket in your help desk."
        </p>
        <Cards integrations/>
    }
}

/// The chatbot's integrations as the last answer left them; every action's answer
/// replaces them.
#[component]
fn Cards(integrations: Integrations) -> impl IntoView {
    let state = RwSignal::new(integrations);
    let several = move || state.with(|s| s.desks.iter().filter(|d| d.connected).count() > 1);
    let order = PRIORITY.iter().map(|d| d.label()).collect::<Vec<_>>().join(", ");
    view! {
        <LiveHandoffCard state/>
        <h3 class="settings-subhead">"Help desks"</h3>
        <p class="muted">
            "With Live Agent Handoff off, every escalation becomes one ticket in a connected desk, holding the "
            "summary, the whole transcript and the visitor's email."
        </p>
        <Show when=several>
            <p class="order-note" role="note">
                "Several desks are connected: escalations go to the first of them in this order: " {order.clone()} "."
            </p>
        </Show>
        <div class="desk-cards">
            {PRIORITY.into_iter().map(|desk| view! { <DeskCardView desk state/> }).collect_view()}
        </div>
    }
}

/// Stores what an action answered, or says why it failed.
fn settle(result: Option<Result<IntegrationsResponse, AppError>>, state: RwSignal<Integrations>) -> Option<String> {
    match result? {
        Ok(IntegrationsResponse { integrations }) => {
            state.set(integrations);
            None
        }
        Err(err) => Some(err.to_string()),
    }
}

#[component]
fn LiveHandoffCard(state: RwSignal<Integrations>) -> impl IntoView {
    let bot = state.with_untracked(|s| s.bot_id.clone());
    let toggle = Action::new(move |on: &bool| set_live_handoff(bot.clone(), *on));
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| problem.set(settle(toggle.value().get(), state)));
    let on = move || state.with(|s| s.live_handoff);
    let active = move || state.with(|s| s.desks.iter().find(|d| d.active).map(|d| d.desk.label()));
    let explain = move || match (on(), active()) {
        (true, _) => "On: escalated conversations wait for your team in the Inbox, where an agent claims them and \
                      replies live, whether or not a help desk is connected."
            .to_owned(),
        (false, Some(desk)) => format!("Off: escalations become tickets in {desk}."),
        (false, None) => "Off, and no help desk is connected: when a visitor asks for a person the bot says \
                          honestly that no one can take the chat; the request stays recorded."
            .to_owned(),
    };
    view! {
        <article class="card integration-card" aria-labelledby="live-handoff-title">
            <div class="card-head">
                <h3 id="live-handoff-title">"Live Agent Handoff"</h3>
                <span class="badge" class:on=on>{move || if on() { "On" } else { "Off" }}</span>
            </div>
            <p>{explain}</p>
            <p class="error" role="alert">{move || problem.get()}</p>
            <button
                type="button"
                class:primary=move || !on()
                disabled=move || toggle.pending().get()
                on:click=move |_| {
                    toggle.dispatch(!on());
                }
            >
                {move || match (toggle.pending().get(), on()) {
                    (true, _) => "Saving…",
                    (false, true) => "Turn off",
                    (false, false) => "Turn on live agent handoff",
                }}
            </button>
        </article>
    }
}

#[component]
fn DeskCardView(desk: Desk, state: RwSignal<Integrations>) -> impl IntoView {
    let bot = state.with_untracked(|s| s.bot_id.clone());
    let card = Memo::new(move |_| state.with(|s| s.desks.iter().find(|c| c.desk == desk).cloned()));
    let connected = move || card.with(|c| c.as_ref().is_some_and(|c| c.connected));
    let active = move || card.with(|c| c.as_ref().is_some_and(|c| c.active));
    let form_open = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let disconnect = {
        let bot = bot.clone();
        Action::new(move |_: &()| disconnect_helpdesk(bot.clone(), desk.as_str().to_owned()))
    };
    let retry = Action::new(move |conversation: &String| retry_helpdesk(bot.clone(), conversation.clone()));
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let failed = settle(disconnect.value().get(), state);
        confirming.set(false);
        problem.set(failed);
    });
    Effect::new(move |_| problem.set(settle(retry.value().get(), state)));
    let title_id = format!("desk-{}-title", desk.as_str());
    let labelled_by = title_id.clone();
    view! {
        <article class="card integration-card" class:active=active aria-labelledby=labelled_by>
            <div class="card-head">
                <h3 id=title_id>{desk.label()}</h3>
                <Show when=active>
                    <span class="badge on">"Receives escalations"</span>
                </Show>
                <Show when=move || connected() && !active()>
                    <span class="badge">"Connected"</span>
                </Show>
            </div>
            <Show
                when=connected
                fallback=move || {
                    view! {
                        <Show
                            when=move || form_open.get()
                            fallback=move || {
                                view! {
                                    <p class="muted">{format!("Not connected. Escalations can become {} tickets.", desk.label())}</p>
                                    <button type="button" class="primary" on:click=move |_| form_open.set(true)>
                                        "Connect"
                                    </button>
                                }
                            }
                        >
                            <ConnectForm desk state close=move || form_open.set(false)/>
                        </Show>
                    }
                }
            >
                {move || card.get().map(|card| view! { <Connection card retry/> })}
                <button type="button" on:click=move |_| confirming.set(true)>"Disconnect"</button>
            </Show>
            <p class="error" role="alert">{move || problem.get()}</p>
        </article>
        <Show when=move || confirming.get()>
            <Dialog title="Disconnect this help desk?" close=move || confirming.set(false)>
                <p>
                    {format!(
                        "Baton deletes the {} credentials it holds. Tickets already created stay in {}.",
                        desk.label(),
                        desk.label()
                    )}
                </p>
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    <button
                        type="button"
                        class="primary"
                        disabled=move || disconnect.pending().get()
                        on:click=move |_| {
                            disconnect.dispatch(());
                        }
                    >
                        {move || if disconnect.pending().get() { "Disconnecting…" } else { "Disconnect" }}
                    </button>
                </div>
            </Dialog>
        </Show>
    }
}

/// A connected desk: who Baton is signed in as, since when, and how the last handoff
/// went (with "Retry" when it failed).
#[component]
fn Connection(card: DeskCard, retry: Action<String, Result<IntegrationsResponse, AppError>>) -> impl IntoView {
    let since = card.since.as_deref().map(clock::day_of).filter(|d| !d.is_empty());
    let last = card.last_dispatch.clone().map(|last| {
        let when = clock::day_of(&last.at);
        match last.status.as_str() {
            "failed" => {
                let conversation = last.conversation_id.clone();
                view! {
                    <div class="dispatch failed" role="alert">
                        <p>
                            <strong>"The last handoff failed"</strong> " (" {when} "): "
                            {last.error.unwrap_or_else(|| "no reason given".to_owned())}
                        </p>
                        <button
                            type="button"
                            disabled=move || retry.pending().get()
                            on:click=move |_| {
                                retry.dispatch(conversation.clone());
                            }
                        >
                            {move || if retry.pending().get() { "Retrying…" } else { "Retry" }}
                        </button>
                    </div>
                }
                    .into_any()
            }
            "sent" => view! {
                <p class="dispatch">
                    "Last handoff: ticket created " {when} ". "
                    {last.ticket_url.map(|url| view! { <a href=url target="_blank" rel="noopener noreferrer">"Open the ticket"</a> })}
                </p>
            }
                .into_any(),
            _ => view! { <p class="dispatch muted">"Last handoff: sending…"</p> }.into_any(),
        }
    });
    view! {
        <p>
            "Connected as " <strong>{card.account.unwrap_or_default()}</strong>
            {since.map(|since| format!(", since {since}"))} "."
        </p>
        {card.secret_hint.map(|hint| view! { <p class="muted">"Key ending in …" {hint}</p> })}
        {last}
    }
}

/// A desk's Connect form. A desk whose form has fields chosen from what the vendor
/// holds (a pipeline, a department) is verified first and its choices offered; the
/// others connect in one step (the server verifies before it stores anything).
#[component]
fn ConnectForm(desk: Desk, state: RwSignal<Integrations>, close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let bot = state.with_untracked(|s| s.bot_id.clone());
    let values = RwSignal::new(BTreeMap::<String, String>::new());
    let verified = RwSignal::new(None::<Verified>);
    let problem = RwSignal::new(None::<String>);
    let two_steps = desk.fields().iter().any(|f| f.chosen);
    let verify = {
        let bot = bot.clone();
        Action::new(move |form: &BTreeMap<String, String>| verify_helpdesk(bot.clone(), desk.as_str().to_owned(), form.clone()))
    };
    let connect = Action::new(move |form: &BTreeMap<String, String>| {
        connect_helpdesk(bot.clone(), desk.as_str().to_owned(), form.clone())
    });
    Effect::new(move |_| match verify.value().get() {
        Some(Ok(answer)) => {
            values.update(|v| preselect(desk, &answer.verified, v));
            verified.set(Some(answer.verified));
        }
        Some(Err(err)) => problem.set(Some(err.to_string())),
        None => {}
    });
    Effect::new(move |_| {
        if let Some(failed) = settle(connect.value().get(), state) {
            problem.set(Some(failed));
        }
    });
    let pending = move || verify.pending().get() || connect.pending().get();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending() {
            return;
        }
        problem.set(None);
        if two_steps && verified.with(Option::is_none) {
            verify.dispatch(values.get());
        } else {
            connect.dispatch(values.get());
        }
    };
    let fields = desk.fields().iter().map(|field| view! { <FormField desk field=*field values verified/> }).collect_view();
    view! {
        <form class="connect-form" on:submit=submit aria-label=format!("Connect {}", desk.label())>
            {fields}
            {move || {
                verified.get().map(|v| view! { <p class="verified" role="status">"Signed in as " <strong>{v.account}</strong> "."</p> })
            }}
            <p class="error" role="alert">{move || problem.get()}</p>
            <div class="form-actions">
                <button type="button" on:click=move |_| close()>"Cancel"</button>
                <button type="submit" class="primary" disabled=pending>
                    {move || match (pending(), two_steps && verified.with(Option::is_none)) {
                        (true, _) => "Verifying…",
                        (false, true) => "Verify",
                        (false, false) => "Connect",
                    }}
                </button>
            </div>
        </form>
    }
}

/// One field of a Connect form: a text or password input with its hint, or, for a
/// field chosen from what the verify step read, a list that appears once it has.
#[component]
fn FormField(
    desk: Desk,
    field: Field,
    values: RwSignal<BTreeMap<String, String>>,
    verified: RwSignal<Option<Verified>>,
) -> impl IntoView {
    let id = format!("{}-{}", desk.as_str(), field.name);
    let hint_id = format!("{id}-hint");
    let label = if field.required { field.label.to_owned() } else { format!("{} (optional)", field.label) };
    let value = move || values.with(|v| v.get(field.name).cloned().unwrap_or_default());
    // A typed or listed value changed: what the vendor said belonged to the old
    // values, so its choices go and the form is verified again.
    let changed = move |value: String| {
        values.update(|v| {
            v.insert(field.name.to_owned(), value);
            v.retain(|name, _| !desk.fields().iter().any(|f| f.chosen && f.name == name));
        });
        verified.set(None);
    };
    if field.chosen {
        let choices = move || {
            let parent = values.with(|v| v.get(parent_of(field.name)?).cloned());
            let listed = verified.with(|v| v.as_ref().and_then(|v| v.choices.get(field.name)).cloned())?;
            Some(listed.into_iter().filter(|c| c.parent.is_none() || c.parent == parent).collect::<Vec<Choice>>())
        };
        return view! {
            {move || {
                choices()
                    .map(|choices| {
                        let (id, hint_id, label) = (id.clone(), hint_id.clone(), label.clone());
                        view! {
                            <label for=id.clone()>{label}</label>
                            <select
                                id=id
                                aria-describedby=hint_id.clone()
                                on:change=move |ev| {
                                    let chosen = event_target_value(&ev);
                                    values.update(|v| {
                                        v.insert(field.name.to_owned(), chosen);
                                        clear_children(field.name, v);
                                        verified.with_untracked(|verified| {
                                            if let Some(verified) = verified {
                                                preselect(desk, verified, v);
                                            }
                                        });
                                    });
                                }
                            >
                                {choices
                                    .into_iter()
                                    .map(|c| {
                                        let selected = value() == c.value;
                                        view! { <option value=c.value selected=selected>{c.label}</option> }
                                    })
                                    .collect_view()}
                            </select>
                            <p class="hint" id=hint_id>{field.hint}</p>
                        }
                    })
            }}
        }
        .into_any();
    }
    if !field.options.is_empty() {
        // A fixed list: the first option holds until the admin picks another.
        values.update_untracked(|v| {
            v.entry(field.name.to_owned()).or_insert_with(|| field.options[0].0.to_owned());
        });
        return view! {
            <label for=id.clone()>{label}</label>
            <select
                id=id
                aria-describedby=hint_id.clone()
                on:change=move |ev| changed(event_target_value(&ev))
            >
                {field.options.iter().map(|(value, text)| view! { <option value=*value>{*text}</option> }).collect_view()}
            </select>
            <p class="hint" id=hint_id>{field.hint}</p>
        }
        .into_any();
    }
    view! {
        <label for=id.clone()>{label}</label>
        <input
            id=id
            type=if field.secret { "password" } else { "text" }
            autocomplete="off"
            spellcheck="false"
            aria-describedby=hint_id.clone()
            prop:value=value
            on:input=move |ev| changed(event_target_value(&ev))
        />
        <p class="hint" id=hint_id>{field.hint}</p>
    }
    .into_any()
}

/// The field whose choice narrows `field`'s list: a stage belongs to a pipeline.
fn parent_of(field: &str) -> Option<&'static str> {
    (field == "stage").then_some("pipeline")
}

/// Forgets the choices that depended on `field`, picking the first that fits instead.
fn clear_children(field: &str, values: &mut BTreeMap<String, String>) {
    if field == "pipeline" {
        values.remove("stage");
    }
}

/// Picks the first choice of every chosen field the admin has not chosen yet (a
/// stage from the chosen pipeline), so what the lists show is what is sent.
fn preselect(desk: Desk, verified: &Verified, values: &mut BTreeMap<String, String>) {
    for field in desk.fields().iter().filter(|f| f.chosen) {
        if values.contains_key(field.name) {
            continue;
        }
        let parent = parent_of(field.name).and_then(|p| values.get(p).cloned());
        let first = verified
            .choices
            .get(field.name)
            .and_then(|choices| choices.iter().find(|c| c.parent.is_none() || c.parent == parent));
        if let Some(first) = first {
            values.insert(field.name.to_owned(), first.value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(value: &str, parent: Option<&str>) -> Choice {
        Choice { value: value.into(), label: value.to_uppercase(), parent: parent.map(str::to_owned) }
    }

    #[test]
    fn the_first_choice_is_preselected_and_a_stage_follows_its_pipeline() {
        let verified = Verified {
            account: "a".into(),
            choices: BTreeMap::from([
                ("pipeline".to_owned(), vec![choice("support", None), choice("sales", None)]),
                ("stage".to_owned(), vec![choice("s-new", Some("sales")), choice("p-new", Some("support"))]),
            ]),
        };
        let mut values = BTreeMap::new();
        preselect(Desk::Hubspot, &verified, &mut values);
        assert_eq!(values.get("pipeline").map(String::as_str), Some("support"));
        assert_eq!(values.get("stage").map(String::as_str), Some("p-new"));

        values.insert("pipeline".into(), "sales".into());
        clear_children("pipeline", &mut values);
        preselect(Desk::Hubspot, &verified, &mut values);
        assert_eq!(values.get("stage").map(String::as_str), Some("s-new"));
    }

    #[test]
    fn a_chosen_value_is_kept() {
        let verified = Verified { account: "a".into(), choices: BTreeMap::from([("region".to_owned(), vec![choice("us", None)])]) };
        let mut values = BTreeMap::from([("region".to_owned(), "eu".to_owned())]);
        preselect(Desk::Intercom, &verified, &mut values);
        assert_eq!(values.get("region").map(String::as_str), Some("eu"));
    }
}
