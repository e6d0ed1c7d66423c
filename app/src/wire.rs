//! How JSON from outside is read: every API call's body (the `ApiJson` codec of the
//! server functions) and every WebSocket client frame. A body that does not fit gets
//! one plain sentence naming the field ("`bot_id` must be a string, not a number"),
//! never serde's internals ("expected struct StartConversation with 3 elements").

use leptos::server_fn::{
    codec::{Encoding, Post},
    Bytes, ContentType, Decodes, Encodes, Format, FormatType,
};
use serde::{de::DeserializeOwned, Serialize};

/// The request codec of every `/api/v1/` call: a JSON object in a `POST` body.
pub type ApiJson = Post<ApiJsonEncoding>;

/// JSON as `serde_json` writes it; read with errors in plain words.
pub struct ApiJsonEncoding;

impl ContentType for ApiJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for ApiJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for ApiJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for ApiJsonEncoding {
    type Error = Unreadable;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        read(&bytes, "the request body")
    }
}

/// Keeps `Post<ApiJsonEncoding>` a valid server-function input on both targets.
const _: fn() = || {
    fn is_encoding<E: Encoding>() {}
    is_encoding::<ApiJson>();
};

/// Why some JSON could not be read, in words for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads `bytes` as a JSON object of type `T`. `subject` names the whole thing in
/// errors: "the request body", "the frame".
pub fn read<T: DeserializeOwned>(bytes: &[u8], subject: &str) -> Result<T, Unreadable> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|err| {
        let at =
            if err.line() > 0 { format!(" (line {}, column {})", err.line(), err.column()) } else { String::new() };
        Unreadable(format!("{subject} is not valid JSON{at}"))
    })?;
    if !value.is_object() {
        return Err(Unreadable(format!("{subject} must be a JSON object, not {}", kind_of(&value))));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        Unreadable(describe(&path, &err.into_inner().to_string(), subject))
    })
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "true or false",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// serde's message about the value at `path`, in plain words.
fn describe(path: &str, message: &str, subject: &str) -> String {
    let field = |name: &str| match path {
        "." | "" => format!("`{name}`"),
        parent => format!("`{parent}.{name}`"),
    };
    let at = match path {
        "." | "" => subject.to_owned(),
        path => format!("`{path}`"),
    };
    if let Some(name) = message.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`')) {
        return format!("{} is missing", field(name));
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        if let Some((given, allowed)) = rest.split_once("`, expected ") {
            // serde says "`a`", "`a` or `b`", or "one of `a`, `b`, `c`".
            return format!("{at} must be {allowed}, not `{given}`");
        }
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((given, expected)) = message.strip_prefix(prefix).and_then(|rest| rest.split_once(", expected ")) {
            return format!("{at} must be {}, not {}", expected_words(expected), given_words(given));
        }
    }
    if message.starts_with("invalid length") {
        // serde accepts a struct written as a list of its fields; say what is meant.
        if message.contains("expected struct") {
            return format!("{at} must be an object, not a list");
        }
        return format!("{at} has the wrong number of items");
    }
    format!("{at}: {message}")
}

fn given_words(given: &str) -> String {
    let kind = given.split_whitespace().next().unwrap_or(given);
    match kind {
        "integer" | "floating" => format!("the number {}", given.rsplit('`').nth(1).unwrap_or("given")),
        "string" => "that text".to_owned(),
        "boolean" => "true or false".to_owned(),
        "null" | "unit" => "null".to_owned(),
        "sequence" => "a list".to_owned(),
        "map" => "an object".to_owned(),
        _ => given.to_owned(),
    }
}

fn expected_words(expected: &str) -> &str {
    match expected {
        _ if expected.starts_with("struct ") => "an object",
        _ if expected.starts_with("enum ") || expected.contains("variant") => "one of the values it allows",
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => "a whole number",
        "a sequence" => "a list",
        "a boolean" => "true or false",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Start {
        bot_id: String,
        name: Option<String>,
        after_seq: Option<i64>,
        look: Option<Look>,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Look {
        title: String,
        side: Side,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Side {
        Left,
        Right,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Frame {
        Ping {},
        Typing { conversation_id: String },
    }

    fn error(json: &str) -> String {
        read::<Start>(json.as_bytes(), "the request body").unwrap_err().0
    }

    #[test]
    fn a_well_formed_body_is_read() {
        let start: Start = read(br#"{"bot_id": "demo", "after_seq": 3}"#, "the request body").unwrap();
        assert_eq!(start.bot_id, "demo");
        assert_eq!(start.after_seq, Some(3));
    }

    #[test]
    fn errors_name_the_field_in_plain_words() {
        assert_eq!(error("{}"), "`bot_id` is missing");
        assert_eq!(error(r#"{"bot_id": 5}"#), "`bot_id` must be a string, not the number 5");
        assert_eq!(error(r#"{"bot_id": "d", "after_seq": "x"}"#), "`after_seq` must be a whole number, not that text");
        assert_eq!(error(r#"{"bot_id": "d", "look": {"side": "left"}}"#), "`look.title` is missing");
        assert_eq!(
            error(r#"{"bot_id": "d", "look": {"title": "t", "side": "up"}}"#),
            "`look.side` must be `left` or `right`, not `up`"
        );
        assert_eq!(error(r#"{"bot_id": "d", "look": []}"#), "`look` must be an object, not a list");
    }

    #[test]
    fn a_body_that_is_not_an_object_says_so() {
        assert_eq!(error("[]"), "the request body must be a JSON object, not a list");
        assert_eq!(error("{"), "the request body is not valid JSON (line 1, column 1)");
        assert_eq!(error(""), "the request body is not valid JSON (line 1, column 0)");
    }

    #[test]
    fn no_error_mentions_serde_s_type_names() {
        for json in ["[1,2,3]", "{}", r#"{"bot_id": []}"#, r#"{"bot_id": {}}"#, "null", "7"] {
            let message = error(json);
            assert!(!message.contains("struct") && !message.contains("Start"), "{json}: {message}");
        }
    }

    #[test]
    fn frames_name_their_type() {
        let unknown = read::<Frame>(br#"{"type": "note"}"#, "the frame").unwrap_err().0;
        assert_eq!(unknown, "`type` must be `ping` or `typing`, not `note`");
        let missing = read::<Frame>(br#"{"type": "typing"}"#, "the frame").unwrap_err().0;
        assert_eq!(missing, "`conversation_id` is missing");
        assert_eq!(read::<Frame>(br#"{}"#, "the frame").unwrap_err().0, "`type` is missing");
    }
}
