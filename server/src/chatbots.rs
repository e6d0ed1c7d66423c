//! Settings → General: a workspace's chatbots created, read and archived. An
//! archived chatbot's widget says the chat is closed and starts nothing; its
//! conversations stay readable in the Inbox.

use app::{
    domain::{DisplayName, MemberView},
    settings::api::{ChatbotDetail, WidgetSettings, MAX_CHATBOT_NAME_CHARS},
    AppError,
};

use rand::Rng;

use crate::{
    auth::members::Caller,
    store::{
        activity::NewActivity,
        conversations::{ChatbotRecord, NewChatbot},
        new_id, now_ms, rfc3339, Store,
    },
    widget,
};

/// How many chatbots one workspace may hold.
pub const MAX_CHATBOTS: i64 = 100;

/// What a new chatbot greets visitors with until an admin writes its own.
pub const DEFAULT_GREETING: &str = "Hi! How can I help you today? You can ask for a person at any time.";

pub fn detail(chatbot: &ChatbotRecord, public_url: &str) -> ChatbotDetail {
    ChatbotDetail {
        bot_id: chatbot.public_id.clone(),
        name: chatbot.name.clone(),
        greeting: chatbot.greeting.clone(),
        archived: chatbot.archived_at.is_some(),
        created_at: rfc3339(chatbot.created_at),
        embed: embed_tag(public_url, &chatbot.public_id),
    }
}

/// The one tag a website adds to show the widget.
pub fn embed_tag(public_url: &str, public_id: &str) -> String {
    format!(r#"<script src="{}/embed.js" data-bot="{public_id}" async></script>"#, public_url.trim_end_matches('/'))
}

/// A public id from the name: its letters and digits in lower case, words joined by
/// `-`, at most 24 characters, then six random ones so two "Support" bots differ
/// and an id cannot be guessed from the name alone.
pub fn public_id_for(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 24 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "bot" } else { slug };
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    let suffix: String = (0..6).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect();
    format!("{slug}-{suffix}")
}

fn checked_name(raw: &str) -> Result<String, AppError> {
    match DisplayName::parse(raw, MAX_CHATBOT_NAME_CHARS, "the name") {
        Ok(name) => Ok(name.into_inner()),
        Err(AppError::InvalidInput(why)) => Err(AppError::InvalidInput(format!("name: {why}"))),
        Err(other) => Err(other),
    }
}

pub async fn create(
    store: &Store,
    caller: &Caller,
    name: &str,
    public_url: &str,
) -> Result<(ChatbotDetail, WidgetSettings), AppError> {
    let name = checked_name(name)?;
    let id = new_id("bot");
    let public_id = public_id_for(&name);
    let new = NewChatbot {
        id: &id,
        workspace_id: &caller.workspace_id,
        public_id: &public_id,
        name: &name,
        greeting: DEFAULT_GREETING,
        live_handoff: true,
        allowed_origins: "",
    };
    let detail_text = format!("Created the chatbot “{name}” ({public_id})");
    let activity =
        NewActivity::by(&caller.workspace_id, &caller.member, "chatbot_created", detail_text).of_chatbot(&id);
    if !store.create_chatbot(new, MAX_CHATBOTS, &activity).await.map_err(AppError::internal)? {
        return Err(AppError::Conflict(format!(
            "a workspace holds at most {MAX_CHATBOTS} chatbots: archive or reuse one instead"
        )));
    }
    tracing::info!(member_id = %caller.member.id, bot_id = %public_id, "chatbot created");
    read(store, &id, public_url).await
}

pub async fn archive(
    store: &Store,
    by: &MemberView,
    chatbot: &ChatbotRecord,
    archived: bool,
    public_url: &str,
) -> Result<(ChatbotDetail, WidgetSettings), AppError> {
    let (action, detail_text, archived_at) = if archived {
        ("chatbot_archived", format!("Archived “{}”: its widget says the chat is closed", chatbot.name), Some(now_ms()))
    } else {
        ("chatbot_restored", format!("Put “{}” back in service", chatbot.name), None)
    };
    let activity = NewActivity::by(&chatbot.workspace_id, by, action, detail_text).of_chatbot(&chatbot.id);
    if !store.set_archived(&chatbot.id, archived_at, &activity).await.map_err(AppError::internal)? {
        let state = if archived { "already archived" } else { "not archived" };
        return Err(AppError::Conflict(format!("“{}” is {state}", chatbot.name)));
    }
    tracing::info!(member_id = %by.id, bot_id = %chatbot.public_id, archived, "chatbot archive state changed");
    read(store, &chatbot.id, public_url).await
}

pub async fn read(store: &Store, id: &str, public_url: &str) -> Result<(ChatbotDetail, WidgetSettings), AppError> {
    let chatbot = store.chatbot_by_id(id).await.map_err(AppError::internal)?.ok_or(AppError::NotFound)?;
    Ok((detail(&chatbot, public_url), widget::settings(&chatbot)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_are_the_name_in_url_words_and_a_random_tail() {
        let id = public_id_for("  Globex Help — EU!  ");
        let (slug, tail) = id.rsplit_once('-').unwrap();
        assert_eq!(slug, "globex-help-eu");
        assert_eq!(tail.len(), 6);
        assert!(tail.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert!(public_id_for("日本語").starts_with("bot-"));
        assert!(public_id_for(&"long ".repeat(20)).len() <= 24 + 7);
        assert_ne!(public_id_for("Support"), public_id_for("Support"));
    }

    #[test]
    fn the_embed_tag_names_the_public_url_and_the_bot() {
        assert_eq!(
            embed_tag("https://baton.example.com/", "demo"),
            r#"<script src="https://baton.example.com/embed.js" data-bot="demo" async></script>"#
        );
    }
}
