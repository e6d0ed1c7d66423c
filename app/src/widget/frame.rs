//! The widget inside a host page's frame, talking to `public/embed.js` with
//! postMessage: the host says when the widget is opened or closed; the widget
//! says when it is ready, how many replies are unread, whether a conversation is
//! going on (so the next page of the site loads the widget at once), and when the
//! visitor closes it. Only counts and signals go up: nothing of the conversation.

use leptos::{ev, prelude::*, wasm_bindgen::JsValue};
use serde_json::{json, Value};

use super::chat::Chat;
use crate::domain::StateKind;

/// The host page's window, when the widget is framed.
fn parent() -> Option<web_sys::Window> {
    let window = web_sys::window()?;
    let parent = window.parent().ok().flatten()?;
    (!js_sys::Object::is(parent.as_ref(), window.as_ref())).then_some(parent)
}

fn post(message: &Value) {
    let Some(parent) = parent() else { return };
    if let Ok(value) = js_sys::JSON::parse(&message.to_string()) {
        // "*": the embedding site may be any of the chatbot's allowed origins, and
        // nothing sent here is private.
        let _ = parent.post_message(&value, "*");
    }
}

/// Starts listening to the host page, if there is one.
pub fn attach(chat: Chat) {
    let Some(parent) = parent() else { return };
    chat.embedded.set(true);
    chat.open.set(false);
    let _ = window_event_listener(ev::message, move |event| {
        let from_parent = event.source().is_some_and(|source| js_sys::Object::is(source.as_ref(), parent.as_ref()));
        if !from_parent {
            return;
        }
        let said = js_sys::Reflect::get(&event.data(), &JsValue::from_str("baton")).ok().and_then(|v| v.as_string());
        match said.as_deref() {
            Some("open") => {
                chat.unread.set(0);
                chat.open.set(true);
            }
            Some("closed") => chat.open.set(false),
            _ => {}
        }
    });
    let _ = window_event_listener(ev::keydown, move |event| {
        if event.key() == "Escape" && chat.open.get_untracked() {
            close();
        }
    });
    Effect::new(move |_| post(&json!({"baton": "unread", "count": chat.unread.get()})));
    Effect::new(move |_| {
        let going_on = chat.session.with(Option::is_some) && chat.state.get() != Some(StateKind::HandedOff);
        post(&json!({"baton": "active", "active": going_on}));
    });
    post(&json!({"baton": "ready"}));
}

/// The visitor closes the widget: the host page hides the frame.
pub fn close() {
    post(&json!({"baton": "close"}));
}
