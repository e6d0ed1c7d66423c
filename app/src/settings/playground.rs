//! Settings → Playground: the admin chats with this chatbot as a visitor would, beside
//! a panel that says, for every bot turn, what it decided and why. The page holds the
//! transcript and sends it with each message; nothing is stored, so nothing reaches
//! the Inbox, a help desk or the counts. Each send uses the instructions and the
//! knowledge as they are at that moment.

use leptos::prelude::*;

use super::api::{run_playground, PlaygroundResponse};
use crate::{
    domain::playground::{Decision, EntryUsed, PendingHandover, PlaygroundLine, PlaygroundTurn, Speaker},
    inbox::reason_label,
};

/// One bot turn in the panel: the bot line it produced, and why.
#[derive(Debug, Clone, PartialEq)]
struct Explained {
    number: usize,
    turn: PlaygroundTurn,
}

fn entry_line(entry: &EntryUsed) -> String {
    if entry.answers {
        format!("Answers from “{}” (score {:.2})", entry.title, entry.score)
    } else {
        format!("Nearest entry “{}” (score {:.2}): too weak to answer from", entry.title, entry.score)
    }
}

#[component]
pub fn Playground(bot_id: String, greeting: String, dirty: RwSignal<bool>) -> impl IntoView {
    let bot_id = StoredValue::new(bot_id);
    let opening = vec![PlaygroundLine { from: Speaker::Bot, text: greeting }];
    let lines = RwSignal::new(opening.clone());
    let explained = RwSignal::new(Vec::<Explained>::new());
    let pending = RwSignal::new(None::<PendingHandover>);
    let handed_over = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let send = Action::new(move |(lines, pending): &(Vec<PlaygroundLine>, Option<PendingHandover>)| {
        run_playground(bot_id.get_value(), lines.clone(), pending.clone())
    });
    Effect::new(move |_| match send.value().get() {
        Some(Ok(PlaygroundResponse { turn })) => {
            let sent = send.input().get_untracked().map(|(sent, _)| sent).unwrap_or_default();
            let mut now = sent;
            now.push(PlaygroundLine { from: Speaker::Bot, text: turn.reply.clone() });
            lines.set(now);
            pending.set(turn.pending.clone());
            handed_over.set(turn.decision == Decision::Escalate);
            explained.update(|all| all.push(Explained { number: all.len() + 1, turn }));
            draft.set(String::new());
            problem.set(None);
        }
        Some(Err(err)) => problem.set(Some(err.to_string())),
        None => {}
    });
    Effect::new(move |_| dirty.set(!draft.with(|d| d.trim().is_empty())));
    let reset = move |_| {
        lines.set(opening.clone());
        explained.set(Vec::new());
        pending.set(None);
        handed_over.set(false);
        draft.set(String::new());
        problem.set(None);
        send.value().set(None);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        if text.trim().is_empty() || send.pending().get_untracked() || handed_over.get_untracked() {
            return;
        }
        let mut next = lines.get_untracked();
        next.push(PlaygroundLine { from: Speaker::Visitor, text });
        send.dispatch((next, pending.get_untracked()));
    };
    let transcript = move || {
        lines
            .get()
            .into_iter()
            .map(|line| {
                let (class, who) = match line.from {
                    Speaker::Visitor => ("line visitor", "You"),
                    Speaker::Bot => ("line bot", "Bot"),
                };
                view! {
                    <li class=class>
                        <span class="visually-hidden">{format!("{who}: ")}</span>
                        {line.text}
                    </li>
                }
            })
            .collect_view()
    };
    let sending = move || {
        send.pending().get().then(|| {
            let text = send.input().get().and_then(|(sent, _)| sent.last().map(|l| l.text.clone()));
            view! { <li class="line visitor sending" aria-busy="true">{text}</li> }
        })
    };
    let panel = move || {
        let all = explained.get();
        if all.is_empty() {
            return view! {
                <p class="empty">"Send a message: each bot turn's decision, its reasons and the knowledge it used show here."</p>
            }
            .into_any();
        }
        let turns = all
            .into_iter()
            .rev()
            .map(|Explained { number, turn }| {
                let reason = turn.reason.map(|r| {
                    view! {
                        <p class="reason" data-reason=r.as_str()>
                            {format!("Reason: {} ", reason_label(r))}
                            <code>{r.as_str()}</code>
                        </p>
                    }
                });
                let signals = if turn.signals.is_empty() {
                    view! { <li class="muted">"No escalation signal fired."</li> }.into_any()
                } else {
                    turn.signals
                        .iter()
                        .map(|s| {
                            view! {
                                <li data-signal=s.kind.clone()>
                                    <code>{s.kind.clone()}</code>
                                    " "
                                    {s.detail.clone()}
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                };
                let knowledge = turn.entry.as_ref().map_or_else(|| "No knowledge entry matched".to_owned(), entry_line);
                let summary =
                    turn.summary.clone().map(|s| view! { <p class="summary">"Summary for the team: " {s}</p> });
                view! {
                    <li class="why" aria-label=format!("Turn {number}")>
                        <h3>{format!("Turn {number}: {}", turn.decision.label())}</h3>
                        {reason}
                        <p>{format!("Frustration: {:.2}", turn.frustration)}</p>
                        <ul class="signals">{signals}</ul>
                        <p>{knowledge}</p>
                        {summary}
                        <p class="muted">{format!("Answered by {}", turn.brain)}</p>
                    </li>
                }
            })
            .collect_view();
        view! { <ol class="why-list">{turns}</ol> }.into_any()
    };
    view! {
        <h2>"Playground"</h2>
        <p class="muted">
            "Chat with this chatbot as a visitor would: the same AI, knowledge, instructions and email step. Nothing \
             you send here reaches the Inbox, a help desk or the counts."
        </p>
        <div class="playground">
            <section class="playground-chat" aria-label="Playground chat">
                <ol class="playground-lines" aria-live="polite">{transcript} {sending}</ol>
                <Show when=move || handed_over.get()>
                    <p class="handed-over" role="status">
                        "Here a person would take over. Nothing was sent to the team: Reset to start again."
                    </p>
                </Show>
                <form class="playground-composer" novalidate on:submit=submit>
                    <label for="playground-message">"Message"</label>
                    <textarea
                        id="playground-message"
                        rows=2
                        disabled=move || handed_over.get()
                        prop:value=move || draft.get()
                        on:input=move |ev| draft.set(event_target_value(&ev))
                    ></textarea>
                    <p class="error" role="alert">{move || problem.get()}</p>
                    <div class="form-actions">
                        <button type="button" on:click=reset>"Reset"</button>
                        <button
                            type="submit"
                            class="primary"
                            disabled=move || send.pending().get() || handed_over.get()
                        >
                            {move || if send.pending().get() { "Sending…" } else { "Send" }}
                        </button>
                    </div>
                </form>
            </section>
            <section class="playground-why" aria-label="Why the bot did it">
                <h3 class="visually-hidden">"Why the bot did it"</h3>
                {panel}
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panel_says_whether_the_entry_was_strong_enough() {
        let entry = EntryUsed { entry_id: "k1".into(), title: "Plans".into(), score: 0.8, answers: true };
        assert_eq!(entry_line(&entry), "Answers from “Plans” (score 0.80)");
        let weak = EntryUsed { answers: false, score: 0.25, ..entry };
        assert!(entry_line(&weak).contains("too weak"));
    }
}
