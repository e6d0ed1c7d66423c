//! Settings → Widget: the brand colour (with the ink it gets and their contrast),
//! the launcher's corner and the websites allowed to show the widget, beside a live
//! preview, and the embed tag with a Copy button.

use leptos::prelude::*;

use super::{
    api::{update_widget, ChatbotResponse, WidgetSettings, WidgetSettingsResponse},
    general::EmbedTag,
};
use crate::domain::{
    widget::{ink_contrast, ink_for, parse_color},
    LauncherPosition,
};

/// The form's fields as typed: origins one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Draft {
    color: String,
    launcher: LauncherPosition,
    origins: String,
}

impl Draft {
    fn of(widget: &WidgetSettings) -> Draft {
        Draft {
            color: widget.color.clone(),
            launcher: widget.launcher_position,
            origins: widget.allowed_origins.join("\n"),
        }
    }

    fn settings(&self, stored: &WidgetSettings) -> WidgetSettings {
        WidgetSettings {
            color: self.color.clone(),
            launcher_position: self.launcher,
            allowed_origins: self.origins.lines().map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect(),
            ..stored.clone()
        }
    }
}

/// Which field a refusal is about, from its message.
fn field_of(message: &str) -> &'static str {
    if message.contains("colour") {
        "color"
    } else if message.contains("origin") {
        "origins"
    } else {
        "form"
    }
}

/// "White text, contrast 7.3:1", or why the colour is not one yet.
fn ink_line(color: &str) -> String {
    match parse_color(color) {
        Ok(color) => {
            let ink = if ink_for(&color) == "#ffffff" { "White" } else { "Dark" };
            let ratio = ink_contrast(&color).unwrap_or(0.0);
            let verdict = if ratio >= 4.5 { "reads well" } else { "hard to read: pick a darker or lighter colour" };
            format!("{ink} text on it, contrast {ratio:.1}:1 ({verdict})")
        }
        Err(_) => "Not a colour yet: use #rrggbb, such as #4338ca".to_owned(),
    }
}

