//! Password hashing: argon2id in PHC strings, a random salt per password, off the async workers,
//! with a bound on how many hashes run at once.
//!
//! Each hash needs `m_cost` KiB of working memory (19 MiB by default). Rather than allocating it
//! per hash (which glibc's allocator turned into unbounded growth under load), every hashing slot
//! owns one buffer, allocated on first use and reused after: the issuer's hashing memory is
//! exactly `slots × m_cost`, whatever the load.

use crate::domain::Password;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use prometheus_client::metrics::gauge::Gauge;
use std::sync::{Arc, Mutex};
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

fn internal(e: impl std::fmt::Display) -> HashError {
    HashError::Internal(e.to_string())
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Wrong,
    Right,
    /// Right, but hashed with weaker parameters than configured, or from the password before it
    /// was normalised: store a new hash.
    RightButWeak,
}

/// How many hashes (and checks) run now, and how many wait for a slot.
#[derive(Clone, Default)]
pub struct HashLoad {
    pub running: Gauge,
    pub waiting: Gauge,
}

pub struct Hasher {
    /// For the metrics.
    pub load: HashLoad,
    argon2: Argon2<'static>,
    cost: HashCost,
    slots: Arc<Semaphore>,
    /// Working memory of idle slots; never more buffers than slots.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
    wait: Duration,
    /// Verified against when the email is unknown, so that an unknown email costs the same time
    /// as a wrong password and the two cannot be told apart.
    dummy_hash: String,
}

impl Hasher {
    pub fn new(cost: HashCost, max_in_flight: usize, wait: Duration) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(internal)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut memory = vec![Block::default(); argon2.params().block_count()];
        let dummy_hash = hash_with(&argon2, b"not-a-real-password", &mut memory)?;
        Ok(Self {
            load: HashLoad::default(),
            argon2,
            cost,
            slots: Arc::new(Semaphore::new(max_in_flight.max(1))),
            memory: Arc::new(Mutex::new(vec![memory])),
            wait,
            dummy_hash,
        })
    }

    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        let argon2 = self.argon2.clone();
        self.bounded(move |memory| hash_with(&argon2, password.as_bytes(), memory))
            .await
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no account.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<Verdict, HashError> {
        let cost = self.cost;
        let (stored, real) = match stored {
            Some(hash) => (hash, true),
            None => (self.dummy_hash.clone(), false),
        };
        self.bounded(move |memory| {
            let parsed = PasswordHash::new(&stored).map_err(internal)?;
            if verify_with(&parsed, password.as_bytes(), memory)? {
                return Ok(match (real, is_weaker(&parsed, cost)) {
                    (false, _) => Verdict::Wrong,
                    (true, false) => Verdict::Right,
                    (true, true) => Verdict::RightButWeak,
                });
            }
            // A hash made before passwords were normalised matches the text as typed; it is
            // right, and is hashed again from the normalised form.
            let legacy = match password.as_typed() {
                Some(as_typed) => verify_with(&parsed, as_typed, memory)?,
                None => false,
            };
            Ok(if legacy && real {
                Verdict::RightButWeak
            } else {
                Verdict::Wrong
            })
        })
        .await
    }

    /// Runs `work` on the blocking pool with a slot's memory once a slot is free; gives up with
    /// `Busy` after `wait`.
    async fn bounded<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let waiting = Counted::start(&self.load.waiting);
        let permit = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await;
        drop(waiting);
        let permit = permit.map_err(|_| HashError::Busy)?.map_err(internal)?;
        let running = Counted::start(&self.load.running);
        let pool = self.memory.clone();
        let block_count = self.argon2.params().block_count();
        actix_web::web::block(move || {
            let taken = pool.lock().map_err(internal)?.pop();
            let mut memory = taken.unwrap_or_else(|| vec![Block::default(); block_count]);
            let result = work(&mut memory);
            pool.lock().map_err(internal)?.push(memory);
            drop((running, permit));
            result
        })
        .await
        .map_err(internal)?
    }
}

/// One hash counted in a gauge of [`HashLoad`] until it is dropped, however it ends (a request
/// that goes away drops its future mid-wait).
struct Counted(Gauge);

impl Counted {
    fn start(running: &Gauge) -> Self {
        running.inc();
        Self(running.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn hash_with(
    argon2: &Argon2<'_>,
    password: &[u8],
    memory: &mut [Block],
) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_buffer)
        .map_err(internal)?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let blocks = argon2.params().block_count();
    argon2
        .hash_password_into_with_memory(password, salt_bytes, &mut output, &mut memory[..blocks])
        .map_err(internal)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output).map_err(internal)?),
    };
    Ok(hash.to_string())
}

