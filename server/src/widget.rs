//! The widget as websites see it: its look (title, colour, greeting, launcher
//! corner), the admins' settings for it (the websites allowed to frame it are
//! enforced in `security::headers`), and the demo host page at `/demo`.

use app::{
    domain::{
        widget::{ink_for, parse_color},
        DisplayName, WidgetLook,
    },
    settings::api::WidgetSettings,
    AppError, CspNonce,
};
use axum::{
    extract::{Extension, Request},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};

use crate::store::{conversations::ChatbotRecord, Store};

const MAX_TITLE_CHARS: usize = 60;
const MAX_GREETING_CHARS: usize = 500;
const MAX_ORIGINS: usize = 50;

/// A sample customer website that embeds the widget with its one script tag.
const DEMO_HOST_PAGE: &str = include_str!("../demo/host.html");

pub fn look(chatbot: &ChatbotRecord) -> WidgetLook {
    WidgetLook {
        bot_id: chatbot.public_id.clone(),
        title: chatbot.name.clone(),
        greeting: chatbot.greeting.clone(),
        color: chatbot.color.clone(),
        color_ink: ink_for(&chatbot.color).to_owned(),
        launcher_position: chatbot.launcher_position,
        closed: chatbot.archived_at.is_some(),
    }
}

pub fn settings(chatbot: &ChatbotRecord) -> WidgetSettings {
    WidgetSettings {
        bot_id: chatbot.public_id.clone(),
        title: chatbot.name.clone(),
        greeting: chatbot.greeting.clone(),
        color: chatbot.color.clone(),
        launcher_position: chatbot.launcher_position,
        allowed_origins: chatbot.allowed_origins.split_whitespace().map(str::to_owned).collect(),
    }
}

