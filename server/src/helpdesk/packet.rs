//! What a help desk receives for one escalation: the reason, the summary, what the
//! bot tried, and the transcript. It is built only from visitor-visible `Message`s;
//! internal notes are another type in another table, so there is no way to put one
//! in a packet.

use app::domain::{AuthorKind, EscalationReason, Message};

/// The longest subject any desk takes (Zoho: 255), in characters.
const SUBJECT_CHARS: usize = 150;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffPacket {
    /// The escalation's id: the idempotency key and what a retry looks the ticket up by.
    pub escalation_id: String,
    pub conversation_id: String,
    pub reason: EscalationReason,
    pub summary: String,
    pub visitor_name: Option<String>,
    pub visitor_email: String,
    pub transcript: Vec<Message>,
    /// The conversation in Baton's Inbox.
    pub link: String,
}

impl HandoffPacket {
    /// The ticket's subject: the summary's first sentence, shortened at a word.
    pub fn subject(&self) -> String {
        let first = self.summary.split_inclusive(['.', '!', '?']).next().unwrap_or(&self.summary).trim();
        let first = first.trim_end_matches('.');
        let subject = if first.is_empty() { "Chat handed over by Baton" } else { first };
        if subject.chars().count() <= SUBJECT_CHARS {
            return subject.to_owned();
        }
        let cut: String = subject.chars().take(SUBJECT_CHARS).collect();
        let at_word = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
        format!("{at_word}…")
    }

    pub fn reason_label(&self) -> &'static str {
        match self.reason {
            EscalationReason::ExplicitRequest => "The visitor asked for a person",
            EscalationReason::Frustration => "The visitor was frustrated",
            EscalationReason::CannotResolve => "The bot could not resolve the issue",
        }
    }

    /// What the bot answered before handing over.
    pub fn bot_tried(&self) -> Vec<&str> {
        self.transcript.iter().filter(|m| m.author.kind == AuthorKind::Bot).map(|m| m.text.as_str()).collect()
    }

    fn speaker(message: &Message) -> String {
        let kind = match message.author.kind {
            AuthorKind::Visitor => "Visitor",
            AuthorKind::Bot => "Bot",
            AuthorKind::Agent => "Agent",
            AuthorKind::System => "System",
        };
        match &message.author.name {
            Some(name) if message.author.kind != AuthorKind::System => format!("{kind} ({name})"),
            _ => kind.to_owned(),
        }
    }

    /// The body as plain text (for desks that take no HTML).
    pub fn text_body(&self) -> String {
        let mut out = format!("{}.\n\nSummary: {}\n", self.reason_label(), self.summary);
        let tried = self.bot_tried();
        if !tried.is_empty() {
            out.push_str("\nWhat the bot tried:\n");
            for answer in tried {
                out.push_str(&format!("- {answer}\n"));
            }
        }
        out.push_str("\nTranscript:\n");
        for message in &self.transcript {
            out.push_str(&format!("[{}] {}: {}\n", message.at, Self::speaker(message), message.text));
        }
        out.push_str(&format!("\nOpen in Baton: {}\n", self.link));
        out
    }

    /// The body as HTML, every piece of text escaped.
    pub fn html_body(&self) -> String {
        let mut out = format!(
            "<p><strong>{}.</strong></p><p><strong>Summary:</strong> {}</p>",
            escape(self.reason_label()),
            escape(&self.summary)
        );
        let tried = self.bot_tried();
        if !tried.is_empty() {
            out.push_str("<p><strong>What the bot tried:</strong></p><ul>");
            for answer in tried {
                out.push_str(&format!("<li>{}</li>", escape(answer)));
            }
            out.push_str("</ul>");
        }
        out.push_str("<p><strong>Transcript:</strong></p><ul>");
        for message in &self.transcript {
            out.push_str(&format!(
                "<li>[{}] <strong>{}:</strong> {}</li>",
                escape(&message.at),
                escape(&Self::speaker(message)),
                escape(&message.text)
            ));
        }
        out.push_str(&format!("</ul><p><a href=\"{0}\">Open in Baton</a></p>", escape(&self.link)));
        out
    }

    /// The desk's tags: `baton` and the reason.
    pub fn tags(&self) -> [&'static str; 2] {
        ["baton", self.reason.as_str()]
    }
}

/// Text safe inside HTML elements and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub mod tests {
    use app::domain::Author;

    use super::*;

    pub fn message(seq: i64, kind: AuthorKind, name: Option<&str>, text: &str) -> Message {
        Message {
            seq,
            id: format!("m{seq}"),
            author: Author { kind, name: name.map(str::to_owned) },
            text: text.to_owned(),
            at: format!("2026-12-03T10:00:0{seq}Z"),
            client_id: None,
            asks: None,
        }
    }

    pub fn packet() -> HandoffPacket {
        HandoffPacket {
            escalation_id: "esc-1".to_owned(),
            conversation_id: "c-1".to_owned(),
            reason: EscalationReason::CannotResolve,
            summary:
                "Customer was charged twice for their subscription this month and wants a refund. They tried the FAQ."
                    .to_owned(),
            visitor_name: Some("Jordan Lee".to_owned()),
            visitor_email: "jordan@acme.com".to_owned(),
            transcript: vec![
                message(1, AuthorKind::Visitor, None, "I was charged twice <script>alert(1)</script>"),
                message(2, AuthorKind::Bot, Some("Acme bot"), "Refunds take 5 days."),
                message(3, AuthorKind::System, None, "Handed to the team."),
            ],
            link: "https://baton.example/inbox?c=c-1".to_owned(),
        }
    }

    #[test]
    fn the_subject_is_the_summary_first_sentence() {
        assert_eq!(
            packet().subject(),
            "Customer was charged twice for their subscription this month and wants a refund"
        );
        let mut long = packet();
        long.summary = "word ".repeat(100);
        let subject = long.subject();
        assert!(subject.chars().count() <= SUBJECT_CHARS + 1 && subject.ends_with('…'), "{subject}");
        long.summary = String::new();
        assert_eq!(long.subject(), "Chat handed over by Baton");
    }

    #[test]
    fn the_html_body_escapes_visitor_text_and_holds_everything() {
        let html = packet().html_body();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        for part in [
            "Summary:",
            "What the bot tried:",
            "Refunds take 5 days.",
            "Visitor:",
            "Bot (Acme bot):",
            "System:",
            "2026-12-03T10:00:01Z",
            "Open in Baton",
        ] {
            assert!(html.contains(part), "{part} missing from {html}");
        }
        let text = packet().text_body();
        assert!(text.contains("[2026-12-03T10:00:02Z] Bot (Acme bot): Refunds take 5 days."), "{text}");
    }
}
