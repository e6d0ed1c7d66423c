//! The help desks a chatbot can hand conversations to, in the order Baton picks
//! them when several are connected, and the fields of each one's Connect form.
//! Shared by the server (validation, routing) and Settings (the forms).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Desk {
    Zendesk,
    Freshdesk,
    Intercom,
    Hubspot,
    ZohoDesk,
}

/// When several desks are connected, escalations go to the first of these.
pub const PRIORITY: [Desk; 5] = [Desk::Zendesk, Desk::Freshdesk, Desk::Intercom, Desk::Hubspot, Desk::ZohoDesk];

impl Desk {
    pub fn as_str(self) -> &'static str {
        match self {
            Desk::Zendesk => "zendesk",
            Desk::Freshdesk => "freshdesk",
            Desk::Intercom => "intercom",
            Desk::Hubspot => "hubspot",
            Desk::ZohoDesk => "zoho_desk",
        }
    }

    pub fn parse(text: &str) -> Option<Desk> {
        PRIORITY.into_iter().find(|desk| desk.as_str() == text)
    }

    /// The vendor's product name, as people write it.
    pub fn label(self) -> &'static str {
        match self {
            Desk::Zendesk => "Zendesk",
            Desk::Freshdesk => "Freshdesk",
            Desk::Intercom => "Intercom",
            Desk::Hubspot => "HubSpot",
            Desk::ZohoDesk => "Zoho Desk",
        }
    }

    /// The fields of the desk's Connect form, in order.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Desk::Zendesk => &ZENDESK,
            Desk::Freshdesk => &FRESHDESK,
            Desk::Intercom => &INTERCOM,
            Desk::Hubspot => &HUBSPOT,
            Desk::ZohoDesk => &ZOHO_DESK,
        }
    }
}

/// One field of a Connect form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The key in the `credentials` object of the API.
    pub name: &'static str,
    pub label: &'static str,
    /// Where to find the value, in one line.
    pub hint: &'static str,
    /// A secret: write-only, never shown again, a password input.
    pub secret: bool,
    pub required: bool,
    /// Filled from what the verify step read (a choice list), not typed in.
    pub chosen: bool,
    /// A fixed list to pick from (value, label), known before any call; empty for a
    /// field typed in or chosen from what the vendor read.
    pub options: &'static [(&'static str, &'static str)],
}

const fn typed(name: &'static str, label: &'static str, hint: &'static str) -> Field {
    Field { name, label, hint, secret: false, required: true, chosen: false, options: &[] }
}

const fn secret(name: &'static str, label: &'static str, hint: &'static str) -> Field {
    Field { name, label, hint, secret: true, required: true, chosen: false, options: &[] }
}

const fn optional(field: Field) -> Field {
    Field { required: false, ..field }
}

const fn listed(field: Field, options: &'static [(&'static str, &'static str)]) -> Field {
    Field { options, ..field }
}

const fn chosen(name: &'static str, label: &'static str, hint: &'static str) -> Field {
    Field { name, label, hint, secret: false, required: true, chosen: true, options: &[] }
}

const ZENDESK: [Field; 5] = [
    typed("subdomain", "Subdomain", "The acme of acme.zendesk.com."),
    optional(typed(
        "client_id",
        "OAuth client identifier",
        "Admin Center → Apps and integrations → Zendesk API → OAuth Clients (kind: confidential).",
    )),
    optional(secret("client_secret", "OAuth client secret", "Shown once when you create the OAuth client.")),
    optional(typed(
        "email",
        "Agent email (API token sign-in)",
        "Instead of OAuth: the agent the tickets are created as.",
    )),
    optional(secret(
        "api_token",
        "API token",
        "Admin Center → Apps and integrations → Zendesk API → Settings (legacy, until 2027-04-30).",
    )),
];

const FRESHDESK: [Field; 2] = [
    typed("domain", "Domain", "The acme of acme.freshdesk.com."),
    secret("api_key", "API key", "Your profile picture → Profile settings → View API key."),
];

const INTERCOM: [Field; 2] = [
    chosen("region", "Region", "Where your workspace's data is hosted: US, Europe or Australia."),
    secret("access_token", "Access token", "Developer Hub → your app → Configure → Authentication."),
];

const HUBSPOT: [Field; 3] = [
    secret(
        "access_token",
        "Private app access token",
        "Settings → Integrations → Private apps → your app → Auth (scopes: tickets, crm.objects.contacts.read/write, \
         crm.schemas.tickets.write).",
    ),
    chosen("pipeline", "Ticket pipeline", "Read from your account once the token is verified."),
    chosen("stage", "Stage for new tickets", "Read from the pipeline you chose."),
];