/// Recomputes `stored` from `password` with the stored algorithm and parameters, and compares
/// in constant time. A hash stronger than configured does not fit a slot's memory and gets its
/// own, once.
fn verify_with(
    stored: &PasswordHash<'_>,
    password: &[u8],
    memory: &mut [Block],
) -> Result<bool, HashError> {
    let (Some(expected), Some(salt)) = (stored.hash, stored.salt) else {
        return Err(internal("stored hash has no salt or output"));
    };
    let algorithm = Algorithm::try_from(stored.algorithm).map_err(internal)?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(internal)?
        .unwrap_or_default();
    let params = Params::try_from(stored).map_err(internal)?;
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buffer).map_err(internal)?;
    let mut output = vec![0u8; expected.len()];
    if blocks <= memory.len() {
        argon2.hash_password_into_with_memory(
            password,
            salt_bytes,
            &mut output,
            &mut memory[..blocks],
        )
    } else {
        argon2.hash_password_into(password, salt_bytes, &mut output)
    }
    .map_err(internal)?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&output).map_err(internal)? == expected)
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
    async fn a_hash_of_the_password_as_typed_before_normalising_still_verifies_and_asks_for_a_rehash()
     {
        let hasher = Hasher::new(CHEAP, 1, Duration::from_secs(5)).unwrap();
        // "ﬁ" (a ligature) and fullwidth letters: NFKC spells them "fi" and ASCII.
        let typed = "ﬁｎｅ ｐａｓｓｗｏｒｄ";
        let argon2 = hasher.argon2.clone();
        let legacy =
            hash_with(&argon2, typed.as_bytes(), &mut vec![Block::default(); 1024]).unwrap();
        let verdict = |attempt: &str| hasher.verify(password(attempt), Some(legacy.clone()));
        assert!(matches!(
            verdict(typed).await.unwrap(),
            Verdict::RightButWeak
        ));
        assert!(
            matches!(verdict("fine password").await.unwrap(), Verdict::Wrong),
            "until it is hashed again, only the spelling it was made from matches"
        );
        assert!(matches!(
            verdict("ﬁｎｅ ｐａｓｓｗｏｒｄ!").await.unwrap(),
            Verdict::Wrong
        ));
        let renewed = hasher.hash(password(typed)).await.unwrap();
        for spelling in [typed, "fine password", "ﬁne password"] {
            assert!(
                matches!(
                    hasher
                        .verify(password(spelling), Some(renewed.clone()))
                        .await
                        .unwrap(),
                    Verdict::Right
                ),
                "{spelling}"
            );
        }
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
    async fn the_load_counts_the_hashes_running_and_those_waiting_and_forgets_them_after() {
        let hasher = Arc::new(Hasher::new(CHEAP, 1, Duration::from_secs(5)).unwrap());
        let (started, release) = (
            Arc::new(tokio::sync::Notify::new()),
            Arc::new(std::sync::Barrier::new(2)),
        );
        let running = {
            let (hasher, started, release) = (hasher.clone(), started.clone(), release.clone());
            actix_rt::spawn(async move {
                hasher
                    .bounded(move |_| {
                        started.notify_one();
                        release.wait();
                        Ok(())
                    })
                    .await
            })
        };
        started.notified().await;
        let waiting = {
            let hasher = hasher.clone();
            actix_rt::spawn(async move { hasher.hash(password("correct horse")).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let load = |hasher: &Hasher| (hasher.load.running.get(), hasher.load.waiting.get());
        assert_eq!(load(&hasher), (1, 1), "one running, one waiting");
        release.wait();
        running.await.unwrap().unwrap();
        waiting.await.unwrap().unwrap();
        assert_eq!(load(&hasher), (0, 0));
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

    #[actix_rt::test]
    async fn hashes_verify_with_the_reference_implementation_and_back() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let hasher = Hasher::new(CHEAP, 2, Duration::from_secs(1)).unwrap();
        let ours = hasher.hash(password("correct horse")).await.unwrap();
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        );
        assert!(
            reference
                .verify_password(b"correct horse", &PasswordHash::new(&ours).unwrap())
                .is_ok()
        );
        let theirs = reference
            .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert_eq!(
            hasher
                .verify(password("correct horse"), Some(theirs.clone()))
                .await
                .unwrap(),
            Verdict::Right
        );
        assert_eq!(
            hasher
                .verify(password("wrong horse!"), Some(theirs))
                .await
                .unwrap(),
            Verdict::Wrong
        );
    }

    #[actix_rt::test]
    async fn a_hash_stronger_than_a_slot_still_verifies() {
        let strong = Hasher::new(
            HashCost {
                memory_kib: 4096,
                ..CHEAP
            },
            1,
            Duration::from_secs(1),
        )
        .unwrap();
        let stored = strong.hash(password("correct horse")).await.unwrap();
        let weak = Hasher::new(CHEAP, 1, Duration::from_secs(1)).unwrap();
        assert_eq!(
            weak.verify(password("correct horse"), Some(stored))
                .await
                .unwrap(),
            Verdict::Right
        );
    }

    #[actix_rt::test]
    async fn the_working_memory_is_one_buffer_per_slot_however_many_hashes_run() {
        let hasher = Arc::new(Hasher::new(CHEAP, 3, Duration::from_secs(10)).unwrap());
        let hashes = (0..30).map(|_| {
            let hasher = hasher.clone();
            actix_rt::spawn(async move { hasher.hash(password("correct horse")).await })
        });
        for hash in futures_util::future::join_all(hashes).await {
            assert!(hash.unwrap().is_ok());
        }
        let buffers = hasher.memory.lock().unwrap().len();
        assert!((1..=3).contains(&buffers), "{buffers} buffers for 3 slots");
    }
}
