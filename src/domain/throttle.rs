//! Sign-in throttling as a rule: how long one counter of failed attempts makes the next attempt
//! wait. A counter is kept per (account, client address) pair, strict, and per account and per
//! address, loose (against spraying); none ever locks anyone out for good: each wait is
//! bounded and every refusal says when to come back.

use chrono::{DateTime, Duration, Utc};

/// The rule of one counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures without any wait.
    pub free: i32,
    /// The longest wait, in seconds.
    pub cap_seconds: i64,
    /// A counter untouched this long starts again from zero.
    pub forget_after: Duration,
}

/// One person at one address: five free failures, then 1 s, 2 s, 4 s… up to 15 minutes; a
/// success starts again from zero.
pub const PAIR: Policy = Policy {
    free: 5,
    cap_seconds: 15 * 60,
    forget_after: Duration::hours(24),
};

/// One account from every address: only a spray from many addresses reaches it, and the wait
/// it imposes stays short, so that no attacker can keep the owner out.
pub const ACCOUNT: Policy = Policy {
    free: 50,
    cap_seconds: 60,
    forget_after: Duration::hours(1),
};

/// One address for every account: generous, since a whole organisation may sit behind one
/// NAT or proxy, and short for the same reason.
pub const ADDRESS: Policy = Policy {
    free: 100,
    cap_seconds: 60,
    forget_after: Duration::hours(1),
};

impl Policy {
    /// The wait imposed before the next attempt after `failures` consecutive failures: none
    /// for the first `free`, then 1 s doubling per further failure, at most `cap_seconds`.
    pub fn wait_after(&self, failures: i32) -> Duration {
        if failures < self.free {
            return Duration::zero();
        }
        let doublings = (failures - self.free).min(40) as u32;
        let seconds = 1i64
            .checked_shl(doublings)
            .unwrap_or(i64::MAX)
            .min(self.cap_seconds);
        Duration::seconds(seconds)
    }
}

/// A counter as stored: its failures and when the next attempt may be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub failures: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: DateTime<Utc>,
}

impl Counter {
    /// Failures that still count at `now` (an old counter is forgotten).
    pub fn live_failures(&self, policy: &Policy, now: DateTime<Utc>) -> i32 {
        if now - self.last_attempt_at >= policy.forget_after {
            0
        } else {
            self.failures.max(0)
        }
    }

    /// `Err(wait)` while an attempt must wait, `wait` being what remains.
    pub fn check(&self, policy: &Policy, now: DateTime<Utc>) -> Result<(), Duration> {
        if self.live_failures(policy, now) == 0 || self.next_attempt_at <= now {
            Ok(())
        } else {
            Err(self.next_attempt_at - now)
        }
    }

    /// The counter once an attempt is reserved at `now` (counted as a failure until it
    /// succeeds).
    pub fn reserve(&self, policy: &Policy, now: DateTime<Utc>) -> Counter {
        let failures = self.live_failures(policy, now).saturating_add(1);
        Counter {
            failures,
            next_attempt_at: now + policy.wait_after(failures),
            last_attempt_at: now,
        }
    }
}

/// A wait as `Retry-After` says it: whole seconds, rounded up, at least one.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    let ms = wait.num_milliseconds().max(1);
    ((ms + 999) / 1000) as u64
}

/// A wait in French words, for the refusal's message: « 1 seconde », « 3 minutes ».
pub fn wait_in_words(seconds: u64) -> String {
    let (n, unit) = if seconds < 60 {
        (seconds, "seconde")
    } else {
        (seconds.div_ceil(60), "minute")
    };
    if n > 1 {
        format!("{n} {unit}s")
    } else {
        format!("{n} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn five_free_failures_then_doubling_up_to_fifteen_minutes() {
        let p = PAIR;
        assert_eq!(p.wait_after(0), Duration::zero());
        assert_eq!(p.wait_after(4), Duration::zero());
        assert_eq!(p.wait_after(5), Duration::seconds(1));
        assert_eq!(p.wait_after(6), Duration::seconds(2));
        assert_eq!(p.wait_after(7), Duration::seconds(4));
        assert_eq!(p.wait_after(14), Duration::seconds(512));
        assert_eq!(p.wait_after(15), Duration::seconds(900), "1 024 s capped");
        assert_eq!(p.wait_after(1_000_000), Duration::seconds(900));
        assert_eq!(p.wait_after(i32::MAX), Duration::seconds(900));
        assert_eq!(ACCOUNT.wait_after(49), Duration::zero());
        assert_eq!(ACCOUNT.wait_after(50), Duration::seconds(1));
        assert_eq!(ACCOUNT.wait_after(56), Duration::seconds(60), "64 s capped");
        assert_eq!(ADDRESS.wait_after(99), Duration::zero());
        assert_eq!(ADDRESS.wait_after(100), Duration::seconds(1));
    }

    #[test]
    fn reserving_counts_and_blocks_at_the_exact_instant() {
        let fresh = Counter {
            failures: 0,
            next_attempt_at: at(0),
            last_attempt_at: at(0),
        };
        let mut c = fresh;
        for n in 1..=5 {
            assert_eq!(c.check(&PAIR, at(0)), Ok(()), "attempt {n}");
            c = c.reserve(&PAIR, at(0));
        }
        assert_eq!(c.failures, 5);
        assert_eq!(c.check(&PAIR, at(0)), Err(Duration::seconds(1)));
        // The wait ends exactly one second later.
        assert_eq!(
            c.check(&PAIR, at(0) + Duration::milliseconds(999)),
            Err(Duration::milliseconds(1))
        );
        assert_eq!(c.check(&PAIR, at(1)), Ok(()));
        let c = c.reserve(&PAIR, at(1));
        assert_eq!(c.check(&PAIR, at(2)), Err(Duration::seconds(1)));
        assert_eq!(c.check(&PAIR, at(3)), Ok(()));
    }

    #[test]
    fn an_old_counter_is_forgotten() {
        let c = Counter {
            failures: 30,
            next_attempt_at: at(900),
            last_attempt_at: at(0),
        };
        let day = 24 * 3600;
        assert_eq!(c.live_failures(&PAIR, at(day - 1)), 30);
        assert_eq!(c.live_failures(&PAIR, at(day)), 0);
        assert_eq!(c.reserve(&PAIR, at(day)).failures, 1);
        assert_eq!(c.check(&PAIR, at(899)), Err(Duration::seconds(1)));
        assert_eq!(c.check(&ACCOUNT, at(3600)), Ok(()));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::milliseconds(1)), 1);
        assert_eq!(retry_after_seconds(Duration::zero()), 1);
        assert_eq!(retry_after_seconds(Duration::seconds(1)), 1);
        assert_eq!(retry_after_seconds(Duration::milliseconds(1001)), 2);
        assert_eq!(retry_after_seconds(Duration::seconds(900)), 900);
        assert_eq!(wait_in_words(1), "1 seconde");
        assert_eq!(wait_in_words(59), "59 secondes");
        assert_eq!(wait_in_words(60), "1 minute");
        assert_eq!(wait_in_words(61), "2 minutes");
        assert_eq!(wait_in_words(900), "15 minutes");
    }
}
