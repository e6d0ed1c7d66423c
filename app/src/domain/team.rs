//! Team members as the API shows them.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::conversation::AgentRef;

/// Shortest password a team account may have.
pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Agent].into_iter().find(|role| role.as_str() == text)
    }
}

/// `{"id", "email", "name", "role"}`: a member, as login and `team/members` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
}

impl MemberView {
    pub fn agent_ref(&self) -> AgentRef {
        AgentRef { id: self.id.clone(), name: self.name.clone() }
    }
}

/// A member as Settings → Team lists them: `added_at` and `last_sign_in_at` (RFC 3339;
/// `null` until their first sign-in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    #[serde(flatten)]
    pub member: MemberView,
    pub added_at: String,
    pub last_sign_in_at: Option<String>,
}

/// Why the workspace's last admin stays one (409).
pub const LAST_ADMIN: &str =
    "this is the workspace's last admin: make another member an admin first, or nobody could manage Baton";

/// A password on its way in (sign-in, a new member, a password change): `Debug` never
/// shows it, so no log line can print one, and its memory is wiped when dropped
/// (`secrecy`). On the wire it is a plain JSON string.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn new(text: impl Into<String>) -> Password {
        Password(SecretString::from(text.into()))
    }

    /// The password's text, for hashing or checking it; never for printing.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Password) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Password {}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl Serialize for Password {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Password, D::Error> {
        String::deserialize(deserializer).map(Password::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_printed_but_travels_as_a_string() {
        let password = Password::new("correct horse battery staple");
        assert_eq!(format!("{password:?}"), "Password([redacted])");
        assert_eq!(serde_json::to_string(&password).unwrap(), r#""correct horse battery staple""#);
        let back: Password = serde_json::from_str(r#""s3cret-s3cret""#).unwrap();
        assert_eq!(back.expose(), "s3cret-s3cret");
    }
}
