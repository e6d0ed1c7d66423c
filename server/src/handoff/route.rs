//! Where an escalation goes: the one routing rule of the seed's two modes. Live
//! Agent Handoff on sends it to Baton's Inbox whatever else is connected; off, it
//! goes to the first connected help desk in `PRIORITY` order; with neither, nobody
//! can take it and the bot says so honestly (the request stays on record).

use app::domain::helpdesk::{Desk, PRIORITY};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Inbox,
    HelpDesk(Desk),
    Nobody,
}

pub fn route(live_handoff: bool, connected: &[Desk]) -> Route {
    if live_handoff {
        return Route::Inbox;
    }
    PRIORITY.into_iter().find(|desk| connected.contains(desk)).map_or(Route::Nobody, Route::HelpDesk)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subset of the five desks, with live handoff on and off.
    #[test]
    fn every_combination_routes_by_the_rule() {
        for mask in 0u32..(1 << PRIORITY.len()) {
            let connected: Vec<Desk> =
                PRIORITY.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, d)| *d).collect();
            assert_eq!(route(true, &connected), Route::Inbox, "{connected:?}");
            let expected = match connected.first() {
                Some(first) => Route::HelpDesk(*first),
                None => Route::Nobody,
            };
            assert_eq!(route(false, &connected), expected, "{connected:?}");
            // The order the desks are listed in does not matter, only PRIORITY does.
            let reversed: Vec<Desk> = connected.iter().rev().copied().collect();
            assert_eq!(route(false, &reversed), expected, "{reversed:?}");
        }
    }

    #[test]
    fn the_seed_order_is_zendesk_freshdesk_intercom_hubspot_zoho() {
        assert_eq!(route(false, &[Desk::ZohoDesk, Desk::Hubspot]), Route::HelpDesk(Desk::Hubspot));
        assert_eq!(route(false, &[Desk::Intercom, Desk::Freshdesk]), Route::HelpDesk(Desk::Freshdesk));
        assert_eq!(route(false, &[Desk::ZohoDesk, Desk::Zendesk]), Route::HelpDesk(Desk::Zendesk));
        assert_eq!(route(false, &[]), Route::Nobody);
    }
}
