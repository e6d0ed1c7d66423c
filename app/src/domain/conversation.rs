//! The conversation state machine. `transition` is the only place that decides a
//! state change; the server applies its outcome with a conditional write, and the
//! UI asks it (through `allowed`) which actions to offer.
//!
//! bot → needs_human → claimed(agent) → resolved → (next visitor message) bot;
//! help-desk mode ends in handed_off.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The state as the wire and the database name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    Bot,
    NeedsHuman,
    Claimed,
    Resolved,
    HandedOff,
}

impl StateKind {
    pub const ALL: [StateKind; 5] =
        [StateKind::Bot, StateKind::NeedsHuman, StateKind::Claimed, StateKind::Resolved, StateKind::HandedOff];

    pub fn as_str(self) -> &'static str {
        match self {
            StateKind::Bot => "bot",
            StateKind::NeedsHuman => "needs_human",
            StateKind::Claimed => "claimed",
            StateKind::Resolved => "resolved",
            StateKind::HandedOff => "handed_off",
        }
    }

    pub fn parse(text: &str) -> Option<StateKind> {
        StateKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A team member as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgentRef {
    pub id: String,
    pub name: String,
}

/// The full state: a claimed conversation always carries its agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Bot,
    NeedsHuman,
    Claimed { agent: AgentRef },
    Resolved,
    HandedOff,
}

impl State {
    pub fn kind(&self) -> StateKind {
        match self {
            State::Bot => StateKind::Bot,
            State::NeedsHuman => StateKind::NeedsHuman,
            State::Claimed { .. } => StateKind::Claimed,
            State::Resolved => StateKind::Resolved,
            State::HandedOff => StateKind::HandedOff,
        }
    }

    pub fn agent(&self) -> Option<&AgentRef> {
        match self {
            State::Claimed { agent } => Some(agent),
            _ => None,
        }
    }
}

/// Why the AI handed the conversation to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    ExplicitRequest,
    Frustration,
    CannotResolve,
}

impl EscalationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::ExplicitRequest => "explicit_request",
            EscalationReason::Frustration => "frustration",
            EscalationReason::CannotResolve => "cannot_resolve",
        }
    }

    pub fn parse(text: &str) -> Option<EscalationReason> {
        [EscalationReason::ExplicitRequest, EscalationReason::Frustration, EscalationReason::CannotResolve]
            .into_iter()
            .find(|reason| reason.as_str() == text)
    }
}

/// Something that wants to change a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The visitor wrote a message.
    VisitorMessage,
    /// The AI answers. Only while the AI holds the conversation: never over an agent.
    BotReply,
    /// The AI decided a person is needed (Live Agent Handoff on).
    Escalate,
    /// An agent takes over.
    Claim { agent: AgentRef },
    /// An agent replies; only the holder may.
    AgentReply { agent_id: String },
    /// A member hands the conversation back to the AI. Admins may resolve a chat
    /// another agent holds (`may_override`); agents only their own.
    Resolve { by: AgentRef, may_override: bool },
    /// The AI opened a ticket in a help desk; the widget conversation ends.
    HandOff,
    /// The holder left the team: the conversation goes back to the queue.
    Release { agent_id: String },
}

/// A system note the transition adds to the conversation, visible to both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemNote {
    Escalated,
    Joined { agent_name: String },
    Resolved { by_name: String },
}

impl SystemNote {
    pub fn text(&self) -> String {
        match self {
            SystemNote::Escalated => {
                "A team member has been notified and will join this chat shortly.".to_owned()
            }
            SystemNote::Joined { agent_name } => format!("{agent_name} joined the chat"),
            SystemNote::Resolved { by_name } => {
                format!("{by_name} marked this conversation as resolved. The assistant will answer from here.")
            }
        }
    }
}

/// What a successful transition decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub state: State,
    pub note: Option<SystemNote>,
    /// Should the AI answer this visitor message? Never while a person holds or awaits the chat.
    pub bot_answers: bool,
}

impl Outcome {
    fn to(state: State) -> Outcome {
        Outcome { state, note: None, bot_answers: false }
    }

    fn with_note(mut self, note: SystemNote) -> Outcome {
        self.note = Some(note);
        self
    }
}

/// Why a command cannot apply to the current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// Someone else already holds the conversation.
    AlreadyClaimed { holder: AgentRef },
    /// Only the holder may do this (`holder` is `None` when nobody holds it).
    NotHolder { holder: Option<AgentRef> },
    /// The command makes no sense in this state.
    WrongState { state: StateKind },
    /// The conversation was handed to a help desk and has ended.
    Ended,
}

