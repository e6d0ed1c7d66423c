//! Settings → AI model: which AI answers this chatbot. The server's default, the
//! built-in AI, or an OpenAI-compatible endpoint (base URL, model, key) with **Test
//! connection**, one real request whose failure is said in plain words. The key is
//! written, never shown again.

use leptos::prelude::*;

use super::api::{save_model, test_model, ModelResponse, ModelTestResponse};
use crate::domain::model::{ModelDraft, ModelKind, ModelSettings, ModelTested};

/// The form's fields as typed. `api_key` is a new key (empty: keep the stored one).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Draft {
    kind: ModelKind,
    base_url: String,
    model: String,
    api_key: String,
    forget_key: bool,
}

impl Draft {
    fn of(settings: &ModelSettings) -> Draft {
        Draft {
            kind: settings.kind,
            base_url: settings.base_url.clone(),
            model: settings.model.clone(),
            api_key: String::new(),
            forget_key: false,
        }
    }

    fn request(&self, bot_id: &str) -> ModelDraft {
        ModelDraft {
            bot_id: bot_id.to_owned(),
            kind: self.kind,
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            api_key: Some(self.api_key.clone()).filter(|k| !k.trim().is_empty()),
            forget_key: self.forget_key,
        }
    }
}

/// Which field a refusal is about, from its message ("base_url: is empty…").
fn field_of(message: &str) -> &'static str {
    ["base_url", "model", "api_key"].into_iter().find(|f| message.starts_with(&format!("{f}:"))).unwrap_or("form")
}

/// What the key field's hint says about the stored key.
fn key_line(settings: &ModelSettings) -> String {
    match (settings.key_set, settings.key_hint.as_deref()) {
        (true, Some(hint)) => format!(
            "A key ending {hint} is stored, encrypted. Leave this empty to keep it; changing the base URL forgets it."
        ),
        (true, None) => {
            "A key is stored, encrypted. Leave this empty to keep it; changing the base URL forgets it.".to_owned()
        }
        (false, _) => {
            "Stored encrypted and never shown again. Leave it empty for a local server that needs none.".to_owned()
        }
    }
}

fn tested_line(tested: &ModelTested) -> String {
    let reply = if tested.reply.is_empty() { "an empty reply".to_owned() } else { format!("“{}”", tested.reply) };
    format!("Connected: {} answered {reply} in {} ms.", tested.model, tested.elapsed_ms)
}

