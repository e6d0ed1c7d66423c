//! Keyed rate limits, with the `governor` crate (GCRA): per conversation, per client
//! address, per chatbot, per email.

use std::{hash::Hash, num::NonZeroU32, time::Duration};

use app::AppError;
use governor::{
    clock::{Clock, DefaultClock},
    state::keyed::DefaultKeyedStateStore,
    Quota,
};

pub struct RateLimiter<K: Hash + Eq + Clone = String> {
    limiter: governor::RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `per_minute` a minute, in bursts of up to that many. 0 means unlimited.
    pub fn per_minute(per_minute: u32) -> RateLimiter<K> {
        let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MAX);
        Self::with_quota(Quota::per_minute(rate))
    }

    /// At most one per `period`, no bursts.
    pub fn one_per(period: Duration) -> RateLimiter<K> {
        let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN));
        Self::with_quota(quota)
    }

    fn with_quota(quota: Quota) -> RateLimiter<K> {
        RateLimiter { limiter: governor::RateLimiter::keyed(quota), clock: DefaultClock::default() }
    }

    /// 429 with the seconds to wait when `key` is over its rate.
    pub fn check(&self, key: &K) -> Result<(), AppError> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::RateLimited { retry_after_secs: wait.as_secs().max(1) }
        })
    }

    /// Forgets keys that are back to a full allowance. Run periodically.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_one_over_the_rate_is_refused_with_a_wait() {
        let limiter = RateLimiter::per_minute(3);
        for _ in 0..3 {
            assert!(limiter.check(&"conv_a".to_owned()).is_ok());
        }
        let Err(AppError::RateLimited { retry_after_secs }) = limiter.check(&"conv_a".to_owned()) else {
            panic!("limited")
        };
        assert!((1..=20).contains(&retry_after_secs));
        assert!(limiter.check(&"conv_b".to_owned()).is_ok(), "keys are independent");
    }

    #[test]
    fn one_per_period_lets_the_first_through_and_holds_the_rest() {
        let limiter = RateLimiter::<u32>::one_per(Duration::from_secs(2));
        assert!(limiter.check(&1).is_ok());
        assert!(limiter.check(&1).is_err());
        assert!(limiter.check(&2).is_ok());
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::<u32>::per_minute(0);
        assert!((0..10_000).all(|_| limiter.check(&7).is_ok()));
    }
}