impl From<Rejected> for AppError {
    fn from(rejected: Rejected) -> AppError {
        AppError::Conflict(match rejected {
            Rejected::AlreadyClaimed { holder } => format!("{} is already handling this conversation", holder.name),
            Rejected::NotHolder { holder: Some(holder) } => {
                format!("{} is handling this conversation; take it over first", holder.name)
            }
            Rejected::NotHolder { holder: None } => "take this conversation over first".to_owned(),
            Rejected::WrongState { state } => {
                format!("not possible while the conversation is {}", state.as_str().replace('_', " "))
            }
            Rejected::Ended => "this conversation has ended; start a new one".to_owned(),
        })
    }
}

/// The one decision of every state change.
pub fn transition(state: &State, command: &Command) -> Result<Outcome, Rejected> {
    use Command as C;
    use State as S;
    let wrong = || Rejected::WrongState { state: state.kind() };
    match (state, command) {
        (S::HandedOff, _) => Err(Rejected::Ended),

        (S::Bot | S::Resolved, C::VisitorMessage) => Ok(Outcome { bot_answers: true, ..Outcome::to(S::Bot) }),
        (S::NeedsHuman | S::Claimed { .. }, C::VisitorMessage) => Ok(Outcome::to(state.clone())),

        (S::Bot, C::BotReply) => Ok(Outcome::to(S::Bot)),
        (S::NeedsHuman | S::Claimed { .. } | S::Resolved, C::BotReply) => Err(wrong()),

        (S::Bot | S::Resolved, C::Escalate) => Ok(Outcome::to(S::NeedsHuman).with_note(SystemNote::Escalated)),
        (S::NeedsHuman | S::Claimed { .. }, C::Escalate) => Err(wrong()),

        (S::NeedsHuman, C::Claim { agent }) => Ok(Outcome::to(S::Claimed { agent: agent.clone() })
            .with_note(SystemNote::Joined { agent_name: agent.name.clone() })),
        // Claiming again what you already hold changes nothing and announces nothing.
        (S::Claimed { agent: holder }, C::Claim { agent }) if holder.id == agent.id => Ok(Outcome::to(state.clone())),
        (S::Claimed { agent: holder }, C::Claim { .. }) => Err(Rejected::AlreadyClaimed { holder: holder.clone() }),
        (S::Bot | S::Resolved, C::Claim { .. }) => Err(wrong()),

        (S::Claimed { agent: holder }, C::AgentReply { agent_id }) if &holder.id == agent_id => {
            Ok(Outcome::to(state.clone()))
        }
        (S::Claimed { agent: holder }, C::AgentReply { .. }) => {
            Err(Rejected::NotHolder { holder: Some(holder.clone()) })
        }
        (_, C::AgentReply { .. }) => Err(Rejected::NotHolder { holder: None }),

        (S::Claimed { agent: holder }, C::Resolve { by, may_override }) if holder.id == by.id || *may_override => {
            Ok(Outcome::to(S::Resolved).with_note(SystemNote::Resolved { by_name: by.name.clone() }))
        }
        (S::Claimed { agent: holder }, C::Resolve { .. }) => Err(Rejected::NotHolder { holder: Some(holder.clone()) }),
        (S::NeedsHuman, C::Resolve { by, .. }) => {
            Ok(Outcome::to(S::Resolved).with_note(SystemNote::Resolved { by_name: by.name.clone() }))
        }
        (S::Bot | S::Resolved, C::Resolve { .. }) => Err(wrong()),

        (S::Bot | S::Resolved | S::NeedsHuman, C::HandOff) => Ok(Outcome::to(S::HandedOff)),
        (S::Claimed { .. }, C::HandOff) => Err(wrong()),

        (S::Claimed { agent: holder }, C::Release { agent_id }) if &holder.id == agent_id => {
            Ok(Outcome::to(S::NeedsHuman))
        }
        (S::Claimed { agent: holder }, C::Release { .. }) => Err(Rejected::NotHolder { holder: Some(holder.clone()) }),
        (S::Bot | S::NeedsHuman | S::Resolved, C::Release { .. }) => Err(wrong()),
    }
}

/// What a member may do with a conversation now, as `transition` decides: the Inbox
/// offers exactly these actions and has no rules of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allowed {
    /// Take it over (claiming what you already hold changes nothing, so is not offered).
    pub claim: bool,
    pub reply: bool,
    /// Hand it back to the AI: from the queue too (a request that needs no reply is
    /// dismissed, and the system note says who did it).
    pub resolve: bool,
}

