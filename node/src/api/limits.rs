//! Rate limits of the HTTP API: a request budget per token, and a budget of failed
//! authentications per client address (see [`ApiLimits`] for the configuration).
//!
//! Both are GCRA limiters from `governor`. A client address that spends its failure budget is
//! refused with 429 for as long as its budget takes to refill, whatever token it sends next,
//! so guessing tokens is slow and a right guess cannot be told from a wrong one meanwhile.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::service::config::ApiLimits;

/// Client addresses tracked before idle ones are forgotten (a bound on memory).
const MAX_TRACKED: usize = 4096;

/// The API's limiters.
#[derive(Debug)]
pub(crate) struct Limiter {
    /// Per token (by its SHA-256 hex); `None` when the per-token limit is off.
    tokens: Option<DefaultKeyedRateLimiter<String>>,
    /// Failed authentications per client address.
    failures: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses refused until an instant, after they spent their failure budget.
    blocked: Mutex<BTreeMap<IpAddr, Instant>>,
    clock: DefaultClock,
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Limiter {
    pub(crate) fn new(limits: &ApiLimits) -> Self {
        let tokens = NonZeroU32::new(limits.requests_per_second).map(|rate| {
            DefaultKeyedRateLimiter::keyed(
                Quota::per_second(rate).allow_burst(at_least_one(limits.burst)),
            )
        });
        let failures = DefaultKeyedRateLimiter::keyed(
            Quota::per_minute(at_least_one(limits.failed_auth_per_minute))
                .allow_burst(at_least_one(limits.failed_auth_burst)),
        );
        Self {
            tokens,
            failures,
            blocked: Mutex::default(),
            clock: DefaultClock::default(),
        }
    }

    /// How long `client` is still refused, if it is.
    pub(crate) fn blocked(&self, client: IpAddr) -> Option<Duration> {
        let mut blocked = self.blocked.lock().ok()?;
        let until = *blocked.get(&client)?;
        let now = Instant::now();
        if until > now {
            Some(until - now)
        } else {
            blocked.remove(&client);
            None
        }
    }

    /// Counts a failed authentication from `client`. `Some(wait)` when it is over its budget:
    /// the address is then refused for `wait`.
    pub(crate) fn failed(&self, client: IpAddr) -> Option<Duration> {
        if self.failures.len() > MAX_TRACKED {
            self.failures.retain_recent();
        }
        let wait = self
            .failures
            .check_key(&client)
            .err()?
            .wait_time_from(self.clock.now());
        if let Ok(mut blocked) = self.blocked.lock() {
            let now = Instant::now();
            if blocked.len() > MAX_TRACKED {
                blocked.retain(|_, until| *until > now);
            }
            blocked.insert(client, now + wait);
        }
        Some(wait)
    }

    /// Counts a request made with the token whose hash is `token`; `Err(wait)` when the token
    /// is over its budget.
    pub(crate) fn request(&self, token: &str) -> Result<(), Duration> {
        let Some(tokens) = &self.tokens else {
            return Ok(());
        };
        tokens
            .check_key(&token.to_string())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// `Retry-After` in whole seconds, rounded up, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rps: u32, burst: u32, failures: u32) -> ApiLimits {
        ApiLimits {
            requests_per_second: rps,
            burst,
            failed_auth_per_minute: 1,
            failed_auth_burst: failures,
            ..ApiLimits::default()
        }
    }

    #[test]
    fn a_token_over_its_burst_waits_and_other_tokens_do_not() {
        let l = Limiter::new(&limits(1, 2, 1));
        assert!(l.request("a").is_ok());
        assert!(l.request("a").is_ok());
        let wait = l.request("a").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(l.request("b").is_ok());
    }

    #[test]
    fn zero_turns_the_token_limit_off() {
        let l = Limiter::new(&limits(0, 1, 1));
        for _ in 0..1000 {
            assert!(l.request("a").is_ok());
        }
    }

    #[test]
    fn an_address_over_its_failure_budget_is_blocked_and_others_are_not() {
        let l = Limiter::new(&limits(1, 1, 3));
        let bad: IpAddr = [192, 0, 2, 1].into();
        let other: IpAddr = [192, 0, 2, 2].into();
        for _ in 0..3 {
            assert_eq!(l.failed(bad), None);
            assert_eq!(l.blocked(bad), None);
        }
        let wait = l.failed(bad).unwrap();
        assert!(wait > Duration::from_secs(50), "one a minute: {wait:?}");
        assert!(l.blocked(bad).is_some());
        assert_eq!(l.blocked(other), None);
        assert_eq!(l.failed(other), None);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(6)), 6);
    }
}