/// `dirty`: the form holds edits not saved yet (the console asks before leaving).
#[component]
pub fn Model(settings: ModelSettings, dirty: RwSignal<bool>) -> impl IntoView {
    let bot_id = StoredValue::new(settings.bot_id.clone());
    let stored = RwSignal::new(settings.clone());
    let saved = RwSignal::new(Draft::of(&settings));
    let draft = RwSignal::new(Draft::of(&settings));
    let just_saved = RwSignal::new(false);
    let problem = RwSignal::new(None::<(&'static str, String)>);
    let save = Action::new(move |request: &ModelDraft| save_model(request.clone()));
    let test = Action::new(move |draft: &Draft| {
        let (base_url, model) = (draft.base_url.clone(), draft.model.clone());
        let api_key = Some(draft.api_key.clone()).filter(|k| !k.trim().is_empty());
        test_model(bot_id.get_value(), base_url, model, api_key)
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(ModelResponse { model })) => {
            let now = Draft::of(&model);
            stored.set(model);
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
    let endpoint = move || draft.with(|d| d.kind == ModelKind::Openai);
    let edit = move |change: Box<dyn FnOnce(&mut Draft)>| {
        just_saved.set(false);
        test.value().set(None);
        draft.update(|d| change(d));
    };
    let choice = move |kind: ModelKind, label: String, hint: &'static str| {
        let hint_id = format!("model-kind-{}-hint", kind.as_str());
        view! {
            <label class="check">
                <input
                    type="radio"
                    name="model-kind"
                    value=kind.as_str()
                    aria-describedby=hint_id.clone()
                    prop:checked=move || draft.with(|d| d.kind == kind)
                    on:change=move |_| edit(Box::new(move |d| d.kind = kind))
                />
                {label}
            </label>
            <p class="hint" id=hint_id>{hint}</p>
        }
    };
    let server_default = format!("The server's default: {}", settings.server_default);
    let test_result = move || match test.value().get() {
        Some(Ok(ModelTestResponse { tested })) => {
            Some(view! { <p class="tested" role="status">{tested_line(&tested)}</p> }.into_any())
        }
        Some(Err(err)) => {
            Some(view! { <p class="error" role="alert">{format!("The test failed: {err}")}</p> }.into_any())
        }
        None => None,
    };
    view! {
        <h2>"AI model"</h2>
        <p class="muted">"Which AI answers this chatbot's visitors. The next bot turn uses what you save here."</p>
        <form
            class="model-form"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                if !save.pending().get_untracked() {
                    save.dispatch(draft.with_untracked(|d| d.request(&bot_id.get_value())));
                }
            }
        >
            <fieldset>
                <legend>"Which AI answers"</legend>
                {choice(
                    ModelKind::Default,
                    server_default,
                    "Set for the whole server by BATON_BRAIN and BATON_LLM_*; changes there apply here.",
                )}
                {choice(
                    ModelKind::Builtin,
                    "The built-in AI".to_owned(),
                    "Baton's own rules and sentence model: nothing leaves this server.",
                )}
                {choice(
                    ModelKind::Openai,
                    "An OpenAI-compatible endpoint".to_owned(),
                    "OpenAI, or a local Ollama, vLLM or llama.cpp server. If it fails or is slow, the built-in AI \
                     takes the turn.",
                )}
            </fieldset>
            <Show when=endpoint>
                <label for="model-base-url">"Base URL"</label>
                <input
                    id="model-base-url"
                    type="url"
                    placeholder="https://api.openai.com/v1"
                    aria-describedby="model-base-url-hint model-base-url-error"
                    prop:value=move || draft.with(|d| d.base_url.clone())
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        edit(Box::new(move |d| d.base_url = value));
                    }
                />
                <p class="hint" id="model-base-url-hint">"Up to and including /v1, such as http://127.0.0.1:11434/v1 for Ollama."</p>
                <p class="error" id="model-base-url-error" role="alert">{error_at("base_url")}</p>
                <label for="model-name">"Model"</label>
                <input
                    id="model-name"
                    placeholder="gpt-4o-mini"
                    aria-describedby="model-name-error"
                    prop:value=move || draft.with(|d| d.model.clone())
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        edit(Box::new(move |d| d.model = value));
                    }
                />
                <p class="error" id="model-name-error" role="alert">{error_at("model")}</p>
                <label for="model-key">"API key"</label>
                <input
                    id="model-key"
                    type="password"
                    autocomplete="off"
                    aria-describedby="model-key-hint model-key-error"
                    prop:value=move || draft.with(|d| d.api_key.clone())
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        edit(Box::new(move |d| d.api_key = value));
                    }
                />
                <p class="hint" id="model-key-hint">{move || stored.with(key_line)}</p>
                <p class="error" id="model-key-error" role="alert">{error_at("api_key")}</p>
                <Show when=move || stored.with(|s| s.key_set)>
                    <label class="check">
                        <input
                            type="checkbox"
                            prop:checked=move || draft.with(|d| d.forget_key)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                edit(Box::new(move |d| d.forget_key = on));
                            }
                        />
                        "Forget the stored key"
                    </label>
                </Show>
                <div class="model-test">
                    <button
                        type="button"
                        disabled=move || test.pending().get()
                        on:click=move |_| {
                            test.dispatch(draft.get_untracked());
                        }
                    >
                        {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                    </button>
                    {test_result}
                </div>
            </Show>
            <p class="error" role="alert">{error_at("form")}</p>
            <div class="form-actions">
                <span class="muted" role="status">{status}</span>
                <button
                    type="button"
                    disabled=move || !dirty.get() || save.pending().get()
                    on:click=move |_| {
                        draft.set(saved.get_untracked());
                        problem.set(None);
                    }
                >
                    "Discard changes"
                </button>
                <button type="submit" class="primary" disabled=move || !dirty.get() || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> ModelSettings {
        ModelSettings {
            bot_id: "demo".into(),
            kind: ModelKind::Openai,
            base_url: "http://127.0.0.1:11434/v1".into(),
            model: "llama3".into(),
            key_set: true,
            key_hint: Some("abcd".into()),
            server_default: "the built-in AI".into(),
        }
    }

    #[test]
    fn an_untouched_draft_keeps_the_stored_key() {
        let request = Draft::of(&stored()).request("demo");
        assert_eq!(request.api_key, None);
        assert!(!request.forget_key);
        assert_eq!(request.model, "llama3");
    }

    #[test]
    fn refusals_land_beside_their_field() {
        assert_eq!(field_of("base_url: is empty"), "base_url");
        assert_eq!(field_of("model: is empty"), "model");
        assert_eq!(field_of("api_key: holds a space"), "api_key");
        assert_eq!(field_of("only admins can change a chatbot's settings"), "form");
        assert!(key_line(&stored()).contains("ending abcd"));
    }
}