/// Checks and normalises what an admin asks for; the first problem is the error.
pub fn validate(mut widget: WidgetSettings) -> Result<WidgetSettings, AppError> {
    widget.title = DisplayName::parse(&widget.title, MAX_TITLE_CHARS, "the title")?.into_inner();
    widget.greeting = widget.greeting.trim().to_owned();
    if widget.greeting.chars().count() > MAX_GREETING_CHARS {
        return Err(AppError::InvalidInput(format!("the greeting is longer than {MAX_GREETING_CHARS} characters")));
    }
    if widget.greeting.contains('\0') {
        return Err(AppError::InvalidInput("the greeting contains a NUL character".into()));
    }
    widget.color = parse_color(&widget.color)?;
    if widget.allowed_origins.len() > MAX_ORIGINS {
        return Err(AppError::InvalidInput(format!("at most {MAX_ORIGINS} allowed origins")));
    }
    let mut origins = Vec::new();
    for raw in &widget.allowed_origins {
        let origin = parse_origin(raw)?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    widget.allowed_origins = origins;
    Ok(widget)
}

/// `*`, or a website's origin: `https://www.acme.com`, `http://localhost:8080`.
/// Anything with a path, query, credentials or another scheme is refused, because
/// it would not mean what the admin thinks in a `frame-ancestors` policy.
pub fn parse_origin(raw: &str) -> Result<String, AppError> {
    let raw = raw.trim();
    if raw == "*" {
        return Ok("*".into());
    }
    let invalid = |why: &str| AppError::InvalidInput(format!("{raw:?} is not an allowed origin: {why}"));
    let url = url::Url::parse(raw).map_err(|err| invalid(&err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("use http:// or https://"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("give only scheme, host and port"));
    }
    if url.path() != "/" {
        return Err(invalid("give only scheme, host and port, without a path"));
    }
    // Host names only (what a CSP source may hold); `;` or `,` would start another directive.
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
        return Err(invalid("the host must be a name such as www.acme.com"));
    }
    match url.origin() {
        url::Origin::Tuple(..) => Ok(url.origin().ascii_serialization()),
        url::Origin::Opaque(_) => Err(invalid("it has no host")),
    }
}

/// The one call a host page makes itself (the embed script reads the launcher's look):
/// any website may read it, without credentials. Everything else stays same-origin.
pub async fn config_cors(request: Request, next: Next) -> Response {
    if request.uri().path() != "/api/v1/widget/config" {
        return next.run(request).await;
    }
    let allow = |response: &mut Response| {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    };
    if request.method() == Method::OPTIONS {
        let mut preflight = StatusCode::NO_CONTENT.into_response();
        allow(&mut preflight);
        return preflight;
    }
    let mut response = next.run(request).await;
    allow(&mut response);
    response
}

/// `GET /demo`: the sample host website.
/// Its one script tag carries the response's nonce, like every script Baton serves.
pub async fn demo_host_page(nonce: Option<Extension<CspNonce>>) -> impl IntoResponse {
    let nonce = nonce.map(|Extension(CspNonce(nonce))| nonce.to_string()).unwrap_or_default();
    Html(DEMO_HOST_PAGE.replace("{{nonce}}", &nonce))
}

/// The look of chatbot `bot_id`, for any visitor.
pub async fn look_for(store: &Store, bot_id: &str) -> Result<WidgetLook, AppError> {
    let chatbot = store.chatbot_by_public_id(bot_id).await.map_err(AppError::internal)?.ok_or(AppError::NotFound)?;
    Ok(look(&chatbot))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::LauncherPosition;

    fn widget(origins: &[&str]) -> WidgetSettings {
        WidgetSettings {
            bot_id: "demo".into(),
            title: "  Acme support ".into(),
            greeting: "Hi!".into(),
            color: "#ABC".into(),
            launcher_position: LauncherPosition::Left,
            allowed_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        }
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(parse_origin("https://www.Acme.com/").unwrap(), "https://www.acme.com");
        assert_eq!(parse_origin("http://localhost:8080").unwrap(), "http://localhost:8080");
        assert_eq!(parse_origin("https://acme.com:443").unwrap(), "https://acme.com");
        assert_eq!(parse_origin(" * ").unwrap(), "*");
    }

    #[test]
    fn anything_but_an_origin_is_refused() {
        for bad in [
            "acme.com",
            "ftp://acme.com",
            "https://acme.com/shop",
            "https://user:pw@acme.com",
            "https://acme.com?x=1",
            "javascript:alert(1)",
            "https://acme.com; script-src *",
            "https://acme.com;sandbox",
            "https://acme.com,evil.example",
            "",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn settings_are_checked_and_normalised() {
        let ok = validate(widget(&["https://acme.com/", "https://acme.com"])).unwrap();
        assert_eq!(ok.title, "Acme support");
        assert_eq!(ok.color, "#aabbcc");
        assert_eq!(ok.allowed_origins, ["https://acme.com"]);
        let mut untitled = widget(&[]);
        untitled.title = "   ".into();
        assert!(validate(untitled).is_err());
        let mut bad_colour = widget(&[]);
        bad_colour.color = "red".into();
        assert!(validate(bad_colour).is_err());
    }
}

/// Any origin is refused in words or normalised to a value that reads back as itself;
/// a checked list holds each origin once and checks again to itself.
#[cfg(test)]
mod properties {
    use app::domain::LauncherPosition;
    use proptest::prelude::*;

    use super::*;

    fn origin() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            Just("*".to_owned()),
            "(https?|ftp|javascript)://[a-zA-Z0-9.;,_-]{0,20}(:[0-9]{0,6})?(/[a-z?#]{0,5})?",
            " ?(HTTP|https)://[A-Za-z]{1,10}\\.[a-z]{2,4}/? ?",
        ]
    }

    proptest! {
        #[test]
        fn an_origin_reads_back_as_itself_or_is_refused(raw in origin()) {
            match parse_origin(&raw) {
                Ok(origin) => prop_assert_eq!(parse_origin(&origin).ok(), Some(origin.clone())),
                Err(AppError::InvalidInput(why)) => prop_assert!(!why.is_empty()),
                Err(other) => prop_assert!(false, "{:?}", other),
            }
        }

        #[test]
        fn a_checked_origin_list_holds_each_once_and_checks_to_itself(
            origins in prop::collection::vec(origin(), 0..25),
        ) {
            let widget = WidgetSettings {
                bot_id: "demo".into(),
                title: "Acme".into(),
                greeting: "Hi".into(),
                color: "#2563eb".into(),
                launcher_position: LauncherPosition::Right,
                allowed_origins: origins,
            };
            if let Ok(checked) = validate(widget) {
                let unique: std::collections::HashSet<&String> = checked.allowed_origins.iter().collect();
                prop_assert_eq!(unique.len(), checked.allowed_origins.len());
                prop_assert_eq!(validate(checked.clone()).ok(), Some(checked));
            }
        }
    }
}
