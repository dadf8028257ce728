//! Failed sign-ins per account, counted in the database so that every replica sees the same
//! ones (NIST SP 800-63B §5.2.2; OWASP: throttle rather than lock out). The first failures are
//! free; each one after them makes the email wait, twice as long as the one before, up to a
//! ceiling, so an attacker guessing from many addresses gets a handful of guesses an hour while
//! the account's owner is never kept out for long. Unknown emails are counted alike, so a
//! throttled answer says nothing about whether an account exists. A right password clears the
//! count.

use crate::db;
use crate::error::IssuerError;
use chrono::TimeDelta;
use database::Pool;

#[derive(Debug, Clone, Copy)]
pub struct AccountThrottle {
    /// Consecutive failures that cost no wait.
    pub free_failures: u32,
    /// The longest wait one failure can earn.
    pub max_wait: TimeDelta,
}

impl AccountThrottle {
    /// The wait that `failures` consecutive failures earn: none within the free ones, then one
    /// second, doubling with each failure, up to `max_wait`.
    pub fn wait_after(&self, failures: i32) -> Option<TimeDelta> {
        let beyond = u32::try_from(failures)
            .ok()?
            .checked_sub(self.free_failures)?;
        if beyond == 0 {
            return None;
        }
        let seconds = 1i64
            .checked_shl(beyond - 1)
            .filter(|s| *s > 0)
            .unwrap_or(i64::MAX);
        Some(TimeDelta::seconds(seconds.min(self.max_wait.num_seconds())))
    }

    /// Counts an attempt for `email` before its password is checked: 429 with `Retry-After`
    /// while the email must wait. Counting first means parallel guesses cannot all slip in
    /// before the first failure is written.
    pub async fn count_attempt(&self, pool: &Pool, email: &str) -> Result<(), IssuerError> {
        let (email, throttle) = (email.to_owned(), *self);
        let now = database::now();
        let counted = database::write(pool, move |conn| {
            db::count_attempt(conn, &email, now, |failures| throttle.wait_after(failures))
        })
        .await?;
        // A wait already over (negative) is told as the shortest one.
        counted.map_err(|until| {
            IssuerError::too_many_attempts((until - now).to_std().unwrap_or_default())
        })
    }

    /// Forgets the failures of `email` after a right password. A failure here is logged: the
    /// user is signed in either way.
    pub async fn clear(&self, pool: &Pool, email: &str) {
        let email = email.to_owned();
        if let Err(e) = database::write(pool, move |conn| db::clear_failures(conn, &email)).await {
            log::warn!("could not clear the failed sign-ins of an account: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_free_then_doubles_up_to_the_ceiling() {
        let throttle = AccountThrottle {
            free_failures: 5,
            max_wait: TimeDelta::minutes(15),
        };
        let waits: Vec<_> = (0..=16)
            .map(|n| throttle.wait_after(n).map(|w| w.num_seconds()))
            .collect();
        assert_eq!(
            waits,
            [
                None,
                None,
                None,
                None,
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(32),
                Some(64),
                Some(128),
                Some(256),
                Some(512),
                Some(900),
            ]
        );
        assert_eq!(
            throttle.wait_after(i32::MAX).map(|w| w.num_seconds()),
            Some(900)
        );
        assert_eq!(throttle.wait_after(-1), None);
    }
}