const ZOHO_DESK: [Field; 7] = [
    // Picked from a fixed list, not read: every call, the first included, goes to the
    // data centre's hosts.
    listed(
        typed("data_centre", "Data centre", "Where you sign in to Zoho: zoho.com, zoho.eu, zoho.in, …"),
        &[
            ("com", "zoho.com (United States)"),
            ("eu", "zoho.eu (Europe)"),
            ("in", "zoho.in (India)"),
            ("com.au", "zoho.com.au (Australia)"),
            ("jp", "zoho.jp (Japan)"),
            ("com.cn", "zoho.com.cn (China)"),
        ],
    ),
    typed("client_id", "Client ID", "api-console.zoho.com → Self Client → Client Secret tab."),
    secret("client_secret", "Client secret", "api-console.zoho.com → Self Client → Client Secret tab."),
    // Optional: verify exchanges it for the refresh token, and connect stores only that.
    optional(secret(
        "grant_code",
        "Grant code",
        "Self Client → Generate Code, scopes Desk.tickets.READ,Desk.tickets.CREATE,Desk.tickets.UPDATE,\
         Desk.contacts.READ,Desk.contacts.CREATE,Desk.basic.READ (valid for minutes; used once). Needed unless you \
         give a refresh token.",
    )),
    typed("org_id", "Organization ID", "Zoho Desk → Setup → Developer Space → API → orgId."),
    chosen("department_id", "Department", "Read from your organization once the credentials are verified."),
    optional(secret("refresh_token", "Refresh token", "Only to reconnect without a new grant code.")),
];

/// Most characters any credential field may hold.
pub const MAX_FIELD_CHARS: usize = 2000;

/// A choice the verify step read from the vendor, for a `chosen` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    /// For a stage: the pipeline it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// `settings/helpdesk/verify`: what the vendor said about the credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    /// Who Baton is signed in as ("Jordan Lee <jordan@acme.com> at acme.zendesk.com").
    pub account: String,
    /// Per `chosen` field, its choices.
    #[serde(default)]
    pub choices: std::collections::BTreeMap<String, Vec<Choice>>,
}

/// How the last handoff to a desk went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastDispatch {
    pub conversation_id: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub at: String,
}

/// A conversation's handoff to a help desk, as the Inbox shows it beside the
/// conversation: where it went and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    pub desk: Desk,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Dispatch {
    /// "Sent to Zendesk", "Sending to Zendesk…", "Zendesk refused it: …".
    pub fn describe(&self) -> String {
        let desk = self.desk.label();
        match self.status.as_str() {
            "sent" => format!("Sent to {desk}"),
            "failed" => format!("{desk} did not take it: {}", self.error.as_deref().unwrap_or("no reason given")),
            _ => format!("Sending to {desk}…"),
        }
    }

    pub fn failed(&self) -> bool {
        self.status == "failed"
    }
}

/// One desk's card in Settings → Integrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskCard {
    pub desk: Desk,
    pub connected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// At most the last four characters of the main secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hint: Option<String>,
    /// Escalations go here now (by the priority order, with live handoff off).
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_dispatch: Option<LastDispatch>,
}

/// `settings/integrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integrations {
    pub bot_id: String,
    pub live_handoff: bool,
    pub desks: Vec<DeskCard>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_desk_round_trips_by_name_and_the_order_holds_each_once() {
        for desk in PRIORITY {
            assert_eq!(Desk::parse(desk.as_str()), Some(desk));
            let json = serde_json::to_string(&desk).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", desk.as_str()));
        }
        let mut sorted = PRIORITY.to_vec();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
        assert_eq!(Desk::parse("Zendesk"), None);
    }

    #[test]
    fn every_listed_option_is_a_data_centre_the_server_accepts() {
        let listed: Vec<&str> = ZOHO_DESK.iter().flat_map(|f| f.options.iter().map(|(value, _)| *value)).collect();
        assert_eq!(listed, ["com", "eu", "in", "com.au", "jp", "com.cn"]);
    }

    #[test]
    fn each_form_has_a_secret_and_unique_field_names() {
        for desk in PRIORITY {
            let fields = desk.fields();
            assert!(fields.iter().any(|f| f.secret), "{desk:?}");
            let mut names: Vec<_> = fields.iter().map(|f| f.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), fields.len(), "{desk:?}");
        }
    }
}
