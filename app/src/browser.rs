//! The few browser facilities the pages use outside of rendering: random ids, the
//! clock, timers, the address bar, notifications, a chime, files picked for import,
//! and the outgoing side of the live sockets. Only event handlers and effects reach
//! these, and those run only in the browser; on the server they are inert
//! stand-ins, so components need no `cfg` of their own.

use std::time::Duration;

use leptos::prelude::*;

pub use imp::*;

/// The time of a message or note (`at`, RFC 3339 UTC from the server) as the viewer's
/// own clock shows it, "14:05": the one way both the widget and the Inbox show times.
pub fn time_of(at: &str) -> String {
    crate::domain::clock::epoch_ms(at).map(local_clock).unwrap_or_default()
}

/// The longest wait between two attempts to reconnect a live socket.
pub const LONGEST_BACKOFF: Duration = Duration::from_secs(15);
/// "Typing" goes out at most this often (milliseconds).
const TYPING_EVERY_MS: i64 = 2500;

/// A live socket's outgoing side, shared by the widget and the Inbox: the frames the
/// page sends while its socket is open, and the throttle on its "typing" signal.
#[derive(Clone, Copy)]
pub struct Outbox {
    #[cfg(feature = "hydrate")]
    sender: StoredValue<Option<futures_channel::mpsc::UnboundedSender<String>>, LocalStorage>,
    typing_sent: StoredValue<i64>,
}

impl Default for Outbox {
    fn default() -> Outbox {
        Outbox {
            #[cfg(feature = "hydrate")]
            sender: StoredValue::new_local(None),
            typing_sent: StoredValue::new(0),
        }
    }
}

impl Outbox {
    /// From now on frames go out through `sink`, the open socket's sending half.
    #[cfg(feature = "hydrate")]
    pub fn open(
        &self,
        sink: futures_util::stream::SplitSink<gloo_net::websocket::futures::WebSocket, gloo_net::websocket::Message>,
    ) {
        use futures_util::StreamExt;
        use gloo_net::websocket::{Message, WebSocketError};
        let (sender, queued) = futures_channel::mpsc::unbounded::<String>();
        self.sender.set_value(Some(sender));
        leptos::task::spawn_local(async move {
            let _ = queued.map(|text| Ok::<_, WebSocketError>(Message::Text(text))).forward(sink).await;
        });
    }

    /// The socket is gone: frames have nowhere to go until the next `open`.
    pub fn close(&self) {
        #[cfg(feature = "hydrate")]
        self.sender.set_value(None);
    }

    /// Queues a frame; false when no socket is open.
    fn send(&self, frame: String) -> bool {
        #[cfg(feature = "hydrate")]
        return self
            .sender
            .with_value(|sender| sender.as_ref().is_some_and(|sender| sender.unbounded_send(frame).is_ok()));
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = frame;
            false
        }
    }

    /// Sends the "typing" frame `frame()` unless one went out in the last few seconds.
    pub fn typing<F: serde::Serialize>(&self, frame: impl FnOnce() -> F) {
        let now = now_ms();
        if now - self.typing_sent.get_value() < TYPING_EVERY_MS {
            return;
        }
        if serde_json::to_string(&frame()).is_ok_and(|text| self.send(text)) {
            self.typing_sent.set_value(now);
        }
    }
}

#[cfg(feature = "hydrate")]
mod imp {
    use super::Duration;
    use leptos::wasm_bindgen::JsValue;