pub fn allowed(state: &State, me: &AgentRef, is_admin: bool) -> Allowed {
    let changes = |command: Command| transition(state, &command).is_ok_and(|outcome| outcome.state != *state);
    Allowed {
        claim: changes(Command::Claim { agent: me.clone() }),
        reply: transition(state, &Command::AgentReply { agent_id: me.id.clone() }).is_ok(),
        resolve: changes(Command::Resolve { by: me.clone(), may_override: is_admin }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inbox_offers_what_transition_allows() {
        let claimed_by = |agent: AgentRef| State::Claimed { agent };
        let offered = |state: &State, admin| allowed(state, &ana(), admin);
        assert_eq!(offered(&State::NeedsHuman, false), Allowed { claim: true, reply: false, resolve: true });
        assert_eq!(offered(&claimed_by(ana()), false), Allowed { claim: false, reply: true, resolve: true });
        assert_eq!(offered(&claimed_by(ben()), false), Allowed { claim: false, reply: false, resolve: false });
        assert_eq!(offered(&claimed_by(ben()), true), Allowed { claim: false, reply: false, resolve: true });
        for state in [State::Bot, State::Resolved, State::HandedOff] {
            assert_eq!(offered(&state, true), Allowed::default(), "{state:?}");
        }
    }

    #[test]
    fn only_the_holder_leaving_puts_a_chat_back_in_the_queue() {
        let release = |id: &str| Command::Release { agent_id: id.into() };
        let claimed = State::Claimed { agent: ana() };
        let back = transition(&claimed, &release("mem_ana")).unwrap();
        assert_eq!((back.state, back.note, back.bot_answers), (State::NeedsHuman, None, false));
        assert!(matches!(transition(&claimed, &release("mem_ben")), Err(Rejected::NotHolder { .. })));
        for state in [State::Bot, State::NeedsHuman, State::Resolved, State::HandedOff] {
            assert!(transition(&state, &release("mem_ana")).is_err(), "{state:?}");
        }
    }

    fn ana() -> AgentRef {
        AgentRef { id: "mem_ana".into(), name: "Ana".into() }
    }
    fn ben() -> AgentRef {
        AgentRef { id: "mem_ben".into(), name: "Ben".into() }
    }

    #[test]
    fn a_full_handoff_plays_out_and_returns_to_the_bot() {
        let escalated = transition(&State::Bot, &Command::Escalate).unwrap();
        assert_eq!(escalated.state, State::NeedsHuman);
        assert_eq!(
            escalated.note.unwrap().text(),
            "A team member has been notified and will join this chat shortly."
        );

        let claimed = transition(&escalated.state, &Command::Claim { agent: ana() }).unwrap();
        assert_eq!(claimed.state, State::Claimed { agent: ana() });
        assert_eq!(claimed.note.unwrap().text(), "Ana joined the chat");

        let visitor = transition(&claimed.state, &Command::VisitorMessage).unwrap();
        assert!(!visitor.bot_answers, "the AI is silent while a person holds the chat");

        let resolved =
            transition(&claimed.state, &Command::Resolve { by: ana(), may_override: false }).unwrap();
        assert_eq!(resolved.state, State::Resolved);

        let next = transition(&resolved.state, &Command::VisitorMessage).unwrap();
        assert_eq!(next.state, State::Bot);
        assert!(next.bot_answers, "after resolve the bot answers again");
    }

    #[test]
    fn second_claim_gets_conflict_and_names_holder() {
        let claimed = State::Claimed { agent: ana() };
        let rejected = transition(&claimed, &Command::Claim { agent: ben() }).unwrap_err();
        assert_eq!(rejected, Rejected::AlreadyClaimed { holder: ana() });
        let AppError::Conflict(message) = AppError::from(rejected) else { panic!("conflict") };
        assert!(message.contains("Ana"));
    }

    #[test]
    fn the_bot_never_talks_over_a_person() {
        for state in [State::NeedsHuman, State::Claimed { agent: ana() }, State::Resolved] {
            assert!(matches!(transition(&state, &Command::BotReply), Err(Rejected::WrongState { .. })), "{state:?}");
        }
        assert_eq!(transition(&State::Bot, &Command::BotReply).unwrap().state, State::Bot);
    }

    #[test]
    fn the_holder_claiming_again_announces_nothing() {
        let claimed = State::Claimed { agent: ana() };
        let again = transition(&claimed, &Command::Claim { agent: ana() }).unwrap();
        assert_eq!(again.state, claimed);
        assert_eq!(again.note, None);
    }

    #[test]
    fn only_the_holder_replies() {
        let claimed = State::Claimed { agent: ana() };
        assert!(transition(&claimed, &Command::AgentReply { agent_id: "mem_ana".into() }).is_ok());
        assert_eq!(
            transition(&claimed, &Command::AgentReply { agent_id: "mem_ben".into() }),
            Err(Rejected::NotHolder { holder: Some(ana()) })
        );
        assert_eq!(
            transition(&State::NeedsHuman, &Command::AgentReply { agent_id: "mem_ana".into() }),
            Err(Rejected::NotHolder { holder: None })
        );
    }

    #[test]
    fn agents_resolve_only_their_own_chats_but_admins_may_override() {
        let claimed = State::Claimed { agent: ana() };
        assert!(transition(&claimed, &Command::Resolve { by: ben(), may_override: false }).is_err());
        assert_eq!(
            transition(&claimed, &Command::Resolve { by: ben(), may_override: true }).unwrap().state,
            State::Resolved
        );
    }

    #[test]
    fn a_handed_off_conversation_has_ended_for_everything() {
        for command in [
            Command::VisitorMessage,
            Command::Escalate,
            Command::Claim { agent: ana() },
            Command::HandOff,
        ] {
            assert_eq!(transition(&State::HandedOff, &command), Err(Rejected::Ended));
        }
    }

    #[test]
    fn state_names_round_trip() {
        for kind in StateKind::ALL {
            assert_eq!(StateKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(StateKind::parse("closed"), None);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn agent(i: u8) -> AgentRef {
        AgentRef { id: format!("mem_{i}"), name: format!("Agent {i}") }
    }

    fn command() -> impl Strategy<Value = Command> {
        // Hand-off ends a conversation, so it is rare: sequences should explore the rest.
        prop_oneof![
            4 => Just(Command::VisitorMessage),
            3 => Just(Command::BotReply),
            4 => Just(Command::Escalate),
            4 => (0u8..3).prop_map(|i| Command::Claim { agent: agent(i) }),
            4 => (0u8..3).prop_map(|i| Command::AgentReply { agent_id: agent(i).id }),
            4 => (0u8..3, any::<bool>()).prop_map(|(i, o)| Command::Resolve { by: agent(i), may_override: o }),
            1 => Just(Command::HandOff),
            2 => (0u8..3).prop_map(|i| Command::Release { agent_id: agent(i).id }),
        ]
    }

    proptest! {
        /// Whatever arrives in whatever order, the machine stays in a valid state:
        /// a claim is announced once per escalation, only the holder's replies pass,
        /// the AI answers only in `bot`, and `handed_off` is final.
        #[test]
        fn random_command_sequences_keep_every_invariant(commands in prop::collection::vec(command(), 0..60)) {
            let mut state = State::Bot;
            let mut joined_since_escalation = 0;
            for command in &commands {
                let before = state.clone();
                match transition(&state, command) {
                    Ok(outcome) => {
                        prop_assert!(before.kind() != StateKind::HandedOff, "handed_off is final");
                        if outcome.bot_answers {
                            prop_assert_eq!(&outcome.state, &State::Bot);
                        }
                        match (&outcome.note, &outcome.state) {
                            (Some(SystemNote::Joined { agent_name }), State::Claimed { agent }) => {
                                prop_assert_eq!(agent_name, &agent.name);
                                joined_since_escalation += 1;
                            }
                            (Some(SystemNote::Joined { .. }), other) => prop_assert!(false, "joined note in {:?}", other),
                            (Some(SystemNote::Escalated), s) => {
                                prop_assert_eq!(s, &State::NeedsHuman);
                                joined_since_escalation = 0;
                            }
                            (Some(SystemNote::Resolved { .. }), s) => prop_assert_eq!(s, &State::Resolved),
                            // A release puts the chat back in the queue: the next claim is announced.
                            (None, State::NeedsHuman) if before.kind() == StateKind::Claimed => {
                                joined_since_escalation = 0;
                            }
                            (None, s) => prop_assert!(
                                s.kind() == before.kind() || matches!((&before, s), (State::Resolved, State::Bot) | (_, State::HandedOff)),
                                "silent change {:?} -> {:?}", before, s
                            ),
                        }
                        prop_assert!(joined_since_escalation <= 1, "one joined note per escalation");
                        if command == &Command::BotReply {
                            prop_assert_eq!(&before, &State::Bot, "the bot speaks only in bot state");
                        }
                        if let Command::AgentReply { agent_id } | Command::Release { agent_id } = command {
                            prop_assert_eq!(before.agent().map(|a| &a.id), Some(agent_id));
                        }
                        state = outcome.state;
                    }
                    Err(_) => {
                        // A rejected command changes nothing: `state` is left as it was.
                    }
                }
            }
        }
    }
}
