//! How often someone may try to sign in.
//!
//! Two limits, both checked before any password is hashed:
//! - per client address, on every attempt, whatever the email: a guesser spreading
//!   tries over many accounts, or a flood of random emails, meets it;
//! - per email, but only on attempts from addresses that have failed lately: a
//!   guesser hammering one account meets it, while the account's owner, signing in
//!   from an address with no failures, is never locked out by someone else's tries.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use app::AppError;

use crate::security::rate_limit::RateLimiter;

/// How long an address counts as one that failed to sign in.
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);

pub struct SignInThrottle {
    per_address: RateLimiter<IpAddr>,
    per_email: RateLimiter,
    failed_from: Mutex<HashMap<IpAddr, Instant>>,
}

impl SignInThrottle {
    /// Limits a minute; 0 means no limit.
    pub fn new(per_email_per_minute: u32, per_address_per_minute: u32) -> SignInThrottle {
        SignInThrottle {
            per_address: RateLimiter::per_minute(per_address_per_minute),
            per_email: RateLimiter::per_minute(per_email_per_minute),
            failed_from: Mutex::default(),
        }
    }

    fn failed_lately(&self, address: IpAddr) -> bool {
        let failed = self.failed_from.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        failed.get(&address).is_some_and(|at| at.elapsed() < FAILURE_MEMORY)
    }

    /// May `address` try to sign in as `email` now? 429 with a wait otherwise.
    pub fn admit(&self, address: IpAddr, email: &str) -> Result<(), AppError> {
        self.per_address.check(&address)?;
        if self.failed_lately(address) {
            self.per_email.check(&email.trim().to_lowercase())?;
        }
        Ok(())
    }

    /// A wrong password (or email) from `address`.
    pub fn failed(&self, address: IpAddr) {
        let mut failed = self.failed_from.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        failed.insert(address, Instant::now());
    }

    /// A signed-in member checking their current password (a password change): the
    /// per-email limit applies to every try.
    pub fn admit_member(&self, email: &str) -> Result<(), AppError> {
        self.per_email.check(&email.trim().to_lowercase())
    }

    /// Forgets what no longer counts. Run periodically.
    pub fn forget_idle(&self) {
        self.per_address.forget_idle();
        self.per_email.forget_idle();
        let mut failed = self.failed_from.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        failed.retain(|_, at| at.elapsed() < FAILURE_MEMORY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn one_address_meets_its_limit_whatever_the_emails() {
        let throttle = SignInThrottle::new(10, 5);
        for n in 0..5 {
            assert!(throttle.admit(ip("192.0.2.1"), &format!("user{n}@acme.test")).is_ok());
        }
        assert!(matches!(throttle.admit(ip("192.0.2.1"), "new@acme.test"), Err(AppError::RateLimited { .. })));
        assert!(throttle.admit(ip("192.0.2.2"), "new@acme.test").is_ok(), "another address is not affected");
    }

    #[test]
    fn a_hammered_email_still_lets_its_owner_in_from_a_clean_address() {
        let throttle = SignInThrottle::new(3, 0);
        let attacker = ip("198.51.100.7");
        let mut refused = false;
        for _ in 0..10 {
            match throttle.admit(attacker, "Ana@acme.test") {
                Ok(()) => throttle.failed(attacker),
                Err(_) => refused = true,
            }
        }
        assert!(refused, "the attacker is throttled on that email");
        assert!(throttle.admit(ip("203.0.113.5"), "ana@acme.test").is_ok(), "the owner is not");
    }
}