    /// `ws(s)://<this page's host><path>`: the address of one of Baton's live sockets.
    pub fn socket_url(path: &str) -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
        Some(format!("{scheme}://{}{path}", location.host().ok()?))
    }

    /// A random id (a UUID) for one outgoing message.
    pub fn client_id() -> String {
        web_sys::window()
            .and_then(|w| w.crypto().ok())
            .map(|crypto| crypto.random_uuid())
            .unwrap_or_else(|| format!("c{}", (js_sys::Math::random() * 1e16) as u64))
    }

    pub fn now_ms() -> i64 {
        js_sys::Date::now() as i64
    }

    /// Keeps the scrolling `list` at its end while `pinned()` says the reader is there:
    /// whenever its content changes (a message, a line growing) or its own box does
    /// (the typing line or a notice below it appears, the composer grows, the frame
    /// opens), it scrolls to the end on the next frame, after layout. For the life of
    /// the page.
    pub fn stick_to_end(list: &web_sys::Element, pinned: impl Fn() -> bool + 'static) {
        use leptos::wasm_bindgen::{closure::Closure, JsCast};
        let target = list.clone();
        let follow = std::rc::Rc::new(move || {
            if pinned() {
                let target = target.clone();
                leptos::prelude::request_animation_frame(move || target.set_scroll_top(target.scroll_height()));
            }
        });
        let on_mutation = {
            let follow = follow.clone();
            Closure::<dyn FnMut(JsValue, JsValue)>::new(move |_: JsValue, _: JsValue| follow())
        };
        let on_resize = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |_: JsValue, _: JsValue| follow());
        if let Ok(observer) = web_sys::MutationObserver::new(on_mutation.as_ref().unchecked_ref()) {
            let options = web_sys::MutationObserverInit::new();
            options.set_child_list(true);
            options.set_subtree(true);
            options.set_character_data(true);
            let _ = observer.observe_with_options(list, &options);
        }
        if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
            observer.observe(list);
        }
        on_mutation.forget();
        on_resize.forget();
    }

    /// Scrolls `list` to its end on the next frame.
    pub fn scroll_to_end(list: &web_sys::Element) {
        let list = list.clone();
        leptos::prelude::request_animation_frame(move || list.set_scroll_top(list.scroll_height()));
    }

    /// Runs `job` once after `delay`.
    pub fn after(delay: Duration, job: impl FnOnce() + 'static) {
        let millis = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
        gloo_timers::callback::Timeout::new(millis, job).forget();
    }

    /// The file a file input's `change` event picked, read in the background: `done`
    /// gets its name and text, or why it could not (over `max_bytes`, not text).
    pub fn read_picked_file(
        ev: &leptos::ev::Event,
        max_bytes: usize,
        done: impl FnOnce(Result<(String, String), String>) + 'static,
    ) {
        let input = leptos::prelude::event_target::<web_sys::HtmlInputElement>(ev);
        let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
        // The same file picked again must fire `change` again.
        input.set_value("");
        let name = file.name();
        if file.size() > max_bytes as f64 {
            done(Err(format!("{name} is larger than {} KB: split it into smaller files", max_bytes / 1024)));
            return;
        }
        let reading = file.text();
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(reading).await.ok().and_then(|text| text.as_string());
            done(text.map(|text| (name.clone(), text)).ok_or_else(|| format!("{name} could not be read as text")));
        });
    }

    /// Puts `text` on the clipboard; `done` learns whether the browser let it.
    pub fn copy_text(text: &str, done: impl FnOnce(bool) + 'static) {
        use leptos::wasm_bindgen::JsCast;
        let written = web_sys::window().and_then(|window| {
            let clipboard = js_sys::Reflect::get(&window.navigator(), &"clipboard".into()).ok()?;
            let write =
                js_sys::Reflect::get(&clipboard, &"writeText".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
            write.call1(&clipboard, &text.into()).ok()?.dyn_into::<js_sys::Promise>().ok()
        });
        let Some(written) = written else { return done(false) };
        leptos::task::spawn_local(async move {
            done(wasm_bindgen_futures::JsFuture::from(written).await.is_ok());
        });
    }

    /// Asks the viewer to confirm `question` (the browser's own dialog); true if they do.
    pub fn confirm(question: &str) -> bool {
        web_sys::window().is_some_and(|window| window.confirm_with_message(question).unwrap_or(false))
    }

    /// Replaces the address bar's query without a navigation, so a reload or a shared
    /// link opens the same view and conversation.
    pub fn replace_query(query: &str) {
        let Some(window) = web_sys::window() else { return };
        let path = window.location().pathname().unwrap_or_default();
        let url = if query.is_empty() { path } else { format!("{path}?{query}") };
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
        }
    }

    /// "14:05" in the browser's own time zone.
    pub fn local_clock(epoch_ms: i64) -> String {
        let date = js_sys::Date::new(&JsValue::from_f64(epoch_ms as f64));
        format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
    }

    /// Whether notifications may be shown: `Some(true)` granted, `Some(false)` refused,
    /// `None` not asked yet (or unsupported).
    pub fn notifications_allowed() -> Option<bool> {
        use web_sys::{Notification, NotificationPermission};
        let supported = js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("Notification")).unwrap_or(false);
        if !supported {
            return Some(false);
        }
        match Notification::permission() {
            NotificationPermission::Granted => Some(true),
            NotificationPermission::Denied => Some(false),
            _ => None,
        }
    }

    /// Asks for permission (call from a click); `done` gets the answer.
    pub fn ask_for_notifications(done: impl FnOnce(Option<bool>) + 'static) {
        let Ok(promise) = web_sys::Notification::request_permission() else { return done(Some(false)) };
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            done(notifications_allowed());
        });
    }

    /// A system notification, when allowed; clicking it brings the Inbox forward.
    pub fn notify(title: &str, body: &str) {
        if notifications_allowed() != Some(true) {
            return;
        }
        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        options.set_tag("baton-escalation");
        if let Ok(notification) = web_sys::Notification::new_with_options(title, &options) {
            let focus = leptos::wasm_bindgen::closure::Closure::<dyn FnMut()>::new(|| {
                if let Some(window) = web_sys::window() {
                    let _ = window.focus();
                }
            });
            notification.set_onclick(Some(leptos::wasm_bindgen::JsCast::unchecked_ref(focus.as_ref())));
            focus.forget();
        }
    }

    /// Two short soft tones. Browsers allow sound only after the page has had a click
    /// or a key press; before that this is silently skipped.
    pub fn chime() {
        let Ok(audio) = web_sys::AudioContext::new() else { return };
        let start = audio.current_time();
        for (offset, frequency) in [(0.0, 880.0), (0.16, 1320.0)] {
            let (Ok(tone), Ok(gain)) = (audio.create_oscillator(), audio.create_gain()) else { return };
            tone.frequency().set_value(frequency);
            gain.gain().set_value(0.0);
            let _ = gain.gain().linear_ramp_to_value_at_time(0.12, start + offset + 0.02);
            let _ = gain.gain().linear_ramp_to_value_at_time(0.0, start + offset + 0.14);
            if tone.connect_with_audio_node(&gain).is_err()
                || gain.connect_with_audio_node(&audio.destination()).is_err()
            {
                return;
            }
            let _ = tone.start_with_when(start + offset);
            let _ = tone.stop_with_when(start + offset + 0.15);
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    use super::Duration;

    pub fn client_id() -> String {
        String::new()
    }

    pub fn now_ms() -> i64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
    }

    pub fn after(_delay: Duration, _job: impl FnOnce() + 'static) {}

    pub fn confirm(_question: &str) -> bool {
        true
    }

    pub fn copy_text(_text: &str, done: impl FnOnce(bool) + 'static) {
        done(false);
    }

    pub fn read_picked_file(
        _ev: &leptos::ev::Event,
        _max_bytes: usize,
        _done: impl FnOnce(Result<(String, String), String>) + 'static,
    ) {
    }

    pub fn replace_query(_query: &str) {}

    pub fn stick_to_end(_list: &leptos::web_sys::Element, _pinned: impl Fn() -> bool + 'static) {}

    pub fn scroll_to_end(_list: &leptos::web_sys::Element) {}

    /// UTC on the server: nothing that shows a time renders before the browser loads it.
    pub fn local_clock(epoch_ms: i64) -> String {
        let minutes = epoch_ms.div_euclid(60_000);
        format!("{:02}:{:02}", minutes.div_euclid(60).rem_euclid(24), minutes.rem_euclid(60))
    }

    pub fn notifications_allowed() -> Option<bool> {
        None
    }

    pub fn ask_for_notifications(done: impl FnOnce(Option<bool>) + 'static) {
        done(None);
    }

    pub fn notify(_title: &str, _body: &str) {}

    pub fn chime() {}
}

#[cfg(all(test, not(feature = "hydrate")))]
mod tests {
    use super::*;

    #[test]
    fn a_time_reads_as_hours_and_minutes_of_the_viewer_s_clock() {
        // Off the browser the viewer's clock is UTC.
        assert_eq!(time_of("2026-11-24T14:05:09Z"), "14:05");
        assert_eq!(time_of("2026-11-24T23:59:59.999+00:00"), "23:59");
        assert_eq!(time_of("not a time"), "");
    }
}
