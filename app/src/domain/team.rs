//! Team members as the API shows them.

use serde::{Deserialize, Serialize};

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
