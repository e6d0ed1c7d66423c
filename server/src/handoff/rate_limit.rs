//! Per-conversation message rate limits, with the `governor` crate (GCRA, keyed).

use std::num::NonZeroU32;

use app::AppError;
use governor::{clock::{Clock, DefaultClock}, DefaultKeyedRateLimiter, Quota};

pub struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl RateLimiter {
    /// `per_minute` messages a minute, in bursts of up to that many. 0 means unlimited.
    pub fn per_minute(per_minute: u32) -> RateLimiter {
        let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MAX);
        RateLimiter { limiter: governor::RateLimiter::keyed(Quota::per_minute(rate)), clock: DefaultClock::default() }
    }

    /// 429 with the seconds to wait when `key` is over its rate.
    pub fn check(&self, key: &str) -> Result<(), AppError> {
        self.limiter.check_key(&key.to_owned()).map_err(|not_until| {
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
    fn the_next_message_over_the_rate_is_refused_with_a_wait() {
        let limiter = RateLimiter::per_minute(3);
        for _ in 0..3 {
            assert!(limiter.check("conv_a").is_ok());
        }
        let Err(AppError::RateLimited { retry_after_secs }) = limiter.check("conv_a") else { panic!("limited") };
        assert!((1..=20).contains(&retry_after_secs));
        assert!(limiter.check("conv_b").is_ok(), "keys are independent");
    }
}
