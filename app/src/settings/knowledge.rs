//! Settings → Knowledge: what the chatbot answers from. "What would the bot
//! answer?" on top, then the entry form (add, or edit the entry picked below), a
//! file import (Markdown or CSV), and the entries, searchable, each with Edit and
//! Delete (after a confirmation). Every change is used by the next bot turn.

use leptos::prelude::*;

use super::{
    api::{ask_knowledge, delete_knowledge, import_knowledge, save_knowledge, ImportResponse, KnowledgeResponse},
    DISCARD,
};
use crate::{
    browser,
    domain::knowledge::{Entry, EntryDraft, EntryKind, ImportFormat, Match, Probe, MAX_BODY_CHARS, MAX_TITLE_CHARS},
    layout::Dialog,
};

/// Largest file the page sends (the server's import limit, less the JSON around it).
const MAX_FILE_BYTES: usize = 1024 * 1024;

/// The entry form as typed: `id` is the entry being edited (none: a new one).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Draft {
    id: Option<String>,
    kind: EntryKind,
    title: String,
    body: String,
}

impl Draft {
    fn new() -> Draft {
        Draft { id: None, kind: EntryKind::Qa, title: String::new(), body: String::new() }
    }

    fn of(entry: &Entry) -> Draft {
        Draft { id: Some(entry.id.clone()), kind: entry.kind, title: entry.title.clone(), body: entry.body.clone() }
    }

    fn entry(&self) -> EntryDraft {
        EntryDraft { id: self.id.clone(), kind: self.kind, title: self.title.clone(), body: self.body.clone() }
    }
}

/// Which field of the entry form a refusal is about (`title: ...`, `body: ...`).
fn field_of(message: &str) -> &'static str {
    if message.starts_with("title:") {
        "title"
    } else if message.starts_with("body:") {
        "body"
    } else {
        "form"
    }
}

/// The entries whose question, title or text holds `search` (any case).
fn matching<'a>(entries: &'a [Entry], search: &str) -> Vec<&'a Entry> {
    let search = search.trim().to_lowercase();
    entries
        .iter()
        .filter(|e| {
            search.is_empty() || e.title.to_lowercase().contains(&search) || e.body.to_lowercase().contains(&search)
        })
        .collect()
}

/// The first line of an entry's text, cut to a glance.
fn excerpt(body: &str) -> String {
    let line = body.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().trim();
    let short: String = line.chars().take(160).collect();
    if short.len() < line.len() || body.trim().lines().count() > 1 {
        format!("{short}…")
    } else {
        short
    }
}