#[component]
pub fn Look(current: ChatbotResponse, dirty: RwSignal<bool>) -> impl IntoView {
    let ChatbotResponse { chatbot, widget } = current;
    let stored = RwSignal::new(widget.clone());
    let saved = RwSignal::new(Draft::of(&widget));
    let draft = RwSignal::new(Draft::of(&widget));
    let just_saved = RwSignal::new(false);
    let problem = RwSignal::new(None::<(&'static str, String)>);
    let save = Action::new(move |settings: &WidgetSettings| update_widget(settings.clone()));
    Effect::new(move |_| match save.value().get() {
        Some(Ok(WidgetSettingsResponse { widget })) => {
            let now = Draft::of(&widget);
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
    // The colour picker only takes #rrggbb: it shows the last colour that parsed.
    let picker_value =
        move || draft.with(|d| parse_color(&d.color).unwrap_or_else(|_| saved.with(|s| s.color.clone())));
    let corner = move |position: LauncherPosition, label: &'static str| {
        view! {
            <label class="check">
                <input
                    type="radio"
                    name="widget-launcher"
                    value=position.as_str()
                    prop:checked=move || draft.with(|d| d.launcher == position)
                    on:change=move |_| {
                        just_saved.set(false);
                        draft.update(|d| d.launcher = position);
                    }
                />
                {label}
            </label>
        }
    };
    let set_color = move |value: String| {
        just_saved.set(false);
        draft.update(|d| d.color = value);
    };
    view! {
        <h2>"Widget"</h2>
        <p class="muted">"How the chat looks on your website, and which websites may show it."</p>
        <div class="widget-settings">
            <form
                class="widget-form"
                novalidate
                on:submit=move |ev| {
                    ev.prevent_default();
                    if !save.pending().get_untracked() {
                        save.dispatch(draft.with_untracked(|d| d.settings(&stored.get_untracked())));
                    }
                }
            >
                <label for="widget-color">"Brand colour"</label>
                <div class="color-row">
                    <input
                        id="widget-color-picker"
                        type="color"
                        aria-label="Pick the brand colour"
                        prop:value=picker_value
                        on:input=move |ev| set_color(event_target_value(&ev))
                    />
                    <input
                        id="widget-color"
                        type="text"
                        maxlength=7
                        aria-describedby="widget-color-ink widget-color-error"
                        prop:value=move || draft.with(|d| d.color.clone())
                        on:input=move |ev| set_color(event_target_value(&ev))
                    />
                </div>
                <p class="hint" id="widget-color-ink">{move || draft.with(|d| ink_line(&d.color))}</p>
                <p class="error" id="widget-color-error" role="alert">{error_at("color")}</p>

                <fieldset>
                    <legend>"Launcher corner"</legend>
                    {corner(LauncherPosition::Right, "Bottom right")}
                    {corner(LauncherPosition::Left, "Bottom left")}
                </fieldset>

                <label for="widget-origins">"Websites that may show the widget"</label>
                <textarea
                    id="widget-origins"
                    rows=4
                    aria-describedby="widget-origins-hint widget-origins-error"
                    prop:value=move || draft.with(|d| d.origins.clone())
                    on:input=move |ev| {
                        let value = event_target_value(&ev);
                        just_saved.set(false);
                        draft.update(|d| d.origins = value);
                    }
                ></textarea>
                <p class="hint" id="widget-origins-hint">
                    "One per line, scheme, host and port only: https://www.acme.com. \"*\" lets any website show it; \
                     none: only Baton's own pages (the demo page)."
                </p>
                <p class="error" id="widget-origins-error" role="alert">{error_at("origins")}</p>
                <p class="error" role="alert">{error_at("form")}</p>
                <div class="form-actions">
                    <span class="muted" role="status">{status}</span>
                    <button type="submit" class="primary" disabled=move || !dirty.get() || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </form>
            <Preview title=widget.title greeting=widget.greeting draft/>
        </div>
        <h3>"Embed tag"</h3>
        <EmbedTag tag=chatbot.embed/>
    }
}

/// The widget as visitors will see it, drawn from the draft as it is typed.
#[component]
fn Preview(title: String, greeting: String, draft: RwSignal<Draft>) -> impl IntoView {
    let style = move || {
        let color = draft.with(|d| parse_color(&d.color).unwrap_or_else(|_| "#4338ca".to_owned()));
        format!("--brand: {color}; --brand-ink: {};", ink_for(&color))
    };
    let initial = title.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default();
    let left = move || draft.with(|d| d.launcher == LauncherPosition::Left);
    view! {
        <figure class="widget-preview" style=style aria-label="Preview of the widget">
            <div class="preview-window">
                <div class="preview-header">
                    <span class="preview-avatar" aria-hidden="true">{initial}</span>
                    <strong>{title}</strong>
                </div>
                <p class="preview-bubble">{greeting}</p>
                <p class="preview-visitor">"Can I change my plan?"</p>
            </div>
            <span class="preview-launcher" class:left=left aria-hidden="true">"💬"</span>
            <figcaption class="muted">
                {move || if left() { "Preview: launcher at the bottom left" } else { "Preview: launcher at the bottom right" }}
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ink_line_says_which_ink_and_how_well_it_reads() {
        assert!(ink_line("#4338ca").starts_with("White text on it, contrast"));
        assert!(ink_line("#fde047").starts_with("Dark text"));
        assert!(ink_line("#4338").starts_with("Not a colour yet"));
    }

    #[test]
    fn origins_are_one_per_line_and_blank_lines_drop() {
        let stored = WidgetSettings {
            bot_id: "demo".into(),
            title: "Acme".into(),
            greeting: "Hi".into(),
            color: "#4338ca".into(),
            launcher_position: LauncherPosition::Right,
            allowed_origins: vec![],
        };
        let draft = Draft { origins: " https://a.example \n\nhttps://b.example".into(), ..Draft::of(&stored) };
        assert_eq!(draft.settings(&stored).allowed_origins, ["https://a.example", "https://b.example"]);
        assert_eq!(Draft::of(&draft.settings(&stored)).origins, "https://a.example\nhttps://b.example");
    }
}
