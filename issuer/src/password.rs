//! Password hashing: argon2id in PHC strings, a random salt per password, off the async workers,
//! with a bound on how many hashes run at once. Each hash holds `m_cost` KiB of memory
//! (19 MiB by default), so the bound is what keeps a flood of sign-ins from exhausting memory.

use crate::domain::Password;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    /// OWASP's recommendation for argon2id.
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing slot stayed taken for the whole wait: the client should retry shortly.
    #[error("too many password hashes in flight")]
    Busy,
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Wrong,
    Right,
    /// Right, but hashed with weaker parameters than configured: store a new hash.
    RightButWeak,
}

pub struct Hasher {
    argon2: Argon2<'static>,
    cost: HashCost,
    slots: Arc<Semaphore>,
    wait: Duration,
    /// Verified against when the email is unknown, so that an unknown email costs the same time
    /// as a wrong password and the two cannot be told apart.
    dummy_hash: String,
}

impl Hasher {
    pub fn new(cost: HashCost, max_in_flight: usize, wait: Duration) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Internal(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_with(&argon2, b"not-a-real-password")?;
        Ok(Self {
            argon2,
            cost,
            slots: Arc::new(Semaphore::new(max_in_flight.max(1))),
            wait,
            dummy_hash,
        })
    }

    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        let argon2 = self.argon2.clone();
        self.bounded(move || hash_with(&argon2, password.as_bytes()))
            .await
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no account.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<Verdict, HashError> {
        let argon2 = self.argon2.clone();
        let cost = self.cost;
        let (stored, real) = match stored {
            Some(hash) => (hash, true),
            None => (self.dummy_hash.clone(), false),
        };
        self.bounded(move || {
            let parsed =
                PasswordHash::new(&stored).map_err(|e| HashError::Internal(e.to_string()))?;
            let right = argon2.verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(match (right && real, is_weaker(&parsed, cost)) {
                (false, _) => Verdict::Wrong,
                (true, false) => Verdict::Right,
                (true, true) => Verdict::RightButWeak,
            })
        })
        .await
    }

    /// Runs `work` on the blocking pool once a slot is free; gives up with `Busy` after `wait`.
    async fn bounded<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| HashError::Busy)?
            .map_err(|e| HashError::Internal(e.to_string()))?;
        actix_web::web::block(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|e| HashError::Internal(e.to_string()))?
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &[u8]) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2
        .hash_password(password, &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Internal(e.to_string()))
}

/// Whether a stored hash falls short of the configured algorithm or cost.
fn is_weaker(hash: &PasswordHash<'_>, cost: HashCost) -> bool {
    let Ok(params) = Params::try_from(hash) else {
        return true;
    };
    hash.algorithm != Algorithm::Argon2id.ident()
        || hash.version != Some(Version::V0x13.into())
        || params.m_cost() < cost.memory_kib
        || params.t_cost() < cost.iterations
        || params.p_cost() < cost.parallelism
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashCost = HashCost {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    fn password(s: &str) -> Password {
        Password::parse(s.into()).unwrap()
    }

    #[actix_rt::test]
    async fn a_hash_is_argon2id_in_phc_form_with_a_fresh_salt() {
        let hasher = Hasher::new(CHEAP, 2, Duration::from_secs(1)).unwrap();
        let a = hasher.hash(password("correct horse")).await.unwrap();
        let b = hasher.hash(password("correct horse")).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{a}");
        assert_ne!(a, b, "two hashes of one password must differ by their salt");
    }

    #[actix_rt::test]
    async fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let hasher = Hasher::new(CHEAP, 2, Duration::from_secs(1)).unwrap();
        let stored = hasher.hash(password("correct horse")).await.unwrap();
        assert_eq!(
            hasher
                .verify(password("correct horse"), Some(stored.clone()))
                .await
                .unwrap(),
            Verdict::Right
        );
        assert_eq!(
            hasher
                .verify(password("wrong horse!"), Some(stored))
                .await
                .unwrap(),
            Verdict::Wrong
        );
    }

    #[actix_rt::test]
    async fn an_unknown_account_never_verifies_even_with_the_dummy_password() {
        let hasher = Hasher::new(CHEAP, 2, Duration::from_secs(1)).unwrap();
        assert_eq!(
            hasher
                .verify(password("not-a-real-password"), None)
                .await
                .unwrap(),
            Verdict::Wrong
        );
    }

    #[actix_rt::test]
    async fn a_hash_weaker_than_configured_asks_for_a_rehash() {
        let weak = Hasher::new(CHEAP, 2, Duration::from_secs(1)).unwrap();
        let stored = weak.hash(password("correct horse")).await.unwrap();
        let strong = Hasher::new(
            HashCost {
                memory_kib: 2048,
                ..CHEAP
            },
            2,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            strong
                .verify(password("correct horse"), Some(stored))
                .await
                .unwrap(),
            Verdict::RightButWeak
        );
    }

    #[actix_rt::test]
    async fn hashes_beyond_the_bound_wait_then_give_up_busy() {
        let hasher = Arc::new(
            Hasher::new(
                HashCost {
                    memory_kib: 65_536,
                    iterations: 3,
                    ..CHEAP
                },
                1,
                Duration::from_millis(1),
            )
            .unwrap(),
        );
        let first = {
            let h = hasher.clone();
            actix_rt::spawn(async move { h.hash(password("correct horse")).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = hasher.hash(password("correct horse")).await;
        assert!(matches!(second, Err(HashError::Busy)), "{second:?}");
        assert!(first.await.unwrap().is_ok());
    }
}
