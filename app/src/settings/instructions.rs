//! Settings → Instructions: what the chatbot is told. The free text (for an
//! OpenAI-compatible model), "try a self-serve answer first", and the phrases that
//! always or never hand the chat to a person, one per line. The next bot turn
//! follows what is saved.

use leptos::prelude::*;

use super::api::{save_instructions, InstructionsResponse};
use crate::domain::instructions::{InstructionSettings, MAX_INSTRUCTIONS_CHARS, MAX_PHRASES};

/// The form's fields as typed: phrase lists are one phrase per line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Draft {
    text: String,
    self_serve_first: bool,
    always: String,
    never: String,
}

impl Draft {
    fn of(settings: &InstructionSettings) -> Draft {
        Draft {
            text: settings.text.clone(),
            self_serve_first: settings.self_serve_first,
            always: settings.always_escalate.join("\n"),
            never: settings.never_escalate.join("\n"),
        }
    }

    fn settings(&self, bot_id: &str) -> InstructionSettings {
        let lines = |text: &str| text.lines().map(str::to_owned).collect();
        InstructionSettings {
            bot_id: bot_id.to_owned(),
            text: self.text.clone(),
            self_serve_first: self.self_serve_first,
            always_escalate: lines(&self.always),
            never_escalate: lines(&self.never),
        }
    }
}

/// `dirty`: the form holds edits not saved yet (the console asks before leaving).
#[component]
pub fn Instructions(settings: InstructionSettings, dirty: RwSignal<bool>) -> impl IntoView {
    let bot_id = settings.bot_id.clone();
    let saved = RwSignal::new(Draft::of(&settings));
    let draft = RwSignal::new(Draft::of(&settings));
    let save = Action::new(move |settings: &InstructionSettings| save_instructions(settings.clone()));
    let problem = RwSignal::new(None::<String>);
    let just_saved = RwSignal::new(false);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(InstructionsResponse { instructions })) => {
            let stored = Draft::of(&instructions);
            saved.set(stored.clone());
            draft.set(stored);
            problem.set(None);
            just_saved.set(true);
        }
        Some(Err(err)) => problem.set(Some(err.to_string())),
        None => {}
    });
    Effect::new(move |_| dirty.set(draft.get() != saved.get()));
    let status = move || super::save_status(save.pending().get(), just_saved.get(), dirty.get());
    view! {
        <h2>"Instructions"</h2>
        <p class="muted">"What the bot is told. Its next turn, in every conversation, follows what you save here."</p>
        <form
            class="instructions-form"
            on:submit=move |ev| {
                ev.prevent_default();
                if !save.pending().get_untracked() {
                    save.dispatch(draft.with_untracked(|d| d.settings(&bot_id)));
                }
            }
        >
            <DraftArea
                id="instructions-text"
                label="Instructions for the AI"
                rows=6
                hint=format!(
                    "Tone, scope and what to say, in your words (up to {MAX_INSTRUCTIONS_CHARS} characters). An \
                     OpenAI-compatible model gets this text as written; the built-in AI follows the switch and the \
                     phrases below."
                )
                read=|d| d.text.clone()
                write=|d, v| d.text = v
                draft
                just_saved
            />

            <label class="check">
                <input
                    type="checkbox"
                    aria-describedby="instructions-self-serve-hint"
                    prop:checked=move || draft.with(|d| d.self_serve_first)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        just_saved.set(false);
                        draft.update(|d| d.self_serve_first = on);
                    }
                />
                "Try a self-serve answer first"
            </label>
            <p class="hint" id="instructions-self-serve-hint">
                "Before handing over an issue it cannot resolve, the bot offers the best answer from the knowledge base \
                 once. Explicit requests for a person are never delayed."
            </p>

            <DraftArea
                id="instructions-always"
                label="Always hand over when a message contains"
                rows=4
                hint=format!(
                    "One phrase per line (up to {MAX_PHRASES}), any case: \"refund\", \"legal\". A message holding one \
                     goes to a person at once."
                )
                read=|d| d.always.clone()
                write=|d, v| d.always = v
                draft
                just_saved
            />
            <DraftArea
                id="instructions-never"
                label="Never hand over when a message contains"
                rows=4
                hint="One phrase per line: the bot answers these itself, even when asked for a person (\"pricing\"). \
                      These win over the list above."
                    .to_owned()
                read=|d| d.never.clone()
                write=|d, v| d.never = v
                draft
                just_saved
            />

            <p class="error" role="alert">{move || problem.get()}</p>
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

/// One text area of the form with its label and hint, bound to one field of the draft.
#[component]
fn DraftArea(
    id: &'static str,
    label: &'static str,
    rows: u8,
    hint: String,
    read: fn(&Draft) -> String,
    write: fn(&mut Draft, String),
    draft: RwSignal<Draft>,
    just_saved: RwSignal<bool>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <label for=id>{label}</label>
        <textarea
            id=id
            rows=rows
            aria-describedby=hint_id.clone()
            prop:value=move || draft.with(read)
            on:input=move |ev| {
                let value = event_target_value(&ev);
                just_saved.set(false);
                draft.update(|d| write(d, value));
            }
        ></textarea>
        <p class="hint" id=hint_id>{hint}</p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_reads_back_what_it_was_made_from() {
        let settings = InstructionSettings {
            bot_id: "demo".into(),
            text: "Be brief.".into(),
            self_serve_first: false,
            always_escalate: vec!["refund".into(), "legal".into()],
            never_escalate: vec!["pricing".into()],
        };
        let draft = Draft::of(&settings);
        assert_eq!(draft.always, "refund\nlegal");
        assert_eq!(draft.settings("demo"), settings);
    }
}