/// `dirty`: the entry form holds edits not saved yet (the console asks before leaving).
#[component]
pub fn Knowledge(bot_id: String, entries: Vec<Entry>, dirty: RwSignal<bool>) -> impl IntoView {
    let entries = RwSignal::new(entries);
    let origin = RwSignal::new(Draft::new());
    let draft = RwSignal::new(Draft::new());
    Effect::new(move |_| dirty.set(draft.get() != origin.get()));
    let deleting = RwSignal::new(None::<Entry>);
    let search = RwSignal::new(String::new());
    let title_input = NodeRef::<leptos::html::Input>::new();
    let edit = move |entry: &Entry| {
        if dirty.get_untracked() && !browser::confirm(DISCARD) {
            return;
        }
        origin.set(Draft::of(entry));
        draft.set(Draft::of(entry));
        if let Some(input) = title_input.get_untracked() {
            let _ = input.focus();
        }
    };
    let shown = move || {
        entries.with(|all| {
            let found = search.with(|s| matching(all, s).into_iter().cloned().collect::<Vec<_>>());
            (all.len(), found)
        })
    };
    let list = move || {
        let (total, found) = shown();
        if total == 0 {
            return view! { <p class="empty">"No knowledge yet: add an entry or import a file."</p> }.into_any();
        }
        if found.is_empty() {
            let asked = search.get_untracked();
            return view! { <p class="empty">{format!("No entry holds “{}”.", asked.trim())}</p> }.into_any();
        }
        let items = found
            .into_iter()
            .map(|entry| {
                let (for_edit, for_delete) = (entry.clone(), entry.clone());
                let kind = match entry.kind {
                    EntryKind::Qa => "Q&A",
                    EntryKind::Article => "Article",
                };
                view! {
                    <li class="knowledge-entry">
                        <div>
                            <span class="tag">{kind}</span>
                            " "
                            <strong>{entry.title.clone()}</strong>
                            <p class="muted">{excerpt(&entry.body)}</p>
                        </div>
                        <div class="entry-actions">
                            <button
                                type="button"
                                aria-label=format!("Edit “{}”", entry.title)
                                on:click=move |_| edit(&for_edit)
                            >
                                "Edit"
                            </button>
                            <button
                                type="button"
                                class="danger"
                                aria-label=format!("Delete “{}”", entry.title)
                                on:click=move |_| deleting.set(Some(for_delete.clone()))
                            >
                                "Delete"
                            </button>
                        </div>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="knowledge-list">{items}</ul> }.into_any()
    };
    let count = move || match entries.with(Vec::len) {
        0 => String::new(),
        1 => "1 entry".to_owned(),
        n => format!("{n} entries"),
    };
    view! {
        <h2>"Knowledge"</h2>
        <p class="muted">
            "What the bot answers from: questions with their answers, and articles. A change is used by the very next "
            "bot turn, in every conversation."
        </p>
        <Ask bot_id=bot_id.clone()/>
        <EntryForm bot_id=bot_id.clone() entries origin draft title_input/>
        <Import bot_id=bot_id.clone() entries/>
        <div class="knowledge-head">
            <h3>"Entries"</h3>
            <span class="muted" role="status">{count}</span>
        </div>
        <label for="knowledge-search">"Search entries"</label>
        <input
            id="knowledge-search"
            type="search"
            prop:value=move || search.get()
            on:input=move |ev| search.set(event_target_value(&ev))
        />
        {list}
        <Show when=move || deleting.get().is_some()>
            <DeleteDialog bot_id=bot_id.clone() deleting entries origin draft/>
        </Show>
    }
}

/// "What would the bot answer?": the entry it would answer with and its score, or
/// that it would say it does not know (and the nearest entry, too weak to answer).
#[component]
fn Ask(bot_id: String) -> impl IntoView {
    let question = RwSignal::new(String::new());
    let ask = Action::new(move |question: &String| ask_knowledge(bot_id.clone(), question.clone()));
    let result = move || {
        ask.value().get().map(|answer| match answer {
            Ok(response) => view! { <ProbeResult probe=response.probe/> }.into_any(),
            Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <form
            class="knowledge-ask card"
            on:submit=move |ev| {
                ev.prevent_default();
                if !ask.pending().get_untracked() {
                    ask.dispatch(question.get_untracked());
                }
            }
        >
            <label for="knowledge-question">"What would the bot answer?"</label>
            <div class="inline-field">
                <input
                    id="knowledge-question"
                    type="text"
                    placeholder="Ask as a visitor would: “Can I get a refund?”"
                    prop:value=move || question.get()
                    on:input=move |ev| question.set(event_target_value(&ev))
                />
                <button type="submit" disabled=move || ask.pending().get()>
                    {move || if ask.pending().get() { "Asking…" } else { "Ask" }}
                </button>
            </div>
            <div aria-live="polite">{result}</div>
        </form>
    }
}

fn how_found(found: &Match) -> String {
    let how = if found.by_meaning { "by meaning" } else { "by its words" };
    format!("score {:.2}, {how}", found.score)
}

#[component]
fn ProbeResult(probe: Probe) -> impl IntoView {
    let Probe { answer, nearest, reply, needs } = probe;
    let verdict = match (answer, nearest) {
        (Some(found), _) => view! {
            <p class="probe-verdict">
                "It answers from " <strong>{format!("“{}”", found.title)}</strong> {format!(" ({}).", how_found(&found))}
            </p>
        }
        .into_any(),
        (None, Some(near)) => view! {
            <p class="probe-verdict">
                "It would say it doesn't know. The nearest entry, " <strong>{format!("“{}”", near.title)}</strong>
                {format!(", has a score of {:.2}; an entry needs {needs:.2} to answer.", near.score)}
            </p>
        }
        .into_any(),
        (None, None) => view! {
            <p class="probe-verdict">"It would say it doesn't know: no entry shares a word with the question."</p>
        }
        .into_any(),
    };
    view! {
        <div class="probe" role="status">
            {verdict}
            <blockquote>{reply}</blockquote>
        </div>
    }
}

/// Adds an entry, or saves the one being edited (`origin.id`). Refusals are shown
/// beside the field they name.
#[component]
fn EntryForm(
    bot_id: String,
    entries: RwSignal<Vec<Entry>>,
    origin: RwSignal<Draft>,
    draft: RwSignal<Draft>,
    title_input: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let save = Action::new(move |entry: &EntryDraft| save_knowledge(bot_id.clone(), entry.clone()));
    let problem = RwSignal::new(None::<(&'static str, String)>);
    let saved = RwSignal::new(None::<String>);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(KnowledgeResponse { entries: stored })) => {
            let was_edit = origin.with_untracked(|d| d.id.is_some());
            entries.set(stored);
            origin.set(Draft::new());
            draft.set(Draft::new());
            problem.set(None);
            saved.set(Some(if was_edit { "Entry saved." } else { "Entry added." }.to_owned()));
        }
        Some(Err(err)) => {
            let message = err.to_string();
            problem.set(Some((field_of(&message), message)));
        }
        None => {}
    });
    let error_at = move |field: &'static str| move || problem.get().filter(|p| p.0 == field).map(|p| p.1);
    let editing = move || draft.with(|d| d.id.is_some());
    let kind = move || draft.with(|d| d.kind);
    view! {
        <form
            class="knowledge-form"
            aria-label=move || if editing() { "Edit entry" } else { "Add an entry" }
            on:submit=move |ev| {
                ev.prevent_default();
                if !save.pending().get_untracked() {
                    saved.set(None);
                    save.dispatch(draft.with_untracked(Draft::entry));
                }
            }
        >
            <h3>{move || if editing() { "Edit entry" } else { "Add an entry" }}</h3>
            <label for="entry-kind">"Kind"</label>
            <select
                id="entry-kind"
                prop:value=move || kind().as_str()
                on:change=move |ev| {
                    if let Some(kind) = EntryKind::parse(&event_target_value(&ev)) {
                        draft.update(|d| d.kind = kind);
                    }
                }
            >
                <option value="qa">"Question and answer"</option>
                <option value="article">"Article"</option>
            </select>
            <label for="entry-title">{move || kind().title_label()}</label>
            <input
                id="entry-title"
                type="text"
                node_ref=title_input
                maxlength=MAX_TITLE_CHARS
                aria-describedby="entry-title-error"
                prop:value=move || draft.with(|d| d.title.clone())
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    saved.set(None);
                    draft.update(|d| d.title = value);
                }
            />
            <p class="error" id="entry-title-error" role="alert">{error_at("title")}</p>
            <label for="entry-body">{move || kind().body_label()}</label>
            <textarea
                id="entry-body"
                rows=5
                aria-describedby="entry-body-hint entry-body-error"
                prop:value=move || draft.with(|d| d.body.clone())
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    saved.set(None);
                    draft.update(|d| d.body = value);
                }
            ></textarea>
            <p class="hint" id="entry-body-hint">
                {format!("Up to {MAX_BODY_CHARS} characters. The bot says it as written.")}
            </p>
            <p class="error" id="entry-body-error" role="alert">{error_at("body")}</p>
            <p class="error" role="alert">{error_at("form")}</p>
            <div class="form-actions">
                <span class="muted" role="status">{move || saved.get()}</span>
                <Show when=editing>
                    <button
                        type="button"
                        on:click=move |_| {
                            origin.set(Draft::new());
                            draft.set(Draft::new());
                            problem.set(None);
                        }
                    >
                        "Cancel editing"
                    </button>
                </Show>
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    {move || match (save.pending().get(), editing()) {
                        (true, _) => "Saving…",
                        (false, true) => "Save entry",
                        (false, false) => "Add entry",
                    }}
                </button>
            </div>
        </form>
    }
}

/// Import from a file: Markdown (one `##` heading per entry) or CSV (`question,answer`).
#[component]
fn Import(bot_id: String, entries: RwSignal<Vec<Entry>>) -> impl IntoView {
    let import = Action::new(move |(format, text): &(ImportFormat, String)| {
        import_knowledge(bot_id.clone(), *format, text.clone())
    });
    let file_name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    Effect::new(move |_| match import.value().get() {
        Some(Ok(ImportResponse { imported, entries: stored })) => {
            entries.set(stored);
            problem.set(None);
            let what = if imported == 1 { "1 entry".to_owned() } else { format!("{imported} entries") };
            done.set(Some(format!("Imported {what} from {}.", file_name.get_untracked())));
        }
        Some(Err(err)) => problem.set(Some(format!("{} was not imported: {err}", file_name.get_untracked()))),
        None => {}
    });
    let picked = move |ev: leptos::ev::Event| {
        done.set(None);
        problem.set(None);
        browser::read_picked_file(&ev, MAX_FILE_BYTES, move |read| match read {
            Err(why) => problem.set(Some(why)),
            Ok((name, text)) => match ImportFormat::of_file(&name) {
                None => problem.set(Some(format!("{name} is neither Markdown (.md) nor CSV (.csv)"))),
                Some(format) => {
                    file_name.set(name);
                    import.dispatch((format, text));
                }
            },
        });
    };
    view! {
        <div class="knowledge-import">
            <label for="knowledge-file">"Import a file"</label>
            <input
                id="knowledge-file"
                type="file"
                accept=".md,.markdown,.csv,text/markdown,text/csv"
                aria-describedby="knowledge-file-hint"
                disabled=move || import.pending().get()
                on:change=picked
            />
            <p class="hint" id="knowledge-file-hint">
                "Markdown: one entry per “## ” heading, its text below (a heading ending in “?” makes a question). "
                "CSV: one question,answer per row. A file with a bad entry is refused whole, naming its line."
            </p>
            <p class="muted" role="status">
                {move || if import.pending().get() { Some("Importing…".to_owned()) } else { done.get() }}
            </p>
            <p class="error" role="alert">{move || problem.get()}</p>
        </div>
    }
}

#[component]
fn DeleteDialog(
    bot_id: String,
    deleting: RwSignal<Option<Entry>>,
    entries: RwSignal<Vec<Entry>>,
    origin: RwSignal<Draft>,
    draft: RwSignal<Draft>,
) -> impl IntoView {
    let delete = Action::new(move |id: &String| delete_knowledge(bot_id.clone(), id.clone()));
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(KnowledgeResponse { entries: stored })) => {
            let gone = deleting.get_untracked().map(|e| e.id);
            // The entry being edited is gone: the form starts a new one.
            if gone.is_some() && origin.with_untracked(|d| d.id == gone) {
                origin.set(Draft::new());
                draft.set(Draft::new());
            }
            entries.set(stored);
            deleting.set(None);
        }
        Some(Err(err)) => problem.set(Some(err.to_string())),
        None => {}
    });
    let close = move || deleting.set(None);
    let title = move || deleting.get().map(|e| format!("“{}”", e.title)).unwrap_or_default();
    view! {
        <Dialog title="Delete this entry?" close>
            <p>
                <strong>{title}</strong>
                " is deleted for good. The bot stops answering from it at its next turn."
            </p>
            <p class="error" role="alert">{move || problem.get()}</p>
            <div class="form-actions">
                <button type="button" on:click=move |_| close()>"Cancel"</button>
                <button
                    type="button"
                    class="danger"
                    disabled=move || delete.pending().get()
                    on:click=move |_| {
                        if let Some(entry) = deleting.get_untracked() {
                            delete.dispatch(entry.id);
                        }
                    }
                >
                    {move || if delete.pending().get() { "Deleting…" } else { "Delete" }}
                </button>
            </div>
        </Dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(title: &str, body: &str) -> Entry {
        Entry {
            id: title.into(),
            kind: EntryKind::Qa,
            title: title.into(),
            body: body.into(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn search_reads_titles_and_texts_in_any_case() {
        let all = [entry("Refunds", "Within 30 days"), entry("Shipping", "Worldwide, in 5 DAYS")];
        let titles = |search: &str| matching(&all, search).iter().map(|e| e.title.clone()).collect::<Vec<_>>();
        assert_eq!(titles("days"), ["Refunds", "Shipping"]);
        assert_eq!(titles(" refund "), ["Refunds"]);
        assert_eq!(titles(""), ["Refunds", "Shipping"]);
        assert!(titles("lawyer").is_empty());
    }

    #[test]
    fn refusals_are_shown_beside_their_field() {
        assert_eq!(field_of("title: the question is empty"), "title");
        assert_eq!(field_of("body: the answer is empty"), "body");
        assert_eq!(field_of("a chatbot holds at most 2000 entries: delete some first"), "form");
    }

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(excerpt("Within 30 days."), "Within 30 days.");
        assert_eq!(excerpt("\nFirst line\nsecond"), "First line…");
        assert_eq!(excerpt(&"x".repeat(200)).chars().count(), 161);
    }

    #[test]
    fn an_edit_sends_the_entry_it_edits() {
        let draft = Draft::of(&entry("Refunds", "Within 30 days"));
        assert_eq!(draft.entry().id.as_deref(), Some("Refunds"));
        assert_eq!(Draft::new().entry().id, None);
    }
}
