//! Settings → General: the chatbot's name (the widget's title) and greeting, its
//! public id and embed tag, archiving it (its widget then says the chat is closed;
//! its conversations stay in the Inbox) and creating another chatbot.

use leptos::prelude::*;

use super::api::{
    archive_chatbot, create_chatbot, update_widget, ChatbotItem, ChatbotResponse, WidgetSettingsResponse,
    MAX_CHATBOT_NAME_CHARS,
};
use crate::{browser, domain::clock, layout::Dialog};

/// The name and greeting as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Draft {
    name: String,
    greeting: String,
}

/// Which field a refusal of `settings/widget` is about, from its message.
fn field_of(message: &str) -> &'static str {
    if message.contains("greeting") {
        "greeting"
    } else if message.contains("title") || message.contains("name") {
        "name"
    } else {
        "form"
    }
}

/// `current`: the chatbot shown (`None`: the workspace has none yet). `chatbots`: the
/// picker's list, kept up to date here. `open`: shows another chatbot's General.
#[component]
pub fn General(
    current: Option<ChatbotResponse>,
    chatbots: RwSignal<Vec<ChatbotItem>>,
    dirty: RwSignal<bool>,
    open: Callback<String>,
) -> impl IntoView {
    view! {
        <h2>"General"</h2>
        {match current {
            Some(current) => view! { <ChatbotGeneral current chatbots dirty/> }.into_any(),
            None => {
                view! { <p class="empty">"This workspace has no chatbot yet: create the first one below."</p> }
                    .into_any()
            }
        }}
        <CreateChatbot chatbots open/>
    }
}

#[component]
fn ChatbotGeneral(
    current: ChatbotResponse,
    chatbots: RwSignal<Vec<ChatbotItem>>,
    dirty: RwSignal<bool>,
) -> impl IntoView {
    let ChatbotResponse { chatbot, widget } = current;
    let of = |w: &super::api::WidgetSettings| Draft { name: w.title.clone(), greeting: w.greeting.clone() };
    let stored = RwSignal::new(widget.clone());
    let saved = RwSignal::new(of(&widget));
    let draft = RwSignal::new(of(&widget));
    let just_saved = RwSignal::new(false);
    let problem = RwSignal::new(None::<(&'static str, String)>);
    let save = Action::new(move |draft: &Draft| {
        let settings = super::api::WidgetSettings {
            title: draft.name.clone(),
            greeting: draft.greeting.clone(),
            ..stored.get_untracked()
        };
        update_widget(settings)
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(WidgetSettingsResponse { widget })) => {
            let now = of(&widget);
            chatbots.update(|all| {
                if let Some(item) = all.iter_mut().find(|c| c.bot_id == widget.bot_id) {
                    item.name = widget.title.clone();
                }
            });
            stored.set(widget);
            saved.set(now.clone());
            draft.set(now);
            problem.set(None);
            just_saved.set(true);
        }
        Some(Err(err)) => {
            let message = err.to_string();
            problem.set(Some((field_of(&message), message)));
        }
        None => {}
    });
    Effect::new(move |_| dirty.set(draft.get() != saved.get()));
    let error_at = move |field: &'static str| move || problem.get().filter(|(at, _)| *at == field).map(|(_, m)| m);
    let status = move || super::save_status(save.pending().get(), just_saved.get(), dirty.get());
    let archived = RwSignal::new(chatbot.archived);
    let bot_id = chatbot.bot_id.clone();
    let created = clock::day_of(&chatbot.created_at);
    view! {
        <form
            class="general-form"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                if !save.pending().get_untracked() {
                    save.dispatch(draft.get_untracked());
                }
            }
        >
            <label for="general-name">"Name"</label>
            <input
                id="general-name"
                type="text"
                maxlength=MAX_CHATBOT_NAME_CHARS
                aria-describedby="general-name-hint general-name-error"
                prop:value=move || draft.with(|d| d.name.clone())
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    just_saved.set(false);
                    draft.update(|d| d.name = value);
                }
            />
            <p class="hint" id="general-name-hint">"The widget's title, and how the team sees this chatbot."</p>
            <p class="error" id="general-name-error" role="alert">{error_at("name")}</p>
            <label for="general-greeting">"Greeting"</label>
            <textarea
                id="general-greeting"
                rows=3
                aria-describedby="general-greeting-hint general-greeting-error"
                prop:value=move || draft.with(|d| d.greeting.clone())
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    just_saved.set(false);
                    draft.update(|d| d.greeting = value);
                }
            ></textarea>
            <p class="hint" id="general-greeting-hint">
                "The first message of every conversation (up to 500 characters); empty: the bot waits for the visitor."
            </p>
            <p class="error" id="general-greeting-error" role="alert">{error_at("greeting")}</p>
            <p class="error" role="alert">{error_at("form")}</p>
            <div class="form-actions">
                <span class="muted" role="status">{status}</span>
                <button type="submit" class="primary" disabled=move || !dirty.get() || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
            </div>
        </form>

        <h3>"On your website"</h3>
        <p>
            "Public id " <code>{bot_id.clone()}</code>
            {(!created.is_empty()).then(|| format!(" · created {created}"))}
        </p>
        <EmbedTag tag=chatbot.embed.clone()/>

        <Archive bot_id name=move || saved.with(|d| d.name.clone()) archived chatbots/>
    }
}

