-- An escalation decided while the visitor's email is still unknown: the bot asks
-- for the email and escalates once it has a valid one.
-- JSON: {"reason": "...", "summary": "...", "topic": "..."?}; NULL when none is pending.
ALTER TABLE conversations ADD COLUMN pending_escalation TEXT;