/// The embed tag, with a Copy button.
#[component]
pub fn EmbedTag(tag: String) -> impl IntoView {
    let copied = RwSignal::new(None::<&'static str>);
    let shown = tag.clone();
    let text = tag;
    let copy = move |_| {
        browser::copy_text(&text, move |done| {
            copied.set(Some(if done { "Copied." } else { "The browser refused: select the tag and copy it." }));
        });
    };
    view! {
        <div class="embed-tag">
            <label for="embed-tag">"Embed tag: add it to every page that shows the widget"</label>
            <textarea id="embed-tag" class="code" rows=2 readonly prop:value=shown></textarea>
            <div class="form-actions">
                <span class="muted" role="status">{move || copied.get()}</span>
                <button type="button" on:click=copy>"Copy"</button>
            </div>
        </div>
    }
}

#[component]
fn Archive(
    bot_id: String,
    name: impl Fn() -> String + Copy + Send + Sync + 'static,
    archived: RwSignal<bool>,
    chatbots: RwSignal<Vec<ChatbotItem>>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let change = Action::new(move |to: &bool| archive_chatbot(bot_id.clone(), *to));
    Effect::new(move |_| match change.value().get() {
        Some(Ok(ChatbotResponse { chatbot, .. })) => {
            archived.set(chatbot.archived);
            chatbots.update(|all| {
                if let Some(item) = all.iter_mut().find(|c| c.bot_id == chatbot.bot_id) {
                    item.archived = chatbot.archived;
                }
            });
            asking.set(false);
            problem.set(None);
        }
        Some(Err(err)) => problem.set(Some(err.to_string())),
        None => {}
    });
    let close = move || asking.set(false);
    view! {
        <h3>"Archive"</h3>
        <Show
            when=move || archived.get()
            fallback=move || {
                view! {
                    <p class="muted">
                        "An archived chatbot's widget says the chat is closed and starts no conversation. Its \
                         conversations stay readable in the Inbox, and you can put it back in service at any time."
                    </p>
                    <button type="button" class="danger" on:click=move |_| asking.set(true)>"Archive this chatbot"</button>
                }
            }
        >
            <p role="status">
                <strong>"Archived. "</strong>
                "Its widget says the chat is closed; its conversations stay in the Inbox."
            </p>
            <button type="button" disabled=move || change.pending().get() on:click=move |_| { change.dispatch(false); }>
                "Put back in service"
            </button>
        </Show>
        <p class="error" role="alert">{move || problem.get().filter(|_| !asking.get())}</p>
        <Show when=move || asking.get()>
            <Dialog title="Archive this chatbot?" close>
                <p>{move || format!("“{}” will stop taking conversations: its widget will say the chat is closed.", name())}</p>
                <p class="error" role="alert">{move || problem.get()}</p>
                <div class="form-actions">
                    <button type="button" on:click=move |_| close()>"Cancel"</button>
                    <button
                        type="button"
                        class="danger"
                        disabled=move || change.pending().get()
                        on:click=move |_| { change.dispatch(true); }
                    >
                        {move || if change.pending().get() { "Archiving…" } else { "Archive" }}
                    </button>
                </div>
            </Dialog>
        </Show>
    }
}

#[component]
fn CreateChatbot(chatbots: RwSignal<Vec<ChatbotItem>>, open: Callback<String>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let create = Action::new(|name: &String| create_chatbot(name.clone()));
    Effect::new(move |_| match create.value().get() {
        Some(Ok(ChatbotResponse { chatbot, .. })) => {
            chatbots.update(|all| {
                all.push(ChatbotItem { bot_id: chatbot.bot_id.clone(), name: chatbot.name.clone(), archived: false })
            });
            name.set(String::new());
            problem.set(None);
            open.run(chatbot.bot_id);
        }
        Some(Err(err)) => problem.set(Some(err.to_string())),
        None => {}
    });
    view! {
        <h3>"Create a chatbot"</h3>
        <form
            class="create-chatbot"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                if !create.pending().get_untracked() {
                    create.dispatch(name.get_untracked());
                }
            }
        >
            <label for="new-chatbot-name">"New chatbot's name"</label>
            <input
                id="new-chatbot-name"
                type="text"
                maxlength=MAX_CHATBOT_NAME_CHARS
                aria-describedby="new-chatbot-hint new-chatbot-error"
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
            <p class="hint" id="new-chatbot-hint">
                "It gets its own public id and embed tag, the default look and greeting, and no knowledge yet."
            </p>
            <p class="error" id="new-chatbot-error" role="alert">{move || problem.get()}</p>
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { "Creating…" } else { "Create chatbot" }}
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_land_next_to_their_field() {
        assert_eq!(field_of("the greeting is longer than 500 characters"), "greeting");
        assert_eq!(field_of("the title is empty"), "name");
        assert_eq!(field_of("only admins can change a chatbot's widget"), "form");
    }
}
